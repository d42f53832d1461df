//! The application's callbacks, and carrying out a call's actions through them.
//!
//! The client calls back **after** releasing its lock (see `client.rs`), so every callback may
//! re-enter the library, including calls on the same client.

use crate::conversation::SpareText;
use std::ffi::{c_char, c_void};

use crate::conversation::Action;
use crate::ffi::event::{EventStorage, OffrecEvent};
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{OffrecSecurity, OffrecSessionState};

/// The application's callbacks. `send` and `deliver` are required (creating a client without
/// them fails with `OFFREC_RESULT_NULL_ARGUMENT`); the others may be NULL.
///
/// Rules for every callback:
/// * `userdata` is the pointer given to `offrec_client_new`, passed back untouched first.
/// * A callback runs on the thread that made the `offrec_client_*` call that caused it, before
///   that call returns. When several threads use one client, callbacks run concurrently on
///   those threads: make them thread-safe.
/// * No library lock is held during a callback: it may call any library function, including
///   functions on the same client (for example, send a reply from inside `deliver`). The
///   actions of such a nested call are carried out before the nested call returns, i.e. before
///   the remaining callbacks of the outer call.
/// * Because no lock is held, two threads sending to one peer at once can reach `send` in the
///   other order from the one their messages were encrypted in. offrec's protocol reads
///   messages that arrive out of order while their keys are kept (PROTOCOL.md: 5 of the peer's
///   D-H steps or 24 h); OTR v3 does not read an older message after a newer one. An
///   application that needs wire order holds its own per-peer lock around `offrec_client_send`.
/// * Every pointer argument is borrowed: valid only until the callback returns. Texts are
///   NUL-terminated and also come with their length (without the NUL); they may contain NUL.
/// * Callbacks must return normally (no longjmp, no C++ exception through the library).
///
/// The struct is copied by `offrec_client_new`; it need not outlive that call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OffrecCallbacks {
    /// Required. Send `text` (wire text: one message or fragment) to `peer` over the
    /// transport, in order. Protocol messages are ASCII; plaintext, and the explanation after a
    /// query (`offrec_client_set_text`), are UTF-8.
    pub send: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            peer: *const c_char,
            peer_len: usize,
            text: *const c_char,
            text_len: usize,
        ),
    >,
    /// Required. Show a message from `peer` (remote `instance`, 0 for plaintext) to the user.
    /// `text` is the plaintext bytes (UTF-8 unless the peer sent otherwise); it is wiped right
    /// after the callback returns. `security` says how it arrived.
    pub deliver: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            peer: *const c_char,
            peer_len: usize,
            instance: u32,
            text: *const u8,
            text_len: usize,
            security: OffrecSecurity,
        ),
    >,
    /// Optional. The session with `peer`'s remote `instance` is now in `state`.
    pub state_changed: Option<
        unsafe extern "C" fn(
            userdata: *mut c_void,
            peer: *const c_char,
            peer_len: usize,
            instance: u32,
            state: OffrecSessionState,
        ),
    >,
    /// Optional. Something happened (see `offrec_event`); the event and everything it points
    /// to are valid only during the callback.
    pub event: Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const OffrecEvent)>,
    /// Optional. The largest wire message the transport carries to `peer`, in bytes; longer
    /// messages are fragmented. 0 means no per-peer limit (the client-wide
    /// `OFFREC_OPTION_MAX_MESSAGE_SIZE` applies, unlimited by default). Asked, without any lock
    /// held, before every call that may send to `peer` (for `offrec_client_tick`: for every
    /// known peer); its answer holds for that call only (it is never stored, so a peer that only
    /// sent us something is still forgotten) and takes precedence over any value set with
    /// `offrec_client_set_max_message_size`.
    /// It is taken as the truth about the transport: an answer too small to fragment into (below
    /// about 64 bytes) makes sends to that peer fail with `OFFREC_RESULT_MESSAGE_TOO_LARGE`.
    pub max_message_size:
        Option<unsafe extern "C" fn(userdata: *mut c_void, peer: *const c_char, peer_len: usize) -> usize>,
    /// Optional. The current time in seconds: a clock that never goes backwards and keeps
    /// counting across restarts of the program, such as wall-clock seconds (a saved client stores
    /// times from it, STORAGE.md §5; a clock that restarts from zero, like seconds since boot or
    /// since the process started, makes a loaded client misjudge how long held messages and
    /// idle sessions have waited). Asked, without any lock held, once per call that needs the
    /// time. NULL: the wall clock (seconds since the Unix epoch).
    pub now: Option<unsafe extern "C" fn(userdata: *mut c_void) -> u64>,
    /// Optional (added last, so the struct only grew). Whether `peer` is online, as libotr's
    /// `is_logged_in` asks: 1 yes, 0 no, -1 (or anything else) unknown. Asked, without any lock
    /// held, before `offrec_client_tick` (for every known peer) and
    /// `offrec_client_end_session`; its answer holds for that call only. When it answers 0,
    /// heartbeats and the message that ends a session are not sent to that peer (they would
    /// bounce or wait on the server): the session still ends locally, its remaining keys are
    /// wiped unrevealed. 1 and unknown send, as without the callback (libotr sends these only
    /// on 1). Everything else (user messages, handshakes, SMP) is sent whatever it answers.
    /// Programs built against a header without this field must be rebuilt (the struct is
    /// read whole).
    pub is_logged_in: Option<unsafe extern "C" fn(userdata: *mut c_void, peer: *const c_char, peer_len: usize) -> i32>,
}

