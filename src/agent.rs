//! What an agent is: status, limit, groups, and the load it carries: units in all, and per
//! kind of work and per group whose work it is (R-K1..R-K3).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, SkillLevel};
use crate::keys::{ConvKey, GroupKey, KindKey, RouteKey, ScheduleKey, SkillKey};
use crate::routing::candidates::Ratio;
use crate::routing::queue::QueueKey;
use crate::routing::reqs::Levels;
use crate::status::AgentStatus;

/// An agent's membership of a group, by the group's internal key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Member {
    pub group: GroupKey,
    /// 1 (first) ..= 5 (last).
    pub rank: u8,
}

/// The values an agent is filed under in its groups' candidate indexes, kept so that it can be
/// taken out under exactly the keys it was put in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub ratio: Ratio,
    pub last: u64,
}

/// A routing key an agent is filed under (R-SK4), and the listing its candidate sets hold it
/// by: `None` where it is in none of them. Re-filing there is lazy after an assignment (see
/// [`crate::routing::route`]): the listing may be older than [`Agent::listed`], never better
/// for the agent than where it stands now.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Filed {
    pub route: RouteKey,
    pub listing: Option<Listing>,
}

/// An agent as the engine keeps it. Fields after `assigned_total` are derived and rebuilt on
/// restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Agent {
    pub id: AgentId,
    pub status: AgentStatus,
    /// The agent's own limit, overriding its groups'.
    pub limit: Option<u32>,
    pub groups: Vec<Member>,
    /// Its working-hours schedules (R-W1), by key.
    pub schedules: Vec<ScheduleKey>,
    /// Whether it is inside one of its schedules, as of the latest shift boundary handled.
    pub on_duty: bool,
    /// Global assignment sequence number of its latest assignment; 0 = never assigned.
    pub last_assignment: u64,
    pub assigned_total: u64,
    /// Its skills with levels, as given (R-SK1).
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
    /// Its skills by key, for qualification and best skilled.
    #[serde(skip)]
    pub levels: Levels,
    /// The routing keys (group, requirement set) it is filed under: those of its groups'
    /// requirement sets in use that it meets (R-SK4), each with the listing it is filed by.
    #[serde(skip)]
    pub routes: Vec<Filed>,
    /// Where its groups' skill holders list it: (group, skill) for each of its groups and
    /// skills when last filed, so that a change of either takes it out of the old lists.
    #[serde(skip)]
    pub holding: Vec<(GroupKey, SkillKey)>,
    /// The units held by the conversations that hold units (R-K1): offered, active, and
    /// paused ones whose kind's paused work holds units. 64 bits: manual assignments may pile
    /// up costs far beyond any capacity.
    #[serde(skip)]
    pub load: u64,
    /// Its capacity in units (R-A3, R-K1).
    #[serde(skip)]
    pub effective_limit: u32,
    /// Of the conversations that hold units, how many are of each kind, by kind key (R-K1,
    /// R-K2). As long as the config's kinds, or shorter (a missing entry is 0).
    #[serde(skip)]
    pub counts: Vec<u32>,
    /// Of the units held, those of each group's own work (R-K3), for the groups it holds work
    /// of; an entry stays at 0 when the work is gone, so that holding work again allocates
    /// nothing.
    #[serde(skip)]
    pub home_units: Vec<(GroupKey, u64)>,
    /// What it holds (offered, active, snoozed), by arrival sequence number and key.
    #[serde(skip)]
    pub conversations: BTreeSet<(u64, ConvKey)>,
    /// `Some` while the agent is eligible and below its limit, i.e. while it is in the
    /// candidate index of each of its groups.
    #[serde(skip)]
    pub listed: Option<Listing>,
    /// Whether it is counted in its groups' eligible-member counts.
    #[serde(skip)]
    pub counted_eligible: bool,
    /// Waiting conversations that designated this agent.
    #[serde(skip)]
    pub designated: BTreeSet<QueueKey>,
}

