//! Encryption at rest (STORAGE.md §2, §3). AES-256-GCM under a key derived from the
//! application's 32-byte key, or from a passphrase through Argon2id. A short key-check value
//! tells "wrong key" apart from "corrupted file"; the header's layout and its checksum are in
//! `header.rs`. Writes seal version 2; reads versions 1 and 2.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::header::{self, KdfParams, TAG_LEN};
use super::StoreError;
use crate::crypto::kdf::hkdf;
use crate::crypto::RandomSource;

/// Argon2id parameters for passphrases (OWASP's second recommendation: 19 MiB, 2 passes).
pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;
// A store file is input: refuse parameters that would let it exhaust memory or time.
const MAX_M_COST_KIB: u32 = 1 << 18; // 256 MiB, 13x what we write
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

/// The secret that opens a store.
pub enum StoreKey {
    /// A 32-byte key the application manages (e.g. from the OS keyring).
    Raw(Zeroizing<[u8; 32]>),
    /// A passphrase, stretched with Argon2id.
    Passphrase(Zeroizing<String>),
}

impl core::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            StoreKey::Raw(_) => "StoreKey::Raw(..)",
            StoreKey::Passphrase(_) => "StoreKey::Passphrase(..)",
        })
    }
}

fn master_key(key: &StoreKey, params: &KdfParams, salt: &[u8; 16]) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    match (key, params.kind) {
        (StoreKey::Raw(raw), 0) => Ok(Zeroizing::new(**raw)),
        (StoreKey::Passphrase(passphrase), 1) => {
            if params.m_cost > MAX_M_COST_KIB || params.t_cost > MAX_T_COST || params.p_cost > MAX_P_COST {
                return Err(StoreError::BadKdfParameters);
            }
            let argon_params = argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
                .map_err(|_| StoreError::BadKdfParameters)?;
            let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
            let mut out = Zeroizing::new([0u8; 32]);
            argon
                .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
                .map_err(|_| StoreError::BadKdfParameters)?;
            Ok(out)
        }
        // A passphrase for a raw-key store or the other way round.
        _ => Err(StoreError::WrongKey),
    }
}

fn derived(master: &[u8; 32], salt: &[u8; 16]) -> (Zeroizing<[u8; 32]>, [u8; 16]) {
    let key = Zeroizing::new(hkdf::<32>(salt, master, &[b"offrec1 store key"]));
    let check = hkdf::<16>(salt, master, &[b"offrec1 store check"]);
    (key, check)
}

/// Encrypts `plaintext` for storage, in seal version 2.
pub fn seal(plaintext: &[u8], key: &StoreKey, rng: &mut dyn RandomSource) -> Result<Vec<u8>, StoreError> {
    let params = match key {
        StoreKey::Raw(_) => KdfParams { kind: 0, m_cost: 0, t_cost: 0, p_cost: 0 },
        StoreKey::Passphrase(_) => {
            KdfParams { kind: 1, m_cost: ARGON2_M_COST_KIB, t_cost: ARGON2_T_COST, p_cost: ARGON2_P_COST }
        }
    };
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill(&mut salt)?;
    rng.fill(&mut nonce)?;
    let master = master_key(key, &params, &salt)?;
    let (enc_key, check) = derived(&master, &salt);

    // Wiped if sealing fails: it holds the plaintext until it is encrypted in place.
    let mut out = Zeroizing::new(Vec::with_capacity(128 + plaintext.len() + TAG_LEN));
    header::write(&mut out, &params, &salt, &check, &nonce, plaintext.len());
    let header_len = out.len();
    // Encrypted in place in the output: the plaintext is never copied anywhere else.
    out.extend_from_slice(plaintext);
    let (header_bytes, body) = out.split_at_mut(header_len);
    let cipher = Aes256Gcm::new((&*enc_key).into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), header_bytes, body.into())
        .map_err(|_| StoreError::InvalidState("state too large to seal"))?;
    out.extend_from_slice(&tag);
    Ok(core::mem::take(&mut *out))
}

/// Decrypts a sealed store of either version, telling apart every way it can be wrong.
pub fn open(sealed: &[u8], key: &StoreKey) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let header = header::parse(sealed)?;
    let master = master_key(key, &header.kdf, &header.salt)?;
    let (enc_key, check) = derived(&master, &header.salt);
    if !bool::from(check.ct_eq(&header.check)) {
        return Err(StoreError::WrongKey);
    }
    let body_end = header.len + header.ciphertext_len;
    let (Some(associated), Some(ciphertext), Some(tag)) =
        (sealed.get(..header.len), sealed.get(header.len..body_end), sealed.get(body_end..))
    else {
        return Err(StoreError::Truncated);
    };
    let tag = Tag::try_from(tag).map_err(|_| StoreError::Truncated)?;
    let mut body = Zeroizing::new(ciphertext.to_vec());
    let cipher = Aes256Gcm::new((&*enc_key).into());
    cipher
        .decrypt_inout_detached(&Nonce::from(header.nonce), associated, body.as_mut_slice().into(), &tag)
        .map_err(|_| StoreError::Corrupted)?;
    Ok(body)
}
