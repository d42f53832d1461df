//! `offrec_client`: one local account, its conversations and its callbacks.
//!
//! Every call follows the same steps, so that callbacks may re-enter the library:
//! 1. ask the app's `now` / `max_message_size` callbacks (no lock held),
//! 2. lock the client, run the engine call, take its actions, **unlock**,
//! 3. carry out the actions through the callbacks (no lock held).
//!
//! A panic inside the engine while the lock is held poisons it: that call and every later call
//! on the client return `OFFREC_RESULT_PANIC`; only `offrec_client_free` remains useful.

use std::ffi::{c_char, c_void};
use std::sync::{Mutex, MutexGuard};

use crate::conversation::{Action, Client, ClientError, NameBinding, Settings};
use crate::crypto::{IdentityKey, OsRandom};
use crate::ffi::bytes;
use crate::ffi::callbacks::{Callbacks, OffrecCallbacks};
use crate::ffi::handle::{self, Handle};
use crate::ffi::out;
use crate::ffi::panic::{catch, catch_result};
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{
    policy_from_c, OffrecOption, OffrecSessionInfo, OffrecSessionState, OFFREC_MAX_CONTEXT_LEN, OFFREC_MAX_TEXT_LEN,
};

/// A conversation client: one local account with its identity key, instance tag, policy,
/// trust store and every conversation.
///
/// Thread rules: safe to use from many threads at once (internal locking). Callbacks run on
/// the calling thread with no lock held, so they may call back into the library, on this
/// client too. Free it once, when no other thread uses it any more.
#[allow(non_camel_case_types)]
pub struct offrec_client {
    _private: [u8; 0],
}

/// What an `offrec_client` pointer stands for.
pub(crate) struct ClientHandle {
    client: Mutex<Client>,
    callbacks: Callbacks,
    #[cfg(feature = "test-hooks")]
    panic_next: std::sync::atomic::AtomicBool,
}

impl Handle for ClientHandle {
    type Opaque = offrec_client;
}

/// Which peers' size limits to ask the app for before a call.
pub(crate) enum Sizing<'a> {
    /// The call sends nothing.
    None,
    /// The call may send to this peer.
    Peer(&'a str),
    /// The call may send to any known peer (tick).
    AllPeers,
}

/// Maps an engine error to its result code.
pub(crate) fn client_error(error: ClientError) -> OffrecResult {
    match error {
        ClientError::NoSession => OffrecResult::NoSession,
        ClientError::SessionFinished => OffrecResult::SessionFinished,
        ClientError::PolicyForbids => OffrecResult::PolicyForbids,
        ClientError::MessageTooLarge => OffrecResult::MessageTooLarge,
        ClientError::QueueFull => OffrecResult::QueueFull,
        ClientError::InvalidUtf8 => OffrecResult::InvalidUtf8,
        ClientError::InvalidArgument(_) => OffrecResult::InvalidArgument,
        ClientError::SmpRateLimited => OffrecResult::SmpRateLimited,
        ClientError::Random => OffrecResult::RandomFailed,
        ClientError::Smp(_) => OffrecResult::SmpError,
        ClientError::TlvTypeReserved => OffrecResult::TlvTypeReserved,
        ClientError::TooManyTlvs => OffrecResult::TooManyTlvs,
        ClientError::TlvsUnsupported => OffrecResult::TlvsUnsupported,
        ClientError::KeyInUse => OffrecResult::KeyInUse,
        ClientError::UnknownKey => OffrecResult::UnknownKey,
        ClientError::UnknownPeer => OffrecResult::UnknownPeer,
        ClientError::SessionActive => OffrecResult::SessionActive,
        ClientError::InvalidText(_) => OffrecResult::InvalidText,
    }
}

/// `0` from C means "no particular instance".
pub(crate) fn instance_from_c(instance: u32) -> Option<u32> {
    (instance != 0).then_some(instance)
}

