//! Shared set-up for the integration tests: a sandbox scaled to milliseconds and a client
//! whose retry schedule is scaled the same way.
#![allow(dead_code)]

use std::time::Duration;

use depix::sandbox::{Listener, RecordedRequest, Sandbox, SandboxBuilder};
use depix::{Client, ClientBuilder, RetryPolicy};

/// Sync window of test sandboxes: short, so tests run fast, but well above scheduling noise.
pub const WINDOW: Duration = Duration::from_millis(300);

/// Returns a sandbox builder with the test window and no processing time.
pub fn sandbox_builder() -> SandboxBuilder {
    Sandbox::builder().sync_window(WINDOW)
}

pub fn sandbox() -> Sandbox {
    sandbox_builder().start().expect("sandbox starts")
}

/// Returns the default retry schedule scaled down about fifty times.
pub fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .server_window(WINDOW)
        .floor(Duration::from_millis(5))
        .resend_backoff(Duration::from_millis(10), Duration::from_millis(160))
        .poll_backoff(Duration::from_millis(5), Duration::from_millis(100))
}

/// Returns a client builder pointed at the sandbox, ignoring proxy variables.
pub fn client_builder(sandbox: &Sandbox) -> ClientBuilder {
    Client::builder()
        .base_url(sandbox.base_url())
        .token(sandbox.token())
        .no_proxy()
        .retry_policy(policy())
        .response_timeout(Duration::from_secs(5))
}

pub fn client(sandbox: &Sandbox) -> Client {
    client_builder(sandbox).build().expect("client builds")
}

/// Requests the sandbox's API listener received.
pub fn api_requests(sandbox: &Sandbox) -> Vec<RecordedRequest> {
    sandbox
        .requests()
        .into_iter()
        .filter(|request| request.listener == Listener::Api)
        .collect()
}

/// Requests the sandbox's `urlResponse` listener received.
pub fn result_requests(sandbox: &Sandbox) -> Vec<RecordedRequest> {
    sandbox
        .requests()
        .into_iter()
        .filter(|request| request.listener == Listener::Results)
        .collect()
}

/// Returns the path of an example binary, which `cargo test` builds next to the test
/// binaries.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Starts a sandbox with the test window whose jobs take `processing` to finish.
pub fn busy_sandbox(processing: Duration) -> Sandbox {
    sandbox_builder()
        .processing_time(processing)
        .start()
        .expect("sandbox starts")
}

/// Builds a client for the sandbox with its own retry policy.
pub fn client_with_policy(sandbox: &Sandbox, policy: RetryPolicy) -> Client {
    client_builder(sandbox)
        .retry_policy(policy)
        .build()
        .expect("client builds")
}
