//! Error messages: `?OFR Error: <text>`, sent in the clear when a peer cannot process what it
//! received. Recognised only at the very start of a message, so quoting one in a chat does not
//! trigger error handling.

/// What an error message starts with.
pub const ERROR_PREFIX: &str = "?OFR Error:";

/// `?OFR Error: <code_text>`.
pub fn encode(code_text: &str) -> String {
    format!("{ERROR_PREFIX} {code_text}")
}

/// The text after the prefix (one leading space removed), or `None` if `message` does not start
/// with the prefix.
pub fn parse(message: &str) -> Option<&str> {
    let rest = message.strip_prefix(ERROR_PREFIX)?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = encode("ERROR_1: unreadable message");
        assert_eq!(m, "?OFR Error: ERROR_1: unreadable message");
        assert_eq!(parse(&m), Some("ERROR_1: unreadable message"));
        assert_eq!(parse("?OFR Error:x"), Some("x"));
        assert_eq!(parse("?OFR Error:"), Some(""));
    }

    #[test]
    fn prefix_only_at_start() {
        assert_eq!(parse("look: ?OFR Error: x"), None);
        assert_eq!(parse(" ?OFR Error: x"), None);
        assert_eq!(parse("?OTR Error: x"), None);
        assert_eq!(parse("?OFR error: x"), None);
    }
}
