//! The OTR group: RFC 3526's 1536-bit MODP prime p (group 5) with generator 2, which generates
//! the subgroup of prime order q = (p-1)/2 (the quadratic residues). Used by the OTR AKE, the
//! data-message key rotation and OTR's SMP. All arithmetic is crypto-bigint's constant-time
//! Montgomery arithmetic; nothing here is hand-rolled beyond the group's constants and checks.
//!
//! Values that cross the wire are [`Element`]s (public, checked on the way in); secret exponents
//! are [`Exponent`]s (zeroized on drop, never printed).

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{JacobiSymbol, Odd, U1536};
use once_cell::sync::Lazy;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::RandomSource;

/// Bytes in a group element (and in p).
pub const ELEMENT_LEN: usize = 192;

/// RFC 3526 §2, the 1536-bit MODP group's prime.
const P_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
);

/// q = (p-1)/2, the order of the subgroup 2 generates (checked against p in the tests).
const Q_HEX: &str = concat!(
    "7FFFFFFFFFFFFFFFE487ED5110B4611A62633145C06E0E68948127044533E63A",
    "0105DF531D89CD9128A5043CC71A026EF7CA8CD9E69D218D98158536F92F8A1B",
    "A7F09AB6B6A8E122F242DABB312F3F637A262174D31BF6B585FFAE5B7A035BF6",
    "F71C35FDAD44CFD2D74F9208BE258FF324943328F6722D9EE1003E5C50B1DF82",
    "CC6D241B0E2AE9CD348B1FD47E9267AFC1B2AE91EE51D6CB0E3179AB1042A95D",
    "CF6A9483B84B4B36B3861AA7255E4C0278BA36046511B993FFFFFFFFFFFFFFFF",
);

// `from_be_hex` fails at compile time if a constant is even, so these cannot go wrong at run time.
const ODD_P: Odd<U1536> = Odd::<U1536>::from_be_hex(P_HEX);
const ODD_Q: Odd<U1536> = Odd::<U1536>::from_be_hex(Q_HEX);
const P: U1536 = *ODD_P.as_ref();
const Q: U1536 = *ODD_Q.as_ref();
static P_PARAMS: Lazy<FixedMontyParams<{ U1536::LIMBS }>> = Lazy::new(|| FixedMontyParams::new_vartime(ODD_P));
static Q_PARAMS: Lazy<FixedMontyParams<{ U1536::LIMBS }>> = Lazy::new(|| FixedMontyParams::new_vartime(ODD_Q));

/// Why a received value is not a group element we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// Longer than p (after leading zeros), or not below p.
    #[error("value is not below the group prime")]
    TooLarge,
    /// Outside [2, p-2]: 0, 1 and p-1 give away the shared secret.
    #[error("value is outside [2, p-2]")]
    OutOfRange,
    /// Not a quadratic residue: not in the subgroup 2 generates (an honest peer never sends one).
    #[error("value is not in the prime-order subgroup")]
    NotInSubgroup,
    /// An exponent outside [1, q-1].
    #[error("exponent is outside [1, q-1]")]
    BadExponent,
}

/// A public group element (or any integer below p), as carried in an MPI. A DH shared secret
/// is also an `Element`: hold it in `Zeroizing<Element>` so it is wiped.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct Element(U1536);

impl std::fmt::Debug for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element({})", hex_prefix(&self.to_minimal_bytes()))
    }
}

/// A secret exponent (a DH private key, an SMP secret or nonce), wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Exponent(U1536);

impl std::fmt::Debug for Exponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exponent(..)")
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect::<String>() + ".."
}

/// Big-endian `bytes` (any length up to [`ELEMENT_LEN`] once leading zeros are dropped) as a
/// U1536, or `None` if longer.
fn from_be(bytes: &[u8]) -> Option<U1536> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let magnitude = &bytes[first..];
    if magnitude.len() > ELEMENT_LEN {
        return None;
    }
    let mut padded = [0u8; ELEMENT_LEN];
    padded[ELEMENT_LEN - magnitude.len()..].copy_from_slice(magnitude);
    let value = U1536::from_be_slice(&padded);
    padded.zeroize();
    Some(value)
}

