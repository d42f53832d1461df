//! Everything about one remote name: its sessions (one per remote instance), handshakes in
//! progress, fragments being reassembled, messages held for encryption. Incoming text is
//! classified and dispatched here.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::context::Ctx;
use super::error::ClientError;
use super::events::{Event, MessageId, NotSentReason, Security, PERSIST_HELD_MESSAGES};
use super::held::{Held, HeldMessages};
use super::session::{SentLog, Session};
use super::settings::{ERROR_MESSAGE_INTERVAL, PENDING_HANDSHAKE_COST, STRANGER_ENTRY_COST};
use crate::ake::{AkeMessage, Initiator, Responder};
use crate::trust::{TrustStore, MAX_KEYS_PER_PEER};
use crate::wire::data_message::DataMessage;
use crate::wire::{armour, classify, error_message, fragment, parse_fragment, whitespace, Incoming, InstanceTag, Reassembler, Versions};
use crate::wire::{encode_query, OtrKind};

/// A handshake we started, kept until it times out so that several remote instances can each
/// answer the same `Start`.
#[derive(Debug)]
pub(crate) struct PendingInitiator {
    pub state: Initiator,
    pub started_at: u64,
    /// Instances that already completed with it (a replayed `Reply` is ignored).
    pub finished_with: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct PendingResponder {
    pub state: Responder,
    pub started_at: u64,
}

/// Where a plain `send` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// To this session.
    To(u32),
    /// Nowhere yet: the live sessions use an unverified key while a key of this peer is
    /// verified; this is the most recent of them. Messages are held until the app consents.
    AwaitingConsent(u32),
    /// There is no live session.
    Nothing,
}

/// How many replaced or ended sessions' sent logs a peer keeps for late unreadable reports.
pub const RETIRED_SENT_LOGS: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Peer {
    pub name: String,
    // Boxed: a B-tree leaf holds eleven values inline, so unboxed sessions and handshake
    // states would cost every peer tens of kilobytes (BENCHMARKS.md, memory).
    pub sessions: BTreeMap<u32, Box<Session>>,
    pub initiator: Option<Box<PendingInitiator>>,
    pub responders: BTreeMap<u32, Box<PendingResponder>>,
    /// Versions we advertised in our last query or tag (checked against the initiator's echo).
    pub advertised: u8,
    pub reassembler: Reassembler,
    pub held: HeldMessages,
    /// Stop tagging plaintext after the peer answers without a tag (OTR's rule).
    pub stop_tagging: bool,
    /// Where a plain `send` goes (among sessions [`Peer::routable`] allows): set only by the
    /// application's consent or by user text arriving on an allowed session, never by control
    /// messages (heartbeats, SMP, padding, extra keys, disconnects).
    pub preferred: Option<u32>,
    /// Unverified keys the application accepted for routing while a key of this peer is
    /// verified ([`Peer::accept_key`]). Memory only, at most `MAX_KEYS_PER_PEER`.
    pub accepted_keys: Vec<[u8; 32]>,
    /// Sent logs of sessions replaced or ended recently: a report that one of their messages
    /// was unreadable can arrive after the session is gone, and must still name it (memory
    /// only, the newest [`RETIRED_SENT_LOGS`]).
    pub retired_sent_logs: std::collections::VecDeque<SentLog>,
    pub last_error_sent: Option<u64>,
    pub last_query_sent: Option<u64>,
    /// When we last restarted the session because the peer reported it lost it.
    pub last_heal_started: Option<u64>,
    pub max_message_size: Option<usize>,
    /// The application addressed this peer (sent to it, started a session, set a limit). Peers
    /// that only ever sent us something are forgotten as soon as they hold no state, so strangers
    /// cannot make us keep an entry per name they send from.
    pub pinned: bool,
}

impl Peer {
    pub fn new(name: &str) -> Self {
        Peer { name: name.to_owned(), ..Peer::default() }
    }

