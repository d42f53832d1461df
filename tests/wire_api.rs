//! The wire layer through its public API: constants, what we send never looks like OTR, and a
//! full send path (body → armour → fragments → reassembly → armour → body).

use offrec::wire::{
    self, armour, classify, decode_body, encode_body, encode_query, error_message, split, whitespace, Incoming,
    InstanceTag, Reassembler, Tlv, TlvType, Versions, WireError, DEFAULT_QUERY_TEXT, MAX_ENCODED_LEN, MAX_FRAGMENTS,
};

#[test]
fn protocol_constants() {
    assert_eq!(wire::MARKER, "?OFR");
    assert_eq!(wire::PROTOCOL_VERSION, [0x4F, 0x01]);
    assert_eq!([wire::MSG_AKE1, wire::MSG_AKE2, wire::MSG_AKE3, wire::MSG_DATA], [0x21, 0x22, 0x23, 0x03]);
    assert_eq!(MAX_ENCODED_LEN, 128 * 1024);
    assert_eq!(MAX_FRAGMENTS, 512);
}

#[test]
fn nothing_we_send_looks_like_otr() {
    let body = encode_body(b"hello", &[], 64).unwrap();
    let armoured = armour::encode(&body);
    let mut sent = vec![
        armoured.clone(),
        encode_query(Versions::SUPPORTED, DEFAULT_QUERY_TEXT),
        error_message::encode("ERROR: unreadable"),
        whitespace::append_tag("hi", Versions::SUPPORTED),
    ];
    sent.extend(split(&armoured, 50, 1, InstanceTag(0x100), InstanceTag(0x200)).unwrap());
    for m in &sent {
        assert!(!m.contains("?OTR"), "{m:?}");
        assert!(!whitespace::is_otr_tag(m), "{m:?}");
        assert!(!matches!(classify(m), Incoming::ForeignOtr(_)), "{m:?}");
    }
    assert!(!DEFAULT_QUERY_TEXT.chars().any(|c| c.is_ascii_digit()));
}

#[test]
fn full_send_path() {
    let tlvs = [Tlv { kind: TlvType::DISCONNECTED, value: vec![] }];
    let body = encode_body(&[b'x'; 5000], &tlvs, 256).unwrap();
    let armoured = armour::encode(&body);
    let frags = split(&armoured, 400, 0xC0FFEE, InstanceTag(0x1234), InstanceTag(0x5678)).unwrap();
    assert!(frags.len() > 1);
    let mut r = Reassembler::new();
    let mut whole = None;
    for f in frags.iter().rev() {
        let Incoming::Fragment(f) = classify(f) else { panic!("not a fragment: {f}") };
        whole = r.accept(f, 100).unwrap();
    }
    let whole = whole.unwrap();
    assert!(matches!(classify(&whole), Incoming::Encoded(_)));
    let decoded = decode_body(&armour::decode(&whole).unwrap()).unwrap();
    assert_eq!(decoded.text, vec![b'x'; 5000]);
    assert_eq!(decoded.tlvs[0], tlvs[0]);
    assert_eq!(decoded.tlvs[1].kind, TlvType::PADDING);
}

#[test]
fn reassembled_garbage_is_caught_by_armour() {
    // Pieces may each look fine yet form no valid armoured message; decoding catches it.
    let mut r = Reassembler::new();
    let f = |k, piece| format!("?OFR|00000001|00001000|00002000,{k},2,{piece},");
    assert_eq!(r.accept(&f(1, "AAAA"), 0).unwrap(), None);
    let whole = r.accept(&f(2, "?OFR:."), 0).unwrap().unwrap();
    assert_eq!(whole, "AAAA?OFR:.");
    assert_eq!(armour::decode(&whole), Err(WireError::MissingMarker));
}

#[test]
fn hostile_stream_of_new_messages_stays_bounded() {
    // A flood of first pieces from ever-new senders and ids never grows memory past the caps.
    let mut r = Reassembler::new();
    let piece = "A".repeat(1000);
    for i in 0..5000u32 {
        let m = format!("?OFR|{:08x}|{}|00000000,1,{},{piece},", i, InstanceTag(0x100 + i % 300), MAX_FRAGMENTS);
        assert_eq!(r.accept(&m, u64::from(i / 100)).unwrap(), None);
        assert!(r.open_buffers() <= 64);
    }
}
