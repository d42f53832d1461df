//! The one error type of the wire layer. Each variant names what was wrong with the input, so a
//! caller can log it without echoing attacker-controlled text.

/// Why a message could not be parsed or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended before a field it announced.
    #[error("message truncated")]
    Truncated,
    /// Bytes were left over after the last field.
    #[error("trailing bytes after message")]
    TrailingBytes,
    /// The text does not start with the expected `?OFR` prefix.
    #[error("missing offrec marker at the start of the message")]
    MissingMarker,
    /// An armoured message does not end with `.`.
    #[error("missing terminator")]
    MissingTerminator,
    /// The base64 payload is not strict, padded, standard base64.
    #[error("bad base64")]
    BadBase64,
    /// A message, field or payload exceeds its limit.
    #[error("message or field too large")]
    TooLarge,
    /// A payload that must not be empty was empty.
    #[error("empty payload")]
    Empty,
    /// A field holds a value the format does not allow; the text names it.
    #[error("invalid field: {0}")]
    Invalid(&'static str),
    /// A fragment was malformed or inconsistent; the reason is fixed text.
    #[error("bad fragment: {0}")]
    BadFragment(&'static str),
    /// Fragmenting was asked for with a maximum length that cannot hold even one byte of payload.
    #[error("maximum fragment length too small")]
    MaxLenTooSmall,
    /// The message would need (or announced) more than [`crate::wire::MAX_FRAGMENTS`] pieces.
    #[error("too many fragments")]
    TooManyFragments,
    /// A data-message body held more TLVs than allowed.
    #[error("too many TLVs")]
    TooManyTlvs,
    /// Keeping the input would exceed the budget for unauthenticated input.
    #[error("unauthenticated-input budget full")]
    OverBudget,
}
