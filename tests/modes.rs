//! Every call mode and the design invariants, against the sandbox.
#![cfg(feature = "sandbox")]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use depix::{Call, Cents, DepositRequest, DepositStatus, Error, Mode, Response, WaitStrategy};

fn request(cents: u64) -> DepositRequest {
    DepositRequest::new(Cents::new(cents).unwrap())
}

#[test]
fn ping_returns_claims() {
    let sandbox = sandbox();
    let ping = client(&sandbox).ping().unwrap();
    assert!(ping.is_pong());
    assert_eq!(ping.claims.sub.as_deref(), Some("sandbox_partner"));
    let sent = api_requests(&sandbox);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-async"), Some("auto"));
    assert!(sent[0].header("x-nonce").is_some());
}

#[test]
fn sync_mode_returns_ready() {
    let sandbox = sandbox();
    let call = Call::deposit(&request(1999)).unwrap();
    let Response::Ready(deposit) = client(&sandbox).send(&call, Mode::Sync).unwrap() else {
        panic!("sync mode answered pending");
    };
    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].id, deposit.id);
    assert_eq!(ledger[0].amount_in_cents, 1999);
    assert_eq!(api_requests(&sandbox)[0].header("x-async"), Some("false"));
}

#[test]
fn sync_mode_overrun_is_sync_timeout_and_discarded() {
    let sandbox = busy_sandbox(WINDOW * 3);
    let call = Call::deposit(&request(500)).unwrap();
    let error = client(&sandbox).send(&call, Mode::Sync).unwrap_err();
    assert!(matches!(error, Error::SyncTimeout { .. }), "{error:?}");
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert!(error.request_id().is_some());
    assert!(error.may_have_been_performed());
    std::thread::sleep(WINDOW * 4);
    assert!(sandbox.ledger().is_empty(), "discarded work was performed");
}

#[test]
fn sync_mode_drive_returns_sync_timeout_without_retry() {
    let sandbox = busy_sandbox(WINDOW * 3);
    let client = client_builder(&sandbox).mode(Mode::Sync).build().unwrap();
    let error = client.deposit(&request(500)).unwrap_err();
    assert!(matches!(error, Error::SyncTimeout { .. }), "{error:?}");
    assert_eq!(api_requests(&sandbox).len(), 1);
}

#[test]
fn async_mode_returns_pending_with_url_and_expiration() {
    let sandbox = sandbox();
    let call = Call::deposit(&request(700)).unwrap();
    let Response::Pending(pending) = client(&sandbox).send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    assert_eq!(pending.nonce(), call.nonce());
    let url = pending.url_response().expect("urlResponse");
    assert!(url.as_str().starts_with(&sandbox.result_origin()));
    assert!(pending.expiration().is_some());
    assert_eq!(api_requests(&sandbox)[0].header("x-async"), Some("true"));
}

#[test]
fn async_pending_finished_by_resend() {
    let sandbox = busy_sandbox(WINDOW / 2);
    let client = client(&sandbox);
    let call = Call::deposit(&request(800)).unwrap();
    let Response::Pending(pending) = client.send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    let done = client.wait(&pending).unwrap();
    assert_eq!(done.nonce, *call.nonce());
    assert_eq!(sandbox.ledger().len(), 1);
    assert_eq!(sandbox.ledger()[0].id, done.value.id);
    assert!(
        result_requests(&sandbox).is_empty(),
        "resend strategy polled"
    );
    let modes: Vec<_> = api_requests(&sandbox)
        .iter()
        .map(|r| r.header("x-async").unwrap().to_owned())
        .collect();
    assert_eq!(modes[0], "true");
    assert!(modes[1..].iter().all(|m| m == "auto"), "{modes:?}");
}

#[test]
fn async_pending_finished_by_polling_without_token() {
    let sandbox = busy_sandbox(Duration::from_millis(100));
    let client = client_with_policy(&sandbox, policy().wait_strategy(WaitStrategy::Poll));
    let call = Call::deposit(&request(900)).unwrap();
    let Response::Pending(pending) = client.send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    let done = client.wait(&pending).unwrap();
    assert_eq!(sandbox.ledger()[0].id, done.value.id);
    assert_eq!(api_requests(&sandbox).len(), 1, "polling re-sent the call");
    let polls = result_requests(&sandbox);
    assert!(!polls.is_empty());
    for poll in &polls {
        assert_eq!(poll.header("authorization"), None);
        assert_eq!(poll.header("x-nonce"), None);
    }
}

#[test]
fn auto_mode_falls_back_to_pending_then_ready() {
    let sandbox = busy_sandbox(WINDOW * 2);
    let done = client(&sandbox)
        .execute(&Call::deposit(&request(1000)).unwrap())
        .unwrap();
    assert!(done.was_pending);
    assert!(done.attempts >= 2, "{} attempts", done.attempts);
    assert_eq!(sandbox.ledger().len(), 1);
    let sent = api_requests(&sandbox);
    assert_eq!(sent.len() as u32, done.attempts);
    assert!(sent.iter().all(|r| r.header("x-async") == Some("auto")));
}

