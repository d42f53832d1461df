//! The conversation layer's state as bytes, for storing a client (STORAGE.md §4): each type
//! writes and reads its own fields, the way `ratchet/persist.rs` does for the ratchet, and the
//! client frames them as tagged sections (`persist/section.rs`) so that new kinds of state are
//! new sections, not new format versions. `store/` only adds the magic and version and seals
//! the result.
//!
//! Not stored, on purpose: SMP runs and handshakes in flight (they restart), fragments being
//! reassembled, and strangers (peers the application never addressed that hold no session and
//! no held message). Everything read back is checked against the live caps.

mod peer_policies;
mod pins;
mod section;
mod trust;

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::client::Client;
use super::events::PERSIST_OTHER;
use super::held::{Held, HeldMessages};
use super::peer::Peer;
use super::settings::{Settings, MAX_HELD_MESSAGES, MAX_NAME_LEN};
use crate::crypto::{IdentityKey, RandomSource};
use crate::otr::identity::DsaIdentity;
use crate::trust::{ProtocolPins, TrustStore};
use crate::wire::{Reader, WireError, Writer};

/// A stored state may name at most this many peers.
pub const MAX_STORED_PEERS: usize = 1_000_000;
/// Longest OTR identity kept with a client (a DSA-1024 key's five numbers take about 450 bytes).
pub const MAX_OTR_IDENTITY_LEN: usize = 4096;

/// Why stored conversation state could not be read back (`store/` turns it into a
/// `StoreError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// The bytes end early.
    Truncated,
    /// A field is out of range or malformed.
    Invalid(&'static str),
    /// A critical section this library does not know (written by a newer one).
    UnsupportedSection(u16),
    /// Trust entries of a key kind this library cannot hold (written by a newer one).
    UnsupportedKeyKind(u8),
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

/// The client section's fields (the same in both versions, where they open the state).
struct Own {
    account: String,
    protocol: String,
    identity: IdentityKey,
    our_tag: u32,
    next_message_id: u64,
}

impl Own {
    fn read(r: &mut Reader<'_>) -> Result<Own, StateError> {
        Ok(Own {
            account: read_name(r)?,
            protocol: read_name(r)?,
            identity: IdentityKey::from_secret_bytes(r.array::<32>()?),
            our_tag: r.u32()?,
            next_message_id: r.u64()?,
        })
    }
}

fn read_peers(r: &mut Reader<'_>, our_fingerprint: [u8; 32]) -> Result<BTreeMap<String, Box<Peer>>, StateError> {
    let mut peers = BTreeMap::new();
    for _ in 0..read_count(r, MAX_STORED_PEERS, "peer count")? {
        let peer = Peer::read_state(r, our_fingerprint)?;
        peers.insert(peer.name().to_owned(), Box::new(peer));
    }
    Ok(peers)
}

/// The sections of a version-2 state that this library knows, as found.
#[derive(Default)]
struct Known<'a> {
    own: Option<&'a [u8]>,
    trust: Option<&'a [u8]>,
    peers: Option<&'a [u8]>,
    otr_identity: Option<&'a [u8]>,
    pins: Option<&'a [u8]>,
    peer_policies: Option<&'a [u8]>,
}

impl Known<'_> {
    fn required<'b>(section: Option<&'b [u8]>) -> Result<Reader<'b>, StateError> {
        section.map(Reader::new).ok_or(StateError::Invalid("a required section is missing"))
    }
}

impl Client {
    /// Upper bound of [`Client::write_state`]'s output, for reserving buffers.
    pub(crate) fn max_state_len(&self) -> usize {
        5 * section::FRAMING_LEN
            + self.own_section_len()
            + pins::max_len(&self.pins)
            + trust::max_len(&self.trust)
            + self.peers_section_len()
            + self.otr_identity.as_ref().map_or(0, |_| MAX_OTR_IDENTITY_LEN)
            + peer_policies::max_len(&self.peer_policies)
    }

    fn own_section_len(&self) -> usize {
        8 + self.account.len() + 4 + self.protocol.len() + 32 + 4 + 8
    }

    fn peers_section_len(&self) -> usize {
        let peers = self.peers.iter().filter(|(_, p)| !p.is_stranger());
        4 + peers.map(|(name, peer)| 64 + name.len() + peer.max_state_len()).sum::<usize>()
    }

