//! Evidence that secrets are wiped before their memory is freed. This test binary installs a
//! global allocator that, while armed on the thread under test, looks into every block that
//! thread hands back for a watched byte pattern (other threads' frees are not the test's: the
//! library spawns none). Dropping a boxed `SecretKey`, and `offrec_buffer_free` on a library buffer, must
//! hand back memory that no longer holds the secret; a plain box, the control, still does.
//! Removing a wipe (the `Drop` wipe of `SecretKey` or `RevealedMaterial`, the `zeroize` in `offrec_buffer_free`,
//! either half of `crypto::wipe::wipe`, the binary `Writer`'s wipe or its reserved capacity) fails a
//! test here.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_char;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use offrec::conversation::Action;
use offrec::crypto::SecretKey;
use offrec::ffi::bytes::offrec_buffer_free;
use offrec::ffi::forge::offrec_forge;
use offrec::ffi::{offrec_buffer, OffrecResult};

const WATCH_LEN: usize = 32;

/// Watches the blocks the armed thread frees for `WATCH`; counts the hits in `FOUND`. Lock-free and
/// allocation-free, as an allocator must be.
struct Inspecting;

std::thread_local! {
    /// Armed on the thread under test only: a block another thread frees meanwhile (libtest
    /// starting the next test's thread, say) may hold a stale copy of the pattern in memory
    /// malloc recycled from an earlier test, and is none of the test's business. A `const`
    /// thread-local without a destructor: reading it never allocates.
    static ARMED: Cell<bool> = const { Cell::new(false) };
}
static WATCH: [AtomicU8; WATCH_LEN] = [const { AtomicU8::new(0) }; WATCH_LEN];
static FOUND: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= WATCH_LEN && ARMED.with(Cell::get) {
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

/// Runs `free` with the allocator armed for `pattern` on this thread; returns how many blocks
/// it freed held the pattern.
fn freed_blocks_holding(pattern: &[u8], free: impl FnOnce()) -> usize {
    for (slot, byte) in WATCH.iter().zip(pattern) {
        slot.store(*byte, Ordering::Relaxed);
    }
    FOUND.store(0, Ordering::SeqCst);
    ARMED.with(|armed| armed.set(true));
    free();
    ARMED.with(|armed| armed.set(false));
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
fn a_secret_key_zeroized_in_place_holds_only_zeros() {
    use zeroize::Zeroize;
    let mut key = SecretKey::from_bytes(std::hint::black_box(SECRET));
    key.zeroize();
    assert_eq!(key.expose(), &[0u8; 32]);
}

#[test]
fn dropped_revealed_material_is_wiped_before_its_memory_is_freed() {
    use offrec::crypto::aead::RevealedMaterial;
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // The control: the same material freed without its drop still holds the bytes, so the
    // detector can see them in this layout.
    let kept = Box::new(std::mem::ManuallyDrop::new(RevealedMaterial::from_bytes(&std::hint::black_box(SECRET))));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(kept)), 1, "the control must be caught");
    let material = Box::new(RevealedMaterial::from_bytes(&std::hint::black_box(SECRET)));
    assert_eq!(material.to_bytes(), SECRET);
    assert_eq!(freed_blocks_holding(&SECRET, || drop(material)), 0, "revealed material left in freed memory");
}

#[test]
fn a_dropped_deterministic_random_wipes_its_seed_and_its_unread_block() {
    use offrec::crypto::{DeterministicRandom, RandomSource};
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Its seed is every key it will ever make, and its buffer the next bytes it would give.
    let mut upcoming = [0u8; 32];
    DeterministicRandom::new(SECRET).fill(&mut upcoming).unwrap();
    let started = || {
        let mut random = Box::new(DeterministicRandom::new(std::hint::black_box(SECRET)));
        let mut first = [0u8; 1];
        random.fill(&mut first).unwrap();
        assert_eq!(first[0], upcoming[0]);
        random
    };
    // The control: freed without its drop, both are there to be seen.
    let kept = Box::new(std::mem::ManuallyDrop::new(*started()));
    let kept_too = Box::new(std::mem::ManuallyDrop::new(*started()));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(kept)), 1, "the control must be caught");
    assert_eq!(freed_blocks_holding(&upcoming, || drop(kept_too)), 1, "the control must be caught");
    let random = started();
    let random_too = started();
    assert_eq!(freed_blocks_holding(&SECRET, || drop(random)), 0, "the seed left in freed memory");
    assert_eq!(freed_blocks_holding(&upcoming, || drop(random_too)), 0, "the unread block left in freed memory");
}

