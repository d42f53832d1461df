//! A reader for libgcrypt's s-expressions, the syntax of libotr's `otr.private_key`.
//!
//! It reads bytes (old key files hold raw 8-bit bytes inside quoted strings) in both of
//! libgcrypt's encodings, canonical and advanced: lists `( … )`; atoms as tokens (`prpl-jabber`),
//! quoted strings with every escape libgcrypt knows (`\b \t \v \n \f \r \" \' \\`, `\ooo`,
//! `\xHH`, backslash-newline), hex `#…#` (white space allowed inside), base64 `|…|` and
//! verbatim `N:bytes`; a length before `"`, `#` or `|` is ignored, as libgcrypt ignores it.
//!
//! It is built for hostile files: the parser keeps its own stack (no recursion), and nesting,
//! atom length and node count are capped ([`MAX_DEPTH`], [`MAX_ATOM_LEN`], [`MAX_NODES`]), so a
//! file cannot exhaust the stack or memory. Atoms are wiped on drop (one of them is a private
//! key). Stricter than libgcrypt where libotr never writes the construct: display hints
//! (`[…]`) are refused, and the file must hold exactly one list.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use zeroize::Zeroizing;

/// Deepest nesting accepted. libotr's files nest 5 deep.
pub const MAX_DEPTH: usize = 32;
/// Longest atom accepted, decoded. A DSA-1024 value is 129 bytes; names are at most 1024.
pub const MAX_ATOM_LEN: usize = 4096;
/// Most atoms and lists in one expression (an account takes 17).
pub const MAX_NODES: usize = 65_536;

/// One atom's bytes, wiped on drop (never printed: one atom is the private key).
#[derive(Clone, PartialEq, Eq)]
pub struct Atom(Zeroizing<Vec<u8>>);

impl Atom {
    /// The atom's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atom({} bytes)", self.0.len())
    }
}

/// A list, with where it sits in the input (so a writer can copy it unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The elements.
    pub items: Vec<Sexp>,
    /// Offset of the `(`.
    pub start: usize,
    /// Offset just after the `)`.
    pub end: usize,
}

/// An s-expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sexp {
    /// A string of bytes.
    Atom(Atom),
    /// A list.
    List(List),
}

impl List {
    /// The first element if it is an atom (a list's "name", as `privkeys` or `dsa`).
    pub fn head(&self) -> Option<&[u8]> {
        self.atom(0)
    }

    /// Element `index` if it is an atom.
    pub fn atom(&self, index: usize) -> Option<&[u8]> {
        match self.items.get(index) {
            Some(Sexp::Atom(atom)) => Some(atom.bytes()),
            _ => None,
        }
    }

    /// The first list named `token`, searching this list and everything inside it in document
    /// order, as libgcrypt's `gcry_sexp_find_token` does. Depth is capped by the parser, so the
    /// recursion is bounded.
    pub fn find(&self, token: &[u8]) -> Option<&List> {
        if self.head() == Some(token) {
            return Some(self);
        }
        self.items.iter().find_map(|item| match item {
            Sexp::List(list) => list.find(token),
            Sexp::Atom(_) => None,
        })
    }
}

/// What is wrong with the input, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SexpError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// The problem.
    pub kind: SexpErrorKind,
}

/// The kinds of syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SexpErrorKind {
    /// Nothing but white space.
    Empty,
    /// The input ends inside a list, string, hex or base64 atom, or verbatim atom.
    UnexpectedEnd,
    /// A `)` with no open list.
    UnmatchedClose,
    /// Something other than one list at the top level.
    NotOneList,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An atom longer than [`MAX_ATOM_LEN`].
    AtomTooLong,
    /// More than [`MAX_NODES`] atoms and lists.
    TooManyNodes,
    /// A byte that cannot appear here.
    BadCharacter,
    /// An unknown or incomplete backslash escape in a quoted string.
    BadEscape,
    /// A hex atom with an odd number of digits.
    OddHex,
    /// A non-hex character inside `#…#`.
    BadHex,
    /// Invalid base64 inside `|…|`.
    BadBase64,
    /// A length prefix that starts with 0 or is followed by something unexpected.
    BadLength,
    /// A display hint (`[…]`), which libotr never writes.
    DisplayHint,
}

