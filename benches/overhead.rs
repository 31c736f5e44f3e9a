//! Side-by-side measurements on the loopback sandbox, reported as ratios from one run:
//! the client's cost over a raw ureq + serde_json call, connection reuse, and how many
//! requests and how much delay a pending result costs with each wait strategy.
//!
//! ```text
//! cargo bench --features sandbox --bench overhead
//! ```

use std::collections::HashSet;
use std::time::{Duration, Instant};

use depix::sandbox::{Listener, Sandbox};
use depix::{Call, Client, Ping, RetryPolicy, WaitStrategy};

const ROUNDS: usize = 15;
const CALLS_PER_ROUND: usize = 200;

fn main() {
    overhead();
    pending_delivery();
}

/// Times rounds of pings through the client and through raw ureq, interleaved so both see
/// the same machine load, and prints the median ratio.
fn overhead() {
    let sandbox = Sandbox::builder().start().expect("sandbox starts");
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .token(sandbox.token())
        .build()
        .expect("client builds");
    let raw: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = format!("{}ping", sandbox.base_url());
    let authorization = format!("Bearer {}", sandbox.token());

    let mut client_times = Vec::new();
    let mut raw_times = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..CALLS_PER_ROUND {
            let ping = client.ping().expect("ping");
            assert!(ping.is_pong());
        }
        client_times.push(started.elapsed());

        let started = Instant::now();
        for index in 0..CALLS_PER_ROUND {
            let mut response = raw
                .get(&url)
                .header("Authorization", &authorization)
                .header(
                    "X-Nonce",
                    format!("raw-{index}-{}", started.elapsed().as_nanos()),
                )
                .header("X-Async", "auto")
                .call()
                .expect("raw ping");
            let body = response.body_mut().read_to_vec().expect("body");
            let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
            let ping: Ping = serde_json::from_value(value["response"].clone()).expect("ping");
            assert!(ping.is_pong());
        }
        raw_times.push(started.elapsed());
    }

    let client_median = median(&mut client_times) / CALLS_PER_ROUND as u32;
    let raw_median = median(&mut raw_times) / CALLS_PER_ROUND as u32;
    let connections: HashSet<u64> = sandbox
        .requests()
        .iter()
        .filter(|r| {
            r.listener == Listener::Api
                && r.header("x-nonce").is_some_and(|n| !n.starts_with("raw-"))
        })
        .map(|r| r.connection)
        .collect();
    println!("ping on loopback, {ROUNDS} rounds of {CALLS_PER_ROUND} calls, medians per call:");
    println!("  depix client    {client_median:?}");
    println!("  raw ureq + json {raw_median:?}");
    println!(
        "  ratio client/raw {:.3}",
        client_median.as_secs_f64() / raw_median.as_secs_f64()
    );
    println!(
        "  TCP connections used by the client for {} calls: {}",
        ROUNDS * CALLS_PER_ROUND,
        connections.len()
    );
}

/// Measures, for each wait strategy, the requests and the delay between the moment the work
/// is done and the moment the caller has it.
fn pending_delivery() {
    let window = Duration::from_millis(500);
    let processing = Duration::from_millis(1700);
    println!(
        "\npending result, sandbox window {window:?}, work takes {processing:?} (scaled 1:20 from 10 s):"
    );
    for strategy in [WaitStrategy::Resend, WaitStrategy::Poll] {
        let sandbox = Sandbox::builder()
            .sync_window(window)
            .processing_time(processing)
            .start()
            .expect("sandbox starts");
        let scale = |d: Duration| d / 20;
        let policy = RetryPolicy::default()
            .server_window(window)
            .resend_backoff(
                scale(Duration::from_millis(500)),
                scale(Duration::from_secs(8)),
            )
            .poll_backoff(
                scale(Duration::from_millis(250)),
                scale(Duration::from_secs(5)),
            )
            .floor(scale(Duration::from_millis(100)))
            .wait_strategy(strategy);
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .token(sandbox.token())
            .retry_policy(policy)
            .response_timeout(Duration::from_secs(5))
            .build()
            .expect("client builds");
        let mut late = Vec::new();
        let mut requests = 0;
        const CALLS: usize = 5;
        for _ in 0..CALLS {
            let before = sandbox.requests().len();
            let call = Call::ping();
            let started = Instant::now();
            client.execute(&call).expect("ping");
            late.push(started.elapsed().saturating_sub(processing));
            requests += sandbox.requests().len() - before;
        }
        println!(
            "  {strategy:?}: {:.1} requests per call, result delivered a median {:?} after it was ready",
            requests as f64 / CALLS as f64,
            median(&mut late)
        );
    }
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}