#[test]
fn a_sent_message_s_chain_key_moved_out_of_the_state_is_wiped_with_the_message() {
    use offrec::crypto::kdf::extra_key_seed;
    use offrec::crypto::{DeterministicRandom, DhKeyPair};
    use offrec::ratchet::Ratchet;
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut rng = DeterministicRandom::from_label("moved chain key");
    let send_one = |rng: &mut DeterministicRandom| {
        let pair = DhKeyPair::generate(rng).unwrap();
        let first_chain = SecretKey::from_bytes(std::hint::black_box(SECRET));
        let mut ratchet = Ratchet::new_initiator(SecretKey::from_bytes([1; 32]), first_chain, pair);
        ratchet.encrypt(1, 2, 0, b"hello").unwrap()
    };
    // The first message's step starts from the first chain key, which moves into the message.
    // The control: a message freed without its drop still holds it.
    let kept = Box::new(std::mem::ManuallyDrop::new(send_one(&mut rng)));
    assert_eq!(kept.extra_key_seed(), extra_key_seed(&SecretKey::from_bytes(SECRET)));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(kept)), 1, "the control must be caught");
    let sent = Box::new(send_one(&mut rng));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(sent)), 0, "the moved chain key left in freed memory");
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

/// The modern data path encrypts the body in the buffer it is written into and decrypts in
/// place, handing the plaintext buffer itself to the application: no copy of the text may
/// reach the allocator unwiped, on either side, short or long.
#[test]
fn a_message_sent_and_received_leaves_no_plaintext_in_freed_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut net = support::encrypted_pair();
    for len in [100usize, 4096] {
        let mut text = vec![b'.'; len];
        text[len / 2..len / 2 + WATCH_LEN].copy_from_slice(&SECRET);
        let now = net.now;
        let mut wire = Vec::new();
        let found = freed_blocks_holding(&SECRET, || {
            let (_, actions) = net.client("alice").send("bob", &text, now).unwrap();
            for action in actions {
                if let Action::Send { text, .. } = action {
                    wire.push(text);
                }
            }
        });
        assert_eq!(found, 0, "sending {len} B left plaintext in freed memory");
        let mut delivered = 0;
        let found = freed_blocks_holding(&SECRET, || {
            for message in &wire {
                for action in net.client("bob").receive("alice", message, now) {
                    if let Action::Deliver { text: received, .. } = action {
                        delivered += usize::from(received[..] == text[..]);
                    }
                }
            }
        });
        assert_eq!(delivered, 1, "{len} B delivered intact");
        assert_eq!(found, 0, "receiving {len} B left plaintext in freed memory");
    }
}

/// A body decoded in place keeps only its text: what followed it (a TLV's value here) is wiped
/// from the buffer's spare room, so a plain drop frees nothing of it.
#[test]
fn a_body_decoded_in_place_keeps_nothing_but_its_text() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let secret_tlv = offrec::wire::Tlv { kind: 0x1234, value: std::hint::black_box(SECRET).to_vec() };
    let mut body = offrec::wire::encode_body(b"visible text", &[secret_tlv], 16).unwrap();
    let tlvs = offrec::wire::decode_body_in_place(&mut body).unwrap();
    assert_eq!(body, b"visible text");
    assert_eq!(tlvs.len(), 2, "the TLV and the padding");
    drop(tlvs); // freed before arming: the parsed TLV is a copy the caller owns
    assert_eq!(freed_blocks_holding(&SECRET, || drop(body)), 0, "the TLV's bytes stayed in the buffer");
}

