//! OTR fragments: long encoded messages split into numbered pieces for transports that cap
//! message size.
//!
//! Formats (OTR v3 spec §Fragmentation, libotr `otrl_proto_fragment_create`):
//! - v3: `?OTR|<sender>|<receiver>,<k>,<n>,<piece>,` — we write `%08x` lower-case tags and
//!   `%05u` numbers, as libotr does;
//! - v2: `?OTR,<k>,<n>,<piece>,`;
//! - OTRv4: `?OTR|<id>|<sender>|<receiver>,…`, recognised by its third `|` field and refused.
//!
//! Reading follows libotr 4.1.1 and the 4.1.1 spec: tags are hex of any case and width,
//! numbers decimal, both with leading zeros allowed (`00001`), text before the fragment is
//! ignored. A message is a fragment when its *first* `?OTR` is immediately followed by `|` or
//! `,` (design brief §4.3). libotr 4.1.1 as shipped (Debian 4.1.1-5, measured through
//! `otrl_message_receiving`) is laxer: it takes a `?OTR|`, or else a `?OTR,`, *anywhere* as a
//! fragment, even after a query (`?OTRv3? ?OTR,1,2,x,` is a fragment there, a query here); only
//! its choice of instance context looks at the first `?OTR`. No client sends such a message.
//!
//! We are also stricter than libotr's `sscanf` where it is lax for no benefit: no signs, no
//! `0x`, at most [`MAX_HEX_DIGITS`] / [`MAX_DECIMAL_DIGITS`] digits, values must fit (libotr
//! wraps `n` modulo 65536: `65537` is 1 there), only base64 and `?OTR:` characters in a piece
//! (only encoded messages are ever fragmented), only whitespace after the last comma, the whole
//! fragment within [`MAX_OTR_ENCODED_LEN`]. The reassembly rules are in [`super::reassembler`].
//!
//! Writing: each fragment is at most `mms` characters. libotr's are at most `mms - 1` (its
//! header allowance is one character larger than the header it writes); for the same pieces
//! as libotr at libotr's `mms`, call [`split`] with `mms - 1`.

use crate::wire::armour::is_armour_text;
use crate::wire::InstanceTag;

use super::armour::{MAX_OTR_ENCODED_LEN, OTR_ARMOUR_PREFIX, OTR_ARMOUR_SUFFIX};
use super::query::first_marker;
use super::text_error::TextError;
use super::versions::OtrVersion;

/// What a v3 fragment starts with.
pub const OTR_V3_FRAGMENT_PREFIX: &str = "?OTR|";
/// What a v2 fragment starts with.
pub const OTR_V2_FRAGMENT_PREFIX: &str = "?OTR,";
/// The most pieces a message may have (`n` is an unsigned short in libotr).
pub const MAX_OTR_FRAGMENTS: u16 = u16::MAX;
/// The most hex digits read for an instance tag (leading zeros included).
pub const MAX_HEX_DIGITS: usize = 16;
/// The most decimal digits read for `k` or `n` (leading zeros included).
pub const MAX_DECIMAL_DIGITS: usize = 10;
/// Length of everything but the piece in a fragment we write, v3: `?OTR|` + 8 + `|` + 8 +
/// `,` + 5 + `,` + 5 + `,` … `,`.
pub const V3_HEADER_LEN: usize = 5 + 8 + 1 + 8 + 1 + 5 + 1 + 5 + 1 + 1;
/// The same for v2: `?OTR,` + 5 + `,` + 5 + `,` … `,`.
pub const V2_HEADER_LEN: usize = 5 + 5 + 1 + 5 + 1 + 1;

/// Which fragment format a message uses, judged by its first `?OTR` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentForm {
    /// `?OTR,` — version 2.
    V2,
    /// `?OTR|sender|receiver,` — version 3 (or malformed).
    V3,
    /// `?OTR|id|sender|receiver,` — OTRv4.
    V4,
}

