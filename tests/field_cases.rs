//! Inputs that broke real clients of this API, replayed on the sandbox.
#![cfg(feature = "sandbox")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest, DepositStatus, Error, Mode, Response, WaitStrategy};
use serde_json::json;
use time::OffsetDateTime;

fn request(cents: u64) -> DepositRequest {
    DepositRequest::new(Cents::new(cents).unwrap())
}

const REQUEST_ID: &str = "8ddc3426-1425-4d80-b588-a05371119da0";

fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Action {
    Action::Respond {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn error_envelope(status: u16, message: &str) -> Action {
    respond(
        status,
        &[
            ("Content-Type", "application/json"),
            ("X-Request-ID", REQUEST_ID),
        ],
        &json!({"response": {"errorMessage": message}, "async": false}).to_string(),
    )
}

fn http_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).unwrap()
}

// The connection closes after the server recorded the work.

#[test]
fn closed_connection_retried_with_same_nonce() {
    let sandbox = sandbox();
    sandbox.push_action(Action::ProcessThenClose);
    let call = Call::deposit(&request(1500)).unwrap();
    let done = client(&sandbox).execute(&call).unwrap();

    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].id, done.value.id);
    let sent = api_requests(&sandbox);
    assert_eq!(sent.len(), 2);
    for attempt in &sent {
        assert_eq!(attempt.header("x-nonce"), Some(call.nonce().as_str()));
        assert_eq!(attempt.body, sent[0].body);
    }
}

#[test]
fn closed_connections_until_budget_is_outcome_unknown() {
    let sandbox = sandbox();
    for _ in 0..3 {
        sandbox.push_action(Action::ProcessThenClose);
    }
    let client = client_with_policy(&sandbox, policy().max_error_retries(2));
    let call = Call::deposit(&request(1500)).unwrap();
    let error = client.execute(&call).unwrap_err();
    assert!(
        matches!(error, Error::OutcomeUnknown { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert!(error.may_have_been_performed());
    assert_eq!(sandbox.ledger().len(), 1, "the work was recorded once");

    // Resuming with the nonce collects the deposit the server already made.
    let resumed = client.execute(&call).unwrap();
    assert_eq!(resumed.value.id, sandbox.ledger()[0].id);
    assert_eq!(sandbox.ledger().len(), 1);
}

// Error statuses keep their body.

#[test]
fn error_statuses_keep_details() {
    for status in [400, 401, 403, 500, 520] {
        let sandbox = sandbox();
        sandbox.push_action(error_envelope(status, "amountInCents out of range"));
        let call = Call::deposit(&request(100)).unwrap();
        let error = client(&sandbox).execute(&call).unwrap_err();
        assert!(matches!(error, Error::Api { .. }), "{status}: {error:?}");
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.api_message(), Some("amountInCents out of range"));
        assert_eq!(error.request_id(), Some(REQUEST_ID));
        assert_eq!(error.nonce(), Some(call.nonce()));
        assert_eq!(api_requests(&sandbox).len(), 1, "HTTP {status} was retried");
    }
}

#[test]
fn rate_limit_keeps_message() {
    let sandbox = sandbox();
    sandbox.push_action(error_envelope(429, "too many requests"));
    let client = client_with_policy(&sandbox, policy().max_error_retries(0));
    let call = Call::deposit(&request(100)).unwrap();
    let error = client.send(&call, Mode::Auto).unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(error.api_message(), Some("too many requests"));
    assert_eq!(error.request_id(), Some(REQUEST_ID));
    assert_eq!(error.nonce(), Some(call.nonce()));
}

#[test]
fn auto_503_ends_outcome_unknown() {
    let sandbox = sandbox();
    for _ in 0..2 {
        sandbox.push_action(error_envelope(503, "service unavailable"));
    }
    let client = client_with_policy(&sandbox, policy().max_error_retries(1));
    let call = Call::deposit(&request(100)).unwrap();
    let error = client.execute(&call).unwrap_err();
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error:?}");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.api_message(), Some("service unavailable"));
    assert_eq!(error.request_id(), Some(REQUEST_ID));
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert_eq!(api_requests(&sandbox).len(), 2);
}

#[test]
fn error_after_retry_is_returned_as_is() {
    let sandbox = sandbox();
    sandbox.push_action(error_envelope(503, "busy"));
    sandbox.push_action(error_envelope(400, "amountInCents out of range"));
    let error = client(&sandbox)
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.api_message(), Some("amountInCents out of range"));
}

// The server keeps an auto call open for its whole window, then returns pending.

