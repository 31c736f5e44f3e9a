//! Constructors of common scripted responses, and the body of [`Action::Oversized`].

use std::io::{self, Write};

use serde_json::json;
use time::OffsetDateTime;

use super::Action;
use super::format::http_date;

/// Start and end of the [`Action::Oversized`] body, around the `x` padding.
const OVERSIZED_PREFIX: &[u8] = br#"{"response":{"padding":""#;
const OVERSIZED_SUFFIX: &[u8] = br#""},"async":false}"#;
/// Largest piece of an [`Action::Oversized`] body written at once.
const OVERSIZED_PIECE: usize = 64 * 1024;

impl Action {
    /// Builds an [`Action::Respond`] with an HTML body and
    /// `Content-Type: text/html; charset=utf-8`, as a proxy's error page.
    pub fn html(status: u16, html_body: impl Into<String>) -> Action {
        Action::Respond {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: html_body.into().into_bytes(),
        }
    }

    /// Builds an [`Action::Respond`] with an empty body (`Content-Length: 0`) and no other
    /// header.
    pub fn empty(status: u16) -> Action {
        Action::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Builds an [`Action::Respond`] with `Retry-After: <seconds>` and a JSON error envelope
    /// body, `{"response": {"errorMessage": "..."}, "async": false}`.
    pub fn retry_after_seconds(status: u16, seconds: u64) -> Action {
        let message = format!("try again in {seconds} s");
        retry_after(status, seconds.to_string(), &message)
    }

    /// Builds an [`Action::Respond`] with `Retry-After: <at>` as an IMF-fixdate (for example
    /// `Fri, 04 Dec 2026 20:35:41 GMT`, subseconds dropped) and a JSON error envelope body.
    ///
    /// The response has no `Date` header, because the action is built before the request
    /// arrives. A client that needs the server's time must take it from another response.
    pub fn retry_after_date(status: u16, at: OffsetDateTime) -> Action {
        let date = http_date(at);
        let message = format!("try again after {date}");
        retry_after(status, date, &message)
    }

    /// Builds an [`Action::Oversized`]: a response with this status,
    /// `Content-Type: application/json` and a body of exactly `bytes` bytes.
    ///
    /// The body is `{"response":{"padding":"xxx…"},"async":false}` with as many `x` as make
    /// up the length, so it is valid JSON from 41 bytes up. A shorter body is the first
    /// `bytes` bytes of `{"response":{"padding":""},"async":false}`, which is not valid JSON.
    pub fn oversized(status: u16, bytes: usize) -> Action {
        Action::Oversized { status, bytes }
    }
}

fn retry_after(status: u16, value: String, message: &str) -> Action {
    let body = json!({ "response": { "errorMessage": message }, "async": false });
    Action::Respond {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Retry-After".into(), value),
        ],
        body: serde_json::to_vec(&body).expect("serializing a JSON value cannot fail"),
    }
}

/// Writes the [`Action::Oversized`] body of `bytes` bytes in pieces of at most 64 KiB,
/// stopping early without an error when `stop` returns true between two pieces.
pub(crate) fn write_oversized_body(
    out: &mut impl Write,
    bytes: usize,
    stop: impl Fn() -> bool,
) -> io::Result<()> {
    let frame = OVERSIZED_PREFIX.len() + OVERSIZED_SUFFIX.len();
    if bytes < frame {
        let short = [OVERSIZED_PREFIX, OVERSIZED_SUFFIX].concat();
        out.write_all(&short[..bytes])?;
        return out.flush();
    }
    out.write_all(OVERSIZED_PREFIX)?;
    let padding = [b'x'; OVERSIZED_PIECE];
    let mut left = bytes - frame;
    while left > 0 {
        if stop() {
            return Ok(());
        }
        let piece = left.min(OVERSIZED_PIECE);
        out.write_all(&padding[..piece])?;
        left -= piece;
    }
    out.write_all(OVERSIZED_SUFFIX)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: usize) -> Vec<u8> {
        let mut out = Vec::new();
        write_oversized_body(&mut out, bytes, || false).expect("writing to a Vec");
        out
    }

    #[test]
    fn oversized_body_has_exact_length_and_is_json() {
        for bytes in [41, 42, OVERSIZED_PIECE + 100, 3 * OVERSIZED_PIECE] {
            let out = body(bytes);
            assert_eq!(out.len(), bytes);
            let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            assert_eq!(value["async"], false);
        }
    }

    #[test]
    fn short_oversized_body_is_a_prefix() {
        assert_eq!(body(0), b"");
        assert_eq!(body(5), br#"{"res"#);
        assert_eq!(body(40).len(), 40);
    }
}