/// The fragment form of `message`, or `None` if its first `?OTR` is not followed by `|` or
/// `,`. Decides only the form; [`parse_fragment`] checks the rest.
pub fn fragment_form(message: &str) -> Option<FragmentForm> {
    let (_, after) = first_marker(message)?;
    match after.split_first()? {
        (b',', _) => Some(FragmentForm::V2),
        (b'|', rest) => {
            // Two more `|` before the first `,` (within a header's length) mean OTRv4.
            let window = rest.iter().take(3 * MAX_HEX_DIGITS + 3).take_while(|&&c| c != b',');
            let bars = window.filter(|&&c| c == b'|').count();
            Some(if bars >= 2 { FragmentForm::V4 } else { FragmentForm::V3 })
        }
        _ => None,
    }
}

/// One parsed fragment, borrowing its piece from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtrFragment<'a> {
    /// The format: v3 carries tags, v2 does not.
    pub version: OtrVersion,
    /// The sender's instance tag (valid for v3; [`InstanceTag::NONE`] for v2).
    pub sender: InstanceTag,
    /// The receiver's instance tag, possibly [`InstanceTag::NONE`] ("any"); always NONE for v2.
    pub receiver: InstanceTag,
    /// This piece's number, `1..=n`.
    pub k: u16,
    /// How many pieces the message has.
    pub n: u16,
    /// The slice of the encoded message.
    pub piece: &'a str,
}

impl OtrFragment<'_> {
    /// The fragment as we send it (libotr's layout), with one spare byte of capacity for the C
    /// API's NUL.
    pub fn encode(&self) -> String {
        use core::fmt::Write as _;
        let mut out = String::with_capacity(header_len(self.version) + self.piece.len() + 1);
        // Writing to a String cannot fail.
        let _ = match self.version {
            OtrVersion::V3 => write!(
                out,
                "{OTR_V3_FRAGMENT_PREFIX}{:08x}|{:08x},{:05},{:05},{},",
                self.sender.0, self.receiver.0, self.k, self.n, self.piece
            ),
            OtrVersion::V2 => write!(out, "{OTR_V2_FRAGMENT_PREFIX}{:05},{:05},{},", self.k, self.n, self.piece),
        };
        out
    }
}

/// Splits `s` at the first `sep`, or fails naming `what`.
fn field<'a>(s: &'a str, sep: char, what: &'static str) -> Result<(&'a str, &'a str), TextError> {
    s.split_once(sep).ok_or(TextError::MalformedFragment(what))
}

/// An instance tag: 1 to [`MAX_HEX_DIGITS`] hex digits of either case, value within 32 bits.
fn hex_tag(s: &str) -> Result<InstanceTag, TextError> {
    const BAD: TextError = TextError::MalformedFragment("bad instance tag");
    if s.is_empty() || s.len() > MAX_HEX_DIGITS || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BAD);
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 8 {
        return Err(BAD);
    }
    if digits.is_empty() {
        return Ok(InstanceTag::NONE);
    }
    u32::from_str_radix(digits, 16).map(InstanceTag).map_err(|_| BAD)
}

/// `k` or `n`: 1 to [`MAX_DECIMAL_DIGITS`] ASCII digits, value at most 65535.
fn number(s: &str, what: &'static str) -> Result<u16, TextError> {
    if s.is_empty() || s.len() > MAX_DECIMAL_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TextError::MalformedFragment(what));
    }
    let value: u64 = s.parse().map_err(|_| TextError::MalformedFragment(what))?;
    u16::try_from(value).map_err(|_| TextError::MalformedFragment("number above 65535"))
}

/// Parses a fragment without checking whom it is addressed to. See [`parse_fragment_for`].
pub fn parse_fragment(message: &str) -> Result<OtrFragment<'_>, TextError> {
    parse(message, None)
}

/// Parses a fragment received by the instance `ours`, making libotr's checks in libotr's order:
/// a v3 receiver tag neither 0 nor `ours` → [`TextError::ForOtherInstance`] (ignored); a sender
/// tag below 0x100 → [`TextError::InvalidSenderTag`] (libotr answers "malformed"); then `k`,
/// `n` and the piece ([`TextError::MalformedFragment`], dropped silently).
pub fn parse_fragment_for(message: &str, ours: InstanceTag) -> Result<OtrFragment<'_>, TextError> {
    parse(message, Some(ours))
}

