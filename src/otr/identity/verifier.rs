//! DSA-1024/160 signature verification for keys checked at parse time, on fixed-size
//! Montgomery forms with the key's constants computed once.
//!
//! Why not the `dsa` crate's `verify_prehashed`, which this must agree with (tests compare them):
//! it widens u1 and u2 to p's 1024 bits before raising g and y to them (six times the squarings
//! of a 160-bit exponent, and the exponentiations are constant time, so the zero bits cost as
//! much) and rebuilds its Montgomery parameters on every call. Verification handles only public
//! values (the key, the message, the signature), so nothing here needs to hide anything; the
//! arithmetic is crypto-bigint's (inversion, Montgomery products, Straus' simultaneous
//! exponentiation g^u1 * y^u2 over 160 bits), the equation FIPS 186's:
//! 0 < r, s < q; w = s^-1 mod q; u1 = z*w mod q; u2 = r*w mod q; v = (g^u1 * y^u2 mod p) mod q;
//! valid iff v = r.

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{BoxedUint, MultiExponentiateBoundedExp, NonZero, Odd, U1024, U192};

use super::scalar::{P_LEN, Q_LEN};

/// Bits of q, hence of u1 and u2.
const Q_BITS: u32 = 160;

/// One public key's verification constants.
#[derive(Clone)]
pub(super) struct Verifier {
    g: FixedMontyForm<{ U1024::LIMBS }>,
    y: FixedMontyForm<{ U1024::LIMBS }>,
    q: NonZero<U192>,
    q_params: FixedMontyParams<{ U192::LIMBS }>,
}

/// Big-endian `bytes` (at most `N` long) right-aligned in `N` bytes.
fn padded<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    out.get_mut(N.checked_sub(bytes.len())?..)?.copy_from_slice(bytes);
    Some(out)
}

fn boxed_bytes<const N: usize>(value: &BoxedUint) -> Option<[u8; N]> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    padded(bytes.get(first..)?)
}

impl Verifier {
    /// The constants of the key (p, q, g, y), which the caller has already validated (odd p of
    /// 1024 bits, q of 160 bits dividing p - 1, g and y of order q); `None` if they do not fit.
    pub(super) fn new(p: &BoxedUint, q: &BoxedUint, g: &BoxedUint, y: &BoxedUint) -> Option<Verifier> {
        let p = Option::<Odd<U1024>>::from(Odd::new(U1024::from_be_slice(&boxed_bytes::<P_LEN>(p)?)))?;
        let q = U192::from_be_slice(&boxed_bytes::<{ U192::BYTES }>(q)?);
        let odd_q = Option::<Odd<U192>>::from(Odd::new(q))?;
        let params = FixedMontyParams::new_vartime(p);
        let g = FixedMontyForm::new(&U1024::from_be_slice(&boxed_bytes::<P_LEN>(g)?), &params);
        let y = FixedMontyForm::new(&U1024::from_be_slice(&boxed_bytes::<P_LEN>(y)?), &params);
        Some(Verifier {
            g,
            y,
            q: Option::<NonZero<U192>>::from(NonZero::new(q))?,
            q_params: FixedMontyParams::new_vartime(odd_q),
        })
    }

    /// Whether (`r`, `s`) is a valid signature of `z` (the 20-byte value signed, already
    /// reduced mod q).
    pub(super) fn verify(&self, z: &[u8; Q_LEN], r: &[u8; Q_LEN], s: &[u8; Q_LEN]) -> bool {
        let (Some(z), Some(r), Some(s)) =
            (padded::<{ U192::BYTES }>(z), padded::<{ U192::BYTES }>(r), padded::<{ U192::BYTES }>(s))
        else {
            return false;
        };
        let (z, r, s) = (U192::from_be_slice(&z), U192::from_be_slice(&r), U192::from_be_slice(&s));
        let q = self.q.as_ref();
        if r == U192::ZERO || s == U192::ZERO || r >= *q || s >= *q {
            return false;
        }
        let form = |value: &U192| FixedMontyForm::new(value, &self.q_params);
        let Some(w) = Option::<FixedMontyForm<{ U192::LIMBS }>>::from(form(&s).invert_vartime()) else {
            return false;
        };
        let u1 = form(&z).mul(&w).retrieve();
        let u2 = form(&r).mul(&w).retrieve();
        let v = FixedMontyForm::multi_exponentiate_bounded_exp(&[(self.g, u1), (self.y, u2)], Q_BITS).retrieve();
        v.rem_vartime(&self.q) == r
    }
}
