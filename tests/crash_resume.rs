//! Crash resume across processes: the `crash_resume` example starts a deposit and exits, a
//! second run of it finishes the same intention from the state file.
#![cfg(feature = "sandbox")]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;
use depix::sandbox::{Action, Sandbox};

fn run(sandbox: &Sandbox, args: &[&str]) -> Output {
    let output = Command::new(example_binary("crash_resume"))
        .args(args)
        .env("DEPIX_TOKEN", sandbox.token())
        .env("DEPIX_BASE_URL", sandbox.base_url())
        .env_remove("DEPIX_DEPOSIT_CENTS")
        .output()
        .expect("the crash_resume example is built by cargo test");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn deposit_id(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("deposit "))
        .unwrap_or_else(|| panic!("no deposit line in {stdout}"))
        .to_owned()
}

#[test]
fn pending_resumed_by_new_process() {
    let sandbox = busy_sandbox(std::time::Duration::from_millis(200));
    let dir = tempdir();
    let state = dir.join("pending.json");
    let state = state.to_str().unwrap();

    run(&sandbox, &["start", state, "--async"]);
    let stored = std::fs::read_to_string(state).unwrap();
    assert!(stored.contains("\"pending\""), "{stored}");
    assert!(sandbox.ledger().len() <= 1);

    let finished = run(&sandbox, &["finish", state]);
    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(deposit_id(&finished), ledger[0].id);
}

#[test]
fn unknown_outcome_resumed_by_new_process() {
    let sandbox = sandbox();
    sandbox.push_action(Action::ProcessThenClose);
    let dir = tempdir();
    let state = dir.join("unknown.json");
    let state = state.to_str().unwrap();

    let started = run(&sandbox, &["start", state]);
    assert!(String::from_utf8_lossy(&started.stdout).contains("outcome unknown"));
    assert_eq!(
        sandbox.ledger().len(),
        1,
        "the first process's work was recorded"
    );

    let finished = run(&sandbox, &["finish", state]);
    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1, "resuming created a second deposit");
    assert_eq!(deposit_id(&finished), ledger[0].id);
    let nonces: std::collections::HashSet<String> = api_requests(&sandbox)
        .iter()
        .map(|r| r.header("x-nonce").unwrap().to_owned())
        .collect();
    assert_eq!(nonces.len(), 1, "{nonces:?}");
}

/// Creates a fresh folder under the system temporary directory.
fn tempdir() -> PathBuf {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("depix-test-{}", u64::from_le_bytes(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
