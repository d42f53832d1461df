//! The trust store: per peer, every identity key seen and whether the user verified it.

use super::key_kind::KeyKind;
use std::collections::BTreeMap;

/// How far a key is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Trust {
    /// Seen, never verified.
    Unverified = 0,
    /// Verified by a successful Socialist Millionaires' Protocol run.
    VerifiedSmp = 1,
    /// Verified by the user comparing fingerprints out of band.
    VerifiedManual = 2,
}

impl Trust {
    /// Whether this counts as verified.
    pub fn is_verified(self) -> bool {
        !matches!(self, Trust::Unverified)
    }

    /// From the C API's integer; unknown values are rejected.
    pub fn from_u32(value: u32) -> Option<Trust> {
        match value {
            0 => Some(Trust::Unverified),
            1 => Some(Trust::VerifiedSmp),
            2 => Some(Trust::VerifiedManual),
            _ => None,
        }
    }
}

/// One key known for a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    /// Its fingerprint.
    pub fingerprint: [u8; 32],
    /// The user's decision.
    pub trust: Trust,
}

/// What seeing a key for a peer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The first key ever seen for this peer.
    FirstKey,
    /// A key we already knew.
    Known(Trust),
    /// A key we did not know, while we knew others: loud, like an SSH host-key change.
    Changed {
        /// The most recently used other key.
        previous: [u8; 32],
        /// Whether any previously known key was verified.
        previous_verified: bool,
    },
}

/// A peer may accumulate at most this many keys of each kind; the oldest unverified ones go
/// first. A peer changing keys endlessly cannot grow the store without bound.
pub const MAX_KEYS_PER_PEER: usize = 16;

/// Every peer's known keys, most recently used last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    peers: BTreeMap<String, Vec<KnownKey>>,
}

impl TrustStore {
    /// Records that `peer` used `fingerprint` and says what that means.
    pub fn observe(&mut self, peer: &str, fingerprint: [u8; 32]) -> Observation {
        let keys = self.peers.entry(peer.to_owned()).or_default();
        if let Some(position) = keys.iter().position(|k| k.fingerprint == fingerprint) {
            let key = keys.remove(position);
            let trust = key.trust;
            keys.push(key);
            return Observation::Known(trust);
        }
        // Keys of another kind do not count: a peer's OTR key (Pidgin on another device) does
        // not replace its offrec key, nor the reverse.
        let kind = KeyKind::of(&fingerprint);
        let same_kind = |k: &&KnownKey| KeyKind::of(&k.fingerprint) == kind;
        let observation = match keys.iter().rfind(same_kind) {
            None => Observation::FirstKey,
            Some(last) => Observation::Changed {
                previous: last.fingerprint,
                previous_verified: keys.iter().filter(same_kind).any(|k| k.trust.is_verified()),
            },
        };
        if keys.iter().filter(same_kind).count() >= MAX_KEYS_PER_PEER {
            let victim = keys
                .iter()
                .position(|k| same_kind(&k) && !k.trust.is_verified())
                .or_else(|| keys.iter().position(|k| same_kind(&k)));
            if let Some(victim) = victim {
                keys.remove(victim);
            }
        }
        // Room for one at first (most peers only ever have one key), not the default four.
        if keys.capacity() == 0 {
            keys.reserve_exact(1);
        }
        keys.push(KnownKey { fingerprint, trust: Trust::Unverified });
        observation
    }

    /// The trust of a peer's key (`Unverified` if unknown).
    pub fn trust(&self, peer: &str, fingerprint: &[u8; 32]) -> Trust {
        self.peers
            .get(peer)
            .and_then(|keys| keys.iter().find(|k| &k.fingerprint == fingerprint))
            .map_or(Trust::Unverified, |k| k.trust)
    }

    /// Whether any known key of `peer` is verified.
    pub fn has_verified(&self, peer: &str) -> bool {
        self.peers.get(peer).is_some_and(|keys| keys.iter().any(|k| k.trust.is_verified()))
    }

    /// Sets (or revokes, with `Unverified`) the trust of a peer's key, adding it if unknown.
    pub fn set_trust(&mut self, peer: &str, fingerprint: [u8; 32], trust: Trust) {
        let keys = self.peers.entry(peer.to_owned()).or_default();
        match keys.iter_mut().find(|k| k.fingerprint == fingerprint) {
            Some(key) => key.trust = trust,
            None => {
                if keys.len() >= MAX_KEYS_PER_PEER {
                    keys.remove(0);
                }
                keys.insert(0, KnownKey { fingerprint, trust });
            }
        }
    }

    /// Forgets a key.
    pub fn forget(&mut self, peer: &str, fingerprint: &[u8; 32]) -> bool {
        let Some(keys) = self.peers.get_mut(peer) else { return false };
        let before = keys.len();
        keys.retain(|k| &k.fingerprint != fingerprint);
        let forgot = before != keys.len();
        if keys.is_empty() {
            // No empty entries: a peer with no key left is not a known peer.
            self.peers.remove(peer);
        }
        forgot
    }

