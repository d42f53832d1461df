//! Forgery material waiting to be published in our next outgoing message.

use std::collections::VecDeque;

use crate::crypto::aead::{RevealedMaterial, REVEALED_LEN};
use crate::wire::data_message::MAX_REVEALS_PER_MESSAGE;

/// Cap on queued reveals. A peer that sends thousands of messages while we stay silent could
/// otherwise grow the queue without bound; past the cap the oldest are dropped (which only costs
/// deniability material for those messages, never security).
pub const MAX_PENDING_REVEALS: usize = 1024;

/// Cap on a queue that inherited reveals from the session it replaced (a refresh): the old
/// session's queue and every skipped key it stored fit.
pub const MAX_INHERITED_REVEALS: usize = MAX_PENDING_REVEALS + super::MAX_STORED_SKIPPED_KEYS;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PendingReveals(VecDeque<RevealedMaterial>);

impl PendingReveals {
    pub fn push(&mut self, material: RevealedMaterial) {
        // `>=`: a queue that inherited more than the cap does not grow further.
        if self.0.len() >= MAX_PENDING_REVEALS {
            self.0.pop_front();
        }
        // Room for one at first (an idle session often holds one), not the default four.
        if self.0.capacity() == 0 {
            self.0.reserve_exact(1);
        }
        self.0.push_back(material);
    }

    /// Puts everything queued in `old` ahead of this queue's own material, keeping the newest
    /// [`MAX_INHERITED_REVEALS`].
    pub fn inherit(&mut self, old: &mut PendingReveals) {
        let mut all = std::mem::take(&mut old.0);
        all.append(&mut self.0);
        self.0 = all;
        self.keep_newest(MAX_INHERITED_REVEALS);
    }

    /// Drops the oldest items beyond `cap` (each costs deniability for one message, never
    /// security): what any queue that is stored again must fit, since the reader refuses more.
    pub fn keep_newest(&mut self, cap: usize) {
        let excess = self.0.len().saturating_sub(cap);
        self.0.drain(..excess);
    }

    /// Queues material past the cap: for a session's end (its queue is published and dropped
    /// right away) and for restoring a stored queue (checked against
    /// [`MAX_INHERITED_REVEALS`] by the reader).
    pub fn push_uncapped(&mut self, material: RevealedMaterial) {
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

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RevealedMaterial> {
        self.0.iter()
    }
}
