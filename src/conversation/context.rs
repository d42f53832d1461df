//! What a peer's logic borrows from its client for one call: identity, settings, trust store,
//! randomness, the clock, and the list of actions being produced.

use super::events::{Action, Event, SessionState};
use super::settings::Settings;
use crate::crypto::{IdentityKey, RandomSource};
use crate::trust::TrustStore;

pub(crate) struct Ctx<'a> {
    pub account: &'a str,
    pub protocol: &'a str,
    pub identity: &'a IdentityKey,
    pub our_fingerprint: [u8; 32],
    pub our_tag: u32,
    pub settings: &'a Settings,
    pub trust: &'a mut TrustStore,
    pub rng: &'a mut dyn RandomSource,
    pub now: u64,
    pub out: Vec<Action>,
    /// `PERSIST_*` bits for what stored state this call changed.
    pub dirty: u32,
}

impl Ctx<'_> {
    pub fn event(&mut self, peer: &str, instance: u32, event: Event) {
        self.out.push(Action::Event { peer: peer.to_owned(), instance, event });
    }

    /// Notes that stored state changed (`PERSIST_*` bits).
    pub fn changed(&mut self, what: u32) {
        self.dirty |= what;
    }

    pub fn send(&mut self, peer: &str, text: String) {
        self.out.push(Action::Send { peer: peer.to_owned(), text });
    }

    pub fn state(&mut self, peer: &str, instance: u32, state: SessionState) {
        self.out.push(Action::StateChanged { peer: peer.to_owned(), instance, state });
    }

    /// The session state a UI shows for an encrypted session with this key.
    pub fn encrypted_state(&self, peer: &str, fingerprint: &[u8; 32]) -> SessionState {
        if self.trust.trust(peer, fingerprint).is_verified() {
            SessionState::EncryptedVerified
        } else {
            SessionState::EncryptedUnverified
        }
    }

    /// phi, the session context both sides bind into the handshake: both account names in
    /// sorted order and the network, each length-prefixed. A handshake relayed to a different
    /// pair of accounts fails.
    pub fn phi(&self, peer: &str) -> Vec<u8> {
        let (first, second) = if self.account <= peer { (self.account, peer) } else { (peer, self.account) };
        let mut out = Vec::with_capacity(12 + first.len() + second.len() + self.protocol.len());
        for part in [first, second, self.protocol] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}
