//! The plaintext of an OTR data message: `text ‖ NUL ‖ TLVs` (v3 spec, "Data Message", and
//! brief §1.6–1.7). We always write the NUL (libotr does; a heartbeat is then the single byte
//! 0); we accept its absence (otr4j leaves it out when there are no TLVs). The text therefore
//! cannot contain NUL. TLVs are parsed as leniently as libotr (an incomplete record at the end
//! is ignored) but their number is capped.
//!
//! OTR's TLV numbering differs from offrec's modern table (`wire::TlvType`: there 7 is the
//! extra key, here 8), so the two live apart.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// OTR's TLV types (a namespace, since unknown types must survive parsing).
#[derive(Debug)]
pub enum OtrTlvType {}

impl OtrTlvType {
    /// Ignored bytes that hide the message length.
    pub const PADDING: u16 = 0;
    /// The sender ended the private conversation.
    pub const DISCONNECTED: u16 = 1;
    /// SMP message 1.
    pub const SMP1: u16 = 2;
    /// SMP message 2.
    pub const SMP2: u16 = 3;
    /// SMP message 3.
    pub const SMP3: u16 = 4;
    /// SMP message 4.
    pub const SMP4: u16 = 5;
    /// SMP aborted.
    pub const SMP_ABORT: u16 = 6;
    /// SMP message 1 with a question: `question ‖ NUL ‖ SMP1 value`.
    pub const SMP1Q: u16 = 7;
    /// Use of the extra symmetric key: `INT use ‖ use-specific data`.
    pub const EXTRA_SYMMETRIC_KEY: u16 = 8;
}

/// The most TLVs one plaintext may carry. libotr sends at most two.
pub const MAX_OTR_TLVS: usize = 64;
/// The longest plaintext accepted or produced (the ciphertext cap of a data message).
pub const MAX_PLAINTEXT_LEN: usize = crate::otr::message::MAX_CIPHERTEXT_LEN;

/// One OTR TLV. The value is wiped on drop (an SMP question, an extra-key context).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct OtrTlv {
    /// The type; see [`OtrTlvType`].
    pub kind: u16,
    /// The value, at most 65535 bytes.
    pub value: Vec<u8>,
}

impl std::fmt::Debug for OtrTlv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtrTlv").field("kind", &self.kind).field("len", &self.value.len()).finish()
    }
}

/// A decoded plaintext: the human-readable text and the TLVs in wire order. Wiped on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct OtrPlaintext {
    /// The text before the first NUL (UTF-8, possibly HTML, by convention; not checked here).
    pub text: Vec<u8>,
    /// Every complete TLV after the NUL.
    pub tlvs: Vec<OtrTlv>,
}

impl std::fmt::Debug for OtrPlaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtrPlaintext").field("text_len", &self.text.len()).field("tlvs", &self.tlvs).finish()
    }
}

/// Why a plaintext cannot be built or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The text contains a NUL byte, which OTR uses to end the text.
    #[error("text contains a NUL byte")]
    TextContainsNul,
    /// A TLV value longer than its 16-bit length field.
    #[error("TLV value longer than 65535 bytes")]
    ValueTooLong,
    /// More than [`MAX_OTR_TLVS`] TLVs.
    #[error("too many TLVs")]
    TooManyTlvs,
    /// The plaintext is longer than [`MAX_PLAINTEXT_LEN`].
    #[error("plaintext too long")]
    TooLong,
}

impl OtrTlv {
    /// A TLV of `kind` with `value`.
    pub fn new(kind: u16, value: &[u8]) -> OtrTlv {
        OtrTlv { kind, value: value.to_vec() }
    }

    /// TLV 8: `INT use ‖ data`, telling the peer what the extra symmetric key is for.
    pub fn extra_symmetric_key(use_code: u32, data: &[u8]) -> OtrTlv {
        let mut value = Vec::with_capacity(4 + data.len());
        value.extend_from_slice(&use_code.to_be_bytes());
        value.extend_from_slice(data);
        OtrTlv { kind: OtrTlvType::EXTRA_SYMMETRIC_KEY, value }
    }

