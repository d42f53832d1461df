//! A policy per peer over the client's (libotr asks its application for a policy per
//! conversation; an offrec application sets the ones that differ).

use std::ffi::c_char;

use crate::ffi::bytes;
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::policy_from_c;

/// Gives `peer` a policy of its own (`OFFREC_POLICY_*` bits; unknown bits:
/// `OFFREC_RESULT_INVALID_POLICY`). It replaces the client's policy (`offrec_client_new`,
/// `offrec_client_set_policy`) for that peer as a whole, not bit by bit: sending, answering
/// its queries and tags, starting sessions, the downgrade guard and whether to speak OTR with
/// it all follow it from the next call on; live sessions stay. Peer policies are stored with
/// the client (`offrec_client_save*`): a `PERSIST_NEEDED` event asks for a save, and a loaded
/// client has them back, so setting them again at start is harmless but not needed. At most
/// 100000 peers may have one (`OFFREC_RESULT_INVALID_ARGUMENT` past that).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_peer_policy(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    policy: u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let policy = policy_from_c(policy)?;
        c.run(Sizing::None, |client, _| client.set_peer_policy(peer, policy).map(|a| ((), a)).map_err(client_error))
    })
}

/// Removes `peer`'s own policy: the client's applies to it again. Not an error if it had
/// none. A `PERSIST_NEEDED` event asks for a save when something was removed.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_clear_peer_policy(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        c.run(Sizing::None, |client, _| client.clear_peer_policy(peer).map(|a| ((), a)).map_err(client_error))
    })
}

/// Writes to `*out_policy` the policy that applies to `peer` (its own, else the client's), and
/// to `*out_own` (may be NULL) whether it is the peer's own.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out_policy` is
/// writable; `out_own` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_peer_policy(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    out_policy: *mut u32,
    out_own: *mut bool,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out_policy)?;
        let (policy, own) = c.query(|client| (client.policy_for(peer), client.peer_policy(peer).is_some()))?;
        out::write(out_policy, policy.bits())?;
        if !out_own.is_null() {
            out::write(out_own, own)?;
        }
        Ok(())
    })
}
