//! The calls a chat UI needs (issue #16 §2), through the engine: per-peer policies, listing and
//! forgetting peers and keys, the texts we send, peers reported offline, and classifying a line
//! of text. The C, Python and Go tests prove the same through each binding.

mod support;

use std::collections::BTreeSet;

use offrec::conversation::{
    ClientError, Event, NotSentReason, Policy, Protocol, SessionState, TextKind, PERSIST_OTHER, PERSIST_SESSIONS,
    PERSIST_TRUST,
};
use offrec::message_kind::{message_kind, MessageKind};
use offrec::trust::{KeyKind, Trust};
use support::{encrypted_pair, settings, Net};

fn persisted(net: &Net, id: &str) -> u32 {
    net.party(id)
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::PersistNeeded { what } => Some(*what),
            _ => None,
        })
        .fold(0, |a, b| a | b)
}

/// Saves `id` as an app that saves on every notice would: `PersistNeeded` is reported once until
/// saved, so without it a change of a kind already unsaved would not ask again.
fn save(net: &Net, id: &str) {
    let key = offrec::store::StoreKey::Raw(zeroize::Zeroizing::new([7; 32]));
    offrec::store::save_to_bytes(&net.party(id).client, &key).unwrap();
}

fn clear_log(net: &mut Net, id: &str) {
    let party = net.parties.get_mut(id).unwrap();
    party.events.clear();
    party.sent.clear();
    party.delivered.clear();
}

// --- per-peer policy ---------------------------------------------------------------------------

/// Alice (OPPORTUNISTIC by default) and three peers.
fn alice_and_friends() -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::OPPORTUNISTIC));
    for name in ["bob", "carol", "dave"] {
        net.add(name, name, settings(Policy::OPPORTUNISTIC));
    }
    net
}

#[test]
fn a_never_policy_for_one_peer_sends_and_reads_that_peer_in_the_clear_only() {
    let mut net = alice_and_friends();
    let actions = net.client("alice").set_peer_policy("bob", Policy::NEVER).unwrap();
    net.apply("alice", actions);
    assert_ne!(persisted(&net, "alice") & PERSIST_OTHER, 0, "a peer policy asks for a save");
    assert_eq!(net.client("alice").peer_policy("bob"), Some(Policy::NEVER));
    assert_eq!(net.client("alice").policy_for("bob"), Policy::NEVER);
    assert_eq!(net.client("alice").policy_for("carol"), Policy::OPPORTUNISTIC);
    // NEVER: no whitespace tag to bob, none of bob's queries answered, no session start.
    net.send("alice", "bob", "hi bob");
    net.send("alice", "carol", "hi carol");
    let sent = net.party("alice").sent.clone();
    assert_eq!(sent[0], ("bob".to_owned(), "hi bob".to_owned()), "untagged to bob");
    assert!(sent[1].1.starts_with("hi carol") && sent[1].1.len() > "hi carol".len(), "tagged to carol");
    net.run();
    assert_eq!(net.state("alice", "carol"), SessionState::EncryptedUnverified, "carol's tag started a session");
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext);
    net.start("bob", "alice");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::Plaintext, "bob's query is not answered");
    let now = net.now;
    assert_eq!(net.client("alice").start_session("bob", now).err(), Some(ClientError::PolicyForbids));
    // Clearing it gives bob the client's policy again, and asks for a save; clearing nothing
    // asks for nothing.
    clear_log(&mut net, "alice");
    save(&net, "alice");
    let actions = net.client("alice").clear_peer_policy("bob").unwrap();
    net.apply("alice", actions);
    assert_eq!(persisted(&net, "alice"), PERSIST_OTHER);
    assert_eq!(net.client("alice").peer_policy("bob"), None);
    assert!(net.client("alice").clear_peer_policy("bob").unwrap().is_empty());
    save(&net, "alice");
    assert!(net.client("alice").set_peer_policy("carol", Policy::OPPORTUNISTIC).unwrap().len() == 1);
    assert!(net.client("alice").set_peer_policy("carol", Policy::OPPORTUNISTIC).unwrap().is_empty(), "unchanged");
    net.start("bob", "alice");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
}

