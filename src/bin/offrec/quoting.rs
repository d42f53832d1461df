//! Arguments of chat commands that may hold spaces: `/smp "my secret" what is our dog's name?`.
//!
//! A word that starts with `"` or `'` runs to the matching quote (inside double quotes, `\"`
//! and `\\` stand for `"` and `\`; single quotes take everything as typed). Any other word runs
//! to the next space and is taken as typed, apostrophes included. The last argument of a
//! command is the rest of the line: as typed, or unquoted if it is one quoted word.

/// Why a line's quoting is wrong.
#[derive(Debug, PartialEq, Eq)]
pub enum QuoteError {
    /// A quote was opened and never closed.
    Unclosed(char),
    /// Text follows a closing quote without a space.
    TextAfterQuote,
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Unclosed(quote) => write!(f, "the quote {quote} is not closed"),
            QuoteError::TextAfterQuote => write!(f, "put a space after a closing quote"),
        }
    }
}

/// The first word of `text` and what follows it; `None` if `text` is blank.
pub fn first_word(text: &str) -> Result<Option<(String, &str)>, QuoteError> {
    let text = text.trim_start();
    let Some(first) = text.chars().next() else { return Ok(None) };
    if first != '"' && first != '\'' {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        return Ok(Some((text[..end].to_owned(), &text[end..])));
    }
    let mut word = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        if c == first {
            let rest = &text[at + c.len_utf8()..];
            if rest.starts_with(|c: char| !c.is_whitespace()) {
                return Err(QuoteError::TextAfterQuote);
            }
            return Ok(Some((word, rest)));
        }
        if c == '\\' && first == '"' {
            match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => word.push(escaped),
                Some((_, other)) => {
                    word.push('\\');
                    word.push(other);
                }
                None => break,
            }
            continue;
        }
        word.push(c);
    }
    Err(QuoteError::Unclosed(first))
}

/// The rest of a line as one argument: unquoted if it is exactly one quoted word, otherwise as
/// typed (without surrounding spaces).
pub fn rest_argument(text: &str) -> String {
    let text = text.trim();
    if text.starts_with(['"', '\'']) {
        if let Ok(Some((word, rest))) = first_word(text) {
            if rest.trim().is_empty() {
                return word;
            }
        }
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> (String, String) {
        let (word, rest) = first_word(text).unwrap().unwrap();
        (word, rest.to_owned())
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(first("  sesame open"), ("sesame".into(), " open".into()));
        assert_eq!(first("\"my secret\" what is it?"), ("my secret".into(), " what is it?".into()));
        assert_eq!(first("'a \"b\"' c"), ("a \"b\"".into(), " c".into()));
        assert_eq!(first(r#""say \"hi\" \\ \n" x"#), (r#"say "hi" \ \n"#.into(), " x".into()));
        assert_eq!(first("dog's name"), ("dog's".into(), " name".into()), "an apostrophe inside a word is text");
        assert_eq!(first_word("   ").unwrap(), None);
        assert_eq!(first_word("\"open").unwrap_err(), QuoteError::Unclosed('"'));
        assert_eq!(first_word("\"a\"b").unwrap_err(), QuoteError::TextAfterQuote);
    }

    #[test]
    fn the_rest_of_a_line() {
        assert_eq!(rest_argument(" \"what is our dog's name?\" "), "what is our dog's name?");
        assert_eq!(rest_argument("what's our dog's name?"), "what's our dog's name?");
        assert_eq!(rest_argument("blue  moon"), "blue  moon");
        assert_eq!(rest_argument("\"a\" and \"b\""), "\"a\" and \"b\"");
        assert_eq!(rest_argument("'unclosed"), "'unclosed");
        assert_eq!(rest_argument(""), "");
    }
}
