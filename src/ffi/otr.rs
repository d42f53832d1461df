//! OTR compatibility through the C API: the client's DSA identity (made explicitly, or at the
//! first OTR need), and which protocol each session speaks. Everything else (send, SMP, extra
//! key, ending) works on OTR sessions through the usual calls.

use std::ffi::c_char;

use crate::conversation::{Client, Protocol, SessionInfo};
use crate::ffi::bytes;
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::otr::identity::human_fingerprint;

/// Which protocol a session speaks (`offrec_session_protocol.protocol`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecProtocol {
    /// offrec's own protocol (X25519, double ratchet, AES-256-GCM).
    ModernV1 = 1,
    /// OTR version 3, as libotr 4 speaks it (Pidgin, Adium, irssi-otr, Jitsi...).
    OtrV3 = 2,
    /// OTR version 2 (python-potr: weechat-otr, Gajim).
    OtrV2 = 3,
}

/// How strong a session's cryptography is (`offrec_session_protocol.strength`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecStrength {
    /// offrec's protocol: ~128-bit security throughout.
    Strong = 1,
    /// OTR: DSA-1024 signatures (~80 bits), a 1536-bit DH group, SHA-1 MACs. Show it apart
    /// from STRONG (SECURITY.md "Legacy OTR").
    Legacy = 2,
}

impl From<Protocol> for OffrecProtocol {
    fn from(protocol: Protocol) -> Self {
        match protocol {
            Protocol::ModernV1 => OffrecProtocol::ModernV1,
            Protocol::OtrV3 => OffrecProtocol::OtrV3,
            Protocol::OtrV2 => OffrecProtocol::OtrV2,
        }
    }
}

/// What protocol one session speaks and, for OTR, what libotr-based clients show about it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OffrecSessionProtocol {
    /// The remote instance tag (as in `offrec_session_info`). OTR v2 has no instance tags: a v2
    /// session is listed under the pseudo-instance 2 (never a valid OTR tag, which is >= 0x100).
    pub instance: u32,
    /// An `offrec_protocol`.
    pub protocol: u32,
    /// An `offrec_strength`.
    pub strength: u32,
    /// Whether the three OTR fields below are set (OTR sessions only).
    pub has_otr_fingerprint: bool,
    /// The peer's DSA fingerprint (SHA-1, 20 bytes); show it with
    /// `offrec_otr_fingerprint_format`, as Pidgin shows it.
    pub their_otr_fingerprint: [u8; 20],
    /// OTR's secure session id: read it aloud as two words, `%08x %08x`.
    pub otr_ssid: [u8; 8],
    /// Whether the first word is shown bold on our side (the peer shows the other one bold).
    pub otr_ssid_first_half_bold: bool,
}

impl From<&SessionInfo> for OffrecSessionProtocol {
    fn from(info: &SessionInfo) -> Self {
        let otr = info.otr;
        OffrecSessionProtocol {
            instance: info.instance,
            protocol: OffrecProtocol::from(info.protocol) as u32,
            strength: if info.protocol.is_legacy() { OffrecStrength::Legacy } else { OffrecStrength::Strong } as u32,
            has_otr_fingerprint: otr.is_some(),
            their_otr_fingerprint: otr.map_or([0; 20], |o| o.their_fingerprint),
            otr_ssid: otr.map_or([0; 8], |o| o.ssid),
            otr_ssid_first_half_bold: otr.is_some_and(|o| o.first_half_bold),
        }
    }
}

/// Fills `*out` with the protocol of session number `index` with `peer` (the same numbering as
/// `offrec_client_session_info`; otherwise `OFFREC_RESULT_INVALID_ARGUMENT`).
///
/// # Safety
///
/// `client` is a live client; `peer` is NULL or valid for `peer_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_session_protocol(
    client: *const offrec_client,
    peer: *const c_char,
    peer_len: usize,
    index: usize,
    out: *mut OffrecSessionProtocol,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let peer = bytes::borrow_name(peer, peer_len)?;
        out::check(out)?;
        let info = c.query(|client| client.sessions(peer).get(index).map(OffrecSessionProtocol::from))?;
        out::write(out, info.ok_or(OffrecResult::InvalidArgument)?)
    })
}

/// Makes the client's OTR DSA-1024 key now if it has none, and writes its fingerprint (20
/// bytes) to `fingerprint_out` (may be NULL). It takes 0.1-0.3 s: call it off the UI thread at a
/// moment of your choosing (account creation), as libotr's `otrl_privkey_generate`. Without
/// it, the key is made inside the call that first needs it (the first OTR handshake). Save
/// the client afterwards (a `PERSIST_NEEDED` event follows the next call that reports events).
///
/// # Safety
///
/// `client` is a live client; `fingerprint_out` is NULL or 20 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_generate_otr_key(
    client: *mut offrec_client,
    fingerprint_out: *mut u8,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let fingerprint = c.run(Sizing::None, |client, _| client.generate_otr_key().map_err(client_error))?;
        write_20(fingerprint_out, &fingerprint)
    })
}

/// Writes the fingerprint of our OTR DSA key (20 bytes) to `out`; `OFFREC_RESULT_NO_OTR_KEY`
/// before the key exists.
///
/// # Safety
///
/// `client` is a live client; `out` is 20 writable bytes (NULL: `OFFREC_RESULT_NULL_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn offrec_client_otr_fingerprint(client: *const offrec_client, out: *mut u8) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        out::check(out)?;
        let fingerprint = c.query(Client::otr_fingerprint)?.ok_or(OffrecResult::NoOtrKey)?;
        write_20(out, &fingerprint)
    })
}

/// Writes an OTR DSA fingerprint (20 bytes at `fingerprint`) as libotr and Pidgin show it, five
/// groups of eight upper-case hex digits (`CB5EFC9C 5C6C88A7 E4926E47 D40421EC F28B3275`),
/// NUL-terminated, into `buf` (`cap` bytes; 45 always fits). Buffer rules as
/// `offrec_fingerprint_format` (which shows the same text for an OTR key's 32-byte key id).
/// Safe from any thread.
///
/// # Safety
///
/// `fingerprint` is NULL or 20 readable bytes; `buf` is NULL or `cap` writable bytes;
/// `out_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_otr_fingerprint_format(
    fingerprint: *const u8,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let raw = bytes::borrow(fingerprint, 20)?;
        let mut fp = [0u8; 20];
        fp.copy_from_slice(raw);
        let mut text = human_fingerprint(&fp).into_bytes();
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

/// Whether a 32-byte key id (a fingerprint in events, session info and the trust calls) names
/// an OTR DSA key (true) or an offrec key (false); for an OTR key, its 20-byte DSA fingerprint
/// is written to `dsa_out` (may be NULL).
///
/// # Safety
///
/// `key_id` is NULL or 32 readable bytes; `dsa_out` is NULL or 20 writable bytes; `out` is
/// writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_key_id_is_otr(key_id: *const u8, dsa_out: *mut u8, out: *mut bool) -> OffrecResult {
    catch_result(|| {
        let id = bytes::borrow_32(key_id)?;
        out::check(out)?;
        let dsa = crate::trust::otr_fingerprint(&id);
        if let Some(dsa) = dsa {
            if !dsa_out.is_null() {
                write_20(dsa_out, &dsa)?;
            }
        }
        out::write(out, dsa.is_some())
    })
}

fn write_20(out: *mut u8, src: &[u8; 20]) -> Result<(), OffrecResult> {
    if out.is_null() {
        return Ok(());
    }
    // SAFETY: the caller promises `out` is 20 writable bytes (checked non-NULL above).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), out, 20) };
    Ok(())
}
