//! A map and a set kept as one sorted `Vec`, for the client's tables.
//!
//! `BTreeMap` instantiates its node machinery (search, split, merge, steal, drop) once per key and
//! value type; across the client's ten or so tables that was the largest single item of the
//! browser package. These tables are small (invoke ids within the negotiated window) or filled in
//! key order (point types in name-list order), where a sorted `Vec` looks up in O(log n) like the
//! tree and inserts by appending.

use alloc::vec::Vec;
use core::fmt;

/// A map ordered by key: one sorted `Vec` of entries.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) const fn new() -> Self {
        VecMap(Vec::new())
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        // The last entry first: keys often come in increasing order (invoke ids, batch ids,
        // sorted name lists), so an insert is then an append without a search.
        match self.0.last() {
            Some((k, _)) if *k < *key => Err(self.0.len()),
            _ => self.0.binary_search_by(|(k, _)| k.cmp(key)),
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// No entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `key` has an entry.
    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`, returning the value it replaces.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Remove `key`'s entry, returning its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// Remove every entry.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The keys in order, consuming the map.
    pub(crate) fn into_keys(self) -> impl Iterator<Item = K> {
        self.0.into_iter().map(|(k, _)| k)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = alloc::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// A set ordered by value: a [`VecMap`] without values.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct VecSet<K>(VecMap<K, ()>);

impl<K> Default for VecSet<K> {
    fn default() -> Self {
        VecSet(VecMap::default())
    }
}

impl<K: Ord> VecSet<K> {
    /// An empty set.
    pub(crate) const fn new() -> Self {
        VecSet(VecMap::new())
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// No members.
    // Unused without the feature `server` (a client never answers a conclude).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `key` is a member.
    pub(crate) fn contains(&self, key: &K) -> bool {
        self.0.contains_key(key)
    }

    /// Add `key`; false if it was a member already.
    pub(crate) fn insert(&mut self, key: K) -> bool {
        self.0.insert(key, ()).is_none()
    }

    /// Remove `key`; false if it was not a member.
    pub(crate) fn remove(&mut self, key: &K) -> bool {
        self.0.remove(key).is_some()
    }

    /// Remove every member.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

impl<K: fmt::Debug> fmt::Debug for VecSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.0 .0.iter().map(|(k, _)| k))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_key_order_whatever_the_insert_order() {
        let mut m = VecMap::new();
        for k in [5u32, 1, 9, 3, 7, 10, 0] {
            assert_eq!(m.insert(k, k * 10), None);
        }
        assert_eq!(m.insert(3, 33), Some(30));
        assert_eq!(m.into_keys().collect::<Vec<_>>(), [0, 1, 3, 5, 7, 9, 10]);
    }

    #[test]
    fn map_get_remove() {
        let mut m = VecMap::new();
        for k in 0u32..100 {
            m.insert(k, k);
        }
        assert_eq!(m.get(&42), Some(&42));
        *m.get_mut(&42).unwrap() = 0;
        assert_eq!(m.remove(&42), Some(0));
        assert_eq!(m.remove(&42), None);
        assert!(!m.contains_key(&42) && m.contains_key(&43));
        assert_eq!(m.len(), 99);
        assert_eq!(m.values().copied().max(), Some(99));
        m.clear();
        assert!(m.is_empty());
    }

    #[test]
    fn set() {
        let mut s = VecSet::new();
        assert!(s.insert("b") && s.insert("a") && !s.insert("b"));
        assert!(s.contains(&"a") && s.len() == 2);
        assert!(s.remove(&"a") && !s.remove(&"a"));
        s.clear();
        assert!(s.is_empty());
    }
}
