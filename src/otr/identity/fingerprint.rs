//! OTR fingerprints: SHA-1 over the PUBKEY without its two type bytes (brief P4), shown as
//! libotr shows them: five groups of eight upper-case hex digits.

use std::fmt::Write as _;

/// Bytes in an OTR (DSA) fingerprint.
pub const FINGERPRINT_LEN: usize = 20;

/// A 20-byte OTR fingerprint.
pub type Fingerprint = [u8; FINGERPRINT_LEN];

/// `CB5EFC9C 5C6C88A7 E4926E47 D40421EC F28B3275`: how libotr and Pidgin display a fingerprint,
/// so users can compare it with what their peer's client shows.
pub fn human_fingerprint(fingerprint: &Fingerprint) -> String {
    let mut out = String::with_capacity(FINGERPRINT_LEN * 2 + 4);
    for (index, chunk) in fingerprint.chunks(4).enumerate() {
        if index > 0 {
            out.push(' ');
        }
        for byte in chunk {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_groups_upper_case() {
        let fp: Fingerprint = [
            0xCB, 0x5E, 0xFC, 0x9C, 0x5C, 0x6C, 0x88, 0xA7, 0xE4, 0x92, 0x6E, 0x47, 0xD4, 0x04, 0x21, 0xEC, 0xF2, 0x8B,
            0x32, 0x75,
        ];
        assert_eq!(human_fingerprint(&fp), "CB5EFC9C 5C6C88A7 E4926E47 D40421EC F28B3275");
        assert_eq!(human_fingerprint(&[0; 20]), "00000000 00000000 00000000 00000000 00000000");
    }
}
