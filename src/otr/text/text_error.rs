//! The one error type of OTR's text layer. Each variant names what was wrong, never echoing the
//! attacker's text, and tells the caller how libotr would react where that matters (answer
//! with a "malformed" error message, or drop silently).

/// Why an OTR text message could not be parsed or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The message, a field or a reassembled message exceeds its cap.
    #[error("OTR message or field too large")]
    TooLarge,
    /// The text does not hold the expected OTR marker (`?OTR:`, `?OTR|`, `?OTR,`).
    #[error("missing OTR marker")]
    MissingMarker,
    /// An encoded message does not end with `.`.
    #[error("missing terminator")]
    MissingTerminator,
    /// The base64 payload is not padded standard base64.
    #[error("bad base64")]
    BadBase64,
    /// An encoded message carries no bytes.
    #[error("empty payload")]
    Empty,
    /// A fragment does not follow the format; libotr drops such a fragment silently. The text
    /// is fixed and names the problem.
    #[error("malformed OTR fragment: {0}")]
    MalformedFragment(&'static str),
    /// A v3 fragment's sender instance tag is below 0x100: libotr answers this one with a
    /// "malformed message" error, so the caller may too.
    #[error("OTR fragment with an invalid sender instance tag")]
    InvalidSenderTag,
    /// A v3 fragment addressed to another instance (receiver tag neither 0 nor ours): libotr
    /// ignores it and tells its application `RCVDMSG_FOR_OTHER_INSTANCE`.
    #[error("OTR fragment for another instance")]
    ForOtherInstance,
    /// A piece that does not continue its message (not piece 1, not the next piece, or a
    /// different piece count): as in libotr, the message being reassembled and the piece are
    /// dropped. Expected on a network that reorders; not worth an error message.
    #[error("OTR fragment out of order")]
    OutOfOrder,
    /// An OTRv4 fragment (`?OTR|id|sender|receiver,…`): another protocol, never reassembled.
    #[error("OTRv4 fragment")]
    ForeignFragment,
    /// Keeping the piece would exceed the caller's budget for unauthenticated input.
    #[error("unauthenticated-input budget full")]
    OverBudget,
    /// Fragmenting was asked for with a maximum size that cannot hold one byte of payload.
    #[error("maximum message size too small to fragment")]
    MaxLenTooSmall,
    /// The message would need more than 65535 fragments.
    #[error("too many fragments")]
    TooManyFragments,
    /// Only an encoded message (`?OTR:…`) can be fragmented; never a fragment or other text.
    #[error("only encoded OTR messages can be fragmented")]
    NotEncoded,
    /// An instance tag given to the splitter could not be parsed back by a receiver.
    #[error("invalid instance tag")]
    InvalidTag,
}
