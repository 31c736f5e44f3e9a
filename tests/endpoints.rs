//! Every endpoint through the sandbox, in auto mode and in async mode, plus the list walk,
//! settlement wait, reconciliation of unknown writes and webhooks delivered by the sandbox.
#![cfg(feature = "sandbox")]

mod common;

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use depix::sandbox::{Action, Sandbox};
use depix::webhook::{Event, WebhookSecret};
use depix::{
    Call, Cents, Client, DepositLookup, DepositRequest, DepositStatus, DepositsQuery, Error, Mode,
    Response, SettleOptions, WithdrawAmount, WithdrawRequest, WithdrawStatus,
};
use serde::de::DeserializeOwned;
use serde_json::json;
use time::OffsetDateTime;

/// Runs a call to its result the way `mode` needs: `execute` for auto, `send` then `wait`
/// for async.
fn complete<T: DeserializeOwned>(client: &Client, call: &Call<T>, mode: Mode) -> depix::Result<T> {
    match mode {
        Mode::Async => match client.send(call, Mode::Async)? {
            Response::Pending(pending) => client.wait(&pending).map(|done| done.value),
            Response::Ready(_) => panic!("async mode answered ready"),
        },
        _ => client.execute(call).map(|done| done.value),
    }
}

fn cents(value: u64) -> Cents {
    Cents::new(value).unwrap()
}

const MODES: [Mode; 2] = [Mode::Auto, Mode::Async];

#[test]
fn every_endpoint_in_auto_and_async() {
    for mode in MODES {
        let sandbox = sandbox();
        let client = client(&sandbox);

        let ping = complete(&client, &Call::ping(), mode).unwrap();
        assert!(ping.is_pong(), "{mode}");

        let deposit = complete(
            &client,
            &Call::deposit(&DepositRequest::new(cents(1500))).unwrap(),
            mode,
        )
        .unwrap();
        let info = complete(&client, &Call::deposit_status(&deposit.id).unwrap(), mode).unwrap();
        assert_eq!(info.qr_id, deposit.id, "{mode}");

        let now = OffsetDateTime::now_utc();
        let query = DepositsQuery::new(now - time::Duration::HOUR, now + time::Duration::HOUR);
        let rows = complete(&client, &Call::deposits(&query).unwrap(), mode).unwrap();
        assert_eq!(rows.len(), 1, "{mode}");
        assert_eq!(rows[0].qr_id, deposit.id);
        assert_eq!(rows[0].bank_tx_id, None);

        sandbox.set_user("EU000000000000001", 2_000, 50_000, false);
        let user = complete(
            &client,
            &Call::user_info("EU000000000000001").unwrap(),
            mode,
        )
        .unwrap();
        assert_eq!(user.remaining().get(), 48_000, "{mode}");

        sandbox.set_deposit_status(&deposit.id, "pending_pix2fa");
        sandbox.set_pix2fa_code(&deposit.id, "654321");
        let code = depix::Pix2faCode::new("654321").unwrap();
        let verified = complete(&client, &Call::pix2fa(&deposit.id, &code).unwrap(), mode).unwrap();
        assert!(
            verified.message.contains("verified"),
            "{}",
            verified.message
        );
        assert_eq!(
            client.deposit_status(&deposit.id).unwrap().status,
            DepositStatus::DepixSent
        );

        let request =
            WithdrawRequest::new("someone@example.com", WithdrawAmount::Payout(cents(12_345)));
        let withdrawal = complete(&client, &Call::withdraw(&request).unwrap(), mode).unwrap();
        assert_eq!(withdrawal.payout_amount_in_cents.get(), 12_345, "{mode}");
        assert!(withdrawal.deposit_amount_in_cents.get() > 12_345);
        let status = complete(
            &client,
            &Call::withdraw_status(&withdrawal.withdrawal_id).unwrap(),
            mode,
        )
        .unwrap();
        assert_eq!(status.status, WithdrawStatus::Unsent, "{mode}");
        assert_eq!(
            status.deposit_address.as_deref(),
            Some(withdrawal.deposit_address.as_str())
        );
        assert_eq!(sandbox.withdrawals().len(), 1);
    }
}

