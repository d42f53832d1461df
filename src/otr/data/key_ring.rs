//! OTR key management (v3 spec, "Key Management"; libotr's `rotate_dh_keys`/`rotate_y_keys`):
//! our current and previous DH keys, the peer's current and previous public values, the four
//! key pairs between them, and the receiving MAC keys waiting to be revealed.
//!
//! Pair keys are derived lazily (libotr derives all four eagerly; the keys and counters are the
//! same either way, and a turn of the conversation costs two modular exponentiations less).

use zeroize::{Zeroize, Zeroizing};

use crate::otr::group::Element;

use super::session_keys::SessionKeys;
use super::DhKeyPair;

/// Which of our keys: the current one (`our_keyid`) or the previous one (`our_keyid - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ours {
    Current = 0,
    Previous = 1,
}

/// Which of theirs: the current (`their_keyid`) or the previous (`their_keyid - 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Theirs {
    Current = 0,
    Previous = 1,
}

/// A MAC key being revealed.
pub(super) type MacKey = [u8; 20];

/// How many MAC keys one message reveals at most (what a receiving offrec accepts).
const MAX_REVEALED_MAC_KEYS: usize = crate::otr::message::MAX_REVEALED_MAC_KEYS;
/// How many MAC keys wait to be revealed at most.
pub(super) const MAX_PENDING_REVEALS: usize = 2 * MAX_REVEALED_MAC_KEYS;

pub(super) struct KeyRing {
    pub(super) our_keyid: u32,
    our_current: DhKeyPair,
    /// `our_current`'s public value as the minimal MPI magnitude every message announces.
    our_current_minimal: Vec<u8>,
    our_previous: DhKeyPair,
    pub(super) their_keyid: u32,
    their_current: Element,
    their_previous: Option<Element>,
    /// `pairs[ours][theirs]`, derived when first needed.
    pairs: [[Option<SessionKeys>; 2]; 2],
    /// Used receiving MAC keys of discarded pairs, published in the next message we send.
    /// Wiped on drop by its type, spare capacity included (the drains below leave copies there).
    pending_reveals: Zeroizing<Vec<MacKey>>,
}

impl KeyRing {
    /// The state right after an AKE: our AKE key is the previous one (keyid `our_ake_keyid`),
    /// `next` the current one; the peer's AKE key is their current one.
    pub(super) fn new(
        our_ake_key: DhKeyPair,
        our_ake_keyid: u32,
        next: DhKeyPair,
        their_key: Element,
        their_keyid: u32,
    ) -> Option<KeyRing> {
        Some(KeyRing {
            our_keyid: our_ake_keyid.checked_add(1)?,
            our_current_minimal: next.public().to_minimal_bytes(),
            our_current: next,
            our_previous: our_ake_key,
            their_keyid,
            their_current: their_key,
            their_previous: None,
            pairs: Default::default(),
            pending_reveals: Zeroizing::new(Vec::new()),
        })
    }

    /// Our DH public value with keyid `our_keyid` as a minimal MPI magnitude (the `next_dh` of
    /// the messages we send), encoded once per key.
    pub(super) fn our_current_minimal(&self) -> &[u8] {
        &self.our_current_minimal
    }

    /// Which pair a received message's keyids name, if we have it (libotr's acceptance
    /// rules: both keyids non-zero; theirs current or previous (if we still have the
    /// previous); ours current or previous).
    pub(super) fn pair_for(&self, sender_keyid: u32, recipient_keyid: u32) -> Option<(Ours, Theirs)> {
        if sender_keyid == 0 || recipient_keyid == 0 || self.their_keyid == 0 {
            return None;
        }
        let theirs = if sender_keyid == self.their_keyid {
            Theirs::Current
        } else if Some(sender_keyid) == self.their_keyid.checked_sub(1) && self.their_previous.is_some() {
            Theirs::Previous
        } else {
            return None;
        };
        let ours = if recipient_keyid == self.our_keyid {
            Ours::Current
        } else if Some(recipient_keyid) == self.our_keyid.checked_sub(1) {
            Ours::Previous
        } else {
            return None;
        };
        Some((ours, theirs))
    }

