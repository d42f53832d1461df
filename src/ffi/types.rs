//! Plain C types of the client API: enums, policy bits, sizes and the session-info struct.
//!
//! Enums go *out* to C as these `repr(u32)` types. Integers coming *in* from C are taken as
//! `uint32_t` and mapped with the `from_c` functions here; an unknown number is
//! `OFFREC_RESULT_UNKNOWN_ENUM_VALUE`, never transmuted.

use crate::conversation::{NotSentReason, Policy, Security, SessionInfo, SessionState};
use crate::ffi::result::OffrecResult;
use crate::trust::Trust;

/// Length in bytes of a fingerprint, a session id and an extra symmetric key.
pub const OFFREC_FINGERPRINT_LEN: usize = 32;
/// Buffer size that always fits `offrec_fingerprint_format`'s output, NUL included.
pub const OFFREC_FINGERPRINT_TEXT_SIZE: usize = 72;
/// Buffer size that always fits `offrec_ssid_format`'s output, NUL included.
pub const OFFREC_SSID_TEXT_SIZE: usize = 18;
/// Longest peer, account or network name, in bytes (names are 1 to this many bytes of UTF-8).
pub const OFFREC_MAX_NAME_LEN: usize = 1024;
/// Longest message text accepted by `offrec_client_send` and `offrec_client_receive`, in bytes.
pub const OFFREC_MAX_TEXT_LEN: usize = 131072;
/// Longest SMP secret, in bytes.
pub const OFFREC_MAX_SMP_SECRET_LEN: usize = 4096;
/// Longest SMP question, in bytes.
pub const OFFREC_MAX_SMP_QUESTION_LEN: usize = 1024;
/// Longest extra-symmetric-key context, in bytes.
pub const OFFREC_MAX_CONTEXT_LEN: usize = 4096;

/// Policy flag: speak the protocol at all (answer queries, start sessions when asked).
pub const OFFREC_POLICY_ALLOW: u32 = 1;
/// Policy flag: never send a message the user typed in the clear.
pub const OFFREC_POLICY_REQUIRE_ENCRYPTION: u32 = 2;
/// Policy flag: append the whitespace tag to plaintext to advertise support.
pub const OFFREC_POLICY_SEND_WHITESPACE_TAG: u32 = 4;
/// Policy flag: start a handshake when a whitespace-tagged plaintext arrives.
pub const OFFREC_POLICY_WHITESPACE_START_AKE: u32 = 8;
/// Policy flag: start a handshake when an error message arrives (off in every preset).
pub const OFFREC_POLICY_ERROR_START_AKE: u32 = 16;
/// Policy flag: speak OTR v3 with peers that do not offer offrec (libotr, Pidgin, Adium,
/// irssi-otr, Jitsi). Weaker than offrec's protocol: see SECURITY.md "Legacy OTR".
pub const OFFREC_POLICY_ALLOW_OTR_V3: u32 = 32;
/// Policy flag: speak OTR v2 with peers that offer nothing newer (python-potr: weechat-otr).
pub const OFFREC_POLICY_ALLOW_OTR_V2: u32 = 64;
/// Policy flag: inside OTR sessions, announce offrec and upgrade to its protocol when the peer
/// runs offrec too.
pub const OFFREC_POLICY_DOWNGRADE_GUARD: u32 = 128;
/// Policy flag: never speak OTR (the strict opt-out; overrides the two `ALLOW_OTR` flags).
pub const OFFREC_POLICY_REQUIRE_MODERN: u32 = 256;
/// Policy preset: never encrypt.
pub const OFFREC_POLICY_NEVER: u32 = 0;
/// Policy flags every encrypting preset adds: OTR v3 and v2 as fallback, with the downgrade
/// guard, as libotr's presets allow v2 and v3.
pub const OFFREC_POLICY_OTR_FALLBACK: u32 =
    OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2 | OFFREC_POLICY_DOWNGRADE_GUARD;
/// Policy preset: encrypt only when a user starts a session or the peer asks; OTR v3/v2 as
/// fallback.
pub const OFFREC_POLICY_MANUAL: u32 = OFFREC_POLICY_ALLOW | OFFREC_POLICY_OTR_FALLBACK;
/// Policy preset: advertise with the whitespace tag and encrypt whenever the peer can; OTR
/// v3/v2 as fallback.
pub const OFFREC_POLICY_OPPORTUNISTIC: u32 = OFFREC_POLICY_ALLOW
    | OFFREC_POLICY_SEND_WHITESPACE_TAG
    | OFFREC_POLICY_WHITESPACE_START_AKE
    | OFFREC_POLICY_OTR_FALLBACK;
