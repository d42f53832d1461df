//! What the conversation manager tells the application: actions to perform (send wire text,
//! show a message) and typed events with stable numeric codes (the C API exposes the same
//! numbers; they are never renumbered).

use zeroize::Zeroizing;

use super::delivered_text::DeliveredText;
use crate::crypto::SecretKey;

/// Identifies a message the application asked to send, so it can be told what became of it.
pub type MessageId = u64;

/// The security of a session with one remote instance, as a UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SessionState {
    /// No encryption.
    Plaintext = 0,
    /// Encrypted, but the peer's fingerprint is not verified.
    EncryptedUnverified = 1,
    /// Encrypted, and the peer's fingerprint is verified (by SMP or by hand).
    EncryptedVerified = 2,
    /// The peer ended the encrypted session; nothing is sent until the user ends or restarts it.
    Finished = 3,
}

impl SessionState {
    /// Whether messages are encrypted in this state.
    pub fn is_encrypted(self) -> bool {
        matches!(self, Self::EncryptedUnverified | Self::EncryptedVerified)
    }
}

/// How a delivered message arrived. Same numbering as [`SessionState`]'s first three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Security {
    /// It came in the clear.
    Plaintext = 0,
    /// It was encrypted by a peer whose fingerprint is not verified.
    EncryptedUnverified = 1,
    /// It was encrypted by a verified peer.
    EncryptedVerified = 2,
}

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum NotSentReason {
    /// Encryption is required and no session came up in time.
    EncryptionTimeout = 1,
    /// The peer's session is finished; end or restart it first.
    SessionFinished = 2,
    /// The new session is with a different key than the verified one; not sent automatically.
    KeyChanged = 3,
    /// The session was ended by the user before it could be sent.
    SessionEnded = 4,
    /// The held-message queue for this peer is full.
    QueueFull = 5,
    /// The message is larger than the peer accepts.
    TooLarge = 6,
}

