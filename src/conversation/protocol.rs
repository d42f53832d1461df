//! The interface between a peer and "a protocol session": one encrypted session with one remote
//! instance. The peer owns routing, holding, events, errors to the peer and persistence
//! framing; the session owns its keys, its protocol state and its body encoding, and is reached
//! only through [`ProtocolSession`]. Two implementations: the modern session
//! ([`super::session::Session`]: Noise AKE + double ratchet) and the OTR v3/v2 session
//! ([`super::otr_session::OtrSession`]).
//!
//! Everything crossing the interface is protocol-neutral: the peer asks to seal user text and
//! [`Control`]s and gets wire bytes back ([`Sealed`]); it hands over a received data message
//! ([`Inbound`]) and gets text and [`ReceivedControl`]s back ([`Opened`]). TLV numbers, body
//! layouts and key derivations stay inside each protocol.

use zeroize::Zeroizing;

use super::delivered_text::DeliveredText;
use super::error::ClientError;
use super::events::MessageId;
use super::session::{SentLog, Session, SessionInfo};
use crate::crypto::{RandomSource, SecretKey};
use crate::smp::{SmpStep, SmpTlv};
use crate::trust::TrustStore;
use crate::wire::data_message::OwnedDataMessage;
use crate::wire::unreadable_report::LostScope;

/// Which protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Protocol {
    /// offrec's own protocol (Noise XX AKE, double ratchet, AES-GCM).
    ModernV1 = 1,
    /// OTR version 3 (libotr, Pidgin, Adium, irssi-otr, Jitsi...).
    OtrV3 = 2,
    /// OTR version 2 (python-potr: weechat-otr, Gajim).
    OtrV2 = 3,
}

impl Protocol {
    /// Whether this is one of OTR's versions (weaker: SECURITY.md "Legacy OTR").
    pub fn is_legacy(self) -> bool {
        !matches!(self, Protocol::ModernV1)
    }
}

