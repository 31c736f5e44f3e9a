//! Test controls on [`Sandbox`] that stage deposits, withdrawals and user records, and
//! send webhooks.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::format::{random_hex32, rfc3339_brasilia};
use super::users::UserRecord;
use super::{Sandbox, WebhookDelivery, WebhookKind, WithdrawalEntry};

// Payer fields that `Sandbox::pay_deposit` sets and MED webhooks fall back to.
const PAYER_NAME: &str = "PAYER NAME";
const PAYER_TAX_NUMBER: &str = "00000000000";
const PAYER_EUID: &str = "EU000000000000000";

impl Sandbox {
    /// Adds a deposit as if it had been created at `created_at`, and returns its id.
    ///
    /// No request or job is involved: its [`LedgerEntry`](super::LedgerEntry) has the nonce
    /// `""` and an empty body. The status object is that of a created deposit with this
    /// `status` and an `expiration` 20 minutes after `created_at`. The amount is not checked
    /// against the API's range, so tests can stage any row for the `deposits` list.
    pub fn insert_deposit(
        &self,
        created_at: OffsetDateTime,
        amount_in_cents: i64,
        status: &str,
    ) -> String {
        let mut state = self.shared.state();
        state
            .ledger
            .add_deposit("", amount_in_cents, &[], created_at, status)
    }