#[test]
fn an_always_policy_for_one_peer_holds_its_messages_only() {
    let mut net = alice_and_friends();
    net.client("alice").set_peer_policy("bob", Policy::ALWAYS).unwrap();
    net.send("alice", "carol", "plain to carol");
    let id = net.send("alice", "bob", "secret to bob");
    assert!(net.party("alice").saw(&Event::EncryptionRequired { message: id }));
    let to_bob: Vec<String> =
        net.party("alice").sent.iter().filter(|(p, _)| p == "bob").map(|(_, t)| t.clone()).collect();
    assert_eq!(to_bob.len(), 1);
    assert!(to_bob[0].contains("?OFRv1?"), "a query, never the text: {to_bob:?}");
    net.run();
    assert_eq!(net.party("bob").texts(), ["secret to bob"]);
    assert_eq!(net.party("carol").texts(), ["plain to carol"]);
    // Bob's plaintext is flagged for alice under ALWAYS; carol's is not.
    let now = net.now;
    let actions = net.client("alice").end_session("bob", None, now);
    net.apply("alice", actions);
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    net.run();
    net.send("bob", "alice", "clear from bob");
    net.send("carol", "alice", "clear from carol");
    net.run();
    let flagged: Vec<&String> = net
        .party("alice")
        .events
        .iter()
        .filter(|(_, _, e)| matches!(e, Event::UnencryptedWhileRequired))
        .map(|(p, _, _)| p)
        .collect();
    assert!(flagged.iter().all(|p| *p == "bob"), "{flagged:?}");
}

#[test]
fn require_modern_for_one_peer_refuses_otr_from_that_peer_only() {
    let mut net = alice_and_friends();
    let otr_only = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
    net.client("alice").set_settings(settings(otr_only));
    net.client("alice").set_peer_policy("bob", otr_only | Policy::REQUIRE_MODERN).unwrap();
    for peer in ["bob", "carol"] {
        let now = net.now;
        let actions = net.client("alice").receive(peer, "?OTRv3?", now);
        net.apply("alice", actions);
    }
    let sent = net.party("alice").sent.clone();
    assert!(sent.iter().any(|(p, t)| p == "carol" && t.starts_with("?OTR:AAMC")), "carol gets a D-H Commit");
    assert!(!sent.iter().any(|(p, _)| p == "bob"), "nothing in OTR to bob: {sent:?}");
    assert!(net.party("alice").events.iter().any(|(p, _, e)| p == "bob" && *e == Event::ForeignProtocol));
    // Our queries to bob offer no OTR version; to carol they do.
    net.start("alice", "bob");
    net.start("alice", "carol");
    let sent = net.party("alice").sent.clone();
    let query = |peer: &str| sent.iter().rev().find(|(p, _)| p == peer).unwrap().1.clone();
    assert!(!query("bob").contains("?OTR"), "{}", query("bob"));
    assert!(query("carol").starts_with("?OTRv"), "{}", query("carol"));
}

#[test]
fn the_downgrade_guard_follows_the_peer_policy() {
    // Both run offrec but reach each other through OTR (a stripped query): with the guard, the
    // OTR session is upgraded; alice turns it off for bob alone, and the session stays OTR.
    for (guard_for_bob, upgraded) in [(true, true), (false, false)] {
        let fallback = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
        let mut net = Net::new();
        net.add("alice", "alice", settings(fallback | Policy::DOWNGRADE_GUARD));
        net.add("bob", "bob", settings(fallback | Policy::DOWNGRADE_GUARD));
        if !guard_for_bob {
            net.client("alice").set_peer_policy("bob", fallback).unwrap();
            net.client("bob").set_peer_policy("alice", fallback).unwrap();
        }
        let now = net.now;
        let actions = net.client("alice").receive("bob", "?OTRv3?", now);
        net.apply("alice", actions);
        net.run();
        net.send("alice", "bob", "hello");
        net.run();
        let protocol = net.party("alice").client.sessions("bob")[0].protocol;
        assert_eq!(protocol == Protocol::ModernV1, upgraded, "guard for bob: {guard_for_bob}");
    }
}

#[test]
fn every_policy_decision_reads_the_peer_policy() {
    // The engine reads a peer's policy through `Ctx::policy`; `settings.policy` is the client's
    // default and is read in one place only (`Client::policy_for` and the call context).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/conversation");
    let mut offenders = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("settings.policy") && !line.trim_start().starts_with("//") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    let allowed = |o: &String| {
        (o.contains("peer_policies.rs") && o.contains("unwrap_or(self.settings.policy)"))
            || (o.contains("client.rs") && o.contains("unwrap_or(settings.policy)"))
            || o.contains("/// ")
    };
    let bad: Vec<&String> = offenders.iter().filter(|o| !allowed(o)).collect();
    assert!(bad.is_empty(), "policy read without the peer's own policy: {bad:#?}");
    assert_eq!(offenders.iter().filter(|o| !o.contains("/// ")).count(), 2, "{offenders:#?}");
}

