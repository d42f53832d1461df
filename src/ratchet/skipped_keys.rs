//! Keys of messages that were skipped (lost or still in flight), kept so they can be read when
//! they arrive. Everything here is attacker-influenced, so it is capped in count and in age.

use std::collections::VecDeque;

use crate::crypto::SecretKey;

/// At most this many skipped keys are stored per session; the oldest is evicted first.
pub const MAX_STORED_SKIPPED_KEYS: usize = 1000;
/// A skipped key is dropped after this many receiving DH steps...
pub const MAX_SKIPPED_KEY_DH_STEPS: u64 = 5;
/// ...or after this many seconds.
pub const MAX_SKIPPED_KEY_AGE_SECS: u64 = 24 * 60 * 60;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SkippedKey {
    pub their_key: [u8; 32],
    pub number: u32,
    /// The chain key at this message: its message key and extra key seed derive from it.
    pub chain_key: SecretKey,
    pub dh_step: u64,
    pub stored_at: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SkippedKeys(VecDeque<SkippedKey>);

impl SkippedKeys {
    pub fn find(&self, their_key: &[u8; 32], number: u32) -> Option<usize> {
        self.0.iter().position(|k| k.number == number && &k.their_key == their_key)
    }

    pub fn get(&self, index: usize) -> Option<&SkippedKey> {
        self.0.get(index)
    }

    pub fn remove(&mut self, index: usize) -> Option<SkippedKey> {
        self.0.remove(index)
    }

    /// Stores a key, returning any evicted to stay within the cap.
    pub fn insert(&mut self, key: SkippedKey) -> Vec<SkippedKey> {
        let mut evicted = Vec::new();
        while self.0.len() >= MAX_STORED_SKIPPED_KEYS {
            evicted.extend(self.0.pop_front());
        }
        self.0.push_back(key);
        evicted
    }

    /// Removes keys that are too old in DH steps or in time.
    pub fn expire(&mut self, current_dh_step: u64, now: u64) -> Vec<SkippedKey> {
        let fresh = |k: &SkippedKey| {
            current_dh_step.saturating_sub(k.dh_step) <= MAX_SKIPPED_KEY_DH_STEPS
                && now.saturating_sub(k.stored_at) <= MAX_SKIPPED_KEY_AGE_SECS
        };
        // Every receive calls this, nearly always with nothing to expire (or nothing stored):
        // then the deque is left as it is, not drained and rebuilt.
        if self.0.iter().all(fresh) {
            return Vec::new();
        }
        let (keep, expired): (VecDeque<_>, VecDeque<_>) = self.0.drain(..).partition(|k| fresh(k));
        self.0 = keep;
        expired.into()
    }

    /// Removes every key (session end).
    pub fn drain_all(&mut self) -> Vec<SkippedKey> {
        self.0.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SkippedKey> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(number: u32, dh_step: u64, stored_at: u64) -> SkippedKey {
        SkippedKey {
            their_key: [7; 32],
            number,
            chain_key: SecretKey::from_bytes([number as u8; 32]),
            dh_step,
            stored_at,
        }
    }

    #[test]
    fn expire_keeps_fresh_keys_in_order_and_returns_only_the_stale_ones() {
        let mut keys = SkippedKeys::default();
        let age = MAX_SKIPPED_KEY_AGE_SECS;
        for (number, dh_step, stored_at) in [(0, 0, 200), (1, 3, 200), (2, 1, 200 + age), (3, 6, 100)] {
            keys.insert(key(number, dh_step, stored_at));
        }
        let before = keys.clone();
        // Nothing stale: nothing returned, nothing changed.
        assert!(keys.expire(MAX_SKIPPED_KEY_DH_STEPS, 100 + age).is_empty());
        assert_eq!(keys, before);
        // Key 0 too old in DH steps, key 3 too old in time; 1 and 2 stay, in order.
        let expired = keys.expire(MAX_SKIPPED_KEY_DH_STEPS + 1, 200 + age);
        assert_eq!(expired.iter().map(|k| k.number).collect::<Vec<_>>(), [0, 3]);
        assert_eq!(keys.iter().map(|k| k.number).collect::<Vec<_>>(), [1, 2]);
        assert!(SkippedKeys::default().expire(u64::MAX, u64::MAX).is_empty());
    }
}
