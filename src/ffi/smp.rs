//! The Socialist Millionaires' Protocol: verifying a peer's key by a shared secret.
//!
//! Results of a run arrive through the `event` callback (`OFFREC_EVENT_CODE_SMP_*`). A success
//! without a question marks the peer's fingerprint `OFFREC_TRUST_VERIFIED_SMP` on both sides and
//! reports the new state; with a question only the asker does (the answerer gets
//! `OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER` and its trust is unchanged).

use std::ffi::c_char;

use crate::ffi::bytes;
use crate::ffi::client::{client_error, instance_from_c, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{OFFREC_MAX_SMP_QUESTION_LEN, OFFREC_MAX_SMP_SECRET_LEN};

/// Starts SMP with the session with remote `instance` of `peer` (0 = the session
/// `offrec_client_send` would use, else the newest session whose new key awaits the app's
/// consent: SMP is how that key gets verified), with `secret` (any bytes, at most
/// `OFFREC_MAX_SMP_SECRET_LEN`) and optionally a `question` shown to the peer (UTF-8, at most
/// `OFFREC_MAX_SMP_QUESTION_LEN` bytes; NULL with length 0 = no question).
///
/// Errors: `OFFREC_RESULT_NO_SESSION` without an encrypted session,
/// `OFFREC_RESULT_SMP_RATE_LIMITED` when started again within 10 s or after 5 failed runs in
/// the session, `OFFREC_RESULT_MESSAGE_TOO_LARGE` for a secret or question over its limit,
/// `OFFREC_RESULT_INVALID_UTF8` for a question that is not UTF-8,
/// `OFFREC_RESULT_INVALID_ARGUMENT` for a question with a NUL on an OTR session (OTR's
/// question ends at its first NUL), `OFFREC_RESULT_SMP_ERROR` for other refusals.
///
/// # Safety
///
/// `client` is a live client; pointers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_smp_start(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
    secret: *const u8,
    secret_len: usize,
    question: *const c_char,
    question_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(secret_len, OFFREC_MAX_SMP_SECRET_LEN)?;
        let secret = bytes::borrow(secret, secret_len)?;
        bytes::check_cap(question_len, OFFREC_MAX_SMP_QUESTION_LEN)?;
        let question = bytes::borrow_optional_chars(question, question_len)?;
        let instance = instance_from_c(instance);
        c.run(Sizing::Peer(peer), |client, now| {
            client.smp_start(peer, instance, secret, question, now).map(|a| ((), a)).map_err(client_error)
        })
    })
}

/// Answers the peer's SMP request (after `OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET`) with our
/// `secret`. If the request came with a question, a correct answer gives
/// `OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER`, not `SMP_SUCCEEDED`: the peer now trusts our key,
/// but our trust in theirs is NOT changed (they chose the question); start a run with your own
/// question to verify them. `instance` 0 = the session whose request is waiting for our secret
/// (SMP messages do not change which session plain sends use). `OFFREC_RESULT_SMP_ERROR` if no request is waiting. Otherwise as
/// `offrec_client_smp_start`.
///
/// # Safety
///
/// `client` is a live client; pointers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_smp_respond(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
    secret: *const u8,
    secret_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(secret_len, OFFREC_MAX_SMP_SECRET_LEN)?;
        let secret = bytes::borrow(secret, secret_len)?;
        let instance = instance_from_c(instance);
        c.run(Sizing::Peer(peer), |client, now| {
            client.smp_respond(peer, instance, secret, now).map(|a| ((), a)).map_err(client_error)
        })
    })
}

/// Aborts the SMP run with the session with remote `instance` of `peer` (0 = the session with a
/// run in progress, else as `offrec_client_smp_start`) and tells the peer. `OFFREC_RESULT_NO_SESSION` without an encrypted session.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_smp_abort(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let instance = instance_from_c(instance);
        c.run(Sizing::Peer(peer), |client, now| {
            client.smp_abort(peer, instance, now).map(|a| ((), a)).map_err(client_error)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_handle_is_rejected() {
        // SAFETY: NULL is always accepted and rejected.
        let r = unsafe { offrec_client_smp_abort(std::ptr::null_mut(), c"bob".as_ptr(), 3, 0) };
        assert_eq!(r, OffrecResult::NullArgument);
    }
}
