//! What an agent is: status, limit, groups, and the load it carries.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::ids::AgentId;
use crate::routing::{QueueKey, Ratio};
use crate::store::{ConvKey, GroupKey, ScheduleKey};

/// An agent's status (R-A2). Online is assignable; Busy, ShortBreak and Offline are not; a
/// custom status is assignable when its [`CustomStatus`](crate::CustomStatus) says so.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentStatus {
    /// Available: gets automatic work.
    Online,
    /// Busy: no new automatic work.
    Busy,
    /// On a short break: no new automatic work.
    ShortBreak,
    /// Offline: no new automatic work.
    #[default]
    Offline,
    /// A host-defined status from [`Config::custom_statuses`].
    Custom(String),
}

impl AgentStatus {
    /// Whether an agent in this status gets automatic work under `config`; `None` for a custom
    /// status the config does not define.
    pub(crate) fn assignable(&self, config: &Config) -> Option<bool> {
        match self {
            AgentStatus::Online => Some(true),
            AgentStatus::Busy | AgentStatus::ShortBreak | AgentStatus::Offline => Some(false),
            AgentStatus::Custom(name) => config.custom_status(name),
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentStatus::Online => f.write_str("Online"),
            AgentStatus::Busy => f.write_str("Busy"),
            AgentStatus::ShortBreak => f.write_str("ShortBreak"),
            AgentStatus::Offline => f.write_str("Offline"),
            AgentStatus::Custom(name) => f.write_str(name),
        }
    }
}

/// An agent's membership of a group, by the group's internal key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    pub group: GroupKey,
    pub priority: u8,
}

/// The values an agent is filed under in its groups' candidate indexes, kept so that it can be
/// taken out under exactly the keys it was put in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub ratio: Ratio,
    pub last: u64,
}

/// An agent as the engine keeps it. Fields after `assigned_total` are derived and rebuilt on
/// restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    #[serde(skip)]
    pub load: u32,
    #[serde(skip)]
    pub effective_limit: u32,
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

impl Agent {
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
            load: 0,
            effective_limit: 1,
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

    pub(crate) fn priority_in(&self, group: GroupKey) -> Option<u8> {
        self.groups
            .iter()
            .find(|m| m.group == group)
            .map(|m| m.priority)
    }

    pub(crate) fn is_member(&self, group: GroupKey) -> bool {
        self.priority_in(group).is_some()
    }
}
