//! Stable, numbered result codes and their messages.
//!
//! # Numbering rules
//!
//! * A number, once published, is **never renumbered and never reused**. A retired code keeps its
//!   number reserved (leave it here as a comment) so old binaries never misread a new one.
//! * `0..100` are boundary errors: things the C caller got wrong, or the boundary itself.
//! * `100..` are engine errors, added as the engine grows.
//! * Codes coming *from* C are taken as plain integers and mapped with
//!   [`OffrecResult::from_code`]; an unknown number is never transmuted into this enum.

use std::ffi::{c_char, CStr};
use std::fmt;

/// Result of a fallible `offrec_*` call. `OFFREC_RESULT_OK` (0) means success; every other value
/// is an error, and a function's outputs are written only when it returns `OFFREC_RESULT_OK`.
///
/// Numbers are stable across releases and never reused; new codes may be added, so treat an
/// unknown value as a generic error and use `offrec_result_message` to describe it.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffrecResult {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL (or NULL with a non-zero length).
    NullArgument = 1,
    /// An argument was out of range or otherwise invalid.
    InvalidArgument = 2,
    /// A caller-supplied buffer was too small; the needed length was written to the out-length.
    BufferTooSmall = 3,
    /// The library caught an internal panic. The handle that was in use should be freed.
    Panic = 4,
    /// A text argument was not valid UTF-8.
    InvalidUtf8 = 5,
    /// An allocation failed or a size computation overflowed.
    OutOfMemory = 6,
    /// An integer argument did not name any value of the expected enum.
    UnknownEnumValue = 7,
    // 8..=99: reserved for future boundary errors.
    /// There is no session with that peer (or instance).
    NoSession = 100,
    /// The operation needs an encrypted session, and the session is not encrypted.
    NotEncrypted = 101,
    /// The peer ended the session; end it locally or restart it before sending.
    SessionFinished = 102,
    /// The configured policy forbids this operation (for example, sending in plaintext).
    PolicyForbids = 103,
    /// A Socialist Millionaires' Protocol run is already in progress.
    SmpInProgress = 104,
    /// The random number source failed.
    RandomFailed = 105,
    /// The key or trust store could not be read or written.
    StoreError = 106,
    /// The message is larger than the library accepts.
    MessageTooLarge = 107,
    /// The named peer is not known.
    UnknownPeer = 108,
    /// Too many messages are already waiting for encryption with this peer.
    QueueFull = 109,
    /// SMP was started too soon after the last run, or failed too often in this session.
    SmpRateLimited = 110,
    /// The SMP call was refused (for example, answering when no question is waiting).
    SmpError = 111,
    /// A policy had bits that name no `OFFREC_POLICY_*` flag.
    InvalidPolicy = 112,
    /// Forging: the captured text is not an armoured data message.
    NotADataMessage = 113,
    /// Forging: none of the later messages reveals this message's key material.
    NoMatchingReveal = 114,
    /// Forging: the known or the new text does not fit the captured message's length.
    TextDoesNotFit = 115,
    /// Store: nothing has been saved there yet.
    StoreNotFound = 116,
    /// Store: the key or passphrase does not open it.
    StoreWrongKey = 117,
    /// Store: damaged, truncated, modified, or not a store at all.
    StoreCorrupted = 118,
    /// Store: written by a newer version of the library.
    StoreUnsupportedVersion = 119,
    /// Store: it opened with the key but belongs to another account than the one named.
    StoreWrongAccount = 121,
    /// Store: the store path is not a regular file (a symbolic link, FIFO, device or socket);
    /// nothing was read from it.
    StoreNotAFile = 122,
    /// OTR: the client has no OTR DSA key yet (`offrec_client_generate_otr_key` makes one).
    NoOtrKey = 123,
    /// Migration: the libotr or potr file is malformed, truncated, too large, or not of the kind
    /// expected; nothing was imported.
    ImportMalformed = 128,
    /// Migration: the key fails the DSA checks (group parameters, sizes 1024/160, a private
    /// value that does not match the public one or is out of range); nothing was imported.
    ImportInvalidKey = 129,
    /// Migration: the file has no entry for the account (or several that match equally);
    /// name the account and protocol as the file writes them.
    ImportNoAccount = 130,
    /// Migration: an OTR file could not be read or written (missing, not a regular file,
    /// permissions, disk full).
    ImportIo = 131,
    /// Migration: the client already has another OTR key; ask to replace it explicitly.
    ImportKeyExists = 132,
    /// Migration: an instance tag can only be imported into a client without conversations.
    ImportInUse = 133,
    /// An application TLV's type is reserved for the protocols (applications use
    /// `OFFREC_TLV_APP_FIRST` to 0xFFFF).
    TlvTypeReserved = 144,
    /// More application TLVs in one message than `OFFREC_MAX_TLVS`.
    TooManyTlvs = 145,
    /// The session cannot carry application TLVs: OTR v2 (python-potr, its main
    /// implementation, fails on TLV types it does not know).
    TlvsUnsupported = 146,
    /// The key is used by a live encrypted session: end that session before forgetting it.
    KeyInUse = 136,
    /// That key is not known for that peer.
    UnknownKey = 137,
    /// An encrypted session with that peer is live: end it before forgetting the peer.
    SessionActive = 138,
    /// A text for `offrec_client_set_text` is too long, holds a control character (other than
    /// a line feed) or a protocol marker (`?OTR`, `?OFR`).
    InvalidText = 139,
}

