//! The library's version, as a static string.

use std::ffi::c_char;

use crate::ffi::panic::catch;

/// `CARGO_PKG_VERSION` with a NUL terminator, so C can read it in place.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Returns the library's version as a static, NUL-terminated string such as `"0.1.0"`.
///
/// It equals the header's `OFFREC_VERSION` when the header and the library match. The string is
/// never NULL, lives for the whole process and must not be freed. Safe from any thread.
#[no_mangle]
pub extern "C" fn offrec_version() -> *const c_char {
    catch(|| VERSION.as_ptr().cast::<c_char>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_is_the_package_version() {
        // SAFETY: offrec_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(offrec_version()) };
        assert_eq!(v.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }
}
