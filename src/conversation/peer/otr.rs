//! OTR v3/v2 traffic for a peer: queries, whitespace tags, encoded and fragmented messages,
//! error messages, the AKE with each remote instance, and data messages, which end in the same
//! [`Peer::receive_opened`] as modern ones. Negotiation: the modern protocol wins whenever
//! both sides offer it; OTR is the fallback for peers that offer OTR only (PROTOCOL.md
//! part B).

use std::collections::BTreeMap;

use super::super::context::Ctx;
use super::super::events::Event;
use super::super::otr_session::OtrSession;
use super::super::protocol::{Inbound, OpenError, Protocol, ProtocolSession};
use super::super::settings::{MAX_PENDING_RESPONDERS, PENDING_HANDSHAKE_COST};
use super::super::texts::TextKind;
use super::Peer;
use crate::otr::ake::{Ake, AkeError, AkeOutcome, AkeState};
use crate::otr::message::{parse_header, MessageType, OtrVersion, FLAG_IGNORE_UNREADABLE};
use crate::otr::text::{self, OtrIncoming, OtrReassembler, OtrVersions};
use crate::wire::{InstanceTag, OtrKind, Versions};

/// The instance a v2 session is kept under: v2 has no instance tags, and OTR never uses a tag
/// below 0x100, so this one cannot collide with a v3 instance.
pub const OTR_V2_INSTANCE: u32 = 2;

/// A D-H Commit is not repeated more often than this (a query flood must not make us spin
/// 1536-bit exponentiations).
const MIN_SECONDS_BETWEEN_COMMITS: u64 = 2;

/// [`Event::HandshakeFailed`] reason for an OTR AKE that failed (a bad signature or MAC, a
/// commitment that does not match, a DH value out of range).
pub const HANDSHAKE_OTR_FAILED: u32 = 9;

/// A peer's OTR state, made on first use so that peers that never meet OTR pay nothing.
#[derive(Debug, Default)]
pub(crate) struct OtrPeer {
    /// Our D-H Commit to every instance (receiver tag 0), kept so that each instance that
    /// answers gets its own copy of the exchange (libotr's copy-on-key), until it times out.
    master: Option<(Box<Ake>, u64)>,
    /// Instances that completed an exchange with `master` (their later commits are re-keys).
    finished_with_master: Vec<u32>,
    /// Exchanges in progress with one remote instance (v2 under [`OTR_V2_INSTANCE`]).
    akes: BTreeMap<u32, (Box<Ake>, u64)>,
    reassembler: OtrReassembler,
}

impl OtrPeer {
    /// Bytes held for unauthenticated senders: fragments and exchanges they started.
    pub fn unauthenticated_bytes(&self) -> usize {
        self.reassembler.held_bytes().saturating_add(self.akes.len().saturating_mul(PENDING_HANDSHAKE_COST))
    }

    /// Whether nothing is in progress.
    pub fn is_idle(&self) -> bool {
        self.master.is_none() && self.akes.is_empty() && self.reassembler.open_buffers() == 0
    }

    /// Drops exchanges started before `deadline` and fragments past their age.
    pub fn expire(&mut self, now: u64, deadline: u64) {
        self.reassembler.expire(now);
        if self.master.as_ref().is_some_and(|(_, at)| *at < deadline) {
            self.master = None;
            self.finished_with_master.clear();
        }
        self.akes.retain(|_, (_, at)| *at >= deadline);
    }

    /// Forgets every exchange in progress (the user ended the conversation).
    pub fn clear(&mut self) {
        self.master = None;
        self.finished_with_master.clear();
        self.akes.clear();
    }
}

impl Peer {
    fn otr_state(&mut self) -> &mut OtrPeer {
        self.otr.get_or_insert_with(Box::default)
    }

