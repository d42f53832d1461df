//! The data message layout (PROTOCOL.md §Data message).
//!
//! ```text
//! VER(2) ‖ 0x03 ‖ sender tag(4) ‖ receiver tag(4) ‖ flags(1) ‖ ratchet key(32) ‖ PN(4) ‖ N(4)
//! ‖ reveal count(1) ‖ revealed(32 × count) ‖ ciphertext ‖ tag(16)
//! ```
//! Everything before the ciphertext is the header, and the header bytes are the AEAD's
//! associated data, so no header field can be changed without breaking the tag.

use crate::crypto::aead::{REVEALED_LEN, TAG_LEN};

pub use super::{MSG_DATA as DATA_MESSAGE_TYPE, PROTOCOL_VERSION};
/// Flag: the receiver should not complain if it cannot read this message (heartbeats).
pub const FLAG_IGNORE_UNREADABLE: u8 = 0x01;
/// At most this many revealed keys ride on one message (the count is one byte).
pub const MAX_REVEALS_PER_MESSAGE: usize = 255;
/// Header length without the revealed material.
pub const FIXED_HEADER_LEN: usize = 2 + 1 + 4 + 4 + 1 + 32 + 4 + 4 + 1;

/// Length of a data message carrying `reveals` revealed keys and a body of `body_len` bytes
/// (the ciphertext is as long as the body).
pub fn encoded_len(reveals: usize, body_len: usize) -> usize {
    FIXED_HEADER_LEN + REVEALED_LEN * reveals + body_len + TAG_LEN
}

/// A data message's header fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataHeader {
    /// The sender's instance tag.
    pub sender_tag: u32,
    /// The receiver's instance tag.
    pub receiver_tag: u32,
    /// Flags ([`FLAG_IGNORE_UNREADABLE`]).
    pub flags: u8,
    /// The sender's current ratchet public key.
    pub ratchet_key: [u8; 32],
    /// Messages in the sender's previous sending chain.
    pub previous_chain_length: u32,
    /// This message's number in the current sending chain.
    pub message_number: u32,
    /// Deniability material for keys the sender received and discarded.
    pub revealed: Vec<[u8; REVEALED_LEN]>,
}

impl DataHeader {
    /// The header bytes (also the associated data).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Length of the header bytes.
    pub fn encoded_len(&self) -> usize {
        FIXED_HEADER_LEN + self.revealed.len().min(MAX_REVEALS_PER_MESSAGE) * REVEALED_LEN
    }

    /// Appends the header bytes to `out` (a sender builds the whole message in one buffer).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let count = self.revealed.len().min(MAX_REVEALS_PER_MESSAGE);
        out.extend_from_slice(&PROTOCOL_VERSION);
        out.push(DATA_MESSAGE_TYPE);
        out.extend_from_slice(&self.sender_tag.to_be_bytes());
        out.extend_from_slice(&self.receiver_tag.to_be_bytes());
        out.push(self.flags);
        out.extend_from_slice(&self.ratchet_key);
        out.extend_from_slice(&self.previous_chain_length.to_be_bytes());
        out.extend_from_slice(&self.message_number.to_be_bytes());
        out.push(count as u8);
        for material in self.revealed.iter().take(count) {
            out.extend_from_slice(material);
        }
    }
}

/// A parsed data message, keeping the exact header bytes for authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataMessage {
    /// The parsed header.
    pub header: DataHeader,
    /// The header exactly as received.
    pub header_bytes: Vec<u8>,
    /// The encrypted body.
    pub ciphertext: Vec<u8>,
    /// The GCM tag.
    pub tag: [u8; TAG_LEN],
}

/// Why a data message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataMessageError {
    /// Shorter than its fixed fields.
    #[error("data message truncated")]
    Truncated,
    /// Not version 1 of this protocol.
    #[error("unknown protocol version")]
    UnknownVersion,
    /// Not a data message.
    #[error("not a data message")]
    WrongType,
}

