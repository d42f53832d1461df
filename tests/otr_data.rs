//! The OTR data path between two offrec sessions (v3 and v2): text both ways with key
//! rotations, bursts, counters, revealed MAC keys (each one must open an earlier message's MAC:
//! deniability), extra keys, the end of a session; and replayed, reordered, misrouted and
//! tampered messages, which must be refused with the session unchanged.

mod otr_support;

use offrec::crypto::DeterministicRandom;
use offrec::otr::ake::{Ake, AkeOutcome, EstablishedAke};
use offrec::otr::data::symmetric::hmac_sha1;
use offrec::otr::data::{DataError, DataSession, UnreadableReason};
use offrec::otr::message::{DataMessage, OtrVersion, FLAG_IGNORE_UNREADABLE};
use offrec::otr::tlv::{decode_plaintext, encode_plaintext, OtrTlv, OtrTlvType};
use offrec::wire::InstanceTag;
use otr_support::Vector;

const ALICE_TAG: InstanceTag = InstanceTag(0x1111_1111);
const BOB_TAG: InstanceTag = InstanceTag(0x2222_2222);

struct Side {
    session: DataSession,
    rng: DeterministicRandom,
    /// Every message this side received, to check the peer's revealed MAC keys against.
    received: Vec<Vec<u8>>,
}

fn establish(version: OtrVersion, seed: &str) -> (EstablishedAke, EstablishedAke) {
    let vector = Vector::v3();
    let (alice_identity, bob_identity) = (vector.identity("alice"), vector.identity("bob"));
    let mut rng = DeterministicRandom::from_label(seed);
    let mut alice = Ake::new(version, ALICE_TAG, InstanceTag::NONE);
    let mut bob = Ake::new(version, BOB_TAG, InstanceTag::NONE);
    let commit = bob.start(&mut rng).unwrap();
    let AkeOutcome::Reply(key) = alice.receive(&commit, &alice_identity, &mut rng).unwrap() else { panic!() };
    let AkeOutcome::Reply(reveal) = bob.receive(&key, &bob_identity, &mut rng).unwrap() else { panic!() };
    let AkeOutcome::Established { reply: Some(signature), session: a } =
        alice.receive(&reveal, &alice_identity, &mut rng).unwrap()
    else {
        panic!()
    };
    let AkeOutcome::Established { session: b, .. } = bob.receive(&signature, &bob_identity, &mut rng).unwrap() else {
        panic!()
    };
    (*a, *b)
}

fn pair(version: OtrVersion, seed: &str) -> (Side, Side) {
    let (a, b) = establish(version, seed);
    let mut alice_rng = DeterministicRandom::from_label(&format!("{seed} alice data"));
    let mut bob_rng = DeterministicRandom::from_label(&format!("{seed} bob data"));
    (
        Side { session: DataSession::new(a, &mut alice_rng).unwrap(), rng: alice_rng, received: Vec::new() },
        Side { session: DataSession::new(b, &mut bob_rng).unwrap(), rng: bob_rng, received: Vec::new() },
    )
}

fn text(message: &str) -> Vec<u8> {
    encode_plaintext(message.as_bytes(), &[]).unwrap().to_vec()
}

/// `from` sends `message`; `to` must read it. Checks the revealed MAC keys.
fn exchange(from: &mut Side, to: &mut Side, message: &str) -> Vec<u8> {
    let bytes = from.session.encrypt(0, &text(message)).unwrap();
    let out = to.session.decrypt(&bytes, &mut to.rng).unwrap();
    assert_eq!(decode_plaintext(&out.plaintext).unwrap().text, message.as_bytes());
    // Every revealed key opens the MAC of a message the revealer received earlier.
    for key in &out.revealed_mac_keys {
        let opens = from.received.iter().any(|earlier| {
            let parsed = DataMessage::parse(earlier).unwrap();
            hmac_sha1(key, &[&earlier[..parsed.authenticated_len()]]) == parsed.mac
        });
        assert!(opens, "a revealed MAC key must be one that verified a received message");
    }
    to.received.push(bytes.clone());
    bytes
}

fn counter(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(DataMessage::parse(bytes).unwrap().fields.counter)
}

#[test]
fn conversation_with_rotations_v3_and_v2() {
    for version in [OtrVersion::V3, OtrVersion::V2] {
        let (mut alice, mut bob) = pair(version, "conversation");
        assert_eq!(alice.session.keyids(), (2, 1));
        let mut revealed = 0;
        for turn in 0..12 {
            let (keyids_before, _) = (alice.session.keyids(), bob.session.keyids());
            let first = exchange(&mut alice, &mut bob, &format!("alice {turn}"));
            revealed += DataMessage::parse(&first).unwrap().old_mac_keys.len();
            let reply = exchange(&mut bob, &mut alice, &format!("bob {turn}"));
            revealed += DataMessage::parse(&reply).unwrap().old_mac_keys.len();
            // Each full turn moves both sides one key forward.
            if turn > 0 {
                assert_eq!(alice.session.keyids().0, keyids_before.0 + 1);
            }
            assert_eq!(counter(&first), 1, "a fresh key pair's counter starts at 1");
        }
        assert!(revealed >= 10, "old MAC keys are revealed as keys rotate ({revealed})");
        let (our, their) = alice.session.keyids();
        let (bob_our, bob_their) = bob.session.keyids();
        assert!(our >= 13 && their >= 12 && bob_our >= 13 && bob_their >= 12);
    }
}

