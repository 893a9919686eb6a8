//! Read-only answers to the host's questions (R-C7).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::AgentStatus;
use crate::command::{Membership, Target};
use crate::conversation::ConversationState;
use crate::ids::{AgentId, ConversationId, GroupId, ScheduleId, VisitorId};
use crate::routing::Strategy;

/// A conversation as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationView {
    /// Its id.
    pub id: ConversationId,
    /// Its visitor.
    pub visitor: VisitorId,
    /// Its group.
    pub group: GroupId,
    /// Its priority.
    pub priority: u8,
    /// Its state.
    pub state: ConversationState,
    /// Its 1-based position in its group's queue while queued.
    pub position: Option<u32>,
    /// While queued, the estimated wait from its position and the group's recent service
    /// rate (R-B2): see [`Engine::estimated_wait`](crate::Engine::estimated_wait).
    pub estimated_wait: Option<Duration>,
    /// When it arrived.
    pub arrived_at: DateTime<Utc>,
    /// How long it waited for its first agent: until now (the engine's clock) while it still
    /// waits, until its first assignment, or until it was abandoned or ended unserved.
    pub waited: Duration,
    /// The agent or group designated at arrival, as given; cleared when a transfer or manual
    /// assignment gives the conversation a new home. It routes only until the conversation is
    /// first served.
    pub designated: Option<Target>,
}

/// An agent as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentView {
    /// Its id.
    pub id: AgentId,
    /// Its status.
    pub status: AgentStatus,
    /// Conversations it holds that count against its limit.
    pub load: u32,
    /// Its effective limit (R-A3).
    pub limit: u32,
    /// Its groups and priorities, in the order given.
    pub groups: Vec<Membership>,
    /// The conversations it holds, in arrival order.
    pub conversations: Vec<ConversationId>,
    /// How many conversations it has been assigned in all.
    pub assigned_total: u64,
    /// The schedules it follows (R-W1), in the order given.
    pub schedules: Vec<ScheduleId>,
    /// Whether it is inside one of its schedules, as of the last shift boundary the engine
    /// handled. Always `false` for an agent with no schedule. It matters only while
    /// [`Config::working_hours`](crate::Config::working_hours) is on (R-W2).
    pub on_duty: bool,
}

/// A group as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupView {
    /// Its id.
    pub id: GroupId,
    /// Its strategy.
    pub strategy: Strategy,
    /// Its own limit, if it sets one.
    pub limit: Option<u32>,
    /// Its members, in registration order.
    pub members: Vec<AgentId>,
    /// How many conversations wait in its queue.
    pub waiting: usize,
}

/// Running counters since the engine was created (R-C7). The gauges `waiting` and `active`
/// are the current numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Conversations that arrived.
    pub arrived: u64,
    /// Times a conversation entered a queue.
    pub queued: u64,
    /// Automatic assignments and offers (strategy, preferences, drains, redirects, overflow,
    /// transfers) and claims from the pool.
    pub assigned_automatically: u64,
    /// Manual assignments.
    pub assigned_manually: u64,
    /// Transfers.
    pub transferred: u64,
    /// Conversations put back in a queue because their agent went away.
    pub requeued: u64,
    /// Visitors who left the queue.
    pub abandoned: u64,
    /// Conversations ended.
    pub ended: u64,
    /// Times a conversation entered the unassigned pool.
    pub pooled: u64,
    /// Conversations claimed from the pool.
    pub claimed: u64,
    /// Snoozes. A snooze that moves with its conversation to a new agent is the same snooze,
    /// not counted again.
    pub snoozes: u64,
    /// Reply-goal warnings.
    pub sla_warnings: u64,
    /// Reply goals breached.
    pub sla_breaches: u64,
    /// Inactivity reminders.
    pub inactivity_reminders: u64,
    /// Conversations ended for inactivity (also counted in `ended`).
    pub ended_for_inactivity: u64,
    /// Conversations waiting now, in queues or in the pool.
    pub waiting: u64,
    /// Conversations held by an agent now, not snoozed.
    pub active: u64,
    /// Conversations snoozed now.
    pub snoozed: u64,
    /// Conversations offered and not yet answered now.
    pub offered: u64,
    /// Offers made.
    pub offers: u64,
    /// Offers declined.
    pub offers_declined: u64,
    /// Offers that expired.
    pub offers_expired: u64,
    /// Redirects after a missed or declined offer or first reply.
    pub redirects: u64,
    /// Conversations turned away (full queue, maximum wait).
    pub turned_away: u64,
    /// Visitors who left a message.
    pub left_message: u64,
}

impl Counters {
    /// The largest counter, to check a restored snapshot's numbers.
    pub(crate) fn largest(&self) -> u64 {
        [
            self.arrived,
            self.queued,
            self.assigned_automatically,
            self.assigned_manually,
            self.transferred,
            self.requeued,
            self.abandoned,
            self.ended,
            self.pooled,
            self.claimed,
            self.snoozes,
            self.sla_warnings,
            self.sla_breaches,
            self.inactivity_reminders,
            self.ended_for_inactivity,
            self.waiting,
            self.active,
            self.snoozed,
            self.offered,
            self.offers,
            self.offers_declined,
            self.offers_expired,
            self.redirects,
            self.turned_away,
            self.left_message,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}
