//! The protocol pins' stored form (STORAGE.md §4.7): section 5, written only when something is
//! pinned, and *optional* (not critical): a library that does not know it skips it, and losing
//! it costs downgrade detection until the next modern session, never a trust decision (trust
//! that flowed along a link is in the trust section).
//!
//! ```text
//! u32 peer count (≤ MAX_PINNED_PEERS)
//! peer × count: DATA(name) ‖ u8 had modern session (0/1) ‖ u64 last modern session time
//!               ‖ u32 link count (≤ MAX_LINKS_PER_PEER)
//!               ‖ link × count: modern fingerprint(32) ‖ DSA fingerprint(20) ‖ u64 last seen
//! ```
//! Links are written least recently seen first and replayed in that order.

use super::{read_count, read_flag, read_name, write_name, StateError};
use crate::trust::{ProtocolPins, MAX_LINKS_PER_PEER, MAX_PINNED_PEERS};
use crate::wire::{Reader, Writer};

/// Bytes of one stored link.
const LINK_LEN: usize = 32 + 20 + 8;

/// Upper bound of [`write()`]'s output.
pub(super) fn max_len(pins: &ProtocolPins) -> usize {
    4 + pins.peers().map(|(peer, p)| 4 + peer.len() + 1 + 8 + 4 + p.links.len() * LINK_LEN).sum::<usize>()
}

/// Writes every peer's pins.
pub(super) fn write(w: &mut Writer, pins: &ProtocolPins) {
    let peers: Vec<_> = pins.peers().collect();
    w.u32(peers.len() as u32);
    for (peer, pinned) in peers {
        write_name(w, peer);
        w.u8(u8::from(pinned.last_modern_session.is_some())).u64(pinned.last_modern_session.unwrap_or(0));
        w.u32(pinned.links.len() as u32);
        for link in &pinned.links {
            w.bytes(&link.modern).bytes(&link.dsa).u64(link.last_seen);
        }
    }
}

/// Reads the pins back, checking every count against the live caps.
pub(super) fn read(r: &mut Reader<'_>) -> Result<ProtocolPins, StateError> {
    let mut pins = ProtocolPins::default();
    let peers = read_count(r, MAX_PINNED_PEERS, "pinned peer count")?;
    for _ in 0..peers {
        let peer = read_name(r)?;
        if pins.has_pins(&peer) {
            return Err(StateError::Invalid("a peer pinned twice"));
        }
        let had_modern = read_flag(r)?;
        let last_modern = r.u64()?;
        if had_modern {
            pins.modern_session(&peer, last_modern);
        }
        for _ in 0..read_count(r, MAX_LINKS_PER_PEER, "key link count")? {
            let modern = r.array::<32>()?;
            let dsa = r.array::<20>()?;
            let last_seen = r.u64()?;
            if !pins.link(&peer, modern, dsa, last_seen) {
                return Err(StateError::Invalid("a key link stored twice"));
            }
        }
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProtocolPins {
        let mut pins = ProtocolPins::default();
        pins.modern_session("bob", 7);
        pins.link("bob", [1; 32], [2; 20], 8);
        pins.link("bob", [3; 32], [2; 20], 9);
        pins.link("carol", [4; 32], [5; 20], 0x0102);
        pins
    }

    fn written(pins: &ProtocolPins) -> Vec<u8> {
        let mut w = Writer::new();
        write(&mut w, pins);
        let bytes = w.into_vec();
        assert!(bytes.len() <= max_len(pins));
        bytes
    }

    #[test]
    fn pins_round_trip_with_their_exact_layout() {
        let pins = sample();
        let bytes = written(&pins);
        assert_eq!(read(&mut Reader::new(&bytes)).unwrap(), pins);
        // carol (the second peer) has no modern session and one link.
        let carol = 4 + (4 + 3 + 1 + 8 + 4 + 2 * LINK_LEN);
        let mut want = vec![0, 0, 0, 5, b'c', b'a', b'r', b'o', b'l', 0];
        want.extend([0; 8]);
        want.extend([0, 0, 0, 1]);
        want.extend([4; 32]);
        want.extend([5; 20]);
        want.extend([0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&bytes[carol..], &want[..]);
        assert_eq!(&bytes[..4], &[0, 0, 0, 2]);
        assert_eq!(&bytes[4..16], &[0, 0, 0, 3, b'b', b'o', b'b', 1, 0, 0, 0, 0]);
    }

    #[test]
    fn counts_over_the_caps_duplicates_and_bad_flags_are_refused() {
        let bytes = written(&sample());
        let mut over = bytes.clone();
        over[..4].copy_from_slice(&(MAX_PINNED_PEERS as u32 + 1).to_be_bytes());
        assert_eq!(read(&mut Reader::new(&over)), Err(StateError::Invalid("pinned peer count")));
        // bob's link count (after count, name, flag, time).
        let at = 4 + 4 + 3 + 1 + 8;
        let mut links = bytes.clone();
        links[at..at + 4].copy_from_slice(&(MAX_LINKS_PER_PEER as u32 + 1).to_be_bytes());
        assert_eq!(read(&mut Reader::new(&links)), Err(StateError::Invalid("key link count")));
        let mut flag = bytes.clone();
        flag[4 + 4 + 3] = 2;
        assert_eq!(read(&mut Reader::new(&flag)), Err(StateError::Invalid("boolean flag")));
        let mut twice = ProtocolPins::default();
        twice.link("bob", [1; 32], [2; 20], 1);
        let mut same = written(&twice);
        let entry = same[4..].to_vec();
        same.extend_from_slice(&entry);
        same[..4].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(read(&mut Reader::new(&same)), Err(StateError::Invalid("a peer pinned twice")));
        assert_eq!(read(&mut Reader::new(&bytes[..bytes.len() - 1])), Err(StateError::Truncated));
    }
}
