//! The panic boundary seen from outside the crate, through the exported test hook.
//! Needs `--features test-hooks` (`make test` enables it); without it the suite fails loudly
//! instead of compiling to nothing.
//! The deliberate panics print their message to stderr; that is expected.

#[cfg(not(feature = "test-hooks"))]
#[test]
fn panic_boundary_needs_the_test_hooks_feature() {
    panic!("the panic-boundary tests need the test hooks: cargo test --features test-hooks (make test)");
}

#[cfg(feature = "test-hooks")]
mod hooked {
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

    mod client_panic {
        use std::ffi::{c_char, c_void};

        use offrec::ffi::client::{
            offrec_client, offrec_client_free, offrec_client_new, offrec_client_send, offrec_client_session_count,
            offrec_test_client_panic_next,
        };
        use offrec::ffi::types::OFFREC_POLICY_MANUAL;
        use offrec::ffi::{OffrecCallbacks, OffrecResult, OffrecSecurity};

        unsafe extern "C" fn send(_: *mut c_void, _: *const c_char, _: usize, _: *const c_char, _: usize) {}
        unsafe extern "C" fn deliver(
            _: *mut c_void,
            _: *const c_char,
            _: usize,
            _: u32,
            _: *const u8,
            _: usize,
            _: OffrecSecurity,
        ) {
        }

        #[test]
        fn a_panic_with_the_client_locked_is_reported_and_the_client_stays_poisoned() {
            let callbacks = OffrecCallbacks {
                send: Some(send),
                deliver: Some(deliver),
                state_changed: None,
                event: None,
                max_message_size: None,
                now: None,
                is_logged_in: None,
            };
            let mut client: *mut offrec_client = std::ptr::null_mut();
            let mut id = 0u64;
            let mut count = 7usize;
            // SAFETY: valid pointers and lengths throughout; the client is freed once at the end.
            unsafe {
                let r = offrec_client_new(
                    c"alice".as_ptr(),
                    5,
                    c"net".as_ptr(),
                    3,
                    OFFREC_POLICY_MANUAL,
                    &callbacks,
                    std::ptr::null_mut(),
                    &mut client,
                );
                assert_eq!(r, OffrecResult::Ok);
                assert_eq!(
                    offrec_client_send(client, c"bob".as_ptr(), 3, c"hi".as_ptr(), 2, &mut id),
                    OffrecResult::Ok
                );
                assert_eq!(id, 1);
                assert_eq!(offrec_test_client_panic_next(client), OffrecResult::Ok);
                assert_eq!(
                    offrec_client_send(client, c"bob".as_ptr(), 3, c"hi".as_ptr(), 2, &mut id),
                    OffrecResult::Panic
                );
                assert_eq!(id, 1, "no output on failure");
                // Poisoned from now on: reported, never a crash or a deadlock.
                assert_eq!(
                    offrec_client_send(client, c"bob".as_ptr(), 3, c"hi".as_ptr(), 2, &mut id),
                    OffrecResult::Panic
                );
                assert_eq!(offrec_client_session_count(client, c"bob".as_ptr(), 3, &mut count), OffrecResult::Panic);
                assert_eq!(count, 7);
                offrec_client_free(client);
            }
        }
    }
}
