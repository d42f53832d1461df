//! The four AKE messages (OTR v3 spec, "Authenticated Key Exchange"): D-H Commit, D-H Key,
//! Reveal Signature and Signature, as fields. What the fields mean cryptographically is the
//! AKE's business (`otr::ake`).

use crate::otr::group::Element;
use crate::otr::mpi;
use crate::wire::{Reader, Writer};

use super::{Header, MessageError, MessageType};

/// The longest encrypted g^x accepted: one MPI of at most [`mpi::MAX_MPI_LEN`] bytes.
pub const MAX_ENCRYPTED_GX_LEN: usize = 4 + mpi::MAX_MPI_LEN;
/// The longest encrypted signature block accepted. A DSA-1024 PUBKEY with minimal MPIs, a keyid
/// and a 40-byte signature take under 470 bytes.
pub const MAX_ENCRYPTED_SIGNATURE_LEN: usize = 1024;
/// The length of the hash of g^x, and of r.
const HASH_LEN: usize = 32;
const R_LEN: usize = 16;
/// MACs in the AKE are HMAC-SHA256 truncated to 20 bytes.
const MAC_LEN: usize = 20;

/// D-H Commit: `DATA(AES-CTR_r(MPI(g^x))) ‖ DATA(SHA-256(MPI(g^x)))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhCommit {
    /// Version, type, tags.
    pub header: Header,
    /// MPI(g^x) encrypted under r.
    pub encrypted_gx: Vec<u8>,
    /// SHA-256 of the plaintext MPI(g^x).
    pub hashed_gx: [u8; HASH_LEN],
}

/// D-H Key: `MPI(g^y)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhKey {
    /// Version, type, tags.
    pub header: Header,
    /// The responder's DH public value, range- and subgroup-checked.
    pub gy: Element,
}

/// Reveal Signature: `DATA(r) ‖ DATA(encrypted signature) ‖ MAC(20)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealSignature {
    /// Version, type, tags.
    pub header: Header,
    /// The key that decrypts the committed g^x.
    pub r: [u8; R_LEN],
    /// AES-CTR_c(PUBKEY ‖ keyid ‖ SIG).
    pub encrypted_signature: Vec<u8>,
    /// HMAC-SHA256_m2(DATA(encrypted_signature)), first 20 bytes.
    pub mac: [u8; MAC_LEN],
}

/// Signature: `DATA(encrypted signature) ‖ MAC(20)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Version, type, tags.
    pub header: Header,
    /// AES-CTR_c'(PUBKEY ‖ keyid ‖ SIG).
    pub encrypted_signature: Vec<u8>,
    /// HMAC-SHA256_m2'(DATA(encrypted_signature)), first 20 bytes.
    pub mac: [u8; MAC_LEN],
}

fn writer_for(header: &Header, body_len: usize) -> Writer {
    let mut writer = Writer::with_capacity(header.encoded_len() + body_len);
    header.write(&mut writer);
    writer
}

/// A DATA field of bounded length (the length is checked before anything is copied).
fn read_bounded<'a>(reader: &mut Reader<'a>, max: usize, name: &'static str) -> Result<&'a [u8], MessageError> {
    let field = reader.data()?;
    if field.len() > max {
        return Err(MessageError::TooLong(name));
    }
    Ok(field)
}

/// A DATA field whose length is fixed by the protocol.
fn read_exact<const N: usize>(reader: &mut Reader<'_>, name: &'static str) -> Result<[u8; N], MessageError> {
    let field = reader.data()?;
    <[u8; N]>::try_from(field).map_err(|_| MessageError::BadLength(name))
}

/// Writes a DATA field whose length our own code bounds (an AKE field, never near 4 GiB).
fn write_data(writer: &mut Writer, bytes: &[u8]) {
    writer.u32(u32::try_from(bytes.len()).unwrap_or(u32::MAX)).bytes(bytes);
}

impl DhCommit {
    /// Parses a whole D-H Commit message.
    pub fn parse(bytes: &[u8]) -> Result<DhCommit, MessageError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read_expecting(&mut reader, MessageType::DhCommit)?;
        let encrypted_gx = read_bounded(&mut reader, MAX_ENCRYPTED_GX_LEN, "encrypted g^x")?.to_vec();
        let hashed_gx = read_exact::<HASH_LEN>(&mut reader, "hash of g^x")?;
        reader.finish()?;
        Ok(DhCommit { header, encrypted_gx, hashed_gx })
    }

    /// The message's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = writer_for(&self.header, 8 + self.encrypted_gx.len() + HASH_LEN);
        write_data(&mut writer, &self.encrypted_gx);
        write_data(&mut writer, &self.hashed_gx);
        writer.into_vec()
    }
}

impl DhKey {
    /// Parses a whole D-H Key message; g^y must be in [2, p-2] and in the subgroup.
    pub fn parse(bytes: &[u8]) -> Result<DhKey, MessageError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read_expecting(&mut reader, MessageType::DhKey)?;
        let gy = mpi::read_element(&mut reader)?;
        reader.finish()?;
        Ok(DhKey { header, gy })
    }

    /// The message's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = writer_for(&self.header, 4 + crate::otr::group::ELEMENT_LEN);
        mpi::write_element(&mut writer, &self.gy);
        writer.into_vec()
    }
}

