//! What goes in: the commands a host sends to [`Engine::handle`](crate::Engine::handle).

use std::fmt;

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ReceptionMode};
use crate::event::EndReason;
use crate::ids::{
    AgentId, ConversationId, GroupId, KindId, ScheduleId, SkillId, SkillLevel, Target, VisitorId,
};
use crate::status::AgentStatus;
use crate::strategy::Strategy;

/// A command, in the vocabulary of a contact-center product. Each is handled atomically: it
/// either succeeds with an [`Outcome`](crate::Outcome) or fails with an
/// [`Error`](crate::Error) and changes nothing. Batch commands (those that take a list of
/// conversations) report one result per item instead (R-C8).
///
/// Costs are given in `a` agents, `g` groups of the agent concerned, `K` kinds of work (1 on
/// a desk that defines none, R-K1), `n` waiting conversations and `t` armed deadlines.
///
/// On the wire a command is an object whose `"type"` names the variant, with its fields (or
/// its payload's fields) beside it: `{"type":"Claim","agent":"ana","conversation":null}`,
/// `{"type":"Tick"}`. A field the command does not have is refused, so a typo such as
/// `"conversaton"` fails to deserialize instead of being dropped (see the crate docs, "Wire
/// format").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
#[non_exhaustive]
pub enum Command {
    /// A visitor asks for a human: a new conversation to route (R-S1, R-S2, R-Q1).
    ///
    /// Cost: O(g · K · log a) to find and assign an agent (`g` groups of the chosen agent,
    /// which is re-filed under each kind), or O(log n + min(ahead, behind)) to queue. Finding
    /// the agent looks only at the candidates its group files under its kind, O(log a), plus
    /// one step per candidate at the cap of the conversation's own group when another group
    /// (designated, overflow) routes it (R-K3). With [stages](Arrival::stages), the candidates
    /// are those of its routing key (group, requirement set): O(log a) when the key exists,
    /// plus O(h · r) in each group it waits in where it is the first open conversation needing
    /// that set (`r` skills named, `h` the group's members holding the rarest required one),
    /// and the chosen agent is re-filed under its keys lazily: left where it stood, and moved
    /// when a later pick meets it there, O(K · log a) once per key (see the crate docs,
    /// "Cost").
    VisitorArrives(Arrival),
    /// A visitor gives up before an agent took the conversation on (abandons): from the queue,
    /// the pool, or while it is offered to an agent who has not accepted yet (the offer is
    /// withdrawn and the agent takes other work).
    ///
    /// Cost: O(log n).
    VisitorLeaves {
        /// The waiting conversation.
        conversation: ConversationId,
    },
    /// An agent's status changes (R-A2). To an assignable status, the agent takes waiting work
    /// (R-D1); away from one, it keeps what it holds unless
    /// [`Config::requeue_when_unassignable`] is set.
    ///
    /// Cost: O(g · K · log a), plus O(g · K · (log n + x)) per conversation the agent then
    /// takes (it looks at the head of each of its groups' queues of each kind it fits), where
    /// `x` counts the waiting conversations ahead in those queues that it may not take because
    /// it transferred, declined or missed them, or because they are another group's work
    /// (overflowed or designated there) of which it holds as much as that group's cap allows
    /// (each is stepped over once per look). Conversations past the redirect limit wait apart
    /// and cost nothing here. With skills, `g` counts the routing keys the agent meets too
    /// (R-SK4): it looks at their heads as at its groups'.
    AgentStatusChanged {
        /// The agent.
        agent: AgentId,
        /// The new status.
        status: AgentStatus,
    },
    /// Snooze active conversations until a time (R-Z1): each keeps its agent, moves to the
    /// snoozed bucket, and has no reply-goal clock, reminder or automatic end until the snooze
    /// lifts (at `until`, or on a visitor message or agent reply, R-Z2). Asynchronous
    /// reception mode only; `until` must lie after the engine's time. One result per
    /// conversation.
    ///
    /// The snooze belongs to the conversation, not to the agent: reassigned by an admin
    /// ([`Command::AssignManually`]) or transferred to an agent who takes it at once
    /// ([`Command::Transfer`]), it stays snoozed with its new agent until the same time. It
    /// lifts early only where it cannot land on an agent (see [`Command::Transfer`]) and when
    /// the engine leaves asynchronous mode.
    ///
    /// Cost per conversation: O(log t) (`t` armed deadlines).
    Snooze {
        /// The conversations.
        conversations: Vec<ConversationId>,
        /// When the snooze lifts.
        until: DateTime<Utc>,
    },
    /// An admin assigns one or many conversations to an agent or a group (R-X1). Highest
    /// priority: ignores status, eligibility and every dimension of capacity (units, a kind's
    /// maximum, blocking kinds, group caps), and always succeeds for a known agent; an agent
    /// taken beyond a dimension gets no automatic work that dimension bounds until it fits
    /// again (R-A4 per dimension). One result per conversation.
    ///
    /// It works from the queue or pool (also for a conversation past the redirect limit, which
    /// then routes normally again), from an offer, from an agent (then it is a transfer:
    /// [`Event::ConversationTransferred`](crate::Event::ConversationTransferred) comes first,
    /// and the previous agent takes waiting work with the room it frees), and from a snooze.
    /// **A snoozed conversation keeps its snooze**: the new agent holds it snoozed until the
    /// same time (the same deadline), with no reply-goal clock, reminder or first-reply limit
    /// until it wakes; then its first-reply goal starts. It counts toward the new agent's load
    /// as snoozed work does ([`Config::snoozed_count_toward_load`]). The events are
    /// `ConversationTransferred`, `ConversationAssigned`, then
    /// [`Event::ConversationSnoozed`](crate::Event::ConversationSnoozed) naming the new agent
    /// and the same time (not counted as a new snooze in [`Counters`](crate::Counters)).
    ///
    /// Cost per conversation: O(g · K · log a); to a group with no member that fits,
    /// O(members) to find the least loaded one (units held over capacity).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use switchboard::{
    ///     AgentId, AgentSpec, AgentStatus, Arrival, AssignReason, Command, Config, Engine, Error,
    ///     Event, GroupSpec, Target,
    /// };
    ///
    /// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support")))?;
    /// let ana = AgentSpec::new("ana").status(AgentStatus::Online).limit(1).group("support");
    /// engine.handle(t0, Command::RegisterAgent(ana))?;
    /// // ana takes c1 and is full; c2 waits.
    /// for (c, v) in [("c1", "v1"), ("c2", "v2")] {
    ///     engine.handle(t0, Command::VisitorArrives(Arrival::new(c, v, "support")))?;
    /// }
    ///
    /// // The admin gives c2 to ana anyway, and names a conversation that does not exist.
    /// let assign = Command::AssignManually {
    ///     conversations: vec!["c2".into(), "c9".into()],
    ///     target: Target::Agent("ana".into()),
    /// };
    /// let outcome = engine.handle(t0, assign)?;
    /// assert!(outcome.events.iter().any(|e| matches!(e,
    ///     Event::ConversationAssigned { conversation, reason: AssignReason::Manual, .. }
    ///         if conversation.as_str() == "c2")));
    /// // One result per conversation, in the order given: c9 alone failed.
    /// assert!(outcome.results[0].result.is_ok());
    /// assert!(matches!(outcome.results[1].result, Err(Error::UnknownConversation { .. })));
    /// // ana is over her limit now, and gets no automatic work until she is below it again.
    /// let ana = engine.agent(&AgentId::from("ana")).expect("registered");
    /// assert_eq!((ana.load, ana.limit), (2, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    AssignManually {
        /// The conversations, in the order to assign them.
        conversations: Vec<ConversationId>,
        /// The agent or group.
        target: Target,
    },
    /// End one or many conversations (R-X2), from any open state. One result per conversation.
    ///
    /// Cost per conversation: O(g · K · log a + log t), plus O(g · K · (log n + x)) per
    /// conversation the freed agent then takes (`x` as for [`Command::AgentStatusChanged`]).
    EndConversations {
        /// The conversations.
        conversations: Vec<ConversationId>,
        /// Who or what ended them.
        reason: EndReason,
    },
    /// An agent hands an active or snoozed conversation to another agent, or to a group
    /// (R-X2). Respects eligibility: a named agent must fit it now in every dimension (status,
    /// units, the kind's maximum, blocking kinds, the conversation's group's cap: R-K1..R-K3);
    /// a group with no one free queues it. The handing agent is never given it again automatically (only by
    /// hand), also when the receiving agent declines or misses it.
    ///
    /// **A snoozed conversation keeps its snooze when it lands on an agent at once**: the named
    /// agent, or the member of the group its routing chooses, with automatic reception on. The
    /// new agent holds it snoozed until the same time, as after [`Command::AssignManually`]:
    /// `ConversationTransferred`, `ConversationAssigned`, then `ConversationSnoozed` naming the
    /// new agent. Where it cannot land on an agent (the group has no one free, so it must wait
    /// in the queue or pool; or automatic reception is off, so it would be an offer the new
    /// agent must answer), the snooze lifts first:
    /// [`Event::ConversationWoke`](crate::Event::ConversationWoke) with
    /// [`WakeReason::Reassigned`](crate::WakeReason::Reassigned) comes before
    /// `ConversationTransferred`, and the transfer goes on as for an active conversation.
    ///
    /// Cost: O(g · K · log a) for each agent involved, plus the work the first agent then takes.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{DateTime, TimeDelta, Utc};
    /// use switchboard::{
    ///     AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, ConversationState,
    ///     Engine, Error, Event, GroupSpec, Target,
    /// };
    ///
    /// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
    /// let mut engine = Engine::new(Config::default())?;
    /// for group in ["support", "billing"] {
    ///     engine.handle(t0, Command::RegisterGroup(GroupSpec::new(group)))?;
    /// }
    /// for (agent, group) in [("ana", "support"), ("bo", "billing")] {
    ///     let spec = AgentSpec::new(agent).status(AgentStatus::Online).limit(1).group(group);
    ///     engine.handle(t0, Command::RegisterAgent(spec))?;
    /// }
    /// engine.handle(t0, Command::VisitorArrives(Arrival::new("c1", "v1", "support")))?;
    ///
    /// // The visitor has a billing question: ana hands the conversation to the billing group,
    /// // whose strategy picks bo.
    /// let later = t0 + TimeDelta::minutes(2);
    /// let transfer = Command::Transfer {
    ///     conversation: "c1".into(),
    ///     to: Target::Group("billing".into()),
    /// };
    /// let outcome = engine.handle(later, transfer)?;
    /// assert!(outcome.events.iter().any(|e| matches!(e, Event::ConversationTransferred { .. })));
    /// let c1 = engine.conversation(&ConversationId::from("c1")).expect("known");
    /// assert!(matches!(c1.state, ConversationState::Active { agent } if agent.as_str() == "bo"));
    ///
    /// // Only an active conversation can be transferred: c2 still waits in the queue.
    /// engine.handle(later, Command::VisitorArrives(Arrival::new("c2", "v2", "billing")))?;
    /// let transfer = Command::Transfer {
    ///     conversation: "c2".into(),
    ///     to: Target::Agent("ana".into()),
    /// };
    /// let error = engine.handle(later, transfer).unwrap_err();
    /// assert!(matches!(error, Error::InvalidState { .. }), "{error}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Transfer {
        /// The active or snoozed conversation.
        conversation: ConversationId,
        /// Where it goes.
        to: Target,
    },
    /// A message in a conversation (R-Z2, R-L1, R-L2). The engine keeps no text; the message
    /// lifts a snooze (not an internal note), starts or meets a reply goal, and starts or stops
    /// the visitor-inactivity clock. Agent messages are from the conversation's agent.
    ///
    /// Cost: O(log t).
    Message {
        /// The conversation.
        conversation: ConversationId,
        /// Who wrote, and how.
        from: Sender,
    },
    /// An agent takes a conversation from the unassigned pool (R-P2), within its status (under
    /// the allocation target) and every dimension of capacity, as automatic work
    /// (R-K1..R-K3). Asynchronous mode only. The agent need not belong
    /// to the conversation's group: claiming is its own choice, and an agent with room already
    /// gets the pooled work of its groups automatically. Without a conversation it takes the
    /// first one of [`Engine::pool`](crate::Engine::pool) it may have and fits (a call it has
    /// no room for is passed over for the chat behind it), so conversations past the redirect
    /// limit come after every other; with none it fits, the error names the first it may have.
    ///
    /// Cost: O(g · K · log a + log n); without a conversation, O(K · log n) plus one step per
    /// pooled conversation ahead that the agent transferred, declined or missed, or that is of
    /// a group whose cap it has reached.
    Claim {
        /// The agent.
        agent: AgentId,
        /// The conversation; `None` takes the first one in pool order that the agent may have.
        conversation: Option<ConversationId>,
    },
    /// Switch the reception mode (R-M1): queued conversations move to the pool in arrival
    /// order, or pooled ones to the queue; snoozes lift when leaving asynchronous mode.
    ///
    /// The cause comes first (R-C2): [`Event::ConfigUpdated`](crate::Event::ConfigUpdated) and
    /// [`Event::ReceptionModeChanged`](crate::Event::ReceptionModeChanged), then the snoozes
    /// lifting (`ConversationWoke` with reason `ModeChanged`), the moves
    /// (`ConversationPooled` or `ConversationQueued`), and the work agents then take. Setting
    /// the mode already in force changes nothing and says nothing: `Ok` with no events (only
    /// the engine's clock moves to `now`, as with every command that succeeds).
    ///
    /// Cost: a rebuild, O(a · g · K · log a + n log n), plus an event per waiting or snoozed
    /// conversation; O(1) for the mode already in force.
    SetReceptionMode {
        /// The new mode.
        mode: ReceptionMode,
    },
    /// The agent accepts an offer (R-R1).
    ///
    /// Cost: O(log t).
    AcceptOffer {
        /// The offered conversation.
        conversation: ConversationId,
        /// The agent it is offered to.
        agent: AgentId,
    },
    /// The agent declines an offer; it goes to another agent of the group (R-R2).
    ///
    /// Cost: O(g · K · log a), plus the redirect and the work the agent then takes.
    DeclineOffer {
        /// The offered conversation.
        conversation: ConversationId,
        /// The agent it is offered to.
        agent: AgentId,
    },
    /// A queued visitor leaves a message instead of waiting, or a turned-away one takes the
    /// offer (R-Q3). Real-time mode only.
    ///
    /// Cost: O(log n).
    LeaveMessage {
        /// The conversation.
        conversation: ConversationId,
    },
    /// Define a schedule, or replace the ranges of one (R-W1).
    ///
    /// Cost: O(r log r) to check the ranges (`r` pairs of a range and a day), O(r) to find
    /// the next shift boundary, plus O(g · log a) per linked agent whose duty changes.
    DefineSchedule(ScheduleSpec),
    /// Remove a schedule no agent and no service hours use.
    ///
    /// Cost: O(log s).
    RemoveSchedule {
        /// The schedule.
        schedule: ScheduleId,
    },
    /// Time passes: fire every deadline at or before `now`, earliest first. Deadlines at the
    /// same instant fire in the order they were set, except that a conversation's stage
    /// boundary (its stages that fall due, then its overflow, R-SK2, R-S4) comes before its
    /// maximum wait (R-Q3). A stage that relaxes moves the conversation between routing keys,
    /// O(groups it waits in · log n), plus O(h · r) for a key it is first to need (see
    /// `VisitorArrives`). Early or repeated ticks are harmless
    /// (R-C2).
    ///
    /// Cost: O(log t) per deadline due, plus what each does; nothing is scanned.
    #[serde(deserialize_with = "crate::wire::no_fields")]
    Tick,
    /// Register an agent (R-A1).
    ///
    /// Cost: O(g · K · log a), plus the work the agent takes.
    RegisterAgent(AgentSpec),
    /// Change an agent's limit, groups, schedules or skills (R-A1, R-A3, R-SK5).
    ///
    /// Cost: O(g · K · log a), plus the work the agent takes or the offers it loses; a change
    /// of skills or groups re-checks it against the routing keys of its groups, O(keys · r).
    UpdateAgent(AgentUpdate),
    /// Remove an agent. The conversations it holds go back to their queues at their original
    /// place and are routed again.
    ///
    /// Cost: O(g · K · log a), plus a route per conversation it held.
    RemoveAgent {
        /// The agent.
        agent: AgentId,
    },
    /// Register a group (R-A1).
    ///
    /// Cost: O(log groups).
    RegisterGroup(GroupSpec),
    /// Change a group's strategy, limit, overflow or cap (R-A3, R-S4, R-K3). A cap raised or
    /// removed lets every agent with room take the work it held back, in registration order
    /// (the group's work may wait in other groups' queues too, after an overflow or a
    /// designation).
    ///
    /// Cost: O(members · g · K · log a), plus the work members take; with a changed cap, plus
    /// O(a) and the work every agent with room takes.
    UpdateGroup(GroupUpdate),
    /// Remove a group that no open conversation names: as its own, designated, overflow or
    /// joined group, or in a stage it has not entered yet (R-SK2). Its agents stay, without
    /// it.
    ///
    /// Cost: O(members · g · K · log a), plus the work members take, plus O(conversations) to
    /// look for stages that name it.
    RemoveGroup {
        /// The group.
        group: GroupId,
    },
    /// Replace the engine-wide config (validated first). Waiting work is re-ordered and
    /// re-routed under the new settings. [`Event::ConfigUpdated`](crate::Event::ConfigUpdated)
    /// comes first, then (when the mode changes) `ReceptionModeChanged` and everything
    /// described under [`Command::SetReceptionMode`]. New kinds, costs or maximums apply at
    /// once: loads are counted again and every agent with room takes what now fits (an agent
    /// that a dearer kind puts over its capacity keeps what it holds, as after a lowered
    /// limit). A config that leaves out a kind open conversations have is refused
    /// ([`Error::KindInUse`](crate::Error::KindInUse)).
    ///
    /// Cost: a rebuild, O(a · g · K · log a + n log n), plus O(conversations) when it leaves
    /// out a kind, then a drain of every agent with room.
    UpdateConfig(Config),
    /// Drop finished conversations (ended, abandoned, left a message) from memory. Their ids
    /// become free again. One result per conversation.
    ///
    /// Cost per conversation: O(1).
    Forget {
        /// The conversations.
        conversations: Vec<ConversationId>,
    },
    /// Drop what the engine remembers of a visitor: the agent who last served them and when
    /// (R-S2). The engine keeps it for every visitor an agent has served, even while the
    /// last-agent preference is off, so that switching the preference on finds the history;
    /// without this command the table grows by one entry per distinct visitor. Send it when
    /// the host's own record of the visitor expires, or to erase a visitor (with
    /// [`Command::Forget`] for their finished conversations).
    ///
    /// The visitor's conversations are not touched; a later assignment remembers its agent
    /// afresh. A visitor no agent has served, or one already forgotten, is
    /// [`Error::UnknownVisitor`](crate::Error::UnknownVisitor).
    ///
    /// Cost: O(1).
    ForgetVisitor {
        /// The visitor.
        visitor: VisitorId,
    },
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Sender {
    /// The visitor.
    Visitor,
    /// The agent, a reply the visitor sees.
    AgentReply,
    /// The agent, an internal note: not a reply (R-L1), does not lift a snooze.
    AgentNote,
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sender::Visitor => "visitor",
            Sender::AgentReply => "agent reply",
            Sender::AgentNote => "agent note",
        })
    }
}

