//! `GET deposits`: deposits created in a time window, and a walk that splits long windows
//! around the API's 200-row cap.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use super::deposit::DepositStatus;
use super::serde_util::empty_as_none;
use crate::call::{Call, Method, encode_query_value};
use crate::client::Client;
use crate::error::{Error, Result};

/// Most rows the API returns for one query; a full page means rows may be missing.
pub(crate) const MAX_ROWS: usize = 200;

/// Brasília's UTC offset (-03:00), which the API uses for date-only bounds.
const BRASILIA: UtcOffset = match UtcOffset::from_hms(-3, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("-03:00 is a valid offset"),
};

/// One end of a `deposits` window: a date (`YYYY-MM-DD`, midnight in Brasília) or an instant
/// (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A calendar date, sent as `YYYY-MM-DD`; the API reads it as 00:00 at -03:00.
    Date(Date),
    /// An instant, sent as RFC 3339.
    Time(OffsetDateTime),
}

impl Bound {
    /// Returns the instant this bound stands for.
    pub fn instant(self) -> OffsetDateTime {
        match self {
            Bound::Date(date) => date.midnight().assume_offset(BRASILIA),
            Bound::Time(time) => time,
        }
    }

    fn to_query(self) -> String {
        match self {
            Bound::Date(date) => format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
            Bound::Time(time) => time.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

impl From<Date> for Bound {
    fn from(date: Date) -> Bound {
        Bound::Date(date)
    }
}

impl From<OffsetDateTime> for Bound {
    fn from(time: OffsetDateTime) -> Bound {
        Bound::Time(time)
    }
}

/// A `deposits` query: the window `[start, end)` and an optional status filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositsQuery {
    start: Bound,
    end: Bound,
    status: Option<DepositStatus>,
}

impl DepositsQuery {
    /// Starts a query for deposits created from `start` (inclusive) to `end` (exclusive).
    pub fn new(start: impl Into<Bound>, end: impl Into<Bound>) -> DepositsQuery {
        DepositsQuery {
            start: start.into(),
            end: end.into(),
            status: None,
        }
    }

    /// Keeps only deposits in `status`. Default: every status.
    pub fn status(mut self, status: DepositStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Checks that the window is not empty.
    pub fn validate(&self) -> Result<()> {
        if self.end.instant() <= self.start.instant() {
            return Err(Error::InvalidInput {
                field: "end",
                reason: format!(
                    "the window ends at {} but starts at {}; end must be after start",
                    self.end.to_query(),
                    self.start.to_query()
                ),
            });
        }
        Ok(())
    }

    fn path(&self) -> String {
        let mut path = format!(
            "deposits?start={}&end={}",
            encode_query_value(&self.start.to_query()),
            encode_query_value(&self.end.to_query())
        );
        if let Some(status) = &self.status {
            path.push_str("&status=");
            path.push_str(&encode_query_value(status.as_str()));
        }
        path
    }
}

/// One row of `deposits`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DepositRow {
    /// `qrId`: the deposit id. The same id may appear in several rows with different
    /// statuses.
    pub qr_id: String,
    /// `status`.
    pub status: DepositStatus,
    /// `bankTxId`: the bank transaction id; `None` when `null`, absent or empty.
    #[serde(rename = "bankTxId", default, deserialize_with = "empty_as_none")]
    pub bank_tx_id: Option<String>,
}

impl Call<Vec<DepositRow>> {
    /// Prepares a `deposits` call for one window.
    pub fn deposits(query: &DepositsQuery) -> Result<Call<Vec<DepositRow>>> {
        query.validate()?;
        Ok(Call::new(Method::Get, query.path(), None))
    }
}

impl Client {
    /// Lists deposits in one window. The API returns at most 200 rows and gives no sign when
    /// it cut the list, so a result of exactly 200 rows may be incomplete: use
    /// [`Client::deposits_walk`] for long windows.
    pub fn deposits(&self, query: &DepositsQuery) -> Result<Vec<DepositRow>> {
        self.execute(&Call::deposits(query)?).map(|done| done.value)
    }

    /// Walks a window of any length: each window that returns a full page of 200 rows is
    /// split in two halves until every slice returns fewer, so no row is missed, and rows
    /// already yielded are not yielded again.
    ///
    /// The API allows about 12 `deposits` calls a minute, so the walk waits
    /// [`DepositsWalk::min_interval`] (5 s by default) between its calls.
    pub fn deposits_walk(&self, query: &DepositsQuery) -> Result<DepositsWalk<'_>> {
        query.validate()?;
        let mut windows = VecDeque::new();
        windows.push_back((query.start, query.end));
        Ok(DepositsWalk {
            client: self,
            status: query.status.clone(),
            windows,
            rows: VecDeque::new(),
            seen: HashSet::new(),
            min_interval: Duration::from_secs(5),
            last_call: None,
            calls: 0,
            failed: false,
        })
    }
}

/// Iterator over every deposit in a window, from [`Client::deposits_walk`].
///
/// Windows are visited in time order and rows keep the server's order within a window.
/// After an error the iterator ends.
pub struct DepositsWalk<'a> {
    client: &'a Client,
    status: Option<DepositStatus>,
    windows: VecDeque<(Bound, Bound)>,
    rows: VecDeque<DepositRow>,
    seen: HashSet<DepositRow>,
    min_interval: Duration,
    last_call: Option<Instant>,
    calls: u32,
    failed: bool,
}

