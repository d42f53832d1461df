//! The conversation manager: what a chat program drives. It turns "send this to bob" and
//! "this arrived from bob" into protocol actions, and reports what happened as typed actions
//! and events (PROTOCOL.md §Conversation).
//!
//! Sans-I/O: no call performs I/O, sleeps or starts a thread; time comes in as `now`
//! (seconds, from any monotonic or wall clock the application likes).
mod app_tlv;
mod client;
mod context;
mod delivered_text;
mod error;
mod events;
mod held;
mod names;
mod otr_session;
mod peer;
mod peer_directory;
pub(crate) mod peer_policies;
pub(crate) mod persist;
pub(crate) mod policy;
mod presence;
mod protocol;
mod session;
mod settings;
mod spare_buffers;
mod texts;

pub use crate::wire::unreadable_report::UNREADABLE_ERROR_TEXT;
pub use app_tlv::{AppTlv, APP_TLV_FIRST, MAX_APP_TLVS, MAX_APP_TLV_BYTES};
pub use client::Client;
pub use delivered_text::DeliveredText;
pub(crate) use delivered_text::SpareText;
pub use error::ClientError;
pub use events::{
    Action, Event, MessageId, NotSentReason, PeerName, Security, SessionState, PERSIST_HELD_MESSAGES, PERSIST_OTHER,
    PERSIST_SENT_LOG, PERSIST_SESSIONS, PERSIST_TRUST,
};
pub use names::{normalise_name, normalise_protocol, phi, NameBinding};
pub use peer::handshake::{
    handshake_failure_code, HANDSHAKE_NAMES_DIFFER, HANDSHAKE_UNSENDABLE, NAMES_DIFFER_ERROR_TEXT,
};
pub use peer::otr::HANDSHAKE_OTR_FAILED;
pub use peer_directory::KnownKeyInfo;
pub use peer_policies::MAX_PEER_POLICIES;
pub use policy::Policy;
pub use protocol::Protocol;
pub use session::{OtrSessionInfo, SessionInfo};
pub use settings::*;
pub use texts::{check_text, TextKind, Texts, MAX_CUSTOM_TEXT_LEN};
