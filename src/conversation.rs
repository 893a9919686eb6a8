//! What a conversation can be: its record, and the states it moves through.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::EndReason;
use crate::ids::{AgentId, ConversationId, VisitorId};
use crate::routing::QueueKey;
use crate::store::{AgentKey, ConvKey, GroupKey};

/// Where a conversation is now, as the queries report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ConversationState {
    /// Waiting in its group's queue for an agent.
    Queued,
    /// Held by an agent.
    Active {
        /// The agent.
        agent: AgentId,
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
    Active {
        agent: AgentKey,
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
            Phase::Active { .. } => "active",
            Phase::Abandoned { .. } => "abandoned",
            Phase::Ended { .. } => "ended",
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self, Phase::Routing | Phase::Queued | Phase::Active { .. })
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
    /// Its arrival sequence number, the key the engine files it under.
    pub key: ConvKey,
}

impl Conversation {
    pub(crate) fn queue_key(&self, config: &Config) -> QueueKey {
        QueueKey::new(
            self.priority,
            self.arrived_at,
            config.queue.aging_step_secs,
            self.key,
        )
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
