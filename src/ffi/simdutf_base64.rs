//! The one foreign library the engine calls: simdutf's base64 (C++, through the `simdutf`
//! crate), wrapped here because its functions take raw pointers and this is the crate's only
//! module allowed `unsafe`. `wire::base64` is the safe API the armours use.
//!
//! The contract each call relies on (simdutf's documentation of these functions):
//! * `binary_to_base64` writes exactly `base64_length_from_binary(len)` bytes of padded
//!   standard base64 and returns that count;
//! * `base64_to_binary` writes at most `maximal_binary_length_from_base64(input)` bytes, never
//!   more than 3 per 4 input bytes, and on success returns the count written.

use simdutf::{Base64Options, ErrorCode, LastChunkHandlingOptions};

/// Appends the padded standard base64 of `binary` to `out` (no reallocation if `out` has room).
pub(crate) fn encode_append(binary: &[u8], out: &mut String) {
    let len = simdutf::base64_length_from_binary(binary.len(), Base64Options::Default);
    // SAFETY: the bytes written into the String are base64 characters (ASCII), so it stays
    // UTF-8; they go into capacity reserved for `len` bytes, and the length grows only by what
    // simdutf reports written, which its contract bounds by `len`.
    unsafe {
        let bytes = out.as_mut_vec();
        bytes.reserve(len);
        let start = bytes.len();
        let written = simdutf::binary_to_base64(
            binary.as_ptr(),
            binary.len(),
            bytes.as_mut_ptr().add(start),
            Base64Options::Default,
        );
        bytes.set_len(start + written.min(len));
    }
}

/// Decodes padded standard base64 into the end of `out`, strictly: its length a multiple of 4,
/// only the standard alphabet, canonical padding, zero trailing bits, and no white space (which
/// simdutf would skip: a skipped character makes the decoded length differ from the exact length
/// of a strict text, so the length check rejects it). On failure `out` keeps its length.
pub(crate) fn decode_append(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if text.len() % 4 != 0 {
        return None;
    }
    let padding = text.iter().rev().take(2).filter(|&&c| c == b'=').count();
    let exact = (text.len() / 4 * 3).checked_sub(padding)?;
    let room = text.len() / 4 * 3; // simdutf's maximal length is never more
    out.reserve(room);
    let start = out.len();
    // SAFETY: `text` is a valid slice; the output pointer has `room` bytes of reserved capacity,
    // at least what simdutf may write for `text` (3 per 4 input bytes); the length grows only
    // on success, by the count simdutf reports written, checked against `exact` <= `room`.
    unsafe {
        let result = simdutf::base64_to_binary(
            text.as_ptr(),
            text.len(),
            out.as_mut_ptr().add(start),
            Base64Options::Default,
            LastChunkHandlingOptions::Strict,
        );
        if result.error != ErrorCode::Success || result.count != exact {
            return None;
        }
        out.set_len(start + exact);
    }
    Some(())
}
