//! Secret hygiene: the token and the urlResponse signature never reach a log line, `Debug`,
//! `Display` or an error message, with logging at trace level for this crate and the sandbox.
//!
//! ureq 3.5 prints the full request path and query (so a urlResponse signature) when its own
//! `ureq::util` target is enabled at trace level, so the capture keeps ureq at debug, as an
//! application that cares about the signature must. Headers, `Authorization` included, are
//! redacted by ureq at every level.
#![cfg(feature = "sandbox")]

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest, Mode, Response, WaitStrategy};

/// Collects every log record of the process.
struct Capture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug || !metadata.target().starts_with("ureq")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !log::Log::enabled(self, record.metadata()) {
            return;
        }
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.lines.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture {
    lines: Mutex::new(Vec::new()),
};

const TOKEN: &str = "tok-3f9c1e7a-very-secret-bearer";
const WEBHOOK_SECRET: &str = "whsec-5d1b9e0c4a7f2e68-secret";

/// Starts a sandbox that delivers a deposit webhook with the secret to a loopback receiver,
/// and returns it once the delivery is done.
fn webhook_sandbox() -> depix::sandbox::Sandbox {
    let receiver = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", receiver.server_addr().to_ip().unwrap());
    let sandbox = sandbox_builder()
        .webhook(url, WEBHOOK_SECRET)
        .start()
        .unwrap();
    let handle = std::thread::spawn(move || {
        let request = receiver.recv().unwrap();
        let secret = depix::webhook::WebhookSecret::new(WEBHOOK_SECRET).unwrap();
        let authorization = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.to_string());
        assert!(secret.verify(authorization.as_deref()));
        request.respond(tiny_http::Response::empty(200)).unwrap();
    });
    let deposit = client(&sandbox)
        .deposit(&DepositRequest::new(Cents::new(100).unwrap()))
        .unwrap();
    sandbox.pay_deposit(&deposit.id);
    handle.join().unwrap();
    sandbox
}

#[test]
fn no_secret_in_logs_debug_or_errors() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let sandbox = sandbox_builder()
        .token(TOKEN)
        .processing_time(WINDOW * 2)
        .start()
        .unwrap();
    let poll = client_with_policy(&sandbox, policy().wait_strategy(WaitStrategy::Poll));
    let resend = client(&sandbox);
    let mut texts = vec![format!("{poll:?}"), format!("{resend:?}")];

    // Successful calls in every mode, both wait strategies.
    let request = DepositRequest::new(Cents::new(100).unwrap());
    texts.push(format!(
        "{:?}",
        poll.execute(&Call::deposit(&request).unwrap()).unwrap()
    ));
    texts.push(format!(
        "{:?}",
        resend.execute(&Call::deposit(&request).unwrap()).unwrap()
    ));
    let call = Call::deposit(&request).unwrap();
    let Response::Pending(pending) = resend.send(&call, Mode::Async).unwrap() else {
        panic!("async mode answered ready");
    };
    let signature = pending
        .url_response()
        .unwrap()
        .as_str()
        .split("sig=")
        .nth(1)
        .unwrap()
        .to_owned();
    texts.push(format!("{pending:?}"));
    texts.push(serde_json::to_string(pending.request()).unwrap());
    texts.push(format!("{:?}", poll.wait(&pending).unwrap()));

    // Failures: wrong token, expiry with a signed URL, transport errors, rate limits.
    let wrong = client_builder(&sandbox)
        .token("wrong-token")
        .build()
        .unwrap();
    let error = wrong.ping().unwrap_err();
    texts.push(format!("{error} {error:?}"));
    sandbox.set_processing_time(Duration::from_secs(3600));
    let short = client_builder(&sandbox)
        .retry_policy(
            policy()
                .wait_strategy(WaitStrategy::Poll)
                .deadline(Some(Duration::from_millis(300))),
        )
        .build()
        .unwrap();
    let error = short
        .execute(&Call::deposit(&request).unwrap())
        .unwrap_err();
    texts.push(format!("{error} {error:?}"));
    sandbox.push_action(Action::ProcessThenClose);
    sandbox.push_action(Action::json(
        429,
        serde_json::json!({"response": {"errorMessage": "slow"}, "async": false}),
    ));
    let error = resend.send(&Call::ping(), Mode::Auto).unwrap_err();
    texts.push(format!("{error} {error:?}"));
    let error = resend.send(&Call::ping(), Mode::Auto).unwrap_err();
    texts.push(format!("{error} {error:?}"));

    // Every other endpoint, and a webhook delivered with its secret.
    sandbox.set_processing_time(Duration::ZERO);
    let deposit = resend.deposit(&request).unwrap();
    texts.push(format!("{:?}", resend.deposit_status(&deposit.id).unwrap()));
    let now = time::OffsetDateTime::now_utc();
    let query = depix::DepositsQuery::new(now - time::Duration::HOUR, now + time::Duration::HOUR);
    texts.push(format!("{:?}", resend.deposits(&query).unwrap()));
    texts.push(format!(
        "{:?}",
        resend.user_info("EU000000000000000").unwrap()
    ));
    let withdraw =
        depix::WithdrawRequest::new("k", depix::WithdrawAmount::Payout(Cents::new(500).unwrap()));
    let withdrawal = resend.withdraw(&withdraw).unwrap();
    texts.push(format!(
        "{:?}",
        resend.withdraw_status(&withdrawal.withdrawal_id).unwrap()
    ));
    let secret = depix::webhook::WebhookSecret::new(WEBHOOK_SECRET).unwrap();
    texts.push(format!("{secret:?}"));
    texts.push(format!("{:?}", webhook_sandbox()));

    let lines = CAPTURE.lines.lock().unwrap().clone();
    assert!(
        !lines.is_empty(),
        "nothing was logged, the capture is not working"
    );
    for text in lines.iter().chain(texts.iter()) {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(
            !text.contains(&signature),
            "urlResponse signature leaked: {text}"
        );
    }
}
