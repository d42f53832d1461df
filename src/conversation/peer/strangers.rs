//! Stranger handling, in one place: what a peer holds for unauthenticated senders, whether
//! the application ever addressed it, and whether the client keeps it after a call.

use super::Peer;
use crate::conversation::settings::{ERROR_MESSAGE_INTERVAL, PENDING_HANDSHAKE_COST, STRANGER_ENTRY_COST};

/// What the client does with a peer after a call on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Afterwards {
    /// Keep it.
    Keep,
    /// Forget it quietly: the application never addressed it and it holds nothing.
    Forget,
    /// Forget it with `InputDropped`: a stranger over the unauthenticated-input budget.
    DropOverBudget,
}

impl Peer {
    /// Whether nothing about this peer needs remembering at `now` (no session, handshake, held
    /// message, fragment, setting, or rate limit still running).
    pub fn is_idle(&self, now: u64) -> bool {
        let limiting = [self.last_error_sent, self.last_query_sent, self.last_heal_started]
            .into_iter()
            .flatten()
            .any(|at| now < at.saturating_add(ERROR_MESSAGE_INTERVAL));
        !limiting
            && self.sessions.is_empty()
            && self.initiator.is_none()
            && self.responders.is_empty()
            && self.held.is_empty()
            && self.reassembler.open_buffers() == 0
            && self.otr.as_ref().is_none_or(|otr| otr.is_idle())
            && self.max_message_size.is_none()
    }

    /// Bytes this peer makes the client hold for unauthenticated input: its fragment buffers,
    /// handshakes it started with us, and, while the application never addressed it and it has
    /// no session ("a stranger"), its entry and any handshake we started for it.
    pub fn unauthenticated_bytes(&self) -> usize {
        let mut total = self.reassembler.held_bytes();
        total = total.saturating_add(self.otr.as_ref().map_or(0, |otr| otr.unauthenticated_bytes()));
        total = total.saturating_add(self.responders.len().saturating_mul(PENDING_HANDSHAKE_COST));
        if self.is_stranger() {
            total = total.saturating_add(STRANGER_ENTRY_COST).saturating_add(self.name.len());
            if self.initiator.is_some() {
                total = total.saturating_add(PENDING_HANDSHAKE_COST);
            }
        }
        total
    }

    /// Whether this peer holds only what unauthenticated senders gave it: the application never
    /// addressed it, and it has no session and no message of ours waiting. Strangers are never
    /// stored, and are forgotten as soon as they are idle.
    pub fn is_stranger(&self) -> bool {
        !self.pinned && self.sessions.is_empty() && self.held.is_empty()
    }

    /// Marks the peer as addressed by the application: it is no stranger, and stays.
    pub fn pin(&mut self) {
        self.pinned = true;
    }

    /// Sets the largest message the transport carries to this peer (0 = the client default);
    /// the application addressed it, so it is pinned.
    pub fn set_max_message_size(&mut self, size: usize) {
        self.pinned = true;
        self.max_message_size = (size > 0).then_some(size);
    }

    /// After a call at `now`, with `room` bytes of the unauthenticated budget this peer may
    /// use: whether the client keeps it.
    pub fn afterwards(&self, now: u64, room: usize) -> Afterwards {
        if !self.pinned && self.is_idle(now) {
            Afterwards::Forget
        } else if self.is_stranger() && self.unauthenticated_bytes() > room {
            Afterwards::DropOverBudget
        } else {
            Afterwards::Keep
        }
    }
}
