//! A group's candidate index, one ordered set per kind of work (R-K1..R-K3), and the ordered
//! key each strategy files an agent under in it.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::keys::{AgentKey, KindKey};
use crate::strategy::Strategy;

/// The members of one group that may take automatic work now, per kind, best first under the
/// group's strategy. Filing and unfiling an agent costs O(K · log a) for `K` kinds; with one
/// kind, one set, as before kinds.
///
/// `fit[k]` holds the members that fit one more conversation of kind `k` in every dimension of
/// their own (eligible, units, the kind's maximum, blocking: [`fit`](super::fit)). A group
/// with a cap on its work per agent (R-K3) keeps, beside, `own[k]`: those of them that are
/// below that cap too. Its own conversations are served from `own`; another group's, routed
/// through it (overflow, designation), from `fit`, since its cap bounds its own work only.
#[derive(Clone, Debug, Default)]
pub(crate) struct Candidates {
    fit: Vec<BTreeSet<CandKey>>,
    own: Vec<BTreeSet<CandKey>>,
}

/// The empty set, for a kind the index was not sized for.
static NONE: BTreeSet<CandKey> = BTreeSet::new();

impl Candidates {
    /// Empties the index and sizes it for `kinds` kinds, with the second set per kind when
    /// the group caps its work (`capped`).
    pub(crate) fn reset(&mut self, kinds: usize, capped: bool) {
        self.fit.iter_mut().for_each(BTreeSet::clear);
        self.fit.resize_with(kinds, BTreeSet::new);
        self.own.clear();
        if capped {
            self.own.resize_with(kinds, BTreeSet::new);
        }
    }

    /// Files an agent that fits kind `k`; `below_cap`: also below the group's cap. O(log a).
    pub(crate) fn file(&mut self, k: KindKey, key: CandKey, below_cap: bool) {
        if let Some(set) = self.fit.get_mut(k) {
            set.insert(key);
        }
        if below_cap && let Some(set) = self.own.get_mut(k) {
            set.insert(key);
        }
    }

    /// Takes an agent out under every kind. O(K · log a).
    pub(crate) fn remove(&mut self, key: &CandKey) {
        for set in self.fit.iter_mut().chain(self.own.iter_mut()) {
            set.remove(key);
        }
    }

    /// The candidates for a conversation of kind `k`: the group's own work (`own`), or
    /// another group's routed through this one.
    pub(crate) fn for_work(&self, k: KindKey, own: bool) -> &BTreeSet<CandKey> {
        let sets = if own && !self.own.is_empty() {
            &self.own
        } else {
            &self.fit
        };
        sets.get(k).unwrap_or(&NONE)
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
    use super::*;

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
