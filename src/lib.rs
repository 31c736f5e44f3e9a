//! Blocking client for Eulen's Pix2DePix API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "sandbox")]
pub mod sandbox;
