//! Persistence from C: save a client's whole state (identity, trust, live sessions, held
//! messages) sealed under a key or passphrase, as bytes for the app's own database or into a
//! directory the library manages, and load it back.

use std::ffi::{c_char, c_void};

use zeroize::Zeroizing;

use crate::conversation::Settings;
use crate::crypto::OsRandom;
use crate::ffi::bytes;
use crate::ffi::callbacks::{Callbacks, OffrecCallbacks};
use crate::ffi::client::{offrec_client, ClientHandle};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::policy_from_c;
use crate::store::{load_account_from_bytes, save_to_bytes, FileStore, StoreError, StoreKey};

/// Longest passphrase accepted.
pub const OFFREC_MAX_PASSPHRASE_LEN: usize = 4096;
/// Longest store directory path accepted.
pub const OFFREC_MAX_PATH_LEN: usize = 4096;
/// Largest sealed store accepted from memory.
pub const OFFREC_MAX_STORE_LEN: usize = 256 * 1024 * 1024;

fn store_error(error: StoreError) -> OffrecResult {
    match error {
        StoreError::NotFound => OffrecResult::StoreNotFound,
        StoreError::WrongKey => OffrecResult::StoreWrongKey,
        StoreError::WrongAccount => OffrecResult::StoreWrongAccount,
        StoreError::NotAFile => OffrecResult::StoreNotAFile,
        StoreError::UnsupportedVersion(_) | StoreError::UnsupportedSection(_) | StoreError::UnsupportedKeyKind(_) => {
            OffrecResult::StoreUnsupportedVersion
        }
        StoreError::Empty
        | StoreError::HeaderDamaged
        | StoreError::NotAStore
        | StoreError::Truncated
        | StoreError::Corrupted
        | StoreError::BadKdfParameters
        | StoreError::InvalidState(_) => OffrecResult::StoreCorrupted,
        StoreError::Random => OffrecResult::RandomFailed,
        _ => OffrecResult::StoreError,
    }
}

/// Exactly one of `key` (32 bytes) and `passphrase` must be given.
fn store_key(key: *const u8, passphrase: *const c_char, passphrase_len: usize) -> Result<StoreKey, OffrecResult> {
    match (key.is_null(), passphrase.is_null()) {
        (false, true) => Ok(StoreKey::Raw(Zeroizing::new(bytes::borrow_32(key)?))),
        (true, false) => {
            bytes::check_cap(passphrase_len, OFFREC_MAX_PASSPHRASE_LEN)?;
            let text = bytes::borrow_chars(passphrase, passphrase_len)?;
            if text.is_empty() {
                return Err(OffrecResult::InvalidArgument);
            }
            Ok(StoreKey::Passphrase(Zeroizing::new(text.to_owned())))
        }
        (true, true) => Err(OffrecResult::NullArgument),
        (false, false) => Err(OffrecResult::InvalidArgument),
    }
}

/// The account a load expects: required, 1 to `OFFREC_MAX_NAME_LEN` bytes of UTF-8.
fn expected_account<'a>(account: *const c_char, account_len: usize) -> Result<&'a str, OffrecResult> {
    bytes::check_cap(account_len, crate::conversation::MAX_NAME_LEN)?;
    let account = bytes::borrow_chars(account, account_len)?;
    if account.is_empty() {
        return Err(OffrecResult::InvalidArgument);
    }
    Ok(account)
}

fn store_dir<'a>(dir: *const c_char, dir_len: usize) -> Result<&'a str, OffrecResult> {
    bytes::check_cap(dir_len, OFFREC_MAX_PATH_LEN)?;
    let dir = bytes::borrow_chars(dir, dir_len)?;
    if dir.is_empty() {
        return Err(OffrecResult::InvalidArgument);
    }
    Ok(dir)
}

/// The common end of both loads: check the policy and callbacks, restore the client with
/// `load`, and hand the new handle to C.
fn restore_into(
    out: *mut *mut offrec_client,
    policy: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    load: impl FnOnce(Settings) -> Result<crate::conversation::Client, StoreError>,
) -> Result<(), OffrecResult> {
    let settings = Settings { policy: policy_from_c(policy)?, ..Settings::default() };
    let callbacks = Callbacks::new(bytes::read_struct(callbacks)?, userdata)?;
    let client = load(settings).map_err(store_error)?;
    out::write_handle(out, Box::new(ClientHandle::new(client, callbacks)))
}

/// Seals the client's whole state into `*out` (free it with `offrec_buffer_free`). Give either
/// a 32-byte `key` (passphrase NULL) or a UTF-8 `passphrase` (key NULL; stretched with
/// Argon2id, which takes a noticeable fraction of a second on purpose). The bytes are safe to
/// store anywhere; without the key they reveal nothing but their length.
///
/// On success the client counts its state as saved: the next change is reported by an
/// `OFFREC_EVENT_CODE_PERSIST_NEEDED` event again (until then, changes of kinds already reported
/// are not reported twice). On failure the notice stays pending. If keeping the bytes fails,
/// save again.
///
/// Thread rules: as any call on the client; it sees a consistent snapshot.
///
/// # Safety
///
/// `client` is a live client; `key` is NULL or 32 readable bytes; `passphrase` is NULL or valid
/// for `passphrase_len`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_save(
    client: *const offrec_client,
    key: *const u8,
    passphrase: *const c_char,
    passphrase_len: usize,
    out: *mut bytes::offrec_buffer,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let key = store_key(key, passphrase, passphrase_len)?;
        let sealed = c.query(|client| save_to_bytes(client, &key))?.map_err(store_error)?;
        bytes::write_buffer(out, sealed)
    })
}

