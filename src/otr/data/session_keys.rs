//! The keys and counters of one data key pair (one of our DH keys with one of theirs; libotr's
//! `DH_sesskeys`): derived once, used until either key is rotated away.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::otr::group::Element;
use crate::otr::kdf::{extra_symmetric_key, DataKeys};

use super::symmetric::{Aes128CtrKey, Sha1Mac};
use super::DhKeyPair;

/// One key pair's keys, counters and whether its receiving MAC key was used. Kept in its
/// [`super::key_ring::KeyRing`] slot and used in place: never copied per message.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(super) struct SessionKeys {
    pub(super) keys: DataKeys,
    /// The extra symmetric key (the same for every message under this pair).
    pub(super) extra_key: [u8; 32],
    /// Top half of the last counter we sent (0: none yet, so the first message carries 1).
    pub(super) send_counter: u64,
    /// Top half of the last counter we accepted (a message must carry a larger one).
    pub(super) receive_counter: u64,
    /// Whether a received message verified under the receiving MAC key: only such keys are
    /// revealed (libotr's `rcvmacused`).
    pub(super) receive_mac_used: bool,
    /// `keys.sending_mac` keyed once (see [`Sha1Mac`]; wiped by its own drop).
    #[zeroize(skip)]
    pub(super) sending_mac: Sha1Mac,
    /// `keys.receiving_mac` keyed once.
    #[zeroize(skip)]
    pub(super) receiving_mac: Sha1Mac,
    /// `keys.sending_aes`'s key schedule (wiped by its own drop).
    #[zeroize(skip)]
    pub(super) sending_aes: Aes128CtrKey,
    /// `keys.receiving_aes`'s key schedule.
    #[zeroize(skip)]
    pub(super) receiving_aes: Aes128CtrKey,
}

impl SessionKeys {
    /// The keys of `ours` with `their_public`.
    pub(super) fn derive(ours: &DhKeyPair, their_public: &Element) -> SessionKeys {
        let secbytes = ours.shared_secbytes(their_public);
        let extra: Zeroizing<[u8; 32]> = extra_symmetric_key(&secbytes);
        let keys = DataKeys::derive(&secbytes, ours.public(), their_public);
        SessionKeys {
            sending_mac: Sha1Mac::new(&keys.sending_mac),
            receiving_mac: Sha1Mac::new(&keys.receiving_mac),
            sending_aes: Aes128CtrKey::new(&keys.sending_aes),
            receiving_aes: Aes128CtrKey::new(&keys.receiving_aes),
            keys,
            extra_key: *extra,
            send_counter: 0,
            receive_counter: 0,
            receive_mac_used: false,
        }
    }
}
