//! The texts a client sends, in the application's words (localisation).

use std::ffi::c_char;

use crate::conversation::{TextKind, MAX_CUSTOM_TEXT_LEN};
use crate::ffi::bytes;
use crate::ffi::client::{client_error, offrec_client, ClientHandle, Sizing};
use crate::ffi::handle;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;

/// Longest text for `offrec_client_set_text`, in bytes.
pub const OFFREC_MAX_CUSTOM_TEXT_LEN: usize = 1024;

/// Which text `offrec_client_set_text` sets. offrec's own error messages are not among them:
/// they are machine-readable reports (PROTOCOL.md §9.8) that the peer's offrec turns into
/// events, which its application words in its own language.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecText {
    /// The sentence after `?OTRv3? ?OFRv1?` in our query, shown by programs that speak neither
    /// protocol (libotr's default query text plays this part). Default: "An encrypted
    /// conversation was requested, but your program does not support it."
    Query = 1,
    /// The text of the `?OTR Error:` we send when an OTR data message could not be read (bad
    /// MAC, unknown keys). libotr-based programs show it to their user. Default: "You
    /// transmitted an unreadable encrypted message."
    OtrErrorUnreadable = 2,
    /// The text of the `?OTR Error:` we send when OTR data arrives and we have no OTR session
    /// for it (libotr's `OTRL_ERRCODE_MSG_NOT_IN_PRIVATE`). Default: the unreadable text.
    OtrErrorNotInPrivate = 3,
    /// The text of the `?OTR Error:` we send when an OTR data message could not be parsed
    /// (libotr's `OTRL_ERRCODE_MSG_MALFORMED`). Default: "You transmitted a malformed data
    /// message."
    OtrErrorMalformed = 4,
}

fn text_kind(which: u32) -> Result<TextKind, OffrecResult> {
    match which {
        1 => Ok(TextKind::Query),
        2 => Ok(TextKind::OtrUnreadable),
        3 => Ok(TextKind::OtrNotInPrivate),
        4 => Ok(TextKind::OtrMalformed),
        _ => Err(OffrecResult::UnknownEnumValue),
    }
}

/// Sets the text `which` (an `offrec_text`; unknown numbers: `OFFREC_RESULT_UNKNOWN_ENUM_VALUE`)
/// to `text` (`text_len` bytes of UTF-8, not NUL-terminated; may be empty); NULL with length 0
/// restores the default. Refused, changing nothing: longer than `OFFREC_MAX_CUSTOM_TEXT_LEN`
/// (`OFFREC_RESULT_MESSAGE_TOO_LARGE`), not UTF-8 (`OFFREC_RESULT_INVALID_UTF8`), holding a
/// control character other than a line feed (NUL and tab included) or a protocol marker
/// (`?OTR`, `?OFR`, in any case) a peer could take for a message of its own
/// (`OFFREC_RESULT_INVALID_TEXT`). Applies to messages sent after the call. Texts are
/// settings, not state: they are not stored, so set them after every create or load.
///
/// # Safety
///
/// `client` is a live client; `text` is NULL or valid for `text_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_set_text(
    client: *mut offrec_client,
    which: u32,
    text: *const c_char,
    text_len: usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let kind = text_kind(which)?;
        bytes::check_cap(text_len, MAX_CUSTOM_TEXT_LEN)?;
        let text = bytes::borrow_optional_chars(text, text_len)?;
        c.run(Sizing::None, |client, _| {
            let mut settings = client.settings().clone();
            settings.texts.set(kind, text).map_err(client_error)?;
            client.set_settings(settings);
            Ok(((), Vec::new()))
        })
    })
}

/// Writes the text `which` currently sent (an `offrec_text`) into `buf` (`cap` bytes),
/// NUL-terminated; `*out_len` receives the bytes written including the NUL
/// (`OFFREC_MAX_CUSTOM_TEXT_LEN + 1` always fits). Buffer rules as `offrec_client_account`.
///
/// # Safety
///
/// `client` is a live client; `buf` is NULL or `cap` writable bytes; `out_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_client_text(
    client: *const offrec_client,
    which: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> OffrecResult {
    catch_result(|| {
        let c = handle::borrow::<ClientHandle>(client)?;
        let kind = text_kind(which)?;
        let mut text = c.query(|client| client.settings().texts.get(kind).as_bytes().to_vec())?;
        text.push(0);
        bytes::write_into(&text, buf.cast::<u8>(), cap, out_len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_engine() {
        for kind in TextKind::ALL {
            assert_eq!(text_kind(kind as u32), Ok(kind));
        }
        for (c, kind) in [
            (OffrecText::Query, TextKind::Query),
            (OffrecText::OtrErrorUnreadable, TextKind::OtrUnreadable),
            (OffrecText::OtrErrorNotInPrivate, TextKind::OtrNotInPrivate),
            (OffrecText::OtrErrorMalformed, TextKind::OtrMalformed),
        ] {
            assert_eq!(c as u32, kind as u32);
        }
        assert_eq!(text_kind(0), Err(OffrecResult::UnknownEnumValue));
        assert_eq!(OFFREC_MAX_CUSTOM_TEXT_LEN, MAX_CUSTOM_TEXT_LEN);
    }
}