impl OffrecResult {
    /// Every code, in numeric order (tests check messages, the header and the bindings with it).
    pub const fn all() -> &'static [OffrecResult] {
        &Self::ALL
    }

    // A function rather than a public constant, which cbindgen would export as a broken macro.
    const ALL: [OffrecResult; 44] = [
        Self::Ok,
        Self::NullArgument,
        Self::InvalidArgument,
        Self::BufferTooSmall,
        Self::Panic,
        Self::InvalidUtf8,
        Self::OutOfMemory,
        Self::UnknownEnumValue,
        Self::NoSession,
        Self::NotEncrypted,
        Self::SessionFinished,
        Self::PolicyForbids,
        Self::SmpInProgress,
        Self::RandomFailed,
        Self::StoreError,
        Self::MessageTooLarge,
        Self::UnknownPeer,
        Self::QueueFull,
        Self::SmpRateLimited,
        Self::SmpError,
        Self::InvalidPolicy,
        Self::NotADataMessage,
        Self::NoMatchingReveal,
        Self::TextDoesNotFit,
        Self::StoreNotFound,
        Self::StoreWrongKey,
        Self::StoreCorrupted,
        Self::StoreUnsupportedVersion,
        Self::StoreWrongAccount,
        Self::StoreNotAFile,
        Self::NoOtrKey,
        Self::ImportMalformed,
        Self::ImportInvalidKey,
        Self::ImportNoAccount,
        Self::ImportIo,
        Self::ImportKeyExists,
        Self::ImportInUse,
        Self::KeyInUse,
        Self::UnknownKey,
        Self::SessionActive,
        Self::InvalidText,
        Self::TlvTypeReserved,
        Self::TooManyTlvs,
        Self::TlvsUnsupported,
    ];

    /// The code's number, as C sees it.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// Maps a number received from C to a code, or `None` for a number that names no code.
    pub const fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Ok,
            1 => Self::NullArgument,
            2 => Self::InvalidArgument,
            3 => Self::BufferTooSmall,
            4 => Self::Panic,
            5 => Self::InvalidUtf8,
            6 => Self::OutOfMemory,
            7 => Self::UnknownEnumValue,
            100 => Self::NoSession,
            101 => Self::NotEncrypted,
            102 => Self::SessionFinished,
            103 => Self::PolicyForbids,
            104 => Self::SmpInProgress,
            105 => Self::RandomFailed,
            106 => Self::StoreError,
            107 => Self::MessageTooLarge,
            108 => Self::UnknownPeer,
            109 => Self::QueueFull,
            110 => Self::SmpRateLimited,
            111 => Self::SmpError,
            112 => Self::InvalidPolicy,
            113 => Self::NotADataMessage,
            114 => Self::NoMatchingReveal,
            115 => Self::TextDoesNotFit,
            116 => Self::StoreNotFound,
            117 => Self::StoreWrongKey,
            118 => Self::StoreCorrupted,
            119 => Self::StoreUnsupportedVersion,
            121 => Self::StoreWrongAccount,
            122 => Self::StoreNotAFile,
            123 => Self::NoOtrKey,
            128 => Self::ImportMalformed,
            129 => Self::ImportInvalidKey,
            130 => Self::ImportNoAccount,
            131 => Self::ImportIo,
            132 => Self::ImportKeyExists,
            133 => Self::ImportInUse,
            144 => Self::TlvTypeReserved,
            145 => Self::TooManyTlvs,
            146 => Self::TlvsUnsupported,
            136 => Self::KeyInUse,
            137 => Self::UnknownKey,
            138 => Self::SessionActive,
            139 => Self::InvalidText,
            _ => return None,
        })
    }

    /// A short, static, English description (no trailing period).
    pub const fn message(self) -> &'static CStr {
        match self {
            Self::Ok => c"success",
            Self::NullArgument => c"a required pointer argument was NULL",
            Self::InvalidArgument => c"an argument was invalid",
            Self::BufferTooSmall => c"the output buffer is too small",
            Self::Panic => c"internal error: the library caught a panic",
            Self::InvalidUtf8 => c"text was not valid UTF-8",
            Self::OutOfMemory => c"out of memory",
            Self::UnknownEnumValue => c"an integer did not name a known enum value",
            Self::NoSession => c"no session with that peer",
            Self::NotEncrypted => c"the session is not encrypted",
            Self::SessionFinished => c"the peer has ended the session",
            Self::PolicyForbids => c"the policy forbids this operation",
            Self::SmpInProgress => c"an SMP run is already in progress",
            Self::RandomFailed => c"the random number source failed",
            Self::StoreError => c"the store could not be read or written",
            Self::MessageTooLarge => c"the message is too large",
            Self::UnknownPeer => c"unknown peer",
            Self::QueueFull => c"too many messages are waiting for encryption",
            Self::SmpRateLimited => c"too many SMP attempts; wait before trying again",
            Self::SmpError => c"the SMP call was refused",
            Self::InvalidPolicy => c"the policy has unknown bits",
            Self::NotADataMessage => c"not an armoured data message",
            Self::NoMatchingReveal => c"no revealed key material matches the message",
            Self::TextDoesNotFit => c"the text does not fit the message's length",
            Self::StoreNotFound => c"no store found (nothing saved yet)",
            Self::StoreWrongKey => c"wrong key or passphrase for this store",
            Self::StoreCorrupted => c"the store is damaged or not a store",
            Self::StoreUnsupportedVersion => c"the store was written by a newer version of the library",
            Self::StoreWrongAccount => c"the store belongs to another account",
            Self::StoreNotAFile => c"the store path is not a regular file",
            Self::NoOtrKey => c"no OTR key yet (generate one first)",
            Self::ImportMalformed => c"the OTR file is malformed, truncated or not of the expected kind",
            Self::ImportInvalidKey => c"the OTR key fails the DSA checks",
            Self::ImportNoAccount => c"the OTR file has no single entry for this account",
            Self::ImportIo => c"an OTR file could not be read or written",
            Self::ImportKeyExists => c"the client already has another OTR key",
            Self::ImportInUse => c"the instance tag can only be imported before any conversation",
            Self::TlvTypeReserved => c"TLV type reserved for the protocol (applications use 0x8000-0xFFFF)",
            Self::TooManyTlvs => c"too many TLVs in one message",
            Self::TlvsUnsupported => c"this session (OTR v2) cannot carry application TLVs",
            Self::KeyInUse => c"the key is in use by an encrypted session; end it first",
            Self::UnknownKey => c"that key is not known for this peer",
            Self::SessionActive => c"an encrypted session with this peer is live; end it first",
            Self::InvalidText => c"the text is too long or holds a control character or protocol marker",
        }
    }
}

