//! Read-only answers to the host's questions (R-C7).
//!
//! A view is a picture of the engine as of its clock ([`Engine::now`](crate::Engine::now)):
//! the time of the latest command. Between commands the engine's clock stands still while the
//! host's runs on, so a view gives the instants (when a conversation arrived, since when it
//! waits, when it was first assigned) rather than the time elapsed since, and the host measures
//! the time elapsed against its own clock (see [`ConversationView::waited`]).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{EndReason, TurnAwayReason};

use crate::command::Membership;
use crate::ids::Target;
use crate::status::AgentStatus;

use crate::ids::{AgentId, ConversationId, GroupId, KindId, ScheduleId, SkillLevel, VisitorId};
use crate::strategy::Strategy;

/// A conversation as it stands.
///
/// Live figures: the view carries instants, not ages, because the engine's clock only moves
/// when a command comes (R-C3). For "waiting for 2 min" on a monitor, take `now` from the
/// host's clock and compute `now - waiting_since` (or `now - arrived_at`), or call
/// [`ConversationView::waited`] with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationView {
    /// Its id.
    pub id: ConversationId,
    /// Its visitor.
    pub visitor: VisitorId,
    /// Its group.
    pub group: GroupId,
    /// Its priority.
    pub priority: u8,
    /// Its kind of work (R-K1, R-K4).
    pub kind: KindId,
    /// Its state.
    pub state: ConversationState,
    /// Its 1-based position in its group's queue while queued.
    pub position: Option<u32>,
    /// While queued, the estimated wait from its position and the group's recent service
    /// rate (R-B2): see [`Engine::estimated_wait`](crate::Engine::estimated_wait). On the wire
    /// `estimated_wait_ms`, whole milliseconds.
    #[serde(rename = "estimated_wait_ms", with = "crate::wire::ms_opt")]
    pub estimated_wait: Option<Duration>,
    /// When it arrived.
    pub arrived_at: DateTime<Utc>,
    /// While it waits (queued, or in the unassigned pool): when it last entered its queue or
    /// the pool, which is its arrival unless it came back (its agent went away, an offer was
    /// declined or missed). A switch of reception mode, which moves it between queue and pool,
    /// does not restart it. `None` while it does not wait.
    pub waiting_since: Option<DateTime<Utc>>,
    /// When it was first assigned or offered to an agent; `None` if never.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// When it ended, was abandoned, turned away or left a message; `None` while open.
    pub finished_at: Option<DateTime<Utc>>,
    /// The agent or group designated at arrival, as given; cleared when a transfer or manual
    /// assignment gives the conversation a new home. It routes only until the conversation is
    /// first served.
    pub designated: Option<Target>,
    /// The stage of requirements in force, 0-based (R-SK2); `None` for a conversation that
    /// has no stages.
    pub stage: Option<u32>,
    /// What the stage in force requires: skills with minimum levels (empty without stages).
    pub requires: Vec<SkillLevel>,
}

impl ConversationView {
    /// How long it waited for its first agent, measured to `now` while it still waits: from
    /// its arrival to its first assignment (or offer), to its end if it finished unserved, or
    /// to `now`. Pass the host's clock for a live figure, or [`Engine::now`](crate::Engine::now)
    /// for the figure as of the engine's clock. Zero if `now` lies before its arrival.
    ///
    /// ```
    /// use chrono::{DateTime, TimeDelta, Utc};
    /// use switchboard::{Arrival, Command, Config, Engine, GroupSpec};
    ///
    /// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
    /// engine.handle(t0, Command::VisitorArrives(Arrival::new("c1", "v1", "support"))).unwrap();
    ///
    /// // No agent yet: 20 seconds later, with no command in between, c1 has waited 20 s.
    /// let view = engine.conversation("c1").unwrap();
    /// assert_eq!(view.waiting_since, Some(t0));
    /// let host_now = t0 + TimeDelta::seconds(20);
    /// assert_eq!(view.waited(host_now).as_secs(), 20);
    /// ```
    pub fn waited(&self, now: DateTime<Utc>) -> Duration {
        let until = self.first_assigned_at.or(self.finished_at).unwrap_or(now);
        until
            .signed_duration_since(self.arrived_at)
            .to_std()
            .unwrap_or(Duration::ZERO)
    }
}

