//! One classification for a client that speaks OTR as well as offrec (design brief §4.3):
//! which protocol and which kind of message an incoming text is.
//!
//! Precedence, first match wins (offrec's own rules, [`crate::wire::classify()`], are kept for
//! everything without OTR in it):
//! 1. `?OFR:`, `?OFR|`, `?OFR Error:` at the start → offrec's own message;
//! 2. the first `?OTR` followed by `|` or `,` → an OTR fragment (v3 `?OTR|s|r,`, v2 `?OTR,`;
//!    OTRv4's `?OTR|id|s|r,` → foreign; libotr also takes one after other markers, see
//!    [`super::fragment`]);
//! 3. `?OTR:` at the start (after leading whitespace) → an OTR encoded message of the version
//!    its prefix announces (`AAM` v3, `AAI` v2; `AAE` v1, `AAQ` v4 and anything else → foreign);
//! 4. the first `?OTR` is `?OTR Error:` → an OTR error message;
//! 5. a well-formed `?OFRv…?` anywhere → a modern query, also recording the OTR versions when
//!    the first `?OTR` is a query too (a combined advertisement);
//! 6. the first `?OTR` is `?OTR?` or `?OTRv` → an OTR query;
//! 7. offrec's whitespace base → plaintext with our tag, also recording OTR's tag if present;
//!    every tag is stripped;
//! 8. OTR's whitespace base → plaintext with OTR's tag, stripped as libotr strips it;
//! 9. anything else → plaintext.
//!
//! Integration with [`Incoming`]: the result is either [`Classified::Modern`] holding exactly
//! what [`crate::wire::classify()`] returns for the message (so the conversation layer keeps its
//! existing handling), or [`Classified::Otr`] for a message OTR is involved in. A caller that
//! does not speak OTR (policy without OTR) passes `speak_otr = false` and always gets
//! `Modern(wire::classify(message))`: OTR traffic is then reported as
//! [`Incoming::ForeignOtr`] as today. `Incoming` itself is unchanged: adding variants or fields
//! would break every exhaustive match on it.

use crate::wire::classify::{classify as classify_modern, Incoming, OtrKind};
use crate::wire::whitespace::{find_tag_span, OTR_TAG_BASE};
use crate::wire::{parse_query, Versions};

use super::armour::{body_version, encoded_version, EncodedVersion};
use super::error;
use super::fragment::{fragment_form, FragmentForm};
use super::query::{first_marker, parse_otr_query, OTR_MARKER};
use super::versions::{OtrVersion, OtrVersions};
use super::whitespace::find_otr_tag;

/// What an incoming message is, for a client that may speak OTR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified<'a> {
    /// No OTR involved (or the caller does not speak OTR): exactly [`crate::wire::classify()`].
    Modern(Incoming<'a>),
    /// A message OTR is involved in.
    Otr(OtrIncoming<'a>),
}

/// A message OTR is involved in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtrIncoming<'a> {
    /// An OTR fragment: the message from its first `?OTR` on. Feed it to an
    /// [`super::OtrReassembler`]; the form (`version`) is known, the rest is checked there.
    Fragment {
        /// v3 (`?OTR|`) or v2 (`?OTR,`).
        version: OtrVersion,
        /// The message from the first `?OTR` on.
        message: &'a str,
    },
    /// An OTR encoded message (AKE or data) of a version we speak: the message from `?OTR:` on.
    /// Decode it with [`super::armour::decode`], then check the binary header's version too.
    Encoded {
        /// What the prefix announces.
        version: OtrVersion,
        /// The message from `?OTR:` on.
        message: &'a str,
    },
    /// An OTR error message: the text after the prefix.
    Error(&'a str),
    /// A query. `modern` is `Some` when the message also holds a well-formed offrec query (the
    /// combined advertisement); offrec then wins if both sides allow it.
    Query {
        /// The OTR versions offered (possibly none we speak).
        otr: OtrVersions,
        /// The offrec versions offered, if the message held an offrec query.
        modern: Option<Versions>,
    },
    /// Plain text for the user, every whitespace tag stripped.
    Plaintext {
        /// The text to show.
        text: String,
        /// The OTR versions OTR's tag offered, or `None` without OTR tag.
        otr: Option<OtrVersions>,
        /// The offrec versions our tag offered, or `None` without our tag.
        modern: Option<Versions>,
    },
    /// OTR traffic we never speak (v1, OTRv4, unknown encoded messages): report, never answer.
    Foreign(OtrKind),
}

/// Classifies `message`; see the module documentation for the precedence.
pub fn classify(message: &str, speak_otr: bool) -> Classified<'_> {
    let modern = || Classified::Modern(classify_modern(message));
    // The common case first: a message that starts with `?OTR:` is an encoded message under
    // every rule below (its first `?OTR` is followed by `:`, so it is no fragment, error or
    // query), without searching it for markers.
    if let Some(body) = message.strip_prefix("?OTR:").filter(|_| speak_otr) {
        return Classified::Otr(match body_version(body).and_then(EncodedVersion::spoken) {
            Some(version) => OtrIncoming::Encoded { version, message },
            None => OtrIncoming::Foreign(OtrKind::Data),
        });
    }
    if !speak_otr || ["?OFR:", "?OFR|", "?OFR Error:"].iter().any(|p| message.starts_with(p)) {
        return modern();
    }
    let first = first_marker(message);
    if let Some(form) = fragment_form(message) {
        let from = first.map_or(message, |(at, _)| message.get(at..).unwrap_or(message));
        return Classified::Otr(match form {
            FragmentForm::V3 => OtrIncoming::Fragment { version: OtrVersion::V3, message: from },
            FragmentForm::V2 => OtrIncoming::Fragment { version: OtrVersion::V2, message: from },
            FragmentForm::V4 => OtrIncoming::Foreign(OtrKind::Fragment),
        });
    }
    let trimmed = message.trim_start_matches([' ', '\t', '\r', '\n']);
    if trimmed.starts_with("?OTR:") {
        return Classified::Otr(match encoded_version(trimmed).and_then(EncodedVersion::spoken) {
            Some(version) => OtrIncoming::Encoded { version, message: trimmed },
            None => OtrIncoming::Foreign(OtrKind::Data),
        });
    }
    if let Some(text) = error::parse(message) {
        return Classified::Otr(OtrIncoming::Error(text));
    }
    let otr_query = parse_otr_query(message);
    if let Some(versions) = parse_query(message) {
        return match otr_query {
            Some(otr) => Classified::Otr(OtrIncoming::Query { otr, modern: Some(versions) }),
            None => modern(),
        };
    }
    if let Some(otr) = otr_query {
        return Classified::Otr(OtrIncoming::Query { otr, modern: None });
    }
    let ours = find_tag_span(message);
    let theirs = find_otr_tag(message);
    if theirs.is_none() && !message.contains(OTR_MARKER) {
        // No OTR at all: offrec's own rules 6 and 8, unchanged.
        return modern();
    }
    let mut spans: Vec<core::ops::Range<usize>> = Vec::with_capacity(2);
    spans.extend(ours.as_ref().map(|(span, _)| span.clone()));
    spans.extend(theirs.as_ref().map(|tag| tag.span.clone()));
    Classified::Otr(OtrIncoming::Plaintext {
        text: remove_spans(message, spans),
        otr: theirs.map(|tag| tag.versions),
        modern: ours.map(|(_, versions)| versions),
    })
}

