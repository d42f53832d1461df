//! Turning the users' shared secret into the SMP exponent `x` (Alice) / `y` (Bob).
//!
//! ```text
//! x = H_s("offrec1 SMP secret" ‖ 0x01 ‖ fp_initiator(32) ‖ fp_responder(32) ‖ ssid(32)
//!         ‖ u32 BE len(secret) ‖ secret)
//! ```
//!
//! `fp_initiator` is the fingerprint of the party who *started this SMP run* (sent SMP1), so both
//! sides hash the same bytes. Binding the fingerprints and the session id means a relaying man in
//! the middle, who holds a different session with each victim, cannot make the values match.

use curve25519_dalek::scalar::Scalar;
use zeroize::Zeroizing;

use super::error::SmpError;
use super::group::hash_to_scalar;

/// Domain-separation label of the secret derivation.
pub const SECRET_LABEL: &[u8] = b"offrec1 SMP secret";
/// Version byte after the label.
pub const SECRET_VERSION: u8 = 0x01;

/// Derives the SMP exponent from the user's secret.
pub fn derive_secret(
    fp_initiator: &[u8; 32],
    fp_responder: &[u8; 32],
    ssid: &[u8; 32],
    secret: &[u8],
) -> Result<Zeroizing<Scalar>, SmpError> {
    let len = u32::try_from(secret.len()).map_err(|_| SmpError::SecretTooLong)?;
    Ok(Zeroizing::new(hash_to_scalar(&[
        SECRET_LABEL,
        &[SECRET_VERSION],
        fp_initiator,
        fp_responder,
        ssid,
        &len.to_be_bytes(),
        secret,
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_matters() {
        let base = derive_secret(&[1; 32], &[2; 32], &[3; 32], b"s").unwrap();
        assert_eq!(*base, *derive_secret(&[1; 32], &[2; 32], &[3; 32], b"s").unwrap());
        assert_ne!(*base, *derive_secret(&[2; 32], &[1; 32], &[3; 32], b"s").unwrap());
        assert_ne!(*base, *derive_secret(&[1; 32], &[2; 32], &[4; 32], b"s").unwrap());
        assert_ne!(*base, *derive_secret(&[1; 32], &[2; 32], &[3; 32], b"t").unwrap());
    }
}
