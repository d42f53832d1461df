//! The Socialist Millionaires' Protocol (OTR's SMP, on ristretto255).
//!
//! SMP lets two people who already share an encrypted session check that they hold the same
//! secret (a shared memory, a passphrase said over the phone) without revealing it, and thereby
//! authenticate each other's long-term keys. The secret is bound to both fingerprints and the
//! session id ([`secret`]), so a man in the middle who relays between two sessions cannot make
//! the comparison succeed.
//!
//! This module is a self-contained state machine ([`Smp`]): the conversation layer carries its
//! messages as TLVs (types 2..=6, see [`messages`]) inside encrypted data messages and gives it
//! the session context ([`SmpContext`]).
//!
//! * [`group`]: point/scalar encodings with checks, hash-to-scalar, random scalars.
//! * [`proofs`]: the three Fiat–Shamir proofs and their transcripts.
//! * [`secret`]: derivation of the exponent from the user's secret.
//! * [`messages`]: SMP1..SMP4 byte layouts.
//! * [`state`]: the state machine.
//!
//! **Caller duties.** Each failed run lets the peer test one guess of the secret, so the caller
//! must rate-limit runs and warn users about low-entropy secrets (short answers, common words).
//! A result is only meaningful if the user typed the secret; a `Succeeded` event should mark the
//! peer's fingerprint as verified, `Cheated` should be shown as a possible attack.

pub mod error;
pub mod group;
pub mod messages;
pub mod proofs;
pub mod secret;
pub mod state;

pub use error::SmpError;
pub use messages::{SmpTlv, MAX_QUESTION_LEN, TLV_SMP1, TLV_SMP2, TLV_SMP3, TLV_SMP4, TLV_SMP_ABORT};
pub use state::{Smp, SmpContext, SmpEvent, SmpStep};
