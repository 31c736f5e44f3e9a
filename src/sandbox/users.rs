//! Per-EUID daily limits, as `GET /api/user-info` returns them.

use std::collections::HashMap;

use serde_json::json;
use time::OffsetDateTime;

use super::format::{BRASILIA, rfc3339_brasilia};
use super::jobs::Outcome;

/// Daily limits of one payer, set by `Sandbox::set_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserRecord {
    pub daily_volume_in_cents: i64,
    pub max_daily_in_cents: i64,
    pub is_blocked: bool,
}

impl Default for UserRecord {
    /// Returns the record of an EUID the test never set: no volume, a 500.00 BRL daily
    /// maximum and not blocked.
    fn default() -> Self {
        UserRecord {
            daily_volume_in_cents: 0,
            max_daily_in_cents: 50_000,
            is_blocked: false,
        }
    }
}

/// User records by EUID.
#[derive(Debug, Default)]
pub(crate) struct Users {
    records: HashMap<String, UserRecord>,
}

impl Users {
    /// Stores the record of one EUID, replacing any earlier one.
    pub fn set(&mut self, euid: &str, record: UserRecord) {
        self.records.insert(euid.to_string(), record);
    }

    /// Builds the `user-info` outcome; an unknown EUID gets [`UserRecord::default`].
    pub fn info(&self, euid: &str, bare: bool, now: OffsetDateTime) -> Outcome {
        let record = self.records.get(euid).copied().unwrap_or_default();
        Outcome {
            status: 200,
            body: json!({
                "dailyVolumeInCents": record.daily_volume_in_cents,
                "maxDailyInCents": record.max_daily_in_cents,
                "isBlocked": record.is_blocked,
                "dailyLimitResetTime": rfc3339_brasilia(next_daily_reset(now)),
            }),
            bare,
        }
    }
}

/// Returns the next midnight at -03:00 strictly after `now`, when daily volumes reset.
fn next_daily_reset(now: OffsetDateTime) -> OffsetDateTime {
    let today = now.to_offset(BRASILIA).date();
    let tomorrow = today.next_day().expect("the sandbox runs before year 9999");
    tomorrow.midnight().assume_offset(BRASILIA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn reset_is_next_midnight_in_brasilia() {
        // 02:30 UTC is still the previous day in Brasília.
        let late_evening = datetime!(2026-03-21 02:30 UTC);
        assert_eq!(
            next_daily_reset(late_evening),
            datetime!(2026-03-21 00:00 -3)
        );
        let exactly_midnight = datetime!(2026-03-21 00:00 -3);
        assert_eq!(
            next_daily_reset(exactly_midnight),
            datetime!(2026-03-22 00:00 -3)
        );
    }

    #[test]
    fn unknown_euid_gets_defaults() {
        let users = Users::default();
        let outcome = users.info("EU1", false, datetime!(2026-03-21 12:00 UTC));
        assert_eq!(outcome.body["dailyVolumeInCents"], 0);
        assert_eq!(outcome.body["maxDailyInCents"], 50_000);
        assert_eq!(outcome.body["isBlocked"], false);
        assert_eq!(
            outcome.body["dailyLimitResetTime"],
            "2026-03-22T00:00:00-03:00"
        );
    }
}
