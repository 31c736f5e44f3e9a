//! Typed webhook bodies and verification of the `Authorization: Basic` secret.
