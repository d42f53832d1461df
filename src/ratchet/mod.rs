//! The Double Ratchet (PROTOCOL.md §Ratchet): a fresh AES-256-GCM key for every message, a
//! Diffie-Hellman step every time the speaker changes, bounded tolerance for lost and reordered
//! messages, and OTR-style revealing of used keys' forgery material.
mod chain;
mod double_ratchet;
mod pending_reveals;
mod persist;
mod skipped_keys;

pub use double_ratchet::{Decrypted, DecryptedInPlace, Encrypted, Ratchet, RatchetError};
pub use pending_reveals::{MAX_INHERITED_REVEALS, MAX_PENDING_REVEALS};
pub use persist::max_state_len;
pub use skipped_keys::{MAX_SKIPPED_KEY_AGE_SECS, MAX_SKIPPED_KEY_DH_STEPS, MAX_STORED_SKIPPED_KEYS};

/// At most this many messages may be skipped in one chain by a single incoming message.
pub const MAX_SKIP: u32 = 1000;