impl fmt::Debug for DepositsWalk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DepositsWalk")
            .field("windows_left", &self.windows.len())
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl DepositsWalk<'_> {
    /// Sets the shortest time between two `deposits` calls. Default 5 s, which keeps the walk
    /// under the API's documented 12 calls a minute.
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// Returns how many `deposits` calls the walk has made.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// Queries the next window: its rows are queued, or its halves replace it.
    fn advance(&mut self) -> Result<()> {
        let Some((start, end)) = self.windows.pop_front() else {
            return Ok(());
        };
        self.pace();
        let mut query = DepositsQuery::new(start, end);
        query.status = self.status.clone();
        let rows = self.client.deposits(&query)?;
        self.calls += 1;

        if rows.len() < MAX_ROWS {
            for row in rows {
                if self.seen.insert(row.clone()) {
                    self.rows.push_back(row);
                }
            }
            return Ok(());
        }
        let (from, to) = (start.instant(), end.instant());
        let half = (to - from) / 2;
        if half < time::Duration::SECOND {
            return Err(Error::ListTruncated {
                start: Bound::Time(from).to_query(),
                end: Bound::Time(to).to_query(),
            });
        }
        let middle = truncate_to_second(from + half);
        self.windows
            .push_front((Bound::Time(middle), Bound::Time(to)));
        self.windows
            .push_front((Bound::Time(from), Bound::Time(middle)));
        Ok(())
    }

    fn pace(&mut self) {
        if let Some(last) = self.last_call {
            let since = last.elapsed();
            if since < self.min_interval {
                std::thread::sleep(self.min_interval - since);
            }
        }
        self.last_call = Some(Instant::now());
    }
}

/// Drops sub-second digits, so split points print as plain RFC 3339 seconds.
fn truncate_to_second(time: OffsetDateTime) -> OffsetDateTime {
    time.replace_nanosecond(0).unwrap_or(time)
}

impl Iterator for DepositsWalk<'_> {
    type Item = Result<DepositRow>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.rows.pop_front() {
                return Some(Ok(row));
            }
            if self.failed || self.windows.is_empty() {
                return None;
            }
            if let Err(error) = self.advance() {
                self.failed = true;
                return Some(Err(error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn query_path_encodes_bounds() {
        let query = DepositsQuery::new(date!(2026 - 01 - 02), datetime!(2026-01-03 00:00:00 -3))
            .status(DepositStatus::PendingPix2fa);
        assert_eq!(
            query.path(),
            "deposits?start=2026-01-02&end=2026-01-03T00%3A00%3A00-03%3A00&status=pending_pix2fa"
        );
    }

    #[test]
    fn empty_window_is_rejected() {
        let day = date!(2026 - 01 - 02);
        assert!(Call::deposits(&DepositsQuery::new(day, day)).is_err());
        let later = datetime!(2026-01-02 00:00:01 -3);
        assert!(Call::deposits(&DepositsQuery::new(later, day)).is_err());
        assert!(Call::deposits(&DepositsQuery::new(day, later)).is_ok());
    }

    #[test]
    fn date_bound_is_brasilia_midnight() {
        let bound = Bound::Date(date!(2026 - 01 - 02));
        assert_eq!(bound.instant(), datetime!(2026-01-02 03:00:00 UTC));
    }

    #[test]
    fn documented_rows_decode() {
        let rows: Vec<DepositRow> = serde_json::from_str(
            r#"[{"qrId":"0198443f48c273d3afc72eb454025d19","status":"depix_sent","bankTxId":"71"},{"qrId":"0198443f48c273d3afc72eb454025d19","status":"refunded","bankTxId":null},{"qrId":"x","status":"awaiting_review","bankTxId":""}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].bank_tx_id.as_deref(), Some("71"));
        assert_eq!(rows[1].bank_tx_id, None);
        assert_eq!(rows[1].status, DepositStatus::Refunded);
        assert_eq!(
            rows[2].status,
            DepositStatus::Unknown("awaiting_review".into())
        );
        assert_eq!(rows[2].bank_tx_id, None);
    }
}
