//! Files for import and export. Reads take only a regular file (a FIFO or device cannot block
//! or feed us forever) of bounded size, checked on the opened handle. Writes are atomic: a new
//! file beside the target, created 0600 (it may hold a private key), flushed, renamed over the
//! target, and the directory flushed, so a crash leaves the old file or the new one.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::crypto::{OsRandom, RandomSource};

use super::fingerprints::MAX_FINGERPRINTS_FILE_LEN;
use super::instance_tags::MAX_INSTANCE_TAGS_FILE_LEN;
use super::libotr_key::MAX_KEY_FILE_LEN;
use super::potr::MAX_KEY3_LEN;
use super::MigrateError;

/// The kinds of file, each with its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// libotr's `otr.private_key`.
    LibotrKey,
    /// potr's `.key3`.
    PotrKey,
    /// `otr.fingerprints` or potr's `.fpr`.
    Fingerprints,
    /// `otr.instance_tags`.
    InstanceTags,
}

impl FileKind {
    /// The largest file of this kind read.
    pub fn limit(self) -> usize {
        match self {
            FileKind::LibotrKey => MAX_KEY_FILE_LEN,
            FileKind::PotrKey => MAX_KEY3_LEN,
            FileKind::Fingerprints => MAX_FINGERPRINTS_FILE_LEN,
            FileKind::InstanceTags => MAX_INSTANCE_TAGS_FILE_LEN,
        }
    }

    /// What it is called in messages.
    pub fn what(self) -> &'static str {
        match self {
            FileKind::LibotrKey => "key file",
            FileKind::PotrKey => "potr key file",
            FileKind::Fingerprints => "fingerprints file",
            FileKind::InstanceTags => "instance tags file",
        }
    }
}

fn io_error<'a>(operation: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> MigrateError + 'a {
    move |error| MigrateError::Io {
        operation,
        path: path.display().to_string(),
        kind: error.kind(),
        message: error.to_string(),
    }
}

fn not_a_file(path: &Path) -> MigrateError {
    MigrateError::Io {
        operation: "read",
        path: path.display().to_string(),
        kind: ErrorKind::InvalidInput,
        message: "not a regular file".to_owned(),
    }
}

/// Reads a file of `kind` (wiped on drop: it may hold a private key).
pub fn read_file(path: &Path, kind: FileKind) -> Result<Zeroizing<Vec<u8>>, MigrateError> {
    // O_NONBLOCK: opening a FIFO planted at the path cannot block.
    let file =
        OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(io_error("read", path))?;
    let meta = file.metadata().map_err(io_error("read", path))?;
    if !meta.is_file() {
        return Err(not_a_file(path));
    }
    let limit = kind.limit();
    if meta.len() > limit as u64 {
        return Err(MigrateError::TooLarge { what: kind.what(), limit });
    }
    // The file may grow while we read: read one byte past the limit at most.
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0)));
    file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(io_error("read", path))?;
    if bytes.len() > limit {
        return Err(MigrateError::TooLarge { what: kind.what(), limit });
    }
    Ok(bytes)
}

/// The current contents of an export target, or `None` if it does not exist yet.
pub fn read_existing(path: &Path, kind: FileKind) -> Result<Option<Zeroizing<Vec<u8>>>, MigrateError> {
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error("inspect", path)(error)),
        Ok(_) => read_file(path, kind).map(Some),
    }
}

