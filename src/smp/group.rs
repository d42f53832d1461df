//! The ristretto255 group as SMP uses it: checked decoding, encoding, hash-to-scalar and random
//! scalars.
//!
//! * Points are 32-byte compressed ristretto255 encodings. Decoding rejects non-canonical
//!   encodings and **the identity** (every point SMP receives must be a non-trivial element).
//! * Scalars are 32-byte little-endian canonical encodings (below the group order ℓ).
//! * Hash-to-scalar is `Scalar::from_bytes_mod_order_wide(SHA-512(input))`; a random scalar is
//!   64 bytes from the [`RandomSource`] through the same wide reduction.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::error::SmpError;
use crate::crypto::random::RandomSource;

/// Encoded size of a point or a scalar.
pub const ELEMENT_LEN: usize = 32;

/// The generator G (the ristretto255 basepoint).
pub const G: RistrettoPoint = RISTRETTO_BASEPOINT_POINT;

/// Decodes a received point: canonical encoding and not the identity.
pub fn decode_point(bytes: &[u8; ELEMENT_LEN]) -> Result<RistrettoPoint, SmpError> {
    let point = CompressedRistretto(*bytes).decompress().ok_or(SmpError::InvalidPoint)?;
    check_not_identity(&point)?;
    Ok(point)
}

/// Rejects the identity element.
pub fn check_not_identity(point: &RistrettoPoint) -> Result<(), SmpError> {
    if point.is_identity() {
        Err(SmpError::IdentityPoint)
    } else {
        Ok(())
    }
}

/// Decodes a received scalar; only canonical encodings (below ℓ) are accepted.
pub fn decode_scalar(bytes: &[u8; ELEMENT_LEN]) -> Result<Scalar, SmpError> {
    Option::<Scalar>::from(Scalar::from_canonical_bytes(*bytes)).ok_or(SmpError::NonCanonicalScalar)
}

/// The 32-byte encoding of a point.
pub fn encode_point(point: &RistrettoPoint) -> [u8; ELEMENT_LEN] {
    point.compress().to_bytes()
}

/// `Scalar::from_bytes_mod_order_wide(SHA-512(part₀ ‖ part₁ ‖ …))`.
pub fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    let wide: Zeroizing<[u8; 64]> = Zeroizing::new(hasher.finalize().into());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A uniformly random non-zero scalar: 64 bytes from `rng`, reduced mod ℓ.
pub fn random_scalar(rng: &mut dyn RandomSource) -> Result<Zeroizing<Scalar>, SmpError> {
    let mut wide = Zeroizing::new([0u8; 64]);
    // Zero comes out with probability 2⁻²⁵²; a source that keeps producing it is broken.
    for _ in 0..4 {
        rng.fill(wide.as_mut())?;
        let scalar = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        if *scalar != Scalar::ZERO {
            return Ok(scalar);
        }
    }
    Err(SmpError::Random(crate::crypto::random::RandomError))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random::DeterministicRandom;

    #[test]
    fn identity_and_non_canonical_points_are_rejected() {
        assert_eq!(decode_point(&[0; 32]), Err(SmpError::IdentityPoint));
        assert_eq!(decode_point(&[0xff; 32]), Err(SmpError::InvalidPoint));
        assert_eq!(decode_point(&encode_point(&G)), Ok(G));
    }

    #[test]
    fn non_canonical_scalars_are_rejected() {
        assert_eq!(decode_scalar(&[0xff; 32]), Err(SmpError::NonCanonicalScalar));
        let s = Scalar::from(7u64);
        assert_eq!(decode_scalar(&s.to_bytes()), Ok(s));
    }

    #[test]
    fn hash_uses_the_wide_reduction() {
        let wide: [u8; 64] = Sha512::digest(b"ab").into();
        assert_eq!(hash_to_scalar(&[b"a", b"b"]), Scalar::from_bytes_mod_order_wide(&wide));
    }

    #[test]
    fn random_scalars_differ() {
        let mut rng = DeterministicRandom::from_label("group");
        let a = random_scalar(&mut rng).unwrap();
        let b = random_scalar(&mut rng).unwrap();
        assert_ne!(*a, *b);
    }
}
