//! Entry points for the fuzz targets in `fuzz/`. Not part of the supported API: names and
//! signatures may change in any release.

use time::OffsetDateTime;

use crate::envelope::{self, RawAnswer};

fn answer(status: u16, retry_after: Option<&str>, date: Option<&str>, body: &[u8]) -> RawAnswer {
    RawAnswer {
        status,
        content_type: Some("application/json".to_owned()),
        request_id: None,
        retry_after: retry_after.map(str::to_owned),
        date: date.map(str::to_owned),
        nonce: None,
        body: body.to_vec(),
    }
}

/// Decodes a response from the API origin as every result type the client uses.
pub fn decode_api(status: u16, body: &[u8]) {
    let raw = answer(status, None, None, body);
    let _ = envelope::decode_api::<serde_json::Value>(&raw);
    let _ = envelope::decode_api::<crate::Deposit>(&raw);
    let _ = envelope::decode_api::<crate::DepositInfo>(&raw);
    let _ = envelope::decode_api::<Vec<crate::DepositRow>>(&raw);
    let _ = envelope::decode_api::<crate::UserInfo>(&raw);
    let _ = envelope::decode_api::<crate::WithdrawInfo>(&raw);
    let _ = envelope::decode_api::<crate::Ping>(&raw);
}

/// Decodes a `urlResponse` document as every result type the client uses.
pub fn decode_result(status: u16, body: &[u8]) {
    let raw = answer(status, None, None, body);
    let _ = envelope::decode_result::<serde_json::Value>(&raw);
    let _ = envelope::decode_result::<crate::Deposit>(&raw);
    let _ = envelope::decode_result::<crate::DepositInfo>(&raw);
    let _ = envelope::decode_result::<crate::Withdrawal>(&raw);
}

/// Parses a `Retry-After` value against a fixed clock, and the same text as an HTTP date.
pub fn parse_retry_after(value: &str) {
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = envelope::parse_retry_after(value, now);
    if let Some(date) = envelope::parse_http_date(value) {
        let _ = envelope::expiry_instant(date, Some(now), now, std::time::Instant::now());
    }
}
