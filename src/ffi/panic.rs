//! The panic boundary: the one place where `catch_unwind` is called.
//!
//! Every `extern "C"` function body runs inside [`catch`] (for functions that return a pointer,
//! number, bool or nothing) or [`catch_result`] (for functions that return an `offrec_result`).
//! A panic is caught there and turned into the function's [`PanicValue`]:
//! `OFFREC_RESULT_PANIC`, NULL, `0`, `false` or nothing.
//!
//! ```ignore
//! #[no_mangle]
//! pub extern "C" fn offrec_thing_do(thing: *const offrec_thing, out: *mut u32) -> OffrecResult {
//!     catch_result(|| {
//!         let thing = handle::borrow::<Thing>(thing)?;
//!         out::write(out, thing.value())
//!     })
//! }
//! ```
//!
//! Bodies are wrapped in `AssertUnwindSafe`: a handle whose method panicked may be left in an
//! unspecified state, which is memory safe (handles lock internally and poisoned locks are
//! reported, not ignored) and documented in `ffi/mod.rs`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ffi::result::OffrecResult;

/// The value an `extern "C"` function returns when its body panicked.
pub trait PanicValue {
    /// What C receives instead of the unwinding panic.
    fn on_panic() -> Self;
}

impl PanicValue for OffrecResult {
    fn on_panic() -> Self {
        OffrecResult::Panic
    }
}

impl<T> PanicValue for *const T {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl<T> PanicValue for *mut T {
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

impl PanicValue for bool {
    fn on_panic() -> Self {
        false
    }
}

impl PanicValue for () {
    fn on_panic() -> Self {}
}

macro_rules! zero_on_panic {
    ($($t:ty),*) => {
        $(impl PanicValue for $t {
            fn on_panic() -> Self {
                0
            }
        })*
    };
}
zero_on_panic!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// Runs an `extern "C"` body, turning a panic into `R::on_panic()`.
///
/// Use for functions that return a pointer (NULL on panic), a number (0), a bool (false) or
/// nothing. For functions returning `offrec_result`, prefer [`catch_result`], which also lets the
/// body use `?`.
pub fn catch<R: PanicValue>(body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| R::on_panic())
}

/// Runs an `extern "C"` body that returns `Result<(), OffrecResult>`, so it can use `?` on the
/// helpers in `handle`, `bytes` and `out`. `Ok(())` becomes `OFFREC_RESULT_OK`, `Err(code)`
/// becomes `code`, a panic becomes `OFFREC_RESULT_PANIC`.
pub fn catch_result(body: impl FnOnce() -> Result<(), OffrecResult>) -> OffrecResult {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => OffrecResult::Ok,
        Ok(Err(code)) => code,
        Err(_) => OffrecResult::Panic,
    }
}

/// Test hook: panics inside the panic boundary and returns what the boundary made of it.
///
/// Always returns `OFFREC_RESULT_PANIC`; the panic never unwinds into the caller. Exported only
/// when the library is built with the `test-hooks` cargo feature (never in release packages).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "C" fn offrec_test_panic() -> OffrecResult {
    catch_result(|| {
        #[allow(clippy::panic)]
        {
            panic!("offrec_test_panic: deliberate panic inside the FFI boundary")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the deliberate panics' messages out of the test output.
    fn quietly<R>(f: impl FnOnce() -> R) -> R {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = f();
        std::panic::set_hook(hook);
        r
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(catch_result(|| Ok(())), OffrecResult::Ok);
        assert_eq!(catch_result(|| Err(OffrecResult::NullArgument)), OffrecResult::NullArgument);
        assert_eq!(catch(|| 7u32), 7);
    }

    #[test]
    fn panics_become_the_panic_value() {
        quietly(|| {
            assert_eq!(catch_result(|| panic!("boom")), OffrecResult::Panic);
            assert_eq!(catch::<OffrecResult>(|| panic!("boom")), OffrecResult::Panic);
            assert!(catch::<*const u8>(|| panic!("boom")).is_null());
            assert!(catch::<*mut u8>(|| panic!("boom")).is_null());
            assert_eq!(catch::<usize>(|| panic!("boom")), 0);
            assert!(!catch::<bool>(|| panic!("boom")));
            catch::<()>(|| panic!("boom"));
        });
    }

    #[cfg(feature = "test-hooks")]
    #[test]
    fn test_hook_returns_the_panic_code() {
        assert_eq!(quietly(|| offrec_test_panic()), OffrecResult::Panic);
    }
}
