//! Encrypted traffic for a peer: sending through a session's ratchet, and reading data
//! messages with their TLVs (disconnect, SMP, extra symmetric key, padding).

use zeroize::Zeroizing;

use super::context::Ctx;
use super::error::ClientError;
use super::events::{Action, Event, SessionState};
use super::peer::Peer;
use crate::crypto::kdf::extra_symmetric_key;
use crate::crypto::SecretKey;
use crate::wire::data_message::{DataMessage, FLAG_IGNORE_UNREADABLE};
use crate::wire::{decode_body, encode_body, Tlv, TlvType};

/// The text of the error message we send when we cannot read something.
pub const UNREADABLE_ERROR_TEXT: &str = "unreadable encrypted message";

impl Peer {
    /// Encrypts `text` and `tlvs` to the session with instance `tag` and sends it; returns the
    /// message's extra-key seed.
    pub fn encrypt_to(&mut self, ctx: &mut Ctx<'_>, tag: u32, text: &[u8], tlvs: &[Tlv], flags: u8) -> Result<(), ClientError> {
        self.encrypt_with_seed(ctx, tag, text, tlvs, flags).map(|_| ())
    }

    pub fn encrypt_with_seed(
        &mut self,
        ctx: &mut Ctx<'_>,
        tag: u32,
        text: &[u8],
        tlvs: &[Tlv],
        flags: u8,
    ) -> Result<SecretKey, ClientError> {
        let body = Zeroizing::new(encode_body(text, tlvs, ctx.settings.padding_block).map_err(|_| ClientError::MessageTooLarge)?);
        let session = self.sessions.get_mut(&tag).ok_or(ClientError::NoSession)?;
        if session.finished {
            return Err(ClientError::SessionFinished);
        }
        // Refuse before advancing the ratchet if the result could not be carried.
        let estimated = crate::wire::data_message::FIXED_HEADER_LEN + 32 * 255 + body.len() + 16;
        if estimated.div_ceil(3) * 4 + 6 > crate::wire::MAX_ENCODED_LEN {
            return Err(ClientError::MessageTooLarge);
        }
        let encrypted = session.ratchet.encrypt(ctx.our_tag, tag, flags, &body).map_err(|_| ClientError::MessageTooLarge)?;
        session.last_sent = ctx.now;
        session.unanswered_since = None;
        self.send_binary(ctx, &encrypted.bytes, tag)?;
        Ok(encrypted.extra_key_seed)
    }

    pub fn receive_data(&mut self, ctx: &mut Ctx<'_>, message: &DataMessage) {
        let header = &message.header;
        let tag = header.sender_tag;
        if header.receiver_tag != ctx.our_tag {
            return ctx.event(&self.name, tag, Event::ForOtherInstance);
        }
        if tag == ctx.our_tag {
            return ctx.event(&self.name, tag, Event::Reflected);
        }
        let quiet = header.flags & FLAG_IGNORE_UNREADABLE != 0;
        let Some(session) = self.sessions.get_mut(&tag).filter(|s| !s.finished) else {
            if !quiet {
                ctx.event(&self.name, tag, Event::NotInPrivate);
                self.send_error(ctx, UNREADABLE_ERROR_TEXT);
            }
            return;
        };
        let decrypted = match session.ratchet.decrypt(message, ctx.now, ctx.rng) {
            Ok(decrypted) => decrypted,
            Err(_) => {
                if !quiet {
                    ctx.event(&self.name, tag, Event::Unreadable);
                    self.send_error(ctx, UNREADABLE_ERROR_TEXT);
                }
                return;
            }
        };
        session.last_received = ctx.now;
        self.preferred = Some(tag);
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
                    let Some((usage, context)) = tlv.value.split_first_chunk::<4>() else {
                        ctx.event(&self.name, tag, Event::Malformed);
                        continue;
                    };
                    let usage = u32::from_be_bytes(*usage);
                    let key = extra_symmetric_key(&decrypted.extra_key_seed, usage);
                    ctx.event(
                        &self.name,
                        tag,
                        Event::ExtraKeyReceived { usage, context: context.to_vec(), key: Zeroizing::new(*key.expose()) },
                    );
                }
                _ => only_padding = false, // unknown TLVs are ignored, as the protocol says
            }
        }
        if !text.is_empty() {
            let Some(session) = self.sessions.get_mut(&tag) else { return };
            // Only real messages ask for an answer; heartbeats must not trigger heartbeats.
            session.unanswered_since.get_or_insert(ctx.now);
            let security = match ctx.encrypted_state(&self.name, &session.their_fingerprint) {
                SessionState::EncryptedVerified => super::Security::EncryptedVerified,
                _ => super::Security::EncryptedUnverified,
            };
            ctx.out.push(Action::Deliver { peer: self.name.clone(), instance: tag, text, security });
        } else if only_padding {
            ctx.event(&self.name, tag, Event::HeartbeatReceived);
        }
    }

    fn peer_ended(&mut self, ctx: &mut Ctx<'_>, tag: u32) {
        if let Some(session) = self.sessions.get_mut(&tag) {
            if session.finished {
                return;
            }
            session.finished = true;
            session.smp.abort();
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
            let Some(session) = self.sessions.get_mut(&tag) else { continue };
            if !session.finished {
                session.ratchet.reveal_everything();
                let disconnect = [Tlv { kind: TlvType::DISCONNECTED, value: Vec::new() }];
                // Best effort: the session is wiped whether or not the goodbye fits.
                let _ = self.encrypt_to(ctx, tag, &[], &disconnect, FLAG_IGNORE_UNREADABLE);
            }
            self.sessions.remove(&tag);
            if self.preferred == Some(tag) {
                self.preferred = None;
            }
            ctx.state(&self.name, tag, SessionState::Plaintext);
        }
        if instance.is_none() {
            self.initiator = None;
            self.responders.clear();
            self.fail_held(ctx, super::NotSentReason::SessionEnded);
        }
    }

    /// Sends the extra-symmetric-key TLV to the session and returns the key both sides get.
    pub fn use_extra_key(&mut self, ctx: &mut Ctx<'_>, tag: u32, usage: u32, context: &[u8]) -> Result<Zeroizing<[u8; 32]>, ClientError> {
        let mut value = usage.to_be_bytes().to_vec();
        value.extend_from_slice(context);
        let tlv = Tlv { kind: TlvType::EXTRA_SYMMETRIC_KEY, value };
        let seed = self.encrypt_with_seed(ctx, tag, &[], &[tlv], FLAG_IGNORE_UNREADABLE)?;
        Ok(Zeroizing::new(*extra_symmetric_key(&seed, usage).expose()))
    }
}
