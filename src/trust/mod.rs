//! Who the peers are: fingerprints in a form people can compare, and what the user has decided
//! to trust.
pub mod fingerprint;
pub mod key_kind;
pub mod pins;
pub mod store;

pub use fingerprint::{format_fingerprint, format_ssid};
pub use key_kind::{otr_fingerprint, otr_key_id, KeyKind, OTR_KEY_ID_PREFIX};
pub use pins::{KeyLink, PeerPins, ProtocolPins, MAX_LINKS_PER_PEER, MAX_PINNED_PEERS};
pub use store::{KnownKey, Observation, Trust, TrustStore, MAX_KEYS_PER_PEER};