#[test]
fn peer_policies_are_checked_and_capped() {
    let mut net = alice_and_friends();
    let alice = net.client("alice");
    assert!(matches!(alice.set_peer_policy("", Policy::NEVER), Err(ClientError::InvalidArgument(_))));
    assert!(matches!(alice.set_peer_policy(&"x".repeat(1025), Policy::NEVER), Err(ClientError::InvalidArgument(_))));
    assert!(alice.clear_peer_policy("nobody").is_ok(), "clearing nothing is fine");
    let longest = "x".repeat(1024);
    assert!(alice.set_peer_policy(&longest, Policy::NEVER).is_ok(), "1024 bytes is a name");
    assert_eq!(alice.peer_policy(&longest), Some(Policy::NEVER));
    assert!(matches!(alice.clear_peer_policy(""), Err(ClientError::InvalidArgument(_))));
    assert!(matches!(alice.clear_peer_policy(&"x".repeat(1025)), Err(ClientError::InvalidArgument(_))));
    assert!(alice.clear_peer_policy(&longest).is_ok());
    assert_eq!(alice.peer_policy(&longest), None);
}

// --- peers and keys ------------------------------------------------------------------------------

#[test]
fn peers_and_keys_are_listed_with_kind_and_trust() {
    let mut net = encrypted_pair();
    let alice = net.client("alice");
    assert_eq!(alice.known_peers(), ["bob"]);
    let keys = alice.known_key_infos("bob");
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].kind, keys[0].fingerprint_len, keys[0].trust), (KeyKind::Modern, 32, Trust::Unverified));
    assert_eq!(keys[0].fingerprint, keys[0].key_id);
    let dsa = [0xCB; 20];
    let dsa_id = offrec::trust::otr_key_id(&dsa);
    alice.set_trust("bob", dsa_id, Trust::VerifiedManual);
    alice.set_peer_policy("zoe", Policy::NEVER).unwrap();
    let keys = alice.known_key_infos("bob");
    let otr = keys.iter().find(|k| k.kind == KeyKind::OtrDsa).unwrap();
    assert_eq!((otr.fingerprint_len, otr.trust, otr.key_id), (20, Trust::VerifiedManual, dsa_id));
    assert_eq!(&otr.fingerprint[..20], &dsa);
    assert_eq!(&otr.fingerprint[20..], &[0; 12]);
    assert_eq!(alice.known_peers(), ["bob", "zoe"], "sorted; a peer with only a policy counts");
    alice.set_trust("carol", [7; 32], Trust::VerifiedManual);
    assert_eq!(alice.known_peers(), ["bob", "carol", "zoe"], "a peer with only a known key counts");
    assert!(alice.known_key_infos("zoe").is_empty());
}

#[test]
fn strangers_are_not_listed() {
    let mut net = encrypted_pair();
    let now = net.now;
    net.client("alice").receive("mallory", "?OFRv1?", now);
    net.client("alice").receive("eve", "hello", now);
    assert_eq!(net.client("alice").known_peers(), ["bob"]);
}

#[test]
fn a_key_in_use_is_not_forgotten_until_the_session_ends() {
    let mut net = encrypted_pair();
    let key = net.party("alice").client.known_key_infos("bob")[0].key_id;
    assert_eq!(net.client("alice").forget_key("bob", &key).err(), Some(ClientError::KeyInUse));
    assert_eq!(net.client("alice").forget_key("bob", &[9; 32]).err(), Some(ClientError::UnknownKey));
    assert_eq!(net.client("alice").forget_key("nobody", &key).err(), Some(ClientError::UnknownKey));
    assert_eq!(net.party("alice").client.known_key_infos("bob").len(), 1, "refusals change nothing");
    let now = net.now;
    net.client("alice").end_session("bob", None, now);
    clear_log(&mut net, "alice");
    save(&net, "alice");
    let actions = net.client("alice").forget_key("bob", &key).unwrap();
    net.apply("alice", actions);
    assert!(persisted(&net, "alice") & PERSIST_TRUST != 0);
    assert!(net.party("alice").client.known_key_infos("bob").is_empty());
    // The same key again is a first key again.
    net.run();
    net.start("alice", "bob");
    net.run();
    assert!(net.party("alice").saw(&Event::NewFingerprint { fingerprint: key }));
}

