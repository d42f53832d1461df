//! The kinds of identity key a trust entry can name. Today every entry is [`KeyKind::Modern`];
//! the stored format already carries the kind (STORAGE.md §4.2), so OTR's DSA keys can be
//! trusted beside them without a format change.

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
}