/// A received message's body is decoded where it was decrypted, behind its header: the text
/// moves to the buffer's start, and neither the copy of the text's tail the move leaves behind
/// nor what followed the text (a TLV's value here) may stay in the buffer, so a plain drop frees
/// nothing of them.
#[test]
fn a_body_decoded_behind_its_header_keeps_nothing_but_its_text() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (tail, tlv) in [(true, false), (false, true)] {
        // The secret ends the text (the move leaves a stale copy of the text's tail) or is a
        // TLV's value.
        let mut text = b"visible text, then ".to_vec();
        if tail {
            text.extend_from_slice(&std::hint::black_box(SECRET));
        }
        let tlvs: Vec<offrec::wire::Tlv> = if tlv {
            vec![offrec::wire::Tlv { kind: 0x1234, value: std::hint::black_box(SECRET).to_vec() }]
        } else {
            Vec::new()
        };
        let mut buffer = vec![0x11; 85]; // a data message header with one reveal
        buffer.extend_from_slice(&offrec::wire::encode_body(&text, &tlvs, 16).unwrap());
        let decoded = offrec::wire::decode_body_in_place_at(&mut buffer, 85).unwrap();
        assert_eq!(buffer, text);
        drop(decoded); // freed before arming: the parsed TLVs are copies the caller owns
                       // The text is the caller's to wipe: wipe it alone (not the spare room), then nothing of
                       // the secret may be left in the allocation.
        zeroize::Zeroize::zeroize(&mut buffer[..]);
        assert_eq!(freed_blocks_holding(&SECRET, || drop(buffer)), 0, "tail {tail}, TLV {tlv}: secret left behind");
    }
}

/// A received body's text is left where it was decrypted, behind the header (no move): what
/// followed it (a TLV's value here) must be wiped from the buffer's spare room at once, so that a
/// wipe of the buffer's contents alone (the header and the text) leaves nothing of the secret.
#[test]
fn a_body_left_behind_its_header_keeps_nothing_after_its_text() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let tlvs = vec![offrec::wire::Tlv { kind: 0x1234, value: std::hint::black_box(SECRET).to_vec() }];
    let mut buffer = vec![0x11; 85]; // a data message header with one reveal
    buffer.extend_from_slice(&offrec::wire::encode_body(b"visible text", &tlvs, 16).unwrap());
    let (at, decoded) = offrec::wire::decode_body_behind(&mut buffer, 85).unwrap();
    assert_eq!(&buffer[at..], b"visible text");
    drop(decoded); // freed before arming: the parsed TLVs are copies the caller owns
    zeroize::Zeroize::zeroize(&mut buffer[..]);
    assert_eq!(freed_blocks_holding(&SECRET, || drop(buffer)), 0, "the TLV's value stayed in the spare room");
}

/// A C API pair (alice = 0, bob = 1) whose `send` callback queues wire texts for the other.
mod c_pair {
    use std::cell::RefCell;
    use std::ffi::{c_char, c_void};

    use offrec::ffi::client::{
        offrec_client, offrec_client_free, offrec_client_new, offrec_client_receive, offrec_client_start_session,
    };
    use offrec::ffi::event::OffrecEvent;
    use offrec::ffi::types::OFFREC_POLICY_MANUAL;
    use offrec::ffi::{OffrecCallbacks, OffrecResult, OffrecSecurity};

