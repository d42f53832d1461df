//! Why the data path refused a message. The distinction matters to the conversation: a
//! malformed message gets libotr's "malformed" treatment, an unreadable one the "unreadable"
//! error message (unless the sender flagged it IGNORE_UNREADABLE), and one for another session
//! is routed elsewhere or dropped.

use crate::otr::message::MessageError;

/// Why a data message could not be read or sent. The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// Not a well-formed data message (or, after its MAC verified, a next DH key outside the
    /// group's range or subgroup).
    #[error("malformed data message: {0}")]
    Malformed(#[from] MessageError),
    /// A data message of another version, or (v3) from or for another instance.
    #[error("data message for another session")]
    NotForThisSession,
    /// A well-formed message this session cannot read.
    #[error("unreadable data message: {reason:?}")]
    Unreadable {
        /// What failed.
        reason: UnreadableReason,
        /// The message's (unauthenticated) flags, to honour IGNORE_UNREADABLE.
        flags: u8,
    },
    /// The plaintext is longer than a data message may carry.
    #[error("plaintext too long")]
    TooLong,
    /// A keyid or counter would wrap (after 2^32 rotations or 2^64 messages under one pair).
    #[error("keyid or counter exhausted")]
    Exhausted,
    /// The random source failed while making a new DH key.
    #[error("random source failed")]
    Random,
}

/// What made a well-formed message unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreadableReason {
    /// The keyids name keys we do not have (too old, too new, or zero).
    UnknownKeys,
    /// The MAC does not verify.
    BadMac,
    /// The counter is not above the last one accepted under this key pair (a replay or a
    /// reordered message).
    CounterNotIncreasing,
}