/// Equality of what a snapshot stores (for [`Snapshot`](crate::Snapshot)'s): the derived
/// fields, which restore rebuilds, are left out.
impl PartialEq for Agent {
    fn eq(&self, other: &Self) -> bool {
        self.stored() == other.stored()
    }
}

impl Agent {
    /// Every field a snapshot stores. Every field is named, so that a new one must be placed
    /// on one side or the other.
    fn stored(&self) -> impl PartialEq + '_ {
        let Agent {
            id,
            status,
            limit,
            groups,
            schedules,
            on_duty,
            last_assignment,
            assigned_total,
            skills,
            levels: _,
            routes: _,
            holding: _,
            load: _,
            effective_limit: _,
            counts: _,
            home_units: _,
            conversations: _,
            listed: _,
            counted_eligible: _,
            designated: _,
        } = self;
        (
            id,
            status,
            limit,
            groups,
            schedules,
            on_duty,
            last_assignment,
            assigned_total,
            skills,
        )
    }

    pub(crate) fn new(id: AgentId, status: AgentStatus, limit: Option<u32>) -> Self {
        Self {
            id,
            status,
            limit,
            groups: Vec::new(),
            schedules: Vec::new(),
            on_duty: false,
            last_assignment: 0,
            assigned_total: 0,
            skills: Vec::new(),
            levels: Levels::default(),
            routes: Vec::new(),
            holding: Vec::new(),
            load: 0,
            effective_limit: 1,
            counts: Vec::new(),
            home_units: Vec::new(),
            conversations: BTreeSet::new(),
            listed: None,
            counted_eligible: false,
            designated: BTreeSet::new(),
        }
    }

    /// The conversations it holds, in arrival order.
    pub(crate) fn held(&self) -> impl Iterator<Item = ConvKey> + '_ {
        self.conversations.iter().map(|(_, c)| *c)
    }

    pub(crate) fn rank_in(&self, group: GroupKey) -> Option<u8> {
        self.groups
            .iter()
            .find(|m| m.group == group)
            .map(|m| m.rank)
    }

    pub(crate) fn is_member(&self, group: GroupKey) -> bool {
        self.rank_in(group).is_some()
    }

    /// How many conversations of kind `k` it holds that hold units.
    pub(crate) fn count_of(&self, k: KindKey) -> u32 {
        self.counts.get(k).copied().unwrap_or(0)
    }

    /// The units it holds of group `g`'s own work. O(groups it holds work of).
    pub(crate) fn units_of(&self, g: GroupKey) -> u64 {
        self.home_units
            .iter()
            .find(|(group, _)| *group == g)
            .map_or(0, |(_, units)| *units)
    }

    /// It takes on units of work: `cost` units of kind `k`, group `home`'s work.
    /// O(groups it holds work of); allocates only the first time it holds a kind or a group's
    /// work.
    pub(crate) fn add_work(&mut self, k: KindKey, cost: u32, home: GroupKey) {
        self.load += u64::from(cost);
        if self.counts.len() <= k {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] += 1;
        match self.home_units.iter_mut().find(|(group, _)| *group == home) {
            Some((_, units)) => *units += u64::from(cost),
            None => self.home_units.push((home, u64::from(cost))),
        }
    }

    /// It lets go of units of work that [`Agent::add_work`] added. O(groups it holds work of).
    pub(crate) fn remove_work(&mut self, k: KindKey, cost: u32, home: GroupKey) {
        self.load = self.load.saturating_sub(u64::from(cost));
        if let Some(count) = self.counts.get_mut(k) {
            *count = count.saturating_sub(1);
        }
        if let Some((_, units)) = self.home_units.iter_mut().find(|(group, _)| *group == home) {
            *units = units.saturating_sub(u64::from(cost));
        }
    }

    /// Forgets every unit it holds, for a rebuild (keeping the room its tables have).
    pub(crate) fn clear_work(&mut self) {
        self.load = 0;
        self.counts.iter_mut().for_each(|count| *count = 0);
        self.home_units.clear();
    }
}
