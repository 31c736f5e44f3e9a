//! Faults of the network and the server, one at a time and deterministic: each ends with the
//! deposit made once, or with a typed error that carries the nonce.
#![cfg(feature = "sandbox")]

mod common;

use std::time::Duration;

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest, Error, WaitStrategy};
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

/// Builds a client that gives up after `retries` failed attempts in a row.
fn client_with_retries(sandbox: &depix::sandbox::Sandbox, retries: u32) -> depix::Client {
    client_with_policy(sandbox, policy().max_error_retries(retries))
}

#[test]
fn recorded_then_reset_is_retried_with_same_nonce() {
    let sandbox = sandbox();
    sandbox.push_action(Action::ResetMidBody { after: 10 });
    let call = deposit_call();
    let done = client(&sandbox).execute(&call).unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(sandbox.ledger().len(), 1);
    assert_eq!(sandbox.ledger()[0].id, done.value.id);
    let sent = api_requests(&sandbox);
    assert!(
        sent.iter()
            .all(|r| r.header("x-nonce") == Some(call.nonce().as_str()))
    );
    assert!(sent.iter().all(|r| r.body == sent[0].body));
}

#[test]
fn recorded_then_html_502_until_budget_is_unknown() {
    let sandbox = sandbox();
    for _ in 0..3 {
        sandbox.push_action(Action::ProcessThenRespond {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
        });
    }

    let call = deposit_call();
    let error = client_with_retries(&sandbox, 2).execute(&call).unwrap_err();
    let Error::OutcomeUnknown {
        nonce,
        last: Some(last),
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(nonce, call.nonce());

    let Error::Decode {
        status,
        content_type,
        snippet,
        reason,
        ..
    } = last.as_ref()
    else {
        panic!("{last:?}");
    };
    assert_eq!(*status, 502);
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert!(snippet.starts_with("<html>"), "{snippet}");
    assert!(reason.contains("not an API envelope"), "{reason}");
    assert_eq!(sandbox.ledger().len(), 1, "the work was done once");
}

#[test]
fn gateway_pages_are_typed_and_retried() {
    for action in [
        Action::html(502, "<html>Bad Gateway</html>"),
        Action::empty(504),
        Action::empty(503),
        Action::retry_after_seconds(503, 0),
    ] {
        let sandbox = sandbox();
        sandbox.push_action(action.clone());
        let call = deposit_call();
        let done = client(&sandbox).execute(&call).unwrap();
        assert_eq!(done.attempts, 2, "{action:?}");
        assert_eq!(sandbox.ledger().len(), 1, "{action:?}");
    }
}

#[test]
fn html_success_is_typed_error() {
    let sandbox = sandbox();
    sandbox.push_action(Action::html(200, "<!doctype html><p>maintenance</p>"));
    let call = deposit_call();
    let error = client_with_retries(&sandbox, 0).execute(&call).unwrap_err();
    let Error::Decode {
        status,
        content_type,
        reason,
        snippet,
        nonce,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 200);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert!(reason.contains("not valid JSON"), "{reason}");
    assert!(snippet.contains("maintenance"), "{snippet}");
    assert_eq!(nonce, call.nonce());
    assert!(error.may_have_been_performed());
}

#[test]
fn truncated_body_without_retries_is_unknown() {
    let sandbox = sandbox();
    sandbox.push_action(Action::ProcessThenRespondTruncated { cut: 12 });
    let call = deposit_call();
    let error = client_with_retries(&sandbox, 0).execute(&call).unwrap_err();
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error:?}");
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn truncated_body_is_retried_with_same_nonce() {
    let sandbox = sandbox();
    sandbox.push_action(Action::ProcessThenRespondTruncated { cut: 20 });
    let call = deposit_call();
    let done = client(&sandbox).execute(&call).unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn closed_pooled_connection_is_retried() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    sandbox.push_action(Action::CloseIdleAfter(Duration::from_millis(50)));
    client.ping().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let call = deposit_call();
    let done = client.execute(&call).unwrap();
    assert_eq!(sandbox.ledger().len(), 1);
    assert_eq!(sandbox.ledger()[0].id, done.value.id);

    // A pooled connection that closes on the next request: the retry carries the nonce.
    sandbox.push_action(Action::Close);
    let call = deposit_call();
    let done = client.execute(&call).unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(sandbox.ledger().len(), 2);
}

#[test]
fn busy_server_gets_few_requests() {
    let busy = Duration::from_secs(3);
    for strategy in [WaitStrategy::Resend, WaitStrategy::Poll] {
        let sandbox = busy_sandbox(busy);
        let client = client_with_policy(&sandbox, policy().wait_strategy(strategy));
        let done = client.execute(&deposit_call()).unwrap();
        let requests = sandbox.requests().len();
        // Re-sends are held for the 300 ms window; polls back off from 5 ms to 100 ms.
        let most = match strategy {
            WaitStrategy::Resend => 3_000 / 300 + 3,
            WaitStrategy::Poll => 3_000 / 50 + 10,
        };
        assert!(requests <= most, "{strategy:?}: {requests} requests");
        assert!(done.was_pending);
    }
}
