//! Decodes the input as a webhook body and reads every derived value of the event.

#![no_main]

use depix::webhook::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::from_slice(data) else {
        return;
    };

    let webhook_type = event.webhook_type().to_owned();
    let key = event.dedupe_key();
    match &event {
        Event::Deposit(deposit) => {
            let _ = deposit.expiration_time();
            let _ = (deposit.status.is_final(), deposit.status.is_paid());
        }
        Event::Withdraw(withdraw) => {
            let _ = withdraw.expiration_time();
            let _ = (withdraw.status.is_final(), withdraw.status.is_paid());
        }
        Event::Med(med) => {
            let _ = med.creation_time();
        }
        _ => {}
    }

    // Every known type has a key whose type matches the event's, and whose id is non-empty
    // because `from_slice` rejects an empty id.
    match (&event, &key) {
        (Event::Unknown { .. }, None) => {}
        (Event::Unknown { .. }, Some(key)) => panic!("unknown event has key {key}"),
        (_, None) => panic!("{webhook_type} event has no dedupe key"),
        (_, Some(key)) => {
            assert_eq!(key.webhook_type(), webhook_type);
            assert!(
                !key.id().trim().is_empty(),
                "dedupe key {key} has an empty id"
            );
            let _ = key.to_string();
        }
    }
});
