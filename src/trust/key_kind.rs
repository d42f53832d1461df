//! The kinds of identity key a trust entry can name: offrec's own keys and OTR's DSA keys. The
//! trust store, the events and the C API name every key by one 32-byte *key id*: a modern
//! fingerprint as it is, a DSA fingerprint (20 bytes) behind [`OTR_KEY_ID_PREFIX`]
//! ([`otr_key_id`]). A SHA-256 fingerprint starts with those 12 bytes with probability 2^-96,
//! so the two never collide in practice; the stored format writes the kind explicitly
//! (STORAGE.md §4.2).

/// The first 12 bytes of the key id of an OTR DSA key.
pub const OTR_KEY_ID_PREFIX: [u8; 12] = *b"otr-dsa-sha1";

/// The key id of an OTR DSA key with SHA-1 fingerprint `fingerprint`.
pub fn otr_key_id(fingerprint: &[u8; 20]) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..12].copy_from_slice(&OTR_KEY_ID_PREFIX);
    id[12..].copy_from_slice(fingerprint);
    id
}

/// The DSA fingerprint inside an OTR key id (`None` for a modern fingerprint).
pub fn otr_fingerprint(key_id: &[u8; 32]) -> Option<[u8; 20]> {
    if key_id[..12] != OTR_KEY_ID_PREFIX {
        return None;
    }
    let mut fingerprint = [0u8; 20];
    fingerprint.copy_from_slice(&key_id[12..]);
    Some(fingerprint)
}

/// Which protocol's identity key a fingerprint belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KeyKind {
    /// offrec's own protocol: an X25519 identity key, SHA-256 fingerprint.
    Modern = 0,
    /// OTR v2/v3: a DSA-1024 identity key, SHA-1 fingerprint.
    OtrDsa = 1,
}

impl KeyKind {
    /// Every kind, in code order.
    pub const ALL: [KeyKind; 2] = [KeyKind::Modern, KeyKind::OtrDsa];

    /// The fingerprint's length in bytes: 32 (SHA-256) or 20 (SHA-1).
    pub const fn fingerprint_len(self) -> usize {
        match self {
            KeyKind::Modern => 32,
            KeyKind::OtrDsa => 20,
        }
    }

    /// The kind of key a key id names.
    pub fn of(key_id: &[u8; 32]) -> KeyKind {
        if otr_fingerprint(key_id).is_some() {
            KeyKind::OtrDsa
        } else {
            KeyKind::Modern
        }
    }

    /// The number stored for this kind.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The kind a stored number names, if any.
    pub const fn from_code(code: u8) -> Option<KeyKind> {
        match code {
            0 => Some(KeyKind::Modern),
            1 => Some(KeyKind::OtrDsa),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_lengths_are_the_documented_ones() {
        for kind in KeyKind::ALL {
            assert_eq!(KeyKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!((KeyKind::Modern.code(), KeyKind::Modern.fingerprint_len()), (0, 32));
        assert_eq!((KeyKind::OtrDsa.code(), KeyKind::OtrDsa.fingerprint_len()), (1, 20));
        assert_eq!(KeyKind::from_code(2), None);
    }

    #[test]
    fn dsa_key_ids_round_trip_and_are_told_apart() {
        let fp = [0xAB; 20];
        let id = otr_key_id(&fp);
        assert_eq!(KeyKind::of(&id), KeyKind::OtrDsa);
        assert_eq!(otr_fingerprint(&id), Some(fp));
        assert_eq!(KeyKind::of(&[7; 32]), KeyKind::Modern);
        assert_eq!(otr_fingerprint(&[7; 32]), None);
    }
}