/// An agent as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentView {
    /// Its id.
    pub id: AgentId,
    /// Its status.
    pub status: AgentStatus,
    /// The units held by the conversations it holds that count against its limit (R-K1):
    /// offered, active, and paused ones of kinds whose paused work holds units. With the
    /// implicit kind, which costs 1, the number of those conversations.
    pub load: u32,
    /// Its effective limit (R-A3): its capacity in units.
    pub limit: u32,
    /// The units it has free: `limit - load`, or 0 when it is at or over its limit (R-K4).
    pub free_units: u32,
    /// Its load per kind (R-K4): the kinds it holds units of, in the config's order.
    pub kinds: Vec<KindLoad>,
    /// Its groups and its rank in each, in the order given.
    pub groups: Vec<Membership>,
    /// Its skills with their levels (R-SK1), in the order given.
    pub skills: Vec<SkillLevel>,
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

/// What an agent holds of one kind of work (R-K4), in [`AgentView::kinds`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KindLoad {
    /// The kind.
    pub kind: KindId,
    /// How many conversations of it hold units: offered, active, and paused ones when the
    /// kind's paused work holds units. The count `max_per_agent` bounds.
    pub count: u32,
    /// The units they hold: `count` times the kind's cost.
    pub units: u32,
}

/// A group as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupView {
    /// Its id.
    pub id: GroupId,
    /// Its strategy.
    pub strategy: Strategy,
    /// Its own limit, if it sets one.
    pub limit: Option<u32>,
    /// The most units of its own work one agent may hold for automatic work (R-K3), if it
    /// caps them.
    pub agent_cap: Option<u32>,
    /// Its members, in registration order.
    pub members: Vec<AgentId>,
    /// How many conversations wait in its queue.
    pub waiting: usize,
}

/// Running counters since the engine was created (R-C7). The gauges `waiting` and `active`
/// are the current numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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

/// Where a conversation is now, as the queries report it.
///
/// On the wire: `{"type":"Queued"}`, `{"type":"Active","agent":"ana"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ConversationState {
    /// Waiting in its group's queue for an agent (real-time mode).
    Queued,
    /// Waiting in the unassigned pool (asynchronous mode, R-P1).
    Pooled,
    /// Offered to an agent, who must accept it before the offer expires (R-R1).
    Offered {
        /// The agent.
        agent: AgentId,
        /// When the offer expires.
        expires: DateTime<Utc>,
    },
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
    /// Turned away from a full queue, or after the queue's maximum wait (R-Q3); the visitor
    /// may still leave a message.
    TurnedAway {
        /// Why.
        reason: TurnAwayReason,
    },
    /// The visitor left a message instead of waiting (R-Q3).
    LeftMessage,
    /// Ended.
    Ended {
        /// Who or what ended it.
        reason: EndReason,
        /// The agent who held it, if any.
        agent: Option<AgentId>,
    },
}

/// In words, for a log line: `queued`, `active with agent `ana``, `ended (agent)`.
impl fmt::Display for ConversationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConversationState::Queued => f.write_str("queued"),
            ConversationState::Pooled => f.write_str("in the unassigned pool"),
            ConversationState::Offered { agent, expires } => {
                write!(f, "offered to agent `{agent}` until {expires}")
            }
            ConversationState::Active { agent } => write!(f, "active with agent `{agent}`"),
            ConversationState::Snoozed { agent, until } => {
                write!(f, "snoozed by agent `{agent}` until {until}")
            }
            ConversationState::Abandoned => f.write_str("abandoned"),
            ConversationState::TurnedAway { reason } => write!(f, "turned away ({reason})"),
            ConversationState::LeftMessage => f.write_str("left a message"),
            ConversationState::Ended { reason, .. } => write!(f, "ended ({reason})"),
        }
    }
}
