//! What a group is: a strategy, an optional limit and cap, its members' candidate index and
//! its queue.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use crate::ids::GroupId;
use crate::keys::{AgentKey, GroupKey, ReqKey, RouteKey, SkillKey};
use crate::routing::candidates::Candidates;
use crate::routing::queue::Waiting;
use crate::routing::route::Route;
use crate::strategy::Strategy;

/// A group as the engine keeps it. Fields after `cursor` are derived and rebuilt on restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Group {
    pub id: GroupId,
    pub strategy: Strategy,
    pub limit: Option<u32>,
    /// Round robin: the agent this group's strategy chose last (0: none yet).
    pub cursor: AgentKey,
    /// Groups whose agents join after a conversation has waited `overflow_after_secs` (R-S4).
    pub overflow: Vec<GroupKey>,
    pub overflow_after_secs: u64,
    /// The most units of its own work one agent may hold for automatic work (R-K3).
    #[serde(default)]
    pub agent_cap: Option<u32>,
    /// When its latest conversations left its queue for an agent, oldest first (R-B2).
    pub served: VecDeque<DateTime<Utc>>,
    #[serde(skip)]
    pub members: BTreeSet<AgentKey>,
    /// Members that may take automatic work now, per kind, best first (R-K1..R-K3), for work
    /// that requires no skill. Kept while `indexed`.
    #[serde(skip)]
    pub available: Candidates,
    /// Whether `available` is kept: always in a desk without skills; in a desk with skills,
    /// from the first open conversation without requirements that names the group (R-SK4:
    /// a desk whose work all asks for skills files its agents only under routing keys).
    #[serde(skip)]
    pub indexed: bool,
    /// Conversations waiting for this group (as their own group, a designated one or an
    /// overflow group), whole and per kind, the stalled ones apart.
    #[serde(skip)]
    pub queue: Waiting,
    /// Its routing keys (R-SK4): per requirement set its open conversations ask for, where
    /// the key's indexes are (the members that meet it and the work that waits for it).
    #[serde(skip)]
    pub routes: BTreeMap<ReqKey, RouteKey>,
    /// Per skill, the members that hold it at any level: a new routing key checks only the
    /// holders of its rarest required skill (R-SK4).
    #[serde(skip)]
    pub holders: BTreeMap<SkillKey, BTreeSet<AgentKey>>,
    /// Open conversations that name this group.
    #[serde(skip)]
    pub open: u64,
    /// Members that are eligible (status, mode, working hours), whatever their load.
    #[serde(skip)]
    pub eligible: u32,
}

/// Equality of what a snapshot stores (for [`Snapshot`](crate::Snapshot)'s): the derived
/// fields, which restore rebuilds, are left out.
impl PartialEq for Group {
    fn eq(&self, other: &Self) -> bool {
        self.stored() == other.stored()
    }
}

impl Group {
    /// Every field a snapshot stores. Every field is named, so that a new one must be placed
    /// on one side or the other.
    fn stored(&self) -> impl PartialEq + '_ {
        let Group {
            id,
            strategy,
            limit,
            cursor,
            overflow,
            overflow_after_secs,
            agent_cap,
            served,
            members: _,
            available: _,
            indexed: _,
            queue: _,
            routes: _,
            holders: _,
            open: _,
            eligible: _,
        } = self;
        (
            id,
            strategy,
            limit,
            cursor,
            overflow,
            overflow_after_secs,
            agent_cap,
            served,
        )
    }

    /// A new group; its indexes are sized by [`Group::size`].
    pub(crate) fn new(id: GroupId, strategy: Strategy, limit: Option<u32>) -> Self {
        Self {
            id,
            strategy,
            limit,
            cursor: 0,
            overflow: Vec::new(),
            overflow_after_secs: 0,
            agent_cap: None,
            served: VecDeque::new(),
            members: BTreeSet::new(),
            available: Candidates::default(),
            indexed: false,
            queue: Waiting::default(),
            routes: BTreeMap::new(),
            holders: BTreeMap::new(),
            open: 0,
            eligible: 0,
        }
    }
}

impl Group {
    /// Sizes (and empties) its candidate index and queues for `kinds` kinds, with a set apart
    /// for its own work when it caps it, and drops its routing keys; `skills`: the desk
    /// declares skills, so work with requirements is indexed by routing key, the queue's
    /// per-kind part holds only the work that requires nothing, and the candidate index for
    /// that work is kept from the first such conversation on ([`Group::indexed`]).
    pub(crate) fn size(&mut self, kinds: usize, skills: bool) {
        self.available.reset(kinds, self.agent_cap.is_some());
        self.indexed = !skills;
        self.queue.reset(kinds, skills);
        self.routes.clear();
        self.holders.clear();
    }

    /// A new routing key's indexes for (`g`, `r`), `g` being this group: empty, sized like
    /// the group's.
    pub(crate) fn new_route(&self, g: GroupKey, r: ReqKey, kinds: usize) -> Route {
        let mut route = Route {
            group: g,
            req: r,
            strategy: self.strategy,
            cap: self.agent_cap,
            ..Route::default()
        };
        route.available.reset(kinds, self.agent_cap.is_some());
        route.queue.reset(kinds, false);
        route
    }
}

/// How many recent services the estimated wait looks at (R-B2).
pub(crate) const SERVED_SAMPLES: usize = 20;
