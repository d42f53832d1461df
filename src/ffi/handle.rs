//! Opaque handles: the one place that turns a C pointer into a Rust reference.
//!
//! Each C object is a zero-sized opaque struct on the C side (`typedef struct offrec_client
//! offrec_client;`), tied to exactly one Rust type through the `Handle` trait. A handle pointer
//! is a `Box<T>` turned into a raw pointer and cast to `*mut T::Opaque`; the helpers here are the
//! only code that casts it back.
//!
//! # Adding a C object
//!
//! ```ignore
//! /// A conversation client. Thread rules: safe to use from many threads at once.
//! pub struct offrec_client {
//!     _private: [u8; 0], // no #[repr(C)]: cbindgen emits an opaque forward declaration
//! }
//!
//! impl Handle for Client {
//!     type Opaque = offrec_client;
//! }
//!
//! #[no_mangle]
//! pub extern "C" fn offrec_client_new(out: *mut *mut offrec_client) -> OffrecResult {
//!     catch_result(|| out::write_handle(out, Box::new(Client::new())))
//! }
//!
//! #[no_mangle]
//! pub extern "C" fn offrec_client_free(client: *mut offrec_client) {
//!     catch(|| handle::free::<Client>(client))
//! }
//! ```
//!
//! # Safety contract (what C callers promise)
//!
//! A non-NULL handle pointer passed to the library was returned by the same object's
//! constructor, has not been freed or consumed, and is not freed by another thread while the
//! call runs. Under that contract the helpers are sound; NULL is always detected and reported as
//! `OFFREC_RESULT_NULL_ARGUMENT` (or ignored, for `free`). Handles are only ever lent out as
//! shared references (`&T`): mutation goes through the type's internal locking, which is why
//! `Handle` requires `Send + Sync`.

use crate::ffi::result::OffrecResult;

/// Ties a Rust type to the opaque C struct that stands for it.
///
/// `T: Send + Sync` because C may use a handle from several threads at once (SECURITY.md §9, "Threads"): put
/// interior state behind a lock, and give any `unsafe impl Send/Sync` a `// Safety:` comment.
pub(crate) trait Handle: Sized + Send + Sync {
    /// The zero-sized struct exported to C as `offrec_<object>`.
    type Opaque;
}

/// Gives a new object to C as an owned handle. C releases it with the object's `_free`
/// function, or passes it to a call documented as consuming it.
pub(crate) fn into_raw<T: Handle>(value: Box<T>) -> *mut T::Opaque {
    Box::into_raw(value).cast::<T::Opaque>()
}

/// Borrows the object behind a handle for the duration of one call.
///
/// Returns `Err(NullArgument)` for NULL. The reference must not outlive the `extern "C"` call
/// that received the pointer: never store it.
pub(crate) fn borrow<'a, T: Handle>(ptr: *const T::Opaque) -> Result<&'a T, OffrecResult> {
    // SAFETY: by the module's contract a non-NULL pointer came from `into_raw::<T>` (so it is a
    // live, aligned `T`) and is not freed during this call; we hand out only a shared reference.
    unsafe { ptr.cast::<T>().as_ref() }.ok_or(OffrecResult::NullArgument)
}

/// Takes ownership back from C, for calls that consume a handle.
///
/// A consuming call must consume on every path, errors included: call `take` first and let the
/// `Box` drop on error. Returns `Err(NullArgument)` for NULL.
pub(crate) fn take<T: Handle>(ptr: *mut T::Opaque) -> Result<Box<T>, OffrecResult> {
    if ptr.is_null() {
        return Err(OffrecResult::NullArgument);
    }
    // SAFETY: by the module's contract the pointer came from `into_raw::<T>` and C gives up its
    // ownership by calling a consuming function; it is not used again.
    Ok(unsafe { Box::from_raw(ptr.cast::<T>()) })
}

/// Frees a handle. NULL is a no-op; freeing the same non-NULL handle twice is the caller's bug.
pub(crate) fn free<T: Handle>(ptr: *mut T::Opaque) {
    // NULL gives Err, which is exactly the no-op we want.
    drop(take::<T>(ptr));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct OpaqueCounter {
        _private: [u8; 0],
    }

    struct Counter {
        value: u32,
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Counter {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Handle for Counter {
        type Opaque = OpaqueCounter;
    }

    #[test]
    fn round_trip_borrow_take_free() {
        let drops = Arc::new(AtomicUsize::new(0));
        let ptr = into_raw(Box::new(Counter { value: 42, drops: drops.clone() }));
        assert!(!ptr.is_null());
        assert_eq!(borrow::<Counter>(ptr).map(|c| c.value), Ok(42));
        let back = take::<Counter>(ptr).map(|c| c.value);
        assert_eq!(back, Ok(42));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "take then drop frees once");

        let ptr = into_raw(Box::new(Counter { value: 1, drops: drops.clone() }));
        free::<Counter>(ptr);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn null_is_detected() {
        assert_eq!(borrow::<Counter>(std::ptr::null()).err(), Some(OffrecResult::NullArgument));
        assert_eq!(take::<Counter>(std::ptr::null_mut()).err(), Some(OffrecResult::NullArgument));
        free::<Counter>(std::ptr::null_mut()); // no-op
    }
}
