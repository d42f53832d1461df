//! A client is one local account: its identity key, instance tag, policy, trust store and all
//! its conversations. It does no I/O and starts no threads: every call returns the [`Action`]s
//! the application must carry out, in order. Several clients can live in one process.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};

use zeroize::Zeroizing;

use super::context::Ctx;
use super::delivered_text::SpareText;
use super::error::ClientError;
use super::events::{Action, Event, MessageId, PeerName, SessionState, PERSIST_OTHER, PERSIST_TRUST};
use super::peer::{Afterwards, Peer, Route};
use super::peer_policies::PeerPolicies;
use super::protocol::ProtocolSession;
use super::session::SessionInfo;
use super::settings::{Settings, MAX_NAME_LEN, STRANGER_ENTRY_COST};
use super::spare_buffers::SpareBuffers;
use crate::crypto::{IdentityKey, OsRandom, RandomSource};
use crate::otr::identity::DsaIdentity;
use crate::trust::{ProtocolPins, Trust, TrustStore};
use crate::wire::InstanceTag;

#[cfg(feature = "test-hooks")]
mod test_hooks;

/// One local account.
pub struct Client {
    pub(crate) account: String,
    pub(crate) protocol: String,
    pub(crate) identity: IdentityKey,
    pub(crate) our_tag: u32,
    pub(crate) settings: Settings,
    pub(crate) trust: TrustStore,
    /// Key links and modern sessions seen, per peer (downgrade detection).
    pub(crate) pins: ProtocolPins,
    /// Boxed: a B-tree node holds eleven entries inline, so an unboxed `Peer` (over 300 bytes)
    /// would cost every peer a third of a node's empty slots as well (BENCHMARKS.md, memory).
    pub(crate) peers: BTreeMap<String, Box<Peer>>,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) next_message_id: MessageId,
    /// `PERSIST_*` bits gathered during the current call (see [`Client::finish_call`]).
    pub(crate) dirty: u32,
    /// `PERSIST_*` bits changed since the last successful save (or since the client was made or
    /// loaded), every one already reported: a call reports `PersistNeeded` only when it adds a
    /// bit not in here. Atomic because a save only reads the client ([`Client::mark_saved`]).
    unsaved: AtomicU32,
    /// The sum of every peer's [`Peer::unauthenticated_bytes`], kept within
    /// `settings.unauthenticated_budget`.
    pub(crate) unauthenticated_held: usize,
    /// Transport limits the application gave for the current call only
    /// ([`Client::with_transport_limits`]); empty between calls.
    pub(crate) call_limits: BTreeMap<String, usize>,
    /// The OTR DSA identity, encoded by the OTR layer and stored as is (`persist.rs`).
    /// The OTR DSA-1024 identity, made at the first OTR need or by `generate_otr_key`.
    pub(crate) otr_identity: Option<Box<DsaIdentity>>,
    /// Random chunks a test queued (`test-hooks` only, `client/test_hooks.rs`).
    #[cfg(feature = "test-hooks")]
    test_random: test_hooks::QueuedChunks,
    /// Policies the application set for single peers, over `settings.policy` (stored).
    pub(crate) peer_policies: PeerPolicies,
    /// Peers the application reported offline for the current call only
    /// ([`Client::with_offline_peers`]); empty between calls.
    pub(crate) call_offline: BTreeSet<String>,
    /// An empty action list lent by the C API for the next call's actions
    /// ([`Client::lend_action_buffer`]), so a message does not allocate one.
    spare_actions: Vec<Action>,
    /// Message buffers lent by the C API ([`Client::lend_message_buffers`]).
    spares: SpareBuffers,
}

/// The largest lent action list kept ([`Client::lend_action_buffer`]): a message makes one or
/// two actions; a list grown by a large call is not kept.
const SPARE_ACTIONS_MAX: usize = 8;

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("account", &self.account)
            .field("protocol", &self.protocol)
            .field("instance_tag", &InstanceTag(self.our_tag))
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

pub(super) fn check_name(name: &str, what: &'static str) -> Result<(), ClientError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(ClientError::InvalidArgument(what));
    }
    Ok(())
}