    /// Sets a deposit's `status` to any string, unknown values included. It sends no
    /// webhook.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn set_deposit_status(&self, id: &str, status: &str) {
        let mut state = self.shared.state();
        let fields = state
            .ledger
            .status_mut(id)
            .unwrap_or_else(|| panic!("set_deposit_status: no deposit with id {id:?}"));
        fields.insert("status".into(), status.into());
    }

    /// Sets the code that `POST /api/pix2fa` accepts for a deposit. Default: `"123456"`.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn set_pix2fa_code(&self, id: &str, code: &str) {
        let known = self.shared.state().ledger.set_pix2fa_code(id, code);
        assert!(known, "set_pix2fa_code: no deposit with id {id:?}");
    }

    /// Sets what `GET /api/user-info` returns for an EUID, replacing any earlier values.
    ///
    /// An EUID never set gets a daily volume of 0, a daily maximum of 50,000 cents and
    /// `isBlocked: false`.
    pub fn set_user(
        &self,
        euid: &str,
        daily_volume_in_cents: i64,
        max_daily_in_cents: i64,
        is_blocked: bool,
    ) {
        let record = UserRecord {
            daily_volume_in_cents,
            max_daily_in_cents,
            is_blocked,
        };
        self.shared.state().ledger.users.set(euid, record);
    }

    /// Returns every created withdrawal, in creation order, after performing the jobs whose
    /// processing time has passed.
    pub fn withdrawals(&self) -> Vec<WithdrawalEntry> {
        self.shared.state().ledger.withdrawals.entries().to_vec()
    }

    /// Shallow-merges the keys of a JSON object into a withdrawal's status object, as later
    /// `withdraw-status` calls return it. It sends no webhook.
    ///
    /// # Panics
    ///
    /// Panics if no withdrawal has this id, or if `fields` is not a JSON object.
    pub fn update_withdrawal(&self, id: &str, fields: Value) {
        let Value::Object(fields) = fields else {
            panic!("update_withdrawal expects a JSON object, got {fields}");
        };
        let mut state = self.shared.state();
        let status = state
            .ledger
            .withdrawals
            .status_mut(id)
            .unwrap_or_else(|| panic!("update_withdrawal: no withdrawal with id {id:?}"));
        status.extend(fields);
    }

    /// Marks a deposit paid and sends a deposit webhook if one is configured.
    ///
    /// Sets `status` to `depix_sent`, `payerName` to `"PAYER NAME"`, `payerTaxNumber` to
    /// `"00000000000"`, `payerEUID` to `"EU000000000000000"`, `bankTxId` to a unique
    /// `fitbank_E…` value and `blockchainTxID` to 64 hex digits. A `bankTxId` or
    /// `blockchainTxID` that is already a string is kept, so paying twice does not change
    /// the transaction ids.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn pay_deposit(&self, id: &str) {
        self.change_deposit("pay_deposit", id, |status, bank_tx_id| {
            status.insert("status".into(), "depix_sent".into());
            status.insert("payerName".into(), PAYER_NAME.into());
            status.insert("payerTaxNumber".into(), PAYER_TAX_NUMBER.into());
            status.insert("payerEUID".into(), PAYER_EUID.into());
            if !status.get("bankTxId").is_some_and(Value::is_string) {
                status.insert("bankTxId".into(), bank_tx_id.into());
            }
            if !status.get("blockchainTxID").is_some_and(Value::is_string) {
                let transaction = random_hex32() + &random_hex32();
                status.insert("blockchainTxID".into(), transaction.into());
            }
        });
    }

    /// Sets a deposit's `status` to `expired` and sends a deposit webhook if one is
    /// configured.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn expire_deposit(&self, id: &str) {
        self.change_deposit("expire_deposit", id, |status, _| {
            status.insert("status".into(), "expired".into());
        });
    }

    /// Sets a deposit's `status` to `refunded` and sends a deposit webhook if one is
    /// configured.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn refund_deposit(&self, id: &str) {
        self.change_deposit("refund_deposit", id, |status, _| {
            status.insert("status".into(), "refunded".into());
        });
    }

    /// Applies `change` to a deposit's status object, then sends the changed object as a
    /// deposit webhook. `change` also gets a fresh `bankTxId` it may use.
    fn change_deposit(
        &self,
        caller: &str,
        id: &str,
        change: impl FnOnce(&mut Map<String, Value>, String),
    ) {
        let fields = {
            let mut state = self.shared.state();
            let bank_tx_id = state.ledger.next_bank_tx_id(self.shared.now_utc());
            let status = state
                .ledger
                .status_mut(id)
                .unwrap_or_else(|| panic!("{caller}: no deposit with id {id:?}"));
            change(status, bank_tx_id);
            status.clone()
        };
        // The state lock is released, so a receiver may call the API while it handles this.
        self.shared.send_webhook(WebhookKind::Deposit, &fields);
    }

    /// Sets a withdrawal's `status`, as `withdraw-status` returns it, and sends a withdraw
    /// webhook with the whole status object if one is configured.
    ///
    /// # Panics
    ///
    /// Panics if no withdrawal has this id.
    pub fn set_withdraw_status(&self, id: &str, status: &str) {
        let fields = {
            let mut state = self.shared.state();
            let fields = state
                .ledger
                .withdrawals
                .status_mut(id)
                .unwrap_or_else(|| panic!("set_withdraw_status: no withdrawal with id {id:?}"));
            fields.insert("status".into(), status.into());
            fields.clone()
        };
        self.shared.send_webhook(WebhookKind::Withdraw, &fields);
    }

    /// Sends a MED webhook for a deposit if a webhook is configured; the deposit is not
    /// changed.
    ///
    /// The body has `qrId`, `bankTxId` and `blockchainTxID` from the deposit, which are
    /// `null` when it was never paid, and `creationDateReport`, the current time at -03:00.
    /// `euid`, `name` and `taxNumber` come from the deposit's payer fields, or are the
    /// [`Sandbox::pay_deposit`] values when those fields are not strings. `partnerId` is
    /// `"sandbox_partner"`, and `principalValueInCents` is the deposit's `valueInCents` as a
    /// JSON string such as `"100"`, as the real API sends it.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn deliver_med(&self, deposit_id: &str) {
        let fields = {
            let mut state = self.shared.state();
            let status = state
                .ledger
                .status_mut(deposit_id)
                .unwrap_or_else(|| panic!("deliver_med: no deposit with id {deposit_id:?}"));
            med_fields(deposit_id, status, self.shared.now_utc())
        };
        self.shared.send_webhook(WebhookKind::Med, &fields);
    }

    /// Returns every webhook delivery attempt so far, in the order they were made.
    ///
    /// Deliveries are synchronous, so a delivery shows here once the control that triggered
    /// it has returned.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.deliveries()
    }
}

/// Builds the fields of a MED webhook from a deposit's status object.
fn med_fields(id: &str, status: &Map<String, Value>, now: OffsetDateTime) -> Map<String, Value> {
    let field = |key: &str| status.get(key).cloned().unwrap_or(Value::Null);
    let text_or = |key: &str, default: &str| match status.get(key) {
        Some(Value::String(text)) => text.clone(),
        _ => default.to_string(),
    };
    let principal = match status.get("valueInCents") {
        Some(Value::Number(cents)) => Value::String(cents.to_string()),
        _ => Value::Null,
    };
    let fields = json!({
        "qrId": id,
        "bankTxId": field("bankTxId"),
        "blockchainTxID": field("blockchainTxID"),
        "creationDateReport": rfc3339_brasilia(now),
        "euid": text_or("payerEUID", PAYER_EUID),
        "name": text_or("payerName", PAYER_NAME),
        "partnerId": "sandbox_partner",
        "principalValueInCents": principal,
        "taxNumber": text_or("payerTaxNumber", PAYER_TAX_NUMBER),
    });
    let Value::Object(fields) = fields else {
        unreachable!("json! of an object literal is an object")
    };
    fields
}
