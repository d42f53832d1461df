//! The secret that opens a store: a passphrase from an environment variable, typed on the
//! terminal (not echoed), or a 32-byte key in a file (64 hex digits). Never a command-line
//! argument: any local user can read a process's arguments (`ps`, /proc/PID/cmdline).

use std::io::IsTerminal;
use std::path::Path;

use offrec::conversation::{Client, Settings};
use offrec::crypto::OsRandom;
use offrec::store::{FileStore, StoreError, StoreKey};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::args::SecretArgs;
use crate::CliError;

/// What the secret is for: a prompt for a new store asks twice.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Opening an existing store.
    Open,
    /// Creating a store (`identity new`).
    Create,
}

/// What to do when no secret was given and no terminal can be asked.
const NO_SECRET: &str = "no store secret: give --passphrase-env VAR (with the passphrase in $VAR), --key-file FILE \
(64 hex digits) or set OFFREC_PASSPHRASE; run it on a terminal to be asked for the passphrase";

/// The store key the flags name; with none, $OFFREC_PASSPHRASE, else a passphrase typed on the
/// terminal (only when standard input is one: a script or pipe gets a clear error instead of a
/// prompt it cannot answer).
pub fn store_key(secret: &SecretArgs, dir: &str, purpose: Purpose) -> Result<StoreKey, CliError> {
    match (&secret.passphrase_env, &secret.key_file) {
        (Some(_), Some(_)) => Err(CliError::input("give either --passphrase-env or --key-file, not both")),
        (Some(var), None) => passphrase_from(var),
        (None, Some(file)) => key_from_file(file),
        (None, None) => {
            if std::env::var_os("OFFREC_PASSPHRASE").is_some() {
                passphrase_from("OFFREC_PASSPHRASE")
            } else if std::io::stdin().is_terminal() {
                prompt_passphrase(dir, purpose)
            } else {
                Err(CliError::input(NO_SECRET))
            }
        }
    }
}

fn read_hidden(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|e| CliError::fail(format!("cannot read the passphrase from the terminal: {e} ({})", NO_SECRET)))
}

fn prompt_passphrase(dir: &str, purpose: Purpose) -> Result<StoreKey, CliError> {
    // No passphrase asked for a store that is not there.
    if purpose == Purpose::Open && !Path::new(dir).is_dir() {
        return Err(CliError::fail(explain(&StoreError::NotFound, dir)));
    }
    let first = match purpose {
        Purpose::Open => read_hidden(&format!("Passphrase for the store {dir}: "))?,
        Purpose::Create => read_hidden(&format!("New passphrase for the store {dir}: "))?,
    };
    if first.is_empty() {
        return Err(CliError::input("the passphrase is empty: type one (it is not shown as you type)"));
    }
    if purpose == Purpose::Create {
        let again = read_hidden("The same passphrase again: ")?;
        if !bool::from(first.as_bytes().ct_eq(again.as_bytes())) {
            return Err(CliError::input("the two passphrases differ: run the command again"));
        }
    }
    Ok(StoreKey::Passphrase(first))
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
