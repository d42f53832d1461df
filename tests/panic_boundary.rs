//! The panic boundary seen from outside the crate, through the exported test hook.
//! Built only with `--features test-hooks` (see `[[test]]` in Cargo.toml; `make test` enables it).
//! The deliberate panics print their message to stderr; that is expected.

use offrec::ffi::panic::offrec_test_panic;
use offrec::ffi::OffrecResult;

#[test]
fn a_panic_inside_the_boundary_comes_back_as_the_panic_code() {
    // Since Rust 1.81 an unwind leaving an `extern "C"` function aborts the process, so reaching
    // the assertions at all shows that nothing escaped the boundary.
    let first = offrec_test_panic();
    let second = offrec_test_panic(); // the library stays usable after a caught panic
    assert_eq!(first, OffrecResult::Panic);
    assert_eq!(second, OffrecResult::Panic);
    assert_eq!(first as u32, 4);
}

#[test]
fn a_panic_on_another_thread_does_not_escape_either() {
    let joined = std::thread::spawn(|| offrec_test_panic()).join();
    assert_eq!(joined.ok(), Some(OffrecResult::Panic), "the thread must not have unwound");
}