impl Client {
    /// A client with a new identity and instance tag from the OS random number generator.
    /// `account` is our name on the network and `protocol` names the network (both are bound
    /// into every handshake after normalisation, PROTOCOL.md §4.2: use the name the peer
    /// knows us by; case, surrounding spaces, an XMPP resource and `prpl-`/`jabber` aliases
    /// do not matter).
    pub fn new(account: &str, protocol: &str, settings: Settings) -> Result<Self, ClientError> {
        let mut rng = OsRandom;
        let identity = IdentityKey::generate(&mut rng).map_err(|_| ClientError::Random)?;
        let tag = InstanceTag::random(&mut rng)?;
        Self::with_parts(account, protocol, identity, tag.0, settings, Box::new(rng))
    }

    /// A client from stored parts and an explicit random source.
    pub fn with_parts(
        account: &str,
        protocol: &str,
        identity: IdentityKey,
        instance_tag: u32,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Self, ClientError> {
        check_name(account, "account")?;
        check_name(protocol, "protocol")?;
        if !InstanceTag(instance_tag).is_valid() {
            return Err(ClientError::InvalidArgument("instance tag must be at least 0x100"));
        }
        Ok(Client {
            account: account.to_owned(),
            protocol: protocol.to_owned(),
            identity,
            our_tag: instance_tag,
            settings,
            trust: TrustStore::default(),
            pins: ProtocolPins::default(),
            peers: BTreeMap::new(),
            rng,
            next_message_id: 1,
            dirty: 0,
            unsaved: AtomicU32::new(0),
            unauthenticated_held: 0,
            call_limits: BTreeMap::new(),
            otr_identity: None,
            #[cfg(feature = "test-hooks")]
            test_random: test_hooks::QueuedChunks::default(),
            peer_policies: PeerPolicies::default(),
            call_offline: BTreeSet::new(),
            spare_actions: Vec::new(),
            spares: SpareBuffers::default(),
        })
    }

    /// Our account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The network name.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Our instance tag.
    pub fn instance_tag(&self) -> u32 {
        self.our_tag
    }

    /// Our identity key.
    pub fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// Our fingerprint.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.identity.fingerprint()
    }

    /// The SHA-1 fingerprint of our OTR DSA identity (what Pidgin shows our OTR users), or
    /// `None` before the identity exists.
    pub fn otr_fingerprint(&self) -> Option<[u8; 20]> {
        self.otr_identity.as_ref().map(|identity| identity.fingerprint())
    }

    /// Makes the OTR DSA-1024 identity now if the client has none, and returns its fingerprint.
    /// It takes 0.1-0.3 s (libotr's `otrl_privkey_generate`): call it off the UI thread, at a
    /// moment of the application's choosing (account creation). Without it, the identity is
    /// made at the first OTR need (the first OTR handshake), inside that call. The actions
    /// ask for a save (`PersistNeeded`) when a key was made.
    pub fn generate_otr_key(&mut self) -> Result<([u8; 20], Vec<Action>), ClientError> {
        if let Some(fingerprint) = self.otr_fingerprint() {
            return Ok((fingerprint, Vec::new()));
        }
        let identity = DsaIdentity::generate(self.rng.as_mut()).map_err(|_| ClientError::Random)?;
        let fingerprint = identity.fingerprint();
        self.set_otr_identity(Some(identity));
        Ok((fingerprint, self.finish_call(Vec::new())))
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Replaces the settings (policy, timers, padding...).
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// Replaces the settings after checking their ranges ([`Settings::check`]); on error
    /// nothing changes. What the C API's `offrec_client_set_option` uses.
    pub fn change_settings(&mut self, settings: Settings) -> Result<(), ClientError> {
        settings.check()?;
        self.settings = settings;
        Ok(())
    }

    /// The trust store.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust
    }

    /// What the client remembers about which protocols its peers speak: key links between
    /// their modern and OTR DSA keys, and when each last had a modern session (PROTOCOL.md
    /// part B, "Key links and pins"). Stored with the client.
    pub fn protocol_pins(&self) -> &ProtocolPins {
        &self.pins
    }

    /// Replaces the trust store (after loading it).
    pub fn set_trust_store(&mut self, trust: TrustStore) {
        self.trust = trust;
    }

