//! Settling a write whose outcome is unknown by looking it up instead of repeating it.
//!
//! Older API docs promise that a repeated call with the same `X-Nonce` is performed once;
//! newer ones describe a server without that guarantee. When a deposit call fails with an
//! error for which [`Error::may_have_been_performed`](crate::Error::may_have_been_performed)
//! is true, first resume it with its nonce; if the server may ignore nonces, look for the
//! deposit with [`Client::find_deposits`] before creating a new one.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::api::{DepositInfo, DepositsQuery};
use crate::client::Client;
use crate::error::Result;
use crate::money::Cents;

/// Search of [`Client::find_deposits`]: deposits of one amount created in a window.
#[derive(Debug, Clone)]
pub struct DepositLookup {
    amount: Cents,
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    list_interval: Duration,
    status_interval: Duration,
}

impl DepositLookup {
    /// Looks for deposits of `amount` created from `since` on. Pass the time the ambiguous
    /// call started, less a margin for clock differences (a minute is plenty).
    pub fn new(amount: Cents, since: OffsetDateTime) -> DepositLookup {
        DepositLookup {
            amount,
            since,
            until: None,
            list_interval: Duration::from_secs(5),
            status_interval: Duration::from_secs(1),
        }
    }

    /// Sets the end of the window (exclusive). Default: one minute after the lookup starts.
    pub fn until(mut self, until: OffsetDateTime) -> Self {
        self.until = Some(until);
        self
    }

    /// Sets the shortest times between two `deposits` calls and between two
    /// `deposit-status` calls. Defaults 5 s and 1 s, within the documented 12 and 60 calls a
    /// minute.
    pub fn intervals(mut self, list: Duration, status: Duration) -> Self {
        self.list_interval = list;
        self.status_interval = status;
        self
    }
}

impl Client {
    /// Lists the deposits of the lookup's amount created in its window, reading each
    /// candidate's status, oldest first.
    ///
    /// `deposits` rows carry no amount, so every deposit in the window costs one
    /// `deposit-status` call: keep the window short. This lookup cannot distinguish two intentions of the
    /// same amount in the same window, so record your own `qrId`s as soon as a call returns,
    /// and compare.
    pub fn find_deposits(&self, lookup: &DepositLookup) -> Result<Vec<DepositInfo>> {
        let until = lookup
            .until
            .unwrap_or_else(|| OffsetDateTime::now_utc() + time::Duration::MINUTE);
        let query = DepositsQuery::new(lookup.since, until);
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut last_read: Option<Instant> = None;
        for row in self
            .deposits_walk(&query)?
            .min_interval(lookup.list_interval)
        {
            let row = row?;
            if !seen.insert(row.qr_id.clone()) {
                continue;
            }
            if let Some(last) = last_read {
                let since = last.elapsed();
                if since < lookup.status_interval {
                    std::thread::sleep(lookup.status_interval - since);
                }
            }
            last_read = Some(Instant::now());
            let info = self.deposit_status(&row.qr_id)?;
            if info.value_in_cents == Some(lookup.amount) {
                found.push(info);
            }
        }
        Ok(found)
    }
}
