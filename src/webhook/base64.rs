//! Base64 with the standard alphabet and `=` padding (RFC 4648, section 4), for the
//! `Authorization: Basic` credentials.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes bytes as padded standard base64.
pub(crate) fn encode(input: &[u8]) -> String {
    let mut output = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let first = chunk[0];
        let second = chunk.get(1).copied().unwrap_or(0);
        let third = chunk.get(2).copied().unwrap_or(0);
        let group = (u32::from(first) << 16) | (u32::from(second) << 8) | u32::from(third);

        output.push(sextet_char(group >> 18));
        output.push(sextet_char(group >> 12));
        if chunk.len() > 1 {
            output.push(sextet_char(group >> 6));
        } else {
            output.push('=');
        }
        if chunk.len() > 2 {
            output.push(sextet_char(group));
        } else {
            output.push('=');
        }
    }
    output
}

fn sextet_char(bits: u32) -> char {
    char::from(ALPHABET[(bits & 0x3f) as usize])
}

/// Decodes padded standard base64, returning `None` for anything else.
///
/// Rejected: a length that is not a multiple of 4, characters outside the alphabet, padding
/// anywhere but at the end, and more than two `=`. Non-zero bits in the last character
/// before the padding are rejected too, so each byte string has exactly one accepted encoding.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut output = Vec::with_capacity(bytes.len() / 4 * 3);
    let groups = bytes.len() / 4;
    for (index, group) in bytes.chunks(4).enumerate() {
        let is_last = index + 1 == groups;
        let padding = match group {
            [_, _, b'=', b'='] if is_last => 2,
            [_, _, _, b'='] if is_last => 1,
            _ => 0,
        };
        let mut bits: u32 = 0;
        for &byte in &group[..4 - padding] {
            bits = (bits << 6) | u32::from(sextet_value(byte)?);
        }
        match padding {
            0 => output.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]),
            1 => {
                // Three characters carry 18 bits for two bytes, so the last 2 bits must be zero.
                if bits & 0b11 != 0 {
                    return None;
                }
                output.extend_from_slice(&[(bits >> 10) as u8, (bits >> 2) as u8]);
            }
            _ => {
                // Two characters carry 12 bits for one byte, so the last 4 bits must be zero.
                if bits & 0b1111 != 0 {
                    return None;
                }
                output.push((bits >> 4) as u8);
            }
        }
    }
    Some(output)
}

fn sextet_value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of RFC 4648, section 10.
    const RFC_VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc_vectors_encode() {
        for (plain, encoded) in RFC_VECTORS {
            assert_eq!(encode(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn rfc_vectors_decode() {
        for (plain, encoded) in RFC_VECTORS {
            assert_eq!(
                decode(encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded:?}"
            );
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for length in 0..all.len() {
            let input = &all[length..];
            assert_eq!(
                decode(&encode(input)).as_deref(),
                Some(input),
                "length {length}"
            );
        }
        assert_eq!(encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn malformed_text_is_rejected() {
        for text in [
            "Zg", "Zg=", "Zm9vY", "Zg==Zg==", "Z===", "=Zg=", "Zm9v\n", " Zm9v", "Zm-v", "Zm_v",
            "Zh==", "Zm9=", "Zm8=====",
        ] {
            assert_eq!(decode(text), None, "{text:?} was accepted");
        }
    }
}