    /// Handles a message OTR is involved in (`text` is the whole message).
    pub(super) fn receive_otr(&mut self, ctx: &mut Ctx<'_>, text: &str, incoming: OtrIncoming<'_>) {
        match incoming {
            OtrIncoming::Fragment { message, .. } => self.receive_otr_fragment(ctx, message),
            OtrIncoming::Encoded { version, message } => self.receive_otr_encoded(ctx, version, message),
            OtrIncoming::Error(peer_text) => self.receive_otr_error(ctx, peer_text),
            OtrIncoming::Query { otr, modern } => self.receive_otr_query(ctx, otr, modern),
            OtrIncoming::Plaintext { text, otr, modern } => self.receive_otr_plaintext(ctx, text, otr, modern),
            OtrIncoming::Foreign(kind) => {
                ctx.event(&self.name, 0, Event::ForeignProtocol);
                if matches!(kind, OtrKind::Query | OtrKind::WhitespaceTag) {
                    self.deliver_plaintext(ctx, text.to_owned());
                }
            }
        }
    }

    fn receive_otr_fragment(&mut self, ctx: &mut Ctx<'_>, message: &str) {
        let our_tag = InstanceTag(ctx.our_tag);
        let (accepted, grown) = {
            let otr = self.otr_state();
            let before = otr.reassembler.held_bytes();
            let accepted = otr.reassembler.accept_within(message, our_tag, ctx.now, ctx.unauth_room);
            (accepted, otr.reassembler.held_bytes().saturating_sub(before))
        };
        ctx.unauth_room = ctx.unauth_room.saturating_sub(grown);
        match accepted {
            Ok(Some(whole)) => match text::classify(&whole, true) {
                // Never fragments inside fragments: only a whole encoded message counts.
                text::Classified::Otr(OtrIncoming::Encoded { version, message }) => {
                    self.receive_otr_encoded(ctx, version, message)
                }
                _ => ctx.event(&self.name, 0, Event::Malformed),
            },
            Ok(None) => {}
            Err(text::TextError::OverBudget) => ctx.event(&self.name, 0, Event::InputDropped),
            // Another instance's fragment, or one out of order: libotr drops them silently.
            Err(text::TextError::ForOtherInstance | text::TextError::OutOfOrder) => {}
            Err(_) => ctx.event(&self.name, 0, Event::Malformed),
        }
    }

    fn receive_otr_encoded(&mut self, ctx: &mut Ctx<'_>, version: OtrVersion, message: &str) {
        if !ctx.policy.otr_versions().contains(version.as_set()) {
            // A version our policy does not speak: reported, never answered.
            return ctx.event(&self.name, 0, Event::ForeignProtocol);
        }
        let Ok(bytes) = text::armour::decode(message) else {
            return ctx.event(&self.name, 0, Event::Malformed);
        };
        let header = match parse_header(&bytes) {
            Ok(header) if header.version == version => header,
            _ => return ctx.event(&self.name, 0, Event::Malformed),
        };
        if version == OtrVersion::V3 && header.sender_tag.0 == ctx.our_tag {
            return ctx.event(&self.name, 0, Event::Reflected);
        }
        let instance = match version {
            OtrVersion::V3 => header.sender_tag.0,
            OtrVersion::V2 => OTR_V2_INSTANCE,
        };
        // Every v3 message but the D-H Commit names our instance exactly (libotr's rule).
        let receiver = header.receiver_tag.0;
        let for_us = version == OtrVersion::V2
            || receiver == ctx.our_tag
            || (header.message_type == MessageType::DhCommit && receiver == 0);
        if !for_us {
            return ctx.event(&self.name, instance, Event::ForOtherInstance);
        }
        match header.message_type {
            // The flags byte follows the header just read (not read a second time).
            MessageType::Data => {
                let flags = bytes.get(header.encoded_len()).copied();
                self.receive_otr_data(ctx, instance, &bytes, flags)
            }
            _ => self.receive_otr_ake(ctx, version, instance, &bytes),
        }
    }

