//! Pure decoding of one HTTP response into an [`Outcome`]: no I/O, no clock reads.
//!
//! The API wraps results as `{"response": T, "async": false}`, errors as
//! `{"response": {"errorMessage": "…"}, "async": false}` and queued work as
//! `{"async": true, "urlResponse": URL, "expiration": RFC3339}`. The document at `urlResponse`
//! is the bare `T` or a bare `{"errorMessage": "…"}`.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::secret::ResultUrl;

/// Maximum length of the body excerpt kept in errors, in characters.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// Parts of one HTTP response that decoding reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<String>,
    pub date: Option<String>,
    /// The `X-Nonce` response header: the server's echo of the request's nonce.
    pub nonce: Option<String>,
    pub body: Vec<u8>,
}

/// Meaning of one response for the call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome<T> {
    /// The result.
    Ready(T),
    /// The server queued the work (`"async": true`).
    Pending(AsyncReply),
    /// The result is not at `urlResponse` yet (404 or 403 there).
    NotReady { status: u16 },
    /// An error envelope or error status with a JSON body.
    Api {
        status: u16,
        message: Option<String>,
    },
    /// HTTP 503, 502, 504 or 408: the server or a gateway could not answer now.
    Unavailable {
        status: u16,
        message: Option<String>,
        retry_after: Option<String>,
    },
    /// HTTP 429.
    RateLimited {
        status: u16,
        message: Option<String>,
        retry_after: Option<String>,
    },
    /// The body is not the JSON expected.
    Decode {
        status: u16,
        reason: String,
        snippet: String,
    },
}

/// The fields of an async answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AsyncReply {
    pub url_response: Option<ResultUrl>,
    /// `expiration` exactly as sent.
    pub expiration_raw: Option<String>,
    /// `expiration` parsed as RFC 3339; `None` when missing or unparsable.
    pub expiration: Option<OffsetDateTime>,
}

/// Top-level keys of any API document; unknown keys are ignored.
#[derive(Deserialize)]
struct TopLevel<'a> {
    #[serde(borrow, default)]
    response: Option<&'a RawValue>,
    #[serde(rename = "async", default)]
    is_async: Option<bool>,
    #[serde(rename = "urlResponse", default)]
    url_response: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(rename = "errorMessage", default, deserialize_with = "present")]
    error_message: Option<serde_json::Value>,
}

/// Keys looked for inside `response` to tell an error from a result.
#[derive(Deserialize)]
struct ErrorProbe {
    #[serde(rename = "errorMessage", default, deserialize_with = "present")]
    error_message: Option<serde_json::Value>,
}

/// Maps a present key to `Some`, even when its value is `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Turns an `errorMessage` value into text; `null` gives `None`.
fn message_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// Decodes an answer from the API's own origin.
pub(crate) fn decode_api<T: DeserializeOwned>(answer: &RawAnswer) -> Outcome<T> {
    decode(answer, Origin::Api)
}

/// Decodes an answer from the `urlResponse` origin.
pub(crate) fn decode_result<T: DeserializeOwned>(answer: &RawAnswer) -> Outcome<T> {
    decode(answer, Origin::ResultUrl)
}

#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Api,
    ResultUrl,
}

fn decode<T: DeserializeOwned>(answer: &RawAnswer, origin: Origin) -> Outcome<T> {
    let status = answer.status;
    if origin == Origin::ResultUrl && matches!(status, 403 | 404) {
        return Outcome::NotReady { status };
    }

    if (200..300).contains(&status) && starts_with_byte(&answer.body, b'[') {
        // A bare JSON array: some list endpoints are documented without the envelope.
        return decode_value(answer, &answer.body);
    }
    let top: Option<TopLevel<'_>> = serde_json::from_slice(&answer.body).ok();
    let message = top.as_ref().and_then(|top| error_message_of(top));

    if status == 429 {
        return Outcome::RateLimited {
            status,
            message: message.flatten(),
            retry_after: answer.retry_after.clone(),
        };
    }
    if matches!(status, 408 | 502 | 503 | 504) {
        return Outcome::Unavailable {
            status,
            message: message.flatten(),
            retry_after: answer.retry_after.clone(),
        };
    }

    let Some(top) = top else {
        return not_json(answer);
    };
    if let Some(message) = message {
        return Outcome::Api { status, message };
    }
    if !(200..300).contains(&status) {
        if origin == Origin::ResultUrl {
            return decode_error(
                answer,
                format!("unexpected HTTP status {status} from urlResponse"),
            );
        }
        return Outcome::Api {
            status,
            message: None,
        };
    }

    if top.is_async == Some(true) {
        if origin == Origin::ResultUrl {
            return Outcome::NotReady { status };
        }
        return Outcome::Pending(async_reply(top));
    }
    let inner = match top.response {
        Some(raw) => raw.get().as_bytes(),
        None => answer.body.as_slice(),
    };
    decode_value(answer, inner)
}

