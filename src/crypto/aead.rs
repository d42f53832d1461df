//! AES-256-GCM as the data messages use it, plus the deniability material (PROTOCOL.md
//! §Deniability).
//!
//! Every message key encrypts exactly one message, so the nonce is fixed at zero. After the
//! receiver has verified a message it publishes [`RevealedMaterial`] = (H, E_K(J0)): the GHASH
//! key and the tag mask. With those two blocks anyone can compute a valid tag for any
//! ciphertext of the same key, so a transcript proves nothing about who wrote it; yet they are
//! AES outputs on inputs the keystream never uses, so they reveal nothing about any plaintext.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::cipher::consts::U12;
use aes_gcm::aes::cipher::BlockCipherEncrypt;
use aes_gcm::aes::Aes256Enc;
use aes_gcm::{AesGcm, Nonce, Tag};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, SecretKey};

/// AES-256-GCM with a 96-bit nonce, as `aes_gcm::Aes256Gcm`, over the encryption-only AES-256:
/// GCM never decrypts a block, so the inverse key schedule `Aes256` also expands (every message
/// key is used once) is never computed, and the cipher state is half the size.
type Aes256Gcm = AesGcm<Aes256Enc, U12>;

/// Length of a GCM tag.
pub const TAG_LEN: usize = 16;

/// Length of the material revealed for one message key.
pub const REVEALED_LEN: usize = 32;

/// Encrypts `plaintext` in place under a single-use `key`; returns the tag.
pub fn seal(key: &SecretKey, associated_data: &[u8], buffer: &mut [u8]) -> Result<[u8; TAG_LEN], CryptoError> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::default(), associated_data, buffer.into())
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(tag.into())
}

/// Decrypts `buffer` in place if `tag` verifies (constant-time comparison inside aes-gcm). On
/// failure the buffer is left as ciphertext.
pub fn open(
    key: &SecretKey,
    associated_data: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    let cipher = Aes256Gcm::new(key.expose().into());
    cipher
        .decrypt_inout_detached(&Nonce::default(), associated_data, buffer.into(), &Tag::from(*tag))
        .map_err(|_| CryptoError::AuthenticationFailed)
}

