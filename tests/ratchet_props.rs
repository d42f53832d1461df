//! Property tests for the Double Ratchet behind a hostile network. A Bob/Alice pair is set up
//! through the real handshake, then both sides send in a random interleaving while the network
//! delivers in any order, drops, duplicates and tampers (one bit flipped at a random position).
//!
//! Asserted for every case:
//! - an untampered message delivered for the first time decrypts, with the right text — unless
//!   the model below says its skipped key has expired, in which case it is rejected and the
//!   receiver's state is unchanged;
//! - a duplicate is rejected (Err) and leaves the receiver's state equal to before;
//! - a tampered message is rejected (at parsing or decryption) and leaves the state equal;
//! - afterwards both sides can still talk in both directions (never desynchronised).
//!
//! The expiry model (its own DH-step count, never the counter under test): a skipped key of the
//! peer's chain K is stored with the receiver's DH-step
//! count at the moment it first stepped onto K (0 for the initiator's first chain, which the
//! responder starts on) and is dropped once the receiver has taken more than
//! `MAX_SKIPPED_KEY_DH_STEPS` steps since. Time-based expiry never triggers (`now` is
//! constant); with at most `MAX_MESSAGES` messages no chain can skip `MAX_SKIP` keys and the
//! store never reaches its cap, so those limits cannot make a correct message fail.
//!
//! The network also runs bursts of quick turns while other messages stay in flight, so
//! delayed messages age by several DH steps and the expiry boundary is actually reached (the
//! model fails within 64 cases if its bound is moved by one step either way).

mod common;

use std::collections::HashMap;

use common::{handshake, ALICE_TAG, BOB_TAG};
use offrec::crypto::{DeterministicRandom, IdentityKey};
use offrec::ratchet::{Ratchet, MAX_SKIP, MAX_SKIPPED_KEY_DH_STEPS, MAX_STORED_SKIPPED_KEYS};
use offrec::wire::data_message::DataMessage;
use proptest::prelude::*;

/// Messages sent per case (sends past this are ignored).
const MAX_MESSAGES: usize = 60;
/// Network events per case.
const MAX_OPS: usize = 160;
const NOW: u64 = 1000;

const _: () = assert!(MAX_MESSAGES < MAX_SKIP as usize && MAX_MESSAGES < MAX_STORED_SKIPPED_KEYS);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Alice,
    Bob,
}

#[derive(Clone, Debug)]
enum Op {
    /// This side encrypts a new message; it goes in flight.
    Send(Side),
    /// The network delivers one in-flight message (chosen by index modulo their number).
    Deliver(usize),
    /// The network delivers the most recent in-flight message (so older ones linger, possibly
    /// across several DH steps).
    DeliverLatest,
    /// A few quick turns (each side sends one message, delivered at once): each turn is a DH
    /// step on both sides, so messages still in flight age in DH steps.
    Turns(u8),
    /// The network loses one in-flight message.
    Drop(usize),
    /// The network delivers again a message that was already delivered.
    Duplicate(usize),
    /// The network delivers a copy of any sent message with one bit flipped.
    Tamper(usize, usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => prop_oneof![Just(Side::Alice), Just(Side::Bob)].prop_map(Op::Send),
        3 => any::<usize>().prop_map(Op::Deliver),
        3 => Just(Op::DeliverLatest),
        1 => (1u8..=4).prop_map(Op::Turns),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => any::<usize>().prop_map(Op::Duplicate),
        1 => (any::<usize>(), any::<usize>(), 0u8..8).prop_map(|(i, p, b)| Op::Tamper(i, p, b)),
    ]
}

struct Sent {
    from: Side,
    text: String,
    bytes: Vec<u8>,
    ratchet_key: [u8; 32],
}

struct World {
    alice: Ratchet,
    bob: Ratchet,
    rng: DeterministicRandom,
    sent: Vec<Sent>,
    in_flight: Vec<usize>,
    delivered: Vec<usize>,
    /// Per receiver: the DH-step count at which it stepped onto each of the peer's chains.
    chain_start: [HashMap<[u8; 32], u64>; 2],
    /// Per receiver: DH steps counted by the model itself (one per first message on a peer
    /// chain it had not seen), never read from the code under test.
    model_steps: [u64; 2],
}

fn index(side: Side) -> usize {
    match side {
        Side::Alice => 0,
        Side::Bob => 1,
    }
}

impl World {
    fn new(seed: [u8; 32]) -> Self {
        let alice_id = IdentityKey::from_secret_bytes([0xA1; 32]);
        let bob_id = IdentityKey::from_secret_bytes([0xB0; 32]);
        let mut alice_rng = DeterministicRandom::new(seed);
        let mut bob_seed = seed;
        bob_seed[0] ^= 0xFF;
        let mut bob_rng = DeterministicRandom::new(bob_seed);
        let (_, alice, bob) = handshake(&alice_id, &bob_id, &mut alice_rng, &mut bob_rng);
        let mut chain_start: [HashMap<[u8; 32], u64>; 2] = Default::default();
        // Alice (the responder) starts on Bob's first chain without a DH step of her own.
        chain_start[index(Side::Alice)].insert(*bob.ratchet.our_ratchet_key(), 0);
        World {
            alice: alice.ratchet,
            bob: bob.ratchet,
            rng: alice_rng,
            sent: Vec::new(),
            in_flight: Vec::new(),
            delivered: Vec::new(),
            chain_start,
            model_steps: [0, 0],
        }
    }

    fn ratchet(&mut self, side: Side) -> &mut Ratchet {
        match side {
            Side::Alice => &mut self.alice,
            Side::Bob => &mut self.bob,
        }
    }

