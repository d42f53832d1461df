//! Classifying a line of text without a client, for applications that keep protocol noise out
//! of logs (`message_kind`).

use std::ffi::c_char;

use crate::ffi::bytes;
use crate::ffi::out;
use crate::ffi::panic::catch_result;
use crate::ffi::result::OffrecResult;
use crate::ffi::types::{OFFREC_MAX_NAME_LEN, OFFREC_MAX_TEXT_LEN};
use crate::message_kind::{message_kind, MessageKind};

/// What a line of text is (`offrec_classify`). New kinds may be added: treat an unknown number
/// as protocol traffic.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffrecMessageKind {
    /// Ordinary text with no protocol marker or tag: show it.
    Plaintext = 1,
    /// An offrec query (`?OFRv1?`, also the combined `?OTRv3? ?OFRv1?`).
    OffrecQuery = 2,
    /// Text for the user with offrec's whitespace tag (perhaps OTR's too): `offrec_client_receive`
    /// delivers it without the tag.
    OffrecTagged = 3,
    /// An offrec handshake message.
    OffrecKeyExchange = 4,
    /// An offrec encrypted data message.
    OffrecData = 5,
    /// An offrec error message (`?OFR Error:`).
    OffrecError = 6,
    /// A fragment of an offrec message (`?OFR|`).
    OffrecFragment = 7,
    /// An OTR query (`?OTRv23?`, `?OTR?`).
    OtrQuery = 8,
    /// Text for the user with OTR's whitespace tag only.
    OtrTagged = 9,
    /// OTR AKE: D-H Commit.
    OtrDhCommit = 10,
    /// OTR AKE: D-H Key.
    OtrDhKey = 11,
    /// OTR AKE: Reveal Signature.
    OtrRevealSignature = 12,
    /// OTR AKE: Signature.
    OtrSignature = 13,
    /// An OTR v3 or v2 encrypted data message.
    OtrData = 14,
    /// An OTR error message (`?OTR Error:`).
    OtrError = 15,
    /// A fragment of an OTR v3 or v2 message.
    OtrFragment = 16,
    /// OTR of a version offrec never speaks (v1, OTRv4, unknown).
    OtrForeign = 17,
    /// Looks like an encoded message or fragment of either protocol but does not decode.
    Malformed = 18,
}

impl From<MessageKind> for OffrecMessageKind {
    fn from(kind: MessageKind) -> Self {
        use OffrecMessageKind as C;
        match kind {
            MessageKind::Plaintext => C::Plaintext,
            MessageKind::OffrecQuery => C::OffrecQuery,
            MessageKind::OffrecTagged => C::OffrecTagged,
            MessageKind::OffrecKeyExchange => C::OffrecKeyExchange,
            MessageKind::OffrecData => C::OffrecData,
            MessageKind::OffrecError => C::OffrecError,
            MessageKind::OffrecFragment => C::OffrecFragment,
            MessageKind::OtrQuery => C::OtrQuery,
            MessageKind::OtrTagged => C::OtrTagged,
            MessageKind::OtrDhCommit => C::OtrDhCommit,
            MessageKind::OtrDhKey => C::OtrDhKey,
            MessageKind::OtrRevealSignature => C::OtrRevealSignature,
            MessageKind::OtrSignature => C::OtrSignature,
            MessageKind::OtrData => C::OtrData,
            MessageKind::OtrError => C::OtrError,
            MessageKind::OtrFragment => C::OtrFragment,
            MessageKind::OtrForeign => C::OtrForeign,
            MessageKind::Malformed => C::Malformed,
        }
    }
}

/// Writes to `*out` what the line `text` (`text_len` bytes of UTF-8, at most
/// `OFFREC_MAX_TEXT_LEN` + `OFFREC_MAX_NAME_LEN`; not NUL-terminated) is: plaintext, tagged
/// plaintext, or which offrec or OTR message (an `offrec_message_kind`). It needs no client
/// and changes nothing: it uses the classification `offrec_client_receive` uses, and looks
/// inside encoded messages only far enough to name their kind (nothing is decrypted or
/// authenticated). For apps that keep protocol traffic out of their logs: only `PLAINTEXT`,
/// `OFFREC_TAGGED` and `OTR_TAGGED` are text for people. Safe from any thread.
///
/// # Safety
///
/// `text` is NULL or valid for `text_len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn offrec_classify(text: *const c_char, text_len: usize, out: *mut u32) -> OffrecResult {
    catch_result(|| {
        bytes::check_cap(text_len, OFFREC_MAX_TEXT_LEN + OFFREC_MAX_NAME_LEN)?;
        let text = bytes::borrow_chars(text, text_len)?;
        out::check(out)?;
        out::write(out, OffrecMessageKind::from(message_kind(text)) as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_engine() {
        for kind in MessageKind::ALL {
            assert_eq!(OffrecMessageKind::from(kind) as u32, kind as u32, "{kind:?}");
        }
    }
}
