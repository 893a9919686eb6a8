//! Skills and requirement sets (R-SK1..R-SK4): the desk's skills by key, an agent's levels,
//! and the distinct requirement sets in use, interned so that a routing key is a pair of
//! integers (group, requirement set).

use std::collections::HashMap;

use crate::config::Config;
use crate::ids::{SkillId, SkillLevel};
use crate::keys::{IdMap, ReqKey, SkillKey};

/// The desk's skills by id, compiled from [`Config::skills`]. Derived state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Skills {
    keys: IdMap<SkillId, SkillKey>,
}

impl Skills {
    /// The skills of a config. O(s).
    pub(crate) fn compile(config: &Config) -> Self {
        let mut keys = IdMap::default();
        for skill in &config.skills {
            let k = SkillKey::try_from(keys.len()).unwrap_or(SkillKey::MAX);
            keys.entry(skill.clone()).or_insert(k);
        }
        Skills { keys }
    }

    /// Whether the desk declares any skill.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of a declared skill. O(1).
    pub(crate) fn key(&self, id: &SkillId) -> Option<SkillKey> {
        self.keys.get(id).copied()
    }

    /// Skills with levels as `(key, level)` pairs sorted by key, the skills known to this
    /// table only (a valid input names no other).
    pub(crate) fn levels(&self, skills: &[SkillLevel]) -> Levels {
        let mut pairs: Vec<(SkillKey, u8)> = skills
            .iter()
            .filter_map(|s| Some((self.key(&s.skill)?, s.level)))
            .collect();
        pairs.sort_unstable();
        Levels(pairs)
    }
}

/// Skills with levels, sorted by skill key: what an agent holds, or what a stage requires or
/// prefers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Levels(Vec<(SkillKey, u8)>);

impl Levels {
    /// The level held of skill `s`, 0 when it is not held. O(log skills).
    pub(crate) fn level(&self, s: SkillKey) -> u8 {
        self.0
            .binary_search_by_key(&s, |(k, _)| *k)
            .map_or(0, |i| self.0[i].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The skills with their levels, by skill key.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SkillKey, u8)> + '_ {
        self.0.iter().copied()
    }
}

/// A requirement set: the skills an agent must hold at least at a level, and those it should
/// (R-SK2). Two conversations whose stages in force ask the same share one set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct ReqSet {
    pub required: Levels,
    pub preferred: Levels,
}

impl ReqSet {
    /// Whether an agent with `levels` meets every requirement. O(r · log skills).
    pub(crate) fn qualifies(&self, levels: &Levels) -> bool {
        self.required.iter().all(|(s, min)| levels.level(s) >= min)
    }

    /// How well an agent with `levels` matches, for best skilled (R-SK3): the sum of its levels
    /// on the required skills, and how many preferred skills it holds at the preferred level.
    pub(crate) fn score(&self, levels: &Levels) -> (u32, u32) {
        let sum = self
            .required
            .iter()
            .map(|(s, _)| u32::from(levels.level(s)))
            .sum();
        let matched = self
            .preferred
            .iter()
            .filter(|(s, min)| levels.level(*s) >= *min)
            .count();
        (sum, u32::try_from(matched).unwrap_or(u32::MAX))
    }
}

/// The distinct requirement sets in use, interned (R-SK4). A set lives while a routing key
/// (group, set) uses it: [`Reqs::hold`] and [`Reqs::release`] count those keys; its key is
/// reused after. Key 0 is the empty set, never stored.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reqs {
    /// By key - 1: the set and how many routing keys use it; `None` when free.
    sets: Vec<Option<(ReqSet, u32)>>,
    free: Vec<ReqKey>,
    /// Hashed: interning runs on every arrival with requirements; nothing iterates it.
    index: HashMap<ReqSet, ReqKey, foldhash::fast::RandomState>,
}

/// The empty set, for key 0.
static NONE: ReqSet = ReqSet {
    required: Levels(Vec::new()),
    preferred: Levels(Vec::new()),
};

impl Reqs {
    /// Forgets every set.
    pub(crate) fn clear(&mut self) {
        self.sets.clear();
        self.free.clear();
        self.index.clear();
    }

    /// The key of `set`, interning it if it is new (with no user yet). O(r), hashed.
    pub(crate) fn intern(&mut self, set: ReqSet) -> ReqKey {
        if set.required.is_empty() && set.preferred.is_empty() {
            return 0;
        }
        if let Some(&r) = self.index.get(&set) {
            return r;
        }
        let r = match self.free.pop() {
            Some(r) => {
                self.sets[slot(r)] = Some((set.clone(), 0));
                r
            }
            None => {
                self.sets.push(Some((set.clone(), 0)));
                ReqKey::try_from(self.sets.len()).unwrap_or(ReqKey::MAX)
            }
        };
        self.index.insert(set, r);
        r
    }

    /// The set under `r`.
    pub(crate) fn get(&self, r: ReqKey) -> &ReqSet {
        if r == 0 {
            return &NONE;
        }
        self.sets
            .get(slot(r))
            .and_then(Option::as_ref)
            .map(|(set, _)| set)
            .expect("requirement keys held anywhere refer to interned sets")
    }

    /// One more routing key uses `r`.
    pub(crate) fn hold(&mut self, r: ReqKey) {
        if let Some(Some((_, users))) = self.sets.get_mut(slot(r)) {
            *users += 1;
        }
    }

    /// One routing key less uses `r`; the set goes with the last.
    pub(crate) fn release(&mut self, r: ReqKey) {
        let Some(entry) = self.sets.get_mut(slot(r)) else {
            return;
        };
        if let Some((set, users)) = entry {
            *users = users.saturating_sub(1);
            if *users == 0 {
                self.index.remove(set);
                *entry = None;
                self.free.push(r);
            }
        }
    }
}

/// Where set `r` (at least 1) is stored.
fn slot(r: ReqKey) -> usize {
    usize::try_from(r).unwrap_or(usize::MAX).wrapping_sub(1)
}
