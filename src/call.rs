//! Prepared calls, their one-exchange responses and resumable pending results.

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::nonce::Nonce;
use crate::secret::ResultUrl;

/// HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`, for reads.
    Get,
    /// `POST`, for writes; the body is JSON.
    Post,
}

impl Method {
    /// Returns the method name as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// The wire form of one intention: method, path, body bytes and nonce.
///
/// It is fixed when the call is prepared, so every retry sends the same nonce and
/// byte-identical body. It serialises to JSON so another process can resume the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    method: Method,
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    nonce: Nonce,
}

impl Request {
    /// Returns the HTTP method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Returns the path relative to the base URL, with its query string (`deposit-status?id=…`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the JSON body, for `POST` calls.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// Returns the nonce sent as `X-Nonce`.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }
}

/// One prepared intention whose result decodes to `T`.
///
/// Prepare a call once per intention (for example with [`Call::deposit`]) and hand it to
/// [`Client::execute`](crate::Client::execute) or [`Client::send`](crate::Client::send) as many
/// times as needed: it keeps its nonce and body. To resume an intention whose nonce was
/// stored, prepare the same call again and set the nonce with [`Call::with_nonce`].
pub struct Call<T> {
    request: Request,
    output: PhantomData<fn() -> T>,
}

impl<T> Call<T> {
    /// Builds a call with a fresh nonce.
    pub(crate) fn new(method: Method, path: String, body: Option<String>) -> Call<T> {
        Call {
            request: Request {
                method,
                path,
                body,
                nonce: Nonce::new(),
            },
            output: PhantomData,
        }
    }

    /// Replaces the nonce, to resume an intention started earlier, perhaps by another
    /// process. The body must be the same as the first time for the server to treat the call
    /// as the same intention.
    pub fn with_nonce(mut self, nonce: Nonce) -> Call<T> {
        self.request.nonce = nonce;
        self
    }

    /// Returns the nonce of this intention.
    pub fn nonce(&self) -> &Nonce {
        &self.request.nonce
    }

    /// Returns the wire form of the call.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Prepares a `POST` with `body` encoded as JSON once, so every retry sends the same bytes.
    pub(crate) fn post_json(path: &str, body: &impl Serialize) -> crate::Result<Call<T>> {
        let body = serde_json::to_string(body).map_err(|error| crate::Error::InvalidInput {
            field: "body",
            reason: format!("the request could not be encoded as JSON: {error}"),
        })?;
        Ok(Call::new(Method::Post, path.to_owned(), Some(body)))
    }

    /// Prepares a `GET` of `path` with one query parameter, rejecting an empty value before
    /// anything is sent. `what` names the value in the error, such as "the deposit id".
    pub(crate) fn get_with(
        path: &str,
        parameter: &'static str,
        value: &str,
        what: &str,
    ) -> crate::Result<Call<T>> {
        let value = value.trim();
        if value.is_empty() {
            return Err(crate::Error::InvalidInput {
                field: parameter,
                reason: format!("{what} is empty"),
            });
        }
        let path = format!("{path}?{parameter}={}", encode_query_value(value));
        Ok(Call::new(Method::Get, path, None))
    }

    /// Rebuilds a call from a stored [`Request`] (its JSON form), to resume the intention in
    /// another process with the same nonce and body bytes. `T` must be the result type of the
    /// endpoint the request was prepared for, such as [`Deposit`](crate::Deposit) for
    /// [`Call::deposit`].
    pub fn from_request(request: Request) -> Call<T> {
        Call {
            request,
            output: PhantomData,
        }
    }
}

impl<T> Clone for Call<T> {
    fn clone(&self) -> Self {
        Call::from_request(self.request.clone())
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("request", &self.request)
            .finish()
    }
}

/// Response to one exchange: the result, or a pending handle to finish later.
#[derive(Debug, Clone)]
pub enum Response<T> {
    /// The server answered synchronously with the result.
    Ready(T),
    /// The server queued the work; finish it with [`Client::wait`](crate::Client::wait).
    Pending(Pending<T>),
}

