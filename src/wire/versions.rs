//! The set of protocol versions a peer advertises (in a query message or whitespace tag).
//! A bitset so unknown versions can be ignored instead of rejected.

/// A set of offrec protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Versions(u8);

impl Versions {
    /// Protocol version 1, the only one so far.
    pub const V1: Versions = Versions(1);
    /// Every version this build speaks.
    pub const SUPPORTED: Versions = Versions::V1;

    /// The empty set.
    pub const fn empty() -> Self {
        Versions(0)
    }

    /// The set with these raw bits (bit 0 = version 1; bits naming unknown versions are kept
    /// and simply match nothing we speak).
    pub const fn from_bits(bits: u8) -> Self {
        Versions(bits)
    }

    /// The raw bits (bit 0 = version 1).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no version is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every version of `other` is in `self`.
    pub const fn contains(self, other: Versions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets together.
    pub const fn union(self, other: Versions) -> Self {
        Versions(self.0 | other.0)
    }

    /// Versions in both sets.
    pub const fn intersection(self, other: Versions) -> Self {
        Versions(self.0 & other.0)
    }

    /// The version a single advertised character stands for; `None` for anything we do not know
    /// (callers ignore those, so future versions do not break old peers).
    pub const fn from_char(c: char) -> Option<Versions> {
        match c {
            '1' => Some(Versions::V1),
            _ => None,
        }
    }

    /// The advertised characters, lowest version first (`"1"` for v1).
    pub fn chars(self) -> impl Iterator<Item = char> {
        [('1', Versions::V1)].into_iter().filter(move |(_, v)| self.contains(*v)).map(|(c, _)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert!(Versions::empty().is_empty());
        assert!(Versions::V1.contains(Versions::V1));
        assert!(!Versions::empty().contains(Versions::V1));
        assert_eq!(Versions::empty().union(Versions::V1), Versions::V1);
        assert_eq!(Versions::V1.union(Versions::V1), Versions::V1); // a union, not a toggle
        assert_eq!(Versions::V1.intersection(Versions::empty()), Versions::empty());
        assert_eq!(Versions::from_char('1'), Some(Versions::V1));
        assert_eq!(Versions::from_char('2'), None);
        assert_eq!(Versions::V1.chars().collect::<String>(), "1");
        assert_eq!(Versions::empty().chars().count(), 0);
    }

    #[test]
    fn raw_bits_round_trip_unknown_versions_included() {
        // The handshake carries these bits. While version 1 is the only one, every caller holds
        // 0 or 1, so only this test tells the accessor from a constant.
        for bits in [0u8, 1, 2, 0x81, 0xFE, 0xFF] {
            assert_eq!(Versions::from_bits(bits).bits(), bits);
        }
        assert_eq!(Versions::empty().bits(), 0);
        assert_eq!(Versions::V1.bits(), 1);
    }
}