/// Policy preset: encrypt or do not send; OTR v3/v2 as fallback.
pub const OFFREC_POLICY_ALWAYS: u32 = OFFREC_POLICY_ALLOW
    | OFFREC_POLICY_REQUIRE_ENCRYPTION
    | OFFREC_POLICY_WHITESPACE_START_AKE
    | OFFREC_POLICY_OTR_FALLBACK;

/// Maps policy bits from C; unknown bits are `OFFREC_RESULT_INVALID_POLICY`.
pub(crate) fn policy_from_c(bits: u32) -> Result<Policy, OffrecResult> {
    Policy::from_bits(bits).ok_or(OffrecResult::InvalidPolicy)
}

/// The security of a session with one remote instance, as a UI shows it.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecSessionState {
    /// No encryption.
    Plaintext = 0,
    /// Encrypted, but the peer's fingerprint is not verified.
    EncryptedUnverified = 1,
    /// Encrypted, and the peer's fingerprint is verified (by SMP or by hand).
    EncryptedVerified = 2,
    /// The peer ended the encrypted session; nothing is sent until the user ends or restarts it.
    Finished = 3,
}

impl From<SessionState> for OffrecSessionState {
    fn from(state: SessionState) -> Self {
        match state {
            SessionState::Plaintext => Self::Plaintext,
            SessionState::EncryptedUnverified => Self::EncryptedUnverified,
            SessionState::EncryptedVerified => Self::EncryptedVerified,
            SessionState::Finished => Self::Finished,
        }
    }
}

/// How a delivered message arrived.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecSecurity {
    /// It came in the clear.
    Plaintext = 0,
    /// It was encrypted by a peer whose fingerprint is not verified.
    EncryptedUnverified = 1,
    /// It was encrypted by a verified peer.
    EncryptedVerified = 2,
}

impl From<Security> for OffrecSecurity {
    fn from(security: Security) -> Self {
        match security {
            Security::Plaintext => Self::Plaintext,
            Security::EncryptedUnverified => Self::EncryptedUnverified,
            Security::EncryptedVerified => Self::EncryptedVerified,
        }
    }
}

/// How far a peer's key is trusted.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecTrust {
    /// Seen, never verified (or verification revoked).
    Unverified = 0,
    /// Verified by a successful Socialist Millionaires' Protocol run.
    VerifiedSmp = 1,
    /// Verified by the user comparing fingerprints out of band.
    VerifiedManual = 2,
}

impl From<Trust> for OffrecTrust {
    fn from(trust: Trust) -> Self {
        match trust {
            Trust::Unverified => Self::Unverified,
            Trust::VerifiedSmp => Self::VerifiedSmp,
            Trust::VerifiedManual => Self::VerifiedManual,
        }
    }
}

/// Maps an `offrec_trust` number from C; unknown numbers are `UNKNOWN_ENUM_VALUE`.
pub(crate) fn trust_from_c(value: u32) -> Result<Trust, OffrecResult> {
    Trust::from_u32(value).ok_or(OffrecResult::UnknownEnumValue)
}

/// Why a message was not sent (`reason` of an `OFFREC_EVENT_CODE_MESSAGE_NOT_SENT` event).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecNotSentReason {
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

impl From<NotSentReason> for OffrecNotSentReason {
    fn from(reason: NotSentReason) -> Self {
        match reason {
            NotSentReason::EncryptionTimeout => Self::EncryptionTimeout,
            NotSentReason::SessionFinished => Self::SessionFinished,
            NotSentReason::KeyChanged => Self::KeyChanged,
            NotSentReason::SessionEnded => Self::SessionEnded,
            NotSentReason::QueueFull => Self::QueueFull,
            NotSentReason::TooLarge => Self::TooLarge,
        }
    }
}

/// Why a handshake failed (`reason` of an `OFFREC_EVENT_CODE_HANDSHAKE_FAILED` event;
/// PROTOCOL.md §4.5 and §9.6). The previous session, if any, is kept, and the handshake in
/// progress is left as it was. New reasons may be added: treat an unknown number as a generic
/// failure.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecHandshakeFailure {
    /// A handshake message was not well-formed (or not the kind expected).
    Malformed = 1,
    /// The message was for another instance of our account.
    WrongInstance = 2,
    /// The offered or chosen protocol versions do not match (a downgrade attempt?).
    VersionMismatch = 3,
    /// A cryptographic check failed: a tampered or forged message, or the peer's key does not
    /// match what it proved.
    AuthenticationFailed = 4,
    /// A Diffie-Hellman result was all zeros (a malicious key).
    NonContributory = 5,
    /// The operating system's random number generator failed.
    Random = 6,
    /// A handshake message could not be sent: the transport's size limit is too small to
    /// fragment it into.
    Unsendable = 7,
    /// The two sides bind different names into the handshake: their account names (after
    /// normalisation), networks, or `OFFREC_OPTION_NAME_BINDING` settings differ. Reported to
    /// both sides at once: the responder sees it in the peer's first message and tells the
    /// initiator. Check that each side uses the account name the other knows it by.
    NamesDiffer = 8,
    /// An OTR (v3/v2) handshake failed: a signature, MAC or commitment did not verify, or a DH
    /// value was out of range (someone tampered with it, or a broken peer).
    OtrFailed = 9,
}

