//! Big-endian field encoding for binary messages. The [`Reader`] checks every length against
//! what is actually left *before* touching or allocating anything, so a hostile length field
//! costs nothing.

use super::error::WireError;

/// A cursor over untrusted bytes. Every read either succeeds completely or returns
/// [`WireError::Truncated`] without consuming anything.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The next `n` bytes, borrowed. `n` is compared with what is left before anything else.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(WireError::Truncated)?;
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let bytes = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A u32 length prefix followed by that many bytes. Nothing is consumed if the length runs
    /// past the end.
    pub fn data(&mut self) -> Result<&'a [u8], WireError> {
        let mut probe = self.clone();
        let len = usize::try_from(probe.u32()?).map_err(|_| WireError::Truncated)?;
        let out = probe.bytes(len)?;
        *self = probe;
        Ok(out)
    }

    /// Everything left, consuming it.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// Ends parsing: an error if any byte was left unread.
    pub fn finish(self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes)
        }
    }
}

/// Builds binary messages in the encoding [`Reader`] reads. The buffer is wiped on drop, so
/// it may carry secrets (stored session state); reserve the capacity up front with
/// [`Writer::with_capacity`] so no reallocation leaves copies behind.
#[derive(Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl core::fmt::Debug for Writer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Writer({} bytes)", self.buf.len())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        crate::crypto::wipe::wipe(&mut self.buf);
    }
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity) }
    }

    /// A writer appending to `buf` (what it holds stays in front).
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// A big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// A big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// A big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// Raw bytes, no length.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// `n` zero bytes.
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }

    /// A u32 length prefix then the bytes; [`WireError::TooLarge`] if the length does not fit.
    pub fn data(&mut self, v: &[u8]) -> Result<&mut Self, WireError> {
        let len = u32::try_from(v.len()).map_err(|_| WireError::TooLarge)?;
        Ok(self.u32(len).bytes(v))
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished message.
    pub fn into_vec(mut self) -> Vec<u8> {
        core::mem::take(&mut self.buf)
    }

    /// The finished message, wiped when dropped.
    pub fn into_zeroizing(mut self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(core::mem::take(&mut self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_big_endian() {
        let mut w = Writer::new();
        assert!(w.is_empty());
        assert_eq!(w.len(), 0);
        w.u8(0xAB).u16(0x0102).u32(0x03040506).u64(0x0708090A0B0C0D0E);
        w.data(b"xyz").unwrap();
        w.bytes(&[9, 9]);
        assert!(!w.is_empty());
        assert_eq!(w.len(), 1 + 2 + 4 + 8 + (4 + 3) + 2);
        let v = w.into_vec();
        assert_eq!(&v[..3], &[0xAB, 0x01, 0x02]);
        let mut r = Reader::new(&v);
        assert_eq!(r.u8().unwrap(), 0xAB);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u32().unwrap(), 0x03040506);
        assert_eq!(r.u64().unwrap(), 0x0708090A0B0C0D0E);
        assert_eq!(r.data().unwrap(), b"xyz");
        assert_eq!(r.array::<2>().unwrap(), [9, 9]);
        assert_eq!(r.remaining(), 0);
        r.finish().unwrap();
    }

    #[test]
    fn short_reads_are_truncated_and_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(WireError::Truncated));
        assert_eq!(r.u64(), Err(WireError::Truncated));
        assert_eq!(r.bytes(4), Err(WireError::Truncated));
        assert_eq!(r.bytes(usize::MAX), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u16(), Err(WireError::Truncated));
        assert_eq!(r.u8().unwrap(), 3);
        assert_eq!(r.u8(), Err(WireError::Truncated));
    }

    #[test]
    fn data_with_huge_length_is_rejected_without_consuming() {
        let buf = [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        let mut r = Reader::new(&buf);
        assert_eq!(r.data(), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 7);
        // One byte more than present.
        let buf = [0, 0, 0, 4, 1, 2, 3];
        let mut r = Reader::new(&buf);
        assert_eq!(r.data(), Err(WireError::Truncated));
        // A length prefix cut short.
        assert_eq!(Reader::new(&[0, 0, 1]).data(), Err(WireError::Truncated));
        // Zero length is a valid empty field.
        let mut r = Reader::new(&[0, 0, 0, 0]);
        assert_eq!(r.data().unwrap(), b"");
        r.finish().unwrap();
    }

    #[test]
    fn finish_rejects_trailing_bytes_and_rest_consumes() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.clone().finish(), Err(WireError::TrailingBytes));
        assert_eq!(r.rest(), &[2]);
        assert_eq!(r.rest(), &[] as &[u8]);
        r.finish().unwrap();
    }
}
