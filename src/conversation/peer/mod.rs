//! Everything about one remote name: its sessions (one per remote instance), handshakes in
//! progress, fragments being reassembled, messages held for encryption. Incoming text is
//! classified and dispatched here.

mod app_tlv;
mod data;
mod forget;
pub(super) mod handshake;
mod holding;
mod instance_map;
mod linking;
pub(crate) mod otr;
mod persist;
mod routing;
mod smp;
mod strangers;
mod timers;
mod transport;
mod upgrade;

pub(crate) use routing::Route;
pub(crate) use strangers::Afterwards;

use super::context::Ctx;
use super::error::ClientError;
use super::events::{Event, MessageId, Security};
use super::held::HeldMessages;
use super::protocol::ProtocolSession;
use super::session::{SentLog, SessionInfo};
use super::settings::ERROR_MESSAGE_INTERVAL;
use super::texts::TextKind;
use crate::ake::{AkeMessage, Initiator, Responder};
use crate::trust::TrustStore;
use crate::wire::data_message::DataMessage;
use crate::wire::{
    armour, classify, error_message, parse_fragment, whitespace, Incoming, InstanceTag, Reassembler, Versions,
};
use crate::wire::{encode_query, OtrKind};
use instance_map::InstanceMap;

/// A handshake we started, kept until it times out so that several remote instances can each
/// answer the same `Start`.
#[derive(Debug)]
pub(crate) struct PendingInitiator {
    state: Initiator,
    started_at: u64,
    /// Instances that already completed with it (a replayed `Reply` is ignored).
    finished_with: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct PendingResponder {
    state: Responder,
    started_at: u64,
}

/// How many replaced or ended sessions' sent logs a peer keeps for late unreadable reports.
pub const RETIRED_SENT_LOGS: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Peer {
    /// Shared with every action about this peer ([`super::PeerName`]).
    name: super::PeerName,
    // Boxed: the map's slots stay small, whatever the session's size (BENCHMARKS.md, memory).
    sessions: InstanceMap<Box<dyn ProtocolSession>>,
    initiator: Option<Box<PendingInitiator>>,
    responders: InstanceMap<Box<PendingResponder>>,
    /// Versions we advertised in our last query or tag (checked against the initiator's echo).
    advertised: u8,
    reassembler: Reassembler,
    held: HeldMessages,
    /// Stop tagging plaintext after the peer answers without a tag (OTR's rule).
    stop_tagging: bool,
    /// Where a plain `send` goes (among sessions [`Peer::routable`] allows): set only by the
    /// application's consent or by user text arriving on an allowed session, never by control
    /// messages (heartbeats, SMP, padding, extra keys, disconnects).
    preferred: Option<u32>,
    /// Unverified keys the application accepted for routing while a key of this peer is
    /// verified ([`Peer::accept_key`]). Memory only, at most `MAX_KEYS_PER_PEER`.
    accepted_keys: Vec<[u8; 32]>,
    /// Sent logs of sessions replaced or ended recently: a report that one of their messages
    /// was unreadable can arrive after the session is gone, and must still name it (memory
    /// only, the newest [`RETIRED_SENT_LOGS`]).
    retired_sent_logs: std::collections::VecDeque<SentLog>,
    last_error_sent: Option<u64>,
    last_query_sent: Option<u64>,
    /// When we last restarted the session because the peer reported it lost it.
    last_heal_started: Option<u64>,
    max_message_size: Option<usize>,
    /// OTR exchanges and fragments in progress, made on first use.
    otr: Option<Box<otr::OtrPeer>>,
    /// An upgrade from OTR to the modern protocol that the peer's probe asked for.
    upgrade: Option<upgrade::PendingUpgrade>,
    /// The application addressed this peer (sent to it, started a session, set a limit). Peers
    /// that only ever sent us something are forgotten as soon as they hold no state, so strangers
    /// cannot make us keep an entry per name they send from.
    pinned: bool,
}

impl Peer {
    pub fn new(name: &str) -> Self {
        Peer { name: name.into(), ..Peer::default() }
    }