/// The callbacks with the required ones checked, and the app's userdata.
pub(crate) struct Callbacks {
    raw: OffrecCallbacks,
    userdata: *mut c_void,
}

// Safety: `userdata` is the application's pointer; we never dereference it, only pass it back
// to the application's own callbacks, which the application documents as callable from any
// thread that uses the client (see `OffrecCallbacks`). The function pointers are plain code
// pointers, shareable across threads.
unsafe impl Send for Callbacks {}
// Safety: as for Send; `Callbacks` is immutable after creation.
unsafe impl Sync for Callbacks {}

/// A NUL-terminated copy of public bytes (peer names, wire text: nothing to wipe).
fn nul_terminated(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    v
}

std::thread_local! {
    /// The action list of this thread's last dispatched call, emptied: lent to the client for
    /// the next call (`Client::lend_action_buffer`), so a message allocates no list of its own.
    static SPARE_ACTIONS: std::cell::Cell<Vec<Action>> = const { std::cell::Cell::new(Vec::new()) };
}

std::thread_local! {
    /// The buffers of this thread's last sent wire text (emptied) and delivered text (wiped),
    /// lent to the client for the next call's (`Client::lend_message_buffers`).
    static SPARE_WIRE: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
    static SPARE_TEXT: std::cell::Cell<Option<SpareText>> = const { std::cell::Cell::new(None) };
}

/// The buffers kept by this thread's last [`Callbacks::dispatch`]: a sent wire text's (empty)
/// and a delivered text's (wiped), each taken once.
pub(crate) fn take_message_buffers() -> (Option<String>, Option<SpareText>) {
    (SPARE_WIRE.take(), SPARE_TEXT.take())
}

/// The emptied action list kept by this thread's last [`Callbacks::dispatch`] (empty, possibly
/// without an allocation). A callback's nested call takes it first; the outer call then keeps
/// its own.
pub(crate) fn take_action_buffer() -> Vec<Action> {
    SPARE_ACTIONS.take()
}

/// Room for a NUL-terminated peer name on the stack; longer names take the heap.
const STACK_NAME: usize = 128;

/// Calls `f` with a NUL-terminated copy of the public `name`, kept on the stack when it fits
/// (every callback of every message passes the peer's name: no allocation for it).
fn with_c_name<R>(name: &str, f: impl FnOnce(*const c_char) -> R) -> R {
    let bytes = name.as_bytes();
    let mut stack = [0u8; STACK_NAME];
    if bytes.len() < STACK_NAME {
        if let Some(room) = stack.get_mut(..bytes.len()) {
            room.copy_from_slice(bytes);
            return f(stack.as_ptr().cast());
        }
    }
    let heap = nul_terminated(bytes);
    f(heap.as_ptr().cast())
}

impl Callbacks {
    /// Checks that the required callbacks are present.
    pub(crate) fn new(raw: OffrecCallbacks, userdata: *mut c_void) -> Result<Self, OffrecResult> {
        if raw.send.is_none() || raw.deliver.is_none() {
            return Err(OffrecResult::NullArgument);
        }
        Ok(Callbacks { raw, userdata })
    }

    /// The current time: the app's `now`, else the wall clock.
    pub(crate) fn now(&self) -> u64 {
        match self.raw.now {
            // SAFETY: the app's callback, called with its own userdata (see the struct docs).
            Some(now) => unsafe { now(self.userdata) },
            None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        }
    }

