//! Double Ratchet behaviour: per-message keys, DH steps, loss/reorder tolerance within caps,
//! and state that never changes on a bad message.

use offrec::crypto::aead::RevealedMaterial;
use offrec::crypto::{DeterministicRandom, DhKeyPair, SecretKey};
use offrec::ratchet::{Ratchet, RatchetError, MAX_SKIP, MAX_STORED_SKIPPED_KEYS};
use offrec::wire::data_message::DataMessage;

struct Pair {
    alice: Ratchet,
    bob: Ratchet,
    rng: DeterministicRandom,
}

fn pair() -> Pair {
    let mut rng = DeterministicRandom::from_label("ratchet tests");
    let root = [42u8; 32];
    let bob_ratchet = DhKeyPair::generate(&mut rng).unwrap();
    let bob =
        Ratchet::new_initiator(SecretKey::from_bytes(root), SecretKey::from_bytes([0xC4; 32]), bob_ratchet.clone());
    let alice = Ratchet::new_responder(
        SecretKey::from_bytes(root),
        SecretKey::from_bytes([0xC4; 32]),
        bob_ratchet.public(),
        &mut rng,
    )
    .unwrap();
    Pair { alice, bob, rng }
}

fn send(from: &mut Ratchet, text: &str) -> DataMessage {
    DataMessage::parse(&from.encrypt(0x100, 0x200, 0, text.as_bytes()).unwrap().bytes).unwrap()
}

fn recv(to: &mut Ratchet, message: &DataMessage, rng: &mut DeterministicRandom) -> Result<String, RatchetError> {
    to.decrypt(message, 1000, rng).map(|d| String::from_utf8(d.body.to_vec()).unwrap())
}

#[test]
fn both_sides_can_send_first_and_every_message_has_its_own_key() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let m1 = send(&mut bob, "hello");
    let m2 = send(&mut alice, "hi");
    assert_eq!(recv(&mut alice, &m1, &mut rng).unwrap(), "hello");
    assert_eq!(recv(&mut bob, &m2, &mut rng).unwrap(), "hi");
    // Same text twice gives different ciphertexts (fresh key per message).
    let a = send(&mut bob, "same");
    let b = send(&mut bob, "same");
    assert_ne!(a.ciphertext, b.ciphertext);
    assert_eq!(a.header.ratchet_key, b.header.ratchet_key);
    assert_eq!(b.header.message_number, a.header.message_number + 1);
}

#[test]
fn each_turn_takes_a_dh_step() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let mut keys = Vec::new();
    for turn in 0..6 {
        let (from, to) = if turn % 2 == 0 { (&mut bob, &mut alice) } else { (&mut alice, &mut bob) };
        let m = send(from, "turn");
        keys.push(m.header.ratchet_key);
        assert_eq!(recv(to, &m, &mut rng).unwrap(), "turn");
    }
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "every turn uses a new ratchet key");
    assert!(alice.receiving_dh_steps() >= 2 && bob.receiving_dh_steps() >= 2);
}

#[test]
fn out_of_order_and_lost_messages_within_cap() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let msgs: Vec<_> = (0..10).map(|i| send(&mut bob, &format!("m{i}"))).collect();
    for i in [3usize, 0, 9, 1, 5] {
        assert_eq!(recv(&mut alice, &msgs[i], &mut rng).unwrap(), format!("m{i}"));
    }
    // Alice replies (DH step), Bob replies; the old chain's stragglers still arrive.
    let reply = send(&mut alice, "reply");
    assert_eq!(recv(&mut bob, &reply, &mut rng).unwrap(), "reply");
    let next = send(&mut bob, "next");
    assert_eq!(recv(&mut alice, &next, &mut rng).unwrap(), "next");
    for i in [8usize, 2, 4] {
        assert_eq!(recv(&mut alice, &msgs[i], &mut rng).unwrap(), format!("m{i}"));
    }
}

#[test]
fn replay_is_rejected_and_changes_nothing() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let m0 = send(&mut bob, "once");
    let m1 = send(&mut bob, "twice");
    assert!(recv(&mut alice, &m1, &mut rng).is_ok());
    assert!(recv(&mut alice, &m0, &mut rng).is_ok()); // from the skipped store
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &m1, &mut rng), Err(RatchetError::Duplicate));
    assert!(recv(&mut alice, &m0, &mut rng).is_err());
    assert_eq!(alice, before);
}

