//! offrec: an Off-the-Record messaging engine.
//!
//! The engine gives two people encrypted, mutually authenticated, forward-secret and deniable
//! conversations over any text transport. See `PROTOCOL.md` for the wire protocol and
//! `SECURITY.md` for the threat model.
//!
//! Layers, with data flowing one way:
//! `wire` (bytes <-> messages) → `ake` / `ratchet` / `smp` (protocol state) → `conversation`
//! (what an app drives) → `ffi` (the C ABI, and the one outgoing foreign call: the only place
//! with `unsafe`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![deny(unsafe_code)]

pub mod ake;
pub mod conversation;
pub mod crypto;
pub mod forge;
pub mod message_kind;
pub mod migrate;
pub mod otr;
// The C ABI and the simdutf calls: the only module allowed `unsafe` (see its docs).
#[allow(unsafe_code)]
pub mod ffi;
pub mod ratchet;
pub mod smp;
pub mod store;
pub mod trust;
pub mod wire;