/// A control item to send inside an encrypted message, beside the user text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Control<'a> {
    /// We end the session.
    Disconnected,
    /// An SMP message made by this session's own SMP state machine.
    Smp(&'a SmpTlv),
    /// Use the extra symmetric key for `usage`, with application `context`.
    ExtraKey { usage: u32, context: &'a [u8] },
    /// Inside an OTR v3 session: "I run offrec and speak its protocol `versions` with identity
    /// `fingerprint`" (the upgrade probe, PROTOCOL.md part B). Modern sessions never carry it.
    ModernOffer { versions: u8, fingerprint: [u8; 32] },
    /// Inside a modern session: "my OTR DSA key has this fingerprint" (key linking, PROTOCOL.md
    /// part B). OTR sessions never carry it.
    LinkedOtrKey { fingerprint: [u8; 20] },
    /// An application TLV (`super::app_tlv`): a type in the application range and its value,
    /// carried as is in either protocol's body.
    App { kind: u16, value: &'a [u8] },
}

/// A control item that arrived inside an encrypted message.
#[derive(Debug)]
pub(crate) enum ReceivedControl {
    /// The peer ended the session.
    Disconnected,
    /// An SMP message for this session's SMP state machine.
    Smp(SmpTlv),
    /// The peer uses the extra symmetric key; `key` is the key both sides hold for it.
    ExtraKey { usage: u32, context: Vec<u8>, key: Box<SecretKey> },
    /// The peer's upgrade probe inside an OTR session: it runs offrec, speaks its protocol
    /// `versions`, with identity `fingerprint` (authenticated by the OTR session).
    ModernOffer { versions: u8, fingerprint: [u8; 32] },
    /// The peer's key link inside a modern session: its OTR DSA key has `fingerprint`
    /// (authenticated by the modern session).
    LinkedOtrKey { fingerprint: [u8; 20] },
    /// An application TLV (a type in the application range, `super::app_tlv`), for the app.
    App { kind: u16, value: Zeroizing<Vec<u8>> },
    /// A TLV that was malformed (reported, otherwise ignored).
    Malformed,
    /// A TLV of a type this protocol does not define (ignored, as the protocols say).
    Other,
}

/// A sealed data message.
#[derive(Debug)]
pub(crate) struct Sealed {
    /// The binary message, ready for the protocol's armour.
    pub bytes: Vec<u8>,
    /// The extra symmetric key when the message carried [`Control::ExtraKey`].
    pub extra_key: Option<Zeroizing<[u8; 32]>>,
    /// What names this message in the peer's unreadable reports (modern only; OTR's error
    /// messages name no message).
    pub(crate) log_marker: Option<([u8; 8], u32)>,
}

/// A received data message, as parsed by the protocol's own codec.
#[derive(Debug)]
pub(crate) enum Inbound<'a> {
    /// A modern data message (decrypted in place: its ciphertext becomes the plaintext, which
    /// the session takes).
    Modern(&'a mut OwnedDataMessage),
    /// An OTR data message, binary (header included).
    #[allow(dead_code)] // until the OTR session lands (the next commits)
    Otr(&'a [u8]),
}

/// What an opened data message carried.
#[derive(Debug, Default)]
pub(crate) struct Opened {
    /// The user text (empty for control-only messages and heartbeats).
    pub text: DeliveredText,
    /// Control items, in the order the protocol defines.
    pub controls: Vec<ReceivedControl>,
}

/// Why a data message could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// A copy of a message already read: nothing was lost.
    Duplicate,
    /// Corrupted, forged, too late, or under keys we no longer have.
    Unreadable,
    /// It decrypted but its body is not well formed.
    Malformed,
}

/// Checks the length of a binary message before the session advances (the transport's limit).
pub(crate) type LengthCheck<'a> = &'a mut dyn FnMut(usize) -> Result<(), ClientError>;

/// One protocol session with one remote instance of a peer.
pub(crate) trait ProtocolSession: core::fmt::Debug + Send {
    // --- What it is ---

    /// The protocol it speaks.
    fn protocol(&self) -> Protocol;
    /// The remote instance tag.
    fn their_tag(&self) -> u32;
    /// The key id of the peer's identity key in this session (its trust-store key: a modern
    /// fingerprint, or an OTR DSA fingerprint in its 32-byte form, `trust::dsa_key_id`).
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
    /// The modern session, for what only it has (persistence, handing reveals over).
    fn as_modern(&self) -> Option<&Session> {
        None
    }
    /// The modern session, mutably.
    fn as_modern_mut(&mut self) -> Option<&mut Session> {
        None
    }

    // --- Sending ---

    /// Encodes `text` and `controls` in the protocol's body, asks `check` whether the binary
    /// message's length can be carried (refusing before the session advances, so a refused
    /// send burns no message number and no reveal), then encrypts to the peer's instance with
    /// the message `flags` (`wire::data_message::FLAG_IGNORE_UNREADABLE` is the only one).
    /// `even_finished` lets a session the peer ended still publish its reveals (never user
    /// text). The session counts it as our answer (no heartbeat is due).
    #[allow(clippy::too_many_arguments)]
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
        rng: &mut dyn RandomSource,
    ) -> Result<Sealed, ClientError>;
    /// Whether the next user message should carry our upgrade probe again (OTR v3 sessions:
    /// the probe of the session's first message may have been lost; it rides on the first two
    /// user messages too). Counts down.
    fn repeat_modern_offer(&mut self) -> bool {
        false
    }
    /// Whether a key link the peer sent on this session is its first (modern sessions: one
    /// claim per session counts, so a session cannot churn the peer's links). Counts it.
    fn first_link_claim(&mut self) -> bool {
        false
    }
    /// Remembers that `sent` carried the user's message `id` (for unreadable reports).
    fn record_sent(&mut self, sent: &Sealed, id: MessageId);

    // --- Receiving ---

    /// Decrypts a data message addressed to this session and decodes its body.
    fn open(&mut self, message: Inbound<'_>, now: u64, rng: &mut dyn RandomSource) -> Result<Opened, OpenError>;
    /// User text arrived at `now` (it asks for an answer; control messages do not).
    fn text_received(&mut self, now: u64);
    /// The user messages the peer reports it could not read (message `number` under the ratchet
    /// key starting with `prefix`, and with [`LostScope::Session`] every later one), each
    /// returned once.
    fn take_lost(&mut self, prefix: &[u8; 8], number: u32, scope: LostScope) -> Vec<MessageId>;

    // --- SMP (each protocol runs its own; steps and events are shared) ---

    /// Starts a run; the messages to send.
    fn smp_start(
        &mut self,
        secret: &[u8],
        question: Option<&str>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<SmpTlv>, ClientError>;
    /// Answers the peer's request with our secret.
    fn smp_respond(&mut self, secret: &[u8], rng: &mut dyn RandomSource) -> Result<SmpTlv, ClientError>;
    /// An SMP message arrived.
    fn smp_receive(&mut self, message: &SmpTlv, rng: &mut dyn RandomSource) -> SmpStep;
    /// Aborts any run; the message telling the peer.
    fn smp_abort(&mut self) -> SmpTlv;
    /// Whether the run under way answers the peer's question (then only the asker verifies).
    fn smp_answering_question(&self) -> bool;
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
    /// How many reveals one message carries at most.
    fn reveals_per_message(&self) -> usize;
    /// Takes the memory of which wire message carried which user message (kept by the peer
    /// after the session is gone, for late reports).
    fn take_sent_log(&mut self) -> SentLog;
}
