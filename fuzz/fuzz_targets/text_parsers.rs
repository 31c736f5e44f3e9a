//! Parses the input as an amount in reais (`Cents::from_reais`), a split fee (`SplitFee`) and
//! a nonce (`Nonce`). Whatever parses must come back unchanged after formatting with
//! `Display` and parsing again.

#![no_main]

use depix::{Cents, Nonce, SplitFee};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(cents) = Cents::from_reais(text) {
        assert!(
            (Cents::MIN..=Cents::MAX).contains(&cents),
            "{text:?} gave {cents:?}"
        );
        let formatted = cents.to_string();
        assert_eq!(
            Cents::from_reais(&formatted),
            Ok(cents),
            "{text:?} formatted as {formatted:?}"
        );
    }

    if let Ok(fee) = text.parse::<SplitFee>() {
        assert!(fee.basis_points() <= 10_000, "{text:?} gave {fee:?}");
        let formatted = fee.to_string();
        assert_eq!(
            formatted.parse::<SplitFee>(),
            Ok(fee),
            "{text:?} formatted as {formatted:?}"
        );
    }

    if let Ok(nonce) = text.parse::<Nonce>() {
        assert_eq!(nonce.as_str(), text);
        assert_eq!(nonce.to_string().parse::<Nonce>(), Ok(nonce));
    }
});