#[test]
fn user_info_with_and_without_envelope() {
    for bare in [false, true] {
        let sandbox = sandbox_builder().user_info_bare(bare).start().unwrap();
        sandbox.set_user("EU000000000000002", 50_000, 50_000, true);
        let info = client(&sandbox).user_info("EU000000000000002").unwrap();
        assert!(info.is_blocked, "bare {bare}");
        assert_eq!(info.remaining().get(), 0);
        assert!(info.reset_time().is_some());
    }
}

#[test]
fn pix2fa_rejects_wrong_and_malformed_codes() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&DepositRequest::new(cents(100))).unwrap();
    sandbox.set_deposit_status(&deposit.id, "pending_pix2fa");
    let before = sandbox.requests().len();
    for bad in ["12345", "abcdef", ""] {
        assert!(matches!(
            client.pix2fa(&deposit.id, bad),
            Err(Error::InvalidInput { .. })
        ));
    }
    assert_eq!(
        sandbox.requests().len(),
        before,
        "a malformed code reached the server"
    );
    let error = client.pix2fa(&deposit.id, "000000").unwrap_err();
    assert_eq!(error.status(), Some(400), "{error:?}");
}

#[test]
fn withdraw_by_deposit_amount_and_cancel_spellings() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let request = WithdrawRequest::new("00000000000", WithdrawAmount::Deposit(cents(1_000)));
    let withdrawal = client.withdraw(&request).unwrap();
    assert_eq!(withdrawal.deposit_amount_in_cents.get(), 1_000);
    assert_eq!(withdrawal.payout_amount_in_cents.get(), 900);
    for spelling in ["cancelled", "canceled"] {
        sandbox.set_withdraw_status(&withdrawal.withdrawal_id, spelling);
        let info = client.withdraw_status(&withdrawal.withdrawal_id).unwrap();
        assert_eq!(info.status, WithdrawStatus::Canceled, "{spelling}");
    }
    sandbox.update_withdrawal(
        &withdrawal.withdrawal_id,
        json!({"status": "expired", "receiptUrl": ""}),
    );
    let info = client.withdraw_status(&withdrawal.withdrawal_id).unwrap();
    assert_eq!(info.status, WithdrawStatus::Unknown("expired".into()));
    assert_eq!(info.receipt_url, None);
}

#[test]
fn walk_returns_thousand_deposits_once() {
    let sandbox = sandbox();
    let day = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::DAY;
    let mut inserted = HashSet::new();
    for index in 0..1_000i64 {
        // Bursts of up to 150 deposits in one second, spread over a day.
        let second = (index / 150) * 7_000 + index % 3;
        let id = sandbox.insert_deposit(
            day + time::Duration::seconds(second),
            100 + index,
            "depix_sent",
        );
        inserted.insert(id);
    }
    let client = client(&sandbox);
    let query = DepositsQuery::new(day - time::Duration::HOUR, day + time::Duration::DAY);
    let single = client.deposits(&query).unwrap();
    assert_eq!(single.len(), 200, "the API caps one query at 200 rows");

    let mut walk = client
        .deposits_walk(&query)
        .unwrap()
        .min_interval(Duration::ZERO);
    let mut seen = Vec::new();
    for row in walk.by_ref() {
        seen.push(row.unwrap().qr_id);
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 1_000, "duplicates or gaps");
    assert_eq!(unique, inserted);
    assert!(walk.calls() > 5, "{} calls", walk.calls());
}

#[test]
fn walk_filters_by_status_and_keeps_unknown_rows() {
    let sandbox = sandbox();
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::HOUR;
    for (offset, status) in [
        (1, "pending"),
        (2, "awaiting_review"),
        (3, "depix_sent"),
        (4, "pending"),
    ] {
        sandbox.insert_deposit(start + time::Duration::seconds(offset), 100, status);
    }
    let client = client(&sandbox);
    let window = DepositsQuery::new(start, start + time::Duration::MINUTE);
    let rows: Vec<_> = client
        .deposits_walk(&window)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[1].status,
        DepositStatus::Unknown("awaiting_review".into())
    );
    assert!(!rows[1].status.is_final());
    let pending = client
        .deposits(&window.clone().status(DepositStatus::Pending))
        .unwrap();
    assert_eq!(pending.len(), 2);
}