    /// Runs `f` on a peer's state (created if new). `pin` marks a peer the application itself
    /// addressed; an unpinned peer left without state afterwards is forgotten.
    ///
    /// The unauthenticated-input budget is kept here: `f` may grow what the peer holds for
    /// unauthenticated senders by at most the room left (fragments and handshakes check it
    /// before keeping anything); a stranger that still ends up over it is forgotten whole, with
    /// [`super::Event::InputDropped`].
    pub(super) fn with_peer<R>(
        &mut self,
        peer: &str,
        now: u64,
        pin: bool,
        f: impl FnOnce(&mut Peer, &mut Ctx<'_>) -> R,
    ) -> (R, Vec<Action>) {
        let Client {
            account,
            protocol,
            identity,
            our_tag,
            settings,
            trust,
            pins,
            peers,
            rng,
            dirty,
            unauthenticated_held,
            call_limits,
            otr_identity,
            peer_policies,
            call_offline,
            spare_actions,
            spares,
            ..
        } = self;
        // One look-up of the peer per call (every message comes through here), by the borrowed
        // name: the owned key is made only for a new peer.
        let (state, known) = match peers.get_mut(peer) {
            Some(state) => (state, true),
            None => (peers.entry(peer.to_owned()).or_insert_with(|| Box::new(Peer::new(peer))), false),
        };
        let before = if known { state.unauthenticated_bytes() } else { 0 };
        let others = unauthenticated_held.saturating_sub(before);
        let room = settings.unauthenticated_budget.saturating_sub(others);
        // A new stranger's own entry comes out of the room first.
        let entry = if known || pin { 0 } else { STRANGER_ENTRY_COST.saturating_add(peer.len()) };
        if pin {
            state.pin();
        }
        let mut ctx = Ctx {
            account,
            protocol,
            identity,
            our_fingerprint: identity.fingerprint(),
            our_tag: *our_tag,
            settings,
            policy: peer_policies.get(peer).unwrap_or(settings.policy),
            peer_offline: call_offline.contains(peer),
            trust,
            pins,
            rng: rng.as_mut(),
            now,
            out: std::mem::take(spare_actions),
            dirty: 0,
            unauth_room: room.saturating_sub(before).saturating_sub(entry),
            transport_limit: call_limits.get(peer).copied(),
            otr_identity,
            spares,
        };
        let result = f(state, &mut ctx);
        *dirty |= ctx.dirty;
        let mut actions = ctx.out;
        let forget = match state.afterwards(now, room) {
            Afterwards::Forget => true,
            Afterwards::DropOverBudget => {
                actions.push(Action::Event { peer: peer.into(), instance: 0, event: super::Event::InputDropped });
                true
            }
            Afterwards::Keep => false,
        };
        let after = if forget {
            peers.remove(peer);
            0
        } else {
            state.unauthenticated_bytes()
        };
        *unauthenticated_held = others.saturating_add(after);
        (result, actions)
    }

    /// Ends a public call: if it changed a kind of stored state not changed since the last save,
    /// appends the call's one [`Event::PersistNeeded`] as its last action, naming everything
    /// unsaved (reported once until saved: an app that has not saved since the last notice
    /// already knows it must).
    pub(crate) fn finish_call(&mut self, mut actions: Vec<Action>) -> Vec<Action> {
        let changed = std::mem::take(&mut self.dirty);
        let unsaved = self.unsaved.get_mut();
        if changed & !*unsaved != 0 {
            *unsaved |= changed;
            actions.push(Action::Event {
                peer: PeerName::default(),
                instance: 0,
                event: Event::PersistNeeded { what: *unsaved },
            });
        }
        actions
    }

    /// Takes an empty action list (its allocation only) to return the next call's actions in;
    /// anything else is dropped. The C API hands back the list of the call it just carried out.
    pub(crate) fn lend_action_buffer(&mut self, buffer: Vec<Action>) {
        if buffer.is_empty() && buffer.capacity() <= SPARE_ACTIONS_MAX {
            self.spare_actions = buffer;
        }
    }

    /// Takes the buffers of a sent wire text and of a delivered, wiped text for the next
    /// message's wire text and decoded message. The C API hands back those of the call it just
    /// carried out.
    pub(crate) fn lend_message_buffers(&mut self, wire: Option<String>, text: Option<SpareText>) {
        self.spares.lend(wire, text);
    }

    /// Records that the application now holds everything this client would save: the next
    /// change is reported again. Called by every save path (`crate::store`) once it succeeded,
    /// never by a failed one.
    pub(crate) fn mark_saved(&self) {
        self.unsaved.store(0, Ordering::Relaxed);
    }

    /// Ends a public call that failed: its actions are dropped with the error, and so is the
    /// persist notice (a failed call changes nothing worth saving except, possibly, the message
    /// id counter, which the next successful call reports).
    pub(super) fn finish_failed_call(&mut self) {
        self.dirty &= PERSIST_OTHER;
    }

    fn finish_result(&mut self, result: Result<Vec<Action>, ClientError>) -> Result<Vec<Action>, ClientError> {
        match result {
            Ok(actions) => Ok(self.finish_call(actions)),
            Err(error) => {
                self.finish_failed_call();
                Err(error)
            }
        }
    }

    /// Runs `f` with transport limits the application reported for this call only: `limits`
    /// maps a peer name to the largest wire message the transport carries to it (0 = the
    /// client-wide `Settings::max_message_size`). For those peers they replace any limit set
    /// with [`Client::set_max_message_size`] during `f`; nothing is stored, so a peer that only
    /// sent us something stays a stranger and is forgotten as usual.
    pub fn with_transport_limits<R>(&mut self, limits: BTreeMap<String, usize>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.call_limits = limits;
        let result = f(self);
        self.call_limits.clear();
        result
    }

    /// Bytes currently held for unauthenticated input (never more than
    /// `Settings::unauthenticated_budget`, unless the budget was lowered after they came).
    pub fn unauthenticated_bytes(&self) -> usize {
        self.unauthenticated_held
    }

    /// Recomputes [`Client::unauthenticated_bytes`] from every peer (after a load).
    pub(crate) fn recount_unauthenticated(&mut self) {
        self.unauthenticated_held =
            self.peers.values().map(|state| state.unauthenticated_bytes()).fold(0, usize::saturating_add);
    }

    pub(super) fn allocate_id(&mut self) -> MessageId {
        let id = self.next_message_id;
        self.next_message_id = self.next_message_id.wrapping_add(1).max(1);
        self.dirty |= PERSIST_OTHER;
        id
    }

    /// Sends `text` to `peer` as the policy says: encrypted if a session is up, held (and a
    /// session started) if encryption is required, plaintext otherwise. Text may be any bytes
    /// when encrypted; plaintext must be UTF-8.
    pub fn send(&mut self, peer: &str, text: &[u8], now: u64) -> Result<(MessageId, Vec<Action>), ClientError> {
        self.send_inner(peer, None, text, now)
    }

    /// Sends `text` encrypted to one remote instance of `peer`. Naming the instance is the
    /// application's consent to its key, as [`Client::accept_key`] (held messages go first).
    pub fn send_to_instance(
        &mut self,
        peer: &str,
        instance: u32,
        text: &[u8],
        now: u64,
    ) -> Result<(MessageId, Vec<Action>), ClientError> {
        self.send_inner(peer, Some(instance), text, now)
    }

    fn send_inner(
        &mut self,
        peer: &str,
        instance: Option<u32>,
        text: &[u8],
        now: u64,
    ) -> Result<(MessageId, Vec<Action>), ClientError> {
        check_name(peer, "peer")?;
        let id = self.allocate_id();
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.send_user_message(ctx, id, text, instance));
        match result {
            Ok(()) => Ok((id, self.finish_call(actions))),
            Err(error) => {
                self.finish_failed_call();
                Err(error)
            }
        }
    }

