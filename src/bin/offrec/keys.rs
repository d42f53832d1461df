//! The secret that opens a store: a passphrase from an environment variable, or a 32-byte key
//! in a file (64 hex digits). Never a command-line argument: any local user can read a
//! process's arguments (`ps`, /proc/PID/cmdline).

use std::path::Path;

use offrec::conversation::{Client, Settings};
use offrec::crypto::OsRandom;
use offrec::store::{FileStore, StoreError, StoreKey};
use zeroize::Zeroizing;

use crate::args::{Kind, Parsed};
use crate::CliError;

/// The flags every command that opens a store takes.
pub const KEY_FLAGS: [(&str, Kind); 2] = [("--passphrase-env", Kind::Value), ("--key-file", Kind::Value)];

/// Help text shared by those commands.
pub const KEY_HELP: &str = "\
Store secret (one of):
  --passphrase-env VAR   read the passphrase from environment variable VAR (stretched with
                         Argon2id). The passphrase is never taken as an argument: any user on
                         the machine can read a process's arguments with `ps`.
  --key-file FILE        a 32-byte key, as 64 hex digits, in FILE (keep it mode 0600)
  (with neither, the passphrase is read from $OFFREC_PASSPHRASE if it is set)
";

/// The store key the flags name.
pub fn store_key(parsed: &Parsed) -> Result<StoreKey, CliError> {
    match (parsed.value("--passphrase-env"), parsed.value("--key-file")) {
        (Some(_), Some(_)) => Err(CliError::input("give either --passphrase-env or --key-file, not both")),
        (Some(var), None) => passphrase_from(var),
        (None, Some(file)) => key_from_file(Path::new(file)),
        (None, None) => {
            if std::env::var_os("OFFREC_PASSPHRASE").is_some() {
                passphrase_from("OFFREC_PASSPHRASE")
            } else {
                Err(CliError::input(
                    "no store secret: give --passphrase-env VAR (with the passphrase in $VAR) or --key-file FILE (64 hex digits)",
                ))
            }
        }
    }
}

fn passphrase_from(var: &str) -> Result<StoreKey, CliError> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(StoreKey::Passphrase(Zeroizing::new(value))),
        Ok(_) => Err(CliError::input(format!("environment variable {var} is empty: put the passphrase in it"))),
        Err(std::env::VarError::NotPresent) => Err(CliError::input(format!(
            "environment variable {var} is not set: export {var} with the passphrase first"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(CliError::input(format!("environment variable {var} is not valid UTF-8")))
        }
    }
}

/// Decodes hex digits (any case); `None` if malformed.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_from_file(path: &Path) -> Result<StoreKey, CliError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        CliError::fail(format!("cannot read key file {}: {e} (create it with 64 hex digits, e.g. `head -c32 /dev/urandom | xxd -p -c64 > FILE`)", path.display()))
    })?);
    let bytes = Zeroizing::new(from_hex(text.trim()).filter(|b| b.len() == 32).ok_or_else(|| {
        CliError::input(format!("key file {} must hold exactly 64 hex digits (a 32-byte key)", path.display()))
    })?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "offrec: warning: key file {} is readable by other users; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&bytes);
    Ok(StoreKey::Raw(key))
}

/// Explains a store error with what to do about it.
pub fn explain(error: &StoreError, dir: &str) -> String {
    match error {
        StoreError::NotFound => {
            format!("no store at {dir}: run `offrec identity new --store {dir} --account NAME --network NET ...` first")
        }
        StoreError::WrongKey => format!(
            "{error}: the passphrase or key file does not open the store at {dir}; use the one it was created with"
        ),
        StoreError::Corrupted | StoreError::Truncated | StoreError::NotAStore | StoreError::Empty => {
            format!("{error} ({dir}): restore it from a backup, or create a new identity with `offrec identity new --store {dir} --force`")
        }
        StoreError::UnsupportedVersion(_) => format!("{error}: upgrade offrec to open {dir}"),
        _ => format!("store {dir}: {error}"),
    }
}

/// Opens the store directory (without creating it) and loads the client.
pub fn load(dir: &str, key: &StoreKey, settings: Settings) -> Result<(FileStore, Client), CliError> {
    if !Path::new(dir).is_dir() {
        return Err(CliError::fail(explain(&StoreError::NotFound, dir)));
    }
    let store = FileStore::open_dir(dir).map_err(|e| CliError::fail(explain(&e, dir)))?;
    let client = store.load(key, settings, Box::new(OsRandom)).map_err(|e| CliError::fail(explain(&e, dir)))?;
    Ok((store, client))
}
