//! `POST deposit` (Pix to DePix) and `GET deposit-status`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::serde_util::empty_as_none;
use super::split::SplitFee;
use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::money::Cents;

/// Body of `POST deposit`: a Pix charge to create.
///
/// ```
/// use depix::{Cents, DepositRequest};
/// let request = DepositRequest::new(Cents::from_reais("19.99")?)
///     .end_user_tax_number("01234567890")
///     .end_user_full_name("Maria Silva");
/// # let _ = request;
/// # Ok::<(), depix::AmountError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositRequest {
    amount_in_cents: Cents,
    #[serde(skip_serializing_if = "Option::is_none")]
    depix_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    depix_split_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split_fee: Option<SplitFee>,
    #[serde(skip_serializing_if = "Option::is_none")]
    euid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_user_full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_user_tax_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    whitelist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lightning: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pix2fa: Option<bool>,
    #[serde(rename = "pix2faMessage", skip_serializing_if = "Option::is_none")]
    pix2fa_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_depix_in_hours: Option<u16>,
}

impl DepositRequest {
    /// Starts a request for `amountInCents`; it must lie in 1..=10,000,000 cents, checked
    /// before any byte is sent.
    pub fn new(amount: Cents) -> DepositRequest {
        DepositRequest {
            amount_in_cents: amount,
            depix_address: None,
            depix_split_address: None,
            split_fee: None,
            euid: None,
            end_user_full_name: None,
            end_user_tax_number: None,
            whitelist: None,
            lightning: None,
            pix2fa: None,
            pix2fa_message: None,
            delay_depix_in_hours: None,
        }
    }

    /// Returns `amountInCents`.
    pub fn amount(&self) -> Cents {
        self.amount_in_cents
    }

    /// Sets `depixAddress`, the Liquid address receiving the DePix. Default: the partner's
    /// registered address.
    pub fn depix_address(mut self, address: impl Into<String>) -> Self {
        self.depix_address = Some(address.into());
        self
    }

    /// Sets `depixSplitAddress` and `splitFee`: the address that receives a share of the
    /// deposit, and the share, sent as a percentage text such as `"2.99%"`.
    pub fn split(mut self, address: impl Into<String>, fee: SplitFee) -> Self {
        self.depix_split_address = Some(address.into());
        self.split_fee = Some(fee);
        self
    }

    /// Sets `euid`, the end user's Eulen id (`EU` and 15 digits).
    pub fn euid(mut self, euid: impl Into<String>) -> Self {
        self.euid = Some(euid.into());
        self
    }

    /// Sets `endUserFullName`.
    pub fn end_user_full_name(mut self, name: impl Into<String>) -> Self {
        self.end_user_full_name = Some(name.into());
        self
    }

    /// Sets `endUserTaxNumber`, the payer's CPF or CNPJ, sent as text so leading zeros stay.
    pub fn end_user_tax_number(mut self, tax_number: impl Into<String>) -> Self {
        self.end_user_tax_number = Some(tax_number.into());
        self
    }

    /// Sets `whitelist`. Default: not sent (the server takes `false`).
    pub fn whitelist(mut self, whitelist: bool) -> Self {
        self.whitelist = Some(whitelist);
        self
    }

    /// Sets `lightning`. Default: not sent (the server takes `false`).
    pub fn lightning(mut self, lightning: bool) -> Self {
        self.lightning = Some(lightning);
        self
    }

    /// Sets `pix2fa`, forcing the Pix2FA flow. Default: not sent.
    pub fn pix2fa(mut self, pix2fa: bool) -> Self {
        self.pix2fa = Some(pix2fa);
        self
    }

    /// Sets `pix2faMessage`, the text shown in the Pix description; with `pix2fa` it must
    /// contain `%s`, where the server puts the 6-digit code.
    pub fn pix2fa_message(mut self, message: impl Into<String>) -> Self {
        self.pix2fa_message = Some(message.into());
        self
    }

    /// Sets `delayDepixInHours`, 1..=720: how long after payment the DePix is sent.
    pub fn delay_depix_in_hours(mut self, hours: u16) -> Self {
        self.delay_depix_in_hours = Some(hours);
        self
    }

