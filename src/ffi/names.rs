//! Names for the numbers the API hands out (events, states, trust levels, failure reasons,
//! protocols, message kinds), for logs and debugging UIs. A name is the C constant without its
//! prefix, in lower case (`OFFREC_EVENT_CODE_SMP_FAILED` → `"smp_failed"`); numbers that name
//! nothing give `"unknown"`. `tests/header_drift.rs` checks every constant of the header
//! against these tables, so a new constant without a name fails the build's tests.

use std::ffi::{c_char, CStr};

use crate::ffi::classify::OffrecMessageKind as K;
use crate::ffi::event::OffrecEventCode as E;
use crate::ffi::otr::OffrecProtocol as P;
use crate::ffi::panic::catch;
use crate::ffi::peers::OffrecKeyKind;
use crate::ffi::types::{
    OffrecHandshakeFailure as H, OffrecNotSentReason as N, OffrecSessionState as S, OffrecTrust as T,
};

const UNKNOWN: &CStr = c"unknown";

const EVENTS: &[(u32, &CStr)] = &[
    (E::EncryptionRequired as u32, c"encryption_required"),
    (E::HeldMessageSent as u32, c"held_message_sent"),
    (E::MessageNotSent as u32, c"message_not_sent"),
    (E::Unreadable as u32, c"unreadable"),
    (E::Malformed as u32, c"malformed"),
    (E::NotInPrivate as u32, c"not_in_private"),
    (E::ForOtherInstance as u32, c"for_other_instance"),
    (E::Reflected as u32, c"reflected"),
    (E::UnencryptedWhileEncrypted as u32, c"unencrypted_while_encrypted"),
    (E::UnencryptedWhileRequired as u32, c"unencrypted_while_required"),
    (E::PeerError as u32, c"peer_error"),
    (E::ForeignProtocol as u32, c"foreign_protocol"),
    (E::HeartbeatReceived as u32, c"heartbeat_received"),
    (E::HeartbeatSent as u32, c"heartbeat_sent"),
    (E::PeerEndedSession as u32, c"peer_ended_session"),
    (E::SessionExpired as u32, c"session_expired"),
    (E::HandshakeFailed as u32, c"handshake_failed"),
    (E::HandshakeComplete as u32, c"handshake_complete"),
    (E::ExtraKeyReceived as u32, c"extra_key_received"),
    (E::PeerCouldNotRead as u32, c"peer_could_not_read"),
    (E::NewFingerprint as u32, c"new_fingerprint"),
    (E::FingerprintChanged as u32, c"fingerprint_changed"),
    (E::SmpAskedForSecret as u32, c"smp_asked_for_secret"),
    (E::SmpInProgress as u32, c"smp_in_progress"),
    (E::SmpSucceeded as u32, c"smp_succeeded"),
    (E::SmpFailed as u32, c"smp_failed"),
    (E::SmpAborted as u32, c"smp_aborted"),
    (E::SmpCheated as u32, c"smp_cheated"),
    (E::PersistNeeded as u32, c"persist_needed"),
    (E::SmpVerifiedByPeer as u32, c"smp_verified_by_peer"),
    (E::KeyConsentRequired as u32, c"key_consent_required"),
    (E::InputDropped as u32, c"input_dropped"),
    (E::LegacySessionStarted as u32, c"legacy_session_started"),
    (E::ProtocolUpgraded as u32, c"protocol_upgraded"),
    (E::DowngradeSuspected as u32, c"downgrade_suspected"),
    (E::DowngradeDetected as u32, c"downgrade_detected"),
    (E::LegacyWithModernPeer as u32, c"legacy_with_modern_peer"),
    (E::OtrKeyLinked as u32, c"otr_key_linked"),
    (E::TlvReceived as u32, c"tlv_received"),
];

const STATES: &[(u32, &CStr)] = &[
    (S::Plaintext as u32, c"plaintext"),
    (S::EncryptedUnverified as u32, c"encrypted_unverified"),
    (S::EncryptedVerified as u32, c"encrypted_verified"),
    (S::Finished as u32, c"finished"),
];

const TRUST: &[(u32, &CStr)] = &[
    (T::Unverified as u32, c"unverified"),
    (T::VerifiedSmp as u32, c"verified_smp"),
    (T::VerifiedManual as u32, c"verified_manual"),
];

const HANDSHAKE_FAILURES: &[(u32, &CStr)] = &[
    (H::Malformed as u32, c"malformed"),
    (H::WrongInstance as u32, c"wrong_instance"),
    (H::VersionMismatch as u32, c"version_mismatch"),
    (H::AuthenticationFailed as u32, c"authentication_failed"),
    (H::NonContributory as u32, c"non_contributory"),
    (H::Random as u32, c"random"),
    (H::Unsendable as u32, c"unsendable"),
    (H::NamesDiffer as u32, c"names_differ"),
    (H::OtrFailed as u32, c"otr_failed"),
];

const NOT_SENT_REASONS: &[(u32, &CStr)] = &[
    (N::EncryptionTimeout as u32, c"encryption_timeout"),
    (N::SessionFinished as u32, c"session_finished"),
    (N::KeyChanged as u32, c"key_changed"),
    (N::SessionEnded as u32, c"session_ended"),
    (N::QueueFull as u32, c"queue_full"),
    (N::TooLarge as u32, c"too_large"),
];

