//! What a receiver tells a sender about messages it could not read (PROTOCOL.md §9.8): nothing
//! for a duplicate, "this one message" for a corrupted one on a working session (no restart),
//! "this and every later one" when it has no session; and reports still name messages sent
//! just before a refresh.

mod support;

use offrec::conversation::{Event, SessionState};
use offrec::crypto::{DeterministicRandom, DhKeyPair, SecretKey};
use offrec::ratchet::{Ratchet, RatchetError};
use offrec::wire::armour;
use offrec::wire::data_message::DataMessage;
use support::{encrypted_pair, Net};

fn errors_from(net: &Net, who: &str, since: usize) -> Vec<String> {
    net.wire_log[since..]
        .iter()
        .filter(|(from, _, t)| from == who && t.starts_with("?OFR Error:"))
        .map(|(_, _, t)| t.clone())
        .collect()
}

fn lost(net: &Net, who: &str) -> Vec<u64> {
    net.party(who).lost_messages()
}

#[test]
fn a_duplicate_of_a_message_read_is_not_reported_as_lost() {
    let mut net = encrypted_pair();
    net.send("alice", "bob", "once");
    let copy = net.queue.back().unwrap().clone();
    net.run();
    let before = net.wire_log.len();
    net.queue.push_back(copy);
    net.run();
    assert_eq!(net.party("bob").texts(), ["once"], "delivered once");
    assert_eq!(net.party("bob").count(|e| matches!(e, Event::Unreadable)), 1, "the app still hears of it");
    assert!(errors_from(&net, "bob", before).is_empty(), "no report for a duplicate");
    assert!(lost(&net, "alice").is_empty());
}

#[test]
fn a_corrupted_message_is_reported_alone_and_the_session_goes_on() {
    let mut net = encrypted_pair();
    let first = net.send("alice", "bob", "first");
    let (from, to, wire) = net.queue.pop_back().unwrap();
    let mut bytes = armour::decode(&wire).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1; // the tag
    net.queue.push_back((from, to, armour::encode(&bytes)));
    let before = net.wire_log.len();
    net.run();
    let errors = errors_from(&net, "bob", before);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].ends_with(" only"), "{}", errors[0]);
    assert_eq!(lost(&net, "alice"), [first], "only that message is reported lost");
    // No new session was asked for, and later messages flow on the same session.
    assert!(!net.wire_log[before..].iter().any(|(_, _, t)| t.starts_with("?OFRv")), "no query");
    let ssid = net.client("alice").sessions("bob")[0].ssid;
    net.send("alice", "bob", "second");
    net.send("alice", "bob", "third");
    net.run();
    assert_eq!(net.party("bob").texts(), ["second", "third"]);
    assert_eq!(net.client("alice").sessions("bob")[0].ssid, ssid);
    assert_eq!(lost(&net, "alice"), [first]);
}

#[test]
fn a_receiver_without_the_session_reports_that_message_and_every_later_one() {
    let mut net = encrypted_pair();
    // Bob loses his session (a restart without state, same instance tag).
    net.lose_sessions("bob");
    let a = net.send("alice", "bob", "a");
    let b = net.send("alice", "bob", "b");
    let before = net.wire_log.len();
    net.run();
    let errors = errors_from(&net, "bob", before);
    assert_eq!(errors.len(), 1, "rate limited: one report for both");
    assert!(!errors[0].ends_with(" only"));
    assert_eq!(lost(&net, "alice"), [a, b], "the named message and the later one");
    // Healing: a new session comes up.
    assert_eq!(net.state("alice", "bob"), SessionState::EncryptedUnverified);
    assert_eq!(net.state("bob", "alice"), SessionState::EncryptedUnverified);
}

