//! Encrypted traffic for a peer: sending through a session's ratchet, and reading data
//! messages with their TLVs (disconnect, SMP, extra symmetric key, padding).

use zeroize::Zeroizing;

use super::super::context::{push_action, Ctx};
use super::super::error::ClientError;
use super::super::events::{Action, Event, MessageId, SessionState, PERSIST_SENT_LOG, PERSIST_SESSIONS};
use super::super::protocol::{Control, Inbound, OpenError, Opened, ReceivedControl, Sealed};
use super::{transport, Peer};
use crate::wire::data_message::{OwnedDataMessage, FLAG_IGNORE_UNREADABLE};
use crate::wire::unreadable_report::{self, LostScope};

impl Peer {
    /// Encrypts `text` and `controls` to the session with instance `tag` and sends it.
    pub fn encrypt_to(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        text: &[u8],
        controls: &[Control<'_>],
        flags: u8,
    ) -> Result<Sealed, ClientError> {
        self.seal_and_send(ctx, tag, text, controls, flags, false)
    }

    /// Encrypts and sends a message the user typed, remembering which wire message carried it.
    pub fn encrypt_user_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        id: MessageId,
        text: &[u8],
    ) -> Result<(), ClientError> {
        let offer = self.modern_offer_for_user_message(ctx, tag);
        // Read in place, not moved out first (see `seal_and_send`).
        let result = self.seal_and_send(ctx, tag, text, offer.as_slice(), 0, false);
        let sent = match &result {
            Ok(sent) => sent,
            Err(_) => return result.map(|_| ()),
        };
        if let Some(session) = self.sessions.get_mut(&tag) {
            session.record_sent(sent, id);
            if sent.log_marker.is_some() {
                ctx.changed(PERSIST_SENT_LOG);
            }
        }
        Ok(())
    }

