//! Blocking client for Eulen's Pix2DePix API: Pix payments in BRL converted to DePix on the
//! Liquid Network.
//!
//! No async runtime: every call is a plain function that blocks until it has a result or a
//! typed [`Error`].
//!
//! ```no_run
//! use depix::{Cents, Client, DepositRequest};
//!
//! let client = Client::from_env()?; // DEPIX_TOKEN, optional DEPIX_BASE_URL
//! let deposit = client.deposit(&DepositRequest::new(Cents::from_reais("19.99")?))?;
//! println!("pay with {}", deposit.qr_copy_paste);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Call modes
//!
//! Each exchange carries `X-Async` ([`Mode`]): in [`Mode::Auto`] (the default) the server
//! waits up to 10 s for the result and then returns a pending answer. In [`Mode::Sync`] it gives
//! up after 10 s with HTTP 503 and probably discards the work. In [`Mode::Async`] it returns a
//! pending answer at once.
//! [`Client::send`] makes one exchange and returns [`Response::Ready`] or
//! [`Response::Pending`]; [`Client::execute`] and the endpoint methods drive the call to its
//! result; [`Client::wait`] finishes a [`Pending`], which serialises so another process can
//! finish it.
//!
//! # Guarantees
//!
//! - One [`Nonce`] per intention: every retry, re-send and poll of a [`Call`] sends the same
//!   `X-Nonce` and byte-identical body, so the server performs the work once.
//! - The token goes only to the base URL's origin: never to `urlResponse`, never across a
//!   redirect (redirects are not followed), never into `Debug`, `Display`, logs or errors.
//! - Every wait ends by the earliest of the server's `expiration`, the policy's deadline and
//!   the retry budget, and every backoff has a floor.
//! - The per-attempt response timeout (30 s) sits above the server's 10 s window.
//! - An error raised after the request may have reached the server carries the nonce
//!   ([`Error::nonce`], [`Error::may_have_been_performed`]): resume with it, never with a new
//!   one.
//! - Money is integer cents ([`Cents`]); an invalid amount fails before any byte is sent.
//! - Bodies are read up to a size limit (1 MiB by default).
//!
//! # Sandbox
//!
//! With the `sandbox` feature, `sandbox::Sandbox` runs a loopback fake of the API with the
//! same modes, nonce de-duplication, a `urlResponse` host on another origin, scripted faults
//! and a ledger of created deposits, for tests that assert exactly-once.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod call;
mod client;
mod config;
mod envelope;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod mode;
mod money;
mod nonce;
mod reconcile;
pub mod retry;
mod secret;
mod settle;
pub mod webhook;

pub use api::{
    Bound, Claims, Deposit, DepositInfo, DepositRequest, DepositRow, DepositStatus, DepositsQuery,
    DepositsWalk, ParseSplitFeeError, Ping, Pix2faCode, Pix2faResult, SplitFee, UserInfo,
    WithdrawAmount, WithdrawInfo, WithdrawRequest, WithdrawStatus, Withdrawal,
};
pub use call::{Call, Completed, Method, Pending, Request, Response};
pub use client::Client;
pub use config::{ClientBuilder, DEFAULT_BASE_URL};
pub use error::{Error, Result};
pub use mode::{Mode, ParseModeError};
pub use money::{AmountError, Cents};
pub use nonce::{Nonce, ParseNonceError};
pub use reconcile::DepositLookup;
pub use retry::{RetryPolicy, WaitStrategy};
pub use secret::{ResultUrl, Token};
pub use settle::SettleOptions;

#[cfg(feature = "sandbox")]
pub mod sandbox;

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
