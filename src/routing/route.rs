//! A routing key's indexes (R-SK4): for one group and one requirement set in use there, the
//! members that meet the requirements, those of them that may take work now (per kind, best
//! first), and the waiting work that asks for that set.
//!
//! **Lazy re-filing.** An agent meets several routing keys (11 on average in the benchmark
//! desk), and moving it in each of them after every assignment was most of the cost of a
//! skilled arrival. Work added never ranks an agent higher under any strategy (its load and
//! latest assignment only grow, and it fits fewer kinds), so after an assignment its routing
//! keys keep it where it was: an entry there may rank it better than it stands, never worse,
//! and may hold it though it fits no more. [`Filed`](crate::agent::Filed) records, per key,
//! the listing its entries were made with. A pick checks each entry it would take against
//! the agent's standing now ([`State::settle`](crate::store::State::settle)); an entry that
//! is stale re-files its agent in that key and the look goes on past it (every entry before
//! it was passed over, and the agent goes after it), so the agent picked is the one an eager
//! index would give. Anything that may
//! rank an agent higher (work ending, a snooze that frees units, a status, limit, group or
//! skill change) re-files it in every key at once. Each assignment leaves at most one stale
//! entry per key of its agent, and each is re-filed at most once: the amortized cost is at
//! most the eager one, and is paid only in the keys picks look at.

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
