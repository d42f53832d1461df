//! Persistence: identities, trust and live sessions that survive restarts (STORAGE.md).
//!
//! Two ways to store: [`FileStore`] manages a directory itself; [`save_to_bytes`] /
//! [`load_from_bytes`] hand sealed bytes to applications that keep their own database. Both seal
//! with AES-256-GCM under the application's key or an Argon2id-stretched passphrase.
mod error;
mod file;
mod header;
mod seal;
mod state;

pub use error::StoreError;
pub use file::{FileStore, MAX_STORE_FILE_LEN, STALE_TEMP_SECS, STORE_FILE_NAME};
pub use header::SEAL_VERSION;
pub use seal::{open, seal, StoreKey, ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST};
pub use state::{decode_client, encode_client, MAX_STORED_PEERS, STATE_VERSION};

use crate::conversation::{Client, Settings};
use crate::crypto::{OsRandom, RandomSource};

/// The client's state, sealed under `key`, for the application to keep. Once sealed, the
/// client counts it as saved: its next change is reported by `PersistNeeded` again (a failed
/// save leaves the notice pending). If keeping the bytes fails, save again.
pub fn save_to_bytes(client: &Client, key: &StoreKey) -> Result<Vec<u8>, StoreError> {
    let sealed = seal(&state::encode_state(client), key, &mut OsRandom)?;
    client.mark_saved();
    Ok(sealed)
}

/// A client from bytes made by [`save_to_bytes`].
pub fn load_from_bytes(
    sealed: &[u8],
    key: &StoreKey,
    settings: Settings,
    rng: Box<dyn RandomSource>,
) -> Result<Client, StoreError> {
    decode_client(&open(sealed, key)?, settings, rng)
}

/// As [`load_from_bytes`], but the store must belong to `account` (byte for byte the account
/// name it was saved with), else [`StoreError::WrongAccount`]: another account's store is
/// refused, not silently loaded.
pub fn load_account_from_bytes(
    sealed: &[u8],
    account: &str,
    key: &StoreKey,
    settings: Settings,
    rng: Box<dyn RandomSource>,
) -> Result<Client, StoreError> {
    file::check_account(load_from_bytes(sealed, key, settings, rng)?, account)
}