    /// Whether nothing about this peer needs remembering at `now` (no session, handshake, held
    /// message, fragment, setting, or rate limit still running).
    pub fn is_idle(&self, now: u64) -> bool {
        let limiting = [self.last_error_sent, self.last_query_sent, self.last_heal_started]
            .into_iter()
            .flatten()
            .any(|at| now < at.saturating_add(ERROR_MESSAGE_INTERVAL));
        !limiting
            && self.sessions.is_empty()
            && self.initiator.is_none()
            && self.responders.is_empty()
            && self.held.is_empty()
            && self.reassembler.open_buffers() == 0
            && self.max_message_size.is_none()
    }

    /// Bytes this peer makes the client hold for unauthenticated input: its fragment buffers,
    /// handshakes it started with us, and, while the application never addressed it and it has
    /// no session ("a stranger"), its entry and any handshake we started for it.
    pub fn unauthenticated_bytes(&self) -> usize {
        let mut total = self.reassembler.held_bytes();
        total = total.saturating_add(self.responders.len().saturating_mul(PENDING_HANDSHAKE_COST));
        if self.is_stranger() {
            total = total.saturating_add(STRANGER_ENTRY_COST).saturating_add(self.name.len());
            if self.initiator.is_some() {
                total = total.saturating_add(PENDING_HANDSHAKE_COST);
            }
        }
        total
    }

    /// Whether this peer holds only what unauthenticated senders gave it: the application never
    /// addressed it, and it has no session and no message of ours waiting. Strangers are never
    /// stored, and are forgotten as soon as they are idle.
    pub fn is_stranger(&self) -> bool {
        !self.pinned && self.sessions.is_empty() && self.held.is_empty()
    }

    /// Handles one incoming transport message.
    pub fn receive(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        if !ctx.settings.policy.allows_protocol() {
            self.deliver_plaintext(ctx, text.to_owned());
            return;
        }
        match classify(text) {
            Incoming::Fragment(message) => self.receive_fragment(ctx, message),
            Incoming::Encoded(message) => self.receive_encoded(ctx, message),
            Incoming::Error(peer_text) => self.receive_error(ctx, peer_text),
            Incoming::Query(versions) => self.receive_query(ctx, versions),
            Incoming::ForeignOtr(kind) => {
                ctx.event(&self.name, 0, Event::ForeignProtocol);
                // A human wrote the text around OTR's query or tag; OTR's binary messages are
                // meaningless to show.
                if matches!(kind, OtrKind::Query | OtrKind::WhitespaceTag) {
                    self.deliver_plaintext(ctx, text.to_owned());
                }
            }
            Incoming::Plaintext { text, tag } => self.receive_plaintext(ctx, text, tag),
        }
    }

    fn receive_fragment(&mut self, ctx: &mut Ctx<'_>, message: &str) {
        let fragment = match parse_fragment(message) {
            Ok(fragment) => fragment,
            Err(_) => return ctx.event(&self.name, 0, Event::Malformed),
        };
        if fragment.sender.0 == ctx.our_tag {
            return ctx.event(&self.name, 0, Event::Reflected);
        }
        if fragment.receiver != InstanceTag::NONE && fragment.receiver.0 != ctx.our_tag {
            return ctx.event(&self.name, fragment.receiver.0, Event::ForOtherInstance);
        }
        let before = self.reassembler.held_bytes();
        let accepted = self.reassembler.accept_within(message, ctx.now, ctx.unauth_room);
        let grown = self.reassembler.held_bytes().saturating_sub(before);
        ctx.unauth_room = ctx.unauth_room.saturating_sub(grown);
        match accepted {
            Err(crate::wire::WireError::OverBudget) => ctx.event(&self.name, 0, Event::InputDropped),
            Ok(Some(whole)) => match classify(&whole) {
                // Never fragments inside fragments: only a complete armoured message counts.
                Incoming::Encoded(encoded) => self.receive_encoded(ctx, encoded),
                _ => ctx.event(&self.name, 0, Event::Malformed),
            },
            Ok(None) => {}
            Err(_) => ctx.event(&self.name, 0, Event::Malformed),
        }
    }

