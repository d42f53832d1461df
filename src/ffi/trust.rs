//! Fingerprints and trust: formatting for people, and the user's trust decisions.

use std::ffi::c_char;

use crate::ffi::bytes;
use crate::ffi::client::{offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{trust_from_c, OffrecTrust};
use crate::trust::{format_fingerprint, format_ssid};

/// Writes a fingerprint (32 bytes at `fingerprint`) as eight groups of eight upper-case hex
/// digits separated by spaces, NUL-terminated, into `buf` (`cap` bytes;
/// `OFFREC_FINGERPRINT_TEXT_SIZE` always fits). `*out_len` receives the bytes written including
/// the NUL. If `cap` is too small nothing is written to `buf`, `*out_len` receives the size
/// needed and `OFFREC_RESULT_BUFFER_TOO_SMALL` is returned. Safe from any thread.
///
/// # Safety
///
/// `fingerprint` is NULL or 32 readable bytes; `buf` is NULL or `cap` writable bytes;
/// `out_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_fingerprint_format(
    fingerprint: *const u8,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let fp = bytes::borrow_32(fingerprint)?;
        let mut text = format_fingerprint(&fp).into_bytes();
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

/// Writes a session id (32 bytes at `ssid`) for reading aloud: the first 8 bytes as two groups
/// of 8 lower-case hex digits separated by a space, NUL-terminated (`OFFREC_SSID_TEXT_SIZE`
/// always fits). Buffer rules as `offrec_fingerprint_format`.
///
/// # Safety
///
/// As `offrec_fingerprint_format`.
#[no_mangle]
pub unsafe extern "C" fn offrec_ssid_format(
    ssid: *const u8,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let ssid = bytes::borrow_32(ssid)?;
        let (first, second) = format_ssid(&ssid);
        let mut text = format!("{first} {second}").into_bytes();
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

/// Sets (or revokes, with `OFFREC_TRUST_UNVERIFIED`) the trust in `peer`'s key `fingerprint`
/// (32 bytes), adding the key if unknown. `trust` is an `offrec_trust` (unknown numbers:
/// `OFFREC_RESULT_UNKNOWN_ENUM_VALUE`). Sessions using that key report their new state through
/// `state_changed`. Marking a key verified is also consent to send to it (see
/// `offrec_client_accept_key`): messages held for `peer` go to it at the next
/// `offrec_client_tick` or `offrec_client_send`. The trust store is part of the client's state:
/// it is written by `offrec_client_save` / `offrec_client_save_to_dir` and read back by the
/// loads, so save after changing trust (STORAGE.md).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `fingerprint` is
/// NULL or 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_trust(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    fingerprint: *const u8,
    trust: u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let fp = bytes::borrow_32(fingerprint)?;
        let trust = trust_from_c(trust)?;
        c.run(Sizing::None, |client, _| Ok(((), client.set_trust(peer, fp, trust))))
    })
}

/// Writes to `*out` the trust in `peer`'s key `fingerprint` (`OFFREC_TRUST_UNVERIFIED` if the
/// key is unknown).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `fingerprint` is
/// NULL or 32 readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_trust(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    fingerprint: *const u8,
    out: *mut OffrecTrust,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let fp = bytes::borrow_32(fingerprint)?;
        out::check(out)?;
        let trust = c.query(|client| client.trust_store().trust(peer, &fp))?;
        out::write(out, trust.into())
    })
}

/// Writes to `*out` how many keys are known for `peer`.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_known_key_count(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    out: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let count = c.query(|client| client.trust_store().keys(peer).len())?;
        out::write(out, count)
    })
}

/// Writes `peer`'s known key number `index` (0 ≤ index < `offrec_client_known_key_count`, else
/// `OFFREC_RESULT_INVALID_ARGUMENT`; least recently used first): its fingerprint (32 bytes) to
/// `fingerprint_out` and its trust to `*trust_out`.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `fingerprint_out`
/// is NULL or 32 writable bytes; `trust_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_known_key(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    index: usize,
    fingerprint_out: *mut u8,
    trust_out: *mut OffrecTrust,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(fingerprint_out)?;
        out::check(trust_out)?;
        let key = c.query(|client| client.trust_store().keys(peer).get(index).cloned())?;
        let key = key.ok_or(OffrecResult::InvalidArgument)?;
        bytes::write_32(fingerprint_out, &key.fingerprint)?;
        out::write(trust_out, key.trust.into())
    })
}
