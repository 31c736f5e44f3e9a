//! `POST withdraw` (DePix to Pix) and `GET withdraw-status`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::serde_util::empty_as_none;
use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::money::Cents;

/// The one amount a withdrawal is given by; the server computes the other from its fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawAmount {
    /// `depositAmountInCents`: the DePix you will send; fees come out of it.
    Deposit(Cents),
    /// `payoutAmountInCents`: the BRL the Pix key must receive, net of fees.
    Payout(Cents),
}

/// Body of `POST withdraw`: a payout of BRL to a Pix key, funded by DePix you send on-chain.
///
/// The amount is a [`WithdrawAmount`], so a request cannot carry both amounts or neither.
///
/// ```
/// use depix::{Cents, WithdrawAmount, WithdrawRequest};
/// let request = WithdrawRequest::new("someone@example.com", WithdrawAmount::Payout(Cents::new(12_345)?));
/// # let _ = request;
/// # Ok::<(), depix::AmountError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawRequest {
    pix_key: String,
    amount: WithdrawAmount,
    tax_number: Option<String>,
    euid: Option<String>,
}

impl WithdrawRequest {
    /// Starts a request paying `pixKey` the given amount.
    pub fn new(pix_key: impl Into<String>, amount: WithdrawAmount) -> WithdrawRequest {
        WithdrawRequest {
            pix_key: pix_key.into(),
            amount,
            tax_number: None,
            euid: None,
        }
    }

    /// Sets `taxNumber`, the beneficiary's CPF or CNPJ. Newer API versions ask for this or
    /// `euid`, not both.
    pub fn tax_number(mut self, tax_number: impl Into<String>) -> Self {
        self.tax_number = Some(tax_number.into());
        self.euid = None;
        self
    }

    /// Sets `euid`, the beneficiary's Eulen id. Newer API versions ask for this or
    /// `taxNumber`, not both.
    pub fn euid(mut self, euid: impl Into<String>) -> Self {
        self.euid = Some(euid.into());
        self.tax_number = None;
        self
    }

    /// Returns the amount the request is given by.
    pub fn amount(&self) -> WithdrawAmount {
        self.amount
    }

    /// Checks the Pix key and the amount before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.pix_key.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "pixKey",
                reason: "the Pix key is empty".to_owned(),
            });
        }
        match self.amount {
            WithdrawAmount::Deposit(cents) | WithdrawAmount::Payout(cents) => {
                cents.check_request_range()?;
            }
        }
        Ok(())
    }
}

impl Serialize for WithdrawRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("pixKey", &self.pix_key)?;
        match self.amount {
            WithdrawAmount::Deposit(cents) => {
                map.serialize_entry("depositAmountInCents", &cents)?
            }
            WithdrawAmount::Payout(cents) => map.serialize_entry("payoutAmountInCents", &cents)?,
        }
        if let Some(tax_number) = &self.tax_number {
            map.serialize_entry("taxNumber", tax_number)?;
        }
        if let Some(euid) = &self.euid {
            map.serialize_entry("euid", euid)?;
        }
        map.end()
    }
}

/// Result of `POST withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Withdrawal {
    /// `withdrawalId`: the id for `withdraw-status` (named `id` there).
    pub withdrawal_id: String,
    /// `depositAddress`: the Liquid address to send exactly the deposit amount of DePix to,
    /// before the expiration `withdraw-status` shows. DePix sent after it is lost.
    pub deposit_address: String,
    /// `depositAmountInCents`: the DePix to send, in cents.
    pub deposit_amount_in_cents: Cents,
    /// `payoutAmountInCents`: the BRL the Pix key receives, in cents.
    pub payout_amount_in_cents: Cents,
}

