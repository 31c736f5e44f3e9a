//! The `X-Nonce` value that names one intention across all its retries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Identifier of one client intention, sent as `X-Nonce`.
///
/// A new nonce is a random UUID v4 in its hyphenated lowercase text form. Every retry, re-send
/// and poll of one intention reuses the same nonce, so the server performs the work at most
/// once. To resume an intention after a crash, store the nonce and pass it back with
/// [`Call::with_nonce`](crate::Call::with_nonce).
///
/// ```
/// let nonce = depix::Nonce::new();
/// let again: depix::Nonce = nonce.to_string().parse().unwrap();
/// assert_eq!(nonce, again);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nonce(Box<str>);

/// Maximum length of a caller-supplied nonce, in bytes.
const MAX_LEN: usize = 128;

impl Nonce {
    /// Creates a random UUID v4 nonce from the operating system's random source.
    ///
    /// # Panics
    ///
    /// Panics if the operating system has no random source, since every later call would
    /// then risk sending one payment twice under a guessable nonce.
    pub fn new() -> Nonce {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).expect("the operating system random source failed");
        Nonce::from_random_bytes(bytes)
    }

    /// Builds a UUID v4 from 16 random bytes by setting the version and variant bits.
    fn from_random_bytes(mut bytes: [u8; 16]) -> Nonce {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut text = String::with_capacity(36);
        for (index, byte) in bytes.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
        }
        Nonce(text.into_boxed_str())
    }

    /// Returns the nonce text as sent in `X-Nonce`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Nonce {
    /// Creates a new random nonce, as [`Nonce::new`] does.
    fn default() -> Self {
        Nonce::new()
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.0)
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Error returned when a caller-supplied nonce cannot be sent as a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseNonceError {
    reason: &'static str,
}

impl fmt::Display for ParseNonceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid nonce: {}", self.reason)
    }
}

impl std::error::Error for ParseNonceError {}

impl FromStr for Nonce {
    type Err = ParseNonceError;

    /// Accepts any 1 to 128 visible ASCII characters (letters, digits and `-`, `_`, `.`, `:`),
    /// so a stored nonce from another client (32 hex, UUID, order-derived text) resumes too.
    /// A fresh intention should use [`Nonce::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ParseNonceError {
                reason: "it is empty",
            });
        }
        if s.len() > MAX_LEN {
            return Err(ParseNonceError {
                reason: "it is longer than 128 bytes",
            });
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
        if !s.chars().all(allowed) {
            return Err(ParseNonceError {
                reason: "only ASCII letters, digits and - _ . : are allowed",
            });
        }
        Ok(Nonce(s.into()))
    }
}

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_nonce_is_uuid_v4_text() {
        let nonce = Nonce::new();
        let text = nonce.as_str();
        assert_eq!(text.len(), 36);
        let groups: Vec<&str> = text.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "version nibble in {text}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant bits in {text}"
        );
        assert!(text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        assert_eq!(text, text.to_ascii_lowercase());
    }

    #[test]
    fn fixed_bytes_give_known_uuid() {
        let nonce = Nonce::from_random_bytes([0xff; 16]);
        assert_eq!(nonce.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn new_nonces_differ() {
        let set: std::collections::HashSet<Nonce> = (0..1000).map(|_| Nonce::new()).collect();
        assert_eq!(set.len(), 1000);
    }

    #[test]
    fn parse_accepts_stored_forms() {
        for text in [
            "dae62579-3a0e-4c39-9a4e-2f1f7f6a1c11",
            "0123456789abcdef0123456789abcdef",
            "order_42",
        ] {
            assert_eq!(text.parse::<Nonce>().unwrap().as_str(), text);
        }
    }

    #[test]
    fn parse_rejects_header_breaking_text() {
        for text in ["", "a b", "a\r\nX-Evil: 1", "é", &"a".repeat(129)] {
            assert!(text.parse::<Nonce>().is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn serde_is_plain_string() {
        let nonce: Nonce = "abc-123".parse().unwrap();
        assert_eq!(serde_json::to_string(&nonce).unwrap(), "\"abc-123\"");
        let back: Nonce = serde_json::from_str("\"abc-123\"").unwrap();
        assert_eq!(back, nonce);
        assert!(serde_json::from_str::<Nonce>("\"a b\"").is_err());
    }
}