#[test]
fn bursts_count_up_under_one_key_pair() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "burst");
    let mut counters = Vec::new();
    for i in 0..10 {
        counters.push(counter(&exchange(&mut alice, &mut bob, &format!("burst {i}"))));
    }
    assert_eq!(counters, (1..=10).collect::<Vec<_>>());
    // Bob's first message of the new pair starts again at 1; so does Alice's after it.
    assert_eq!(counter(&exchange(&mut bob, &mut alice, "reply")), 1);
    assert_eq!(counter(&exchange(&mut alice, &mut bob, "next")), 1);
    assert_eq!(counter(&exchange(&mut alice, &mut bob, "next 2")), 2);
}

#[test]
fn reveals_are_sent_once() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "reveals");
    exchange(&mut alice, &mut bob, "a1");
    exchange(&mut alice, &mut bob, "a2");
    exchange(&mut bob, &mut alice, "b1");
    exchange(&mut alice, &mut bob, "a3");
    assert!(bob.session.pending_reveal_count() > 0);
    let with_reveals = exchange(&mut bob, &mut alice, "b2");
    assert!(!DataMessage::parse(&with_reveals).unwrap().old_mac_keys.is_empty());
    assert_eq!(bob.session.pending_reveal_count(), 0);
    let next = exchange(&mut bob, &mut alice, "b3");
    assert!(DataMessage::parse(&next).unwrap().old_mac_keys.is_empty(), "cleared after sending");
}

/// The session's observable state, to show a refused message changed nothing.
fn snapshot(side: &Side) -> ((u32, u32), usize) {
    (side.session.keyids(), side.session.pending_reveal_count())
}

fn refused(side: &mut Side, bytes: &[u8]) -> DataError {
    let before = snapshot(side);
    let error = side.session.decrypt(bytes, &mut side.rng).unwrap_err();
    assert_eq!(snapshot(side), before, "refusing {error:?} changed the session");
    error
}

#[test]
fn replays_and_reordered_messages_are_unreadable_and_change_nothing() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "replay");
    let m1 = alice.session.encrypt(0, &text("one")).unwrap();
    let m2 = alice.session.encrypt(FLAG_IGNORE_UNREADABLE, &text("two")).unwrap();
    let m3 = alice.session.encrypt(0, &text("three")).unwrap();
    bob.session.decrypt(&m2, &mut bob.rng).unwrap();
    bob.received.push(m2.clone());
    assert_eq!(
        refused(&mut bob, &m1),
        DataError::Unreadable { reason: UnreadableReason::CounterNotIncreasing, flags: 0 }
    );
    assert_eq!(
        refused(&mut bob, &m2),
        DataError::Unreadable { reason: UnreadableReason::CounterNotIncreasing, flags: FLAG_IGNORE_UNREADABLE },
        "the flags of an unreadable message are reported"
    );
    bob.session.decrypt(&m3, &mut bob.rng).unwrap();
    bob.received.push(m3.clone());
    assert_eq!(
        refused(&mut bob, &m3),
        DataError::Unreadable { reason: UnreadableReason::CounterNotIncreasing, flags: 0 }
    );
    // Keys the receiver no longer holds.
    exchange(&mut bob, &mut alice, "b1");
    exchange(&mut alice, &mut bob, "a1");
    exchange(&mut bob, &mut alice, "b2");
    exchange(&mut alice, &mut bob, "a2");
    assert_eq!(refused(&mut bob, &m1), DataError::Unreadable { reason: UnreadableReason::UnknownKeys, flags: 0 });
    // The conversation goes on.
    exchange(&mut bob, &mut alice, "still fine");
    exchange(&mut alice, &mut bob, "still fine too");
}

