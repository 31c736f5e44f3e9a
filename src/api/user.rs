//! `GET user-info`: an end user's daily limit state.

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::serde_util::empty_as_none;
use crate::call::Call;
use crate::client::Client;
use crate::error::Result;
use crate::money::Cents;

/// Result of `user-info`: how much of the end user's daily limit is used.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserInfo {
    /// `dailyVolumeInCents`: BRL cents already used today.
    #[serde(deserialize_with = "whole_cents")]
    pub daily_volume_in_cents: Cents,
    /// `maxDailyInCents`: the daily limit in BRL cents.
    #[serde(deserialize_with = "whole_cents")]
    pub max_daily_in_cents: Cents,
    /// `isBlocked`: whether the end user is blocked.
    #[serde(default)]
    pub is_blocked: bool,
    /// `dailyLimitResetTime`: when the counters reset (midnight in Brasília), RFC 3339 text.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub daily_limit_reset_time: Option<String>,
}

impl UserInfo {
    /// Returns the cents still available today, zero once the limit is reached.
    pub fn remaining(&self) -> Cents {
        let left = self
            .max_daily_in_cents
            .get()
            .saturating_sub(self.daily_volume_in_cents.get());
        Cents::from_server(left)
    }

    /// Returns `dailyLimitResetTime` parsed as RFC 3339, if present and valid.
    pub fn reset_time(&self) -> Option<OffsetDateTime> {
        self.daily_limit_reset_time
            .as_deref()
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    }
}

/// Decodes a JSON number holding whole cents; the schema types these fields as "number", so
/// `2000.0` is accepted and `20.5` rejected.
fn whole_cents<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Cents, D::Error> {
    let number = serde_json::Number::deserialize(d)?;
    if let Some(value) = number.as_u64() {
        return Ok(Cents::from_server(value));
    }
    match number.as_f64() {
        Some(value) if value >= 0.0 && value.fract() == 0.0 && value < 9.0e15 => {
            Ok(Cents::from_server(value as u64))
        }
        _ => Err(serde::de::Error::custom(format!(
            "expected whole non-negative cents, got {number}"
        ))),
    }
}

impl Call<UserInfo> {
    /// Prepares a `user-info` call for the end user `euid` (`EU` and 15 digits).
    pub fn user_info(euid: &str) -> Result<Call<UserInfo>> {
        Call::get_with("user-info", "euid", euid, "the EUID")
    }
}

impl Client {
    /// Reads an end user's daily limit state. Accepts the response with or without the
    /// `{"response": …}` envelope, since the API documents both.
    pub fn user_info(&self, euid: &str) -> Result<UserInfo> {
        self.execute(&Call::user_info(euid)?).map(|done| done.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_decodes() {
        let info: UserInfo = serde_json::from_str(
            r#"{"dailyVolumeInCents":2000,"maxDailyInCents":50000,"isBlocked":false,"dailyLimitResetTime":"2025-09-21T00:00:00-03:00"}"#,
        )
        .unwrap();
        assert_eq!(info.remaining().get(), 48_000);
        assert!(!info.is_blocked);
        assert_eq!(info.reset_time().unwrap().unix_timestamp(), 1_758_423_600);
    }

    #[test]
    fn float_cents_must_be_whole() {
        let whole: UserInfo =
            serde_json::from_str(r#"{"dailyVolumeInCents":2000.0,"maxDailyInCents":1e3}"#).unwrap();
        assert_eq!(whole.daily_volume_in_cents.get(), 2000);
        assert_eq!(whole.max_daily_in_cents.get(), 1000);
        assert_eq!(whole.remaining().get(), 0);
        for bad in [
            r#"{"dailyVolumeInCents":20.5,"maxDailyInCents":1}"#,
            r#"{"dailyVolumeInCents":-1,"maxDailyInCents":1}"#,
        ] {
            assert!(serde_json::from_str::<UserInfo>(bad).is_err(), "{bad}");
        }
    }
}