#[test]
fn auto_long_poll_resends_without_backoff() {
    // The server holds each auto call for its whole window, so the client re-sends at once:
    // three windows of work take about three attempts, not a backoff ladder.
    let sandbox = busy_sandbox(WINDOW * 5 / 2);
    let client = client_with_policy(
        &sandbox,
        policy().resend_backoff(Duration::from_secs(5), Duration::from_secs(5)),
    );
    let done = client
        .execute(&Call::deposit(&request(1100)).unwrap())
        .unwrap();
    assert_eq!(done.attempts, 3);
}

#[test]
fn one_nonce_and_identical_body_across_resends() {
    let sandbox = sandbox();
    let call = Call::deposit(&request(1234).end_user_tax_number("00012345678")).unwrap();
    sandbox.force_async(call.nonce().as_str(), 3);
    let done = client(&sandbox).execute(&call).unwrap();
    assert_eq!(done.attempts, 4);
    let sent = api_requests(&sandbox);
    assert_eq!(sent.len(), 4);
    for request in &sent {
        assert_eq!(request.header("x-nonce"), Some(call.nonce().as_str()));
        assert_eq!(request.body, call.request().body().unwrap().as_bytes());
    }
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn pending_resumes_in_fresh_client_from_json() {
    let sandbox = busy_sandbox(WINDOW / 2);
    let call = Call::deposit(&request(4321)).unwrap();
    let Response::Pending(pending) = client(&sandbox).send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    let stored = serde_json::to_string(&pending).unwrap();

    let restored: depix::Pending<depix::Deposit> = serde_json::from_str(&stored).unwrap();
    let done = client(&sandbox).wait(&restored).unwrap();
    assert_eq!(sandbox.ledger().len(), 1);
    assert_eq!(sandbox.ledger()[0].id, done.value.id);
}

#[test]
fn resume_with_stored_nonce_returns_same_deposit() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let first = client
        .execute(&Call::deposit(&request(555)).unwrap())
        .unwrap();
    let again = Call::deposit(&request(555))
        .unwrap()
        .with_nonce(first.nonce.clone());
    let second = client.execute(&again).unwrap();
    assert_eq!(first.value.id, second.value.id);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn deposit_status_round_trip() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&request(2500)).unwrap();
    let info = client.deposit_status(&deposit.id).unwrap();
    assert_eq!(info.qr_id, deposit.id);
    assert_eq!(info.status, DepositStatus::Pending);
    assert_eq!(info.value_in_cents.map(Cents::get), Some(2500));
    assert!(info.expiration_time().is_some());
}

#[test]
fn unknown_deposit_is_not_found() {
    let sandbox = sandbox();
    let error = client(&sandbox)
        .deposit_status("00000000000000000000000000000000")
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.api_message(), None);
}

#[test]
fn wrong_token_is_api_error_401() {
    let sandbox = sandbox();
    let client = client_builder(&sandbox).token("wrong").build().unwrap();
    let error = client.ping().unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(error.api_message().is_some());
    assert!(!error.to_string().contains("wrong"));
    assert_eq!(api_requests(&sandbox).len(), 1, "a 401 was retried");
}

#[test]
fn sequential_calls_reuse_connection() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    for _ in 0..5 {
        client.ping().unwrap();
    }
    let clone = client.clone();
    clone.ping().unwrap();
    let connections: HashSet<u64> = api_requests(&sandbox)
        .iter()
        .map(|r| r.connection)
        .collect();
    assert_eq!(connections.len(), 1, "{connections:?}");
}

#[test]
fn two_hundred_intentions_exactly_once() {
    let sandbox = sandbox_builder().force_async_first(2).start().unwrap();
    let client = client(&sandbox);
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        let call = Call::deposit(&request(100 + thread * 50 + i)).unwrap();
                        let done = client.execute(&call).unwrap();
                        assert_eq!(done.attempts, 3);
                        (call.nonce().to_string(), done.value.id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<(String, String)> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();

    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 200);
    let nonces: HashSet<&str> = ledger.iter().map(|e| e.nonce.as_str()).collect();
    assert_eq!(nonces.len(), 200);
    let by_nonce: HashMap<&str, &str> = ledger
        .iter()
        .map(|e| (e.nonce.as_str(), e.id.as_str()))
        .collect();
    for (nonce, id) in &results {
        assert_eq!(by_nonce.get(nonce.as_str()), Some(&id.as_str()));
    }

    let mut per_nonce: HashMap<String, usize> = HashMap::new();
    for sent in api_requests(&sandbox) {
        let nonce = sent
            .header("x-nonce")
            .expect("every request carries a nonce");
        assert!(
            nonces.contains(nonce),
            "request with a foreign nonce {nonce}"
        );
        let entry = ledger.iter().find(|e| e.nonce == nonce).unwrap();
        assert_eq!(sent.body, entry.request_body, "body changed across retries");
        *per_nonce.entry(nonce.to_owned()).or_default() += 1;
    }
    assert_eq!(per_nonce.len(), 200);
    assert!(per_nonce.values().all(|count| *count == 3));
}
