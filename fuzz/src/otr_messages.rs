//! The `otr_messages` target: OTR's binary parsers (`offrec::otr::message`, the plaintext of a
//! data message, SMP's MPI arrays) and OTR's SMP state machine on arbitrary bytes.
//!
//! (OTR's SMP state machine is left to its unit and vector tests: every step costs several
//! 1536-bit exponentiations, which would slow this target a thousandfold.)
//!
//! First byte, mod 3:
//! * 0 — the rest is a binary message: the header and every message parser (D-H Commit, D-H
//!   Key, Reveal Signature, Signature, data message). Whatever parses must agree with the header,
//!   write back to the same bytes (the D-H Key and the data message up to MPI leading zeros),
//!   and parse again to the same value.
//! * 1 — the rest is a decrypted data-message plaintext: `text NUL TLVs` decoding, and the
//!   re-encoding of what decoded decodes to the same.
//! * 2 — the rest is an SMP TLV value: SMP1..SMP4 and the SMP1Q split; what parses writes back
//!   to bytes that parse again to the same bytes.

use offrec::otr::message::{parse_header, DataMessage, DhCommit, DhKey, MessageType, RevealSignature, Signature};
use offrec::otr::smp::messages::{split_question, Smp1, Smp2, Smp3, Smp4};
use offrec::otr::tlv::{decode_plaintext, encode_plaintext};

/// One message, decided by the first byte.
pub fn otr_messages(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 => binary_message(rest),
        1 => plaintext(rest),
        _ => smp_values(rest),
    }
}

fn binary_message(bin: &[u8]) {
    let header = parse_header(bin);
    if let Ok(m) = DhCommit::parse(bin) {
        assert_eq!(Ok(m.header), header);
        assert_eq!(m.header.message_type, MessageType::DhCommit);
        assert_eq!(m.to_bytes(), bin, "D-H Commit does not round-trip");
    }
    if let Ok(m) = DhKey::parse(bin) {
        assert_eq!(Ok(m.header), header);
        // g^y is written minimal: a received MPI with leading zeros is one byte longer or more.
        let again = m.to_bytes();
        assert!(again.len() <= bin.len());
        assert_eq!(DhKey::parse(&again), Ok(m), "D-H Key does not parse back");
    }
    if let Ok(m) = RevealSignature::parse(bin) {
        assert_eq!(Ok(m.header), header);
        assert_eq!(m.to_bytes(), bin, "Reveal Signature does not round-trip");
    }
    if let Ok(m) = Signature::parse(bin) {
        assert_eq!(Ok(m.header), header);
        assert_eq!(m.to_bytes(), bin, "Signature does not round-trip");
    }
    match DataMessage::parse(bin) {
        Ok(m) => {
            assert_eq!(Ok(m.fields.header), header);
            assert_eq!(DataMessage::peek_flags(bin), Some(m.fields.flags));
            assert!(m.authenticated_len() <= bin.len());
            let authenticated = m.fields.authenticated_bytes();
            let again = DataMessage::assemble(&authenticated, &m.mac, &m.old_mac_keys);
            if m.fields.next_dh.first() != Some(&0) {
                assert_eq!(&bin[..m.authenticated_len()], &authenticated[..], "MAC span differs");
                assert_eq!(again, bin, "data message does not round-trip");
            }
            let reparsed = DataMessage::parse(&again).expect("assembled data message parses");
            assert_eq!(reparsed.fields.ciphertext, m.fields.ciphertext);
            assert_eq!(reparsed.old_mac_keys, m.old_mac_keys);
        }
        Err(_) => {
            if let Some(flags) = DataMessage::peek_flags(bin) {
                assert_eq!(bin.get(header.map(|h| h.encoded_len()).unwrap_or(usize::MAX)), Some(&flags));
            }
        }
    }
}

fn plaintext(bytes: &[u8]) {
    let Ok(decoded) = decode_plaintext(bytes) else { return };
    assert!(!decoded.text.contains(&0));
    assert!(decoded.text.len() <= bytes.len());
    if let Ok(encoded) = encode_plaintext(&decoded.text, &decoded.tlvs) {
        let again = decode_plaintext(&encoded).expect("re-encoded plaintext decodes");
        assert_eq!(again, decoded, "plaintext does not round-trip");
    }
}

fn smp_values(value: &[u8]) {
    if let Ok(m) = Smp1::parse(value) {
        let bytes = m.to_bytes();
        assert_eq!(Smp1::parse(&bytes).map(|m| m.to_bytes()).ok(), Some(bytes));
    }
    if let Ok(m) = Smp2::parse(value) {
        let bytes = m.to_bytes();
        assert_eq!(Smp2::parse(&bytes).map(|m| m.to_bytes()).ok(), Some(bytes));
    }
    if let Ok(m) = Smp3::parse(value) {
        let bytes = m.to_bytes();
        assert_eq!(Smp3::parse(&bytes).map(|m| m.to_bytes()).ok(), Some(bytes));
    }
    if let Ok(m) = Smp4::parse(value) {
        let bytes = m.to_bytes();
        assert_eq!(Smp4::parse(&bytes).map(|m| m.to_bytes()).ok(), Some(bytes));
    }
    if let Ok((question, smp1)) = split_question(value) {
        assert!(question.len() + smp1.len() < value.len());
    }
}

/// Hex strings following `key` in `text` (the frozen libotr vectors, read without a JSON
/// parser so that this file depends on `offrec` and `std` only).
pub(crate) fn hex_after(text: &str, key: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for part in text.split(key).skip(1) {
        let digits: String = part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        if digits.len() >= 2 && digits.len() % 2 == 0 {
            let bytes = (0..digits.len() / 2).map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).unwrap_or(0));
            out.push(bytes.collect());
        }
    }
    out
}

/// Seeds: every binary message of libotr's v3 and v2 sessions, their plaintexts and libotr's
/// SMP values.
pub fn seeds() -> Vec<Vec<u8>> {
    let v3 = include_str!("../../tests/vectors/otr3_session.json");
    let v2 = include_str!("../../tests/vectors/otr3_v2_session.json");
    let smp = include_str!("../../tests/vectors/otr3_smp.json");
    let mut out = Vec::new();
    for bin in hex_after(v3, "\"binary\": \"").into_iter().chain(hex_after(v2, "\"binary\": \"")) {
        out.push([&[0u8][..], &bin].concat());
    }
    for plain in hex_after(v3, "\"plaintext\": \"") {
        out.push([&[1u8][..], &plain].concat());
    }
    for value in hex_after(smp, "\"value\": \"").into_iter().take(8) {
        out.push([&[2u8][..], &value].concat());
    }
    out.dedup();
    out
}
