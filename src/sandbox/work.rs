//! Job work: ping, deposit creation and deposit status, and the ledger they change.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::LedgerEntry;
use super::format::{crc16_ccitt, random_hex32, rfc3339_brasilia, uuid_v4};
use super::jobs::{Outcome, Work};

/// Smallest and largest `amountInCents` a deposit accepts.
const AMOUNT_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
/// How long a new deposit's QR code stays payable.
const DEPOSIT_VALIDITY: time::Duration = time::Duration::minutes(20);

/// Created deposits: their status objects by id, and the ledger in creation order.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    statuses: HashMap<String, Map<String, Value>>,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    /// Performs a job's work and returns its outcome.
    ///
    /// `result_origin` is the results listener's origin, used in `qrImageUrl`.
    pub fn perform(&mut self, nonce: &str, work: &Work, result_origin: &str) -> Outcome {
        match work {
            Work::Ping => ping(),
            Work::Deposit { amount, body } => match amount {
                Some(cents) if AMOUNT_RANGE.contains(cents) => {
                    self.create_deposit(nonce, *cents, body, result_origin)
                }
                _ => api_error(400, "amountInCents out of range"),
            },
            Work::DepositStatus { id } => self.status(id),
        }
    }

    fn create_deposit(&mut self, nonce: &str, cents: i64, body: &[u8], origin: &str) -> Outcome {
        let id = random_hex32();
        let now = OffsetDateTime::now_utc();
        let status = json!({
            "qrId": id,
            "status": "pending",
            "valueInCents": cents,
            "expiration": rfc3339_brasilia(now + DEPOSIT_VALIDITY),
            "pixKey": uuid_v4(),
        });
        let Value::Object(status) = status else {
            unreachable!("json! of an object literal is an object")
        };
        self.statuses.insert(id.clone(), status);
        self.entries.push(LedgerEntry {
            id: id.clone(),
            nonce: nonce.to_string(),
            amount_in_cents: cents,
            request_body: body.to_vec(),
        });
        log::debug!("sandbox created deposit {id} of {cents} cents for nonce {nonce}");
        Outcome {
            status: 200,
            body: json!({
                "id": id,
                "qrCopyPaste": emv_copy_paste(&id, cents),
                "qrImageUrl": format!("{origin}/qr/{id}.png"),
            }),
            bare: false,
        }
    }

    fn status(&self, id: &str) -> Outcome {
        match self.statuses.get(id) {
            Some(status) => Outcome {
                status: 200,
                body: Value::Object(status.clone()),
                bare: false,
            },
            // The API responds to an unknown id with a bare `{}` and 404, not an error envelope.
            None => Outcome {
                status: 404,
                body: json!({}),
                bare: true,
            },
        }
    }

    /// Returns every created deposit, in creation order.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Returns whether a deposit with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.statuses.contains_key(id)
    }

    /// Returns the deposit's status object for changing, or `None` for an unknown id.
    pub fn status_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        self.statuses.get_mut(id)
    }
}

/// Builds the outcome of a failed call: `{"errorMessage": message}` with an error status.
pub(crate) fn api_error(status: u16, message: &str) -> Outcome {
    Outcome {
        status,
        body: json!({ "errorMessage": message }),
        bare: false,
    }
}

fn ping() -> Outcome {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Outcome {
        status: 200,
        body: json!({
            "msg": "Pong!",
            "claims_for_token_debug": {
                "alg": "RS256",
                "env": "sandbox",
                "exp": now + 86_400,
                "iat": now,
                "jti": "0123456789ab",
                "scope": ["deposit", "withdraw"],
                "sub": "sandbox_partner",
                "typ": "JWT",
            },
        }),
        bare: false,
    }
}

/// Formats one EMV tag-length-value field; every value here is shorter than 100 bytes.
fn emv_field(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

/// Builds a fake Pix "copy and paste" EMV payload that contains the deposit id.
///
/// The layout (merchant account, amount, country, name, city) follows the static Pix QR
/// format, and the last field is its CRC-16, so parsers that check the checksum accept it.
/// The merchant URL is under the reserved `.invalid` domain, so it never resolves.
fn emv_copy_paste(id: &str, cents: i64) -> String {
    let account = emv_field("00", "br.gov.bcb.pix")
        + &emv_field("25", &format!("sandbox.depix.invalid/qr/{id}"));
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    let mut payload = String::from("000201");
    payload += &emv_field("26", &account);
    payload += "52040000";
    payload += "5303986";
    payload += &emv_field("54", &amount);
    payload += "5802BR";
    payload += &emv_field("59", "DEPIX SANDBOX");
    payload += &emv_field("60", "SAO PAULO");
    payload += &emv_field("62", &emv_field("05", "***"));
    payload += "6304";
    let crc = crc16_ccitt(payload.as_bytes());
    format!("{payload}{crc:04X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emv_payload_contains_id_and_valid_crc() {
        let id = "0123456789abcdef0123456789abcdef";
        let payload = emv_copy_paste(id, 12_345);
        assert!(payload.starts_with("00020126"));
        assert!(payload.contains(id));
        assert!(payload.contains("5406123.45"));
        let (body, crc) = payload.split_at(payload.len() - 4);
        assert_eq!(crc, format!("{:04X}", crc16_ccitt(body.as_bytes())));
    }

    #[test]
    fn amount_outside_range_is_an_api_error() {
        let mut ledger = Ledger::default();
        for amount in [None, Some(0), Some(10_000_001)] {
            let work = Work::Deposit {
                amount,
                body: Vec::new(),
            };
            let outcome = ledger.perform("n", &work, "http://127.0.0.1:1");
            assert_eq!(outcome.status, 400);
        }
        assert!(ledger.entries().is_empty());
    }
}