fn parse(message: &str, ours: Option<InstanceTag>) -> Result<OtrFragment<'_>, TextError> {
    if message.len() > MAX_OTR_ENCODED_LEN {
        return Err(TextError::TooLarge);
    }
    let (start, _) = first_marker(message).ok_or(TextError::MissingMarker)?;
    let at = message.get(start..).ok_or(TextError::MissingMarker)?;
    let (version, sender, receiver, rest) = if let Some(rest) = at.strip_prefix(OTR_V3_FRAGMENT_PREFIX) {
        let (sender, rest) = field(rest, '|', "missing '|' after sender tag")?;
        let (receiver, rest) = field(rest, ',', "missing ',' after receiver tag")?;
        if receiver.contains('|') {
            return Err(TextError::ForeignFragment);
        }
        let (sender, receiver) = (hex_tag(sender)?, hex_tag(receiver)?);
        if ours.is_some_and(|ours| !receiver.is_none() && receiver != ours) {
            return Err(TextError::ForOtherInstance);
        }
        if !sender.is_valid() {
            return Err(TextError::InvalidSenderTag);
        }
        (OtrVersion::V3, sender, receiver, rest)
    } else if let Some(rest) = at.strip_prefix(OTR_V2_FRAGMENT_PREFIX) {
        (OtrVersion::V2, InstanceTag::NONE, InstanceTag::NONE, rest)
    } else {
        return Err(TextError::MissingMarker);
    };
    let (k, rest) = field(rest, ',', "missing ',' after k")?;
    let (n, rest) = field(rest, ',', "missing ',' after n")?;
    let (piece, after) = field(rest, ',', "missing ',' after the piece")?;
    let (k, n) = (number(k, "bad k")?, number(n, "bad n")?);
    if k == 0 {
        return Err(TextError::MalformedFragment("k is zero"));
    }
    if n == 0 {
        return Err(TextError::MalformedFragment("n is zero"));
    }
    if k > n {
        return Err(TextError::MalformedFragment("k greater than n"));
    }
    if piece.is_empty() {
        return Err(TextError::MalformedFragment("empty piece"));
    }
    if !is_armour_text(piece.as_bytes()) {
        return Err(TextError::MalformedFragment("character not allowed in a piece"));
    }
    if !after.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(TextError::MalformedFragment("text after the last ','"));
    }
    Ok(OtrFragment { version, sender, receiver, k, n, piece })
}

/// The header length of fragments we write in `version`.
const fn header_len(version: OtrVersion) -> usize {
    match version {
        OtrVersion::V3 => V3_HEADER_LEN,
        OtrVersion::V2 => V2_HEADER_LEN,
    }
}

/// How many fragments [`split`] makes of an encoded message of `len` characters at `mms` (0 =
/// no limit), or why it cannot.
pub fn fragments_needed(len: usize, mms: usize, version: OtrVersion) -> Result<usize, TextError> {
    // First, whatever the transport: a message no receiver of ours would accept must not go
    // out whole either (it would be lost there as malformed, silently for the sender).
    if len > MAX_OTR_ENCODED_LEN {
        return Err(TextError::TooLarge);
    }
    if mms == 0 || len <= mms {
        return Ok(1);
    }
    let cap = mms.checked_sub(header_len(version)).filter(|&c| c > 0).ok_or(TextError::MaxLenTooSmall)?;
    let n = len.div_ceil(cap);
    if n > usize::from(MAX_OTR_FRAGMENTS) {
        return Err(TextError::TooManyFragments);
    }
    Ok(n)
}

