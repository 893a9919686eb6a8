//! A slab: values stored inline in a vector, addressed by index, with freed indexes reused.
//! Conversations live here: O(1) access and no per-entry tree overhead.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"),
    deny_unknown_fields
)]
pub(crate) struct Slab<T> {
    entries: Vec<Option<T>>,
    /// Freed indexes, reused last-freed first.
    free: Vec<u64>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// The key the next `insert` will use.
    pub(crate) fn vacant_key(&self) -> u64 {
        self.free
            .last()
            .copied()
            .unwrap_or(self.entries.len() as u64)
    }

    /// Stores a value under [`Slab::vacant_key`] and returns that key.
    pub(crate) fn insert(&mut self, value: T) -> u64 {
        match self.free.pop() {
            Some(k) => {
                if let Some(entry) = usize::try_from(k)
                    .ok()
                    .and_then(|i| self.entries.get_mut(i))
                {
                    *entry = Some(value);
                }
                k
            }
            None => {
                self.entries.push(Some(value));
                self.entries.len() as u64 - 1
            }
        }
    }

    /// Forgets every value.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.free.clear();
    }

    pub(crate) fn remove(&mut self, k: u64) -> Option<T> {
        let value = self.entry_mut(k)?.take()?;
        self.free.push(k);
        Some(value)
    }

    fn entry_mut(&mut self, k: u64) -> Option<&mut Option<T>> {
        self.entries.get_mut(usize::try_from(k).ok()?)
    }

    pub(crate) fn get(&self, k: u64) -> Option<&T> {
        self.entries.get(usize::try_from(k).ok()?)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, k: u64) -> Option<&mut T> {
        self.entry_mut(k)?.as_mut()
    }

    /// Every value with its key, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(k, v)| Some((k as u64, v.as_ref()?)))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.iter().flatten()
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.entries.iter_mut().flatten()
    }

    /// Whether the free list names only empty entries, each once (for restore).
    pub(crate) fn is_consistent(&self) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        self.free.iter().all(|k| {
            seen.insert(*k)
                && usize::try_from(*k)
                    .ok()
                    .and_then(|i| self.entries.get(i))
                    .is_some_and(Option::is_none)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_keys_are_reused_last_freed_first() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        let b = slab.insert("b");
        let c = slab.insert("c");
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(slab.remove(c), Some("c"));
        assert_eq!(slab.remove(c), None);
        assert_eq!(slab.vacant_key(), c);
        assert_eq!(slab.insert("d"), c);
        assert_eq!(slab.insert("e"), a);
        assert_eq!(
            slab.iter().collect::<Vec<_>>(),
            [(0, &"e"), (1, &"b"), (2, &"d")]
        );
        assert!(slab.is_consistent());
    }
}