impl fmt::Display for SexpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SexpErrorKind::Empty => "the file is empty",
            SexpErrorKind::UnexpectedEnd => "the file ends in the middle of an expression (truncated?)",
            SexpErrorKind::UnmatchedClose => "a ')' closes nothing",
            SexpErrorKind::NotOneList => "expected exactly one parenthesised list",
            SexpErrorKind::TooDeep => "lists nested too deeply",
            SexpErrorKind::AtomTooLong => "a value is too long",
            SexpErrorKind::TooManyNodes => "too many elements",
            SexpErrorKind::BadCharacter => "unexpected character",
            SexpErrorKind::BadEscape => "bad escape in a quoted string",
            SexpErrorKind::OddHex => "odd number of hex digits",
            SexpErrorKind::BadHex => "bad character in a hex value",
            SexpErrorKind::BadBase64 => "bad base64 value",
            SexpErrorKind::BadLength => "bad length prefix",
            SexpErrorKind::DisplayHint => "display hints are not supported",
        };
        write!(f, "byte {}: {what}", self.offset)
    }
}

impl std::error::Error for SexpError {}

/// libgcrypt's white space.
pub(crate) fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The characters of a token besides letters and digits (libgcrypt's `TOKEN_SPECIALS`).
pub(crate) const TOKEN_SPECIALS: &[u8] = b"-./_:*+=";

/// Whether `byte` may appear in a token.
pub(crate) fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || TOKEN_SPECIALS.contains(&byte)
}

/// Parses exactly one list (white space around it allowed).
pub fn parse(input: &[u8]) -> Result<List, SexpError> {
    Parser { input, pos: 0, nodes: 0, stack: Vec::new(), done: None }.run()
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    nodes: usize,
    /// Open lists, innermost last.
    stack: Vec<List>,
    /// The finished top-level list.
    done: Option<List>,
}

