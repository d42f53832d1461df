//! Shared by `tests/vectors.rs`, `tests/ratchet_props.rs` and `tests/ake.rs`: the fixed
//! parameters of the frozen vectors and the handshake as an application runs it (Bob initiates
//! after seeing Alice's query, Alice responds), and random sources that record or replay draws.
#![allow(dead_code)] // each test crate uses a different part of this module

use offrec::ake::{AkeConfig, AkeMessage, Established, Initiator, Responder};
use offrec::crypto::{IdentityKey, RandomError, RandomSource};

/// Alice's instance tag (the responder).
pub const ALICE_TAG: u32 = 0x1111_1111;
/// Bob's instance tag (the initiator).
pub const BOB_TAG: u32 = 0x2222_2222;
/// The shared session state both sides bind into the handshake.
pub const PHI: &[u8] = b"alice@example.org\0bob@example.org\0xmpp";
/// The version bitmask Alice advertised and Bob saw (AKE encoding: bit 1 = version 1).
pub const OFFER: u8 = offrec::wire::Versions::SUPPORTED.bits();

/// The three handshake messages of one run.
pub struct Transcript {
    pub start: AkeMessage,
    pub reply: AkeMessage,
    pub finish: AkeMessage,
}

/// Runs the whole handshake. Each side draws only from its own random source, in this order:
/// Bob: Start ephemeral (32), first ratchet key (32, sent in Finish); Alice: Reply ephemeral
/// (32), the ratchet key of her first sending chain (32).
pub fn handshake(
    alice: &IdentityKey,
    bob: &IdentityKey,
    alice_rng: &mut dyn RandomSource,
    bob_rng: &mut dyn RandomSource,
) -> (Transcript, Established, Established) {
    let (bob_init, start) =
        Initiator::start(AkeConfig { identity: bob, our_tag: BOB_TAG, phi: PHI }, 0, OFFER, bob_rng).unwrap();
    let (alice_resp, reply) =
        Responder::respond(AkeConfig { identity: alice, our_tag: ALICE_TAG, phi: PHI }, &start, OFFER, alice_rng)
            .unwrap();
    let (finish, bob_session) = bob_init.finish(&reply, bob_rng).unwrap();
    let alice_session = alice_resp.finish(&finish, alice_rng).unwrap();
    (Transcript { start, reply, finish }, alice_session, bob_session)
}

/// One call on a random source, as recorded by [`Recorder`].
pub struct Draw {
    /// What the engine was doing (set by the test before the call).
    pub purpose: String,
    /// The bytes handed out.
    pub bytes: Vec<u8>,
}

/// Wraps a random source and records every draw, so vectors can list the exact random bytes
/// each step consumed (another implementation can then replay them without reimplementing
/// the deterministic generator).
pub struct Recorder<R> {
    pub inner: R,
    pub purpose: String,
    pub draws: Vec<Draw>,
}

impl<R: RandomSource> Recorder<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, purpose: String::new(), draws: Vec::new() }
    }

    /// Labels the draws that follow.
    pub fn during(&mut self, purpose: &str) -> &mut Self {
        self.purpose = purpose.to_owned();
        self
    }
}

impl<R: RandomSource> RandomSource for Recorder<R> {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        self.inner.fill(out)?;
        self.draws.push(Draw { purpose: self.purpose.clone(), bytes: out.to_vec() });
        Ok(())
    }
}

/// Hands out exactly the given bytes, in order, then fails: replays recorded draws.
pub struct Replay(pub Vec<u8>);

impl RandomSource for Replay {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        if out.len() > self.0.len() {
            return Err(RandomError);
        }
        let rest = self.0.split_off(out.len());
        out.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
