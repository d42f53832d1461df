//! OTR's encoded messages: `?OTR:` + base64 of the binary message + `.`.
//!
//! We always write standard base64 *with* padding: libotr's decoder silently drops an unpadded
//! final block (P5). Reading is a little more tolerant than offrec's own armour, because OTR
//! clients and transports are: the message may be preceded by whitespace and followed by
//! whitespace after the `.`, and whitespace inside the base64 (line-wrapping transports) is
//! skipped. Everything else libotr would skip (any non-base64 character) is rejected, as is
//! missing or non-canonical padding, an empty payload (CVE-2012-3461: libotr mishandled
//! `?OTR:.`), and any message longer than [`MAX_OTR_ENCODED_LEN`], checked before decoding.
//!
//! The version is read from the prefix as libotr does (`otrl_proto_message_version`): the
//! first three base64 characters encode the two version bytes and the top of the type byte.

use super::text_error::TextError;
use super::versions::OtrVersion;

/// What an encoded message starts with.
pub const OTR_ARMOUR_PREFIX: &str = "?OTR:";
/// What an encoded message ends with.
pub const OTR_ARMOUR_SUFFIX: &str = ".";
/// The longest encoded (or reassembled) OTR message accepted: the same cap as offrec's own
/// messages, far above anything OTR sends (a 10 000-character data message is ≈ 14 KB).
pub const MAX_OTR_ENCODED_LEN: usize = crate::wire::MAX_ENCODED_LEN;

/// The protocol version an encoded message announces in its first characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncodedVersion {
    /// `?OTR:AAE`: OTR version 1, never spoken.
    V1,
    /// `?OTR:AAI`: OTR version 2.
    V2,
    /// `?OTR:AAM`: OTR version 3.
    V3,
    /// `?OTR:AAQ`: OTRv4, another protocol.
    V4,
}

impl EncodedVersion {
    /// The version if it is one we speak.
    pub const fn spoken(self) -> Option<OtrVersion> {
        match self {
            EncodedVersion::V2 => Some(OtrVersion::V2),
            EncodedVersion::V3 => Some(OtrVersion::V3),
            EncodedVersion::V1 | EncodedVersion::V4 => None,
        }
    }
}

/// The version announced by `message`, which must start with `?OTR:` (after optional leading
/// whitespace); `None` for any other start.
pub fn encoded_version(message: &str) -> Option<EncodedVersion> {
    body_version(message.trim_start_matches(is_space).strip_prefix(OTR_ARMOUR_PREFIX)?)
}

/// The version announced by the text after `?OTR:` (its first three characters).
pub fn body_version(body: &str) -> Option<EncodedVersion> {
    match body.as_bytes().get(..3)? {
        b"AAE" => Some(EncodedVersion::V1),
        b"AAI" => Some(EncodedVersion::V2),
        b"AAM" => Some(EncodedVersion::V3),
        b"AAQ" => Some(EncodedVersion::V4),
        _ => None,
    }
}

/// Whitespace tolerated around and inside an encoded message.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Length of the encoded form of `binary_len` bytes.
pub fn encoded_len(binary_len: usize) -> usize {
    OTR_ARMOUR_PREFIX.len() + binary_len.div_ceil(3) * 4 + OTR_ARMOUR_SUFFIX.len()
}

/// `?OTR:` + padded standard base64 + `.`. One spare byte of capacity lets the C API append
/// its NUL without reallocating the message.
pub fn encode(binary: &[u8]) -> String {
    encode_into(binary, String::new())
}

/// As [`encode`], into `out` (emptied first; reused, not reallocated, if it has the room): the
/// C API hands back the last sent wire text's buffer for the next one.
pub fn encode_into(binary: &[u8], mut out: String) -> String {
    out.clear();
    out.reserve_exact(encoded_len(binary.len()) + 1);
    out.push_str(OTR_ARMOUR_PREFIX);
    crate::wire::base64::encode_append(binary, &mut out);
    out.push_str(OTR_ARMOUR_SUFFIX);
    out
}