    fn receive_encoded(&mut self, ctx: &mut Ctx<'_>, message: &str) {
        let Ok(bytes) = armour::decode(message) else {
            return ctx.event(&self.name, 0, Event::Malformed);
        };
        if crate::ake::message::is_ake_message(&bytes) {
            match AkeMessage::parse(&bytes) {
                Some(ake) => self.receive_ake(ctx, ake),
                None => ctx.event(&self.name, 0, Event::Malformed),
            }
            return;
        }
        match DataMessage::parse(&bytes) {
            Ok(data) => self.receive_data(ctx, &data),
            Err(_) => ctx.event(&self.name, 0, Event::Malformed),
        }
    }

    fn receive_error(&mut self, ctx: &mut Ctx<'_>, peer_text: &str) {
        // The text is the peer's and untrusted: pass it on bounded, never act on its content.
        let text: String = peer_text.trim().chars().take(256).collect();
        if let Some(prefix) = super::handshake_flow::parse_names_differ_report(&text) {
            if self.names_differ_reported(ctx, &prefix) {
                // Our handshake failed for a reason the peer told us: no PeerError, and no
                // query (a new handshake would fail the same way).
                return;
            }
        }
        let report = crate::wire::unreadable_report::parse(&text);
        ctx.event(&self.name, 0, Event::PeerError { text });
        if let Some((prefix, number, scope)) = report {
            self.peer_could_not_read(ctx, &prefix, number, scope);
        } else if ctx.settings.policy.has(super::Policy::ERROR_START_AKE) {
            // Error messages are unauthenticated: a flood of them must not become a flood of
            // queries.
            let recently = self.last_heal_started.is_some_and(|t| ctx.now < t.saturating_add(ERROR_MESSAGE_INTERVAL));
            if !recently {
                self.last_heal_started = Some(ctx.now);
                self.send_query(ctx);
            }
        }
    }

    fn receive_query(&mut self, ctx: &mut Ctx<'_>, versions: Versions) {
        let common = versions.intersection(Versions::SUPPORTED);
        if common.is_empty() {
            return;
        }
        self.start_handshake(ctx, versions.bits());
    }

    fn receive_plaintext(&mut self, ctx: &mut Ctx<'_>, text: String, tag: Option<Versions>) {
        match tag {
            Some(versions) => {
                let policy = ctx.settings.policy;
                if policy.has(super::Policy::WHITESPACE_START_AKE) && !versions.intersection(Versions::SUPPORTED).is_empty() {
                    self.start_handshake(ctx, versions.bits());
                }
            }
            None => self.stop_tagging = true,
        }
        if self.sessions.values().any(|s| !s.finished) {
            ctx.event(&self.name, 0, Event::UnencryptedWhileEncrypted);
        } else if ctx.settings.policy.requires_encryption() {
            ctx.event(&self.name, 0, Event::UnencryptedWhileRequired);
        }
        self.deliver_plaintext(ctx, text);
    }

    fn deliver_plaintext(&mut self, ctx: &mut Ctx<'_>, text: String) {
        if text.is_empty() {
            return;
        }
        ctx.out.push(super::Action::Deliver {
            peer: self.name.clone(),
            instance: 0,
            text: Zeroizing::new(text.into_bytes()),
            security: Security::Plaintext,
        });
    }

    /// Sends our query message: the peer answers with a handshake in which we respond.
    pub fn send_query(&mut self, ctx: &mut Ctx<'_>) {
        self.advertised = Versions::SUPPORTED.bits();
        self.last_query_sent = Some(ctx.now);
        let query = encode_query(Versions::SUPPORTED, &ctx.settings.query_text);
        ctx.send(&self.name, query);
    }

    /// Sends an error message, at most one per [`ERROR_MESSAGE_INTERVAL`]; error messages are
    /// never answered with error messages, so two confused engines cannot loop.
    pub fn send_error(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        if let Some(last) = self.last_error_sent {
            if ctx.now < last.saturating_add(ERROR_MESSAGE_INTERVAL) {
                return;
            }
        }
        self.last_error_sent = Some(ctx.now);
        ctx.send(&self.name, error_message::encode(text));
    }