    /// Whether the app has a `max_message_size` callback to ask.
    pub(crate) fn asks_max_message_size(&self) -> bool {
        self.raw.max_message_size.is_some()
    }

    /// Whether the app has an `is_logged_in` callback to ask.
    pub(crate) fn asks_logged_in(&self) -> bool {
        self.raw.is_logged_in.is_some()
    }

    /// The app's per-peer size limit, or `None` without the callback.
    pub(crate) fn max_message_size(&self, peer: &str) -> Option<usize> {
        let f = self.raw.max_message_size?;
        // SAFETY: the app's callback; `name` is NUL-terminated and outlives the call.
        Some(with_c_name(peer, |name| unsafe { f(self.userdata, name, peer.len()) }))
    }

    /// Whether the app reports `peer` offline (its `is_logged_in` answered 0); `false` without
    /// the callback or for any other answer.
    pub(crate) fn reports_offline(&self, peer: &str) -> bool {
        let Some(f) = self.raw.is_logged_in else { return false };
        // SAFETY: the app's callback; `name` is NUL-terminated and outlives the call.
        with_c_name(peer, |name| unsafe { f(self.userdata, name, peer.len()) == 0 })
    }

    /// Carries out a call's actions, in order. Must be called with no lock held. The emptied
    /// list is kept for this thread's next call ([`take_action_buffer`]).
    pub(crate) fn dispatch(&self, mut actions: Vec<Action>) {
        self.dispatch_in_place(&mut actions);
    }

    /// [`Callbacks::dispatch`] of a list read where the call left it (`actions` is left empty,
    /// without its allocation): moved out of a fresh `Result` first, the list was copied in
    /// other widths than it was written in, a store-forwarding stall per call.
    pub(crate) fn dispatch_in_place(&self, actions: &mut Vec<Action>) {
        // A moved-out action leaves its bytes behind in the list: no action holds a secret
        // inline (texts are on the heap, an extra key is boxed), so the emptied list is kept.
        for action in actions.drain(..) {
            self.dispatch_one(action);
        }
        SPARE_ACTIONS.set(std::mem::take(actions));
    }