    /// The keys of a pair, derived into its slot if needed (`None` only for a missing previous
    /// key of theirs, which [`KeyRing::pair_for`] never names). Deriving is no change of state
    /// (libotr derives every pair up front): callers change counters only once they succeed.
    pub(super) fn derived(&mut self, ours: Ours, theirs: Theirs) -> Option<&mut SessionKeys> {
        let our_key = match ours {
            Ours::Current => &self.our_current,
            Ours::Previous => &self.our_previous,
        };
        let their_key = match theirs {
            Theirs::Current => &self.their_current,
            Theirs::Previous => self.their_previous.as_ref()?,
        };
        let slot = &mut self.pairs[ours as usize][theirs as usize];
        Some(slot.get_or_insert_with(|| SessionKeys::derive(our_key, their_key)))
    }

    /// Queues the used receiving MAC keys of the pairs in `slots` for revealing, and forgets them.
    fn discard(&mut self, slots: &[(Ours, Theirs)]) {
        for &(ours, theirs) in slots {
            if let Some(keys) = self.pairs[ours as usize][theirs as usize].take() {
                if keys.receive_mac_used {
                    self.pending_reveals.push(keys.keys.receiving_mac);
                }
            }
        }
        self.cap_reveals();
    }

    /// The peer used our current key: it becomes our previous one and `fresh` our current
    /// (libotr's `rotate_dh_keys`). Fails (and changes nothing) only if the keyid would wrap.
    pub(super) fn rotate_ours(&mut self, fresh: DhKeyPair) -> Option<()> {
        let next_keyid = self.our_keyid.checked_add(1)?;
        self.discard(&[(Ours::Previous, Theirs::Current), (Ours::Previous, Theirs::Previous)]);
        let [current, previous] = &mut self.pairs;
        std::mem::swap(current, previous);
        *current = Default::default();
        self.our_current_minimal = fresh.public().to_minimal_bytes();
        self.our_previous = std::mem::replace(&mut self.our_current, fresh);
        self.our_keyid = next_keyid;
        Some(())
    }

    /// The peer sent a new public value with their current keyid: it becomes their current one
    /// (libotr's `rotate_y_keys`). Fails (and changes nothing) only if the keyid would wrap.
    pub(super) fn rotate_theirs(&mut self, next: Element) -> Option<()> {
        let next_keyid = self.their_keyid.checked_add(1)?;
        self.discard(&[(Ours::Current, Theirs::Previous), (Ours::Previous, Theirs::Previous)]);
        for row in &mut self.pairs {
            row[Theirs::Previous as usize] = row[Theirs::Current as usize].take();
        }
        self.their_previous = Some(std::mem::replace(&mut self.their_current, next));
        self.their_keyid = next_keyid;
        Some(())
    }

    /// Queues the used receiving MAC key of every pair for revealing (the session ends). The
    /// pairs themselves stay, with their counters: the last messages are still sent under
    /// them, and a pair recomputed from scratch would start its counter again, repeating an
    /// AES-CTR keystream. The session must not decrypt afterwards (`DataSession` refuses to).
    pub(super) fn reveal_all(&mut self) {
        for keys in self.pairs.iter_mut().flatten().flatten() {
            if keys.receive_mac_used {
                self.pending_reveals.push(keys.keys.receiving_mac);
                keys.receive_mac_used = false;
            }
        }
        self.cap_reveals();
    }

    /// The MAC keys the next message reveals: at most [`MAX_REVEALED_MAC_KEYS`], the oldest
    /// first (a receiving offrec refuses more in one message).
    pub(super) fn pending_reveals(&self) -> &[MacKey] {
        &self.pending_reveals[..self.pending_reveals.len().min(MAX_REVEALED_MAC_KEYS)]
    }

    /// How many MAC keys wait to be revealed in all.
    pub(super) fn pending_reveal_count(&self) -> usize {
        self.pending_reveals.len()
    }

    /// Drops from the queue what a message just carried ([`KeyRing::pending_reveals`]).
    pub(super) fn clear_reveals(&mut self) {
        let sent = self.pending_reveals.len().min(MAX_REVEALED_MAC_KEYS);
        self.pending_reveals[..sent].iter_mut().for_each(Zeroize::zeroize);
        self.pending_reveals.drain(..sent);
    }

    /// Keeps the queue bounded: a peer that rotates its key in every message while we never
    /// answer would grow it without end. The oldest keys go (a deniability cost for those
    /// messages only, never a confidentiality one).
    fn cap_reveals(&mut self) {
        let excess = self.pending_reveals.len().saturating_sub(MAX_PENDING_REVEALS);
        if excess > 0 {
            self.pending_reveals[..excess].iter_mut().for_each(Zeroize::zeroize);
            self.pending_reveals.drain(..excess);
        }
    }
}
