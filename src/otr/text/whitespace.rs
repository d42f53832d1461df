//! OTR's whitespace tag: plaintext followed by the base `OT` (16 spaces/tabs, space = 0, tab =
//! 1) and one 8-character group per offered version, saying "I speak OTR" invisibly.
//!
//! Finding and stripping follow libotr 4.1.1 (`otrl_proto_whitespace_bestversion`): the first
//! base anywhere in the text, then *every* following 8-character run made only of spaces and
//! tabs, known version or not, is part of the tag and removed. That is why a combined tag (ours
//! after OTR's, [`super::advertise`]) disappears whole in libotr.

use core::ops::Range;

use crate::wire::whitespace::GROUP_LEN;
pub use crate::wire::whitespace::OTR_TAG_BASE;

use super::versions::OtrVersions;

/// The group offering version 1 (`R`); libotr requires it first when present.
pub const OTR_TAG_V1: &str = " \t \t  \t ";
/// The group offering version 2 (`2`).
pub const OTR_TAG_V2: &str = "  \t\t  \t ";
/// The group offering version 3 (`3`).
pub const OTR_TAG_V3: &str = "  \t\t  \t\t";
/// The group offering OTRv4 (`4`).
pub const OTR_TAG_V4: &str = "  \t\t \t  ";

/// The groups we recognise, with the version each offers.
const GROUPS: [(&str, OtrVersions); 4] = [
    (OTR_TAG_V1, OtrVersions::V1),
    (OTR_TAG_V2, OtrVersions::V2),
    (OTR_TAG_V3, OtrVersions::V3),
    (OTR_TAG_V4, OtrVersions::V4),
];

/// An OTR whitespace tag found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtrTag {
    /// Byte range of the base and all its groups.
    pub span: Range<usize>,
    /// The versions its groups offer (unknown groups are part of the span but offer nothing).
    pub versions: OtrVersions,
}

/// Finds the first OTR base tag in `text` and the whitespace groups after it, as libotr does.
pub fn find_otr_tag(text: &str) -> Option<OtrTag> {
    let start = text.find(OTR_TAG_BASE)?;
    let bytes = text.as_bytes();
    let mut end = start + OTR_TAG_BASE.len();
    let mut versions = OtrVersions::empty();
    while let Some(group) = bytes.get(end..end + GROUP_LEN).filter(|g| g.iter().all(|&c| c == b' ' || c == b'\t')) {
        if let Some((_, v)) = GROUPS.iter().find(|(g, _)| g.as_bytes() == group) {
            versions = versions.union(*v);
        }
        end += GROUP_LEN;
    }
    Some(OtrTag { span: start..end, versions })
}

/// `text` without its OTR tag, and the versions the tag offered; `None` if there is no tag.
pub fn strip_otr_tag(text: &str) -> Option<(String, OtrVersions)> {
    let tag = find_otr_tag(text)?;
    // The span's ends sit next to ASCII whitespace, so both are char boundaries.
    let mut out = String::with_capacity(text.len().saturating_sub(tag.span.len()));
    out.push_str(text.get(..tag.span.start)?);
    out.push_str(text.get(tag.span.end..)?);
    Some((out, tag.versions))
}

/// The OTR tag offering the versions of `versions` we speak: the base, then the v2 group, then
/// the v3 group (the order otr4j requires). Empty if `versions` holds neither 2 nor 3. Ends with
/// a space when only v2 is offered: a transport that trims trailing spaces breaks that tag
/// (weechat, P20), which is why the combined tag puts ours after it.
pub fn otr_tag(versions: OtrVersions) -> String {
    let spoken = versions.intersection(OtrVersions::SPOKEN);
    if spoken.is_empty() {
        return String::new();
    }
    let mut out = String::from(OTR_TAG_BASE);
    if spoken.contains(OtrVersions::V2) {
        out.push_str(OTR_TAG_V2);
    }
    if spoken.contains(OtrVersions::V3) {
        out.push_str(OTR_TAG_V3);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::whitespace::encode_byte;

    #[test]
    fn groups_encode_their_characters() {
        for (c, g) in [(b'R', OTR_TAG_V1), (b'2', OTR_TAG_V2), (b'3', OTR_TAG_V3), (b'4', OTR_TAG_V4)] {
            let mut s = String::new();
            encode_byte(c, &mut s);
            assert_eq!(s, g);
        }
    }

    #[test]
    fn round_trip_and_stripping() {
        let v23 = OtrVersions::V2.union(OtrVersions::V3);
        let tagged = format!("hello{}", otr_tag(v23));
        assert_eq!(strip_otr_tag(&tagged), Some(("hello".to_owned(), v23)));
        assert!(otr_tag(v23).ends_with('\t'));
        assert_eq!(otr_tag(OtrVersions::V1), "");
        assert_eq!(otr_tag(OtrVersions::V3), format!("{OTR_TAG_BASE}{OTR_TAG_V3}"));
    }

    #[test]
    fn every_whitespace_group_is_consumed() {
        // Unknown groups (here "OF" and "1": our own tag) go too, as in libotr.
        let ours = crate::wire::whitespace::append_tag("", crate::wire::Versions::V1);
        let tagged = format!("a{OTR_TAG_BASE}{OTR_TAG_V1}{OTR_TAG_V4}{ours}b");
        let found = find_otr_tag(&tagged).unwrap();
        assert_eq!(found.versions, OtrVersions::V1.union(OtrVersions::V4));
        assert_eq!(strip_otr_tag(&tagged).unwrap().0, "ab");
        // A partial group stays in the text.
        let partial = format!("a{OTR_TAG_BASE}{OTR_TAG_V3}   b");
        assert_eq!(strip_otr_tag(&partial), Some(("a   b".to_owned(), OtrVersions::V3)));
        // Whitespace that happens to follow is swallowed in 8-character steps.
        let trailing = format!("a{OTR_TAG_BASE}{OTR_TAG_V3}          b");
        assert_eq!(strip_otr_tag(&trailing).unwrap().0, "a  b");
    }

    #[test]
    fn no_tag() {
        assert_eq!(find_otr_tag("plain \t text"), None);
        assert_eq!(find_otr_tag(""), None);
        let bare = format!("é{OTR_TAG_BASE}ü");
        assert_eq!(strip_otr_tag(&bare), Some(("éü".to_owned(), OtrVersions::empty())));
    }
}
