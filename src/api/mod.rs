//! Endpoint types and calls, one file per endpoint family.

mod deposit;
mod ping;
mod serde_util;
mod withdraw;

pub use deposit::{Deposit, DepositInfo, DepositRequest, DepositStatus};
pub use ping::{Claims, Ping};
pub use withdraw::{WithdrawAmount, WithdrawInfo, WithdrawRequest, WithdrawStatus, Withdrawal};
