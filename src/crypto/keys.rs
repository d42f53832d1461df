//! Key types. Every secret lives in a type that wipes itself on drop, compares in constant
//! time and never prints its bytes.

use curve25519_dalek::montgomery::MontgomeryPoint;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{CryptoError, RandomSource};

/// 32 secret bytes (a root, chain or message key, a DH output).
///
/// Aligned to 16 bytes: a key moved inside a `Result` or `Option` (a byte tag, then an
/// alignment-1 array at offset 1) was copied with unaligned 16-byte loads straight after the
/// callee's narrower stores, which stall store forwarding on every message.
#[derive(Clone)]
#[repr(align(16))]
pub struct SecretKey([u8; 32]);

/// Wiped as a slice: zeroize's `[u8]` impl fills it in one go behind an optimisation barrier
/// (one 32-byte store), where the derived impl, through the `[u8; 32]` impl, writes 32
/// single-byte volatile stores. A message drops several keys on each side.
impl Zeroize for SecretKey {
    fn zeroize(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl SecretKey {
    /// Wraps bytes the caller no longer keeps elsewhere.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for feeding a KDF or cipher.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The raw bytes, for a KDF to write its output straight into the key.
    pub(crate) fn expose_mut(&mut self) -> &mut [u8; 32] {
        &mut self.0
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
        x25519(&self.secret, their_public).map(|shared| SecretKey(*shared))
    }
}

/// Whether a peer's public `u` is one [`x25519`] accepts with every key of ours: a point of
/// Curve25519 (not of its twist) and not of small order. Then the result is contributory for
/// every clamped scalar (a multiple of 8 below 2^255 and never a multiple of the group order).
/// It costs one map to Edwards form and three doublings, a fifth of a DH: the handshake checks a
/// ratchet key it will use only later with this.
pub fn is_usable_public_key(u: &[u8; 32]) -> bool {
    MontgomeryPoint(*u).to_edwards(0).is_some_and(|point| !point.is_small_order())
}

/// X25519 (RFC 7748) of our `secret` with a peer's public `u`, refusing a non-contributory
/// result (all zeros: the peer chose a low-order point) and a `u` that is not on Curve25519
/// (on its twist; honest peers never send one, and x25519-dalek's ladder would accept it).
///
/// Computed as curve25519-dalek's constant-time variable-base Edwards multiplication by the
/// clamped scalar, between the birational maps to and from Montgomery form: that path uses the
/// crate's AVX2 vector backend when the CPU has it, while `StaticSecret::diffie_hellman` (the
/// Montgomery ladder) uses only serial field arithmetic; here it is about a quarter faster
/// (bench/notes/ake.md). The map ignores the top bit of `u` and reduces a non-canonical
/// `u >= p`, as the ladder does, and the output's `u` does not depend on the sign chosen, so on
/// the curve the result is the same bytes as the ladder's (tested against it).
pub fn x25519(secret: &StaticSecret, their_public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let point = MontgomeryPoint(*their_public).to_edwards(0).ok_or(CryptoError::NonContributory)?;
    let scalar = Zeroizing::new(secret.to_bytes());
    // The shared point and its Montgomery form are the DH secret too: wiped, not just dropped.
    let shared_point = Zeroizing::new(point.mul_clamped(*scalar));
    let shared_u = Zeroizing::new(shared_point.to_montgomery());
    let shared = Zeroizing::new(shared_u.to_bytes());
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(CryptoError::NonContributory);
    }
    Ok(shared)
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

    /// x25519-dalek's Montgomery ladder, the reference [`x25519`] must agree with.
    fn ladder(secret: &[u8; 32], public: &[u8; 32]) -> ([u8; 32], bool) {
        let shared = StaticSecret::from(*secret).diffie_hellman(&PublicKey::from(*public));
        (shared.to_bytes(), shared.was_contributory())
    }

    fn ours(secret: &[u8; 32], public: &[u8; 32]) -> Result<[u8; 32], CryptoError> {
        x25519(&StaticSecret::from(*secret), public).map(|shared| *shared)
    }

    /// `u + p` for a small `u` (a non-canonical encoding, still below 2^255).
    fn plus_p(u: u8) -> [u8; 32] {
        let mut bytes = [0xFF; 32];
        bytes[31] = 0x7F;
        bytes[0] = 0xED + u; // p = 2^255 - 19 ends in 0xED
        bytes
    }

    #[test]
    fn x25519_refuses_every_low_order_point_in_every_encoding() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let secret = [0x42; 32];
        let mut low_order: Vec<[u8; 32]> = EIGHT_TORSION.iter().map(|p| p.to_montgomery().to_bytes()).collect();
        // u = -1 (p - 1, on the twist), and u = 0 and u = 1 written as p and p + 1.
        let mut minus_one = plus_p(0);
        minus_one[0] = 0xEC;
        low_order.extend([plus_p(0), plus_p(1), minus_one]);
        for u in low_order.clone() {
            let mut high = u;
            high[31] |= 0x80;
            for encoding in [u, high] {
                assert_eq!(ours(&secret, &encoding), Err(CryptoError::NonContributory), "{:?}", Hex(&encoding));
                assert!(!is_usable_public_key(&encoding));
                assert!(!ladder(&secret, &encoding).1, "the ladder also finds {:?} non-contributory", Hex(&encoding));
            }
        }
    }

    #[test]
    fn x25519_reads_non_canonical_and_high_bit_encodings_as_the_ladder_does() {
        let secret = [0x17; 32];
        for u in 0u8..19 {
            let mut canonical = [0u8; 32];
            canonical[0] = u;
            let mut high = plus_p(u);
            high[31] |= 0x80;
            for encoding in [plus_p(u), high] {
                assert_eq!(ours(&secret, &encoding), ours(&secret, &canonical), "u = {u}");
                if let Ok(shared) = ours(&secret, &encoding) {
                    assert_eq!(shared, ladder(&secret, &encoding).0);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn x25519_matches_the_ladder_on_honest_keys(a: [u8; 32], b: [u8; 32], top_bit: bool) {
            let mut public = *DhKeyPair::from_secret_bytes(b).public();
            public[31] |= u8::from(top_bit) << 7;
            proptest::prop_assert!(is_usable_public_key(&public));
            let (expected, contributory) = ladder(&a, &public);
            proptest::prop_assert!(contributory);
            proptest::prop_assert_eq!(ours(&a, &public), Ok(expected));
        }

        #[test]
        fn x25519_on_any_u_matches_the_ladder_or_refuses_a_twist_point(a: [u8; 32], u: [u8; 32]) {
            proptest::prop_assert_eq!(is_usable_public_key(&u), ours(&a, &u).is_ok());
            let (expected, contributory) = ladder(&a, &u);
            let on_curve = MontgomeryPoint(u).to_edwards(0).is_some();
            match ours(&a, &u) {
                Ok(shared) => proptest::prop_assert!(on_curve && contributory && shared == expected),
                Err(_) => proptest::prop_assert!(!on_curve || !contributory),
            }
        }
    }

    #[test]
    fn about_half_of_all_u_are_twist_points_and_refused() {
        let mut rng = DeterministicRandom::from_label("twist");
        let secret = [0x33; 32];
        let mut refused = 0;
        for _ in 0..400 {
            let mut u = [0u8; 32];
            rng.fill(&mut u).unwrap();
            if ours(&secret, &u).is_err() {
                refused += 1;
                // The ladder computes something on the twist; we refuse it instead.
                assert!(ladder(&secret, &u).1);
            }
        }
        assert!((140..260).contains(&refused), "{refused} of 400 refused");
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
