//! Key links and protocol pins (PROTOCOL.md part B, "Key links and pins"; design brief §5.2
//! N11, N12): two offrec clients, a man in the middle who strips offrec's offer from queries
//! (and, in some tests, drops every offrec message). Links are exchanged inside modern sessions
//! (modern TLV 8) and by the upgrade probe; trust flows only from the verified side that carried
//! the claim; an OTR session with a linked key is a detected downgrade whose user text is held
//! and then sent over the modern session, never over OTR.

mod support;

use offrec::conversation::{Event, NotSentReason, Policy, Protocol, SessionState};
use offrec::trust::{otr_key_id, Trust};
use support::{settings, Net};

/// OTR as fallback without the downgrade guard (an OTR-only peer: it never sends the probe).
fn otr_fallback() -> Policy {
    Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2
}

fn generate_otr_key(net: &mut Net, id: &str) -> [u8; 20] {
    let (fingerprint, actions) = net.client(id).generate_otr_key().unwrap();
    net.apply(id, actions);
    fingerprint
}

/// Alice and Bob (MANUAL: OTR fallback with the guard), each with an OTR DSA key.
fn pair_with_otr_keys() -> (Net, [u8; 20], [u8; 20]) {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    let alice_dsa = generate_otr_key(&mut net, "alice");
    let bob_dsa = generate_otr_key(&mut net, "bob");
    (net, alice_dsa, bob_dsa)
}

fn modern_session(net: &mut Net) {
    net.start("alice", "bob");
    net.run();
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        assert_eq!(net.party(id).client.sessions(peer)[0].protocol, Protocol::ModernV1, "{id}");
    }
}

/// Both sides end their sessions, so the next start needs a new handshake.
fn end_sessions(net: &mut Net) {
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    net.run();
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    net.run();
}

/// From now on, offrec's offer is removed from every query (`?OTRv23? ?OFRv1?` becomes
/// `?OTRv23?`, or `?OTRv2?` with `v2_only`); with `block_modern`, offrec messages are dropped.
fn strip(net: &mut Net, block_modern: bool, v2_only: bool) {
    net.filter = Some(Box::new(move |_, _, text: &str| {
        if text.starts_with("?OTRv") {
            let stripped = text.replacen(" ?OFRv1?", "", 1);
            return vec![if v2_only { stripped.replacen("?OTRv23?", "?OTRv2?", 1) } else { stripped }];
        }
        if block_modern && text.starts_with("?OFR") {
            return vec![];
        }
        vec![text.to_owned()]
    }));
}

/// Delivers messages one by one until `done` holds for party `id` (bounded).
fn step_until(net: &mut Net, id: &str, done: impl Fn(&support::Party) -> bool) {
    for _ in 0..10_000 {
        if done(net.party(id)) {
            return;
        }
        assert!(net.step(), "the network went quiet first");
    }
    panic!("never happened");
}

/// Runs the network one message at a time and returns the wire text after which `id` was
/// delivered `text`.
fn carrier_of(net: &mut Net, id: &str, text: &str) -> String {
    loop {
        let before = net.party(id).texts().iter().filter(|t| t.as_str() == text).count();
        assert!(net.step(), "{text:?} was never delivered to {id}");
        if net.party(id).texts().iter().filter(|t| t.as_str() == text).count() > before {
            return net.wire_log.last().unwrap().2.clone();
        }
    }
}

fn position(net: &Net, id: &str, wanted: impl Fn(&Event) -> bool) -> Option<usize> {
    net.party(id).events.iter().position(|(_, _, e)| wanted(e))
}

fn trust(net: &Net, id: &str, peer: &str, key: &[u8; 32]) -> Trust {
    net.party(id).client.trust_store().trust(peer, key)
}

fn set_trust(net: &mut Net, id: &str, peer: &str, key: [u8; 32], level: Trust) {
    let actions = net.client(id).set_trust(peer, key, level);
    net.apply(id, actions);
}

