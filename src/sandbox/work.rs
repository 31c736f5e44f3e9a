//! Job work: ping, deposits and their Pix2FA codes, and the ledger that the work changes.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::LedgerEntry;
use super::format::{crc16_ccitt, random_hex32, rfc3339_brasilia, uuid_v4};
use super::jobs::{Outcome, Work};
use super::listing::{Listed, select_rows};
use super::users::Users;
use super::withdrawals::Withdrawals;

/// Smallest and largest `amountInCents` a deposit accepts.
const AMOUNT_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
/// How long a new deposit's QR code stays payable.
const DEPOSIT_VALIDITY: time::Duration = time::Duration::minutes(20);
/// The Pix2FA code of a deposit until `Sandbox::set_pix2fa_code` changes it.
const DEFAULT_PIX2FA_CODE: &str = "123456";

/// One deposit: its status object, as `deposit-status` returns it, and what the API keeps
/// beside it.
#[derive(Debug)]
struct Deposit {
    status: Map<String, Value>,
    created_at: OffsetDateTime,
    pix2fa_code: String,
}

/// Everything the work changes: deposits by id and in creation order, withdrawals and user
/// records.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    deposits: HashMap<String, Deposit>,
    entries: Vec<LedgerEntry>,
    pub withdrawals: Withdrawals,
    pub users: Users,
    /// Number of `bankTxId` values made so far, which keeps each one unique.
    bank_tx_count: u64,
}

impl Ledger {
    /// Performs a job's work and returns its outcome.
    ///
    /// `result_origin` is the results listener's origin, used in `qrImageUrl`, and `now` is
    /// the sandbox's clock, which dates what the work creates.
    pub fn perform(
        &mut self,
        nonce: &str,
        work: &Work,
        result_origin: &str,
        now: OffsetDateTime,
    ) -> Outcome {
        match work {
            Work::Ping => ping(now),
            Work::Deposit { amount, body } => match amount {
                Some(cents) if AMOUNT_RANGE.contains(cents) => {
                    self.create_deposit(nonce, *cents, body, result_origin, now)
                }
                _ => api_error(400, "amountInCents out of range"),
            },
            Work::DepositStatus { id } => self.status(id),
            Work::DepositList { start, end, status } => Outcome {
                status: 200,
                body: self.list(*start, *end, status.as_deref()),
                bare: false,
            },
            Work::UserInfo { euid, bare } => self.users.info(euid, *bare, now),
            Work::Pix2fa { body } => self.verify_pix2fa(body),
            Work::Withdraw { fields, body } => self.withdrawals.create(nonce, fields, body, now),
            Work::WithdrawStatus { id } => self.withdrawals.status(id),
        }
    }

    /// Adds a deposit created at `created_at`, with its `expiration` 20 minutes later, and
    /// returns its id. `nonce` is `""` for deposits that no request created.
    pub fn add_deposit(
        &mut self,
        nonce: &str,
        cents: i64,
        body: &[u8],
        created_at: OffsetDateTime,
        status: &str,
    ) -> String {
        let id = random_hex32();
        let status = json!({
            "qrId": id,
            "status": status,
            "valueInCents": cents,
            "expiration": rfc3339_brasilia(created_at + DEPOSIT_VALIDITY),
            "pixKey": uuid_v4(),
        });
        let Value::Object(status) = status else {
            unreachable!("json! of an object literal is an object")
        };
        let deposit = Deposit {
            status,
            created_at,
            pix2fa_code: DEFAULT_PIX2FA_CODE.to_string(),
        };
        self.deposits.insert(id.clone(), deposit);
        self.entries.push(LedgerEntry {
            id: id.clone(),
            nonce: nonce.to_string(),
            amount_in_cents: cents,
            request_body: body.to_vec(),
        });
        id
    }