/// A visitor asking for a human.
///
/// # Example
///
/// A priority puts a conversation ahead in its queue; a designated agent is tried before the
/// group's strategy.
///
/// ```
/// use chrono::{DateTime, TimeDelta, Utc};
/// use switchboard::{
///     AgentId, AgentSpec, AgentStatus, Arrival, AssignReason, Command, Config, Engine, Event,
///     GroupId, GroupSpec, Target,
/// };
///
/// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
/// let mut engine = Engine::new(Config::default())?;
/// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support")))?;
/// let ana = AgentSpec::new("ana").status(AgentStatus::Online).limit(1).group("support");
/// engine.handle(t0, Command::RegisterAgent(ana))?;
/// let bo = AgentSpec::new("bo").status(AgentStatus::Online).limit(2).group("support");
/// engine.handle(t0, Command::RegisterAgent(bo))?;
///
/// // A returning customer asks for bo; the group's strategy would have picked ana.
/// let vip = Arrival::new("c1", "v1", "support").designated(Target::Agent(AgentId::from("bo")));
/// let outcome = engine.handle(t0, Command::VisitorArrives(vip))?;
/// assert!(outcome.events.iter().any(|e| matches!(e,
///     Event::ConversationAssigned { agent, reason: AssignReason::DesignatedAgent, .. }
///         if agent.as_str() == "bo")));
///
/// // Fill the desk, then two visitors wait: the later one, of priority 5, goes first.
/// for c in ["c2", "c3", "c4"] {
///     engine.handle(t0, Command::VisitorArrives(Arrival::new(c, c, "support")))?;
/// }
/// let urgent = Arrival::new("c5", "v5", "support").priority(5);
/// engine.handle(t0 + TimeDelta::seconds(30), Command::VisitorArrives(urgent))?;
/// let queue: Vec<&str> = engine
///     .queue(&GroupId::from("support"))
///     .expect("a known group")
///     .map(|c| c.as_str())
///     .collect();
/// assert_eq!(queue, ["c5", "c4"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// The new conversation's id; must not exist yet.
    pub conversation: ConversationId,
    /// Who is writing: used for the last-agent preference.
    pub visitor: VisitorId,
    /// The skill group that serves it.
    pub group: GroupId,
    /// Higher is served first (R-Q1): 0 (the default) ..= 255. Not to be confused with an
    /// agent's [`Membership::rank`] in a group, where 1 comes first.
    #[serde(default)]
    pub priority: u8,
    /// An agent or group named at arrival, tried before anything else (R-S2). When it cannot
    /// serve, the conversation overflows to `group`.
    #[serde(default)]
    pub designated: Option<Target>,
    /// Its kind of work (R-K1), one of [`Config::kinds`]; `None` (the default): the desk's
    /// default kind, the first of `Config::kinds` (or the implicit kind `default` when the
    /// desk defines none). An unknown kind is refused
    /// ([`Error::UnknownKind`](crate::Error::UnknownKind)).
    #[serde(default)]
    pub kind: Option<KindId>,
    /// What an agent needs to take it, in stages that relax over time (R-SK2): `None` (the
    /// default) requires nothing beyond a group. Stage 0 applies from arrival; each stage but
    /// the last lasts [`Stage::for_ms`], then the next applies. The conversation keeps its
    /// place in the queue through every change. An empty list, a zero or missing duration
    /// before the last stage, a duration on the last, an unknown skill or group, a level
    /// outside 1..=10 or a skill named twice in a stage is refused
    /// ([`Error::InvalidStages`](crate::Error::InvalidStages),
    /// [`Error::UnknownSkill`](crate::Error::UnknownSkill),
    /// [`Error::UnknownGroup`](crate::Error::UnknownGroup)).
    ///
    /// Requirements that no agent meets are allowed: the conversation waits, as it would for
    /// a group with no one online, until an agent gains the skills, a stage relaxes, or the
    /// queue's own limits turn it away.
    #[serde(default)]
    pub stages: Option<Vec<Stage>>,
}