#[test]
fn a_modern_session_links_each_sides_otr_key_once() {
    let (mut net, alice_dsa, bob_dsa) = pair_with_otr_keys();
    modern_session(&mut net);
    let alice_key = net.party("alice").client.fingerprint();
    let bob_key = net.party("bob").client.fingerprint();
    for (id, peer, modern, dsa) in [("alice", "bob", bob_key, bob_dsa), ("bob", "alice", alice_key, alice_dsa)] {
        let linked = Event::OtrKeyLinked { fingerprint: otr_key_id(&dsa) };
        assert_eq!(net.party(id).count(|e| matches!(e, Event::OtrKeyLinked { .. })), 1, "{id}");
        assert!(net.party(id).saw(&linked), "{id}");
        let pins = net.party(id).client.protocol_pins();
        assert_eq!(pins.modern_keys_of(peer, &dsa), vec![modern], "{id}");
        assert_eq!(pins.last_modern_session(peer), Some(net.now), "{id}");
        // Nothing was verified, so no trust moved.
        assert_eq!(trust(&net, id, peer, &otr_key_id(&dsa)), Trust::Unverified, "{id}");
        assert!(net.party(id).texts().is_empty(), "the link is no user text");
    }
    // Text still flows; the next session links again without a new event.
    net.send("alice", "bob", "hello");
    net.run();
    assert_eq!(net.party("bob").texts(), ["hello"]);
    end_sessions(&mut net);
    modern_session(&mut net);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::OtrKeyLinked { .. })), 1, "a known link");
}

#[test]
fn a_client_without_an_otr_key_sends_no_link() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    generate_otr_key(&mut net, "alice");
    modern_session(&mut net);
    assert!(net.party("bob").count(|e| matches!(e, Event::OtrKeyLinked { .. })) == 1);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::OtrKeyLinked { .. })), 0);
    assert!(net.party("bob").client.otr_fingerprint().is_none(), "no DSA key is made for a link");
    assert!(net.party("alice").client.protocol_pins().links("bob").is_empty());
    assert!(net.party("alice").client.protocol_pins().last_modern_session("bob").is_some());
}

#[test]
fn a_verified_modern_key_passes_its_trust_to_the_otr_key_it_names() {
    let (mut net, alice_dsa, bob_dsa) = pair_with_otr_keys();
    let bob_key = net.party("bob").client.fingerprint();
    set_trust(&mut net, "alice", "bob", bob_key, Trust::VerifiedSmp);
    modern_session(&mut net);
    // Alice verified Bob's modern key, whose session named Bob's DSA key: verified via link.
    assert_eq!(trust(&net, "alice", "bob", &otr_key_id(&bob_dsa)), Trust::VerifiedSmp);
    // Bob verified nothing: Alice's claim gives her DSA key nothing on his side.
    assert_eq!(trust(&net, "bob", "alice", &otr_key_id(&alice_dsa)), Trust::Unverified);
    // An OTR session with that key is verified from its first message.
    end_sessions(&mut net);
    net.parties.get_mut("bob").unwrap().client.set_settings(settings(otr_fallback()));
    strip(&mut net, true, false);
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
}

#[test]
fn trust_never_flows_from_the_claimed_key_and_a_claim_never_lowers_trust() {
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    let bob_key = net.party("bob").client.fingerprint();
    let bob_otr = otr_key_id(&bob_dsa);
    // Alice verified Bob's DSA key (in Pidgin days); his new, unverified modern key claims it.
    set_trust(&mut net, "alice", "bob", bob_otr, Trust::VerifiedManual);
    modern_session(&mut net);
    assert!(net.party("alice").saw(&Event::OtrKeyLinked { fingerprint: bob_otr }), "the link is recorded");
    assert_eq!(trust(&net, "alice", "bob", &bob_key), Trust::Unverified, "never the reverse");
    assert_eq!(trust(&net, "alice", "bob", &bob_otr), Trust::VerifiedManual);
    // Once the modern key is verified (by SMP), its next claim leaves the higher level alone.
    set_trust(&mut net, "alice", "bob", bob_key, Trust::VerifiedSmp);
    end_sessions(&mut net);
    modern_session(&mut net);
    assert_eq!(trust(&net, "alice", "bob", &bob_otr), Trust::VerifiedManual, "a claim never lowers trust");
}

#[test]
fn the_probe_over_a_verified_otr_key_verifies_the_modern_key_it_names() {
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    let bob_key = net.party("bob").client.fingerprint();
    set_trust(&mut net, "alice", "bob", otr_key_id(&bob_dsa), Trust::VerifiedManual);
    strip(&mut net, false, false);
    net.start("alice", "bob");
    net.run();
    // Bob's probe came over the OTR session authenticated by the verified DSA key.
    assert!(net.party("alice").saw(&Event::OtrKeyLinked { fingerprint: otr_key_id(&bob_dsa) }));
    assert_eq!(trust(&net, "alice", "bob", &bob_key), Trust::VerifiedManual);
    // So the upgraded session is verified and takes plain sends without any consent.
    assert!(net.party("alice").saw(&Event::ProtocolUpgraded));
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::ModernV1);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedVerified);
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::KeyConsentRequired { .. })), 0);
}