/// Something the application may want to show or log. Carries codes, never English.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message is held until the session is encrypted; a handshake was started.
    EncryptionRequired { message: MessageId },
    /// A held message was sent encrypted.
    HeldMessageSent { message: MessageId },
    /// A message the user typed was not sent.
    MessageNotSent { message: MessageId, reason: NotSentReason },
    /// An encrypted message could not be read (no session, or it did not authenticate).
    Unreadable,
    /// A message of ours was not well-formed.
    Malformed,
    /// A data message arrived but we have no encrypted session with that instance.
    NotInPrivate,
    /// A message for another instance of this account (ignored).
    ForOtherInstance,
    /// A message that we sent came back to us.
    Reflected,
    /// A plaintext message arrived while the session is encrypted.
    UnencryptedWhileEncrypted,
    /// A plaintext message arrived while our policy requires encryption.
    UnencryptedWhileRequired,
    /// The peer sent an error message; the text is the peer's and untrusted.
    PeerError { text: String },
    /// OTR traffic this client does not answer: OTR v1 or v4 (never spoken), or any OTR when the
    /// policy speaks no OTR version (`ALLOW_OTR_V3`/`_V2` unset, or `REQUIRE_MODERN`).
    ForeignProtocol,
    /// The peer sent a heartbeat.
    HeartbeatReceived,
    /// We sent a heartbeat.
    HeartbeatSent,
    /// The peer ended the encrypted session.
    PeerEndedSession,
    /// The session expired after a long silence and was wiped.
    SessionExpired,
    /// A handshake failed (the code says why; the previous session, if any, is kept).
    HandshakeFailed { reason: u32 },
    /// The handshake with a peer completed (also reported as a state change).
    HandshakeComplete,
    /// The peer used an extra symmetric key: `key` is the same key on both sides. Boxed, so
    /// moving the event (through action lists) moves a pointer, never a copy of the key; wiped
    /// on drop, compared in constant time, redacted in `Debug`.
    ExtraKeyReceived { usage: u32, context: Vec<u8>, key: Box<SecretKey> },
    /// The peer could not read this message of ours (it lost its session); a new session is
    /// being started if the policy allows. The message is not resent automatically.
    PeerCouldNotRead { message: MessageId },
    /// The first key ever seen for this peer.
    NewFingerprint { fingerprint: [u8; 32] },
    /// The peer now uses a different key than before, like an SSH host-key change.
    FingerprintChanged { old: [u8; 32], new: [u8; 32], old_was_verified: bool },
    /// SMP: the peer asks us to answer (with their question, if any).
    SmpAskedForSecret { question: Option<String> },
    /// SMP: in progress.
    SmpInProgress,
    /// SMP: succeeded; the fingerprint is now verified. Without a question both sides get
    /// this; with a question only the asker does (see [`Event::SmpVerifiedByPeer`]).
    SmpSucceeded,
    /// SMP: the secrets did not match.
    SmpFailed,
    /// SMP: aborted (by either side or by an out-of-order message).
    SmpAborted,
    /// SMP: a proof failed: someone tried to cheat.
    SmpCheated,
    /// State worth keeping changed and is not saved yet: save the client (after carrying out
    /// the call's other actions). Reported once until saved: a call emits it only when it
    /// changes a kind of state (a `PERSIST_*` bit) not changed since the last successful save
    /// (`store::save_to_bytes`, `FileStore::save`, `encode_client`; a failed save leaves it
    /// pending, a loaded client starts with nothing unsaved). `what` is the bitmask of
    /// everything changed since that save. At most once per client call, as its last action,
    /// with an empty peer name and instance 0 (it is about the whole client).
    PersistNeeded { what: u32 },
    /// SMP: we answered the peer's *question* correctly. The peer now trusts us; we learned
    /// nothing about the peer (they chose the question, so anyone can ask one they can answer).
    /// Our trust store is unchanged: to verify them, ask your own question (or use a shared
    /// secret without a question).
    SmpVerifiedByPeer,
    /// A live session uses an unverified key (`fingerprint`) while a key of this peer is
    /// verified: plain sends do not use it until the application consents (accept the key,
    /// send to that instance explicitly, or mark the key verified). `message` is 0 when the
    /// session is set up; otherwise that message was held because only such sessions are
    /// live (it is sent on consent, or fails with `KeyChanged` after the held-message timeout).
    KeyConsentRequired { message: MessageId, fingerprint: [u8; 32] },
    /// Unauthenticated input (a fragment, a handshake start, or anything from a peer the
    /// application never addressed) was dropped because the client's unauthenticated-input
    /// budget is full ([`super::Settings::unauthenticated_budget`]).
    InputDropped,
    /// An OTR session (v3 or v2, `protocol` says which) started with a peer that does not
    /// speak offrec's protocol: encrypted and authenticated, but weaker (SECURITY.md "Legacy
    /// OTR"). Also reported as `HandshakeComplete` and a state change.
    LegacySessionStarted { protocol: super::Protocol },
    /// The OTR session with this instance was replaced by a session of offrec's own protocol:
    /// the peer runs offrec too, and its upgrade probe (or ours) led to a modern handshake.
    ProtocolUpgraded,
    /// The peer announced offrec inside an OTR session, but the modern handshake did not
    /// complete within the handshake timeout: someone may be blocking the modern protocol
    /// (a downgrade attack), or the peer's transport drops its messages. The OTR session
    /// stays; show it.
    DowngradeSuspected,
    /// An OTR session (v3 or v2) was set up with a DSA key linked to a modern key of this peer
    /// (PROTOCOL.md part B, "Key links and pins"): the peer runs offrec, so someone removed
    /// offrec's offer. User text for this session is held (never sent over OTR), a modern
    /// handshake was started, and the OTR session is replaced when it completes
    /// (`ProtocolUpgraded`, then the held text goes out); if it does not complete within the
    /// handshake timeout, `DowngradeSuspected` follows and the held text fails with
    /// `EncryptionTimeout`. Reported right after the OTR handshake, before any user text.
    DowngradeDetected,
    /// An OTR session was set up with a peer that had sessions of offrec's own protocol
    /// before, with a DSA key not linked to it (typically the peer's other device running
    /// Pidgin or another OTR program). Allowed; a UI may say "usually uses offrec".
    LegacyWithModernPeer,
    /// A new key link was recorded: the peer's modern key and its OTR DSA key `fingerprint`
    /// (a key id, `trust::otr_key_id`) belong to one offrec installation, as one of them
    /// claimed inside its authenticated session. If the claiming key was verified, the other
    /// now is too (trust flows only from the side that carried the claim).
    OtrKeyLinked { fingerprint: [u8; 32] },
    /// An application TLV arrived inside an encrypted message (`kind` in the application
    /// range, [`super::APP_TLV_FIRST`] and up): for the application, which the library does
    /// not interpret. Any text of the same message is delivered after its TLVs' events.
    TlvReceived { kind: u16, value: Zeroizing<Vec<u8>> },
}