    /// Reads TLV 8's value back as (use, data); `None` if shorter than the use field (libotr
    /// ignores such a TLV).
    pub fn parse_extra_symmetric_key(value: &[u8]) -> Option<(u32, &[u8])> {
        let (use_code, data) = value.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*use_code), data))
    }
}

impl OtrPlaintext {
    /// The first TLV of `kind`, as libotr looks them up (by type, not in wire order).
    pub fn find(&self, kind: u16) -> Option<&OtrTlv> {
        self.tlvs.iter().find(|tlv| tlv.kind == kind)
    }

    /// Whether there is text to show (a heartbeat or a pure SMP message has none).
    pub fn has_text(&self) -> bool {
        !self.text.is_empty()
    }
}

/// `text ‖ NUL ‖ TLVs`, the NUL always written.
pub fn encode_plaintext(text: &[u8], tlvs: &[OtrTlv]) -> Result<Zeroizing<Vec<u8>>, TlvError> {
    if text.contains(&0) {
        return Err(TlvError::TextContainsNul);
    }
    if tlvs.len() > MAX_OTR_TLVS {
        return Err(TlvError::TooManyTlvs);
    }
    let mut len = text.len().checked_add(1).ok_or(TlvError::TooLong)?;
    for tlv in tlvs {
        if tlv.value.len() > usize::from(u16::MAX) {
            return Err(TlvError::ValueTooLong);
        }
        len = len.checked_add(4 + tlv.value.len()).ok_or(TlvError::TooLong)?;
    }
    if len > MAX_PLAINTEXT_LEN {
        return Err(TlvError::TooLong);
    }
    // Sized up front: no reallocation leaves copies of the plaintext behind.
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    out.extend_from_slice(text);
    out.push(0);
    for tlv in tlvs {
        out.extend_from_slice(&tlv.kind.to_be_bytes());
        out.extend_from_slice(&u16::try_from(tlv.value.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&tlv.value);
    }
    Ok(out)
}

/// The TLV records after the NUL: `tlvs`, then, with `padding = Some(n)`, a padding TLV of `n`
/// zero bytes. What [`encode_plaintext`] writes after `text ‖ NUL`, for a sender that encrypts
/// the text straight from its own buffer; the same limits are checked for `text_len` bytes of
/// text before them.
pub fn encode_tlvs(text_len: usize, tlvs: &[OtrTlv], padding: Option<usize>) -> Result<Zeroizing<Vec<u8>>, TlvError> {
    if tlvs.len() + usize::from(padding.is_some()) > MAX_OTR_TLVS {
        return Err(TlvError::TooManyTlvs);
    }
    let mut len = 0usize;
    for value_len in tlvs.iter().map(|tlv| tlv.value.len()).chain(padding) {
        if value_len > usize::from(u16::MAX) {
            return Err(TlvError::ValueTooLong);
        }
        len = len.checked_add(4 + value_len).ok_or(TlvError::TooLong)?;
    }
    if text_len.checked_add(1).and_then(|n| n.checked_add(len)).is_none_or(|n| n > MAX_PLAINTEXT_LEN) {
        return Err(TlvError::TooLong);
    }
    // Sized up front: no reallocation leaves copies of the values behind.
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for tlv in tlvs {
        out.extend_from_slice(&tlv.kind.to_be_bytes());
        out.extend_from_slice(&u16::try_from(tlv.value.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&tlv.value);
    }
    if let Some(fill) = padding {
        out.extend_from_slice(&OtrTlvType::PADDING.to_be_bytes());
        out.extend_from_slice(&u16::try_from(fill).unwrap_or(u16::MAX).to_be_bytes());
        let end = out.len() + fill;
        out.resize(end, 0);
    }
    Ok(out)
}

/// The longest padding value [`padding_record`] serves: offrec's largest padding block.
pub const MAX_PADDING_FILL: usize = 4096;

/// Zeros the padding values are borrowed from.
static PADDING_ZEROS: [u8; MAX_PADDING_FILL] = [0; MAX_PADDING_FILL];

/// A padding TLV of `fill` zero bytes as its 4-byte header and its value, borrowed (what
/// [`encode_tlvs`] writes for `padding = Some(fill)` with no other TLV, without allocating):
/// `None` above [`MAX_PADDING_FILL`].
pub fn padding_record(fill: usize) -> Option<([u8; 4], &'static [u8])> {
    let value = PADDING_ZEROS.get(..fill)?;
    let [a, b] = OtrTlvType::PADDING.to_be_bytes();
    let [c, d] = u16::try_from(fill).ok()?.to_be_bytes();
    Some(([a, b, c, d], value))
}

/// Splits a decrypted plaintext into text and TLVs. No NUL: all text, no TLVs. An incomplete
/// TLV at the end is ignored (libotr's rule); more than [`MAX_OTR_TLVS`] is refused.
pub fn decode_plaintext(bytes: &[u8]) -> Result<OtrPlaintext, TlvError> {
    let (text_len, tlvs) = split_plaintext(bytes)?;
    Ok(OtrPlaintext { text: bytes.get(..text_len).unwrap_or_default().to_vec(), tlvs })
}

/// [`decode_plaintext`] without copying the text: its length (the text is always the start of
/// `bytes`) and the TLVs. A receiver keeps the text in the decrypted buffer, truncated.
pub fn split_plaintext(bytes: &[u8]) -> Result<(usize, Vec<OtrTlv>), TlvError> {
    let (text_len, records) = split_plaintext_records(bytes)?;
    Ok((text_len, records.map(|(kind, value)| OtrTlv::new(kind, value)).collect()))
}

/// [`split_plaintext`] without copying anything: the text's length and the TLV records,
/// borrowed from `bytes` (a receiver looks at each one in place and copies only what it keeps;
/// the padding TLV of every message is never copied). The same checks: longer than
/// [`MAX_PLAINTEXT_LEN`] or more than [`MAX_OTR_TLVS`] complete records is refused.
pub fn split_plaintext_records(bytes: &[u8]) -> Result<(usize, TlvRecords<'_>), TlvError> {
    if bytes.len() > MAX_PLAINTEXT_LEN {
        return Err(TlvError::TooLong);
    }
    // The first NUL, found with core's word-at-a-time memchr (a byte loop is a fifth of a
    // 4 KiB message's receive cost).
    let (text_len, rest) = match core::ffi::CStr::from_bytes_until_nul(bytes) {
        Ok(text) => (text.count_bytes(), bytes.get(text.count_bytes() + 1..).unwrap_or_default()),
        Err(_) => (bytes.len(), &[][..]),
    };
    let records = TlvRecords { rest };
    // Counted before any is used: a refused plaintext yields nothing.
    if records.clone().nth(MAX_OTR_TLVS).is_some() {
        return Err(TlvError::TooManyTlvs);
    }
    Ok((text_len, records))
}

/// The complete TLV records of a plaintext's tail as `(type, value)`, in wire order; an
/// incomplete record at the end (and anything after it) is ignored, as libotr does.
#[derive(Clone)]
pub struct TlvRecords<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TlvRecords<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let ([k0, k1, l0, l1], after) = self.rest.split_first_chunk::<4>().map(|(h, a)| (*h, a))?;
        let Some((value, rest)) = after.split_at_checked(usize::from(u16::from_be_bytes([l0, l1]))) else {
            self.rest = &[];
            return None;
        };
        self.rest = rest;
        Some((u16::from_be_bytes([k0, k1]), value))
    }
}