/// The minimal big-endian encoding of `value` (no leading zero byte; empty for zero), as OTR's
/// MPIs carry it.
fn to_minimal(value: &U1536) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let bytes: &[u8] = bytes.as_ref();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// `base^exponent mod p`, constant time in the exponent (for the given bound). Almost Montgomery
/// multiplication: measured 15 % faster here than crypto-bigint's plain `pow_bounded_exp`, with
/// the same constant-time window lookups.
fn pow_p(base: &U1536, exponent: &U1536, exponent_bits: u32) -> U1536 {
    if *base == U1536::from_u8(2) {
        // The generator (a public value, so the branch leaks nothing): the table is faster.
        return pow_g(exponent, exponent_bits);
    }
    let base = FixedMontyForm::new(base, &P_PARAMS);
    base.pow_amm_bounded_exp(exponent, exponent_bits).retrieve()
}

/// Bits per digit of the fixed-base table.
const G_DIGIT_BITS: u32 = 4;
/// Digits in the longest exponent g is raised to (SMP draws 1536-bit exponents).
const G_DIGITS: usize = (U1536::BITS / G_DIGIT_BITS) as usize;

/// The fixed-base table of the generator: row i holds g^(j * 16^i) for j = 0..16, in Montgomery
/// form. g^e is then the product of one entry per 4-bit digit of e (each picked with a
/// constant-time scan of its row): a 320-bit exponent costs 80 multiplications instead of 320
/// squarings and 80 multiplications. 1.2 MB, built at the first use (6,144 multiplications).
static G_TABLE: Lazy<Vec<[U1536; 16]>> = Lazy::new(|| {
    let params = &*P_PARAMS;
    let one = FixedMontyForm::one(params);
    // g^(16^i) for the current row.
    let mut unit = FixedMontyForm::new(&U1536::from_u8(2), params);
    let mut table = Vec::with_capacity(G_DIGITS);
    for _ in 0..G_DIGITS {
        let mut row = [*one.as_montgomery(); 16];
        let mut power = one;
        for entry in row.iter_mut().skip(1) {
            power = power.mul(&unit);
            *entry = *power.as_montgomery();
        }
        table.push(row);
        unit = power.mul(&unit);
    }
    table
});

/// `g^exponent mod p` from [`G_TABLE`], constant time in the exponent (for the given bound): the
/// digits of the exponent's low `exponent_bits` bits select table entries through full-row
/// scans, and every digit costs one multiplication, zero or not.
fn pow_g(exponent: &U1536, exponent_bits: u32) -> U1536 {
    use crypto_bigint::{CtAssign, CtEq};
    let params = &*P_PARAMS;
    let bits = exponent_bits.min(U1536::BITS);
    let digits = bits.div_ceil(G_DIGIT_BITS) as usize;
    let limbs = exponent.as_limbs();
    let mut z = FixedMontyForm::one(params);
    for (i, row) in G_TABLE.iter().take(digits).enumerate() {
        let at = i as u32 * G_DIGIT_BITS;
        let limb = limbs.get((at / crypto_bigint::Limb::BITS) as usize).map_or(0, |limb| limb.0);
        // Bits of the exponent at or above the bound do not count (as in `pow_bounded_exp`).
        let width = (bits - at).min(G_DIGIT_BITS);
        let digit = ((limb >> (at % crypto_bigint::Limb::BITS)) & ((1 << width) - 1)) as u8;
        let mut entry = row[0];
        for (j, candidate) in (0u8..).zip(row.iter()).skip(1) {
            entry.ct_assign(candidate, j.ct_eq(&digit));
        }
        z = z.mul(&FixedMontyForm::from_montgomery(entry, params));
        entry.zeroize();
    }
    z.retrieve()
}