impl Arrival {
    /// A conversation of priority 0 and the desk's default kind, with no designated target.
    pub fn new(
        conversation: impl Into<ConversationId>,
        visitor: impl Into<VisitorId>,
        group: impl Into<GroupId>,
    ) -> Self {
        Self {
            conversation: conversation.into(),
            visitor: visitor.into(),
            group: group.into(),
            priority: 0,
            designated: None,
            kind: None,
            stages: None,
        }
    }

    /// Adds a stage of requirements (R-SK2); the first call sets stage 0.
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stages.get_or_insert_with(Vec::new).push(stage);
        self
    }

    /// Requires a skill at a minimum level (1..=10) in its one stage: shorthand for a single
    /// stage that never relaxes. With stages already added, adds to the last one.
    pub fn require(mut self, skill: impl Into<SkillId>, level: u8) -> Self {
        let stages = self.stages.get_or_insert_with(Vec::new);
        if stages.is_empty() {
            stages.push(Stage::new());
        }
        if let Some(last) = stages.last_mut() {
            last.require.push(SkillLevel::new(skill, level));
        }
        self
    }

    /// Sets its kind of work (R-K1).
    pub fn kind(mut self, kind: impl Into<KindId>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Names a designated agent or group.
    pub fn designated(mut self, target: Target) -> Self {
        self.designated = Some(target);
        self
    }
}

