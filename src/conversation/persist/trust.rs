//! The trust store's stored form (STORAGE.md §4.2). Version 2 writes each key with its kind
//! (`u8 kind ‖ fingerprint of that kind's length ‖ u8 trust`); version 1 had Modern keys only,
//! without the kind byte. Keys are written oldest first and replayed in that order, so which
//! key was used most recently survives a reload.

use super::{read_count, read_name, write_name, StateError, MAX_STORED_PEERS};
use crate::trust::{otr_fingerprint, otr_key_id, KeyKind, Trust, TrustStore, MAX_KEYS_PER_PEER};
use crate::wire::{Reader, Writer};

/// Keys one stored peer may have: the live cap for each kind.
const MAX_STORED_KEYS_PER_PEER: usize = MAX_KEYS_PER_PEER * KeyKind::ALL.len();

/// Upper bound of [`write`]'s output.
pub(super) fn max_len(trust: &TrustStore) -> usize {
    4 + trust.peers().map(|(peer, keys)| 8 + peer.len() + keys.len() * (2 + 32)).sum::<usize>()
}

/// Writes every peer's keys, each with its kind and that kind's fingerprint.
pub(super) fn write(w: &mut Writer, trust: &TrustStore) {
    let trusted: Vec<_> = trust.peers().collect();
    w.u32(trusted.len() as u32);
    for (peer, keys) in trusted {
        write_name(w, peer);
        w.u32(keys.len() as u32);
        for key in keys {
            match otr_fingerprint(&key.fingerprint) {
                Some(dsa) => w.u8(KeyKind::OtrDsa.code()).bytes(&dsa),
                None => w.u8(KeyKind::Modern.code()).bytes(&key.fingerprint),
            };
            w.u8(key.trust as u8);
        }
    }
}

/// Reads a trust store; `with_kinds` is false for version 1, whose keys carry no kind byte.
pub(super) fn read(r: &mut Reader<'_>, with_kinds: bool) -> Result<TrustStore, StateError> {
    let mut trust = TrustStore::default();
    let cap = if with_kinds { MAX_STORED_KEYS_PER_PEER } else { MAX_KEYS_PER_PEER };
    for _ in 0..read_count(r, MAX_STORED_PEERS, "trusted peer count")? {
        let peer = read_name(r)?;
        let keys = read_count(r, cap, "key count")?;
        let mut loaded = Vec::with_capacity(keys);
        for _ in 0..keys {
            let kind = if with_kinds { r.u8()? } else { KeyKind::Modern.code() };
            let fingerprint = match KeyKind::from_code(kind) {
                Some(KeyKind::Modern) => r.array::<32>()?,
                Some(KeyKind::OtrDsa) => otr_key_id(&r.array::<20>()?),
                // Dropping a trust decision silently is worse than refusing the store.
                None => return Err(StateError::UnsupportedKeyKind(kind)),
            };
            let level = Trust::from_u32(u32::from(r.u8()?)).ok_or(StateError::Invalid("trust level"))?;
            loaded.push((fingerprint, level));
        }
        if loaded.len() > MAX_STORED_KEYS_PER_PEER {
            return Err(StateError::Invalid("key count"));
        }
        // Observe in stored order (oldest first) to keep "most recently used last".
        for (fingerprint, level) in loaded {
            trust.observe(&peer, fingerprint);
            trust.set_trust(&peer, fingerprint, level);
        }
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TrustStore {
        let mut trust = TrustStore::default();
        trust.observe("bob", [1; 32]);
        trust.observe("bob", [2; 32]);
        trust.set_trust("bob", [1; 32], Trust::VerifiedSmp);
        trust.observe("carol", [3; 32]);
        trust
    }

    #[test]
    fn every_key_is_written_with_its_kind_and_read_back_in_order() {
        let trust = sample();
        let mut w = Writer::new();
        write(&mut w, &trust);
        let bytes = w.into_vec();
        assert!(bytes.len() <= max_len(&trust));
        // "bob": count, name, key count, then kind 0 ‖ fingerprint ‖ trust.
        assert_eq!(&bytes[4..15], &[0, 0, 0, 3, b'b', b'o', b'b', 0, 0, 0, 2]);
        assert_eq!(bytes[15], KeyKind::Modern.code());
        let read_back = read(&mut Reader::new(&bytes), true).unwrap();
        assert_eq!(read_back, trust);
    }

    #[test]
    fn dsa_keys_are_stored_as_20_bytes_and_unknown_kinds_refuse_the_store() {
        let mut trust = TrustStore::default();
        trust.observe("bob", [1; 32]);
        let dsa = otr_key_id(&[7; 20]);
        trust.observe("bob", dsa);
        trust.set_trust("bob", dsa, Trust::VerifiedManual);
        let mut w = Writer::new();
        write(&mut w, &trust);
        let bytes = w.into_vec();
        // bob's second key: kind 1, 20 fingerprint bytes, trust.
        let second = 15 + 1 + 32 + 1;
        assert_eq!(bytes[second], KeyKind::OtrDsa.code());
        assert_eq!(&bytes[second + 1..second + 21], &[7; 20]);
        assert_eq!(bytes.len(), second + 22);
        assert_eq!(read(&mut Reader::new(&bytes), true).unwrap(), trust);
        let mut unknown = bytes.clone();
        unknown[15] = 9;
        assert_eq!(read(&mut Reader::new(&unknown), true), Err(StateError::UnsupportedKeyKind(9)));
    }
}