/// Decodes an encoded message (see the module documentation for what is tolerated).
pub fn decode(message: &str) -> Result<Vec<u8>, TextError> {
    if message.len() > MAX_OTR_ENCODED_LEN {
        return Err(TextError::TooLarge);
    }
    let body = message.trim_start_matches(is_space).strip_prefix(OTR_ARMOUR_PREFIX).ok_or(TextError::MissingMarker)?;
    // The common case without searching: the message ends with the terminator and what comes
    // before it decodes (strict base64 has no `.`, so that `.` is the first one). Anything
    // else takes the full path below, errors included.
    if let Some(binary) = body.strip_suffix('.').and_then(|b64| crate::wire::base64::decode(b64.as_bytes())) {
        if !binary.is_empty() {
            return Ok(binary);
        }
    }
    // The terminator is one byte: found with memchr, not a substring search.
    let (b64, after) = body.split_once('.').ok_or(TextError::MissingTerminator)?;
    if !after.chars().all(is_space) {
        return Err(TextError::MissingTerminator);
    }
    // Strict: non-alphabet bytes, missing or non-canonical padding and non-zero trailing bits
    // are rejected. Whitespace inside (line-wrapping transports) is rare: decoded as it is
    // first, the text is copied without whitespace only if that fails.
    let binary = match crate::wire::base64::decode(b64.as_bytes()) {
        Some(binary) => binary,
        None => {
            let compact: Vec<u8> = b64.bytes().filter(|&b| !is_space(char::from(b))).collect();
            if compact.is_empty() {
                return Err(TextError::Empty);
            }
            crate::wire::base64::decode(&compact).ok_or(TextError::BadBase64)?
        }
    };
    if binary.is_empty() {
        return Err(TextError::Empty);
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_form_and_round_trip() {
        assert_eq!(encode(b"hi"), "?OTR:aGk=.");
        assert_eq!(decode("?OTR:aGk=.").unwrap(), b"hi");
        for n in [1usize, 2, 3, 4, 100, 1000] {
            let bin: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let enc = encode(&bin);
            assert_eq!(enc.len(), encoded_len(n));
            assert_eq!(enc.capacity(), enc.len() + 1, "room for the C API's NUL, one byte");
            assert_eq!(decode(&enc).unwrap(), bin);
        }
    }

    #[test]
    fn encoding_into_a_used_buffer_writes_the_same_text_in_it() {
        let used = encode(&[7u8; 600]);
        let room = used.capacity();
        for n in [1usize, 2, 3, 100, 400] {
            let bin: Vec<u8> = (0..n).map(|i| (i * 13) as u8).collect();
            let mut lent = String::with_capacity(room);
            lent.push_str(&used);
            let reused = encode_into(&bin, lent);
            assert_eq!(reused, encode(&bin));
            assert!(reused.capacity() >= room && reused.capacity() > reused.len());
        }
        // Too small: grown, still the same text with room for the NUL.
        let grown = encode_into(&[1u8; 300], String::from("?OTR:x."));
        assert_eq!(grown, encode(&[1u8; 300]));
        assert!(grown.capacity() > grown.len());
    }

    #[test]
    fn versions_from_the_prefix() {
        assert_eq!(encoded_version(&encode(&[0, 3, 2, 1])), Some(EncodedVersion::V3));
        for t in [0x02u8, 0x0a, 0x11, 0x12, 0x03] {
            assert_eq!(encoded_version(&encode(&[0, 3, t])), Some(EncodedVersion::V3));
            assert_eq!(encoded_version(&encode(&[0, 2, t])), Some(EncodedVersion::V2));
        }
        assert_eq!(encoded_version(&encode(&[0, 1, 3])), Some(EncodedVersion::V1));
        assert_eq!(encoded_version(&encode(&[0, 4, 3])), Some(EncodedVersion::V4));
        assert_eq!(encoded_version(&encode(&[0x4f, 1, 3])), None);
        assert_eq!(encoded_version(" \n?OTR:AAMC"), Some(EncodedVersion::V3));
        assert_eq!(encoded_version("?OTR:AA"), None);
        assert_eq!(encoded_version("x?OTR:AAMC"), None);
        assert_eq!(EncodedVersion::V4.spoken(), None);
        assert_eq!(EncodedVersion::V2.spoken(), Some(OtrVersion::V2));
    }

    #[test]
    fn tolerated_whitespace() {
        assert_eq!(decode(" \r\n\t?OTR:aGk=.").unwrap(), b"hi");
        assert_eq!(decode("?OTR:aGk=.\r\n ").unwrap(), b"hi");
        assert_eq!(decode("?OTR:aG\r\nk=.").unwrap(), b"hi");
        assert_eq!(decode("?OTR:a G k = .").unwrap(), b"hi");
    }

    #[test]
    fn rejections() {
        assert_eq!(decode("?OTR:."), Err(TextError::Empty));
        assert_eq!(decode("?OTR: \n."), Err(TextError::Empty));
        assert!(decode("?OTR:====.").is_err());
        assert_eq!(decode("x?OTR:aGk=."), Err(TextError::MissingMarker));
        assert_eq!(decode("?OFR:aGk=."), Err(TextError::MissingMarker));
        assert_eq!(decode("?OTR:aGk="), Err(TextError::MissingTerminator));
        assert_eq!(decode("?OTR:aGk=.x"), Err(TextError::MissingTerminator));
        assert_eq!(decode("?OTR:aGk=.."), Err(TextError::MissingTerminator));
        assert_eq!(decode("?OTR:aGk."), Err(TextError::BadBase64)); // unpadded: libotr would lose a byte
        assert_eq!(decode("?OTR:aGk==."), Err(TextError::BadBase64));
        assert_eq!(decode("?OTR:aGl=."), Err(TextError::BadBase64)); // non-zero trailing bits
        assert_eq!(decode("?OTR:aG*k=."), Err(TextError::BadBase64));
        assert_eq!(decode("?OTR:aG-_."), Err(TextError::BadBase64));
        assert_eq!(decode("?OTR:aGké."), Err(TextError::BadBase64));
        assert_eq!(decode("?OTR:aG\u{a0}k=."), Err(TextError::BadBase64));
    }

    #[test]
    fn oversize_is_rejected_before_decoding() {
        let big = format!("?OTR:{}.", "A".repeat(MAX_OTR_ENCODED_LEN));
        assert_eq!(decode(&big), Err(TextError::TooLarge));
        let n = (MAX_OTR_ENCODED_LEN - 6) / 4 * 4;
        let edge = format!("?OTR:{}.", "A".repeat(n));
        assert_eq!(decode(&edge).unwrap().len(), n / 4 * 3);
        // Exactly the limit, made up with leading white space (tolerated), still decodes.
        let exact = format!("{}{edge}", " ".repeat(MAX_OTR_ENCODED_LEN - edge.len()));
        assert_eq!(exact.len(), MAX_OTR_ENCODED_LEN);
        assert_eq!(decode(&exact).unwrap().len(), n / 4 * 3);
        assert_eq!(decode(&format!(" {exact}")), Err(TextError::TooLarge));
    }
}
