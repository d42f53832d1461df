//! State version 2 is a sequence of tagged sections (STORAGE.md §4.1), so a new kind of state
//! (an OTR identity, protocol pins) is a new section, not a new format version.
//!
//! ```text
//! section = u16 tag ‖ u8 flags ‖ u32 length ‖ body(length)
//! ```
//! Tags rise strictly (each section at most once, in one canonical order). Flag bit 0 marks a
//! section *critical*: a reader that does not know its tag refuses the store
//! ([`StateError::UnsupportedSection`]) rather than lose or misread it. A reader skips an
//! unknown section without the bit, and a later save drops it: only state whose loss is
//! harmless (a cache, a hint) may be written without the bit. Other flag bits are reserved:
//! written as 0, ignored on read.

use super::StateError;
use crate::wire::{Reader, Writer};

/// The client's own identity and counters: account, network, identity secret, instance tag,
/// next message id.
pub(crate) const CLIENT: u16 = 1;
/// The trust store: every peer's known keys, each with its key kind.
pub(crate) const TRUST: u16 = 2;
/// Every stored peer with its sessions and held messages.
pub(crate) const PEERS: u16 = 3;
/// The client's OTR DSA identity, opaque to this layer (absent if it has none).
pub(crate) const OTR_IDENTITY: u16 = 4;
/// Protocol pins: key links and modern sessions seen per peer (optional; absent if none).
pub(crate) const PINS: u16 = 5;
/// Policies the application set for single peers (absent if none has one).
pub(crate) const PEER_POLICIES: u16 = 6;

const CRITICAL: u8 = 1;
/// Bytes a section adds around its body.
pub(crate) const FRAMING_LEN: usize = 2 + 1 + 4;

/// Appends the section `tag`, its body written by `body` into a buffer reserved with
/// `capacity` bytes (an upper bound, so the secret-carrying buffer is never reallocated).
pub(crate) fn write(w: &mut Writer, tag: u16, critical: bool, capacity: usize, body: impl FnOnce(&mut Writer)) {
    let mut inner = Writer::with_capacity(capacity);
    body(&mut inner);
    let inner = inner.into_zeroizing();
    w.u16(tag).u8(if critical { CRITICAL } else { 0 }).u32(inner.len() as u32).bytes(&inner);
}

/// One section as read: its tag, whether it is critical, and its body.
pub(crate) struct Section<'a> {
    pub(crate) tag: u16,
    pub(crate) critical: bool,
    pub(crate) body: &'a [u8],
}

/// Reads the sections in `r` to its end, checking that tags rise strictly.
pub(crate) struct Sections<'a> {
    r: Reader<'a>,
    last: Option<u16>,
}

impl<'a> Sections<'a> {
    pub(crate) fn new(r: Reader<'a>) -> Self {
        Sections { r, last: None }
    }

    /// The next section, `None` at the end.
    pub(crate) fn next_section(&mut self) -> Result<Option<Section<'a>>, StateError> {
        if self.r.remaining() == 0 {
            return Ok(None);
        }
        let tag = self.r.u16()?;
        let flags = self.r.u8()?;
        let body = self.r.data()?;
        if self.last.is_some_and(|last| tag <= last) {
            return Err(StateError::Invalid("sections repeated or out of order"));
        }
        self.last = Some(tag);
        Ok(Some(Section { tag, critical: flags & CRITICAL != 0, body }))
    }
}

/// Ends a section's body: bytes left over are an error.
pub(crate) fn finish(r: Reader<'_>) -> Result<(), StateError> {
    r.finish().map_err(|_| StateError::Invalid("trailing bytes in a section"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(bytes: &[u8]) -> Result<Vec<(u16, bool, Vec<u8>)>, StateError> {
        let mut sections = Sections::new(Reader::new(bytes));
        let mut out = Vec::new();
        while let Some(section) = sections.next_section()? {
            out.push((section.tag, section.critical, section.body.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn sections_round_trip_with_their_flags() {
        let mut w = Writer::new();
        write(&mut w, 1, true, 8, |w| {
            w.bytes(b"one");
        });
        write(&mut w, 9, false, 0, |_| {});
        let bytes = w.into_vec();
        assert_eq!(&bytes[..10], &[0, 1, 1, 0, 0, 0, 3, b'o', b'n', b'e']);
        assert_eq!(sections(&bytes).unwrap(), vec![(1, true, b"one".to_vec()), (9, false, vec![])]);
    }

    #[test]
    fn repeated_or_unordered_tags_and_short_bodies_are_refused() {
        for tags in [[2u16, 2], [3, 1]] {
            let mut w = Writer::new();
            for tag in tags {
                write(&mut w, tag, true, 0, |_| {});
            }
            assert_eq!(sections(&w.into_vec()), Err(StateError::Invalid("sections repeated or out of order")));
        }
        assert_eq!(sections(&[0, 1, 1, 0, 0, 0, 4, 1, 2]), Err(StateError::Truncated));
        assert_eq!(sections(&[0, 1, 1]), Err(StateError::Truncated));
    }
}
