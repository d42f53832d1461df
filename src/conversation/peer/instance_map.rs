//! A map from remote instance tag to a peer's per-instance state (sessions, handshakes in
//! progress), for the handful of instances a peer has.
//!
//! Why not a `BTreeMap`: a B-tree allocates its first leaf for eleven entries (about 230 bytes
//! for a session pointer), and almost every peer has one instance, so that leaf was a tenth of
//! an idle session's memory; and a map emptied by `remove` keeps its leaf. This is a vector kept
//! sorted by tag (the B-tree's order, which routing's ties follow), sized exactly, released when
//! it empties. Lookups scan a few entries.

/// Instance tag to `V`, in ascending tag order, with the `BTreeMap` methods the peer uses.
#[derive(Debug)]
pub(crate) struct InstanceMap<V>(Vec<(u32, V)>);

impl<V> Default for InstanceMap<V> {
    fn default() -> Self {
        InstanceMap(Vec::new())
    }
}

impl<V> InstanceMap<V> {
    fn position(&self, tag: u32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&tag, |(t, _)| *t)
    }

    pub fn get(&self, tag: &u32) -> Option<&V> {
        self.position(*tag).ok().and_then(|i| self.0.get(i)).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, tag: &u32) -> Option<&mut V> {
        let i = self.position(*tag).ok()?;
        self.0.get_mut(i).map(|(_, v)| v)
    }

    pub fn contains_key(&self, tag: &u32) -> bool {
        self.position(*tag).is_ok()
    }

    /// Inserts or replaces; returns the replaced value.
    pub fn insert(&mut self, tag: u32, value: V) -> Option<V> {
        match self.position(tag) {
            Ok(i) => self.0.get_mut(i).map(|(_, old)| core::mem::replace(old, value)),
            Err(i) => {
                // One slot at a time: peers have few instances, and idle ones should not pay
                // for room they never use.
                self.0.reserve_exact(1);
                self.0.insert(i, (tag, value));
                None
            }
        }
    }

    pub fn remove(&mut self, tag: &u32) -> Option<V> {
        let i = self.position(*tag).ok()?;
        let (_, value) = self.0.remove(i);
        self.release_if_empty();
        Some(value)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&u32, &mut V) -> bool) {
        self.0.retain_mut(|(tag, value)| keep(tag, value));
        self.release_if_empty();
    }

    pub fn clear(&mut self) {
        self.0 = Vec::new();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &u32> {
        self.0.iter().map(|(tag, _)| tag)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, value)| value)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u32, &V)> {
        self.0.iter().map(|(tag, value)| (tag, value))
    }

    fn release_if_empty(&mut self) {
        if self.0.is_empty() {
            self.0 = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_the_b_tree_it_replaces() {
        let mut map = InstanceMap::default();
        let mut reference = BTreeMap::new();
        let mut state = 0x2545_F491u32;
        for step in 0..2_000u32 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let tag = 0x100 + state % 7;
            match state % 5 {
                0 | 1 => assert_eq!(map.insert(tag, step), reference.insert(tag, step)),
                2 => assert_eq!(map.remove(&tag), reference.remove(&tag)),
                3 => {
                    map.retain(|t, v| (t + *v) % 3 != 0);
                    reference.retain(|t, v| (t + *v) % 3 != 0);
                }
                _ => {
                    if let (Some(a), Some(b)) = (map.get_mut(&tag), reference.get_mut(&tag)) {
                        *a += 1;
                        *b += 1;
                    }
                }
            }
            assert_eq!(
                map.iter().map(|(t, v)| (*t, *v)).collect::<Vec<_>>(),
                reference.clone().into_iter().collect::<Vec<_>>()
            );
            assert_eq!((map.len(), map.is_empty()), (reference.len(), reference.is_empty()));
            assert_eq!(map.contains_key(&tag), reference.contains_key(&tag));
            assert_eq!(map.get(&tag), reference.get(&tag));
            assert!(map.keys().copied().eq(reference.keys().copied()));
            assert!(map.values().eq(reference.values()));
            if map.is_empty() {
                assert_eq!(map.0.capacity(), 0, "an emptied map holds no memory");
            }
            assert!(map.0.capacity() <= 7, "sized exactly");
        }
        map.clear();
        assert!(map.is_empty() && map.0.capacity() == 0);
    }
}
