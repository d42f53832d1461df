//! ASCII armour: a binary message travels as `?OFR:` + base64 + `.`. Decoding is strict (marker
//! only at the start, exact terminator, canonical padded base64, no empty payload) because any
//! laxness here is parsing surface an attacker gets for free. The empty-payload rule follows
//! CVE-2012-3461, where libotr mishandled `?OTR:.`.

use super::error::WireError;

/// What an armoured message starts with.
pub const ARMOUR_PREFIX: &str = "?OFR:";
/// What an armoured message ends with.
pub const ARMOUR_SUFFIX: &str = ".";
/// The longest armoured (or reassembled) message accepted, checked before decoding.
pub const MAX_ENCODED_LEN: usize = 128 * 1024;

/// Length of the armoured form of `binary_len` bytes: the prefix, padded base64, the suffix.
pub fn encoded_len(binary_len: usize) -> usize {
    ARMOUR_PREFIX.len() + binary_len.div_ceil(3) * 4 + ARMOUR_SUFFIX.len()
}

/// Whether every byte of `text` can appear in an armoured message (`?OFR:` or `?OTR:`, base64,
/// `.`), hence in a fragment's piece: ASCII letters and digits and `+/=?:.`. Every received
/// fragment is checked with it, so it is written to vectorise: per byte a few comparisons with
/// no branch and no table (a table lookup does not vectorise), folded over chunks of 256 bytes
/// with an early exit between chunks. About 10x faster than `bytes().all(..)` with a `matches!`.
pub fn is_armour_text(text: &[u8]) -> bool {
    text.chunks(256).all(|chunk| chunk.iter().fold(true, |ok, &b| ok & is_armour_byte(b)))
}

/// One byte of [`is_armour_text`]: `b | 0x20` folds `A-Z` onto `a-z` (and nothing else onto
/// them); `/` to `:` are `/`, the digits and `:`.
#[inline(always)]
fn is_armour_byte(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'/') < 12)
        | (b == b'+')
        | (b == b'=')
        | (b == b'?')
        | (b == b'.')
}

/// Armours a binary message. Callers never armour an empty message; if they did, the result
/// would be rejected by [`decode`]. One spare byte of capacity lets the C API append its NUL
/// without copying the message into a larger buffer.
pub fn encode(binary: &[u8]) -> String {
    encode_into(binary, String::new())
}

/// As [`encode`], into `out` (emptied first; reused, not reallocated, if it has the room).
pub fn encode_into(binary: &[u8], mut out: String) -> String {
    out.clear();
    out.reserve_exact(encoded_len(binary.len()) + 1);
    out.push_str(ARMOUR_PREFIX);
    super::base64::encode_append(binary, &mut out);
    out.push_str(ARMOUR_SUFFIX);
    out
}

/// Removes the armour and decodes the binary message. The marker must be the very first
/// character: unwrapping HTML or other transport markup is the host's job, not ours.
pub fn decode(message: &str) -> Result<Vec<u8>, WireError> {
    decode_into(message, Vec::new())
}

