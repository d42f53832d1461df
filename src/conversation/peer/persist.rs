//! A peer's stored state (STORAGE.md §State): its limits and routing, its sessions, its held
//! messages. Written and read here, beside the private fields; the client's framing is in
//! `conversation/persist.rs`.

use super::Peer;
use crate::conversation::held::HeldMessages;
use crate::conversation::persist::{read_count, read_flag, read_name, write_name, StateError};
use crate::conversation::protocol::ProtocolSession;
use crate::conversation::session::Session;
use crate::conversation::settings::MAX_INSTANCES_PER_PEER;
use crate::wire::{Reader, Writer};

impl Peer {
    pub(in crate::conversation) fn max_state_len(&self) -> usize {
        let sessions: usize = self.sessions.values().filter_map(|s| s.as_modern()).map(|s| s.max_state_len()).sum();
        sessions + self.held.iter().map(|h| 24 + h.text.len()).sum::<usize>()
    }

    /// Appends this peer's stored state: its limits and routing, its sessions, its held
    /// messages.
    pub(in crate::conversation) fn write_state(&self, w: &mut Writer) {
        write_name(w, &self.name);
        w.u64(self.max_message_size.unwrap_or(0) as u64)
            .u8(u8::from(self.stop_tagging))
            .u32(self.preferred.unwrap_or(0));
        w.u8(self.advertised);
        // Only modern sessions are stored (to be restarted on load); OTR sessions are not, as
        // libotr does not store them either (PROTOCOL.md part B).
        let stored: Vec<&Session> = self.sessions.values().filter_map(|s| s.as_modern()).collect();
        w.u32(stored.len() as u32);
        for session in stored {
            session.write_state(w);
        }
        self.held.write_state(w);
    }

    /// Reads a peer written by [`Peer::write_state`]; it was worth storing, so it is pinned.
    pub(in crate::conversation) fn read_state(
        r: &mut Reader<'_>,
        our_fingerprint: [u8; 32],
    ) -> Result<Peer, StateError> {
        let name = read_name(r)?;
        let mut peer = Peer::new(&name);
        peer.pinned = true;
        let max_size = r.u64()?;
        peer.max_message_size = (max_size > 0).then_some(usize::try_from(max_size).unwrap_or(usize::MAX));
        peer.stop_tagging = read_flag(r)?;
        let preferred = r.u32()?;
        peer.preferred = (preferred != 0).then_some(preferred);
        peer.advertised = r.u8()?;
        for _ in 0..read_count(r, MAX_INSTANCES_PER_PEER, "session count")? {
            let session = Session::read_state(r, our_fingerprint)?;
            peer.sessions.insert(session.their_tag(), Box::new(session));
        }
        peer.held = HeldMessages::read_state(r)?;
        Ok(peer)
    }
}
