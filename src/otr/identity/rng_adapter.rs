//! Lets the `dsa` crate's key generation draw from offrec's [`RandomSource`].
//!
//! The crate wants an infallible generator (its prime search unwraps errors), while a
//! [`RandomSource`] may fail. So a failure is recorded and, from then on, the adapter hands out
//! a SHA-256 counter stream instead of bytes that never change: the crate's search loops still
//! end, and the caller throws the result away because [`SourceRng::failed`] is set. A key made
//! from that stream is never returned.

use std::convert::Infallible;

use dsa::signature::rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

use crate::crypto::RandomSource;

pub(super) struct SourceRng<'a> {
    source: &'a mut dyn RandomSource,
    failed: bool,
    filler_counter: u64,
}

impl<'a> SourceRng<'a> {
    pub(super) fn new(source: &'a mut dyn RandomSource) -> Self {
        SourceRng { source, failed: false, filler_counter: 0 }
    }

    /// Whether the source failed at any point (the output must then be discarded).
    pub(super) fn failed(&self) -> bool {
        self.failed
    }

    fn fill(&mut self, out: &mut [u8]) {
        if !self.failed && self.source.fill(out).is_ok() {
            return;
        }
        self.failed = true;
        for chunk in out.chunks_mut(32) {
            let block = Sha256::digest(self.filler_counter.to_be_bytes());
            self.filler_counter = self.filler_counter.wrapping_add(1);
            for (dst, src) in chunk.iter_mut().zip(block.iter()) {
                *dst = *src;
            }
        }
    }
}

impl TryRng for SourceRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for SourceRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{DeterministicRandom, RandomError};

    struct Broken;
    impl RandomSource for Broken {
        fn fill(&mut self, _out: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError)
        }
    }

    #[test]
    fn passes_bytes_through_and_records_failure() {
        let mut source = DeterministicRandom::from_label("adapter");
        let mut expected = [0u8; 16];
        DeterministicRandom::from_label("adapter").fill(&mut expected).unwrap();
        let mut rng = SourceRng::new(&mut source);
        let mut out = [0u8; 16];
        rng.try_fill_bytes(&mut out).unwrap();
        assert_eq!(out, expected);
        assert!(!rng.failed());
        // The word-sized draws take the source's next bytes too, little-endian.
        let mut words = [0u8; 12];
        let mut next = DeterministicRandom::from_label("adapter");
        next.fill(&mut [0u8; 16]).unwrap();
        next.fill(&mut words).unwrap();
        assert_eq!(rng.try_next_u32().unwrap(), u32::from_le_bytes(words[..4].try_into().unwrap()));
        assert_eq!(rng.try_next_u64().unwrap(), u64::from_le_bytes(words[4..].try_into().unwrap()));
        assert!(!rng.failed());

        let mut broken = Broken;
        let mut rng = SourceRng::new(&mut broken);
        let a = rng.try_next_u64().unwrap();
        let b = rng.try_next_u64().unwrap();
        assert!(rng.failed());
        assert_ne!(a, b, "the filler keeps changing so search loops end");
    }
}
