//! The sealed file's header (STORAGE.md §2): what it holds in each seal version, and how it is
//! checked before any key is tried.
//!
//! ```text
//! version 1:  "OFRSTORE" ‖ u16 1 ‖ kdf u8 ‖ m u32 ‖ t u32 ‖ p u32 ‖ salt(16) ‖ check(16) ‖ nonce(12)
//! version 2:  the same fields with version 2 ‖ u64 ciphertext length ‖ checksum(16)
//! ```
//! Version 2's checksum (the first 16 bytes of SHA-256 over every header byte before it) is
//! unkeyed redundancy: it tells damage to the salt, KDF parameters or key check apart from a
//! wrong key, which version 1 cannot. The ciphertext length tells a truncated file apart from
//! a modified one. The whole header stays the AES-GCM associated data.

use sha2::{Digest, Sha256};

use super::StoreError;

/// The first bytes of every sealed store.
pub(super) const MAGIC: &[u8; 8] = b"OFRSTORE";
/// The sealed-file format version written by this library.
pub const SEAL_VERSION: u16 = 2;
/// The GCM tag after the ciphertext.
pub(super) const TAG_LEN: usize = 16;
/// Where the fields both versions share end (the nonce's end).
const V1_HEADER_LEN: usize = 8 + 2 + 1 + 12 + 16 + 16 + 12;
/// Where version 2's checksum starts: after the ciphertext length.
const V2_CHECKSUM_AT: usize = V1_HEADER_LEN + 8;
const CHECKSUM_LEN: usize = 16;
const V2_HEADER_LEN: usize = V2_CHECKSUM_AT + CHECKSUM_LEN;

/// How the master key is derived: kind 0 is a raw key (the costs are zero), kind 1 Argon2id.
pub(super) struct KdfParams {
    pub(super) kind: u8,
    pub(super) m_cost: u32,
    pub(super) t_cost: u32,
    pub(super) p_cost: u32,
}

/// A parsed header, and where the ciphertext it describes lies.
pub(super) struct Header {
    pub(super) kdf: KdfParams,
    pub(super) salt: [u8; 16],
    pub(super) check: [u8; 16],
    pub(super) nonce: [u8; 12],
    /// The header's length: the GCM associated data is `sealed[..len]`.
    pub(super) len: usize,
    /// The ciphertext's length (without the tag).
    pub(super) ciphertext_len: usize,
}

fn checksum(header: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(header);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(field) = bytes.get(at..at + N) {
        out.copy_from_slice(field);
    }
    out
}

/// Appends a version-2 header for a ciphertext of `ciphertext_len` bytes.
pub(super) fn write(
    out: &mut Vec<u8>,
    kdf: &KdfParams,
    salt: &[u8; 16],
    check: &[u8; 16],
    nonce: &[u8; 12],
    ciphertext_len: usize,
) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SEAL_VERSION.to_be_bytes());
    out.push(kdf.kind);
    for value in [kdf.m_cost, kdf.t_cost, kdf.p_cost] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(salt);
    out.extend_from_slice(check);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&(ciphertext_len as u64).to_be_bytes());
    let sum = checksum(&out[start..]);
    out.extend_from_slice(&sum);
}