#[test]
fn answer_after_window_is_received() {
    let sandbox = busy_sandbox(WINDOW * 2);
    let call = Call::deposit(&request(100)).unwrap();
    let started = Instant::now();
    let response = client(&sandbox).send(&call, Mode::Auto).unwrap();
    assert!(
        started.elapsed() >= WINDOW,
        "the server did not hold the call"
    );
    assert!(matches!(response, Response::Pending(_)), "{response:?}");
}

#[test]
fn response_timeout_at_window_is_rejected() {
    let sandbox = sandbox();
    let error = client_builder(&sandbox)
        .response_timeout(WINDOW)
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    let default = depix::Client::builder().token("t").build();
    assert!(default.is_ok(), "defaults must keep the timeout above 10 s");
}

// The work never finishes.

fn never_finishing_sandbox() -> depix::sandbox::Sandbox {
    sandbox_builder()
        .processing_time(Duration::from_secs(3600))
        .async_lifetime(Duration::from_millis(600))
        .start()
        .unwrap()
}

#[test]
fn resend_ends_at_expiration() {
    let sandbox = never_finishing_sandbox();
    let call = Call::deposit(&request(100)).unwrap();
    let started = Instant::now();
    let error = client(&sandbox).execute(&call).unwrap_err();
    let elapsed = started.elapsed();
    let Error::Expired {
        nonce,
        url_response,
        expiration,
        attempts,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(nonce, call.nonce());
    assert!(url_response.is_some());
    assert!(expiration.is_some());
    assert!(*attempts >= 2, "{attempts} attempts");
    assert!(*attempts <= 10, "{attempts} attempts");
    assert!(
        elapsed >= Duration::from_millis(500),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "waited far past expiration: {elapsed:?}"
    );
    assert_eq!(api_requests(&sandbox).len() as u32, *attempts);
}

#[test]
fn polling_ends_at_expiration() {
    let sandbox = never_finishing_sandbox();
    let client = poll_client(&sandbox);
    let started = Instant::now();
    let error = client
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert!(matches!(error, Error::Expired { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let polls = result_requests(&sandbox).len();
    assert!((1..=60).contains(&polls), "{polls} polls");
}

#[test]
fn past_expiration_does_not_spin() {
    let sandbox = sandbox();
    let past = "2020-01-01T00:00:00.000Z";
    sandbox.push_action(Action::json(
        202,
        json!({"async": true, "urlResponse": format!("{}/api-response/x", sandbox.result_origin()), "expiration": past}),
    ));
    let error = client(&sandbox)
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert!(
        matches!(error, Error::Expired { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(api_requests(&sandbox).len(), 1);
}

#[test]
fn missing_expiration_is_bounded() {
    let sandbox = sandbox();
    for _ in 0..100 {
        sandbox.push_action(Action::json(
            202,
            json!({"async": true, "urlResponse": format!("{}/api-response/x", sandbox.result_origin())}),
        ));
    }
    let client = client_with_policy(
        &sandbox,
        policy().default_lifetime(Duration::from_millis(400)),
    );
    let error = client
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Expired {
                expiration: None,
                ..
            }
        ),
        "{error:?}"
    );
    let sent = api_requests(&sandbox).len();
    assert!((2..=40).contains(&sent), "{sent} requests");
}

#[test]
fn caller_deadline_wins() {
    let sandbox = busy_sandbox(Duration::from_secs(3600));
    let client = client_builder(&sandbox)
        .retry_policy(policy().deadline(Some(Duration::from_millis(500))))
        .build()
        .unwrap();
    let call = Call::deposit(&request(100)).unwrap();
    let error = client.execute(&call).unwrap_err();
    assert!(matches!(error, Error::DeadlineExceeded { .. }), "{error:?}");
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert!(error.may_have_been_performed());
}

// Retry-After in both standard forms, and garbage.

fn rate_limited(retry_after: Option<&str>) -> Action {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(value) = retry_after {
        headers.push(("Retry-After", value));
    }
    respond(
        429,
        &headers,
        r#"{"response":{"errorMessage":"rate limit"},"async":false}"#,
    )
}

#[test]
fn retry_after_seconds_is_honoured() {
    let sandbox = sandbox();
    sandbox.push_action(rate_limited(Some("1")));
    let started = Instant::now();
    client(&sandbox).ping().unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(api_requests(&sandbox).len(), 2);
}

#[test]
fn retry_after_http_date_is_honoured() {
    let sandbox = sandbox();
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let date = http_date(at);
    sandbox.push_action(respond(503, &[("Retry-After", date.as_str())], ""));
    let started = Instant::now();
    client(&sandbox).ping().unwrap();
    // The date has one-second resolution, so the wait is at least one second.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn bad_retry_after_uses_backoff() {
    let past = http_date(OffsetDateTime::now_utc() - time::Duration::minutes(5));
    for value in [
        Some(past.as_str()),
        Some("1.5"),
        Some("-1"),
        Some("abc"),
        None,
    ] {
        let sandbox = sandbox();
        sandbox.push_action(rate_limited(value));
        let started = Instant::now();
        client(&sandbox).ping().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{value:?} was treated as a long wait"
        );
        assert_eq!(api_requests(&sandbox).len(), 2);
    }
}

#[test]
fn huge_retry_after_returns_at_once() {
    let sandbox = sandbox();
    sandbox.push_action(rate_limited(Some("99999999")));
    let started = Instant::now();
    let error = client(&sandbox).ping().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    let Error::RateLimited { retry_after, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(99_999_999)));
    assert_eq!(api_requests(&sandbox).len(), 1);
}

#[test]
fn retry_after_past_deadline_returns_at_once() {
    let sandbox = sandbox();
    sandbox.push_action(rate_limited(Some("5")));
    let client = client_builder(&sandbox)
        .retry_policy(policy().deadline(Some(Duration::from_secs(2))))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.ping().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
}

// The bearer token never reaches the urlResponse host.

#[test]
fn result_host_never_sees_token_or_nonce() {
    let sandbox = busy_sandbox(WINDOW * 2);
    let client = poll_client(&sandbox);
    let done = client
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap();
    assert_eq!(sandbox.ledger()[0].id, done.value.id);
    let polls = result_requests(&sandbox);
    assert!(!polls.is_empty());
    assert!(polls.iter().all(|p| p.header("authorization").is_none()));
    assert!(polls.iter().all(|p| p.path.contains("sig=")));
}

#[test]
fn expiry_error_hides_signature() {
    let sandbox = never_finishing_sandbox();
    let client = poll_client(&sandbox);
    let error = client
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    let Error::Expired {
        url_response: Some(url),
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    let signature = url.as_str().split("sig=").nth(1).unwrap().to_owned();
    assert!(!signature.is_empty());
    assert!(!error.to_string().contains(&signature));
    assert!(!format!("{error:?}").contains(&signature));
}

#[test]
fn redirect_is_not_followed() {
    let sandbox = sandbox();
    let target = format!("{}/api-response/stolen", sandbox.result_origin());
    sandbox.push_action(respond(307, &[("Location", target.as_str())], ""));
    let error = client(&sandbox)
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert!(
        matches!(error, Error::Decode { status: 307, .. }),
        "{error:?}"
    );
    assert!(
        result_requests(&sandbox).is_empty(),
        "the redirect was followed"
    );
}

// A status added by the server.

#[test]
fn unknown_status_decodes() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&request(100)).unwrap();
    sandbox.update_deposit(
        &deposit.id,
        json!({"status": "awaiting_review", "brandNew": [1]}),
    );
    let info = client.deposit_status(&deposit.id).unwrap();
    assert_eq!(
        info.status,
        DepositStatus::Unknown("awaiting_review".into())
    );
    assert!(!info.status.is_final());
    assert!(!info.status.is_success());
    assert_eq!(info.qr_id, deposit.id);
}

// Null where a value was expected.

#[test]
fn null_absent_and_empty_fields() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    let deposit = client.deposit(&request(100)).unwrap();

    sandbox.update_deposit(
        &deposit.id,
        json!({"blockchainTxID": null, "payerName": null}),
    );
    let info = client.deposit_status(&deposit.id).unwrap();
    assert_eq!(info.blockchain_tx_id, None);
    assert_eq!(info.payer_name, None);

    sandbox.update_deposit(&deposit.id, json!({"blockchainTxID": ""}));
    assert_eq!(
        client.deposit_status(&deposit.id).unwrap().blockchain_tx_id,
        None
    );

    sandbox.remove_deposit_field(&deposit.id, "blockchainTxID");
    assert_eq!(
        client.deposit_status(&deposit.id).unwrap().blockchain_tx_id,
        None
    );

    sandbox.update_deposit(&deposit.id, json!({"blockchainTxID": "ab".repeat(32)}));
    let paid = client.deposit_status(&deposit.id).unwrap();
    assert_eq!(paid.blockchain_tx_id, Some("ab".repeat(32)));
}

#[test]
fn null_error_message_is_still_error() {
    let sandbox = sandbox();
    sandbox.push_action(Action::json(
        200,
        json!({"response": {"errorMessage": null}, "async": false}),
    ));
    let error = client(&sandbox)
        .execute(&Call::deposit(&request(100)).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Api {
                status: 200,
                message: None,
                ..
            }
        ),
        "{error:?}"
    );
}

