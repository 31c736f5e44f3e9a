//! Parses the input as a `Retry-After` value (delay seconds or an HTTP date) and as an HTTP
//! date on its own.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    depix::fuzzing::parse_retry_after(value);
});
