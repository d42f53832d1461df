//! Conversions between OTR's big-endian byte strings and the `dsa` crate's integers, at the
//! fixed precisions the crate expects for DSA-1024/160 (p, g, y: 1024 bits; q, x, r, s: 192,
//! the limb-aligned size of 160 bits).

use crypto_bigint::{BoxedUint, NonZero};

/// Precision of p, g and y.
pub(super) const P_BITS: u32 = 1024;
/// Precision of q, x, r and s (160 bits rounded up to whole 64-bit limbs, as the crate does).
pub(super) const Q_PRECISION: u32 = 192;
/// Bytes in p.
pub(super) const P_LEN: usize = 128;
/// Bytes in q, and in each of r and s on the wire.
pub(super) const Q_LEN: usize = 20;

/// `bytes` without leading zero bytes.
pub(super) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// Big-endian bytes (leading zeros allowed) as an integer of `precision` bits; `None` if the
/// value does not fit.
pub(super) fn to_uint(bytes: &[u8], precision: u32) -> Option<BoxedUint> {
    BoxedUint::from_be_slice(strip_leading_zeros(bytes), precision).ok()
}

/// The minimal big-endian bytes of `value`.
pub(super) fn to_minimal(value: &BoxedUint) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    strip_leading_zeros(&bytes).to_vec()
}

/// `value` as exactly `Q_LEN` big-endian bytes, left-padded; `None` if it does not fit.
pub(super) fn to_q_width(value: &BoxedUint) -> Option<[u8; Q_LEN]> {
    let minimal = to_minimal(value);
    let mut out = [0u8; Q_LEN];
    let start = Q_LEN.checked_sub(minimal.len())?;
    out.get_mut(start..)?.copy_from_slice(&minimal);
    Some(out)
}

/// `M mod q` for a 32-byte M, as the 20 bytes libotr's DSA signs (brief P1: libgcrypt reduces
/// a plain-integer input mod q; it does not truncate).
pub(super) fn reduce_mod_q(m: &[u8; 32], q: &NonZero<BoxedUint>) -> Option<[u8; Q_LEN]> {
    let m = BoxedUint::from_be_slice(m, 256).ok()?;
    let z = &m % q;
    to_q_width(&z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_and_pads() {
        let q = NonZero::new(BoxedUint::from_be_slice(&[0x80; 20], Q_PRECISION).unwrap()).unwrap();
        let mut m = [0u8; 32];
        m[31] = 5;
        let z = reduce_mod_q(&m, &q).unwrap();
        assert_eq!(z[19], 5);
        assert_eq!(&z[..19], &[0; 19]);
        // q itself reduces to zero; q + 1 to one.
        let mut q_plus_one = [0u8; 32];
        q_plus_one[12..].copy_from_slice(&[0x80; 20]);
        q_plus_one[31] += 1;
        let z = reduce_mod_q(&q_plus_one, &q).unwrap();
        assert_eq!(z, {
            let mut one = [0u8; 20];
            one[19] = 1;
            one
        });
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_leading_zeros(&[0, 0]), &[] as &[u8]);
        assert!(to_uint(&[1; 25], Q_PRECISION).is_none());
        assert!(to_uint(&[0, 0, 0, 0, 0, 1], 64).is_some());
    }
}
