//! What a peer's logic borrows from its client for one call: identity, settings, trust store,
//! randomness, the clock, and the list of actions being produced.

use super::error::ClientError;
use super::events::{Action, Event, PeerName, SessionState, PERSIST_OTHER};
use super::policy::Policy;
use super::settings::Settings;
use super::spare_buffers::SpareBuffers;
use crate::crypto::{IdentityKey, RandomSource};
use crate::otr::identity::DsaIdentity;
use crate::trust::{ProtocolPins, TrustStore};

pub(crate) struct Ctx<'a> {
    pub account: &'a str,
    pub protocol: &'a str,
    pub identity: &'a IdentityKey,
    pub our_fingerprint: [u8; 32],
    pub our_tag: u32,
    pub settings: &'a Settings,
    /// The policy for this call's peer: its own (`Client::set_peer_policy`) or else the
    /// client's. Every policy decision about the peer reads this, never `settings.policy`.
    pub policy: Policy,
    /// The application said the peer is offline (`is_logged_in` = 0) for this call: nothing
    /// that only informs the peer (heartbeats, session ends) is sent.
    pub peer_offline: bool,
    pub trust: &'a mut TrustStore,
    /// Which protocols each peer speaks: key links and modern sessions seen.
    pub pins: &'a mut ProtocolPins,
    pub rng: &'a mut dyn RandomSource,
    pub now: u64,
    pub out: Vec<Action>,
    /// `PERSIST_*` bits for what stored state this call changed.
    pub dirty: u32,
    /// How many more bytes this call may make the client hold for unauthenticated input
    /// (fragments, handshakes in progress) before its budget is full.
    pub unauth_room: usize,
    /// The transport's limit for this peer as the application answered it for this call only
    /// (0 = the client-wide limit); `None` when it was not asked (then the peer's own limit).
    pub transport_limit: Option<usize>,
    /// The client's OTR DSA identity, made at the first OTR need ([`Ctx::otr_identity`]).
    pub otr_identity: &'a mut Option<Box<DsaIdentity>>,
    /// Message buffers the C API handed back, for this call's wire text and decoded message.
    pub spares: &'a mut SpareBuffers,
}

/// Appends the action `make` builds. When the list has room (the C API lends the previous
/// call's list, so it nearly always has) the action is written straight into its slot: built
/// first and pushed with a possible reallocation in between, it went through a stack copy read
/// back in other widths than it was written in, a store-forwarding stall per action.
#[inline(always)]
#[allow(clippy::if_same_then_else)] // the same push, but in the first branch the compiler knows there is room
pub(crate) fn push_action(out: &mut Vec<Action>, make: impl FnOnce() -> Action) {
    if out.len() < out.capacity() {
        out.push(make());
    } else {
        out.push(make());
    }
}

impl Ctx<'_> {
    // The peer's shared name, not a `&str`: an action takes a reference count, not a copy.
    pub fn event(&mut self, peer: &PeerName, instance: u32, event: Event) {
        self.out.push(Action::Event { peer: peer.clone(), instance, event });
    }

    /// Notes that stored state changed (`PERSIST_*` bits).
    pub fn changed(&mut self, what: u32) {
        self.dirty |= what;
    }

    pub fn send(&mut self, peer: &PeerName, text: String) {
        push_action(&mut self.out, || Action::Send { peer: peer.clone(), text });
    }

    pub fn state(&mut self, peer: &PeerName, instance: u32, state: SessionState) {
        self.out.push(Action::StateChanged { peer: peer.clone(), instance, state });
    }

    /// The largest wire message for `peer`, given its own stored limit: this call's answer
    /// from the application if any, else the peer's, else the client-wide one (0 = none).
    pub fn message_limit(&self, peer_limit: Option<usize>) -> usize {
        match self.transport_limit {
            Some(0) => self.settings.max_message_size,
            Some(limit) => limit,
            None => peer_limit.unwrap_or(self.settings.max_message_size),
        }
    }

    /// The session state a UI shows for an encrypted session with this key.
    pub fn encrypted_state(&self, peer: &str, fingerprint: &[u8; 32]) -> SessionState {
        if self.trust.trust(peer, fingerprint).is_verified() {
            SessionState::EncryptedVerified
        } else {
            SessionState::EncryptedUnverified
        }
    }

    /// The OTR DSA identity and the random source, generating the identity first if the client
    /// has none (0.1-0.3 s, once per client: libotr's `create_privkey` moment; apps that want
    /// to choose the moment call `Client::generate_otr_key` beforehand).
    pub fn otr_identity(&mut self) -> Result<(&DsaIdentity, &mut dyn RandomSource), ClientError> {
        if self.otr_identity.is_none() {
            let identity = DsaIdentity::generate(self.rng).map_err(|_| ClientError::Random)?;
            *self.otr_identity = Some(Box::new(identity));
            self.dirty |= PERSIST_OTHER;
        }
        match self.otr_identity.as_deref() {
            Some(identity) => Ok((identity, &mut *self.rng)),
            None => Err(ClientError::Random),
        }
    }

    /// phi, the session context both sides bind into the handshake (see `names`): both
    /// normalised account names in sorted order and the normalised network, or the network
    /// only when name binding is off. A handshake relayed to a different pair of accounts
    /// fails, and says so: "names differ".
    pub fn phi(&self, peer: &str) -> Vec<u8> {
        super::names::phi(self.account, peer, self.protocol, self.settings.name_binding)
    }
}
