//! Query messages: `?OFRv1?` plus a human-readable sentence, sent to ask the peer to start an
//! encrypted conversation. The sentence is for people whose client does not speak offrec, so it
//! names no participant and no software.
//!
//! A client that also offers OTR sends the combined query of
//! [`crate::otr::text::combined_query`] (`?OTRv3? ?OFRv1? …`); this parser still finds its part.

use super::versions::Versions;

/// What a query message starts with; the advertised version characters follow.
pub const QUERY_PREFIX: &str = "?OFRv";
/// The explanatory text sent when the caller gives none.
pub const DEFAULT_QUERY_TEXT: &str = "An encrypted conversation was requested, but your program does not support it.";
/// The most version characters read between `?OFRv` and `?`; more means "not a query".
const MAX_VERSION_CHARS: usize = 16;

/// Builds `?OFRv<digits>?`, then a space and `text` if `text` is not empty.
pub fn encode_query(versions: Versions, text: &str) -> String {
    let mut out = String::from(QUERY_PREFIX);
    out.extend(versions.chars());
    out.push('?');
    if !text.is_empty() {
        out.push(' ');
        out.push_str(text);
    }
    out
}

/// Finds the first `?OFRv` in `message` and reads the versions between it and the next `?`.
///
/// Only those characters count: digits elsewhere in the message (the explanatory text, say)
/// are never read as versions (libotr-ng once did). Unknown version characters are ignored.
/// Returns `None` when there is no `?OFRv`, no closing `?`, or the version field is longer than
/// 16 characters or holds anything but ASCII alphanumerics.
pub fn parse_query(message: &str) -> Option<Versions> {
    let start = message.find(QUERY_PREFIX)?;
    let after = message.get(start + QUERY_PREFIX.len()..)?;
    let end = after.find('?')?;
    let field = after.get(..end)?;
    if field.len() > MAX_VERSION_CHARS || !field.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(field.chars().filter_map(Versions::from_char).fold(Versions::empty(), Versions::union))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let q = encode_query(Versions::V1, DEFAULT_QUERY_TEXT);
        assert!(q.starts_with("?OFRv1? "));
        assert!(!q.contains("?OTR"));
        assert_eq!(parse_query(&q), Some(Versions::V1));
        assert_eq!(encode_query(Versions::V1, ""), "?OFRv1?");
        assert_eq!(parse_query("?OFRv1?"), Some(Versions::V1));
    }

    #[test]
    fn digits_outside_the_field_are_ignored() {
        assert_eq!(parse_query("?OFRv? version 1 please"), Some(Versions::empty()));
        assert_eq!(parse_query("?OFRv23? 1 1 1"), Some(Versions::empty()));
        assert_eq!(parse_query("1 ?OFRv?"), Some(Versions::empty()));
    }

    #[test]
    fn unknown_versions_are_ignored() {
        assert_eq!(parse_query("?OFRv2931?"), Some(Versions::V1));
        assert_eq!(parse_query("?OFRv9?"), Some(Versions::empty()));
        // A version named twice is still offered.
        assert_eq!(parse_query("?OFRv11?"), Some(Versions::V1));
    }

    #[test]
    fn query_may_follow_text() {
        assert_eq!(parse_query("hello ?OFRv1? text"), Some(Versions::V1));
    }

    #[test]
    fn malformed_queries_are_not_queries() {
        assert_eq!(parse_query("?OFRv1"), None); // no closing '?'
        assert_eq!(parse_query("?OFRv1 is what I use?"), None);
        assert_eq!(parse_query(&format!("?OFRv{}?", "1".repeat(17))), None);
        // Exactly the most version characters is still a query.
        assert_eq!(parse_query(&format!("?OFRv{}?", "1".repeat(MAX_VERSION_CHARS))), Some(Versions::V1));
        assert_eq!(parse_query("?OFR?"), None);
        assert_eq!(parse_query("?OTRv1?"), None);
        assert_eq!(parse_query("?ofrv1?"), None);
        assert_eq!(parse_query(""), None);
        assert_eq!(parse_query("?OFRvé?"), None);
    }
}
