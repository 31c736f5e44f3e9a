//! Typed webhook bodies and verification of the `Authorization: Basic` secret.
//!
//! Eulen POSTs a JSON body to the partner's registered URL with the header
//! `Authorization: Basic <secret>`, where `<secret>` is the string the partner registered,
//! sent verbatim. The receiver must respond with HTTP 200 within 15 seconds. No signature,
//! timestamp or event id header exists, so the secret is the only proof of origin. The same
//! webhook may arrive more than once, so a receiver de-duplicates by [`Event::dedupe_key`].
//!
//! ```
//! use depix::webhook::{Event, WebhookSecret};
//!
//! let secret = WebhookSecret::new("s3cret-registered-at-eulen")?;
//! let header = Some("Basic s3cret-registered-at-eulen");
//! let body = br#"{"webhookType":"withdraw","id":"68fa25175c6d412db991f0762eeec2e3","status":"sent"}"#;
//!
//! assert!(secret.verify(header)); // answer 401 otherwise
//! let event = Event::from_slice(body)?; // answer 400 on error
//! let key = event.dedupe_key().expect("withdrawals have a key");
//! assert_eq!(key.to_string(), "withdraw/68fa25175c6d412db991f0762eeec2e3/sent");
//! # Ok::<(), depix::webhook::WebhookError>(())
//! ```
//!
//! `examples/webhook_receiver.rs` runs a receiver on 127.0.0.1 built on these calls.

mod base64;
mod error;
mod event;
mod secret;

pub use error::WebhookError;
pub use event::{DedupeKey, DepositEvent, Event, MAX_BODY_BYTES, MedEvent, WithdrawEvent};
pub use secret::{WebhookSecret, basic_credentials};