#[test]
fn forgetting_checks_the_name_first() {
    let mut net = encrypted_pair();
    let alice = net.client("alice");
    let longest = "x".repeat(1024);
    assert_eq!(alice.forget_peer(&longest, 1).err(), Some(ClientError::UnknownPeer), "1024 bytes is a name");
    assert_eq!(alice.forget_key(&longest, &[1; 32]).err(), Some(ClientError::UnknownKey));
    for bad in [String::new(), "x".repeat(1025)] {
        assert!(matches!(alice.forget_peer(&bad, 1), Err(ClientError::InvalidArgument(_))), "{}", bad.len());
        assert!(matches!(alice.forget_key(&bad, &[1; 32]), Err(ClientError::InvalidArgument(_))), "{}", bad.len());
    }
}

#[test]
fn a_key_not_in_use_is_forgotten_beside_a_live_session() {
    let mut net = encrypted_pair();
    let dsa_id = offrec::trust::otr_key_id(&[0xCB; 20]);
    net.client("alice").set_trust("bob", dsa_id, Trust::VerifiedManual);
    net.client("alice").forget_key("bob", &dsa_id).unwrap();
    assert_eq!(net.party("alice").client.known_key_infos("bob").len(), 1);
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified, "the session stays");
}

#[test]
fn a_forgotten_key_must_be_accepted_again() {
    // Alice verified Bob's laptop key; Bob's phone (another key) needs her consent, which she
    // gives; she ends that session and forgets the phone's key: when it comes back, she is
    // asked again (the consent went with the key).
    let mut net = encrypted_pair();
    let laptop = net.party("alice").client.known_key_infos("bob")[0].key_id;
    net.client("alice").set_trust("bob", laptop, Trust::VerifiedManual);
    let mut rng = offrec::crypto::DeterministicRandom::from_label("bob's phone");
    let phone = offrec::crypto::IdentityKey::generate(&mut rng).unwrap();
    let phone_key = phone.fingerprint();
    net.add_with_identity("bob#2", "bob", settings(Policy::MANUAL), phone);
    let consents = |net: &Net| {
        net.party("alice").events.iter().filter(|(_, _, e)| matches!(e, Event::KeyConsentRequired { .. })).count()
    };
    net.start("bob#2", "alice");
    net.run();
    assert_eq!(consents(&net), 1);
    let tag = net.party("bob#2").client.instance_tag();
    let now = net.now;
    let actions = net.client("alice").accept_key("bob", tag, now).unwrap();
    net.apply("alice", actions);
    let actions = net.client("alice").end_session("bob", Some(tag), now);
    net.apply("alice", actions);
    net.run();
    net.client("alice").forget_key("bob", &phone_key).unwrap();
    net.start("bob#2", "alice");
    net.run();
    assert_eq!(consents(&net), 2, "the phone's key is new again, and needs consent again");
}

#[test]
fn a_peer_with_a_live_session_is_not_forgotten() {
    let mut net = encrypted_pair();
    assert_eq!(net.client("alice").forget_peer("bob", 1).err(), Some(ClientError::SessionActive));
    assert_eq!(net.client("alice").forget_peer("nobody", 1).err(), Some(ClientError::UnknownPeer));
    assert_eq!(net.client("alice").known_peers(), ["bob"]);
    // Ended by bob (finished on alice's side): now it may go, with what it held.
    let now = net.now;
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::Finished);
    let held = net.client("alice").send("bob", b"never sent", now);
    assert_eq!(held.err(), Some(ClientError::SessionFinished));
    net.client("alice").set_peer_policy("bob", Policy::ALWAYS).unwrap();
    clear_log(&mut net, "alice");
    save(&net, "alice");
    let actions = net.client("alice").forget_peer("bob", now).unwrap();
    net.apply("alice", actions);
    let alice = &net.party("alice").client;
    assert!(alice.known_peers().is_empty());
    assert!(alice.sessions("bob").is_empty());
    assert!(alice.known_key_infos("bob").is_empty());
    assert_eq!(alice.peer_policy("bob"), None);
    let what = persisted(&net, "alice");
    assert!(what & PERSIST_TRUST != 0 && what & PERSIST_SESSIONS != 0, "{what}");
    assert!(what & PERSIST_OTHER != 0, "its policy went too");
    // A stranger (a handshake it started, nothing stored) goes without asking for a save.
    let now = net.now;
    let actions = net.client("alice").receive("mallory", "?OFRv1?", now);
    net.apply("alice", actions);
    clear_log(&mut net, "alice");
    let actions = net.client("alice").forget_peer("mallory", now).unwrap();
    net.apply("alice", actions);
    assert_eq!(persisted(&net, "alice"), 0);
}