    /// Handles one incoming transport message.
    pub fn receive(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        if !ctx.policy.allows_protocol() {
            self.deliver_plaintext(ctx, text.to_owned());
            return;
        }
        let incoming = match crate::otr::text::classify(text, ctx.policy.speaks_otr()) {
            crate::otr::text::Classified::Modern(incoming) => incoming,
            crate::otr::text::Classified::Otr(otr) => return self.receive_otr(ctx, text, otr),
        };
        match incoming {
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
        let accepted = self.reassembler.accept_fragment(fragment, ctx.now, ctx.unauth_room);
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
        let Ok(bytes) = armour::decode_into(message, ctx.spares.take_text()) else {
            return ctx.event(&self.name, 0, Event::Malformed);
        };
        if crate::ake::message::is_ake_message(&bytes) {
            match AkeMessage::parse(&bytes) {
                Some(ake) => self.receive_ake(ctx, ake),
                None => ctx.event(&self.name, 0, Event::Malformed),
            }
            return;
        }
        match DataMessage::parse_owned(bytes) {
            Ok(mut data) => self.receive_data(ctx, &mut data),
            Err(_) => ctx.event(&self.name, 0, Event::Malformed),
        }
    }

    fn receive_error(&mut self, ctx: &mut Ctx<'_>, peer_text: &str) {
        // The text is the peer's and untrusted: pass it on bounded, never act on its content.
        let text: String = peer_text.trim().chars().take(256).collect();
        if let Some(prefix) = handshake::parse_names_differ_report(&text) {
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
        } else if ctx.policy.has(super::Policy::ERROR_START_AKE) {
            self.ask_for_new_session(ctx);
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
                let policy = ctx.policy;
                if policy.has(super::Policy::WHITESPACE_START_AKE)
                    && !versions.intersection(Versions::SUPPORTED).is_empty()
                {
                    self.start_handshake(ctx, versions.bits());
                }
            }
            None => self.stop_tagging = true,
        }
        if self.sessions.values().any(|s| !s.is_finished()) {
            ctx.event(&self.name, 0, Event::UnencryptedWhileEncrypted);
        } else if ctx.policy.requires_encryption() {
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
            text: text.into_bytes().into(),
            security: Security::Plaintext,
        });
    }

