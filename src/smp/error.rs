//! The one error type of the SMP module.

use crate::crypto::random::RandomError;

/// Everything that can go wrong in a Socialist Millionaires' Protocol run.
///
/// Errors from [`crate::smp::Smp::receive`] never escape as `Err`: they turn into an abort
/// (reply `SMP_ABORT`, event `Aborted` or `Cheated`) and are reported in
/// [`crate::smp::SmpStep::error`] for logging.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmpError {
    /// The random number generator failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The shared secret is longer than `u32::MAX` bytes.
    #[error("the SMP secret is too long")]
    SecretTooLong,
    /// The question is longer than [`crate::smp::MAX_QUESTION_LEN`] bytes.
    #[error("the SMP question is longer than {max} bytes")]
    QuestionTooLong {
        /// The cap, in bytes.
        max: usize,
    },
    /// The question is not valid UTF-8.
    #[error("the SMP question is not valid UTF-8")]
    QuestionNotUtf8,
    /// The message ended before a field was complete.
    #[error("truncated SMP message")]
    Truncated,
    /// The message had bytes after its last field.
    #[error("trailing bytes after an SMP message")]
    TrailingBytes,
    /// A point was not a canonical ristretto255 encoding.
    #[error("invalid group element encoding")]
    InvalidPoint,
    /// A received point, or a difference `Pa − Pb` / `Qa − Qb`, was the identity.
    #[error("degenerate (identity) group element")]
    IdentityPoint,
    /// A scalar was not the canonical encoding of an integer below the group order.
    #[error("non-canonical scalar encoding")]
    NonCanonicalScalar,
    /// A zero-knowledge proof did not verify; `tag` is the proof's Fiat–Shamir tag byte (1..=8).
    #[error("SMP proof {tag} failed to verify")]
    ProofFailed {
        /// The proof's tag byte.
        tag: u8,
    },
    /// An SMP message arrived in a state that does not expect it.
    #[error("unexpected SMP message (TLV type {tlv_type})")]
    UnexpectedMessage {
        /// The TLV type that arrived.
        tlv_type: u16,
    },
    /// The peer sent an `SMP_ABORT`.
    #[error("the peer aborted SMP")]
    PeerAborted,
    /// [`crate::smp::Smp::respond`] was called without a pending SMP1.
    #[error("no SMP request is waiting for our secret")]
    NotAwaitingSecret,
}
