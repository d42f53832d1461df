//! Bytes <-> messages.
pub mod data_message;
