//! A group's candidate index, one ordered set per kind of work (R-K1..R-K3), and the ordered
//! key each strategy files an agent under in it.

use std::cmp::Ordering;
use std::collections::{BTreeSet, btree_set};

use crate::keys::{AgentKey, KindKey};
use crate::strategy::Strategy;

/// The members of one group that may take automatic work now, per kind, best first under the
/// group's strategy. Filing and unfiling an agent costs O(K · log a) for `K` kinds, and so
/// does moving it after its load changes ([`Candidates::refile`], one pass); with one kind,
/// one set, as before kinds. Each set is a [`CandSet`]: a sorted vector while short.
///
/// `fit[k]` holds the members that fit one more conversation of kind `k` in every dimension of
/// their own (eligible, units, the kind's maximum, blocking: [`fit`](super::fit)). A group
/// with a cap on its work per agent (R-K3) keeps, beside, `own[k]`: those of them that are
/// below that cap too. Its own conversations are served from `own`; another group's, routed
/// through it (overflow, designation), from `fit`, since its cap bounds its own work only.
#[derive(Clone, Debug, Default)]
pub(crate) struct Candidates {
    fit: Vec<CandSet>,
    own: Vec<CandSet>,
}

/// The empty set, for a kind the index was not sized for.
static NONE: CandSet = CandSet::Small(Vec::new());

impl Candidates {
    /// Empties the index and sizes it for `kinds` kinds, with the second set per kind when
    /// the group caps its work (`capped`).
    pub(crate) fn reset(&mut self, kinds: usize, capped: bool) {
        self.fit.iter_mut().for_each(CandSet::clear);
        self.fit.resize_with(kinds, CandSet::default);
        self.own.clear();
        if capped {
            self.own.resize_with(kinds, CandSet::default);
        }
    }

    /// Takes an agent out under every kind. O(K · log a).
    pub(crate) fn remove(&mut self, key: &CandKey) {
        for set in self.fit.iter_mut().chain(self.own.iter_mut()) {
            set.remove(key);
        }
    }

    /// Moves an agent from `old` (where it was filed, if anywhere) to `new` (where it is now,
    /// if anywhere) under each kind, `fits(k)` telling under which sets of kind `k` it goes
    /// now: `None` none, `Some(false)` the sets of every group's work, `Some(true)` also those
    /// below the group's cap. One pass instead of [`Candidates::remove`] then
    /// filing it anew: in a short set, one move. O(K · log a).
    pub(crate) fn refile(
        &mut self,
        old: Option<&CandKey>,
        new: Option<CandKey>,
        mut fits: impl FnMut(KindKey) -> Option<bool>,
    ) {
        for k in 0..self.fit.len() {
            let fit = new.and_then(|n| fits(k).map(|below| (n, below)));
            if let Some(set) = self.fit.get_mut(k) {
                set.replace(old, fit.map(|(n, _)| n));
            }
            if let Some(set) = self.own.get_mut(k) {
                set.replace(old, fit.and_then(|(n, below)| below.then_some(n)));
            }
        }
    }

    /// The candidates for a conversation of kind `k`: the group's own work (`own`), or
    /// another group's routed through this one.
    pub(crate) fn for_work(&self, k: KindKey, own: bool) -> &CandSet {
        let sets = if own && !self.own.is_empty() {
            &self.own
        } else {
            &self.fit
        };
        sets.get(k).unwrap_or(&NONE)
    }
}

/// An ordered set of candidate keys, as the candidate index keeps them: a sorted vector while
/// small, a B-tree above [`CandSet::SMALL_MAX`] entries (back to a vector below a quarter of
/// that). Most routing keys (R-SK4) have few qualified members, and re-filing an agent under
/// each of its keys on every change of its load is the price of skills: in a short sorted
/// vector a removal or an insertion is a binary search and a short move, several times
/// cheaper than a B-tree's. Both stay O(log a) lookups; a move costs at most `SMALL_MAX`
/// entries.
#[derive(Clone, Debug)]
pub(crate) enum CandSet {
    Small(Vec<CandKey>),
    Large(BTreeSet<CandKey>),
}

impl Default for CandSet {
    fn default() -> Self {
        CandSet::Small(Vec::new())
    }
}

impl CandSet {
    /// The most entries kept as a sorted vector.
    pub(crate) const SMALL_MAX: usize = 128;

    fn clear(&mut self) {
        *self = CandSet::default();
    }

    /// Adds a key; `false` if it was there.
    pub(crate) fn insert(&mut self, key: CandKey) -> bool {
        match self {
            CandSet::Small(keys) => match keys.binary_search(&key) {
                Ok(_) => false,
                Err(i) => {
                    keys.insert(i, key);
                    if keys.len() > Self::SMALL_MAX {
                        *self = CandSet::Large(keys.drain(..).collect());
                    }
                    true
                }
            },
            CandSet::Large(keys) => keys.insert(key),
        }
    }

