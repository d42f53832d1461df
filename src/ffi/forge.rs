//! Forging (deniability): rewriting a captured data message once its key was revealed.

use std::ffi::c_char;

use crate::ffi::bytes::{self, offrec_buffer};
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::OFFREC_MAX_TEXT_LEN;
use crate::forge::{forge_wire, ForgeError};

/// At most this many later messages are searched for the revealed material.
pub const OFFREC_MAX_FORGE_LATER: usize = 1024;

/// Rewrites the captured data message `captured` (wire text) so that it carries `new_text`
/// instead of `known_text`, with a tag that verifies under the original key, using the key
/// material the receiver revealed in one of its `later` messages (`later_count` wire texts, at
/// most `OFFREC_MAX_FORGE_LATER`, the i-th `later_lens[i]` bytes long). Nothing secret is
/// needed: this is what makes transcripts deniable.
///
/// On success `*out` receives the forged wire text (not NUL-terminated), library-allocated:
/// release it with `offrec_buffer_free`. Errors: `OFFREC_RESULT_NOT_A_DATA_MESSAGE`,
/// `OFFREC_RESULT_NO_MATCHING_REVEAL`, `OFFREC_RESULT_TEXT_DOES_NOT_FIT`. Needs no client; safe
/// from any thread.
///
/// # Safety
///
/// Pointers are NULL or valid for their lengths (`later` and `later_lens` for `later_count`
/// elements); `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_forge(
    captured: *const c_char,
    captured_len: usize,
    later: *const *const c_char,
    later_lens: *const usize,
    later_count: usize,
    known_text: *const u8,
    known_len: usize,
    new_text: *const u8,
    new_len: usize,
    out: *mut offrec_buffer,
) -> OffrecResult {
    catch_result(|| {
        out::check(out)?;
        bytes::check_cap(captured_len, OFFREC_MAX_TEXT_LEN)?;
        let captured = bytes::borrow_chars(captured, captured_len)?;
        if later_count > OFFREC_MAX_FORGE_LATER {
            return Err(OffrecResult::InvalidArgument);
        }
        let pointers = bytes::borrow_array(later, later_count)?;
        let lens = bytes::borrow_array(later_lens, later_count)?;
        let mut texts = Vec::with_capacity(later_count);
        for (&ptr, &len) in pointers.iter().zip(lens) {
            bytes::check_cap(len, OFFREC_MAX_TEXT_LEN)?;
            texts.push(bytes::borrow_chars(ptr, len)?);
        }
        bytes::check_cap(known_len, OFFREC_MAX_TEXT_LEN)?;
        let known = bytes::borrow(known_text, known_len)?;
        bytes::check_cap(new_len, OFFREC_MAX_TEXT_LEN)?;
        let new = bytes::borrow(new_text, new_len)?;
        let forged = forge_wire(captured, &texts, known, new).map_err(|e| match e {
            ForgeError::NotADataMessage => OffrecResult::NotADataMessage,
            ForgeError::NoMatchingReveal => OffrecResult::NoMatchingReveal,
            ForgeError::KnownTextDoesNotFit | ForgeError::NewTextDoesNotFit => OffrecResult::TextDoesNotFit,
        })?;
        bytes::write_buffer(out, forged.into_bytes())
    })
}
