//! The two symmetric chains of a ratchet state.

use crate::crypto::kdf::{next_chain_key, ChainStep};
use crate::crypto::{DhKeyPair, SecretKey};

/// Our sending chain: our current ratchet key pair and the chain key of the next message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SendingChain {
    pub key_pair: DhKeyPair,
    pub chain_key: SecretKey,
    pub next_number: u32,
}

/// The peer's current chain: their ratchet public key and the chain key of the next message
/// we expect from it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReceivingChain {
    pub their_key: [u8; 32],
    pub chain_key: SecretKey,
    pub next_number: u32,
}

/// Steps a chain from `chain_key` (at `from`) up to and including message `to`: the chain keys
/// of the skipped messages before `to` (their compact form), and the full step for `to`.
/// Nothing in the caller's state changes.
pub(crate) fn advance(chain_key: &SecretKey, from: u32, to: u32) -> (Vec<(u32, SecretKey)>, ChainStep) {
    let mut skipped = Vec::with_capacity(to.saturating_sub(from) as usize);
    let mut current = chain_key.clone();
    for number in from..to {
        let next = next_chain_key(&current);
        skipped.push((number, current));
        current = next;
    }
    (skipped, ChainStep::of(current))
}

impl PartialEq for DhKeyPair {
    fn eq(&self, other: &Self) -> bool {
        self.public() == other.public() && self.secret_bytes() == other.secret_bytes()
    }
}