impl ClientHandle {
    pub(crate) fn new(client: Client, callbacks: Callbacks) -> Self {
        ClientHandle {
            client: Mutex::new(client),
            callbacks,
            #[cfg(feature = "test-hooks")]
            panic_next: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Locks the client; a poisoned lock (an earlier panic) is `Panic`.
    fn lock(&self) -> Result<MutexGuard<'_, Client>, OffrecResult> {
        let guard = self.client.lock().map_err(|_| OffrecResult::Panic)?;
        #[cfg(feature = "test-hooks")]
        if self.panic_next.swap(false, std::sync::atomic::Ordering::SeqCst) {
            #[allow(clippy::panic)]
            {
                panic!("offrec_test_client_panic_next: deliberate panic with the client locked");
            }
        }
        Ok(guard)
    }

    /// Runs `f` on the locked client without callbacks (queries).
    pub(crate) fn query<R>(&self, f: impl FnOnce(&Client) -> R) -> Result<R, OffrecResult> {
        let guard = self.lock()?;
        Ok(f(&guard))
    }

    /// The three steps of a client call (module docs): ask for time and sizes, run `f` under
    /// the lock, then carry out its actions with the lock released. `f` gets the time.
    pub(crate) fn run<R>(
        &self,
        sizing: Sizing<'_>,
        f: impl FnOnce(&mut Client, u64) -> Result<(R, Vec<Action>), OffrecResult>,
    ) -> Result<R, OffrecResult> {
        self.run_asking(sizing, false, f)
    }

    /// As [`ClientHandle::run`], also asking the app's `is_logged_in` about the same peers
    /// (the calls that may send heartbeats or session ends: tick, end_session).
    pub(crate) fn run_with_presence<R>(
        &self,
        sizing: Sizing<'_>,
        f: impl FnOnce(&mut Client, u64) -> Result<(R, Vec<Action>), OffrecResult>,
    ) -> Result<R, OffrecResult> {
        self.run_asking(sizing, true, f)
    }

    fn run_asking<R>(
        &self,
        sizing: Sizing<'_>,
        presence: bool,
        f: impl FnOnce(&mut Client, u64) -> Result<(R, Vec<Action>), OffrecResult>,
    ) -> Result<R, OffrecResult> {
        // Read where the call left it (see `Callbacks::dispatch_in_place`).
        let mut collected = self.collect(sizing, presence, f);
        if let Ok((_, actions)) = &mut collected {
            self.callbacks.dispatch_in_place(actions);
        }
        collected.map(|(result, _)| result)
    }

    /// Steps 1 and 2 of [`ClientHandle::run`]: the actions come back (the lock released) for
    /// the caller to carry out, some through [`ClientHandle::dispatch`] (the in-place calls).
    pub(crate) fn run_collect<R>(
        &self,
        sizing: Sizing<'_>,
        f: impl FnOnce(&mut Client, u64) -> Result<(R, Vec<Action>), OffrecResult>,
    ) -> Result<(R, Vec<Action>), OffrecResult> {
        self.collect(sizing, false, f)
    }

    fn collect<R>(
        &self,
        sizing: Sizing<'_>,
        presence: bool,
        f: impl FnOnce(&mut Client, u64) -> Result<(R, Vec<Action>), OffrecResult>,
    ) -> Result<(R, Vec<Action>), OffrecResult> {
        let now = self.callbacks.now();
        let asks_sizes = self.callbacks.asks_max_message_size();
        let asks_presence = presence && self.callbacks.asks_logged_in();
        // Only the names the app is asked about are copied: a call to one peer without those
        // callbacks (every message of most apps) allocates nothing here.
        let all_peers: Vec<String> = match sizing {
            Sizing::AllPeers if asks_sizes || asks_presence => self.lock()?.peers(),
            _ => Vec::new(),
        };
        let names: &[String] = &all_peers;
        let one: &[&str] = match &sizing {
            Sizing::Peer(peer) if asks_sizes || asks_presence => std::slice::from_ref(peer),
            _ => &[],
        };
        let asked = names.iter().map(String::as_str).chain(one.iter().copied());
        let sizes: Vec<(String, usize)> = if asks_sizes {
            asked.clone().filter_map(|p| self.callbacks.max_message_size(p).map(|s| (p.to_owned(), s))).collect()
        } else {
            Vec::new()
        };
        let offline: std::collections::BTreeSet<String> = if asks_presence {
            asked.filter(|p| self.callbacks.reports_offline(p)).map(str::to_owned).collect()
        } else {
            Default::default()
        };
        let mut client = self.lock()?;
        client.lend_action_buffer(super::callbacks::take_action_buffer());
        let (wire, text) = super::callbacks::take_message_buffers();
        client.lend_message_buffers(wire, text);
        // The app's answers are inputs of this call only, never stored on a peer: storing
        // them would pin every stranger that sent us something. The call's result is handed
        // on whole, not taken apart and rebuilt (see `Callbacks::dispatch_in_place`).
        if sizes.is_empty() && offline.is_empty() {
            // Nothing to install (the client's per-call sets are empty between calls).
            f(&mut client, now)
        } else {
            let limits = sizes.into_iter().collect();
            client.with_offline_peers(offline, |client| client.with_transport_limits(limits, |client| f(client, now)))
        }
        // unlocked here, when `client` goes
    }

    /// Carries out actions through the app's callbacks; no lock may be held.
    pub(crate) fn dispatch(&self, actions: Vec<Action>) {
        self.callbacks.dispatch(actions);
    }
}

#[allow(clippy::too_many_arguments)] // mirrors the C signature
fn create(
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    policy: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    identity: Option<(*const u8, u32)>,
    out: *mut *mut offrec_client,
) -> Result<(), OffrecResult> {
    out::check(out)?;
    let account = bytes::borrow_name(account, account_len)?;
    let protocol = bytes::borrow_name(protocol, protocol_len)?;
    let policy = policy_from_c(policy)?;
    let callbacks = Callbacks::new(bytes::read_struct(callbacks)?, userdata)?;
    let settings = Settings { policy, ..Settings::default() };
    let client = match identity {
        None => Client::new(account, protocol, settings),
        Some((secret, tag)) => {
            let secret = zeroize::Zeroizing::new(bytes::borrow_32(secret)?);
            let identity = IdentityKey::from_secret_bytes(*secret);
            Client::with_parts(account, protocol, identity, tag, settings, Box::new(OsRandom))
        }
    }
    .map_err(client_error)?;
    out::write_handle(out, Box::new(ClientHandle::new(client, callbacks)))
}

/// Creates a client with a new identity key and instance tag from the OS random generator.
///
/// `account` is our name on the network and `protocol` names the network (1 to
/// `OFFREC_MAX_NAME_LEN` bytes of UTF-8 each, not NUL-terminated; both are bound into every
/// handshake after normalisation: ASCII lower-case, trimmed, an XMPP resource dropped,
/// `prpl-jabber`/`jabber` = `xmpp`; see `OFFREC_OPTION_NAME_BINDING`). `policy` is a combination of `OFFREC_POLICY_*` bits (unknown bits:
/// `OFFREC_RESULT_INVALID_POLICY`). `callbacks` is copied; `send` and `deliver` are required
/// (`OFFREC_RESULT_NULL_ARGUMENT` otherwise). `userdata` is passed back to every callback and
/// never touched by the library.
///
/// On success `*out` receives a new client, owned by the caller: release it with
/// `offrec_client_free`. Save `offrec_client_identity_secret` and `offrec_client_instance_tag`
/// to restore the same identity later with `offrec_client_new_with_identity`.
///
/// # Safety
///
/// Pointers are NULL or valid for their lengths; `callbacks` points to an `offrec_callbacks`;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_new(
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    policy: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    out: *mut *mut offrec_client,
) -> OffrecResult {
    catch_result(|| create(account, account_len, protocol, protocol_len, policy, callbacks, userdata, None, out))
}