    fn send(&mut self, from: Side, text: String) -> usize {
        let (ours, theirs) = if from == Side::Alice { (ALICE_TAG, BOB_TAG) } else { (BOB_TAG, ALICE_TAG) };
        let bytes = self.ratchet(from).encrypt(ours, theirs, 0, text.as_bytes()).unwrap().bytes;
        let ratchet_key = DataMessage::parse(&bytes).unwrap().header.ratchet_key;
        self.sent.push(Sent { from, text, bytes, ratchet_key });
        self.sent.len() - 1
    }

    fn receiver(&self, id: usize) -> Side {
        match self.sent[id].from {
            Side::Alice => Side::Bob,
            Side::Bob => Side::Alice,
        }
    }

    /// Tries to decrypt `bytes` at `to`; returns the text, or None if rejected. Checks that a
    /// rejection left the state exactly as it was.
    fn receive(&mut self, to: Side, bytes: &[u8]) -> Result<Option<String>, TestCaseError> {
        let Ok(message) = DataMessage::parse(bytes) else {
            return Ok(None);
        };
        let ratchet = match to {
            Side::Alice => &mut self.alice,
            Side::Bob => &mut self.bob,
        };
        let before = ratchet.clone();
        match ratchet.decrypt(&message, NOW, &mut self.rng) {
            Ok(decrypted) => Ok(Some(String::from_utf8(decrypted.body.to_vec()).unwrap())),
            Err(_) => {
                prop_assert!(*ratchet == before, "a rejected message changed the receiver's state");
                Ok(None)
            }
        }
    }

    /// First delivery of an untampered message.
    fn deliver(&mut self, id: usize) -> Result<(), TestCaseError> {
        let to = self.receiver(id);
        let key = self.sent[id].ratchet_key;
        let steps = self.model_steps[index(to)];
        let expired =
            self.chain_start[index(to)].get(&key).is_some_and(|&start| steps - start > MAX_SKIPPED_KEY_DH_STEPS);
        let bytes = self.sent[id].bytes.clone();
        let got = self.receive(to, &bytes)?;
        if expired {
            prop_assert_eq!(got, None, "message {} decrypted although its key should have expired", id);
        } else {
            prop_assert_eq!(got.as_deref(), Some(self.sent[id].text.as_str()), "message {} not decrypted", id);
            // A peer chain seen for the first time is a DH step (chains arrive in order: the
            // peer cannot start a chain before we read one of its previous chain's messages).
            if !self.chain_start[index(to)].contains_key(&key) {
                self.model_steps[index(to)] += 1;
                self.chain_start[index(to)].insert(key, self.model_steps[index(to)]);
            }
            let model = self.model_steps[index(to)];
            prop_assert_eq!(
                self.ratchet(to).receiving_dh_steps(),
                model,
                "the ratchet's DH-step count disagrees with the model"
            );
        }
        self.delivered.push(id);
        Ok(())
    }

    fn run(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        for op in ops {
            match *op {
                Op::Send(from) if self.sent.len() < MAX_MESSAGES => {
                    let text = format!("message {} from {from:?}", self.sent.len());
                    let id = self.send(from, text);
                    self.in_flight.push(id);
                }
                Op::Send(_) => {}
                Op::Deliver(i) if !self.in_flight.is_empty() => {
                    let id = self.in_flight.remove(i % self.in_flight.len());
                    self.deliver(id)?;
                }
                Op::DeliverLatest => {
                    if let Some(id) = self.in_flight.pop() {
                        self.deliver(id)?;
                    }
                }
                Op::Turns(turns) => {
                    for turn in 0..turns {
                        for from in [Side::Bob, Side::Alice] {
                            if self.sent.len() < MAX_MESSAGES {
                                let id = self.send(from, format!("turn {turn} from {from:?}"));
                                self.deliver(id)?;
                            }
                        }
                    }
                }
                Op::Drop(i) if !self.in_flight.is_empty() => {
                    self.in_flight.remove(i % self.in_flight.len());
                }
                Op::Duplicate(i) if !self.delivered.is_empty() => {
                    let id = self.delivered[i % self.delivered.len()];
                    let (to, bytes) = (self.receiver(id), self.sent[id].bytes.clone());
                    prop_assert_eq!(self.receive(to, &bytes)?, None, "duplicate of message {} accepted", id);
                }
                Op::Tamper(i, position, bit) if !self.sent.is_empty() => {
                    let id = i % self.sent.len();
                    let (to, mut bytes) = (self.receiver(id), self.sent[id].bytes.clone());
                    let position = position % bytes.len();
                    bytes[position] ^= 1 << bit;
                    prop_assert_eq!(
                        self.receive(to, &bytes)?,
                        None,
                        "message {} with bit {} of byte {} flipped accepted",
                        id,
                        bit,
                        position
                    );
                }
                Op::Deliver(_) | Op::Drop(_) | Op::Duplicate(_) | Op::Tamper(..) => {}
            }
        }
        Ok(())
    }

    /// After the random phase: turns in both directions, then both at once, all delivered.
    fn still_talking(&mut self) -> Result<(), TestCaseError> {
        for round in 0..2 {
            for from in [Side::Bob, Side::Alice] {
                let id = self.send(from, format!("final {round} from {from:?}"));
                self.deliver(id)?;
            }
        }
        let a = self.send(Side::Alice, "crossing from Alice".into());
        let b = self.send(Side::Bob, "crossing from Bob".into());
        self.deliver(b)?;
        self.deliver(a)?;
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ratchet_survives_a_hostile_network(
        seed in any::<[u8; 32]>(),
        ops in proptest::collection::vec(op(), 0..MAX_OPS),
    ) {
        let mut world = World::new(seed);
        world.run(&ops)?;
        world.still_talking()?;
    }
}