/// A call the server has queued but not finished (`"async": true`).
///
/// It carries the nonce, the request, `urlResponse` and `expiration`, and it serialises to
/// JSON, so a process can store it and another can finish the call with
/// [`Client::wait`](crate::Client::wait) without sending the work twice.
///
/// `Debug` prints `urlResponse` without its signed query string. The JSON form keeps the full
/// signed URL and the request body, which may hold the payer's name and tax number: store it
/// as you store payment data, not in logs.
#[derive(Serialize, Deserialize)]
pub struct Pending<T> {
    request: Request,
    #[serde(rename = "urlResponse", default)]
    url_response: Option<ResultUrl>,
    #[serde(default)]
    expiration: Option<String>,
    /// The expiration on this process's monotonic clock; lost when serialised.
    #[serde(skip)]
    expires_at: Option<Instant>,
    #[serde(skip)]
    output: PhantomData<fn() -> T>,
}

impl<T> Pending<T> {
    pub(crate) fn new(
        request: Request,
        url_response: Option<ResultUrl>,
        expiration: Option<String>,
        expires_at: Option<Instant>,
    ) -> Pending<T> {
        Pending {
            request,
            url_response,
            expiration,
            expires_at,
            output: PhantomData,
        }
    }

    /// Returns the nonce of the intention.
    pub fn nonce(&self) -> &Nonce {
        &self.request.nonce
    }

    /// Returns the wire form of the call.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Returns the URL where the result will appear, if the server sent one.
    pub fn url_response(&self) -> Option<&ResultUrl> {
        self.url_response.as_ref()
    }

    /// Returns `expiration` exactly as the server sent it.
    pub fn expiration_raw(&self) -> Option<&str> {
        self.expiration.as_deref()
    }

    /// Returns `expiration` parsed as RFC 3339; `None` when missing or unparsable.
    pub fn expiration(&self) -> Option<OffsetDateTime> {
        self.expiration
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    }

    /// Returns the call, to re-send it with its nonce through
    /// [`Client::send`](crate::Client::send).
    pub fn call(&self) -> Call<T> {
        Call::from_request(self.request.clone())
    }

    pub(crate) fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }
}

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        Pending::new(
            self.request.clone(),
            self.url_response.clone(),
            self.expiration.clone(),
            self.expires_at,
        )
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("request", &self.request)
            .field("url_response", &self.url_response)
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// The result of a call driven to the end, with how it got there.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed<T> {
    /// The decoded result.
    pub value: T,
    /// The nonce every attempt carried.
    pub nonce: Nonce,
    /// HTTP attempts made, re-sends and polls included.
    pub attempts: u32,
    /// Whether the server answered pending at least once before the result.
    pub was_pending: bool,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_round_trips_through_json() {
        let call: Call<u32> = Call::new(Method::Post, "deposit".into(), Some("{\"a\":1}".into()));
        let pending: Pending<u32> = Pending::new(
            call.request().clone(),
            Some(ResultUrl::new("http://127.0.0.1:9/r/n?sig=s3cret")),
            Some("2026-12-04T20:35:41.861Z".into()),
            Some(Instant::now()),
        );
        let json = serde_json::to_string(&pending).unwrap();
        let back: Pending<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.request(), pending.request());
        assert_eq!(back.url_response(), pending.url_response());
        assert_eq!(back.expiration_raw(), pending.expiration_raw());
        assert_eq!(back.expiration().unwrap().unix_timestamp(), 1_796_416_541);
        assert_eq!(back.expires_at(), None);
        assert!(!format!("{pending:?}").contains("s3cret"));
    }

    #[test]
    fn with_nonce_keeps_body() {
        let call: Call<u32> = Call::new(Method::Post, "deposit".into(), Some("{}".into()));
        let nonce: Nonce = "resume-1".parse().unwrap();
        let resumed = call.clone().with_nonce(nonce.clone());
        assert_eq!(resumed.nonce(), &nonce);
        assert_eq!(resumed.request().body(), call.request().body());
        assert_ne!(resumed.nonce(), call.nonce());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("ab12-_.~"), "ab12-_.~");
        assert_eq!(encode_query_value("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
