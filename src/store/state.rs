//! A client's whole state as bytes (STORAGE.md §State): identity, instance tag, trust store,
//! every live session with its ratchet, and the messages still waiting for encryption.
//! Not stored, on purpose: SMP runs and handshakes in flight (they restart), fragments
//! being reassembled, and strangers (peers the application never addressed that hold no
//! session and no held message).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::StoreError;
use crate::conversation::held::Held;
use crate::conversation::peer::Peer;
use crate::conversation::session::{SentLog, Session, SENT_LOG_LEN};
use crate::conversation::{Client, Settings, MAX_HELD_MESSAGES, MAX_INSTANCES_PER_PEER, MAX_NAME_LEN};
use crate::crypto::{IdentityKey, RandomSource};
use crate::ratchet::{max_state_len, Ratchet};
use crate::trust::{Trust, TrustStore, MAX_KEYS_PER_PEER};
use crate::wire::{Reader, WireError, Writer};

const MAGIC: &[u8; 8] = b"OFRSTATE";
/// The state format version written by this library.
pub const STATE_VERSION: u16 = 1;
/// A stored state may name at most this many peers.
pub const MAX_STORED_PEERS: usize = 1_000_000;

fn name(w: &mut Writer, text: &str) {
    w.u32(text.len() as u32).bytes(text.as_bytes());
}

fn read_name(r: &mut Reader<'_>) -> Result<String, StoreError> {
    let bytes = r.data().map_err(truncated)?;
    if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
        return Err(StoreError::InvalidState("name length"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::InvalidState("name is not UTF-8"))
}

fn truncated(error: WireError) -> StoreError {
    match error {
        WireError::Truncated => StoreError::Truncated,
        WireError::TooLarge => StoreError::InvalidState("count over its cap"),
        _ => StoreError::InvalidState("malformed field"),
    }
}

fn capacity(client: &Client) -> usize {
    let mut total = 256 + client.account.len() + client.protocol.len();
    for (peer, keys) in client.trust.peers() {
        total += 8 + peer.len() + keys.len() * 33;
    }
    for (name, peer) in client.peers.iter().filter(|(_, p)| !p.is_stranger()) {
        total += 64 + name.len();
        for session in peer.sessions.values() {
            total += 160 + 20 * SENT_LOG_LEN + max_state_len(&session.ratchet);
        }
        total += peer.held.iter().map(|h| 24 + h.text.len()).sum::<usize>();
    }
    total
}

/// Serialises everything worth keeping. The result holds secrets: seal it before storing.
pub fn encode_client(client: &Client) -> Zeroizing<Vec<u8>> {
    let mut w = Writer::with_capacity(capacity(client));
    w.bytes(MAGIC).u16(STATE_VERSION);
    name(&mut w, &client.account);
    name(&mut w, &client.protocol);
    w.bytes(client.identity.key_pair().secret_bytes().expose()).u32(client.our_tag).u64(client.next_message_id);

    let trusted: Vec<_> = client.trust.peers().collect();
    w.u32(trusted.len() as u32);
    for (peer, keys) in trusted {
        name(&mut w, peer);
        w.u32(keys.len() as u32);
        for key in keys {
            w.bytes(&key.fingerprint).u8(key.trust as u8);
        }
    }

    // Strangers (peers the application never addressed, holding only what unauthenticated
    // senders gave them) are never stored: a reload must not make them permanent.
    let stored: Vec<(&String, &Peer)> = client.peers.iter().filter(|(_, p)| !p.is_stranger()).collect();
    w.u32(stored.len() as u32);
    for (peer_name, peer) in stored {
        name(&mut w, peer_name);
        w.u64(peer.max_message_size.unwrap_or(0) as u64).u8(u8::from(peer.stop_tagging)).u32(peer.preferred.unwrap_or(0));
        w.u8(peer.advertised);
        w.u32(peer.sessions.len() as u32);
        for session in peer.sessions.values() {
            w.u32(session.their_tag).bytes(&session.ssid).bytes(&session.their_fingerprint);
            w.u8(u8::from(session.we_initiated)).u8(u8::from(session.finished));
            w.u64(session.last_received).u64(session.last_sent);
            w.u8(u8::from(session.unanswered_since.is_some())).u64(session.unanswered_since.unwrap_or(0));
            w.u32(session.smp_failures);
            let sent: Vec<_> = session.sent_log.entries().collect();
            w.u32(sent.len() as u32);
            for (prefix, number, id) in sent {
                w.bytes(prefix).u32(*number).u64(*id);
            }
            session.ratchet.write_state(&mut w);
        }
        let held: Vec<&Held> = peer.held.iter().collect();
        w.u32(held.len() as u32);
        for message in held {
            w.u64(message.id).u32(message.text.len() as u32).bytes(&message.text).u64(message.queued_at);
        }
    }
    w.into_zeroizing()
}

fn flag(r: &mut Reader<'_>) -> Result<bool, StoreError> {
    match r.u8().map_err(truncated)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(StoreError::InvalidState("boolean flag")),
    }
}

