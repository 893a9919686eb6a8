//! What comes out: events are past-tense facts, in causal order.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ReceptionMode;
use crate::ids::Target;
use crate::ids::{
    AgentId, ConversationId, GroupId, KindId, ScheduleId, SkillId, SkillLevel, VisitorId,
};
use crate::status::AgentStatus;
use crate::strategy::Strategy;

/// A fact the engine reports. The host persists or dispatches them (notify the visitor, open
/// the chat on the agent's desk, ...). Within one [`Outcome`](crate::Outcome) they are in causal
/// order.
///
/// On the wire an event is an object whose `"type"` names the variant, with its fields beside
/// it: `{"type":"ConversationQueued","conversation":"c3","group":"support","position":1}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Event {
    /// A conversation was accepted for routing.
    ConversationArrived {
        /// The conversation.
        conversation: ConversationId,
        /// Its visitor.
        visitor: VisitorId,
        /// Its group.
        group: GroupId,
        /// Its priority.
        priority: u8,
        /// Its kind of work (R-K4): the one it arrived with, or the desk's default kind.
        kind: KindId,
    },
    /// A conversation now waits in its group's queue (R-Q1, R-Q2).
    ConversationQueued {
        /// The conversation.
        conversation: ConversationId,
        /// The queue it waits in.
        group: GroupId,
        /// 1-based position in that queue.
        position: u32,
    },
    /// A conversation now waits in the unassigned pool (asynchronous mode, R-P1).
    ConversationPooled {
        /// The conversation.
        conversation: ConversationId,
        /// Its group.
        group: GroupId,
        /// Why it is in the pool.
        reason: PoolReason,
    },
    /// The position of a waiting conversation changed; announced to the first
    /// [`QueueConfig::announce_positions`](crate::QueueConfig) of each queue (R-Q2).
    QueuePositionChanged {
        /// The conversation.
        conversation: ConversationId,
        /// Its queue.
        group: GroupId,
        /// Its new 1-based position.
        position: u32,
    },
    /// A conversation is offered to an agent, who must accept it by `expires_at` (R-R1:
    /// automatic reception off). It counts toward the agent's load meanwhile.
    ConversationOffered {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
        /// Why this agent (R-B1).
        reason: AssignReason,
        /// When the offer expires.
        expires_at: DateTime<Utc>,
        /// The agent's load with the offer, in units (R-K1).
        load: u32,
        /// The agent's limit: its capacity in units.
        limit: u32,
        /// The conversation's kind of work (R-K4).
        kind: KindId,
        /// For a conversation with stages: the stage that applied and the skills that
        /// qualified the agent (R-B1); absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skills: Option<Box<SkillMatch>>,
    },
    /// The agent accepted the offer; the conversation is active.
    OfferAccepted {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
    },
    /// The agent declined the offer; a redirect follows (R-R2).
    OfferDeclined {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
    },
    /// The offer expired unanswered; a redirect follows (R-R2).
    OfferExpired {
        /// The conversation.
        conversation: ConversationId,
        /// The agent who let it expire.
        agent: AgentId,
        /// Whether the agent was set to ShortBreak for it (R-R3); an
        /// [`Event::AgentStatusChanged`] follows.
        short_break: bool,
    },
    /// The offer was taken back because the agent stopped being eligible (R-A2); the
    /// conversation is routed again.
    OfferWithdrawn {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
    },
    /// The agent did not reply within the first-reply limit (R-R4); a redirect follows.
    FirstReplyTimedOut {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
    },
    /// The conversation was redirected more often than the limit allows (R-R2): it waits for
    /// an admin now, and is no longer offered automatically.
    RedirectLimitReached {
        /// The conversation.
        conversation: ConversationId,
        /// How many redirects it had.
        redirects: u32,
    },
    /// A waiting conversation's overflow groups joined its candidates (R-S4).
    ConversationOverflowed {
        /// The conversation.
        conversation: ConversationId,
        /// The groups whose agents may now take it.
        groups: Vec<GroupId>,
    },
    /// A waiting conversation's requirements relaxed to their next stage at its time (R-SK2);
    /// it keeps its place in the queue. One event per stage entered.
    StageAdvanced {
        /// The conversation.
        conversation: ConversationId,
        /// The stage now in force, 0-based.
        stage: u32,
        /// What it requires now.
        requires: Vec<SkillLevel>,
        /// Groups whose agents join as candidates with this stage.
        groups: Vec<GroupId>,
    },
    /// The visitor may leave a message instead of waiting (R-Q3).
    LeaveMessageOffered {
        /// The conversation.
        conversation: ConversationId,
        /// Why.
        reason: LeaveMessageReason,
    },
    /// The conversation could not wait: the queue was full, or it reached the maximum wait
    /// (R-Q3).
    ConversationTurnedAway {
        /// The conversation.
        conversation: ConversationId,
        /// Why.
        reason: TurnAwayReason,
    },
    /// The visitor left a message and is out of the queue (R-Q3).
    ConversationLeftMessage {
        /// The conversation.
        conversation: ConversationId,
    },
    /// An agent now holds a conversation.
    ConversationAssigned {
        /// The conversation.
        conversation: ConversationId,
        /// The agent.
        agent: AgentId,
        /// Why this agent (R-B1).
        reason: AssignReason,
        /// The agent's load after the assignment, in units (R-K1): conversations, when each
        /// costs 1.
        load: u32,
        /// The agent's limit: its capacity in units. `load > limit` only after a manual
        /// assignment (R-A4).
        limit: u32,
        /// The conversation's kind of work (R-K4).
        kind: KindId,
        /// For a conversation with stages: the stage that applied and the skills that
        /// qualified the agent (R-B1); absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skills: Option<Box<SkillMatch>>,
    },
    /// A conversation left its agent for another agent or a group; an assignment or queueing
    /// event follows.
    ConversationTransferred {
        /// The conversation.
        conversation: ConversationId,
        /// The agent it left.
        from: AgentId,
        /// Where it goes.
        to: Target,
    },
    /// A conversation lost its agent (removed, or left an assignable status under
    /// [`Config::requeue_when_unassignable`](crate::Config)) and is routed again from its
    /// original place.
    ConversationRequeued {
        /// The conversation.
        conversation: ConversationId,
        /// The agent it left.
        from: AgentId,
    },
    /// A visitor gave up before an agent took the conversation on (from a queue, the pool or
    /// an offer).
    ConversationAbandoned {
        /// The conversation.
        conversation: ConversationId,
        /// The queue it left.
        group: GroupId,
    },
    /// A conversation ended.
    ConversationEnded {
        /// The conversation.
        conversation: ConversationId,
        /// Its agent, if it had one.
        agent: Option<AgentId>,
        /// Who or what ended it.
        reason: EndReason,
    },
    /// An agent parked a conversation until a time (R-Z1). It keeps its agent. Also follows
    /// the assignment of a snoozed conversation that an admin reassigned or an agent
    /// transferred, naming its new agent and the same time: the snooze moved with it (R-X1).
    ConversationSnoozed {
        /// The conversation.
        conversation: ConversationId,
        /// Its agent.
        agent: AgentId,
        /// When the snooze lifts, unless a message lifts it first.
        until: DateTime<Utc>,
    },
    /// A snooze lifted and the conversation is back to normal processing (R-Z2).
    ConversationWoke {
        /// The conversation.
        conversation: ConversationId,
        /// Its agent.
        agent: AgentId,
        /// What lifted it.
        reason: WakeReason,
    },
    /// A reply goal will be breached at `breach_at` unless the agent replies (R-L1).
    SlaWarning {
        /// The conversation.
        conversation: ConversationId,
        /// The agent who owes the reply.
        agent: AgentId,
        /// Which goal.
        goal: ReplyGoal,
        /// When it will be breached if the clock keeps running.
        breach_at: DateTime<Utc>,
    },
    /// A reply goal was breached (R-L1). The goal stays open until the agent replies.
    SlaBreached {
        /// The conversation.
        conversation: ConversationId,
        /// The agent who owes the reply.
        agent: AgentId,
        /// Which goal.
        goal: ReplyGoal,
    },
    /// The visitor has been silent since the agent's reply: time to remind it (R-L2).
    InactivityReminder {
        /// The conversation.
        conversation: ConversationId,
        /// Its agent.
        agent: AgentId,
        /// When the conversation will end if the visitor stays silent, if ending is set.
        end_at: Option<DateTime<Utc>>,
    },
    /// A schedule was defined or redefined.
    ScheduleDefined {
        /// The schedule.
        schedule: ScheduleId,
    },
    /// A schedule was removed.
    ScheduleRemoved {
        /// The schedule.
        schedule: ScheduleId,
    },
    /// The reception mode changed (R-M1); conversation moves between queue and pool follow.
    ReceptionModeChanged {
        /// The mode before.
        from: ReceptionMode,
        /// The mode now.
        to: ReceptionMode,
    },
    /// A finished conversation was dropped from memory.
    ConversationForgotten {
        /// The conversation.
        conversation: ConversationId,
    },
    /// What the engine remembered of a visitor (their last agent) was dropped.
    VisitorForgotten {
        /// The visitor.
        visitor: VisitorId,
    },
    /// An agent was registered.
    AgentRegistered {
        /// The agent.
        agent: AgentId,
        /// Its effective limit.
        limit: u32,
    },
    /// An agent's limit or groups changed.
    AgentUpdated {
        /// The agent.
        agent: AgentId,
        /// Its effective limit now.
        limit: u32,
    },
    /// An agent was removed.
    AgentRemoved {
        /// The agent.
        agent: AgentId,
    },
    /// An agent's status changed.
    AgentStatusChanged {
        /// The agent.
        agent: AgentId,
        /// The status before.
        from: AgentStatus,
        /// The status now.
        to: AgentStatus,
    },
    /// An agent's duty changed (R-W1, R-W2): a shift of one of its schedules started or ended,
    /// its schedules changed (after [`Event::AgentRegistered`] or [`Event::AgentUpdated`]), or
    /// a schedule it follows was redefined. Only while
    /// [`Config::working_hours`](crate::Config::working_hours) is on does it change what the
    /// agent is given.
    AgentDutyChanged {
        /// The agent.
        agent: AgentId,
        /// Whether it is now inside one of its schedules.
        on_duty: bool,
    },
    /// A group was registered.
    GroupRegistered {
        /// The group.
        group: GroupId,
    },
    /// A group's strategy or limit changed.
    GroupUpdated {
        /// The group.
        group: GroupId,
    },
    /// A group was removed.
    GroupRemoved {
        /// The group.
        group: GroupId,
    },
    /// The engine-wide config was replaced.
    ConfigUpdated,
}

