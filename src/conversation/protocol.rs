//! The interface between a peer and "a protocol session": one encrypted session with one remote
//! instance. The peer owns routing, holding, events, errors to the peer and persistence
//! framing; the session owns its keys and its protocol state, and is reached only through
//! [`ProtocolSession`]. Today the one implementation is the modern session
//! ([`super::session::Session`]: AKE + double ratchet); an OTR v3/v2 session is meant to
//! implement the same trait beside it.
//!
//! Kept to what a peer needs: encrypt a body (user text and control TLVs), decrypt, the SMP
//! state machine, what a UI shows, and ending (the peer's end, revealing keys). Bodies are
//! already encoded by the caller (`wire::tlv`); sessions do not send anything themselves.

use super::error::ClientError;
use super::events::MessageId;
use super::session::{SentLog, SessionInfo};
use crate::crypto::RandomSource;
use crate::ratchet::{Decrypted, Encrypted, RatchetError};
use crate::smp::Smp;
use crate::trust::TrustStore;
use crate::wire::data_message::DataMessage;
use crate::wire::unreadable_report::LostScope;

/// One protocol session with one remote instance of a peer.
pub(crate) trait ProtocolSession {
    // --- What it is ---

    /// The remote instance tag.
    fn their_tag(&self) -> u32;
    /// The fingerprint of the peer's identity key in this session.
    fn their_fingerprint(&self) -> [u8; 32];
    /// What a UI shows about this session with `peer`.
    fn info(&self, trust: &TrustStore, peer: &str) -> SessionInfo;
    /// The peer ended it: nothing more is sent until the user ends or restarts it.
    fn is_finished(&self) -> bool;
    /// Loaded from a store: it never encrypts or decrypts again, and is restarted instead.
    fn is_restored(&self) -> bool;
    /// Whether it can carry traffic: neither finished by the peer nor restored.
    fn usable(&self) -> bool {
        !self.is_finished() && !self.is_restored()
    }
    /// When anything last arrived on it.
    fn last_received(&self) -> u64;
    /// When user text last arrived on it (orders sessions for routing).
    fn last_text_received(&self) -> u64;
    /// When anything last happened in either direction.
    fn last_activity(&self) -> u64;

    // --- Sending ---

    /// Whether the session may encrypt now and, if so, the length of the binary message
    /// [`ProtocolSession::encrypt`] would make of a `body_len`-byte body (reveals included), so
    /// that a message that cannot be carried is refused before the session advances.
    /// `even_finished` lets a session the peer ended still publish its reveals (never user
    /// text). `SessionFinished` if the peer ended it, `NoSession` if it was restored.
    fn sendable_len(&self, body_len: usize, even_finished: bool) -> Result<usize, ClientError>;
    /// Encrypts an encoded body to the peer's instance, with the message `flags`. The session
    /// counts it as our answer (no heartbeat is due).
    fn encrypt(&mut self, our_tag: u32, flags: u8, body: &[u8], now: u64) -> Result<Encrypted, ClientError>;
    /// Remembers that `sent` carried the user's message `id` (for unreadable reports).
    fn record_sent(&mut self, sent: &Encrypted, id: MessageId);

    // --- Receiving ---

    /// Decrypts a data message addressed to this session.
    fn decrypt(
        &mut self,
        message: &DataMessage,
        now: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<Decrypted, RatchetError>;
    /// User text arrived at `now` (it asks for an answer; control messages do not).
    fn text_received(&mut self, now: u64);
    /// The user messages the peer reports it could not read (message `number` under the ratchet
    /// key starting with `prefix`, and with [`LostScope::Session`] every later one), each
    /// returned once.
    fn take_lost(&mut self, prefix: &[u8; 8], number: u32, scope: LostScope) -> Vec<MessageId>;

    // --- SMP ---

    /// The session's SMP state machine, created on first use.
    fn smp(&mut self) -> &mut Smp;
    /// Whether an SMP run is under way.
    fn smp_in_progress(&self) -> bool;
    /// Whether the peer's SMP request waits for our secret.
    fn smp_awaiting_secret(&self) -> bool;
    /// Whether we may start a run at `now` (rate limit, failure limit).
    fn smp_may_start(&self, now: u64) -> bool;
    /// We started a run at `now`.
    fn smp_started(&mut self, now: u64);
    /// A run failed or the peer cheated.
    fn smp_failed(&mut self);

    // --- Time, ending and revealing ---

    /// Drops what has lived past its age limit at `now` (skipped keys).
    fn expire(&mut self, now: u64);
    /// Whether a heartbeat is due at `now`: something arrived `interval` seconds ago and was
    /// not answered.
    fn heartbeat_due(&self, now: u64, interval: u64) -> bool;
    /// The peer ended the session: true if it was not already finished (any SMP run is
    /// aborted).
    fn end_by_peer(&mut self) -> bool;
    /// Queues every remaining key for revealing (the session must not decrypt again).
    fn reveal_everything(&mut self);
    /// How many revealed keys wait to ride on the next messages.
    fn pending_reveals(&self) -> usize;
    /// Takes the memory of which wire message carried which user message (kept by the peer
    /// after the session is gone, for late reports).
    fn take_sent_log(&mut self) -> SentLog;
}