/// An agent's membership of a group, with its rank there (R-A1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// The group.
    pub group: GroupId,
    /// The agent's rank in the group, 1 (first) ..= 5 (last); default 3 (Tencent Cloud Desk's
    /// "priority"). [`Strategy::AgentPriority`] gives work to the best rank first. Ranks run
    /// the other way from [`Arrival::priority`], where higher comes first: hence the name.
    #[serde(default = "default_rank")]
    pub rank: u8,
}

/// The rank of a membership that names none.
const DEFAULT_RANK: u8 = 3;

fn default_rank() -> u8 {
    DEFAULT_RANK
}

impl Membership {
    /// A membership with the default rank 3.
    pub fn new(group: impl Into<GroupId>) -> Self {
        Self::with_rank(group, DEFAULT_RANK)
    }

    /// A membership with the given rank, 1 (first) ..= 5 (last).
    pub fn with_rank(group: impl Into<GroupId>, rank: u8) -> Self {
        Self {
            group: group.into(),
            rank,
        }
    }
}

/// Where a reception limit comes from (R-A3). The limit is a capacity in units (R-K1): with
/// the implicit kind, which costs 1, a number of conversations.
///
/// On the wire: `{"type":"Inherit"}` or `{"type":"Fixed","limit":2}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "LimitWire", into = "LimitWire")]
#[non_exhaustive]
pub enum Limit {
    /// For an agent: the largest limit among its groups, else [`Config::default_limit`].
    /// For a group: the group sets no limit.
    #[default]
    Inherit,
    /// This many units at once (at least 1): conversations, when each costs 1.
    Fixed(u32),
}

