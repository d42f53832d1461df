//! The conversation layer's state as bytes, for storing a client (STORAGE.md §State): each
//! type writes and reads its own fields, the way `ratchet/persist.rs` does for the ratchet.
//! `store/` only frames the result (magic, version) and seals it.
//!
//! Not stored, on purpose: SMP runs and handshakes in flight (they restart), fragments being
//! reassembled, and strangers (peers the application never addressed that hold no session and
//! no held message). Everything read back is checked against the live caps.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::client::Client;
use super::held::{Held, HeldMessages};
use super::peer::Peer;
use super::settings::{Settings, MAX_HELD_MESSAGES, MAX_NAME_LEN};
use crate::crypto::{IdentityKey, RandomSource};
use crate::trust::{Trust, TrustStore, MAX_KEYS_PER_PEER};
use crate::wire::{Reader, WireError, Writer};

/// A stored state may name at most this many peers.
pub const MAX_STORED_PEERS: usize = 1_000_000;

/// Why stored conversation state could not be read back (`store/` turns it into a
/// `StoreError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// The bytes end early.
    Truncated,
    /// A field is out of range or malformed.
    Invalid(&'static str),
}

impl From<WireError> for StateError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::Truncated => StateError::Truncated,
            WireError::TooLarge => StateError::Invalid("count over its cap"),
            _ => StateError::Invalid("malformed field"),
        }
    }
}

pub(super) fn write_name(w: &mut Writer, text: &str) {
    w.u32(text.len() as u32).bytes(text.as_bytes());
}

pub(super) fn read_name(r: &mut Reader<'_>) -> Result<String, StateError> {
    let bytes = r.data()?;
    if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
        return Err(StateError::Invalid("name length"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| StateError::Invalid("name is not UTF-8"))
}

pub(super) fn read_flag(r: &mut Reader<'_>) -> Result<bool, StateError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(StateError::Invalid("boolean flag")),
    }
}

pub(super) fn read_count(r: &mut Reader<'_>, cap: usize, what: &'static str) -> Result<usize, StateError> {
    let n = r.u32()? as usize;
    if n > cap {
        return Err(StateError::Invalid(what));
    }
    Ok(n)
}

fn write_trust(w: &mut Writer, trust: &TrustStore) {
    let trusted: Vec<_> = trust.peers().collect();
    w.u32(trusted.len() as u32);
    for (peer, keys) in trusted {
        write_name(w, peer);
        w.u32(keys.len() as u32);
        for key in keys {
            w.bytes(&key.fingerprint).u8(key.trust as u8);
        }
    }
}

fn read_trust(r: &mut Reader<'_>) -> Result<TrustStore, StateError> {
    let mut trust = TrustStore::default();
    for _ in 0..read_count(r, MAX_STORED_PEERS, "trusted peer count")? {
        let peer = read_name(r)?;
        let keys = read_count(r, MAX_KEYS_PER_PEER, "key count")?;
        let mut loaded = Vec::with_capacity(keys);
        for _ in 0..keys {
            let fingerprint = r.array::<32>()?;
            let level = Trust::from_u32(u32::from(r.u8()?)).ok_or(StateError::Invalid("trust level"))?;
            loaded.push((fingerprint, level));
        }
        // Observe in stored order (oldest first) to keep "most recently used last".
        for (fingerprint, level) in loaded {
            trust.observe(&peer, fingerprint);
            trust.set_trust(&peer, fingerprint, level);
        }
    }
    Ok(trust)
}

impl Client {
    /// Upper bound of [`Client::write_state`]'s output, for reserving buffers.
    pub(crate) fn max_state_len(&self) -> usize {
        let mut total = 256 + self.account.len() + self.protocol.len();
        for (peer, keys) in self.trust.peers() {
            total += 8 + peer.len() + keys.len() * 33;
        }
        for (name, peer) in self.peers.iter().filter(|(_, p)| !p.is_stranger()) {
            total += 64 + name.len() + peer.max_state_len();
        }
        total
    }

    /// Appends everything worth keeping to `w`. The result holds secrets: seal it before
    /// storing.
    pub(crate) fn write_state(&self, w: &mut Writer) {
        write_name(w, &self.account);
        write_name(w, &self.protocol);
        w.bytes(self.identity.key_pair().secret_bytes().expose()).u32(self.our_tag).u64(self.next_message_id);
        write_trust(w, &self.trust);
        // Strangers (peers the application never addressed, holding only what unauthenticated
        // senders gave them) are never stored: a reload must not make them permanent.
        let stored: Vec<&Peer> = self.peers.values().filter(|p| !p.is_stranger()).collect();
        w.u32(stored.len() as u32);
        for peer in stored {
            peer.write_state(w);
        }
    }

    /// Rebuilds a client from [`Client::write_state`]'s bytes, with the application's current
    /// settings and random source. `r` holds the rest of the framing: bytes left over are an
    /// error.
    pub(crate) fn read_state(
        mut r: Reader<'_>,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Client, StateError> {
        let r = &mut r;
        let account = read_name(r)?;
        let protocol = read_name(r)?;
        let identity = IdentityKey::from_secret_bytes(r.array::<32>()?);
        let our_tag = r.u32()?;
        let next_message_id = r.u64()?;
        let our_fingerprint = identity.fingerprint();
        let trust = read_trust(r)?;
        let mut peers = BTreeMap::new();
        for _ in 0..read_count(r, MAX_STORED_PEERS, "peer count")? {
            let peer = Peer::read_state(r, our_fingerprint)?;
            peers.insert(peer.name().to_owned(), peer);
        }
        if r.remaining() != 0 {
            return Err(StateError::Invalid("trailing bytes"));
        }

        let mut client = Client::with_parts(&account, &protocol, identity, our_tag, settings, rng)
            .map_err(|_| StateError::Invalid("account, protocol or instance tag"))?;
        client.trust = trust;
        client.peers = peers;
        client.next_message_id = next_message_id.max(1);
        client.recount_unauthenticated();
        Ok(client)
    }
}

impl HeldMessages {
    pub(super) fn write_state(&self, w: &mut Writer) {
        let held: Vec<&Held> = self.iter().collect();
        w.u32(held.len() as u32);
        for message in held {
            w.u64(message.id).u32(message.text.len() as u32).bytes(&message.text).u64(message.queued_at);
        }
    }

    pub(super) fn read_state(r: &mut Reader<'_>) -> Result<HeldMessages, StateError> {
        let mut held = HeldMessages::default();
        for _ in 0..read_count(r, MAX_HELD_MESSAGES, "held message count")? {
            let id = r.u64()?;
            let text = Zeroizing::new(r.data()?.to_vec());
            let queued_at = r.u64()?;
            if !held.push(Held { id, text, queued_at }) {
                return Err(StateError::Invalid("held message count"));
            }
        }
        Ok(held)
    }
}