/// A client tunable for `offrec_client_set_option`. Times are in seconds of the `now` clock.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecOption {
    /// Send a heartbeat after receiving without sending for this long (0 = never; default 60).
    HeartbeatInterval = 0,
    /// Wipe a session silent for this long, telling the peer (0 = never; default 7200).
    SessionExpiry = 1,
    /// Messages held for encryption fail after this long (default 120).
    HeldMessageTimeout = 2,
    /// A handshake not completed after this long is dropped (default 120).
    HandshakeTimeout = 3,
    /// Pad encrypted bodies to a multiple of this many bytes (0 = none, at most 4096; default 16).
    PaddingBlock = 4,
    /// Largest wire message for peers without their own limit (0 = unlimited, the default;
    /// otherwise at least 64 bytes).
    MaxMessageSize = 5,
    /// Bytes the client may hold for input from senders it has not authenticated: fragments of
    /// incomplete messages (counted by bytes actually received, plus a fixed cost per message
    /// and per piece), entries for peers the app never addressed, and handshakes in progress
    /// (1 KiB each). Input past it is dropped with `OFFREC_EVENT_CODE_INPUT_DROPPED`.
    /// Default 4194304 (4 MiB: 32 incomplete messages of the largest size at once); 0 drops
    /// every such input. Lowering it drops nothing already held; it stops new growth.
    UnauthenticatedBudget = 6,
    /// What the handshake binds about names (PROTOCOL.md §4.2): 1 = both account names and
    /// the network, normalised (the default: ASCII lower-case, trimmed, XMPP resource dropped,
    /// `prpl-jabber`/`jabber` = `xmpp`); 0 = the network only, for transports where names
    /// change mid-conversation (IRC nick changes). With 0, identity keys are still bound and
    /// checked, but the handshake no longer proves that the peer meant to talk to this account
    /// (SECURITY.md). Both sides must use the same value, or handshakes fail with
    /// `OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER`. Applies to handshakes started after the call.
    NameBinding = 7,
}

impl OffrecOption {
    /// Maps an `offrec_option` number from C.
    pub(crate) fn from_c(value: u32) -> Result<Self, OffrecResult> {
        Ok(match value {
            0 => Self::HeartbeatInterval,
            1 => Self::SessionExpiry,
            2 => Self::HeldMessageTimeout,
            3 => Self::HandshakeTimeout,
            4 => Self::PaddingBlock,
            5 => Self::MaxMessageSize,
            6 => Self::UnauthenticatedBudget,
            7 => Self::NameBinding,
            _ => return Err(OffrecResult::UnknownEnumValue),
        })
    }
}

/// What a UI needs to know about one session (filled in by `offrec_client_session_info`).
/// Plain data: it belongs to whoever holds it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OffrecSessionInfo {
    /// The remote instance tag.
    pub instance: u32,
    /// The session's state.
    pub state: OffrecSessionState,
    /// The peer's fingerprint in this session.
    pub their_fingerprint: [u8; 32],
    /// The session id (show it with `offrec_ssid_format`).
    pub ssid: [u8; 32],
    /// Whether we were the handshake initiator.
    pub we_initiated: bool,
    /// Whether an SMP run is in progress.
    pub smp_in_progress: bool,
}