impl Parser<'_> {
    fn error(&self, offset: usize, kind: SexpErrorKind) -> SexpError {
        SexpError { offset, kind }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn run(mut self) -> Result<List, SexpError> {
        while let Some(byte) = self.peek() {
            let at = self.pos;
            if is_space(byte) {
                self.pos += 1;
                continue;
            }
            if byte == b')' && self.stack.is_empty() {
                return Err(self.error(at, SexpErrorKind::UnmatchedClose));
            }
            if self.done.is_some() {
                return Err(self.error(at, SexpErrorKind::NotOneList));
            }
            match byte {
                b'(' => self.open(at)?,
                b')' => self.close(at)?,
                _ => {
                    if self.stack.is_empty() {
                        return Err(self.error(at, SexpErrorKind::NotOneList));
                    }
                    let atom = self.atom()?;
                    self.push(Sexp::Atom(Atom(atom)), at)?;
                }
            }
        }
        match self.done {
            Some(list) => Ok(list),
            None if self.stack.is_empty() => Err(self.error(self.pos, SexpErrorKind::Empty)),
            None => Err(self.error(self.pos, SexpErrorKind::UnexpectedEnd)),
        }
    }

    fn count_node(&mut self, at: usize) -> Result<(), SexpError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error(at, SexpErrorKind::TooManyNodes));
        }
        Ok(())
    }

    fn open(&mut self, at: usize) -> Result<(), SexpError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(at, SexpErrorKind::TooDeep));
        }
        self.count_node(at)?;
        self.stack.push(List { items: Vec::new(), start: at, end: at });
        self.pos += 1;
        Ok(())
    }

    fn close(&mut self, at: usize) -> Result<(), SexpError> {
        let Some(mut list) = self.stack.pop() else {
            return Err(self.error(at, SexpErrorKind::UnmatchedClose));
        };
        self.pos += 1;
        list.end = self.pos;
        match self.stack.last_mut() {
            Some(parent) => parent.items.push(Sexp::List(list)),
            None => self.done = Some(list),
        }
        Ok(())
    }

    fn push(&mut self, item: Sexp, at: usize) -> Result<(), SexpError> {
        self.count_node(at)?;
        match self.stack.last_mut() {
            Some(parent) => {
                parent.items.push(item);
                Ok(())
            }
            None => Err(self.error(at, SexpErrorKind::NotOneList)),
        }
    }

    /// One atom in any encoding, starting at `self.pos`.
    fn atom(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let at = self.pos;
        let Some(first) = self.peek() else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
        match first {
            b'"' => self.quoted(),
            b'#' => self.hex(),
            b'|' => self.base64(),
            b'1'..=b'9' => self.length_prefixed(),
            b'0' => Err(self.error(at, SexpErrorKind::BadLength)),
            b'[' | b']' => Err(self.error(at, SexpErrorKind::DisplayHint)),
            byte if is_token_char(byte) => self.token(),
            _ => Err(self.error(at, SexpErrorKind::BadCharacter)),
        }
    }

    fn token(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_char) {
            self.pos += 1;
        }
        if self.pos - start > MAX_ATOM_LEN {
            return Err(self.error(start, SexpErrorKind::AtomTooLong));
        }
        Ok(Zeroizing::new(self.input.get(start..self.pos).unwrap_or_default().to_vec()))
    }

    /// `N:bytes`, or a length before `"`, `#` or `|` (ignored, as libgcrypt ignores it).
    fn length_prefixed(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let at = self.pos;
        let mut length: usize = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            length = length
                .checked_mul(10)
                .and_then(|l| l.checked_add(usize::from(digit - b'0')))
                .filter(|&l| l <= MAX_ATOM_LEN)
                .ok_or(self.error(at, SexpErrorKind::AtomTooLong))?;
            self.pos += 1;
        }
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                let start = self.pos;
                let end = start.checked_add(length).filter(|&end| end <= self.input.len());
                let Some(end) = end else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
                self.pos = end;
                Ok(Zeroizing::new(self.input.get(start..end).unwrap_or_default().to_vec()))
            }
            Some(b'"') => self.quoted(),
            Some(b'#') => self.hex(),
            Some(b'|') => self.base64(),
            None => Err(self.error(self.pos, SexpErrorKind::UnexpectedEnd)),
            Some(_) => Err(self.error(self.pos, SexpErrorKind::BadLength)),
        }
    }

    fn append(&self, out: &mut Vec<u8>, byte: u8, at: usize) -> Result<(), SexpError> {
        if out.len() >= MAX_ATOM_LEN {
            return Err(self.error(at, SexpErrorKind::AtomTooLong));
        }
        out.push(byte);
        Ok(())
    }

    /// `"…"` with libgcrypt's escapes; raw bytes (8-bit, control, newlines) are kept as they are.
    fn quoted(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let at = self.pos;
        self.pos += 1; // the opening quote
        let mut out = Zeroizing::new(Vec::new());
        loop {
            let Some(byte) = self.peek() else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
            self.pos += 1;
            match byte {
                b'"' => return Ok(out),
                b'\\' => {
                    if let Some(value) = self.escape()? {
                        self.append(&mut out, value, at)?;
                    }
                }
                other => self.append(&mut out, other, at)?,
            }
        }
    }

    /// The escape after a backslash: its byte, or `None` for a line continuation.
    fn escape(&mut self) -> Result<Option<u8>, SexpError> {
        let at = self.pos;
        let Some(byte) = self.peek() else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
        self.pos += 1;
        let simple = match byte {
            b'b' => Some(0x08),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'n' => Some(b'\n'),
            b'f' => Some(0x0c),
            b'r' => Some(b'\r'),
            b'"' | b'\'' | b'\\' => Some(byte),
            _ => None,
        };
        if let Some(value) = simple {
            return Ok(Some(value));
        }
        match byte {
            b'0'..=b'7' => {
                let digits = self.input.get(self.pos..self.pos + 2).unwrap_or_default();
                if digits.len() != 2 || !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    return Err(self.error(at, SexpErrorKind::BadEscape));
                }
                let value = digits.iter().fold(u32::from(byte - b'0'), |acc, d| acc * 8 + u32::from(d - b'0'));
                self.pos += 2;
                u8::try_from(value).map(Some).map_err(|_| self.error(at, SexpErrorKind::BadEscape))
            }
            b'x' => {
                let digits = self.input.get(self.pos..self.pos + 2).unwrap_or_default();
                let value = std::str::from_utf8(digits).ok().filter(|d| d.len() == 2).and_then(|d| {
                    d.bytes().all(|c| c.is_ascii_hexdigit()).then(|| u8::from_str_radix(d, 16).ok()).flatten()
                });
                let Some(value) = value else { return Err(self.error(at, SexpErrorKind::BadEscape)) };
                self.pos += 2;
                Ok(Some(value))
            }
            // Backslash-newline: a line continuation (CR LF and LF CR count as one newline).
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
                Ok(None)
            }
            b'\n' => {
                if self.peek() == Some(b'\r') {
                    self.pos += 1;
                }
                Ok(None)
            }
            _ => Err(self.error(at, SexpErrorKind::BadEscape)),
        }
    }

    /// `#…#`: hex digits, white space allowed between them.
    fn hex(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let at = self.pos;
        self.pos += 1;
        let mut out = Zeroizing::new(Vec::new());
        let mut high: Option<u8> = None;
        loop {
            let Some(byte) = self.peek() else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
            let here = self.pos;
            self.pos += 1;
            if byte == b'#' {
                if high.is_some() {
                    return Err(self.error(here, SexpErrorKind::OddHex));
                }
                return Ok(out);
            }
            if is_space(byte) {
                continue;
            }
            let Some(nibble) = (byte as char).to_digit(16) else {
                return Err(self.error(here, SexpErrorKind::BadHex));
            };
            // to_digit(16) is below 16, so this fits a byte.
            let nibble = nibble as u8;
            match high.take() {
                None => high = Some(nibble),
                Some(h) => self.append(&mut out, (h << 4) | nibble, at)?,
            }
        }
    }

    /// `|…|`: standard base64 (padding optional), no white space, as libgcrypt reads it.
    fn base64(&mut self) -> Result<Zeroizing<Vec<u8>>, SexpError> {
        let at = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            let Some(byte) = self.peek() else { return Err(self.error(at, SexpErrorKind::UnexpectedEnd)) };
            if byte == b'|' {
                break;
            }
            if !(byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')) {
                return Err(self.error(self.pos, SexpErrorKind::BadBase64));
            }
            self.pos += 1;
            // Four characters make three bytes: refuse early what cannot fit the cap.
            if (self.pos - start) / 4 * 3 > MAX_ATOM_LEN + 3 {
                return Err(self.error(at, SexpErrorKind::AtomTooLong));
            }
        }
        let text = self.input.get(start..self.pos).unwrap_or_default();
        self.pos += 1; // the closing bar
        let engine = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let decoded = Zeroizing::new(engine.decode(text).map_err(|_| self.error(at, SexpErrorKind::BadBase64))?);
        if decoded.len() > MAX_ATOM_LEN {
            return Err(self.error(at, SexpErrorKind::AtomTooLong));
        }
        Ok(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms(list: &List) -> Vec<Vec<u8>> {
        list.items
            .iter()
            .map(|item| match item {
                Sexp::Atom(atom) => atom.bytes().to_vec(),
                Sexp::List(_) => b"<list>".to_vec(),
            })
            .collect()
    }

    fn kind(input: &[u8]) -> SexpErrorKind {
        parse(input).unwrap_err().kind
    }

    #[test]
    fn every_atom_encoding() {
        let input: &[u8] = b" (tok \"q\\\"\\\\\\n\\t\\x41\\101\" #41 42\n43# |QUJD| 3:a)b 5\"xy\" 2#4142#  ) ";
        let list = parse(input).unwrap();
        assert_eq!(
            atoms(&list),
            vec![
                b"tok".to_vec(),
                b"q\"\\\n\tAA".to_vec(),
                b"ABC".to_vec(),
                b"ABC".to_vec(),
                b"a)b".to_vec(),
                b"xy".to_vec(),
                b"AB".to_vec(),
            ]
        );
        assert_eq!((list.start, list.end), (1, input.len() - 1));
    }

    #[test]
    fn all_escapes_and_raw_bytes() {
        let list = parse(b"(\"\\b\\t\\v\\n\\f\\r\\'\\\"\\\\a\\\nb\\\r\nc\xc3\xa9\x01\")").unwrap();
        assert_eq!(atoms(&list), vec![b"\x08\t\x0b\n\x0c\r'\"\\abc\xc3\xa9\x01".to_vec()]);
        // LF CR after a backslash is one line break too; a second break is kept as it is.
        assert_eq!(atoms(&parse(b"(\"a\\\n\rb\\\r\n\nc\")").unwrap()), vec![b"ab\nc".to_vec()]);
        assert_eq!(kind(b"(\"\\q\")"), SexpErrorKind::BadEscape);
        assert_eq!(kind(b"(\"\\x4\")"), SexpErrorKind::BadEscape);
        assert_eq!(kind(b"(\"\\18\")"), SexpErrorKind::BadEscape);
        assert_eq!(kind(b"(\"\\777\")"), SexpErrorKind::BadEscape);
    }

    #[test]
    fn nested_lists_and_find() {
        let list = parse(b"(privkeys (account (name a) (private-key (dsa (p #01#)))))").unwrap();
        assert_eq!(list.head(), Some(&b"privkeys"[..]));
        let dsa = list.find(b"dsa").unwrap();
        assert_eq!(dsa.find(b"p").unwrap().atom(1), Some(&[1u8][..]));
        assert!(list.find(b"q").is_none());
        assert_eq!(list.find(b"privkeys"), Some(&list));
    }

    #[test]
    fn refuses_malformed_input() {
        assert_eq!(kind(b""), SexpErrorKind::Empty);
        assert_eq!(kind(b"  \n"), SexpErrorKind::Empty);
        assert_eq!(kind(b"(a"), SexpErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"(a \"b)"), SexpErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"(a #01)"), SexpErrorKind::BadHex);
        assert_eq!(kind(b"(a #012#)"), SexpErrorKind::OddHex);
        assert_eq!(kind(b"(a |QU JD|)"), SexpErrorKind::BadBase64);
        assert_eq!(kind(b"(a |Q|)"), SexpErrorKind::BadBase64);
        assert_eq!(kind(b"(a 5:ab)"), SexpErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"(a 05:abcde)"), SexpErrorKind::BadLength);
        assert_eq!(kind(b"(a 5x)"), SexpErrorKind::BadLength);
        assert_eq!(kind(b"(a))"), SexpErrorKind::UnmatchedClose);
        assert_eq!(kind(b"(a)(b)"), SexpErrorKind::NotOneList);
        assert_eq!(kind(b"a (b)"), SexpErrorKind::NotOneList);
        assert_eq!(kind(b"(a [hint] b)"), SexpErrorKind::DisplayHint);
        assert_eq!(kind(b"(a {b})"), SexpErrorKind::BadCharacter);
        assert_eq!(kind(b"(a \0)"), SexpErrorKind::BadCharacter);
    }

    #[test]
    fn caps_hold_without_recursion() {
        let deep = [vec![b'('; 10_000], vec![b')'; 10_000]].concat();
        let error = parse(&deep).unwrap_err();
        assert_eq!((error.kind, error.offset), (SexpErrorKind::TooDeep, MAX_DEPTH));
        let ok = [vec![b'('; MAX_DEPTH], vec![b')'; MAX_DEPTH]].concat();
        assert!(parse(&ok).is_ok());

        let huge = [&b"(x #"[..], &vec![b'A'; 2 * 1024 * 1024], b"#)"].concat();
        assert_eq!(kind(&huge), SexpErrorKind::AtomTooLong);
        let huge_b64 = [&b"(x |"[..], &vec![b'A'; 2 * 1024 * 1024], b"|)"].concat();
        assert_eq!(kind(&huge_b64), SexpErrorKind::AtomTooLong);
        assert_eq!(kind(b"(x 99999999999999999999999:a)"), SexpErrorKind::AtomTooLong);
        let quoted = [&b"(x \""[..], &vec![b'a'; MAX_ATOM_LEN + 1], b"\")"].concat();
        assert_eq!(kind(&quoted), SexpErrorKind::AtomTooLong);

        let long_token = [&b"(x "[..], &vec![b'a'; MAX_ATOM_LEN + 1], b")"].concat();
        assert_eq!(kind(&long_token), SexpErrorKind::AtomTooLong);
        let longest_token = [&b"(x "[..], &vec![b'a'; MAX_ATOM_LEN], b")"].concat();
        assert_eq!(parse(&longest_token).unwrap().atom(1).map(<[u8]>::len), Some(MAX_ATOM_LEN));

        let many = [&b"("[..], &b"a ".repeat(MAX_NODES + 1), b")"].concat();
        assert_eq!(kind(&many), SexpErrorKind::TooManyNodes);
        // Exactly MAX_NODES (the list and MAX_NODES - 1 atoms) is still accepted.
        let most = [&b"("[..], &b"a ".repeat(MAX_NODES - 1), b")"].concat();
        assert_eq!(parse(&most).unwrap().items.len(), MAX_NODES - 1);
    }

    /// Base64 atoms: exactly MAX_ATOM_LEN decoded bytes pass, one more is refused, and a run of
    /// base64 too long to fit the cap is refused as it is read, before its end is even found.
    #[test]
    fn base64_atoms_are_capped_as_they_are_read() {
        use base64::engine::general_purpose::STANDARD;
        let atom =
            |decoded_len: usize| [&b"(x |"[..], STANDARD.encode(vec![7u8; decoded_len]).as_bytes(), b"|)"].concat();
        assert_eq!(parse(&atom(MAX_ATOM_LEN)).unwrap().atom(1).map(<[u8]>::len), Some(MAX_ATOM_LEN));
        let error = parse(&atom(MAX_ATOM_LEN + 1)).unwrap_err();
        assert_eq!((error.kind, error.offset), (SexpErrorKind::AtomTooLong, 3));
        // 4 * 1366 characters may still decode to MAX_ATOM_LEN bytes; 4 * 1367 cannot.
        let unterminated = |chars: usize| [&b"(x |"[..], &vec![b'A'; chars]].concat();
        assert_eq!(kind(&unterminated(4 * 1367 - 1)), SexpErrorKind::UnexpectedEnd);
        let error = parse(&unterminated(4 * 1367)).unwrap_err();
        assert_eq!((error.kind, error.offset), (SexpErrorKind::AtomTooLong, 3));
    }

    #[test]
    fn debug_never_shows_atom_bytes() {
        let list = parse(b"(x #DEADBEEF#)").unwrap();
        let text = format!("{list:?}");
        assert!(!text.contains("222") && !text.to_ascii_lowercase().contains("dead"), "{text}");
        assert!(text.contains("4 bytes"));
    }
}