/// Splits an encoded message into fragments of at most `mms` characters each (every one but
/// the last exactly `mms`). `mms` 0 means no limit, as in libotr. A message that fits is
/// returned unchanged as the only element. Refuses to fragment a fragment or anything but an
/// encoded message ([`TextError::NotEncoded`]), an `mms` that leaves no room for a piece
/// ([`TextError::MaxLenTooSmall`]), more than 65535 pieces, and (v3) a sender tag below 0x100
/// or a receiver tag that is neither valid nor 0 ([`TextError::InvalidTag`]).
pub fn split(
    encoded: &str,
    mms: usize,
    version: OtrVersion,
    sender: InstanceTag,
    receiver: InstanceTag,
) -> Result<Vec<String>, TextError> {
    if fragment_form(encoded).is_some() {
        return Err(TextError::NotEncoded);
    }
    let n = fragments_needed(encoded.len(), mms, version)?;
    if n == 1 {
        return Ok(vec![encoded.to_owned()]);
    }
    let encoded_form = encoded.starts_with(OTR_ARMOUR_PREFIX)
        && encoded.ends_with(OTR_ARMOUR_SUFFIX)
        && is_armour_text(encoded.as_bytes());
    if !encoded_form {
        return Err(TextError::NotEncoded);
    }
    if version == OtrVersion::V3 && (!sender.is_valid() || !(receiver.is_valid() || receiver.is_none())) {
        return Err(TextError::InvalidTag);
    }
    let n16 = u16::try_from(n).map_err(|_| TextError::TooManyFragments)?;
    let cap = mms.saturating_sub(header_len(version));
    let mut out = Vec::with_capacity(n);
    let mut pieces = encoded.as_bytes().chunks(cap.max(1));
    for k in 1..=n16 {
        // Pieces are ASCII (checked above), so any byte boundary is a char boundary.
        let piece = pieces.next().and_then(|p| core::str::from_utf8(p).ok()).ok_or(TextError::NotEncoded)?;
        let (sender, receiver) = match version {
            OtrVersion::V3 => (sender, receiver),
            OtrVersion::V2 => (InstanceTag::NONE, InstanceTag::NONE),
        };
        out.push(OtrFragment { version, sender, receiver, k, n: n16, piece }.encode());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: InstanceTag = InstanceTag(0x1234_abcd);
    const B: InstanceTag = InstanceTag(0x100);

    #[test]
    fn header_lengths_are_what_we_write() {
        let f3 = OtrFragment { version: OtrVersion::V3, sender: A, receiver: B, k: 1, n: 2, piece: "" }.encode();
        assert_eq!(f3, "?OTR|1234abcd|00000100,00001,00002,,");
        assert_eq!(f3.len(), V3_HEADER_LEN);
        assert!(f3.capacity() > f3.len(), "room for the C API's NUL");
        let f2 = OtrFragment { version: OtrVersion::V2, sender: A, receiver: B, k: 1, n: 2, piece: "" }.encode();
        assert_eq!(f2, "?OTR,00001,00002,,");
        assert_eq!(f2.len(), V2_HEADER_LEN);
    }

    #[test]
    fn forms() {
        assert_eq!(fragment_form("?OTR|1|2,1,1,A,"), Some(FragmentForm::V3));
        assert_eq!(fragment_form("?OTR,1,1,A,"), Some(FragmentForm::V2));
        assert_eq!(fragment_form("?OTR|1|2|3,1,1,A,"), Some(FragmentForm::V4));
        // The bars are looked for over a whole header's length (three fields of the longest
        // hex and their separators, 51 characters): a second bar 45 characters in still counts.
        let long_fields = format!("?OTR|{}|{}|3,1,1,A,", "1".repeat(22), "2".repeat(22));
        assert_eq!(fragment_form(&long_fields), Some(FragmentForm::V4));
        // ...and a bar beyond those 51 characters does not.
        let past_header = format!("?OTR|{}|{}|3,1,1,A,", "1".repeat(30), "2".repeat(30));
        assert_eq!(fragment_form(&past_header), Some(FragmentForm::V3));
        assert_eq!(fragment_form("hi ?OTR|1|2,1,1,A,"), Some(FragmentForm::V3));
        assert_eq!(fragment_form("?OTRv3? ?OTR|1|2,1,1,A,"), None);
        assert_eq!(fragment_form("?OTR:AAMD."), None);
        assert_eq!(fragment_form("?OFR|1|2|3,1,1,A,"), None);
    }

    #[test]
    fn libotr_layout_parses() {
        let p = parse_fragment("?OTR|1234abcd|00000100,00002,00003,QUJD,").unwrap();
        assert_eq!((p.version, p.sender, p.receiver, p.k, p.n, p.piece), (OtrVersion::V3, A, B, 2, 3, "QUJD"));
        let p = parse_fragment("?OTR,00001,00002,?OTR:AA,").unwrap();
        assert_eq!((p.version, p.sender, p.k, p.n, p.piece), (OtrVersion::V2, InstanceTag::NONE, 1, 2, "?OTR:AA"));
    }

    #[test]
    fn lenient_where_libotr_is() {
        for m in [
            "?OTR|1234ABCD|100,1,3,QUJD,",
            "?OTR|00000001234abcd|0000000000000100,0000000001,3,QUJD,",
            "?OTR|1234abCD|0,01,003,QUJD,",
            "some text ?OTR|1234abcd|100,1,3,QUJD,",
            "?OTR|1234abcd|100,1,3,QUJD,\r\n",
        ] {
            let p = parse_fragment(m).unwrap_or_else(|e| panic!("{m}: {e}"));
            assert_eq!((p.sender, p.k, p.n, p.piece), (A, 1, 3, "QUJD"), "{m}");
        }
    }

    #[test]
    fn rejections() {
        let bad = |m: &str| parse_fragment(m).unwrap_err();
        let mal = |m: &str| assert!(matches!(bad(m), TextError::MalformedFragment(_)), "{m}");
        mal("?OTR|100|100,0,2,AAAA,");
        mal("?OTR|100|100,1,0,AAAA,");
        mal("?OTR|100|100,3,2,AAAA,");
        mal("?OTR|100|100,1,2,,");
        mal("?OTR|100|100,1,65536,AAAA,");
        mal("?OTR|100|100,1,65537,AAAA,");
        mal("?OTR|100|100,1,00000000001,AAAA,");
        mal("?OTR,0,2,AAAA,");
        mal("?OTR,1,2,,");
        mal("?OTR,2,1,AAAA,");
        mal("?OTR|100|100,+1,2,AAAA,");
        mal("?OTR|0x100|100,1,2,AAAA,");
        mal("?OTR|100|100,1,2,AA AA,");
        mal("?OTR|100|100,1,2,AAAA");
        mal("?OTR|100|100,1,2,AAAA,x");
        mal("?OTR|100|100,1,2,AA-A,");
        mal("?OTR|100|1000000000,1,2,AAAA,");
        mal("?OTR|100|100000000000000000,1,2,AAAA,");
        mal("?OTR|100|00000000000000100,1,2,AAAA,"); // 17 digits, though the value fits
        mal("?OTR|100100,1,2,AAAA,");
        mal("?OTR|g|100,1,2,AAAA,");
        assert_eq!(bad("?OTR|ff|100,1,2,AAAA,"), TextError::InvalidSenderTag);
        assert_eq!(bad("?OTR|0|100,1,2,AAAA,"), TextError::InvalidSenderTag);
        assert_eq!(bad("?OTR|1|2|3,1,2,AAAA,"), TextError::ForeignFragment);
        assert_eq!(bad("?OTRv3?"), TextError::MissingMarker);
        assert_eq!(bad("nothing"), TextError::MissingMarker);
        let huge = format!("?OTR,1,2,{},", "A".repeat(MAX_OTR_ENCODED_LEN));
        assert_eq!(bad(&huge), TextError::TooLarge);
        // The limit is inclusive: a fragment of exactly MAX_OTR_ENCODED_LEN bytes is read.
        let frame = "?OTR,1,2,,".len();
        let largest = format!("?OTR,1,2,{},", "A".repeat(MAX_OTR_ENCODED_LEN - frame));
        assert_eq!(largest.len(), MAX_OTR_ENCODED_LEN);
        assert_eq!(parse_fragment(&largest).unwrap().piece.len(), MAX_OTR_ENCODED_LEN - frame);
        let over = format!("?OTR,1,2,{},", "A".repeat(MAX_OTR_ENCODED_LEN - frame + 1));
        assert_eq!(bad(&over), TextError::TooLarge);
        assert!(parse_fragment("?OTR|100|100,1,65535,AAAA,").is_ok());
    }

    #[test]
    fn receiver_is_checked_before_sender_as_in_libotr() {
        let ours = InstanceTag(0x200);
        assert_eq!(parse_fragment_for("?OTR|ff|300,1,2,AAAA,", ours), Err(TextError::ForOtherInstance));
        assert_eq!(parse_fragment_for("?OTR|ff|200,1,2,AAAA,", ours), Err(TextError::InvalidSenderTag));
        assert!(parse_fragment_for("?OTR|100|200,1,2,AAAA,", ours).is_ok());
        assert!(parse_fragment_for("?OTR|100|0,1,2,AAAA,", ours).is_ok());
        assert!(parse_fragment("?OTR|100|300,1,2,AAAA,").is_ok());
    }

    #[test]
    fn split_sizes_and_round_trip() {
        let m = crate::otr::text::armour::encode(&[7u8; 700]);
        for (version, mms) in [(OtrVersion::V3, 37), (OtrVersion::V3, 100), (OtrVersion::V2, 19), (OtrVersion::V2, 417)]
        {
            let frags = split(&m, mms, version, A, B).unwrap();
            assert_eq!(frags.len(), fragments_needed(m.len(), mms, version).unwrap());
            assert!(frags.iter().all(|f| f.len() <= mms));
            assert!(frags[..frags.len() - 1].iter().all(|f| f.len() == mms));
            let parsed: Vec<_> = frags.iter().map(|f| parse_fragment(f).unwrap()).collect();
            assert!(parsed
                .iter()
                .enumerate()
                .all(|(i, p)| usize::from(p.k) == i + 1 && usize::from(p.n) == frags.len()));
            assert_eq!(parsed.iter().map(|p| p.piece).collect::<String>(), m);
        }
    }

    #[test]
    fn split_refusals() {
        let m = crate::otr::text::armour::encode(&[7u8; 300]);
        assert_eq!(split(&m, 36, OtrVersion::V3, A, B), Err(TextError::MaxLenTooSmall));
        assert_eq!(split(&m, 18, OtrVersion::V2, A, B), Err(TextError::MaxLenTooSmall));
        assert_eq!(split(&m, 0, OtrVersion::V3, A, B).unwrap(), vec![m.clone()]);
        assert_eq!(split(&m, m.len(), OtrVersion::V3, A, B).unwrap(), vec![m.clone()]);
        let frag = split(&m, 100, OtrVersion::V3, A, B).unwrap().remove(0);
        assert_eq!(split(&frag, 1000, OtrVersion::V3, A, B), Err(TextError::NotEncoded));
        assert_eq!(split(&frag, 50, OtrVersion::V3, A, B), Err(TextError::NotEncoded));
        assert_eq!(split(&"x".repeat(200), 50, OtrVersion::V3, A, B), Err(TextError::NotEncoded));
        assert_eq!(split(&m, 50, OtrVersion::V3, InstanceTag(5), B), Err(TextError::InvalidTag));
        assert_eq!(split(&m, 50, OtrVersion::V3, A, InstanceTag(5)), Err(TextError::InvalidTag));
        assert!(split(&m, 50, OtrVersion::V2, InstanceTag(5), InstanceTag(5)).is_ok());
        let big = format!("?OTR:{}.", "A".repeat(70_000));
        assert_eq!(split(&big, 37, OtrVersion::V3, A, B), Err(TextError::TooManyFragments));
        // One character a fragment: exactly the most fragments a header can number, and one more.
        let most = usize::from(MAX_OTR_FRAGMENTS);
        let one_each = V3_HEADER_LEN + 1;
        assert_eq!(fragments_needed(most, one_each, OtrVersion::V3), Ok(most));
        assert_eq!(fragments_needed(most + 1, one_each, OtrVersion::V3), Err(TextError::TooManyFragments));
        let huge = format!("?OTR:{}.", "A".repeat(MAX_OTR_ENCODED_LEN));
        assert_eq!(split(&huge, 1000, OtrVersion::V3, A, B), Err(TextError::TooLarge));
    }

    #[test]
    fn a_message_no_receiver_accepts_is_refused_whatever_the_transport_limit() {
        // Receivers refuse anything longer than MAX_OTR_ENCODED_LEN, so it must not go whole
        // either: not without a limit (0), not under a limit it fits.
        let over = MAX_OTR_ENCODED_LEN + 1;
        for mms in [0, over, usize::MAX] {
            assert_eq!(fragments_needed(over, mms, OtrVersion::V3), Err(TextError::TooLarge), "limit {mms}");
            assert_eq!(fragments_needed(MAX_OTR_ENCODED_LEN, mms, OtrVersion::V3), Ok(1), "limit {mms}");
        }
        let huge = format!("?OTR:{}.", "A".repeat(MAX_OTR_ENCODED_LEN));
        assert_eq!(split(&huge, 0, OtrVersion::V2, A, B), Err(TextError::TooLarge));
    }
}
