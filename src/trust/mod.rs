//! Who the peers are: fingerprints in a form people can compare, and what the user has decided
//! to trust.
pub mod fingerprint;
pub mod store;

pub use fingerprint::{format_fingerprint, format_ssid};
pub use store::{KnownKey, Observation, Trust, TrustStore, MAX_KEYS_PER_PEER};
