//! Bounded waits: every phase has a timeout, the whole call has a deadline, and nothing waits
//! past the server's expiration, even when the server's clock is minutes off.
#![cfg(feature = "sandbox")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest, Error};

fn deposit_call() -> Call<depix::Deposit> {
    Call::deposit(&DepositRequest::new(Cents::new(100).unwrap())).unwrap()
}

/// Slack allowed over a configured budget for thread scheduling on a loaded machine.
const MARGIN: Duration = Duration::from_secs(2);

#[test]
fn black_hole_returns_within_deadline() {
    let sandbox = sandbox();
    for _ in 0..10 {
        sandbox.push_action(Action::BlackHole);
    }
    let deadline = Duration::from_millis(800);
    let client = client_with_policy(&sandbox, policy().deadline(Some(deadline)));
    let call = deposit_call();
    let started = Instant::now();
    let error = client.execute(&call).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < deadline + MARGIN, "{elapsed:?}");
    assert_eq!(error.nonce(), Some(call.nonce()));
    assert!(error.may_have_been_performed(), "{error:?}");
}

#[test]
fn black_hole_bounded_by_response_timeout() {
    let sandbox = sandbox();
    sandbox.push_action(Action::BlackHole);
    let timeout = Duration::from_secs(1);
    let client = client_builder(&sandbox)
        .response_timeout(timeout)
        .retry_policy(policy().max_error_retries(0))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.execute(&deposit_call()).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < timeout + MARGIN, "{elapsed:?}");
    assert!(matches!(error, Error::OutcomeUnknown { .. }), "{error:?}");
}

#[test]
fn late_headers_time_out_then_retry() {
    let sandbox = sandbox();
    sandbox.push_action(Action::DelayHeaders(Duration::from_secs(3)));
    let client = client_builder(&sandbox)
        .response_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let call = deposit_call();
    let done = client.execute(&call).unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(
        sandbox.ledger().len(),
        1,
        "the delayed attempt and the retry made two deposits"
    );
}

#[test]
fn slow_body_times_out() {
    let sandbox = sandbox();
    sandbox.push_action(Action::Trickle {
        chunk: 1,
        every: Duration::from_millis(200),
    });
    // The trickle covers the head as well, so the header timeout is what fires first.
    let client = client_builder(&sandbox)
        .response_timeout(Duration::from_secs(1))
        .body_timeout(Duration::from_millis(500))
        .retry_policy(policy().max_error_retries(0))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.execute(&deposit_call()).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1) + MARGIN, "{elapsed:?}");
    assert!(error.may_have_been_performed(), "{error:?}");
}

fn skewed(offset: time::Duration) -> (Duration, Error) {
    let sandbox = sandbox_builder()
        .processing_time(Duration::from_secs(3600))
        .async_lifetime(Duration::from_millis(800))
        .clock_offset(offset)
        .start()
        .unwrap();
    let started = Instant::now();
    let error = client(&sandbox).execute(&deposit_call()).unwrap_err();
    (started.elapsed(), error)
}

#[test]
fn server_clock_ahead_does_not_stretch_wait() {
    let (elapsed, error) = skewed(time::Duration::minutes(5));
    assert!(matches!(error, Error::Expired { .. }), "{error:?}");
    assert!(
        elapsed < Duration::from_millis(800) + MARGIN,
        "waited {elapsed:?}"
    );
}

#[test]
fn server_clock_behind_does_not_end_wait() {
    let (elapsed, error) = skewed(-time::Duration::minutes(5));
    assert!(matches!(error, Error::Expired { .. }), "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(500),
        "gave up at once: {elapsed:?}"
    );
}