    /// Handles one message that arrived from `peer` over the transport.
    pub fn receive(&mut self, peer: &str, text: &str, now: u64) -> Vec<Action> {
        if check_name(peer, "peer").is_err() {
            return Vec::new();
        }
        let actions = self.with_peer(peer, now, false, |p, ctx| p.receive(ctx, text)).1;
        self.finish_call(actions)
    }

    /// Asks `peer` for an encrypted session (sends our query). While a session is up this
    /// refreshes it; the old session keeps working until the new one completes.
    pub fn start_session(&mut self, peer: &str, now: u64) -> Result<Vec<Action>, ClientError> {
        check_name(peer, "peer")?;
        if !self.policy_for(peer).allows_protocol() {
            return Err(ClientError::PolicyForbids);
        }
        let actions = self.with_peer(peer, now, true, |p, ctx| p.send_query(ctx)).1;
        Ok(self.finish_call(actions))
    }

    /// Ends the session with one instance, or all of a peer's sessions: the peer is told, keys
    /// are revealed and wiped, and held messages fail.
    pub fn end_session(&mut self, peer: &str, instance: Option<u32>, now: u64) -> Vec<Action> {
        if !self.peers.contains_key(peer) {
            return Vec::new();
        }
        let actions = self.with_peer(peer, now, false, |p, ctx| p.end_sessions(ctx, instance)).1;
        self.finish_call(actions)
    }

