//! The crate's one error type.

use std::fmt;
use std::time::Duration;

use crate::money::AmountError;
use crate::nonce::Nonce;
use crate::secret::ResultUrl;

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a call.
///
/// The variants fall in five groups:
/// - the server refused the call: [`Error::Api`], [`Error::SyncTimeout`], [`Error::RateLimited`];
/// - the body could not be decoded: [`Error::Decode`], [`Error::BodyTooLarge`];
/// - the transport failed: [`Error::Transport`];
/// - the call ran out of time or retries: [`Error::OutcomeUnknown`], [`Error::Expired`],
///   [`Error::DeadlineExceeded`];
/// - the input was rejected before any byte was sent: [`Error::Amount`],
///   [`Error::InvalidInput`], [`Error::Config`].
///
/// Every error raised after a request may have reached the server carries
/// the call's nonce, so the caller can store it and resume the same intention later.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An amount is invalid; nothing was sent.
    Amount(AmountError),
    /// A request field is invalid; nothing was sent.
    InvalidInput {
        /// Wire name of the field.
        field: &'static str,
        /// The problem and its fix.
        reason: String,
    },
    /// The client configuration is invalid (base URL, token, timeouts).
    Config {
        /// The problem and its fix.
        reason: String,
    },
    /// The server returned an error envelope (`errorMessage`) or an error status with a
    /// JSON body, such as 400, 401, 403, 404 or 500.
    Api {
        /// HTTP status of the response (200 when an error envelope came with 200).
        status: u16,
        /// The `errorMessage` text; `None` when it was `null` or missing (a 404 `{}`).
        message: Option<String>,
        /// The `X-Request-ID` response header, to quote to support.
        request_id: Option<String>,
        /// The call's nonce.
        nonce: Nonce,
    },
    /// In sync mode the server did not finish within its window and returned HTTP 503, so the
    /// work was probably discarded, but that is not certain.
    SyncTimeout {
        /// The `errorMessage` text, if any.
        message: Option<String>,
        /// The `X-Request-ID` response header.
        request_id: Option<String>,
        /// The call's nonce; re-sending with it in auto mode is safe.
        nonce: Nonce,
    },
    /// The server asked the client to slow down (HTTP 429, or a `Retry-After` that does not
    /// fit within the call's remaining time).
    RateLimited {
        /// HTTP status of the response (429, or 503 with `Retry-After`).
        status: u16,
        /// The wait the server asked for, from `Retry-After`, if it sent a valid one.
        retry_after: Option<Duration>,
        /// The `errorMessage` text, if any.
        message: Option<String>,
        /// The `X-Request-ID` response header.
        request_id: Option<String>,
        /// The call's nonce.
        nonce: Nonce,
    },
    /// The body was not the JSON the API sends (an HTML page from a proxy, an empty 504,
    /// truncated JSON, or a document of the wrong shape).
    Decode {
        /// HTTP status of the response.
        status: u16,
        /// The `Content-Type` response header, if any.
        content_type: Option<String>,
        /// The first characters of the body (at most 200), for diagnosis.
        snippet: String,
        /// The problem found in the body.
        reason: String,
        /// The `X-Request-ID` response header.
        request_id: Option<String>,
        /// The call's nonce.
        nonce: Nonce,
    },
    /// The body was longer than the configured limit; reading stopped at the limit.
    BodyTooLarge {
        /// The limit in bytes ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size)).
        limit: u64,
        /// HTTP status of the response.
        status: u16,
        /// The call's nonce.
        nonce: Nonce,
    },
    /// The HTTP exchange failed (connection refused or reset, timeout, TLS failure).
    Transport {
        /// Description of the failure from the HTTP library.
        message: String,
        /// Whether the request may have reached the server before the failure. When true the
        /// outcome is unknown: resume with the same nonce, never with a new one.
        maybe_sent: bool,
        /// The call's nonce.
        nonce: Nonce,
    },
    /// Retries ran out after the request may have reached the server, so whether the work was
    /// done is unknown. Resume with the same nonce ([`Call::with_nonce`](crate::Call::with_nonce)).
    OutcomeUnknown {
        /// The call's nonce.
        nonce: Nonce,
        /// HTTP attempts made, polls included.
        attempts: u32,
        /// The last failure seen; `None` when the server only returned pending answers.
        last: Option<Box<Error>>,
    },
    /// The work was queued but no result arrived before the server's `expiration`; the server
    /// will likely never process it.
    Expired {
        /// The call's nonce.
        nonce: Nonce,
        /// The URL where the result would have appeared.
        url_response: Option<ResultUrl>,
        /// The server's `expiration` text, if it sent one.
        expiration: Option<String>,
        /// HTTP attempts made, polls included.
        attempts: u32,
    },
    /// The deposit did not reach the awaited status before the deadline of
    /// [`Client::wait_for_settlement`](crate::Client::wait_for_settlement).
    NotSettled {
        /// The deposit id.
        id: String,
        /// The last status read.
        last: Box<crate::DepositInfo>,
    },
    /// A `deposits` window of one second still returned the API's 200-row maximum, so rows may
    /// be missing and the window cannot be split further.
    ListTruncated {
        /// Start of the window, RFC 3339.
        start: String,
        /// End of the window, RFC 3339.
        end: String,
    },
    /// The caller's deadline passed before a result arrived; the work may still complete on
    /// the server, so resume with the same nonce to collect it.
    DeadlineExceeded {
        /// The call's nonce.
        nonce: Nonce,
        /// The URL where the result will appear, if the server already queued the work.
        url_response: Option<ResultUrl>,
        /// HTTP attempts made, polls included.
        attempts: u32,
    },
}

