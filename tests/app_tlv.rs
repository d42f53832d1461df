//! Application TLVs through the conversation manager, in both protocols: what one side sends
//! with `send_with_tlvs` arrives as `TlvReceived` events in order, before the text; bad
//! requests are refused before anything is sent; nothing goes out without a session.

mod support;

use offrec::conversation::{Action, AppTlv, ClientError, Event, Policy, Protocol, APP_TLV_FIRST, MAX_APP_TLVS};
use support::{encrypted_pair, settings, Net};

fn tlvs_seen(net: &Net, id: &str) -> Vec<(u16, Vec<u8>)> {
    net.party(id)
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::TlvReceived { kind, value } => Some((*kind, value.to_vec())),
            _ => None,
        })
        .collect()
}

fn send_tlvs(net: &mut Net, id: &str, to: &str, text: &str, tlvs: &[AppTlv<'_>]) -> Result<u64, ClientError> {
    let now = net.now;
    let (message, actions) = net.client(id).send_with_tlvs(to, text.as_bytes(), tlvs, now)?;
    net.apply(id, actions);
    net.run();
    Ok(message)
}

fn otr_pair(query: &str) -> Net {
    let mut net = Net::new();
    let policy = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
    net.add("alice", "alice", settings(policy));
    net.add("bob", "bob", settings(policy));
    let now = net.now;
    let actions = net.client("alice").receive("bob", query, now);
    net.apply("alice", actions);
    net.run();
    net
}

fn exchange(mut net: Net, protocol: Protocol) {
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, protocol);
    let tlvs = [AppTlv { kind: 0x8001, value: b"typing" }, AppTlv { kind: 0xFFFF, value: b"" }];
    send_tlvs(&mut net, "alice", "bob", "with tlvs", &tlvs).unwrap();
    assert_eq!(tlvs_seen(&net, "bob"), [(0x8001, b"typing".to_vec()), (0xFFFF, Vec::new())]);
    assert_eq!(net.party("bob").texts(), ["with tlvs"]);
    // A TLV-only message: no text, no heartbeat event.
    send_tlvs(&mut net, "alice", "bob", "", &[AppTlv { kind: APP_TLV_FIRST, value: &[0, 1, 2] }]).unwrap();
    assert_eq!(tlvs_seen(&net, "bob").last(), Some(&(APP_TLV_FIRST, vec![0, 1, 2])));
    assert_eq!(net.party("bob").texts().len(), 1);
    assert_eq!(net.party("bob").count(|e| matches!(e, Event::HeartbeatReceived)), 0);
    // And back.
    send_tlvs(&mut net, "bob", "alice", "", &[AppTlv { kind: 0x9000, value: b"receipt" }]).unwrap();
    assert_eq!(tlvs_seen(&net, "alice"), [(0x9000, b"receipt".to_vec())]);
    for (_, _, text) in &net.wire_log {
        assert!(!text.contains("typing") && !text.contains("receipt"), "TLV value on the wire: {text}");
    }
}

#[test]
fn tlvs_travel_in_modern_sessions() {
    exchange(encrypted_pair(), Protocol::ModernV1);
}

#[test]
fn tlvs_travel_in_otr_v3_sessions() {
    exchange(otr_pair("?OTRv3?"), Protocol::OtrV3);
}

#[test]
fn otr_v2_sessions_refuse_tlvs_but_carry_text() {
    // python-potr fails on unknown TLV types: a message with ours would be lost.
    let mut net = otr_pair("?OTRv2?");
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV2);
    let sent_before = net.party("alice").sent.len();
    let tlv = [AppTlv { kind: 0x8000, value: b"x" }];
    assert_eq!(send_tlvs(&mut net, "alice", "bob", "hi", &tlv), Err(ClientError::TlvsUnsupported));
    assert_eq!(net.party("alice").sent.len(), sent_before);
    send_tlvs(&mut net, "alice", "bob", "text only", &[]).unwrap();
    assert_eq!(net.party("bob").texts(), ["text only"]);
}

#[test]
fn bad_requests_are_refused_before_anything_is_sent() {
    let mut net = encrypted_pair();
    let sent_before = net.party("alice").sent.len();
    let ok = AppTlv { kind: APP_TLV_FIRST, value: b"x" };
    for reserved in [0u16, 1, 6, 8, 0x4F46, 0x7FFF] {
        let bad = [ok, AppTlv { kind: reserved, value: b"" }];
        assert_eq!(send_tlvs(&mut net, "alice", "bob", "hi", &bad), Err(ClientError::TlvTypeReserved));
    }
    assert_eq!(send_tlvs(&mut net, "alice", "bob", "", &[ok; MAX_APP_TLVS + 1]), Err(ClientError::TooManyTlvs));
    let big = vec![7u8; 40_000];
    let two = [AppTlv { kind: 0x8000, value: &big }, AppTlv { kind: 0x8001, value: &big }];
    assert_eq!(send_tlvs(&mut net, "alice", "bob", "", &two), Err(ClientError::MessageTooLarge));
    assert!(matches!(send_tlvs(&mut net, "alice", "bob", "", &[]), Err(ClientError::InvalidArgument(_))));
    assert_eq!(net.party("alice").sent.len(), sent_before, "nothing was sent");
    assert!(tlvs_seen(&net, "bob").is_empty());
    // Sixteen TLVs of the full size together are fine.
    send_tlvs(&mut net, "alice", "bob", "", &[ok; MAX_APP_TLVS]).unwrap();
    assert_eq!(tlvs_seen(&net, "bob").len(), MAX_APP_TLVS);
}

#[test]
fn without_a_session_nothing_is_sent_or_held() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALWAYS));
    net.add("bob", "bob", settings(Policy::ALWAYS));
    let tlv = [AppTlv { kind: 0x8000, value: b"x" }];
    assert_eq!(send_tlvs(&mut net, "alice", "bob", "secret", &tlv), Err(ClientError::NoSession));
    assert!(net.party("alice").sent.is_empty(), "no query, no plaintext");
    assert!(net.party("alice").events.is_empty());
}

#[test]
fn the_tlv_events_come_before_the_text() {
    let mut net = encrypted_pair();
    let now = net.now;
    let tlvs = [AppTlv { kind: 0x8001, value: b"a" }, AppTlv { kind: 0x8002, value: b"b" }];
    let (_, actions) = net.client("alice").send_with_tlvs("bob", b"text", &tlvs, now).unwrap();
    let wire: Vec<String> = actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(wire.len(), 1);
    let actions = net.client("bob").receive("alice", &wire[0], now);
    let order: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Event { event: Event::TlvReceived { kind: 0x8001, .. }, .. } => Some("tlv1"),
            Action::Event { event: Event::TlvReceived { kind: 0x8002, .. }, .. } => Some("tlv2"),
            Action::Deliver { .. } => Some("text"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["tlv1", "tlv2", "text"]);
}
