//! The `otr_text` target: OTR's text layer (`offrec::otr::text`) on arbitrary text.
//!
//! First byte even: the whole input is one received message — the OTR-aware classification
//! (checked against offrec's own, which must be unchanged whenever OTR is not involved), every
//! text parser, and armour decoding with its round trip. First byte odd: the rest is a stream
//! of lines fed to one [`OtrReassembler`] (a line `@<n>` advances the clock), checking its caps
//! and that whatever completes is classified again like a received message.

use offrec::otr::text::armour::{self, MAX_OTR_ENCODED_LEN};
use offrec::otr::text::classify::{classify, mentions_otr, Classified, OtrIncoming};
use offrec::otr::text::fragment::{parse_fragment, parse_fragment_for};
use offrec::otr::text::reassembler::{OtrReassembler, MAX_OTR_ASSEMBLED_LEN, MAX_OTR_BUFFERS, OTR_BUFFER_OVERHEAD};
use offrec::otr::text::whitespace::{find_otr_tag, strip_otr_tag};
use offrec::otr::text::{error, parse_otr_query};
use offrec::wire::{self, InstanceTag};

/// Our instance tag in the reassembly stream.
const OURS: InstanceTag = InstanceTag(0x0000_0100);

/// One message, then (odd first byte) a fragment stream.
pub fn otr_text(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        one_message(&text);
    } else {
        fragment_stream(&text);
    }
}

fn one_message(text: &str) {
    let modern = wire::classify(text);
    assert_eq!(classify(text, false), Classified::Modern(modern.clone()));
    match classify(text, true) {
        Classified::Modern(incoming) => assert_eq!(incoming, modern, "OTR-aware result differs from offrec's own"),
        Classified::Otr(o) => {
            assert!(mentions_otr(text), "OTR result without any OTR marker or tag");
            otr_message(text, o);
        }
    }
    // Every parser on every input, whatever the classification said.
    let _ = parse_otr_query(text);
    let _ = error::parse(text);
    let _ = armour::encoded_version(text);
    if let Ok(bin) = armour::decode(text) {
        assert!(!bin.is_empty());
        assert!(text.len() <= MAX_OTR_ENCODED_LEN);
        assert_eq!(armour::decode(&armour::encode(&bin)), Ok(bin));
    }
    if let Ok(f) = parse_fragment(text) {
        assert!(1 <= f.k && f.k <= f.n && !f.piece.is_empty());
        let again = f.encode();
        if again.len() <= MAX_OTR_ENCODED_LEN {
            assert_eq!(parse_fragment(&again), Ok(f), "fragment does not round-trip");
        }
    }
    let _ = parse_fragment_for(text, OURS);
    if let Some((stripped, _)) = strip_otr_tag(text) {
        assert!(stripped.len() < text.len());
    }
}

fn otr_message(text: &str, o: OtrIncoming<'_>) {
    match o {
        OtrIncoming::Fragment { version, message } => {
            assert!(text.ends_with(message));
            if let Ok(f) = parse_fragment(message) {
                assert_eq!(f.version, version);
            }
        }
        OtrIncoming::Encoded { version, message } => {
            assert!(text.ends_with(message) && message.starts_with("?OTR:"));
            assert_eq!(armour::encoded_version(message).and_then(|v| v.spoken()), Some(version));
            if let Ok(bin) = armour::decode(message) {
                assert_eq!(bin.get(1), Some(&version.number()), "prefix and header disagree");
            }
        }
        OtrIncoming::Error(rest) => assert!(text.ends_with(rest)),
        OtrIncoming::Query { otr, modern } => {
            assert_eq!(parse_otr_query(text), Some(otr));
            assert_eq!(modern, wire::parse_query(text));
        }
        OtrIncoming::Plaintext { text: shown, otr, modern: _ } => {
            assert!(shown.len() <= text.len());
            assert_eq!(otr.is_some(), find_otr_tag(text).is_some());
            if otr.is_some() {
                assert!(shown.len() < text.len(), "tag not stripped");
            }
        }
        _ => {}
    }
}

fn fragment_stream(text: &str) {
    let mut r = OtrReassembler::new();
    let mut now = 0u64;
    for line in text.split('\n') {
        if let Some(dt) = line.strip_prefix('@') {
            now = now.saturating_add(dt.parse::<u64>().unwrap_or(0));
            continue;
        }
        if line == "-" {
            r.unfragmented();
            continue;
        }
        let before = r.held_bytes();
        let room = line.len() % 4096;
        match r.accept_within(line, OURS, now, room) {
            Ok(Some(whole)) => {
                assert!(whole.len() <= MAX_OTR_ASSEMBLED_LEN);
                one_message(&whole);
            }
            Ok(None) => assert!(r.held_bytes().saturating_sub(before) <= room),
            Err(_) => {}
        }
        assert!(r.open_buffers() <= MAX_OTR_BUFFERS);
        assert!(r.held_bytes() <= MAX_OTR_BUFFERS * (MAX_OTR_ASSEMBLED_LEN + OTR_BUFFER_OVERHEAD));
    }
}
