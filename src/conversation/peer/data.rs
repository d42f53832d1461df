//! Encrypted traffic for a peer: sending through a session's ratchet, and reading data
//! messages with their TLVs (disconnect, SMP, extra symmetric key, padding).

use zeroize::Zeroizing;

use super::super::context::Ctx;
use super::super::error::ClientError;
use super::super::events::{Action, Event, MessageId, SessionState, PERSIST_SENT_LOG, PERSIST_SESSIONS};
use super::super::protocol::ProtocolSession;
use super::Peer;
use crate::crypto::kdf::extra_symmetric_key;
use crate::ratchet::{Encrypted, RatchetError};
use crate::wire::data_message::{DataMessage, FLAG_IGNORE_UNREADABLE, MAX_REVEALS_PER_MESSAGE};
use crate::wire::unreadable_report::{self, LostScope};
use crate::wire::{armour, decode_body, encode_body, fragment, Tlv, TlvType};

impl Peer {
    /// Encrypts `text` and `tlvs` to the session with instance `tag` and sends it.
    pub fn encrypt_to(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        text: &[u8],
        tlvs: &[Tlv],
        flags: u8,
    ) -> Result<(), ClientError> {
        self.seal_and_send(ctx, tag, text, tlvs, flags, false).map(|_| ())
    }