    /// Drives time: heartbeats, session expiry, fragment and held-message timeouts.
    pub fn tick(&mut self, now: u64) -> Vec<Action> {
        let names: Vec<String> = self.peers.keys().cloned().collect();
        let mut actions = Vec::new();
        for name in names {
            actions.extend(self.with_peer(&name, now, false, |p, ctx| p.tick(ctx)).1);
        }
        self.finish_call(actions)
    }

    /// Sets the largest message the transport carries to `peer` (0 = the client default).
    pub fn set_max_message_size(&mut self, peer: &str, size: usize) -> Result<(), ClientError> {
        check_name(peer, "peer")?;
        super::settings::check_transport_limit(size)?;
        let state = self.peers.entry(peer.to_owned()).or_insert_with(|| Box::new(Peer::new(peer)));
        let before = state.unauthenticated_bytes();
        state.set_max_message_size(size);
        let after = state.unauthenticated_bytes();
        self.unauthenticated_held = self.unauthenticated_held.saturating_sub(before).saturating_add(after);
        Ok(())
    }

    /// The sessions with `peer`, one per remote instance.
    pub fn sessions(&self, peer: &str) -> Vec<SessionInfo> {
        let Some(state) = self.peers.get(peer) else { return Vec::new() };
        state.session_infos(&self.trust)
    }

    /// The state of the session a plain `send` would use (Plaintext if none). While sends are
    /// held for the application's consent to a new key, the state of that session
    /// (EncryptedUnverified): nothing goes out in the clear.
    pub fn session_state(&self, peer: &str) -> SessionState {
        let Some(state) = self.peers.get(peer) else { return SessionState::Plaintext };
        match state.route(&self.trust, None) {
            Ok(Route::To(tag) | Route::AwaitingConsent(tag)) => {
                self.sessions(peer).into_iter().find(|s| s.instance == tag).map_or(SessionState::Plaintext, |s| s.state)
            }
            Err(ClientError::SessionFinished) => SessionState::Finished,
            _ => SessionState::Plaintext,
        }
    }

    /// Sets (or revokes) trust in a peer's key; sessions using it report their new state.
    /// Marking a key verified is also consent to route plain sends to it (held messages go
    /// out on the next `tick` or `send`).
    pub fn set_trust(&mut self, peer: &str, fingerprint: [u8; 32], trust: Trust) -> Vec<Action> {
        self.trust.set_trust(peer, fingerprint, trust);
        self.dirty |= PERSIST_TRUST;
        let mut actions = Vec::new();
        for info in self.sessions(peer) {
            if info.their_fingerprint == fingerprint && info.state.is_encrypted() {
                actions.push(Action::StateChanged { peer: peer.into(), instance: info.instance, state: info.state });
            }
        }
        self.finish_call(actions)
    }

