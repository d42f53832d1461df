//! Driving the AKE for a peer: starting, answering, crossed starts, several remote instances,
//! and installing the new session (the old one keeps working until then).

use super::super::context::Ctx;
use super::super::events::{Event, PERSIST_SESSIONS, PERSIST_TRUST};
use super::super::protocol::ProtocolSession;
use super::super::session::Session;
use super::super::settings::{MAX_INSTANCES_PER_PEER, MAX_PENDING_RESPONDERS, PENDING_HANDSHAKE_COST};
use super::{Peer, PendingInitiator, PendingResponder};
use crate::ake::{AkeConfig, AkeError, AkeKind, AkeMessage, Established, Initiator, Responder};
use crate::trust::Observation;

/// [`Event::HandshakeFailed`] reason when a handshake message could not be sent (the transport
/// limit is too small to fragment it into).
pub const HANDSHAKE_UNSENDABLE: u32 = 7;
/// [`Event::HandshakeFailed`] reason when the two sides bind different names (account names,
/// network, or the name-binding setting; PROTOCOL.md §4.2): the responder sees it in `Start`
/// and tells the initiator with a [`NAMES_DIFFER_ERROR_TEXT`] error message.
pub const HANDSHAKE_NAMES_DIFFER: u32 = 8;
/// The error text a responder sends when a `Start` binds other names than it does:
/// `handshake names differ <16 hex digits>`, the first 8 bytes of that `Start`'s ephemeral key.
pub const NAMES_DIFFER_ERROR_TEXT: &str = "handshake names differ";

/// The error text telling the initiator of the `Start` with ephemeral `prefix` that the names
/// differ.
pub fn names_differ_report(prefix: &[u8; 8]) -> String {
    format!("{NAMES_DIFFER_ERROR_TEXT} {}", crate::wire::unreadable_report::prefix_to_hex(prefix))
}

/// Parses [`names_differ_report`]'s text back; `None` for any other error text.
pub fn parse_names_differ_report(text: &str) -> Option<[u8; 8]> {
    crate::wire::unreadable_report::prefix_from_hex(text.trim().strip_prefix(NAMES_DIFFER_ERROR_TEXT)?.trim())
}

/// A stable code for each handshake failure, carried by [`Event::HandshakeFailed`].
pub fn handshake_failure_code(error: AkeError) -> u32 {
    match error {
        AkeError::Malformed => 1,
        AkeError::WrongInstance => 2,
        AkeError::VersionMismatch => 3,
        AkeError::AuthenticationFailed => 4,
        AkeError::NonContributory => 5,
        AkeError::Random => 6,
        AkeError::NamesDiffer => HANDSHAKE_NAMES_DIFFER,
    }
}

/// A fresh handshake start is not repeated more often than this (a query flood must not make
/// us spin handshakes).
const MIN_SECONDS_BETWEEN_STARTS: u64 = 2;

impl Peer {
    /// Starts a handshake as initiator; `offer_seen` is the versions the peer advertised.
    pub fn start_handshake(&mut self, ctx: &mut Ctx<'_>, offer_seen: u8) {
        if let Some(pending) = &self.initiator {
            let fresh = ctx.now < pending.started_at.saturating_add(MIN_SECONDS_BETWEEN_STARTS);
            if fresh && pending.finished_with.is_empty() {
                return;
            }
        }
        let phi = ctx.phi(&self.name);
        let config = AkeConfig { identity: ctx.identity, our_tag: ctx.our_tag, phi: &phi };
        match Initiator::start(config, 0, offer_seen, ctx.rng) {
            Ok((state, start)) => {
                self.initiator =
                    Some(Box::new(PendingInitiator { state, started_at: ctx.now, finished_with: Vec::new() }));
                // A handshake message is tiny; the only failure is a size limit too small to
                // fragment into, which the app set.
                if self.send_binary(ctx, &start.to_bytes(), 0).is_err() {
                    ctx.event(&self.name, 0, Event::HandshakeFailed { reason: HANDSHAKE_UNSENDABLE });
                }
            }
            Err(error) => ctx.event(&self.name, 0, Event::HandshakeFailed { reason: handshake_failure_code(error) }),
        }
    }

    pub fn receive_ake(&mut self, ctx: &mut Ctx<'_>, message: AkeMessage) {
        if message.sender_tag == ctx.our_tag {
            return ctx.event(&self.name, 0, Event::Reflected);
        }
        let for_us =
            message.receiver_tag == ctx.our_tag || (message.kind == AkeKind::Start && message.receiver_tag == 0);
        if !for_us {
            // Handshakes with our other instances are broadcast to us too: not worth an event.
            return;
        }
        match message.kind {
            AkeKind::Start => self.answer_start(ctx, &message),
            AkeKind::Reply => self.finish_as_initiator(ctx, &message),
            AkeKind::Finish => self.finish_as_responder(ctx, &message),
        }
    }

