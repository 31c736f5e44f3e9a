//! Inputs of the fuzz targets in `fuzz/`, replayed through the same entry points so the main
//! test suite catches a regression without a nightly toolchain or cargo-fuzz. A minimised
//! crash input from a fuzz run belongs here as its own test.

use std::fs;
use std::path::PathBuf;

use depix::webhook::{Event, WebhookSecret};
use depix::{Cents, Nonce, SplitFee};

/// Returns the contents of every file in `fuzz/seeds/<target>`, with the file names.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let entries = fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("failed to list {}: {error}", folder.display()));
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.expect("failed to read a seed entry").path();
        let bytes = fs::read(&path)
            .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()));
        files.push((path.display().to_string(), bytes));
    }
    assert!(!files.is_empty(), "no seeds in {}", folder.display());
    files
}

/// Splits a decoder input as the fuzz targets do: a big-endian status, then the body.
fn split_status(input: &[u8]) -> (u16, &[u8]) {
    let (status, body) = input
        .split_first_chunk::<2>()
        .expect("decoder seeds start with a two-byte status");
    (u16::from_be_bytes(*status), body)
}

#[test]
fn decode_api_seeds_return() {
    for (_, input) in seeds("decode_api") {
        let (status, body) = split_status(&input);
        depix::fuzzing::decode_api(status, body);
    }
}

#[test]
fn decode_result_seeds_return() {
    for (_, input) in seeds("decode_result") {
        let (status, body) = split_status(&input);
        depix::fuzzing::decode_result(status, body);
    }
}

#[test]
fn webhook_event_seeds_decode() {
    for (name, input) in seeds("webhook_event") {
        let event = Event::from_slice(&input);
        assert!(event.is_ok(), "{name}: {event:?}");
    }
}

#[test]
fn webhook_verify_seeds_verify() {
    for (name, input) in seeds("webhook_verify") {
        let text = String::from_utf8(input).expect("seed is UTF-8");
        let (secret, header) = text.split_once('\0').expect("seed has a NUL separator");
        let secret = WebhookSecret::new(secret).expect("seed secret is valid");
        assert!(secret.verify(Some(header)), "{name}");
    }
}

#[test]
fn retry_after_seeds_return() {
    for (_, input) in seeds("retry_after") {
        let value = String::from_utf8(input).expect("seed is UTF-8");
        depix::fuzzing::parse_retry_after(&value);
    }
}

#[test]
fn text_parser_seeds_round_trip() {
    let reais = Cents::from_reais("19.99").expect("19.99 parses");
    assert_eq!(Cents::from_reais(&reais.to_string()), Ok(reais));

    let fee: SplitFee = "2.99%".parse().expect("2.99% parses");
    assert_eq!(fee.to_string().parse::<SplitFee>(), Ok(fee));

    for (name, input) in seeds("text_parsers") {
        let text = String::from_utf8(input).expect("seed is UTF-8");
        let parsed = [
            Cents::from_reais(&text).is_ok(),
            text.parse::<SplitFee>().is_ok(),
            text.parse::<Nonce>().is_ok(),
        ];
        assert!(parsed.contains(&true), "{name}: no parser accepts {text:?}");
    }
}
