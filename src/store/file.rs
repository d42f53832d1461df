//! A store the library manages in a directory: one sealed file, replaced atomically.
//!
//! Saving writes a new file beside the old one (created 0600), fsyncs it, renames it over the
//! old one and fsyncs the directory, so a crash at any moment leaves either the old or the new
//! state, never a torn one. Loading never writes, creates or deletes anything, and reads only a
//! regular file (no symbolic link, FIFO or device) of bounded size.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::seal::{open, seal, StoreKey};
use super::state::{decode_client, encode_state};
use super::StoreError;
use crate::conversation::{Client, Settings};
use crate::crypto::{OsRandom, RandomSource};

/// The file name inside the store directory.
pub const STORE_FILE_NAME: &str = "offrec.store";
/// Largest store file we read (a store holding 1000 busy sessions is a few MiB).
pub const MAX_STORE_FILE_LEN: u64 = 256 * 1024 * 1024;
/// A save removes temporary files of killed writers once they are this old (seconds).
pub const STALE_TEMP_SECS: u64 = 600;

/// `client` if it belongs to `account`, else [`StoreError::WrongAccount`] (the client, holding
/// the other account's secrets, is dropped and zeroized).
pub(crate) fn check_account(client: Client, account: &str) -> Result<Client, StoreError> {
    if client.account() == account {
        Ok(client)
    } else {
        Err(StoreError::WrongAccount)
    }
}

/// A directory holding one client's sealed state.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Names the store directory `dir`. Nothing is created, read or deleted here: a missing
    /// directory is created (mode 0700) by the first [`save`](Self::save), and a load from it
    /// gives [`StoreError::NotFound`]. A path that exists and is not a directory is refused.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(StoreError::InvalidState("store path exists and is not a directory")),
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::io("inspect the store directory")(error)),
        }
        Ok(FileStore { dir })
    }

    /// Creates the directory (mode 0700) if it is missing; only a save does this.
    fn create_dir(&self) -> Result<(), StoreError> {
        match fs::metadata(&self.dir) {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(StoreError::InvalidState("store path exists and is not a directory")),
            Err(error) if error.kind() == ErrorKind::NotFound => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(StoreError::io("create the store directory")),
            Err(error) => Err(StoreError::io("inspect the store directory")(error)),
        }
    }

    /// Temporary files left by a writer that was killed mid-save are garbage: the rename never
    /// happened, so the store file itself is intact. Only a save removes them, and only those
    /// untouched for [`STALE_TEMP_SECS`], so a save running at the same time elsewhere keeps
    /// its own temporary file.
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        let prefix = format!(".{STORE_FILE_NAME}.");
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with(&prefix) && name.ends_with(".tmp")) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let age = meta.modified().ok().and_then(|modified| now.duration_since(modified).ok());
            if meta.is_file() && age.is_some_and(|age| age.as_secs() >= STALE_TEMP_SECS) {
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

    /// Seals and atomically replaces the stored state, creating the directory (0700) if it
    /// is missing and removing stale temporary files of killed writers. Once written, the
    /// client counts it as saved: its next change is reported by `PersistNeeded` again; a
    /// failed save leaves the notice pending.
    pub fn save(&self, client: &Client, key: &StoreKey) -> Result<(), StoreError> {
        let sealed = seal(&encode_state(client), key, &mut OsRandom)?;
        self.create_dir()?;
        self.remove_stale_temporaries();
        self.write_atomically(&sealed)?;
        client.mark_saved();
        Ok(())
    }

    /// Loads and opens the stored state, whatever account it belongs to: prefer
    /// [`load_account`](Self::load_account), which refuses another account's store.
    /// Never writes, creates or deletes anything.
    pub fn load(&self, key: &StoreKey, settings: Settings, rng: Box<dyn RandomSource>) -> Result<Client, StoreError> {
        let sealed = self.read()?;
        let state = open(&sealed, key)?;
        decode_client(&state, settings, rng)
    }

    /// As [`load`](Self::load), but the store must belong to `account` (compared byte for
    /// byte with the account name it was saved with), else [`StoreError::WrongAccount`]:
    /// swapped or copied store files are refused instead of silently becoming someone else.
    pub fn load_account(
        &self,
        account: &str,
        key: &StoreKey,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Client, StoreError> {
        let client = self.load(key, settings, rng)?;
        check_account(client, account)
    }

    /// Reads the store file without following a symbolic link and without blocking: only a
    /// regular file of at most [`MAX_STORE_FILE_LEN`] bytes is read, and the type and size are
    /// checked again on the opened handle (the path could be swapped between the two looks).
    fn read(&self) -> Result<Vec<u8>, StoreError> {
        let path = self.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(error) if error.kind() == ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(error) => return Err(StoreError::io("inspect the store file")(error)),
        };
        if meta.is_dir() {
            return Err(StoreError::IsADirectory);
        }
        if !meta.file_type().is_file() {
            return Err(StoreError::NotAFile);
        }
        if meta.len() > MAX_STORE_FILE_LEN {
            return Err(StoreError::InvalidState("store file larger than the limit"));
        }
        // O_NOFOLLOW: a symbolic link planted after the look above fails to open (ELOOP);
        // O_NONBLOCK: a FIFO planted there cannot block the open.
        let file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(error) if error.raw_os_error() == Some(libc::ELOOP) => return Err(StoreError::NotAFile),
            Err(error) => return Err(StoreError::io("open the store file")(error)),
        };
        let meta = file.metadata().map_err(StoreError::io("inspect the store file"))?;
        if meta.is_dir() {
            return Err(StoreError::IsADirectory);
        }
        if !meta.file_type().is_file() {
            return Err(StoreError::NotAFile);
        }
        if meta.len() > MAX_STORE_FILE_LEN {
            return Err(StoreError::InvalidState("store file larger than the limit"));
        }
        // Never trust the size alone (the file can grow while we read): read at most one byte
        // more than the cap and refuse if it is there.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(MAX_STORE_FILE_LEN + 1).read_to_end(&mut bytes).map_err(StoreError::io("read the store file"))?;
        if bytes.len() as u64 > MAX_STORE_FILE_LEN {
            return Err(StoreError::InvalidState("store file larger than the limit"));
        }
        Ok(bytes)
    }

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let target = self.path();
        if target.is_dir() {
            return Err(StoreError::IsADirectory);
        }
        let mut suffix = [0u8; 8];
        OsRandom.fill(&mut suffix)?;
        let temp = self
            .dir
            .join(format!(".{STORE_FILE_NAME}.{}.tmp", suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()));
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
