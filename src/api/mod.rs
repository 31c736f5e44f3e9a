//! Endpoint types and calls, one file per endpoint family.

mod deposit;
mod ping;
mod serde_util;

pub use deposit::{Deposit, DepositInfo, DepositRequest, DepositStatus};
pub use ping::{Claims, Ping};
