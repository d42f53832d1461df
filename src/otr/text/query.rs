//! OTR query messages: `?OTR?` (version 1), `?OTRv23?` (versions 2 and 3), `?OTR?v2?` (both
//! forms), followed by text for humans whose client does not speak OTR.
//!
//! Parsing follows libotr 4.1.1 (`otrl_proto_query_bestversion`): only the *first* `?OTR` in the
//! message counts, wherever it is; a `?` right after it offers version 1; a `v` then offers the
//! version characters up to the next `?`. Unknown characters are ignored. Unlike libotr (which
//! reads to the end of the message when the closing `?` is missing) we read at most
//! [`MAX_QUERY_SCAN`] characters after the `v`, so a query's cost does not grow with the text
//! around it; real queries hold two or three characters.

use super::versions::OtrVersions;

/// Every OTR message starts with (or, for queries and errors, contains) this.
pub const OTR_MARKER: &str = "?OTR";
/// The most characters read after `?OTRv` while looking for version characters.
pub const MAX_QUERY_SCAN: usize = 32;

/// Where the first `?OTR` is, and what follows it: libotr decides a message's kind by this
/// first occurrence only.
pub(crate) fn first_marker(message: &str) -> Option<(usize, &[u8])> {
    let start = message.find(OTR_MARKER)?;
    let after = message.as_bytes().get(start + OTR_MARKER.len()..)?;
    Some((start, after))
}

/// The versions offered by the query in `message`, or `None` if the first `?OTR` in `message`
/// is not a query (`?OTR?` or `?OTRv`). An empty set is a query offering nothing we know
/// (`?OTRv?`, `?OTRv4?`); libotr then ignores the message without showing it.
pub fn parse_otr_query(message: &str) -> Option<OtrVersions> {
    let (_, after) = first_marker(message)?;
    let mut versions = OtrVersions::empty();
    let mut rest = after;
    let mut is_query = false;
    if let Some((b'?', tail)) = rest.split_first() {
        versions = versions.union(OtrVersions::V1);
        rest = tail;
        is_query = true;
    }
    if let Some((b'v', tail)) = rest.split_first() {
        is_query = true;
        for &c in tail.iter().take(MAX_QUERY_SCAN).take_while(|&&c| c != b'?') {
            if let Some(v) = OtrVersions::from_query_char(c) {
                versions = versions.union(v);
            }
        }
    }
    is_query.then_some(versions)
}

/// `?OTRv<digits>?` for the versions of `versions` we speak (2 and 3, in that order), or the
/// empty string if it holds neither. Version 1 (`?OTR?`) and version 4 are never advertised.
pub fn encode_otr_query(versions: OtrVersions) -> String {
    let spoken = versions.intersection(OtrVersions::SPOKEN);
    if spoken.is_empty() {
        return String::new();
    }
    let mut out = String::from("?OTRv");
    if spoken.contains(OtrVersions::V2) {
        out.push('2');
    }
    if spoken.contains(OtrVersions::V3) {
        out.push('3');
    }
    out.push('?');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const V23: OtrVersions = OtrVersions::V2.union(OtrVersions::V3);

    #[test]
    fn forms() {
        assert_eq!(parse_otr_query("?OTRv3?"), Some(OtrVersions::V3));
        assert_eq!(parse_otr_query("?OTRv23?"), Some(V23));
        assert_eq!(parse_otr_query("?OTRv32?"), Some(V23));
        assert_eq!(parse_otr_query("?OTR?"), Some(OtrVersions::V1));
        assert_eq!(parse_otr_query("?OTR?v2?"), Some(OtrVersions::V1.union(OtrVersions::V2)));
        assert_eq!(parse_otr_query("?OTRv?"), Some(OtrVersions::empty()));
        assert_eq!(parse_otr_query("?OTRv34?"), Some(OtrVersions::V3.union(OtrVersions::V4)));
        assert_eq!(parse_otr_query("?OTRvx9z3?"), Some(OtrVersions::V3));
    }

    #[test]
    fn first_marker_only_and_anywhere() {
        assert_eq!(parse_otr_query("hello ?OTRv2? bye"), Some(OtrVersions::V2));
        assert_eq!(parse_otr_query("?OTR:AAMD. ?OTRv3?"), None);
        assert_eq!(parse_otr_query("?OTRv2? ?OTRv3?"), Some(OtrVersions::V2));
        assert_eq!(parse_otr_query("?OTR Error: ?OTRv3?"), None);
        // Digits after the closing '?' are text.
        assert_eq!(parse_otr_query("?OTRv2? version 3"), Some(OtrVersions::V2));
    }

    #[test]
    fn missing_close_reads_a_capped_window() {
        // libotr reads to the end of the message; so do we, up to the cap.
        assert_eq!(parse_otr_query("?OTRv3 is what I use"), Some(OtrVersions::V3));
        let far = format!("?OTRv{}3", "x".repeat(MAX_QUERY_SCAN));
        assert_eq!(parse_otr_query(&far), Some(OtrVersions::empty()));
        let near = format!("?OTRv{}3", "x".repeat(MAX_QUERY_SCAN - 1));
        assert_eq!(parse_otr_query(&near), Some(OtrVersions::V3));
    }

    #[test]
    fn not_queries() {
        for m in ["", "?OTR", "?OTR:AAMC", "?OTR|1|2,1,2,x,", "?OTR,1,2,x,", "?otrv3?", "?OFRv1?", "?OTRx?v3?"] {
            assert_eq!(parse_otr_query(m), None, "{m:?}");
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_otr_query(V23), "?OTRv23?");
        assert_eq!(encode_otr_query(OtrVersions::V3), "?OTRv3?");
        assert_eq!(encode_otr_query(OtrVersions::V2), "?OTRv2?");
        assert_eq!(encode_otr_query(OtrVersions::V1.union(OtrVersions::V4).union(OtrVersions::V3)), "?OTRv3?");
        assert_eq!(encode_otr_query(OtrVersions::V1), "");
        assert_eq!(encode_otr_query(OtrVersions::empty()), "");
        for v in [OtrVersions::V2, OtrVersions::V3, V23] {
            assert_eq!(parse_otr_query(&encode_otr_query(v)), Some(v));
        }
    }
}