/// [`Limit`] on the wire: the variant in `"type"`, the number in `"limit"`.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum LimitWire {
    #[serde(deserialize_with = "crate::wire::no_fields")]
    Inherit,
    Fixed {
        limit: u32,
    },
}

impl From<LimitWire> for Limit {
    fn from(wire: LimitWire) -> Self {
        match wire {
            LimitWire::Inherit => Limit::Inherit,
            LimitWire::Fixed { limit } => Limit::Fixed(limit),
        }
    }
}

impl From<Limit> for LimitWire {
    fn from(limit: Limit) -> Self {
        match limit {
            Limit::Inherit => LimitWire::Inherit,
            Limit::Fixed(limit) => LimitWire::Fixed { limit },
        }
    }
}

/// A new agent.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use switchboard::{AgentId, AgentSpec, AgentStatus, Command, Config, Engine, GroupSpec};
///
/// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
/// let mut engine = Engine::new(Config::default())?;
/// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("billing").limit(4)))?;
/// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("sales")))?;
///
/// // Online, at most two conversations at once, in two groups.
/// let ana = AgentSpec::new("ana")
///     .status(AgentStatus::Online)
///     .limit(2)
///     .group("billing")
///     .group("sales");
/// engine.handle(t0, Command::RegisterAgent(ana))?;
/// // Offline (the default) with no limit of its own: the largest limit of its groups applies.
/// engine.handle(t0, Command::RegisterAgent(AgentSpec::new("bo").group("billing")))?;
///
/// let ana = engine.agent(&AgentId::from("ana")).expect("registered");
/// assert_eq!((&ana.status, ana.limit, ana.load), (&AgentStatus::Online, 2, 0));
/// let bo = engine.agent(&AgentId::from("bo")).expect("registered");
/// assert_eq!((&bo.status, bo.limit), (&AgentStatus::Offline, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Its id; must not be registered yet.
    pub agent: AgentId,
    /// Its status at registration. Default Offline.
    #[serde(default)]
    pub status: AgentStatus,
    /// Its reception limit: its capacity in units (R-K1), conversations when each costs 1.
    #[serde(default)]
    pub limit: Limit,
    /// Its groups, with a rank in each.
    #[serde(default)]
    pub groups: Vec<Membership>,
    /// Its working-hours schedules (R-W1); on duty means inside any of them.
    #[serde(default)]
    pub schedules: Vec<ScheduleId>,
    /// Its skills, each once, with a level 1..=10 (R-SK1). Declared in
    /// [`Config::skills`](crate::Config::skills).
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
}

