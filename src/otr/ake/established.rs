//! What a finished AKE hands to the data path and the conversation: the session id (and which
//! half the user sees in bold), the peer's long-term key, and both AKE DH keys (keyid 1 on our
//! side; theirs with the keyid they sent).

use crate::otr::data::DhKeyPair;
use crate::otr::group::Element;
use crate::otr::identity::{DsaPublicKey, Fingerprint};
use crate::otr::message::OtrVersion;
use crate::wire::InstanceTag;

/// Which half of the session id a client shows in bold (libotr's
/// `OTRL_SESSIONID_FIRST_HALF_BOLD` / `SECOND_HALF_BOLD`): the Reveal Signature sender bolds
/// the first half, the Signature sender the second, so the two users see the same id with
/// opposite halves highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsidBoldHalf {
    /// We sent the Reveal Signature (we sent the D-H Commit).
    First,
    /// We sent the Signature (we sent the D-H Key).
    Second,
}

/// The result of a successful AKE.
#[derive(Clone)]
pub struct EstablishedAke {
    /// OTR version of the session.
    pub version: OtrVersion,
    /// Our instance tag (v3; `NONE` in v2).
    pub our_tag: InstanceTag,
    /// The peer's instance tag (v3; `NONE` in v2).
    pub their_tag: InstanceTag,
    /// The secure session id: 8 bytes, shown as `%08x %08x`.
    pub ssid: [u8; 8],
    /// Which half of the session id we show in bold.
    pub bold_half: SsidBoldHalf,
    /// The peer's long-term DSA key, as authenticated by their signature.
    pub their_public_key: DsaPublicKey,
    /// SHA-1 fingerprint of `their_public_key`.
    pub their_fingerprint: Fingerprint,
    /// Our AKE DH key pair; keyid 1 in the data path.
    pub our_dh: DhKeyPair,
    /// The keyid of `our_dh` (always 1, as libotr).
    pub our_keyid: u32,
    /// The peer's AKE DH public value.
    pub their_dh: Element,
    /// The keyid the peer gave `their_dh` (non-zero; libotr sends 1).
    pub their_keyid: u32,
}

impl EstablishedAke {
    /// The two 32-bit words of the session id, as clients print them (`%08x %08x`).
    pub fn ssid_words(&self) -> (u32, u32) {
        let [a, b, c, d, e, f, g, h] = self.ssid;
        (u32::from_be_bytes([a, b, c, d]), u32::from_be_bytes([e, f, g, h]))
    }
}

impl std::fmt::Debug for EstablishedAke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstablishedAke")
            .field("version", &self.version)
            .field("our_tag", &self.our_tag)
            .field("their_tag", &self.their_tag)
            .field("bold_half", &self.bold_half)
            .field("their_public_key", &self.their_public_key)
            .field("their_keyid", &self.their_keyid)
            .finish_non_exhaustive()
    }
}
