//! OTR v3 and v2 compatibility (PROTOCOL.md part B): the protocol libotr, Pidgin, Adium,
//! irssi-otr, Jitsi and python-potr speak, beside offrec's own protocol. Its own codec, text
//! layer, AKE, key management, data path, SMP and DSA identity; the conversation layer reaches an
//! OTR session through the same session interface as a modern one.
//!
//! Nothing here is hand-rolled cryptography: big numbers come from crypto-bigint, DSA from the
//! `dsa` crate, hashes, HMAC and AES-CTR from RustCrypto.

pub mod ake;
pub mod data;
pub mod group;
pub mod identity;
pub mod kdf;
pub mod message;
pub mod mpi;
pub mod smp;
pub mod text;
pub mod tlv;
