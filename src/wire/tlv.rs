//! The plaintext body of a data message: the user's text, then type-length-value records
//! carrying control information (SMP, disconnect, padding). Unknown TLV types are kept, not
//! rejected, so later versions can add records old peers skip.

use super::codec::{Reader, Writer};
use super::error::WireError;

/// Known TLV types. A namespace of constants rather than an enum, because unknown types must
/// survive parsing.
#[derive(Debug)]
pub enum TlvType {}

impl TlvType {
    /// Zeros that hide the message length.
    pub const PADDING: u16 = 0;
    /// The peer ended the encrypted conversation.
    pub const DISCONNECTED: u16 = 1;
    /// Socialist Millionaires' Protocol, step 1.
    pub const SMP1: u16 = 2;
    /// SMP step 2.
    pub const SMP2: u16 = 3;
    /// SMP step 3.
    pub const SMP3: u16 = 4;
    /// SMP step 4.
    pub const SMP4: u16 = 5;
    /// SMP aborted.
    pub const SMP_ABORT: u16 = 6;
    /// Request to use the extra symmetric key.
    pub const EXTRA_SYMMETRIC_KEY: u16 = 7;
    /// The sender's OTR DSA key: its 20-byte fingerprint (key linking, PROTOCOL.md part B).
    pub const LINKED_OTR_KEY: u16 = 8;
}

/// The most TLVs one body may carry (padding included). Bounds the work a hostile body causes.
pub const MAX_TLVS: usize = 64;
/// Bytes of a TLV header (type and length).
const TLV_HEADER: usize = 4;

/// One type-length-value record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// The record type; see [`TlvType`].
    pub kind: u16,
    /// The value, at most 65535 bytes.
    pub value: Vec<u8>,
}

impl Tlv {
    /// The extra-symmetric-key record: `u32 usage ‖ context`.
    pub fn extra_key(usage: u32, context: &[u8]) -> Tlv {
        let mut value = usage.to_be_bytes().to_vec();
        value.extend_from_slice(context);
        Tlv { kind: TlvType::EXTRA_SYMMETRIC_KEY, value }
    }

    /// Reads an extra-symmetric-key record's value back: (usage, context); `None` if it is
    /// shorter than the usage field.
    pub fn parse_extra_key(value: &[u8]) -> Option<(u32, &[u8])> {
        let (usage, context) = value.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*usage), context))
    }

    /// The key-link record: the sender's 20-byte OTR DSA fingerprint.
    pub fn linked_otr_key(fingerprint: &[u8; 20]) -> Tlv {
        Tlv { kind: TlvType::LINKED_OTR_KEY, value: fingerprint.to_vec() }
    }

    /// Reads a key-link record's value back; `None` unless it is exactly 20 bytes.
    pub fn parse_linked_otr_key(value: &[u8]) -> Option<[u8; 20]> {
        value.try_into().ok()
    }
}

/// A decoded data-message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The user's message (may be empty, e.g. for a pure SMP message).
    pub text: Vec<u8>,
    /// Every TLV in order, unknown types and padding included.
    pub tlvs: Vec<Tlv>,
}

/// `u32 text length ‖ text ‖ TLVs`, then, if `pad_to > 0`, one PADDING TLV making the total the
/// smallest multiple of `pad_to` that fits it. Fails with [`WireError::TooLarge`] if the text,
/// a value or the padding does not fit its length field, and [`WireError::TooManyTlvs`] past
/// [`MAX_TLVS`].
pub fn encode_body(text: &[u8], tlvs: &[Tlv], pad_to: usize) -> Result<Vec<u8>, WireError> {
    // Sized up front: the body is plaintext, and a growing buffer would leave copies behind.
    let mut w = Writer::with_capacity(encoded_body_len(text, tlvs, pad_to)?);
    write_body(&mut w, text, tlvs, pad_to)?;
    Ok(w.into_vec())
}

/// The length [`encode_body`] gives, with the same errors, without building anything (so a
/// sender can size one buffer for the whole message and check it against the transport first).
pub fn encoded_body_len(text: &[u8], tlvs: &[Tlv], pad_to: usize) -> Result<usize, WireError> {
    let padding_tlvs = usize::from(pad_to > 0);
    if tlvs.len().checked_add(padding_tlvs).ok_or(WireError::TooManyTlvs)? > MAX_TLVS {
        return Err(WireError::TooManyTlvs);
    }
    u32::try_from(text.len()).map_err(|_| WireError::TooLarge)?;
    let mut unpadded = 4usize.checked_add(text.len()).ok_or(WireError::TooLarge)?;
    for tlv in tlvs {
        u16::try_from(tlv.value.len()).map_err(|_| WireError::TooLarge)?;
        unpadded = unpadded.checked_add(TLV_HEADER + tlv.value.len()).ok_or(WireError::TooLarge)?;
    }
    if pad_to == 0 {
        return Ok(unpadded);
    }
    let min_total = unpadded.checked_add(TLV_HEADER).ok_or(WireError::TooLarge)?;
    let total = min_total.div_ceil(pad_to).checked_mul(pad_to).ok_or(WireError::TooLarge)?;
    // Padding never exceeds one TLV's u16 length.
    u16::try_from(total - min_total).map_err(|_| WireError::TooLarge)?;
    Ok(total)
}