    /// Forgets every key of `peer`; whether it had any.
    pub fn remove_peer(&mut self, peer: &str) -> bool {
        self.peers.remove(peer).is_some_and(|keys| !keys.is_empty())
    }

    /// A peer's known keys, oldest first.
    pub fn keys(&self, peer: &str) -> &[KnownKey] {
        self.peers.get(peer).map_or(&[], Vec::as_slice)
    }

    /// Every peer with known keys.
    pub fn peers(&self) -> impl Iterator<Item = (&str, &[KnownKey])> {
        self.peers.iter().map(|(name, keys)| (name.as_str(), keys.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use crate::trust::otr_key_id;

    #[test]
    fn keys_of_another_kind_are_neither_a_change_nor_evicted() {
        let mut store = TrustStore::default();
        store.observe("bob", [1; 32]);
        store.set_trust("bob", [1; 32], Trust::VerifiedSmp);
        // Bob's Pidgin key is his first OTR key, not a change of his offrec key.
        assert_eq!(store.observe("bob", otr_key_id(&[9; 20])), Observation::FirstKey);
        assert!(matches!(
            store.observe("bob", otr_key_id(&[8; 20])),
            Observation::Changed { previous, previous_verified: false } if previous == otr_key_id(&[9; 20])
        ));
        for n in 0..MAX_KEYS_PER_PEER as u8 {
            store.observe("bob", otr_key_id(&[n; 20]));
        }
        assert_eq!(store.trust("bob", &[1; 32]), Trust::VerifiedSmp, "DSA keys never push out the modern key");
    }

    use super::*;

    #[test]
    fn verified_forget_and_remove_peer_say_what_they_did() {
        let mut store = TrustStore::default();
        assert!(!store.has_verified("bob"), "an unknown peer");
        store.observe("bob", [1; 32]);
        store.observe("bob", [2; 32]);
        assert!(!store.has_verified("bob"), "known keys, none verified");
        store.set_trust("bob", [2; 32], Trust::VerifiedSmp);
        assert!(store.has_verified("bob"));
        assert!(!store.has_verified("carol"));

        // Forgetting: only the named key, true only if it was there; the last key takes the
        // peer with it.
        assert!(!store.forget("carol", &[1; 32]), "an unknown peer");
        assert!(!store.forget("bob", &[3; 32]), "an unknown key");
        assert_eq!(store.keys("bob").len(), 2);
        assert!(store.forget("bob", &[2; 32]));
        assert_eq!(store.keys("bob").iter().map(|k| k.fingerprint).collect::<Vec<_>>(), vec![[1; 32]]);
        assert!(!store.has_verified("bob"), "the verified key is gone");
        assert!(store.forget("bob", &[1; 32]));
        assert_eq!(store.peers().count(), 0, "no empty entry left behind");

        // Removing a peer: true only if it had keys, and every key goes.
        assert!(!store.remove_peer("bob"));
        store.observe("bob", [1; 32]);
        store.observe("bob", [2; 32]);
        store.observe("dave", [4; 32]);
        assert!(store.remove_peer("bob"));
        assert!(store.keys("bob").is_empty());
        assert_eq!(store.keys("dave").len(), 1, "other peers stay");
        assert!(!store.remove_peer("bob"));
    }

    #[test]
    fn first_known_and_changed() {
        let mut store = TrustStore::default();
        assert_eq!(store.observe("bob", [1; 32]), Observation::FirstKey);
        assert_eq!(store.observe("bob", [1; 32]), Observation::Known(Trust::Unverified));
        store.set_trust("bob", [1; 32], Trust::VerifiedSmp);
        assert_eq!(store.observe("bob", [2; 32]), Observation::Changed { previous: [1; 32], previous_verified: true });
        assert_eq!(store.trust("bob", &[2; 32]), Trust::Unverified);
        assert_eq!(store.trust("bob", &[1; 32]), Trust::VerifiedSmp);
        store.set_trust("bob", [1; 32], Trust::Unverified);
        assert!(!store.trust("bob", &[1; 32]).is_verified());
        assert_eq!(store.observe("carol", [1; 32]), Observation::FirstKey, "per peer");
    }

    #[test]
    fn capped_per_peer_keeping_verified_keys() {
        let mut store = TrustStore::default();
        store.observe("bob", [0; 32]);
        store.set_trust("bob", [0; 32], Trust::VerifiedManual);
        for i in 1..100u8 {
            store.observe("bob", [i; 32]);
        }
        assert_eq!(store.keys("bob").len(), MAX_KEYS_PER_PEER);
        assert_eq!(store.trust("bob", &[0; 32]), Trust::VerifiedManual);
    }
}
