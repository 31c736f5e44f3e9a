//! `POST pix2fa`: submit the 6-digit Pix2FA code that releases a held deposit.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, Result};

/// A Pix2FA code: exactly six ASCII digits, as the payer saw it in the R$ 0.01 Pix
/// description.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Pix2faCode(String);

impl Pix2faCode {
    /// Checks that `code` is exactly six ASCII digits (surrounding spaces are trimmed).
    pub fn new(code: &str) -> Result<Pix2faCode> {
        let code = code.trim();
        let invalid = |reason: String| Error::InvalidInput {
            field: "pixTwoFactorCode",
            reason,
        };
        if !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(
                "expected exactly six digits, found a character that is not a digit".to_owned(),
            ));
        }
        if code.len() != 6 {
            return Err(invalid(format!(
                "expected exactly six digits, got {}",
                code.len()
            )));
        }
        Ok(Pix2faCode(code.to_owned()))
    }

    /// Returns the code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pix2faCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pix2faCode(******)")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pix2faBody<'a> {
    pix_two_factor_code: &'a Pix2faCode,
    qr_id: &'a str,
}

/// Result of `pix2fa`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Pix2faResult {
    /// `message`: the server's confirmation, such as "Transaction ID … verified pix2FA code
    /// successfully."
    #[serde(default)]
    pub message: String,
}

impl Call<Pix2faResult> {
    /// Prepares a `pix2fa` call submitting `code` for the deposit `qr_id`.
    pub fn pix2fa(qr_id: &str, code: &Pix2faCode) -> Result<Call<Pix2faResult>> {
        if qr_id.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "qrId",
                reason: "the deposit id is empty".to_owned(),
            });
        }
        let body = Pix2faBody {
            pix_two_factor_code: code,
            qr_id: qr_id.trim(),
        };
        Call::post_json("pix2fa", &body)
    }
}

impl Client {
    /// Submits a Pix2FA code for a deposit in `pending_pix2fa`; `code` must be six digits.
    pub fn pix2fa(&self, qr_id: &str, code: &str) -> Result<Pix2faResult> {
        let code = Pix2faCode::new(code)?;
        self.execute(&Call::pix2fa(qr_id, &code)?)
            .map(|done| done.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_must_be_six_digits() {
        assert_eq!(Pix2faCode::new(" 012345 ").unwrap().as_str(), "012345");
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６", "12 456"] {
            assert!(Pix2faCode::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(!format!("{:?}", Pix2faCode::new("123456").unwrap()).contains("123456"));
    }

    #[test]
    fn body_uses_wire_names() {
        let call = Call::pix2fa("abc", &Pix2faCode::new("123456").unwrap()).unwrap();
        assert_eq!(
            call.request().body(),
            Some(r#"{"pixTwoFactorCode":"123456","qrId":"abc"}"#)
        );
    }
}