    /// Appends everything worth keeping to `w`, as version-2 sections (STORAGE.md §4.1). The
    /// result holds secrets: seal it before storing.
    pub(crate) fn write_state(&self, w: &mut Writer) {
        section::write(w, section::CLIENT, true, self.own_section_len(), |w| {
            write_name(w, &self.account);
            write_name(w, &self.protocol);
            w.bytes(self.identity.key_pair().secret_bytes().expose()).u32(self.our_tag).u64(self.next_message_id);
        });
        section::write(w, section::TRUST, true, trust::max_len(&self.trust), |w| trust::write(w, &self.trust));
        section::write(w, section::PEERS, true, self.peers_section_len(), |w| {
            // Strangers (peers the application never addressed, holding only what
            // unauthenticated senders gave them) are never stored: a reload must not make them
            // permanent.
            let stored: Vec<&Peer> = self.peers.values().map(|p| &**p).filter(|p| !p.is_stranger()).collect();
            w.u32(stored.len() as u32);
            for peer in stored {
                peer.write_state(w);
            }
        });
        if let Some(identity) = &self.otr_identity {
            let stored = identity.to_stored();
            // Critical: a reader that dropped it would give the user a new OTR fingerprint.
            section::write(w, section::OTR_IDENTITY, true, stored.len(), |w| {
                w.bytes(&stored);
            });
        }
        if !self.pins.is_empty() {
            // Optional: a reader that drops it loses downgrade detection until the next modern
            // session, never a trust decision (those are in the trust section).
            section::write(w, section::PINS, false, pins::max_len(&self.pins), |w| pins::write(w, &self.pins));
        }
        if !self.peer_policies.is_empty() {
            // Critical: an older reader that dropped a peer's REQUIRE_MODERN or ALWAYS would
            // quietly lower that peer's protection. Absent when no peer has its own policy, so
            // such stores stay readable by libraries without this section.
            let len = peer_policies::max_len(&self.peer_policies);
            section::write(w, section::PEER_POLICIES, true, len, |w| peer_policies::write(w, &self.peer_policies));
        }
    }

    /// Rebuilds a client from [`Client::write_state`]'s sections, with the application's
    /// current settings and random source. `r` holds the rest of the framing, to its end.
    pub(crate) fn read_state(
        r: Reader<'_>,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Client, StateError> {
        let mut known = Known::default();
        let mut sections = section::Sections::new(r);
        while let Some(found) = sections.next_section()? {
            let slot = match found.tag {
                section::CLIENT => &mut known.own,
                section::TRUST => &mut known.trust,
                section::PEERS => &mut known.peers,
                section::OTR_IDENTITY => &mut known.otr_identity,
                section::PINS => &mut known.pins,
                section::PEER_POLICIES => &mut known.peer_policies,
                tag if found.critical => return Err(StateError::UnsupportedSection(tag)),
                // Optional and unknown: skipped (and not written back, section.rs).
                _ => continue,
            };
            *slot = Some(found.body);
        }
        let mut r = Known::required(known.own)?;
        let own = Own::read(&mut r)?;
        section::finish(r)?;
        let mut r = Known::required(known.trust)?;
        let trust = trust::read(&mut r, true)?;
        section::finish(r)?;
        let mut r = Known::required(known.peers)?;
        let peers = read_peers(&mut r, own.identity.fingerprint())?;
        section::finish(r)?;
        let otr_identity = match known.otr_identity {
            Some(bytes) if bytes.len() > MAX_OTR_IDENTITY_LEN => {
                return Err(StateError::Invalid("OTR identity length"))
            }
            Some(bytes) => {
                Some(Box::new(DsaIdentity::from_stored(bytes).map_err(|_| StateError::Invalid("OTR identity"))?))
            }
            None => None,
        };
        let pins = match known.pins {
            Some(bytes) => {
                let mut r = Reader::new(bytes);
                let pins = pins::read(&mut r)?;
                section::finish(r)?;
                pins
            }
            None => ProtocolPins::default(),
        };
        let mut client = Client::assemble(own, trust, peers, otr_identity, settings, rng)?;
        client.pins = pins;
        if let Some(bytes) = known.peer_policies {
            let mut r = Reader::new(bytes);
            client.peer_policies = peer_policies::read(&mut r)?;
            section::finish(r)?;
        }
        Ok(client)
    }

    /// Rebuilds a client from a version-1 state (STORAGE.md §4.1): the same fields, in one
    /// run, without sections or key kinds.
    pub(crate) fn read_state_v1(
        mut r: Reader<'_>,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Client, StateError> {
        let r = &mut r;
        let own = Own::read(r)?;
        let trust = trust::read(r, false)?;
        let peers = read_peers(r, own.identity.fingerprint())?;
        if r.remaining() != 0 {
            return Err(StateError::Invalid("trailing bytes"));
        }
        Client::assemble(own, trust, peers, None, settings, rng)
    }