#[test]
fn a_report_for_a_message_sent_just_before_a_refresh_still_names_it() {
    let mut net = encrypted_pair();
    let sent = net.send("alice", "bob", "in flight at the refresh");
    let (_, _, wire) = net.queue.pop_back().unwrap();
    let header = DataMessage::parse(&armour::decode(&wire).unwrap()).unwrap().header;
    // A refresh replaces Alice's session before Bob hears of the message.
    net.start("alice", "bob");
    net.run();
    assert!(net.party("alice").count(|e| matches!(e, Event::HandshakeComplete)) >= 2);
    // Bob's report for it arrives now (as if he had lost it).
    let prefix: String = header.ratchet_key[..8].iter().map(|b| format!("{b:02x}")).collect();
    let report = offrec::wire::error_message::encode(&format!(
        "{} {prefix}:{} only",
        offrec::conversation::UNREADABLE_ERROR_TEXT,
        header.message_number
    ));
    let now = net.now;
    let actions = net.client("alice").receive("bob", &report, now);
    net.apply("alice", actions);
    assert_eq!(lost(&net, "alice"), [sent]);
}

#[test]
fn a_late_message_whose_key_was_discarded_is_a_loss_not_a_duplicate() {
    let mut rng = DeterministicRandom::from_label("discarded key");
    let bob_ratchet = DhKeyPair::generate(&mut rng).unwrap();
    let root = SecretKey::from_bytes([5; 32]);
    let mut bob = Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), bob_ratchet.clone());
    let mut alice =
        Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), bob_ratchet.public(), &mut rng).unwrap();
    let send = |r: &mut Ratchet, t: &[u8]| DataMessage::parse(&r.encrypt(1, 2, 0, t).unwrap().bytes).unwrap();
    let early = send(&mut bob, b"early");
    let read = send(&mut bob, b"read");
    alice.decrypt(&read, 1000, &mut rng).unwrap(); // "early" is skipped: its key is stored
    alice.decrypt(&read, 1000, &mut rng).unwrap_err(); // a duplicate of "read"...
    assert_eq!(alice.clone().decrypt(&read, 1000, &mut rng).unwrap_err(), RatchetError::Duplicate);
    alice.expire_skipped(1000 + 24 * 3600 + 1); // the stored key of "early" is discarded
    assert_eq!(alice.skipped_key_count(), 0);
    assert_eq!(alice.clone().decrypt(&early, 1000, &mut rng).unwrap_err(), RatchetError::KeyDiscarded);
    // "read" is above what was discarded: still a duplicate.
    assert_eq!(alice.clone().decrypt(&read, 1000, &mut rng).unwrap_err(), RatchetError::Duplicate);
}

#[test]
fn the_discard_watermark_follows_the_chain_keys_were_last_discarded_from() {
    // Alice holds skipped keys on two of Bob's chains; when all expire, a late message on the
    // current chain is a loss. The watermark must name the current chain, not the older one.
    let mut rng = DeterministicRandom::from_label("two chains discarded");
    let bob_ratchet = DhKeyPair::generate(&mut rng).unwrap();
    let root = SecretKey::from_bytes([6; 32]);
    let mut bob = Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), bob_ratchet.clone());
    let mut alice =
        Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), bob_ratchet.public(), &mut rng).unwrap();
    let send = |r: &mut Ratchet, t: &[u8]| DataMessage::parse(&r.encrypt(1, 2, 0, t).unwrap().bytes).unwrap();
    // Chain 1: messages 0..=5, only 5 read (0..4 stored).
    let chain1: Vec<_> = (0..6).map(|i| send(&mut bob, format!("c1 {i}").as_bytes())).collect();
    alice.decrypt(&chain1[5], 1000, &mut rng).unwrap();
    let reply = send(&mut alice, b"reply");
    bob.decrypt(&reply, 1000, &mut rng).unwrap();
    // Chain 2: messages 0..=2, only 2 read (0, 1 stored).
    let chain2: Vec<_> = (0..3).map(|i| send(&mut bob, format!("c2 {i}").as_bytes())).collect();
    alice.decrypt(&chain2[2], 1000, &mut rng).unwrap();
    assert_eq!(alice.skipped_key_count(), 7);
    alice.expire_skipped(1000 + 24 * 3600 + 1);
    assert_eq!(alice.skipped_key_count(), 0);
    assert_eq!(alice.clone().decrypt(&chain2[1], 1000, &mut rng).unwrap_err(), RatchetError::KeyDiscarded);
    assert_eq!(alice.clone().decrypt(&chain2[0], 1000, &mut rng).unwrap_err(), RatchetError::KeyDiscarded);
    assert_eq!(alice.clone().decrypt(&chain2[2], 1000, &mut rng).unwrap_err(), RatchetError::Duplicate);
}
