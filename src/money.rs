//! Money as integer BRL cents, with exact parsing of decimal reais text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of Brazilian reais in integer cents (R$ 1.00 is `Cents(100)`).
///
/// Amounts never pass through floating point. [`Cents::new`] and [`Cents::from_reais`]
/// accept only the range the API takes on requests, 1 to 10,000,000 cents (R$ 0.01 to
/// R$ 100,000.00). Amounts decoded from server responses are kept as sent, without that
/// check.
///
/// ```
/// use depix::Cents;
/// assert_eq!(Cents::from_reais("19.99")?.get(), 1999);
/// assert!(Cents::new(0).is_err());
/// # Ok::<(), depix::AmountError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(u64);

impl Cents {
    /// Smallest amount a request may carry: 1 cent.
    pub const MIN: Cents = Cents(1);
    /// Largest amount a request may carry: 10,000,000 cents (R$ 100,000.00).
    pub const MAX: Cents = Cents(10_000_000);

    /// Creates an amount for a request, checking the range 1..=10,000,000 cents.
    pub fn new(cents: u64) -> Result<Cents, AmountError> {
        Cents(cents).check_request_range()
    }

    /// Parses decimal reais text such as `"19.99"`, `"8.2"` or `"100000"` into exact cents,
    /// checking the request range.
    ///
    /// Accepted: ASCII digits, then optionally `.` and one or two digits. Rejected: signs,
    /// exponents, spaces, a comma as decimal separator, more than two decimals (`"1.005"`).
    pub fn from_reais(text: &str) -> Result<Cents, AmountError> {
        let invalid = |reason: &'static str| AmountError::Invalid {
            text: shorten(text),
            reason,
        };
        if text.contains(',') {
            return Err(invalid(
                "use '.' as the decimal separator and no thousands separator, as in \"1500.50\"",
            ));
        }
        let total = parse_hundredths(text).map_err(|error| {
            invalid(match error {
                DecimalError::NoWholeDigits => "expected digits before the decimal point",
                DecimalError::NoFractionDigits => {
                    "expected one or two digits after the decimal point"
                }
                DecimalError::TooManyDecimals => {
                    "more than two decimal places is finer than one cent"
                }
                DecimalError::NotDigits => "expected digits after the decimal point",
                DecimalError::TooLarge => "amount is too large",
            })
        })?;
        Cents::new(total)
    }

    /// Wraps an amount decoded from the server without the request range check.
    pub(crate) const fn from_server(cents: u64) -> Cents {
        Cents(cents)
    }

    /// Returns the amount in cents.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Adds two amounts, returning `None` instead of wrapping on overflow.
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    /// Sums amounts, returning `None` instead of wrapping on overflow.
    ///
    /// ```
    /// use depix::Cents;
    /// let total = Cents::checked_sum([Cents::MAX, Cents::MAX]);
    /// assert_eq!(total.map(Cents::get), Some(20_000_000));
    /// ```
    pub fn checked_sum(amounts: impl IntoIterator<Item = Cents>) -> Option<Cents> {
        amounts
            .into_iter()
            .try_fold(Cents(0), |total, amount| total.checked_add(amount))
    }

    /// Returns the amount unchanged if it lies in the request range 1..=10,000,000 cents.
    pub fn check_request_range(self) -> Result<Cents, AmountError> {
        if (Cents::MIN.0..=Cents::MAX.0).contains(&self.0) {
            Ok(self)
        } else {
            Err(AmountError::OutOfRange { cents: self.0 })
        }
    }
}

impl fmt::Display for Cents {
    /// Formats the amount as decimal reais with two places, such as `19.99`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Error for an amount that is not valid on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmountError {
    /// The amount is outside 1..=10,000,000 cents.
    OutOfRange {
        /// The rejected amount in cents.
        cents: u64,
    },
    /// The text is not a decimal reais amount.
    Invalid {
        /// The rejected text, cut to 40 characters.
        text: String,
        /// The reason it was rejected.
        reason: &'static str,
    },
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::OutOfRange { cents } => write!(
                f,
                "amount {cents} is out of range 1..=10000000 cents (R$ 0.01 to R$ 100000.00)"
            ),
            AmountError::Invalid { text, reason } => {
                write!(
                    f,
                    "invalid amount {text:?}: {reason} (expected reais like \"19.99\")"
                )
            }
        }
    }
}

