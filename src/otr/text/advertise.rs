//! Advertising both protocols at once (design brief §4.3): one query and one whitespace tag that
//! OTR clients and offrec clients each read their own way.
//!
//! - Query: `?OTRv3? ?OFRv1? <explanation>` (`?OTRv23?` with version 2). OTR comes first
//!   because CoyIM only reads a query at position 0; libotr, potr and otr4j read the first
//!   `?OTR` anywhere, and offrec reads the first `?OFRv` anywhere. The explanation never names
//!   the account (libotr's own query does).
//! - Tag: text, OTR base, [v2 group], v3 group, then our base and our version groups. libotr and
//!   CoyIM strip every whitespace group after OTR's base, so the whole run disappears; offrec
//!   finds its own base inside the run; the run ends with our v1 group, a tab, so transports
//!   that trim trailing spaces (weechat, P20) leave it intact.
//!
//! With no OTR version to advertise both builders return exactly what offrec sends today.

use crate::wire::whitespace::append_tag;
use crate::wire::{encode_query, Versions};

use super::query::encode_otr_query;
use super::versions::OtrVersions;
use super::whitespace::otr_tag;

/// The query advertising the OTR versions of `otr` we speak (2, 3) and the modern versions
/// `modern`, followed by a space and `text` when `text` is not empty. Without OTR versions:
/// exactly [`encode_query`]`(modern, text)`. Without modern versions: the OTR query alone.
pub fn combined_query(otr: OtrVersions, modern: Versions, text: &str) -> String {
    let otr_query = encode_otr_query(otr);
    if otr_query.is_empty() {
        return encode_query(modern, text);
    }
    let mut out = otr_query;
    if !modern.is_empty() {
        out.push(' ');
        out.push_str(&encode_query(modern, ""));
    }
    if !text.is_empty() {
        out.push(' ');
        out.push_str(text);
    }
    out
}

/// `text` tagged for the OTR versions of `otr` we speak and the modern versions `modern`: OTR's
/// tag, then ours. Without OTR versions: exactly [`append_tag`]`(text, modern)`. Without modern
/// versions: OTR's tag alone.
pub fn append_combined_tag(text: &str, otr: OtrVersions, modern: Versions) -> String {
    let otr = otr_tag(otr);
    if otr.is_empty() {
        return append_tag(text, modern);
    }
    let mut out = String::with_capacity(text.len() + otr.len() + 32);
    out.push_str(text);
    out.push_str(&otr);
    if !modern.is_empty() {
        out.push_str(&append_tag("", modern));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::text::whitespace::{find_otr_tag, strip_otr_tag, OTR_TAG_BASE, OTR_TAG_V2, OTR_TAG_V3};
    use crate::wire::whitespace::{find_tag, find_tag_span, TAG_BASE};
    use crate::wire::{parse_query, DEFAULT_QUERY_TEXT};

    const V23: OtrVersions = OtrVersions::V2.union(OtrVersions::V3);

    #[test]
    fn query_forms() {
        assert_eq!(
            combined_query(OtrVersions::V3, Versions::V1, DEFAULT_QUERY_TEXT),
            format!("?OTRv3? ?OFRv1? {DEFAULT_QUERY_TEXT}")
        );
        assert_eq!(combined_query(V23, Versions::V1, ""), "?OTRv23? ?OFRv1?");
        assert_eq!(combined_query(OtrVersions::V3, Versions::empty(), "hi"), "?OTRv3? hi");
        // Nothing OTR: today's query, byte for byte.
        for otr in [OtrVersions::empty(), OtrVersions::V1, OtrVersions::V4] {
            for text in ["", DEFAULT_QUERY_TEXT] {
                assert_eq!(combined_query(otr, Versions::V1, text), encode_query(Versions::V1, text));
            }
        }
        // offrec still reads its own versions.
        assert_eq!(parse_query(&combined_query(V23, Versions::V1, DEFAULT_QUERY_TEXT)), Some(Versions::V1));
    }

    #[test]
    fn tag_layout() {
        let tagged = append_combined_tag("hi", V23, Versions::V1);
        assert_eq!(tagged, format!("hi{OTR_TAG_BASE}{OTR_TAG_V2}{OTR_TAG_V3}{}", append_tag("", Versions::V1)));
        assert!(tagged.ends_with('\t'));
        assert!(append_combined_tag("hi", OtrVersions::V3, Versions::V1).ends_with('\t'));
        // Nothing OTR: today's tag, byte for byte.
        for otr in [OtrVersions::empty(), OtrVersions::V1, OtrVersions::V4] {
            assert_eq!(append_combined_tag("hi", otr, Versions::V1), append_tag("hi", Versions::V1));
        }
    }

    #[test]
    fn libotr_style_stripping_leaves_the_text_and_offrec_finds_its_tag() {
        for text in ["", "hi", "hello world ", "é\t", "tabs\t\t\t\t\t\t\t\t"] {
            for otr in [OtrVersions::V3, V23] {
                let tagged = append_combined_tag(text, otr, Versions::V1);
                let (stripped, offered) = strip_otr_tag(&tagged).unwrap();
                assert_eq!(stripped, text, "{text:?}");
                assert_eq!(offered, otr);
                let (span, modern) = find_tag_span(&tagged).unwrap();
                assert_eq!(modern, Versions::V1);
                assert_eq!(span.start, text.len() + otr_tag(otr).len(), "our base at the intended offset");
                assert_eq!(span.end, tagged.len());
                assert_eq!(find_otr_tag(&tagged).unwrap().span.start, text.len());
                // Stripping only ours leaves OTR's tag behind, as an offrec-only client sees it.
                assert_eq!(find_tag(&tagged).unwrap().0, format!("{text}{}", otr_tag(otr)));
            }
        }
        assert_eq!(TAG_BASE.len(), 16);
    }
}
