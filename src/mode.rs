//! Call modes of the API and their `X-Async` header values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Call mode of one exchange, sent as the `X-Async` header.
///
/// The default is [`Mode::Auto`], the server's own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `X-Async: auto`. The server waits up to its sync window (10 s) and then returns a
    /// pending answer. Re-sending with the same nonce returns the result once it is ready.
    #[default]
    Auto,
    /// `X-Async: false`. The server waits up to its sync window and then returns HTTP 503,
    /// probably discarding the work.
    Sync,
    /// `X-Async: true`. The server queues the work and returns a pending answer at once, and the work
    /// lives for the async lifetime (5 min by default).
    Async,
}

impl Mode {
    /// Returns the `X-Async` header value for this mode: `auto`, `false` or `true`.
    pub const fn header_value(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Sync => "false",
            Mode::Async => "true",
        }
    }

    /// Parses an `X-Async` header value (`auto`, `false`, `true`, any ASCII case).
    pub fn from_header_value(value: &str) -> Option<Mode> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("auto") {
            Some(Mode::Auto)
        } else if value.eq_ignore_ascii_case("false") {
            Some(Mode::Sync)
        } else if value.eq_ignore_ascii_case("true") {
            Some(Mode::Async)
        } else {
            None
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Auto => "auto",
            Mode::Sync => "sync",
            Mode::Async => "async",
        })
    }
}

/// Error returned when a text is not a mode name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseModeError(String);

impl fmt::Display for ParseModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid mode {:?}: expected auto, sync or async", self.0)
    }
}

impl std::error::Error for ParseModeError {}

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Parses `auto`, `sync` or `async` (the names [`Display`](fmt::Display) prints).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Mode::Auto),
            "sync" => Ok(Mode::Sync),
            "async" => Ok(Mode::Async),
            _ => Err(ParseModeError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_round_trip() {
        for mode in [Mode::Auto, Mode::Sync, Mode::Async] {
            assert_eq!(Mode::from_header_value(mode.header_value()), Some(mode));
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert_eq!(Mode::Sync.header_value(), "false");
        assert_eq!(Mode::Async.header_value(), "true");
        assert_eq!(Mode::default(), Mode::Auto);
    }

    #[test]
    fn unknown_mode_is_rejected() {
        assert!("later".parse::<Mode>().is_err());
        assert_eq!(Mode::from_header_value("maybe"), None);
    }
}
