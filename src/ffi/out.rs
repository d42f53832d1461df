//! Out-pointers: the one place that writes through a pointer C gave us for a result.
//!
//! Rule (SECURITY.md §9): outputs are written only on success. Check every out-pointer with
//! `check` *before* doing work that has effects, then `write` / `write_handle` at the end.

use crate::ffi::handle::{self, Handle};
use crate::ffi::result::OffrecResult;

/// Fails with `NullArgument` if `out` is NULL. Use it up front, before any side effect.
pub(crate) fn check<T>(out: *mut T) -> Result<(), OffrecResult> {
    if out.is_null() {
        Err(OffrecResult::NullArgument)
    } else {
        Ok(())
    }
}

/// Writes `value` through `out` (NULL gives `NullArgument` and writes nothing).
///
/// The caller's contract: a non-NULL `out` points to writable, aligned storage for a `T`.
pub(crate) fn write<T>(out: *mut T, value: T) -> Result<(), OffrecResult> {
    check(out)?;
    // SAFETY: `out` is non-NULL and, by the caller's contract, valid for an aligned write of T.
    // `write` does not read or drop the old (possibly uninitialised) contents.
    unsafe { out.write(value) };
    Ok(())
}

/// Hands a new object to C through `out` as an owned handle. On NULL `out` the object is
/// dropped (nothing leaks) and `NullArgument` is returned.
pub(crate) fn write_handle<T: Handle>(out: *mut *mut T::Opaque, value: Box<T>) -> Result<(), OffrecResult> {
    check(out)?;
    write(out, handle::into_raw(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_to_non_null() {
        let mut x = 0u32;
        assert_eq!(write(&mut x, 5), Ok(()));
        assert_eq!(x, 5);
        assert_eq!(write(std::ptr::null_mut::<u32>(), 5), Err(OffrecResult::NullArgument));
    }
}
