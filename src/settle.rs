//! Waiting for a deposit to settle by polling `deposit-status`.

use std::time::{Duration, Instant};

use crate::api::{DepositInfo, DepositStatus};
use crate::client::Client;
use crate::error::{Error, Result};

/// Polling settings of [`Client::wait_for_settlement`]. Every setter documents its default.
#[derive(Debug, Clone)]
pub struct SettleOptions {
    deadline: Duration,
    first_interval: Duration,
    max_interval: Duration,
    stop_when: fn(&DepositStatus) -> bool,
}

impl Default for SettleOptions {
    fn default() -> Self {
        SettleOptions {
            deadline: Duration::from_secs(30 * 60),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            stop_when: DepositStatus::is_final,
        }
    }
}

impl SettleOptions {
    /// Sets how long to wait in all. Default 30 min, longer than a QR code's usual 20-minute
    /// validity.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the first and the largest wait between two status reads; the wait grows 1.5
    /// times between them, with jitter. Defaults 1 s and 30 s: `deposit-status` allows 60
    /// calls a minute, so keep the first wait at 1 s or more against the real API.
    pub fn intervals(mut self, first: Duration, max: Duration) -> Self {
        self.first_interval = first;
        self.max_interval = max.max(first);
        self
    }

    /// Sets the status test that ends the wait. Default [`DepositStatus::is_final`]; pass
    /// [`DepositStatus::is_paid`] to stop as soon as the payer's Pix arrived.
    pub fn stop_when(mut self, stop_when: fn(&DepositStatus) -> bool) -> Self {
        self.stop_when = stop_when;
        self
    }
}

impl Client {
    /// Polls `deposit-status` until the deposit's status passes the options' test (final, by
    /// default) or the deadline passes, and returns the last status read.
    ///
    /// On timeout it fails with [`Error::NotSettled`], which carries the last status seen.
    /// Errors of the status call itself are returned as they are.
    pub fn wait_for_settlement(&self, id: &str, options: &SettleOptions) -> Result<DepositInfo> {
        let started = Instant::now();
        let mut interval = options.first_interval;
        loop {
            let info = self.deposit_status(id)?;
            if (options.stop_when)(&info.status) {
                return Ok(info);
            }
            let wait = jittered(interval);
            if started.elapsed() + wait >= options.deadline {
                log::debug!(
                    "depix: deposit {id} not settled by the deadline, last status {}",
                    info.status
                );
                return Err(Error::NotSettled {
                    id: id.to_owned(),
                    last: Box::new(info),
                });
            }
            log::debug!(
                "depix: deposit {id} is {}; reading again in {wait:?}",
                info.status
            );
            std::thread::sleep(wait);
            interval = interval.mul_f64(1.5).min(options.max_interval);
        }
    }
}

/// Draws a wait from `[interval / 2, interval]`.
fn jittered(interval: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    // A failed read leaves zeros, which gives the shortest wait of the range.
    let _ = getrandom::getrandom(&mut bytes);
    let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
    interval.mul_f64(0.5 + unit / 2.0)
}