    /// Accepts the key of `peer`'s session with `instance` for routing: plain `send`s may use
    /// it although a key of this peer is verified and this one is not. The session becomes the
    /// preferred one and messages held for `peer` are sent to it. The key's trust level is not
    /// changed (it stays unverified). The acceptance lives in memory only (it is not stored).
    /// Errors: `NoSession` if there is no such session, `SessionFinished` if it is finished.
    pub fn accept_key(&mut self, peer: &str, instance: u32, now: u64) -> Result<Vec<Action>, ClientError> {
        check_name(peer, "peer")?;
        if !self.peers.get(peer).is_some_and(|p| p.has_session(instance)) {
            return Err(ClientError::NoSession);
        }
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.accept_key(ctx, instance));
        self.finish_result(result.map(|()| actions))
    }

    fn session_tag(&self, peer: &str, instance: Option<u32>) -> Result<u32, ClientError> {
        self.peers
            .get(peer)
            .ok_or(ClientError::NoSession)?
            .choose_session(&self.trust, instance)?
            .ok_or(ClientError::NoSession)
    }

    /// The session an SMP call without an instance acts on. SMP is how a new key gets verified,
    /// so unlike plain sends it may use a session awaiting consent (it carries no user text):
    /// the session whose run matches `pick` (a request waiting for our secret, a run in
    /// progress), else the one a plain send would use, else the newest session awaiting consent.
    fn smp_session_tag(
        &self,
        peer: &str,
        instance: Option<u32>,
        pick: fn(&dyn ProtocolSession) -> bool,
    ) -> Result<u32, ClientError> {
        self.peers.get(peer).ok_or(ClientError::NoSession)?.smp_route(&self.trust, instance, pick)
    }

    /// Starts SMP with a peer's session, optionally with a question shown to them. Without an
    /// instance: the session a plain send would use, else one awaiting consent to its new key
    /// (SMP is how that key gets verified).
    pub fn smp_start(
        &mut self,
        peer: &str,
        instance: Option<u32>,
        secret: &[u8],
        question: Option<&str>,
        now: u64,
    ) -> Result<Vec<Action>, ClientError> {
        let tag = self.smp_session_tag(peer, instance, |_| false)?;
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.smp_start(ctx, tag, secret, question));
        self.finish_result(result.map(|()| actions))
    }

    /// Answers the peer's SMP request with our secret. Without an instance: the session whose
    /// request waits for our secret (SMP messages do not change routing, so this need not be
    /// the session plain sends use).
    pub fn smp_respond(
        &mut self,
        peer: &str,
        instance: Option<u32>,
        secret: &[u8],
        now: u64,
    ) -> Result<Vec<Action>, ClientError> {
        let tag = self.smp_session_tag(peer, instance, |s| s.smp_awaiting_secret())?;
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.smp_respond(ctx, tag, secret));
        self.finish_result(result.map(|()| actions))
    }

    /// Aborts an SMP run (without an instance: the session with a run in progress, if any).
    pub fn smp_abort(&mut self, peer: &str, instance: Option<u32>, now: u64) -> Result<Vec<Action>, ClientError> {
        let tag = self.smp_session_tag(peer, instance, |s| s.smp_in_progress())?;
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.smp_abort(ctx, tag));
        self.finish_result(result.map(|()| actions))
    }

    /// Derives an extra symmetric key for `usage` (e.g. a file transfer) and tells the peer,
    /// who receives the same key in an [`super::Event::ExtraKeyReceived`] event.
    pub fn extra_symmetric_key(
        &mut self,
        peer: &str,
        instance: Option<u32>,
        usage: u32,
        context: &[u8],
        now: u64,
    ) -> Result<(Zeroizing<[u8; 32]>, Vec<Action>), ClientError> {
        if context.len() > 4096 {
            return Err(ClientError::InvalidArgument("context longer than 4096 bytes"));
        }
        let tag = self.session_tag(peer, instance)?;
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.use_extra_key(ctx, tag, usage, context));
        match result {
            Ok(key) => Ok((key, self.finish_call(actions))),
            Err(error) => {
                self.finish_failed_call();
                Err(error)
            }
        }
    }

    /// Names of every peer this client has state for.
    pub fn peers(&self) -> Vec<String> {
        self.peers.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::new("alice", "xmpp", Settings::default()).unwrap()
    }

    #[test]
    fn a_lent_action_list_carries_only_the_next_calls_actions() {
        let fresh = client().start_session("bob", 1).unwrap();
        let mut c = client();
        let lent: Vec<Action> = Vec::with_capacity(4);
        let lent_at = lent.as_ptr();
        c.lend_action_buffer(lent);
        let actions = c.start_session("bob", 1).unwrap();
        // The call used the lent allocation, and what it holds is this call's actions only.
        assert_eq!(actions.as_ptr(), lent_at);
        assert_eq!(actions.len(), fresh.len());
        assert!(matches!(actions.first(), Some(Action::Send { peer, .. }) if &**peer == "bob"));
    }

    #[test]
    fn only_an_empty_small_list_is_kept() {
        let mut c = client();
        // Not empty: dropped, so a call can never return another call's actions.
        let old = client().start_session("carol", 1).unwrap();
        assert!(!old.is_empty());
        c.lend_action_buffer(old);
        assert_eq!(c.spare_actions.capacity(), 0);
        // Empty but grown by a large call: dropped.
        c.lend_action_buffer(Vec::with_capacity(SPARE_ACTIONS_MAX + 1));
        assert_eq!(c.spare_actions.capacity(), 0);
        c.lend_action_buffer(Vec::with_capacity(2));
        assert!(c.spare_actions.capacity() >= 2 && c.spare_actions.is_empty());
    }
}