fn count(r: &mut Reader<'_>, cap: usize, what: &'static str) -> Result<usize, StoreError> {
    let n = r.u32().map_err(truncated)? as usize;
    if n > cap {
        return Err(StoreError::InvalidState(what));
    }
    Ok(n)
}

/// Rebuilds a client from [`encode_client`]'s bytes, with the application's current settings
/// and random source. Every count is checked against the live caps.
pub fn decode_client(bytes: &[u8], settings: Settings, rng: Box<dyn RandomSource>) -> Result<Client, StoreError> {
    let mut r = Reader::new(bytes);
    if r.bytes(MAGIC.len()).map_err(truncated)? != MAGIC {
        return Err(StoreError::InvalidState("state magic"));
    }
    let version = r.u16().map_err(truncated)?;
    if version != STATE_VERSION {
        return Err(StoreError::UnsupportedVersion(version));
    }
    let account = read_name(&mut r)?;
    let protocol = read_name(&mut r)?;
    let identity = IdentityKey::from_secret_bytes(r.array::<32>().map_err(truncated)?);
    let our_tag = r.u32().map_err(truncated)?;
    let next_message_id = r.u64().map_err(truncated)?;
    let our_fingerprint = identity.fingerprint();

    let mut trust = TrustStore::default();
    for _ in 0..count(&mut r, MAX_STORED_PEERS, "trusted peer count")? {
        let peer = read_name(&mut r)?;
        let keys = count(&mut r, MAX_KEYS_PER_PEER, "key count")?;
        let mut loaded = Vec::with_capacity(keys);
        for _ in 0..keys {
            let fingerprint = r.array::<32>().map_err(truncated)?;
            let level = Trust::from_u32(u32::from(r.u8().map_err(truncated)?)).ok_or(StoreError::InvalidState("trust level"))?;
            loaded.push((fingerprint, level));
        }
        // Observe in stored order (oldest first) to keep "most recently used last".
        for (fingerprint, level) in loaded {
            trust.observe(&peer, fingerprint);
            trust.set_trust(&peer, fingerprint, level);
        }
    }

    let mut peers = BTreeMap::new();
    for _ in 0..count(&mut r, MAX_STORED_PEERS, "peer count")? {
        let peer_name = read_name(&mut r)?;
        let mut peer = Peer::new(&peer_name);
        peer.pinned = true; // it was worth storing
        let max_size = r.u64().map_err(truncated)?;
        peer.max_message_size = (max_size > 0).then_some(usize::try_from(max_size).unwrap_or(usize::MAX));
        peer.stop_tagging = flag(&mut r)?;
        let preferred = r.u32().map_err(truncated)?;
        peer.preferred = (preferred != 0).then_some(preferred);
        peer.advertised = r.u8().map_err(truncated)?;
        for _ in 0..count(&mut r, MAX_INSTANCES_PER_PEER, "session count")? {
            let their_tag = r.u32().map_err(truncated)?;
            let ssid = r.array::<32>().map_err(truncated)?;
            let their_fingerprint = r.array::<32>().map_err(truncated)?;
            let we_initiated = flag(&mut r)?;
            let finished = flag(&mut r)?;
            let last_received = r.u64().map_err(truncated)?;
            let last_sent = r.u64().map_err(truncated)?;
            let has_unanswered = flag(&mut r)?;
            let unanswered = r.u64().map_err(truncated)?;
            let smp_failures = r.u32().map_err(truncated)?;
            let mut sent_log = SentLog::default();
            for _ in 0..count(&mut r, SENT_LOG_LEN, "sent-log length")? {
                let prefix = r.array::<8>().map_err(truncated)?;
                sent_log.push(prefix, r.u32().map_err(truncated)?, r.u64().map_err(truncated)?);
            }
            let ratchet = Ratchet::read_state(&mut r).map_err(truncated)?;
            let times = (last_received, last_sent, has_unanswered.then_some(unanswered));
            let session = Session::restore(
                their_tag,
                ratchet,
                ssid,
                their_fingerprint,
                our_fingerprint,
                we_initiated,
                finished,
                times,
                smp_failures,
                sent_log,
            );
            peer.sessions.insert(their_tag, Box::new(session));
        }
        for _ in 0..count(&mut r, MAX_HELD_MESSAGES, "held message count")? {
            let id = r.u64().map_err(truncated)?;
            let text = Zeroizing::new(r.data().map_err(truncated)?.to_vec());
            let queued_at = r.u64().map_err(truncated)?;
            if !peer.held.push(Held { id, text, queued_at }) {
                return Err(StoreError::InvalidState("held message count"));
            }
        }
        peers.insert(peer_name, peer);
    }
    r.finish().map_err(|_| StoreError::InvalidState("trailing bytes"))?;

    let mut client = Client::with_parts(&account, &protocol, identity, our_tag, settings, rng)
        .map_err(|_| StoreError::InvalidState("account, protocol or instance tag"))?;
    client.trust = trust;
    client.peers = peers;
    client.next_message_id = next_message_id.max(1);
    client.recount_unauthenticated();
    Ok(client)
}
