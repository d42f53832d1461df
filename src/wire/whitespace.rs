//! Whitespace tags: a run of spaces and tabs appended to an ordinary plaintext message that
//! quietly says "I speak offrec" without showing anything to a human. The base encodes the bytes
//! `OF` (space = 0, tab = 1, most significant bit first); each advertised version follows as 8
//! more such characters encoding its ASCII digit.

use super::versions::Versions;

/// The base tag: `OF` as bits.
pub const TAG_BASE: &str = " \t  \t\t\t\t \t   \t\t ";
/// OTR's base tag (`OT` as bits). We never answer it; we only notice it.
pub const OTR_TAG_BASE: &str = " \t  \t\t\t\t \t \t \t  ";
/// The length of one encoded version character (in OTR's tags too).
pub const GROUP_LEN: usize = 8;

/// Eight spaces/tabs for one byte (OTR's version groups use the same encoding).
pub fn encode_byte(byte: u8, out: &mut String) {
    for bit in (0..8).rev() {
        out.push(if (byte >> bit) & 1 == 1 { '\t' } else { ' ' });
    }
}

/// The byte encoded by exactly eight spaces/tabs, or `None` if `group` is anything else.
fn decode_group(group: &[u8]) -> Option<u8> {
    if group.len() != GROUP_LEN {
        return None;
    }
    group.iter().try_fold(0u8, |acc, &c| match c {
        b' ' => Some(acc << 1),
        b'\t' => Some((acc << 1) | 1),
        _ => None,
    })
}

/// `text` followed by the base tag and one group per version.
pub fn append_tag(text: &str, versions: Versions) -> String {
    let mut out = String::with_capacity(text.len() + TAG_BASE.len() + GROUP_LEN);
    out.push_str(text);
    out.push_str(TAG_BASE);
    for c in versions.chars() {
        // Version characters are ASCII digits, so the cast is lossless.
        encode_byte(c as u8, &mut out);
    }
    out
}

/// Finds the first base tag anywhere in `text`, reads the 8-character groups right after it
/// (stopping at the first run that is not a whole group), and returns the text with the base
/// and its groups removed, plus the versions advertised. Unknown versions are removed too but
/// not reported.
pub fn find_tag(text: &str) -> Option<(String, Versions)> {
    let (span, versions) = find_tag_span(text)?;
    // The span's ends sit next to ASCII whitespace, so both are char boundaries.
    let mut stripped = String::with_capacity(text.len() - span.len());
    stripped.push_str(text.get(..span.start)?);
    stripped.push_str(text.get(span.end..)?);
    Some((stripped, versions))
}

/// Where [`find_tag`] finds the tag (byte range of the base and its groups) and the versions
/// it advertises, without building the stripped text: for callers that strip several tags at
/// once (OTR's and ours, `crate::otr::text::classify`).
pub fn find_tag_span(text: &str) -> Option<(core::ops::Range<usize>, Versions)> {
    let start = text.find(TAG_BASE)?;
    let groups_start = start + TAG_BASE.len();
    let bytes = text.as_bytes();
    let mut end = groups_start;
    let mut versions = Versions::empty();
    while let Some(byte) = bytes.get(end..end + GROUP_LEN).and_then(decode_group) {
        if let Some(v) = Versions::from_char(char::from(byte)) {
            versions = versions.union(v);
        }
        end += GROUP_LEN;
    }
    Some((start..end, versions))
}

/// Whether `text` carries OTR's whitespace tag.
pub fn is_otr_tag(text: &str) -> bool {
    text.contains(OTR_TAG_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_encodes_of_and_otr_base_encodes_ot() {
        let mut s = String::new();
        encode_byte(b'O', &mut s);
        encode_byte(b'F', &mut s);
        assert_eq!(s, TAG_BASE);
        let mut s = String::new();
        encode_byte(b'O', &mut s);
        encode_byte(b'T', &mut s);
        assert_eq!(s, OTR_TAG_BASE);
        assert_ne!(TAG_BASE, OTR_TAG_BASE);
    }

    #[test]
    fn round_trip() {
        let tagged = append_tag("hello", Versions::V1);
        assert_eq!(tagged, format!("hello{TAG_BASE}  \t\t   \t"));
        assert_eq!(find_tag(&tagged), Some(("hello".to_string(), Versions::V1)));
        assert!(!is_otr_tag(&tagged));
    }

    #[test]
    fn tag_in_the_middle_is_found_and_removed() {
        let tagged = format!("ab{}cd", append_tag("", Versions::V1));
        assert_eq!(find_tag(&tagged), Some(("abcd".to_string(), Versions::V1)));
    }

    #[test]
    fn unknown_versions_are_stripped_but_not_reported() {
        let mut tagged = String::from(TAG_BASE);
        encode_byte(b'7', &mut tagged);
        encode_byte(b'1', &mut tagged);
        tagged.push_str("tail");
        assert_eq!(find_tag(&tagged), Some(("tail".to_string(), Versions::V1)));
    }

    #[test]
    fn partial_group_is_left_in_place() {
        let tagged = format!("x{TAG_BASE}  \t\t \ty");
        assert_eq!(find_tag(&tagged), Some(("x  \t\t \ty".to_string(), Versions::empty())));
        let tagged = format!("x{TAG_BASE}");
        assert_eq!(find_tag(&tagged), Some(("x".to_string(), Versions::empty())));
    }

    #[test]
    fn no_tag() {
        assert_eq!(find_tag("plain text \t with tabs"), None);
        assert_eq!(find_tag(""), None);
        assert_eq!(find_tag(&format!("hi{OTR_TAG_BASE}")), None);
        assert!(is_otr_tag(&format!("hi{OTR_TAG_BASE}  \t\t  \t ")));
    }

    #[test]
    fn multibyte_text_around_the_tag() {
        let tagged = format!("é{}ü", append_tag("", Versions::V1));
        assert_eq!(find_tag(&tagged), Some(("éü".to_string(), Versions::V1)));
    }
}