/// Decodes the result document itself.
fn decode_value<T: DeserializeOwned>(answer: &RawAnswer, document: &[u8]) -> Outcome<T> {
    match serde_json::from_slice::<T>(document) {
        Ok(value) => Outcome::Ready(value),
        Err(error) => decode_error(
            answer,
            format!(
                "JSON does not match {}: {error}",
                short_type_name(std::any::type_name::<T>())
            ),
        ),
    }
}

/// Tells whether the first non-whitespace byte is `byte`.
fn starts_with_byte(body: &[u8], byte: u8) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&byte)
}

/// Finds `errorMessage` inside `response` or at the top level: `Some(None)` for `null`.
fn error_message_of(top: &TopLevel<'_>) -> Option<Option<String>> {
    if let Some(value) = &top.error_message {
        return Some(message_text(value.clone()));
    }
    let raw = top.response?;
    if !raw.get().trim_start().starts_with('{') {
        return None;
    }
    let probe: ErrorProbe = serde_json::from_str(raw.get()).ok()?;
    probe.error_message.map(message_text)
}

fn async_reply(top: TopLevel<'_>) -> AsyncReply {
    let expiration = top
        .expiration
        .as_deref()
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok());
    AsyncReply {
        url_response: top.url_response.map(ResultUrl::new),
        expiration_raw: top.expiration,
        expiration,
    }
}

fn not_json<T>(answer: &RawAnswer) -> Outcome<T> {
    let reason = if answer.body.is_empty() {
        "the body is empty, not JSON".to_owned()
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&answer.body).is_err() {
        "the body is not valid JSON".to_owned()
    } else {
        "the body is JSON but not an object".to_owned()
    };
    decode_error(answer, reason)
}

fn decode_error<T>(answer: &RawAnswer, reason: String) -> Outcome<T> {
    Outcome::Decode {
        status: answer.status,
        reason,
        snippet: snippet(&answer.body),
    }
}

/// Returns the first characters of a body as printable text.
pub(crate) fn snippet(body: &[u8]) -> String {
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    String::from_utf8_lossy(head)
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Drops module paths from a type name (`depix::api::deposit::Deposit` becomes `Deposit`).
fn short_type_name(name: &str) -> &str {
    let base = name.split('<').next().unwrap_or(name);
    base.rsplit("::").next().unwrap_or(base)
}

/// Parses a `Retry-After` value: delay seconds (`"2"`) or an HTTP date.
///
/// A date in the past gives zero. Anything else (`"1.5"`, `"-1"`, `"abc"`) gives `None`, so the
/// caller falls back to its own backoff.
pub(crate) fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = parse_http_date(value)?;
    let wait = date - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// Parses an HTTP date in the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()
        .map(|date| date.assume_utc())
}

/// Formats a time as an HTTP date (IMF-fixdate).
#[cfg(test)]
pub(crate) fn format_http_date(date: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    date.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// Converts the server's `expiration` into a point on the local monotonic clock.
///
/// The time left is measured against the server's own clock (the answer's `Date` header) when
/// present, so a client clock minutes off does not move the deadline; without `Date` the local
/// wall clock is used instead. An expiration already past gives `arrival`.
pub(crate) fn expiry_instant(
    expiration: OffsetDateTime,
    server_date: Option<OffsetDateTime>,
    local_now: OffsetDateTime,
    arrival: Instant,
) -> Instant {
    let reference = server_date.unwrap_or(local_now);
    let left = expiration - reference;
    if left.is_negative() {
        arrival
    } else {
        arrival + left.unsigned_abs()
    }
}

#[cfg(test)]
mod tests;
