//! Thin, typed wrappers over the cryptographic crates. Nothing here implements a primitive; it
//! only fixes how the protocol uses them (key types that zeroize, labelled KDFs, one AEAD).
pub mod aead;
pub mod kdf;
pub mod keys;
pub mod random;
pub mod wipe;

pub use keys::{DhKeyPair, IdentityKey, SecretKey};
pub use random::{DeterministicRandom, OsRandom, RandomError, RandomSource};

/// A cryptographic check failed. Deliberately says little: errors that reach a peer must not
/// help an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A Diffie-Hellman output was all zeros (the peer sent a low-order point), or the peer's
    /// key is not on Curve25519 (a point of its twist, which no honest peer sends).
    #[error("Diffie-Hellman output is not contributory (low-order or invalid public key)")]
    NonContributory,
    /// An authentication tag did not verify.
    #[error("message authentication failed")]
    AuthenticationFailed,
    /// The operating system's random number generator failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}
