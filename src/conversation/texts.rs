//! The human-readable texts a client sends, settable by the application (localisation): the
//! explanation after our query message, and the words of the OTR error messages libotr-based
//! clients show their users. offrec's own error messages are machine-readable reports
//! (PROTOCOL.md §4.2, §9.8) that the peer's offrec turns into events its application words
//! itself, so they are not texts here.

use super::error::ClientError;

/// Which text (the C API's `offrec_text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum TextKind {
    /// The sentence after `?OTRv3? ?OFRv1?` in our query, for people whose program speaks
    /// neither protocol.
    Query = 1,
    /// The text of `?OTR Error:` when an OTR data message could not be read (bad MAC, unknown
    /// keys, old counter).
    OtrUnreadable = 2,
    /// The text of `?OTR Error:` when OTR data arrives with no OTR session for it.
    OtrNotInPrivate = 3,
    /// The text of `?OTR Error:` when an OTR data message could not be parsed.
    OtrMalformed = 4,
}

impl TextKind {
    /// Every kind, in code order.
    pub const ALL: [TextKind; 4] =
        [TextKind::Query, TextKind::OtrUnreadable, TextKind::OtrNotInPrivate, TextKind::OtrMalformed];

    /// The kind a number names, if any.
    pub const fn from_code(code: u32) -> Option<TextKind> {
        match code {
            1 => Some(TextKind::Query),
            2 => Some(TextKind::OtrUnreadable),
            3 => Some(TextKind::OtrNotInPrivate),
            4 => Some(TextKind::OtrMalformed),
            _ => None,
        }
    }

    /// The text sent until the application sets another.
    pub const fn default_text(self) -> &'static str {
        use crate::otr::text::error;
        match self {
            TextKind::Query => crate::wire::DEFAULT_QUERY_TEXT,
            TextKind::OtrUnreadable => error::ERROR_UNREADABLE,
            // What offrec has always sent there (libotr peers heal the same way on either).
            TextKind::OtrNotInPrivate => error::ERROR_UNREADABLE,
            TextKind::OtrMalformed => error::ERROR_MALFORMED,
        }
    }
}

/// The longest text, in bytes: texts travel in the clear inside protocol messages, which must
/// stay well under every transport's limit.
pub const MAX_CUSTOM_TEXT_LEN: usize = 1024;

/// The texts a client sends, each its default until set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    query: String,
    otr_unreadable: String,
    otr_not_in_private: String,
    otr_malformed: String,
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            query: TextKind::Query.default_text().to_owned(),
            otr_unreadable: TextKind::OtrUnreadable.default_text().to_owned(),
            otr_not_in_private: TextKind::OtrNotInPrivate.default_text().to_owned(),
            otr_malformed: TextKind::OtrMalformed.default_text().to_owned(),
        }
    }
}

impl Texts {
    /// The text sent for `kind`.
    pub fn get(&self, kind: TextKind) -> &str {
        match kind {
            TextKind::Query => &self.query,
            TextKind::OtrUnreadable => &self.otr_unreadable,
            TextKind::OtrNotInPrivate => &self.otr_not_in_private,
            TextKind::OtrMalformed => &self.otr_malformed,
        }
    }

    /// Sets the text for `kind` (`None`: back to its default) after [`check_text`]; on error
    /// nothing changes.
    pub fn set(&mut self, kind: TextKind, text: Option<&str>) -> Result<(), ClientError> {
        let text = match text {
            Some(text) => {
                check_text(text)?;
                text
            }
            None => kind.default_text(),
        };
        let slot = match kind {
            TextKind::Query => &mut self.query,
            TextKind::OtrUnreadable => &mut self.otr_unreadable,
            TextKind::OtrNotInPrivate => &mut self.otr_not_in_private,
            TextKind::OtrMalformed => &mut self.otr_malformed,
        };
        text.clone_into(slot);
        Ok(())
    }
}

/// A text may go inside a protocol message: at most [`MAX_CUSTOM_TEXT_LEN`] bytes, no control
/// character but the line feed (no NUL, no tab: tabs make whitespace tags), and no protocol
/// marker (`?OTR`, `?OFR`, any case) that a peer could take for a message of its own.
pub fn check_text(text: &str) -> Result<(), ClientError> {
    if text.len() > MAX_CUSTOM_TEXT_LEN {
        return Err(ClientError::InvalidText("longer than 1024 bytes"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ClientError::InvalidText("holds a control character"));
    }
    let upper = text.to_ascii_uppercase();
    if upper.contains("?OTR") || upper.contains("?OFR") {
        return Err(ClientError::InvalidText("holds a protocol marker (?OTR or ?OFR)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_what_offrec_always_sent() {
        let texts = Texts::default();
        assert_eq!(texts.get(TextKind::Query), crate::wire::DEFAULT_QUERY_TEXT);
        assert_eq!(texts.get(TextKind::OtrNotInPrivate), crate::otr::text::error::ERROR_UNREADABLE);
        for kind in TextKind::ALL {
            assert_eq!(TextKind::from_code(kind as u32), Some(kind));
            assert!(check_text(kind.default_text()).is_ok());
        }
        assert_eq!(TextKind::from_code(0), None);
        assert_eq!(TextKind::from_code(5), None);
    }

    #[test]
    fn bad_texts_change_nothing() {
        let mut texts = Texts::default();
        for bad in ["a\0b", "tab\there", "x ?OTRv3? y", "?ofr: z", "?OtR Error: w", &"é".repeat(513)] {
            assert!(matches!(texts.set(TextKind::Query, Some(bad)), Err(ClientError::InvalidText(_))), "{bad:?}");
        }
        assert_eq!(texts, Texts::default());
        texts.set(TextKind::OtrMalformed, Some("Nachricht beschädigt.\nBitte erneut senden.")).unwrap();
        texts.set(TextKind::Query, Some("")).unwrap();
        assert_eq!(texts.get(TextKind::Query), "");
        texts.set(TextKind::Query, None).unwrap();
        assert_eq!(texts.get(TextKind::Query), crate::wire::DEFAULT_QUERY_TEXT);
        assert!(texts.get(TextKind::OtrMalformed).starts_with("Nachricht"));
        let longest = "a".repeat(MAX_CUSTOM_TEXT_LEN);
        texts.set(TextKind::Query, Some(&longest)).unwrap();
        assert_eq!(texts.get(TextKind::Query), longest, "exactly the cap is fine");
        let over = "a".repeat(MAX_CUSTOM_TEXT_LEN + 1);
        assert_eq!(texts.set(TextKind::Query, Some(&over)), Err(ClientError::InvalidText("longer than 1024 bytes")));
    }
}
