//! The in-place integration style (Pidgin's sending/receiving hooks, irssi signals, weechat
//! modifiers): the app hands a line to the library and gets back what to put on the wire, or
//! what to show, instead of having `send` / `deliver` called for it.
//!
//! Which output goes where:
//! * `offrec_client_send_inplace`: every wire message the call makes (the encrypted message
//!   and its fragments, held messages sent first, a query when the message is held) comes back
//!   in an `offrec_wire_messages`; `send` is not called for them. Events and state changes
//!   still go through their callbacks, during the call.
//! * `offrec_client_receive_inplace`: the text to show comes back in an `offrec_incoming`
//!   (or "ignore this line"); `deliver` is not called for it. Protocol replies (handshake
//!   messages, heartbeats, SMP answers, error messages to the peer) still go through `send`,
//!   and events and state changes through their callbacks, during the call.

use std::ffi::c_char;

use crate::conversation::Action;
use crate::ffi::bytes::{self, offrec_buffer, offrec_buffer_free};
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::{catch, catch_result};
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{OffrecSecurity, OFFREC_MAX_TEXT_LEN};

/// Wire messages to send, in order, handed back by `offrec_client_send_inplace`.
///
/// `messages` points to `count` library-allocated buffers, each one wire message (ASCII, not
/// NUL-terminated: use its `len`), NULL when `count` is 0. Send them to the peer in order,
/// as separate transport messages (an in-place hook typically replaces the outgoing line with
/// the first and sends the others after it). Release the whole list with
/// `offrec_wire_messages_free`, never `free()` and never `offrec_buffer_free` on one element.
/// Plain data: no internal locking; it belongs to whoever holds it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct offrec_wire_messages {
    /// The messages, or NULL when `count` is 0.
    pub messages: *mut offrec_buffer,
    /// How many messages `messages` holds.
    pub count: usize,
}

impl offrec_wire_messages {
    /// An empty list (`messages == NULL`, `count == 0`), safe to free.
    pub const EMPTY: offrec_wire_messages = offrec_wire_messages { messages: std::ptr::null_mut(), count: 0 };

    fn from_texts(texts: Vec<String>) -> offrec_wire_messages {
        if texts.is_empty() {
            return Self::EMPTY;
        }
        let list: Box<[offrec_buffer]> = texts.into_iter().map(|t| offrec_buffer::from_vec(t.into_bytes())).collect();
        let count = list.len();
        offrec_wire_messages { messages: Box::into_raw(list).cast::<offrec_buffer>(), count }
    }
}

/// Releases a list from `offrec_client_send_inplace` (every message and the list itself) and
/// resets it to empty, so freeing it again is harmless. NULL, or an empty list, is a no-op.
/// The list must have come from this library with `messages` and `count` unchanged. Thread
/// rules: not concurrently with any other use of the same list.
///
/// # Safety
///
/// `list` is NULL or points to a writable `offrec_wire_messages` filled in by this library.
#[no_mangle]
pub unsafe extern "C" fn offrec_wire_messages_free(list: *mut offrec_wire_messages) {
    catch(|| {
        // SAFETY: a non-NULL `list` points to a list the caller owns (# Safety above).
        let Some(list) = (unsafe { list.as_mut() }) else { return };
        let taken = std::mem::replace(list, offrec_wire_messages::EMPTY);
        if taken.messages.is_null() {
            return;
        }
        let slice = std::ptr::slice_from_raw_parts_mut(taken.messages, taken.count);
        // SAFETY: `messages`/`count` are what `from_texts` made from a `Box<[offrec_buffer]>`,
        // freed once: the caller's struct was reset to empty above.
        let mut owned = unsafe { Box::from_raw(slice) };
        for buffer in owned.iter_mut() {
            // SAFETY: each element is a buffer `offrec_buffer::from_vec` made.
            unsafe { offrec_buffer_free(buffer) };
        }
        drop(owned);
    })
}

/// What `offrec_client_receive_inplace` says about one received line.
///
/// Plain data. When `ignore` is false, `text` is library-allocated: release it with
/// `offrec_buffer_free(&incoming.text)` (it is wiped then).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct offrec_incoming {
    /// True: the line was protocol traffic (a handshake message, heartbeat, SMP step,
    /// TLV-only message, error message, fragment...) or could not be read: show nothing.
    /// False: show `text`.
    pub ignore: bool,
    /// The text to show (the plaintext of an encrypted message, or a plaintext line with any
    /// whitespace tag removed; any bytes, UTF-8 unless the peer sent otherwise; may be empty).
    /// Empty (`data` NULL) when `ignore` is true.
    pub text: offrec_buffer,
    /// The remote instance the text came from; 0 for plaintext or when `ignore` is true.
    pub instance: u32,
    /// How the text arrived; `OFFREC_SECURITY_PLAINTEXT` when `ignore` is true.
    pub security: OffrecSecurity,
}

/// Copies secret text into an exactly sized buffer for C (`offrec_buffer::from_vec` must not
/// reallocate it, which would leave an unwiped copy); the engine's copy is wiped when dropped.
fn secret_buffer(text: &[u8]) -> offrec_buffer {
    let mut exact = Vec::with_capacity(text.len());
    exact.extend_from_slice(text);
    offrec_buffer::from_vec(exact)
}