/// Creates a client with a stored identity: `identity_secret` (32 bytes, from
/// `offrec_client_identity_secret`) and `instance_tag` (at least 0x100, else
/// `OFFREC_RESULT_INVALID_ARGUMENT`). Otherwise as `offrec_client_new`.
///
/// # Safety
///
/// As `offrec_client_new`; `identity_secret` points to 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_new_with_identity(
    account: *const c_char,
    account_len: usize,
    protocol: *const c_char,
    protocol_len: usize,
    policy: u32,
    identity_secret: *const u8,
    instance_tag: u32,
    callbacks: *const OffrecCallbacks,
    userdata: *mut c_void,
    out: *mut *mut offrec_client,
) -> OffrecResult {
    catch_result(|| {
        create(
            account,
            account_len,
            protocol,
            protocol_len,
            policy,
            callbacks,
            userdata,
            Some((identity_secret, instance_tag)),
            out,
        )
    })
}

/// Frees a client and wipes its keys. NULL is a no-op. No callback is called. Thread rules: no
/// other thread may be using the client, and it must not be freed from inside one of its own
/// callbacks.
///
/// # Safety
///
/// `client` is NULL or a live client from `offrec_client_new*`, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_free(client: *mut offrec_client) {
    catch(|| handle::free::<ClientHandle>(client))
}