#[test]
fn forgetting_a_peer_fails_its_held_messages() {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::ALWAYS));
    let id = net.send("alice", "bob", "held");
    clear_log(&mut net, "alice");
    let now = net.now;
    let actions = net.client("alice").forget_peer("bob", now).unwrap();
    net.apply("alice", actions);
    assert!(net.party("alice").saw(&Event::MessageNotSent { message: id, reason: NotSentReason::SessionEnded }));
    assert!(net.client("alice").known_peers().is_empty());
}

// --- texts ---------------------------------------------------------------------------------------

#[test]
fn the_peer_receives_our_query_text_and_still_reads_the_query() {
    let mut net = alice_and_friends();
    let mut s = net.party("alice").client.settings().clone();
    s.texts.set(TextKind::Query, Some("Verschlüsseltes Gespräch angefragt.")).unwrap();
    net.client("alice").set_settings(s);
    net.start("alice", "bob");
    let query = net.party("alice").sent.last().unwrap().1.clone();
    assert!(query.ends_with(" Verschlüsseltes Gespräch angefragt."), "{query}");
    // libotr's parse: the versions after the first ?OTRv; ours: the ?OFRv field.
    assert!(offrec::otr::text::parse_otr_query(&query).is_some());
    assert!(offrec::wire::parse_query(&query).is_some());
    assert_eq!(message_kind(&query), MessageKind::OffrecQuery);
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
}

#[test]
fn otr_error_texts_are_the_applications() {
    let mut net = Net::new();
    let fallback = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
    net.add("alice", "alice", settings(fallback));
    let mut s = net.party("alice").client.settings().clone();
    s.texts.set(TextKind::OtrNotInPrivate, Some("Nachricht ohne Sitzung.")).unwrap();
    net.client("alice").set_settings(s);
    // An OTR v3 data message out of the blue (no session): answered with our words.
    let tag = net.party("alice").client.instance_tag().to_be_bytes();
    let data = offrec::otr::text::armour::encode(&[0, 3, 3, 0, 0, 0x12, 0x34, tag[0], tag[1], tag[2], tag[3], 0]);
    let now = net.now;
    let actions = net.client("alice").receive("bob", &data, now);
    net.apply("alice", actions);
    let sent = net.party("alice").sent.last().unwrap().1.clone();
    assert_eq!(sent, "?OTR Error: Nachricht ohne Sitzung.");
    assert_eq!(offrec::otr::text::error::parse(&sent), Some("Nachricht ohne Sitzung."));
    assert_eq!(message_kind(&sent), MessageKind::OtrError);
}

// --- peers offline -------------------------------------------------------------------------------

#[test]
fn no_heartbeat_and_no_session_end_message_to_a_peer_reported_offline() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "ping");
    net.run();
    net.now += 61;
    let offline: BTreeSet<String> = ["alice".to_owned()].into();
    let now = net.now;
    let actions = net.client("bob").with_offline_peers(offline.clone(), |c| c.tick(now));
    net.apply("bob", actions);
    assert!(!net.party("bob").saw(&Event::HeartbeatSent));
    assert!(net.queue.is_empty(), "nothing sent to an offline peer");
    // Online again (or unknown): the heartbeat goes.
    net.tick("bob");
    assert!(net.party("bob").saw(&Event::HeartbeatSent));
    net.run();
    // Ending the session while the peer is offline: ended here, nothing sent.
    let actions = net.client("bob").with_offline_peers(offline, |c| c.end_session("alice", None, now));
    net.apply("bob", actions);
    assert_eq!(net.state("bob", "alice"), SessionState::Plaintext);
    assert!(net.queue.is_empty());
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified, "alice was not told");
    assert!(net.party("bob").client.sessions("alice").is_empty());
}

#[test]
fn offline_answers_hold_for_one_call_only() {
    let mut net = encrypted_pair();
    let now = net.now;
    let offline: BTreeSet<String> = ["alice".to_owned()].into();
    net.client("bob").with_offline_peers(offline, |_| ());
    let actions = net.client("bob").end_session("alice", None, now);
    net.apply("bob", actions);
    assert!(!net.queue.is_empty(), "the session end goes out");
    net.run();
    assert_eq!(net.state("alice", "bob"), SessionState::Finished);
}

