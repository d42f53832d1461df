//! Forgery material waiting to be published in our next outgoing message.

use std::collections::VecDeque;

use crate::crypto::aead::{RevealedMaterial, REVEALED_LEN};
use crate::wire::data_message::MAX_REVEALS_PER_MESSAGE;

/// Cap on queued reveals. A peer that sends thousands of messages while we stay silent could
/// otherwise grow the queue without bound; past the cap the oldest are dropped (which only costs
/// deniability material for those messages, never security).
pub const MAX_PENDING_REVEALS: usize = 1024;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PendingReveals(VecDeque<RevealedMaterial>);

impl PendingReveals {
    pub fn push(&mut self, material: RevealedMaterial) {
        if self.0.len() == MAX_PENDING_REVEALS {
            self.0.pop_front();
        }
        self.0.push_back(material);
    }

    /// The wire form of the next batch, without removing it (removed by [`Self::consume`] once
    /// the message is built).
    pub fn peek_batch(&self) -> Vec<[u8; REVEALED_LEN]> {
        self.0.iter().take(MAX_REVEALS_PER_MESSAGE).map(RevealedMaterial::to_bytes).collect()
    }

    pub fn consume(&mut self, count: usize) {
        self.0.drain(..count.min(self.0.len()));
    }

    /// Removes and returns every queued item, oldest first.
    pub fn take_all(&mut self) -> Vec<RevealedMaterial> {
        self.0.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RevealedMaterial> {
        self.0.iter()
    }
}