// Money is exact integer cents, checked before sending.

#[test]
fn invalid_amounts_send_nothing() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    for cents in ["0", "10000001"] {
        let amount: Cents = serde_json::from_str(cents).unwrap();
        let error = client.deposit(&DepositRequest::new(amount)).unwrap_err();
        assert!(matches!(error, Error::Amount(_)), "{cents}: {error:?}");
        assert!(error.to_string().contains(cents), "{error}");
    }
    for text in ["100000.01", "0", "-1", "1.005", "1e3"] {
        assert!(Cents::from_reais(text).is_err(), "{text}");
    }
    assert!(
        sandbox.requests().is_empty(),
        "an invalid amount reached the server"
    );
}

#[test]
fn reais_text_arrives_as_exact_cents() {
    let sandbox = sandbox();
    let client = client(&sandbox);
    for (text, cents) in [
        ("19.99", 1999),
        ("8.20", 820),
        ("4.56", 456),
        ("0.01", 1),
        ("100000.00", 10_000_000),
    ] {
        client
            .deposit(&DepositRequest::new(Cents::from_reais(text).unwrap()))
            .unwrap();
        assert_eq!(
            sandbox.ledger().last().unwrap().amount_in_cents,
            cents,
            "{text}"
        );
    }
}

// The urlResponse document is the bare inner object.

