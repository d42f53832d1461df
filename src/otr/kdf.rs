//! OTR's key derivation (v3 spec, "Computing AES keys, MAC keys, and the secure session id"),
//! from `secbytes` = MPI(g^xy), minimal:
//! - AKE: `h2(b) = SHA-256(b ‖ secbytes)`: ssid = h2(0x00)[0..8], c ‖ c' = h2(0x01), m1, m2, m1',
//!   m2' = h2(0x02..0x05).
//! - data keys per key pair: `h1(b) = SHA-1(b ‖ secbytes)`; the "high" end (larger DH public
//!   value) sends with h1(0x01)[0..16] and receives with h1(0x02)[0..16], the low end the other
//!   way round; each MAC key is SHA-1 of its AES key.
//! - the extra symmetric key of a key pair: h2(0xFF).

use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::otr::group::Element;

fn h2(byte: u8, secbytes: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(Sha256::new().chain_update([byte]).chain_update(secbytes).finalize().into())
}

fn h1(byte: u8, secbytes: &[u8]) -> Zeroizing<[u8; 20]> {
    Zeroizing::new(Sha1::new().chain_update([byte]).chain_update(secbytes).finalize().into())
}

fn first<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (dst, src) in out.iter_mut().zip(bytes) {
        *dst = *src;
    }
    out
}

/// The AKE's keys and the secure session id.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AkeKeys {
    /// Secure session id: h2(0x00), first 8 bytes (shown to users, bound into SMP).
    pub ssid: [u8; 8],
    /// Encrypts the Reveal Signature sender's signature block.
    pub c: [u8; 16],
    /// Encrypts the Signature sender's signature block.
    pub c_prime: [u8; 16],
    /// MACs the Reveal Signature sender's M.
    pub m1: [u8; 32],
    /// MACs the Reveal Signature message.
    pub m2: [u8; 32],
    /// MACs the Signature sender's M.
    pub m1_prime: [u8; 32],
    /// MACs the Signature message.
    pub m2_prime: [u8; 32],
}

impl std::fmt::Debug for AkeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AkeKeys(..)")
    }
}

impl AkeKeys {
    /// The AKE keys from `secbytes`.
    pub fn derive(secbytes: &[u8]) -> AkeKeys {
        let cc = h2(0x01, secbytes);
        AkeKeys {
            ssid: first(&*h2(0x00, secbytes)),
            c: first(cc.get(..16).unwrap_or_default()),
            c_prime: first(cc.get(16..).unwrap_or_default()),
            m1: *h2(0x02, secbytes),
            m2: *h2(0x03, secbytes),
            m1_prime: *h2(0x04, secbytes),
            m2_prime: *h2(0x05, secbytes),
        }
    }
}

/// The four keys one end uses with one data key pair.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKeys {
    /// AES-128 key for messages we send.
    pub sending_aes: [u8; 16],
    /// HMAC-SHA1 key for messages we send.
    pub sending_mac: [u8; 20],
    /// AES-128 key for messages we receive.
    pub receiving_aes: [u8; 16],
    /// HMAC-SHA1 key for messages we receive (revealed once no longer used).
    pub receiving_mac: [u8; 20],
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKeys(..)")
    }
}

impl DataKeys {
    /// The keys for the end whose public value is `our_public`, talking to `their_public`.
    pub fn derive(secbytes: &[u8], our_public: &Element, their_public: &Element) -> DataKeys {
        let (send_byte, receive_byte) = if is_high_end(our_public, their_public) { (0x01, 0x02) } else { (0x02, 0x01) };
        let sending_aes = first::<16>(&*h1(send_byte, secbytes));
        let receiving_aes = first::<16>(&*h1(receive_byte, secbytes));
        DataKeys {
            sending_mac: Sha1::digest(sending_aes).into(),
            receiving_mac: Sha1::digest(receiving_aes).into(),
            sending_aes,
            receiving_aes,
        }
    }
}

/// Whether we are the "high" end of a key pair: our public value is the larger integer.
pub fn is_high_end(our_public: &Element, their_public: &Element) -> bool {
    our_public.cmp_value(their_public) == std::cmp::Ordering::Greater
}

/// The extra symmetric key of a key pair (the same for every message under that pair).
pub fn extra_symmetric_key(secbytes: &[u8]) -> Zeroizing<[u8; 32]> {
    h2(0xFF, secbytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ake_keys_are_h2_slices() {
        let secbytes = [0, 0, 0, 2, 0xAB, 0xCD];
        let keys = AkeKeys::derive(&secbytes);
        let h = |b: u8| -> [u8; 32] { Sha256::new().chain_update([b]).chain_update(secbytes).finalize().into() };
        assert_eq!(keys.ssid, h(0)[..8]);
        assert_eq!(keys.c, h(1)[..16]);
        assert_eq!(keys.c_prime, h(1)[16..]);
        assert_eq!((keys.m1, keys.m2, keys.m1_prime, keys.m2_prime), (h(2), h(3), h(4), h(5)));
        assert_eq!(*extra_symmetric_key(&secbytes), h(0xFF));
        assert_eq!(format!("{keys:?}"), "AkeKeys(..)");
    }

    #[test]
    fn data_keys_mirror_between_the_ends() {
        let secbytes = [0, 0, 0, 1, 9];
        let low = Element::from_be_bytes(&[3]).unwrap();
        let high = Element::from_be_bytes(&[5]).unwrap();
        let at_high = DataKeys::derive(&secbytes, &high, &low);
        let at_low = DataKeys::derive(&secbytes, &low, &high);
        assert_eq!(at_high.sending_aes, at_low.receiving_aes);
        assert_eq!(at_high.sending_mac, at_low.receiving_mac);
        assert_eq!(at_low.sending_aes, at_high.receiving_aes);
        let h1_01: [u8; 20] = Sha1::new().chain_update([1]).chain_update(secbytes).finalize().into();
        assert_eq!(at_high.sending_aes, h1_01[..16]);
        assert_eq!(at_high.sending_mac, <[u8; 20]>::from(Sha1::digest(&h1_01[..16])));
        assert!(is_high_end(&high, &low) && !is_high_end(&low, &high) && !is_high_end(&low, &low));
    }
}
