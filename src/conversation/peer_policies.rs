//! Policies for single peers, over the client's default (libotr asks its application for a
//! policy per conversation; here the application sets one per peer when it differs).
//!
//! A peer's own policy replaces the client's whole policy for that peer (it is not merged bit
//! by bit): every decision about the peer (sending, answering queries and tags, the upgrade
//! guard, whether to speak OTR at all) reads it through the call's `Ctx::policy`. They are
//! stored with the client (STORAGE.md §4.1), so a peer set to `REQUIRE_MODERN` stays so after
//! a restart even if the application forgets to set it again.

use std::collections::BTreeMap;

use super::client::Client;
use super::error::ClientError;
use super::events::PERSIST_OTHER;
use super::policy::Policy;
use super::settings::MAX_NAME_LEN;

/// At most this many peers have a policy of their own (what a stored state may hold, too).
pub const MAX_PEER_POLICIES: usize = 100_000;

/// Peer name → that peer's own policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PeerPolicies {
    by_peer: BTreeMap<String, Policy>,
}

impl PeerPolicies {
    /// The peer's own policy, if it has one.
    pub(crate) fn get(&self, peer: &str) -> Option<Policy> {
        self.by_peer.get(peer).copied()
    }

    /// Sets a peer's policy; a new peer past [`MAX_PEER_POLICIES`] is refused.
    pub(crate) fn set(&mut self, peer: &str, policy: Policy) -> Result<(), ClientError> {
        if let Some(slot) = self.by_peer.get_mut(peer) {
            *slot = policy;
            return Ok(());
        }
        if self.by_peer.len() >= MAX_PEER_POLICIES {
            return Err(ClientError::InvalidArgument("too many peers with their own policy"));
        }
        self.by_peer.insert(peer.to_owned(), policy);
        Ok(())
    }

    /// Removes a peer's policy; whether it had one.
    pub(crate) fn clear(&mut self, peer: &str) -> bool {
        self.by_peer.remove(peer).is_some()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Policy)> {
        self.by_peer.iter().map(|(name, policy)| (name.as_str(), *policy))
    }

    pub(crate) fn len(&self) -> usize {
        self.by_peer.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }
}

fn check_peer(peer: &str) -> Result<(), ClientError> {
    if peer.is_empty() || peer.len() > MAX_NAME_LEN {
        return Err(ClientError::InvalidArgument("peer"));
    }
    Ok(())
}

impl Client {
    /// The policy that applies to `peer`: its own, else the client's.
    pub fn policy_for(&self, peer: &str) -> Policy {
        self.peer_policies.get(peer).unwrap_or(self.settings.policy)
    }

    /// The policy set for `peer` alone, if any.
    pub fn peer_policy(&self, peer: &str) -> Option<Policy> {
        self.peer_policies.get(peer)
    }

    /// Gives `peer` a policy of its own, replacing the client's for it (a save is asked for:
    /// it is stored). Takes effect from the next call on that peer; live sessions stay.
    pub fn set_peer_policy(&mut self, peer: &str, policy: Policy) -> Result<Vec<super::Action>, ClientError> {
        check_peer(peer)?;
        if self.peer_policies.get(peer) != Some(policy) {
            self.peer_policies.set(peer, policy)?;
            self.dirty |= PERSIST_OTHER;
        }
        Ok(self.finish_call(Vec::new()))
    }

    /// Removes `peer`'s own policy: the client's applies to it again. Not an error if it had
    /// none.
    pub fn clear_peer_policy(&mut self, peer: &str) -> Result<Vec<super::Action>, ClientError> {
        check_peer(peer)?;
        if self.peer_policies.clear(peer) {
            self.dirty |= PERSIST_OTHER;
        }
        Ok(self.finish_call(Vec::new()))
    }
}