    /// The largest wire message to this peer in this call (0 = no limit): the application's
    /// answer for this call, else this peer's own limit, else the client-wide one. Computed
    /// once per message sent.
    pub fn transport_limit(&self, ctx: &Ctx<'_>) -> usize {
        ctx.message_limit(self.max_message_size)
    }

    /// Armours a binary message and sends it, fragmented to the transport's limit.
    pub fn send_binary(&mut self, ctx: &mut Ctx<'_>, bytes: &[u8], receiver_tag: u32) -> Result<(), ClientError> {
        let limit = self.transport_limit(ctx);
        self.send_binary_within(ctx, bytes, receiver_tag, limit)
    }

    /// Armours a binary message and sends it whole if it fits `limit` (0 = no limit), else in
    /// fragments of at most `limit`; `MessageTooLarge` if it cannot be carried (the check is
    /// [`fragment::fits`], which a sender can make before building the message).
    pub fn send_binary_within(&mut self, ctx: &mut Ctx<'_>, bytes: &[u8], receiver_tag: u32, limit: usize) -> Result<(), ClientError> {
        let encoded = armour::encode(bytes);
        if encoded.len() > crate::wire::MAX_ENCODED_LEN {
            return Err(ClientError::MessageTooLarge);
        }
        if limit == 0 || encoded.len() <= limit {
            ctx.send(&self.name, encoded);
            return Ok(());
        }
        let mut id = [0u8; 4];
        ctx.rng.fill(&mut id)?;
        let pieces = fragment::split(&encoded, limit, u32::from_be_bytes(id), InstanceTag(ctx.our_tag), InstanceTag(receiver_tag))
            .map_err(|_| ClientError::MessageTooLarge)?;
        for piece in pieces {
            ctx.send(&self.name, piece);
        }
        Ok(())
    }

    /// Sends a message the user typed, by policy: encrypted if possible, held if encryption is
    /// required, otherwise plaintext (tagged when the policy advertises). While the only live
    /// sessions use an unverified key of a peer with a verified key, the message is held until
    /// the application accepts that key (never sent in the clear, never to that key).
    /// Naming an instance is consent to its key ([`Peer::accept_key`]).
    ///
    /// A session restored from a store never carries traffic: a message for it (or for the
    /// peer, when restored sessions are all it has) is held and a new handshake started, as
    /// under a policy that requires encryption; it is never sent in the clear.
    pub fn send_user_message(&mut self, ctx: &mut Ctx<'_>, id: MessageId, text: &[u8], instance: Option<u32>) -> Result<(), ClientError> {
        let restored_instance = instance.is_some_and(|tag| self.sessions.get(&tag).is_some_and(|s| s.restored && !s.finished));
        if !restored_instance {
            match self.route(ctx.trust, instance)? {
                Route::To(tag) => {
                    if instance.is_some() && !self.sessions.get(&tag).is_some_and(|s| self.routable(ctx.trust, s)) {
                        self.accept_key(ctx, tag)?;
                    } else {
                        // Messages held earlier go first, in order.
                        self.flush_held(ctx, tag);
                    }
                    return self.encrypt_user_message(ctx, tag, id, text);
                }
                Route::AwaitingConsent(tag) => {
                    let Some(fingerprint) = self.sessions.get(&tag).map(|s| s.their_fingerprint) else {
                        return Err(ClientError::NoSession);
                    };
                    let held = Held { id, text: Zeroizing::new(text.to_vec()), queued_at: ctx.now };
                    if !self.held.push(held) {
                        return Err(ClientError::QueueFull);
                    }
                    ctx.changed(PERSIST_HELD_MESSAGES);
                    ctx.event(&self.name, tag, Event::KeyConsentRequired { message: id, fingerprint });
                    if self.has_restored_session() {
                        // The verified session may come back from the restart.
                        self.restart_restored(ctx);
                    }
                    return Ok(());
                }
                Route::Nothing if instance.is_some() => return Err(ClientError::NoSession),
                Route::Nothing => {}
            }
        }
        let policy = ctx.settings.policy;
        let restarting = restored_instance || (instance.is_none() && self.has_restored_session());
        if policy.requires_encryption() || (restarting && policy.allows_protocol()) {
            let held = Held { id, text: Zeroizing::new(text.to_vec()), queued_at: ctx.now };
            if !self.held.push(held) {
                return Err(ClientError::QueueFull);
            }
            ctx.changed(PERSIST_HELD_MESSAGES);
            ctx.event(&self.name, 0, Event::EncryptionRequired { message: id });
            if restarting {
                // Asked again even while a handshake is pending (rate-limited): a handshake
                // that crossed a crash or another start may never complete on its own.
                self.restart_restored(ctx);
            } else if self.initiator.is_none() && self.responders.is_empty() {
                self.send_query(ctx);
            }
            return Ok(());
        }
        let plain = std::str::from_utf8(text).map_err(|_| ClientError::InvalidUtf8)?;
        if policy.allows_protocol() && policy.has(super::Policy::SEND_WHITESPACE_TAG) && !self.stop_tagging {
            self.advertised = Versions::SUPPORTED.bits();
            ctx.send(&self.name, whitespace::append_tag(plain, Versions::SUPPORTED));
        } else {
            ctx.send(&self.name, plain.to_owned());
        }
        Ok(())
    }

