//! A peer's (or our own) DSA public key as OTR carries it: the PUBKEY field
//! `SHORT 0x0000 ‖ MPI p ‖ MPI q ‖ MPI g ‖ MPI y`. Only minimal MPIs are accepted, so the bytes
//! we hash for the fingerprint and MAC in the AKE are the only encoding of the key.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd};
use std::sync::Mutex;

use sha1::{Digest, Sha1};

use crate::otr::mpi;
use crate::wire::{Reader, Writer};

use super::scalar::{self, P_BITS, P_LEN, Q_LEN, Q_PRECISION};
use super::verifier::Verifier;
use super::{Fingerprint, IdentityError};

/// The PUBKEY type of DSA keys, the only type OTR defines.
pub const PUBKEY_TYPE_DSA: u16 = 0x0000;
/// An OTR DSA signature: r and s, 20 bytes each.
pub const SIGNATURE_LEN: usize = 2 * Q_LEN;

/// A checked DSA-1024/160 public key with its exact PUBKEY encoding.
#[derive(Clone)]
pub struct DsaPublicKey {
    /// PUBKEY with the type bytes, minimal MPIs (what the AKE MACs and sends).
    encoded: Vec<u8>,
    verifying_key: dsa::VerifyingKey,
    /// The key's verification constants (see `verifier.rs` for why not `verifying_key`).
    verifier: Verifier,
}

/// The four public values, minimal big-endian bytes (for storage and export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsaPublicComponents {
    /// The prime modulus (1024 bits).
    pub p: Vec<u8>,
    /// The subgroup order (160 bits).
    pub q: Vec<u8>,
    /// The generator of the order-q subgroup.
    pub g: Vec<u8>,
    /// The public value g^x mod p.
    pub y: Vec<u8>,
}

impl PartialEq for DsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.encoded == other.encoded
    }
}

impl Eq for DsaPublicKey {}

impl std::fmt::Debug for DsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DsaPublicKey({})", super::human_fingerprint(&self.fingerprint()))
    }
}

/// Checks p, q, g, y as DSA-1024/160 parameters and builds the crate's key. Public values:
/// variable-time arithmetic is fine.
fn verifying_key(p: &[u8], q: &[u8], g: &[u8], y: &[u8]) -> Result<dsa::VerifyingKey, IdentityError> {
    let (p_min, q_min) = (scalar::strip_leading_zeros(p), scalar::strip_leading_zeros(q));
    // Exactly 1024 and 160 bits: the top bit of a full-length value is set.
    let full = |bytes: &[u8], len: usize| bytes.len() == len && bytes.first().is_some_and(|b| b & 0x80 != 0);
    if !full(p_min, P_LEN) || !full(q_min, Q_LEN) {
        return Err(IdentityError::BadParameters);
    }
    let p = scalar::to_uint(p, P_BITS).ok_or(IdentityError::BadParameters)?;
    let q = scalar::to_uint(q, Q_PRECISION).ok_or(IdentityError::BadParameters)?;
    let g = scalar::to_uint(g, P_BITS).ok_or(IdentityError::BadParameters)?;
    let y = scalar::to_uint(y, P_BITS).ok_or(IdentityError::BadParameters)?;
    // 1 < g < p and 1 < y < p (the crate's own checks let g = 1 through).
    let two = BoxedUint::from(2u8);
    if g < two || g >= p || y < two || y >= p {
        return Err(IdentityError::BadParameters);
    }
    let odd_p = Option::<Odd<BoxedUint>>::from(Odd::new(p.clone())).ok_or(IdentityError::BadParameters)?;
    let nonzero_q = Option::<NonZero<BoxedUint>>::from(NonZero::new(q.clone())).ok_or(IdentityError::BadParameters)?;
    // q | p - 1
    let p_minus_one = p.wrapping_sub(BoxedUint::one());
    if !bool::from(p_minus_one.rem_vartime(&nonzero_q).is_zero()) {
        return Err(IdentityError::BadParameters);
    }
    // g generates the subgroup of order q (the crate checks y^q = 1).
    let params = BoxedMontyParams::new_vartime(odd_p);
    if !bool::from(BoxedMontyForm::new(g.clone(), &params).pow(&q).retrieve().is_one()) {
        return Err(IdentityError::BadParameters);
    }
    let components = dsa::Components::from_components(p, q, g).map_err(|_| IdentityError::BadParameters)?;
    dsa::VerifyingKey::from_components(components, y).map_err(|_| IdentityError::BadParameters)
}