fn send_common(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: Option<u32>,
    text: *const c_char,
    text_len: usize,
    out_message_id: *mut u64,
) -> Result<(), OffrecResult> {
    let c = handle::borrow::<ClientHandle>(client)?;
    let peer = bytes::borrow_name(peer, peer_len)?;
    bytes::check_cap(text_len, OFFREC_MAX_TEXT_LEN)?;
    let text = bytes::borrow(text.cast::<u8>(), text_len)?;
    out::check(out_message_id)?;
    let id = c.run(Sizing::Peer(peer), |client, now| {
        let result = match instance {
            None => client.send(peer, text, now),
            Some(tag) => client.send_to_instance(peer, tag, text, now),
        };
        result.map_err(client_error)
    })?;
    out::write(out_message_id, id)
}

/// Sends `text` to `peer` as the policy says: encrypted if a session is up; held (and a session
/// started) if encryption is required; else in plaintext (which must be UTF-8). Encrypted text
/// may be any bytes, at most `OFFREC_MAX_TEXT_LEN`.
///
/// Routing: once a key of `peer` is verified, a plain send never goes to a session with an
/// unverified key of `peer` unless the app consented (`offrec_client_accept_key`,
/// `offrec_client_send_to_instance` to it, or `offrec_client_set_trust` verified). While the
/// verified session lives, sends go there; if only sessions awaiting consent are live, the
/// message is held (never sent in the clear) and reported by
/// `OFFREC_EVENT_CODE_KEY_CONSENT_REQUIRED` with its id. Control messages (heartbeats, SMP,
/// extra keys) never change which session plain sends use; only user text does.
///
/// On success `*out_message_id` receives the message's id (events about it carry the same id)
/// after the resulting callbacks (`send`, events) have run on this thread.
///
/// # Safety
///
/// `client` is a live client; pointers are NULL or valid for their lengths; `out_message_id`
/// is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_send(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    text: *const c_char,
    text_len: usize,
    out_message_id: *mut u64,
) -> OffrecResult {
    catch_result(|| send_common(client, peer, peer_len, None, text, text_len, out_message_id))
}