impl AgentSpec {
    /// An Offline agent in no group, with an inherited limit.
    pub fn new(agent: impl Into<AgentId>) -> Self {
        Self {
            agent: agent.into(),
            status: AgentStatus::Offline,
            limit: Limit::Inherit,
            groups: Vec::new(),
            schedules: Vec::new(),
            skills: Vec::new(),
        }
    }

    /// Adds a skill with its level, 1..=10 (R-SK1).
    pub fn skill(mut self, skill: impl Into<SkillId>, level: u8) -> Self {
        self.skills.push(SkillLevel::new(skill, level));
        self
    }

    /// Sets the status.
    pub fn status(mut self, status: AgentStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets a fixed limit.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Limit::Fixed(limit);
        self
    }

    /// Adds a group with the default rank 3.
    pub fn group(mut self, group: impl Into<GroupId>) -> Self {
        self.groups.push(Membership::new(group));
        self
    }

    /// Adds a group with a rank, 1 (first) ..= 5 (last).
    pub fn group_with_rank(mut self, group: impl Into<GroupId>, rank: u8) -> Self {
        self.groups.push(Membership::with_rank(group, rank));
        self
    }

    /// Adds a working-hours schedule.
    pub fn schedule(mut self, schedule: impl Into<ScheduleId>) -> Self {
        self.schedules.push(schedule.into());
        self
    }
}

/// A change to an agent: each `Some` field replaces the current value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentUpdate {
    /// The agent.
    pub agent: AgentId,
    /// A new limit.
    #[serde(default)]
    pub limit: Option<Limit>,
    /// A new set of groups (replaces the old one).
    #[serde(default)]
    pub groups: Option<Vec<Membership>>,
    /// A new set of schedules (replaces the old one).
    #[serde(default)]
    pub schedules: Option<Vec<ScheduleId>>,
    /// A new set of skills with levels (replaces the old one, R-SK5). What the agent holds
    /// stays with it; waiting work it now qualifies for drains to it at once.
    #[serde(default)]
    pub skills: Option<Vec<SkillLevel>>,
}

impl AgentUpdate {
    /// A change to `agent` that changes nothing yet.
    pub fn new(agent: impl Into<AgentId>) -> Self {
        Self {
            agent: agent.into(),
            limit: None,
            groups: None,
            schedules: None,
            skills: None,
        }
    }

    /// Replaces its skills (R-SK5).
    pub fn skills(mut self, skills: Vec<SkillLevel>) -> Self {
        self.skills = Some(skills);
        self
    }
}

