//! The one error type of OTR's SMP.

use crate::crypto::random::RandomError;
use crate::otr::group::GroupError;

/// Everything that can go wrong in an OTR SMP run.
///
/// Errors met while handling a received TLV never escape [`super::OtrSmp::receive`] as `Err`:
/// they turn into a reply (`SMP_ABORT`) and an event, and are reported in
/// [`super::OtrSmpStep::error`] for logs. [`OtrSmpError::is_cheating`] says which ones libotr
/// calls cheating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtrSmpError {
    /// The random number generator failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The shared secret is longer than [`super::MAX_SECRET_LEN`] bytes.
    #[error("the SMP secret is longer than {max} bytes")]
    SecretTooLong {
        /// The cap, in bytes.
        max: usize,
    },
    /// A question (ours or the peer's) is longer than [`super::MAX_QUESTION_LEN`] bytes.
    #[error("the SMP question is longer than {max} bytes")]
    QuestionTooLong {
        /// The cap, in bytes.
        max: usize,
    },
    /// Our question contains a NUL byte, which ends the question on the wire.
    #[error("the SMP question contains a NUL byte")]
    QuestionHasNul,
    /// The value is not an SMP message: wrong MPI count, truncated, trailing bytes, an MPI
    /// longer than any OTR value, or an SMP1Q question without its NUL.
    #[error("malformed SMP message: {0}")]
    Malformed(&'static str),
    /// A group element outside [2, p-2] or outside the prime-order subgroup, or an exponent
    /// outside [1, q-1].
    #[error("SMP value refused: {0}")]
    BadValue(GroupError),
    /// A zero-knowledge proof did not verify; `version` is its hash version byte (1..=8).
    #[error("SMP proof {version} failed to verify")]
    ProofFailed {
        /// The proof's hash version byte.
        version: u8,
    },
    /// `Pa = Pb` or `Qa = Qb`: a comparison that proves nothing, only a cheater sends it.
    #[error("degenerate SMP values (Pa = Pb or Qa = Qb)")]
    Degenerate,
    /// An SMP TLV arrived in a state that does not expect it (libotr's `SMPEVENT_ERROR`).
    #[error("unexpected SMP message (TLV type {tlv_type})")]
    UnexpectedMessage {
        /// The TLV type that arrived.
        tlv_type: u16,
    },
    /// The peer sent `SMP_ABORT` (TLV 6).
    #[error("the peer aborted SMP")]
    PeerAborted,
    /// [`super::OtrSmp::respond`] was called without a pending SMP1.
    #[error("no SMP request is waiting for our secret")]
    NotAwaitingSecret,
}

impl OtrSmpError {
    /// Whether libotr reports this as `SMPEVENT_CHEATED`: every message that its `otrl_sm_step`
    /// functions refuse (unparsable, a value out of range, a proof that fails).
    pub fn is_cheating(&self) -> bool {
        matches!(
            self,
            OtrSmpError::Malformed(_)
                | OtrSmpError::BadValue(_)
                | OtrSmpError::ProofFailed { .. }
                | OtrSmpError::Degenerate
        )
    }
}

impl From<GroupError> for OtrSmpError {
    fn from(error: GroupError) -> Self {
        OtrSmpError::BadValue(error)
    }
}
