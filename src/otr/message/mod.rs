//! OTR v3 and v2 binary messages (the bytes inside `?OTR:…​.`): the header every message starts
//! with, the four AKE messages and the data message. Parsers are strict — exact field lengths,
//! no trailing bytes, every count and length capped — and never look at keys or state: the AKE
//! and the data path decide what a message means.

mod ake;
mod data;
mod header;

pub use ake::{DhCommit, DhKey, RevealSignature, Signature, MAX_ENCRYPTED_GX_LEN, MAX_ENCRYPTED_SIGNATURE_LEN};
pub use data::{
    DataMessage, DataMessageFields, DataMessageView, DataPrefix, MAX_CIPHERTEXT_LEN, MAX_REVEALED_MAC_KEYS,
};
pub use header::{parse_header, Header};

use crate::wire::WireError;

use super::group::GroupError;

/// The OTR protocol versions offrec speaks. Version 1 is never spoken; version 4 is someone
/// else's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OtrVersion {
    /// OTR v2: no instance tags (python-potr, Go x/crypto/otr).
    V2,
    /// OTR v3: instance tags in every message.
    V3,
}

impl OtrVersion {
    /// The two version bytes at the start of every message.
    pub const fn wire(self) -> u16 {
        match self {
            OtrVersion::V2 => 2,
            OtrVersion::V3 => 3,
        }
    }

    /// The version a message's first two bytes name, if we speak it.
    pub const fn from_wire(value: u16) -> Option<OtrVersion> {
        match value {
            2 => Some(OtrVersion::V2),
            3 => Some(OtrVersion::V3),
            _ => None,
        }
    }
}

/// The message type byte after the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// D-H Commit: the initiator's encrypted g^x and its hash.
    DhCommit,
    /// D-H Key: the responder's g^y.
    DhKey,
    /// Reveal Signature: r, and the initiator's encrypted, MACed signature.
    RevealSignature,
    /// Signature: the responder's encrypted, MACed signature.
    Signature,
    /// An encrypted data message.
    Data,
}

impl MessageType {
    /// The type byte.
    pub const fn wire(self) -> u8 {
        match self {
            MessageType::DhCommit => 0x02,
            MessageType::DhKey => 0x0a,
            MessageType::RevealSignature => 0x11,
            MessageType::Signature => 0x12,
            MessageType::Data => 0x03,
        }
    }

    /// The type a byte names, if it is one of OTR's.
    pub const fn from_wire(value: u8) -> Option<MessageType> {
        match value {
            0x02 => Some(MessageType::DhCommit),
            0x0a => Some(MessageType::DhKey),
            0x11 => Some(MessageType::RevealSignature),
            0x12 => Some(MessageType::Signature),
            0x03 => Some(MessageType::Data),
            _ => None,
        }
    }
}

/// Data message flag: the receiver should not complain if it cannot read the message
/// (heartbeats, SMP, disconnects).
pub const FLAG_IGNORE_UNREADABLE: u8 = 0x01;

/// Why bytes are not a well-formed OTR message. Each variant names the problem without echoing
/// the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A field ran past the end, or bytes were left over.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The version bytes name a protocol we do not speak (v1, v4, anything else).
    #[error("unsupported OTR protocol version")]
    UnsupportedVersion,
    /// The type byte is not one of OTR's.
    #[error("unknown OTR message type")]
    UnknownType,
    /// The message is of another type than the parser expected.
    #[error("unexpected OTR message type")]
    WrongType,
    /// A v3 sender instance tag below 0x100 (the spec calls the message malformed).
    #[error("sender instance tag below 0x100")]
    BadSenderTag,
    /// A v3 receiver instance tag in 1..0x100 (reserved values; 0 means "any").
    #[error("reserved receiver instance tag")]
    BadReceiverTag,
    /// A field whose length is fixed by the protocol had another length.
    #[error("field has the wrong length: {0}")]
    BadLength(&'static str),
    /// A field longer than anything an honest peer sends.
    #[error("field too long: {0}")]
    TooLong(&'static str),
    /// A group element outside the range or subgroup we accept.
    #[error("bad group element: {0}")]
    Group(#[from] GroupError),
}

impl From<super::mpi::MpiError> for MessageError {
    fn from(error: super::mpi::MpiError) -> Self {
        match error {
            super::mpi::MpiError::Wire(wire) => MessageError::Wire(wire),
            super::mpi::MpiError::Group(group) => MessageError::Group(group),
        }
    }
}