/// One stage of a conversation's requirements (R-SK2): the skills an agent must hold (each at
/// least at a level), the skills it should preferably hold, groups whose agents join as
/// candidates from this stage on, and how long the stage lasts before the next, more relaxed
/// one. Requirements apply in every group the conversation waits in: its own, a designated
/// one, the overflow groups it joined and the groups of its stages so far.
///
/// A group's [overflow](GroupSpec::overflow) is the special case of a stage that adds groups
/// and keeps the requirements: both are one timeline of deadlines per conversation, and a
/// conversation whose stage boundary and overflow time fall at the same instant relaxes its
/// stage first, then joins the overflow groups.
///
/// # Example
///
/// English and billing at level 5 or better for 30 seconds, then any billing agent:
///
/// ```
/// use switchboard::{Arrival, Stage};
///
/// let arrival = Arrival::new("c1", "v1", "support")
///     .stage(Stage::new().require("english", 5).require("billing", 5).for_ms(30_000))
///     .stage(Stage::new().require("billing", 1));
/// assert_eq!(arrival.stages.as_ref().map(Vec::len), Some(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Stage {
    /// Skills an agent must hold, each at least at the level given.
    pub require: Vec<SkillLevel>,
    /// Skills an agent should hold at least at the level given: under
    /// [`Strategy::BestSkilled`] more of them matched ranks an agent first.
    pub prefer: Vec<SkillLevel>,
    /// Groups whose agents become candidates from this stage on (they stay for later stages).
    pub groups: Vec<GroupId>,
    /// How long this stage applies, in milliseconds, before the next one: required (and at
    /// least 1) on every stage but the last, absent on the last, which applies until the
    /// conversation is served. Stage `i` starts at arrival plus the durations of the stages
    /// before it.
    pub for_ms: Option<u64>,
}

impl Stage {
    /// A stage that requires nothing and lasts until the conversation is served.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires a skill at a minimum level, 1..=10.
    pub fn require(mut self, skill: impl Into<SkillId>, level: u8) -> Self {
        self.require.push(SkillLevel::new(skill, level));
        self
    }

    /// Prefers a skill at a minimum level, 1..=10.
    pub fn prefer(mut self, skill: impl Into<SkillId>, level: u8) -> Self {
        self.prefer.push(SkillLevel::new(skill, level));
        self
    }

    /// Adds a group whose agents join as candidates from this stage on.
    pub fn group(mut self, group: impl Into<GroupId>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Sets how long the stage lasts before the next one, in milliseconds.
    pub fn for_ms(mut self, ms: u64) -> Self {
        self.for_ms = Some(ms);
        self
    }
}

/// A new group.
///
/// # Example
///
/// A group with its own strategy and limit, whose waiting conversations the agents of
/// another group may take after two minutes (R-S4).
///
/// ```
/// use chrono::{DateTime, TimeDelta, Utc};
/// use switchboard::{
///     AgentSpec, AgentStatus, Arrival, Command, Config, Engine, Event, GroupSpec, Strategy,
/// };
///
/// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
/// let mut engine = Engine::new(Config::default())?;
/// let billing = GroupSpec::new("billing")
///     .strategy(Strategy::RoundRobin)
///     .limit(3)
///     .overflow(&["general"], 120);
/// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("general")))?;
/// engine.handle(t0, Command::RegisterGroup(billing))?;
/// // No one in billing is online; bo in general is.
/// engine.handle(t0, Command::RegisterAgent(AgentSpec::new("ana").group("billing")))?;
/// let bo = AgentSpec::new("bo").status(AgentStatus::Online).group("general");
/// engine.handle(t0, Command::RegisterAgent(bo))?;
///
/// let arrival = Arrival::new("c1", "v1", "billing");
/// let outcome = engine.handle(t0, Command::VisitorArrives(arrival))?;
/// assert!(outcome.events.iter().any(|e| matches!(e, Event::ConversationQueued { .. })));
/// // The overflow is a deadline: at it, the host sends a Tick, and bo takes c1.
/// assert_eq!(outcome.next_deadline, Some(t0 + TimeDelta::seconds(120)));
/// let outcome = engine.handle(t0 + TimeDelta::seconds(120), Command::Tick)?;
/// assert!(outcome.events.iter().any(|e| matches!(e,
///     Event::ConversationAssigned { agent, .. } if agent.as_str() == "bo")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Its id; must not be registered yet.
    pub group: GroupId,
    /// How it picks among its eligible agents. Default least recently assigned.
    #[serde(default)]
    pub strategy: Strategy,
    /// A limit for its members (R-A3).
    #[serde(default)]
    pub limit: Limit,
    /// Groups whose agents may take its conversations once they have waited (R-S4).
    #[serde(default)]
    pub overflow: Option<Overflow>,
    /// The most units of this group's own work (conversations whose group it is, however they
    /// reach the agent: through this group, an overflow or designated group, or a drain) one
    /// agent may hold for automatic work, on top of the agent's capacity (R-K3: at most 2
    /// sales chats at once). At least 1; `None` (the default): no cap. Manual assignment may
    /// exceed it.
    #[serde(default)]
    pub agent_cap: Option<u32>,
}

/// Skill relaxation (R-S4): after a conversation has waited `after_secs` since it arrived,
/// the agents of `groups` become candidates too. If the queue's maximum wait
/// ([`QueueConfig::max_wait_secs`](crate::QueueConfig::max_wait_secs)) falls at the same
/// instant, the overflow comes first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overflow {
    /// The overflow groups, tried in this order.
    pub groups: Vec<GroupId>,
    /// Seconds of waiting before they join (at least 1).
    pub after_secs: u64,
}

impl GroupSpec {
    /// A group with the default strategy and no limit of its own.
    pub fn new(group: impl Into<GroupId>) -> Self {
        Self {
            group: group.into(),
            strategy: Strategy::default(),
            limit: Limit::Inherit,
            overflow: None,
            agent_cap: None,
        }
    }

    /// Caps the units of this group's own work one agent may hold (R-K3).
    pub fn agent_cap(mut self, units: u32) -> Self {
        self.agent_cap = Some(units);
        self
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets a limit for its members.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Limit::Fixed(limit);
        self
    }

