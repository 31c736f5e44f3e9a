//! Endpoint types and calls, one file per endpoint family.

mod deposit;
mod deposits;
mod ping;
mod pix2fa;
pub(crate) mod serde_util;
mod split;
mod user;
mod withdraw;

pub use deposit::{Deposit, DepositInfo, DepositRequest, DepositStatus};
pub use deposits::{Bound, DepositRow, DepositsQuery, DepositsWalk};
pub use ping::{Claims, Ping};
pub use pix2fa::{Pix2faCode, Pix2faResult};
pub use split::{ParseSplitFeeError, SplitFee};
pub use user::UserInfo;
pub use withdraw::{WithdrawAmount, WithdrawInfo, WithdrawRequest, WithdrawStatus, Withdrawal};