    /// Whether a plain `send` may use this session: it can carry traffic (not finished, not
    /// restored from a store), and its key is verified, or no key of this peer is verified, or
    /// the application accepted the key. Routing therefore never moves from a verified key to
    /// an unverified one without the application's consent.
    pub fn routable(&self, trust: &TrustStore, session: &Session) -> bool {
        session.usable()
            && (trust.trust(&self.name, &session.their_fingerprint).is_verified()
                || !trust.has_verified(&self.name)
                || self.accepted_keys.contains(&session.their_fingerprint))
    }

    /// Where a message goes. With `instance`: that session (whatever its key: naming it is
    /// the application's choice), unless it was restored from a store. Without: the preferred
    /// session if routable, else the routable one that most recently sent user text; else, if
    /// sessions that can carry traffic exist but await consent, the most recent of them
    /// ([`Route::AwaitingConsent`]). Sessions restored from a store never carry traffic (they
    /// are restarted instead): with nothing else, [`Route::Nothing`].
    pub fn route(&self, trust: &TrustStore, instance: Option<u32>) -> Result<Route, ClientError> {
        if let Some(tag) = instance {
            return match self.sessions.get(&tag) {
                Some(session) if session.finished => Err(ClientError::SessionFinished),
                Some(session) if session.restored => Ok(Route::Nothing),
                Some(_) => Ok(Route::To(tag)),
                None => Ok(Route::Nothing),
            };
        }
        let preferred = self.preferred.and_then(|tag| self.sessions.get(&tag)).filter(|s| self.routable(trust, s));
        if let Some(session) = preferred {
            return Ok(Route::To(session.their_tag));
        }
        let live = || self.sessions.values().filter(|s| s.usable());
        if let Some(session) = live().filter(|s| self.routable(trust, s)).max_by_key(|s| s.last_text_received) {
            return Ok(Route::To(session.their_tag));
        }
        if let Some(session) = live().max_by_key(|s| s.last_text_received) {
            return Ok(Route::AwaitingConsent(session.their_tag));
        }
        if self.has_restored_session() {
            return Ok(Route::Nothing);
        }
        if self.sessions.values().any(|s| s.finished) {
            return Err(ClientError::SessionFinished);
        }
        Ok(Route::Nothing)
    }

    /// The session a message goes to: the named instance, else a routable one (see
    /// [`Peer::route`]). `Ok(None)` if there is none that can carry traffic (none at all,
    /// only sessions restored from a store, which are restarted instead, or only sessions
    /// awaiting consent, which are reached only by naming their instance).
    pub fn choose_session(&self, trust: &TrustStore, instance: Option<u32>) -> Result<Option<u32>, ClientError> {
        Ok(match self.route(trust, instance)? {
            Route::To(tag) => Some(tag),
            Route::AwaitingConsent(_) | Route::Nothing => None,
        })
    }