#[test]
fn the_probe_over_an_unverified_otr_key_gives_it_no_trust_from_the_modern_key_it_names() {
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    let bob_key = net.party("bob").client.fingerprint();
    set_trust(&mut net, "alice", "bob", bob_key, Trust::VerifiedSmp);
    // Modern traffic blocked: only the OTR session and its probe get through.
    strip(&mut net, true, false);
    net.start("alice", "bob");
    net.run();
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    assert!(net.party("alice").saw(&Event::OtrKeyLinked { fingerprint: otr_key_id(&bob_dsa) }));
    assert_eq!(trust(&net, "alice", "bob", &otr_key_id(&bob_dsa)), Trust::Unverified, "never the reverse");
    assert_eq!(trust(&net, "alice", "bob", &bob_key), Trust::VerifiedSmp);
}

#[test]
fn a_stripped_first_contact_without_pins_behaves_as_before() {
    let (mut net, _, _) = pair_with_otr_keys();
    strip(&mut net, false, false);
    net.start("alice", "bob");
    net.run();
    for id in ["alice", "bob"] {
        assert!(!net.party(id).saw(&Event::DowngradeDetected), "{id}");
        assert!(!net.party(id).saw(&Event::LegacyWithModernPeer), "{id}");
        assert!(net.party(id).saw(&Event::ProtocolUpgraded), "{id}: the probe path");
        // Linked once, by the probe; the modern session's own link is not new.
        assert_eq!(net.party(id).count(|e| matches!(e, Event::OtrKeyLinked { .. })), 1, "{id}");
    }
}

/// N12: after a modern session, a stripped OTR session with the same DSA key is a detected
/// downgrade: user text is held, the modern handshake starts at once, and the held text goes
/// over the modern session.
#[test]
fn a_pinned_key_link_detects_the_downgrade_and_holds_user_text_for_the_modern_session() {
    let (mut net, _, _) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    strip(&mut net, false, false);
    net.start("alice", "bob");
    step_until(&mut net, "alice", |p| p.saw(&Event::DowngradeDetected));
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV3);
    let started = position(&net, "alice", |e| matches!(e, Event::LegacySessionStarted { .. })).unwrap();
    let detected = position(&net, "alice", |e| *e == Event::DowngradeDetected).unwrap();
    assert!(started < detected);
    // Typed now, while the session is OTR: held, not sent.
    let sent_before = net.party("alice").sent.len();
    let id = net.send("alice", "bob", "held for offrec");
    assert!(net.party("alice").saw(&Event::EncryptionRequired { message: id }));
    assert_eq!(net.party("alice").sent.len(), sent_before, "nothing went out for it");
    let carrier = carrier_of(&mut net, "bob", "held for offrec");
    assert!(carrier.starts_with("?OFR:"), "delivered over the modern session, not OTR: {carrier}");
    net.run();
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        assert!(net.party(id).saw(&Event::DowngradeDetected), "{id}");
        assert!(net.party(id).saw(&Event::ProtocolUpgraded), "{id}");
        assert!(!net.party(id).saw(&Event::DowngradeSuspected), "{id}");
        assert!(!net.party(id).saw(&Event::LegacyWithModernPeer), "{id}");
        let sessions = net.party(id).client.sessions(peer);
        assert_eq!(sessions.len(), 1, "{id}: the OTR session was retired");
        assert_eq!(sessions[0].protocol, Protocol::ModernV1, "{id}");
    }
    assert!(net.party("alice").saw(&Event::HeldMessageSent { message: id }));
    assert_eq!(net.party("bob").texts(), ["held for offrec"], "delivered once");
}

#[test]
fn a_detected_downgrade_with_modern_blocked_never_sends_the_held_text_over_otr() {
    let (mut net, _, _) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    strip(&mut net, true, false);
    net.start("alice", "bob");
    step_until(&mut net, "alice", |p| p.saw(&Event::DowngradeDetected));
    let id = net.send("alice", "bob", "never over otr");
    net.run();
    assert!(net.party("bob").texts().is_empty());
    net.now += 10;
    net.tick("alice");
    net.run();
    assert!(net.party("bob").texts().is_empty(), "a tick does not flush it to the OTR session");
    net.now += net.party("alice").client.settings().handshake_timeout;
    net.tick("alice");
    net.run();
    let alice = net.party("alice");
    assert_eq!(alice.count(|e| matches!(e, Event::DowngradeSuspected)), 1);
    assert!(alice.saw(&Event::MessageNotSent { message: id, reason: NotSentReason::EncryptionTimeout }));
    assert!(net.party("bob").texts().is_empty(), "failed, never sent over OTR");
    // The user was told; what they send now uses the OTR session.
    net.send("alice", "bob", "after the warning");
    net.run();
    assert_eq!(net.party("bob").texts(), ["after the warning"]);
    assert_eq!(net.party("bob").client.sessions("alice")[0].protocol, Protocol::OtrV3);
}

