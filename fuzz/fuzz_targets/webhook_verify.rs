//! Builds a webhook secret and checks an `Authorization` header against it, both taken from
//! the input: the bytes before the first NUL are the secret and the bytes after it are the
//! header. Without a NUL the whole input is the secret and the header is missing.
//!
//! Beyond not panicking, it checks the documented contract. `new` accepts exactly the secrets
//! of 16 or more characters without control characters or surrounding whitespace.
//! `Basic <secret>` verifies with any scheme case and surrounding whitespace, and a
//! `user:password` secret also verifies as padded base64. One extra character, a missing
//! scheme or a missing header does not verify.

#![no_main]

use depix::webhook::WebhookSecret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (secret_bytes, header_bytes) = match data.iter().position(|&byte| byte == 0) {
        Some(index) => (&data[..index], Some(&data[index + 1..])),
        None => (data, None),
    };
    let Ok(secret_text) = std::str::from_utf8(secret_bytes) else {
        return;
    };
    let header = match header_bytes.map(std::str::from_utf8) {
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => return,
        None => None,
    };

    let expected_valid = secret_text.chars().count() >= WebhookSecret::MIN_CHARS
        && secret_text.trim() == secret_text
        && !secret_text.chars().any(char::is_control);
    let secret = match WebhookSecret::new(secret_text) {
        Ok(secret) => secret,
        Err(error) => {
            assert!(!expected_valid, "valid secret rejected: {error}");
            return;
        }
    };
    assert!(expected_valid, "invalid secret accepted");

    let _ = secret.verify(header);

    assert!(secret.verify(Some(&format!("Basic {secret_text}"))));
    assert!(secret.verify(Some(&format!(" bAsIc \t {secret_text}\t "))));
    assert!(!secret.verify(Some(&format!("Basic {secret_text}x"))));
    assert!(!secret.verify(Some(secret_text)));
    assert!(!secret.verify(None));
    assert!(!secret.verify(Some("")));
    if secret_text.contains(':') {
        let encoded = encode_base64(secret_text.as_bytes());
        assert!(secret.verify(Some(&format!("Basic {encoded}"))));
    }
});

/// Encodes bytes as padded standard base64 (RFC 4648, section 4), written here so the check
/// does not reuse the crate's own encoder.
fn encode_base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut output = String::new();
    for chunk in input.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for position in 0..4 {
            if position <= chunk.len() {
                let sextet = (bits >> (18 - 6 * position)) & 0x3f;
                output.push(char::from(ALPHABET[sextet as usize]));
            } else {
                output.push('=');
            }
        }
    }
    output
}