    /// Checks the constraints the API documents, so an invalid request fails before sending:
    /// the amount range, `delayDepixInHours` in 1..=720, `%s` in `pix2faMessage` when `pix2fa`
    /// is set, and a split address with a split fee. Identifiers such as `euid` and
    /// `endUserTaxNumber` are sent as given, since the API accepts several formats.
    pub fn validate(&self) -> Result<()> {
        self.amount_in_cents.check_request_range()?;
        if let Some(hours) = self.delay_depix_in_hours {
            if !(1..=720).contains(&hours) {
                return Err(invalid(
                    "delayDepixInHours",
                    format!("{hours} is out of range 1..=720 hours"),
                ));
            }
        }
        if self.pix2fa == Some(true) {
            let message = self.pix2fa_message.as_deref().unwrap_or("%s");
            if !message.contains("%s") {
                return Err(invalid(
                    "pix2faMessage",
                    "with pix2fa set it must contain %s, where the 6-digit code goes".to_owned(),
                ));
            }
        }
        let present =
            |field: &Option<String>| field.as_deref().is_some_and(|t| !t.trim().is_empty());
        if self.split_fee.is_some() && !present(&self.depix_split_address) {
            return Err(invalid(
                "depixSplitAddress",
                "a splitFee needs a non-empty split address".to_owned(),
            ));
        }
        Ok(())
    }
}

fn invalid(field: &'static str, reason: String) -> Error {
    Error::InvalidInput { field, reason }
}

/// Result of `POST deposit`: the Pix charge to show the payer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Deposit {
    /// `id`: the deposit id for `deposit-status` (32 hex characters).
    pub id: String,
    /// `qrCopyPaste`: the Pix "copia e cola" text (EMV BR Code).
    pub qr_copy_paste: String,
    /// `qrImageUrl`: URL of a PNG of the QR code.
    pub qr_image_url: String,
}

/// Status of a deposit, from `deposit-status`, `deposits` and webhooks.
///
/// A value this crate does not know is kept in [`DepositStatus::Unknown`], so a status added
/// by the server never fails a decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DepositStatus {
    /// `pending`: QR created, waiting for payment.
    Pending,
    /// `under_review`: payment received and held for review.
    UnderReview,
    /// `depix_sent`: payment approved and DePix sent.
    DepixSent,
    /// `canceled`: canceled by the payer, the partner or Eulen.
    Canceled,
    /// `error`: processing failed.
    Error,
    /// `refunded`: the money went back to the payer.
    Refunded,
    /// `expired`: the QR expired unpaid.
    Expired,
    /// `pending_pix2fa`: waiting for the Pix2FA code.
    PendingPix2fa,
    /// `delayed`: paid; the DePix is held until `delayUntil`.
    Delayed,
    /// `approved`: payment approved, DePix not sent yet.
    Approved,
    /// `will_refund`: a refund was decided and not done yet.
    WillRefund,
    /// Any other value, kept as sent.
    Unknown(String),
}

impl DepositStatus {
    /// Parses a wire value; unknown values become [`DepositStatus::Unknown`].
    pub fn from_wire(value: &str) -> DepositStatus {
        match value {
            "pending" => DepositStatus::Pending,
            "under_review" => DepositStatus::UnderReview,
            "depix_sent" => DepositStatus::DepixSent,
            "canceled" => DepositStatus::Canceled,
            "error" => DepositStatus::Error,
            "refunded" => DepositStatus::Refunded,
            "expired" => DepositStatus::Expired,
            "pending_pix2fa" => DepositStatus::PendingPix2fa,
            "delayed" => DepositStatus::Delayed,
            "approved" => DepositStatus::Approved,
            "will_refund" => DepositStatus::WillRefund,
            other => DepositStatus::Unknown(other.to_owned()),
        }
    }

    /// Returns the wire value.
    pub fn as_str(&self) -> &str {
        match self {
            DepositStatus::Pending => "pending",
            DepositStatus::UnderReview => "under_review",
            DepositStatus::DepixSent => "depix_sent",
            DepositStatus::Canceled => "canceled",
            DepositStatus::Error => "error",
            DepositStatus::Refunded => "refunded",
            DepositStatus::Expired => "expired",
            DepositStatus::PendingPix2fa => "pending_pix2fa",
            DepositStatus::Delayed => "delayed",
            DepositStatus::Approved => "approved",
            DepositStatus::WillRefund => "will_refund",
            DepositStatus::Unknown(value) => value,
        }
    }

