//! Values that must never reach logs, `Debug` output or error messages in full.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Bearer token for the API, sent as `Authorization: Bearer <token>`.
///
/// Its `Debug` output is redacted and it has no `Display`, so it cannot leak through a log
/// line or an error message by accident.
///
/// ```
/// let token = depix::Token::new("eyJhbGciOi.secret");
/// assert_eq!(format!("{token:?}"), "Token([redacted])");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token text.
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// Returns the token text, for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl From<String> for Token {
    fn from(token: String) -> Token {
        Token(token)
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Token {
        Token(token.to_owned())
    }
}

/// The `urlResponse` of a pending answer: where the result appears once ready.
///
/// The URL usually carries a signed query string that grants read access, so `Debug` and
/// `Display` print the URL without its query (`https://host/path?[redacted]`).
/// [`ResultUrl::as_str`] gives the full URL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResultUrl(String);

impl ResultUrl {
    /// Wraps a URL as received in `urlResponse`.
    pub fn new(url: impl Into<String>) -> ResultUrl {
        ResultUrl(url.into())
    }

    /// Returns the full URL, including its signed query string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the URL without query string or fragment, safe to log.
    pub fn redacted(&self) -> String {
        match self.0.find(['?', '#']) {
            Some(index) => format!("{}?[redacted]", &self.0[..index]),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for ResultUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResultUrl({})", self.redacted())
    }
}

impl fmt::Display for ResultUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::new("very-secret-jwt");
        assert!(!format!("{token:?}").contains("very-secret"));
        assert!(!format!("{token:#?}").contains("very-secret"));
        assert_eq!(token.expose(), "very-secret-jwt");
    }

    #[test]
    fn result_url_hides_query() {
        let url = ResultUrl::new("https://blob.example/api-response/n1?sv=1&sig=abcdef");
        assert_eq!(
            url.to_string(),
            "https://blob.example/api-response/n1?[redacted]"
        );
        assert!(!format!("{url:?}").contains("abcdef"));
        assert!(url.as_str().ends_with("sig=abcdef"));
        let plain = ResultUrl::new("https://blob.example/r/n2");
        assert_eq!(plain.to_string(), "https://blob.example/r/n2");
    }
}
