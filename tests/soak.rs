//! Exactly-once soak: many deposit intentions from several threads sharing one client, under
//! a seeded random mix of network and server faults. Every intention ends with its deposit
//! or with a typed error carrying its nonce; resuming those with their nonce yields their
//! deposit; the ledger ends with exactly one deposit per intention.
#![cfg(feature = "sandbox")]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use depix::sandbox::{FaultMix, Sandbox};
use depix::{Call, Cents, Client, Deposit, DepositRequest, Error};

/// What one run saw, printed at its end.
#[derive(Debug, Default)]
struct Report {
    intentions: usize,
    completed_first: usize,
    errors_first: HashMap<&'static str, usize>,
    resumes: usize,
    attempts: u64,
    api_requests: usize,
    faults: Vec<(String, u64)>,
    duplicates: usize,
    lost: usize,
    elapsed: Duration,
}

/// How one intention's first run ended: its deposit and attempts, or the error.
type Outcome = Result<(Deposit, u32), Error>;

fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::OutcomeUnknown { .. } => "outcome unknown",
        Error::Decode { .. } => "decode",
        Error::Transport { .. } => "transport",
        Error::RateLimited { .. } => "rate limited",
        Error::Api { .. } => "api",
        Error::Expired { .. } => "expired",
        Error::DeadlineExceeded { .. } => "deadline",
        _ => "other",
    }
}

fn soak(intentions: usize, threads: usize, seed: u64) -> Report {
    let started = Instant::now();
    let sandbox: Sandbox = sandbox_builder()
        .fault_mix(FaultMix::new(seed).rate(0.3))
        .start()
        .unwrap();
    let client: Client = client_with_policy(&sandbox, policy().max_error_retries(2));

    let calls: Vec<Call<Deposit>> = (0..intentions)
        .map(|i| Call::deposit(&DepositRequest::new(Cents::new(100 + i as u64).unwrap())).unwrap())
        .collect();
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for worker in 0..threads {
            let client = client.clone();
            let calls = &calls;
            let results = &results;
            scope.spawn(move || {
                for index in (worker..calls.len()).step_by(threads) {
                    let outcome = client
                        .execute(&calls[index])
                        .map(|done| (done.value, done.attempts));
                    results.lock().unwrap().push((index, outcome));
                }
            });
        }
    });

    let mut report = Report {
        intentions,
        ..Report::default()
    };
    let mut deposits: HashMap<usize, String> = HashMap::new();
    let mut to_resume = Vec::new();
    for (index, outcome) in results.into_inner().unwrap() {
        match outcome {
            Ok((deposit, attempts)) => {
                report.completed_first += 1;
                report.attempts += u64::from(attempts);
                deposits.insert(index, deposit.id);
            }
            Err(error) => {
                assert_eq!(
                    error.nonce(),
                    Some(calls[index].nonce()),
                    "an error without the intention's nonce: {error}"
                );
                *report.errors_first.entry(error_kind(&error)).or_default() += 1;
                to_resume.push(index);
            }
        }
    }

    // The process "restarts": faults stop, and every errored intention resumes with its nonce.
    sandbox.set_fault_mix(None);
    for index in to_resume {
        let done = client
            .execute(&calls[index])
            .expect("a resumed intention completes");
        report.resumes += 1;
        report.attempts += u64::from(done.attempts);
        deposits.insert(index, done.value.id);
    }

    let ledger = sandbox.ledger();
    let mut per_nonce: HashMap<&str, usize> = HashMap::new();
    for entry in &ledger {
        *per_nonce.entry(entry.nonce.as_str()).or_default() += 1;
    }
    report.duplicates = per_nonce
        .values()
        .filter(|count| **count > 1)
        .map(|count| count - 1)
        .sum();
    let by_nonce: HashMap<&str, &str> = ledger
        .iter()
        .map(|e| (e.nonce.as_str(), e.id.as_str()))
        .collect();
    report.lost = calls
        .iter()
        .enumerate()
        .filter(|(index, call)| {
            by_nonce.get(call.nonce().as_str()).copied() != deposits.get(index).map(String::as_str)
        })
        .count();
    report.api_requests = api_requests(&sandbox).len();
    report.faults = sandbox
        .fault_counts()
        .into_iter()
        .map(|(kind, count)| (format!("{kind:?}"), count))
        .collect();
    report.elapsed = started.elapsed();

    print_report(&report);
    assert_eq!(ledger.len(), intentions, "ledger size");
    let nonces: HashSet<&str> = ledger.iter().map(|e| e.nonce.as_str()).collect();
    assert_eq!(nonces.len(), intentions, "one deposit per nonce");
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.lost, 0);
    assert!(
        report.faults.iter().map(|(_, n)| n).sum::<u64>() > 0,
        "no fault was injected"
    );
    report
}

fn print_report(report: &Report) {
    let faults: Vec<String> = report
        .faults
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    let injected: u64 = report.faults.iter().map(|(_, count)| count).sum();
    println!(
        "soak: {} intentions in {:.1?}",
        report.intentions, report.elapsed
    );
    println!(
        "  completed at first {}, errors at first {:?}, resumed {}",
        report.completed_first, report.errors_first, report.resumes
    );
    println!(
        "  attempts of calls that completed {}, API requests seen by the sandbox {}",
        report.attempts, report.api_requests
    );
    println!("  faults injected {injected}: {}", faults.join(", "));
    println!("  duplicates {}, lost {}", report.duplicates, report.lost);
}

#[test]
fn soak_short() {
    soak(200, 4, 7);
}

#[test]
#[ignore = "long soak of 2,000 intentions, about 30 s; run with --ignored"]
fn soak_long() {
    soak(2_000, 8, 20_261_204);
}