    thread_local! {
        /// (receiving party, wire text), in order.
        static QUEUE: RefCell<Vec<(usize, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
        /// The key of the last extra-key event, copied out of the event.
        pub static RECEIVED_KEY: RefCell<Option<[u8; 32]>> = const { RefCell::new(None) };
        /// Every delivered text, in order.
        pub static DELIVERED: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
        /// Where each delivered text lay (its address), in order.
        pub static DELIVERED_AT: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    }

    unsafe extern "C" fn send(userdata: *mut c_void, _: *const c_char, _: usize, text: *const c_char, len: usize) {
        // SAFETY: the library passes `len` readable bytes.
        let wire = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) }.to_vec();
        QUEUE.with(|q| q.borrow_mut().push((1 - userdata as usize, wire)));
    }

    unsafe extern "C" fn deliver(
        _: *mut c_void,
        _: *const c_char,
        _: usize,
        _: u32,
        text: *const u8,
        len: usize,
        _: OffrecSecurity,
    ) {
        // SAFETY: the library passes `len` readable bytes, NUL-terminated.
        let text = unsafe { std::slice::from_raw_parts(text, len + 1) };
        assert_eq!(text[len], 0, "delivered text not NUL-terminated");
        DELIVERED.with(|d| d.borrow_mut().push(text[..len].to_vec()));
        DELIVERED_AT.with(|d| d.borrow_mut().push(text.as_ptr() as usize));
    }

    unsafe extern "C" fn event(_: *mut c_void, event: *const OffrecEvent) {
        // SAFETY: the event and its key are valid during the callback.
        let event = unsafe { &*event };
        if !event.key.is_null() {
            let mut key = [0u8; 32];
            // SAFETY: a non-NULL key points to 32 bytes.
            key.copy_from_slice(unsafe { std::slice::from_raw_parts(event.key, 32) });
            RECEIVED_KEY.with(|k| *k.borrow_mut() = Some(key));
        }
    }

    pub struct Pair(pub [*mut offrec_client; 2]);

    impl Pair {
        /// Two clients with an encrypted session between them.
        pub fn encrypted() -> Pair {
            let callbacks = OffrecCallbacks {
                send: Some(send),
                deliver: Some(deliver),
                state_changed: None,
                event: Some(event),
                max_message_size: None,
                now: None,
                is_logged_in: None,
            };
            let mut clients = [std::ptr::null_mut(); 2];
            for (i, name) in [c"alice", c"bob"].iter().enumerate() {
                // SAFETY: valid pointers and lengths; `out` is writable.
                let r = unsafe {
                    offrec_client_new(
                        name.as_ptr(),
                        name.count_bytes(),
                        c"net".as_ptr(),
                        3,
                        OFFREC_POLICY_MANUAL,
                        &callbacks,
                        i as *mut c_void,
                        &mut clients[i],
                    )
                };
                assert_eq!(r, OffrecResult::Ok);
            }
            let pair = Pair(clients);
            // SAFETY: a live client and a valid name.
            assert_eq!(unsafe { offrec_client_start_session(pair.0[0], c"bob".as_ptr(), 3) }, OffrecResult::Ok);
            pair.pump(|| {});
            pair
        }

        /// Delivers every queued wire text; a message to bob runs inside `around_bob`'s view.
        pub fn pump(&self, mut around_bob: impl FnMut()) {
            while let Some((to, wire)) = QUEUE.with(|q| {
                let mut q = q.borrow_mut();
                (!q.is_empty()).then(|| q.remove(0))
            }) {
                let from = if to == 1 { c"alice" } else { c"bob" };
                // SAFETY: a live client, valid name and text.
                let r = unsafe {
                    offrec_client_receive(
                        self.0[to],
                        from.as_ptr(),
                        from.count_bytes(),
                        wire.as_ptr().cast(),
                        wire.len(),
                    )
                };
                assert_eq!(r, OffrecResult::Ok);
                if to == 1 {
                    around_bob();
                }
            }
        }
    }

    impl Drop for Pair {
        fn drop(&mut self) {
            for client in self.0 {
                // SAFETY: each client is live and freed once.
                unsafe { offrec_client_free(client) };
            }
        }
    }
}

/// An extra symmetric key reaches the receiver's `event` callback through the C API's action
/// list; nothing that carried it on the way (the list the dispatch drained included) may hand
/// the key back to the allocator unwiped.
#[test]
fn a_received_extra_key_leaves_no_copy_in_freed_memory() {
    use offrec::ffi::client::offrec_client_extra_symmetric_key;
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pair = c_pair::Pair::encrypted();
    let mut key = [0u8; 32];
    // SAFETY: a live client, valid name and context, 32 writable bytes.
    let r = unsafe {
        offrec_client_extra_symmetric_key(pair.0[0], c"bob".as_ptr(), 3, 0, 7, b"ctx".as_ptr(), 3, key.as_mut_ptr())
    };
    assert_eq!(r, OffrecResult::Ok);
    let found = freed_blocks_holding(&key, || pair.pump(|| {}));
    assert_eq!(c_pair::RECEIVED_KEY.with(|k| *k.borrow()), Some(key), "bob received the same key");
    assert_eq!(found, 0, "receiving an extra key left a copy of it in freed memory");
}

