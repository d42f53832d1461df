//! The symmetric primitives OTR keys with derived secrets: AES-128 in counter mode (libgcrypt's
//! CTR: the whole 16-byte block counts up, big-endian) and HMAC-SHA1 / HMAC-SHA256. RustCrypto's,
//! wrapped so callers cannot get the parameters wrong and no call can panic.

use aes::Aes128Enc;
use ctr::cipher::{InnerIvInit, StreamCipher};
use hmac::block_api::HmacCore;
use hmac::digest::block_api::{Block, Buffer, FixedOutputCore, UpdateCore};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// XORs AES-128-CTR keystream into `data`, the counter block starting at
/// `counter_top ‖ 00000000 00000000` (the AKE uses an all-zero top half).
pub fn aes128_ctr(key: &[u8; 16], counter_top: &[u8; 8], data: &mut [u8]) {
    Aes128CtrKey::new(key).apply(counter_top, data);
}

/// An AES-128 key with its key schedule done, for counter mode (which only encrypts, so only
/// the encryption schedule is made): made once per data key pair instead of once per message.
/// Wiped on drop (aes's `zeroize` feature, which aes-gcm's turns on; a test checks).
pub struct Aes128CtrKey(Aes128Enc);

impl Aes128CtrKey {
    /// The key schedule of `key`.
    pub fn new(key: &[u8; 16]) -> Aes128CtrKey {
        Aes128CtrKey(Aes128Enc::new(key.into()))
    }

    /// [`aes128_ctr`] with this key.
    pub fn apply(&self, counter_top: &[u8; 8], data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..8].copy_from_slice(counter_top);
        let core = InnerIvInit::inner_iv_init(&self.0, (&iv).into());
        let mut cipher = ctr::Ctr128BE::<&Aes128Enc>::from_core(core);
        // The keystream from any 64-bit top half lasts 2^64 blocks; no OTR message comes
        // close, so this cannot fail. Should it, the data would stay unencrypted and the MAC
        // still covers it: refuse rather than send that (callers size-check long before).
        if cipher.try_apply_keystream(data).is_err() {
            data.fill(0);
        }
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

/// How many leading bytes of a MACed message [`Sha1Mac`] keeps the hash state of: three SHA-1
/// blocks. A data message starts with its header, flags, keyids and the sender's next D-H
/// value (216 bytes in v3 for a 192-byte value), the same in every message under one key pair
/// in one direction; only what follows (counter, ciphertext) changes.
pub const MAC_PREFIX_LEN: usize = 3 * 64;
// Whole SHA-1 blocks, so the kept state holds no buffered partial block (any other length would
// still give the right MAC, only slower: checked here, since no output test can see it).
const _: () = assert!(MAC_PREFIX_LEN % 64 == 0);

/// An HMAC-SHA1 key with its key schedule done (the inner and outer pad blocks hashed, two
/// SHA-1 compressions), made once per data key pair, and the state after the last message's
/// first [`MAC_PREFIX_LEN`] bytes: a message that starts with the same bytes costs three
/// SHA-1 compressions less (seven → four for a 100-byte text). The states are key material:
/// wiped on drop (their SHA-1 digest cores wipe themselves, with sha1's `zeroize` feature).
///
/// The states are hmac's block-level core (`HmacCore`): a message is fed as its whole blocks
/// and its last partial block, so no buffered copy of the state is made per message (what
/// the buffered `Hmac` type's clone, update and finalisation add around the same SHA-1 work).
pub struct Sha1Mac {
    keyed: HmacCore<Sha1>,
    prefix: Option<Box<MacPrefix>>,
}

/// The HMAC state after `bytes` (public message bytes).
struct MacPrefix {
    bytes: [u8; MAC_PREFIX_LEN],
    state: HmacCore<Sha1>,
}

impl Sha1Mac {
    /// Keys HMAC-SHA1 with `key`.
    pub fn new(key: &[u8; 20]) -> Sha1Mac {
        // HMAC takes keys of any length (a 20-byte key is padded, not hashed): cannot fail.
        let keyed = match <HmacCore<Sha1> as KeyInit>::new_from_slice(key) {
            Ok(core) => core,
            Err(_) => <HmacCore<Sha1> as KeyInit>::new(&Default::default()),
        };
        Sha1Mac { keyed, prefix: None }
    }