#[test]
fn tampered_messages_fail_and_leave_state_byte_identical() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let genuine = send(&mut bob, "genuine text");
    let bytes = genuine.to_bytes();
    let before = alice.clone();
    for position in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x04;
        if let Ok(parsed) = DataMessage::parse(&tampered) {
            assert!(recv(&mut alice, &parsed, &mut rng).is_err(), "flip at {position} accepted");
        }
        assert_eq!(alice, before, "flip at {position} changed state");
    }
    assert_eq!(recv(&mut alice, &genuine, &mut rng).unwrap(), "genuine text");
}

#[test]
fn forged_header_with_new_ratchet_key_does_not_step_the_ratchet() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let genuine = send(&mut bob, "x");
    let mut forged = genuine.clone();
    forged.header.ratchet_key = *DhKeyPair::generate(&mut rng).unwrap().public();
    forged.header.message_number = 7;
    forged.header_bytes = forged.header.encode();
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &forged, &mut rng), Err(RatchetError::AuthenticationFailed));
    assert_eq!(alice, before);
}

#[test]
fn low_order_ratchet_key_rejected() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let mut forged = send(&mut bob, "x");
    forged.header.ratchet_key = [0u8; 32];
    forged.header_bytes = forged.header.encode();
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &forged, &mut rng), Err(RatchetError::NonContributory));
    assert_eq!(alice, before);
}

#[test]
fn skipping_more_than_max_skip_is_rejected_exactly_at_the_cap() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let msgs: Vec<_> = (0..=MAX_SKIP + 1).map(|i| send(&mut bob, &format!("{i}"))).collect();
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &msgs[(MAX_SKIP + 1) as usize], &mut rng), Err(RatchetError::TooManySkipped));
    assert_eq!(alice, before);
    // Exactly MAX_SKIP skipped is fine.
    assert_eq!(recv(&mut alice, &msgs[MAX_SKIP as usize], &mut rng).unwrap(), MAX_SKIP.to_string());
    assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
}

#[test]
fn skipped_key_store_is_capped_and_evicts_oldest() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let first: Vec<_> = (0..=MAX_SKIP).map(|i| send(&mut bob, &format!("a{i}"))).collect();
    recv(&mut alice, &first[MAX_SKIP as usize], &mut rng).unwrap(); // stores 1000
                                                                    // A DH step, then another 500 skipped on the new chain.
    let reply = send(&mut alice, "r");
    recv(&mut bob, &reply, &mut rng).unwrap();
    let second: Vec<_> = (0..=500).map(|i| send(&mut bob, &format!("b{i}"))).collect();
    recv(&mut alice, &second[500], &mut rng).unwrap();
    assert_eq!(alice.skipped_key_count(), MAX_STORED_SKIPPED_KEYS);
    // The oldest were evicted, the newest kept.
    assert!(recv(&mut alice, &first[0], &mut rng).is_err());
    assert_eq!(recv(&mut alice, &first[999], &mut rng).unwrap(), "a999");
    assert_eq!(recv(&mut alice, &second[0], &mut rng).unwrap(), "b0");
}

#[test]
fn skipped_keys_expire_by_age() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let m0 = send(&mut bob, "late");
    let m1 = send(&mut bob, "now");
    recv(&mut alice, &m1, &mut rng).unwrap();
    assert_eq!(alice.skipped_key_count(), 1);
    alice.expire_skipped(1000 + 24 * 3600 + 1);
    assert_eq!(alice.skipped_key_count(), 0);
    assert!(recv(&mut alice, &m0, &mut rng).is_err());
}

#[test]
fn receiver_reveals_material_of_used_keys_in_its_next_message() {
    let Pair { mut alice, mut bob, mut rng } = pair();
    let m = send(&mut bob, "secret words");
    recv(&mut alice, &m, &mut rng).unwrap();
    assert_eq!(alice.pending_reveal_count(), 1);
    let reply = send(&mut alice, "ok");
    assert_eq!(reply.header.revealed.len(), 1);
    assert_eq!(alice.pending_reveal_count(), 0);
    // The revealed material verifies Bob's original message: anyone can now forge under it.
    let material = RevealedMaterial::from_bytes(&reply.header.revealed[0]);
    assert!(material.verifies(&m.header_bytes, &m.ciphertext, &m.tag));
    // A sender never reveals its own keys.
    let second = send(&mut bob, "again");
    assert!(second.header.revealed.is_empty());
}