/// The header of `sealed`, checked as far as it can be without a key: magic, version, length,
/// and (version 2) the checksum and the ciphertext length. The KDF kind is checked too; the
/// KDF costs are checked against our bounds when the key is derived.
pub(super) fn parse(sealed: &[u8]) -> Result<Header, StoreError> {
    if sealed.is_empty() {
        return Err(StoreError::Empty);
    }
    let Some(magic) = sealed.get(..MAGIC.len()) else {
        // A few bytes that begin like a store are a cut-off store, anything else is not one.
        return Err(if MAGIC.starts_with(sealed) { StoreError::Truncated } else { StoreError::NotAStore });
    };
    if magic != MAGIC {
        return Err(StoreError::NotAStore);
    }
    let version = u16::from_be_bytes(array(sealed, 8));
    // The version decides the layout, so nothing after it can be checked for another one: an
    // unknown number is a newer format (or a damaged version field, which cannot be told apart).
    let len = match version {
        1 => V1_HEADER_LEN,
        2 => V2_HEADER_LEN,
        _ if sealed.len() < 10 => return Err(StoreError::Truncated),
        _ => return Err(StoreError::UnsupportedVersion(version)),
    };
    if sealed.len() < len + TAG_LEN {
        return Err(StoreError::Truncated);
    }
    let ciphertext_len = if version == 1 {
        sealed.len() - len - TAG_LEN
    } else {
        if checksum(&sealed[..V2_CHECKSUM_AT]) != array::<CHECKSUM_LEN>(sealed, V2_CHECKSUM_AT) {
            return Err(StoreError::HeaderDamaged);
        }
        let stated = u64::from_be_bytes(array(sealed, V1_HEADER_LEN));
        let present = (sealed.len() - len - TAG_LEN) as u64;
        if stated > present {
            return Err(StoreError::Truncated);
        }
        if stated < present {
            // Bytes after the tag: the file was modified, or two files run together.
            return Err(StoreError::Corrupted);
        }
        sealed.len() - len - TAG_LEN
    };
    let u32_at = |at: usize| u32::from_be_bytes(array(sealed, at));
    let kdf = KdfParams { kind: sealed[10], m_cost: u32_at(11), t_cost: u32_at(15), p_cost: u32_at(19) };
    if kdf.kind > 1 {
        return Err(StoreError::BadKdfParameters);
    }
    Ok(Header { kdf, salt: array(sealed, 23), check: array(sealed, 39), nonce: array(sealed, 55), len, ciphertext_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ciphertext: &[u8]) -> Vec<u8> {
        let kdf = KdfParams { kind: 1, m_cost: 8, t_cost: 1, p_cost: 1 };
        let mut out = Vec::new();
        write(&mut out, &kdf, &[1; 16], &[2; 16], &[3; 12], ciphertext.len());
        out.extend_from_slice(ciphertext);
        out.extend_from_slice(&[4; TAG_LEN]);
        out
    }

    #[test]
    fn a_written_header_parses_back() {
        let sealed = sample(b"ciphertext");
        assert_eq!(sealed.len(), 91 + 10 + 16, "STORAGE.md §2: a 91-byte version-2 header");
        let header = parse(&sealed).unwrap();
        assert_eq!((header.len, header.ciphertext_len), (91, 10));
        assert_eq!((header.kdf.kind, header.kdf.m_cost, header.kdf.t_cost, header.kdf.p_cost), (1, 8, 1, 1));
        assert_eq!((header.salt, header.check, header.nonce), ([1; 16], [2; 16], [3; 12]));
        // An empty plaintext seals to a header and a tag alone, and that is a whole file.
        let empty = parse(&sample(b"")).unwrap();
        assert_eq!((empty.len, empty.ciphertext_len), (91, 0));
    }

    #[test]
    fn damage_after_the_version_is_found_by_the_checksum() {
        let sealed = sample(b"ciphertext");
        for at in 10..91 {
            let mut damaged = sealed.clone();
            damaged[at] ^= 0x08;
            assert_eq!(parse(&damaged).err(), Some(StoreError::HeaderDamaged), "byte {at}");
        }
    }

    #[test]
    fn a_cut_or_lengthened_file_is_told_apart() {
        let sealed = sample(b"ciphertext");
        for cut in 1..sealed.len() {
            let error = parse(&sealed[..cut]).err();
            assert_eq!(error, Some(StoreError::Truncated), "cut at {cut}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(parse(&longer).err(), Some(StoreError::Corrupted));
        assert_eq!(parse(b"OFRSTAT").err(), Some(StoreError::NotAStore));
    }

    /// An unknown version is reported as soon as its two bytes are there, even with nothing
    /// after them: a newer library's file, not a cut-off one.
    #[test]
    fn an_unknown_version_is_named_from_its_two_bytes() {
        assert_eq!(parse(b"OFRSTORE\x00\x03").err(), Some(StoreError::UnsupportedVersion(3)));
        assert_eq!(parse(b"OFRSTORE\x00").err(), Some(StoreError::Truncated));
        let mut newer = sample(b"ciphertext");
        newer[9] = 9;
        assert_eq!(parse(&newer).err(), Some(StoreError::UnsupportedVersion(9)));
    }
}
