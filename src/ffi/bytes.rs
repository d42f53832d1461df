//! Bytes across the boundary: borrowed inputs, caller-buffer outputs and library-allocated
//! buffers (SECURITY.md §9, "Pointers"). The one place that turns `(ptr, len)` into a slice.
//!
//! * Inputs are `(const uint8_t *ptr, size_t len)`, borrowed for the call only: `borrow`,
//!   `borrow_str`, with `check_cap` to refuse oversized input before touching it.
//! * Outputs either go into a caller buffer with an out-length (`write_into`), or are
//!   library-allocated as an `offrec_buffer` (`write_buffer`) that C releases with
//!   `offrec_buffer_free`, never `free()`.

use std::ffi::c_char;

use crate::conversation::MAX_NAME_LEN;
use crate::ffi::out;
use crate::ffi::panic::catch;
use crate::ffi::result::OffrecResult;

/// Borrows C's `(ptr, len)` as a byte slice for the duration of one call.
///
/// NULL with `len == 0` is the empty slice; NULL with `len > 0` is `NullArgument`; a `len` no
/// Rust slice can have (over `isize::MAX`) is `InvalidArgument`. Caller's contract: a non-NULL
/// `ptr` points to `len` readable bytes that nobody writes during the call.
pub(crate) fn borrow<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], OffrecResult> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(OffrecResult::NullArgument) };
    }
    if len > isize::MAX as usize {
        return Err(OffrecResult::InvalidArgument);
    }
    // SAFETY: `ptr` is non-NULL, `len` fits a slice, and by the caller's contract the bytes are
    // readable and not mutated during the call; the slice is not kept beyond it.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows C's `(ptr, len)` as UTF-8 text (not NUL-terminated; a NUL byte is just a character).
/// Errors as [`borrow`], plus `InvalidUtf8`.
pub(crate) fn borrow_str<'a>(ptr: *const u8, len: usize) -> Result<&'a str, OffrecResult> {
    let bytes = borrow(ptr, len)?;
    // Every protocol message is ASCII (armour, base64, fragments), and `all_ascii` checks a
    // whole wire text in a fraction of the time `from_utf8` takes; other text takes the full check.
    if all_ascii(bytes) {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|_| OffrecResult::InvalidUtf8)
}

/// Whether every byte is ASCII. ORs 64-byte blocks into one accumulator without a branch per
/// block (the compiler keeps it in vector registers), then checks the tail: about three times
/// faster than `<[u8]>::is_ascii` on a wire text of a few hundred bytes (every 100 B message),
/// as fast on long ones. Text that is not ASCII is scanned whole, then checked by `from_utf8`.
fn all_ascii(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(64);
    let mut seen = [0u8; 64];
    for block in &mut blocks {
        for (acc, byte) in seen.iter_mut().zip(block) {
            *acc |= byte;
        }
    }
    seen.iter().fold(0, |acc, byte| acc | byte).is_ascii() && blocks.remainder().is_ascii()
}

/// Refuses an input length over `max` with `MessageTooLarge`. Call it before [`borrow`] so an
/// oversized input is rejected without being read.
pub(crate) fn check_cap(len: usize, max: usize) -> Result<(), OffrecResult> {
    if len > max {
        Err(OffrecResult::MessageTooLarge)
    } else {
        Ok(())
    }
}

/// Borrows C text `(const char *ptr, size_t len)` as UTF-8 (not NUL-terminated). The one place
/// that reinterprets `char` as bytes; errors as [`borrow_str`].
pub(crate) fn borrow_chars<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, OffrecResult> {
    borrow_str(ptr.cast::<u8>(), len)
}

/// Borrows a peer, account or network name: 1..=`MAX_NAME_LEN` bytes of UTF-8. Empty or too
/// long is `InvalidArgument` (checked before reading); NULL with `len > 0` is `NullArgument`.
pub(crate) fn borrow_name<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, OffrecResult> {
    if ptr.is_null() && len > 0 {
        return Err(OffrecResult::NullArgument);
    }
    if len == 0 || len > MAX_NAME_LEN {
        return Err(OffrecResult::InvalidArgument);
    }
    borrow_chars(ptr, len)
}

