//! Log lines of the retry loop: one per retry and give-up with nonce and attempt, and a
//! handled error logged once with its repeats counted.
#![cfg(feature = "sandbox")]

mod common;

use std::sync::Mutex;

use common::*;
use depix::sandbox::Action;
use depix::{Call, Cents, DepositRequest};

struct Capture {
    lines: Mutex<Vec<(log::Level, String)>>,
}

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("depix")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = record.args().to_string();
            self.lines.lock().unwrap().push((record.level(), line));
        }
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture {
    lines: Mutex::new(Vec::new()),
};

#[test]
fn repeated_error_is_logged_once_with_count() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Debug);

    let sandbox = sandbox();
    for _ in 0..3 {
        sandbox.push_action(Action::Close);
    }
    let call = Call::deposit(&DepositRequest::new(Cents::new(100).unwrap())).unwrap();
    let done = client(&sandbox).execute(&call).unwrap();
    assert_eq!(done.attempts, 4);

    let nonce = call.nonce().to_string();
    let lines: Vec<(log::Level, String)> = CAPTURE
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, line)| line.contains(&nonce))
        .cloned()
        .collect();
    let warnings: Vec<&String> = lines
        .iter()
        .filter(|(level, _)| *level == log::Level::Warn)
        .map(|(_, line)| line)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].contains("attempt 1 failed, retrying"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("repeated 2 more times"),
        "{}",
        warnings[1]
    );

    let retries = lines
        .iter()
        .filter(|(_, line)| line.contains("re-sending in"))
        .count();
    assert_eq!(retries, 3, "{lines:#?}");
    for attempt in 1..=3 {
        let tag = format!("attempt {attempt} ");
        assert!(
            lines.iter().any(|(_, line)| line.contains(&tag)),
            "no line for {tag}"
        );
    }
}
