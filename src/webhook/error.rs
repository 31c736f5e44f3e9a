//! The error type of the webhook module.

use std::fmt;

/// Error for a webhook body that cannot be decoded or a webhook secret that cannot be used.
///
/// Messages never contain the secret. They may quote a short part of an invalid body value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is longer than the limit ([`super::MAX_BODY_BYTES`] for
    /// [`super::Event::from_slice`]).
    BodyTooLarge {
        /// Length of the rejected body in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The body is not valid JSON.
    InvalidJson {
        /// The parser's message, with line and column.
        reason: String,
    },
    /// The body is JSON but not a valid event: not an object, a `webhookType` that is not a
    /// string, a missing or empty id, or a field of the wrong type.
    InvalidEvent {
        /// The `webhookType` the body was decoded as (`deposit` when it had none).
        webhook_type: String,
        /// Description of the problem, naming the wire field.
        reason: String,
    },
    /// The webhook secret is unusable: shorter than 16 characters, or it has surrounding
    /// whitespace or control characters, which an `Authorization` header cannot carry intact.
    InvalidSecret {
        /// Description of the problem and its fix.
        reason: String,
    },
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::BodyTooLarge { len, max } => {
                write!(
                    f,
                    "webhook body of {len} bytes exceeds the limit of {max} bytes"
                )
            }
            WebhookError::InvalidJson { reason } => {
                write!(f, "webhook body is not valid JSON: {reason}")
            }
            WebhookError::InvalidEvent {
                webhook_type,
                reason,
            } => write!(f, "invalid {webhook_type:?} webhook body: {reason}"),
            WebhookError::InvalidSecret { reason } => {
                write!(f, "invalid webhook secret: {reason}")
            }
        }
    }
}

impl std::error::Error for WebhookError {}