    /// HMAC-SHA1(key, `data`), the same as [`hmac_sha1`] with this key.
    pub fn mac(&mut self, data: &[u8]) -> [u8; 20] {
        let (Some(head), Some(tail)) = (data.first_chunk::<MAC_PREFIX_LEN>(), data.get(MAC_PREFIX_LEN..)) else {
            return finish(self.keyed.clone(), data);
        };
        let prefix = match &mut self.prefix {
            Some(prefix) if same_prefix(&prefix.bytes, head) => prefix,
            slot => {
                // A new prefix (the first message of a pair, or another next key or flags).
                let mut state = self.keyed.clone();
                let (blocks, _) = Block::<HmacCore<Sha1>>::slice_as_chunks(head);
                state.update_blocks(blocks);
                match slot {
                    Some(prefix) => {
                        prefix.bytes = *head;
                        prefix.state = state;
                        prefix
                    }
                    None => slot.insert(Box::new(MacPrefix { bytes: *head, state })),
                }
            }
        };
        finish(prefix.state.clone(), tail)
    }
}

/// Whether two message prefixes (public bytes) are equal: every byte looked at, without an
/// early exit, which compiles to vector compares inline (the slice comparison calls `bcmp`,
/// a tenth of the MAC's own bookkeeping).
fn same_prefix(a: &[u8; MAC_PREFIX_LEN], b: &[u8; MAC_PREFIX_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

/// Feeds `data` to an HMAC-SHA1 `state` that holds no partial block (a keyed state, or one
/// after whole blocks) and finalises it. The block buffer is made empty where it stays (a
/// buffer made from the last partial block and moved into place costs a stalled copy).
fn finish(mut state: HmacCore<Sha1>, data: &[u8]) -> [u8; 20] {
    let mut buffer = Buffer::<HmacCore<Sha1>>::default();
    buffer.digest_blocks(data, |blocks| state.update_blocks(blocks));
    let mut out = Default::default();
    state.finalize_fixed_core(&mut buffer, &mut out);
    out.into()
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

/// Constant-time equality of two MACs or hashes (the lengths are public). The byte
/// differences are ORed together without a branch (vector operations, no call) and the
/// result compared with zero once, by `subtle` (one optimisation barrier for the whole value:
/// subtle's slice comparison pays one per byte, a tenth of a data message's receive outside
/// the MAC itself; eight-byte words copied out of the slices cost two `memcpy` calls each
/// once the comparison is not inlined into a caller that knows the length).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y));
    bool::from(difference.ct_eq(&0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctr::cipher::KeyIvInit;

    #[test]
    fn ctr_is_an_involution_and_counts_the_whole_block() {
        let key = [7u8; 16];
        let mut data = *b"0123456789abcdef0123456789abcdef";
        aes128_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        assert_ne!(&data, b"0123456789abcdef0123456789abcdef");
        // The second block uses counter 1 + 1 in the low half: the same as starting there.
        let mut tail = *b"0123456789abcdef";
        {
            let iv = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
            let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new((&key).into(), (&iv).into());
            cipher.apply_keystream(&mut tail);
        }
        assert_eq!(&tail, &data[16..]);
        aes128_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        assert_eq!(&data, b"0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn a_kept_prefix_state_is_used_only_for_its_own_prefix() {
        let key = [0x5a; 20];
        let mut keyed = Sha1Mac::new(&key);
        let message = |prefix_byte: u8, tail: &[u8]| {
            let mut m = vec![prefix_byte; MAC_PREFIX_LEN];
            m.extend_from_slice(tail);
            m
        };
        // Same prefix, different tails; another prefix; back again; a change in the prefix's
        // last byte only; the prefix alone; shorter than a prefix.
        let mut last_byte_differs = message(1, b"tail");
        last_byte_differs[MAC_PREFIX_LEN - 1] = 2;
        let cases = [
            message(1, b"first"),
            message(1, b"second, longer than the first one"),
            message(2, b"first"),
            message(1, b"first"),
            last_byte_differs,
            message(1, b"tail"),
            message(1, b""),
            vec![1; MAC_PREFIX_LEN - 1],
            message(1, &[7; 300]),
        ];
        for data in &cases {
            assert_eq!(keyed.mac(data), hmac_sha1(&key, &[data]), "{} bytes", data.len());
        }
        // Another key with the same prefix never uses this key's state.
        let mut other = Sha1Mac::new(&[0xa5; 20]);
        assert_eq!(other.mac(&cases[0]), hmac_sha1(&[0xa5; 20], &[&cases[0]]));
        assert_ne!(other.mac(&cases[0]), keyed.mac(&cases[0]));
    }

    #[test]
    fn a_prefix_differing_in_any_bit_is_another_prefix() {
        let a: [u8; MAC_PREFIX_LEN] = core::array::from_fn(|i| (i * 13) as u8);
        assert!(same_prefix(&a, &a.clone()));
        for at in 0..MAC_PREFIX_LEN {
            for bit in 0..8 {
                let mut b = a;
                b[at] ^= 1 << bit;
                assert!(!same_prefix(&a, &b), "byte {at} bit {bit}");
            }
        }
    }

    #[test]
    fn the_block_level_mac_matches_hmac_at_every_length() {
        // Every split of whole blocks and a partial one, with and without the kept prefix,
        // and the same prefix again (its kept state reused).
        let key = [0x3c; 20];
        let mut keyed = Sha1Mac::new(&key);
        for len in 0..=MAC_PREFIX_LEN + 3 * 64 + 1 {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let expected = hmac_sha1(&key, &[&data]);
            assert_eq!(keyed.mac(&data), expected, "{len} bytes");
            assert_eq!(keyed.mac(&data), expected, "{len} bytes, again");
        }
    }

    #[test]
    fn a_kept_aes_key_schedule_is_the_fresh_one_and_is_wiped() {
        let key = [0x42u8; 16];
        let kept = Aes128CtrKey::new(&key);
        for counter in [[0u8; 8], [0, 0, 0, 0, 0, 0, 0, 7]] {
            let mut a = [0x33u8; 100];
            let mut b = [0x33u8; 100];
            kept.apply(&counter, &mut a);
            let mut iv = [0u8; 16];
            iv[..8].copy_from_slice(&counter);
            let mut fresh = ctr::Ctr128BE::<aes::Aes128>::new((&key).into(), (&iv).into());
            fresh.apply_keystream(&mut b);
            assert_eq!(a, b);
        }
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Aes128Enc>();
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
        let mut keyed = Sha1Mac::new(&key);
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
        assert!(ct_eq(&[], &[]));
    }

    #[test]
    fn the_word_wise_comparison_sees_every_byte() {
        // 20 bytes (a MAC: two words and a 4-byte rest), 32 (a hash: words only), 7 (rest only):
        // a change in any one bit of any byte makes them differ.
        for len in [20usize, 32, 7, 8, 9] {
            let a: Vec<u8> = (0..len).map(|i| i as u8 ^ 0xa5).collect();
            assert!(ct_eq(&a, &a.clone()), "{len} bytes equal");
            for at in 0..len {
                for bit in 0..8 {
                    let mut b = a.clone();
                    b[at] ^= 1 << bit;
                    assert!(!ct_eq(&a, &b), "{len} bytes, byte {at} bit {bit}");
                }
            }
        }
    }
}