    fn answer_start(&mut self, ctx: &mut Ctx<'_>, start: &AkeMessage) {
        if let Some(pending) = &self.initiator {
            if pending.finished_with.is_empty() {
                // Crossed starts: the higher ephemeral hash stays initiator.
                if !pending.state.should_yield_to(start) {
                    return;
                }
                self.initiator = None;
            }
        }
        // A Start is unauthenticated: a new pending handshake must fit the client's budget.
        let grows = !self.responders.contains_key(&start.sender_tag) && self.responders.len() < MAX_PENDING_RESPONDERS;
        if grows {
            if ctx.unauth_room < PENDING_HANDSHAKE_COST {
                return ctx.event(&self.name, start.sender_tag, Event::InputDropped);
            }
            ctx.unauth_room = ctx.unauth_room.saturating_sub(PENDING_HANDSHAKE_COST);
        }
        let phi = ctx.phi(&self.name);
        let config = AkeConfig { identity: ctx.identity, our_tag: ctx.our_tag, phi: &phi };
        match Responder::respond(config, start, self.advertised, ctx.rng) {
            Ok((state, reply)) => {
                if !self.responders.contains_key(&start.sender_tag) && self.responders.len() >= MAX_PENDING_RESPONDERS {
                    let oldest = self.responders.iter().min_by_key(|(_, r)| r.started_at).map(|(tag, _)| *tag);
                    if let Some(tag) = oldest {
                        self.responders.remove(&tag);
                    }
                }
                self.responders.insert(start.sender_tag, Box::new(PendingResponder { state, started_at: ctx.now }));
                if self.send_binary(ctx, &reply.to_bytes(), start.sender_tag).is_err() {
                    ctx.event(&self.name, start.sender_tag, Event::HandshakeFailed { reason: HANDSHAKE_UNSENDABLE });
                }
            }
            Err(AkeError::NamesDiffer) => {
                // Tell the initiator at once, naming its Start, instead of letting it wait for
                // a Reply that would fail anyway. Not subject to the error-message rate limit:
                // like a Reply it answers one Start (never an error message, so two engines
                // cannot loop), and an earlier unrelated error must not swallow it.
                ctx.event(&self.name, start.sender_tag, Event::HandshakeFailed { reason: HANDSHAKE_NAMES_DIFFER });
                if let Some(prefix) = crate::ake::handshake::start_ephemeral_prefix(&start.noise) {
                    ctx.send(&self.name, crate::wire::error_message::encode(&names_differ_report(&prefix)));
                }
            }
            Err(error) => ctx.event(
                &self.name,
                start.sender_tag,
                Event::HandshakeFailed { reason: handshake_failure_code(error) },
            ),
        }
    }

    /// The peer says the `Start` whose ephemeral begins with `prefix` binds other names than it
    /// does. Reported only if that is our pending `Start` (the error is unauthenticated, so a
    /// stranger who never saw it cannot produce one); the pending handshake is kept, since a
    /// forged error must not cancel a genuine handshake.
    pub fn names_differ_reported(&mut self, ctx: &mut Ctx<'_>, prefix: &[u8; 8]) -> bool {
        let ours = self
            .initiator
            .as_ref()
            .is_some_and(|p| p.finished_with.is_empty() && p.state.ephemeral_prefix() == *prefix);
        if ours {
            ctx.event(&self.name, 0, Event::HandshakeFailed { reason: HANDSHAKE_NAMES_DIFFER });
        }
        ours
    }

    fn finish_as_initiator(&mut self, ctx: &mut Ctx<'_>, reply: &AkeMessage) {
        let Some(pending) = &self.initiator else { return };
        if pending.finished_with.contains(&reply.sender_tag) {
            return; // a replayed Reply must not replace the live session
        }
        match pending.state.finish(reply, ctx.rng) {
            Ok((finish, established)) => {
                if let Some(pending) = &mut self.initiator {
                    pending.finished_with.push(reply.sender_tag);
                }
                if self.send_binary(ctx, &finish.to_bytes(), reply.sender_tag).is_ok() {
                    self.install(ctx, established);
                } else {
                    ctx.event(&self.name, reply.sender_tag, Event::HandshakeFailed { reason: HANDSHAKE_UNSENDABLE });
                }
            }
            Err(error) => ctx.event(
                &self.name,
                reply.sender_tag,
                Event::HandshakeFailed { reason: handshake_failure_code(error) },
            ),
        }
    }

