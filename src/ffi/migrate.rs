//! Moving from libotr (or python-potr) and back, from C: import the user's OTR DSA key, the
//! fingerprints they trust and, on the same device only, their instance tag; export offrec's
//! DSA key and OTR trust in the same formats. MIGRATING.md is the guide.
//!
//! Every import is all or nothing: the file is read whole (bounded, regular files only) and
//! checked before the client changes; on any error the client is exactly as before. Exports
//! merge into an existing target (other accounts' entries are kept byte for byte) and replace
//! it atomically with a new file of mode 0600. Files are read and written with no lock held;
//! the client is locked only to apply an import or take a snapshot for an export.

use std::ffi::{c_char, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::conversation::MAX_NAME_LEN;
use crate::ffi::bytes;
use crate::ffi::client::{offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::store::OFFREC_MAX_PATH_LEN;
use crate::migrate::file_io::{read_existing, read_file, write_atomically};
use crate::migrate::{AccountSelector, FileKind, MigrateError, OtrFileFormat};

/// Which program's file layout (`format` argument of the `offrec_client_*_otr_*` calls).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecOtrFileFormat {
    /// libotr's files: Pidgin's `~/.purple/otr.private_key`, `otr.fingerprints`,
    /// `otr.instance_tags`; irssi-otr's `otr.key`, `otr.fp`, `otr.instag`; Adium's.
    Libotr = 1,
    /// python-potr's files: weechat-otr's and Gajim's `<account>.key3` and `<account>.fpr`.
    Potr = 2,
}

fn format_from_c(format: u32) -> Result<OtrFileFormat, OffrecResult> {
    match format {
        1 => Ok(OtrFileFormat::Libotr),
        2 => Ok(OtrFileFormat::Potr),
        _ => Err(OffrecResult::UnknownEnumValue),
    }
}

/// Maps a migration error to its result code.
pub(crate) fn migrate_error(error: MigrateError) -> OffrecResult {
    match error {
        MigrateError::Malformed { .. } | MigrateError::TooLarge { .. } => OffrecResult::ImportMalformed,
        MigrateError::InvalidKey { .. } => OffrecResult::ImportInvalidKey,
        MigrateError::NoAccount { .. } | MigrateError::AmbiguousAccount { .. } => OffrecResult::ImportNoAccount,
        MigrateError::KeyExists { .. } => OffrecResult::ImportKeyExists,
        MigrateError::InUse => OffrecResult::ImportInUse,
        MigrateError::NoKey => OffrecResult::NoOtrKey,
        MigrateError::Unwritable { .. } => OffrecResult::InvalidArgument,
        MigrateError::Io { .. } => OffrecResult::ImportIo,
    }
}

/// A file path: 1 to `OFFREC_MAX_PATH_LEN` bytes, any bytes but NUL (not NUL-terminated).
fn borrow_path<'a>(path: *const c_char, path_len: usize) -> Result<&'a Path, OffrecResult> {
    bytes::check_cap(path_len, OFFREC_MAX_PATH_LEN)?;
    if path.is_null() {
        return Err(OffrecResult::NullArgument);
    }
    let raw = bytes::borrow(path.cast::<u8>(), path_len)?;
    if raw.is_empty() || raw.contains(&0) {
        return Err(OffrecResult::InvalidArgument);
    }
    Ok(Path::new(OsStr::from_bytes(raw)))
}

/// The account a call names: NULL for the client's own, else 1 to `OFFREC_MAX_NAME_LEN` bytes
/// of UTF-8 each.
fn selector(
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
) -> Result<AccountSelector, OffrecResult> {
    let optional = |ptr: *const c_char, len: usize| -> Result<Option<&str>, OffrecResult> {
        if len > MAX_NAME_LEN {
            return Err(OffrecResult::InvalidArgument);
        }
        match bytes::borrow_optional_chars(ptr, len)? {
            Some("") => Err(OffrecResult::InvalidArgument),
            other => Ok(other),
        }
    };
    Ok(AccountSelector::named(optional(account, account_len)?, optional(protocol, protocol_len)?))
}

fn write_optional<T>(out: *mut T, value: T) -> Result<(), OffrecResult> {
    if out.is_null() {
        return Ok(());
    }
    out::write(out, value)
}

/// Imports our OTR DSA key from a libotr key file (`format` `OFFREC_OTR_FILE_FORMAT_LIBOTR`:
/// Pidgin's `otr.private_key`, irssi-otr's `otr.key`) or a potr key file (`_POTR`:
/// `<account>.key3`), after every DSA check.
///
/// A libotr file holds several accounts: the one taken is `account` on `protocol` as the file
/// writes them (for example `nick@irc.libera.chat` and `IRC` for irssi-otr), each NULL (with
/// length 0) for the client's own account and network, compared as the handshake compares
/// names (case, an XMPP resource, `prpl-jabber` = `xmpp`). A potr file holds one key; the
/// account arguments are ignored.
///
/// If the client already has a different OTR key, `replace` must be true (its OTR contacts know
/// the old one), else `OFFREC_RESULT_IMPORT_KEY_EXISTS`; importing the key it has changes
/// nothing. On success the key's fingerprint (20 bytes) is written to `fingerprint_out` (may be
/// NULL): show it with `offrec_otr_fingerprint_format` so the user can compare it with what
/// Pidgin showed. Save the client afterwards (a `PERSIST_NEEDED` event follows).
///
/// Errors, with the client unchanged: `IMPORT_IO` (cannot read the file), `IMPORT_MALFORMED`
/// (damaged, truncated, hostile or not a key file), `IMPORT_INVALID_KEY` (wrong group
/// parameters, a key that does not match its public part...), `IMPORT_NO_ACCOUNT`,
/// `IMPORT_KEY_EXISTS`, `UNKNOWN_ENUM_VALUE` (format).
///
/// Thread rules: as any call on the client; the file is read before the client is locked.
///
/// # Safety
///
/// `client` is a live client; `path` is valid for `path_len` bytes (a file path, not
/// NUL-terminated); `account` and `protocol` are NULL or valid for their lengths;
/// `fingerprint_out` is NULL or 20 writable bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // mirrors the C signature
pub unsafe extern "C" fn offrec_client_import_otr_key(
    client: *mut offrec_client,
    path: *const c_char,
    path_len: usize,
    format: u32,
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    replace: bool,
    fingerprint_out: *mut u8,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let path = borrow_path(path, path_len)?;
        let format = format_from_c(format)?;
        let selector = selector(account, account_len, protocol, protocol_len)?;
        let kind = match format {
            OtrFileFormat::Libotr => FileKind::LibotrKey,
            OtrFileFormat::Potr => FileKind::PotrKey,
        };
        let file = read_file(path, kind).map_err(migrate_error)?;
        let fingerprint = c.run(Sizing::None, |client, _| {
            client.import_otr_key(&file, format, &selector, replace).map_err(migrate_error)
        })?;
        write_optional(fingerprint_out.cast::<[u8; 20]>(), fingerprint)
    })
}

