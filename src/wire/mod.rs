//! Bytes <-> messages.
