//! Webhook bodies: decoding, dispatch on `webhookType` and the de-duplication key.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::WebhookError;
use crate::api::serde_util::empty_as_none;
use crate::api::{DepositInfo, WithdrawInfo};
use crate::money::Cents;

/// Largest webhook body [`Event::from_slice`] accepts: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One webhook delivery, by its `webhookType`.
///
/// ```
/// use depix::webhook::Event;
/// let body = br#"{"webhookType":"deposit","qrId":"01954e29d3337e388d5d1cb846b0d053","status":"depix_sent","valueInCents":12345}"#;
/// match Event::from_slice(body)? {
///     Event::Deposit(deposit) => assert_eq!(deposit.qr_id, "01954e29d3337e388d5d1cb846b0d053"),
///     other => panic!("expected a deposit, got {other:?}"),
/// }
/// # Ok::<(), depix::webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `deposit`, or a body without `webhookType` (the oldest API version sent none): a
    /// deposit changed status.
    Deposit(DepositEvent),
    /// `withdraw`: a withdrawal changed status.
    Withdraw(WithdrawEvent),
    /// `med`: a Pix refund claim (MED, "Mecanismo Especial de Devolução") was opened against
    /// a paid deposit.
    Med(MedEvent),
    /// A `webhookType` this crate does not know, with the whole body as sent.
    Unknown {
        /// The `webhookType` value.
        webhook_type: String,
        /// The whole body.
        body: Value,
    },
}

impl Event {
    /// Decodes a webhook body and dispatches on its `webhookType`.
    ///
    /// Bodies longer than [`MAX_BODY_BYTES`] are rejected before parsing. A missing, `null`
    /// or `""` `webhookType` means `deposit`. Type names are matched exactly (`deposit`,
    /// `withdraw`, `med`), and any other name gives [`Event::Unknown`]. Unknown fields are
    /// ignored. The deposit `qrId`, the withdrawal `id` and the MED `qrId` must be present
    /// and non-empty, and deposits and withdrawals need a `status`.
    pub fn from_slice(body: &[u8]) -> Result<Event, WebhookError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(WebhookError::BodyTooLarge {
                len: body.len(),
                max: MAX_BODY_BYTES,
            });
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|error| WebhookError::InvalidJson {
                reason: error.to_string(),
            })?;
        let Value::Object(fields) = &value else {
            return Err(invalid_event(
                "deposit",
                format!("expected a JSON object, got {}", json_kind(&value)),
            ));
        };
        let webhook_type = match fields.get("webhookType") {
            None | Some(Value::Null) => "deposit".to_owned(),
            Some(Value::String(name)) if name.is_empty() => "deposit".to_owned(),
            Some(Value::String(name)) => name.clone(),
            Some(other) => {
                return Err(invalid_event(
                    "deposit",
                    format!("webhookType must be a string, got {}", json_kind(other)),
                ));
            }
        };

        match webhook_type.as_str() {
            "deposit" => {
                let info = decode::<DepositInfo>("deposit", value)?;
                require_id("deposit", "qrId", &info.qr_id)?;
                Ok(Event::Deposit(DepositEvent { info }))
            }
            "withdraw" => {
                let info = decode::<WithdrawInfo>("withdraw", value)?;
                require_id("withdraw", "id", &info.id)?;
                Ok(Event::Withdraw(WithdrawEvent { info }))
            }
            "med" => {
                let med = decode::<MedEvent>("med", value)?;
                require_id("med", "qrId", &med.qr_id)?;
                Ok(Event::Med(med))
            }
            _ => Ok(Event::Unknown {
                webhook_type,
                body: value,
            }),
        }
    }

    /// Returns the `webhookType`, `deposit` for a body that had none.
    pub fn webhook_type(&self) -> &str {
        match self {
            Event::Deposit(_) => "deposit",
            Event::Withdraw(_) => "withdraw",
            Event::Med(_) => "med",
            Event::Unknown { webhook_type, .. } => webhook_type,
        }
    }

    /// Returns the key under which repeated deliveries of this event are the same: deposits
    /// by `qrId` and status, withdrawals by `id` and status, MED claims by `qrId`.
    ///
    /// Eulen may deliver the same webhook more than once, so a receiver stores the keys it
    /// has processed and skips an event whose key it has seen. [`Event::Unknown`] has no key
    /// because its id field is not known.
    pub fn dedupe_key(&self) -> Option<DedupeKey> {
        let (webhook_type, id, status) = match self {
            Event::Deposit(deposit) => ("deposit", &deposit.qr_id, deposit.status.as_str()),
            Event::Withdraw(withdraw) => ("withdraw", &withdraw.id, withdraw.status.as_str()),
            // NOTE: a second MED claim against the same deposit gets the same key and is
            // treated as a repeat. The API documents no claim id to tell claims apart.
            Event::Med(med) => ("med", &med.qr_id, "med"),
            Event::Unknown { .. } => return None,
        };
        Some(DedupeKey {
            webhook_type,
            id: id.clone(),
            status: status.to_owned(),
        })
    }
}

/// Body of a `deposit` webhook: the fields of a [`DepositInfo`], reachable through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DepositEvent {
    /// The deposit's state as sent. `delayUntil` is `None` when the webhook omits it.
    pub info: DepositInfo,
}

