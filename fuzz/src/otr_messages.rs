//! The `otr_messages` target: OTR's binary parsers (`offrec::otr::message`, the plaintext of a
//! data message, SMP's MPI arrays) and OTR's SMP state machine on arbitrary bytes.
//!
//! First byte, mod 4:
//! * 0 — the rest is a binary message: the header and every message parser (D-H Commit, D-H
//!   Key, Reveal Signature, Signature, data message). Whatever parses must agree with the header,
//!   write back to the same bytes (the D-H Key and the data message up to MPI leading zeros),
//!   and parse again to the same value.
//! * 1 — the rest is a decrypted data-message plaintext: `text NUL TLVs` decoding, and the
//!   re-encoding of what decoded decodes to the same.
//! * 2 — the rest is an SMP TLV value: SMP1..SMP4 and the SMP1Q split; what parses writes back
//!   to bytes that parse again to the same bytes.
//! * 3 — an SMP run in the state chosen by the second byte (idle, answering, expecting SMP2,
//!   SMP3 or SMP4) receives a TLV of the type chosen by the third byte: a genuine message of that
//!   type edited by the rest ([`super::mutate`]). Whatever happens, a run never ends in success
//!   from an edited message, and a refused one leaves no secrets behind.

use offrec::crypto::DeterministicRandom;
use offrec::otr::message::{parse_header, DataMessage, DhCommit, DhKey, MessageType, RevealSignature, Signature};
use offrec::otr::smp::messages::{split_question, Smp1, Smp2, Smp3, Smp4};
use offrec::otr::smp::{OtrSmp, OtrSmpContext, OtrSmpEvent, OtrSmpTlv, TLV_SMP1, TLV_SMP1Q};
use offrec::otr::tlv::{decode_plaintext, encode_plaintext};

use super::{mutate, Input};

/// The secret both sides of the SMP fixture type.
const SECRET: &[u8] = b"the name of our first cat";

/// One message, decided by the first byte.
pub fn otr_messages(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 => binary_message(rest),
        1 => plaintext(rest),
        2 => smp_values(rest),
        _ => smp_run(rest),
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

/// The contexts of the two sides of the SMP fixture (Alice asks, Bob answers).
fn contexts() -> (OtrSmpContext, OtrSmpContext) {
    let (alice, bob, ssid) = ([0xA1; 20], [0xB0; 20], [0x55; 8]);
    (
        OtrSmpContext { our_fingerprint: alice, their_fingerprint: bob, ssid },
        OtrSmpContext { our_fingerprint: bob, their_fingerprint: alice, ssid },
    )
}

/// Names of the states [`smp_in_state`] builds.
pub const OTR_SMP_STATES: [&str; 5] = ["Idle", "AwaitingSecret", "Expect2", "Expect3", "Expect4"];

/// A genuine run, replayed deterministically: the side in state `which` of
/// [`OTR_SMP_STATES`], its random source, and the run's four messages.
pub fn smp_in_state(which: usize) -> (OtrSmp, DeterministicRandom, [OtrSmpTlv; 4]) {
    let (ca, cb) = contexts();
    let mut ra = DeterministicRandom::from_label("otr smp alice");
    let mut rb = DeterministicRandom::from_label("otr smp bob");
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let smp1 = alice.start(SECRET, None, &ca, &mut ra).expect("start").remove(0);
    let _ = bob.receive(smp1.tlv_type, &smp1.payload, &mut rb);
    let smp2 = bob.respond(SECRET, &cb, &mut rb).expect("respond");
    let smp3 = alice.receive(smp2.tlv_type, &smp2.payload, &mut ra).reply.expect("smp3");
    let smp4 = bob.receive(smp3.tlv_type, &smp3.payload, &mut rb).reply.expect("smp4");
    let transcript = [smp1, smp2, smp3, smp4];
    // Rebuild the side wanted, with a fresh copy of its random source at that point.
    let mut ra = DeterministicRandom::from_label("otr smp alice");
    let mut rb = DeterministicRandom::from_label("otr smp bob");
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let [m1, m2, m3, _] = &transcript;
    match which {
        0 => (OtrSmp::new(), ra, transcript),
        1 => {
            let _ = bob.receive(m1.tlv_type, &m1.payload, &mut rb);
            (bob, rb, transcript)
        }
        2 => {
            let _ = alice.start(SECRET, None, &ca, &mut ra).expect("start");
            (alice, ra, transcript)
        }
        3 => {
            let _ = bob.receive(m1.tlv_type, &m1.payload, &mut rb);
            let _ = bob.respond(SECRET, &cb, &mut rb).expect("respond");
            (bob, rb, transcript)
        }
        _ => {
            let _ = alice.start(SECRET, None, &ca, &mut ra).expect("start");
            let _ = alice.receive(m2.tlv_type, &m2.payload, &mut ra);
            let _ = m3;
            (alice, ra, transcript)
        }
    }
}

fn smp_run(rest: &[u8]) {
    let mut input = Input::new(rest);
    let which = usize::from(input.u8()) % OTR_SMP_STATES.len();
    let kind = input.u8();
    let (mut smp, mut rng, transcript) = smp_in_state(which);
    // Types 2..=7 (SMP1..SMP4, abort, SMP1Q) and, rarely, one that is not SMP's.
    let tlv_type = match kind % 8 {
        7 => u16::from(kind),
        k => u16::from(k) + 2,
    };
    let base = match tlv_type {
        TLV_SMP1 | TLV_SMP1Q => transcript[0].payload.clone(),
        t @ 3..=5 => transcript[usize::from(t - 2)].payload.clone(),
        _ => Vec::new(),
    };
    let base = if tlv_type == TLV_SMP1Q {
        let mut q = b"question?\0".to_vec();
        q.extend_from_slice(&base);
        q
    } else {
        base
    };
    let edited = mutate(&base, &mut input);
    let genuine_next = match which {
        0 => tlv_type == TLV_SMP1,
        2 => tlv_type == 3,
        3 => tlv_type == 4,
        4 => tlv_type == 5,
        _ => false,
    };
    let step = smp.receive(tlv_type, &edited, &mut rng);
    if matches!(step.event, Some(OtrSmpEvent::Succeeded { .. })) {
        // MPIs are read leniently (leading zeros): compare the values, not the bytes.
        assert!(
            genuine_next && canonical(tlv_type, &edited) == canonical(tlv_type, &base),
            "SMP succeeded on an edited message"
        );
    }
    if step.error.is_some() {
        assert!(!smp.holds_secrets(), "a refused message left secrets behind");
    }
}

/// The canonical encoding of an SMP3 or SMP4 value, if it parses.
fn canonical(tlv_type: u16, value: &[u8]) -> Option<Vec<u8>> {
    match tlv_type {
        4 => Smp3::parse(value).ok().map(|m| m.to_bytes()),
        5 => Smp4::parse(value).ok().map(|m| m.to_bytes()),
        _ => None,
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

/// Seeds: every binary message of libotr's v3 and v2 sessions, their plaintexts, libotr's SMP
/// values, and each SMP state fed its genuine next message.
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
    for (state, kind) in [(0u8, 0u8), (1, 4), (2, 1), (3, 2), (4, 3), (0, 5), (2, 4)] {
        out.push(vec![3, state, kind]);
    }
    out.dedup();
    out
}
