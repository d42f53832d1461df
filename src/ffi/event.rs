//! Events for the `event` callback: a flat C struct built from an engine [`Event`].

use std::ffi::c_char;

use zeroize::Zeroizing;

use crate::conversation::Event;
use crate::ffi::types::OffrecNotSentReason;

/// The numeric code of an event (`offrec_event.code`). Same numbers as the engine's
/// `Event::code()`; stable, never renumbered. New codes may be added: ignore unknown ones.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecEventCode {
    /// A message is held until the session is encrypted (`message_id`); a handshake was started.
    EncryptionRequired = 1,
    /// A held message (`message_id`) was sent encrypted.
    HeldMessageSent = 2,
    /// A message (`message_id`) was not sent; `reason` is an `offrec_not_sent_reason`.
    MessageNotSent = 3,
    /// An encrypted message could not be read.
    Unreadable = 4,
    /// A message of ours was not well-formed.
    Malformed = 5,
    /// A data message arrived but there is no encrypted session with that instance.
    NotInPrivate = 6,
    /// A message for another instance of this account (ignored).
    ForOtherInstance = 7,
    /// A message we sent came back to us.
    Reflected = 8,
    /// A plaintext message arrived while the session is encrypted.
    UnencryptedWhileEncrypted = 9,
    /// A plaintext message arrived while our policy requires encryption.
    UnencryptedWhileRequired = 10,
    /// The peer sent an error message; `text` is the peer's words, untrusted.
    PeerError = 11,
    /// OTR traffic this client does not answer: OTR v1 or v4, or any OTR when the policy speaks
    /// no OTR version (`OFFREC_POLICY_ALLOW_OTR_V3`/`_V2` unset, or `_REQUIRE_MODERN`).
    ForeignProtocol = 12,
    /// The peer sent a heartbeat.
    HeartbeatReceived = 13,
    /// We sent a heartbeat.
    HeartbeatSent = 14,
    /// The peer ended the encrypted session.
    PeerEndedSession = 15,
    /// The session expired after a long silence and was wiped.
    SessionExpired = 16,
    /// A handshake failed; `reason` is an `offrec_handshake_failure` saying why (the previous
    /// session, if any, is kept).
    HandshakeFailed = 17,
    /// The handshake completed (also reported as a state change).
    HandshakeComplete = 18,
    /// The peer used an extra symmetric key: `usage`, `context` and the 32-byte `key`.
    ExtraKeyReceived = 19,
    /// The peer could not read some of our messages.
    PeerCouldNotRead = 20,
    /// The first key ever seen for this peer: `fingerprint`.
    NewFingerprint = 21,
    /// The peer now uses a different key: `fingerprint`, `old_fingerprint`, `old_was_verified`.
    FingerprintChanged = 22,
    /// SMP: the peer asks us to answer; `text` is their question, or NULL if none.
    SmpAskedForSecret = 23,
    /// SMP: in progress.
    SmpInProgress = 24,
    /// SMP: succeeded; the fingerprint is now verified. Without a question both sides get this;
    /// after a run with a question only the asker does (the answerer gets
    /// `SMP_VERIFIED_BY_PEER`).
    SmpSucceeded = 25,
    /// SMP: the secrets did not match.
    SmpFailed = 26,
    /// SMP: aborted (by either side or by an out-of-order message).
    SmpAborted = 27,
    /// SMP: a proof failed: someone tried to cheat.
    SmpCheated = 28,
    // 29 is retired (an SMP rate limit is reported by the result code
    // OFFREC_RESULT_SMP_RATE_LIMITED of offrec_client_smp_start); never reuse it.
    /// State worth keeping changed and is not saved yet: save the client (for example with
    /// `offrec_client_save_to_dir`). Reported once until saved: a call emits it only when it
    /// changes a kind of state (an `offrec_persist_flag` bit) not changed since the last
    /// successful save (`offrec_client_save`, `offrec_client_save_to_dir`; a failed save leaves
    /// it pending), so an app that saves on every notice gets one per changing call, and one
    /// that waits gets no more until it saves. `reason` is the bitmask of everything changed
    /// since that save (what a save would now capture). It is delivered after every change of
    /// the call is complete and with no lock held, so saving from inside the `event` callback
    /// is fine (or note it and save later; a passphrase save costs an Argon2id run). `peer` is
    /// empty and `instance` 0 (it is about the whole client). At most one per call, delivered
    /// last. A loaded client starts with nothing unsaved. Sessions are never resumed from a
    /// store (they are restarted with a new handshake), so saving keeps trust decisions,
    /// messages held for encryption and the record of what was sent; see STORAGE.md §5.1.
    PersistNeeded = 30,
    /// SMP: we answered the peer's question correctly, so the peer now trusts our key. We
    /// learned nothing about theirs (the asker chose the question): our trust store is NOT
    /// changed. To verify the peer, ask your own question (or run SMP without a question).
    SmpVerifiedByPeer = 31,
    /// A live session uses an unverified key (`fingerprint`, 32 bytes) while a key of this peer
    /// is verified: plain sends do not use it until the application consents
    /// (`offrec_client_accept_key`, `offrec_client_send_to_instance` to that `instance`, or
    /// `offrec_client_set_trust` with a verified level). `message_id` is 0 when the session is
    /// set up; otherwise that message was held because only such sessions are live: it is sent
    /// on consent, or fails with `OFFREC_NOT_SENT_REASON_KEY_CHANGED` after the held-message
    /// timeout.
    KeyConsentRequired = 32,
    /// Unauthenticated input (a fragment, a handshake start, or anything from a peer the app
    /// never addressed) was dropped: the client's budget for unauthenticated input
    /// (`OFFREC_OPTION_UNAUTHENTICATED_BUDGET`) is full. Nothing else about the client changed.
    InputDropped = 33,
    /// An OTR session started with a peer that does not speak offrec's protocol; `reason` is
    /// the `offrec_protocol` (`OFFREC_PROTOCOL_OTR_V3` or `_OTR_V2`). Encrypted and
    /// authenticated, but weaker than offrec's protocol: show it (SECURITY.md "Legacy OTR").
    LegacySessionStarted = 34,
    /// The OTR session with this `instance` was replaced by a session of offrec's own protocol
    /// (the peer runs offrec too): the session is STRONG now.
    ProtocolUpgraded = 35,
    /// The peer announced offrec inside an OTR session, but the modern handshake did not
    /// complete in time: someone may be blocking offrec's protocol (a downgrade attack). The
    /// OTR session stays; tell the user.
    DowngradeSuspected = 36,
    /// An OTR session (v3 or v2) was set up with a DSA key linked to one of this peer's offrec
    /// keys (PROTOCOL.md part B, "Key links and pins"): the peer runs offrec, so someone removed
    /// offrec's offer. Reported right after the OTR handshake, before any user text. User text
    /// for that session is held (`ENCRYPTION_REQUIRED` per message; never sent over OTR) and an
    /// offrec handshake was started: when it completes, the OTR session is replaced
    /// (`PROTOCOL_UPGRADED`) and the held text goes out (`HELD_MESSAGE_SENT`); if it does not
    /// complete within the handshake timeout, `DOWNGRADE_SUSPECTED` follows, the held text fails
    /// (`MESSAGE_NOT_SENT`, `OFFREC_NOT_SENT_REASON_ENCRYPTION_TIMEOUT`) and later text uses the
    /// OTR session. Tell the user someone may be interfering.
    DowngradeDetected = 37,
    /// An OTR session was set up with a peer that had offrec sessions with us before, using a
    /// DSA key not linked to its offrec key (typically the peer's other device running Pidgin or
    /// another OTR program). Allowed; a UI may say "usually uses offrec; this conversation uses
    /// classic OTR from another device or key".
    LegacyWithModernPeer = 38,
    /// A new key link was recorded: the peer's offrec key and its OTR DSA key belong to one
    /// installation, as one of them claimed inside its authenticated session. `fingerprint` is
    /// the DSA key's 32-byte key id (`offrec_key_id_is_otr` gives its 20-byte fingerprint). If
    /// the key whose session carried the claim is verified, the linked key now is too, at the
    /// same trust level (never the other way round; a claim never lowers trust).
    OtrKeyLinked = 39,
    /// An application TLV arrived inside an encrypted message: `usage` is its type (in the
    /// application range, `OFFREC_TLV_APP_FIRST` to 0xFFFF) and `context`/`context_len` its
    /// value (NULL with length 0 when empty), valid during the callback only (wiped after it).
    /// One event per TLV, in the message's order, before the `deliver` of any text it carried.
    /// See `offrec_client_send_tlvs`.
    TlvReceived = 44,
}

