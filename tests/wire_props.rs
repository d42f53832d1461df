//! Property tests for the wire layer: encoders and decoders are inverse, reassembly works in
//! any order, and no parser panics on arbitrary input.

use offrec::wire::{
    armour, classify, decode_body, encode_body, parse_fragment, split, Body, InstanceTag, Reader, Reassembler, Tlv,
    WireError,
};
use proptest::prelude::*;

fn tlv() -> impl Strategy<Value = Tlv> {
    (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(kind, value)| Tlv { kind, value })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn armour_round_trips(bin in proptest::collection::vec(any::<u8>(), 1..2000)) {
        let text = armour::encode(&bin);
        prop_assert!(text.starts_with("?OFR:") && text.ends_with('.'));
        prop_assert_eq!(armour::decode(&text).unwrap(), bin);
    }

    #[test]
    fn split_and_reassemble_in_any_order(
        bin in proptest::collection::vec(any::<u8>(), 1..3000),
        max_len in 60usize..600,
        id in any::<u32>(),
        sender in 0x100u32..,
        seed in any::<u64>(),
    ) {
        let text = armour::encode(&bin);
        let sender = InstanceTag(sender);
        let frags = split(&text, max_len, id, sender, InstanceTag(0x100)).unwrap();
        prop_assert!(frags.iter().all(|f| f.len() <= max_len));
        let mut order: Vec<usize> = (0..frags.len()).collect();
        // Deterministic shuffle from the seed (Fisher-Yates with an LCG).
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap();
            order.swap(i, j);
        }
        let mut r = Reassembler::new();
        let mut done = None;
        for (step, &i) in order.iter().enumerate() {
            let out = if frags.len() == 1 {
                Some(frags[i].clone())
            } else {
                r.accept(&frags[i], 5).unwrap()
            };
            if step + 1 < order.len() {
                prop_assert!(out.is_none());
            } else {
                done = out;
            }
        }
        let done = done.unwrap();
        prop_assert_eq!(&done, &text);
        prop_assert_eq!(armour::decode(&done).unwrap(), bin);
        prop_assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn body_round_trips(
        text in proptest::collection::vec(any::<u8>(), 0..500),
        tlvs in proptest::collection::vec(tlv(), 0..8),
        pad_to in prop_oneof![Just(0usize), 1usize..600],
    ) {
        let encoded = encode_body(&text, &tlvs, pad_to).unwrap();
        if pad_to > 0 {
            prop_assert_eq!(encoded.len() % pad_to, 0);
            // Smallest fitting multiple: one multiple less would not hold content + TLV header.
            let unpadded = encode_body(&text, &tlvs, 0).unwrap().len();
            prop_assert!(encoded.len() - pad_to < unpadded + 4);
        }
        let Body { text: t, tlvs: mut got } = decode_body(&encoded).unwrap();
        prop_assert_eq!(t, text);
        if pad_to > 0 {
            let pad = got.pop().unwrap();
            prop_assert_eq!(pad.kind, 0);
            prop_assert!(pad.value.iter().all(|&b| b == 0));
        }
        prop_assert_eq!(got, tlvs);
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_body(&bytes);
        let mut r = Reader::new(&bytes);
        while r.data().is_ok() {}
        let s = String::from_utf8_lossy(&bytes);
        let _ = armour::decode(&s);
        let _ = parse_fragment(&s);
        let _ = classify(&s);
        let _ = Reassembler::new().accept(&s, 0);
    }

    #[test]
    fn parsers_never_panic_on_near_valid_text(
        tail in "[0-9a-fA-F|,.:?=+/ OFR\t-]{0,60}",
    ) {
        for prefix in ["?OFR:", "?OFR|", "?OFR|00000001|00001000|00002000,", "?OFRv", "?OFR Error:"] {
            let s = format!("{prefix}{tail}");
            let _ = armour::decode(&s);
            let _ = classify(&s);
            let mut r = Reassembler::new();
            if let Ok(Some(whole)) = r.accept(&s, 0) {
                // Only a single-piece fragment completes at once.
                prop_assert!(s.contains(",1,1,"));
                let _ = armour::decode(&whole);
            }
        }
    }

    #[test]
    fn any_single_bit_flip_in_armour_is_caught_or_decodes_differently(
        bin in proptest::collection::vec(any::<u8>(), 1..100),
        pos in any::<prop::sample::Index>(),
    ) {
        let text = armour::encode(&bin);
        let mut bytes = text.into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= 0x01;
        if let Ok(s) = String::from_utf8(bytes) {
            match armour::decode(&s) {
                Ok(other) => prop_assert_ne!(other, bin),
                Err(e) => prop_assert!(matches!(
                    e,
                    WireError::BadBase64 | WireError::MissingMarker | WireError::MissingTerminator
                )),
            }
        }
    }
}
