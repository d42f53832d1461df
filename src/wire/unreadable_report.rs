//! The text of an unreadable report (PROTOCOL.md §9.8): the error message a party sends when
//! it cannot read a data message, naming it by its ratchet key and number so that the sender
//! can tell its user which message was lost:
//! `unreadable encrypted message <first 8 bytes of the ratchet key, hex>:<n>[ only]`.
//! The report travels inside an error message and is unauthenticated.

/// The text of the error message we send when we cannot read something.
pub const UNREADABLE_ERROR_TEXT: &str = "unreadable encrypted message";

/// What an unreadable report says was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostScope {
    /// We have no usable session for it: this message and every later one of that session.
    Session,
    /// Our session is fine but this one message did not authenticate (corrupted or forged in
    /// transit) or arrived after its key was discarded: only this message.
    OneMessage,
}

/// The 8-byte prefix of a ratchet key that names a message in reports.
pub fn key_prefix(ratchet_key: &[u8; 32]) -> [u8; 8] {
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&ratchet_key[..8]);
    prefix
}

/// An 8-byte prefix as 16 lowercase hex digits, as error reports write it.
pub fn prefix_to_hex(prefix: &[u8; 8]) -> String {
    prefix.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads 16 hex digits (either case) back into an 8-byte prefix; `None` for anything else.
pub fn prefix_from_hex(hex: &str) -> Option<[u8; 8]> {
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut prefix = [0u8; 8];
    for (i, byte) in prefix.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(prefix)
}

/// The error text for an unreadable message: `unreadable encrypted message <key8 hex>:<n>`,
/// followed by ` only` when only that message was lost.
pub fn encode(ratchet_key: &[u8; 32], number: u32, scope: LostScope) -> String {
    let prefix = prefix_to_hex(&key_prefix(ratchet_key));
    match scope {
        LostScope::Session => format!("{UNREADABLE_ERROR_TEXT} {prefix}:{number}"),
        LostScope::OneMessage => format!("{UNREADABLE_ERROR_TEXT} {prefix}:{number} only"),
    }
}

/// Parses [`encode`]'s text back: (key prefix, message number, scope); `None` for any other
/// error text.
pub fn parse(text: &str) -> Option<([u8; 8], u32, LostScope)> {
    let rest = text.trim().strip_prefix(UNREADABLE_ERROR_TEXT)?.trim();
    let (prefix_hex, number) = rest.split_once(':')?;
    let (number, scope) = match number.strip_suffix(" only") {
        Some(number) => (number, LostScope::OneMessage),
        None => (number, LostScope::Session),
    };
    Some((prefix_from_hex(prefix_hex)?, number.parse().ok()?, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_and_other_text_is_not_a_report() {
        let key = [0xABu8; 32];
        let session = encode(&key, 7, LostScope::Session);
        assert_eq!(session, "unreadable encrypted message abababababababab:7");
        assert_eq!(parse(&session), Some(([0xAB; 8], 7, LostScope::Session)));
        let one = encode(&key, 8, LostScope::OneMessage);
        assert_eq!(parse(&format!("  {one} ")), Some(([0xAB; 8], 8, LostScope::OneMessage)));
        for other in [
            "unreadable encrypted message",
            "unreadable encrypted message abab:1",
            "names differ",
            "unreadable encrypted message abababababababab:x",
            // Too many digits: the first 16 must not be read as the prefix.
            "unreadable encrypted message abababababababab00:1",
            // Signs are not hex digits, though `from_str_radix` takes a leading `+`.
            "unreadable encrypted message +a+b+a+b+a+b+a+b:1",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}