/// Appends the body [`encode_body`] builds to `out`, which the caller has sized with
/// [`encoded_body_len`] (so no reallocation copies plaintext). On error `out` may hold part of
/// the body: the caller wipes it.
pub fn encode_body_into(out: &mut Vec<u8>, text: &[u8], tlvs: &[Tlv], pad_to: usize) -> Result<(), WireError> {
    let mut w = Writer::from_vec(core::mem::take(out));
    let result = write_body(&mut w, text, tlvs, pad_to);
    *out = w.into_vec();
    result
}

fn write_body(w: &mut Writer, text: &[u8], tlvs: &[Tlv], pad_to: usize) -> Result<(), WireError> {
    let start = w.len();
    w.data(text)?;
    for tlv in tlvs {
        let len = u16::try_from(tlv.value.len()).map_err(|_| WireError::TooLarge)?;
        w.u16(tlv.kind).u16(len).bytes(&tlv.value);
    }
    if pad_to > 0 {
        let min_total = (w.len() - start).checked_add(TLV_HEADER).ok_or(WireError::TooLarge)?;
        let total = min_total.div_ceil(pad_to).checked_mul(pad_to).ok_or(WireError::TooLarge)?;
        let pad_len = total.checked_sub(min_total).ok_or(WireError::TooLarge)?;
        let pad_len16 = u16::try_from(pad_len).map_err(|_| WireError::TooLarge)?;
        w.u16(TlvType::PADDING).u16(pad_len16);
        w.zeros(pad_len);
    }
    Ok(())
}

/// Parses a body strictly: the text length and every TLV length must fit in what is left, a
/// partial TLV header is an error, and at most [`MAX_TLVS`] TLVs are accepted.
pub fn decode_body(body: &[u8]) -> Result<Body, WireError> {
    let (raw, tlvs) = parse_body(body)?;
    // One spare byte: the C API NUL-terminates delivered text in place (no reallocation that
    // would leave an unwiped copy of the plaintext).
    let mut text = Vec::with_capacity(raw.len() + 1);
    text.extend_from_slice(raw);
    Ok(Body { text, tlvs })
}

/// As [`decode_body`], but the text is left in `body` itself (moved to its start, the rest of
/// the buffer, TLVs and all, wiped): a received message's plaintext becomes the delivered text
/// without another allocation or copy. Returns the TLVs; on error `body` is unchanged.
pub fn decode_body_in_place(body: &mut Vec<u8>) -> Result<Vec<Tlv>, WireError> {
    decode_body_in_place_at(body, 0)
}

/// As [`decode_body_in_place`] for a body that starts at `start` in `buffer` (a received
/// message decrypted where it was decoded, its header in front): the text is moved to the
/// buffer's start in one move, and everything after it (header, the text's old tail, TLVs,
/// padding) is wiped. Returns the TLVs; on error (`start` past the end included) `buffer` is
/// unchanged.
pub fn decode_body_in_place_at(buffer: &mut Vec<u8>, start: usize) -> Result<Vec<Tlv>, WireError> {
    let (text_len, tlvs) = {
        let body = buffer.get(start..).ok_or(WireError::Truncated)?;
        let (raw, tlvs) = parse_body(body)?;
        (raw.len(), tlvs)
    };
    // `parse_body` read a 4-byte length and then `text_len` bytes after `start`.
    let text_start = start + 4;
    buffer.copy_within(text_start..text_start + text_len, 0);
    buffer.truncate(text_len);
    // What followed the text (its old tail, TLVs, padding) is plaintext too. At least the 4
    // bytes of the length field stay as spare room, so the C API's NUL never reallocates.
    zeroize::Zeroize::zeroize(buffer.spare_capacity_mut());
    Ok(tlvs)
}