#[test]
fn walk_reports_dense_second() {
    let sandbox = sandbox();
    let at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::HOUR;
    for _ in 0..201 {
        sandbox.insert_deposit(at, 100, "pending");
    }
    let query = DepositsQuery::new(at - time::Duration::MINUTE, at + time::Duration::MINUTE);
    let client = client(&sandbox);
    let results: Vec<_> = client
        .deposits_walk(&query)
        .unwrap()
        .min_interval(Duration::ZERO)
        .collect();
    let error = results.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(error, Error::ListTruncated { .. }), "{error:?}");
}

#[test]
fn settlement_wait_sees_payment() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&DepositRequest::new(cents(2_000))).unwrap();
    let options = SettleOptions::default()
        .intervals(Duration::from_millis(20), Duration::from_millis(80))
        .deadline(Duration::from_secs(10));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            sandbox.pay_deposit(&deposit.id);
        });
        let settled = client.wait_for_settlement(&deposit.id, &options).unwrap();
        assert_eq!(settled.status, DepositStatus::DepixSent);
        assert!(settled.blockchain_tx_id.is_some());
    });
}

#[test]
fn settlement_wait_reports_last_status() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&DepositRequest::new(cents(2_000))).unwrap();
    sandbox.set_deposit_status(&deposit.id, "under_review");
    let options = SettleOptions::default()
        .intervals(Duration::from_millis(20), Duration::from_millis(40))
        .deadline(Duration::from_millis(300));
    let error = client
        .wait_for_settlement(&deposit.id, &options)
        .unwrap_err();
    let Error::NotSettled { id, last } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(id, &deposit.id);
    assert_eq!(last.status, DepositStatus::UnderReview);
    let paid = client
        .wait_for_settlement(&deposit.id, &options.stop_when(DepositStatus::is_paid))
        .unwrap();
    assert_eq!(paid.status, DepositStatus::UnderReview);
}

#[test]
fn unknown_write_found_by_lookup() {
    let sandbox = sandbox();
    let client = client_with_policy(&sandbox, policy().repeat_unknown_writes(false));
    let since = OffsetDateTime::now_utc() - time::Duration::MINUTE;
    client.deposit(&DepositRequest::new(cents(999))).unwrap();
    sandbox.push_action(Action::ProcessThenClose);
    let error = client
        .deposit(&DepositRequest::new(cents(1_234)))
        .unwrap_err();
    assert!(
        matches!(error, Error::OutcomeUnknown { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(
        api_requests(&sandbox).len(),
        2,
        "the unknown write was repeated"
    );
    assert_eq!(sandbox.ledger().len(), 2);

    let lookup = DepositLookup::new(cents(1_234), since).intervals(Duration::ZERO, Duration::ZERO);
    let found = client.find_deposits(&lookup).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].qr_id, sandbox.ledger()[1].id);
}

#[test]
fn pending_write_without_repeats_is_polled() {
    let sandbox = busy_sandbox(WINDOW * 2);
    let client = client_with_policy(&sandbox, policy().repeat_unknown_writes(false));
    let deposit = client.deposit(&DepositRequest::new(cents(100))).unwrap();
    assert_eq!(sandbox.ledger()[0].id, deposit.id);
    assert_eq!(
        api_requests(&sandbox).len(),
        1,
        "a pending write was re-sent"
    );
    assert!(!result_requests(&sandbox).is_empty());
}

#[test]
fn oversized_bodies_are_bounded() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let row =
        r#"{"qrId":"0198443f48c273d3afc72eb454025d19","status":"depix_sent","bankTxId":"71"},"#;
    let mut list = String::from("[");
    while list.len() < 12 * 1024 * 1024 {
        list.push_str(row);
    }
    list.pop();
    list.push(']');
    sandbox.push_action(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: list.into_bytes(),
    });
    let now = OffsetDateTime::now_utc();
    let error = client
        .deposits(&DepositsQuery::new(now - time::Duration::HOUR, now))
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::BodyTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("1048576"), "{error}");

    sandbox.push_action(Action::Respond {
        status: 500,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: vec![b'x'; 50 * 1024 * 1024],
    });
    let error = client.ping().unwrap_err();
    assert!(
        matches!(error, Error::BodyTooLarge { status: 500, .. }),
        "{error:?}"
    );

    sandbox.push_action(Action::Respond {
        status: 500,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: vec![b'y'; 200 * 1024],
    });
    let error = client.ping().unwrap_err();
    let Error::Decode { snippet, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(snippet.len(), 200);
}