    /// The application's consent to the key of session `tag`: plain sends may use it (the key
    /// stays unverified in the trust store), it becomes the preferred session, and messages
    /// held for this peer are sent to it. For a session restored from a store only the key is
    /// accepted: the restarted session with that key will take the sends.
    pub fn accept_key(&mut self, ctx: &mut Ctx<'_>, tag: u32) -> Result<(), ClientError> {
        let session = self.sessions.get(&tag).ok_or(ClientError::NoSession)?;
        if session.finished {
            return Err(ClientError::SessionFinished);
        }
        let fingerprint = session.their_fingerprint;
        let restored = session.restored;
        if !self.accepted_keys.contains(&fingerprint) {
            if self.accepted_keys.len() >= MAX_KEYS_PER_PEER {
                self.accepted_keys.remove(0);
            }
            self.accepted_keys.push(fingerprint);
        }
        if !restored {
            self.preferred = Some(tag);
            self.flush_held(ctx, tag);
        }
        Ok(())
    }

    /// Sends every held message to session `tag`, each reported as sent or not sent.
    pub fn flush_held(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        if self.held.is_empty() {
            return;
        }
        ctx.changed(PERSIST_HELD_MESSAGES);
        for held in self.held.take_all() {
            match self.encrypt_user_message(ctx, tag, held.id, &held.text) {
                Ok(()) => ctx.event(&self.name, tag, Event::HeldMessageSent { message: held.id }),
                Err(_) => ctx.event(&self.name, tag, Event::MessageNotSent { message: held.id, reason: NotSentReason::TooLarge }),
            }
        }
    }

    /// Whether a session restored from a store (and not finished by the peer) is waiting to be
    /// replaced by a new handshake.
    pub fn has_restored_session(&self) -> bool {
        self.sessions.values().any(|s| s.restored && !s.finished)
    }

    /// Starts a new handshake to replace sessions restored from a store, rate-limited like the
    /// healing path (one per [`ERROR_MESSAGE_INTERVAL`]): we send our query and the peer
    /// answers with a handshake.
    pub fn restart_restored(&mut self, ctx: &mut Ctx<'_>) {
        let recently = self.last_heal_started.is_some_and(|t| ctx.now < t.saturating_add(ERROR_MESSAGE_INTERVAL));
        if ctx.settings.policy.allows_protocol() && !recently {
            self.last_heal_started = Some(ctx.now);
            self.send_query(ctx);
        }
    }

    /// Fails every held message with `reason`.
    pub fn fail_held(&mut self, ctx: &mut Ctx<'_>, reason: NotSentReason) {
        for held in self.held.take_all() {
            ctx.changed(PERSIST_HELD_MESSAGES);
            ctx.event(&self.name, 0, Event::MessageNotSent { message: held.id, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::settings::{PENDING_HANDSHAKE_COST, STRANGER_ENTRY_COST};

    #[test]
    fn budget_costs_cover_what_is_held() {
        // A map entry holds the value plus its key's header; handshake states live in boxes.
        let entry = core::mem::size_of::<Peer>() + core::mem::size_of::<String>();
        assert!(entry <= STRANGER_ENTRY_COST, "a peer entry is {entry} bytes");
        let responder = core::mem::size_of::<PendingResponder>() + 2 * core::mem::size_of::<usize>();
        let initiator = core::mem::size_of::<PendingInitiator>() + 2 * core::mem::size_of::<usize>();
        assert!(responder <= PENDING_HANDSHAKE_COST && initiator <= PENDING_HANDSHAKE_COST, "{responder} / {initiator}");
    }
}

impl Peer {
    /// Keeps the sent log of a session that is being replaced or dropped, so that a late report
    /// from the peer still names the lost messages.
    pub fn retire_sent_log(&mut self, log: SentLog) {
        if log.is_empty() {
            return;
        }
        if self.retired_sent_logs.len() == RETIRED_SENT_LOGS {
            self.retired_sent_logs.pop_front();
        }
        self.retired_sent_logs.push_back(log);
    }
}