    /// Takes a key out; `false` if it was not there.
    pub(crate) fn remove(&mut self, key: &CandKey) -> bool {
        match self {
            CandSet::Small(keys) => match keys.binary_search(key) {
                Ok(i) => {
                    keys.remove(i);
                    true
                }
                Err(_) => false,
            },
            CandSet::Large(keys) => {
                let removed = keys.remove(key);
                if keys.len() < Self::SMALL_MAX / 4 {
                    *self = CandSet::Small(std::mem::take(keys).into_iter().collect());
                }
                removed
            }
        }
    }

    /// Replaces `old` (if it is there) with `new` (if any): in a short set, one move of the
    /// entries between the two places.
    pub(crate) fn replace(&mut self, old: Option<&CandKey>, new: Option<CandKey>) {
        let CandSet::Small(keys) = self else {
            if let Some(old) = old {
                self.remove(old);
            }
            if let Some(new) = new {
                self.insert(new);
            }
            return;
        };
        let at = old.and_then(|o| keys.binary_search(o).ok());
        // Where `new` goes, `old` still in place; past the last key (least recently assigned,
        // after an assignment) without a search.
        let place = |keys: &[CandKey], n: &CandKey| match keys.last() {
            Some(last) if n > last => Err(keys.len()),
            _ => keys.binary_search(n),
        };
        match (at, new) {
            (Some(i), Some(n)) => match place(keys, &n) {
                Ok(j) if j == i => {}
                Ok(_) => {
                    // Keys name their agent, so `new` can only be `old`; kept whole anyway.
                    keys.remove(i);
                }
                Err(j) if j > i => {
                    keys.copy_within(i + 1..j, i);
                    keys[j - 1] = n;
                }
                Err(j) => {
                    keys.copy_within(j..i, j + 1);
                    keys[j] = n;
                }
            },
            (Some(i), None) => {
                keys.remove(i);
            }
            (None, Some(n)) => {
                self.insert(n);
            }
            (None, None) => {}
        }
    }

    /// How many keys it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            CandSet::Small(keys) => keys.len(),
            CandSet::Large(keys) => keys.len(),
        }
    }

    /// The keys, smallest (best) first.
    pub(crate) fn iter(&self) -> CandIter<'_> {
        match self {
            CandSet::Small(keys) => CandIter::Small(keys.iter()),
            CandSet::Large(keys) => CandIter::Large(keys.range(..)),
        }
    }

    /// The keys from `from` on, smallest first.
    pub(crate) fn range_from(&self, from: &CandKey) -> CandIter<'_> {
        match self {
            CandSet::Small(keys) => {
                let start = keys.partition_point(|k| k < from);
                CandIter::Small(keys[start..].iter())
            }
            CandSet::Large(keys) => CandIter::Large(keys.range(from..)),
        }
    }
}

/// An iterator over a [`CandSet`]'s keys, in order.
pub(crate) enum CandIter<'a> {
    Small(std::slice::Iter<'a, CandKey>),
    Large(btree_set::Range<'a, CandKey>),
}

impl<'a> Iterator for CandIter<'a> {
    type Item = &'a CandKey;

    fn next(&mut self) -> Option<&'a CandKey> {
        match self {
            CandIter::Small(it) => it.next(),
            CandIter::Large(it) => it.next(),
        }
    }
}

/// An exact fraction `load / limit` (units held over capacity) with a non-zero denominator,
/// ordered by value. The numerator is 64 bits wide: manual assignments may take the load far
/// past any capacity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ratio {
    pub num: u64,
    pub den: u32,
}

impl Ratio {
    pub(crate) const ZERO: Ratio = Ratio { num: 0, den: 1 };
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl Ratio {
    /// The fraction as a 64-bit fixed-point number, `floor(num / den · 2⁶⁴)`, for a fraction
    /// below 1 (a listed agent's load is below its limit; anything else saturates). The map
    /// keeps the exact order: two fractions with denominators below 2³² that differ, differ
    /// by at least 2⁻⁶⁴, so their floors differ; equal fractions have equal floors.
    fn fixed(self) -> u64 {
        if self.num >= u64::from(self.den) {
            return u64::MAX;
        }
        let scaled = (u128::from(self.num) << 64) / u128::from(self.den);
        u64::try_from(scaled).unwrap_or(u64::MAX)
    }
}

/// Where an agent stands in one group's candidate index: the smallest key is the best
/// candidate. `first` and `second` hold what the strategy orders by (constant when unused),
/// `agent` (registration order) is the final tie-break, so the derived order is the strategy's
/// order. Three integers: comparing two keys is three integer comparisons, which matters
/// because an assignment re-files its agent in each of its groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CandKey {
    first: u64,
    second: u64,
    pub agent: AgentKey,
}

