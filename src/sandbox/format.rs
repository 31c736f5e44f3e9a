//! Random identifiers, timestamp formats and URL percent-encoding used by the sandbox.

use std::fmt::Write as _;

use time::format_description::FormatItem;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, UtcOffset};

/// Offset of the API's local timestamps (Brasília time, no daylight saving since 2019).
pub(crate) const BRASILIA: UtcOffset = offset!(-3);

const IMF_FIXDATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);
const RFC3339_UTC_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const RFC3339_UTC_SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const RFC3339_OFFSET_SECONDS: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);

/// Fills an array from the operating system's random source.
///
/// # Panics
///
/// Panics if the operating system has no random source, which the sandbox cannot work without.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system random source failed");
    bytes
}

fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        write!(out, "{byte:02x}").expect("writing to a String cannot fail");
    }
    out
}

/// Returns 32 random lowercase hex digits (128 bits).
pub(crate) fn random_hex32() -> String {
    to_hex(&random_bytes::<16>())
}

/// Returns a random version 4 UUID in the hyphenated lowercase form.
pub(crate) fn uuid_v4() -> String {
    let mut bytes = random_bytes::<16>();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = to_hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Formats a time as an HTTP `Date` value (IMF-fixdate, RFC 9110 section 5.6.7).
pub(crate) fn http_date(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(IMF_FIXDATE)
        .expect("IMF-fixdate formatting of a valid time")
}

/// Formats a time as RFC 3339 in UTC with milliseconds, e.g. `2026-12-04T20:35:41.861Z`.
pub(crate) fn rfc3339_utc_millis(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(RFC3339_UTC_MILLIS)
        .expect("RFC 3339 formatting of a valid time")
}

/// Formats a time as RFC 3339 in UTC without a fraction, e.g. `2026-12-04T20:35:41Z`.
pub(crate) fn rfc3339_utc_seconds(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(RFC3339_UTC_SECONDS)
        .expect("RFC 3339 formatting of a valid time")
}

/// Formats a time as RFC 3339 at -03:00 without a fraction, e.g. `2026-12-04T17:35:41-03:00`.
pub(crate) fn rfc3339_brasilia(at: OffsetDateTime) -> String {
    at.to_offset(BRASILIA)
        .format(RFC3339_OFFSET_SECONDS)
        .expect("RFC 3339 formatting of a valid time")
}

/// Percent-encodes every byte outside the RFC 3986 unreserved set, for one path segment.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            write!(out, "%{byte:02X}").expect("writing to a String cannot fail");
        }
    }
    out
}

/// Decodes `%XX` escapes, and `+` as a space when `plus_is_space` (query strings).
///
/// An invalid escape is kept as written, and invalid UTF-8 is replaced with U+FFFD.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1..i + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok()),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Returns the decoded value of the first `key=value` pair named `key` in a query string.
pub(crate) fn query_param(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(name, _)| percent_decode(name, true) == key)
        .map(|(_, value)| percent_decode(value, true))
}

/// Computes CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF), the Pix EMV checksum.
pub(crate) fn crc16_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn uuid_has_version_and_variant() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]));
    }

    #[test]
    fn timestamps_match_the_api_formats() {
        let at = datetime!(2026-12-04 20:35:41.861 UTC);
        assert_eq!(rfc3339_utc_millis(at), "2026-12-04T20:35:41.861Z");
        assert_eq!(rfc3339_brasilia(at), "2026-12-04T17:35:41-03:00");
        assert_eq!(rfc3339_utc_seconds(at), "2026-12-04T20:35:41Z");
        assert_eq!(http_date(at), "Fri, 04 Dec 2026 20:35:41 GMT");
    }

    #[test]
    fn percent_codec_round_trips() {
        let nonce = "a b/ç%";
        assert_eq!(percent_decode(&percent_encode(nonce), false), nonce);
        assert_eq!(
            query_param("x=1&id=a%2Bb+c", "id").as_deref(),
            Some("a+b c")
        );
        assert_eq!(query_param("x=1", "id"), None);
    }

    #[test]
    fn crc16_matches_the_standard_check_value() {
        assert_eq!(crc16_ccitt(b"123456789"), 0x29b1);
    }
}
