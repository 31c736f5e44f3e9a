//! Faults of the network and the server, one at a time and deterministic: each ends with the
//! deposit made once, or with a typed error that carries the nonce.
#![cfg(feature = "sandbox")]

mod common;

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest};
use serde_json::json;

fn deposit_call() -> Call<depix::Deposit> {
    Call::deposit(&DepositRequest::new(Cents::new(100).unwrap())).unwrap()
}

#[test]
fn answer_for_another_nonce_is_not_taken() {
    let sandbox = sandbox();
    let foreign =
        json!({"response": {"id": "f0f0", "qrCopyPaste": "x", "qrImageUrl": "y"}, "async": false});
    sandbox.push_action(Action::Respond {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Nonce".into(), "someone-else".into()),
        ],
        body: foreign.to_string().into_bytes(),
    });
    let call = deposit_call();
    let done = client(&sandbox).execute(&call).unwrap();
    assert_ne!(done.value.id, "f0f0", "took another request's answer");
    assert_eq!(done.value.id, sandbox.ledger()[0].id);
    assert_eq!(done.attempts, 2);
}

#[test]
fn missing_nonce_echo_is_accepted() {
    let sandbox = sandbox();
    let body =
        json!({"response": {"id": "e1", "qrCopyPaste": "x", "qrImageUrl": "y"}, "async": false});
    sandbox.push_action(Action::json(200, body));
    let done = client(&sandbox).execute(&deposit_call()).unwrap();
    assert_eq!(done.value.id, "e1");
    assert_eq!(done.attempts, 1);
}
