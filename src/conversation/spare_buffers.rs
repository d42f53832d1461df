//! The two message-sized buffers of the data path, handed back by the C API once it is done with
//! them and reused for the next message: the wire text of a sent message (armoured into) and the
//! text of a delivered one (base64-decoded into). A 4 KiB message then allocates neither.

use super::delivered_text::SpareText;

/// A lent buffer larger than this is not kept (a large message does not pin its allocation).
pub const SPARE_BUFFER_MAX: usize = 32 * 1024;

/// Buffers kept between calls; empty (no allocation) until the C API lends one.
#[derive(Debug, Default)]
pub(crate) struct SpareBuffers {
    /// Empty; its capacity only.
    wire: String,
    /// Empty, and wiped before it was lent ([`SpareText`] exists only once wiped).
    text: Vec<u8>,
}

impl SpareBuffers {
    /// Keeps a sent wire text's buffer (emptied here) and a delivered text's wiped buffer, each
    /// unless it is over [`SPARE_BUFFER_MAX`]; `None` keeps what is there.
    pub fn lend(&mut self, wire: Option<String>, text: Option<SpareText>) {
        if let Some(mut wire) = wire.filter(|w| w.capacity() <= SPARE_BUFFER_MAX) {
            wire.clear();
            self.wire = wire;
        }
        if let Some(text) = text.map(SpareText::into_empty).filter(|t| t.capacity() <= SPARE_BUFFER_MAX) {
            self.text = text;
        }
    }

    /// An empty string to armour the next sent message into (the kept one, if any).
    pub fn take_wire(&mut self) -> String {
        std::mem::take(&mut self.wire)
    }

    /// An empty buffer to base64-decode the next received message into (the kept one, if any:
    /// it holds only zeros).
    pub fn take_text(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::DeliveredText;

    #[test]
    fn keeps_emptied_buffers_up_to_the_cap_and_hands_each_out_once() {
        let mut spares = SpareBuffers::default();
        assert_eq!(spares.take_wire().capacity(), 0);
        let wire = String::with_capacity(6000) + "?OFR:abc.";
        let text = DeliveredText::from(b"secret".to_vec()).wipe_into_spare();
        spares.lend(Some(wire), Some(text));
        let wire = spares.take_wire();
        assert!(wire.is_empty() && wire.capacity() >= 6000);
        let text = spares.take_text();
        assert!(text.is_empty() && text.capacity() >= 6);
        assert_eq!((spares.take_wire().capacity(), spares.take_text().capacity()), (0, 0));
        // Over the cap: not kept.
        let big = String::with_capacity(SPARE_BUFFER_MAX + 1);
        let big_text = DeliveredText::from(Vec::with_capacity(SPARE_BUFFER_MAX + 1)).wipe_into_spare();
        spares.lend(Some(big), Some(big_text));
        assert_eq!((spares.take_wire().capacity(), spares.take_text().capacity()), (0, 0));
    }
}