/// Borrows an optional C text: NULL with `len == 0` is `None`, NULL with `len > 0` is `NullArgument`; a non-NULL pointer gives `Some` (possibly empty).
pub(crate) fn borrow_optional_chars<'a>(ptr: *const c_char, len: usize) -> Result<Option<&'a str>, OffrecResult> {
    if ptr.is_null() {
        return if len == 0 { Ok(None) } else { Err(OffrecResult::NullArgument) };
    }
    borrow_chars(ptr, len).map(Some)
}

/// Reads a fixed 32-byte input (fingerprint, key). NULL is `NullArgument`.
pub(crate) fn borrow_32(ptr: *const u8) -> Result<[u8; 32], OffrecResult> {
    if ptr.is_null() {
        return Err(OffrecResult::NullArgument);
    }
    let bytes = borrow(ptr, 32)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// Borrows C's array `(const T *ptr, size_t count)` for one call, like [`borrow`] for bytes
/// (NULL with `count == 0` is empty; NULL with `count > 0` is `NullArgument`).
pub(crate) fn borrow_array<'a, T>(ptr: *const T, count: usize) -> Result<&'a [T], OffrecResult> {
    if ptr.is_null() {
        return if count == 0 { Ok(&[]) } else { Err(OffrecResult::NullArgument) };
    }
    if count.checked_mul(std::mem::size_of::<T>()).is_none_or(|n| n > isize::MAX as usize) {
        return Err(OffrecResult::InvalidArgument);
    }
    if !ptr.is_aligned() {
        return Err(OffrecResult::InvalidArgument);
    }
    // SAFETY: non-NULL, aligned, the size fits a slice, and by the caller's contract `count`
    // initialised `T`s are readable and not mutated during the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// Copies a plain struct C passed by pointer (NULL is `NullArgument`).
pub(crate) fn read_struct<T: Copy>(ptr: *const T) -> Result<T, OffrecResult> {
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(OffrecResult::NullArgument);
    }
    // SAFETY: non-NULL and aligned; by the caller's contract it points to an initialised `T`.
    Ok(unsafe { ptr.read() })
}

/// Writes exactly 32 bytes into a caller's 32-byte output (NULL is `NullArgument`).
pub(crate) fn write_32(out: *mut u8, src: &[u8; 32]) -> Result<(), OffrecResult> {
    if out.is_null() {
        return Err(OffrecResult::NullArgument);
    }
    // SAFETY: non-NULL and, by the caller's contract, valid for 32 writable bytes that do not
    // overlap `src` (which Rust owns).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), out, 32) };
    Ok(())
}

/// Copies `src` into the caller's buffer `(buf, cap)` and writes its length to `*out_len`.
///
/// If `cap < src.len()`, nothing is copied, the **needed** length is written to `*out_len` and
/// `BufferTooSmall` is returned, so a caller may first ask with `buf = NULL, cap = 0`. This is
/// the one documented exception to "outputs only on success". `out_len` NULL, or `buf` NULL with
/// `cap > 0`, is `NullArgument` and writes nothing.
pub(crate) fn write_into(src: &[u8], buf: *mut u8, cap: usize, out_len: *mut usize) -> Result<(), OffrecResult> {
    out::check(out_len)?;
    if buf.is_null() && cap > 0 {
        return Err(OffrecResult::NullArgument);
    }
    if cap < src.len() {
        out::write(out_len, src.len())?;
        return Err(OffrecResult::BufferTooSmall);
    }
    if !src.is_empty() {
        // SAFETY: `buf` is non-NULL here (cap >= src.len() > 0), by the caller's contract valid
        // for `cap` writable bytes, and cannot overlap `src`, which Rust owns or borrows.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), buf, src.len()) };
    }
    out::write(out_len, src.len())
}

/// A byte buffer allocated by the library and owned by the caller.
///
/// Release it with `offrec_buffer_free`, never `free()`. An empty buffer has `data == NULL` and
/// `len == 0`. Plain data: no internal locking; it belongs to whoever holds it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct offrec_buffer {
    /// The bytes, or NULL when `len` is 0.
    pub data: *mut u8,
    /// The number of bytes at `data`.
    pub len: usize,
}