#[test]
fn every_corruption_is_refused_and_changes_nothing() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "tamper");
    exchange(&mut alice, &mut bob, "warm up");
    exchange(&mut bob, &mut alice, "warm up reply");
    exchange(&mut alice, &mut bob, "warm up 2");
    exchange(&mut bob, &mut alice, "warm up reply 2");
    let genuine = alice.session.encrypt(0, &text("the genuine message")).unwrap();
    let parsed = DataMessage::parse(&genuine).unwrap();
    assert!(!parsed.old_mac_keys.is_empty(), "the message under test reveals keys");
    let authenticated = parsed.authenticated_len();
    let before = snapshot(&bob);
    // The revealed old MAC keys after the MAC are public and not authenticated: flips there
    // are not corruptions. Everything before them is.
    let covered = authenticated + 20 + 4;
    for position in 0..covered {
        for bit in [0x01u8, 0x80] {
            let mut bad = genuine.clone();
            bad[position] ^= bit;
            let error = bob.session.decrypt(&bad, &mut bob.rng).expect_err("a corrupted message was accepted");
            assert!(
                matches!(error, DataError::Malformed(_) | DataError::Unreadable { .. } | DataError::NotForThisSession),
                "{error:?}"
            );
            assert_eq!(snapshot(&bob), before, "refusing a flip at {position} changed the session");
        }
    }
    for len in 0..genuine.len() {
        refused(&mut bob, &genuine[..len]);
    }
    let out = bob.session.decrypt(&genuine, &mut bob.rng).unwrap();
    assert_eq!(decode_plaintext(&out.plaintext).unwrap().text, b"the genuine message");
    exchange(&mut bob, &mut alice, "and on");
}

#[test]
fn messages_for_another_session_are_not_read() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "routing");
    let message = alice.session.encrypt(0, &text("for bob")).unwrap();
    let mut other_receiver = message.clone();
    other_receiver[7..11].copy_from_slice(&0x2222_3333u32.to_be_bytes());
    assert_eq!(refused(&mut bob, &other_receiver), DataError::NotForThisSession);
    let mut other_sender = message.clone();
    other_sender[3..7].copy_from_slice(&0x1111_3333u32.to_be_bytes());
    assert_eq!(refused(&mut bob, &other_sender), DataError::NotForThisSession);
    let (_, mut v2_bob) = pair(OtrVersion::V2, "routing v2");
    assert_eq!(refused(&mut v2_bob, &message), DataError::NotForThisSession);
    bob.session.decrypt(&message, &mut bob.rng).unwrap();
}

#[test]
fn extra_key_agrees_and_finish_reveals_everything() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "extra");
    exchange(&mut alice, &mut bob, "a1");
    exchange(&mut bob, &mut alice, "b1");
    let key = alice.session.sending_extra_key();
    let tlv = OtrTlv::extra_symmetric_key(7, b"context");
    let plaintext = encode_plaintext(b"", std::slice::from_ref(&tlv)).unwrap();
    let message = alice.session.encrypt(FLAG_IGNORE_UNREADABLE, &plaintext).unwrap();
    let out = bob.session.decrypt(&message, &mut bob.rng).unwrap();
    assert_eq!(*out.extra_key, *key);
    let plain = decode_plaintext(&out.plaintext).unwrap();
    assert_eq!(plain.find(OtrTlvType::EXTRA_SYMMETRIC_KEY), Some(&tlv));
    bob.received.push(message);
    // A later pair has another extra key.
    exchange(&mut bob, &mut alice, "b2");
    assert_ne!(*alice.session.sending_extra_key(), *key);

    // The last message reveals every receiving MAC key Alice used.
    alice.received.clear();
    let b3 = bob.session.encrypt(0, &text("b3")).unwrap();
    let b4 = bob.session.encrypt(0, &text("b4")).unwrap();
    alice.session.decrypt(&b3, &mut alice.rng).unwrap();
    alice.session.decrypt(&b4, &mut alice.rng).unwrap();
    let disconnect = encode_plaintext(b"", &[OtrTlv::new(OtrTlvType::DISCONNECTED, &[])]).unwrap();
    let last = alice.session.finish(FLAG_IGNORE_UNREADABLE, &disconnect).unwrap();
    let out = bob.session.decrypt(&last, &mut bob.rng).unwrap();
    assert!(decode_plaintext(&out.plaintext).unwrap().find(OtrTlvType::DISCONNECTED).is_some());
    for earlier in [&b3, &b4] {
        let parsed = DataMessage::parse(earlier).unwrap();
        assert!(
            out.revealed_mac_keys.iter().any(|k| hmac_sha1(k, &[&earlier[..parsed.authenticated_len()]]) == parsed.mac),
            "the last message reveals the key of the last messages received"
        );
    }
}

#[test]
fn oversized_plaintext_is_refused() {
    let (mut alice, mut bob) = pair(OtrVersion::V3, "big");
    let huge = vec![b'a'; offrec::otr::message::MAX_CIPHERTEXT_LEN + 1];
    assert_eq!(alice.session.encrypt(0, &huge).unwrap_err(), DataError::TooLong);
    // The limit is inclusive, and the refusal used no counter: the largest goes and arrives.
    let largest = &huge[1..];
    let sealed = alice.session.encrypt(0, largest).unwrap();
    assert_eq!(bob.session.decrypt(&sealed, &mut bob.rng).unwrap().plaintext[..], *largest);
}
