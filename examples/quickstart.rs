//! Quick start: the three call modes, a busy call finished by same-nonce re-sends, an async
//! call finished through `urlResponse`, and a deposit status.
//!
//! Without `DEPIX_TOKEN` it runs against a local sandbox on 127.0.0.1 and touches no network.
//! With `DEPIX_TOKEN` set it pings the real API, and creates a deposit only if
//! `DEPIX_DEPOSIT_CENTS` is set too.
//!
//! ```text
//! cargo run --features sandbox --example quickstart
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use depix::sandbox::Sandbox;
use depix::{
    Call, Cents, Client, Completed, Deposit, DepositRequest, Mode, Response, RetryPolicy,
    WaitStrategy,
};

/// Sync window of the sandbox: the real API waits 10 s, scaled down here so the demo is quick.
const WINDOW: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    if std::env::var_os("DEPIX_TOKEN").is_some() {
        return against_real_api();
    }

    let sandbox = Sandbox::builder().sync_window(WINDOW).start()?;
    println!("sandbox API at {}", sandbox.base_url());
    let policy = RetryPolicy::default()
        .server_window(WINDOW)
        .resend_backoff(Duration::from_millis(50), Duration::from_millis(400));
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .token(sandbox.token())
        .no_proxy()
        .response_timeout(Duration::from_secs(5))
        .retry_policy(policy.clone())
        .build()?;
    let poller = Client::builder()
        .base_url(sandbox.base_url())
        .token(sandbox.token())
        .no_proxy()
        .response_timeout(Duration::from_secs(5))
        .retry_policy(policy.wait_strategy(WaitStrategy::Poll))
        .build()?;

    let ping = client.ping()?;
    println!(
        "\nping: {} (partner {:?}, scopes {:?})",
        ping.msg, ping.claims.sub, ping.claims.scope
    );

    println!("\n-- one deposit in each mode --");
    let request = DepositRequest::new(Cents::from_reais("19.99")?);
    for mode in [Mode::Sync, Mode::Auto] {
        let call = Call::deposit(&request)?;
        match client.send(&call, mode)? {
            Response::Ready(deposit) => print_deposit(mode, &call, 1, &deposit),
            Response::Pending(pending) => {
                println!("mode {mode}: pending at {:?}", pending.url_response())
            }
        }
    }

    sandbox.set_processing_time(WINDOW / 2);
    let call = Call::deposit(&request)?;
    let Response::Pending(pending) = client.send(&call, Mode::Async)? else {
        return Err("async mode answered synchronously".into());
    };
    println!(
        "mode async: nonce {} queued, urlResponse {}, expiration {}",
        pending.nonce(),
        pending
            .url_response()
            .map(ToString::to_string)
            .unwrap_or_default(),
        pending.expiration_raw().unwrap_or("none"),
    );
    let stored = serde_json::to_string(&pending)?;
    let restored: depix::Pending<Deposit> = serde_json::from_str(&stored)?;
    let done = poller.wait(&restored)?;
    println!(
        "  stored as JSON, resumed, and finished through urlResponse (GETs without the token: {}): deposit {}",
        done.attempts, done.value.id
    );

    println!("\n-- a busy server: auto mode answers pending, same-nonce re-sends finish it --");
    sandbox.set_processing_time(WINDOW * 5 / 2);
    let call = Call::deposit(&DepositRequest::new(Cents::new(5_000)?))?;
    let done = client.execute(&call)?;
    print_completed(&done);
    let created = sandbox
        .ledger()
        .iter()
        .filter(|entry| entry.nonce == call.nonce().as_str())
        .count();
    println!("  deposits created for nonce {}: {created}", call.nonce());
    sandbox.set_processing_time(Duration::ZERO);

    println!("\n-- deposit status --");
    let info = client.deposit_status(&done.value.id)?;
    println!(
        "deposit {}: status {}, value R$ {}, expires {}",
        info.qr_id,
        info.status,
        info.value_in_cents
            .map(|c| c.to_string())
            .unwrap_or_default(),
        info.expiration.as_deref().unwrap_or("?")
    );

    println!(
        "\nledger: {} deposits, one per nonce",
        sandbox.ledger().len()
    );
    Ok(())
}

fn print_deposit(mode: Mode, call: &Call<Deposit>, attempts: u32, deposit: &Deposit) {
    println!(
        "mode {mode}: nonce {} attempts {attempts} -> deposit {} (copy-paste {}…)",
        call.nonce(),
        deposit.id,
        deposit.qr_copy_paste.chars().take(24).collect::<String>()
    );
}

fn print_completed(done: &Completed<Deposit>) {
    println!(
        "mode auto: nonce {} attempts {} (pending first: {}) -> deposit {}",
        done.nonce, done.attempts, done.was_pending, done.value.id
    );
}

/// Pings the real API; creates a deposit only when `DEPIX_DEPOSIT_CENTS` is set.
fn against_real_api() -> Result<(), Box<dyn Error>> {
    let client = Client::from_env()?;
    println!("using {}", client.base_url());
    let ping = client.ping()?;
    println!(
        "ping: {} (partner {:?}, scopes {:?})",
        ping.msg, ping.claims.sub, ping.claims.scope
    );

    let Ok(cents) = std::env::var("DEPIX_DEPOSIT_CENTS") else {
        println!("DEPIX_DEPOSIT_CENTS is not set: no deposit created");
        return Ok(());
    };
    let amount = Cents::new(cents.trim().parse()?)?;
    let call = Call::deposit(&DepositRequest::new(amount))?;
    println!(
        "creating a deposit of R$ {amount} with nonce {}",
        call.nonce()
    );
    match client.execute(&call) {
        Ok(done) => {
            print_completed(&done);
            println!("  pay with: {}", done.value.qr_copy_paste);
            Ok(())
        }
        Err(error) => {
            if error.may_have_been_performed() {
                eprintln!(
                    "the outcome is unknown: resume with nonce {} before retrying",
                    call.nonce()
                );
            }
            Err(error.into())
        }
    }
}