const PROTOCOLS: &[(u32, &CStr)] =
    &[(P::ModernV1 as u32, c"modern_v1"), (P::OtrV3 as u32, c"otr_v3"), (P::OtrV2 as u32, c"otr_v2")];

const KEY_KINDS: &[(u32, &CStr)] =
    &[(OffrecKeyKind::Modern as u32, c"modern"), (OffrecKeyKind::OtrDsa as u32, c"otr_dsa")];

const MESSAGE_KINDS: &[(u32, &CStr)] = &[
    (K::Plaintext as u32, c"plaintext"),
    (K::OffrecQuery as u32, c"offrec_query"),
    (K::OffrecTagged as u32, c"offrec_tagged"),
    (K::OffrecKeyExchange as u32, c"offrec_key_exchange"),
    (K::OffrecData as u32, c"offrec_data"),
    (K::OffrecError as u32, c"offrec_error"),
    (K::OffrecFragment as u32, c"offrec_fragment"),
    (K::OtrQuery as u32, c"otr_query"),
    (K::OtrTagged as u32, c"otr_tagged"),
    (K::OtrDhCommit as u32, c"otr_dh_commit"),
    (K::OtrDhKey as u32, c"otr_dh_key"),
    (K::OtrRevealSignature as u32, c"otr_reveal_signature"),
    (K::OtrSignature as u32, c"otr_signature"),
    (K::OtrData as u32, c"otr_data"),
    (K::OtrError as u32, c"otr_error"),
    (K::OtrFragment as u32, c"otr_fragment"),
    (K::OtrForeign as u32, c"otr_foreign"),
    (K::Malformed as u32, c"malformed"),
];

fn lookup(table: &[(u32, &'static CStr)], code: u32) -> *const c_char {
    catch(|| table.iter().find(|(n, _)| *n == code).map_or(UNKNOWN, |(_, name)| *name).as_ptr())
}

/// The name of an `offrec_event_code` (`"smp_failed"`), or `"unknown"`. The returned string is
/// static: never NULL, never freed. Safe from any thread. Names are the constants' names
/// without `OFFREC_EVENT_CODE_`, in lower case; they are for logs, not for users.
#[no_mangle]
pub extern "C" fn offrec_event_name(code: u32) -> *const c_char {
    lookup(EVENTS, code)
}

/// The name of an `offrec_session_state` (`"encrypted_verified"`), or `"unknown"`. As
/// `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_state_name(state: u32) -> *const c_char {
    lookup(STATES, state)
}

/// The name of an `offrec_trust` (`"verified_smp"`), or `"unknown"`. As `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_trust_name(trust: u32) -> *const c_char {
    lookup(TRUST, trust)
}

/// The name of an `offrec_handshake_failure` (`"names_differ"`), or `"unknown"`. As
/// `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_handshake_failure_name(reason: u32) -> *const c_char {
    lookup(HANDSHAKE_FAILURES, reason)
}

/// The name of an `offrec_not_sent_reason` (`"encryption_timeout"`), or `"unknown"`. As
/// `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_not_sent_reason_name(reason: u32) -> *const c_char {
    lookup(NOT_SENT_REASONS, reason)
}

/// The name of an `offrec_protocol` (`"otr_v3"`), or `"unknown"`. As `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_protocol_name(protocol: u32) -> *const c_char {
    lookup(PROTOCOLS, protocol)
}

/// The name of an `offrec_key_kind` (`"otr_dsa"`), or `"unknown"`. As `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_key_kind_name(kind: u32) -> *const c_char {
    lookup(KEY_KINDS, kind)
}

/// The name of an `offrec_message_kind` (`"otr_dh_commit"`), or `"unknown"`. As
/// `offrec_event_name`.
#[no_mangle]
pub extern "C" fn offrec_message_kind_name(kind: u32) -> *const c_char {
    lookup(MESSAGE_KINDS, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(p: *const c_char) -> &'static str {
        // SAFETY: the name functions return static NUL-terminated ASCII strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn known_and_unknown_numbers() {
        assert_eq!(name(offrec_event_name(26)), "smp_failed");
        assert_eq!(name(offrec_event_name(29)), "unknown", "retired");
        assert_eq!(name(offrec_event_name(0)), "unknown");
        assert_eq!(name(offrec_state_name(2)), "encrypted_verified");
        assert_eq!(name(offrec_trust_name(3)), "unknown");
        assert_eq!(name(offrec_handshake_failure_name(8)), "names_differ");
        assert_eq!(name(offrec_not_sent_reason_name(0)), "unknown");
        assert_eq!(name(offrec_protocol_name(2)), "otr_v3");
        assert_eq!(name(offrec_key_kind_name(2)), "otr_dsa");
        assert_eq!(name(offrec_message_kind_name(10)), "otr_dh_commit");
        assert_eq!(name(offrec_message_kind_name(u32::MAX)), "unknown");
    }

    #[test]
    fn tables_have_no_repeats() {
        for table in [EVENTS, STATES, TRUST, HANDSHAKE_FAILURES, NOT_SENT_REASONS, PROTOCOLS, KEY_KINDS, MESSAGE_KINDS]
        {
            let codes: std::collections::HashSet<u32> = table.iter().map(|(n, _)| *n).collect();
            let names: std::collections::HashSet<&CStr> = table.iter().map(|(_, s)| *s).collect();
            assert_eq!((codes.len(), names.len()), (table.len(), table.len()));
        }
    }
}