/// Why an agent got a conversation (R-B1).
///
/// On the wire: `{"type":"Strategy","strategy":"RoundRobin"}`, `{"type":"Manual"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum AssignReason {
    /// The agent was designated at arrival.
    DesignatedAgent,
    /// The group designated at arrival chose the agent with its strategy.
    DesignatedGroup {
        /// The designated group's strategy.
        strategy: Strategy,
    },
    /// The agent last served this visitor.
    LastAgent,
    /// The conversation's group chose the agent with its strategy.
    Strategy {
        /// The group's strategy.
        strategy: Strategy,
    },
    /// The agent had room and took the best waiting conversation of its groups (R-D1).
    Drain {
        /// What gave the agent room.
        trigger: DrainTrigger,
    },
    /// An admin assigned it to this agent (R-X1).
    Manual,
    /// An admin assigned it to a group, which chose the agent.
    ManualToGroup {
        /// The group's strategy, or `None` when no member was eligible and the least loaded
        /// member was taken.
        strategy: Option<Strategy>,
    },
    /// An agent transferred it to this agent (R-X2).
    Transfer,
    /// The agent claimed it from the unassigned pool (R-P2).
    Claimed,
    /// Redirected within its group after a missed or declined offer or first reply (R-R2).
    Redirect {
        /// The group's strategy.
        strategy: Strategy,
    },
    /// An overflow group's strategy chose the agent after the conversation waited (R-S4).
    Overflow {
        /// The overflow group.
        group: GroupId,
        /// Its strategy.
        strategy: Strategy,
    },
}