/// As [`decode`], into `buffer` (emptied first; reused, not reallocated, if it has the room).
/// On error the buffer is dropped.
pub fn decode_into(message: &str, buffer: Vec<u8>) -> Result<Vec<u8>, WireError> {
    if message.len() > MAX_ENCODED_LEN {
        return Err(WireError::TooLarge);
    }
    let body = message.strip_prefix(ARMOUR_PREFIX).ok_or(WireError::MissingMarker)?;
    let b64 = body.strip_suffix(ARMOUR_SUFFIX).ok_or(WireError::MissingTerminator)?;
    if b64.is_empty() {
        return Err(WireError::Empty);
    }
    // Strict: non-alphabet bytes (whitespace included), missing or non-canonical padding and
    // non-zero trailing bits are rejected.
    let binary = super::base64::decode_into(b64.as_bytes(), buffer).ok_or(WireError::BadBase64)?;
    if binary.is_empty() {
        return Err(WireError::Empty);
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_armour_alphabet_is_exactly_base64_and_the_markers() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"+/=?:.".contains(&b);
            assert_eq!(is_armour_text(&[b]), expected, "byte {b:#04x}");
            // Each position of a long text, so every lane of a vectorised check is covered.
            let mut long = vec![b'A'; 600];
            for at in [0, 1, 255, 256, 257, 599] {
                long[at] = b;
                assert_eq!(is_armour_text(&long), expected, "byte {b:#04x} at {at}");
                long[at] = b'A';
            }
        }
        assert!(is_armour_text(b""));
    }

    #[test]
    fn encoded_len_is_the_armoured_length() {
        for n in [1usize, 2, 3, 4, 100, 1000] {
            assert_eq!(encoded_len(n), encode(&vec![7u8; n]).len(), "{n}");
        }
    }

    #[test]
    fn round_trip_and_exact_form() {
        assert_eq!(encode(b"hi"), "?OFR:aGk=.");
        assert_eq!(decode("?OFR:aGk=.").unwrap(), b"hi");
        assert_eq!(decode(&encode(&[0u8; 1000])).unwrap(), vec![0u8; 1000]);
    }

    #[test]
    fn the_reusing_forms_agree_with_the_allocating_ones() {
        for n in [1usize, 2, 3, 100, 4200] {
            let binary: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let wire = encode(&binary);
            // Room for the C API's NUL, from an empty buffer too (no reallocation to append it).
            assert!(wire.capacity() > wire.len(), "{n}");
            assert_eq!(wire.capacity(), wire.len() + 1, "{n}: exactly one spare byte, not a doubling");
            assert_eq!(encode_into(&binary, "?OFR:stale text.".repeat(500)), wire, "{n}");
            assert_eq!(decode_into(&wire, vec![0xEE; 5000]), Ok(binary), "{n}");
        }
        for bad in ["?OFR:.", "?OFR:aGk", "x?OFR:aGk=.", "?OFR:aGl=.", "?OFR:aGk*."] {
            assert_eq!(decode_into(bad, vec![1; 64]), decode(bad), "{bad}");
        }
    }

    #[test]
    fn empty_payloads_are_rejected() {
        assert_eq!(decode("?OFR:."), Err(WireError::Empty));
        assert!(decode("?OFR:===.").is_err());
        assert!(decode("?OFR:=.").is_err());
    }

    #[test]
    fn marker_must_be_at_the_start() {
        assert_eq!(decode("x?OFR:aGk=."), Err(WireError::MissingMarker));
        assert_eq!(decode(" ?OFR:aGk=."), Err(WireError::MissingMarker));
        assert_eq!(decode("?OTR:aGk=."), Err(WireError::MissingMarker));
        assert_eq!(decode(""), Err(WireError::MissingMarker));
    }

    #[test]
    fn terminator_is_exact() {
        assert_eq!(decode("?OFR:aGk="), Err(WireError::MissingTerminator));
        assert_eq!(decode("?OFR:aGk=.\n"), Err(WireError::MissingTerminator));
        assert_eq!(decode("?OFR:aGk=. "), Err(WireError::MissingTerminator));
        assert_eq!(decode("?OFR:aGk=.."), Err(WireError::BadBase64));
        assert_eq!(decode("?OFR:aG.k=."), Err(WireError::BadBase64));
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(decode("?OFR:aGk*."), Err(WireError::BadBase64));
        assert_eq!(decode("?OFR:aGk."), Err(WireError::BadBase64)); // missing padding
        assert_eq!(decode("?OFR:aGk==."), Err(WireError::BadBase64)); // too much padding
        assert_eq!(decode("?OFR:aGl=."), Err(WireError::BadBase64)); // non-zero trailing bits
        assert_eq!(decode("?OFR:aG k=."), Err(WireError::BadBase64));
        assert_eq!(decode("?OFR:aGk=\n."), Err(WireError::BadBase64));
        assert_eq!(decode("?OFR:aG-_."), Err(WireError::BadBase64)); // URL-safe alphabet
        assert_eq!(decode("?OFR:aGké."), Err(WireError::BadBase64));
    }

    #[test]
    fn oversize_is_rejected_before_decoding() {
        let big = format!("?OFR:{}.", "A".repeat(MAX_ENCODED_LEN));
        assert_eq!(decode(&big), Err(WireError::TooLarge));
        // Exactly at the limit passes the size check. No armour is exactly that long (its base64
        // would be 131,066 characters, not a multiple of 4), so the decoder names the base64.
        let at_limit = format!("?OFR:{}.", "A".repeat(MAX_ENCODED_LEN - 6));
        assert_eq!(at_limit.len(), MAX_ENCODED_LEN);
        assert_eq!(decode(&at_limit), Err(WireError::BadBase64));
        // The longest valid armour, 2 bytes under the limit, is decoded.
        let n = (MAX_ENCODED_LEN - 6) / 4 * 4;
        let edge = format!("?OFR:{}.", "A".repeat(n));
        assert_eq!(edge.len(), MAX_ENCODED_LEN - 2);
        assert_eq!(decode(&edge).unwrap().len(), n / 4 * 3);
    }
}