/// Sends `text` encrypted to one remote `instance` of `peer` (non-zero;
/// `OFFREC_RESULT_INVALID_ARGUMENT` for 0). `OFFREC_RESULT_NO_SESSION` if there is no session
/// with it. Naming the instance is consent to its key, exactly as `offrec_client_accept_key`
/// (held messages are sent to it first, then this one). Otherwise as `offrec_client_send`.
///
/// # Safety
///
/// As `offrec_client_send`.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_send_to_instance(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
    text: *const c_char,
    text_len: usize,
    out_message_id: *mut u64,
) -> OffrecResult {
    catch_result(|| {
        let tag = instance_from_c(instance).ok_or(OffrecResult::InvalidArgument)?;
        send_common(client, peer, peer_len, Some(tag), text, text_len, out_message_id)
    })
}

/// Accepts the key of `peer`'s session with remote `instance` for routing: plain
/// `offrec_client_send` calls may use that session although a key of this peer is verified and
/// this one is not (`OFFREC_EVENT_CODE_KEY_CONSENT_REQUIRED`). The session becomes the one
/// plain sends use, and messages held for `peer` are sent to it now
/// (`OFFREC_EVENT_CODE_HELD_MESSAGE_SENT` each). For a session loaded from a store (which is
/// restarted, never resumed) only the key is accepted: held messages go to the new session
/// with that key once it is set up. The key's trust level is NOT changed: it stays
/// unverified (use `offrec_client_set_trust` or SMP to verify it). The acceptance lives in
/// memory only; it is not saved by `offrec_client_save`, so after a load the app is asked again.
///
/// Errors: `OFFREC_RESULT_INVALID_ARGUMENT` for instance 0, `OFFREC_RESULT_NO_SESSION` if there
/// is no session with that instance, `OFFREC_RESULT_SESSION_FINISHED` if it is finished.
/// Thread rules as every client call (any thread; callbacks run on this thread before it
/// returns).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_accept_key(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let tag = instance_from_c(instance).ok_or(OffrecResult::InvalidArgument)?;
        c.run(Sizing::Peer(peer), |client, now| {
            client.accept_key(peer, tag, now).map(|a| ((), a)).map_err(client_error)
        })
    })
}

/// Handles one message (`text`, UTF-8, at most `OFFREC_MAX_TEXT_LEN` + `OFFREC_MAX_NAME_LEN`
/// bytes) that arrived from `peer` over the transport. What it means comes through the
/// callbacks: `deliver` for a message to show, `send` for replies, `state_changed`, `event`.
/// A malformed or unreadable message is not an error of this call (it is reported as an event).
///
/// # Safety
///
/// `client` is a live client; pointers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_receive(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    text: *const c_char,
    text_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(text_len, OFFREC_MAX_TEXT_LEN + crate::conversation::MAX_NAME_LEN)?;
        let text = bytes::borrow_chars(text, text_len)?;
        c.run(Sizing::Peer(peer), |client, now| Ok(((), client.receive(peer, text, now))))
    })
}

/// Asks `peer` for an encrypted session (sends a query through `send`). While a session is up
/// this refreshes it. `OFFREC_RESULT_POLICY_FORBIDS` if the policy does not allow the protocol.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_start_session(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        c.run(Sizing::Peer(peer), |client, now| client.start_session(peer, now).map(|a| ((), a)).map_err(client_error))
    })
}

/// Ends the session with one remote `instance` of `peer`, or all of `peer`'s sessions when
/// `instance` is 0: the peer is told, keys are revealed and wiped, held messages fail.
/// Ending a session that does not exist is not an error. If the `is_logged_in` callback says
/// the peer is offline, nothing is sent: the session ends here only.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_end_session(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let instance = instance_from_c(instance);
        c.run_with_presence(Sizing::Peer(peer), |client, now| Ok(((), client.end_session(peer, instance, now))))
    })
}