    fn finish_as_responder(&mut self, ctx: &mut Ctx<'_>, finish: &AkeMessage) {
        let Some(pending) = self.responders.get(&finish.sender_tag) else { return };
        match pending.state.finish(finish, ctx.rng) {
            Ok(established) => {
                self.responders.remove(&finish.sender_tag);
                self.install(ctx, established);
            }
            Err(error) => ctx.event(
                &self.name,
                finish.sender_tag,
                Event::HandshakeFailed { reason: handshake_failure_code(error) },
            ),
        }
    }

    /// Makes a completed handshake the session for its instance and tells the UI. The new
    /// session becomes preferred and receives the held messages only if plain sends may use it
    /// ([`Peer::routable`]): a new unverified key of a peer with a verified key waits for the
    /// application's consent ([`Event::KeyConsentRequired`]), and so do the held messages.
    fn install(&mut self, ctx: &mut Ctx<'_>, established: Established) {
        let session = Session::new(established, ctx.our_fingerprint, ctx.now);
        self.install_session(ctx, Box::new(session));
    }

    /// Installs a new session of any protocol for its instance (see [`Peer::install`]).
    pub(super) fn install_session(&mut self, ctx: &mut Ctx<'_>, mut session: Box<dyn ProtocolSession>) {
        let tag = session.their_tag();
        // Sessions restored from a store never send again: what they still had to reveal
        // rides in the new session's headers instead, so a restart costs no deniability.
        if let Some(new) = session.as_modern_mut() {
            for old in self.sessions.values_mut().filter(|s| s.is_restored()) {
                if let Some(old) = old.as_modern_mut() {
                    old.hand_over_reveals_to(new);
                }
            }
        }
        ctx.changed(PERSIST_SESSIONS);
        let fingerprint = session.their_fingerprint();
        let observation = ctx.trust.observe(&self.name, fingerprint);
        if !matches!(observation, Observation::Known(_)) {
            ctx.changed(PERSIST_TRUST);
        }
        match observation {
            Observation::FirstKey => ctx.event(&self.name, tag, Event::NewFingerprint { fingerprint }),
            Observation::Changed { previous, previous_verified } => ctx.event(
                &self.name,
                tag,
                Event::FingerprintChanged { old: previous, new: fingerprint, old_was_verified: previous_verified },
            ),
            Observation::Known(_) => {}
        }
        let same_protocol = self.sessions.get(&tag).is_some_and(|old| old.protocol() == session.protocol());
        let replaced_legacy =
            !session.protocol().is_legacy() && self.sessions.get(&tag).is_some_and(|old| old.protocol().is_legacy());
        if self.sessions.contains_key(&tag) && !same_protocol {
            // Another protocol's session with this instance (an upgrade from OTR, say): it
            // publishes what it still has to reveal in its own messages, then goes.
            self.retire_session(ctx, tag);
            self.drop_session(tag);
        }
        if let Some(old) = self.sessions.get_mut(&tag) {
            // A refresh: the old session's pending reveals and skipped keys ride on the new
            // session's next messages instead of being dropped with it.
            if let (Some(new), Some(old)) = (session.as_modern_mut(), old.as_modern_mut()) {
                new.inherit_reveals_from(old);
            }
            let log = old.take_sent_log();
            self.retire_sent_log(log); // the old session itself is replaced by the insert below
        } else if self.sessions.len() >= MAX_INSTANCES_PER_PEER {
            // Make room: sessions with an unverified key go first, then the idlest, so a flood
            // of new instances cannot push out the verified session before others.
            let trust = &*ctx.trust;
            let idle = self
                .sessions
                .values()
                .min_by_key(|s| (trust.trust(&self.name, &s.their_fingerprint()).is_verified(), s.last_activity()))
                .map(|s| s.their_tag());
            if let Some(idle) = idle {
                self.retire_session(ctx, idle);
                self.drop_session(idle);
            }
        }
        let modern = !session.protocol().is_legacy();
        self.sessions.insert(tag, session);
        if modern {
            self.upgrade_completed(ctx, tag, fingerprint, replaced_legacy);
            self.modern_session_installed(ctx, tag);
        }
        let routable = self.sessions.get(&tag).is_some_and(|s| self.routable(ctx.trust, s.as_ref()));
        if routable {
            self.preferred = Some(tag);
        } else if self.preferred == Some(tag) {
            // The session this instance had is gone (replaced by one with another key).
            self.preferred = None;
        }
        let state = ctx.encrypted_state(&self.name, &fingerprint);
        ctx.state(&self.name, tag, state);
        ctx.event(&self.name, tag, Event::HandshakeComplete);
        if !routable {
            // The irssi-otr#23 lesson: never push text to a key the user has not accepted.
            ctx.event(&self.name, tag, Event::KeyConsentRequired { message: 0, fingerprint });
            return;
        }
        self.flush_held(ctx, tag);
    }
}
