//! Turning the users' shared secret into OTR's SMP exponent, exactly as libotr does
//! (`init_respond_smp` in libotr's message.c, OTR v3 spec §"Socialist Millionaires' Protocol"):
//!
//! ```text
//! x = SHA-256(0x01 ‖ fp_initiator(20) ‖ fp_responder(20) ‖ ssid(8) ‖ secret)
//! ```
//!
//! `fp_initiator` is the 20-byte DSA fingerprint of the party that sent SMP1 *in this run*, so
//! both sides hash the same bytes. The 256-bit digest is used as an exponent as it is (libotr
//! does not reduce it); exponentiations with it are bounded by [`SECRET_BITS`].

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::OtrSmpError;
use super::MAX_SECRET_LEN;
use crate::otr::group::Exponent;

/// The version byte that starts the hashed input.
pub const SECRET_VERSION: u8 = 0x01;

/// Bits of the derived exponent (one SHA-256 digest).
pub const SECRET_BITS: u32 = 256;

/// Derives the SMP exponent from the user's secret. Fails only for a secret over
/// [`MAX_SECRET_LEN`].
pub fn derive_secret(
    fp_initiator: &[u8; 20],
    fp_responder: &[u8; 20],
    ssid: &[u8; 8],
    secret: &[u8],
) -> Result<Exponent, OtrSmpError> {
    if secret.len() > MAX_SECRET_LEN {
        return Err(OtrSmpError::SecretTooLong { max: MAX_SECRET_LEN });
    }
    let mut hasher = Sha256::new();
    hasher.update([SECRET_VERSION]);
    hasher.update(fp_initiator);
    hasher.update(fp_responder);
    hasher.update(ssid);
    hasher.update(secret);
    let digest = Zeroizing::new(<[u8; 32]>::from(hasher.finalize()));
    // 32 bytes always fit the group's exponent type.
    Exponent::from_be_bytes(digest.as_slice()).map_err(OtrSmpError::BadValue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_matters_and_order_is_initiator_first() {
        let base = derive_secret(&[1; 20], &[2; 20], &[3; 8], b"s").unwrap().to_minimal_bytes();
        // SHA-256(01 ‖ 01×20 ‖ 02×20 ‖ 03×8 ‖ "s"), computed independently of this module.
        let mut input = vec![1u8];
        input.extend([1u8; 20]);
        input.extend([2u8; 20]);
        input.extend([3u8; 8]);
        input.extend(b"s");
        let expected: [u8; 32] = Sha256::digest(&input).into();
        let first = expected.iter().position(|&b| b != 0).unwrap();
        assert_eq!(&base[..], &expected[first..]);
        assert_ne!(base, derive_secret(&[2; 20], &[1; 20], &[3; 8], b"s").unwrap().to_minimal_bytes());
        assert_ne!(base, derive_secret(&[1; 20], &[2; 20], &[4; 8], b"s").unwrap().to_minimal_bytes());
        assert_ne!(base, derive_secret(&[1; 20], &[2; 20], &[3; 8], b"t").unwrap().to_minimal_bytes());
    }

    #[test]
    fn secret_length_is_capped() {
        let long = vec![0u8; MAX_SECRET_LEN + 1];
        assert_eq!(
            derive_secret(&[1; 20], &[2; 20], &[3; 8], &long).unwrap_err(),
            OtrSmpError::SecretTooLong { max: MAX_SECRET_LEN }
        );
        assert!(derive_secret(&[1; 20], &[2; 20], &[3; 8], &long[1..]).is_ok());
    }
}