/// Drives time: heartbeats, session expiry, fragment and held-message timeouts. Call it every
/// few seconds (for example from the app's event loop); it may call any callback. Peers the
/// `is_logged_in` callback reports offline get no heartbeat, and a session that expires is not
/// announced to them.
///
/// # Safety
///
/// `client` is a live client.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_tick(client: *mut offrec_client) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        c.run_with_presence(Sizing::AllPeers, |client, now| Ok(((), client.tick(now))))
    })
}

/// Replaces the policy (`OFFREC_POLICY_*` bits; unknown bits: `OFFREC_RESULT_INVALID_POLICY`).
/// Peers given a policy of their own (`offrec_client_set_peer_policy`) keep it.
///
/// # Safety
///
/// `client` is a live client.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_policy(client: *mut offrec_client, policy: u32) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let policy = policy_from_c(policy)?;
        c.run(Sizing::None, |client, _| {
            let settings = Settings { policy, ..client.settings().clone() };
            client.set_settings(settings);
            Ok(((), Vec::new()))
        })
    })
}

/// Sets one tunable (`option` is an `offrec_option`; unknown numbers:
/// `OFFREC_RESULT_UNKNOWN_ENUM_VALUE`; a value out of the documented range:
/// `OFFREC_RESULT_INVALID_ARGUMENT`).
///
/// # Safety
///
/// `client` is a live client.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_option(client: *mut offrec_client, option: u32, value: u64) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let option = OffrecOption::from_c(option)?;
        let size = usize::try_from(value).map_err(|_| OffrecResult::InvalidArgument);
        c.run(Sizing::None, |client, _| {
            let mut settings = client.settings().clone();
            match option {
                OffrecOption::HeartbeatInterval => settings.heartbeat_interval = value,
                OffrecOption::SessionExpiry => settings.session_expiry = value,
                OffrecOption::HeldMessageTimeout => settings.held_message_timeout = value,
                OffrecOption::HandshakeTimeout => settings.handshake_timeout = value,
                OffrecOption::PaddingBlock => settings.padding_block = size?,
                OffrecOption::MaxMessageSize => settings.max_message_size = size?,
                OffrecOption::NameBinding => {
                    settings.name_binding = match value {
                        0 => NameBinding::Off,
                        1 => NameBinding::Normalised,
                        _ => return Err(OffrecResult::InvalidArgument),
                    }
                }
                OffrecOption::UnauthenticatedBudget => settings.unauthenticated_budget = size?,
            }
            client.change_settings(settings).map_err(client_error)?;
            Ok(((), Vec::new()))
        })
    })
}

/// Sets the largest wire message the transport carries to `peer` (0 = the client-wide
/// `OFFREC_OPTION_MAX_MESSAGE_SIZE`; otherwise at least 64). While the app supplies a
/// `max_message_size` callback, each call uses the callback's answer instead (not stored).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_max_message_size(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    size: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        c.run(Sizing::None, |client, _| {
            client.set_max_message_size(peer, size).map(|()| ((), Vec::new())).map_err(client_error)
        })
    })
}

/// Writes to `*out` the state of the session a plain `offrec_client_send` to `peer` would use
/// (`OFFREC_SESSION_STATE_PLAINTEXT` if none). A session loaded from a store counts as none
/// until a new handshake replaces it (it carries no traffic), and `offrec_client_session_info`
/// lists it with state `OFFREC_SESSION_STATE_PLAINTEXT`.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_session_state(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    out: *mut OffrecSessionState,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let state = c.query(|client| client.session_state(peer))?;
        out::write(out, state.into())
    })
}

/// Writes to `*out` how many sessions (one per remote instance) exist with `peer`.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_session_count(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    out: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let count = c.query(|client| client.sessions(peer).len())?;
        out::write(out, count)
    })
}

/// Fills `*out` with session number `index` (0 ≤ index < `offrec_client_session_count`;
/// otherwise `OFFREC_RESULT_INVALID_ARGUMENT`). Sessions are ordered by instance tag; another
/// thread may change them between the two calls.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_session_info(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    index: usize,
    out: *mut OffrecSessionInfo,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let info = c.query(|client| client.sessions(peer).get(index).map(OffrecSessionInfo::from))?;
        out::write(out, info.ok_or(OffrecResult::InvalidArgument)?)
    })
}

