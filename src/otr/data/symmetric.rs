//! The symmetric primitives OTR keys with derived secrets: AES-128 in counter mode (libgcrypt's
//! CTR: the whole 16-byte block counts up, big-endian) and HMAC-SHA1 / HMAC-SHA256. RustCrypto's,
//! wrapped so callers cannot get the parameters wrong and no call can panic.

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// XORs AES-128-CTR keystream into `data`, the counter block starting at
/// `counter_top ‖ 00000000 00000000` (the AKE uses an all-zero top half).
pub fn aes128_ctr(key: &[u8; 16], counter_top: &[u8; 8], data: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(counter_top);
    let mut cipher = Aes128Ctr::new(key.into(), (&iv).into());
    // The keystream from any 64-bit top half lasts 2^64 blocks; no OTR message comes close, so
    // this cannot fail. Should it, the data would stay unencrypted and the MAC still covers it:
    // refuse rather than send that (callers size-check long before).
    if cipher.try_apply_keystream(data).is_err() {
        data.fill(0);
    }
}

/// HMAC-SHA1(key, parts…) (data message MACs).
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    // HMAC accepts keys of any length; the error branch is unreachable.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(key) else {
        return [0; 20];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// An HMAC-SHA1 key with its key schedule done (the inner and outer pad blocks hashed, two
/// SHA-1 compressions): made once per data key pair, cloned for each message it MACs. The
/// state is key material: wiped on drop (its two SHA-1 digest cores wipe themselves, with
/// sha1's `zeroize` feature).
#[derive(Clone)]
pub struct Sha1Mac(Hmac<Sha1>);

impl Sha1Mac {
    /// Keys HMAC-SHA1 with `key`.
    pub fn new(key: &[u8; 20]) -> Sha1Mac {
        // HMAC takes keys of any length (a 20-byte key is padded, not hashed): cannot fail.
        match <Hmac<Sha1> as KeyInit>::new_from_slice(key) {
            Ok(mac) => Sha1Mac(mac),
            Err(_) => Sha1Mac(<Hmac<Sha1> as KeyInit>::new(&Default::default())),
        }
    }

    /// HMAC-SHA1(key, `data`), the same as [`hmac_sha1`] with this key.
    pub fn mac(&self, data: &[u8]) -> [u8; 20] {
        let mut mac = self.0.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// HMAC-SHA256(key, parts…) (the AKE's M and MAC values).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two MACs or hashes.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctr_is_an_involution_and_counts_the_whole_block() {
        let key = [7u8; 16];
        let mut data = *b"0123456789abcdef0123456789abcdef";
        aes128_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        assert_ne!(&data, b"0123456789abcdef0123456789abcdef");
        // The second block uses counter 1 + 1 in the low half: the same as starting there.
        let mut tail = *b"0123456789abcdef";
        {
            let mut cipher = Aes128Ctr::new((&key).into(), (&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]).into());
            cipher.apply_keystream(&mut tail);
        }
        assert_eq!(&tail, &data[16..]);
        aes128_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        assert_eq!(&data, b"0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn hmacs_match_rfc_2202_and_4231() {
        // RFC 2202 test case 2 and RFC 4231 test case 2: key "Jefe".
        let data: &[u8] = b"what do ya want for nothing?";
        assert_eq!(
            hmac_sha1(b"Jefe", &[&data[..4], &data[4..]]),
            [
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25,
                0x9a, 0x7c, 0x79
            ]
        );
        assert_eq!(hmac_sha256(b"Jefe", &[data])[..8], [0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e]);
        let key = [0x0b; 20];
        let keyed = Sha1Mac::new(&key);
        for data in [&b""[..], b"Hi There", &[0xdd; 200]] {
            assert_eq!(keyed.mac(data), hmac_sha1(&key, &[data]), "a kept key MACs as a fresh one");
        }
        // The keyed state is two SHA-1 cores (HMAC's inner and outer digests): compiled with
        // sha1's `zeroize` feature they wipe themselves on drop; without it this fails to build.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<sha1::block_api::Sha1Core>();
        assert!(ct_eq(&[1, 2], &[1, 2]));
        assert!(!ct_eq(&[1, 2], &[1, 3]));
        assert!(!ct_eq(&[1, 2], &[1, 2, 3]));
    }
}