impl DataMessage {
    /// Builds the wire bytes from header bytes, ciphertext and tag.
    pub fn assemble(header_bytes: &[u8], ciphertext: &[u8], tag: &[u8; TAG_LEN]) -> Vec<u8> {
        let mut out = Vec::with_capacity(header_bytes.len() + ciphertext.len() + TAG_LEN);
        out.extend_from_slice(header_bytes);
        out.extend_from_slice(ciphertext);
        out.extend_from_slice(tag);
        out
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        Self::assemble(&self.header_bytes, &self.ciphertext, &self.tag)
    }

    /// Parses wire bytes; every length is checked against what is actually there.
    pub fn parse(bytes: &[u8]) -> Result<Self, DataMessageError> {
        let (header, header_len, tag) = Self::parse_header(bytes)?;
        Ok(Self {
            header,
            header_bytes: bytes[..header_len].to_vec(),
            ciphertext: bytes[header_len..bytes.len() - TAG_LEN].to_vec(),
            tag,
        })
    }

    /// As [`DataMessage::parse`], taking the buffer: nothing is copied or moved, the header
    /// bytes and the ciphertext stay where base64 decoded them ([`OwnedDataMessage`]). On error
    /// the buffer is dropped.
    pub fn parse_owned(mut bytes: Vec<u8>) -> Result<OwnedDataMessage, DataMessageError> {
        let (header, header_len, tag) = Self::parse_header(&bytes)?;
        // Checked by `parse_header`: header and tag fit, so this only shortens the length.
        bytes.truncate(bytes.len().saturating_sub(TAG_LEN));
        Ok(OwnedDataMessage { header, bytes, header_len, tag })
    }

    /// The header, its length and the tag; checks that header and tag fit in `bytes`.
    fn parse_header(bytes: &[u8]) -> Result<(DataHeader, usize, [u8; TAG_LEN]), DataMessageError> {
        let fixed = bytes.get(..FIXED_HEADER_LEN).ok_or(DataMessageError::Truncated)?;
        if fixed[..2] != PROTOCOL_VERSION {
            return Err(DataMessageError::UnknownVersion);
        }
        if fixed[2] != DATA_MESSAGE_TYPE {
            return Err(DataMessageError::WrongType);
        }
        let u32_at = |at: usize| u32::from_be_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]]);
        let mut ratchet_key = [0u8; 32];
        ratchet_key.copy_from_slice(&fixed[12..44]);
        let count = usize::from(fixed[FIXED_HEADER_LEN - 1]);
        let header_len = FIXED_HEADER_LEN + count * REVEALED_LEN;
        let body_end = bytes.len().checked_sub(TAG_LEN).ok_or(DataMessageError::Truncated)?;
        if body_end < header_len {
            return Err(DataMessageError::Truncated);
        }
        let revealed = bytes[FIXED_HEADER_LEN..header_len]
            .chunks_exact(REVEALED_LEN)
            .map(|chunk| {
                let mut material = [0u8; REVEALED_LEN];
                material.copy_from_slice(chunk);
                material
            })
            .collect();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&bytes[body_end..]);
        let header = DataHeader {
            sender_tag: u32_at(3),
            receiver_tag: u32_at(7),
            flags: fixed[11],
            ratchet_key,
            previous_chain_length: u32_at(44),
            message_number: u32_at(48),
            revealed,
        };
        Ok((header, header_len, tag))
    }
}

