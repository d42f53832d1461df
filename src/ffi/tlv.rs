//! Application TLVs across the boundary: `offrec_tlv` and `offrec_client_send_tlvs`. Received
//! TLVs arrive as `OFFREC_EVENT_CODE_TLV_RECEIVED` events (`event.rs`).

use std::ffi::c_char;

use crate::conversation::AppTlv;
use crate::ffi::bytes;
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::OFFREC_MAX_TEXT_LEN;

/// The first TLV type applications may use; their range is `OFFREC_TLV_APP_FIRST` to 0xFFFF,
/// in both protocols. Lower types are the protocols' own (offrec's 0-7, OTR's 0-8, offrec's
/// upgrade probe 0x4F46 inside OTR, and any a later version adds) and are refused with
/// `OFFREC_RESULT_TLV_TYPE_RESERVED`. OTR peers skip types they do not know, so a libotr
/// program that does not look for a type ignores it (one that does finds it with
/// `otrl_tlv_find`).
pub const OFFREC_TLV_APP_FIRST: u16 = 0x8000;
/// The most application TLVs one `offrec_client_send_tlvs` call sends
/// (`OFFREC_RESULT_TOO_MANY_TLVS` beyond).
pub const OFFREC_MAX_TLVS: usize = 16;
/// The most bytes of TLV values one call sends, all TLVs together
/// (`OFFREC_RESULT_MESSAGE_TOO_LARGE` beyond).
pub const OFFREC_MAX_TLV_BYTES: usize = 65535;

/// One application TLV to send with `offrec_client_send_tlvs`. Plain data, borrowed by the
/// call only.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct offrec_tlv {
    /// The type: `OFFREC_TLV_APP_FIRST` to 0xFFFF.
    pub r#type: u16,
    /// The value's bytes (may be NULL when `len` is 0).
    pub data: *const u8,
    /// The value's length in bytes.
    pub len: usize,
}

/// Sends `text` (`text_len` bytes, may be 0) with `count` application TLVs from `tlvs` to
/// `peer`, over the encrypted session a plain `offrec_client_send` would use (after any
/// messages held for `peer`, which go first). It works in offrec's protocol and in OTR v3,
/// where the TLVs travel in the data message's TLV area as libotr's `otrl_message_sending`
/// puts them. OTR v2 sessions refuse TLVs with `OFFREC_RESULT_TLVS_UNSUPPORTED` (python-potr,
/// v2's main implementation, fails on TLV types it does not know; text alone still works). The peer's `event` callback gets one
/// `OFFREC_EVENT_CODE_TLV_RECEIVED` per TLV, in order, then `deliver` for the text if it is
/// not empty. An empty text with TLVs is a TLV-only message (libotr sends those too); empty
/// text with no TLV is `OFFREC_RESULT_INVALID_ARGUMENT`.
///
/// Nothing is held and nothing is sent in the clear: without an encrypted session that plain
/// sends may use (none, only sessions awaiting key consent, or sessions restored from a store)
/// it returns `OFFREC_RESULT_NO_SESSION` and sends nothing; start a session first.
///
/// Errors, checked before anything is sent: a type below `OFFREC_TLV_APP_FIRST`:
/// `OFFREC_RESULT_TLV_TYPE_RESERVED`; more than `OFFREC_MAX_TLVS`:
/// `OFFREC_RESULT_TOO_MANY_TLVS`; values over `OFFREC_MAX_TLV_BYTES` together, text over
/// `OFFREC_MAX_TEXT_LEN`, or a message the transport cannot carry:
/// `OFFREC_RESULT_MESSAGE_TOO_LARGE`; a NUL byte in the text of an OTR session:
/// `OFFREC_RESULT_INVALID_ARGUMENT`. On success `*out_message_id` receives the message's id,
/// after the call's callbacks (`send`, events) ran on this thread. Thread rules as
/// `offrec_client_send`.
///
/// # Safety
///
/// `client` is a live client; `peer` and `text` are NULL or valid for their lengths; `tlvs`
/// is NULL (with `count` 0) or points to `count` `offrec_tlv`s whose `data` are NULL or valid
/// for their `len`; `out_message_id` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_send_tlvs(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    text: *const c_char,
    text_len: usize,
    tlvs: *const offrec_tlv,
    count: usize,
    out_message_id: *mut u64,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(text_len, OFFREC_MAX_TEXT_LEN)?;
        let text = bytes::borrow(text.cast::<u8>(), text_len)?;
        if count > OFFREC_MAX_TLVS {
            return Err(OffrecResult::TooManyTlvs);
        }
        let raw = bytes::borrow_array(tlvs, count)?;
        let total = raw.iter().fold(0usize, |n, t| n.saturating_add(t.len));
        bytes::check_cap(total, OFFREC_MAX_TLV_BYTES)?;
        let tlvs = raw
            .iter()
            .map(|t| Ok(AppTlv { kind: t.r#type, value: bytes::borrow(t.data, t.len)? }))
            .collect::<Result<Vec<_>, OffrecResult>>()?;
        out::check(out_message_id)?;
        let id = c.run(Sizing::Peer(peer), |client, now| {
            client.send_with_tlvs(peer, text, &tlvs, now).map_err(client_error)
        })?;
        out::write(out_message_id, id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_engine() {
        // Literals above, for cbindgen; the engine's values are the truth.
        assert_eq!(OFFREC_TLV_APP_FIRST, crate::conversation::APP_TLV_FIRST);
        assert_eq!(OFFREC_MAX_TLVS, crate::conversation::MAX_APP_TLVS);
        assert_eq!(OFFREC_MAX_TLV_BYTES, crate::conversation::MAX_APP_TLV_BYTES);
    }
}