    /// A data message for `instance`; `flags` is its flags byte, if it has one (libotr reads
    /// them from a message that may not parse, to decide whether to complain).
    fn receive_otr_data(&mut self, ctx: &mut Ctx<'_>, instance: u32, bytes: &[u8], flags: Option<u8>) {
        let quiet = flags.is_some_and(|flags| flags & FLAG_IGNORE_UNREADABLE != 0);
        let session = self.sessions.get_mut(&instance).filter(|s| s.protocol().is_legacy() && !s.is_finished());
        let Some(session) = session else {
            // OTR's healing: tell the sender, so that libotr can re-key (rate-limited, and
            // never for messages flagged ignore-if-unreadable: heartbeats, SMP, disconnects).
            if !quiet {
                ctx.event(&self.name, instance, Event::NotInPrivate);
                self.send_otr_error(ctx, TextKind::OtrNotInPrivate);
            }
            return;
        };
        match session.open(Inbound::Otr(bytes), ctx.now, ctx.rng) {
            Ok(opened) => self.receive_opened(ctx, instance, opened),
            Err(OpenError::Malformed) => {
                ctx.event(&self.name, instance, Event::Malformed);
                if !quiet {
                    self.send_otr_error(ctx, TextKind::OtrMalformed);
                }
            }
            Err(_) => {
                if !quiet {
                    ctx.event(&self.name, instance, Event::Unreadable);
                    self.send_otr_error(ctx, TextKind::OtrUnreadable);
                }
            }
        }
    }

