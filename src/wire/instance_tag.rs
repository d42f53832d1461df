//! Instance tags tell apart several clients logged in as the same account, so a message meant
//! for one of them is not mangled by the others.

use crate::crypto::random::{RandomError, RandomSource};

/// A 32-bit instance tag. Valid tags are `>= 0x100`; `0` means "no receiver known yet" and is
/// only allowed as the receiver of AKE message 1. Values `1..0x100` are reserved and invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceTag(pub u32);

impl InstanceTag {
    /// "No receiver yet" (AKE message 1 only).
    pub const NONE: InstanceTag = InstanceTag(0);
    /// The smallest valid tag.
    pub const MIN_VALID: u32 = 0x100;
    /// How many draws [`InstanceTag::random`] makes before deciding the source is broken. A working
    /// source draws a value below 0x100 with probability 2^-24, so this is never hit honestly.
    const MAX_DRAWS: usize = 64;

    /// A fresh random valid tag, drawing again while the value is below `0x100`.
    pub fn random(rng: &mut dyn RandomSource) -> Result<Self, RandomError> {
        for _ in 0..Self::MAX_DRAWS {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes)?;
            let tag = InstanceTag(u32::from_be_bytes(bytes));
            if tag.is_valid() {
                return Ok(tag);
            }
        }
        // A source that keeps returning tiny values is broken; refuse instead of looping forever.
        Err(RandomError)
    }

    /// Whether this is a real tag (`>= 0x100`).
    pub const fn is_valid(self) -> bool {
        self.0 >= Self::MIN_VALID
    }

    /// Whether this is the "no receiver yet" tag.
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// Eight lowercase hex digits, as in fragments.
impl core::fmt::Display for InstanceTag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random::DeterministicRandom;

    /// Returns a fixed script of 4-byte words, then zeros.
    struct Script(Vec<u8>);
    impl RandomSource for Script {
        fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
            for b in out.iter_mut() {
                *b = if self.0.is_empty() { 0 } else { self.0.remove(0) };
            }
            Ok(())
        }
    }

    #[test]
    fn validity_boundaries() {
        assert!(!InstanceTag(0).is_valid());
        assert!(InstanceTag(0).is_none());
        assert!(!InstanceTag(0xFF).is_valid());
        assert!(InstanceTag(0x100).is_valid());
        assert!(InstanceTag(u32::MAX).is_valid());
    }

    #[test]
    fn random_redraws_small_values() {
        let mut rng = Script(vec![0, 0, 0, 5, 0, 0, 0, 0xFF, 0, 0, 1, 0]);
        assert_eq!(InstanceTag::random(&mut rng).unwrap(), InstanceTag(0x100));
    }

    #[test]
    fn random_gives_up_on_a_broken_source() {
        let mut rng = Script(Vec::new());
        assert_eq!(InstanceTag::random(&mut rng), Err(RandomError));
    }

    #[test]
    fn random_tags_are_valid() {
        let mut rng = DeterministicRandom::from_label("tags");
        for _ in 0..100 {
            assert!(InstanceTag::random(&mut rng).unwrap().is_valid());
        }
    }

    #[test]
    fn display_is_eight_hex_digits() {
        assert_eq!(InstanceTag(0x100).to_string(), "00000100");
        assert_eq!(InstanceTag(0xDEADBEEF).to_string(), "deadbeef");
        assert_eq!(InstanceTag(0).to_string(), "00000000");
    }
}
