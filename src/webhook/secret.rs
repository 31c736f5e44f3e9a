//! The shared secret Eulen sends in `Authorization: Basic <secret>`, and its check.

use std::fmt;

use super::WebhookError;
use super::base64;

/// The secret registered with Eulen for the webhook URL.
///
/// Eulen sends it verbatim as `Authorization: Basic <secret>` and does not base64-encode it.
/// Its `Debug` output is redacted and it has no `Display`, so it cannot leak through a log
/// line or an error message by accident.
///
/// ```
/// use depix::webhook::WebhookSecret;
/// let secret = WebhookSecret::new("s3cret-registered-at-eulen")?;
/// assert!(secret.verify(Some("Basic s3cret-registered-at-eulen")));
/// assert!(!secret.verify(Some("Basic wrong-secret-of-any-length")));
/// assert!(!secret.verify(None));
/// assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
/// # Ok::<(), depix::webhook::WebhookError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    secret: String,
    /// Whether the secret has the `user:password` form, whose base64 a standard Basic
    /// client sends.
    is_user_password: bool,
}

impl WebhookSecret {
    /// Minimum length Eulen accepts for a webhook secret, in characters.
    pub const MIN_CHARS: usize = 16;

    /// Wraps the secret registered with Eulen.
    ///
    /// Rejects a secret shorter than [`WebhookSecret::MIN_CHARS`] characters, one with
    /// leading or trailing whitespace (header parsers strip it, so it could never match) and
    /// one with control characters (an HTTP header cannot carry them).
    pub fn new(secret: impl Into<String>) -> Result<WebhookSecret, WebhookError> {
        let secret = secret.into();
        let chars = secret.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(invalid(format!(
                "it has {chars} characters, but Eulen requires at least {}",
                Self::MIN_CHARS
            )));
        }
        if secret.trim() != secret {
            return Err(invalid(
                "it starts or ends with whitespace, which header parsers strip; remove it"
                    .to_owned(),
            ));
        }
        if secret.chars().any(char::is_control) {
            return Err(invalid(
                "it contains a control character, which an HTTP header cannot carry".to_owned(),
            ));
        }
        let is_user_password = secret.contains(':');
        Ok(WebhookSecret {
            secret,
            is_user_password,
        })
    }

    /// Checks the `Authorization` header of a webhook request against the secret.
    ///
    /// Accepts `Basic <secret>` with the secret verbatim, as Eulen sends it. When the secret
    /// has the form `user:password`, also accepts `Basic <base64 of the secret>`, as a
    /// standard Basic client sends it (padded standard base64). The scheme word is matched
    /// case-insensitively, and whitespace around the header and between scheme and
    /// credentials is ignored. A missing or empty header returns `false`.
    ///
    /// The comparison takes the same time for every secret and header content of the same
    /// lengths, so response times reveal nothing about how much of a guess was right.
    pub fn verify(&self, authorization: Option<&str>) -> bool {
        let Some(header) = authorization else {
            return false;
        };
        let Some((scheme, credentials)) = header.trim_ascii().split_once([' ', '\t']) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let credentials = credentials.trim_ascii();
        if credentials.is_empty() {
            return false;
        }

        let verbatim = constant_time_eq(credentials.as_bytes(), self.secret.as_bytes());
        let decoded = if self.is_user_password {
            base64::decode(credentials).unwrap_or_default()
        } else {
            Vec::new()
        };
        // An empty `decoded` never matches, because the secret has at least 16 characters.
        let encoded = constant_time_eq(&decoded, self.secret.as_bytes());
        // `|` rather than `||`: both comparisons always run.
        verbatim | encoded
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// Builds the secret to register with Eulen so that its header is standard Basic
/// authentication: the padded base64 of `user:password`.
///
/// Rejects a `user` containing `:` (RFC 7617 forbids it) and a result shorter than
/// [`WebhookSecret::MIN_CHARS`] characters.
///
/// ```
/// let secret = depix::webhook::basic_credentials("eulen", "pass-1234")?;
/// assert_eq!(secret, "ZXVsZW46cGFzcy0xMjM0");
/// # Ok::<(), depix::webhook::WebhookError>(())
/// ```
pub fn basic_credentials(user: &str, password: &str) -> Result<String, WebhookError> {
    if user.contains(':') {
        return Err(invalid(
            "the user name contains ':', which Basic authentication forbids".to_owned(),
        ));
    }
    let encoded = base64::encode(format!("{user}:{password}").as_bytes());
    WebhookSecret::new(encoded.as_str())?;
    Ok(encoded)
}

fn invalid(reason: String) -> WebhookError {
    WebhookError::InvalidSecret { reason }
}

/// Compares two byte strings in time that depends only on their lengths.
///
/// The loop always scans the longer input, padding the shorter with zeros, and folds the
/// differences together without an early exit.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    let len = left.len().max(right.len());
    let mut difference = u8::from(left.len() != right.len());
    for index in 0..len {
        let a = left.get(index).copied().unwrap_or(0);
        let b = right.get(index).copied().unwrap_or(0);
        difference |= a ^ b;
    }
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_matches_slice_eq() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"", b""),
            (b"a", b"a"),
            (b"a", b"b"),
            (b"abc", b"ab"),
            (b"ab", b"abc"),
            (b"ab\0", b"ab"),
            (b"same-length-1", b"same-length-2"),
        ];
        for (left, right) in cases {
            assert_eq!(
                constant_time_eq(left, right),
                left == right,
                "{left:?} {right:?}"
            );
        }
    }

    #[test]
    fn colon_free_secret_ignores_base64() {
        let secret = WebhookSecret::new("no-colon-secret-here").unwrap();
        let encoded = base64::encode(b"no-colon-secret-here");
        assert!(!secret.verify(Some(&format!("Basic {encoded}"))));
    }
}
