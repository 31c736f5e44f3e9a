//! Test controls on [`Sandbox`] that stage deposits, withdrawals and user records.

use serde_json::Value;
use time::OffsetDateTime;

use super::users::UserRecord;
use super::{Sandbox, WithdrawalEntry};

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
}