/// A received data message kept in the buffer base64 decoded it into: the header is parsed,
/// its bytes and the ciphertext are ranges of that one buffer (the tag, 16 bytes, is copied
/// out). Reading a message therefore copies nothing: the ciphertext is decrypted where it lies
/// ([`crate::ratchet::Ratchet::decrypt_in_place`]) and the text is delivered where it lies in
/// the same buffer ([`OwnedDataMessage::take_buffer`] and [`crate::wire::decode_body_behind`]).
/// Made by [`DataMessage::parse_owned`], which
/// rejects exactly what [`DataMessage::parse`] rejects.
///
/// Once decrypted the buffer holds plaintext: `Debug` shows the header and lengths only, and
/// whoever decrypts it wipes the buffer.
// No `PartialEq`: once decrypted the buffer is plaintext, compared by nobody.
pub struct OwnedDataMessage {
    /// The parsed header.
    pub header: DataHeader,
    /// Header bytes ‖ ciphertext (the tag cut off).
    bytes: Vec<u8>,
    /// Where the ciphertext starts; never past `bytes.len()`.
    header_len: usize,
    tag: [u8; TAG_LEN],
}

impl OwnedDataMessage {
    /// The header exactly as received (the associated data).
    pub fn header_bytes(&self) -> &[u8] {
        self.bytes.get(..self.header_len).unwrap_or_default()
    }

    /// The encrypted body (the plaintext once decrypted in place).
    pub fn ciphertext(&self) -> &[u8] {
        self.bytes.get(self.header_len..).unwrap_or_default()
    }

    /// The GCM tag.
    pub fn tag(&self) -> &[u8; TAG_LEN] {
        &self.tag
    }

    /// The header, the header bytes, the ciphertext (writable, to decrypt it in place) and the
    /// tag, borrowed together.
    pub fn parts_mut(&mut self) -> (&DataHeader, &[u8], &mut [u8], &[u8; TAG_LEN]) {
        let (header_bytes, ciphertext) = self.bytes.split_at_mut_checked(self.header_len).unwrap_or_default();
        (&self.header, header_bytes, ciphertext, &self.tag)
    }

    /// Takes the buffer (header bytes ‖ ciphertext, the plaintext once decrypted in place) and
    /// where the body starts in it, leaving this message empty.
    pub fn take_buffer(&mut self) -> (Vec<u8>, usize) {
        let start = std::mem::replace(&mut self.header_len, 0);
        (std::mem::take(&mut self.bytes), start)
    }

    /// The copying form, for tools that keep or change a message.
    pub fn to_message(&self) -> DataMessage {
        DataMessage {
            header: self.header.clone(),
            header_bytes: self.header_bytes().to_vec(),
            ciphertext: self.ciphertext().to_vec(),
            tag: self.tag,
        }
    }
}

impl core::fmt::Debug for OwnedDataMessage {
    // Decrypted in place, the buffer is plaintext.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OwnedDataMessage")
            .field("header", &self.header)
            .field("header_len", &self.header_len)
            .field("body_len", &self.ciphertext().len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let header = DataHeader {
            sender_tag: 0x1234_5678,
            receiver_tag: 0x9abc_def0,
            flags: FLAG_IGNORE_UNREADABLE,
            ratchet_key: [7; 32],
            previous_chain_length: 3,
            message_number: 9,
            revealed: vec![[1; 32], [2; 32]],
        };
        DataMessage::assemble(&header.encode(), b"ciphertext", &[0xEE; 16])
    }

    #[test]
    fn encoded_len_counts_header_reveals_ciphertext_and_tag() {
        assert_eq!(sample().len(), encoded_len(2, b"ciphertext".len()));
    }

    #[test]
    fn parse_round_trip() {
        let bytes = sample();
        let message = DataMessage::parse(&bytes).unwrap();
        assert_eq!(message.header.sender_tag, 0x1234_5678);
        assert_eq!(message.header.revealed, vec![[1; 32], [2; 32]]);
        assert_eq!(message.ciphertext, b"ciphertext");
        assert_eq!(message.to_bytes(), bytes);
    }

