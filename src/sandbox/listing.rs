//! The `deposits` list: its time bounds and the rows it selects.

use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::format::BRASILIA;

/// Maximum rows of one `deposits` response. The real API documents this cap and gives no
/// sign in the response when more deposits match, so the sandbox gives none either.
pub(crate) const MAX_ROWS: usize = 200;

/// Parses a `start` or `end` bound: a date `YYYY-MM-DD`, meaning midnight at -03:00, or an
/// RFC 3339 time with any offset and an optional fraction of a second.
pub(crate) fn parse_bound(text: &str) -> Option<OffsetDateTime> {
    let is_date = text.len() == 10
        && text.bytes().enumerate().all(|(i, byte)| match i {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if is_date {
        let date = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
        return Some(date.midnight().assume_offset(BRASILIA));
    }
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The parts of a deposit that the list reads.
pub(crate) struct Listed<'a> {
    pub id: &'a str,
    pub created_at: OffsetDateTime,
    /// The deposit's status object, as `deposit-status` returns it.
    pub status: &'a Map<String, Value>,
}

/// Builds the `deposits` rows: deposits created in `[start, end)`, only those whose `status`
/// equals `status_filter` when it is given, sorted by creation time then id, at most
/// [`MAX_ROWS`] of them.
pub(crate) fn select_rows<'a>(
    deposits: impl Iterator<Item = Listed<'a>>,
    start: OffsetDateTime,
    end: OffsetDateTime,
    status_filter: Option<&str>,
) -> Value {
    let mut matching: Vec<Listed<'a>> = deposits
        .filter(|deposit| start <= deposit.created_at && deposit.created_at < end)
        .filter(|deposit| {
            status_filter.is_none_or(|wanted| {
                deposit.status.get("status").and_then(Value::as_str) == Some(wanted)
            })
        })
        .collect();
    matching.sort_by(|a, b| (a.created_at, a.id).cmp(&(b.created_at, b.id)));
    let rows = matching
        .iter()
        .take(MAX_ROWS)
        .map(|deposit| {
            let bank_tx_id = match deposit.status.get("bankTxId") {
                Some(Value::String(id)) => Value::String(id.clone()),
                _ => Value::Null,
            };
            json!({
                "qrId": deposit.id,
                "status": deposit.status.get("status").cloned().unwrap_or(Value::Null),
                "bankTxId": bank_tx_id,
            })
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn date_bound_is_midnight_in_brasilia() {
        assert_eq!(
            parse_bound("2026-03-21"),
            Some(datetime!(2026-03-21 03:00 UTC))
        );
    }

    #[test]
    fn rfc3339_bound_keeps_offset_and_fraction() {
        assert_eq!(
            parse_bound("2026-03-21T10:00:00.250+02:00"),
            Some(datetime!(2026-03-21 08:00:00.250 UTC))
        );
        assert_eq!(
            parse_bound("2026-03-21T10:00:00Z"),
            Some(datetime!(2026-03-21 10:00 UTC))
        );
    }

    #[test]
    fn malformed_bounds_are_rejected() {
        for text in [
            "",
            "2026-02-30",
            "2026-3-21",
            "+2026-03-21",
            "21/03/2026",
            "2026-03-21T10:00:00",
            "2026-03-21T10:00:00 02:00",
        ] {
            assert_eq!(parse_bound(text), None, "{text:?}");
        }
    }
}