/// Imports the trust of a libotr `otr.fingerprints` (irssi-otr: `otr.fp`) or potr `.fpr` file
/// (both formats share one layout; `format` names which program wrote it). Every key listed
/// for `account` on `protocol` (NULL: the client's own, as `offrec_client_import_otr_key`
/// compares them) becomes a known OTR key of its peer with the file's trust: an empty trust
/// string is `OFFREC_TRUST_UNVERIFIED`, `smp` is `OFFREC_TRUST_VERIFIED_SMP`, anything else
/// (`verified`, `manual`) `OFFREC_TRUST_VERIFIED_MANUAL`. Trust is only raised, never lowered.
/// A peer keeps at most 16 keys; verified keys go in first. The number of keys of the account
/// now in the trust store is written to `imported_out` (may be NULL). Sessions whose key
/// became verified report it through `state_changed`; save the client afterwards.
///
/// Errors, with the client unchanged: `IMPORT_IO`, `IMPORT_MALFORMED` (a line that libotr
/// would skip is refused, naming the line), `IMPORT_NO_ACCOUNT` (the file has keys, none for
/// the account), `UNKNOWN_ENUM_VALUE`.
///
/// # Safety
///
/// As `offrec_client_import_otr_key`; `imported_out` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // mirrors the C signature
pub unsafe extern "C" fn offrec_client_import_otr_fingerprints(
    client: *mut offrec_client,
    path: *const c_char,
    path_len: usize,
    format: u32,
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    imported_out: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let path = borrow_path(path, path_len)?;
        format_from_c(format)?;
        let selector = selector(account, account_len, protocol, protocol_len)?;
        let file = read_file(path, FileKind::Fingerprints).map_err(migrate_error)?;
        let summary =
            c.run(Sizing::None, |client, _| client.import_otr_fingerprints(&file, &selector).map_err(migrate_error))?;
        write_optional(imported_out, summary.imported)
    })
}

