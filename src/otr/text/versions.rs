//! Which OTR protocol versions a peer offers (in a query or a whitespace tag) and which ones we
//! speak. OTR numbers its versions 1 to 4; we speak 3 and 2 only: version 1 is broken and
//! retired, version 4 is a different protocol (it is only recognised, never answered).

pub use crate::otr::message::OtrVersion;

impl OtrVersion {
    /// The version number (`2` / `3`), as queries and headers write it.
    pub const fn number(self) -> u8 {
        match self {
            OtrVersion::V2 => 2,
            OtrVersion::V3 => 3,
        }
    }

    /// The set holding only this version.
    pub const fn as_set(self) -> OtrVersions {
        match self {
            OtrVersion::V2 => OtrVersions::V2,
            OtrVersion::V3 => OtrVersions::V3,
        }
    }
}

/// A set of OTR versions. The bits are libotr's policy bits (`ALLOW_V1` = 1, `ALLOW_V2` = 2,
/// `ALLOW_V3` = 4), plus 8 for version 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OtrVersions(u8);

impl OtrVersions {
    /// Version 1: noted when offered, never spoken.
    pub const V1: OtrVersions = OtrVersions(0x01);
    /// Version 2.
    pub const V2: OtrVersions = OtrVersions(0x02);
    /// Version 3.
    pub const V3: OtrVersions = OtrVersions(0x04);
    /// Version 4 (OTRv4): noted when offered, never spoken.
    pub const V4: OtrVersions = OtrVersions(0x08);
    /// The versions we can speak.
    pub const SPOKEN: OtrVersions = OtrVersions(0x06);

    /// The empty set.
    pub const fn empty() -> Self {
        OtrVersions(0)
    }

    /// The raw bits (see the type's documentation).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The set with these bits; bits that name no version are dropped.
    pub const fn from_bits(bits: u8) -> Self {
        OtrVersions(bits & 0x0f)
    }

    /// Whether no version is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every version of `other` is in `self`.
    pub const fn contains(self, other: OtrVersions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets together.
    pub const fn union(self, other: OtrVersions) -> Self {
        OtrVersions(self.0 | other.0)
    }

    /// Versions in both sets.
    pub const fn intersection(self, other: OtrVersions) -> Self {
        OtrVersions(self.0 & other.0)
    }

    /// The version to speak with a peer offering `self` when we allow `allowed`: 3 before 2,
    /// as libotr chooses; never 1 or 4, whatever `allowed` says.
    pub const fn best(self, allowed: OtrVersions) -> Option<OtrVersion> {
        let both = self.0 & allowed.0;
        if both & OtrVersions::V3.0 != 0 {
            Some(OtrVersion::V3)
        } else if both & OtrVersions::V2.0 != 0 {
            Some(OtrVersion::V2)
        } else {
            None
        }
    }

    /// The version a query character stands for (`'2'`, `'3'`, `'4'`; `'1'` is never written
    /// that way: version 1 is `?OTR?`). `None` for anything else, which callers ignore.
    pub const fn from_query_char(c: u8) -> Option<OtrVersions> {
        match c {
            b'2' => Some(OtrVersions::V2),
            b'3' => Some(OtrVersions::V3),
            b'4' => Some(OtrVersions::V4),
            _ => None,
        }
    }
}

impl From<OtrVersion> for OtrVersions {
    fn from(version: OtrVersion) -> Self {
        version.as_set()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_prefers_three_and_never_speaks_one_or_four() {
        let all = OtrVersions::V1.union(OtrVersions::V2).union(OtrVersions::V3).union(OtrVersions::V4);
        assert_eq!(all.best(OtrVersions::SPOKEN), Some(OtrVersion::V3));
        assert_eq!(all.best(OtrVersions::V2), Some(OtrVersion::V2));
        assert_eq!(OtrVersions::V2.best(OtrVersions::V3), None);
        assert_eq!(OtrVersions::V1.union(OtrVersions::V4).best(OtrVersions::from_bits(0xff)), None);
        assert_eq!(OtrVersions::empty().best(OtrVersions::SPOKEN), None);
        // A union with a version already in the set keeps it.
        assert_eq!(OtrVersions::SPOKEN.union(OtrVersions::V3), OtrVersions::SPOKEN);
    }

    #[test]
    fn bits_are_libotr_policy_bits() {
        assert_eq!(OtrVersions::V1.bits(), 0x01);
        assert_eq!(OtrVersions::V2.bits(), 0x02);
        assert_eq!(OtrVersions::V3.bits(), 0x04);
        assert_eq!(OtrVersions::from_bits(0xff).bits(), 0x0f);
        assert_eq!(OtrVersions::from(OtrVersion::V3), OtrVersions::V3);
        assert_eq!(OtrVersion::V2.number(), 2);
        assert!(OtrVersions::SPOKEN.contains(OtrVersions::V2.union(OtrVersions::V3)));
        assert!(!OtrVersions::SPOKEN.contains(OtrVersions::V1));
    }
}
