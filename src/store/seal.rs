//! Encryption at rest (STORAGE.md §Sealed file). AES-256-GCM under a key derived from the
//! application's 32-byte key, or from a passphrase through Argon2id. A short key-check value
//! tells "wrong key" apart from "corrupted file".
//!
//! ```text
//! "OFRSTORE" ‖ version u16 ‖ kdf u8 ‖ m_cost u32 ‖ t_cost u32 ‖ p_cost u32 ‖ salt(16)
//! ‖ key check(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16)
//! ```
//! Everything before the ciphertext is the associated data.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::StoreError;
use crate::crypto::kdf::hkdf;
use crate::crypto::RandomSource;

const MAGIC: &[u8; 8] = b"OFRSTORE";
/// The sealed-file format version written by this library.
pub const SEAL_VERSION: u16 = 1;
const HEADER_LEN: usize = 8 + 2 + 1 + 12 + 16 + 16 + 12;
const TAG_LEN: usize = 16;

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

struct KdfParams {
    kind: u8,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
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

/// Encrypts `plaintext` for storage.
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

    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SEAL_VERSION.to_be_bytes());
    out.push(params.kind);
    for value in [params.m_cost, params.t_cost, params.p_cost] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(&salt);
    out.extend_from_slice(&check);
    out.extend_from_slice(&nonce);
    let header = out.clone();
    let mut body = Zeroizing::new(plaintext.to_vec());
    let cipher = Aes256Gcm::new((&*enc_key).into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), &header, body.as_mut_slice().into())
        .map_err(|_| StoreError::InvalidState("state too large to seal"))?;
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts a sealed store, telling apart every way it can be wrong.
pub fn open(sealed: &[u8], key: &StoreKey) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if sealed.is_empty() {
        return Err(StoreError::Empty);
    }
    if sealed.len() < MAGIC.len() || &sealed[..MAGIC.len()] != MAGIC {
        return Err(StoreError::NotAStore);
    }
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(StoreError::Truncated);
    }
    let version = u16::from_be_bytes([sealed[8], sealed[9]]);
    if version != SEAL_VERSION {
        return Err(StoreError::UnsupportedVersion(version));
    }
    let u32_at = |at: usize| u32::from_be_bytes([sealed[at], sealed[at + 1], sealed[at + 2], sealed[at + 3]]);
    let params = KdfParams { kind: sealed[10], m_cost: u32_at(11), t_cost: u32_at(15), p_cost: u32_at(19) };
    if params.kind > 1 {
        return Err(StoreError::BadKdfParameters);
    }
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&sealed[23..39]);
    let stored_check = &sealed[39..55];
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&sealed[55..67]);
    let master = master_key(key, &params, &salt)?;
    let (enc_key, check) = derived(&master, &salt);
    if !bool::from(check.ct_eq(stored_check)) {
        return Err(StoreError::WrongKey);
    }
    let body_end = sealed.len() - TAG_LEN;
    let mut body = Zeroizing::new(sealed[HEADER_LEN..body_end].to_vec());
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&sealed[body_end..]);
    let cipher = Aes256Gcm::new((&*enc_key).into());
    cipher
        .decrypt_inout_detached(&Nonce::from(nonce), &sealed[..HEADER_LEN], body.as_mut_slice().into(), &Tag::from(tag))
        .map_err(|_| StoreError::Corrupted)?;
    Ok(body)
}