impl std::error::Error for AmountError {}

/// Reason a text is not a decimal number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// Nothing or something other than digits before the decimal point.
    NoWholeDigits,
    /// A decimal point with no digits after it.
    NoFractionDigits,
    /// More than two digits after the decimal point.
    TooManyDecimals,
    /// Something other than digits after the decimal point.
    NotDigits,
    /// The value does not fit in a `u64` of hundredths.
    TooLarge,
}

/// Parses `digits[.d[d]]` into hundredths, exactly: `"19.99"` gives 1999 and `"8.2"` gives
/// 820. Signs, exponents and spaces are rejected.
pub(crate) fn parse_hundredths(text: &str) -> Result<u64, DecimalError> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NoWholeDigits);
    }
    if text.contains('.') && fraction.is_empty() {
        return Err(DecimalError::NoFractionDigits);
    }
    if fraction.len() > 2 {
        return Err(DecimalError::TooManyDecimals);
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NotDigits);
    }
    let units: u64 = whole.parse().map_err(|_| DecimalError::TooLarge)?;
    let hundredths: u64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u64>().unwrap_or(0) * 10,
        _ => fraction.parse().unwrap_or(0),
    };
    units
        .checked_mul(100)
        .and_then(|value| value.checked_add(hundredths))
        .ok_or(DecimalError::TooLarge)
}

/// Cuts user text to 40 characters for error messages.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reais_text_gives_exact_cents() {
        let cases = [
            ("19.99", 1999),
            ("8.20", 820),
            ("8.2", 820),
            ("4.56", 456),
            ("0.01", 1),
            ("100000.00", 10_000_000),
            ("100000", 10_000_000),
            ("1", 100),
        ];
        for (text, cents) in cases {
            assert_eq!(Cents::from_reais(text), Ok(Cents(cents)), "{text}");
        }
    }

    #[test]
    fn invalid_reais_text_is_rejected() {
        for text in [
            "100000.01",
            "0",
            "0.00",
            "-1",
            "1.005",
            "1e3",
            "",
            ".5",
            "5.",
            "1,50",
            " 1",
            "+1",
            "1.-5",
            "99999999999999999999",
            "1.000,50",
        ] {
            assert!(Cents::from_reais(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn comma_gets_separator_hint() {
        for text in ["1,50", "1.000,50"] {
            let message = Cents::from_reais(text).unwrap_err().to_string();
            assert!(message.contains("decimal separator"), "{text}: {message}");
        }
    }

    #[test]
    fn request_range_is_checked() {
        assert!(Cents::new(0).is_err());
        assert!(Cents::new(10_000_001).is_err());
        assert_eq!(Cents::new(1), Ok(Cents::MIN));
        assert_eq!(Cents::new(10_000_000), Ok(Cents::MAX));
        let message = Cents::new(0).unwrap_err().to_string();
        assert!(message.contains("amount 0 is out of range"), "{message}");
    }

    #[test]
    fn sums_never_wrap() {
        let many = std::iter::repeat_n(Cents::MAX, 1_000_000);
        assert_eq!(Cents::checked_sum(many), Some(Cents(10_000_000_000_000)));
        let huge = [Cents::from_server(u64::MAX), Cents(1)];
        assert_eq!(Cents::checked_sum(huge), None);
    }

    #[test]
    fn display_is_two_decimals() {
        assert_eq!(Cents(1999).to_string(), "19.99");
        assert_eq!(Cents(5).to_string(), "0.05");
        assert_eq!(Cents(820).to_string(), "8.20");
    }
}
