//! `splitFee`: the share of a deposit sent to `depixSplitAddress`, as a percentage text.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::money::{DecimalError, parse_hundredths};

/// A split percentage from 0 to 100 with at most two decimals, sent as `"2.99%"`.
///
/// It is kept in hundredths of a percent, so no floating point is involved.
///
/// ```
/// use depix::SplitFee;
/// let fee: SplitFee = "2.99%".parse()?;
/// assert_eq!(fee.to_string(), "2.99%");
/// assert_eq!(SplitFee::from_basis_points(250)?.to_string(), "2.50%");
/// assert!("100.01".parse::<SplitFee>().is_err());
/// # Ok::<(), depix::ParseSplitFeeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SplitFee(u16);

impl SplitFee {
    /// Builds a fee from hundredths of a percent (basis points): 299 is 2.99 %. Accepts
    /// 0..=10000.
    pub fn from_basis_points(points: u16) -> Result<SplitFee, ParseSplitFeeError> {
        if points > 10_000 {
            return Err(ParseSplitFeeError::new(
                points.to_string(),
                "it is above 100 %",
            ));
        }
        Ok(SplitFee(points))
    }

    /// Returns the fee in hundredths of a percent.
    pub fn basis_points(self) -> u16 {
        self.0
    }
}

impl FromStr for SplitFee {
    type Err = ParseSplitFeeError;

    /// Parses `"2.99%"`, `"2.99"`, `"3"` or `"0.5 %"`: digits, an optional `.` with one or
    /// two digits, an optional `%`.
    fn from_str(text: &str) -> Result<SplitFee, ParseSplitFeeError> {
        let error = |reason| ParseSplitFeeError::new(text.chars().take(40).collect(), reason);
        let number = text.trim().trim_end_matches('%').trim_end();
        let points = parse_hundredths(number).map_err(|failure| {
            error(match failure {
                DecimalError::NoWholeDigits => "expected a number like 2.99",
                DecimalError::NoFractionDigits => "expected digits after the decimal point",
                DecimalError::TooManyDecimals | DecimalError::NotDigits => {
                    "at most two decimal digits are allowed"
                }
                DecimalError::TooLarge => "it is above 100 %",
            })
        })?;
        if points > 10_000 {
            return Err(error("it is above 100 %"));
        }
        Ok(SplitFee(points as u16))
    }
}

impl fmt::Display for SplitFee {
    /// Formats the fee as the API expects it: two decimals and a percent sign, `2.99%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for SplitFee {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Error for a text that is not a split percentage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSplitFeeError {
    text: String,
    reason: &'static str,
}

impl ParseSplitFeeError {
    fn new(text: String, reason: &'static str) -> ParseSplitFeeError {
        ParseSplitFeeError { text, reason }
    }
}

impl fmt::Display for ParseSplitFeeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid split fee {:?}: {} (expected 0 to 100 with at most two decimals, like \"2.99%\")",
            self.text, self.reason
        )
    }
}

impl std::error::Error for ParseSplitFeeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_fees_parse() {
        let cases = [
            ("2.99%", 299),
            ("2.99", 299),
            ("3", 300),
            ("0.5 %", 50),
            ("0", 0),
            ("100%", 10_000),
            ("100.00", 10_000),
        ];
        for (text, points) in cases {
            assert_eq!(
                text.parse::<SplitFee>().map(SplitFee::basis_points),
                Ok(points),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_fees_are_rejected() {
        for text in [
            "100.01",
            "101",
            "-1",
            "1.999",
            "",
            "%",
            "abc",
            "1,5",
            "2.",
            ".5",
            "1e2",
            "99999999999",
        ] {
            assert!(text.parse::<SplitFee>().is_err(), "{text:?} accepted");
        }
        assert!(SplitFee::from_basis_points(10_001).is_err());
    }

    #[test]
    fn serialises_with_two_decimals() {
        let fee: SplitFee = "2.5".parse().unwrap();
        assert_eq!(serde_json::to_string(&fee).unwrap(), "\"2.50%\"");
    }
}
