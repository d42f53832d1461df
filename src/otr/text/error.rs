//! OTR error messages: `?OTR Error: <text>`, sent in the clear when a peer cannot process what
//! it received. libotr recognises one wherever it is in the message, provided it is the first
//! `?OTR` (`otrl_proto_message_type`), and starts its healing (query, re-key, resend) on it.
//!
//! The texts are chosen by the application in libotr; these are the ones Pidgin, Adium and
//! ChatSecure send, so OTR users see familiar words.

use super::query::first_marker;

/// What an error message holds; libotr writes it followed by one space.
pub const OTR_ERROR_PREFIX: &str = "?OTR Error:";
/// Sent when a message could not be encrypted.
pub const ERROR_ENCRYPTION_ERROR: &str = "Error occurred encrypting message.";
/// Sent when a data message could not be read (unknown keys, bad MAC, old counter). This is the
/// one offrec sends in OTR sessions (design brief §1.12).
pub const ERROR_UNREADABLE: &str = "You transmitted an unreadable encrypted message.";
/// Sent when a data message could not be parsed.
pub const ERROR_MALFORMED: &str = "You transmitted a malformed data message.";

/// Pidgin's text for encrypted data arriving outside a session, naming the receiving account
/// (which the sender already knows: it addressed the message there).
pub fn not_in_private(account: &str) -> String {
    format!("You sent encrypted data to {account}, who wasn't expecting it.")
}

/// `?OTR Error: <text>`.
pub fn encode(text: &str) -> String {
    format!("{OTR_ERROR_PREFIX} {text}")
}

/// The text after the prefix (one leading space removed) if the first `?OTR` in `message` is
/// an error prefix; `None` otherwise. (libotr shows the text after `?OTR Error: ` plus one more
/// space if there is one, and the whole message when the space is missing; the difference is
/// cosmetic.)
pub fn parse(message: &str) -> Option<&str> {
    let (start, _) = first_marker(message)?;
    let rest = message.get(start..)?.strip_prefix(OTR_ERROR_PREFIX)?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = encode(ERROR_UNREADABLE);
        assert_eq!(m, "?OTR Error: You transmitted an unreadable encrypted message.");
        assert_eq!(parse(&m), Some(ERROR_UNREADABLE));
        assert_eq!(parse("?OTR Error:x"), Some("x"));
        assert_eq!(parse("?OTR Error:"), Some(""));
        assert_eq!(
            not_in_private("bob@example.org"),
            "You sent encrypted data to bob@example.org, who wasn't expecting it."
        );
    }

    #[test]
    fn found_anywhere_if_first_marker() {
        assert_eq!(parse("oops: ?OTR Error: x"), Some("x"));
        assert_eq!(parse("?OTRv3? ?OTR Error: x"), None);
        assert_eq!(parse("?OTR error: x"), None);
        assert_eq!(parse("?OFR Error: x"), None);
        assert_eq!(parse(""), None);
    }
}
