//! A routing key's indexes (R-SK4): for one group and one requirement set in use there, the
//! members that meet the requirements, those of them that may take work now (per kind, best
//! first), and the waiting work that asks for that set.

use std::collections::BTreeSet;

use crate::keys::{AgentKey, GroupKey, ReqKey};
use crate::routing::candidates::Candidates;
use crate::routing::queue::Waiting;
use crate::strategy::Strategy;

/// One (group, requirement set) pair's indexes. Created when the first open conversation
/// waiting in the group needs the set, and dropped with the last (`users`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Route {
    /// The group.
    pub group: GroupKey,
    /// The requirement set.
    pub req: ReqKey,
    /// The group's strategy and cap, copied: re-filing an agent under its keys reads them
    /// per key. `UpdateGroup` keeps them in step.
    pub strategy: Strategy,
    pub cap: Option<u32>,
    /// The group's members that meet the set, whatever their status or load.
    pub qualified: BTreeSet<AgentKey>,
    /// Those of them that fit more work, per kind, best first under the group's strategy
    /// (best skilled orders by the set).
    pub available: Candidates,
    /// The conversations waiting in the group whose stage in force asks for the set.
    pub queue: Waiting,
    /// How many open conversations name the group with this set in force.
    pub users: u32,
}
