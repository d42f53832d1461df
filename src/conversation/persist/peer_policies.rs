//! The peers' own policies as stored (section 6, STORAGE.md §4.1): `u32 count ‖ (DATA(peer) ‖
//! u32 policy bits) × count`, names in strictly rising byte order so a state has one encoding.

use super::{read_count, read_name, write_name, StateError};
use crate::conversation::peer_policies::{PeerPolicies, MAX_PEER_POLICIES};
use crate::conversation::policy::Policy;
use crate::wire::{Reader, Writer};

/// Upper bound of [`write`]'s output.
pub(super) fn max_len(policies: &PeerPolicies) -> usize {
    4 + policies.iter().map(|(peer, _)| 8 + peer.len()).sum::<usize>()
}

pub(super) fn write(w: &mut Writer, policies: &PeerPolicies) {
    w.u32(policies.len() as u32);
    for (peer, policy) in policies.iter() {
        write_name(w, peer);
        w.u32(policy.bits());
    }
}

pub(super) fn read(r: &mut Reader<'_>) -> Result<PeerPolicies, StateError> {
    let mut policies = PeerPolicies::default();
    let mut last: Option<String> = None;
    for _ in 0..read_count(r, MAX_PEER_POLICIES, "peer policy count")? {
        let peer = read_name(r)?;
        let policy = Policy::from_bits(r.u32()?).ok_or(StateError::Invalid("policy"))?;
        if last.as_ref().is_some_and(|last| last.as_bytes() >= peer.as_bytes()) {
            return Err(StateError::Invalid("peer policies repeated or out of order"));
        }
        policies.set(&peer, policy).map_err(|_| StateError::Invalid("peer policy count"))?;
        last = Some(peer);
    }
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Client, Settings};
    use crate::crypto::{DeterministicRandom, IdentityKey};

    fn client() -> Client {
        let mut rng = DeterministicRandom::from_label("peer policies");
        let identity = IdentityKey::generate(&mut rng).unwrap();
        Client::with_parts("alice", "xmpp", identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
    }

    fn state(client: &Client) -> Vec<u8> {
        let mut w = Writer::with_capacity(client.max_state_len());
        client.write_state(&mut w);
        w.into_vec()
    }

    fn load(bytes: &[u8]) -> Result<Client, StateError> {
        let rng = Box::new(DeterministicRandom::from_label("load"));
        Client::read_state(Reader::new(bytes), Settings::default(), rng)
    }

    #[test]
    fn peer_policies_survive_a_reload_in_a_critical_section_of_their_own() {
        let mut alice = client();
        let without = state(&alice);
        alice.set_peer_policy("carol", Policy::REQUIRE_MODERN | Policy::ALWAYS).unwrap();
        alice.set_peer_policy("bob", Policy::NEVER).unwrap();
        let with = state(&alice);
        assert!(with.len() <= alice.max_state_len());
        // The same state plus section 6, critical, at the end.
        assert_eq!(&with[..without.len()], &without[..]);
        assert_eq!(&with[without.len()..without.len() + 3], &[0, 6, 1]);
        let loaded = load(&with).unwrap();
        assert_eq!(loaded.peer_policy("bob"), Some(Policy::NEVER));
        assert_eq!(loaded.peer_policy("carol"), Some(Policy::REQUIRE_MODERN | Policy::ALWAYS));
        assert_eq!(loaded.peer_policy("dave"), None);
        alice.clear_peer_policy("bob").unwrap();
        alice.clear_peer_policy("carol").unwrap();
        assert_eq!(state(&alice), without, "no section once no peer has a policy");
    }

    #[test]
    fn the_reserved_length_is_exact() {
        // The body is reserved up front so the buffer never reallocates; here it is exact.
        let mut policies = PeerPolicies::default();
        for (peer, policy) in [("b", Policy::NEVER), ("carol", Policy::ALWAYS), (&*"z".repeat(1024), Policy::MANUAL)] {
            policies.set(peer, policy).unwrap();
            let mut w = Writer::new();
            write(&mut w, &policies);
            assert_eq!(w.into_vec().len(), max_len(&policies));
        }
    }

    #[test]
    fn bad_policy_sections_are_refused() {
        let body = |entries: &[(&str, u32)]| {
            let mut w = Writer::new();
            w.u32(entries.len() as u32);
            for (peer, bits) in entries {
                write_name(&mut w, peer);
                w.u32(*bits);
            }
            w.into_vec()
        };
        let read_body = |bytes: Vec<u8>| read(&mut Reader::new(&bytes)).err();
        assert_eq!(read_body(body(&[("bob", 1 << 9)])), Some(StateError::Invalid("policy")));
        let repeated = Some(StateError::Invalid("peer policies repeated or out of order"));
        assert_eq!(read_body(body(&[("bob", 1), ("bob", 1)])), repeated);
        assert_eq!(read_body(body(&[("carol", 1), ("bob", 1)])), repeated);
        assert_eq!(read_body(body(&[("", 1)])), Some(StateError::Invalid("name length")));
        let mut over = Writer::new();
        over.u32(MAX_PEER_POLICIES as u32 + 1);
        assert_eq!(read_body(over.into_vec()), Some(StateError::Invalid("peer policy count")));
        assert!(read_body(body(&[("bob", 1), ("carol", 0)])).is_none());
    }
}