/// The C API reuses a delivered text's buffer for the next received message (and a sent wire
/// text's for the next one sent): a shorter message after a longer one is delivered exactly, and
/// the reused buffer, freed with the client at the end, holds nothing of the first text.
#[test]
fn a_reused_message_buffer_carries_nothing_from_the_message_before() {
    use offrec::ffi::client::{offrec_client_free, offrec_client_receive, offrec_client_send};
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pair = c_pair::Pair::encrypted();
    let mut long = vec![b'.'; 4096];
    long[4000..4000 + WATCH_LEN].copy_from_slice(&SECRET);
    // The last one leaves its buffer kept unused: only its wipe keeps the secret out of it.
    let texts: [&[u8]; 5] = [&long, &[b's'; 100], b"x", &[b'm'; 2000], &long];
    c_pair::DELIVERED.with(|d| d.borrow_mut().clear());
    c_pair::DELIVERED_AT.with(|d| d.borrow_mut().clear());
    for text in texts {
        let mut id = 0;
        // SAFETY: a live client, valid name and text, a writable id.
        let r = unsafe { offrec_client_send(pair.0[0], c"bob".as_ptr(), 3, text.as_ptr().cast(), text.len(), &mut id) };
        assert_eq!(r, OffrecResult::Ok);
    }
    // Received one after the other, as a burst arrives: each receive call takes the buffer the
    // delivery before it handed back (the C API lends it to the next call on the thread).
    pair.pump(|| {});
    let delivered = c_pair::DELIVERED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    assert_eq!(delivered, texts.map(<[u8]>::to_vec), "every text delivered exactly");
    // The reuse this test is about happened: the 100 B, 1 B and 2000 B texts arrived in the
    // first 4 KiB text's buffer (same header length, so at the same address).
    let at = c_pair::DELIVERED_AT.with(|d| std::mem::take(&mut *d.borrow_mut()));
    assert_eq!(at[1..4], [at[0]; 3], "the first text's buffer was not reused");
    // A plaintext line makes bob take the kept buffer into his client without decoding into it;
    // freeing bob then frees it.
    // SAFETY: a live client, valid name and text.
    let r = unsafe { offrec_client_receive(pair.0[1], c"alice".as_ptr(), 5, c"hello".as_ptr(), 5) };
    assert_eq!(r, OffrecResult::Ok);
    // Freed here: the pair then frees alice only.
    let mut pair = pair;
    let bob = std::mem::replace(&mut pair.0[1], std::ptr::null_mut());
    // SAFETY: a live client, freed once.
    let found = freed_blocks_holding(&SECRET, || unsafe { offrec_client_free(bob) });
    assert_eq!(found, 0, "a reused buffer kept the text of an earlier message");
}

/// The binary writer may carry secrets (stored session state): dropped unfinished, it wipes its
/// buffer before the memory goes back.
#[test]
fn a_writer_dropped_with_a_secret_in_it_is_wiped_before_its_memory_is_freed() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut writer = offrec::wire::codec::Writer::with_capacity(64);
    writer.bytes(std::hint::black_box(&SECRET));
    assert_eq!(freed_blocks_holding(&SECRET, || drop(writer)), 0, "the writer's buffer was freed unwiped");
}

/// A writer given its capacity up front never reallocates, so writing a secret and then more
/// after it leaves no copy behind in a block the growth handed back.
#[test]
fn a_writer_with_its_capacity_reserved_leaves_no_copy_as_it_fills() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut writer = offrec::wire::codec::Writer::with_capacity(8 + SECRET.len() + 200);
    let found = freed_blocks_holding(&SECRET, || {
        writer.bytes(&[0; 8]);
        writer.bytes(std::hint::black_box(&SECRET));
        writer.bytes(&[0; 200]);
    });
    assert_eq!(found, 0, "the writer grew and freed a block holding the secret");
    drop(writer);
}
