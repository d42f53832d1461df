//! The chat's memory of what the user sent, so that events about a message (held, sent, not
//! sent, not readable by the peer) name it by its text instead of the library's message id.

use std::collections::VecDeque;

use offrec::conversation::MessageId;

use crate::parse::printable;

/// How many messages are remembered (the oldest are forgotten first).
const REMEMBERED: usize = 256;
/// How much of a message's text is quoted.
const PREVIEW_CHARS: usize = 40;

/// The last messages sent, by id.
#[derive(Default)]
pub struct SentMessages {
    recent: VecDeque<(MessageId, String)>,
}

impl SentMessages {
    /// Remembers the text of message `id`.
    pub fn remember(&mut self, id: MessageId, text: &str) {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        let mut preview: String = printable(text).chars().take(PREVIEW_CHARS).collect();
        if text.chars().count() > PREVIEW_CHARS {
            preview.push('…');
        }
        self.recent.push_back((id, preview));
    }

    /// `your message "hello…"`, or `your message number N` for one no longer remembered.
    pub fn name(&self, id: MessageId) -> String {
        match self.recent.iter().rev().find(|(sent, _)| *sent == id) {
            Some((_, preview)) => format!("your message \"{preview}\""),
            None => format!("your message number {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_named_by_their_text() {
        let mut sent = SentMessages::default();
        sent.remember(7, "hello");
        sent.remember(8, &"x".repeat(100));
        assert_eq!(sent.name(7), "your message \"hello\"");
        assert!(sent.name(8).ends_with("x…\""));
        assert_eq!(sent.name(9), "your message number 9");
        for id in 100..100 + REMEMBERED as u64 {
            sent.remember(id, "later");
        }
        assert_eq!(sent.name(7), "your message number 7", "the oldest are forgotten");
    }
}