/// Replaces `path` with `bytes` atomically; the new file is mode 0600.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MigrateError> {
    let name = path.file_name().ok_or_else(|| MigrateError::Io {
        operation: "write",
        path: path.display().to_string(),
        kind: ErrorKind::InvalidInput,
        message: "not a file name".to_owned(),
    })?;
    if path.is_dir() {
        return Err(not_a_file(path));
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut suffix = [0u8; 8];
    OsRandom.fill(&mut suffix).map_err(|_| MigrateError::Io {
        operation: "write",
        path: path.display().to_string(),
        kind: ErrorKind::Other,
        message: "the random source failed".to_owned(),
    })?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".{}.{suffix}.tmp", name.to_string_lossy()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(io_error("create a temporary file beside", path))?;
        file.write_all(bytes).map_err(io_error("write", path))?;
        file.sync_all().map_err(io_error("flush", path))?;
        fs::rename(&temp, path).map_err(io_error("replace", path))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io_error("flush the directory of", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("offrec-migrate-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_0600_atomically_and_reads_back() {
        let dir = temp_dir("io");
        let path = dir.join("otr.private_key");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(&read_file(&path, FileKind::LibotrKey).unwrap()[..], b"new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        assert!(read_existing(&dir.join("missing"), FileKind::Fingerprints).unwrap().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_directories_fifos_and_oversized_files() {
        let dir = temp_dir("refuse");
        assert!(matches!(read_file(&dir, FileKind::Fingerprints), Err(MigrateError::Io { .. })));
        assert!(write_atomically(&dir, b"x").is_err());
        let fifo = dir.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(matches!(read_file(&fifo, FileKind::Fingerprints), Err(MigrateError::Io { .. })));
        let big = dir.join("big");
        fs::write(&big, vec![b'x'; MAX_KEY3_LEN + 1]).unwrap();
        assert!(matches!(read_file(&big, FileKind::PotrKey), Err(MigrateError::TooLarge { .. })));
        assert!(matches!(read_file(&dir.join("missing"), FileKind::PotrKey), Err(MigrateError::Io { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_exactly_the_limit_is_read_whole() {
        let dir = temp_dir("limit");
        let path = dir.join("exact");
        fs::write(&path, vec![b'x'; MAX_KEY3_LEN]).unwrap();
        assert_eq!(read_file(&path, FileKind::PotrKey).unwrap().len(), MAX_KEY3_LEN);
        fs::write(&path, vec![b'x'; MAX_KEY3_LEN + 1]).unwrap();
        match read_file(&path, FileKind::PotrKey) {
            Err(MigrateError::TooLarge { what, limit }) => assert_eq!((what, limit), ("potr key file", MAX_KEY3_LEN)),
            other => panic!("{other:?}"),
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A regular file whose size says 0 but which reads on (as one that grows while we read
    /// would): /proc/self/smaps, tens of KiB for any process. Reading stops one byte past the
    /// limit and refuses the file.
    #[test]
    fn a_file_longer_than_its_size_says_is_refused_after_the_limit() {
        let smaps = Path::new("/proc/self/smaps");
        match fs::read(smaps) {
            Ok(text) if text.len() > MAX_KEY3_LEN => {}
            _ => {
                eprintln!("skipped: {} is missing or shorter than the limit here", smaps.display());
                return;
            }
        }
        assert_eq!(fs::metadata(smaps).unwrap().len(), 0);
        match read_file(smaps, FileKind::PotrKey) {
            Err(MigrateError::TooLarge { what, limit }) => assert_eq!((what, limit), ("potr key file", MAX_KEY3_LEN)),
            other => panic!("{other:?}"),
        }
    }

    /// Only a missing target means "no existing file": any other failure to look at it (here a
    /// path through a regular file) is an error, not a file to create from nothing.
    #[test]
    fn an_export_target_that_cannot_be_inspected_is_an_error() {
        let dir = temp_dir("inspect");
        fs::write(dir.join("plain"), b"x").unwrap();
        match read_existing(&dir.join("plain").join("otr.fingerprints"), FileKind::Fingerprints) {
            Err(MigrateError::Io { operation, kind, .. }) => {
                assert_eq!((operation, kind), ("inspect", ErrorKind::NotADirectory))
            }
            other => panic!("{other:?}"),
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The temporary file is made beside the target, not in the current directory: a rename
    /// only replaces a file atomically within one file system. Shown with a target on a file
    /// system other than the current directory's (/dev/shm), where a rename from here fails.
    #[test]
    fn the_temporary_file_is_made_beside_the_target() {
        use std::os::unix::fs::MetadataExt;
        let shm = Path::new("/dev/shm");
        let here = fs::metadata(".").unwrap().dev();
        if !shm.is_dir() || fs::metadata(shm).unwrap().dev() == here {
            eprintln!("skipped: no tmpfs at /dev/shm apart from the current directory");
            return;
        }
        let dir = shm.join(format!("offrec-migrate-beside-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let result = write_atomically(&dir.join("otr.private_key"), b"beside");
        let back = fs::read(dir.join("otr.private_key"));
        fs::remove_dir_all(&dir).unwrap();
        result.unwrap();
        assert_eq!(back.unwrap(), b"beside");
    }

    /// A bare file name (`offrec export` into `otr.private_key`) is written in the current
    /// directory, whose parent path is empty.
    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        let name = format!(".offrec-migrate-bare-{}", std::process::id());
        let path = Path::new(&name);
        write_atomically(path, b"bare").unwrap();
        let back = fs::read(path);
        fs::remove_file(path).unwrap();
        assert_eq!(back.unwrap(), b"bare");
    }
}