    /// Sends our query message: the peer answers with a handshake in which we respond.
    pub fn send_query(&mut self, ctx: &mut Ctx<'_>) {
        self.advertised = Versions::SUPPORTED.bits();
        self.last_query_sent = Some(ctx.now);
        let otr = ctx.policy.otr_versions();
        let query = if otr.is_empty() {
            encode_query(Versions::SUPPORTED, ctx.settings.texts.get(TextKind::Query))
        } else {
            // `?OTRv3? ?OFRv1? ...`: OTR peers answer in OTR, offrec peers in the modern
            // protocol, which wins (an offrec peer that sees both never answers in OTR).
            crate::otr::text::combined_query(otr, Versions::SUPPORTED, ctx.settings.texts.get(TextKind::Query))
        };
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

    /// Sends a message the user typed, by policy: encrypted if possible, held if encryption is
    /// required, otherwise plaintext (tagged when the policy advertises). While the only live
    /// sessions use an unverified key of a peer with a verified key, the message is held until
    /// the application accepts that key (never sent in the clear, never to that key).
    /// Naming an instance is consent to its key ([`Peer::accept_key`]).
    ///
    /// A session restored from a store never carries traffic: a message for it (or for the
    /// peer, when restored sessions are all it has) is held and a new handshake started, as
    /// under a policy that requires encryption; it is never sent in the clear.
    pub fn send_user_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        text: &[u8],
        instance: Option<u32>,
    ) -> Result<(), ClientError> {
        let restored_instance =
            instance.is_some_and(|tag| self.sessions.get(&tag).is_some_and(|s| s.is_restored() && !s.is_finished()));
        if !restored_instance {
            match self.route(ctx.trust, instance)? {
                Route::To(tag) => {
                    if instance.is_some()
                        && !self.sessions.get(&tag).is_some_and(|s| self.routable(ctx.trust, s.as_ref()))
                    {
                        self.accept_key(ctx, tag)?;
                    } else {
                        // Messages held earlier go first, in order.
                        self.flush_held(ctx, tag);
                    }
                    if self.held_for_upgrade(tag) {
                        return self.hold_until_upgraded(ctx, tag, id, text);
                    }
                    return self.encrypt_user_message(ctx, tag, id, text);
                }
                Route::AwaitingConsent(tag) => {
                    let Some(fingerprint) = self.sessions.get(&tag).map(|s| s.their_fingerprint()) else {
                        return Err(ClientError::NoSession);
                    };
                    self.hold(ctx, id, text)?;
                    ctx.event(&self.name, tag, Event::KeyConsentRequired { message: id, fingerprint });
                    if self.has_restored_session() {
                        // The verified session may come back from the restart.
                        self.ask_for_new_session(ctx);
                    }
                    return Ok(());
                }
                Route::Nothing if instance.is_some() => return Err(ClientError::NoSession),
                Route::Nothing => {}
            }
        }
        let policy = ctx.policy;
        let restarting = restored_instance || (instance.is_none() && self.has_restored_session());
        if policy.requires_encryption() || (restarting && policy.allows_protocol()) {
            self.hold(ctx, id, text)?;
            ctx.event(&self.name, 0, Event::EncryptionRequired { message: id });
            if restarting {
                // Asked again even while a handshake is pending (rate-limited): a handshake
                // that crossed a crash or another start may never complete on its own.
                self.ask_for_new_session(ctx);
            } else if self.initiator.is_none() && self.responders.is_empty() {
                self.send_query(ctx);
            }
            return Ok(());
        }
        let plain = std::str::from_utf8(text).map_err(|_| ClientError::InvalidUtf8)?;
        if policy.allows_protocol() && policy.has(super::Policy::SEND_WHITESPACE_TAG) && !self.stop_tagging {
            self.advertised = Versions::SUPPORTED.bits();
            let otr = policy.otr_versions();
            let tagged = if otr.is_empty() {
                whitespace::append_tag(plain, Versions::SUPPORTED)
            } else {
                crate::otr::text::append_combined_tag(plain, otr, Versions::SUPPORTED)
            };
            ctx.send(&self.name, tagged);
        } else {
            ctx.send(&self.name, plain.to_owned());
        }
        Ok(())
    }

    /// The peer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether there is a session with remote instance `tag`.
    pub fn has_session(&self, tag: u32) -> bool {
        self.sessions.contains_key(&tag)
    }

    /// What a UI shows about each session, one per remote instance.
    pub fn session_infos(&self, trust: &TrustStore) -> Vec<SessionInfo> {
        self.sessions.values().map(|s| s.info(trust, &self.name)).collect()
    }

    /// Whether a session restored from a store (and not finished by the peer) is waiting to be
    /// replaced by a new handshake.
    pub fn has_restored_session(&self) -> bool {
        self.sessions.values().any(|s| s.is_restored() && !s.is_finished())
    }

    /// Asks the peer for a new session (our query; the peer answers with a handshake), at most
    /// once per [`ERROR_MESSAGE_INTERVAL`]: after the peer reported it lost the session, to
    /// replace sessions restored from a store, and on an error message under
    /// `ERROR_START_AKE`. Every trigger is unauthenticated or repeatable, so none may become a
    /// flood of queries.
    pub fn ask_for_new_session(&mut self, ctx: &mut Ctx<'_>) {
        let recently = self.last_heal_started.is_some_and(|t| ctx.now < t.saturating_add(ERROR_MESSAGE_INTERVAL));
        if ctx.policy.allows_protocol() && !recently {
            self.last_heal_started = Some(ctx.now);
            self.send_query(ctx);
        }
    }
}

impl Peer {
    /// Keeps the sent log of a session that is being replaced or dropped, so that a late report
    /// from the peer still names the lost messages.
    /// Removes a session, keeping its sent log for late reports ([`Peer::retire_sent_log`]).
    pub fn drop_session(&mut self, tag: u32) -> Option<Box<dyn ProtocolSession>> {
        let mut session = self.sessions.remove(&tag)?;
        self.retire_sent_log(session.take_sent_log());
        Some(session)
    }

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
        assert!(
            responder <= PENDING_HANDSHAKE_COST && initiator <= PENDING_HANDSHAKE_COST,
            "{responder} / {initiator}"
        );
    }
}
