//! Decodes a `urlResponse` document. The first two input bytes are the HTTP status
//! (big-endian) and the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    depix::fuzzing::decode_result(u16::from_be_bytes(*status), body);
});