    fn receive_otr_ake(&mut self, ctx: &mut Ctx<'_>, version: OtrVersion, instance: u32, bytes: &[u8]) {
        let now = ctx.now;
        let message_type = parse_header(bytes).map_or(MessageType::Data, |h| h.message_type);
        let otr = self.otr_state();
        // Our commit to every instance, unless this instance already completed an exchange
        // with it: a later commit from that instance is a re-key, not a crossing.
        let master = otr
            .master
            .as_ref()
            .filter(|(ake, _)| ake.version() == version && !otr.finished_with_master.contains(&instance))
            .map(|(ake, _)| &**ake);
        let existing = otr.akes.get(&instance).map(|(ake, _)| ake.state());
        // An exchange in which we answered the instance's commit before we sent our current
        // commit to every instance: a D-H Key from that instance now answers our commit (it
        // dropped its own, or our D-H Key never arrived), so it replaces that exchange.
        let master_at = otr.master.as_ref().map(|(_, at)| *at);
        let superseded = otr.akes.get(&instance).is_some_and(|(ake, at)| {
            ake.state() == AkeState::AwaitingRevealSignature && master_at.is_some_and(|m| *at < m)
        });
        // An instance without an exchange gets its own copy of our commit to every instance
        // (libotr's copy-on-key): a D-H Key answers it, a D-H Commit crosses it (the higher
        // hash wins).
        let fresh = match (message_type, existing, master) {
            (MessageType::DhKey | MessageType::DhCommit, None, Some(master)) => Some(Box::new(master.clone())),
            (MessageType::DhKey, Some(_), Some(master)) if superseded => Some(Box::new(master.clone())),
            (MessageType::DhCommit, None, None) => {
                Some(Box::new(Ake::new(version, InstanceTag(ctx.our_tag), InstanceTag::NONE)))
            }
            (_, None, _) => return,
            _ => None,
        };
        if let Some(fresh) = fresh {
            // An exchange started by an unauthenticated message must fit the budget.
            let grows = existing.is_none();
            if grows && (ctx.unauth_room < PENDING_HANDSHAKE_COST || otr.akes.len() >= MAX_PENDING_RESPONDERS) {
                return ctx.event(&self.name, instance, Event::InputDropped);
            }
            if grows {
                ctx.unauth_room = ctx.unauth_room.saturating_sub(PENDING_HANDSHAKE_COST);
            }
            otr.akes.insert(instance, (fresh, now));
        }
        let outcome = {
            let (identity, rng) = match ctx.otr_identity() {
                Ok(parts) => parts,
                Err(_) => {
                    return ctx.event(&self.name, instance, Event::HandshakeFailed { reason: HANDSHAKE_OTR_FAILED })
                }
            };
            let Some((ake, _)) = self.otr.as_mut().and_then(|otr| otr.akes.get_mut(&instance)) else { return };
            ake.receive(bytes, identity, rng)
        };
        match outcome {
            Ok(AkeOutcome::Reply(reply)) => {
                if self.send_otr_binary(ctx, version, &reply, instance_receiver(version, instance)).is_err() {
                    ctx.event(
                        &self.name,
                        instance,
                        Event::HandshakeFailed { reason: super::handshake::HANDSHAKE_UNSENDABLE },
                    );
                }
            }
            Ok(AkeOutcome::Established { reply, session }) => {
                if let Some(otr) = self.otr.as_mut() {
                    otr.akes.remove(&instance);
                    if version == OtrVersion::V2 {
                        otr.master = None;
                    } else if otr.master.is_some() && !otr.finished_with_master.contains(&instance) {
                        otr.finished_with_master.push(instance);
                    }
                }
                if let Some(reply) = reply {
                    let _ = self.send_otr_binary(ctx, version, &reply, instance_receiver(version, instance));
                }
                // An exchange that derived the keys of the instance's session (a replayed D-H Key
                // and Signature meeting our kept commit) is a refresh, as libotr calls it:
                // installing it anew would restart the counters and let every old message be
                // replayed, whether that session is running or finished. `finished_with_master`
                // already keeps a replay from getting this far; this is the second wall.
                let current = self.sessions.get(&instance).filter(|s| s.protocol().is_legacy());
                if current.and_then(|s| s.info(ctx.trust, &self.name).otr).is_some_and(|otr| otr.ssid == session.ssid) {
                    return;
                }
                let our_fingerprint = ctx.otr_identity.as_ref().map(|id| id.fingerprint()).unwrap_or([0; 20]);
                match OtrSession::new(*session, instance, our_fingerprint, ctx.now, ctx.rng) {
                    Ok(session) => {
                        let protocol = if version == OtrVersion::V3 { Protocol::OtrV3 } else { Protocol::OtrV2 };
                        let pins = self.check_pins(ctx, instance, &session.their_fingerprint());
                        self.install_session(ctx, Box::new(session));
                        ctx.event(&self.name, instance, Event::LegacySessionStarted { protocol });
                        self.act_on_pins(ctx, instance, pins);
                        if version == OtrVersion::V3 {
                            self.send_modern_offer(ctx, instance);
                        }
                    }
                    Err(_) => ctx.event(&self.name, instance, Event::HandshakeFailed { reason: HANDSHAKE_OTR_FAILED }),
                }
            }
            Ok(AkeOutcome::Ignored(_)) => {}
            Err(AkeError::Malformed(_)) => ctx.event(&self.name, instance, Event::Malformed),
            Err(_) => ctx.event(&self.name, instance, Event::HandshakeFailed { reason: HANDSHAKE_OTR_FAILED }),
        }
    }

    fn receive_otr_error(&mut self, ctx: &mut Ctx<'_>, peer_text: &str) {
        // The text is the peer's and untrusted: pass it on bounded, never act on its content.
        let text: String = peer_text.trim().chars().take(256).collect();
        ctx.event(&self.name, 0, Event::PeerError { text });
        if ctx.policy.has(crate::conversation::Policy::ERROR_START_AKE) {
            self.ask_for_new_session(ctx);
        }
    }

    fn receive_otr_query(&mut self, ctx: &mut Ctx<'_>, otr: OtrVersions, modern: Option<Versions>) {
        if let Some(modern) = modern.filter(|m| !m.intersection(Versions::SUPPORTED).is_empty()) {
            // Both offered: the modern protocol always wins.
            return self.receive_query(ctx, modern);
        }
        match otr.best(ctx.policy.otr_versions()) {
            Some(version) => self.start_otr_ake(ctx, version),
            None => ctx.event(&self.name, 0, Event::ForeignProtocol),
        }
    }