impl Element {
    /// The generator, 2.
    pub fn generator() -> Element {
        Element(U1536::from_u8(2))
    }

    /// Any integer below p from big-endian bytes (leading zeros allowed), without the range
    /// and subgroup checks of [`Element::from_peer`]. For values we computed or stored.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Element, GroupError> {
        let value = from_be(bytes).ok_or(GroupError::TooLarge)?;
        if value.cmp_vartime(&P).is_ge() {
            return Err(GroupError::TooLarge);
        }
        Ok(Element(value))
    }

    /// A DH public value or SMP group element from the peer: below p, in [2, p-2] and a
    /// quadratic residue (in the subgroup of order q). libotr checks only the range; the
    /// subgroup check costs one Jacobi symbol and stops small-subgroup confinement.
    pub fn from_peer(bytes: &[u8]) -> Result<Element, GroupError> {
        let element = Element::from_be_bytes(bytes)?;
        element.check_peer_value()?;
        Ok(element)
    }

    /// The range and subgroup checks of [`Element::from_peer`].
    pub fn check_peer_value(&self) -> Result<(), GroupError> {
        let two = U1536::from_u8(2);
        let p_minus_two = P.wrapping_sub(&two);
        if self.0.cmp_vartime(&two).is_lt() || self.0.cmp_vartime(&p_minus_two).is_gt() {
            return Err(GroupError::OutOfRange);
        }
        // Public value: the variable-time symbol is fine.
        if self.0.jacobi_symbol_vartime(&ODD_P) != JacobiSymbol::One {
            return Err(GroupError::NotInSubgroup);
        }
        Ok(())
    }

    /// Minimal big-endian bytes (what an MPI carries).
    pub fn to_minimal_bytes(&self) -> Vec<u8> {
        to_minimal(&self.0)
    }

    /// `self^exponent mod p`; `exponent_bits` bounds the exponent's length (the run time
    /// depends on the bound only).
    pub fn pow(&self, exponent: &Exponent, exponent_bits: u32) -> Element {
        Element(pow_p(&self.0, &exponent.0, exponent_bits))
    }

    /// `self * other mod p`.
    pub fn mul(&self, other: &Element) -> Element {
        let a = FixedMontyForm::new(&self.0, &P_PARAMS);
        let b = FixedMontyForm::new(&other.0, &P_PARAMS);
        Element(a.mul(&b).retrieve())
    }

    /// `self^-1 mod p` (`None` for zero, which no checked element is).
    pub fn invert(&self) -> Option<Element> {
        let a = FixedMontyForm::new(&self.0, &P_PARAMS);
        Option::<FixedMontyForm<{ U1536::LIMBS }>>::from(a.invert()).map(|inv| Element(inv.retrieve()))
    }

    /// Compares as integers (OTR picks the "high" end of a key pair this way). Public values.
    pub fn cmp_value(&self, other: &Element) -> std::cmp::Ordering {
        self.0.cmp_vartime(&other.0)
    }
}

impl Exponent {
    /// `bits` random bits (OTR DH secrets are 320 bits; SMP exponents 1536 bits, unreduced, as
    /// libotr draws them). More than 1536 bits are drawn as 1536: the group has no wider value.
    pub fn random(bits: u32, rng: &mut dyn RandomSource) -> Result<Exponent, crate::crypto::RandomError> {
        let bits = bits.min(ELEMENT_LEN as u32 * 8);
        let len = (bits as usize).div_ceil(8);
        let mut bytes = zeroize::Zeroizing::new(vec![0u8; len]);
        rng.fill(&mut bytes)?;
        let excess = len * 8 - bits as usize;
        if excess > 0 {
            bytes[0] &= 0xFF >> excess;
        }
        Ok(Exponent(from_be(&bytes).unwrap_or(U1536::ZERO)))
    }

