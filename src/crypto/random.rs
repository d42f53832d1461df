//! Where randomness comes from. The engine never calls the OS directly: it asks a
//! [`RandomSource`], so tests and frozen vectors can inject a deterministic one.

use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

/// A source of random bytes.
pub trait RandomSource: Send {
    /// Fills `out` entirely with random bytes.
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError>;

    /// Returns `N` random bytes.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], RandomError>
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

/// The operating system's CSPRNG (`getrandom(2)` on Linux).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(out).map_err(|_| RandomError)
    }
}

/// A deterministic byte stream, SHA-256(seed ‖ counter) blocks. It exists only so that test
/// vectors can be frozen and reproduced by other implementations; it is **not** for real use
/// (anyone who knows the seed knows every key).
pub struct DeterministicRandom {
    seed: [u8; 32],
    counter: u64,
    buffer: [u8; 32],
    used: usize,
}

impl DeterministicRandom {
    /// A stream from a 32-byte seed.
    pub fn new(seed: [u8; 32]) -> Self {
        Self { seed, counter: 0, buffer: [0; 32], used: 32 }
    }

    /// A stream from a label, for readable test code: the seed is SHA-256(label).
    pub fn from_label(label: &str) -> Self {
        Self::new(Sha256::digest(label.as_bytes()).into())
    }
}

impl RandomSource for DeterministicRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        for byte in out.iter_mut() {
            if self.used == self.buffer.len() {
                let mut hasher = Sha256::new();
                hasher.update(self.seed);
                hasher.update(self.counter.to_be_bytes());
                self.buffer = hasher.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.buffer[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl Drop for DeterministicRandom {
    fn drop(&mut self) {
        self.seed.zeroize();
        self.buffer.zeroize();
    }
}

impl core::fmt::Debug for DeterministicRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeterministicRandom(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_stream_is_reproducible_and_seed_dependent() {
        let mut a = DeterministicRandom::from_label("a");
        let mut a2 = DeterministicRandom::from_label("a");
        let mut b = DeterministicRandom::from_label("b");
        let (x, y, z): ([u8; 70], [u8; 70], [u8; 70]) = (a.array().unwrap(), a2.array().unwrap(), b.array().unwrap());
        assert_eq!(x, y);
        assert_ne!(x, z);
        // Split reads give the same stream as one read.
        let mut c = DeterministicRandom::from_label("a");
        let mut first = [0u8; 33];
        let mut rest = [0u8; 37];
        c.fill(&mut first).unwrap();
        c.fill(&mut rest).unwrap();
        assert_eq!(&x[..33], &first);
        assert_eq!(&x[33..], &rest);
    }

    #[test]
    fn os_random_is_not_constant() {
        let mut os = OsRandom;
        let a: [u8; 32] = os.array().unwrap();
        let b: [u8; 32] = os.array().unwrap();
        assert_ne!(a, b);
    }
}
