//! First look at an incoming message: which kind is it? Routing happens here once, so every
//! later parser sees only messages of its own kind.
//!
//! Precedence, first match wins:
//! 1. starts with `?OFR:` → [`Incoming::Encoded`];
//! 2. starts with `?OFR|` → [`Incoming::Fragment`];
//! 3. starts with `?OFR Error:` → [`Incoming::Error`];
//! 4. contains a well-formed `?OFRv…?` anywhere → [`Incoming::Query`];
//! 5. contains an OTR marker (`?OTR Error:`, `?OTR:`, `?OTR|`, `?OTRv`, `?OTR?`) →
//!    [`Incoming::ForeignOtr`];
//! 6. contains our whitespace tag → [`Incoming::Plaintext`] with the tag stripped and reported;
//! 7. contains OTR's whitespace tag → [`Incoming::ForeignOtr`];
//! 8. anything else → [`Incoming::Plaintext`] unchanged.
//!
//! Our markers mid-message (rules 1–3) do not count: a user quoting one is just chatting.
//!
//! This is the classification of a client that does not speak OTR. One that does calls
//! [`crate::otr::text::classify()`], which returns exactly this [`Incoming`] whenever OTR is not
//! involved in the message, and OTR's own kinds (queries, tags, encoded messages, fragments,
//! errors) otherwise.

use super::armour::ARMOUR_PREFIX;
use super::error_message;
use super::fragment::FRAGMENT_PREFIX;
use super::query::parse_query;
use super::versions::Versions;
use super::whitespace;

/// Which OTR message was seen. OTR traffic is reported (the host may tell the user that the
/// peer runs OTR, not offrec) and never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtrKind {
    /// `?OTR:` — an OTR encoded message.
    Data,
    /// `?OTR|` — an OTR fragment.
    Fragment,
    /// `?OTRv` or `?OTR?` — an OTR query.
    Query,
    /// `?OTR Error:` — an OTR error message.
    Error,
    /// OTR's whitespace tag in a plaintext message.
    WhitespaceTag,
}

/// What an incoming message is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming<'a> {
    /// An armoured binary message (the whole message; decode with [`crate::wire::armour::decode`]).
    Encoded(&'a str),
    /// A fragment (the whole message; feed it to a [`crate::wire::Reassembler`]).
    Fragment(&'a str),
    /// An error message; the text after the prefix.
    Error(&'a str),
    /// A query advertising these versions (possibly none we know).
    Query(Versions),
    /// OTR traffic.
    ForeignOtr(OtrKind),
    /// Ordinary text, with our whitespace tag removed if it carried one.
    Plaintext {
        /// The text to show.
        text: String,
        /// The versions the tag advertised, if there was a tag.
        tag: Option<Versions>,
    },
}

/// OTR's textual markers, checked in this order.
const OTR_MARKERS: [(&str, OtrKind); 5] = [
    ("?OTR Error:", OtrKind::Error),
    ("?OTR:", OtrKind::Data),
    ("?OTR|", OtrKind::Fragment),
    ("?OTRv", OtrKind::Query),
    ("?OTR?", OtrKind::Query),
];

/// Classifies `message`; see the module documentation for the precedence.
pub fn classify(message: &str) -> Incoming<'_> {
    if message.starts_with(ARMOUR_PREFIX) {
        return Incoming::Encoded(message);
    }
    if message.starts_with(FRAGMENT_PREFIX) {
        return Incoming::Fragment(message);
    }
    if let Some(text) = error_message::parse(message) {
        return Incoming::Error(text);
    }
    if let Some(versions) = parse_query(message) {
        return Incoming::Query(versions);
    }
    if let Some((_, kind)) = OTR_MARKERS.iter().find(|(m, _)| message.contains(m)) {
        return Incoming::ForeignOtr(*kind);
    }
    if let Some((text, versions)) = whitespace::find_tag(message) {
        return Incoming::Plaintext { text, tag: Some(versions) };
    }
    if whitespace::is_otr_tag(message) {
        return Incoming::ForeignOtr(OtrKind::WhitespaceTag);
    }
    Incoming::Plaintext { text: message.to_owned(), tag: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::whitespace::{append_tag, OTR_TAG_BASE};

    fn plain(text: &str) -> Incoming<'static> {
        Incoming::Plaintext { text: text.to_owned(), tag: None }
    }

    #[test]
    fn each_kind() {
        assert_eq!(classify("?OFR:AAAA."), Incoming::Encoded("?OFR:AAAA."));
        assert_eq!(classify("?OFR:garbage"), Incoming::Encoded("?OFR:garbage"));
        let f = "?OFR|00000001|00001000|00002000,1,2,AAAA,";
        assert_eq!(classify(f), Incoming::Fragment(f));
        assert_eq!(classify("?OFR Error: oops"), Incoming::Error("oops"));
        assert_eq!(classify("?OFRv1? please"), Incoming::Query(Versions::V1));
        assert_eq!(classify("hi"), plain("hi"));
        assert_eq!(classify(""), plain(""));
        assert_eq!(
            classify(&append_tag("hello", Versions::V1)),
            Incoming::Plaintext { text: "hello".into(), tag: Some(Versions::V1) }
        );
    }

    #[test]
    fn our_markers_mid_message_are_plaintext() {
        for m in ["see ?OFR:AAAA.", " ?OFR|00000001|00001000|00002000,1,2,AAAA,", "x ?OFR Error: y"] {
            assert_eq!(classify(m), plain(m), "{m}");
        }
    }

    #[test]
    fn queries_are_found_anywhere() {
        assert_eq!(classify("hello ?OFRv1? bye"), Incoming::Query(Versions::V1));
        assert_eq!(classify("?OFRv9?"), Incoming::Query(Versions::empty()));
        // Not well formed: plaintext.
        assert_eq!(classify("?OFRv1 and 1"), plain("?OFRv1 and 1"));
    }

    #[test]
    fn otr_is_reported() {
        assert_eq!(classify("?OTR:AAAA."), Incoming::ForeignOtr(OtrKind::Data));
        assert_eq!(classify("?OTR|1|2,1,2,A,"), Incoming::ForeignOtr(OtrKind::Fragment));
        assert_eq!(classify("?OTRv23? hi"), Incoming::ForeignOtr(OtrKind::Query));
        assert_eq!(classify("?OTR?"), Incoming::ForeignOtr(OtrKind::Query));
        assert_eq!(classify("?OTR Error: x"), Incoming::ForeignOtr(OtrKind::Error));
        assert_eq!(classify(&format!("hi{OTR_TAG_BASE}  \t\t  \t\t")), Incoming::ForeignOtr(OtrKind::WhitespaceTag));
    }

    #[test]
    fn precedence() {
        // Our prefixes beat everything else in the message.
        assert_eq!(classify("?OFR Error: ?OFRv1?"), Incoming::Error("?OFRv1?"));
        assert_eq!(classify("?OFR Error: ?OTR:"), Incoming::Error("?OTR:"));
        // Our query beats OTR markers (a client advertising both protocols).
        assert_eq!(classify("?OTRv3? ?OFRv1?"), Incoming::Query(Versions::V1));
        // OTR textual markers beat our whitespace tag.
        let both = append_tag("?OTR:AAAA.", Versions::V1);
        assert_eq!(classify(&both), Incoming::ForeignOtr(OtrKind::Data));
        // Our whitespace tag beats OTR's.
        let tags = append_tag(&format!("x{OTR_TAG_BASE}"), Versions::V1);
        assert_eq!(classify(&tags), Incoming::Plaintext { text: format!("x{OTR_TAG_BASE}"), tag: Some(Versions::V1) });
    }
}
