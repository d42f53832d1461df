//! Putting OTR fragments back together with libotr's rules (`otrl_proto_fragment_accumulate`),
//! but with offrec's caps.
//!
//! libotr keeps **one** buffer per context: the v2 buffer of the peer, one v3 buffer per sender
//! instance. Piece 1 starts the buffer over (and a one-piece message completes at once); the
//! piece after the last one received, with the same `n`, is appended; anything else drops the
//! buffer and the piece ([`TextError::OutOfOrder`]). So pieces must arrive in order, and two
//! fragmented messages interleaved from one instance lose the first (P9); two instances
//! interleaved are fine.
//!
//! Fragments are unauthenticated and sender tags free for an attacker to choose, so unlike
//! libotr everything held is capped, with the budget ideas of offrec's own reassembler
//! ([`crate::wire::fragment`]): at most [`MAX_OTR_BUFFERS`] buffers (the least recently used is
//! evicted), at most [`MAX_OTR_ASSEMBLED_LEN`] bytes per message (the message is dropped when it
//! grows past it), buffers expire [`OTR_FRAGMENT_TIMEOUT_SECS`] after their first piece, and
//! [`OtrReassembler::accept_within`] lets a client cap the sum over all its peers.

use crate::wire::fragment::{FRAGMENT_TIMEOUT_SECS, MAX_OPEN_TOTAL};
use crate::wire::InstanceTag;

use super::armour::MAX_OTR_ENCODED_LEN;
use super::fragment::parse_fragment_for;
use super::text_error::TextError;
use super::versions::OtrVersion;

/// The most incomplete messages held at once (one per sender instance, plus v2).
pub const MAX_OTR_BUFFERS: usize = MAX_OPEN_TOTAL;
/// The longest message reassembly builds: the same cap as an unfragmented message.
pub const MAX_OTR_ASSEMBLED_LEN: usize = MAX_OTR_ENCODED_LEN;
/// Seconds after its first piece that an incomplete message is dropped (libotr keeps it until
/// the next fragment; we do not keep attacker input forever).
pub const OTR_FRAGMENT_TIMEOUT_SECS: u64 = FRAGMENT_TIMEOUT_SECS;

/// Whose buffer: libotr's context for the fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The peer's v2 buffer (libotr's master context).
    V2,
    /// A v3 sender instance.
    V3(InstanceTag),
}

/// One incomplete message.
#[derive(Debug)]
struct Buffer {
    owner: Owner,
    n: u16,
    /// The last piece number appended.
    k: u16,
    text: String,
    /// `now` when piece 1 arrived.
    created: u64,
    /// Reassembler tick of the last piece, for least-recently-used eviction.
    last_used: u64,
}

/// What holding one buffer costs besides its text.
pub const OTR_BUFFER_OVERHEAD: usize = core::mem::size_of::<Buffer>();

impl Buffer {
    fn held_bytes(&self) -> usize {
        OTR_BUFFER_OVERHEAD.saturating_add(self.text.len())
    }
}

/// Reassembles one peer's OTR fragments. Time is injected (`now`, seconds).
#[derive(Debug, Default)]
pub struct OtrReassembler {
    buffers: Vec<Buffer>,
    tick: u64,
}