/// Bits of the `reason` field of an `OFFREC_EVENT_CODE_PERSIST_NEEDED` event: what changed since
/// the last successful save (every bit set since, not only the ones of the call that reported).
/// New bits may be added: save on any non-zero value.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecPersistFlag {
    /// A session was installed, ended, finished by the peer or expired.
    Sessions = 1,
    /// The trust store changed: a key was first seen or changed, or trust was set.
    Trust = 2,
    /// Messages held for encryption were queued, sent or failed.
    HeldMessages = 4,
    /// The record of sent messages changed (names lost messages after a restart).
    SentLog = 8,
    /// Other bookkeeping, such as the message id counter.
    Other = 16,
}

/// Maps an engine event to its C code. Exhaustive on purpose: a new engine event fails to
/// compile here until it gets a C code.
pub(crate) fn event_code(event: &Event) -> OffrecEventCode {
    use OffrecEventCode as C;
    match event {
        Event::EncryptionRequired { .. } => C::EncryptionRequired,
        Event::HeldMessageSent { .. } => C::HeldMessageSent,
        Event::MessageNotSent { .. } => C::MessageNotSent,
        Event::Unreadable => C::Unreadable,
        Event::Malformed => C::Malformed,
        Event::NotInPrivate => C::NotInPrivate,
        Event::ForOtherInstance => C::ForOtherInstance,
        Event::Reflected => C::Reflected,
        Event::UnencryptedWhileEncrypted => C::UnencryptedWhileEncrypted,
        Event::UnencryptedWhileRequired => C::UnencryptedWhileRequired,
        Event::PeerError { .. } => C::PeerError,
        Event::ForeignProtocol => C::ForeignProtocol,
        Event::HeartbeatReceived => C::HeartbeatReceived,
        Event::HeartbeatSent => C::HeartbeatSent,
        Event::PeerEndedSession => C::PeerEndedSession,
        Event::SessionExpired => C::SessionExpired,
        Event::HandshakeFailed { .. } => C::HandshakeFailed,
        Event::HandshakeComplete => C::HandshakeComplete,
        Event::ExtraKeyReceived { .. } => C::ExtraKeyReceived,
        Event::PeerCouldNotRead { .. } => C::PeerCouldNotRead,
        Event::NewFingerprint { .. } => C::NewFingerprint,
        Event::FingerprintChanged { .. } => C::FingerprintChanged,
        Event::SmpAskedForSecret { .. } => C::SmpAskedForSecret,
        Event::SmpInProgress => C::SmpInProgress,
        Event::SmpSucceeded => C::SmpSucceeded,
        Event::SmpFailed => C::SmpFailed,
        Event::SmpAborted => C::SmpAborted,
        Event::SmpCheated => C::SmpCheated,
        Event::SmpVerifiedByPeer => C::SmpVerifiedByPeer,
        Event::KeyConsentRequired { .. } => C::KeyConsentRequired,
        Event::PersistNeeded { .. } => C::PersistNeeded,
        Event::InputDropped => C::InputDropped,
        Event::LegacySessionStarted { .. } => C::LegacySessionStarted,
        Event::ProtocolUpgraded => C::ProtocolUpgraded,
        Event::DowngradeSuspected => C::DowngradeSuspected,
        Event::DowngradeDetected => C::DowngradeDetected,
        Event::LegacyWithModernPeer => C::LegacyWithModernPeer,
        Event::OtrKeyLinked { .. } => C::OtrKeyLinked,
        Event::TlvReceived { .. } => C::TlvReceived,
    }
}