#[test]
fn the_reveal_queue_keeps_only_the_newest_up_to_its_cap() {
    use offrec::ratchet::MAX_PENDING_REVEALS;
    let Pair { mut alice, mut bob, mut rng } = pair();
    // Bob reads far more than the cap without ever writing.
    let messages: Vec<DataMessage> = (0..MAX_PENDING_REVEALS + 100).map(|i| send(&mut bob, &format!("m{i}"))).collect();
    for m in &messages {
        recv(&mut alice, m, &mut rng).unwrap();
    }
    assert_eq!(alice.pending_reveal_count(), MAX_PENDING_REVEALS);
    // What is kept is the newest: her next message reveals the oldest kept one first.
    let reply = send(&mut alice, "reply");
    let first_kept = &messages[100];
    let dropped = &messages[99];
    let verifies = |m: &DataMessage| {
        reply
            .header
            .revealed
            .iter()
            .map(RevealedMaterial::from_bytes)
            .any(|r| r.verifies(&m.header_bytes, &m.ciphertext, &m.tag))
    };
    assert!(verifies(first_kept));
    assert!(!verifies(dropped));
}

#[test]
fn a_replacing_state_inherits_every_reveal_up_to_its_own_cap() {
    use offrec::ratchet::{MAX_INHERITED_REVEALS, MAX_PENDING_REVEALS};
    let Pair { mut alice, mut bob, mut rng } = pair();
    for i in 0..MAX_PENDING_REVEALS {
        let m = send(&mut bob, &format!("m{i}"));
        recv(&mut alice, &m, &mut rng).unwrap();
    }
    // Then MAX_STORED_SKIPPED_KEYS are skipped.
    let skipped: Vec<DataMessage> = (0..=MAX_STORED_SKIPPED_KEYS).map(|i| send(&mut bob, &format!("s{i}"))).collect();
    recv(&mut alice, skipped.last().unwrap(), &mut rng).unwrap();
    assert_eq!(alice.skipped_key_count(), MAX_STORED_SKIPPED_KEYS);
    let Pair { alice: mut fresh, .. } = pair();
    fresh.inherit_reveals(&mut alice);
    assert_eq!(fresh.pending_reveal_count(), MAX_INHERITED_REVEALS);
    assert_eq!((alice.pending_reveal_count(), alice.skipped_key_count()), (0, 0));
    // A second refresh without writing cannot grow it further.
    let Pair { alice: mut newer, .. } = pair();
    newer.inherit_reveals(&mut fresh);
    assert_eq!(newer.pending_reveal_count(), MAX_INHERITED_REVEALS);
    // Reading more keeps the size (the oldest inherited go first), never grows it.
    let Pair { alice: mut reader, bob: mut sender, mut rng } = pair();
    reader.inherit_reveals(&mut newer);
    let m = send(&mut sender, "one more");
    recv(&mut reader, &m, &mut rng).unwrap();
    assert_eq!(reader.pending_reveal_count(), MAX_INHERITED_REVEALS);
}

/// The handshake's two Split outputs seed the ratchet (PROTOCOL.md §5.2): the first is the root,
/// the second the initiator's first chain. A responder with either one wrong cannot read what
/// depends on it, and a wrong guess changes nothing.
#[test]
fn a_responder_with_a_wrong_root_or_first_chain_cannot_read() {
    let mut rng = DeterministicRandom::from_label("wrong root");
    let (root, chain) = ([1u8; 32], [2u8; 32]);
    let key = || SecretKey::from_bytes;
    let bob_ratchet = DhKeyPair::generate(&mut rng).unwrap();
    let mut bob = Ratchet::new_initiator(key()(root), key()(chain), bob_ratchet.clone());
    let first = send(&mut bob, "first");

    // The wrong first chain: Bob's first message does not open, and the state is unchanged.
    let mut wrong_chain = Ratchet::new_responder(key()(root), key()([3; 32]), bob_ratchet.public(), &mut rng).unwrap();
    let before = wrong_chain.clone();
    assert_eq!(recv(&mut wrong_chain, &first, &mut rng), Err(RatchetError::AuthenticationFailed));
    assert_eq!(wrong_chain, before);

    // The wrong root: Bob's first chain opens (it comes from Split alone), but the responder's
    // own first chain is derived from the root, so Bob cannot read its answer.
    let mut wrong_root = Ratchet::new_responder(key()([4; 32]), key()(chain), bob_ratchet.public(), &mut rng).unwrap();
    assert_eq!(recv(&mut wrong_root, &first, &mut rng).unwrap(), "first");
    let answer = send(&mut wrong_root, "answer");
    let before = bob.clone();
    assert_eq!(recv(&mut bob, &answer, &mut rng), Err(RatchetError::AuthenticationFailed));
    assert_eq!(bob, before);

    // With both right, the answer opens.
    let mut alice = Ratchet::new_responder(key()(root), key()(chain), bob_ratchet.public(), &mut rng).unwrap();
    assert_eq!(recv(&mut alice, &first, &mut rng).unwrap(), "first");
    let answer = send(&mut alice, "answer");
    assert_eq!(recv(&mut bob, &answer, &mut rng).unwrap(), "answer");
}