/// As [`decode_body_in_place_at`], without moving the text: it stays where it lies in `buffer`,
/// at the returned offset (`start` + 4), and `buffer` is cut to end where the text ends. What
/// followed the text (TLVs, padding, anything in the spare room) is wiped. Returns where the
/// text starts and the TLVs other than padding (padding is checked as strictly, and counts
/// towards [`MAX_TLVS`], but a receiver has no use for it: a message padded and nothing else
/// allocates no list); on error (`start` past the end included) `buffer` is unchanged.
pub fn decode_body_behind(buffer: &mut Vec<u8>, start: usize) -> Result<(usize, Vec<Tlv>), WireError> {
    let (text_len, tlvs) = {
        let body = buffer.get(start..).ok_or(WireError::Truncated)?;
        let (raw, tlvs) = parse_body_keeping(body, false)?;
        (raw.len(), tlvs)
    };
    // `parse_body` read a 4-byte length and then `text_len` bytes after `start`.
    let text_start = start + 4;
    buffer.truncate(text_start + text_len);
    zeroize::Zeroize::zeroize(buffer.spare_capacity_mut());
    Ok((text_start, tlvs))
}

/// The text and the TLVs of a body, parsed strictly (see [`decode_body`]).
fn parse_body(body: &[u8]) -> Result<(&[u8], Vec<Tlv>), WireError> {
    parse_body_keeping(body, true)
}