/// Keys this process validated recently, by their encoding: a peer's key is validated once
/// (two exponentiations and the parameter checks), not again at every AKE with that peer.
/// Validation is a function of the encoding alone (minimal MPIs: one encoding per key), so a
/// key found here is exactly what validating again would give; only validated keys go in.
static VALIDATED: Mutex<Vec<DsaPublicKey>> = Mutex::new(Vec::new());
/// How many keys [`VALIDATED`] keeps (the oldest goes first).
const VALIDATED_KEYS: usize = 16;

fn recently_validated(encoded: &[u8]) -> Option<DsaPublicKey> {
    let known = VALIDATED.lock().ok()?;
    known.iter().find(|key| key.encoded == encoded).cloned()
}

fn remember_validated(key: &DsaPublicKey) {
    // A poisoned lock only means no caching.
    if let Ok(mut known) = VALIDATED.lock() {
        if known.len() >= VALIDATED_KEYS {
            known.remove(0);
        }
        known.push(key.clone());
    }
}

impl DsaPublicKey {
    /// Reads a PUBKEY field: type 0, four minimal MPIs, checked parameters.
    pub fn read(reader: &mut Reader<'_>) -> Result<DsaPublicKey, IdentityError> {
        let mut probe = reader.clone();
        if probe.u16()? != PUBKEY_TYPE_DSA {
            return Err(IdentityError::UnsupportedKeyType);
        }
        let mut values = [&[][..]; 4];
        for value in &mut values {
            let magnitude = mpi::read(&mut probe)?;
            if magnitude.first().is_none_or(|&b| b == 0) {
                return Err(IdentityError::NonMinimalMpi);
            }
            *value = magnitude;
        }
        let [p, q, g, y] = values;
        let key = DsaPublicKey::from_components(p, q, g, y)?;
        *reader = probe;
        Ok(key)
    }

    /// Parses exactly one PUBKEY field.
    pub fn from_bytes(bytes: &[u8]) -> Result<DsaPublicKey, IdentityError> {
        let mut reader = Reader::new(bytes);
        let key = DsaPublicKey::read(&mut reader)?;
        reader.finish()?;
        Ok(key)
    }

    /// A key from its values (leading zeros allowed; the encoding is made minimal).
    pub fn from_components(p: &[u8], q: &[u8], g: &[u8], y: &[u8]) -> Result<DsaPublicKey, IdentityError> {
        let mut writer = Writer::with_capacity(2 + 4 * 4 + p.len() + q.len() + g.len() + y.len());
        writer.u16(PUBKEY_TYPE_DSA);
        for value in [p, q, g, y] {
            mpi::write(&mut writer, value);
        }
        let encoded = writer.into_vec();
        if let Some(known) = recently_validated(&encoded) {
            return Ok(known);
        }
        let verifying_key = verifying_key(p, q, g, y)?;
        let components = verifying_key.components();
        let verifier = Verifier::new(components.p(), components.q(), components.g(), verifying_key.y())
            .ok_or(IdentityError::BadParameters)?;
        let key = DsaPublicKey { encoded, verifying_key, verifier };
        remember_validated(&key);
        Ok(key)
    }

    /// The PUBKEY field, type bytes included, as the AKE sends and MACs it.
    pub fn to_bytes(&self) -> &[u8] {
        &self.encoded
    }