// --- classifying text ----------------------------------------------------------------------------

#[test]
fn every_kind_of_real_traffic_is_named() {
    // Modern: query, handshake, data, error, fragments, tagged text.
    let mut net = alice_and_friends();
    net.client("alice").set_max_message_size("bob", 200).unwrap();
    net.send("alice", "bob", "tagged hello");
    net.start("alice", "bob");
    net.run();
    net.send("alice", "bob", &"long ".repeat(100));
    net.run();
    let mut kinds: BTreeSet<u32> = BTreeSet::new();
    for (_, _, text) in &net.wire_log {
        kinds.insert(message_kind(text) as u32);
    }
    for k in [MessageKind::OffrecTagged, MessageKind::OffrecQuery, MessageKind::OffrecKeyExchange] {
        assert!(kinds.contains(&(k as u32)), "{k:?} in {kinds:?}");
    }
    assert!(kinds.contains(&(MessageKind::OffrecFragment as u32)) || kinds.contains(&(MessageKind::OffrecData as u32)));
    let log = net.wire_log.clone();
    let data = log.iter().find(|(_, _, t)| message_kind(t) == MessageKind::OffrecFragment).unwrap();
    assert!(data.2.starts_with("?OFR|"));
    let mut net = encrypted_pair();
    net.send("alice", "bob", "short");
    let data = net.party("alice").sent.last().unwrap().1.clone();
    assert_eq!(message_kind(&data), MessageKind::OffrecData);
    assert_eq!(message_kind("?OFR Error: unreadable encrypted message 0011223344556677:1"), MessageKind::OffrecError);

    // OTR: every AKE message and data, as two offrec clients forced onto OTR send them.
    let fallback = Policy::ALLOW | Policy::ALLOW_OTR_V3 | Policy::ALLOW_OTR_V2;
    let mut net = Net::new();
    net.add("alice", "alice", settings(fallback));
    net.add("bob", "bob", settings(fallback));
    let now = net.now;
    let actions = net.client("alice").receive("bob", "?OTRv3?", now);
    net.apply("alice", actions);
    net.run();
    net.send("alice", "bob", "over otr");
    net.run();
    let kinds: Vec<MessageKind> = net.wire_log.iter().map(|(_, _, t)| message_kind(t)).collect();
    for k in [
        MessageKind::OtrDhCommit,
        MessageKind::OtrDhKey,
        MessageKind::OtrRevealSignature,
        MessageKind::OtrSignature,
        MessageKind::OtrData,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
}

#[test]
fn hand_made_lines_are_named() {
    use MessageKind as K;
    let tag_v3 = format!("hi{}", offrec::otr::text::whitespace::OTR_TAG_BASE.to_owned() + "  \t\t  \t\t");
    let cases: Vec<(String, K)> = vec![
        ("just chatting".into(), K::Plaintext),
        ("".into(), K::Plaintext),
        ("quoting ?OFR: mid-line".into(), K::Plaintext),
        ("?OTRv23?\n<b>alice</b> has requested".into(), K::OtrQuery),
        ("?OTR?".into(), K::OtrQuery),
        ("?OTRv3? ?OFRv1? text".into(), K::OffrecQuery),
        (tag_v3, K::OtrTagged),
        ("?OTR Error: You transmitted an unreadable encrypted message.".into(), K::OtrError),
        ("?OTR|00001000|00000000,00001,00002,?OTR:AAMC,".into(), K::OtrFragment),
        ("?OTR,1,2,A,".into(), K::OtrFragment),
        ("?OTR|1|2|3,1,2,A,".into(), K::OtrForeign),
        (offrec::otr::text::armour::encode(&[0, 1, 3]), K::OtrForeign),
        (offrec::otr::text::armour::encode(&[0, 4, 3]), K::OtrForeign),
        (offrec::otr::text::armour::encode(&[0, 3, 2]), K::Malformed),
        ("?OTR:AAMD".into(), K::Malformed),
        ("?OFR:not base64!".into(), K::Malformed),
        // Armoured, but neither a handshake message nor a data message.
        (offrec::wire::armour::encode(&[0, 1, 0x7f, 1, 2, 3]), K::Malformed),
        ("?OFR|zz".into(), K::Malformed),
    ];
    for (text, want) in cases {
        assert_eq!(message_kind(&text), want, "{text:?}");
    }
    for k in MessageKind::ALL {
        assert_eq!(k.is_for_people(), matches!(k, K::Plaintext | K::OffrecTagged | K::OtrTagged));
    }
}
