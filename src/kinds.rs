//! The desk's kinds of work, compiled from the config (R-K1, R-K2): each kind's place in
//! [`Config::kinds`], its cost, its maximum per agent, the kinds that block it, and whether its
//! paused work holds units. Derived state: rebuilt whenever the config changes.

use crate::config::Config;
use crate::ids::KindId;
use crate::keys::KindKey;

/// The name of the one kind a desk that defines none has.
pub(crate) const IMPLICIT: &str = "default";

/// One kind, as routing reads it.
#[derive(Clone, Debug)]
pub(crate) struct Kind {
    pub id: KindId,
    /// Units one conversation of it takes (at least 1).
    pub cost: u32,
    /// At most this many on one agent, for automatic work.
    pub max: Option<u32>,
    /// The kinds whose held work keeps an agent from automatic work of this one.
    pub blocked_by: Vec<KindKey>,
    /// Whether its paused (snoozed) work holds units, count and blocking.
    pub paused_holds: bool,
}

/// Every kind of the desk, by [`KindKey`]: the index in [`Config::kinds`], or the one implicit
/// kind (key 0) when the config defines none. Key 0 is the desk's default kind.
#[derive(Clone, Debug)]
pub(crate) struct Kinds {
    list: Vec<Kind>,
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds::compile(&Config::default())
    }
}

impl Kinds {
    /// The kinds of a config (a valid one: blocked kinds that are not defined are left out).
    /// O(k · b) for `k` kinds blocking `b` kinds each.
    pub(crate) fn compile(config: &Config) -> Self {
        if config.kinds.is_empty() {
            return Kinds {
                list: vec![Kind {
                    id: KindId::from(IMPLICIT),
                    cost: 1,
                    max: None,
                    blocked_by: Vec::new(),
                    paused_holds: config.snoozed_count_toward_load,
                }],
            };
        }
        let mut list: Vec<Kind> = config
            .kinds
            .iter()
            .map(|spec| Kind {
                id: spec.kind.clone(),
                cost: spec.cost,
                max: spec.max_per_agent,
                blocked_by: Vec::new(),
                paused_holds: spec
                    .paused_holds_units
                    .unwrap_or(config.snoozed_count_toward_load),
            })
            .collect();
        for (blocker, spec) in config.kinds.iter().enumerate() {
            for blocked in &spec.blocks {
                if let Some(k) = config.kinds.iter().position(|s| s.kind == *blocked) {
                    list[k].blocked_by.push(blocker);
                }
            }
        }
        Kinds { list }
    }

    /// How many kinds there are (at least 1).
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The kind under `k`, a key of this table.
    pub(crate) fn get(&self, k: KindKey) -> &Kind {
        self.list
            .get(k)
            .expect("kind keys held anywhere index the compiled kinds of the config in force")
    }

    /// The key of a kind by its id. O(k).
    pub(crate) fn key(&self, id: &KindId) -> Option<KindKey> {
        self.list.iter().position(|kind| kind.id == *id)
    }

    /// Every kind, with its key, in the config's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (KindKey, &Kind)> + '_ {
        self.list.iter().enumerate()
    }
}
