//! The peers a client knows and their keys, for a UI's contact and fingerprint lists, and
//! forgetting them (libotr's `otrl_context_forget_fingerprint` / `otrl_context_forget`).

use std::ffi::c_char;

use crate::conversation::KnownKeyInfo;
use crate::ffi::bytes;
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::trust::KeyKind;

/// Which protocol's identity key a known key is (`offrec_known_key.kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecKeyKind {
    /// offrec's own key (X25519); its fingerprint is 32 bytes (SHA-256).
    Modern = 1,
    /// An OTR DSA-1024 key (libotr, Pidgin...); its fingerprint is 20 bytes (SHA-1), shown
    /// with `offrec_otr_fingerprint_format`.
    OtrDsa = 2,
}

impl From<KeyKind> for OffrecKeyKind {
    fn from(kind: KeyKind) -> Self {
        match kind {
            KeyKind::Modern => OffrecKeyKind::Modern,
            KeyKind::OtrDsa => OffrecKeyKind::OtrDsa,
        }
    }
}

/// One key known for a peer (filled in by `offrec_client_known_key_info`). Plain data: it
/// belongs to whoever holds it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OffrecKnownKey {
    /// The 32-byte key id that `offrec_client_set_trust`, `offrec_client_trust`,
    /// `offrec_client_forget_key` and the events use for this key.
    pub key_id: [u8; 32],
    /// An `offrec_trust`.
    pub trust: u32,
    /// An `offrec_key_kind`.
    pub kind: u32,
    /// The key's own fingerprint as its protocol's programs show it: the first
    /// `fingerprint_len` bytes count (the rest are 0).
    pub fingerprint: [u8; 32],
    /// 32 for `OFFREC_KEY_KIND_MODERN`, 20 for `OFFREC_KEY_KIND_OTR_DSA`.
    pub fingerprint_len: usize,
}

impl From<&KnownKeyInfo> for OffrecKnownKey {
    fn from(info: &KnownKeyInfo) -> Self {
        OffrecKnownKey {
            key_id: info.key_id,
            trust: info.trust as u32,
            kind: OffrecKeyKind::from(info.kind) as u32,
            fingerprint: info.fingerprint,
            fingerprint_len: info.fingerprint_len,
        }
    }
}

/// Writes to `*out` how many peers the client knows: peers with known keys, with
/// conversation state the application caused (sessions, held messages, a peer it sent to or
/// set a limit for) or with a policy of their own (`offrec_client_set_peer_policy`). Strangers
/// (peers that only sent us something and hold no session) are not counted. Thread rules: as
/// any call on the client; another thread may change the list between this call and
/// `offrec_client_peer`.
///
/// # Safety
///
/// `client` is a live client; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_peer_count(client: *const offrec_client, out: *mut usize) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let count = c.query(|client| client.known_peers().len())?;
        out::write(out, count)
    })
}

/// Writes the name of known peer number `index` (0 ≤ index < `offrec_client_peer_count`, else
/// `OFFREC_RESULT_INVALID_ARGUMENT`; sorted by name, byte order) into `buf` (`cap` bytes),
/// NUL-terminated; `*out_len` receives the bytes written including the NUL
/// (`OFFREC_MAX_NAME_LEN + 1` always fits). If `cap` is too small nothing is written to `buf`,
/// `*out_len` receives the size needed and `OFFREC_RESULT_BUFFER_TOO_SMALL` is returned.
///
/// # Safety
///
/// `client` is a live client; `buf` is NULL or `cap` writable bytes; `out_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_peer(
    client: *const offrec_client,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let name = c.query(|client| client.known_peers().into_iter().nth(index))?;
        let mut text = name.ok_or(OffrecResult::InvalidArgument)?.into_bytes();
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

/// Fills `*out` with `peer`'s known key number `index` (0 ≤ index <
/// `offrec_client_known_key_count`, else `OFFREC_RESULT_INVALID_ARGUMENT`; least recently
/// used first): its key id, trust, kind, and its own fingerprint with that fingerprint's
/// length (32 bytes for an offrec key, 20 for an OTR DSA key).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_known_key_info(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    index: usize,
    out: *mut OffrecKnownKey,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let key = c.query(|client| client.known_key_infos(peer).get(index).map(OffrecKnownKey::from))?;
        out::write(out, key.ok_or(OffrecResult::InvalidArgument)?)
    })
}

/// Forgets `peer`'s key `key_id` (32 bytes) and the trust in it: a later session with that key
/// reports it as new again. Refused, changing nothing, with `OFFREC_RESULT_KEY_IN_USE` while an
/// encrypted session uses the key (end it first with `offrec_client_end_session`; libotr's
/// `otrl_context_forget_fingerprint` refuses the active fingerprint too) and
/// `OFFREC_RESULT_UNKNOWN_KEY` if the peer has no such key. On success an
/// `OFFREC_EVENT_CODE_PERSIST_NEEDED` event asks for a save.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `key_id` is NULL
/// or 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_forget_key(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
    key_id: *const u8,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        let key_id = bytes::borrow_32(key_id)?;
        c.run(Sizing::None, |client, _| client.forget_key(peer, &key_id).map(|a| ((), a)).map_err(client_error))
    })
}

/// Forgets everything the client knows about `peer`: its keys and their trust, finished
/// sessions and sessions loaded from a store, handshakes in progress, its own policy. Messages
/// held for it fail (`OFFREC_EVENT_CODE_MESSAGE_NOT_SENT` with
/// `OFFREC_NOT_SENT_REASON_SESSION_ENDED`). Refused, changing nothing, with
/// `OFFREC_RESULT_SESSION_ACTIVE` while an encrypted session with the peer is live (end it
/// first; libotr's `otrl_context_forget` refuses a context that is not plaintext) and
/// `OFFREC_RESULT_UNKNOWN_PEER` if the client knows nothing about it. On success an
/// `OFFREC_EVENT_CODE_PERSIST_NEEDED` event asks for a save.
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_forget_peer(
    client: *mut offrec_client,
    peer: *const c_char,
    peer_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        c.run(Sizing::None, |client, now| client.forget_peer(peer, now).map(|a| ((), a)).map_err(client_error))
    })
}
