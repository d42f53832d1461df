//! The skip caps at their exact boundaries, with genuine messages (valid tags), so that an
//! off-by-one in a cap fails here instead of hiding behind a broken tag: N on a new ratchet key,
//! N on the current chain, and PN (the rest of an old chain) on a DH step.

use offrec::crypto::{DeterministicRandom, DhKeyPair, SecretKey};
use offrec::ratchet::{Ratchet, RatchetError, MAX_SKIP};
use offrec::wire::data_message::DataMessage;

fn pair(label: &str) -> (Ratchet, Ratchet, DeterministicRandom) {
    let mut rng = DeterministicRandom::from_label(label);
    let root = [7u8; 32];
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
    (alice, bob, rng)
}

fn send(from: &mut Ratchet, text: &str) -> DataMessage {
    DataMessage::parse(&from.encrypt(0x100, 0x200, 0, text.as_bytes()).unwrap().bytes).unwrap()
}

fn recv(to: &mut Ratchet, message: &DataMessage, rng: &mut DeterministicRandom) -> Result<String, RatchetError> {
    to.decrypt(message, 1000, rng).map(|d| String::from_utf8(d.body.to_vec()).unwrap())
}

/// Bob's messages on a chain Alice has not seen yet (his ratchet key is new to her): `count`
/// messages, after one round trip so that Bob's chain really is a fresh DH step.
fn new_chain(count: u32, label: &str) -> (Ratchet, Vec<DataMessage>, DeterministicRandom) {
    let (mut alice, mut bob, mut rng) = pair(label);
    let hello = send(&mut bob, "hello");
    recv(&mut alice, &hello, &mut rng).unwrap();
    let reply = send(&mut alice, "reply");
    recv(&mut bob, &reply, &mut rng).unwrap();
    let msgs: Vec<_> = (0..count).map(|i| send(&mut bob, &format!("n{i}"))).collect();
    assert_ne!(msgs[0].header.ratchet_key, hello.header.ratchet_key, "Bob stepped to a new key");
    (alice, msgs, rng)
}

#[test]
fn new_ratchet_key_accepts_exactly_max_skip_skipped() {
    let (mut alice, msgs, mut rng) = new_chain(MAX_SKIP + 1, "boundary new key ok");
    let last = &msgs[MAX_SKIP as usize];
    assert_eq!(last.header.message_number, MAX_SKIP);
    assert_eq!(recv(&mut alice, last, &mut rng).unwrap(), format!("n{MAX_SKIP}"));
    assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
    // The skipped ones are all still readable.
    assert_eq!(recv(&mut alice, &msgs[0], &mut rng).unwrap(), "n0");
}

#[test]
fn new_ratchet_key_refuses_max_skip_plus_one_skipped_and_changes_nothing() {
    let (mut alice, msgs, mut rng) = new_chain(MAX_SKIP + 2, "boundary new key refused");
    let over = &msgs[(MAX_SKIP + 1) as usize];
    let before = alice.clone();
    assert_eq!(recv(&mut alice, over, &mut rng), Err(RatchetError::TooManySkipped));
    assert_eq!(alice, before);
    // The chain is still usable from its start.
    assert_eq!(recv(&mut alice, &msgs[0], &mut rng).unwrap(), "n0");
}

/// Alice read the first message of Bob's chain; Bob then sent `rest` more on it that she never
/// got, then a message on a new chain after her reply: its PN says how many to skip.
fn old_chain_gap(rest: u32, label: &str) -> (Ratchet, DataMessage, DeterministicRandom) {
    let (mut alice, mut bob, mut rng) = pair(label);
    let first = send(&mut bob, "first");
    recv(&mut alice, &first, &mut rng).unwrap();
    for i in 0..rest {
        send(&mut bob, &format!("lost {i}"));
    }
    let reply = send(&mut alice, "reply");
    recv(&mut bob, &reply, &mut rng).unwrap();
    let next = send(&mut bob, "next chain");
    assert_eq!(next.header.previous_chain_length, rest + 1);
    assert_eq!(next.header.message_number, 0);
    (alice, next, rng)
}

#[test]
fn previous_chain_gap_of_exactly_max_skip_is_accepted() {
    let (mut alice, next, mut rng) = old_chain_gap(MAX_SKIP, "pn boundary ok");
    assert_eq!(recv(&mut alice, &next, &mut rng).unwrap(), "next chain");
    assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
}

#[test]
fn previous_chain_gap_of_max_skip_plus_one_is_refused_and_changes_nothing() {
    let (mut alice, next, mut rng) = old_chain_gap(MAX_SKIP + 1, "pn boundary refused");
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &next, &mut rng), Err(RatchetError::TooManySkipped));
    assert_eq!(alice, before);
}

#[test]
fn same_chain_gap_boundaries_with_genuine_messages() {
    let (mut alice, mut bob, mut rng) = pair("same chain boundary");
    let first = send(&mut bob, "first");
    recv(&mut alice, &first, &mut rng).unwrap();
    let msgs: Vec<_> = (0..MAX_SKIP + 2).map(|i| send(&mut bob, &format!("s{i}"))).collect();
    // next_number is 1: message 1 + MAX_SKIP + 1 skips MAX_SKIP + 1.
    let before = alice.clone();
    assert_eq!(recv(&mut alice, &msgs[(MAX_SKIP + 1) as usize], &mut rng), Err(RatchetError::TooManySkipped));
    assert_eq!(alice, before);
    assert_eq!(recv(&mut alice, &msgs[MAX_SKIP as usize], &mut rng).unwrap(), format!("s{MAX_SKIP}"));
}

#[test]
fn a_small_gap_in_the_previous_chain_stores_exactly_the_missing_keys() {
    // Alice read message 0 of Bob's chain; messages 1, 2 and 3 are still on their way when
    // Bob's next chain starts (PN = 4): exactly three keys are stored, each the right one.
    let (mut alice, mut bob, mut rng) = pair("small pn gap");
    let first = send(&mut bob, "first");
    recv(&mut alice, &first, &mut rng).unwrap();
    let late: Vec<_> = (1..4).map(|i| send(&mut bob, &format!("late {i}"))).collect();
    let reply = send(&mut alice, "reply");
    recv(&mut bob, &reply, &mut rng).unwrap();
    let next = send(&mut bob, "next chain");
    assert_eq!(next.header.previous_chain_length, 4);
    recv(&mut alice, &next, &mut rng).unwrap();
    assert_eq!(alice.skipped_key_count(), 3);
    for (i, message) in late.iter().enumerate().rev() {
        assert_eq!(recv(&mut alice, message, &mut rng).unwrap(), format!("late {}", i + 1));
    }
    assert_eq!(alice.skipped_key_count(), 0);
}

#[test]
fn a_skipped_key_lives_exactly_its_age_limit() {
    use offrec::ratchet::MAX_SKIPPED_KEY_AGE_SECS;
    assert_eq!(MAX_SKIPPED_KEY_AGE_SECS, 24 * 3600);
    let (mut alice, mut bob, mut rng) = pair("age boundary");
    let late = send(&mut bob, "late");
    let read = send(&mut bob, "read");
    recv(&mut alice, &read, &mut rng).unwrap(); // stored at now = 1000
    alice.expire_skipped(1000 + MAX_SKIPPED_KEY_AGE_SECS);
    assert_eq!(alice.skipped_key_count(), 1, "kept at exactly the limit");
    alice.expire_skipped(1000 + MAX_SKIPPED_KEY_AGE_SECS + 1);
    assert_eq!(alice.skipped_key_count(), 0, "dropped one second later");
    assert!(recv(&mut alice, &late, &mut rng).is_err());
}
