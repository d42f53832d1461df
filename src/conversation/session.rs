//! One encrypted session with one remote instance of a peer.

use crate::ake::Established;
use crate::crypto::keys::fingerprint;
use crate::ratchet::Ratchet;
use crate::smp::{Smp, SmpContext};

use super::events::{MessageId, SessionState};
use crate::trust::TrustStore;
use crate::wire::unreadable_report::key_prefix;

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
}

/// A session's live state. Replaced whole when a new handshake with the same instance
/// completes; the old one keeps working until then.
#[derive(Debug)]
pub(crate) struct Session {
    pub(super) their_tag: u32,
    pub(super) ratchet: Ratchet,
    pub(super) ssid: [u8; 32],
    pub(super) their_fingerprint: [u8; 32],
    pub(super) we_initiated: bool,
    /// The peer ended it (TLV 1); nothing more is sent until the user ends or restarts it.
    pub(super) finished: bool,
    pub(super) last_received: u64,
    pub(super) last_sent: u64,
    /// When user text last arrived on it (control messages do not count): orders sessions for
    /// routing when no preferred one applies. Not stored; a restored session starts at
    /// `last_received`.
    pub(super) last_text_received: u64,
    /// When we first received something we have not answered yet (heartbeat trigger).
    pub(super) unanswered_since: Option<u64>,
    /// Created on first use: an idle SMP state machine is most of a session's size.
    pub(super) smp: Option<Box<Smp>>,
    pub(super) our_fingerprint: [u8; 32],
    pub(super) smp_last_started: Option<u64>,
    pub(super) smp_failures: u32,
    /// Recent user messages by (ratchet key prefix, number), to tell the user which ones the
    /// peer reports it could not read.
    pub(super) sent_log: SentLog,
    /// Loaded from a store. A store cannot be proven current (a crash after a save makes it
    /// stale), so a restored session never encrypts with its stored sending chain (no
    /// (ratchet key, N) pair can repeat) and never decrypts (no replay of messages delivered
    /// after the save, no forgery from material already revealed): it is restarted with a new
    /// handshake instead. Every load marks every stored session (STORAGE.md §5.1).
    pub(super) restored: bool,
}

/// How many recent user messages per session can be named in an unreadable report.
pub const SENT_LOG_LEN: usize = 64;

/// A short memory of which wire message carried which user message.
#[derive(Debug, Default)]
pub(crate) struct SentLog(std::collections::VecDeque<([u8; 8], u32, MessageId)>);

impl SentLog {
    pub fn record(&mut self, ratchet_key: &[u8; 32], number: u32, id: MessageId) {
        self.push(key_prefix(ratchet_key), number, id);
    }

    /// Appends an entry, forgetting the oldest beyond [`SENT_LOG_LEN`].
    pub fn push(&mut self, prefix: [u8; 8], number: u32, id: MessageId) {
        if self.0.len() == SENT_LOG_LEN {
            self.0.pop_front();
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
            smp_last_started: None,
            smp_failures: 0,
            sent_log: SentLog::default(),
            restored: false,
        }
    }

    /// Whether this session can carry traffic: neither finished by the peer nor restored.
    pub fn usable(&self) -> bool {
        !self.finished && !self.restored
    }

    /// The session's SMP state machine, created on first use.
    pub fn smp(&mut self) -> &mut Smp {
        let ctx = SmpContext { ssid: self.ssid, our_fingerprint: self.our_fingerprint, their_fingerprint: self.their_fingerprint };
        self.smp.get_or_insert_with(|| Box::new(Smp::new(ctx)))
    }

    /// Whether an SMP run is under way.
    pub fn smp_in_progress(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_in_progress())
    }

    /// Whether the peer's SMP request waits for our secret.
    pub fn smp_awaiting_secret(&self) -> bool {
        self.smp.as_ref().is_some_and(|smp| smp.is_awaiting_secret())
    }

    /// Aborts a run if one exists (nothing to do for an SMP never used).
    pub fn smp_reset(&mut self) {
        if let Some(smp) = self.smp.as_mut() {
            smp.abort();
        }
    }

    /// What a UI shows about this session with `peer`.
    pub fn info(&self, trust: &TrustStore, peer: &str) -> SessionInfo {
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
        }
    }

    /// When anything last happened in either direction.
    pub fn last_activity(&self) -> u64 {
        self.last_received.max(self.last_sent)
    }
}
