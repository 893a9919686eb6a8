//! What a conversation can be: its record, and the states it moves through.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::EndReason;
use crate::ids::{AgentId, ConversationId, VisitorId};
use crate::routing::QueueKey;
use crate::store::{AgentKey, ConvKey, GroupKey};
use crate::timers::{Goal, Slots};

/// Where a conversation is now, as the queries report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ConversationState {
    /// Waiting in its group's queue for an agent (real-time mode).
    Queued,
    /// Waiting in the unassigned pool (asynchronous mode, R-P1).
    Pooled,
    /// Held by an agent.
    Active {
        /// The agent.
        agent: AgentId,
    },
    /// Parked by its agent until a time (R-Z1); it keeps its agent.
    Snoozed {
        /// The agent.
        agent: AgentId,
        /// When the snooze lifts, unless a message lifts it first.
        until: DateTime<Utc>,
    },
    /// The visitor left the queue before an agent took it.
    Abandoned,
    /// Ended.
    Ended {
        /// Who or what ended it.
        reason: EndReason,
        /// The agent who held it, if any.
        agent: Option<AgentId>,
    },
}

/// The engine's own record of a conversation's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Phase {
    /// In no queue and with no agent, while a command decides where it goes; never seen
    /// between commands.
    Routing,
    Queued,
    Pooled,
    Active {
        agent: AgentKey,
    },
    Snoozed {
        agent: AgentKey,
        until: DateTime<Utc>,
    },
    Abandoned {
        at: DateTime<Utc>,
    },
    Ended {
        at: DateTime<Utc>,
        reason: EndReason,
        agent: Option<AgentId>,
    },
}

impl Phase {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Phase::Routing => "being routed",
            Phase::Queued => "queued",
            Phase::Pooled => "in the unassigned pool",
            Phase::Snoozed { .. } => "snoozed",
            Phase::Active { .. } => "active",
            Phase::Abandoned { .. } => "abandoned",
            Phase::Ended { .. } => "ended",
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        !matches!(self, Phase::Abandoned { .. } | Phase::Ended { .. })
    }

    /// Waiting for an agent: in a queue or in the pool.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self, Phase::Queued | Phase::Pooled)
    }

    /// The agent that holds it, active or snoozed.
    pub(crate) fn holder(&self) -> Option<AgentKey> {
        match self {
            Phase::Active { agent } | Phase::Snoozed { agent, .. } => Some(*agent),
            _ => None,
        }
    }

    /// Whether it counts toward its holder's load (R-A3).
    pub(crate) fn counts_toward_load(&self, config: &Config) -> bool {
        match self {
            Phase::Active { .. } => true,
            Phase::Snoozed { .. } => config.snoozed_count_toward_load,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Conversation {
    pub id: ConversationId,
    pub visitor: VisitorId,
    /// Its own group: where it queues, and where a transfer to a group moves it.
    pub group: GroupKey,
    pub priority: u8,
    pub arrived_at: DateTime<Utc>,
    pub designated_agent: Option<AgentKey>,
    pub designated_group: Option<GroupKey>,
    /// Agents that must not get it automatically (the agent that transferred it away).
    pub excluded: Vec<AgentKey>,
    pub phase: Phase,
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// The open reply goal (R-L1), while its agent owes a reply.
    pub goal: Option<Goal>,
    /// Since when the visitor has been silent after the agent's reply (R-L2).
    pub silent_since: Option<DateTime<Utc>>,
    /// Whether the inactivity reminder for the current silence went out.
    pub reminded: bool,
    /// The deadlines armed for it, one per kind of timer.
    pub timers: Slots,
    /// Its arrival sequence number, the key the engine files it under.
    pub key: ConvKey,
}

impl Conversation {
    pub(crate) fn queue_key(&self, config: &Config) -> QueueKey {
        QueueKey::new(self.priority, self.arrived_at, self.key, config)
    }

    pub(crate) fn agent(&self) -> Option<AgentKey> {
        match self.phase {
            Phase::Active { agent } => Some(agent),
            _ => None,
        }
    }

    /// The groups whose queues it waits in while queued: its own, and a designated one.
    pub(crate) fn waiting_groups(&self) -> impl Iterator<Item = GroupKey> + use<> {
        let designated = self.designated_group.filter(|g| *g != self.group);
        std::iter::once(self.group).chain(designated)
    }
}