/// Why an agent qualified for a conversation with stages (R-B1, R-SK2): the stage in force
/// when it was chosen, the agent's own levels on the skills that stage requires, and the
/// preferred skills it matched. With [`AssignReason`], it says which stage, skills and
/// strategy chose the agent. A manual assignment or transfer, which ignores skills, reports
/// the agent's levels as they are (0 for a required skill it lacks).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SkillMatch {
    /// The stage in force, 0-based.
    pub stage: u32,
    /// Each required skill with the agent's level on it, in the stage's order.
    pub required: Vec<SkillLevel>,
    /// The preferred skills the agent holds at least at the preferred level, in the stage's
    /// order.
    pub preferred: Vec<SkillId>,
}

/// In words, for a log line: `strategy (least recently assigned)`, `manual`, `drain (capacity
/// freed)`, `overflow to group `sales` (round robin)`.
impl fmt::Display for AssignReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignReason::DesignatedAgent => f.write_str("designated agent"),
            AssignReason::DesignatedGroup { strategy } => {
                write!(f, "designated group ({strategy})")
            }
            AssignReason::LastAgent => f.write_str("last agent"),
            AssignReason::Strategy { strategy } => write!(f, "strategy ({strategy})"),
            AssignReason::Drain { trigger } => write!(f, "drain ({trigger})"),
            AssignReason::Manual => f.write_str("manual"),
            AssignReason::ManualToGroup {
                strategy: Some(strategy),
            } => write!(f, "manual to group ({strategy})"),
            AssignReason::ManualToGroup { strategy: None } => {
                f.write_str("manual to group (least loaded member, none eligible)")
            }
            AssignReason::Transfer => f.write_str("transfer"),
            AssignReason::Claimed => f.write_str("claimed"),
            AssignReason::Redirect { strategy } => write!(f, "redirect ({strategy})"),
            AssignReason::Overflow { group, strategy } => {
                write!(f, "overflow to group `{group}` ({strategy})")
            }
        }
    }
}