    /// Tells whether the status will not change any more: `depix_sent`, `refunded`,
    /// `canceled`, `error` or `expired`. An unknown status is not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DepositStatus::DepixSent
                | DepositStatus::Refunded
                | DepositStatus::Canceled
                | DepositStatus::Error
                | DepositStatus::Expired
        )
    }

    /// Tells whether the deposit succeeded: `depix_sent`. An unknown status is not a success.
    pub fn is_success(&self) -> bool {
        matches!(self, DepositStatus::DepixSent)
    }

    /// Tells whether the payer's Pix arrived: `under_review`, `pending_pix2fa`, `approved`,
    /// `delayed`, `depix_sent`, `will_refund` and `refunded` (the last two because the money
    /// arrived before it was sent back). `pending`, `expired`, `canceled`, `error` and unknown
    /// statuses return false.
    ///
    /// | status | final | paid |
    /// |---|---|---|
    /// | `pending` | no | no |
    /// | `pending_pix2fa`, `under_review`, `approved`, `delayed`, `will_refund` | no | yes |
    /// | `depix_sent`, `refunded` | yes | yes |
    /// | `expired`, `canceled`, `error` | yes | no |
    /// | unknown | no | no |
    pub fn is_paid(&self) -> bool {
        matches!(
            self,
            DepositStatus::UnderReview
                | DepositStatus::PendingPix2fa
                | DepositStatus::Approved
                | DepositStatus::Delayed
                | DepositStatus::DepixSent
                | DepositStatus::WillRefund
                | DepositStatus::Refunded
        )
    }
}

impl fmt::Display for DepositStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DepositStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(DepositStatus::from_wire(&text))
    }
}

impl Serialize for DepositStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Result of `deposit-status`: one deposit's state.
///
/// Payer fields exist only after payment, so they are optional; `null`, a missing key and
/// `""` all decode as `None`. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DepositInfo {
    /// `qrId`: the deposit id.
    pub qr_id: String,
    /// `status`.
    pub status: DepositStatus,
    /// `valueInCents`: the charged amount in BRL cents.
    #[serde(default, deserialize_with = "cents_option")]
    pub value_in_cents: Option<Cents>,
    /// `expiration`: when the QR expires, RFC 3339 text as sent (see [`DepositInfo::expiration_time`]).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub expiration: Option<String>,
    /// `pixKey`: the Pix key tied to the QR.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub pix_key: Option<String>,
    /// `payerName`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub payer_name: Option<String>,
    /// `payerTaxNumber`: the payer's CPF or CNPJ.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub payer_tax_number: Option<String>,
    /// `payerEUID`: the payer's Eulen id.
    #[serde(rename = "payerEUID", default, deserialize_with = "empty_as_none")]
    pub payer_euid: Option<String>,
    /// `bankTxId`: the bank transaction id.
    #[serde(rename = "bankTxId", default, deserialize_with = "empty_as_none")]
    pub bank_tx_id: Option<String>,
    /// `blockchainTxID`: the Liquid transaction that paid the DePix.
    #[serde(rename = "blockchainTxID", default, deserialize_with = "empty_as_none")]
    pub blockchain_tx_id: Option<String>,
    /// `customerMessage`: text the payer typed.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub customer_message: Option<String>,
    /// `delayUntil`: when a `delayed` deposit will be processed, RFC 3339 text.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub delay_until: Option<String>,
}

impl DepositInfo {
    /// Returns `expiration` parsed as RFC 3339, if present and valid.
    pub fn expiration_time(&self) -> Option<OffsetDateTime> {
        self.expiration
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    }
}

fn cents_option<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Cents>, D::Error> {
    let value: Option<u64> = Option::deserialize(d)?;
    Ok(value.map(Cents::from_server))
}

impl Call<Deposit> {
    /// Prepares a `deposit` call with a fresh nonce, after checking the request.
    pub fn deposit(request: &DepositRequest) -> Result<Call<Deposit>> {
        request.validate()?;
        Call::post_json("deposit", request)
    }
}

impl Call<DepositInfo> {
    /// Prepares a `deposit-status` call for the deposit `id`.
    pub fn deposit_status(id: &str) -> Result<Call<DepositInfo>> {
        Call::get_with("deposit-status", "id", id, "the deposit id")
    }
}

impl Client {
    /// Creates a deposit in the client's mode with a fresh nonce and drives it to its result.
    ///
    /// If it fails with an error for which [`Error::may_have_been_performed`] is true, resume
    /// it with the error's nonce ([`Call::with_nonce`]) instead of calling this again.
    pub fn deposit(&self, request: &DepositRequest) -> Result<Deposit> {
        self.execute(&Call::deposit(request)?)
            .map(|done| done.value)
    }

    /// Reads one deposit's status.
    pub fn deposit_status(&self, id: &str) -> Result<DepositInfo> {
        self.execute(&Call::deposit_status(id)?)
            .map(|done| done.value)
    }
}

#[cfg(test)]
mod tests;