    /// SHA-1 over the PUBKEY without its two type bytes.
    pub fn fingerprint(&self) -> Fingerprint {
        Sha1::digest(self.encoded.get(2..).unwrap_or_default()).into()
    }

    /// p, q, g and y as minimal big-endian bytes.
    pub fn components(&self) -> DsaPublicComponents {
        let components = self.verifying_key.components();
        DsaPublicComponents {
            p: scalar::to_minimal(components.p()),
            q: scalar::to_minimal(components.q()),
            g: scalar::to_minimal(components.g()),
            y: scalar::to_minimal(self.verifying_key.y()),
        }
    }

    /// Verifies an OTR signature (`r ‖ s`, 20 bytes each) over the 32-byte value `m`, which is
    /// reduced mod q as libotr does (not truncated, not hashed again).
    pub fn verify(&self, m: &[u8; 32], signature: &[u8]) -> Result<(), IdentityError> {
        let (r, s) = signature.split_at_checked(Q_LEN).ok_or(IdentityError::BadSignature)?;
        if s.len() != Q_LEN {
            return Err(IdentityError::BadSignature);
        }
        let (Ok(r), Ok(s)) = (<[u8; Q_LEN]>::try_from(r), <[u8; Q_LEN]>::try_from(s)) else {
            return Err(IdentityError::BadSignature);
        };
        let z = scalar::reduce_mod_q(m, self.verifying_key.components().q()).ok_or(IdentityError::BadSignature)?;
        if self.verifier.verify(&z, &r, &s) {
            Ok(())
        } else {
            Err(IdentityError::BadSignature)
        }
    }

    /// [`DsaPublicKey::verify`] through the `dsa` crate, the reference the tests hold the fast
    /// path to.
    #[cfg(test)]
    pub(crate) fn verify_with_dsa_crate(&self, m: &[u8; 32], signature: &[u8]) -> Result<(), IdentityError> {
        use dsa::signature::hazmat::PrehashVerifier;
        let (r, s) = signature.split_at_checked(Q_LEN).ok_or(IdentityError::BadSignature)?;
        if s.len() != Q_LEN {
            return Err(IdentityError::BadSignature);
        }
        let r = scalar::to_uint(r, Q_PRECISION).ok_or(IdentityError::BadSignature)?;
        let s = scalar::to_uint(s, Q_PRECISION).ok_or(IdentityError::BadSignature)?;
        let signature = dsa::Signature::from_components(r, s).ok_or(IdentityError::BadSignature)?;
        let z = scalar::reduce_mod_q(m, self.verifying_key.components().q()).ok_or(IdentityError::BadSignature)?;
        self.verifying_key.verify_prehash(&z, &signature).map_err(|_| IdentityError::BadSignature)
    }