/// Status of a withdrawal.
///
/// Both spellings `canceled` and `cancelled` decode as [`WithdrawStatus::Canceled`]; unknown
/// values are kept in [`WithdrawStatus::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WithdrawStatus {
    /// `unsent`: created, waiting for your DePix.
    Unsent,
    /// `sending`: being paid out.
    Sending,
    /// `sent`: the Pix was paid.
    Sent,
    /// `error`: failed; may need action.
    Error,
    /// `canceled` or `cancelled`: canceled before being sent.
    Canceled,
    /// `refunded`: failed after the funds were taken, and returned.
    Refunded,
    /// Any other value, kept as sent.
    Unknown(String),
}

impl WithdrawStatus {
    /// Parses a wire value; unknown values become [`WithdrawStatus::Unknown`].
    pub fn from_wire(value: &str) -> WithdrawStatus {
        match value {
            "unsent" => WithdrawStatus::Unsent,
            "sending" => WithdrawStatus::Sending,
            "sent" => WithdrawStatus::Sent,
            "error" => WithdrawStatus::Error,
            "canceled" | "cancelled" => WithdrawStatus::Canceled,
            "refunded" => WithdrawStatus::Refunded,
            other => WithdrawStatus::Unknown(other.to_owned()),
        }
    }

    /// Returns the wire value (`canceled` for [`WithdrawStatus::Canceled`]).
    pub fn as_str(&self) -> &str {
        match self {
            WithdrawStatus::Unsent => "unsent",
            WithdrawStatus::Sending => "sending",
            WithdrawStatus::Sent => "sent",
            WithdrawStatus::Error => "error",
            WithdrawStatus::Canceled => "canceled",
            WithdrawStatus::Refunded => "refunded",
            WithdrawStatus::Unknown(value) => value,
        }
    }

    /// Tells whether the status will not change any more: `sent`, `canceled`, `refunded` or
    /// `error`. An unknown status is not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            WithdrawStatus::Sent
                | WithdrawStatus::Canceled
                | WithdrawStatus::Refunded
                | WithdrawStatus::Error
        )
    }

    /// Tells whether the Pix key was paid: `sent`. An unknown status is not.
    pub fn is_paid(&self) -> bool {
        matches!(self, WithdrawStatus::Sent)
    }
}

impl fmt::Display for WithdrawStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WithdrawStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(WithdrawStatus::from_wire(&text))
    }
}

impl Serialize for WithdrawStatus {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Result of `withdraw-status`: one withdrawal's state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WithdrawInfo {
    /// `id`: the withdrawal id (`withdrawalId` in the create result).
    pub id: String,
    /// `pixKey`: the key that receives the payout.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub pix_key: Option<String>,
    /// `status`.
    pub status: WithdrawStatus,
    /// `expiration`: last moment to send DePix to `depositAddress`, RFC 3339 text as sent.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub expiration: Option<String>,
    /// `depositAddress`: the Liquid address to fund.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub deposit_address: Option<String>,
    /// `depositAmountInCents`: the DePix to send, in cents.
    #[serde(default)]
    pub deposit_amount_in_cents: Option<Cents>,
    /// `payoutAmountInCents`: the BRL paid out, in cents.
    #[serde(default)]
    pub payout_amount_in_cents: Option<Cents>,
    /// `blockchainTxID`: the Liquid transaction that funded the withdrawal.
    #[serde(rename = "blockchainTxID", default, deserialize_with = "empty_as_none")]
    pub blockchain_tx_id: Option<String>,
    /// `receiptUrl`: the bank receipt.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub receipt_url: Option<String>,
}

impl WithdrawInfo {
    /// Returns `expiration` parsed as RFC 3339, if present and valid.
    pub fn expiration_time(&self) -> Option<OffsetDateTime> {
        self.expiration
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    }
}

impl Call<Withdrawal> {
    /// Prepares a `withdraw` call with a fresh nonce, after checking the request.
    pub fn withdraw(request: &WithdrawRequest) -> Result<Call<Withdrawal>> {
        request.validate()?;
        Call::post_json("withdraw", request)
    }
}

