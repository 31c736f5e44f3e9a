//! Blocking client for Eulen's Pix2DePix API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod call;
mod client;
mod config;
mod envelope;
mod error;
mod mode;
mod money;
mod nonce;
pub mod retry;
mod secret;

pub use api::{Claims, Deposit, DepositInfo, DepositRequest, DepositStatus, Ping};
pub use call::{Call, Completed, Method, Pending, Request, Response};
pub use client::Client;
pub use config::{ClientBuilder, DEFAULT_BASE_URL};
pub use error::{Error, Result};
pub use mode::{Mode, ParseModeError};
pub use money::{AmountError, Cents};
pub use nonce::{Nonce, ParseNonceError};
pub use retry::{RetryPolicy, WaitStrategy};
pub use secret::{ResultUrl, Token};

#[cfg(feature = "sandbox")]
pub mod sandbox;