/// Writes our own fingerprint (32 bytes) to `out` (show it with `offrec_fingerprint_format`).
///
/// # Safety
///
/// `client` is a live client; `out` is NULL or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_fingerprint(client: *const offrec_client, out: *mut u8) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let fp = c.query(Client::fingerprint)?;
        bytes::write_32(out, &fp)
    })
}

/// Writes our account name (the one the client was created with, or restored from its store)
/// into `buf` (`cap` bytes), NUL-terminated; `*out_len` receives the bytes written including
/// the NUL, so the name is `*out_len - 1` bytes of UTF-8 (`OFFREC_MAX_NAME_LEN + 1` always
/// fits). If `cap` is too small nothing is written to `buf`, `*out_len` receives the size
/// needed and `OFFREC_RESULT_BUFFER_TOO_SMALL` is returned. Use it after a load to show or
/// check whose store was opened. Thread rules: as any call on the client.
///
/// # Safety
///
/// `client` is a live client; `buf` is NULL or `cap` writable bytes; `out_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_account(
    client: *const offrec_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let mut text = c.query(|client| client.account().as_bytes().to_vec())?;
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

/// Writes our instance tag to `*out`.
///
/// # Safety
///
/// `client` is a live client; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_instance_tag(client: *const offrec_client, out: *mut u32) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let tag = c.query(Client::instance_tag)?;
        out::write(out, tag)
    })
}

/// Writes our identity key's secret (32 bytes) to `out`, for the app's own storage (restore it
/// with `offrec_client_new_with_identity`). It is a long-term secret: whoever has it can
/// impersonate this account. Store it encrypted and wipe the buffer after use.
///
/// # Safety
///
/// `client` is a live client; `out` is NULL or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_identity_secret(client: *const offrec_client, out: *mut u8) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let secret = c.query(|client| client.identity().key_pair().secret_bytes())?;
        bytes::write_32(out, secret.expose())
    })
}

/// Derives an extra symmetric key (32 bytes, into `key_out`) for `usage` (for example a file
/// transfer), with `context` (at most `OFFREC_MAX_CONTEXT_LEN` bytes), from the session with
/// remote `instance` of `peer` (0 = the session `offrec_client_send` would use), and tells the
/// peer, whose `event` callback receives the same key (`OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED`).
/// `OFFREC_RESULT_NO_SESSION` without an encrypted session. Wipe the key after use.
///
/// # Safety
///
/// `client` is a live client; pointers are NULL or valid for their lengths; `key_out` is NULL
/// or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_extra_symmetric_key(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    instance: u32,
    usage: u32,
    context: *const u8,
    context_len: usize,
    key_out: *mut u8,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        bytes::check_cap(context_len, OFFREC_MAX_CONTEXT_LEN)?;
        let context = bytes::borrow(context, context_len)?;
        out::check(key_out)?;
        let instance = instance_from_c(instance);
        let key = c.run(Sizing::Peer(peer), |client, now| {
            client.extra_symmetric_key(peer, instance, usage, context, now).map_err(client_error)
        })?;
        bytes::write_32(key_out, &key)
    })
}

/// Test hook: makes the next call on `client` that takes its lock panic while holding it.
/// That call returns `OFFREC_RESULT_PANIC`, the lock is poisoned, and every later call on the
/// client returns `OFFREC_RESULT_PANIC` too; `offrec_client_free` still frees it. Exported only
/// with the `test-hooks` cargo feature (never in release packages).
///
/// # Safety
///
/// `client` is NULL or a live client.
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub unsafe extern "C" fn offrec_test_client_panic_next(client: *mut offrec_client) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        c.panic_next.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    })
}