/// [`Event::PersistNeeded`]: the set of sessions changed (one was installed, ended, finished by
/// the peer or expired).
pub const PERSIST_SESSIONS: u32 = 1;
/// [`Event::PersistNeeded`]: the trust store changed (a key was first seen, changed, or its
/// trust was set by SMP, `set_trust` or a key link), or a key link was recorded.
pub const PERSIST_TRUST: u32 = 2;
/// [`Event::PersistNeeded`]: messages held for encryption were queued, sent or failed.
pub const PERSIST_HELD_MESSAGES: u32 = 4;
/// [`Event::PersistNeeded`]: the record of sent messages changed (a user message went out
/// encrypted, or the peer reported some lost). It names lost messages after a restart.
pub const PERSIST_SENT_LOG: u32 = 8;
/// [`Event::PersistNeeded`]: other bookkeeping changed, such as the message id counter (so
/// ids are not handed out twice across a restart).
pub const PERSIST_OTHER: u32 = 16;

impl Event {
    /// The stable numeric code of this event.
    pub fn code(&self) -> u32 {
        match self {
            Self::EncryptionRequired { .. } => 1,
            Self::HeldMessageSent { .. } => 2,
            Self::MessageNotSent { .. } => 3,
            Self::Unreadable => 4,
            Self::Malformed => 5,
            Self::NotInPrivate => 6,
            Self::ForOtherInstance => 7,
            Self::Reflected => 8,
            Self::UnencryptedWhileEncrypted => 9,
            Self::UnencryptedWhileRequired => 10,
            Self::PeerError { .. } => 11,
            Self::ForeignProtocol => 12,
            Self::HeartbeatReceived => 13,
            Self::HeartbeatSent => 14,
            Self::PeerEndedSession => 15,
            Self::SessionExpired => 16,
            Self::HandshakeFailed { .. } => 17,
            Self::HandshakeComplete => 18,
            Self::ExtraKeyReceived { .. } => 19,
            Self::PeerCouldNotRead { .. } => 20,
            Self::NewFingerprint { .. } => 21,
            Self::FingerprintChanged { .. } => 22,
            Self::SmpAskedForSecret { .. } => 23,
            Self::SmpInProgress => 24,
            Self::SmpSucceeded => 25,
            Self::SmpFailed => 26,
            Self::SmpAborted => 27,
            Self::SmpCheated => 28,
            // 29 is retired: an SMP rate limit is the error `ClientError::SmpRateLimited`.
            Self::PersistNeeded { .. } => 30,
            Self::SmpVerifiedByPeer => 31,
            Self::KeyConsentRequired { .. } => 32,
            Self::InputDropped => 33,
            Self::LegacySessionStarted { .. } => 34,
            Self::ProtocolUpgraded => 35,
            Self::DowngradeSuspected => 36,
            Self::DowngradeDetected => 37,
            Self::LegacyWithModernPeer => 38,
            Self::OtrKeyLinked { .. } => 39,
            Self::TlvReceived { .. } => 44,
        }
    }
}

/// A peer's name as [`Action`]s carry it: shared with the peer's state, so an action costs a
/// reference count instead of a copy of the name (every message makes one or two actions).
/// Reads as a `&str` (`&*peer`, `peer.as_ref()`); compare with `&*peer == "name"`.
pub type PeerName = std::sync::Arc<str>;

/// What the application must do, in order. `peer` is the remote name the action is about (a
/// [`PeerName`], shared, not copied per action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this text to the peer over the transport (already encoded and fragmented).
    Send { peer: PeerName, text: String },
    /// Show this message to the user. The text reads as a `&[u8]` and is wiped on drop (a
    /// [`DeliveredText`]: a received message's text stays where it was decrypted).
    Deliver { peer: PeerName, instance: u32, text: DeliveredText, security: Security },
    /// A session's state changed.
    StateChanged { peer: PeerName, instance: u32, state: SessionState },
    /// Something happened; `instance` is 0 when no remote instance is involved.
    Event { peer: PeerName, instance: u32, event: Event },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_key_event_never_shows_its_key_in_debug_output() {
        let event = Event::ExtraKeyReceived {
            usage: 1,
            context: b"ctx".to_vec(),
            key: Box::new(SecretKey::from_bytes([0xab; 32])),
        };
        let shown = format!("{event:?}");
        assert!(shown.contains("ExtraKeyReceived") && shown.contains("SecretKey(..)"), "{shown}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, ab"), "the key leaked: {shown}");
    }
}