    pub(super) fn verifying_key(&self) -> &dsa::VerifyingKey {
        &self.verifying_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::identity::DsaIdentity;

    /// Groups made by tests/otr_identity/dsa_edge_groups.py: valid DSA in every way but their
    /// size, or of the right size with a first byte of exactly 0x80.
    const EDGE_GROUPS: &str = include_str!("../../../tests/vectors/dsa_edge_groups.json");

    fn edge_group(name: &str) -> [Vec<u8>; 5] {
        let groups: serde_json::Value = serde_json::from_str(EDGE_GROUPS).unwrap();
        ["p", "q", "g", "y", "x"].map(|value| hex::decode(groups[name][value].as_str().unwrap()).unwrap())
    }

    #[test]
    fn only_a_1024_bit_p_and_a_160_bit_q_are_accepted_however_valid_the_group() {
        for (name, p_bits, q_bits) in [("p_1020_bits", 1020, 160), ("q_159_bits", 1024, 159)] {
            let [p, q, g, y, x] = edge_group(name);
            // What makes the group wrong is its size alone: same byte lengths as a good key.
            assert_eq!((p.len(), q.len()), (P_LEN, Q_LEN), "{name}");
            let bit_length = |v: &[u8]| v.len() * 8 - v[0].leading_zeros() as usize;
            assert_eq!((bit_length(&p), bit_length(&q)), (p_bits, q_bits), "{name}");
            assert_eq!(
                DsaPublicKey::from_components(&p, &q, &g, &y).unwrap_err(),
                IdentityError::BadParameters,
                "{name}"
            );
            assert_eq!(
                DsaIdentity::from_components(&p, &q, &g, &y, &x).unwrap_err(),
                IdentityError::BadParameters,
                "{name}"
            );
        }
    }

    #[test]
    fn a_p_or_q_whose_first_byte_is_0x80_is_full_length_and_accepted() {
        for name in ["p_first_byte_80", "q_first_byte_80"] {
            let [p, q, g, y, x] = edge_group(name);
            assert!(p[0] == 0x80 || q[0] == 0x80, "{name}");
            let key = DsaPublicKey::from_components(&p, &q, &g, &y).unwrap();
            let components = DsaPublicComponents { p: p.clone(), q: q.clone(), g: g.clone(), y: y.clone() };
            assert_eq!(key.components(), components, "{name}");
            // And the group works: a key in it signs, and its signature verifies.
            let identity = DsaIdentity::from_components(&p, &q, &g, &y, &x).unwrap();
            let signature = identity.sign(&[5; 32]).unwrap();
            assert_eq!(key.verify(&[5; 32], &signature), Ok(()), "{name}");
            assert_eq!(key.verify(&[6; 32], &signature), Err(IdentityError::BadSignature), "{name}");
        }
    }

    /// `a` + `b`, big-endian, as long as `a` (`b` no longer); `None` if it carries out of the top.
    fn sum(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
        let b = [vec![0; a.len() - b.len()], b.to_vec()].concat();
        let mut out = vec![0u8; a.len()];
        let mut carry = 0u16;
        for i in (0..a.len()).rev() {
            let total = u16::from(a[i]) + u16::from(b[i]) + carry;
            out[i] = total as u8;
            carry = total >> 8;
        }
        (carry == 0).then_some(out)
    }

    #[test]
    fn a_g_or_y_of_p_plus_one_is_refused_though_it_is_one_modulo_p() {
        // p + 1 fits in 1024 bits and is 1 modulo p: only the range check (< p) stops a
        // degenerate generator or public value written that way.
        let [p, q, g, y, _] = edge_group("p_first_byte_80");
        assert!(DsaPublicKey::from_components(&p, &q, &g, &y).is_ok());
        let over = sum(&p, &[1]).expect("p + 1 fits 1,024 bits");
        for (what, g, y) in [("g", &over, &y), ("y", &g, &over)] {
            assert_eq!(
                DsaPublicKey::from_components(&p, &q, g, y).unwrap_err(),
                IdentityError::BadParameters,
                "{what}"
            );
        }
    }

    #[test]
    fn a_g_of_p_plus_a_real_generator_is_refused() {
        // p + g is g modulo p, so it passes the order check (g^q = 1); only a range check
        // (ours, and behind it the `dsa` crate's g <= p) refuses it. In the 0x80 group the
        // sum still fits 1,024 bits, so the length check does not decide.
        let [p, q, g, y, _] = edge_group("p_first_byte_80");
        let p_plus_g = sum(&p, &g).expect("p + g fits 1,024 bits");
        assert_eq!(DsaPublicKey::from_components(&p, &q, &p_plus_g, &y).unwrap_err(), IdentityError::BadParameters);
    }

    #[test]
    fn a_y_of_0_or_1_is_refused() {
        // 1 has order 1, which divides q, so the order check alone would pass it: the range
        // check (ours, and behind it the `dsa` crate's) refuses both degenerate keys.
        let [p, q, g, _, _] = edge_group("p_first_byte_80");
        for y in [&[0u8][..], &[1], &[]] {
            assert_eq!(
                DsaPublicKey::from_components(&p, &q, &g, y).unwrap_err(),
                IdentityError::BadParameters,
                "{y:?}"
            );
        }
    }
}
