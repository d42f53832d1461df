//! Test hooks for OTR, exported only with the `test-hooks` cargo feature (never in release
//! packages; the header guards them with `OFFREC_TEST_HOOKS`). They let the C, Python and Go
//! tests replay libotr's frozen vectors through the public calls (a client with the recorded DSA
//! key and libotr's DH secrets must put libotr's bytes on the wire) and let the libotr interop
//! harness put malformed SMP values on an OTR session's wire. None of them is an API: importing
//! a real key is `offrec_client_import_otr_*`'s job.

use std::ffi::c_char;

use zeroize::Zeroizing;

use crate::ffi::bytes;
use crate::ffi::client::{client_error, instance_from_c, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::OFFREC_MAX_TEXT_LEN;

/// The longest DSA component the key hook takes (a DSA-1024 `p` is 128 bytes).
const MAX_COMPONENT_LEN: usize = 256;
/// The longest random chunk the queue hook takes (the client checks it too).
const MAX_RANDOM_CHUNK: usize = 4096;

/// Test hook: gives `client` the OTR DSA-1024 key with components `p`, `q`, `g`, `y` (public)
/// and `x` (private), each a big-endian magnitude of at most 256 bytes, replacing any OTR key
/// it had (`OFFREC_RESULT_INVALID_ARGUMENT`, and no change, if they do not form a valid
/// DSA-1024/160 key). The vector tests use it to play a party of a recorded libotr session.
/// Exported only with the `test-hooks` cargo feature (never in release packages).
///
/// # Safety
///
/// `client` is NULL or a live client; each pointer is NULL or valid for its length.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // one (pointer, length) pair per component
pub unsafe extern "C" fn offrec_test_client_set_otr_key(
    client: *mut offrec_client,
    p: *const u8,
    p_len: usize,
    q: *const u8,
    q_len: usize,
    g: *const u8,
    g_len: usize,
    y: *const u8,
    y_len: usize,
    x: *const u8,
    x_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let mut parts = Vec::with_capacity(5);
        for (ptr, len) in [(p, p_len), (q, q_len), (g, g_len), (y, y_len), (x, x_len)] {
            bytes::check_cap(len, MAX_COMPONENT_LEN)?;
            parts.push(bytes::borrow(ptr, len)?);
        }
        let [p, q, g, y, x] = parts[..] else { return Err(OffrecResult::InvalidArgument) };
        c.run(Sizing::None, |client, _now| {
            let actions = client.test_set_otr_key(p, q, g, y, x).map_err(client_error)?;
            Ok(((), actions))
        })
    })
}

/// Test hook: queues `len` bytes at `chunk` (1 to 4096 bytes, at most 256 chunks queued) in
/// front of the client's random source. The next draw of exactly `len` bytes takes this chunk
/// (chunks go out in the order queued, each to the first draw of its size once every older
/// chunk is gone); draws of other sizes stay random. So a vector test hands libotr's DH secrets
/// (40 bytes) and `r` (16 bytes) to the client in the order libotr drew them. Exported only with
/// the `test-hooks` cargo feature (never in release packages).
///
/// # Safety
///
/// `client` is NULL or a live client; `chunk` is NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_test_client_queue_random(
    client: *mut offrec_client,
    chunk: *const u8,
    len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        bytes::check_cap(len, MAX_RANDOM_CHUNK)?;
        let chunk = Zeroizing::new(bytes::borrow(chunk, len)?.to_vec());
        c.run(Sizing::None, |client, _now| {
            client.test_queue_random(vec![chunk]).map_err(client_error)?;
            Ok(((), Vec::new()))
        })
    })
}

/// Test hook: writes to `*out` how many chunks queued with `offrec_test_client_queue_random` no
/// draw has taken yet (a vector test checks that the client drew every secret libotr drew).
/// Exported only with the `test-hooks` cargo feature (never in release packages).
///
/// # Safety
///
/// `client` is NULL or a live client; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_test_client_queued_random_left(
    client: *const offrec_client,
    out: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let left = c.query(|client| client.test_queued_random_left())?;
        out::write(out, left)
    })
}

/// Test hook: sends one OTR SMP TLV of type `tlv_type` (2-7: SMP1, SMP2, SMP3, SMP4, SMP_ABORT,
/// SMP1Q) carrying `value` (any bytes, at most `OFFREC_MAX_TEXT_LEN`) in a data message on the
/// OTR session with remote `instance` of `peer` (0 = the session `offrec_client_send` would
/// use), as libotr sends SMP (empty text, IGNORE_UNREADABLE). The client's own SMP state is not
/// touched. Tests use it to put on the wire what no honest client sends: libotr's recorded SMP
/// messages, malformed SMP values. `OFFREC_RESULT_NO_SESSION` without an OTR session,
/// `OFFREC_RESULT_INVALID_ARGUMENT` for another TLV type. Exported only with the `test-hooks`
/// cargo feature (never in release packages).
///
/// # Safety
///
/// `client` is NULL or a live client; pointers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn offrec_test_client_send_otr_smp(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
    tlv_type: u32,
    value: *const u8,
    value_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(value_len, OFFREC_MAX_TEXT_LEN)?;
        let value = bytes::borrow(value, value_len)?;
        let instance = instance_from_c(instance);
        let tlv_type = u16::try_from(tlv_type).map_err(|_| OffrecResult::InvalidArgument)?;
        c.run(Sizing::Peer(peer), |client, now| {
            let actions = client.test_send_otr_smp(peer, instance, tlv_type, value, now).map_err(client_error)?;
            Ok(((), actions))
        })
    })
}