#[test]
fn a_downgrade_to_otr_v2_is_detected_too() {
    let (mut net, _, _) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    strip(&mut net, false, true);
    net.start("alice", "bob");
    step_until(&mut net, "alice", |p| p.saw(&Event::DowngradeDetected));
    assert_eq!(net.party("alice").client.sessions("bob")[0].protocol, Protocol::OtrV2);
    net.send("alice", "bob", "held for offrec");
    let carrier = carrier_of(&mut net, "bob", "held for offrec");
    assert!(carrier.starts_with("?OFR:"), "{carrier}");
    net.run();
    for (id, peer) in [("alice", "bob"), ("bob", "alice")] {
        assert!(net.party(id).saw(&Event::ProtocolUpgraded), "{id}");
        let sessions = net.party(id).client.sessions(peer);
        assert_eq!(sessions.len(), 1, "{id}: the v2 session was retired");
        assert_eq!(sessions[0].protocol, Protocol::ModernV1, "{id}");
    }
}

#[test]
fn another_dsa_key_of_a_modern_peer_is_allowed_and_reported() {
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    // Bob now talks from another device: an OTR-only program with another DSA key.
    net.lose_sessions("bob");
    net.parties.get_mut("bob").unwrap().client.set_settings(settings(otr_fallback()));
    strip(&mut net, false, false);
    net.start("alice", "bob");
    net.run();
    let other = net.party("bob").client.otr_fingerprint().unwrap();
    assert_ne!(other, bob_dsa);
    let alice = net.party("alice");
    assert!(alice.saw(&Event::LegacyWithModernPeer));
    assert!(!alice.saw(&Event::DowngradeDetected));
    assert_eq!(alice.client.sessions("bob")[0].protocol, Protocol::OtrV3);
    // Allowed: text goes over OTR at once.
    net.send("alice", "bob", "over otr");
    net.run();
    assert_eq!(net.party("bob").texts(), ["over otr"]);
}

#[test]
fn pins_survive_a_save_and_load() {
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    let bytes = offrec::store::encode_client(&net.party("alice").client);
    let rng = Box::new(offrec::crypto::DeterministicRandom::from_label("alice reloaded"));
    let reloaded = offrec::store::decode_client(&bytes, settings(Policy::MANUAL), rng).unwrap();
    assert_eq!(reloaded.protocol_pins(), net.party("alice").client.protocol_pins());
    assert!(!reloaded.protocol_pins().modern_keys_of("bob", &bob_dsa).is_empty());
    net.parties.get_mut("alice").unwrap().client = reloaded;
    strip(&mut net, true, false);
    net.start("alice", "bob");
    net.run();
    assert!(net.party("alice").saw(&Event::DowngradeDetected));
}

#[test]
fn a_linked_key_is_added_as_a_session_adds_one_and_pushes_out_no_key_of_the_other_kind() {
    // Keys of the two kinds are capped separately, so a link naming Bob's DSA key must not
    // push out any of the 16 modern keys Alice knows for "bob" (15 old ones and his verified one).
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    let bob_key = net.party("bob").client.fingerprint();
    let old_keys: Vec<[u8; 32]> = (1..=15u8).map(|i| [i; 32]).collect();
    for key in &old_keys {
        set_trust(&mut net, "alice", "bob", *key, Trust::Unverified);
    }
    set_trust(&mut net, "alice", "bob", bob_key, Trust::VerifiedSmp);
    modern_session(&mut net);
    assert_eq!(trust(&net, "alice", "bob", &otr_key_id(&bob_dsa)), Trust::VerifiedSmp, "verified via link");
    let known: Vec<[u8; 32]> =
        net.party("alice").client.trust_store().keys("bob").iter().map(|k| k.fingerprint).collect();
    for key in old_keys.iter().chain([&bob_key]) {
        assert!(known.contains(key), "a modern key was pushed out by the link");
    }
    assert_eq!(known.len(), 17);
    // Added as the newest key, the way a session adds one.
    assert_eq!(known.last(), Some(&otr_key_id(&bob_dsa)));
}

