//! The text of a delivered message ([`super::Action::Deliver`]), left where it arrived.

use zeroize::Zeroizing;

use crate::crypto::wipe::wipe;

/// A delivered message's text: it reads as a `&[u8]` (`&text[..]`, `text.len()`,
/// `text.to_vec()`) and its whole buffer is wiped when it is dropped.
///
/// A received encrypted message is base64-decoded into one buffer, decrypted there and its text
/// handed over where it lies, behind the message's header and length field: no copy and no
/// move of the text. The bytes in front of the text are not part of it, and the buffer's spare
/// room after it (what followed the text in the message) is already wiped. The C API
/// NUL-terminates the text in that spare room.
#[derive(Clone, Default)]
pub struct DeliveredText {
    /// `start..` is the text; the allocation after `len()` holds zeros only.
    buffer: Zeroizing<Vec<u8>>,
    /// Where the text starts; never past `buffer.len()`.
    start: usize,
}

impl DeliveredText {
    /// The text at `start..` of `buffer` (all of it if `start` is past the end, never a panic).
    /// What follows the text in the allocation must already be wiped.
    pub(crate) fn at(buffer: Zeroizing<Vec<u8>>, start: usize) -> Self {
        let start = start.min(buffer.len());
        Self { buffer, start }
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or_default()
    }

    /// The text in a buffer of its own, starting at its first byte (one move of the text when
    /// something is in front of it; the buffer's other bytes are wiped).
    pub fn into_vec(mut self) -> Zeroizing<Vec<u8>> {
        if self.start > 0 {
            let start = std::mem::take(&mut self.start);
            self.buffer.drain(..start);
            zeroize::Zeroize::zeroize(self.buffer.spare_capacity_mut());
        }
        std::mem::take(&mut self.buffer)
    }

    /// Wipes the whole buffer in one pass and frees it, sparing the drop a second pass (what a
    /// hot path does once the text is shown).
    pub fn wipe(mut self) {
        wipe(&mut self.buffer);
        drop(std::mem::take(&mut *self.buffer));
    }

    /// Wipes the whole buffer in one pass and keeps its allocation, empty, for the next message
    /// to be decoded into ([`super::spare_buffers::SpareBuffers`]).
    pub(crate) fn wipe_into_spare(mut self) -> SpareText {
        wipe(&mut self.buffer);
        SpareText(std::mem::take(&mut *self.buffer))
    }

    /// Writes a NUL just after the text, in the buffer's spare room (moving the text to a buffer
    /// one byte longer first if there is none, wiping the old one), so C can read the text as a
    /// string without another copy. The text itself is unchanged.
    pub(crate) fn terminate_with_nul(&mut self) {
        if self.buffer.capacity() == self.buffer.len() {
            let mut roomy = Zeroizing::new(Vec::with_capacity(self.len() + 1));
            roomy.extend_from_slice(self.as_bytes());
            wipe(&mut self.buffer);
            *self = Self { buffer: roomy, start: 0 };
        }
        if let Some(after) = self.buffer.spare_capacity_mut().first_mut() {
            after.write(0);
        }
    }

    /// Where the text starts, for C. After [`Self::terminate_with_nul`] the byte after the text
    /// (allocated and initialised, outside the slice) is a NUL.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.buffer.as_ptr().wrapping_add(self.start)
    }
}

/// A delivered text's buffer once wiped: empty, every byte of its allocation zero. Made only by
/// [`DeliveredText::wipe_into_spare`], so a buffer reused for the next message never carries the
/// last one's text.
#[derive(Debug)]
pub(crate) struct SpareText(Vec<u8>);

impl SpareText {
    /// The empty buffer.
    pub fn into_empty(self) -> Vec<u8> {
        self.0
    }
}

impl std::ops::Deref for DeliveredText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for DeliveredText {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<Vec<u8>> for DeliveredText {
    fn from(text: Vec<u8>) -> Self {
        Self { buffer: Zeroizing::new(text), start: 0 }
    }
}

impl From<Zeroizing<Vec<u8>>> for DeliveredText {
    fn from(buffer: Zeroizing<Vec<u8>>) -> Self {
        Self { buffer, start: 0 }
    }
}

/// Two texts are equal when their bytes are (what is in front of them does not count).
impl PartialEq for DeliveredText {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DeliveredText {}

/// Shows the text's bytes, as the `Vec<u8>` it replaces did (never what is in front of it).
impl core::fmt::Debug for DeliveredText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_bytes(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behind_header() -> DeliveredText {
        let mut buffer = Vec::with_capacity(16);
        buffer.extend_from_slice(b"HDR\0\0\0\x05hello");
        DeliveredText::at(Zeroizing::new(buffer), 7)
    }

    #[test]
    fn reads_as_the_text_alone() {
        let text = behind_header();
        assert_eq!(&text[..], b"hello");
        assert_eq!((text.len(), text.to_vec()), (5, b"hello".to_vec()));
        assert_eq!(text, DeliveredText::from(b"hello".to_vec()));
        assert_ne!(text, DeliveredText::from(b"hell".to_vec()));
        assert_eq!(format!("{text:?}"), format!("{:?}", b"hello"));
        assert!(DeliveredText::default().is_empty());
        // A start past the end is the empty text, not a panic.
        assert!(DeliveredText::at(Zeroizing::new(b"abc".to_vec()), 9).is_empty());
    }

    #[test]
    fn into_vec_moves_the_text_to_the_start() {
        let text = behind_header().into_vec();
        assert_eq!(&text[..], b"hello");
        assert!(text.capacity() >= 16);
        assert_eq!(&DeliveredText::from(b"abc".to_vec()).into_vec()[..], b"abc");
    }
}