impl Error {
    /// Returns the nonce of the call this error belongs to, if a call was prepared.
    pub fn nonce(&self) -> Option<&Nonce> {
        match self {
            Error::Api { nonce, .. }
            | Error::SyncTimeout { nonce, .. }
            | Error::RateLimited { nonce, .. }
            | Error::Decode { nonce, .. }
            | Error::BodyTooLarge { nonce, .. }
            | Error::Transport { nonce, .. }
            | Error::OutcomeUnknown { nonce, .. }
            | Error::Expired { nonce, .. }
            | Error::DeadlineExceeded { nonce, .. } => Some(nonce),
            Error::Amount(_)
            | Error::InvalidInput { .. }
            | Error::Config { .. }
            | Error::ListTruncated { .. }
            | Error::NotSettled { .. } => None,
        }
    }

    /// Returns the HTTP status of the response behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::RateLimited { status, .. }
            | Error::Decode { status, .. }
            | Error::BodyTooLarge { status, .. } => Some(*status),
            Error::SyncTimeout { .. } => Some(503),
            Error::OutcomeUnknown { last, .. } => last.as_ref().and_then(|last| last.status()),
            _ => None,
        }
    }

    /// Returns the `X-Request-ID` the server gave the answer behind this error.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::SyncTimeout { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            Error::OutcomeUnknown { last, .. } => last.as_ref().and_then(|last| last.request_id()),
            _ => None,
        }
    }

    /// Returns the server's `errorMessage`, if the error came from an error envelope.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. }
            | Error::SyncTimeout { message, .. }
            | Error::RateLimited { message, .. } => message.as_deref(),
            Error::OutcomeUnknown { last, .. } => last.as_ref().and_then(|last| last.api_message()),
            _ => None,
        }
    }

    /// Tells whether the server may have performed the work even though the call failed.
    ///
    /// True for [`Error::OutcomeUnknown`], [`Error::DeadlineExceeded`], [`Error::Expired`],
    /// [`Error::SyncTimeout`], a [`Error::Transport`] failure after the request may have
    /// been sent, and an [`Error::Decode`] of a 2xx or 5xx answer. An [`Error::Api`] is
    /// false whatever its status, because the server read the request and reported a failure.
    ///
    /// Settle a call for which this is true by resuming it with the same nonce before creating
    /// anything new.
    pub fn may_have_been_performed(&self) -> bool {
        match self {
            Error::OutcomeUnknown { .. }
            | Error::DeadlineExceeded { .. }
            | Error::Expired { .. }
            | Error::SyncTimeout { .. } => true,
            Error::Transport { maybe_sent, .. } => *maybe_sent,
            Error::Decode { status, .. } => (200..300).contains(status) || *status >= 500,
            _ => false,
        }
    }

    /// Returns the error's message without the nonce suffix, for nesting in a message that
    /// already names the nonce.
    fn without_nonce(&self) -> String {
        let text = self.to_string();
        match self.nonce() {
            Some(nonce) => text
                .replace(&format!(" (nonce {nonce})"), "")
                .replace(&format!(", nonce {nonce})"), ")"),
            None => text,
        }
    }

    /// Tells whether this is the server's "record not found" answer (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Amount(error) => error.fmt(f),
            Error::InvalidInput { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::Config { reason } => write!(f, "invalid client configuration: {reason}"),
            Error::Api {
                status,
                message,
                request_id,
                nonce,
            } => {
                let message = message.as_deref().unwrap_or("no errorMessage");
                write!(f, "API error (HTTP {status}): {message}")?;
                write_ids(f, request_id, nonce)
            }
            Error::SyncTimeout {
                request_id, nonce, ..
            } => {
                f.write_str(
                    "sync mode timed out (HTTP 503) and the server probably discarded the work; \
                     resend with the same nonce in auto mode to settle it",
                )?;
                write_ids(f, request_id, nonce)
            }
            Error::RateLimited {
                status,
                retry_after,
                request_id,
                nonce,
                ..
            } => {
                write!(f, "rate limited (HTTP {status})")?;
                if let Some(wait) = retry_after {
                    write!(f, ", server asked to retry after {} s", wait.as_secs_f64())?;
                }
                write_ids(f, request_id, nonce)
            }
            Error::Decode {
                status,
                content_type,
                snippet,
                reason,
                request_id,
                nonce,
            } => {
                let content_type = content_type.as_deref().unwrap_or("none");
                write!(
                    f,
                    "unexpected answer (HTTP {status}, content type {content_type}): {reason}; \
                     body starts {snippet:?}"
                )?;
                write_ids(f, request_id, nonce)
            }
            Error::BodyTooLarge {
                limit,
                status,
                nonce,
            } => write!(
                f,
                "response body (HTTP {status}) exceeds the {limit}-byte limit; raise \
                 ClientBuilder::max_body_size if this is expected (nonce {nonce})"
            ),
            Error::Transport {
                message,
                maybe_sent,
                nonce,
            } => {
                write!(f, "transport error: {message}")?;
                if *maybe_sent {
                    write!(
                        f,
                        "; the request may have reached the server, outcome unknown"
                    )?;
                }
                write!(f, " (nonce {nonce})")
            }
            Error::OutcomeUnknown {
                nonce,
                attempts,
                last,
            } => {
                let plural = if *attempts == 1 { "" } else { "s" };
                write!(
                    f,
                    "outcome unknown after {attempts} attempt{plural} (nonce {nonce}): settle it \
                     before creating anything new, by resuming with this nonce or, if the \
                     server may ignore nonces, by looking the write up"
                )?;
                match last {
                    Some(last) => write!(f, "; last error: {}", last.without_nonce()),
                    None => f.write_str("; the server still had the work pending"),
                }
            }
            Error::Expired {
                nonce,
                url_response,
                expiration,
                attempts,
            } => {
                let expiration = expiration.as_deref().unwrap_or("not given");
                write!(
                    f,
                    "no result before the server's expiration {expiration} after {attempts} \
                     attempts (nonce {nonce}"
                )?;
                if let Some(url) = url_response {
                    write!(f, ", urlResponse {url}")?;
                }
                f.write_str(")")
            }
            Error::NotSettled { id, last } => write!(
                f,
                "deposit {id} did not settle before the deadline; last status {}",
                last.status
            ),
            Error::ListTruncated { start, end } => write!(
                f,
                "the deposits window {start} to {end} returned the 200-row maximum and cannot \
                 be split below one second; some rows may be missing"
            ),
            Error::DeadlineExceeded {
                nonce,
                url_response,
                attempts,
            } => {
                write!(
                    f,
                    "deadline exceeded after {attempts} attempts; the work may still complete, \
                     resume with nonce {nonce}"
                )?;
                if let Some(url) = url_response {
                    write!(f, " (urlResponse {url})")?;
                }
                Ok(())
            }
        }
    }
}

