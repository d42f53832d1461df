//! Errors returned to the application by the conversation manager. Each says what the caller
//! can do about it; none leaks anything about keys.

use crate::smp::SmpError;

/// Why a client call failed. Nothing was sent and no state changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// There is no encrypted session with that peer (or instance).
    #[error("no encrypted session with this peer; start one first")]
    NoSession,
    /// The peer ended the session; end it too (or start a new one) before sending.
    #[error("the peer ended the encrypted session; end or restart it before sending")]
    SessionFinished,
    /// The policy does not allow the protocol at all.
    #[error("the policy does not allow encrypted sessions")]
    PolicyForbids,
    /// The message would exceed what the peer accepts (128 KiB encoded, 512 fragments).
    #[error("message too large")]
    MessageTooLarge,
    /// Too many messages are already waiting for encryption with this peer.
    #[error("too many messages waiting for encryption")]
    QueueFull,
    /// Plaintext sending needs valid UTF-8 (encrypted messages may carry any bytes).
    #[error("plaintext messages must be valid UTF-8")]
    InvalidUtf8,
    /// A peer name or account was empty or too long.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// SMP was started too often or failed too often in this session.
    #[error("too many SMP attempts; wait before trying again")]
    SmpRateLimited,
    /// An SMP call was refused.
    #[error("SMP: {0}")]
    Smp(SmpError),
    /// The OS random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// An application TLV's type is outside the application range ([`super::APP_TLV_FIRST`]
    /// and up): the lower types belong to the protocols.
    #[error("TLV type reserved for the protocol; applications use 0x8000-0xFFFF")]
    TlvTypeReserved,
    /// More application TLVs in one message than [`super::MAX_APP_TLVS`].
    #[error("too many TLVs in one message")]
    TooManyTlvs,
    /// The session's protocol does not carry application TLVs: OTR v2, whose main
    /// implementation (python-potr: weechat-otr, Gajim) fails on TLV types it does not know.
    #[error("this session (OTR v2) cannot carry application TLVs")]
    TlvsUnsupported,
    /// The key is used by an encrypted session; end the session before forgetting the key.
    #[error("the key is in use by an encrypted session; end it first")]
    KeyInUse,
    /// The peer has no such key.
    #[error("that key is not known for this peer")]
    UnknownKey,
    /// The client holds nothing about that peer.
    #[error("unknown peer")]
    UnknownPeer,
    /// An encrypted session with the peer is live; end it before forgetting the peer.
    #[error("an encrypted session with this peer is live; end it first")]
    SessionActive,
    /// A text the application gave cannot go inside a protocol message.
    #[error("invalid text: {0}")]
    InvalidText(&'static str),
}

impl From<crate::crypto::RandomError> for ClientError {
    fn from(_: crate::crypto::RandomError) -> Self {
        ClientError::Random
    }
}

impl From<SmpError> for ClientError {
    /// Errors the caller can act on keep their own kind (the secret or question is too long
    /// or not UTF-8, the random source failed); the rest are SMP refusals.
    fn from(error: SmpError) -> Self {
        match error {
            SmpError::Random(_) => ClientError::Random,
            SmpError::QuestionTooLong { .. } | SmpError::SecretTooLong => ClientError::MessageTooLarge,
            SmpError::QuestionNotUtf8 => ClientError::InvalidUtf8,
            other => ClientError::Smp(other),
        }
    }
}
