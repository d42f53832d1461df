//! Messages the user typed that wait for an encrypted session (policy: require encryption).
//! They are never sent in the clear; they are sent encrypted once a session is up, or the
//! application is told, by id, that they were not sent.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::events::MessageId;
use super::settings::MAX_HELD_MESSAGES;

#[derive(Debug)]
pub(crate) struct Held {
    pub id: MessageId,
    pub text: Zeroizing<Vec<u8>>,
    pub queued_at: u64,
}

#[derive(Debug, Default)]
pub(crate) struct HeldMessages(VecDeque<Held>);

impl HeldMessages {
    /// Queues a message; false if the queue is full.
    pub fn push(&mut self, held: Held) -> bool {
        if self.0.len() >= MAX_HELD_MESSAGES {
            return false;
        }
        self.0.push_back(held);
        true
    }

    pub fn take_all(&mut self) -> Vec<Held> {
        self.0.drain(..).collect()
    }

    /// Removes messages queued before `deadline`.
    pub fn take_older_than(&mut self, deadline: u64) -> Vec<Held> {
        let (expired, keep): (VecDeque<_>, VecDeque<_>) = self.0.drain(..).partition(|h| h.queued_at < deadline);
        self.0 = keep;
        expired.into()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Held> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