impl Deref for DepositEvent {
    type Target = DepositInfo;

    fn deref(&self) -> &DepositInfo {
        &self.info
    }
}

/// Body of a `withdraw` webhook: the fields of a [`WithdrawInfo`], reachable through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WithdrawEvent {
    /// The withdrawal's state as sent.
    pub info: WithdrawInfo,
}

impl Deref for WithdrawEvent {
    type Target = WithdrawInfo;

    fn deref(&self) -> &WithdrawInfo {
        &self.info
    }
}

/// Body of a `med` webhook: a Pix refund claim opened against a paid deposit.
///
/// Only `qrId` is required. The other fields are optional even though the schema requires
/// them, and `null`, a missing key and `""` all decode as `None`. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MedEvent {
    /// `qrId`: the deposit the claim is against.
    pub qr_id: String,
    /// `bankTxId`: the bank transaction id of the Pix payment.
    #[serde(rename = "bankTxId", default, deserialize_with = "empty_as_none")]
    pub bank_tx_id: Option<String>,
    /// `blockchainTxID`: the Liquid transaction that paid the DePix for the deposit.
    #[serde(rename = "blockchainTxID", default, deserialize_with = "empty_as_none")]
    pub blockchain_tx_id: Option<String>,
    /// `creationDateReport`: when the claim was opened, RFC 3339 text as sent (see
    /// [`MedEvent::creation_time`]).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub creation_date_report: Option<String>,
    /// `euid`: the payer's Eulen id.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub euid: Option<String>,
    /// `name`: the payer's name.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub name: Option<String>,
    /// `partnerId`: the partner the deposit belongs to.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub partner_id: Option<String>,
    /// `principalValueInCents`: the claimed amount in BRL cents. The wire value may be a
    /// JSON number (`100`) or digit text (`"100"`). A negative, fractional or non-numeric
    /// value fails the decode.
    #[serde(default, deserialize_with = "cents_number_or_text")]
    pub principal_value_in_cents: Option<Cents>,
    /// `taxNumber`: the payer's CPF or CNPJ.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tax_number: Option<String>,
}

impl MedEvent {
    /// Returns `creationDateReport` parsed as RFC 3339, if present and valid.
    pub fn creation_time(&self) -> Option<OffsetDateTime> {
        self.creation_date_report
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    }
}

/// Identity of an event for de-duplication, from [`Event::dedupe_key`].
///
/// Two deliveries with equal keys report the same change. `Display` prints
/// `<webhookType>/<id>/<status>`, for use as a database key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupeKey {
    webhook_type: &'static str,
    id: String,
    status: String,
}

impl DedupeKey {
    /// Returns the `webhookType`: `deposit`, `withdraw` or `med`.
    pub fn webhook_type(&self) -> &str {
        self.webhook_type
    }

    /// Returns the deposit `qrId` or the withdrawal `id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns the wire status (`canceled` for both spellings of a canceled withdrawal), or
    /// `med` for a MED claim.
    pub fn status(&self) -> &str {
        &self.status
    }
}

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.webhook_type, self.id, self.status)
    }
}

fn decode<T: for<'de> Deserialize<'de>>(
    webhook_type: &str,
    value: Value,
) -> Result<T, WebhookError> {
    T::deserialize(value).map_err(|error| invalid_event(webhook_type, error.to_string()))
}

fn require_id(webhook_type: &str, field: &str, id: &str) -> Result<(), WebhookError> {
    if id.trim().is_empty() {
        return Err(invalid_event(webhook_type, format!("{field} is empty")));
    }
    Ok(())
}

fn invalid_event(webhook_type: &str, reason: String) -> WebhookError {
    WebhookError::InvalidEvent {
        webhook_type: webhook_type.to_owned(),
        reason,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes whole cents given as a JSON number or as digit text. `null`, a missing key and
/// `""` mean `None`.
fn cents_number_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cents>, D::Error> {
    use serde::de::Error;

    let value: Option<Value> = Option::deserialize(d)?;
    let cents = match value {
        None => return Ok(None),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(cents) => cents,
            None if number.as_i64().is_some() => {
                return Err(D::Error::custom(format!(
                    "principalValueInCents {number} is negative, expected whole cents"
                )));
            }
            None => {
                return Err(D::Error::custom(format!(
                    "principalValueInCents {number} is not a whole number of cents"
                )));
            }
        },
        Some(Value::String(text)) if text.is_empty() => return Ok(None),
        Some(Value::String(text)) => parse_cents_text(&text).map_err(D::Error::custom)?,
        Some(other) => {
            return Err(D::Error::custom(format!(
                "principalValueInCents must be a number or digit text, got {}",
                json_kind(&other)
            )));
        }
    };
    Ok(Some(Cents::from_server(cents)))
}

fn parse_cents_text(text: &str) -> Result<u64, String> {
    let quoted: String = text.chars().take(40).collect();
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| format!("principalValueInCents {quoted:?} is too large"));
    }
    let problem = if text.starts_with('-') {
        "is negative"
    } else if text.contains(['.', ',']) {
        "is not a whole number of cents"
    } else {
        "is not a number"
    };
    Err(format!(
        "principalValueInCents {quoted:?} {problem}, expected whole cents as digits, such as \"100\""
    ))
}