/// Something that happened, handed to the `event` callback.
///
/// Every pointer in it is borrowed: valid only during the callback, owned by the library.
/// Copy what you need to keep. Fields that do not apply to `code` are 0, false or NULL. Texts
/// are NUL-terminated and also come with their length (which excludes the NUL).
#[repr(C)]
#[derive(Debug)]
pub struct OffrecEvent {
    /// An `offrec_event_code` (taken as a number: unknown future codes may appear).
    pub code: u32,
    /// The peer's name (UTF-8, NUL-terminated).
    pub peer: *const c_char,
    /// Length of `peer` in bytes, without the NUL.
    pub peer_len: usize,
    /// The remote instance tag, or 0 when no instance is involved.
    pub instance: u32,
    /// The message id (ENCRYPTION_REQUIRED, HELD_MESSAGE_SENT, MESSAGE_NOT_SENT,
    /// PEER_COULD_NOT_READ, KEY_CONSENT_REQUIRED), else 0.
    pub message_id: u64,
    /// MESSAGE_NOT_SENT: an `offrec_not_sent_reason`; HANDSHAKE_FAILED: an
    /// `offrec_handshake_failure`; PERSIST_NEEDED: a bitmask of `offrec_persist_flag`.
    pub reason: u32,
    /// PEER_ERROR: the peer's error text; SMP_ASKED_FOR_SECRET: the question. NULL otherwise.
    pub text: *const c_char,
    /// Length of `text` in bytes, without the NUL.
    pub text_len: usize,
    /// NEW_FINGERPRINT, FINGERPRINT_CHANGED, KEY_CONSENT_REQUIRED: the peer's (new)
    /// fingerprint, 32 bytes; OTR_KEY_LINKED: the linked DSA key's 32-byte key id; else NULL.
    pub fingerprint: *const u8,
    /// FINGERPRINT_CHANGED: the previous fingerprint, 32 bytes; else NULL.
    pub old_fingerprint: *const u8,
    /// FINGERPRINT_CHANGED: whether a previously known key was verified.
    pub old_was_verified: bool,
    /// EXTRA_KEY_RECEIVED: the usage number the peer chose. TLV_RECEIVED: the TLV's type.
    pub usage: u32,
    /// EXTRA_KEY_RECEIVED: the context bytes the peer sent. TLV_RECEIVED: the TLV's value
    /// (wiped right after the callback returns). May be NULL with length 0.
    pub context: *const u8,
    /// Length of `context` in bytes.
    pub context_len: usize,
    /// EXTRA_KEY_RECEIVED: the 32-byte shared key; wiped right after the callback returns.
    pub key: *const u8,
}