/// Sends `text` to `peer` exactly as `offrec_client_send` does (policy, holding, routing,
/// errors), but instead of calling the `send` callback it hands every wire message this call
/// makes to the caller in `*out_wire`, in order: the encrypted message or its fragments, held
/// messages that go first, or the query that starts a session when the message is held
/// (`count` may then be 1 with a query, or 0). The caller sends them, in order, for example by
/// replacing the outgoing line in a Pidgin `sending-im-msg` hook, an irssi `message own_private`
/// signal or a weechat `irc_out_privmsg` modifier. Events (`ENCRYPTION_REQUIRED`, ...) and
/// state changes still go through their callbacks, during this call; wire messages of calls
/// made from inside those callbacks go through `send` as usual.
///
/// On success `*out_wire` receives the list (release it with `offrec_wire_messages_free`) and
/// `*out_message_id` the message's id; on error neither is written and nothing was sent.
/// Thread rules as `offrec_client_send`.
///
/// # Safety
///
/// `client` is a live client; `peer` and `text` are NULL or valid for their lengths;
/// `out_wire` and `out_message_id` are writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_send_inplace(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    text: *const c_char,
    text_len: usize,
    out_wire: *mut offrec_wire_messages,
    out_message_id: *mut u64,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(text_len, OFFREC_MAX_TEXT_LEN)?;
        let text = bytes::borrow(text.cast::<u8>(), text_len)?;
        out::check(out_wire)?;
        out::check(out_message_id)?;
        let (id, actions) =
            c.run_collect(Sizing::Peer(peer), |client, now| client.send(peer, text, now).map_err(client_error))?;
        let (wire, rest): (Vec<Action>, Vec<Action>) =
            actions.into_iter().partition(|a| matches!(a, Action::Send { peer: to, .. } if &**to == peer));
        let wire = wire
            .into_iter()
            .filter_map(|a| match a {
                Action::Send { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        c.dispatch(rest);
        out::write(out_wire, offrec_wire_messages::from_texts(wire))?;
        out::write(out_message_id, id)
    })
}

/// Handles one line that arrived from `peer` exactly as `offrec_client_receive` does, but
/// instead of calling `deliver` it says what to show in `*out`: `ignore` true for protocol
/// traffic (hide the line, as libotr's `otrl_message_receiving` returning 1), else the text to
/// show in place of the wire line, with its instance and security. This is what a Pidgin
/// `receiving-im-msg` hook, an irssi `message private` signal or a weechat `irc_in_privmsg`
/// modifier needs. Protocol replies (handshake messages, heartbeats, SMP steps, error messages
/// to the peer) still go out through `send`, and events and state changes through their
/// callbacks, all during this call. In the rare case that one line yields more than one text,
/// the first comes back here and the others go to `deliver`.
///
/// `wire` is UTF-8, at most `OFFREC_MAX_TEXT_LEN` + `OFFREC_MAX_NAME_LEN` bytes. A malformed
/// or unreadable message is not an error (it is an event, and `ignore` is true). On success
/// `*out` is written (release `out->text` with `offrec_buffer_free`); on error it is not.
/// Thread rules as `offrec_client_receive`.
///
/// # Safety
///
/// `client` is a live client; `peer` and `wire` are NULL or valid for their lengths; `out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_receive_inplace(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    wire: *const c_char,
    wire_len: usize,
    out: *mut offrec_incoming,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(wire_len, OFFREC_MAX_TEXT_LEN + crate::conversation::MAX_NAME_LEN)?;
        let wire = bytes::borrow_chars(wire, wire_len)?;
        out::check(out)?;
        let ((), mut actions) =
            c.run_collect(Sizing::Peer(peer), |client, now| Ok(((), client.receive(peer, wire, now))))?;
        let shown = actions.iter().position(|a| matches!(a, Action::Deliver { peer: from, .. } if &**from == peer));
        let incoming = match shown.map(|i| actions.remove(i)) {
            Some(Action::Deliver { instance, text, security, .. }) => {
                offrec_incoming { ignore: false, text: secret_buffer(&text), instance, security: security.into() }
            }
            _ => offrec_incoming {
                ignore: true,
                text: offrec_buffer::EMPTY,
                instance: 0,
                security: OffrecSecurity::Plaintext,
            },
        };
        c.dispatch(actions);
        out::write(out, incoming)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_lists_round_trip_and_free_is_idempotent() {
        let mut list = offrec_wire_messages::from_texts(vec!["?OFR:a".into(), String::new(), "b".into()]);
        assert_eq!(list.count, 3);
        // SAFETY: the list came from this module; each element is a buffer of it.
        let items = unsafe { std::slice::from_raw_parts(list.messages, list.count) };
        assert_eq!(bytes::borrow(items[0].data, items[0].len), Ok(&b"?OFR:a"[..]));
        assert!(items[1].data.is_null());
        // SAFETY: the list came from this module.
        unsafe { offrec_wire_messages_free(&mut list) };
        assert!(list.messages.is_null() && list.count == 0);
        unsafe { offrec_wire_messages_free(&mut list) };
        unsafe { offrec_wire_messages_free(std::ptr::null_mut()) };
        let mut empty = offrec_wire_messages::from_texts(Vec::new());
        assert!(empty.messages.is_null());
        unsafe { offrec_wire_messages_free(&mut empty) };
    }
}