    fn dispatch_one(&self, action: Action) {
        match action {
            Action::Send { peer, text } => {
                let Some(send) = self.raw.send else { return };
                let len = text.len();
                let mut t = text.into_bytes();
                t.push(0);
                // SAFETY: the app's callback; both buffers are NUL-terminated and live until
                // after it returns.
                with_c_name(&peer, |p| unsafe { send(self.userdata, p, peer.len(), t.as_ptr().cast(), len) });
                // Kept for the next message's wire text (empty: no UTF-8 to check).
                t.clear();
                SPARE_WIRE.set(String::from_utf8(t).ok());
            }
            Action::Deliver { peer, instance, mut text, security } => {
                let Some(deliver) = self.raw.deliver else { return };
                let len = text.len();
                // The text stays where it was decrypted; the NUL goes in the spare room after it.
                text.terminate_with_nul();
                // SAFETY: as above; `text` (its `len` bytes and the NUL after them, all in one
                // allocation) outlives the call.
                with_c_name(&peer, |p| unsafe {
                    deliver(self.userdata, p, peer.len(), instance, text.as_ptr(), len, security.into())
                });
                // One bulk wipe of the whole buffer, kept for the next message to be decoded into.
                SPARE_TEXT.set(Some(text.wipe_into_spare()));
            }
            Action::StateChanged { peer, instance, state } => {
                let Some(changed) = self.raw.state_changed else { return };
                // SAFETY: as above.
                with_c_name(&peer, |p| unsafe { changed(self.userdata, p, peer.len(), instance, state.into()) });
            }
            Action::Event { peer, instance, event } => {
                let Some(on_event) = self.raw.event else { return };
                let storage = EventStorage::new(&peer, event);
                let view = storage.view(instance);
                // SAFETY: as above; `view` points into `storage`, which outlives the call (and
                // wipes the key and texts when dropped).
                unsafe { on_event(self.userdata, &view) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Event, Security};

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

    fn callbacks() -> Callbacks {
        let raw = OffrecCallbacks {
            send: Some(send),
            deliver: Some(deliver),
            state_changed: None,
            event: None,
            max_message_size: None,
            now: None,
            is_logged_in: None,
        };
        Callbacks::new(raw, std::ptr::null_mut()).unwrap()
    }

    #[test]
    fn dispatch_keeps_the_emptied_list_for_the_next_call() {
        let cb = callbacks();
        let _ = take_action_buffer();
        let mut actions = Vec::with_capacity(4);
        actions.push(Action::Send { peer: "bob".into(), text: "hi".to_owned() });
        actions.push(Action::Deliver {
            peer: "bob".into(),
            instance: 0,
            text: b"hello".to_vec().into(),
            security: Security::Plaintext,
        });
        cb.dispatch(actions);
        let kept = take_action_buffer();
        assert!(kept.is_empty() && kept.capacity() >= 4);
        // Taken: the next take finds nothing (a nested call and its outer call never share one).
        assert_eq!(take_action_buffer().capacity(), 0);

        // A list that carried an extra key is kept too: the key is boxed, so the list's bytes
        // never held it (tests/zeroize_evidence.rs checks the whole receive path).
        let mut keyed = Vec::with_capacity(4);
        keyed.push(Action::Event {
            peer: "bob".into(),
            instance: 0x100,
            event: Event::ExtraKeyReceived {
                usage: 1,
                context: vec![],
                key: Box::new(crate::crypto::SecretKey::from_bytes([7; 32])),
            },
        });
        cb.dispatch(keyed);
        assert!(take_action_buffer().capacity() >= 4);
    }

    thread_local! {
        /// What the recording `deliver` saw: the text and the byte after it.
        static SEEN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    unsafe extern "C" fn record(
        _: *mut c_void,
        _: *const c_char,
        _: usize,
        _: u32,
        text: *const u8,
        len: usize,
        _: OffrecSecurity,
    ) {
        // SAFETY: the library promises `len` bytes and a NUL after them.
        let with_nul = unsafe { std::slice::from_raw_parts(text, len + 1) };
        SEEN.with(|seen| *seen.borrow_mut() = with_nul.to_vec());
    }

    #[test]
    fn a_text_left_behind_its_header_reaches_c_alone_and_nul_terminated() {
        let raw = OffrecCallbacks { deliver: Some(record), ..callbacks().raw };
        let cb = Callbacks::new(raw, std::ptr::null_mut()).unwrap();
        let mut behind = Vec::with_capacity(32);
        behind.extend_from_slice(b"HEADER\0\0\0\x05hello");
        let mut exact = b"abc".to_vec();
        exact.shrink_to_fit(); // no spare room: the text moves to a buffer one byte longer
        for (buffer, start, expected) in [(behind, 10, &b"hello\0"[..]), (exact, 0, &b"abc\0"[..])] {
            let text = crate::conversation::DeliveredText::at(zeroize::Zeroizing::new(buffer), start);
            let deliver =
                Action::Deliver { peer: "bob".into(), instance: 0, text, security: Security::EncryptedUnverified };
            cb.dispatch(vec![deliver]);
            assert_eq!(SEEN.with(|seen| seen.borrow().clone()), expected);
        }
    }

    #[test]
    fn a_delivered_text_is_kept_for_the_next_message_only_once_wiped() {
        let _ = take_message_buffers();
        let cb = callbacks();
        let mut buffer = Vec::with_capacity(64);
        buffer.extend_from_slice(b"HEADER\0\0\0\x10the secret text!");
        buffer.extend_from_slice(&[0; 8]); // what followed the text, already wiped
        buffer.truncate(26);
        let text = crate::conversation::DeliveredText::at(zeroize::Zeroizing::new(buffer), 10);
        let deliver =
            Action::Deliver { peer: "bob".into(), instance: 0, text, security: Security::EncryptedUnverified };
        let send = Action::Send { peer: "bob".into(), text: "?OFR:wire.".to_owned() };
        cb.dispatch(vec![deliver, send]);
        let (wire, text) = take_message_buffers();
        let wire = wire.unwrap();
        assert!(wire.is_empty() && wire.capacity() >= 10, "the wire text's buffer is kept, empty");
        let text = text.unwrap().into_empty();
        assert!(text.is_empty() && text.capacity() >= 64);
        // SAFETY (test): the allocation's `capacity` bytes were all written (the text, then the
        // bulk wipe), so they are initialised.
        let all = unsafe { std::slice::from_raw_parts(text.as_ptr(), text.capacity()) };
        assert!(all.iter().all(|&b| b == 0), "the kept buffer still holds text: {all:?}");
        assert!(matches!(take_message_buffers(), (None, None)), "each is handed out once");
    }
}