    fn assemble(
        own: Own,
        trust: TrustStore,
        peers: BTreeMap<String, Box<Peer>>,
        otr_identity: Option<Box<DsaIdentity>>,
        settings: Settings,
        rng: Box<dyn RandomSource>,
    ) -> Result<Client, StateError> {
        let mut client = Client::with_parts(&own.account, &own.protocol, own.identity, own.our_tag, settings, rng)
            .map_err(|_| StateError::Invalid("account, protocol or instance tag"))?;
        client.trust = trust;
        client.peers = peers;
        client.next_message_id = own.next_message_id.max(1);
        client.otr_identity = otr_identity;
        client.recount_unauthenticated();
        Ok(client)
    }

    /// Sets (`None`: removes) the client's OTR DSA identity, and asks for a save
    /// (`PERSIST_OTHER`).
    pub(crate) fn set_otr_identity(&mut self, identity: Option<DsaIdentity>) {
        self.otr_identity = identity.map(Box::new);
        self.dirty |= PERSIST_OTHER;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeterministicRandom;

    fn client() -> Client {
        let mut rng = DeterministicRandom::from_label("persist");
        let identity = IdentityKey::generate(&mut rng).unwrap();
        Client::with_parts("alice", "xmpp", identity, 0x1234, Settings::default(), Box::new(rng)).unwrap()
    }

    fn reload(client: &Client) -> (Vec<u8>, Client) {
        let mut w = Writer::with_capacity(client.max_state_len());
        client.write_state(&mut w);
        let bytes = w.into_vec();
        assert!(bytes.len() <= client.max_state_len());
        let rng = Box::new(DeterministicRandom::from_label("reload"));
        let loaded = Client::read_state(Reader::new(&bytes), Settings::default(), rng).unwrap();
        (bytes, loaded)
    }

    #[test]
    fn the_otr_identity_is_kept_in_its_own_section() {
        let mut alice = client();
        let (without, loaded) = reload(&alice);
        assert!(loaded.otr_identity.is_none());
        let identity = DsaIdentity::generate(&mut DeterministicRandom::from_label("dsa")).unwrap();
        let fingerprint = identity.fingerprint();
        alice.set_otr_identity(Some(identity));
        assert_ne!(alice.dirty, 0, "a new identity asks for a save");
        let (with, loaded) = reload(&alice);
        assert_eq!(loaded.otr_identity.as_ref().map(|i| i.fingerprint()), Some(fingerprint));
        // The same state plus one critical section, tag 4, at the end.
        assert_eq!(&with[..without.len()], &without[..]);
        assert_eq!(&with[without.len()..without.len() + 3], &[0, 4, 1]);
        // A damaged key is refused, never used.
        let mut damaged = with.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        let rng = Box::new(DeterministicRandom::from_label("damaged"));
        assert!(Client::read_state(Reader::new(&damaged), Settings::default(), rng).is_err());
        alice.set_otr_identity(None);
        assert_eq!(reload(&alice).0, without);
    }

    #[test]
    fn pins_are_kept_in_an_optional_section_written_only_when_there_are_some() {
        let mut alice = client();
        let (without, loaded) = reload(&alice);
        assert!(loaded.pins.is_empty());
        alice.pins.modern_session("bob", 77);
        alice.pins.link("bob", [1; 32], [2; 20], 78);
        let (with, loaded) = reload(&alice);
        assert_eq!(loaded.pins, alice.pins);
        // The same state plus one optional section, tag 5 (flags 0), at the end.
        assert_eq!(&with[..without.len()], &without[..]);
        assert_eq!(&with[without.len()..without.len() + 3], &[0, 5, 0]);
        // A reader that does not know it (here: one that cut it off) still loads the rest.
        let rng = Box::new(DeterministicRandom::from_label("older"));
        let older = Client::read_state(Reader::new(&with[..without.len()]), Settings::default(), rng).unwrap();
        assert!(older.pins.is_empty());
        // A malformed pins section is refused, not half read.
        let mut damaged = with.clone();
        let last = damaged.len() - 1;
        damaged.truncate(last);
        let at = without.len() + 3;
        damaged[at..at + 4].copy_from_slice(&((with.len() - without.len() - 7 - 1) as u32).to_be_bytes());
        let rng = Box::new(DeterministicRandom::from_label("damaged"));
        assert!(Client::read_state(Reader::new(&damaged), Settings::default(), rng).is_err());
    }

    #[test]
    fn the_required_sections_must_all_be_there() {
        let (bytes, _) = reload(&client());
        // Drop the peers section (the last one: tag 3, an empty list).
        let cut = &bytes[..bytes.len() - 7 - 4];
        let rng = Box::new(DeterministicRandom::from_label("cut"));
        let error = Client::read_state(Reader::new(cut), Settings::default(), rng).err();
        assert_eq!(error, Some(StateError::Invalid("a required section is missing")));
    }
}