impl RevealSignature {
    /// Parses a whole Reveal Signature message (r must be 16 bytes, the MAC 20).
    pub fn parse(bytes: &[u8]) -> Result<RevealSignature, MessageError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read_expecting(&mut reader, MessageType::RevealSignature)?;
        let r = read_exact::<R_LEN>(&mut reader, "r")?;
        let encrypted_signature =
            read_bounded(&mut reader, MAX_ENCRYPTED_SIGNATURE_LEN, "encrypted signature")?.to_vec();
        let mac = reader.array::<MAC_LEN>()?;
        reader.finish()?;
        Ok(RevealSignature { header, r, encrypted_signature, mac })
    }

    /// The message's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = writer_for(&self.header, 8 + R_LEN + self.encrypted_signature.len() + MAC_LEN);
        write_data(&mut writer, &self.r);
        write_data(&mut writer, &self.encrypted_signature);
        writer.bytes(&self.mac);
        writer.into_vec()
    }
}

impl Signature {
    /// Parses a whole Signature message (the MAC must be 20 bytes).
    pub fn parse(bytes: &[u8]) -> Result<Signature, MessageError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read_expecting(&mut reader, MessageType::Signature)?;
        let encrypted_signature =
            read_bounded(&mut reader, MAX_ENCRYPTED_SIGNATURE_LEN, "encrypted signature")?.to_vec();
        let mac = reader.array::<MAC_LEN>()?;
        reader.finish()?;
        Ok(Signature { header, encrypted_signature, mac })
    }

    /// The message's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = writer_for(&self.header, 4 + self.encrypted_signature.len() + MAC_LEN);
        write_data(&mut writer, &self.encrypted_signature);
        writer.bytes(&self.mac);
        writer.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::message::OtrVersion;
    use crate::wire::{InstanceTag, WireError};

    fn header(message_type: MessageType) -> Header {
        Header::new(OtrVersion::V3, message_type, InstanceTag(0x101), InstanceTag(0x202))
    }

    #[test]
    fn commit_round_trips_and_checks_lengths() {
        let commit = DhCommit { header: header(MessageType::DhCommit), encrypted_gx: vec![7; 196], hashed_gx: [9; 32] };
        let bytes = commit.to_bytes();
        assert_eq!(bytes.len(), 11 + 4 + 196 + 4 + 32);
        assert_eq!(DhCommit::parse(&bytes).unwrap(), commit);

        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(DhCommit::parse(&trailing), Err(MessageError::Wire(WireError::TrailingBytes)));

        let short_hash = DhCommit { hashed_gx: [0; 32], ..commit.clone() }.to_bytes();
        let mut bad = short_hash[..short_hash.len() - 36].to_vec();
        bad.extend_from_slice(&[0, 0, 0, 31]);
        bad.extend_from_slice(&[0; 31]);
        assert_eq!(DhCommit::parse(&bad), Err(MessageError::BadLength("hash of g^x")));

        let long = DhCommit { encrypted_gx: vec![1; MAX_ENCRYPTED_GX_LEN + 1], ..commit }.to_bytes();
        assert_eq!(DhCommit::parse(&long), Err(MessageError::TooLong("encrypted g^x")));
        assert_eq!(DhCommit::parse(&[0, 3]), Err(MessageError::Wire(WireError::Truncated)));
    }

    #[test]
    fn dh_key_checks_the_element() {
        let gy = Element::from_be_bytes(&[4]).unwrap();
        let key = DhKey { header: header(MessageType::DhKey), gy };
        let bytes = key.to_bytes();
        assert_eq!(DhKey::parse(&bytes).unwrap(), key);
        let mut one = bytes[..11].to_vec();
        one.extend_from_slice(&[0, 0, 0, 1, 1]);
        assert!(matches!(DhKey::parse(&one), Err(MessageError::Group(_))));
        assert_eq!(DhKey::parse(&[0, 3, 0x02, 0, 0, 1, 1, 0, 0, 2, 2]), Err(MessageError::WrongType));
    }

    #[test]
    fn reveal_and_signature_round_trip_with_exact_lengths() {
        let reveal = RevealSignature {
            header: header(MessageType::RevealSignature),
            r: [1; 16],
            encrypted_signature: vec![2; 466],
            mac: [3; 20],
        };
        let bytes = reveal.to_bytes();
        assert_eq!(bytes.capacity(), bytes.len(), "built in one allocation of exactly its size");
        assert_eq!(RevealSignature::parse(&bytes).unwrap(), reveal);
        let mut short_mac = bytes.clone();
        short_mac.pop();
        assert_eq!(RevealSignature::parse(&short_mac), Err(MessageError::Wire(WireError::Truncated)));
        let mut r15 = bytes[..11].to_vec();
        r15.extend_from_slice(&[0, 0, 0, 15]);
        r15.extend_from_slice(&bytes[15 + 1..]);
        assert_eq!(RevealSignature::parse(&r15), Err(MessageError::BadLength("r")));

        let signature =
            Signature { header: header(MessageType::Signature), encrypted_signature: vec![4; 400], mac: [5; 20] };
        let bytes = signature.to_bytes();
        assert_eq!(Signature::parse(&bytes).unwrap(), signature);
        let too_long = Signature { encrypted_signature: vec![0; MAX_ENCRYPTED_SIGNATURE_LEN + 1], ..signature };
        assert_eq!(Signature::parse(&too_long.to_bytes()), Err(MessageError::TooLong("encrypted signature")));
    }
}
