//! Application TLVs: typed records an application sends beside its text (or instead of it)
//! inside an encrypted message, for its own features (typing notices, file offers, receipts).
//! The library carries them and hands them to the peer's application; it never interprets
//! them. Both protocols put them in their data-message body as ordinary TLVs, so OTR peers
//! (libotr's `otrl_tlv_find`) see them too.
//!
//! Types `APP_TLV_FIRST..=0xFFFF` belong to applications, in both protocols; the lower half
//! is the protocols' own (modern 0-7, OTR 0-8, the upgrade probe 0x4F46, and whatever later
//! versions add), so an application cannot forge a disconnect or an SMP step, and a future
//! protocol TLV is never mistaken for an application's. OTR implementations skip TLV types
//! they do not know (libotr keeps them for `otrl_tlv_find`, otr4j ignores them), except
//! python-potr, OTR v2's main implementation, which fails on them: OTR v2 sessions refuse
//! application TLVs ([`ClientError::TlvsUnsupported`]).

use super::client::{check_name, Client};
use super::error::ClientError;
use super::events::{Action, MessageId};

/// The first TLV type of the application range (up to 0xFFFF, in both protocols).
pub const APP_TLV_FIRST: u16 = 0x8000;
/// The most application TLVs one message carries (the bodies cap all TLVs at 64).
pub const MAX_APP_TLVS: usize = 16;
/// The most bytes of TLV values one message carries, all application TLVs together.
pub const MAX_APP_TLV_BYTES: usize = 65535;

/// One application TLV to send: a type in the application range and its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AppTlv<'a> {
    /// The type, at least [`APP_TLV_FIRST`].
    pub kind: u16,
    /// The value (its length counts towards [`MAX_APP_TLV_BYTES`]).
    pub value: &'a [u8],
}

impl core::fmt::Debug for AppTlv<'_> {
    // The value is message content: only its length is shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AppTlv").field("kind", &self.kind).field("len", &self.value.len()).finish()
    }
}

/// Whether `kind` is in the application range.
pub fn is_app_tlv_type(kind: u16) -> bool {
    kind >= APP_TLV_FIRST
}

/// Checks what an application asks to send: every type in the application range, at most
/// [`MAX_APP_TLVS`] records and [`MAX_APP_TLV_BYTES`] of values.
pub(crate) fn check_app_tlvs(tlvs: &[AppTlv<'_>]) -> Result<(), ClientError> {
    if tlvs.len() > MAX_APP_TLVS {
        return Err(ClientError::TooManyTlvs);
    }
    if tlvs.iter().any(|tlv| !is_app_tlv_type(tlv.kind)) {
        return Err(ClientError::TlvTypeReserved);
    }
    let total = tlvs.iter().fold(0usize, |n, tlv| n.saturating_add(tlv.value.len()));
    if total > MAX_APP_TLV_BYTES {
        return Err(ClientError::MessageTooLarge);
    }
    Ok(())
}

impl Client {
    /// Sends `text` (may be empty) with application `tlvs` over the encrypted session a plain
    /// [`Client::send`] to `peer` would use; nothing is held and nothing goes out in the clear:
    /// without such a session it fails with [`ClientError::NoSession`]. Messages held for the
    /// peer go first, as for `send`. The peer gets one [`super::Event::TlvReceived`] per TLV,
    /// then its `deliver` for the text, if any. An empty text with no TLV is
    /// [`ClientError::InvalidArgument`]; TLVs to an OTR v2 session are
    /// [`ClientError::TlvsUnsupported`]. Bad TLVs are refused before anything happens.
    pub fn send_with_tlvs(
        &mut self,
        peer: &str,
        text: &[u8],
        tlvs: &[AppTlv<'_>],
        now: u64,
    ) -> Result<(MessageId, Vec<Action>), ClientError> {
        check_name(peer, "peer")?;
        check_app_tlvs(tlvs)?;
        if text.is_empty() && tlvs.is_empty() {
            return Err(ClientError::InvalidArgument("nothing to send: no text and no TLV"));
        }
        let id = self.allocate_id();
        let (result, actions) = self.with_peer(peer, now, true, |p, ctx| p.send_app_tlvs(ctx, id, text, tlvs));
        match result {
            Ok(()) => Ok((id, self.finish_call(actions))),
            Err(error) => {
                self.finish_failed_call();
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_types_count_and_size() {
        let ok = AppTlv { kind: APP_TLV_FIRST, value: b"x" };
        assert_eq!(check_app_tlvs(&[ok, AppTlv { kind: 0xFFFF, value: b"" }]), Ok(()));
        assert_eq!(check_app_tlvs(&[]), Ok(()));
        for reserved in [0u16, 1, 7, 8, 0x4F46, APP_TLV_FIRST - 1] {
            assert_eq!(check_app_tlvs(&[ok, AppTlv { kind: reserved, value: b"" }]), Err(ClientError::TlvTypeReserved));
        }
        assert_eq!(check_app_tlvs(&[ok; MAX_APP_TLVS]), Ok(()));
        assert_eq!(check_app_tlvs(&[ok; MAX_APP_TLVS + 1]), Err(ClientError::TooManyTlvs));
        let big = vec![0u8; MAX_APP_TLV_BYTES];
        assert_eq!(check_app_tlvs(&[AppTlv { kind: APP_TLV_FIRST, value: &big }]), Ok(()));
        assert_eq!(
            check_app_tlvs(&[AppTlv { kind: APP_TLV_FIRST, value: &big }, ok]),
            Err(ClientError::MessageTooLarge)
        );
    }

    #[test]
    fn debug_hides_the_value() {
        let shown = format!("{:?}", AppTlv { kind: 0x8001, value: b"secret words" });
        assert!(!shown.contains("secret") && shown.contains("len: 12"), "{shown}");
    }
}