/// Appends the request id and nonce to a message.
fn write_ids(
    f: &mut fmt::Formatter<'_>,
    request_id: &Option<String>,
    nonce: &Nonce,
) -> fmt::Result {
    match request_id {
        Some(id) => write!(f, " (request id {id}, nonce {nonce})"),
        None => write!(f, " (nonce {nonce})"),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Amount(error) => Some(error),
            Error::OutcomeUnknown { last, .. } => last.as_deref().map(|last| last as _),
            _ => None,
        }
    }
}

impl From<AmountError> for Error {
    fn from(error: AmountError) -> Error {
        Error::Amount(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_unknown_names_nonce_once() {
        let nonce: Nonce = "n-1".parse().unwrap();
        let last = Error::Transport {
            message: "reset".to_owned(),
            maybe_sent: true,
            nonce: nonce.clone(),
        };
        let error = Error::OutcomeUnknown {
            nonce,
            attempts: 1,
            last: Some(Box::new(last)),
        };
        let text = error.to_string();
        assert_eq!(text.matches("n-1").count(), 1, "{text}");
        assert!(text.contains("after 1 attempt "), "{text}");
        assert!(text.contains("looking the write up"), "{text}");
    }

    #[test]
    fn error_stays_small() {
        // Clippy's result_large_err flags results whose error reaches 128 bytes, in this crate
        // and in every caller that returns `depix::Result`.
        assert!(
            std::mem::size_of::<Error>() < 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