impl OtrReassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many incomplete messages are held.
    pub fn open_buffers(&self) -> usize {
        self.buffers.len()
    }

    /// Bytes held: per buffer [`OTR_BUFFER_OVERHEAD`] plus its text.
    pub fn held_bytes(&self) -> usize {
        self.buffers.iter().map(Buffer::held_bytes).fold(0, usize::saturating_add)
    }

    /// Drops incomplete messages whose first piece is more than [`OTR_FRAGMENT_TIMEOUT_SECS`]
    /// old.
    pub fn expire(&mut self, now: u64) {
        self.buffers.retain(|b| now.saturating_sub(b.created) <= OTR_FRAGMENT_TIMEOUT_SECS);
    }

    /// Drops everything held.
    pub fn clear(&mut self) {
        self.buffers.clear();
    }

    /// Drops the v2 buffer. libotr does this whenever a message containing `?OTR` that is not a
    /// fragment arrives (it resets the master context's buffer, which only v2 uses); call it
    /// then to behave the same.
    pub fn unfragmented(&mut self) {
        self.buffers.retain(|b| b.owner != Owner::V2);
    }

    /// Takes one fragment received by instance `ours`; returns the whole message when its last
    /// piece arrives, `None` while pieces are missing. The result still has to be classified and
    /// decoded; act on it only if it is an encoded message ([`super::OtrIncoming::Encoded`]):
    /// libotr acts on whatever reassembles, a query included, but only encoded messages are
    /// ever fragmented, and never a fragment inside a fragment.
    ///
    /// Errors: what [`parse_fragment_for`] reports (nothing changes), [`TextError::OutOfOrder`]
    /// (the buffer was dropped), [`TextError::TooLarge`] (the message grew past
    /// [`MAX_OTR_ASSEMBLED_LEN`] and was dropped).
    pub fn accept(&mut self, message: &str, ours: InstanceTag, now: u64) -> Result<Option<String>, TextError> {
        self.accept_within(message, ours, now, usize::MAX)
    }

    /// As [`OtrReassembler::accept`], but refuses ([`TextError::OverBudget`], nothing changed)
    /// a piece that would make [`OtrReassembler::held_bytes`] grow by more than `room` bytes. A
    /// piece that completes its message is always taken: completing frees the buffer.
    pub fn accept_within(
        &mut self,
        message: &str,
        ours: InstanceTag,
        now: u64,
        room: usize,
    ) -> Result<Option<String>, TextError> {
        self.expire(now);
        let f = parse_fragment_for(message, ours)?;
        let owner = match f.version {
            OtrVersion::V3 => Owner::V3(f.sender),
            OtrVersion::V2 => Owner::V2,
        };
        let existing = self.buffers.iter().position(|b| b.owner == owner);
        if f.k == 1 {
            if let Some(i) = existing {
                // Piece 1 starts over, whatever was held.
                if f.n == 1 || OTR_BUFFER_OVERHEAD.saturating_add(f.piece.len()) <= room {
                    self.remove(i);
                }
            }
            if f.n == 1 {
                return Ok(Some(f.piece.to_owned()));
            }
            if OTR_BUFFER_OVERHEAD.saturating_add(f.piece.len()) > room {
                return Err(TextError::OverBudget);
            }
            self.make_room();
            self.tick = self.tick.saturating_add(1);
            self.buffers.push(Buffer {
                owner,
                n: f.n,
                k: 1,
                text: f.piece.to_owned(),
                created: now,
                last_used: self.tick,
            });
            return Ok(None);
        }
        let Some(i) = existing else {
            return Err(TextError::OutOfOrder);
        };
        let Some(buf) = self.buffers.get_mut(i) else {
            return Err(TextError::OutOfOrder);
        };
        if buf.n != f.n || Some(f.k) != buf.k.checked_add(1) {
            self.remove(i);
            return Err(TextError::OutOfOrder);
        }
        let completes = f.k == f.n;
        let total = buf.text.len().checked_add(f.piece.len()).filter(|&t| t <= MAX_OTR_ASSEMBLED_LEN);
        let Some(total) = total else {
            self.remove(i);
            return Err(TextError::TooLarge);
        };
        if !completes && f.piece.len() > room {
            return Err(TextError::OverBudget);
        }
        if completes {
            let mut whole = core::mem::take(&mut buf.text);
            whole.reserve_exact(total.saturating_sub(whole.len()));
            whole.push_str(f.piece);
            self.remove(i);
            return Ok(Some(whole));
        }
        buf.text.reserve_exact(f.piece.len());
        buf.text.push_str(f.piece);
        buf.k = f.k;
        self.tick = self.tick.saturating_add(1);
        buf.last_used = self.tick;
        Ok(None)
    }

    fn remove(&mut self, idx: usize) {
        if idx < self.buffers.len() {
            self.buffers.swap_remove(idx);
        }
    }

    /// Evicts least recently used buffers until one more fits [`MAX_OTR_BUFFERS`].
    fn make_room(&mut self) {
        while self.buffers.len() >= MAX_OTR_BUFFERS {
            let lru = self.buffers.iter().enumerate().min_by_key(|(_, b)| b.last_used).map(|(i, _)| i);
            let Some(i) = lru else { break };
            self.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::text::fragment::OtrFragment;

    const US: InstanceTag = InstanceTag(0x9000);
    const A: InstanceTag = InstanceTag(0x1000);
    const B: InstanceTag = InstanceTag(0x2000);

    fn v3(sender: InstanceTag, k: u16, n: u16, piece: &str) -> String {
        OtrFragment { version: OtrVersion::V3, sender, receiver: US, k, n, piece }.encode()
    }

    fn v2(k: u16, n: u16, piece: &str) -> String {
        OtrFragment { version: OtrVersion::V2, sender: InstanceTag::NONE, receiver: InstanceTag::NONE, k, n, piece }
            .encode()
    }

    #[test]
    fn in_order_completes() {
        let mut r = OtrReassembler::new();
        assert_eq!(r.accept(&v3(A, 1, 3, "?OTR:"), US, 0), Ok(None));
        assert_eq!(r.accept(&v3(A, 2, 3, "AAAA"), US, 0), Ok(None));
        assert_eq!(r.accept(&v3(A, 3, 3, "AA=."), US, 0), Ok(Some("?OTR:AAAAAA=.".to_owned())));
        assert_eq!(r.open_buffers(), 0);
        assert_eq!(r.accept(&v2(1, 1, "?OTR:AA=."), US, 0), Ok(Some("?OTR:AA=.".to_owned())));
    }

    #[test]
    fn out_of_order_drops() {
        let mut r = OtrReassembler::new();
        assert_eq!(r.accept(&v3(A, 2, 3, "AAAA"), US, 0), Err(TextError::OutOfOrder));
        r.accept(&v3(A, 1, 3, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 3, 3, "AA=."), US, 0), Err(TextError::OutOfOrder));
        assert_eq!(r.open_buffers(), 0, "the buffer went with the stray piece");
        assert_eq!(r.accept(&v3(A, 2, 3, "AAAA"), US, 0), Err(TextError::OutOfOrder));
        // A different n drops too, as does a repeated piece.
        r.accept(&v3(A, 1, 3, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 2, 4, "AAAA"), US, 0), Err(TextError::OutOfOrder));
        r.accept(&v3(A, 1, 3, "?OTR:"), US, 0).unwrap();
        r.accept(&v3(A, 2, 3, "AAAA"), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 2, 3, "AAAA"), US, 0), Err(TextError::OutOfOrder));
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn piece_one_starts_over() {
        let mut r = OtrReassembler::new();
        r.accept(&v3(A, 1, 2, "?OTR:XX"), US, 0).unwrap();
        r.accept(&v3(A, 1, 2, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 2, 2, "AA=."), US, 0), Ok(Some("?OTR:AA=.".to_owned())));
        // A one-piece message in the middle discards the held one.
        r.accept(&v3(A, 1, 2, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 1, 1, "?OTR:BB=."), US, 0), Ok(Some("?OTR:BB=.".to_owned())));
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn instances_are_kept_apart_and_v2_reset() {
        let mut r = OtrReassembler::new();
        r.accept(&v3(A, 1, 2, "?OTR:"), US, 0).unwrap();
        r.accept(&v3(B, 1, 2, "?OTR:"), US, 0).unwrap();
        r.accept(&v2(1, 2, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.open_buffers(), 3);
        r.unfragmented();
        assert_eq!(r.open_buffers(), 2);
        assert_eq!(r.accept(&v3(B, 2, 2, "BB=."), US, 0), Ok(Some("?OTR:BB=.".to_owned())));
        assert_eq!(r.accept(&v3(A, 2, 2, "AA=."), US, 0), Ok(Some("?OTR:AA=.".to_owned())));
        assert_eq!(r.accept(&v2(2, 2, "CC=."), US, 0), Err(TextError::OutOfOrder));
    }

    #[test]
    fn parse_errors_change_nothing() {
        let mut r = OtrReassembler::new();
        r.accept(&v3(A, 1, 2, "?OTR:"), US, 0).unwrap();
        let other = OtrFragment { version: OtrVersion::V3, sender: A, receiver: B, k: 2, n: 2, piece: "AA=." }.encode();
        assert_eq!(r.accept(&other, US, 0), Err(TextError::ForOtherInstance));
        assert_eq!(r.accept("?OTR|ff|0,2,2,AA=.,", US, 0), Err(TextError::InvalidSenderTag));
        assert_eq!(r.accept(&v3(A, 2, 2, ""), US, 0), Err(TextError::MalformedFragment("empty piece")));
        assert_eq!(r.accept(&v3(A, 2, 2, "AA=."), US, 0), Ok(Some("?OTR:AA=.".to_owned())));
    }

    #[test]
    fn caps() {
        let mut r = OtrReassembler::new();
        for s in 0..(MAX_OTR_BUFFERS as u32 + 10) {
            r.accept(&v3(InstanceTag(0x100 + s), 1, 2, "?OTR:"), US, 0).unwrap();
            assert!(r.open_buffers() <= MAX_OTR_BUFFERS);
        }
        assert_eq!(r.open_buffers(), MAX_OTR_BUFFERS);
        // The oldest were evicted; the newest completes.
        assert_eq!(r.accept(&v3(InstanceTag(0x100), 2, 2, "A=."), US, 0), Err(TextError::OutOfOrder));
        let newest = InstanceTag(0x100 + MAX_OTR_BUFFERS as u32 + 9);
        assert!(r.accept(&v3(newest, 2, 2, "A=."), US, 0).unwrap().is_some());

        let mut r = OtrReassembler::new();
        let piece = "A".repeat(60_000);
        r.accept(&v3(A, 1, 9, &piece), US, 0).unwrap();
        r.accept(&v3(A, 2, 9, &piece), US, 0).unwrap();
        assert_eq!(r.accept(&v3(A, 3, 9, &piece), US, 0), Err(TextError::TooLarge));
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn budget_and_expiry() {
        let mut r = OtrReassembler::new();
        assert_eq!(r.accept_within(&v3(A, 1, 3, "?OTR:"), US, 0, 10), Err(TextError::OverBudget));
        assert_eq!(r.open_buffers(), 0);
        r.accept_within(&v3(A, 1, 3, "?OTR:"), US, 0, OTR_BUFFER_OVERHEAD + 5).unwrap();
        assert_eq!(r.held_bytes(), OTR_BUFFER_OVERHEAD + 5);
        assert_eq!(r.accept_within(&v3(A, 2, 3, "AAAA"), US, 0, 3), Err(TextError::OverBudget));
        r.accept_within(&v3(A, 2, 3, "AAAA"), US, 0, 4).unwrap();
        // Completing is always allowed.
        assert!(r.accept_within(&v3(A, 3, 3, "AA=."), US, 0, 0).unwrap().is_some());
        assert_eq!(r.held_bytes(), 0);

        r.accept(&v3(A, 1, 2, "?OTR:"), US, 1000).unwrap();
        r.expire(1000 + OTR_FRAGMENT_TIMEOUT_SECS);
        assert_eq!(r.open_buffers(), 1);
        assert_eq!(r.accept(&v3(A, 2, 2, "AA=."), US, 1001 + OTR_FRAGMENT_TIMEOUT_SECS), Err(TextError::OutOfOrder));
    }

    #[test]
    fn clear_drops_every_buffer() {
        let mut r = OtrReassembler::new();
        r.accept(&v3(A, 1, 2, "?OTR:"), US, 0).unwrap();
        r.accept(&v3(B, 1, 2, "?OTR:"), US, 0).unwrap();
        r.accept(&v2(1, 2, "?OTR:"), US, 0).unwrap();
        assert_eq!(r.open_buffers(), 3);
        r.clear();
        assert_eq!((r.open_buffers(), r.held_bytes()), (0, 0));
        // What was held is gone: the rest of a message no longer completes it.
        assert_eq!(r.accept(&v3(A, 2, 2, "AA=."), US, 0), Err(TextError::OutOfOrder));
    }
}