impl std::fmt::Debug for TlvRecords<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlvRecords").field("remaining_len", &self.rest.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_nul_and_reads_it_back() {
        let tlvs = [OtrTlv::extra_symmetric_key(0x0102_0304, b"file.txt"), OtrTlv::new(OtrTlvType::PADDING, &[0; 3])];
        let bytes = encode_plaintext(b"hello", &tlvs).unwrap();
        assert_eq!(&bytes[..6], b"hello\0");
        assert_eq!(&bytes[6..10], &[0, 8, 0, 12]);
        let plaintext = decode_plaintext(&bytes).unwrap();
        assert_eq!(plaintext.text, b"hello");
        assert_eq!(plaintext.tlvs, tlvs);
        let key = plaintext.find(OtrTlvType::EXTRA_SYMMETRIC_KEY).unwrap();
        assert_eq!(OtrTlv::parse_extra_symmetric_key(&key.value), Some((0x0102_0304, &b"file.txt"[..])));
        assert_eq!(*encode_plaintext(b"", &[]).unwrap(), vec![0], "a heartbeat is one NUL");
        // The records alone, padding last, are what follows the text and its NUL.
        let padded = [tlvs[0].clone(), OtrTlv::new(OtrTlvType::PADDING, &[0; 5])];
        let records = encode_tlvs(5, &tlvs[..1], Some(5)).unwrap();
        assert_eq!(*records, encode_plaintext(b"hello", &padded).unwrap()[6..]);
        assert_eq!(*encode_tlvs(0, &[], None).unwrap(), Vec::<u8>::new());
        assert_eq!(encode_tlvs(0, &[], Some(65536)).unwrap_err(), TlvError::ValueTooLong);
        // The largest value a 16-bit length can name is taken, by both writers.
        assert_eq!(encode_tlvs(0, &[], Some(65535)).unwrap().len(), 4 + 65535);
        let longest = OtrTlv::new(OtrTlvType::PADDING, &vec![0; 65535]);
        assert_eq!(encode_tlvs(0, std::slice::from_ref(&longest), None).unwrap().len(), 4 + 65535);
        assert_eq!(encode_plaintext(b"", &[longest]).unwrap().len(), 1 + 4 + 65535);
        assert_eq!(encode_tlvs(MAX_PLAINTEXT_LEN, &[], None).unwrap_err(), TlvError::TooLong);
        assert_eq!(encode_tlvs(MAX_PLAINTEXT_LEN - 4, &[], Some(0)).unwrap_err(), TlvError::TooLong);
        assert_eq!(
            encode_tlvs(MAX_PLAINTEXT_LEN - 5, &[], Some(0)).unwrap().len(),
            4,
            "text, NUL, padding fill the cap"
        );
        assert_eq!(encode_tlvs(MAX_PLAINTEXT_LEN - 1, &[], None).unwrap().len(), 0);
        for fill in [0, 1, 13, MAX_PADDING_FILL] {
            let (header, value) = padding_record(fill).unwrap();
            assert_eq!([&header[..], value].concat(), *encode_tlvs(0, &[], Some(fill)).unwrap(), "fill {fill}");
        }
        assert_eq!(padding_record(MAX_PADDING_FILL + 1), None);
        let many = vec![OtrTlv::new(9, b""); MAX_OTR_TLVS];
        assert_eq!(encode_tlvs(0, &many, Some(0)).unwrap_err(), TlvError::TooManyTlvs);
        assert_eq!(encode_tlvs(0, &many, None).unwrap().len(), 4 * MAX_OTR_TLVS);
        // The padding TLV counts towards the cap: one fewer TLV and padding is exactly the cap.
        assert_eq!(encode_tlvs(0, &many[1..], Some(0)).unwrap().len(), 4 * MAX_OTR_TLVS);
    }

    #[test]
    fn the_split_is_the_decoding_without_the_copy() {
        let tlvs = [OtrTlv::new(OtrTlvType::PADDING, &[0; 7])];
        for text in [&b""[..], b"hello", b"no nul"] {
            let mut bytes = encode_plaintext(text, &tlvs).unwrap().to_vec();
            if text == b"no nul" {
                bytes.truncate(text.len());
            }
            let (len, split) = split_plaintext(&bytes).unwrap();
            let decoded = decode_plaintext(&bytes).unwrap();
            assert_eq!((&bytes[..len], &split[..]), (&decoded.text[..], &decoded.tlvs[..]));
        }
    }

    #[test]
    fn the_borrowed_records_are_the_decoded_tlvs() {
        let tlvs = [OtrTlv::new(OtrTlvType::SMP1, b"abc"), OtrTlv::new(OtrTlvType::PADDING, &[0; 9])];
        let mut bytes = encode_plaintext(b"text", &tlvs).unwrap().to_vec();
        // A cut-short record at the end is skipped like decode_plaintext skips it.
        bytes.extend_from_slice(&[0, 1, 0, 9, 1]);
        let (len, records) = split_plaintext_records(&bytes).unwrap();
        assert_eq!(len, 4);
        let borrowed: Vec<(u16, &[u8])> = records.collect();
        let decoded = decode_plaintext(&bytes).unwrap();
        let owned: Vec<(u16, &[u8])> = decoded.tlvs.iter().map(|t| (t.kind, &t.value[..])).collect();
        assert_eq!(borrowed, owned);
        assert_eq!(borrowed.len(), 2);
        // The record count is checked before any record is handed out.
        let mut many = vec![b'x', 0];
        for _ in 0..=MAX_OTR_TLVS {
            many.extend_from_slice(&[0, 0, 0, 0]);
        }
        assert_eq!(split_plaintext_records(&many).unwrap_err(), TlvError::TooManyTlvs);
        many.truncate(2 + 4 * MAX_OTR_TLVS);
        assert_eq!(split_plaintext_records(&many).unwrap().1.count(), MAX_OTR_TLVS);
        let mut too_long = vec![b'a'; MAX_PLAINTEXT_LEN + 1];
        assert_eq!(split_plaintext_records(&too_long).unwrap_err(), TlvError::TooLong);
        assert_eq!(split_plaintext(&too_long).unwrap_err(), TlvError::TooLong);
        too_long.pop();
        assert_eq!(split_plaintext_records(&too_long).unwrap().0, MAX_PLAINTEXT_LEN, "exactly the cap is read");
    }

    #[test]
    fn accepts_a_missing_nul_and_an_incomplete_tail() {
        let plaintext = decode_plaintext(b"no tlvs").unwrap();
        assert_eq!(plaintext.text, b"no tlvs");
        assert!(plaintext.tlvs.is_empty());
        let plaintext = decode_plaintext(&[b'a', 0, 0, 1, 0, 0, 0, 2, 0, 5, 1]).unwrap();
        assert_eq!(plaintext.tlvs, vec![OtrTlv::new(1, &[])], "the cut-short second TLV is ignored");
        assert!(!decode_plaintext(&[0]).unwrap().has_text());
        assert!(decode_plaintext(b"a\0").unwrap().has_text());
        assert_eq!(OtrTlv::parse_extra_symmetric_key(&[1, 2, 3]), None);
    }

    #[test]
    fn refuses_nul_in_text_long_values_and_too_many_tlvs() {
        assert_eq!(encode_plaintext(b"a\0b", &[]).unwrap_err(), TlvError::TextContainsNul);
        assert_eq!(encode_plaintext(b"", &[OtrTlv::new(0, &vec![0; 65536])]).unwrap_err(), TlvError::ValueTooLong);
        let many = vec![OtrTlv::new(0, &[]); MAX_OTR_TLVS + 1];
        assert_eq!(encode_plaintext(b"", &many).unwrap_err(), TlvError::TooManyTlvs);
        let mut bytes = vec![0u8];
        for _ in 0..=MAX_OTR_TLVS {
            bytes.extend_from_slice(&[0, 0, 0, 0]);
        }
        assert_eq!(decode_plaintext(&bytes).unwrap_err(), TlvError::TooManyTlvs);
        bytes.truncate(1 + 4 * MAX_OTR_TLVS);
        assert_eq!(decode_plaintext(&bytes).unwrap().tlvs.len(), MAX_OTR_TLVS);
    }
}
