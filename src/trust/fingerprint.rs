//! Human-readable fingerprints and session ids.

/// A key id as people compare it: a modern fingerprint as eight groups of eight upper-case hex
/// digits (`1A2B3C4D 5E6F...`), an OTR DSA key as libotr and Pidgin show it, five groups of
/// eight (so a user can compare it with what Pidgin displays).
pub fn format_fingerprint(fingerprint: &[u8; 32]) -> String {
    let groups = |bytes: &[u8]| {
        let hex: Vec<String> =
            bytes.chunks(4).map(|group| group.iter().map(|b| format!("{b:02X}")).collect()).collect();
        hex.join(" ")
    };
    match super::otr_fingerprint(fingerprint) {
        Some(dsa) => groups(&dsa),
        None => groups(fingerprint),
    }
}

/// The session id for voice comparison: the first 8 bytes of the SSID as two halves. Both
/// sides show the same two halves; OTR emphasises one half, and we emphasise the initiator's
/// (the first), so both users read out the same half first. Never show fewer than these 64
/// bits: a man in the middle who writes a Finish can grind a shorter prefix offline, since the
/// SSID is the handshake hash after Finish (SECURITY.md §4).
pub fn format_ssid(ssid: &[u8; 32]) -> (String, String) {
    let half = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    (half(&ssid[..4]), half(&ssid[4..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_and_stable() {
        let mut fp = [0u8; 32];
        fp[0] = 0xAB;
        fp[31] = 0x01;
        let text = format_fingerprint(&fp);
        assert_eq!(text.len(), 64 + 7);
        assert!(text.starts_with("AB000000 "));
        assert!(text.ends_with(" 00000001"));
        assert_eq!(text, format_fingerprint(&fp));
        let (a, b) = format_ssid(&[0x12; 32]);
        assert_eq!((a.as_str(), b.as_str()), ("12121212", "12121212"));
    }

    #[test]
    fn dsa_keys_read_as_libotr_shows_them() {
        let mut dsa = [0u8; 20];
        dsa[0] = 0xCB;
        dsa[19] = 0x75;
        let text = format_fingerprint(&crate::trust::otr_key_id(&dsa));
        assert_eq!(text, "CB000000 00000000 00000000 00000000 00000075");
        assert_eq!(text, crate::otr::identity::human_fingerprint(&dsa));
    }
}