fn poll_client(sandbox: &depix::sandbox::Sandbox) -> depix::Client {
    client_with_policy(sandbox, policy().wait_strategy(WaitStrategy::Poll))
}

fn pending_deposit(
    sandbox: &depix::sandbox::Sandbox,
    client: &depix::Client,
) -> depix::Pending<depix::Deposit> {
    let call = Call::deposit(&request(100)).unwrap();
    match client.send(&call, Mode::Async).unwrap() {
        Response::Pending(pending) => pending,
        Response::Ready(_) => panic!("async mode answered ready on {}", sandbox.base_url()),
    }
}

#[test]
fn bare_object_is_result() {
    let sandbox = busy_sandbox(Duration::from_millis(150));
    let client = poll_client(&sandbox);
    let pending = pending_deposit(&sandbox, &client);
    let done = client.wait(&pending).unwrap();
    assert_eq!(done.value.id, sandbox.ledger()[0].id);
    let statuses = result_requests(&sandbox).len();
    assert!(statuses >= 1);
}

#[test]
fn bare_error_is_api_error() {
    let sandbox = busy_sandbox(Duration::from_secs(3600));
    let client = poll_client(&sandbox);
    let pending = pending_deposit(&sandbox, &client);
    sandbox.push_result_action(Action::json(
        200,
        json!({"errorMessage": "deposit refused"}),
    ));
    let error = client.wait(&pending).unwrap_err();
    assert!(matches!(error, Error::Api { status: 200, .. }), "{error:?}");
    assert_eq!(error.api_message(), Some("deposit refused"));
    assert_eq!(error.nonce(), Some(pending.nonce()));
}

#[test]
fn full_envelope_is_accepted() {
    let sandbox = busy_sandbox(Duration::from_secs(3600));
    let client = poll_client(&sandbox);
    let pending = pending_deposit(&sandbox, &client);
    sandbox.push_result_action(Action::json(
        200,
        json!({"response": {"id": "feed", "qrCopyPaste": "000201", "qrImageUrl": "http://127.0.0.1/qr.png"}, "async": false}),
    ));
    let done = client.wait(&pending).unwrap();
    assert_eq!(done.value.id, "feed");
}

#[test]
fn forbidden_then_not_found_until_expiry() {
    let sandbox = sandbox_builder()
        .processing_time(Duration::from_secs(3600))
        .async_lifetime(Duration::from_millis(500))
        .start()
        .unwrap();
    let client = poll_client(&sandbox);
    let pending = pending_deposit(&sandbox, &client);
    for _ in 0..3 {
        sandbox.push_result_action(respond(
            403,
            &[("Content-Type", "application/xml")],
            "<Error/>",
        ));
    }
    let error = client.wait(&pending).unwrap_err();
    assert!(matches!(error, Error::Expired { .. }), "{error:?}");
    assert!(
        result_requests(&sandbox).len() >= 4,
        "404s after the 403s were not polled"
    );
}