    fn create_deposit(
        &mut self,
        nonce: &str,
        cents: i64,
        body: &[u8],
        origin: &str,
        now: OffsetDateTime,
    ) -> Outcome {
        let id = self.add_deposit(nonce, cents, body, now, "pending");
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
        match self.deposits.get(id) {
            Some(deposit) => Outcome {
                status: 200,
                body: Value::Object(deposit.status.clone()),
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

    fn list(&self, start: OffsetDateTime, end: OffsetDateTime, status: Option<&str>) -> Value {
        let listed = self.deposits.iter().map(|(id, deposit)| Listed {
            id,
            created_at: deposit.created_at,
            status: &deposit.status,
        });
        select_rows(listed, start, end, status)
    }

    /// Checks a Pix2FA code and, when it matches, moves the deposit to `depix_sent`.
    ///
    /// The checks run in this order: the deposit exists (else 404), it is in
    /// `pending_pix2fa`, and the code matches. A failed check changes nothing.
    ///
    /// NOTE: no deposit webhook is sent, because jobs run under the state lock and a
    /// delivery must not. A test that needs it can call `Sandbox::pay_deposit` afterwards.
    fn verify_pix2fa(&mut self, body: &Map<String, Value>) -> Outcome {
        let Some(id) = body.get("qrId").and_then(Value::as_str) else {
            return api_error(400, "missing qrId: expected a string");
        };
        let Some(code) = body.get("pixTwoFactorCode").and_then(Value::as_str) else {
            return api_error(400, "missing pixTwoFactorCode: expected a string");
        };
        let Some(deposit) = self.deposits.get_mut(id) else {
            return api_error(404, &format!("deposit {id} not found"));
        };
        if deposit.status.get("status").and_then(Value::as_str) != Some("pending_pix2fa") {
            return api_error(400, "deposit is not waiting for a pix2FA code");
        }
        if code != deposit.pix2fa_code {
            return api_error(400, "invalid pix2FA code");
        }
        deposit.status.insert("status".into(), "depix_sent".into());
        let transaction = deposit
            .status
            .get("bankTxId")
            .and_then(Value::as_str)
            .unwrap_or(id);
        let message = format!("Transaction ID {transaction} verified pix2FA code successfully.");
        log::debug!("sandbox verified the pix2FA code of deposit {id}");
        Outcome {
            status: 200,
            body: json!({ "message": message }),
            bare: false,
        }
    }

    /// Returns every created deposit, in creation order.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Returns whether a deposit with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.deposits.contains_key(id)
    }

    /// Returns the deposit's status object for changing, or `None` for an unknown id.
    pub fn status_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        self.deposits.get_mut(id).map(|deposit| &mut deposit.status)
    }

    /// Returns a new `bankTxId`, unique within this sandbox: `fitbank_` and a Pix end-to-end
    /// id, whose 32 characters are `E`, an 8-digit ISPB, `yyyyMMddHHmm` in UTC and 11 more.
    pub fn next_bank_tx_id(&mut self, now: OffsetDateTime) -> String {
        self.bank_tx_count += 1;
        let minute = now
            .to_offset(time::UtcOffset::UTC)
            .format(time::macros::format_description!(
                "[year][month][day][hour][minute]"
            ))
            .expect("formatting a valid time");
        format!("fitbank_E00000000{minute}{:011}", self.bank_tx_count)
    }

    /// Sets the code that `pix2fa` accepts for a deposit; returns `false` for an unknown id.
    pub fn set_pix2fa_code(&mut self, id: &str, code: &str) -> bool {
        match self.deposits.get_mut(id) {
            Some(deposit) => {
                deposit.pix2fa_code = code.to_string();
                true
            }
            None => false,
        }
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

fn ping(now: OffsetDateTime) -> Outcome {
    let now = now.unix_timestamp();
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
            let outcome =
                ledger.perform("n", &work, "http://127.0.0.1:1", OffsetDateTime::now_utc());
            assert_eq!(outcome.status, 400);
        }
        assert!(ledger.entries().is_empty());
    }
}
