//! One encrypted session with one remote instance of a peer.

mod persist;
mod smp_limit;

pub(crate) use smp_limit::SmpLimit;

use crate::ake::Established;
use crate::crypto::keys::fingerprint;
use crate::ratchet::Ratchet;
use crate::smp::{Smp, SmpContext};

use super::app_tlv::is_app_tlv_type;
use super::delivered_text::DeliveredText;
use super::error::ClientError;
use super::events::{MessageId, SessionState};
use super::protocol::{
    Control, Inbound, LengthCheck, OpenError, Opened, Protocol, ProtocolSession, ReceivedControl, Sealed,
};
use crate::crypto::kdf::extra_symmetric_key;
use crate::crypto::wipe::wipe;
use crate::crypto::RandomSource;
use crate::ratchet::RatchetError;
use crate::smp::{SmpStep, SmpTlv};
use crate::trust::TrustStore;
use crate::wire::data_message::{self, MAX_REVEALS_PER_MESSAGE};
use crate::wire::unreadable_report::{key_prefix, LostScope};
use crate::wire::{decode_body_behind, encode_body_into, encoded_body_len, Tlv, TlvType};
use zeroize::Zeroizing;

/// What a UI needs to know about one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The remote instance tag.
    pub instance: u32,
    /// Its state.
    pub state: SessionState,
    /// The peer's fingerprint in this session.
    pub their_fingerprint: [u8; 32],
    /// The session id (compare its first 8 bytes aloud).
    pub ssid: [u8; 32],
    /// Whether we were the handshake initiator.
    pub we_initiated: bool,
    /// Whether an SMP run is in progress.
    pub smp_in_progress: bool,
    /// The protocol the session speaks.
    pub protocol: Protocol,
    /// For an OTR session: what libotr-based clients show about it.
    pub otr: Option<OtrSessionInfo>,
}

/// What an OTR session shows beyond [`SessionInfo`], in libotr's terms, so that a user can
/// compare it with what Pidgin shows the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtrSessionInfo {
    /// The peer's DSA fingerprint (SHA-1 of its public key).
    pub their_fingerprint: [u8; 20],
    /// OTR's 8-byte secure session id (show it as two words, `%08x %08x`).
    pub ssid: [u8; 8],
    /// Whether the first word is the one shown bold (we sent the Reveal Signature).
    pub first_half_bold: bool,
}

/// A session's live state. Replaced whole when a new handshake with the same instance
/// completes; the old one keeps working until then.
#[derive(Debug)]
pub(crate) struct Session {
    their_tag: u32,
    ratchet: Ratchet,
    ssid: [u8; 32],
    their_fingerprint: [u8; 32],
    we_initiated: bool,
    /// The peer ended it (TLV 1); nothing more is sent until the user ends or restarts it.
    finished: bool,
    last_received: u64,
    last_sent: u64,
    /// When user text last arrived on it (control messages do not count): orders sessions for
    /// routing when no preferred one applies. Not stored; a restored session starts at
    /// `last_received`.
    last_text_received: u64,
    /// When we first received something we have not answered yet (heartbeat trigger).
    unanswered_since: Option<u64>,
    /// Created on first use: an idle SMP state machine is most of a session's size.
    smp: Option<Box<Smp>>,
    our_fingerprint: [u8; 32],
    smp_limit: SmpLimit,
    /// Recent user messages by (ratchet key prefix, number), to tell the user which ones the
    /// peer reports it could not read.
    sent_log: SentLog,
    /// Loaded from a store. A store cannot be proven current (a crash after a save makes it
    /// stale), so a restored session never encrypts with its stored sending chain (no
    /// (ratchet key, N) pair can repeat) and never decrypts (no replay of messages delivered
    /// after the save, no forgery from material already revealed): it is restarted with a new
    /// handshake instead. Every load marks every stored session (STORAGE.md §5.1).
    restored: bool,
    /// The peer's key link arrived on this session (only the first counts). Not stored: a
    /// restored session never decrypts again.
    link_claimed: bool,
}

/// How many recent user messages per session can be named in an unreadable report.
pub const SENT_LOG_LEN: usize = 64;

/// A short memory of which wire message carried which user message.
#[derive(Debug, Default)]
pub(crate) struct SentLog(std::collections::VecDeque<([u8; 8], u32, MessageId)>);