    /// Sets overflow groups that join after `after_secs` of waiting.
    pub fn overflow(mut self, groups: &[&str], after_secs: u64) -> Self {
        self.overflow = Some(Overflow {
            groups: groups.iter().map(|g| GroupId::from(*g)).collect(),
            after_secs,
        });
        self
    }
}

/// A change to a group: each `Some` field replaces the current value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    /// The group.
    pub group: GroupId,
    /// A new strategy.
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// A new limit.
    #[serde(default)]
    pub limit: Option<Limit>,
    /// A new overflow setting; one with no groups switches overflow off. Conversations
    /// already waiting in the group follow it, in arrival order: their overflow deadline is set
    /// anew from their arrival (or now, if that has passed), or dropped. `None` leaves the setting and their
    /// deadlines as they are.
    #[serde(default)]
    pub overflow: Option<Overflow>,
    /// A new cap on the units of the group's own work one agent may hold (R-K3):
    /// `Some(Some(units))` sets it, `Some(None)` removes it, `None` leaves it. On the wire: a
    /// number sets it, `null` removes it, and an absent field leaves it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::double_option"
    )]
    pub agent_cap: Option<Option<u32>>,
}

/// A named weekly schedule (SHOPLINE "working time"): a time zone and weekly ranges. Used for
/// agents' working hours and for the desk's service hours.
///
/// Ranges may touch but not overlap, to the second (to the nanosecond, in fact: a range's
/// times are compared exactly), also across midnight and the end of the week;
/// [`Command::DefineSchedule`](crate::Command::DefineSchedule) refuses a schedule whose ranges
/// overlap, or a range that names no days, is empty, or starts or ends in a leap second, with
/// [`Error::InvalidSchedule`](crate::Error::InvalidSchedule) naming the schedule.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday::*};
/// use switchboard::{
///     AgentId, AgentSpec, AgentStatus, Command, Config, Engine, Error, GroupSpec, ScheduleSpec,
///     WeeklyRange,
/// };
///
/// let time = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("a valid time");
/// let berlin = ScheduleSpec {
///     schedule: "berlin".into(),
///     time_zone: "Europe/Berlin".into(),
///     ranges: vec![
///         WeeklyRange::new(&[Mon, Tue, Wed, Thu, Fri], time(9), time(17)),
///         // Overnight: from Friday 22:00 to Saturday 06:00.
///         WeeklyRange::new(&[Fri], time(22), time(6)),
///     ],
/// };
/// // Monday 2 March 2026, 07:00 UTC: 08:00 in Berlin (UTC+1 in winter).
/// let t0: DateTime<Utc> = "2026-03-02T07:00:00Z".parse()?;
/// let mut engine = Engine::new(Config::default())?;
/// engine.handle(t0, Command::DefineSchedule(berlin))?;
/// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support")))?;
/// let ana = AgentSpec::new("ana")
///     .status(AgentStatus::Online)
///     .group("support")
///     .schedule("berlin");
/// engine.handle(t0, Command::RegisterAgent(ana))?;
///
/// // Working-hours routing needs an agent with a schedule, so it is switched on now.
/// let config = Config { working_hours: true, ..engine.config().clone() };
/// let outcome = engine.handle(t0, Command::UpdateConfig(config))?;
/// let ana = AgentId::from("ana");
/// assert!(!engine.agent(&ana).expect("registered").on_duty);
/// // The shift starts at 09:00 in Berlin, 08:00 UTC: a deadline, so the host ticks then.
/// let shift_start: DateTime<Utc> = "2026-03-02T08:00:00Z".parse()?;
/// assert_eq!(outcome.next_deadline, Some(shift_start));
/// engine.handle(shift_start, Command::Tick)?;
/// assert!(engine.agent(&ana).expect("registered").on_duty);
///
/// // Ranges that overlap, if only by a second, are refused.
/// let overlapping = ScheduleSpec {
///     schedule: "late".into(),
///     time_zone: "UTC".into(),
///     ranges: vec![
///         WeeklyRange::new(&[Mon], time(9), time(17)),
///         WeeklyRange::new(&[Mon], time(17) - TimeDelta::seconds(1), time(18)),
///     ],
/// };
/// let error = engine.handle(shift_start, Command::DefineSchedule(overlapping)).unwrap_err();
/// assert!(matches!(&error,
///     Error::InvalidSchedule { schedule, .. } if schedule.as_str() == "late"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Its id.
    pub schedule: ScheduleId,
    /// An IANA time zone name, such as `Europe/Berlin`.
    pub time_zone: String,
    /// The weekly ranges; on duty means inside any of them.
    pub ranges: Vec<WeeklyRange>,
}

/// A time range on some days of the week, in the schedule's local time. When `end` is not
/// after `start` the range runs overnight into the next day; the days name the day it starts.
/// Times are taken exactly, seconds and fractions included; a leap second (`23:59:60`) is
/// refused as a bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyRange {
    /// The days on which the range starts.
    pub days: Vec<Weekday>,
    /// Local start time (inclusive).
    pub start: NaiveTime,
    /// Local end time (exclusive); at or before `start` for an overnight range.
    pub end: NaiveTime,
}

impl WeeklyRange {
    /// A range on the given days.
    pub fn new(days: &[Weekday], start: NaiveTime, end: NaiveTime) -> Self {
        Self {
            days: days.to_vec(),
            start,
            end,
        }
    }
}
