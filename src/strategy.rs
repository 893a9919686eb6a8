//! How a group picks among its eligible agents (R-S1): the vocabulary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a group picks among its eligible agents with free capacity (R-S1). Every strategy ends
/// in a total tie-break, so the choice never depends on anything but the engine's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Strategy {
    /// Agents never assigned first (in registration order), then the one whose latest
    /// assignment is oldest (SHOPLINE). The default. "Latest assignment" counts every
    /// assignment, automatic or manual, in any group; it is ordered by the engine's assignment
    /// sequence, so two assignments at the same instant still have an order.
    #[default]
    LeastRecentlyAssigned,
    /// Rotation in registration order (Sobot): the first eligible agent registered after the
    /// one this group chose last, wrapping around. Only choices this group's strategy makes
    /// move its cursor.
    RoundRobin,
    /// Lowest load / limit, compared exactly as fractions (Sobot saturation); ties go to the
    /// least recently assigned, then registration order.
    LeastLoaded,
    /// The best [rank](crate::Membership::rank) in the group first, 1 before 5 (Tencent Cloud
    /// Desk's agent priority); ties go to the least recently assigned, then registration order.
    AgentPriority,
    /// Best skilled (R-SK3): the highest sum of the agent's levels on the skills the
    /// conversation's stage in force requires first, then the most preferred skills matched
    /// (held at least at the preferred level), then the least recently assigned, then
    /// registration order. A conversation that requires and prefers nothing is served least
    /// recently assigned first; one that only prefers skills, by preferred skills matched.
    BestSkilled,
}

/// In words: `least recently assigned`, `round robin`, `least loaded`, `agent priority`.
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::LeastRecentlyAssigned => "least recently assigned",
            Strategy::RoundRobin => "round robin",
            Strategy::LeastLoaded => "least loaded",
            Strategy::AgentPriority => "agent priority",
            Strategy::BestSkilled => "best skilled",
        })
    }
}
