//! A client's whole state as bytes (STORAGE.md §4): the outer format only (magic and version),
//! around the conversation layer's own state (`conversation/persist.rs`: identity, instance
//! tag, trust store, every stored session, and the messages still waiting for encryption, as
//! tagged sections). Writes version 2; reads versions 1 and 2.

use zeroize::Zeroizing;

use super::StoreError;
use crate::conversation::persist::StateError;
use crate::conversation::{Client, Settings};
use crate::crypto::RandomSource;
use crate::wire::{Reader, WireError, Writer};

pub use crate::conversation::persist::MAX_STORED_PEERS;

const MAGIC: &[u8; 8] = b"OFRSTATE";
/// The state format version written by this library.
pub const STATE_VERSION: u16 = 2;

fn truncated(error: WireError) -> StoreError {
    state_error(error.into())
}

fn state_error(error: StateError) -> StoreError {
    match error {
        StateError::Truncated => StoreError::Truncated,
        StateError::Invalid(what) => StoreError::InvalidState(what),
        StateError::UnsupportedSection(tag) => StoreError::UnsupportedSection(tag),
        StateError::UnsupportedKeyKind(kind) => StoreError::UnsupportedKeyKind(kind),
    }
}

/// Serialises everything worth keeping. The result holds secrets: seal it before storing.
///
/// This counts as a save: the client's next change is reported by `PersistNeeded` again
/// (STORAGE.md §1, "When to save"). Prefer `save_to_bytes` or `FileStore::save`, which count
/// only once sealed (and written).
pub fn encode_client(client: &Client) -> Zeroizing<Vec<u8>> {
    let state = encode_state(client);
    client.mark_saved();
    state
}

/// [`encode_client`] without counting as a save: for the save paths, which count once sealed
/// (and written).
pub(super) fn encode_state(client: &Client) -> Zeroizing<Vec<u8>> {
    let mut w = Writer::with_capacity(client.max_state_len());
    w.bytes(MAGIC).u16(STATE_VERSION);
    client.write_state(&mut w);
    w.into_zeroizing()
}

/// Rebuilds a client from [`encode_client`]'s bytes (state version 2) or from a version-1 state,
/// with the application's current settings and random source. Every count is checked against
/// the live caps.
pub fn decode_client(bytes: &[u8], settings: Settings, rng: Box<dyn RandomSource>) -> Result<Client, StoreError> {
    let mut r = Reader::new(bytes);
    if r.bytes(MAGIC.len()).map_err(truncated)? != MAGIC {
        return Err(StoreError::InvalidState("state magic"));
    }
    match r.u16().map_err(truncated)? {
        1 => Client::read_state_v1(r, settings, rng),
        2 => Client::read_state(r, settings, rng),
        version => return Err(StoreError::UnsupportedVersion(version)),
    }
    .map_err(state_error)
}