impl SentLog {
    /// Appends an entry, forgetting the oldest beyond [`SENT_LOG_LEN`].
    pub fn push(&mut self, prefix: [u8; 8], number: u32, id: MessageId) {
        if self.0.len() == SENT_LOG_LEN {
            self.0.pop_front();
        }
        // Room for one at first (an idle session often holds one), not the default four.
        if self.0.capacity() == 0 {
            self.0.reserve_exact(1);
        }
        self.0.push_back((prefix, number, id));
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The remembered entries, oldest first (for storage).
    pub fn entries(&self) -> impl Iterator<Item = &([u8; 8], u32, MessageId)> {
        self.0.iter()
    }

    /// Removes and returns what a report with `scope` says was lost: the named message alone,
    /// or it and every later one.
    pub fn take_lost(&mut self, prefix: &[u8; 8], number: u32, scope: LostScope) -> Vec<MessageId> {
        match scope {
            LostScope::Session => self.take_since(prefix, number),
            LostScope::OneMessage => self.take_one(prefix, number),
        }
    }

    /// Removes and returns the named message alone (the peer lost only that one).
    pub fn take_one(&mut self, prefix: &[u8; 8], number: u32) -> Vec<MessageId> {
        match self.0.iter().position(|(k, n, _)| k == prefix && *n == number) {
            Some(at) => self.0.remove(at).map(|(_, _, id)| id).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// Removes and returns the named message and every later one: once the peer could not read
    /// one message of a session, it could not read the rest of that session either. Each is
    /// reported once.
    pub fn take_since(&mut self, prefix: &[u8; 8], number: u32) -> Vec<MessageId> {
        match self.0.iter().position(|(k, n, _)| k == prefix && *n == number) {
            Some(start) => self.0.drain(start..).map(|(_, _, id)| id).collect(),
            None => Vec::new(),
        }
    }
}

impl Session {
    pub fn new(established: Established, our_fingerprint: [u8; 32], now: u64) -> Self {
        let their_fingerprint = fingerprint(&established.their_identity);
        Session {
            their_tag: established.their_tag,
            ratchet: established.ratchet,
            ssid: established.ssid,
            their_fingerprint,
            we_initiated: established.we_initiated,
            finished: false,
            last_received: now,
            last_sent: now,
            last_text_received: now,
            unanswered_since: None,
            smp: None,
            our_fingerprint,
            smp_limit: SmpLimit::default(),
            sent_log: SentLog::default(),
            restored: false,
            link_claimed: false,
        }
    }

    /// The SMP state machine, created on first use.
    fn smp(&mut self) -> &mut Smp {
        let ctx = SmpContext {
            ssid: self.ssid,
            our_fingerprint: self.our_fingerprint,
            their_fingerprint: self.their_fingerprint,
        };
        self.smp.get_or_insert_with(|| Box::new(Smp::new(ctx)))
    }

    /// Aborts a run if one exists (nothing to do for an SMP never used).
    fn smp_reset(&mut self) {
        if let Some(smp) = self.smp.as_mut() {
            smp.abort();
        }
    }

    /// Moves what this session still has to reveal (stored keys included) into `successor`'s
    /// queue, to ride in its next headers: for a restored session, which never sends again,
    /// when a new one replaces it. Between modern sessions only.
    pub fn hand_over_reveals_to(&mut self, successor: &mut Session) {
        self.ratchet.hand_over_reveals(&mut successor.ratchet);
    }

    /// Takes over what `old` (the session this one refreshes) still had to reveal. Between
    /// modern sessions only.
    pub fn inherit_reveals_from(&mut self, old: &mut Session) {
        self.ratchet.inherit_reveals(&mut old.ratchet);
    }
}

impl ProtocolSession for Session {
    fn protocol(&self) -> Protocol {
        Protocol::ModernV1
    }

    fn their_tag(&self) -> u32 {
        self.their_tag
    }

    fn their_fingerprint(&self) -> [u8; 32] {
        self.their_fingerprint
    }

    fn info(&self, trust: &TrustStore, peer: &str) -> SessionInfo {
        SessionInfo {
            instance: self.their_tag,
            state: if self.finished {
                SessionState::Finished
            } else if self.restored {
                // Restored from a store: carries no traffic until a new handshake replaces
                // it, so it must not be shown as encrypted (no lock icon).
                SessionState::Plaintext
            } else if trust.trust(peer, &self.their_fingerprint).is_verified() {
                SessionState::EncryptedVerified
            } else {
                SessionState::EncryptedUnverified
            },
            their_fingerprint: self.their_fingerprint,
            ssid: self.ssid,
            we_initiated: self.we_initiated,
            smp_in_progress: self.smp_in_progress(),
            protocol: Protocol::ModernV1,
            otr: None,
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn is_restored(&self) -> bool {
        self.restored
    }

    fn last_received(&self) -> u64 {
        self.last_received
    }

    fn last_text_received(&self) -> u64 {
        self.last_text_received
    }

    fn last_activity(&self) -> u64 {
        self.last_received.max(self.last_sent)
    }

    fn seal(
        &mut self,
        our_tag: u32,
        flags: u8,
        text: &[u8],
        controls: &[Control<'_>],
        padding_block: usize,
        even_finished: bool,
        check: LengthCheck<'_>,
        now: u64,
        _rng: &mut dyn RandomSource,
    ) -> Result<Sealed, ClientError> {
        if self.finished && !even_finished {
            return Err(ClientError::SessionFinished);
        }
        if self.restored {
            // Its stored sending chain may already have been used after the save it came from:
            // encrypting with it could repeat a (ratchet key, N) pair, hence a key and nonce.
            return Err(ClientError::NoSession);
        }
        let mut usage = None;
        let tlvs: Vec<Tlv> = controls
            .iter()
            .filter_map(|control| match *control {
                Control::Disconnected => Some(Tlv { kind: TlvType::DISCONNECTED, value: Vec::new() }),
                Control::Smp(smp) => Some(Tlv { kind: smp.tlv_type, value: smp.payload.clone() }),
                Control::ExtraKey { usage: u, context } => {
                    usage = Some(u);
                    Some(Tlv::extra_key(u, context))
                }
                // Only OTR sessions announce the modern protocol: this one already speaks it.
                Control::ModernOffer { .. } => None,
                Control::LinkedOtrKey { fingerprint } => Some(Tlv::linked_otr_key(&fingerprint)),
                Control::App { kind, value } => Some(Tlv { kind, value: value.to_vec() }),
            })
            .collect();
        // The body is written straight into the message buffer and encrypted there (one copy
        // of the plaintext, wiped by the encryption itself).
        let body_len = encoded_body_len(text, &tlvs, padding_block).map_err(|_| ClientError::MessageTooLarge)?;
        let reveals = self.ratchet.pending_reveal_count().min(MAX_REVEALS_PER_MESSAGE);
        check(data_message::encoded_len(reveals, body_len))?;
        let encrypted = self
            .ratchet
            .encrypt_with(our_tag, self.their_tag, flags, body_len, |out| {
                encode_body_into(out, text, &tlvs, padding_block).map_err(|_| RatchetError::BodyTooLarge)
            })
            .map_err(|_| ClientError::MessageTooLarge)?;
        self.last_sent = now;
        self.unanswered_since = None;
        let extra_key = usage.map(|u| Zeroizing::new(*extra_symmetric_key(&encrypted.extra_key_seed(), u).expose()));
        Ok(Sealed {
            log_marker: Some((key_prefix(&encrypted.ratchet_key), encrypted.message_number)),
            bytes: encrypted.bytes,
            extra_key,
        })
    }

    fn first_link_claim(&mut self) -> bool {
        !std::mem::replace(&mut self.link_claimed, true)
    }

    fn record_sent(&mut self, sent: &Sealed, id: MessageId) {
        if let Some((prefix, number)) = sent.log_marker {
            self.sent_log.push(prefix, number, id);
        }
    }

    fn open(&mut self, message: Inbound<'_>, now: u64, rng: &mut dyn RandomSource) -> Result<Opened, OpenError> {
        let Inbound::Modern(message) = message else { return Err(OpenError::Unreadable) };
        // Decrypted in place, and the text left in the same buffer: the plaintext is never
        // copied, and what is not delivered is wiped here.
        let decrypted = match self.ratchet.decrypt_in_place(message, now, rng) {
            Ok(decrypted) => decrypted,
            Err(RatchetError::Duplicate) => return Err(OpenError::Duplicate),
            Err(_) => return Err(OpenError::Unreadable),
        };
        self.last_received = now;
        // The buffer is header ‖ plaintext body: the text is delivered where it lies (no move),
        // and what follows it is wiped here.
        let (buffer, body_start) = message.take_buffer();
        let mut plaintext = Zeroizing::new(buffer);
        let (text_start, tlvs) = match decode_body_behind(&mut plaintext, body_start) {
            Ok(decoded) => decoded,
            Err(_) => {
                wipe(&mut plaintext);
                return Err(OpenError::Malformed);
            }
        };
        let mut controls = Vec::new();
        for tlv in tlvs {
            controls.push(match tlv.kind {
                TlvType::PADDING => continue,
                TlvType::DISCONNECTED => ReceivedControl::Disconnected,
                TlvType::SMP1..=TlvType::SMP_ABORT => {
                    ReceivedControl::Smp(SmpTlv { tlv_type: tlv.kind, payload: tlv.value })
                }
                TlvType::EXTRA_SYMMETRIC_KEY => match Tlv::parse_extra_key(&tlv.value) {
                    Some((usage, context)) => ReceivedControl::ExtraKey {
                        usage,
                        context: context.to_vec(),
                        key: Box::new(extra_symmetric_key(&decrypted.extra_key_seed(), usage)),
                    },
                    None => ReceivedControl::Malformed,
                },
                TlvType::LINKED_OTR_KEY => match Tlv::parse_linked_otr_key(&tlv.value) {
                    Some(fingerprint) => ReceivedControl::LinkedOtrKey { fingerprint },
                    None => ReceivedControl::Malformed,
                },
                kind if is_app_tlv_type(kind) => ReceivedControl::App { kind, value: Zeroizing::new(tlv.value) },
                _ => ReceivedControl::Other,
            });
        }
        Ok(Opened { text: DeliveredText::at(plaintext, text_start), controls })
    }

    fn text_received(&mut self, now: u64) {
        self.last_text_received = now;
        // Only real messages ask for an answer; heartbeats must not trigger heartbeats.
        self.unanswered_since.get_or_insert(now);
    }

    fn take_lost(&mut self, prefix: &[u8; 8], number: u32, scope: LostScope) -> Vec<MessageId> {
        self.sent_log.take_lost(prefix, number, scope)
    }

    fn smp_start(
        &mut self,
        secret: &[u8],
        question: Option<&str>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<SmpTlv>, ClientError> {
        Ok(self.smp().start(secret, question, rng)?)
    }

    fn smp_respond(&mut self, secret: &[u8], rng: &mut dyn RandomSource) -> Result<SmpTlv, ClientError> {
        Ok(self.smp().respond(secret, rng)?)
    }

    fn smp_receive(&mut self, message: &SmpTlv, rng: &mut dyn RandomSource) -> SmpStep {
        self.smp().receive(message.tlv_type, &message.payload, rng)
    }

    fn smp_abort(&mut self) -> SmpTlv {
        self.smp().abort()
    }

    fn smp_answering_question(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.answering_question())
    }

    fn smp_in_progress(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_in_progress())
    }

    fn smp_awaiting_secret(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_awaiting_secret())
    }

    fn smp_may_start(&self, now: u64) -> bool {
        self.smp_limit.may_start(now)
    }

    fn smp_started(&mut self, now: u64) {
        self.smp_limit.started(now);
    }

    fn smp_failed(&mut self) {
        // Not a reason to save: a restored session is restarted, with a fresh counter.
        self.smp_limit.failed();
    }

    fn expire(&mut self, now: u64) {
        self.ratchet.expire_skipped(now);
    }

    fn heartbeat_due(&self, now: u64, interval: u64) -> bool {
        self.unanswered_since.is_some_and(|since| now >= since.saturating_add(interval))
    }

    fn end_by_peer(&mut self) -> bool {
        if self.finished {
            return false;
        }
        self.finished = true;
        self.smp_reset();
        true
    }

    fn reveal_everything(&mut self) {
        self.ratchet.reveal_everything();
    }

    fn pending_reveals(&self) -> usize {
        self.ratchet.pending_reveal_count()
    }

    fn reveals_per_message(&self) -> usize {
        MAX_REVEALS_PER_MESSAGE
    }

    fn as_modern(&self) -> Option<&Session> {
        Some(self)
    }

    fn as_modern_mut(&mut self) -> Option<&mut Session> {
        Some(self)
    }

    fn take_sent_log(&mut self) -> SentLog {
        std::mem::take(&mut self.sent_log)
    }
}