impl Call<WithdrawInfo> {
    /// Prepares a `withdraw-status` call for the withdrawal `id`.
    pub fn withdraw_status(id: &str) -> Result<Call<WithdrawInfo>> {
        Call::get_with("withdraw-status", "id", id, "the withdrawal id")
    }
}

impl Client {
    /// Creates a withdrawal in the client's mode with a fresh nonce and drives it to its
    /// result. On an error for which [`Error::may_have_been_performed`] is true, resume with
    /// the error's nonce: the withdrawals list has no API endpoint to look it up by.
    pub fn withdraw(&self, request: &WithdrawRequest) -> Result<Withdrawal> {
        self.execute(&Call::withdraw(request)?)
            .map(|done| done.value)
    }

    /// Reads one withdrawal's status.
    pub fn withdraw_status(&self, id: &str) -> Result<WithdrawInfo> {
        self.execute(&Call::withdraw_status(id)?)
            .map(|done| done.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_exactly_one_amount() {
        let payout = WithdrawRequest::new("k", WithdrawAmount::Payout(Cents::new(12_345).unwrap()));
        assert_eq!(
            serde_json::to_value(&payout).unwrap(),
            serde_json::json!({"pixKey": "k", "payoutAmountInCents": 12345})
        );
        let deposit = WithdrawRequest::new("k", WithdrawAmount::Deposit(Cents::new(1000).unwrap()))
            .tax_number("00000000000");
        assert_eq!(
            serde_json::to_value(&deposit).unwrap(),
            serde_json::json!({"pixKey": "k", "depositAmountInCents": 1000, "taxNumber": "00000000000"})
        );
        let euid = deposit.euid("EU000000000000000");
        let json = serde_json::to_value(&euid).unwrap();
        assert_eq!(json["euid"], "EU000000000000000");
        assert!(json.get("taxNumber").is_none());
    }

    #[test]
    fn invalid_requests_fail_before_sending() {
        let empty_key = WithdrawRequest::new(" ", WithdrawAmount::Payout(Cents::new(100).unwrap()));
        assert!(matches!(
            Call::withdraw(&empty_key),
            Err(Error::InvalidInput {
                field: "pixKey",
                ..
            })
        ));
        let zero = WithdrawRequest::new("k", WithdrawAmount::Payout(Cents::from_server(0)));
        assert!(matches!(Call::withdraw(&zero), Err(Error::Amount(_))));
    }

    #[test]
    fn documented_examples_decode() {
        let created: Withdrawal = serde_json::from_str(
            r#"{"withdrawalId":"019c73cb619c701895f82a41dfde224d","depositAddress":"lq1qq","depositAmountInCents":12470,"payoutAmountInCents":12345}"#,
        )
        .unwrap();
        assert_eq!(created.deposit_amount_in_cents.get(), 12_470);
        let info: WithdrawInfo = serde_json::from_str(
            r#"{"id":"019c73cb619c701895f82a41dfde224d","pixKey":"00000000000","status":"sent","expiration":"2026-03-21T02:47:14Z","depositAddress":"lq1qq","depositAmountInCents":12470,"payoutAmountInCents":12345,"blockchainTxID":"ab"}"#,
        )
        .unwrap();
        assert_eq!(info.status, WithdrawStatus::Sent);
        assert_eq!(info.blockchain_tx_id.as_deref(), Some("ab"));
        assert_eq!(info.receipt_url, None);
        assert_eq!(
            info.expiration_time().unwrap().unix_timestamp(),
            1_774_061_234
        );
    }

    #[test]
    fn both_cancel_spellings_decode() {
        for text in ["canceled", "cancelled"] {
            assert_eq!(WithdrawStatus::from_wire(text), WithdrawStatus::Canceled);
        }
        let unknown = WithdrawStatus::from_wire("expired");
        assert_eq!(unknown.as_str(), "expired");
        assert!(!unknown.is_final());
        assert!(!unknown.is_paid());
        assert!(WithdrawStatus::Sent.is_paid());
    }
}