#[test]
fn oversized_result_document_is_bounded() {
    let sandbox = busy_sandbox(Duration::from_secs(3600));
    let client = client_with_policy(&sandbox, policy().wait_strategy(depix::WaitStrategy::Poll));
    let call = Call::deposit(&DepositRequest::new(cents(100))).unwrap();
    let Response::Pending(pending) = client.send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    sandbox.push_result_action(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/octet-stream".into())],
        body: vec![b'z'; 20 * 1024 * 1024],
    });
    let error = client.wait(&pending).unwrap_err();
    assert!(matches!(error, Error::BodyTooLarge { .. }), "{error:?}");
    assert_eq!(error.nonce(), Some(call.nonce()));
}

/// One webhook delivery: the Authorization header and the body.
type Delivery = (Option<String>, Vec<u8>);

/// Starts a loopback receiver that passes every delivery to the returned channel and responds
/// 200.
fn receiver() -> (String, mpsc::Receiver<Delivery>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", server.server_addr().to_ip().unwrap());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let authorization = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.to_string());
            let mut body = Vec::new();
            std::io::Read::read_to_end(request.as_reader(), &mut body).unwrap();
            let _ = request.respond(tiny_http::Response::empty(200));
            if sender.send((authorization, body)).is_err() {
                return;
            }
        }
    });
    (url, receiver)
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn next_event(receiver: &mpsc::Receiver<Delivery>, secret: &WebhookSecret) -> Event {
    let (authorization, body) = receiver.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(secret.verify(authorization.as_deref()), "{authorization:?}");
    Event::from_slice(&body).unwrap()
}

#[test]
fn sandbox_webhooks_verify_and_decode() {
    let (url, deliveries) = receiver();
    let sandbox: Sandbox = sandbox_builder().webhook(url, SECRET).start().unwrap();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let client = client(&sandbox);

    let deposit = client.deposit(&DepositRequest::new(cents(100))).unwrap();
    sandbox.pay_deposit(&deposit.id);
    let Event::Deposit(paid) = next_event(&deliveries, &secret) else {
        panic!("not a deposit event");
    };
    assert_eq!(paid.qr_id, deposit.id);
    assert_eq!(paid.status, DepositStatus::DepixSent);

    sandbox.deliver_med(&deposit.id);
    let Event::Med(med) = next_event(&deliveries, &secret) else {
        panic!("not a MED event");
    };
    assert_eq!(med.qr_id, deposit.id);
    assert_eq!(med.principal_value_in_cents, Some(cents(100)));

    let request = WithdrawRequest::new("k", WithdrawAmount::Payout(cents(500)));
    let withdrawal = client.withdraw(&request).unwrap();
    sandbox.set_withdraw_status(&withdrawal.withdrawal_id, "sent");
    let Event::Withdraw(sent) = next_event(&deliveries, &secret) else {
        panic!("not a withdraw event");
    };
    assert_eq!(sent.id, withdrawal.withdrawal_id);
    assert!(sent.status.is_paid());

    let wrong = WebhookSecret::new("another-secret-of-enough-length").unwrap();
    sandbox.expire_deposit(&deposit.id);
    let (authorization, _) = deliveries.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!wrong.verify(authorization.as_deref()));
}

#[test]
fn duplicate_deliveries_share_dedupe_key() {
    let (url, deliveries) = receiver();
    let sandbox = sandbox_builder()
        .webhook(url, SECRET)
        .webhook_duplicates(true)
        .start()
        .unwrap();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let deposit = client(&sandbox)
        .deposit(&DepositRequest::new(cents(100)))
        .unwrap();
    sandbox.refund_deposit(&deposit.id);
    let first = next_event(&deliveries, &secret);
    let second = next_event(&deliveries, &secret);
    assert_eq!(first.dedupe_key(), second.dedupe_key());
    assert!(first.dedupe_key().is_some());
    assert_eq!(sandbox.webhook_deliveries().len(), 2);
}
