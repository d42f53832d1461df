//! The long-term OTR identity: a DSA-1024/160 key pair (OTR v3 spec, "Public keys,
//! signatures, and fingerprints"). Signing and verification are the `dsa` crate's; this module
//! adds what OTR needs around them — the PUBKEY encoding, fingerprints, and signing `M mod q`
//! with fixed-width `r ‖ s` as libotr does (brief P1, P2).

mod fingerprint;
mod private_key;
mod public_key;
mod rng_adapter;
mod scalar;
mod stored;
mod verifier;

pub use fingerprint::{human_fingerprint, Fingerprint, FINGERPRINT_LEN};
pub use private_key::{DsaComponents, DsaIdentity};
pub use public_key::{DsaPublicComponents, DsaPublicKey, PUBKEY_TYPE_DSA, SIGNATURE_LEN};

use crate::wire::WireError;

/// Why a key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The PUBKEY field is cut short or carries an MPI longer than any OTR value.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The PUBKEY type is not DSA (`00 00`).
    #[error("public key type is not DSA")]
    UnsupportedKeyType,
    /// An MPI in a PUBKEY has a leading zero byte or is empty: two encodings of one key would
    /// have two fingerprints, so only the minimal one is accepted (brief §1.14 item 2).
    #[error("public key MPI is not minimal")]
    NonMinimalMpi,
    /// p, q, g or y fail the DSA-1024/160 checks (sizes, q | p-1, 1 < g < p, g and y of order q).
    #[error("DSA parameters rejected")]
    BadParameters,
    /// The private value does not match the public key, or is not in (0, q).
    #[error("DSA private key does not match its public key")]
    KeyMismatch,
    /// The signature is not 40 bytes or does not verify.
    #[error("bad DSA signature")]
    BadSignature,
    /// Signing failed (a zero r or s, which happens with negligible probability).
    #[error("DSA signing failed")]
    SigningFailed,
    /// The random source failed while generating a key.
    #[error("random source failed")]
    Random,
}
