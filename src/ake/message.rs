//! Handshake message framing (PROTOCOL.md §AKE messages): our 11-byte header in front of the
//! Noise XX handshake message. The header is mixed into the Noise transcript hash before the
//! message's tokens, so the instance tags and the version cannot be altered in flight.
//!
//! ```text
//! VER(2) ‖ type(1: 0x21 | 0x22 | 0x23) ‖ sender tag(4) ‖ receiver tag(4) ‖ Noise message
//! ```

use crate::wire::{MSG_AKE1, MSG_AKE2, MSG_AKE3, PROTOCOL_VERSION};

/// Length of the framing header.
pub const AKE_HEADER_LEN: usize = 11;
/// Upper bound on any handshake message we accept (the real ones are < 200 bytes).
pub const MAX_AKE_MESSAGE_LEN: usize = 1024;

/// Which of the three handshake messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AkeKind {
    /// Initiator's ephemeral and offer.
    Start = MSG_AKE1,
    /// Responder's ephemeral, encrypted static key and versions.
    Reply = MSG_AKE2,
    /// Initiator's encrypted static key and first ratchet key.
    Finish = MSG_AKE3,
}

impl AkeKind {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            MSG_AKE1 => Some(Self::Start),
            MSG_AKE2 => Some(Self::Reply),
            MSG_AKE3 => Some(Self::Finish),
            _ => None,
        }
    }
}

/// A framed handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkeMessage {
    /// Which message.
    pub kind: AkeKind,
    /// The sender's instance tag.
    pub sender_tag: u32,
    /// The receiver's instance tag (0 only in `Start`, when the sender does not know it yet).
    pub receiver_tag: u32,
    /// The Noise handshake message.
    pub noise: Vec<u8>,
}

impl AkeMessage {
    /// The framing header bytes, which are also mixed into the transcript.
    pub fn header(&self) -> [u8; AKE_HEADER_LEN] {
        header_bytes(self.kind, self.sender_tag, self.receiver_tag)
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header().to_vec();
        out.extend_from_slice(&self.noise);
        out
    }

    /// Parses a framed handshake message; `None` if it is not one.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > MAX_AKE_MESSAGE_LEN {
            return None;
        }
        let header = bytes.get(..AKE_HEADER_LEN)?;
        if header[..2] != PROTOCOL_VERSION {
            return None;
        }
        let kind = AkeKind::from_byte(header[2])?;
        let sender_tag = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
        let receiver_tag = u32::from_be_bytes([header[7], header[8], header[9], header[10]]);
        Some(Self { kind, sender_tag, receiver_tag, noise: bytes[AKE_HEADER_LEN..].to_vec() })
    }
}

/// The header for the given fields.
pub fn header_bytes(kind: AkeKind, sender_tag: u32, receiver_tag: u32) -> [u8; AKE_HEADER_LEN] {
    let mut out = [0u8; AKE_HEADER_LEN];
    out[..2].copy_from_slice(&PROTOCOL_VERSION);
    out[2] = kind as u8;
    out[3..7].copy_from_slice(&sender_tag.to_be_bytes());
    out[7..].copy_from_slice(&receiver_tag.to_be_bytes());
    out
}

/// True if `bytes` starts like a handshake message (for classification before parsing).
pub fn is_ake_message(bytes: &[u8]) -> bool {
    bytes.get(..2) == Some(&PROTOCOL_VERSION[..]) && bytes.get(2).copied().and_then(AkeKind::from_byte).is_some()
}
