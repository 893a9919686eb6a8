//! What "has room" means: whether an agent may take one more conversation of a kind,
//! automatically, now (R-A2, R-A3, R-K1..R-K3). The one place that decides it: the candidate
//! indexes file agents by it, and routing, drains, claims, transfers and the preferences ask it.
//!
//! An agent fits a conversation of kind `k` whose own group is `h` when every dimension holds:
//!
//! 1. it is eligible: an assignable status (any status in asynchronous mode with all agents as
//!    the target, R-M2) and, with working-hours routing on, on duty (R-W2);
//! 2. its units: the units it holds plus `k`'s cost stay within its capacity (R-K1);
//! 3. `k`'s maximum per agent: it holds fewer conversations of `k` than that (R-K1);
//! 4. blocking: it holds no conversation of a kind that blocks `k` (R-K2);
//! 5. `h`'s cap: the units of `h`'s own work it holds plus `k`'s cost stay within the cap of
//!    `h`, if `h` has one (R-K3), however the conversation reaches it.
//!
//! Paused (snoozed) conversations count in 2–5 only when their kind's paused work holds units.
//! Manual assignment ignores all of it (R-X1); an agent taken beyond a dimension that way gets
//! no automatic work that dimension bounds until it fits again (R-A4 per dimension).

use crate::agent::Agent;
use crate::config::{AllocationTarget, Config, ReceptionMode};
use crate::keys::{GroupKey, KindKey};
use crate::kinds::Kinds;

/// The first dimension in which an agent does not fit a conversation, in the order checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misfit {
    /// Its status (or duty) keeps it from automatic work.
    Ineligible,
    /// Too few free units for the kind's cost.
    Units,
    /// It holds the kind's maximum per agent.
    KindMax,
    /// It holds work of a kind that blocks this one.
    Blocked,
    /// It holds as much of the conversation's group's work as the group's cap allows.
    GroupCap,
}

impl Misfit {
    /// In words, for an error.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Misfit::Ineligible => "its status is not assignable",
            Misfit::Units => "it is at its limit",
            Misfit::KindMax => "it holds as many conversations of this kind as one agent may",
            Misfit::Blocked => "it holds work of a kind that blocks this one",
            Misfit::GroupCap => "it holds as much of this group's work as the group's cap allows",
        }
    }
}

/// The conversation an agent would take, as fit reads it: its kind, its own group and that
/// group's cap.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Work {
    pub kind: KindKey,
    pub home: GroupKey,
    pub cap: Option<u32>,
}

/// Dimension 1: whether the agent may take automatic work at all.
pub(crate) fn eligible(config: &Config, agent: &Agent) -> bool {
    let status = match (config.mode, config.allocation_target) {
        (ReceptionMode::Asynchronous, AllocationTarget::AllAgents) => true,
        _ => agent.status.assignable(config).unwrap_or(false),
    };
    status && (!config.working_hours || agent.on_duty)
}

/// The first dimension in which `agent` does not fit `work`, or `None` when it fits in every
/// one. O(kinds blocking the kind + groups whose work it holds).
pub(crate) fn misfit(config: &Config, kinds: &Kinds, agent: &Agent, work: Work) -> Option<Misfit> {
    if !eligible(config, agent) {
        return Some(Misfit::Ineligible);
    }
    misfit_eligible(kinds, agent, work)
}

/// [`misfit`] for an agent known to be eligible (a listed one: dimension 1 was checked when
/// it was listed), from dimension 2 on. Inlined: the candidate indexes ask it for every kind
/// and every key an agent is filed under.
#[inline]
pub(crate) fn misfit_eligible(kinds: &Kinds, agent: &Agent, work: Work) -> Option<Misfit> {
    let kind = kinds.get(work.kind);
    let cost = u64::from(kind.cost);
    if agent.load + cost > u64::from(agent.effective_limit) {
        return Some(Misfit::Units);
    }
    if kind.max.is_some_and(|max| agent.count_of(work.kind) >= max) {
        return Some(Misfit::KindMax);
    }
    if kind.blocked_by.iter().any(|b| agent.count_of(*b) > 0) {
        return Some(Misfit::Blocked);
    }
    if work
        .cap
        .is_some_and(|cap| agent.units_of(work.home) + cost > u64::from(cap))
    {
        return Some(Misfit::GroupCap);
    }
    None
}
