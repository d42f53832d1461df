//! OTR's Socialist Millionaires' Protocol on the 1536-bit group, byte-compatible with libotr
//! 4.1.1 (OTR v3 spec §"Socialist Millionaires' Protocol", libotr `src/sm.c` and the SMP
//! branches of `src/message.c`).
//!
//! SMP lets two people in an OTR session check that they typed the same secret without
//! revealing it, and so authenticate each other's DSA keys: the secret is hashed with both
//! fingerprints and the session id ([`secret`]). It travels as TLVs 2..=7 in data messages with
//! empty text.
//!
//! * [`proofs`]: OTR's three Fiat–Shamir proofs and their hash.
//! * [`secret`]: the secret's derivation.
//! * [`messages`]: SMP1..SMP4 and SMP1Q as MPI arrays.
//! * [`state`]: the state machine ([`OtrSmp`]).
//!
//! Weaker than offrec's modern SMP (PROTOCOL.md §8) by design of OTR v3: proof hashes cover
//! only the commitments, not the statement or the session. Stricter than libotr in what it
//! accepts (subgroup check on every element, no trailing bytes), never in what it sends.
//!
//! **Caller duties**: rate-limit runs (each failure lets the peer test one guess), show the
//! question's answerer that only the asker gets a verification ([`OtrSmpStep::trust`]), send each
//! returned TLV in its own data message with empty text and the IGNORE_UNREADABLE flag.

pub mod error;
pub mod messages;
pub mod proofs;
pub mod secret;
pub mod state;

pub use error::OtrSmpError;
pub use messages::{OtrSmpTlv, TLV_SMP1, TLV_SMP1Q, TLV_SMP2, TLV_SMP3, TLV_SMP4, TLV_SMP_ABORT};
pub use state::{OtrSmp, OtrSmpContext, OtrSmpEvent, OtrSmpStep, SmpRole, SmpTrust};

/// Longest question we send or accept, in bytes (the modern SMP's cap; libotr has none).
pub const MAX_QUESTION_LEN: usize = crate::smp::MAX_QUESTION_LEN;

/// Longest secret we accept, in bytes (the C API's `OFFREC_MAX_SMP_SECRET_LEN` for the modern
/// SMP). The secret is only hashed, so this bounds work, not memory.
pub const MAX_SECRET_LEN: usize = 4096;