    /// An exponent from big-endian bytes (a hash, a stored secret, a received D value).
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Exponent, GroupError> {
        from_be(bytes).map(Exponent).ok_or(GroupError::TooLarge)
    }

    /// An exponent received from the peer (SMP's D values): in [1, q-1].
    pub fn from_peer(bytes: &[u8]) -> Result<Exponent, GroupError> {
        let value = from_be(bytes).ok_or(GroupError::BadExponent)?;
        if bool::from(value.is_zero()) || value.cmp_vartime(&Q).is_ge() {
            return Err(GroupError::BadExponent);
        }
        Ok(Exponent(value))
    }

    /// Minimal big-endian bytes.
    pub fn to_minimal_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(to_minimal(&self.0))
    }

    /// `g^self mod p`.
    pub fn public(&self, exponent_bits: u32) -> Element {
        Element::generator().pow(self, exponent_bits)
    }

    /// `(self - a * c) mod q`: SMP's proof responses (`D = r - a c mod q`).
    pub fn response(&self, a: &Exponent, c: &Exponent) -> Exponent {
        let q = ODD_Q.as_nz_ref();
        let r = FixedMontyForm::new(&self.0.rem(q), &Q_PARAMS);
        let a = FixedMontyForm::new(&a.0.rem(q), &Q_PARAMS);
        let c = FixedMontyForm::new(&c.0.rem(q), &Q_PARAMS);
        Exponent(r.sub(&a.mul(&c)).retrieve())
    }
}

/// p, as bytes (for tests and for checks elsewhere).
pub fn prime_bytes() -> Vec<u8> {
    to_minimal(&P)
}

