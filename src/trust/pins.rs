//! Protocol pins: what a client remembers about which protocols a peer speaks, so that a man in
//! the middle who strips offrec's offer cannot quietly move two offrec users to OTR
//! (PROTOCOL.md part B, "Key links and pins"). Per peer name: when it last had a session of
//! offrec's own protocol with us, and its *key links*, pairs (modern key, OTR DSA key) that one
//! key's authenticated session claimed for the other. The modern keys themselves are in the
//! trust store.
//!
//! Everything here is capped: a peer keeps at most [`MAX_LINKS_PER_PEER`] links (the least
//! recently seen goes first) and the store at most [`MAX_PINNED_PEERS`] peers (the peer seen
//! least recently goes first). Losing a pin only weakens downgrade detection, never trust:
//! trust that flowed along a link lives in the trust store.

use std::collections::BTreeMap;

/// A peer keeps at most this many key links; the least recently seen is dropped first.
pub const MAX_LINKS_PER_PEER: usize = 16;
/// The store keeps pins for at most this many peers; the peer seen least recently is dropped
/// first. Every entry needs an authenticated session (modern, or OTR carrying the probe), but
/// a stranger can have one under any name, so the number of names is capped too.
pub const MAX_PINNED_PEERS: usize = 10_000;

/// One key link: the modern key and the OTR DSA key of one offrec installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLink {
    /// The modern fingerprint (SHA-256 of the identity key).
    pub modern: [u8; 32],
    /// The DSA fingerprint (SHA-1 of the OTR public key).
    pub dsa: [u8; 20],
    /// When the link was last claimed (the application's clock).
    pub last_seen: u64,
}

/// What is pinned for one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerPins {
    /// When the last session of offrec's own protocol with this peer was set up, if ever.
    pub last_modern_session: Option<u64>,
    /// Its key links, least recently seen first.
    pub links: Vec<KeyLink>,
}

impl PeerPins {
    /// When anything about this peer was last recorded (orders peers for eviction).
    fn last_used(&self) -> u64 {
        let linked = self.links.iter().map(|l| l.last_seen).max().unwrap_or(0);
        self.last_modern_session.unwrap_or(0).max(linked)
    }
}

/// Every peer's pins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolPins {
    peers: BTreeMap<String, PeerPins>,
}

impl ProtocolPins {
    /// The entry for `peer`, made (and room made for it) if new.
    fn entry(&mut self, peer: &str) -> &mut PeerPins {
        if !self.peers.contains_key(peer) && self.peers.len() >= MAX_PINNED_PEERS {
            let oldest = self.peers.iter().min_by_key(|(_, pins)| pins.last_used()).map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                self.peers.remove(&oldest);
            }
        }
        self.peers.entry(peer.to_owned()).or_default()
    }

    /// Records that a session of offrec's own protocol with `peer` was set up at `now`.
    pub fn modern_session(&mut self, peer: &str, now: u64) {
        self.entry(peer).last_modern_session = Some(now);
    }

    /// Records that `modern` and `dsa` are keys of one installation of `peer`, as claimed at
    /// `now`; true if the link is new (false: it was known, and is now the most recent).
    pub fn link(&mut self, peer: &str, modern: [u8; 32], dsa: [u8; 20], now: u64) -> bool {
        let links = &mut self.entry(peer).links;
        let known = links.iter().position(|l| l.modern == modern && l.dsa == dsa);
        if let Some(at) = known {
            links.remove(at);
        } else if links.len() >= MAX_LINKS_PER_PEER {
            links.remove(0);
        }
        links.push(KeyLink { modern, dsa, last_seen: now });
        known.is_none()
    }

    /// The modern keys `dsa` is linked to for `peer`, most recently seen first.
    pub fn modern_keys_of(&self, peer: &str, dsa: &[u8; 20]) -> Vec<[u8; 32]> {
        self.links(peer).iter().rev().filter(|l| &l.dsa == dsa).map(|l| l.modern).collect()
    }

    /// When the last modern session with `peer` was set up, if ever.
    pub fn last_modern_session(&self, peer: &str) -> Option<u64> {
        self.peers.get(peer).and_then(|pins| pins.last_modern_session)
    }

    /// A peer's key links, least recently seen first.
    pub fn links(&self, peer: &str) -> &[KeyLink] {
        self.peers.get(peer).map_or(&[], |pins| pins.links.as_slice())
    }

    /// Whether anything is pinned for `peer`.
    pub fn has_pins(&self, peer: &str) -> bool {
        self.peers.contains_key(peer)
    }

    /// Every peer with pins.
    pub fn peers(&self) -> impl Iterator<Item = (&str, &PeerPins)> {
        self.peers.iter().map(|(name, pins)| (name.as_str(), pins))
    }

    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_per_peer_deduplicated_and_most_recent_first() {
        let mut pins = ProtocolPins::default();
        assert!(pins.link("bob", [1; 32], [7; 20], 10));
        assert!(pins.link("bob", [2; 32], [7; 20], 11));
        assert!(!pins.link("bob", [1; 32], [7; 20], 12), "known: refreshed, not new");
        assert_eq!(pins.modern_keys_of("bob", &[7; 20]), vec![[1; 32], [2; 32]]);
        assert!(pins.modern_keys_of("bob", &[8; 20]).is_empty());
        assert!(pins.modern_keys_of("carol", &[7; 20]).is_empty(), "per peer name");
        assert_eq!(pins.links("bob").len(), 2);
        assert_eq!(pins.last_modern_session("bob"), None, "a link alone is no modern session");
        pins.modern_session("bob", 20);
        assert_eq!(pins.last_modern_session("bob"), Some(20));
    }

    #[test]
    fn links_per_peer_are_capped_least_recently_seen_first() {
        let mut pins = ProtocolPins::default();
        pins.link("bob", [0; 32], [0; 20], 0);
        for n in 1..40u8 {
            pins.link("bob", [n; 32], [n; 20], u64::from(n));
            // The first link keeps being claimed, so it is never the least recent.
            pins.link("bob", [0; 32], [0; 20], u64::from(n));
        }
        assert_eq!(pins.links("bob").len(), MAX_LINKS_PER_PEER);
        assert_eq!(pins.modern_keys_of("bob", &[0; 20]), vec![[0; 32]]);
        assert!(pins.modern_keys_of("bob", &[1; 20]).is_empty(), "the oldest went");
        assert_eq!(pins.modern_keys_of("bob", &[39; 20]), vec![[39; 32]]);
    }

    #[test]
    fn peers_are_capped_least_recently_used_first() {
        let mut pins = ProtocolPins::default();
        pins.modern_session("keep", 5_000_000);
        for n in 0..MAX_PINNED_PEERS as u64 + 10 {
            pins.modern_session(&format!("peer {n}"), n);
        }
        assert_eq!(pins.peers().count(), MAX_PINNED_PEERS);
        assert_eq!(pins.last_modern_session("keep"), Some(5_000_000));
        assert_eq!(pins.last_modern_session("peer 0"), None, "the least recent went");
        assert!(pins.last_modern_session(&format!("peer {}", MAX_PINNED_PEERS as u64 + 9)).is_some());
    }
}
