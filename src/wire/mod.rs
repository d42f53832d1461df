//! Bytes <-> messages.
//!
//! Everything an attacker can send arrives here first, as text, so every parser in this module
//! is strict, allocation-bounded and panic-free. Nothing here knows about keys or state: the
//! layers above decide what a message *means*.

pub mod armour;
pub mod base64;
pub mod classify;
pub mod codec;
pub mod data_message;
pub mod error;
pub mod error_message;
pub mod fragment;
pub mod instance_tag;
pub mod query;
pub mod tlv;
pub mod unreadable_report;
pub mod versions;
pub mod whitespace;

pub use armour::MAX_ENCODED_LEN;
pub use classify::{classify, Incoming, OtrKind};
pub use codec::{Reader, Writer};
pub use error::WireError;
pub use fragment::{parse_fragment, split, Fragment, Reassembler, MAX_FRAGMENTS};
pub use instance_tag::InstanceTag;
pub use query::{encode_query, parse_query, DEFAULT_QUERY_TEXT};
pub use tlv::{
    decode_body, decode_body_behind, decode_body_in_place, decode_body_in_place_at, encode_body, encode_body_into,
    encoded_body_len, Body, Tlv, TlvType,
};
pub use versions::Versions;

/// Every offrec message starts with this (or contains it, for queries). It deliberately differs
/// from OTR's `?OTR` so that OTR libraries ignore our traffic and we ignore theirs.
pub const MARKER: &str = "?OFR";

/// The version field of every binary message: `O` and protocol version 1.
pub const PROTOCOL_VERSION: [u8; 2] = [0x4F, 0x01];

/// Message type byte: AKE message 1 (the initiator's ephemeral key).
pub const MSG_AKE1: u8 = 0x21;
/// Message type byte: AKE message 2.
pub const MSG_AKE2: u8 = 0x22;
/// Message type byte: AKE message 3.
pub const MSG_AKE3: u8 = 0x23;
/// Message type byte: an encrypted data message.
pub const MSG_DATA: u8 = 0x03;