    /// Encrypts and sends a message the user typed, remembering which wire message carried it.
    pub fn encrypt_user_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        id: MessageId,
        text: &[u8],
    ) -> Result<(), ClientError> {
        let sent = self.seal_and_send(ctx, tag, text, &[], 0, false)?;
        if let Some(session) = self.sessions.get_mut(&tag) {
            session.record_sent(&sent, id);
            ctx.changed(PERSIST_SENT_LOG);
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
        tlvs: &[Tlv],
        flags: u8,
        even_finished: bool,
    ) -> Result<Encrypted, ClientError> {
        let body = Zeroizing::new(
            encode_body(text, tlvs, ctx.settings.padding_block).map_err(|_| ClientError::MessageTooLarge)?,
        );
        let limit = self.transport_limit(ctx);
        let session = self.sessions.get_mut(&tag).ok_or(ClientError::NoSession)?;
        // Refuse before advancing the session if the result could not be carried: a refused
        // send must not burn a message number or the reveals that would ride on it. The plan
        // made here is the one the message is sent by.
        let binary_len = session.sendable_len(body.len(), even_finished)?;
        let plan = fragment::plan(armour::encoded_len(binary_len), limit).map_err(|_| ClientError::MessageTooLarge)?;
        let encrypted = session.encrypt(ctx.our_tag, flags, &body, ctx.now)?;
        self.send_binary_planned(ctx, &encrypted.bytes, tag, plan)?;
        Ok(encrypted)
    }

    pub fn receive_data(&mut self, ctx: &mut Ctx<'_>, message: &DataMessage) {
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
        let report = || unreadable_report::encode(&header.ratchet_key, header.message_number, LostScope::Session);
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
        let decrypted = match session.decrypt(message, ctx.now, ctx.rng) {
            Ok(decrypted) => decrypted,
            // A copy of a message already read (the transport duplicated it, or someone replays
            // it): nothing was lost, so the peer is not told so (a report would make it tell
            // its user a delivered message was lost, and restart the session).
            Err(RatchetError::Duplicate) => return ctx.event(&self.name, tag, Event::Unreadable),
            // The session works; this message alone was corrupted, forged, or too late: the
            // sender is told about it alone (no new session: it would lose what is in flight).
            Err(_) => {
                if !quiet {
                    ctx.event(&self.name, tag, Event::Unreadable);
                    let one =
                        unreadable_report::encode(&header.ratchet_key, header.message_number, LostScope::OneMessage);
                    self.send_error(ctx, &one);
                }
                return;
            }
        };
        let body = match decode_body(&decrypted.body) {
            Ok(body) => body,
            Err(_) => return ctx.event(&self.name, tag, Event::Malformed),
        };
        let text = Zeroizing::new(body.text);
        let mut only_padding = true;
        for tlv in &body.tlvs {
            match tlv.kind {
                TlvType::PADDING => {}
                TlvType::DISCONNECTED => {
                    only_padding = false;
                    self.peer_ended(ctx, tag);
                }
                TlvType::SMP1..=TlvType::SMP_ABORT => {
                    only_padding = false;
                    self.receive_smp(ctx, tag, tlv);
                }
                TlvType::EXTRA_SYMMETRIC_KEY => {
                    only_padding = false;
                    let Some((usage, context)) = Tlv::parse_extra_key(&tlv.value) else {
                        ctx.event(&self.name, tag, Event::Malformed);
                        continue;
                    };
                    let key = extra_symmetric_key(&decrypted.extra_key_seed(), usage);
                    ctx.event(
                        &self.name,
                        tag,
                        Event::ExtraKeyReceived {
                            usage,
                            context: context.to_vec(),
                            key: Zeroizing::new(*key.expose()),
                        },
                    );
                }
                _ => only_padding = false, // unknown TLVs are ignored, as the protocol says
            }
        }
        if !text.is_empty() {
            // Only user text moves routing, and only to a session plain sends may use: control
            // messages (heartbeats, SMP, padding, extra keys) never do.
            if self.sessions.get(&tag).is_some_and(|s| self.routable(ctx.trust, s)) {
                self.preferred = Some(tag);
            }
            let Some(session) = self.sessions.get_mut(&tag) else { return };
            session.text_received(ctx.now);
            let security = match ctx.encrypted_state(&self.name, &session.their_fingerprint()) {
                SessionState::EncryptedVerified => super::super::Security::EncryptedVerified,
                _ => super::super::Security::EncryptedUnverified,
            };
            ctx.out.push(Action::Deliver { peer: self.name.clone(), instance: tag, text, security });
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
            self.fail_held(ctx, super::super::NotSentReason::SessionEnded);
        }
    }

    /// Closes one session: every remaining key is revealed (skipped keys included), in as many
    /// messages as that takes ([`MAX_REVEALS_PER_MESSAGE`] each); unless the peer already ended
    /// it, the last one tells the peer. If the peer ended first, the reveals still go out, in
    /// messages the peer ignores. Best effort: the session is wiped whether or not they fit the
    /// transport; then it is dropped and the UI told it is back to plaintext.
    ///
    /// A session restored from a store sends nothing (its sending chain may be stale); its
    /// remaining reveals move to another live session with the peer if there is one, and are
    /// otherwise dropped (a deniability cost for those messages, never a confidentiality one).
    pub fn close_session(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        let Some(session) = self.sessions.get_mut(&tag) else { return };
        ctx.changed(PERSIST_SESSIONS);
        if session.is_restored() {
            if let Some(mut restored) = self.drop_session(tag) {
                if let Some(live) = self.sessions.values_mut().find(|s| s.usable()) {
                    restored.hand_over_reveals_to(live);
                }
            }
        } else if session.is_finished() {
            session.reveal_everything();
            self.publish_reveals(ctx, tag, 0);
        } else {
            session.reveal_everything();
            // The disconnect message carries the last batch.
            self.publish_reveals(ctx, tag, MAX_REVEALS_PER_MESSAGE);
            let disconnect = [Tlv { kind: TlvType::DISCONNECTED, value: Vec::new() }];
            let _ = self.encrypt_to(ctx, tag, &[], &disconnect, FLAG_IGNORE_UNREADABLE);
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
        // Each message takes up to MAX_REVEALS_PER_MESSAGE; the bound only guards against a
        // message that published nothing.
        let rounds = pending(self).div_ceil(MAX_REVEALS_PER_MESSAGE);
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
        let tlv = Tlv::extra_key(usage, context);
        let sent = self.seal_and_send(ctx, tag, &[], &[tlv], FLAG_IGNORE_UNREADABLE, false)?;
        Ok(Zeroizing::new(*extra_symmetric_key(&sent.extra_key_seed(), usage).expose()))
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
