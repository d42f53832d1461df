//! Evidence that secrets are wiped before their memory is freed. This test binary installs a
//! global allocator that, while armed, looks into every block handed back to it for a watched
//! byte pattern. Dropping a boxed `SecretKey`, and `offrec_buffer_free` on a library buffer, must
//! hand back memory that no longer holds the secret; a plain box, the control, still does.
//! Removing a wipe (the `ZeroizeOnDrop` on `SecretKey`, the `zeroize` in `offrec_buffer_free`,
//! either half of `crypto::wipe::wipe`) fails a test here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_char;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use offrec::crypto::SecretKey;
use offrec::ffi::bytes::offrec_buffer_free;
use offrec::ffi::forge::offrec_forge;
use offrec::ffi::{offrec_buffer, OffrecResult};

const WATCH_LEN: usize = 32;

/// Watches freed blocks for `WATCH` while `ARMED`; counts the hits in `FOUND`. Lock-free and
/// allocation-free, as an allocator must be.
struct Inspecting;

static ARMED: AtomicBool = AtomicBool::new(false);
static WATCH: [AtomicU8; WATCH_LEN] = [const { AtomicU8::new(0) }; WATCH_LEN];
static FOUND: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) && layout.size() >= WATCH_LEN {
            // SAFETY: the block is still ours until System.dealloc below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            let hit =
                block.windows(WATCH_LEN).any(|w| w.iter().zip(&WATCH).all(|(b, x)| *b == x.load(Ordering::Relaxed)));
            if hit {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

/// Runs `free` with the allocator armed for `pattern`; returns how many freed blocks held it.
fn freed_blocks_holding(pattern: &[u8], free: impl FnOnce()) -> usize {
    for (slot, byte) in WATCH.iter().zip(pattern) {
        slot.store(*byte, Ordering::Relaxed);
    }
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    free();
    ARMED.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

const SECRET: [u8; 32] = *b"\xa5this secret must not be freed\x5a\xc3";

#[test]
fn the_detector_sees_an_unwiped_box() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let plain = Box::new(std::hint::black_box(SECRET));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(plain)), 1, "the control must be caught");
}

#[test]
fn a_dropped_secret_key_is_wiped_before_its_memory_is_freed() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = Box::new(SecretKey::from_bytes(std::hint::black_box(SECRET)));
    assert_eq!(key.expose(), &SECRET);
    assert_eq!(freed_blocks_holding(&SECRET, || drop(key)), 0, "SecretKey bytes left in freed memory");
}

#[test]
fn a_buffer_wiped_in_bulk_leaves_nothing_when_freed() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Contents and spare capacity both held the secret (a buffer that shrank keeps old bytes).
    let mut buf = Vec::with_capacity(4 * WATCH_LEN);
    buf.extend_from_slice(&std::hint::black_box(SECRET));
    buf.extend_from_slice(&std::hint::black_box(SECRET));
    buf.truncate(WATCH_LEN);
    offrec::crypto::wipe::wipe(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(freed_blocks_holding(&SECRET, || drop(buf)), 0, "wipe left the secret in the allocation");
}

#[test]
fn offrec_buffer_free_wipes_the_buffer_before_freeing_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let vector: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/vectors/forge.json").unwrap()).unwrap();
    let text = |k: &str| vector[k].as_str().unwrap().to_owned();
    let (captured, later, known, new) =
        (text("captured"), vector["later"][0].as_str().unwrap().to_owned(), text("known"), text("new"));
    let later_ptrs = [later.as_ptr().cast::<c_char>()];
    let later_lens = [later.len()];
    let mut out = offrec_buffer::EMPTY;
    // SAFETY: every pointer is valid for its length for the duration of the call.
    let result = unsafe {
        offrec_forge(
            captured.as_ptr().cast(),
            captured.len(),
            later_ptrs.as_ptr(),
            later_lens.as_ptr(),
            1,
            known.as_ptr(),
            known.len(),
            new.as_ptr(),
            new.len(),
            &mut out,
        )
    };
    assert_eq!(result, OffrecResult::Ok);
    assert!(out.len >= WATCH_LEN);
    // SAFETY: the library wrote `len` bytes at `data`.
    let contents = unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec();
    assert_eq!(contents, text("forged").into_bytes());
    let tail = contents[contents.len() - WATCH_LEN..].to_vec();
    let found = freed_blocks_holding(&tail, || unsafe { offrec_buffer_free(&mut out) });
    assert_eq!(found, 0, "offrec_buffer_free returned memory still holding the buffer's bytes");
    assert!(out.data.is_null() && out.len == 0);
}