impl From<&SessionInfo> for OffrecSessionInfo {
    fn from(info: &SessionInfo) -> Self {
        OffrecSessionInfo {
            instance: info.instance,
            state: info.state.into(),
            their_fingerprint: info.their_fingerprint,
            ssid: info.ssid,
            we_initiated: info.we_initiated,
            smp_in_progress: info.smp_in_progress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_constants_match_the_engine() {
        assert_eq!(OFFREC_POLICY_ALLOW, Policy::ALLOW.bits());
        assert_eq!(OFFREC_POLICY_REQUIRE_ENCRYPTION, Policy::REQUIRE_ENCRYPTION.bits());
        assert_eq!(OFFREC_POLICY_SEND_WHITESPACE_TAG, Policy::SEND_WHITESPACE_TAG.bits());
        assert_eq!(OFFREC_POLICY_WHITESPACE_START_AKE, Policy::WHITESPACE_START_AKE.bits());
        assert_eq!(OFFREC_POLICY_ERROR_START_AKE, Policy::ERROR_START_AKE.bits());
        assert_eq!(OFFREC_POLICY_ALLOW_OTR_V3, Policy::ALLOW_OTR_V3.bits());
        assert_eq!(OFFREC_POLICY_ALLOW_OTR_V2, Policy::ALLOW_OTR_V2.bits());
        assert_eq!(OFFREC_POLICY_DOWNGRADE_GUARD, Policy::DOWNGRADE_GUARD.bits());
        assert_eq!(OFFREC_POLICY_REQUIRE_MODERN, Policy::REQUIRE_MODERN.bits());
        assert_eq!(OFFREC_POLICY_NEVER, Policy::NEVER.bits());
        assert_eq!(OFFREC_POLICY_MANUAL, Policy::MANUAL.bits());
        assert_eq!(OFFREC_POLICY_OPPORTUNISTIC, Policy::OPPORTUNISTIC.bits());
        assert_eq!(OFFREC_POLICY_ALWAYS, Policy::ALWAYS.bits());
        assert_eq!(policy_from_c(1 << 9).err(), Some(OffrecResult::InvalidPolicy));
    }

    #[test]
    fn enums_keep_the_engine_numbers() {
        for (s, n) in [
            (SessionState::Plaintext, 0),
            (SessionState::EncryptedUnverified, 1),
            (SessionState::EncryptedVerified, 2),
            (SessionState::Finished, 3),
        ] {
            assert_eq!(OffrecSessionState::from(s) as u32, n);
            assert_eq!(s as u32, n);
        }
        for s in [Security::Plaintext, Security::EncryptedUnverified, Security::EncryptedVerified] {
            assert_eq!(OffrecSecurity::from(s) as u32, s as u32);
        }
        for t in [Trust::Unverified, Trust::VerifiedSmp, Trust::VerifiedManual] {
            assert_eq!(OffrecTrust::from(t) as u32, t as u32);
            assert_eq!(trust_from_c(t as u32), Ok(t));
        }
        assert_eq!(trust_from_c(3).err(), Some(OffrecResult::UnknownEnumValue));
        for r in [
            NotSentReason::EncryptionTimeout,
            NotSentReason::SessionFinished,
            NotSentReason::KeyChanged,
            NotSentReason::SessionEnded,
            NotSentReason::QueueFull,
            NotSentReason::TooLarge,
        ] {
            assert_eq!(OffrecNotSentReason::from(r) as u32, r as u32);
        }
        for n in 0..8 {
            assert_eq!(OffrecOption::from_c(n).map(|o| o as u32), Ok(n));
        }
        assert_eq!(OffrecOption::from_c(8).err(), Some(OffrecResult::UnknownEnumValue));
        use crate::ake::AkeError;
        let failures = [
            (AkeError::Malformed, OffrecHandshakeFailure::Malformed),
            (AkeError::WrongInstance, OffrecHandshakeFailure::WrongInstance),
            (AkeError::VersionMismatch, OffrecHandshakeFailure::VersionMismatch),
            (AkeError::AuthenticationFailed, OffrecHandshakeFailure::AuthenticationFailed),
            (AkeError::NonContributory, OffrecHandshakeFailure::NonContributory),
            (AkeError::Random, OffrecHandshakeFailure::Random),
            (AkeError::NamesDiffer, OffrecHandshakeFailure::NamesDiffer),
        ];
        for (error, code) in failures {
            assert_eq!(crate::conversation::handshake_failure_code(error), code as u32, "{error:?}");
        }
        assert_eq!(crate::conversation::HANDSHAKE_UNSENDABLE, OffrecHandshakeFailure::Unsendable as u32);
        assert_eq!(crate::conversation::HANDSHAKE_NAMES_DIFFER, OffrecHandshakeFailure::NamesDiffer as u32);
        assert_eq!(crate::conversation::HANDSHAKE_OTR_FAILED, OffrecHandshakeFailure::OtrFailed as u32);
        assert_eq!(OFFREC_MAX_NAME_LEN, crate::conversation::MAX_NAME_LEN);
        assert_eq!(OFFREC_MAX_TEXT_LEN, crate::wire::MAX_ENCODED_LEN);
        assert_eq!(OFFREC_MAX_SMP_QUESTION_LEN, crate::smp::MAX_QUESTION_LEN);
        assert_eq!(OFFREC_FINGERPRINT_TEXT_SIZE, crate::trust::format_fingerprint(&[0; 32]).len() + 1);
        let (a, b) = crate::trust::format_ssid(&[0; 32]);
        assert_eq!(OFFREC_SSID_TEXT_SIZE, a.len() + 1 + b.len() + 1);
    }
}