impl offrec_buffer {
    /// An empty buffer (`data == NULL`, `len == 0`), safe to free.
    pub const EMPTY: offrec_buffer = offrec_buffer { data: std::ptr::null_mut(), len: 0 };

    /// Moves bytes into a library-allocated buffer for C.
    pub fn from_vec(bytes: Vec<u8>) -> offrec_buffer {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        let boxed: Box<[u8]> = bytes.into_boxed_slice();
        let len = boxed.len();
        offrec_buffer { data: Box::into_raw(boxed).cast::<u8>(), len }
    }
}

/// Hands `bytes` to C through `*out` as a library-allocated buffer. On NULL `out` nothing is
/// allocated and `NullArgument` is returned.
pub(crate) fn write_buffer(out: *mut offrec_buffer, bytes: Vec<u8>) -> Result<(), OffrecResult> {
    out::check(out)?;
    out::write(out, offrec_buffer::from_vec(bytes))
}

/// Releases the bytes of a buffer the library allocated and resets it to empty
/// (`data = NULL`, `len = 0`), so freeing it again is harmless.
///
/// `buf` NULL, or a buffer whose `data` is NULL, is a no-op. The buffer must have come from this
/// library with its `data` and `len` unchanged. Thread rules: not concurrently with any other use
/// of the same buffer.
///
/// # Safety
///
/// `buf` is NULL or points to a writable `offrec_buffer` filled in by this library.
#[no_mangle]
pub unsafe extern "C" fn offrec_buffer_free(buf: *mut offrec_buffer) {
    catch(|| {
        // SAFETY: a non-NULL `buf` points to an offrec_buffer the caller owns (# Safety above).
        let Some(buf) = (unsafe { buf.as_mut() }) else { return };
        let taken = std::mem::replace(buf, offrec_buffer::EMPTY);
        if taken.data.is_null() {
            return;
        }
        let slice = std::ptr::slice_from_raw_parts_mut(taken.data, taken.len);
        // SAFETY: `data`/`len` are exactly what `from_vec` produced from a `Box<[u8]>` and are
        // freed once: the caller's struct was reset to empty above.
        let mut owned = unsafe { Box::from_raw(slice) };
        // Buffers may hold secrets (a sealed store is not secret, but forged text may be):
        // wipe before returning the memory.
        zeroize::Zeroize::zeroize(&mut *owned);
        drop(owned);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_handles_null_and_empty() {
        assert_eq!(borrow(std::ptr::null(), 0), Ok(&[][..]));
        assert_eq!(borrow(std::ptr::null(), 1), Err(OffrecResult::NullArgument));
        let data = [1u8, 2, 3];
        assert_eq!(borrow(data.as_ptr(), 3), Ok(&data[..]));
        assert_eq!(borrow(data.as_ptr(), usize::MAX), Err(OffrecResult::InvalidArgument));
    }

    #[test]
    fn borrow_str_checks_utf8() {
        let ok = "héllo";
        assert_eq!(borrow_str(ok.as_ptr(), ok.len()), Ok(ok));
        let bad = [0xffu8, 0xfe];
        assert_eq!(borrow_str(bad.as_ptr(), 2), Err(OffrecResult::InvalidUtf8));
        // The ASCII fast path: ASCII is taken whole, one byte past ASCII goes to the full check
        // (valid or not) wherever it sits in a long wire text.
        let mut long = "?OFR:".to_owned() + &"QUJD".repeat(1000) + ".";
        assert_eq!(borrow_str(long.as_ptr(), long.len()), Ok(long.as_str()));
        long.insert(2000, 'é');
        assert_eq!(borrow_str(long.as_ptr(), long.len()), Ok(long.as_str()));
        let mut bytes = long.into_bytes();
        bytes.remove(2000); // a lone continuation byte
        assert_eq!(borrow_str(bytes.as_ptr(), bytes.len()), Err(OffrecResult::InvalidUtf8));
        for at in [0, 1, 31, 32, 33, 4000] {
            let mut high = vec![b'A'; 4002];
            high[at] = 0x80;
            assert_eq!(borrow_str(high.as_ptr(), high.len()), Err(OffrecResult::InvalidUtf8), "at {at}");
        }
    }

    #[test]
    fn all_ascii_agrees_with_is_ascii_everywhere() {
        // Every length around the 64-byte blocks, with one high byte at every position (and none).
        for len in 0..=200usize {
            let mut bytes = vec![b'Q'; len];
            assert!(all_ascii(&bytes), "len {len}");
            for at in 0..len {
                for high in [0x80u8, 0xc3, 0xff] {
                    bytes[at] = high;
                    assert!(!all_ascii(&bytes), "len {len} at {at}");
                    assert_eq!(all_ascii(&bytes), bytes.is_ascii());
                    assert_eq!(borrow_str(bytes.as_ptr(), len).is_ok(), std::str::from_utf8(&bytes).is_ok());
                }
                bytes[at] = 0x7f;
                assert!(all_ascii(&bytes), "len {len}, DEL at {at}");
                bytes[at] = b'Q';
            }
        }
        // Two high bytes in neighbouring lanes of the blocks: a fold that cancelled equal bits
        // (XOR instead of OR) would call them ASCII.
        for len in [64usize, 128, 200] {
            for at in 0..len - 1 {
                let mut bytes = vec![b'Q'; len];
                bytes[at] = 0x80;
                bytes[at + 1] = 0x80;
                assert!(!all_ascii(&bytes), "len {len}, high bytes at {at} and {}", at + 1);
            }
        }
    }

    #[test]
    fn cap() {
        assert_eq!(check_cap(10, 10), Ok(()));
        assert_eq!(check_cap(11, 10), Err(OffrecResult::MessageTooLarge));
    }

    #[test]
    fn write_into_reports_needed_length() {
        let src = b"hello";
        let mut len = 0usize;
        assert_eq!(write_into(src, std::ptr::null_mut(), 0, &mut len), Err(OffrecResult::BufferTooSmall));
        assert_eq!(len, 5);
        let mut small = [0u8; 4];
        assert_eq!(write_into(src, small.as_mut_ptr(), small.len(), &mut len), Err(OffrecResult::BufferTooSmall));
        assert_eq!(small, [0; 4], "nothing copied on failure");
        let mut big = [0u8; 8];
        assert_eq!(write_into(src, big.as_mut_ptr(), big.len(), &mut len), Ok(()));
        assert_eq!((&big[..5], len), (&src[..], 5));
        assert_eq!(write_into(src, std::ptr::null_mut(), 8, &mut len), Err(OffrecResult::NullArgument));
        assert_eq!(write_into(src, big.as_mut_ptr(), 8, std::ptr::null_mut()), Err(OffrecResult::NullArgument));
        assert_eq!(write_into(b"", std::ptr::null_mut(), 0, &mut len), Ok(()));
        assert_eq!(len, 0);
    }

    #[test]
    fn buffers_round_trip_and_free_is_idempotent() {
        let mut buf = offrec_buffer::EMPTY;
        assert_eq!(write_buffer(&mut buf, b"abc".to_vec()), Ok(()));
        assert_eq!(buf.len, 3);
        assert_eq!(borrow(buf.data, buf.len), Ok(&b"abc"[..]));
        // SAFETY: the buffer came from this module.
        unsafe { offrec_buffer_free(&mut buf) };
        assert!(buf.data.is_null());
        assert_eq!(buf.len, 0);
        unsafe { offrec_buffer_free(&mut buf) }; // second free: no-op
        unsafe { offrec_buffer_free(std::ptr::null_mut()) }; // NULL: no-op

        let mut empty = offrec_buffer::EMPTY;
        assert_eq!(write_buffer(&mut empty, Vec::new()), Ok(()));
        assert!(empty.data.is_null());
        // SAFETY: the buffer came from this module.
        unsafe { offrec_buffer_free(&mut empty) };
        assert_eq!(write_buffer(std::ptr::null_mut(), b"x".to_vec()), Err(OffrecResult::NullArgument));
    }

    #[test]
    fn spare_capacity_is_not_leaked_or_mismatched() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"abc");
        let mut buf = offrec_buffer::from_vec(v);
        // SAFETY: the buffer came from this module.
        unsafe { offrec_buffer_free(&mut buf) };
    }
}