#[test]
fn a_link_changes_the_shown_state_of_no_session_but_the_claimed_keys() {
    // Mallory, as another client of "bob" with her own key and no DSA key, has an unverified
    // session with Alice when Bob's link verifies his DSA key: hers must not be shown verified.
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    let mut rng = offrec::crypto::DeterministicRandom::from_label("mallory's key");
    let identity = offrec::crypto::IdentityKey::generate(&mut rng).unwrap();
    net.add_with_identity("mallory", "bob", settings(Policy::MANUAL), identity);
    let bob_key = net.party("bob").client.fingerprint();
    set_trust(&mut net, "alice", "bob", bob_key, Trust::VerifiedSmp);
    // Bob is off the network while Mallory answers Alice's handshake.
    let bob = net.parties.remove("bob").unwrap();
    net.start("alice", "bob");
    net.run();
    net.parties.insert("bob".into(), bob);
    let mallory_tag = net.party("mallory").client.instance_tag();
    assert_eq!(net.party("alice").client.sessions("bob")[0].instance, mallory_tag);
    // Then Bob starts his own session, which carries his link.
    net.start("bob", "alice");
    net.run();
    assert!(net.party("alice").saw(&Event::OtrKeyLinked { fingerprint: otr_key_id(&bob_dsa) }));
    assert_eq!(trust(&net, "alice", "bob", &otr_key_id(&bob_dsa)), Trust::VerifiedSmp);
    let shown: Vec<SessionState> = net
        .party("alice")
        .states
        .iter()
        .filter(|(peer, instance, _)| peer == "bob" && *instance == mallory_tag)
        .map(|(_, _, state)| *state)
        .collect();
    assert_eq!(shown.last(), Some(&SessionState::EncryptedUnverified));
    assert!(!shown.contains(&SessionState::EncryptedVerified), "Mallory's session shown as verified: {shown:?}");
}

#[test]
fn a_probe_naming_a_new_modern_key_replaces_the_key_the_pin_expected() {
    // Bob's DSA key is linked to his old modern key. He moves to a new device: a new modern key,
    // the same DSA key (imported). The OTR session's probe is the DSA key's own current word, so
    // the upgrade meeting his new modern key is no downgrade.
    use offrec::migrate::{AccountSelector, OtrFileFormat};
    let (mut net, _, bob_dsa) = pair_with_otr_keys();
    modern_session(&mut net);
    end_sessions(&mut net);
    let dsa_file =
        net.party("bob").client.export_otr_key(OtrFileFormat::Potr, &AccountSelector::client(), None).unwrap();
    let mut rng = offrec::crypto::DeterministicRandom::from_label("bob's new device");
    let identity = offrec::crypto::IdentityKey::generate(&mut rng).unwrap();
    net.parties.remove("bob");
    net.add_with_identity("bob", "bob", settings(Policy::MANUAL), identity);
    let (imported, _) =
        net.client("bob").import_otr_key(&dsa_file, OtrFileFormat::Potr, &AccountSelector::client(), false).unwrap();
    assert_eq!(imported, bob_dsa);
    let new_key = net.party("bob").client.fingerprint();

    strip(&mut net, false, false);
    net.start("alice", "bob");
    net.run();
    assert!(net.party("alice").saw(&Event::DowngradeDetected), "the pin saw an offrec installation");
    assert!(net.party("alice").saw(&Event::ProtocolUpgraded));
    let sessions = net.party("alice").client.sessions("bob");
    assert_eq!(sessions.len(), 1);
    assert_eq!((sessions[0].protocol, sessions[0].their_fingerprint), (Protocol::ModernV1, new_key));
    assert!(!net.party("alice").saw(&Event::DowngradeSuspected), "the probe's key is the one met");
}

#[test]
fn a_probe_from_another_client_does_not_change_the_key_a_pending_upgrade_expects() {
    // Two clients of "bob", each with its own modern key, both answer Alice's stripped query
    // in OTR and both send a probe. The upgrade pending for the first must keep expecting the
    // first one's key: meeting it is no downgrade.
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob#1", "bob", settings(Policy::MANUAL));
    let mut rng = offrec::crypto::DeterministicRandom::from_label("bob's second device");
    let identity = offrec::crypto::IdentityKey::generate(&mut rng).unwrap();
    net.add_with_identity("bob#2", "bob", settings(Policy::MANUAL), identity);
    for id in ["alice", "bob#1", "bob#2"] {
        generate_otr_key(&mut net, id);
    }
    strip(&mut net, false, false);
    net.start("alice", "bob");
    net.run();
    let sessions = net.party("alice").client.sessions("bob");
    // Both OTR sessions were upgraded, each to its own client's modern session.
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.protocol == Protocol::ModernV1), "{sessions:?}");
    assert_eq!(net.party("alice").count(|e| matches!(e, Event::ProtocolUpgraded)), 2);
    assert!(!net.party("alice").saw(&Event::DowngradeSuspected));
}
