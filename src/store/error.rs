//! What can go wrong with a stored state. Every variant names the problem and what to do.

/// Why a store could not be saved or loaded. A failed load never changes the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No store exists yet at that place.
    #[error("no store found (nothing saved yet)")]
    NotFound,
    /// A directory is where the store file should be.
    #[error("the store path is a directory, not a file")]
    IsADirectory,
    /// The store path is not a regular file: a symbolic link, FIFO, device or socket. Nothing
    /// was read from it.
    #[error("the store path is not a regular file (symbolic link, FIFO, device or socket)")]
    NotAFile,
    /// The store opened with the key but belongs to another account (swapped or copied files).
    #[error("the store belongs to another account")]
    WrongAccount,
    /// The file is empty.
    #[error("the store file is empty")]
    Empty,
    /// The bytes are not an offrec store at all.
    #[error("not an offrec store (bad magic)")]
    NotAStore,
    /// Written by a newer offrec; upgrade to read it.
    #[error("store format version {0} is newer than this library understands")]
    UnsupportedVersion(u16),
    /// The store holds a section this library does not know and must not ignore (STORAGE.md
    /// §4.1): written by a newer offrec; upgrade to read it.
    #[error("the store holds section {0}, which this library does not understand (written by a newer offrec)")]
    UnsupportedSection(u16),
    /// The store holds trust entries of a key kind this library cannot keep (STORAGE.md §4.2):
    /// written by a newer offrec; upgrade to read it.
    #[error(
        "the store holds trust entries of key kind {0}, which this library cannot keep (written by a newer offrec)"
    )]
    UnsupportedKeyKind(u8),
    /// The file ends early (a partial copy?).
    #[error("the store is truncated")]
    Truncated,
    /// The key or passphrase does not open this store. In a version-2 store the header's
    /// checksum rules out damage first ([`StoreError::HeaderDamaged`]); a version-1 store
    /// cannot tell a wrong key apart from damage to its salt or key-check bytes (STORAGE.md §3).
    #[error(
        "wrong key or passphrase for this store (or, in a version-1 store, its salt or key-check bytes are damaged)"
    )]
    WrongKey,
    /// The header (KDF parameters, salt, key check, nonce or lengths) fails its checksum: the
    /// file is damaged, and no key was tried. Not a wrong key.
    #[error("the store's header is damaged (its checksum does not match); the key was not tried")]
    HeaderDamaged,
    /// The key is right but the contents fail authentication: the file was modified or damaged.
    #[error("the store is corrupted (authentication failed)")]
    Corrupted,
    /// The store asks for password-hashing parameters outside the accepted range.
    #[error("unacceptable key-derivation parameters in the store")]
    BadKdfParameters,
    /// The decrypted state is inconsistent; the text names the field.
    #[error("invalid state in store: {0}")]
    InvalidState(&'static str),
    /// An operating-system call failed.
    #[error("could not {operation}: {kind}")]
    Io {
        /// What we were doing.
        operation: &'static str,
        /// The OS error kind.
        kind: std::io::ErrorKind,
    },
    /// The random number generator failed.
    #[error("random number generator failed")]
    Random,
}

impl StoreError {
    pub(crate) fn io(operation: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
        move |error| StoreError::Io { operation, kind: error.kind() }
    }
}

impl From<crate::crypto::RandomError> for StoreError {
    fn from(_: crate::crypto::RandomError) -> Self {
        StoreError::Random
    }
}