/// Owned storage the pointers of an [`OffrecEvent`] point into; lives across one callback.
pub(crate) struct EventStorage {
    peer: Vec<u8>,
    text: Option<Zeroizing<Vec<u8>>>,
    event: Event,
}

fn nul_terminated(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(bytes.len() + 1));
    v.extend_from_slice(bytes);
    v.push(0);
    v
}

impl EventStorage {
    pub(crate) fn new(peer: &str, event: Event) -> Self {
        let text = match &event {
            Event::PeerError { text } => Some(nul_terminated(text.as_bytes())),
            Event::SmpAskedForSecret { question: Some(q) } => Some(nul_terminated(q.as_bytes())),
            _ => None,
        };
        let mut peer_bytes = peer.as_bytes().to_vec();
        peer_bytes.push(0);
        EventStorage { peer: peer_bytes, text, event }
    }

    /// The C view; borrows `self`, so the storage outlives every pointer in it.
    pub(crate) fn view(&self, instance: u32) -> OffrecEvent {
        let mut c = OffrecEvent {
            code: event_code(&self.event) as u32,
            peer: self.peer.as_ptr().cast::<c_char>(),
            peer_len: self.peer.len() - 1,
            instance,
            message_id: 0,
            reason: 0,
            text: std::ptr::null(),
            text_len: 0,
            fingerprint: std::ptr::null(),
            old_fingerprint: std::ptr::null(),
            old_was_verified: false,
            usage: 0,
            context: std::ptr::null(),
            context_len: 0,
            key: std::ptr::null(),
        };
        if let Some(text) = &self.text {
            c.text = text.as_ptr().cast::<c_char>();
            c.text_len = text.len() - 1;
        }
        match &self.event {
            Event::EncryptionRequired { message }
            | Event::HeldMessageSent { message }
            | Event::PeerCouldNotRead { message } => {
                c.message_id = *message;
            }
            Event::MessageNotSent { message, reason } => {
                c.message_id = *message;
                c.reason = OffrecNotSentReason::from(*reason) as u32;
            }
            Event::HandshakeFailed { reason } => c.reason = *reason,
            Event::PersistNeeded { what } => c.reason = *what,
            Event::LegacySessionStarted { protocol } => c.reason = *protocol as u32,
            Event::ExtraKeyReceived { usage, context, key } => {
                c.usage = *usage;
                if !context.is_empty() {
                    c.context = context.as_ptr();
                    c.context_len = context.len();
                }
                c.key = key.expose().as_ptr();
            }
            Event::TlvReceived { kind, value } => {
                c.usage = u32::from(*kind);
                if !value.is_empty() {
                    c.context = value.as_ptr();
                    c.context_len = value.len();
                }
            }
            Event::NewFingerprint { fingerprint } | Event::OtrKeyLinked { fingerprint } => {
                c.fingerprint = fingerprint.as_ptr()
            }
            Event::KeyConsentRequired { message, fingerprint } => {
                c.message_id = *message;
                c.fingerprint = fingerprint.as_ptr();
            }
            Event::FingerprintChanged { old, new, old_was_verified } => {
                c.fingerprint = new.as_ptr();
                c.old_fingerprint = old.as_ptr();
                c.old_was_verified = *old_was_verified;
            }
            _ => {}
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::NotSentReason;

    /// One of every engine event (kept exhaustive by `event_code`'s match).
    fn every_event() -> Vec<Event> {
        vec![
            Event::EncryptionRequired { message: 1 },
            Event::HeldMessageSent { message: 2 },
            Event::MessageNotSent { message: 3, reason: NotSentReason::QueueFull },
            Event::Unreadable,
            Event::Malformed,
            Event::NotInPrivate,
            Event::ForOtherInstance,
            Event::Reflected,
            Event::UnencryptedWhileEncrypted,
            Event::UnencryptedWhileRequired,
            Event::PeerError { text: "oops".into() },
            Event::ForeignProtocol,
            Event::HeartbeatReceived,
            Event::HeartbeatSent,
            Event::PeerEndedSession,
            Event::SessionExpired,
            Event::HandshakeFailed { reason: 9 },
            Event::HandshakeComplete,
            Event::ExtraKeyReceived {
                usage: 7,
                context: b"ctx".to_vec(),
                key: Box::new(crate::crypto::SecretKey::from_bytes([5; 32])),
            },
            Event::PeerCouldNotRead { message: 9 },
            Event::NewFingerprint { fingerprint: [1; 32] },
            Event::FingerprintChanged { old: [1; 32], new: [2; 32], old_was_verified: true },
            Event::SmpAskedForSecret { question: Some("q?".into()) },
            Event::SmpInProgress,
            Event::SmpSucceeded,
            Event::SmpFailed,
            Event::SmpAborted,
            Event::SmpCheated,
            Event::SmpVerifiedByPeer,
            Event::KeyConsentRequired { message: 4, fingerprint: [3; 32] },
            Event::PersistNeeded { what: 5 },
            Event::InputDropped,
            Event::LegacySessionStarted { protocol: crate::conversation::Protocol::OtrV3 },
            Event::ProtocolUpgraded,
            Event::DowngradeSuspected,
            Event::DowngradeDetected,
            Event::LegacyWithModernPeer,
            Event::OtrKeyLinked { fingerprint: [4; 32] },
            Event::TlvReceived { kind: 0x8001, value: Zeroizing::new(b"tlv".to_vec()) },
        ]
    }

    #[test]
    fn every_event_maps_to_its_engine_code() {
        let events = every_event();
        assert_eq!(events.len(), 39, "codes 1..=28, 30..=39 (29 is retired) and 44");
        let mut seen = std::collections::HashSet::new();
        for e in &events {
            assert_eq!(event_code(e) as u32, e.code(), "{e:?}");
            assert!(seen.insert(e.code()));
        }
    }

    #[test]
    fn views_carry_the_fields() {
        let s = EventStorage::new("bob", Event::MessageNotSent { message: 3, reason: NotSentReason::QueueFull });
        let v = s.view(0x100);
        assert_eq!((v.code, v.message_id, v.reason, v.instance, v.peer_len), (3, 3, 5, 0x100, 3));
        let s = EventStorage::new("bob", Event::SmpAskedForSecret { question: Some("q?".into()) });
        assert_eq!(s.view(1).text_len, 2);
        let s = EventStorage::new("bob", Event::SmpAskedForSecret { question: None });
        assert!(s.view(1).text.is_null());
        let s = EventStorage::new("bob", Event::KeyConsentRequired { message: 9, fingerprint: [7; 32] });
        let v = s.view(0x101);
        assert_eq!((v.code, v.message_id, v.instance), (32, 9, 0x101));
        // Safety: the view borrows `s`, which holds the 32-byte fingerprint.
        assert_eq!(unsafe { std::slice::from_raw_parts(v.fingerprint, 32) }, &[7; 32]);
        let s = EventStorage::new("bob", Event::OtrKeyLinked { fingerprint: [8; 32] });
        let v = s.view(0x102);
        assert_eq!((v.code, v.instance), (39, 0x102));
        // Safety: the view borrows `s`, which holds the 32-byte key id.
        assert_eq!(unsafe { std::slice::from_raw_parts(v.fingerprint, 32) }, &[8; 32]);
        let s = EventStorage::new("bob", Event::TlvReceived { kind: 0x8123, value: Zeroizing::new(b"abc".to_vec()) });
        let v = s.view(0x102);
        assert_eq!((v.code, v.usage, v.context_len, v.instance), (44, 0x8123, 3, 0x102));
        // Safety: the view borrows `s`, which holds the 3-byte value.
        assert_eq!(unsafe { std::slice::from_raw_parts(v.context, 3) }, b"abc");
        let s = EventStorage::new("bob", Event::TlvReceived { kind: 0x8000, value: Zeroizing::new(Vec::new()) });
        assert!(s.view(1).context.is_null());
        let s = EventStorage::new("", Event::PersistNeeded { what: 12 });
        let v = s.view(0);
        assert_eq!((v.code, v.reason, v.peer_len), (30, 12, 0));
    }

    #[test]
    fn persist_flags_match_the_engine() {
        use crate::conversation as e;
        assert_eq!(OffrecPersistFlag::Sessions as u32, e::PERSIST_SESSIONS);
        assert_eq!(OffrecPersistFlag::Trust as u32, e::PERSIST_TRUST);
        assert_eq!(OffrecPersistFlag::HeldMessages as u32, e::PERSIST_HELD_MESSAGES);
        assert_eq!(OffrecPersistFlag::SentLog as u32, e::PERSIST_SENT_LOG);
        assert_eq!(OffrecPersistFlag::Other as u32, e::PERSIST_OTHER);
    }
}
