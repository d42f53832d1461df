//! The signed, encrypted and MACed block of the Reveal Signature and Signature messages
//! (v3 spec, "Reveal Signature Message" steps 3–5):
//!
//! ```text
//! M   = HMAC-SHA256_m1(MPI(own DH) ‖ MPI(peer DH) ‖ PUBKEY ‖ INT keyid)
//! X   = PUBKEY ‖ INT keyid ‖ SIG(M)                 (SIG: r ‖ s, 20 bytes each, over M mod q)
//! enc = AES-128-CTR_c(X), counter 0
//! MAC = HMAC-SHA256_m2(DATA(enc))[0..20]            (the DATA's length prefix included)
//! ```
//! The Reveal Signature uses c, m1, m2; the Signature c', m1', m2'.

use zeroize::Zeroizing;

use crate::otr::data::symmetric::{aes128_ctr, ct_eq, hmac_sha256};
use crate::otr::group::Element;
use crate::otr::identity::{DsaIdentity, DsaPublicKey, SIGNATURE_LEN};
use crate::otr::mpi;
use crate::wire::{Reader, Writer};

use super::AkeError;

/// The three keys one side's block uses.
pub(super) struct BlockKeys<'a> {
    pub(super) encryption: &'a [u8; 16],
    pub(super) signature_mac: &'a [u8; 32],
    pub(super) message_mac: &'a [u8; 32],
}

/// The MAC of an encrypted block: HMAC-SHA256 over DATA(enc), first 20 bytes.
pub(super) fn block_mac(message_mac: &[u8; 32], encrypted: &[u8]) -> [u8; 20] {
    let len = u32::try_from(encrypted.len()).unwrap_or(u32::MAX).to_be_bytes();
    let full = hmac_sha256(message_mac, &[&len, encrypted]);
    let mut mac = [0u8; 20];
    mac.copy_from_slice(full.get(..20).unwrap_or(&[0; 20]));
    mac
}

/// M = HMAC-SHA256_m1(MPI(signer DH) ‖ MPI(other DH) ‖ PUBKEY ‖ INT keyid).
fn signed_value(
    signature_mac: &[u8; 32],
    signer_dh: &Element,
    other_dh: &Element,
    public_key: &[u8],
    keyid: u32,
) -> [u8; 32] {
    hmac_sha256(
        signature_mac,
        &[
            &mpi::encode(&signer_dh.to_minimal_bytes()),
            &mpi::encode(&other_dh.to_minimal_bytes()),
            public_key,
            &keyid.to_be_bytes(),
        ],
    )
}

/// Our block: (encrypted X, MAC).
pub(super) fn build(
    identity: &DsaIdentity,
    our_dh: &Element,
    their_dh: &Element,
    keyid: u32,
    keys: &BlockKeys<'_>,
) -> Result<(Vec<u8>, [u8; 20]), AkeError> {
    let public_key = identity.public_key().to_bytes();
    let m = signed_value(keys.signature_mac, our_dh, their_dh, public_key, keyid);
    let signature = identity.sign(&m).map_err(|_| AkeError::Signing)?;
    let mut writer = Writer::with_capacity(public_key.len() + 4 + SIGNATURE_LEN);
    writer.bytes(public_key).u32(keyid).bytes(&signature);
    let mut encrypted = writer.into_vec();
    aes128_ctr(keys.encryption, &[0; 8], &mut encrypted);
    let mac = block_mac(keys.message_mac, &encrypted);
    Ok((encrypted, mac))
}

/// Checks the peer's block (MAC first, then decrypt, then the signature) and returns their
/// long-term key and the keyid of their DH key.
pub(super) fn check(
    encrypted: &[u8],
    mac: &[u8; 20],
    their_dh: &Element,
    our_dh: &Element,
    keys: &BlockKeys<'_>,
) -> Result<(DsaPublicKey, u32), AkeError> {
    if !ct_eq(&block_mac(keys.message_mac, encrypted), mac) {
        return Err(AkeError::BadMac);
    }
    let mut plain = Zeroizing::new(encrypted.to_vec());
    aes128_ctr(keys.encryption, &[0; 8], &mut plain);
    let mut reader = Reader::new(&plain);
    let start = reader.remaining();
    let public_key = DsaPublicKey::read(&mut reader).map_err(AkeError::BadPublicKey)?;
    let public_key_len = start - reader.remaining();
    // The bytes MACed into M are the PUBKEY exactly as received; with minimal MPIs enforced
    // they equal our re-encoding, but use the received ones (brief §1.14 item 2).
    let received_public_key = plain.get(..public_key_len).ok_or(AkeError::MalformedBlock)?;
    let keyid = reader.u32().map_err(|_| AkeError::MalformedBlock)?;
    if keyid == 0 {
        return Err(AkeError::MalformedBlock);
    }
    let signature = reader.rest();
    if signature.len() != SIGNATURE_LEN {
        return Err(AkeError::BadSignature);
    }
    let m = signed_value(keys.signature_mac, their_dh, our_dh, received_public_key, keyid);
    public_key.verify(&m, signature).map_err(|_| AkeError::BadSignature)?;
    Ok((public_key, keyid))
}