/// Imports our instance tag from a libotr `otr.instance_tags` file (irssi-otr: `otr.instag`)
/// for `account` on `protocol` (NULL: the client's own). **Only when offrec replaces that
/// libotr client on the same device**, so that its peers keep addressing the same instance;
/// never copy a tag to a second device (both would then look like one to every peer). Only
/// into a client that has no conversations yet (`OFFREC_RESULT_IMPORT_IN_USE` otherwise): do it
/// right after creating the client. The tag is written to `tag_out` (may be NULL). Save the
/// client afterwards.
///
/// # Safety
///
/// As `offrec_client_import_otr_key`; `tag_out` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // mirrors the C signature
pub unsafe extern "C" fn offrec_client_import_otr_instance_tag(
    client: *mut offrec_client,
    path: *const c_char,
    path_len: usize,
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    tag_out: *mut u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let path = borrow_path(path, path_len)?;
        let selector = selector(account, account_len, protocol, protocol_len)?;
        let file = read_file(path, FileKind::InstanceTags).map_err(migrate_error)?;
        let tag =
            c.run(Sizing::None, |client, _| client.import_otr_instance_tag(&file, &selector).map_err(migrate_error))?;
        write_optional(tag_out, tag)
    })
}

/// Exports our OTR DSA key to `path` as a libotr key file (for Pidgin, irssi-otr: loads with
/// `otrl_privkey_read`) or a potr `.key3` file. In a libotr file the key is written for
/// `account` on `protocol` as the other program names them (NULL: as the existing file
/// already spells this client's entry, such as Pidgin's `alice@example.org/Home`, else the
/// client's account, and `prpl-jabber` for XMPP or `prpl-<network>` otherwise, Pidgin's ids;
/// irssi-otr uses `nick@server` and `IRC`). If `path` exists it must be a key file: its other
/// accounts are kept byte for byte and the entry of exactly that spelling is replaced (two
/// entries that both match the client: `OFFREC_RESULT_IMPORT_NO_ACCOUNT`, name one). The file is replaced atomically
/// and created with mode 0600 (it holds the private key). `OFFREC_RESULT_NO_OTR_KEY` if the
/// client has no OTR key.
///
/// # Safety
///
/// `client` is a live client; `path` is valid for `path_len` bytes; `account` and `protocol`
/// are NULL or valid for their lengths.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // mirrors the C signature
pub unsafe extern "C" fn offrec_client_export_otr_key(
    client: *const offrec_client,
    path: *const c_char,
    path_len: usize,
    format: u32,
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let path = borrow_path(path, path_len)?;
        let format = format_from_c(format)?;
        let selector = selector(account, account_len, protocol, protocol_len)?;
        let existing = match format {
            OtrFileFormat::Libotr => read_existing(path, FileKind::LibotrKey).map_err(migrate_error)?,
            OtrFileFormat::Potr => None,
        };
        let file = c
            .query(|client| client.export_otr_key(format, &selector, existing.as_deref().map(|e| &e[..])))?
            .map_err(migrate_error)?;
        write_atomically(path, &file).map_err(migrate_error)
    })
}

/// Exports the OTR (DSA) keys of the trust store to `path` as a libotr `otr.fingerprints` or
/// potr `.fpr` file (loads with `otrl_privkey_read_fingerprints`), one line per key for
/// `account` on `protocol` (NULL: as `offrec_client_export_otr_key`; for potr the network
/// itself, `irc` or `xmpp`). Trust is written `smp` (`VERIFIED_SMP`), `verified`
/// (`VERIFIED_MANUAL`) or empty. offrec's own keys have no place in these files and are left
/// out, as are keys of peers whose names hold a tab or newline. If `path` exists it must be a
/// fingerprints file: other accounts' lines are kept, this account's are replaced. Replaced
/// atomically, mode 0600. The number of lines written goes to `written_out` (may be NULL).
///
/// # Safety
///
/// As `offrec_client_export_otr_key`; `written_out` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // mirrors the C signature
pub unsafe extern "C" fn offrec_client_export_otr_fingerprints(
    client: *const offrec_client,
    path: *const c_char,
    path_len: usize,
    format: u32,
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    written_out: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let path = borrow_path(path, path_len)?;
        let format = format_from_c(format)?;
        let selector = selector(account, account_len, protocol, protocol_len)?;
        let existing = read_existing(path, FileKind::Fingerprints).map_err(migrate_error)?;
        let (file, summary) = c
            .query(|client| client.export_otr_fingerprints(format, &selector, existing.as_deref().map(|e| &e[..])))?
            .map_err(migrate_error)?;
        write_atomically(path, &file).map_err(migrate_error)?;
        write_optional(written_out, summary.written)
    })
}
