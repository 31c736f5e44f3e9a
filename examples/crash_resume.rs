//! Crash and resume: one process starts a deposit and exits, another finishes it from a
//! state file, with the same nonce and no second deposit.
//!
//! ```text
//! DEPIX_TOKEN=… DEPIX_BASE_URL=… cargo run --example crash_resume -- start state.json [--async]
//! DEPIX_TOKEN=… DEPIX_BASE_URL=… cargo run --example crash_resume -- finish state.json
//! ```
//!
//! `start` sends one exchange and stores what it needs to resume: the [`depix::Pending`]
//! when the server queued the work, or the request (nonce and body) when the outcome is
//! unknown. `finish` reads the file and drives the same intention to its deposit. Both
//! create a real deposit when pointed at the real API; the crate's tests run them against
//! the sandbox. `DEPIX_DEPOSIT_CENTS` sets the amount (default 100).

use std::error::Error;
use std::process::ExitCode;

use depix::{Call, Cents, Client, Deposit, DepositRequest, Mode, Pending, Request, Response};
use serde::{Deserialize, Serialize};

/// State a crashed process leaves behind.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    /// The server queued the work.
    Pending(Pending<Deposit>),
    /// The request may or may not have reached the server.
    Unknown(Request),
    /// The deposit was created at once.
    Done { id: String },
}

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, path) = match args.as_slice() {
        [command, path, ..] => (command.as_str(), path.as_str()),
        _ => return Err("usage: crash_resume start|finish STATE_FILE [--async]".into()),
    };
    let client = Client::from_env()?;
    match command {
        "start" => start(&client, path, args.iter().any(|a| a == "--async")),
        "finish" => finish(&client, path),
        other => Err(format!("unknown command {other:?}; expected start or finish").into()),
    }
}

/// Sends one exchange, stores the state, and exits without waiting, as a crash would.
fn start(client: &Client, path: &str, queue: bool) -> Result<(), Box<dyn Error>> {
    let cents = std::env::var("DEPIX_DEPOSIT_CENTS").unwrap_or_else(|_| "100".to_owned());
    let amount = Cents::new(cents.trim().parse()?)?;
    let call = Call::deposit(&DepositRequest::new(amount))?;
    let mode = if queue { Mode::Async } else { Mode::Auto };
    let state = match client.send(&call, mode) {
        Ok(Response::Ready(deposit)) => State::Done { id: deposit.id },
        Ok(Response::Pending(pending)) => State::Pending(pending),
        Err(error) if error.may_have_been_performed() => {
            println!("outcome unknown: {error}");
            State::Unknown(call.request().clone())
        }
        Err(error) => return Err(error.into()),
    };
    std::fs::write(path, serde_json::to_vec_pretty(&state)?)?;
    println!("started nonce {}; state stored in {path}", call.nonce());
    Ok(())
}

/// Reads the state and finishes the same intention.
fn finish(client: &Client, path: &str) -> Result<(), Box<dyn Error>> {
    let state: State = serde_json::from_slice(&std::fs::read(path)?)?;
    let id = match state {
        State::Done { id } => id,
        State::Pending(pending) => {
            println!("resuming pending nonce {}", pending.nonce());
            client.wait(&pending)?.value.id
        }
        State::Unknown(request) => {
            println!("resuming nonce {} with an unknown outcome", request.nonce());
            client
                .execute(&Call::<Deposit>::from_request(request))?
                .value
                .id
        }
    };
    println!("deposit {id}");
    Ok(())
}