/// `text` without the byte ranges in `spans` (which may overlap or nest). Every range ends next
/// to ASCII whitespace, so the cuts fall on char boundaries.
fn remove_spans(text: &str, mut spans: Vec<core::ops::Range<usize>>) -> String {
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0usize;
    for span in spans {
        if span.start > pos {
            out.push_str(text.get(pos..span.start).unwrap_or_default());
        }
        pos = pos.max(span.end);
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    out
}

/// Whether OTR could be involved in `message` at all: an `?OTR` marker or OTR's whitespace base.
/// [`classify`] returns [`Classified::Modern`] for every message without either.
pub fn mentions_otr(message: &str) -> bool {
    message.contains(OTR_MARKER) || message.contains(OTR_TAG_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::text::advertise::{append_combined_tag, combined_query};
    use crate::otr::text::whitespace::{OTR_TAG_BASE, OTR_TAG_V2, OTR_TAG_V3};
    use crate::wire::whitespace::append_tag;

    const V23: OtrVersions = OtrVersions::V2.union(OtrVersions::V3);

    fn otr(message: &str) -> OtrIncoming<'_> {
        match classify(message, true) {
            Classified::Otr(o) => o,
            other => panic!("{message:?}: {other:?}"),
        }
    }

    #[test]
    fn modern_prefixes_win() {
        for m in [
            "?OFR:AAAA.",
            "?OFR|00000001|00001000|00002000,1,2,AAAA,",
            "?OFR Error: ?OTR Error: x",
            "?OFR:?OTR|1|2,1,1,A,",
        ] {
            assert_eq!(classify(m, true), Classified::Modern(classify_modern(m)), "{m}");
        }
    }

    #[test]
    fn fragments() {
        let m = "?OTR|00001000|00000000,00001,00002,?OTR:AAMC,";
        assert_eq!(otr(m), OtrIncoming::Fragment { version: OtrVersion::V3, message: m });
        assert_eq!(otr("hi ?OTR,1,2,A,"), OtrIncoming::Fragment { version: OtrVersion::V2, message: "?OTR,1,2,A," });
        assert_eq!(otr("?OTR|1|2|3,1,2,A,"), OtrIncoming::Foreign(OtrKind::Fragment));
        // A fragment beats everything after it; a query before it makes it a query.
        assert_eq!(
            otr("?OTR,1,2,A, ?OFRv1?"),
            OtrIncoming::Fragment { version: OtrVersion::V2, message: "?OTR,1,2,A, ?OFRv1?" }
        );
        assert_eq!(otr("?OTRv3? ?OTR,1,2,A,"), OtrIncoming::Query { otr: OtrVersions::V3, modern: None });
    }

    #[test]
    fn encoded() {
        let m = crate::otr::text::armour::encode(&[0, 3, 2, 0, 0, 1, 0]);
        assert_eq!(otr(&m), OtrIncoming::Encoded { version: OtrVersion::V3, message: &m });
        let padded = format!(" \r\n{m}");
        assert_eq!(otr(&padded), OtrIncoming::Encoded { version: OtrVersion::V3, message: &m });
        let v2 = crate::otr::text::armour::encode(&[0, 2, 3]);
        assert_eq!(otr(&v2), OtrIncoming::Encoded { version: OtrVersion::V2, message: &v2 });
        for foreign in [&[0u8, 1, 3][..], &[0, 4, 3], &[9, 9, 9]] {
            let m = crate::otr::text::armour::encode(foreign);
            assert_eq!(otr(&m), OtrIncoming::Foreign(OtrKind::Data));
        }
        // Mid-message `?OTR:` is text (libotr would try to read it; otr4j would not).
        assert!(matches!(otr("see ?OTR:AAMD."), OtrIncoming::Plaintext { otr: None, modern: None, .. }));
    }

    #[test]
    fn errors_and_queries() {
        assert_eq!(
            otr("?OTR Error: You transmitted an unreadable encrypted message."),
            OtrIncoming::Error("You transmitted an unreadable encrypted message.")
        );
        assert_eq!(otr("oops ?OTR Error:x"), OtrIncoming::Error("x"));
        assert_eq!(otr("?OTRv23?\n<b>alice</b> has requested"), OtrIncoming::Query { otr: V23, modern: None });
        assert_eq!(otr("?OTR?"), OtrIncoming::Query { otr: OtrVersions::V1, modern: None });
        assert_eq!(otr("?OTRv4?"), OtrIncoming::Query { otr: OtrVersions::V4, modern: None });
        assert_eq!(
            otr(&combined_query(OtrVersions::V3, Versions::V1, "x")),
            OtrIncoming::Query { otr: OtrVersions::V3, modern: Some(Versions::V1) }
        );
        assert_eq!(
            otr("?OFRv9? ?OTRv2?"),
            OtrIncoming::Query { otr: OtrVersions::V2, modern: Some(Versions::empty()) }
        );
        // Modern query without an OTR query: unchanged.
        assert_eq!(classify("hello ?OFRv1?", true), Classified::Modern(Incoming::Query(Versions::V1)));
        assert_eq!(classify("see ?OTR:x ?OFRv1?", true), Classified::Modern(Incoming::Query(Versions::V1)));
        assert_eq!(otr("?OTR:x ?OFRv1?"), OtrIncoming::Foreign(OtrKind::Data));
        // The error beats a modern query after it.
        assert_eq!(otr("?OTR Error: ?OFRv1?"), OtrIncoming::Error("?OFRv1?"));
    }

    #[test]
    fn tags() {
        let combined = append_combined_tag("hello", V23, Versions::V1);
        assert_eq!(
            otr(&combined),
            OtrIncoming::Plaintext { text: "hello".into(), otr: Some(V23), modern: Some(Versions::V1) }
        );
        let otr_only = format!("hi{OTR_TAG_BASE}{OTR_TAG_V2}{OTR_TAG_V3}");
        assert_eq!(otr(&otr_only), OtrIncoming::Plaintext { text: "hi".into(), otr: Some(V23), modern: None });
        // Ours first, then OTR's elsewhere: both stripped.
        let apart = format!("{} and{OTR_TAG_BASE}{OTR_TAG_V3} more", append_tag("a", Versions::V1));
        assert_eq!(
            otr(&apart),
            OtrIncoming::Plaintext {
                text: "a and more".into(),
                otr: Some(OtrVersions::V3),
                modern: Some(Versions::V1)
            }
        );
        // Ours alone: today's result.
        let ours = append_tag("a", Versions::V1);
        assert_eq!(classify(&ours, true), Classified::Modern(classify_modern(&ours)));
    }

    #[test]
    fn without_otr_everything_is_modern() {
        for m in [
            "?OTRv3?",
            "?OTR:AAMD.",
            "?OTR|1|2,1,1,A,",
            "?OTR Error: x",
            &append_combined_tag("x", V23, Versions::V1),
            "hi",
        ] {
            assert_eq!(classify(m, false), Classified::Modern(classify_modern(m)), "{m:?}");
        }
        assert_eq!(
            classify("plain", true),
            Classified::Modern(Incoming::Plaintext { text: "plain".into(), tag: None })
        );
        assert!(!mentions_otr("plain"));
        assert!(mentions_otr("?OTR"));
    }

    #[test]
    fn span_removal() {
        assert_eq!(remove_spans("abcdef", vec![3..5, 1..2]), "acf");
        assert_eq!(remove_spans("abcdef", vec![1..5, 2..3]), "af");
        assert_eq!(remove_spans("abcdef", vec![]), "abcdef");
        assert_eq!(remove_spans("abcdef", vec![0..6, 2..3]), "");
    }
}
