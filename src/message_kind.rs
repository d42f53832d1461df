//! What a line of text is, for applications that keep protocol noise out of their logs or
//! decide what to show without a client (C: `offrec_classify`). It uses the same classification
//! the client uses on every incoming message (`wire::classify`, `otr::text::classify`, with OTR
//! spoken), then looks one step deeper to name the kind of an encoded message. Nothing is
//! decrypted and nothing is authenticated: the answer says what the text looks like.

use crate::ake::message::is_ake_message;
use crate::otr::message::{parse_header, MessageType};
use crate::otr::text::{self, Classified, OtrIncoming};
use crate::wire::data_message::DataMessage;
use crate::wire::{armour, parse_fragment, Incoming};

/// The kind of a message (the C API's `offrec_message_kind`; stable numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MessageKind {
    /// Ordinary text with no protocol marker or tag: show it.
    Plaintext = 1,
    /// An offrec query (`?OFRv1?`; also a combined `?OTRv3? ?OFRv1?` query, which offrec
    /// answers in its own protocol).
    OffrecQuery = 2,
    /// Text for the user carrying offrec's whitespace tag (perhaps OTR's too): show it with the
    /// tag removed.
    OffrecTagged = 3,
    /// An offrec handshake message (`?OFR:` Start, Reply or Finish).
    OffrecKeyExchange = 4,
    /// An offrec data message (`?OFR:`, encrypted).
    OffrecData = 5,
    /// An offrec error message (`?OFR Error:`).
    OffrecError = 6,
    /// A fragment of an offrec message (`?OFR|`).
    OffrecFragment = 7,
    /// An OTR query (`?OTRv23?`, `?OTR?`).
    OtrQuery = 8,
    /// Text for the user carrying OTR's whitespace tag only.
    OtrTagged = 9,
    /// OTR AKE: D-H Commit.
    OtrDhCommit = 10,
    /// OTR AKE: D-H Key.
    OtrDhKey = 11,
    /// OTR AKE: Reveal Signature.
    OtrRevealSignature = 12,
    /// OTR AKE: Signature.
    OtrSignature = 13,
    /// An OTR data message (v3 or v2, encrypted).
    OtrData = 14,
    /// An OTR error message (`?OTR Error:`).
    OtrError = 15,
    /// A fragment of an OTR v3 or v2 message (`?OTR|`, `?OTR,`).
    OtrFragment = 16,
    /// OTR traffic of a version offrec never speaks: OTR v1, OTRv4, or an encoded message of
    /// an unknown version.
    OtrForeign = 17,
    /// Looks like an offrec or OTR encoded message or fragment, but does not decode.
    Malformed = 18,
}

impl MessageKind {
    /// Every kind, in code order.
    pub const ALL: [MessageKind; 18] = [
        MessageKind::Plaintext,
        MessageKind::OffrecQuery,
        MessageKind::OffrecTagged,
        MessageKind::OffrecKeyExchange,
        MessageKind::OffrecData,
        MessageKind::OffrecError,
        MessageKind::OffrecFragment,
        MessageKind::OtrQuery,
        MessageKind::OtrTagged,
        MessageKind::OtrDhCommit,
        MessageKind::OtrDhKey,
        MessageKind::OtrRevealSignature,
        MessageKind::OtrSignature,
        MessageKind::OtrData,
        MessageKind::OtrError,
        MessageKind::OtrFragment,
        MessageKind::OtrForeign,
        MessageKind::Malformed,
    ];

    /// Whether the text is meant for a person (plaintext, possibly tagged): everything else is
    /// protocol traffic.
    pub fn is_for_people(self) -> bool {
        matches!(self, MessageKind::Plaintext | MessageKind::OffrecTagged | MessageKind::OtrTagged)
    }
}

/// What `message` is; see [`MessageKind`].
pub fn message_kind(message: &str) -> MessageKind {
    match text::classify(message, true) {
        Classified::Modern(incoming) => modern_kind(incoming),
        Classified::Otr(otr) => otr_kind(otr),
    }
}

fn modern_kind(incoming: Incoming<'_>) -> MessageKind {
    match incoming {
        Incoming::Encoded(message) => match armour::decode(message) {
            Ok(bytes) if is_ake_message(&bytes) => MessageKind::OffrecKeyExchange,
            Ok(bytes) if DataMessage::parse(&bytes).is_ok() => MessageKind::OffrecData,
            _ => MessageKind::Malformed,
        },
        Incoming::Fragment(message) => match parse_fragment(message) {
            Ok(_) => MessageKind::OffrecFragment,
            Err(_) => MessageKind::Malformed,
        },
        Incoming::Error(_) => MessageKind::OffrecError,
        Incoming::Query(_) => MessageKind::OffrecQuery,
        // Unreachable with OTR spoken (`otr::text::classify` returns OTR's own kinds for every
        // message with an OTR marker or tag); kept total rather than guessed at.
        Incoming::ForeignOtr(_) => MessageKind::OtrForeign,
        Incoming::Plaintext { tag: Some(_), .. } => MessageKind::OffrecTagged,
        Incoming::Plaintext { tag: None, .. } => MessageKind::Plaintext,
    }
}

fn otr_kind(otr: OtrIncoming<'_>) -> MessageKind {
    match otr {
        OtrIncoming::Fragment { .. } => MessageKind::OtrFragment,
        // The prefix's version and the header's are the same two bytes.
        OtrIncoming::Encoded { message, .. } => {
            let Ok(bytes) = text::armour::decode(message) else { return MessageKind::Malformed };
            match parse_header(&bytes) {
                Ok(header) => match header.message_type {
                    MessageType::DhCommit => MessageKind::OtrDhCommit,
                    MessageType::DhKey => MessageKind::OtrDhKey,
                    MessageType::RevealSignature => MessageKind::OtrRevealSignature,
                    MessageType::Signature => MessageKind::OtrSignature,
                    MessageType::Data => MessageKind::OtrData,
                },
                Err(_) => MessageKind::Malformed,
            }
        }
        OtrIncoming::Error(_) => MessageKind::OtrError,
        OtrIncoming::Query { modern: Some(_), .. } => MessageKind::OffrecQuery,
        OtrIncoming::Query { modern: None, .. } => MessageKind::OtrQuery,
        OtrIncoming::Plaintext { modern: Some(_), .. } => MessageKind::OffrecTagged,
        OtrIncoming::Plaintext { otr: Some(_), .. } => MessageKind::OtrTagged,
        OtrIncoming::Plaintext { .. } => MessageKind::Plaintext,
        OtrIncoming::Foreign(_) => MessageKind::OtrForeign,
    }
}
