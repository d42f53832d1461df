//! A store the library manages in a directory: one sealed file, replaced atomically.
//!
//! Saving writes a new file beside the old one (created 0600), fsyncs it, renames it over the
//! old one and fsyncs the directory, so a crash at any moment leaves either the old or the new
//! state, never a torn one. Loading never writes.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::seal::{open, seal, StoreKey};
use super::state::{decode_client, encode_client};
use super::StoreError;
use crate::conversation::{Client, Settings};
use crate::crypto::{OsRandom, RandomSource};

/// The file name inside the store directory.
pub const STORE_FILE_NAME: &str = "offrec.store";
/// Largest store file we read (a store holding 1000 busy sessions is a few MiB).
pub const MAX_STORE_FILE_LEN: u64 = 256 * 1024 * 1024;

/// A directory holding one client's sealed state.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Uses `dir`, creating it (mode 0700) if it does not exist.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(StoreError::InvalidState("store path exists and is not a directory")),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(StoreError::io("create the store directory"))?;
            }
            Err(error) => return Err(StoreError::io("inspect the store directory")(error)),
        }
        let store = FileStore { dir };
        store.remove_stale_temporaries();
        Ok(store)
    }

    /// Temporary files left by a writer that was killed mid-save are garbage: the rename never
    /// happened, so the store file itself is intact.
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        let prefix = format!(".{STORE_FILE_NAME}.");
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The store file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(STORE_FILE_NAME)
    }

    /// Whether something has been saved.
    pub fn exists(&self) -> bool {
        self.path().is_file()
    }

    /// Seals and atomically replaces the stored state.
    pub fn save(&self, client: &Client, key: &StoreKey) -> Result<(), StoreError> {
        let sealed = seal(&encode_client(client), key, &mut OsRandom)?;
        self.write_atomically(&sealed)
    }

    /// Loads and opens the stored state.
    pub fn load(&self, key: &StoreKey, settings: Settings, rng: Box<dyn RandomSource>) -> Result<Client, StoreError> {
        let sealed = self.read()?;
        let state = open(&sealed, key)?;
        decode_client(&state, settings, rng)
    }

    fn read(&self) -> Result<Vec<u8>, StoreError> {
        let path = self.path();
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(error) if error.kind() == ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(error) => return Err(StoreError::io("inspect the store file")(error)),
        };
        if meta.is_dir() {
            return Err(StoreError::IsADirectory);
        }
        if meta.len() > MAX_STORE_FILE_LEN {
            return Err(StoreError::InvalidState("store file larger than the limit"));
        }
        fs::read(&path).map_err(StoreError::io("read the store file"))
    }

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let target = self.path();
        if target.is_dir() {
            return Err(StoreError::IsADirectory);
        }
        let mut suffix = [0u8; 8];
        OsRandom.fill(&mut suffix)?;
        let temp = self.dir.join(format!(".{STORE_FILE_NAME}.{}.tmp", suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)
                .map_err(StoreError::io("create a temporary store file"))?;
            file.write_all(bytes).map_err(StoreError::io("write the store file"))?;
            file.sync_all().map_err(StoreError::io("flush the store file"))?;
            fs::rename(&temp, &target).map_err(StoreError::io("replace the store file"))?;
            File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(StoreError::io("flush the store directory"))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}