    #[test]
    fn parse_owned_agrees_with_parse_on_every_cut_and_every_reveal_count() {
        let bytes = sample();
        let owned = |b: &[u8]| DataMessage::parse_owned(b.to_vec()).map(|m| m.to_message());
        for cut in 0..=bytes.len() {
            assert_eq!(owned(&bytes[..cut]), DataMessage::parse(&bytes[..cut]), "cut {cut}");
        }
        // A reveal count that claims more (or fewer) reveals than are there, every value.
        for count in 0..=255u8 {
            let mut lying = bytes.clone();
            lying[FIXED_HEADER_LEN - 1] = count;
            assert_eq!(owned(&lying), DataMessage::parse(&lying), "count {count}");
        }
        // Version and type bytes.
        for (at, value) in [(0, 0u8), (1, 2), (2, 0x21)] {
            let mut wrong = bytes.clone();
            wrong[at] = value;
            assert_eq!(owned(&wrong), DataMessage::parse(&wrong), "byte {at}");
            assert!(owned(&wrong).is_err());
        }
    }

    #[test]
    fn an_owned_message_addresses_its_parts_in_the_buffer() {
        let bytes = sample();
        let parsed = DataMessage::parse(&bytes).unwrap();
        let mut owned = DataMessage::parse_owned(bytes.clone()).unwrap();
        assert_eq!(owned.header_bytes(), &parsed.header_bytes[..]);
        assert_eq!(owned.ciphertext(), b"ciphertext");
        assert_eq!(owned.tag(), &[0xEE; 16]);
        let (header, header_bytes, ciphertext, tag) = owned.parts_mut();
        assert_eq!(
            (header, header_bytes, &ciphertext[..], tag),
            (&parsed.header, &parsed.header_bytes[..], &b"ciphertext"[..], &[0xEE; 16])
        );
        ciphertext[0] = b'C';
        let (buffer, start) = owned.take_buffer();
        assert_eq!(start, parsed.header_bytes.len());
        assert_eq!(&buffer[..start], &parsed.header_bytes[..]);
        assert_eq!(&buffer[start..], b"Ciphertext", "written in place, the tag cut off");
        assert!(owned.header_bytes().is_empty() && owned.ciphertext().is_empty());
        // An empty body (header and tag only) is a message too.
        let empty = DataMessage::assemble(&parsed.header_bytes, b"", &[1; 16]);
        let owned = DataMessage::parse_owned(empty).unwrap();
        assert!(owned.ciphertext().is_empty());
        let debug = format!("{owned:?}");
        assert_eq!(
            debug,
            format!("OwnedDataMessage {{ header: {:?}, header_len: {start}, body_len: 0, .. }}", parsed.header)
        );
    }

    #[test]
    fn header_encoded_len_is_its_length() {
        let header = DataMessage::parse(&sample()).unwrap().header;
        assert_eq!(header.encoded_len(), header.encode().len());
        assert_eq!(header.encode(), DataMessage::parse(&sample()).unwrap().header_bytes);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample();
        let ciphertext_start = FIXED_HEADER_LEN + 64;
        for cut in 0..bytes.len() {
            let result = DataMessage::parse(&bytes[..cut]);
            // Cutting into the ciphertext still parses (with a shorter ciphertext, failing the
            // tag later); cutting into the header or tag region must not.
            if cut < ciphertext_start + TAG_LEN {
                assert!(result.is_err(), "cut at {cut} parsed");
            }
        }
    }

    #[test]
    fn wrong_version_or_type_rejected() {
        let mut bytes = sample();
        bytes[0] = 0;
        assert_eq!(DataMessage::parse(&bytes), Err(DataMessageError::UnknownVersion));
        let mut bytes = sample();
        bytes[2] = 0x21;
        assert_eq!(DataMessage::parse(&bytes), Err(DataMessageError::WrongType));
    }

    #[test]
    fn reveal_count_past_the_end_is_truncated() {
        let mut bytes = sample();
        bytes[FIXED_HEADER_LEN - 1] = 255;
        assert_eq!(DataMessage::parse(&bytes), Err(DataMessageError::Truncated));
    }
}