/// [`parse_body`], returning padding TLVs only if `padding` (they are parsed and counted alike).
fn parse_body_keeping(body: &[u8], padding: bool) -> Result<(&[u8], Vec<Tlv>), WireError> {
    let mut r = Reader::new(body);
    let raw = r.data()?;
    let mut tlvs = Vec::new();
    let mut count = 0;
    while r.remaining() > 0 {
        if count >= MAX_TLVS {
            return Err(WireError::TooManyTlvs);
        }
        count += 1;
        let kind = r.u16()?;
        let len = r.u16()?;
        let value = r.bytes(usize::from(len))?;
        if padding || kind != TlvType::PADDING {
            tlvs.push(Tlv { kind, value: value.to_vec() });
        }
    }
    r.finish()?;
    Ok((raw, tlvs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_key_record_round_trips() {
        let tlv = Tlv::extra_key(0x0102_0304, b"file");
        assert_eq!(tlv.kind, TlvType::EXTRA_SYMMETRIC_KEY);
        assert_eq!(tlv.value, b"\x01\x02\x03\x04file");
        assert_eq!(Tlv::parse_extra_key(&tlv.value), Some((0x0102_0304, &b"file"[..])));
        assert_eq!(Tlv::parse_extra_key(&[1, 2, 3]), None);
    }

    #[test]
    fn linked_otr_key_record_is_exactly_a_dsa_fingerprint() {
        let tlv = Tlv::linked_otr_key(&[9; 20]);
        assert_eq!((tlv.kind, tlv.value.len()), (8, 20));
        assert_eq!(Tlv::parse_linked_otr_key(&tlv.value), Some([9; 20]));
        for len in [0, 19, 21, 32] {
            assert_eq!(Tlv::parse_linked_otr_key(&vec![9; len]), None, "{len} bytes");
        }
    }

    fn smp(v: &[u8]) -> Tlv {
        Tlv { kind: TlvType::SMP1, value: v.to_vec() }
    }

    #[test]
    fn exact_layout_and_round_trip() {
        let body = encode_body(b"hi", &[smp(&[7, 8])], 0).unwrap();
        assert_eq!(body, [0, 0, 0, 2, b'h', b'i', 0, 2, 0, 2, 7, 8]);
        let parsed = decode_body(&body).unwrap();
        assert_eq!(parsed.text, b"hi");
        assert_eq!(parsed.tlvs, vec![smp(&[7, 8])]);
    }

    #[test]
    fn padding_reaches_the_smallest_fitting_multiple() {
        // 4 + 2 text + 4 padding header = 10 -> 16.
        let body = encode_body(b"hi", &[], 16).unwrap();
        assert_eq!(body.len(), 16);
        let parsed = decode_body(&body).unwrap();
        assert_eq!(parsed.tlvs, vec![Tlv { kind: TlvType::PADDING, value: vec![0; 6] }]);
        // Exactly fitting: 4 + 8 + 4 = 16 -> zero-length padding value.
        let body = encode_body(b"12345678", &[], 16).unwrap();
        assert_eq!(body.len(), 16);
        assert_eq!(decode_body(&body).unwrap().tlvs[0].value.len(), 0);
        // One over: 17 -> 32.
        assert_eq!(encode_body(b"123456789", &[], 16).unwrap().len(), 32);
        assert_eq!(encode_body(b"", &[], 1).unwrap().len(), 8);
    }

    #[test]
    fn unknown_types_are_kept() {
        let odd = Tlv { kind: 0xBEEF, value: vec![1] };
        let body = encode_body(b"", core::slice::from_ref(&odd), 0).unwrap();
        assert_eq!(decode_body(&body).unwrap().tlvs, vec![odd]);
    }

    #[test]
    fn encode_limits() {
        let big = Tlv { kind: 9, value: vec![0; 0x10000] };
        assert_eq!(encode_body(b"", &[big], 0), Err(WireError::TooLarge));
        let many = vec![smp(b""); MAX_TLVS];
        assert!(encode_body(b"", &many, 0).is_ok());
        assert_eq!(encode_body(b"", &many, 16), Err(WireError::TooManyTlvs));
        assert_eq!(encode_body(b"", &vec![smp(b""); MAX_TLVS + 1], 0), Err(WireError::TooManyTlvs));
        // Padding that would not fit a u16 length.
        assert_eq!(encode_body(b"", &[], 0x20000), Err(WireError::TooLarge));
        assert_eq!(encode_body(b"", &[], usize::MAX), Err(WireError::TooLarge));
    }

    #[test]
    fn tlv_length_past_end_is_rejected() {
        assert_eq!(decode_body(&[0, 0, 0, 0, 0, 2, 0, 5, 1, 2]), Err(WireError::Truncated));
        // Length 0xFFFF with only 3 bytes of value.
        assert_eq!(decode_body(&[0, 0, 0, 0, 0, 2, 0xFF, 0xFF, 1, 2, 3]), Err(WireError::Truncated));
        // A partial TLV header.
        assert_eq!(decode_body(&[0, 0, 0, 0, 0, 2, 0]), Err(WireError::Truncated));
        assert_eq!(decode_body(&[0, 0, 0, 0, 0]), Err(WireError::Truncated));
    }

    #[test]
    fn text_length_is_checked() {
        assert_eq!(decode_body(&[0xFF, 0xFF, 0xFF, 0xFF, b'a']), Err(WireError::Truncated));
        assert_eq!(decode_body(&[0, 0, 0, 2, b'a']), Err(WireError::Truncated));
        assert_eq!(decode_body(&[0, 0, 0]), Err(WireError::Truncated));
        assert_eq!(decode_body(&[]), Err(WireError::Truncated));
    }

    #[test]
    fn too_many_tlvs_are_rejected() {
        let mut body = vec![0, 0, 0, 0];
        for _ in 0..=MAX_TLVS {
            body.extend_from_slice(&[0, 1, 0, 0]);
        }
        assert_eq!(decode_body(&body), Err(WireError::TooManyTlvs));
        body.truncate(body.len() - 4);
        assert_eq!(decode_body(&body).unwrap().tlvs.len(), MAX_TLVS);
        // Padding counts as much when it is not returned.
        let mut padded = vec![0, 0, 0, 0];
        for _ in 0..=MAX_TLVS {
            padded.extend_from_slice(&[0, 0, 0, 1, 0]);
        }
        assert_eq!(decode_body_behind(&mut padded.clone(), 0), Err(WireError::TooManyTlvs));
        padded.truncate(padded.len() - 5);
        assert_eq!(decode_body_behind(&mut padded, 0), Ok((4, Vec::new())));
    }
    /// Every (text, TLVs, padding) case the tests above use, and larger ones.
    fn cases() -> Vec<(Vec<u8>, Vec<Tlv>, usize)> {
        let mut out = Vec::new();
        for text in [&b""[..], b"hi", b"12345678", b"123456789", &[0xAB; 4096]] {
            for tlvs in [vec![], vec![smp(&[7, 8])], vec![smp(b""), Tlv { kind: 0xBEEF, value: vec![1; 300] }]] {
                for pad in [0, 1, 16, 256] {
                    out.push((text.to_vec(), tlvs.clone(), pad));
                }
            }
        }
        out
    }

    #[test]
    fn the_in_place_codec_agrees_with_the_copying_one() {
        for (text, tlvs, pad) in cases() {
            let body = encode_body(&text, &tlvs, pad).unwrap();
            assert_eq!(encoded_body_len(&text, &tlvs, pad), Ok(body.len()));
            let mut appended = b"head".to_vec();
            encode_body_into(&mut appended, &text, &tlvs, pad).unwrap();
            assert_eq!(&appended[4..], &body[..]);
            let mut in_place = body.clone();
            let parsed = decode_body(&body).unwrap();
            assert_eq!(decode_body_in_place(&mut in_place), Ok(parsed.tlvs));
            assert_eq!(in_place, parsed.text);
            assert!(in_place.capacity() > in_place.len(), "room for the C API's NUL");
        }
    }

    #[test]
    fn the_body_length_fails_exactly_as_encoding_does() {
        let big = Tlv { kind: 9, value: vec![0; 0x10000] };
        let many = vec![smp(b""); MAX_TLVS];
        let more = vec![smp(b""); MAX_TLVS + 1];
        let limits: [(&[Tlv], usize); 6] =
            [(&[big], 0), (&many, 0), (&many, 16), (&more, 0), (&[], 0x20000), (&[], usize::MAX)];
        for (tlvs, pad) in limits {
            let expected = encode_body(b"", tlvs, pad).map(|body| body.len());
            assert_eq!(encoded_body_len(b"", tlvs, pad), expected, "{} TLVs, pad {pad}", tlvs.len());
        }
    }

    #[test]
    fn a_body_that_fails_to_parse_in_place_is_left_unchanged() {
        for bad in [&[0, 0, 0, 0, 0, 2, 0, 5, 1, 2][..], &[0, 0, 0, 2, b'a'], &[0, 0, 0], &[]] {
            let mut body = bad.to_vec();
            assert!(decode_body_in_place(&mut body).is_err());
            assert_eq!(body, bad);
        }
    }

    #[test]
    fn a_body_behind_a_header_decodes_as_alone_and_a_bad_one_changes_nothing() {
        for (text, tlvs, pad) in cases() {
            let body = encode_body(&text, &tlvs, pad).unwrap();
            let parsed = decode_body(&body).unwrap();
            for start in [0usize, 1, 3, 53, 85, 1000] {
                let mut buffer = vec![0x5A; start];
                buffer.extend_from_slice(&body);
                assert_eq!(decode_body_in_place_at(&mut buffer, start), Ok(parsed.tlvs.clone()), "start {start}");
                assert_eq!(buffer, parsed.text, "start {start}");
                assert!(buffer.capacity() > buffer.len(), "room for the C API's NUL");
            }
        }
        for bad in [&[0, 0, 0, 0, 0, 2, 0, 5, 1, 2][..], &[0, 0, 0, 2, b'a'], &[0, 0, 0], &[]] {
            let mut buffer = b"header".to_vec();
            buffer.extend_from_slice(bad);
            let before = buffer.clone();
            assert!(decode_body_in_place_at(&mut buffer, 6).is_err());
            assert_eq!(buffer, before);
        }
        // A start past the end is an error, not a panic.
        let mut buffer = b"head".to_vec();
        for start in [5, usize::MAX] {
            assert_eq!(decode_body_in_place_at(&mut buffer, start), Err(WireError::Truncated));
            assert_eq!(buffer, b"head");
        }
    }

    #[test]
    fn a_body_left_behind_its_header_reads_as_alone_and_a_bad_one_changes_nothing() {
        for (text, tlvs, pad) in cases() {
            let body = encode_body(&text, &tlvs, pad).unwrap();
            let parsed = decode_body(&body).unwrap();
            for start in [0usize, 1, 3, 53, 85, 1000] {
                let mut buffer = vec![0x5A; start];
                buffer.extend_from_slice(&body);
                let (at, got) = decode_body_behind(&mut buffer, start).unwrap();
                let unpadded: Vec<Tlv> = parsed.tlvs.iter().filter(|t| t.kind != TlvType::PADDING).cloned().collect();
                assert_eq!((at, got), (start + 4, unpadded), "start {start}");
                assert_eq!(&buffer[..start], &vec![0x5A; start][..], "the header stays");
                assert_eq!(&buffer[at..], &parsed.text[..], "start {start}");
                // What followed the text is wiped from the spare room: tests/zeroize_evidence.rs.
                // (A received message always has spare room for the C API's NUL: its tag.)
            }
        }
        for bad in [&[0, 0, 0, 0, 0, 2, 0, 5, 1, 2][..], &[0, 0, 0, 2, b'a'], &[0, 0, 0], &[]] {
            let mut buffer = b"header".to_vec();
            buffer.extend_from_slice(bad);
            let before = buffer.clone();
            assert!(decode_body_behind(&mut buffer, 6).is_err());
            assert_eq!(buffer, before);
            assert_eq!(
                decode_body_behind(&mut before.clone(), 6).map(|_| ()),
                decode_body_in_place_at(&mut before.clone(), 6).map(|_| ())
            );
            // Rejected exactly when the moving form rejects it.
            assert!(decode_body_in_place_at(&mut before.clone(), 6).is_err());
        }
        let mut buffer = b"head".to_vec();
        for start in [5, usize::MAX] {
            assert_eq!(decode_body_behind(&mut buffer, start), Err(WireError::Truncated));
            assert_eq!(buffer, b"head");
        }
    }
}