/// Writes a unit-only enum's variants in words.
macro_rules! display_in_words {
    ($name:ident { $($variant:ident => $words:literal),+ $(,)? }) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $($name::$variant => $words),+
                })
            }
        }
    };
}

/// Why the visitor is offered to leave a message (R-Q3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LeaveMessageReason {
    /// The queue is full.
    QueueFull,
    /// The conversation waited the queue's maximum wait.
    MaxWait,
    /// The queue is long: its length is at or over the threshold.
    LongQueue,
    /// Outside the desk's service hours.
    OutsideServiceHours,
    /// No agent of the group is eligible at all (all offline, on break or off duty).
    NoAgentAvailable,
}

/// Why a conversation could not wait (R-Q3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TurnAwayReason {
    /// The queue was full.
    QueueFull,
    /// It waited the queue's maximum wait.
    MaxWait,
}

impl From<TurnAwayReason> for LeaveMessageReason {
    fn from(reason: TurnAwayReason) -> Self {
        match reason {
            TurnAwayReason::QueueFull => LeaveMessageReason::QueueFull,
            TurnAwayReason::MaxWait => LeaveMessageReason::MaxWait,
        }
    }
}

/// Why a conversation is in the unassigned pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PoolReason {
    /// No eligible agent had room.
    NoAgentAvailable,
    /// It was queued when the engine switched to asynchronous mode.
    ModeChanged,
}

/// What lifted a snooze (R-Z2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum WakeReason {
    /// The snooze time came.
    SnoozeEnded,
    /// The visitor wrote.
    VisitorMessage,
    /// The agent replied.
    AgentMessage,
    /// The engine switched to real-time mode, where there is no snooze.
    ModeChanged,
    /// The conversation was transferred and could not stay snoozed (R-X2): no agent of the
    /// target group could take it at once, so it waits in the queue or pool, or it goes as an
    /// offer (automatic reception off), which its new agent must answer. The wake comes
    /// before the transfer it makes way for. (A snooze that lands on an agent moves with
    /// the conversation instead: see [`Command::Transfer`](crate::Command::Transfer).)
    Reassigned,
}

/// Which reply goal (R-L1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReplyGoal {
    /// The first reply of an agent after it got the conversation.
    FirstReply,
    /// The reply to a visitor message.
    NextReply,
}

/// What gave an agent room to take waiting work (R-D1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DrainTrigger {
    /// One of its conversations ended or left it.
    CapacityFreed,
    /// It changed to an assignable status.
    BecameAssignable,
    /// It was registered.
    Registered,
    /// Its limit or groups changed.
    AgentUpdated,
    /// A group of its changed limit, or was removed.
    GroupChanged,
    /// The engine-wide config changed.
    ConfigUpdated,
    /// Its shift started (working hours, R-W2).
    ShiftStarted,
}

/// Who or what ended a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EndReason {
    /// The agent closed it.
    Agent,
    /// The visitor closed it.
    Visitor,
    /// An admin closed it (for example an invalid conversation, without a summary).
    Admin,
    /// The visitor stayed silent after the agent's reply (R-L2).
    Inactivity,
}

display_in_words!(LeaveMessageReason {
    QueueFull => "queue full",
    MaxWait => "maximum wait reached",
    LongQueue => "long queue",
    OutsideServiceHours => "outside service hours",
    NoAgentAvailable => "no agent available",
});

display_in_words!(TurnAwayReason {
    QueueFull => "queue full",
    MaxWait => "maximum wait reached",
});

display_in_words!(PoolReason {
    NoAgentAvailable => "no agent available",
    ModeChanged => "reception mode changed",
});

display_in_words!(WakeReason {
    SnoozeEnded => "snooze ended",
    VisitorMessage => "visitor message",
    AgentMessage => "agent message",
    ModeChanged => "reception mode changed",
    Reassigned => "reassigned",
});

display_in_words!(ReplyGoal {
    FirstReply => "first reply",
    NextReply => "next reply",
});

display_in_words!(DrainTrigger {
    CapacityFreed => "capacity freed",
    BecameAssignable => "became assignable",
    Registered => "registered",
    AgentUpdated => "agent updated",
    GroupChanged => "group changed",
    ConfigUpdated => "config updated",
    ShiftStarted => "shift started",
});

display_in_words!(EndReason {
    Agent => "agent",
    Visitor => "visitor",
    Admin => "admin",
    Inactivity => "inactivity",
});