impl fmt::Display for OffrecResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The messages are ASCII literals, so this never loses anything.
        f.write_str(&self.message().to_string_lossy())
    }
}

impl std::error::Error for OffrecResult {}

/// The message for numbers that name no result code.
const UNKNOWN_CODE: &CStr = c"unknown result code";

/// Returns a static, NUL-terminated English description of a result code.
///
/// `code` is any integer (an `offrec_result` or a number from elsewhere): unknown numbers give
/// `"unknown result code"`. The returned string is never NULL, lives for the whole process and
/// must not be freed. Needs no thread-local state; safe from any thread.
#[no_mangle]
pub extern "C" fn offrec_result_message(code: u32) -> *const c_char {
    crate::ffi::panic::catch(|| match OffrecResult::from_code(code) {
        Some(result) => result.message().as_ptr(),
        None => UNKNOWN_CODE.as_ptr(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_stable() {
        let expected = [
            0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115,
            116, 117, 118, 119, 121, 122, 123, 128, 129, 130, 131, 132, 133, 136, 137, 138, 139, 144, 145, 146,
        ];
        let codes: Vec<u32> = OffrecResult::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes, expected, "result codes must never be renumbered");
        for r in OffrecResult::ALL {
            assert_eq!(OffrecResult::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn unknown_numbers_are_not_codes() {
        for n in [8, 99, 120, 134, 1000, u32::MAX] {
            assert_eq!(OffrecResult::from_code(n), None);
        }
    }

    #[test]
    fn every_code_has_a_distinct_message() {
        let mut seen = std::collections::HashSet::new();
        for r in OffrecResult::ALL {
            let ptr = offrec_result_message(r.code());
            // SAFETY: offrec_result_message returns a pointer to a static NUL-terminated string.
            let msg = unsafe { CStr::from_ptr(ptr) };
            assert_eq!(msg, r.message());
            assert!(seen.insert(msg.to_bytes().to_vec()), "duplicate message for {r:?}");
        }
    }

    #[test]
    fn unknown_codes_have_the_unknown_message() {
        for n in [8, 99, 120, u32::MAX] {
            // SAFETY: as above.
            let msg = unsafe { CStr::from_ptr(offrec_result_message(n)) };
            assert_eq!(msg, c"unknown result code");
        }
    }
}