/// [`open`], also returning the key's [`RevealedMaterial`] from the same AES key schedule (a
/// receiver needs both; expanding the key once saves a schedule per message). On failure
/// nothing is returned and the buffer is left as ciphertext.
pub fn open_revealing(
    key: &SecretKey,
    associated_data: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<RevealedMaterial, CryptoError> {
    let cipher = Aes256Enc::new(key.expose().into());
    let material = RevealedMaterial::of_cipher(&cipher);
    Aes256Gcm::from(cipher)
        .decrypt_inout_detached(&Nonce::default(), associated_data, buffer.into(), &Tag::from(*tag))
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(material)
}

/// What the receiver publishes for a message key it will never use again: H = AES_K(0¹²⁸) and
/// the tag mask AES_K(J0) with J0 = 0⁹⁶ ‖ 0x00000001.
///
/// Aligned to 16 bytes, as [`SecretKey`] is: it comes back inside a `Result`.
#[derive(Clone, PartialEq, Eq)]
#[repr(align(16))]
pub struct RevealedMaterial {
    /// The GHASH key H.
    pub ghash_key: [u8; 16],
    /// E_K(J0), XORed into GHASH to make the tag.
    pub tag_mask: [u8; 16],
}

/// Wiped as slices (one store each behind zeroize's optimisation barrier), not the derived
/// byte-by-byte volatile stores: one is dropped per message received.
impl Zeroize for RevealedMaterial {
    fn zeroize(&mut self) {
        self.ghash_key.as_mut_slice().zeroize();
        self.tag_mask.as_mut_slice().zeroize();
    }
}

impl Drop for RevealedMaterial {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for RevealedMaterial {}

impl RevealedMaterial {
    /// Computes the material of a message key.
    pub fn of_key(key: &SecretKey) -> Self {
        Self::of_cipher(&Aes256Enc::new(key.expose().into()))
    }

    fn of_cipher(cipher: &Aes256Enc) -> Self {
        let mut ghash_key = [0u8; 16];
        let mut tag_mask = [0u8; 16];
        tag_mask[15] = 1;
        cipher.encrypt_block((&mut ghash_key).into());
        cipher.encrypt_block((&mut tag_mask).into());
        Self { ghash_key, tag_mask }
    }

    /// The 32 wire bytes: H ‖ E_K(J0).
    pub fn to_bytes(&self) -> [u8; REVEALED_LEN] {
        let mut out = [0u8; REVEALED_LEN];
        out[..16].copy_from_slice(&self.ghash_key);
        out[16..].copy_from_slice(&self.tag_mask);
        out
    }

    /// Parses the 32 wire bytes.
    pub fn from_bytes(bytes: &[u8; REVEALED_LEN]) -> Self {
        let mut ghash_key = [0u8; 16];
        let mut tag_mask = [0u8; 16];
        ghash_key.copy_from_slice(&bytes[..16]);
        tag_mask.copy_from_slice(&bytes[16..]);
        Self { ghash_key, tag_mask }
    }

    /// The GCM tag of (`associated_data`, `ciphertext`) under the key this material came from:
    /// GHASH_H(A, C) ⊕ E_K(J0). This is all a forger needs.
    pub fn tag_for(&self, associated_data: &[u8], ciphertext: &[u8]) -> [u8; TAG_LEN] {
        let mut ghash = GHash::new(&self.ghash_key.into());
        ghash.update_padded(associated_data);
        ghash.update_padded(ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&bit_length(associated_data.len()).to_be_bytes());
        lengths[8..].copy_from_slice(&bit_length(ciphertext.len()).to_be_bytes());
        ghash.update(&[lengths.into()]);
        let mut tag: [u8; TAG_LEN] = ghash.finalize().into();
        for (t, m) in tag.iter_mut().zip(self.tag_mask.iter()) {
            *t ^= m;
        }
        tag
    }

    /// Whether `tag` is the valid tag of (`associated_data`, `ciphertext`), in constant time.
    pub fn verifies(&self, associated_data: &[u8], ciphertext: &[u8], tag: &[u8; TAG_LEN]) -> bool {
        self.tag_for(associated_data, ciphertext).ct_eq(tag).into()
    }
}

impl core::fmt::Debug for RevealedMaterial {
    // Revealed material is public once sent, but before that it is still key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RevealedMaterial(..)")
    }
}

fn bit_length(len: usize) -> u64 {
    (len as u64).saturating_mul(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_rejected() {
        let key = SecretKey::from_bytes([9; 32]);
        let mut buffer = b"attack at dawn".to_vec();
        let tag = seal(&key, b"header", &mut buffer).unwrap();
        assert_ne!(&buffer, b"attack at dawn");
        let ciphertext = buffer.clone();
        open(&key, b"header", &mut buffer, &tag).unwrap();
        assert_eq!(&buffer, b"attack at dawn");

        let mut wrong_ad = ciphertext.clone();
        assert!(open(&key, b"headex", &mut wrong_ad, &tag).is_err());
        assert_eq!(wrong_ad, ciphertext, "failed open leaves the ciphertext");
        let mut flipped = ciphertext.clone();
        flipped[0] ^= 1;
        assert!(open(&key, b"header", &mut flipped, &tag).is_err());
        let mut bad_tag = tag;
        bad_tag[15] ^= 0x80;
        assert!(open(&key, b"header", &mut ciphertext.clone(), &bad_tag).is_err());
    }

    #[test]
    fn seal_and_open_are_the_standard_aes_256_gcm() {
        // The encryption-only cipher gives exactly aes-gcm's own AES-256-GCM.
        let key = SecretKey::from_bytes([8; 32]);
        let standard = aes_gcm::Aes256Gcm::new(key.expose().into());
        for len in [0usize, 1, 16, 100, 4100] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
            let mut ours = plaintext.clone();
            let tag = seal(&key, b"header", &mut ours).unwrap();
            let mut theirs = plaintext.clone();
            let their_tag =
                standard.encrypt_inout_detached(&Nonce::default(), b"header", theirs.as_mut_slice().into()).unwrap();
            assert_eq!((&ours, tag), (&theirs, their_tag.into()), "len {len}");
            open_revealing(&key, b"header", &mut ours, &tag).unwrap();
            assert_eq!(ours, plaintext);
        }
    }

    #[test]
    fn revealed_material_reproduces_the_real_tag() {
        let key = SecretKey::from_bytes([3; 32]);
        for len in [0usize, 1, 15, 16, 17, 100, 4096] {
            let mut buffer = vec![0x41; len];
            let tag = seal(&key, b"some header bytes", &mut buffer).unwrap();
            let material = RevealedMaterial::of_key(&key);
            assert_eq!(material.tag_for(b"some header bytes", &buffer), tag, "len {len}");
            assert!(material.verifies(b"some header bytes", &buffer, &tag));
        }
    }

    #[test]
    fn open_revealing_opens_as_open_and_reveals_as_of_key() {
        let key = SecretKey::from_bytes([6; 32]);
        let mut buffer = b"attack at dawn".to_vec();
        let tag = seal(&key, b"header", &mut buffer).unwrap();
        let ciphertext = buffer.clone();
        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        assert!(open_revealing(&key, b"header", &mut buffer, &bad_tag).is_err());
        assert_eq!(buffer, ciphertext, "failed open leaves the ciphertext");
        let material = open_revealing(&key, b"header", &mut buffer, &tag).unwrap();
        assert_eq!(&buffer, b"attack at dawn");
        assert!(material == RevealedMaterial::of_key(&key));
    }

    #[test]
    fn forged_ciphertext_from_revealed_material_decrypts_under_the_key() {
        let key = SecretKey::from_bytes([4; 32]);
        let mut buffer = b"I owe Mallory 10 euros".to_vec();
        let _tag = seal(&key, b"hdr", &mut buffer).unwrap();
        let material = RevealedMaterial::from_bytes(&RevealedMaterial::of_key(&key).to_bytes());
        // Forger: knows the plaintext, flips bits (CTR malleability), recomputes the tag.
        let wanted = b"I owe Mallory 99 euros";
        let forged: Vec<u8> = buffer
            .iter()
            .zip(b"I owe Mallory 10 euros".iter().zip(wanted.iter()))
            .map(|(c, (p, q))| c ^ p ^ q)
            .collect();
        let forged_tag = material.tag_for(b"hdr", &forged);
        let mut check = forged.clone();
        open(&key, b"hdr", &mut check, &forged_tag).unwrap();
        assert_eq!(&check, wanted);
    }

    #[test]
    fn revealed_material_is_not_keystream() {
        // The keystream starts at counter 2; H and E_K(J0) are counters "0" and 1. XORing the
        // ciphertext with them must not give back the plaintext.
        let key = SecretKey::from_bytes([5; 32]);
        let plaintext = [0x61u8; 32];
        let mut buffer = plaintext;
        seal(&key, b"", &mut buffer).unwrap();
        let material = RevealedMaterial::of_key(&key);
        for block in [material.ghash_key, material.tag_mask] {
            let guess: Vec<u8> = buffer[..16].iter().zip(block.iter()).map(|(c, k)| c ^ k).collect();
            assert_ne!(&guess[..], &plaintext[..16]);
        }
    }
}