/// q = (p-1)/2, as bytes.
pub fn order_bytes() -> Vec<u8> {
    to_minimal(&Q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::OsRandom;

    #[test]
    fn prime_is_rfc3526_group5() {
        let p = prime_bytes();
        assert_eq!(p.len(), ELEMENT_LEN);
        assert_eq!(&p[..8], &[0xFF; 8]);
        assert_eq!(&p[184..], &[0xFF; 8]);
        // q = (p-1)/2 and p = 2q+1
        let q = order_bytes();
        assert_eq!(q[0], 0x7F);
        assert_eq!(Q, P.shr(1), "q = (p-1)/2");
    }

    #[test]
    fn the_fixed_base_table_gives_the_same_powers() {
        let mut rng = crate::crypto::DeterministicRandom::from_label("fixed base");
        let plain = |e: &U1536, bits: u32| {
            FixedMontyForm::new(&U1536::from_u8(2), &P_PARAMS).pow_bounded_exp(e, bits).retrieve()
        };
        for bits in [1u32, 3, 4, 5, 63, 64, 65, 256, 320, 1535, 1536] {
            for _ in 0..3 {
                let e = Exponent::random(1536, &mut rng).unwrap();
                assert_eq!(pow_g(&e.0, bits), plain(&e.0, bits), "{bits} bits");
            }
        }
        for e in [U1536::ZERO, U1536::ONE, Q.wrapping_sub(&U1536::ONE), U1536::MAX] {
            assert_eq!(pow_g(&e, 1536), plain(&e, 1536));
            assert_eq!(Element::generator().pow(&Exponent(e), 320).0, plain(&e, 320));
        }
        // Other bases still take the variable-base path, with the same results.
        let three = Element(U1536::from_u8(3));
        let e = Exponent::random(320, &mut rng).unwrap();
        let expected = FixedMontyForm::new(&three.0, &P_PARAMS).pow_bounded_exp(&e.0, 320).retrieve();
        assert_eq!(three.pow(&e, 320).0, expected);
    }

    #[test]
    fn dh_agrees() {
        let mut rng = OsRandom;
        let a = Exponent::random(320, &mut rng).unwrap();
        let b = Exponent::random(320, &mut rng).unwrap();
        let ga = a.public(320);
        let gb = b.public(320);
        assert_eq!(gb.pow(&a, 320), ga.pow(&b, 320));
        assert!(ga.check_peer_value().is_ok(), "powers of 2 are quadratic residues");
    }

    #[test]
    fn rejects_degenerate_and_non_residues() {
        assert_eq!(Element::from_peer(&[1]), Err(GroupError::OutOfRange));
        assert_eq!(Element::from_peer(&[]), Err(GroupError::OutOfRange));
        let p = prime_bytes();
        assert_eq!(Element::from_peer(&p), Err(GroupError::TooLarge));
        let mut p_minus_one = p.clone();
        p_minus_one[ELEMENT_LEN - 1] -= 1;
        assert_eq!(Element::from_peer(&p_minus_one), Err(GroupError::OutOfRange));
        // p ≡ 7 (mod 8): -1 is a non-residue, so p-2 = -2 is not one either (2 is a residue).
        let mut p_minus_two = p.clone();
        p_minus_two[ELEMENT_LEN - 1] -= 2;
        assert_eq!(Element::from_peer(&p_minus_two), Err(GroupError::NotInSubgroup));
        let mut too_long = vec![1u8];
        too_long.extend_from_slice(&p);
        assert_eq!(Element::from_peer(&too_long), Err(GroupError::TooLarge));
        // Leading zeros are accepted (libotr reads MPIs leniently).
        assert!(Element::from_peer(&[0, 0, 4]).is_ok());
    }

    #[test]
    fn response_is_r_minus_ac_mod_q() {
        // 5 - 2*3 = -1 ≡ q-1
        let r = Exponent::from_be_bytes(&[5]).unwrap();
        let a = Exponent::from_be_bytes(&[2]).unwrap();
        let c = Exponent::from_be_bytes(&[3]).unwrap();
        let d = r.response(&a, &c);
        let mut q_minus_one = order_bytes();
        *q_minus_one.last_mut().unwrap() -= 1;
        assert_eq!(&*d.to_minimal_bytes(), &q_minus_one[..]);
        assert!(Exponent::from_peer(&q_minus_one).is_ok());
        assert_eq!(Exponent::from_peer(&order_bytes()).unwrap_err(), GroupError::BadExponent);
        assert_eq!(Exponent::from_peer(&[0]).unwrap_err(), GroupError::BadExponent);
    }

    #[test]
    fn exponent_random_respects_bits() {
        let mut rng = OsRandom;
        for _ in 0..20 {
            let e = Exponent::random(320, &mut rng).unwrap();
            assert!(e.to_minimal_bytes().len() <= 40);
        }
        // The top byte is masked to the bits asked for, and only when they are not whole bytes.
        struct AllOnes;
        impl RandomSource for AllOnes {
            fn fill(&mut self, out: &mut [u8]) -> Result<(), crate::crypto::RandomError> {
                out.fill(0xFF);
                Ok(())
            }
        }
        assert_eq!(*Exponent::random(13, &mut AllOnes).unwrap().to_minimal_bytes(), [0x1F, 0xFF]);
        assert_eq!(*Exponent::random(320, &mut AllOnes).unwrap().to_minimal_bytes(), [0xFF; 40]);
        // Wider than the group: clamped to 1536 bits, not a subtraction overflow.
        assert_eq!(*Exponent::random(2000, &mut AllOnes).unwrap().to_minimal_bytes(), [0xFF; ELEMENT_LEN]);
    }

    #[test]
    fn debug_shows_an_element_prefix_and_no_exponent() {
        let element = Element::from_be_bytes(&[0x01, 0x02, 0x03, 0x04, 0x05]).unwrap();
        assert_eq!(format!("{element:?}"), "Element(01020304..)");
        assert_eq!(format!("{:?}", Element::generator()), "Element(02..)");
        let secret = Exponent::from_be_bytes(&[0xAB, 0xCD]).unwrap();
        assert_eq!(format!("{secret:?}"), "Exponent(..)");
    }
}