/// Creates a client from bytes made by `offrec_client_save`, with `policy`, `callbacks` and
/// `userdata` as in `offrec_client_new` (the policy given here applies, not the one in force
/// when the store was saved: the client's policy is not stored; the policies peers were given
/// with `offrec_client_set_peer_policy` are, and come back).
///
/// `account` (UTF-8, `account_len` bytes, required) is the account the application expects:
/// a store saved by a client of any other account name (compared byte for byte) is refused
/// with `OFFREC_RESULT_STORE_WRONG_ACCOUNT`, so swapped or copied stores never load silently.
///
/// Identity, instance tag, trust decisions, held messages and the record of sent messages come
/// back as saved. Encrypted sessions do **not** resume: the library cannot tell whether the
/// store is the latest state (a crash after a save makes it stale), and resuming a stale
/// session would reuse message keys and accept replays. Every stored session is loaded as
/// *restored*: it is listed with state `OFFREC_SESSION_STATE_PLAINTEXT` (never show a lock for
/// it), never encrypts or decrypts, and is replaced by a new handshake: a message sent to the
/// peer is held (`OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED`) and goes out when the new session is
/// up (`OFFREC_EVENT_CODE_HELD_MESSAGE_SENT`); an encrypted message arriving on the old session
/// is not delivered (`OFFREC_EVENT_CODE_NOT_IN_PRIVATE`), the peer is told which message was
/// lost, and a new handshake is started. SMP and extra-key calls on a restored session return
/// `OFFREC_RESULT_NO_SESSION`. The loaded client starts with nothing unsaved; save again when
/// an `OFFREC_EVENT_CODE_PERSIST_NEEDED` event arrives (STORAGE.md §5.1).
///
/// Errors name the problem: `OFFREC_RESULT_STORE_WRONG_KEY`, `..._STORE_CORRUPTED`,
/// `..._STORE_UNSUPPORTED_VERSION`, `..._STORE_WRONG_ACCOUNT`.
///
/// # Safety
///
/// `sealed` is valid for `sealed_len`; `account` is valid for `account_len`; key and
/// passphrase as in `offrec_client_save`; `callbacks` points to an `offrec_callbacks`; `out`
/// is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_load(
    sealed: *const u8,
    sealed_len: usize,
    account: *const c_char,
    account_len: usize,
    key: *const u8,
    passphrase: *const c_char,
    passphrase_len: usize,
    policy: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    out: *mut *mut offrec_client,
) -> OffrecResult {
    catch_result(|| {
        out::check(out)?;
        bytes::check_cap(sealed_len, OFFREC_MAX_STORE_LEN)?;
        let sealed = bytes::borrow(sealed, sealed_len)?;
        let account = expected_account(account, account_len)?;
        let key = store_key(key, passphrase, passphrase_len)?;
        restore_into(out, policy, callbacks, userdata, |settings| {
            load_account_from_bytes(sealed, account, &key, settings, Box::new(OsRandom))
        })
    })
}

/// Saves the client into the directory `dir` (created with mode 0700 if missing; the file is
/// 0600), replacing the previous save atomically: a crash at any moment leaves the old or the
/// new state, never a mix. Temporary files of killed writers older than 10 minutes are removed
/// here (and only here). Key and passphrase as in `offrec_client_save`. Once the file is
/// written the client counts its state as saved, as with `offrec_client_save`; a failed save
/// leaves the `OFFREC_EVENT_CODE_PERSIST_NEEDED` notice pending.
///
/// # Safety
///
/// `client` is a live client; `dir` is valid for `dir_len`; key and passphrase as in
/// `offrec_client_save`.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_save_to_dir(
    client: *const offrec_client,
    dir: *const c_char,
    dir_len: usize,
    key: *const u8,
    passphrase: *const c_char,
    passphrase_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let dir = store_dir(dir, dir_len)?;
        let key = store_key(key, passphrase, passphrase_len)?;
        let store = FileStore::open_dir(dir).map_err(store_error)?;
        c.query(|client| store.save(client, &key))?.map_err(store_error)
    })
}

/// Loads a client saved with `offrec_client_save_to_dir`; `account`, policy, callbacks as in
/// `offrec_client_load`. `OFFREC_RESULT_STORE_NOT_FOUND` if nothing was saved there yet (or
/// the directory does not exist). A load never writes, creates or deletes anything, not even
/// on failure. Only a regular file is read: a symbolic link, FIFO, device or socket in the
/// store file's place gives `OFFREC_RESULT_STORE_NOT_A_FILE` without reading (or blocking),
/// and a file over 256 MiB gives `OFFREC_RESULT_STORE_CORRUPTED` without reading. As with
/// `offrec_client_load`, stored sessions are not resumed but restarted with a new handshake.
///
/// # Safety
///
/// As `offrec_client_load`, with `dir` valid for `dir_len`.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_load_from_dir(
    dir: *const c_char,
    dir_len: usize,
    account: *const c_char,
    account_len: usize,
    key: *const u8,
    passphrase: *const c_char,
    passphrase_len: usize,
    policy: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    out: *mut *mut offrec_client,
) -> OffrecResult {
    catch_result(|| {
        out::check(out)?;
        let dir = store_dir(dir, dir_len)?;
        let account = expected_account(account, account_len)?;
        let key = store_key(key, passphrase, passphrase_len)?;
        // The directory is looked at only after policy and callbacks passed.
        restore_into(out, policy, callbacks, userdata, |settings| {
            FileStore::open_dir(dir)?.load_account(account, &key, settings, Box::new(OsRandom))
        })
    })
}
