//! The peers a client knows, each peer's known keys, and forgetting them (libotr's
//! `otrl_context_forget_fingerprint` and `otrl_context_forget`). As libotr does, nothing in use
//! by an encrypted session is forgotten: the application ends the session first.

use std::collections::BTreeSet;

use super::client::Client;
use super::error::ClientError;
use super::events::{Action, PERSIST_HELD_MESSAGES, PERSIST_OTHER, PERSIST_SESSIONS, PERSIST_TRUST};
use super::settings::MAX_NAME_LEN;
use crate::trust::{otr_fingerprint, KeyKind, Trust};

/// One key known for a peer, as a UI lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownKeyInfo {
    /// The 32-byte key id the trust calls take (a modern fingerprint, or an OTR DSA
    /// fingerprint behind `trust::OTR_KEY_ID_PREFIX`).
    pub key_id: [u8; 32],
    /// The user's decision about it.
    pub trust: Trust,
    /// Which protocol's key it is.
    pub kind: KeyKind,
    /// The key's own fingerprint, as that protocol's programs show it: the first
    /// [`KnownKeyInfo::fingerprint_len`] bytes (32 for a modern key, 20 for an OTR DSA key).
    pub fingerprint: [u8; 32],
    /// How many bytes of `fingerprint` count.
    pub fingerprint_len: usize,
}

impl KnownKeyInfo {
    fn new(key_id: [u8; 32], trust: Trust) -> Self {
        let kind = KeyKind::of(&key_id);
        let mut fingerprint = [0u8; 32];
        match otr_fingerprint(&key_id) {
            Some(dsa) => fingerprint[..20].copy_from_slice(&dsa),
            None => fingerprint = key_id,
        }
        KnownKeyInfo { key_id, trust, kind, fingerprint, fingerprint_len: kind.fingerprint_len() }
    }
}

fn check_peer(peer: &str) -> Result<(), ClientError> {
    if peer.is_empty() || peer.len() > MAX_NAME_LEN {
        return Err(ClientError::InvalidArgument("peer"));
    }
    Ok(())
}

impl Client {
    /// Every peer the client knows, sorted by name: peers with known keys, with conversation
    /// state the application caused (sessions, held messages, a peer it addressed), or with a
    /// policy of their own. Strangers (peers that only sent us something and hold no session)
    /// are not listed: they are forgotten on their own.
    pub fn known_peers(&self) -> Vec<String> {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.extend(self.trust.peers().filter(|(_, keys)| !keys.is_empty()).map(|(name, _)| name));
        names.extend(self.peers.iter().filter(|(_, p)| !p.is_stranger()).map(|(name, _)| name.as_str()));
        names.extend(self.peer_policies.iter().map(|(name, _)| name));
        names.into_iter().map(str::to_owned).collect()
    }

    /// `peer`'s known keys with their trust and kind, least recently used first.
    pub fn known_key_infos(&self, peer: &str) -> Vec<KnownKeyInfo> {
        self.trust.keys(peer).iter().map(|k| KnownKeyInfo::new(k.fingerprint, k.trust)).collect()
    }

    /// Forgets one of `peer`'s keys (its trust with it): the next session with that key is a
    /// new key again (`NewFingerprint` or `FingerprintChanged`). Refused with `KeyInUse` while
    /// an encrypted session uses it (end that session first), `UnknownKey` if the peer has no
    /// such key. A save is asked for.
    pub fn forget_key(&mut self, peer: &str, key_id: &[u8; 32]) -> Result<Vec<Action>, ClientError> {
        check_peer(peer)?;
        if !self.trust.keys(peer).iter().any(|k| &k.fingerprint == key_id) {
            return Err(ClientError::UnknownKey);
        }
        if self.peers.get(peer).is_some_and(|p| p.key_in_use(key_id)) {
            return Err(ClientError::KeyInUse);
        }
        self.trust.forget(peer, key_id);
        if let Some(state) = self.peers.get_mut(peer) {
            state.forget_accepted_key(key_id);
        }
        self.dirty |= PERSIST_TRUST;
        Ok(self.finish_call(Vec::new()))
    }

    /// Forgets everything about `peer`: its keys and their trust, finished or restored
    /// sessions, handshakes in progress, fragments, its own policy. Messages held for it fail
    /// (`MessageNotSent` with `SessionEnded`). Refused with `SessionActive` while an encrypted
    /// session with it is live (end it first: libotr's `otrl_context_forget` refuses the same),
    /// `UnknownPeer` if the client knows nothing about it. A save is asked for.
    pub fn forget_peer(&mut self, peer: &str, now: u64) -> Result<Vec<Action>, ClientError> {
        check_peer(peer)?;
        let has_keys = !self.trust.keys(peer).is_empty();
        let state = self.peers.get(peer);
        if !has_keys && state.is_none() && self.peer_policies.get(peer).is_none() {
            return Err(ClientError::UnknownPeer);
        }
        if state.is_some_and(|p| p.has_live_session()) {
            return Err(ClientError::SessionActive);
        }
        let mut actions = Vec::new();
        if let Some(state) = state {
            let stored = !state.is_stranger();
            actions = self.with_peer(peer, now, false, |p, ctx| p.fail_everything_held(ctx)).1;
            if self.peers.remove(peer).is_some() && stored {
                self.dirty |= PERSIST_SESSIONS | PERSIST_HELD_MESSAGES;
            }
            self.recount_unauthenticated();
        }
        if has_keys {
            self.trust.remove_peer(peer);
            self.dirty |= PERSIST_TRUST;
        }
        if self.peer_policies.clear(peer) {
            self.dirty |= PERSIST_OTHER;
        }
        Ok(self.finish_call(actions))
    }
}