    /// Encrypts and sends; `even_finished` lets a session the peer ended still publish its
    /// reveals (never user text).
    fn seal_and_send(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        text: &[u8],
        controls: &[Control<'_>],
        flags: u8,
        even_finished: bool,
    ) -> Result<Sealed, ClientError> {
        let limit = self.transport_limit(ctx);
        let Some(session) = self.sessions.get_mut(&tag) else { return Err(ClientError::NoSession) };
        let protocol = session.protocol();
        // Refused before the session advances if the result could not be carried: a refused
        // send must not burn a message number or the reveals that would ride on it. The plan
        // made here is the one the message is sent by.
        let mut plan = None;
        let mut check = |binary_len: usize| {
            plan = Some(transport::plan(protocol, binary_len, limit)?);
            Ok(())
        };
        let result = session.seal(
            ctx.our_tag,
            flags,
            text,
            controls,
            ctx.settings.padding_block,
            even_finished,
            &mut check,
            ctx.now,
            ctx.rng,
        );
        // Read where the session wrote it, and handed on whole: moving the fresh `Result` out
        // first (what `?` does) copied it in other widths than it was written in, a
        // store-forwarding stall per message.
        let sealed = match &result {
            Ok(sealed) => sealed,
            Err(_) => return result,
        };
        let Some(plan) = plan else { return Err(ClientError::MessageTooLarge) };
        self.send_planned(ctx, &sealed.bytes, tag, plan)?;
        result
    }

    pub fn receive_data(&mut self, ctx: &mut Ctx<'_>, message: &mut OwnedDataMessage) {
        let (ratchet_key, number) = (message.header.ratchet_key, message.header.message_number);
        let header = &message.header;
        let tag = header.sender_tag;
        // Reflection first: a message of ours bounced back is addressed to the peer.
        if tag == ctx.our_tag {
            return ctx.event(&self.name, tag, Event::Reflected);
        }
        if header.receiver_tag != ctx.our_tag {
            return ctx.event(&self.name, tag, Event::ForOtherInstance);
        }
        let quiet = header.flags & FLAG_IGNORE_UNREADABLE != 0;
        // Names the message we could not read, so the sender can tell its user which one.
        let report = || unreadable_report::encode(&ratchet_key, number, LostScope::Session);
        let Some(session) = self.sessions.get_mut(&tag).filter(|s| !s.is_finished()) else {
            if !quiet {
                ctx.event(&self.name, tag, Event::NotInPrivate);
                self.send_error(ctx, &report());
            }
            return;
        };
        if session.is_restored() {
            // A restored session never decrypts: the store may predate messages already
            // delivered (replays) and keys already revealed (forgeries). It is treated like a
            // session that is gone: the user and the peer are told which message was lost, and
            // a new handshake replaces it.
            if !quiet {
                ctx.event(&self.name, tag, Event::NotInPrivate);
                self.send_error(ctx, &report());
            }
            self.ask_for_new_session(ctx);
            return;
        }
        match session.open(Inbound::Modern(message), ctx.now, ctx.rng) {
            Ok(opened) => self.receive_opened(ctx, tag, opened),
            // A copy of a message already read (the transport duplicated it, or someone replays
            // it): nothing was lost, so the peer is not told so (a report would make it tell
            // its user a delivered message was lost, and restart the session).
            Err(OpenError::Duplicate) => ctx.event(&self.name, tag, Event::Unreadable),
            Err(OpenError::Malformed) => ctx.event(&self.name, tag, Event::Malformed),
            // The session works; this message alone was corrupted, forged, or too late: the
            // sender is told about it alone (no new session: it would lose what is in flight).
            Err(OpenError::Unreadable) => {
                if !quiet {
                    ctx.event(&self.name, tag, Event::Unreadable);
                    let one = unreadable_report::encode(&ratchet_key, number, LostScope::OneMessage);
                    self.send_error(ctx, &one);
                }
            }
        }
    }

    /// Acts on what an opened data message carried, whatever its protocol: control items
    /// (disconnect, SMP, extra key), then the text, delivered with the session's security.
    pub(super) fn receive_opened(&mut self, ctx: &mut Ctx<'_>, tag: u32, mut opened: Opened) {
        // Read where the session wrote it, field by field: taken apart at once, the fresh value
        // was copied in other widths than it was written in (a store-forwarding stall); the text
        // moves once, into its action.
        let only_padding = opened.controls.is_empty();
        for control in opened.controls.drain(..) {
            match control {
                ReceivedControl::Disconnected => self.peer_ended(ctx, tag),
                ReceivedControl::Smp(message) => self.receive_smp(ctx, tag, &message),
                ReceivedControl::ExtraKey { usage, context, key } => {
                    ctx.event(&self.name, tag, Event::ExtraKeyReceived { usage, context, key })
                }
                ReceivedControl::ModernOffer { versions, fingerprint } => {
                    self.modern_offered(ctx, tag, versions, fingerprint)
                }
                ReceivedControl::LinkedOtrKey { fingerprint } => self.otr_key_claimed(ctx, tag, fingerprint),
                ReceivedControl::App { kind, value } => ctx.event(&self.name, tag, Event::TlvReceived { kind, value }),
                ReceivedControl::Malformed => ctx.event(&self.name, tag, Event::Malformed),
                ReceivedControl::Other => {} // unknown TLVs are ignored, as the protocols say
            }
        }
        if !opened.text.is_empty() {
            // Only user text moves routing, and only to a session plain sends may use: control
            // messages (heartbeats, SMP, padding, extra keys) never do.
            if self.sessions.get(&tag).is_some_and(|s| self.routable(ctx.trust, s.as_ref())) {
                self.preferred = Some(tag);
            }
            let Some(session) = self.sessions.get_mut(&tag) else { return };
            session.text_received(ctx.now);
            let security = match ctx.encrypted_state(&self.name, &session.their_fingerprint()) {
                SessionState::EncryptedVerified => super::super::Security::EncryptedVerified,
                _ => super::super::Security::EncryptedUnverified,
            };
            let peer = &self.name;
            let text = opened.text;
            push_action(&mut ctx.out, || Action::Deliver { peer: peer.clone(), instance: tag, text, security });
        } else if only_padding {
            ctx.event(&self.name, tag, Event::HeartbeatReceived);
        }
    }

    fn peer_ended(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        if let Some(session) = self.sessions.get_mut(&tag) {
            if !session.end_by_peer() {
                return;
            }
            ctx.changed(PERSIST_SESSIONS);
            ctx.state(&self.name, tag, SessionState::Finished);
            ctx.event(&self.name, tag, Event::PeerEndedSession);
        }
    }

    /// Ends sessions (one instance, or all): reveals every remaining key in a final message
    /// that tells the peer, wipes the session, and fails held messages.
    pub fn end_sessions(&mut self, ctx: &mut Ctx<'_>, instance: Option<u32>) {
        let tags: Vec<u32> = match instance {
            Some(tag) => vec![tag],
            None => self.sessions.keys().copied().collect(),
        };
        for tag in tags {
            self.close_session(ctx, tag);
        }
        if instance.is_none() {
            self.initiator = None;
            self.responders.clear();
            if let Some(otr) = self.otr.as_mut() {
                otr.clear();
            }
            self.fail_held(ctx, super::super::NotSentReason::SessionEnded);
        }
    }

    /// Closes one session: every remaining key is revealed (skipped keys included), in as many
    /// messages as that takes ([`MAX_REVEALS_PER_MESSAGE`] each); unless the peer already ended
    /// it, the last one tells the peer. If the peer ended first, the reveals still go out, in
    /// messages the peer ignores. Best effort: the session is wiped whether or not they fit the
    /// transport; then it is dropped and the UI told it is back to plaintext.
    ///
    /// To a peer the application reports offline nothing is sent either.
    ///
    /// A session restored from a store sends nothing (its sending chain may be stale); its
    /// remaining reveals move to another live session with the peer if there is one, and are
    /// otherwise dropped (a deniability cost for those messages, never a confidentiality one).
    pub fn close_session(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        let Some(session) = self.sessions.get_mut(&tag) else { return };
        ctx.changed(PERSIST_SESSIONS);
        if session.is_restored() {
            if let Some(mut restored) = self.drop_session(tag) {
                let live = self.sessions.values_mut().filter(|s| s.usable()).find_map(|s| s.as_modern_mut());
                if let (Some(restored), Some(live)) = (restored.as_modern_mut(), live) {
                    restored.hand_over_reveals_to(live);
                }
            }
        } else if ctx.peer_offline {
            // The application reports the peer offline (`is_logged_in`): nothing is sent, as
            // libotr does; the keys not yet revealed are wiped unrevealed (a deniability cost
            // for those messages, never a confidentiality one).
        } else if session.is_finished() {
            session.reveal_everything();
            self.publish_reveals(ctx, tag, 0);
        } else {
            session.reveal_everything();
            // The disconnect message carries the last batch.
            let per_message = session.reveals_per_message();
            self.publish_reveals(ctx, tag, per_message);
            let _ = self.encrypt_to(ctx, tag, &[], &[Control::Disconnected], FLAG_IGNORE_UNREADABLE);
        }
        self.drop_session(tag);
        if self.preferred == Some(tag) {
            self.preferred = None;
        }
        ctx.state(&self.name, tag, SessionState::Plaintext);
    }

    /// Before a session is evicted (too many instances): reveals every key it still holds, in
    /// empty messages the peer ignores, so the material is published before the state is dropped.
    pub fn retire_session(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        let Some(session) = self.sessions.get_mut(&tag) else { return };
        session.reveal_everything();
        self.publish_reveals(ctx, tag, 0);
    }

    /// Sends empty messages (flagged ignore-if-unreadable) until at most `keep` reveals are
    /// pending in the session, or a message cannot be sent (the transport limit is too small).
    fn publish_reveals(&mut self, ctx: &mut Ctx<'_>, tag: u32, keep: usize) {
        let pending = |peer: &Self| peer.sessions.get(&tag).map_or(0, |s| s.pending_reveals());
        let per_message = self.sessions.get(&tag).map_or(1, |s| s.reveals_per_message()).max(1);
        // Each message takes up to `per_message`; the bound only guards against a message
        // that published nothing.
        let rounds = pending(self).div_ceil(per_message);
        for _ in 0..rounds {
            if pending(self) <= keep {
                break;
            }
            if self.seal_and_send(ctx, tag, &[], &[], FLAG_IGNORE_UNREADABLE, true).is_err() {
                break;
            }
        }
    }

    /// Sends the extra-symmetric-key TLV to the session and returns the key both sides get.
    pub fn use_extra_key(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        usage: u32,
        context: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, ClientError> {
        let sent =
            self.seal_and_send(ctx, tag, &[], &[Control::ExtraKey { usage, context }], FLAG_IGNORE_UNREADABLE, false)?;
        sent.extra_key.ok_or(ClientError::NoSession)
    }
}

impl Peer {
    /// The peer says it could not read one of our messages: tell the user which of ours were
    /// lost. If the peer lost the session, every later message of it is lost too and, if the
    /// policy allows, a new session is asked for (the old one stays until then); if only that
    /// message was lost, the session goes on. Nothing is resent automatically: the error is
    /// unauthenticated.
    pub fn peer_could_not_read(&mut self, ctx: &mut Ctx<'_>, prefix: &[u8; 8], number: u32, scope: LostScope) {
        let mut lost = Vec::new();
        for session in self.sessions.values_mut() {
            for id in session.take_lost(prefix, number, scope) {
                lost.push((session.their_tag(), id));
            }
        }
        for log in &mut self.retired_sent_logs {
            lost.extend(log.take_lost(prefix, number, scope).into_iter().map(|id| (0, id)));
        }
        if lost.is_empty() {
            return;
        }
        ctx.changed(PERSIST_SENT_LOG);
        for (tag, id) in lost {
            ctx.event(&self.name, tag, Event::PeerCouldNotRead { message: id });
        }
        if scope == LostScope::OneMessage {
            return;
        }
        // One restart per report burst: the peer rate-limits its reports the same way.
        self.ask_for_new_session(ctx);
    }
}