impl CandKey {
    pub(crate) fn new(
        strategy: Strategy,
        ratio: Ratio,
        rank: u8,
        last: u64,
        agent: AgentKey,
    ) -> Self {
        let (first, second) = match strategy {
            Strategy::LeastRecentlyAssigned | Strategy::BestSkilled => (last, 0),
            Strategy::RoundRobin => (0, 0),
            Strategy::LeastLoaded => (ratio.fixed(), last),
            Strategy::AgentPriority => (u64::from(rank), last),
        };
        CandKey {
            first,
            second,
            agent,
        }
    }
}

impl CandKey {
    /// The key under best skilled (R-SK3): the highest `sum` of levels on the required skills
    /// first, then the most preferred skills `matched`, then the least recently assigned
    /// (`last`), then registration order.
    pub(crate) fn skilled(sum: u32, matched: u32, last: u64, agent: AgentKey) -> Self {
        CandKey {
            first: (u64::from(u32::MAX - sum) << 32) | u64::from(u32::MAX - matched),
            second: last,
            agent,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A candidate set agrees with a B-tree set through inserts, removals and moves (an
    /// agent's key replaced) that take it past `SMALL_MAX` and back, and its range lookups
    /// agree too. As in the index, an agent has at most one key.
    #[test]
    fn cand_set_agrees_with_a_btree_set_small_and_large() {
        let mut set = CandSet::default();
        let mut reference = BTreeSet::new();
        let mut filed: BTreeMap<AgentKey, CandKey> = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut went_large = false;
        for step in 0..40_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let agent = x % 400;
            let key = CandKey {
                first: (x >> 20) % 7,
                second: (x >> 30) % 5,
                agent,
            };
            let old = filed.get(&agent).copied();
            // Mostly in the first half, rarely in the second.
            let file = (x >> 40) % 20 < if step < 20_000 { 14 } else { 1 };
            let new = file.then_some(key);
            if (x >> 50).is_multiple_of(3) {
                // As the index does for a kind the agent did not fit: the key it had, or has
                // now, though the set does not hold it.
                let absent = CandKey {
                    first: (x >> 55) % 7,
                    ..key
                };
                set.replace(Some(old.as_ref().unwrap_or(&absent)), new);
            } else {
                if let Some(old) = &old {
                    assert!(set.remove(old));
                }
                if let Some(new) = new {
                    assert!(set.insert(new));
                }
            }
            if let Some(old) = old {
                reference.remove(&old);
                filed.remove(&agent);
            }
            if let Some(new) = new {
                reference.insert(new);
                filed.insert(agent, new);
            }
            went_large |= matches!(set, CandSet::Large(_));
            assert_eq!(set.len(), reference.len());
            if step.is_multiple_of(97) {
                assert!(set.iter().eq(reference.iter()));
                assert!(set.range_from(&key).eq(reference.range(key..)));
            }
        }
        assert!(went_large, "the test took the set past SMALL_MAX");
        assert!(matches!(set, CandSet::Small(_)), "and back: {}", set.len());
    }

    #[test]
    fn ratios_compare_exactly() {
        let r = |num, den| Ratio { num, den };
        assert_eq!(r(1, 2), r(2, 4));
        assert!(r(1, 3) < r(1, 2));
        assert!(r(2, 3) > r(3, 5));
        assert!(r(u64::from(u32::MAX) - 1, u32::MAX) < r(u64::from(u32::MAX), u32::MAX));
        assert!(r(u64::MAX, 1) > r(u64::MAX - 1, 1));
    }

    #[test]
    fn fixed_point_ratios_keep_the_exact_order() {
        let r = |num, den| Ratio { num, den };
        let pairs = [
            (r(1, 2), r(2, 4)),
            (r(1, 3), r(1, 2)),
            (r(3, 5), r(2, 3)),
            (
                r(u64::from(u32::MAX) - 2, u32::MAX - 1),
                r(u64::from(u32::MAX) - 1, u32::MAX),
            ),
            (r(0, 7), r(1, u32::MAX)),
            (r(1, u32::MAX), r(1, u32::MAX - 1)),
        ];
        for (a, b) in pairs {
            assert_eq!(a.cmp(&b), a.fixed().cmp(&b.fixed()), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn least_loaded_key_orders_by_ratio_then_recency_then_registration() {
        let key = |num, den, last, agent| {
            CandKey::new(Strategy::LeastLoaded, Ratio { num, den }, 3, last, agent)
        };
        assert!(key(1, 4, 9, 9) < key(1, 3, 0, 0));
        assert!(key(1, 2, 3, 9) < key(2, 4, 4, 0));
        assert!(key(1, 2, 3, 1) < key(2, 4, 3, 2));
    }
}