    fn receive_otr_plaintext(
        &mut self,
        ctx: &mut Ctx<'_>,
        text: String,
        otr: Option<OtrVersions>,
        modern: Option<Versions>,
    ) {
        let modern = modern.filter(|m| !m.intersection(Versions::SUPPORTED).is_empty());
        if modern.is_none() {
            let best = otr.and_then(|o| o.best(ctx.policy.otr_versions()));
            let start = ctx.policy.has(crate::conversation::Policy::WHITESPACE_START_AKE)
                && !self.sessions.values().any(|s| s.usable());
            if let (Some(version), true) = (best, start) {
                self.start_otr_ake(ctx, version);
            }
        }
        // A tag of either protocol means the peer still advertises (we keep tagging); only our
        // own tag starts a modern handshake (an empty set starts nothing).
        let tag = modern.or(otr.map(|_| Versions::empty()));
        self.receive_plaintext(ctx, text, tag)
    }

    /// Starts an OTR AKE (our D-H Commit): to every instance for v3, as libotr does after a
    /// query, and the only one for v2.
    pub(super) fn start_otr_ake(&mut self, ctx: &mut Ctx<'_>, version: OtrVersion) {
        let now = ctx.now;
        let otr = self.otr_state();
        let last = match version {
            OtrVersion::V3 => otr.master.as_ref().map(|(_, at)| *at),
            OtrVersion::V2 => otr.akes.get(&OTR_V2_INSTANCE).map(|(_, at)| *at),
        };
        if last.is_some_and(|at| now < at.saturating_add(MIN_SECONDS_BETWEEN_COMMITS)) {
            return;
        }
        let mut ake = Box::new(Ake::new(version, InstanceTag(ctx.our_tag), InstanceTag::NONE));
        let commit = {
            // The DSA identity is needed when the exchange completes; made now so that a slow
            // first generation happens before the peer answers, not in the middle.
            let (_, rng) = match ctx.otr_identity() {
                Ok(parts) => parts,
                Err(_) => return ctx.event(&self.name, 0, Event::HandshakeFailed { reason: HANDSHAKE_OTR_FAILED }),
            };
            match ake.start(rng) {
                Ok(commit) => commit,
                Err(_) => return ctx.event(&self.name, 0, Event::HandshakeFailed { reason: HANDSHAKE_OTR_FAILED }),
            }
        };
        let otr = self.otr_state();
        if version == OtrVersion::V2 {
            otr.akes.insert(OTR_V2_INSTANCE, (ake, now));
        } else {
            // Exchanges that continue an older commit of ours (awaiting a D-H Key or the
            // Signature) are superseded by this one: their r would open the old commit.
            otr.akes.retain(|_, (a, _)| {
                a.version() != OtrVersion::V3
                    || !matches!(a.state(), AkeState::AwaitingDhKey | AkeState::AwaitingSignature)
            });
            otr.master = Some((ake, now));
            otr.finished_with_master.clear();
        }
        if self.send_otr_binary(ctx, version, &commit, 0).is_err() {
            ctx.event(&self.name, 0, Event::HandshakeFailed { reason: super::handshake::HANDSHAKE_UNSENDABLE });
        }
    }

    /// Sends an OTR error message (`?OTR Error: ...`), sharing the error-message rate limit:
    /// at most one per interval, and never in answer to an error message.
    /// The words are the application's ([`TextKind`], `Client::set_text`).
    pub(super) fn send_otr_error(&mut self, ctx: &mut Ctx<'_>, kind: TextKind) {
        if let Some(last) = self.last_error_sent {
            if ctx.now < last.saturating_add(super::ERROR_MESSAGE_INTERVAL) {
                return;
            }
        }
        self.last_error_sent = Some(ctx.now);
        let settings = ctx.settings;
        ctx.send(&self.name, text::error::encode(settings.texts.get(kind)));
    }
}

/// The receiver tag of a message to `instance`: the instance for v3, none for v2.
fn instance_receiver(version: OtrVersion, instance: u32) -> u32 {
    match version {
        OtrVersion::V3 => instance,
        OtrVersion::V2 => 0,
    }
}
