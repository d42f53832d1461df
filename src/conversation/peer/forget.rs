//! What forgetting asks of one peer: whether a key or the peer is still in use by an encrypted
//! session (libotr refuses to forget those too), and dropping what the peer keeps about a key.

use super::Peer;
use crate::conversation::context::Ctx;
use crate::conversation::events::NotSentReason;

impl Peer {
    /// Whether a session that carries traffic (encrypted, not finished by the peer, not
    /// restored from a store) uses the key `fingerprint`.
    pub fn key_in_use(&self, fingerprint: &[u8; 32]) -> bool {
        self.sessions.values().any(|s| s.usable() && &s.their_fingerprint() == fingerprint)
    }

    /// Whether any session that carries traffic is live.
    pub fn has_live_session(&self) -> bool {
        self.sessions.values().any(|s| s.usable())
    }

    /// Forgets the application's consent to route to `fingerprint` (`accept_key`): a key
    /// forgotten and seen again is asked about again.
    pub fn forget_accepted_key(&mut self, fingerprint: &[u8; 32]) {
        self.accepted_keys.retain(|k| k != fingerprint);
    }

    /// Before the peer is dropped: its held messages fail (`SessionEnded`), so the application
    /// learns what became of each.
    pub fn fail_everything_held(&mut self, ctx: &mut Ctx<'_>) {
        self.fail_held(ctx, NotSentReason::SessionEnded);
    }
}
