//! Key types. Every secret lives in a type that wipes itself on drop, compares in constant
//! time and never prints its bytes.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, RandomSource};

/// 32 secret bytes (a root, chain or message key, a DH output).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Wraps bytes the caller no longer keeps elsewhere.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for feeding a KDF or cipher.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for SecretKey {}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// An X25519 key pair (ratchet keys, handshake ephemerals). The secret half is zeroized by
/// x25519-dalek on drop.
#[derive(Clone)]
pub struct DhKeyPair {
    secret: StaticSecret,
    public: [u8; 32],
}

impl DhKeyPair {
    /// A fresh key pair from `rng`.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<Self, CryptoError> {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes)?;
        let pair = Self::from_secret_bytes(bytes);
        bytes.zeroize();
        Ok(pair)
    }

    /// A key pair from stored secret bytes.
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        let secret = StaticSecret::from(bytes);
        let public = PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }

    /// The public half.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The secret half, for persistence only.
    pub fn secret_bytes(&self) -> SecretKey {
        SecretKey(self.secret.to_bytes())
    }

    /// X25519 with a peer's public key; a non-contributory (all-zero) result is an error, since
    /// it means the peer chose a low-order point to fix the shared secret.
    pub fn diffie_hellman(&self, their_public: &[u8; 32]) -> Result<SecretKey, CryptoError> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*their_public));
        if !shared.was_contributory() {
            return Err(CryptoError::NonContributory);
        }
        Ok(SecretKey(shared.to_bytes()))
    }
}

impl core::fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DhKeyPair").field("public", &Hex(&self.public)).finish_non_exhaustive()
    }
}

/// A long-term identity: the X25519 static key used in the handshake. Nothing ever signs with
/// it, which is what makes transcripts deniable.
#[derive(Clone, Debug)]
pub struct IdentityKey {
    pair: DhKeyPair,
    /// [`fingerprint`] of the public key, computed once: every client call uses it.
    fingerprint: [u8; 32],
}

impl IdentityKey {
    /// A new identity from `rng`.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<Self, CryptoError> {
        DhKeyPair::generate(rng).map(Self::of_pair)
    }

    /// An identity from stored secret bytes.
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        Self::of_pair(DhKeyPair::from_secret_bytes(bytes))
    }

    fn of_pair(pair: DhKeyPair) -> Self {
        let fingerprint = fingerprint(pair.public());
        Self { pair, fingerprint }
    }

    /// The key pair, for the handshake.
    pub fn key_pair(&self) -> &DhKeyPair {
        &self.pair
    }

    /// The public key.
    pub fn public(&self) -> &[u8; 32] {
        self.pair.public()
    }

    /// Our fingerprint (see [`fingerprint`]).
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }
}

/// The fingerprint of an identity public key: SHA-256("offrec1 fp" ‖ key).
pub fn fingerprint(identity_public: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"offrec1 fp");
    hasher.update(identity_public);
    hasher.finalize().into()
}

/// Hex for `Debug` of public values.
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl core::fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;

    #[test]
    fn dh_agrees_and_rejects_low_order_points() {
        let mut rng = DeterministicRandom::from_label("keys");
        let a = DhKeyPair::generate(&mut rng).unwrap();
        let b = DhKeyPair::generate(&mut rng).unwrap();
        assert_eq!(a.diffie_hellman(b.public()).unwrap(), b.diffie_hellman(a.public()).unwrap());
        assert_eq!(a.diffie_hellman(&[0u8; 32]), Err(CryptoError::NonContributory));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(a.diffie_hellman(&one), Err(CryptoError::NonContributory));
    }

    #[test]
    fn the_kept_fingerprint_is_the_public_key_s() {
        let mut rng = DeterministicRandom::from_label("identity fingerprint");
        let made = IdentityKey::generate(&mut rng).unwrap();
        let loaded = IdentityKey::from_secret_bytes(*made.key_pair().secret_bytes().expose());
        for identity in [&made, &loaded, &made.clone()] {
            assert_eq!(identity.fingerprint(), fingerprint(identity.public()));
        }
        assert_eq!(made.public(), loaded.public());
    }

    #[test]
    fn debug_never_prints_secrets() {
        let key = SecretKey::from_bytes([0xAB; 32]);
        assert!(!format!("{key:?}").contains("ab"));
        let pair = DhKeyPair::from_secret_bytes([0x5C; 32]);
        let secret_hex: String = pair.secret_bytes().expose().iter().map(|b| format!("{b:02x}")).collect();
        let printed = format!("{pair:?}");
        assert!(!printed.contains(&secret_hex[..16]));
        assert!(printed.contains("public"));
    }

    #[test]
    fn fingerprint_depends_on_key() {
        let a = IdentityKey::from_secret_bytes([1; 32]);
        let b = IdentityKey::from_secret_bytes([2; 32]);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), fingerprint(a.public()));
    }
}
