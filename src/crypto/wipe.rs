//! Wiping secret byte buffers in bulk.
//!
//! `Zeroizing<Vec<u8>>` wipes on drop, but zeroize's `Vec` impl writes the initialised part one
//! volatile byte at a time (thousands of single-byte stores for a 4 KiB plaintext, a tenth of a
//! 4 KiB message's cost). [`wipe`] does the same with zeroize's bulk slice wipe (a `memset`
//! behind an optimisation barrier), then empties the buffer, so the `Zeroizing` drop that still
//! follows finds nothing initialised and only repeats the bulk wipe of the allocation. Hot
//! paths call it just before a plaintext buffer goes; `Zeroizing` stays the safety net.

use zeroize::Zeroize;

/// Wipes every byte of `buf`'s allocation (its contents and its spare capacity) and empties it.
pub fn wipe(buf: &mut Vec<u8>) {
    buf.clear();
    buf.spare_capacity_mut().zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    // That the bytes are gone is shown by tests/zeroize_evidence.rs (it inspects freed memory).
    #[test]
    fn empties_the_buffer_and_keeps_its_allocation() {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0xAA; 40]);
        let (ptr, cap) = (buf.as_ptr(), buf.capacity());
        wipe(&mut buf);
        assert!(buf.is_empty());
        assert_eq!((buf.as_ptr(), buf.capacity()), (ptr, cap));
    }
}
