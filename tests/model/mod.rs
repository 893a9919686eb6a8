//! A reference model of the routing rules, written from `SPEC.md` and the crate's documented
//! rules (crate docs, command, config, event and strategy docs), not from the engine's code.
//!
//! It keeps plain vectors and answers every question by a scan: an agent's load is the number
//! of conversations that name it as their holder, a group's queue is the waiting conversations
//! that wait in it, sorted. It is slow on purpose and meant to be read next to the SPEC.
//!
//! Covered: agents (status, custom statuses, limit, groups with priorities), groups (the four
//! strategies with their documented tie-breaks, limits, overflow groups), designated agent or
//! group, last agent with window, the queue (priority then arrival, aging) and the pool (its
//! three orders), drains (R-D1), manual assignment, transfer, end, abandon, leave a message,
//! maximum length and maximum wait, snooze, claims, offers with accept, decline, expiry,
//! withdrawal, redirects and the redirect limit, short break on timeout, first-reply timeout,
//! reply goals (paused while snoozed), visitor inactivity, mode switches, config changes,
//! forgetting conversations and visitors, work kinds with weighted capacity (R-K1..R-K5: costs
//! in units, a kind's maximum per agent, blocking kinds, paused work that holds units or not,
//! group caps on their own work), and working hours (R-W1, R-W2): schedules defined,
//! redefined and removed, agents linked to them, duty re-evaluated at each shift boundary (a
//! deadline like any other), working-hours routing switched on and off, service hours for
//! leave-a-message, and skills (R-SK1..R-SK5): skills and levels validated and replaced at
//! run time, stages of requirements on one timeline with the group's overflow (stages first,
//! then the overflow, then one routing), stage groups as candidates, qualification on every
//! automatic route (designated and last agent included), best skilled, drains over qualified
//! work, `SkillMatch` on assignments, skills in use. Schedules are modelled in time zones without daylight saving only (UTC and
//! a fixed +05:30), as minutes of the week; daylight saving is covered by the scenario tests
//! in `tests/working_hours.rs`. Left out: estimated waits and the announcements of changed
//! queue positions (checked from the event stream instead).
//!
//! Where the SPEC is silent the model follows what the crate documents; where neither says
//! (the order of validation, the tie between two deadlines at the same instant) it takes the
//! natural reading, noted at the place.

#![allow(dead_code)]

pub mod projection;

use std::cmp::Ordering;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use switchboard::{
    AgentId, AgentSpec, AgentStatus, AgentUpdate, AllocationTarget, Arrival, AssignReason, Command,
    Config, ConversationId, DrainTrigger, EndReason, Error, GroupId, GroupSpec, GroupUpdate,
    KindId, KindSpec, Limit, PoolOrder, ReceptionMode, ReplyGoal, Sender, SkillId, SkillLevel,
    Stage, Strategy, Target, VisitorId, WakeReason,
};
use switchboard::{ScheduleId, ScheduleSpec, WeeklyRange};

// ---- known engine bugs ----------------------------------------------------------------------
//
// Each switch makes the model (and invariant 4) accept the engine's current, wrong behaviour so
// that the property test stays green in CI while the bug waits for its fix; each bug has an
// ignored regression test in `tests/model_test.rs` named after it. Once the engine is fixed,
// set the switch to `false`: the model then expects the corrected behaviour written below it.

/// Bug 1: a conversation routed again after it joined an overflow group (redirect, requeue,
/// withdrawn offer) is offered only to its own group; overflow-group agents with room do not
/// take it (R-Q4, R-S4). Regression test:
/// `rerouted_overflowed_conversation_goes_to_an_overflow_agent_with_room`.
pub const KNOWN_BUG_1_OVERFLOW_REROUTE: bool = false;

/// Bug 2: switching SLA off clears only reply goals with an armed deadline; a goal paused by a
/// snooze survives and breaches after the wake (R-L1, `Config` docs). Regression test:
/// `reply_goal_paused_by_snooze_does_not_breach_after_sla_is_switched_off`.
pub const KNOWN_BUG_2_PAUSED_GOAL_SURVIVES_SLA_OFF: bool = false;

/// Bug 3: overflow set on a group by `UpdateGroup` never applies to conversations already
/// waiting in it (R-S4). Regression test:
/// `overflow_set_on_a_group_applies_to_conversations_already_waiting`.
pub const KNOWN_BUG_3_OVERFLOW_UPDATE_IGNORED: bool = false;

// ---- readings of SKILLS.md where it leaves a choice ------------------------------------------

/// A manual assignment to a group picks, with the group's strategy, an eligible member with
/// room that meets the requirements in force; with none, the least loaded member, skills
/// aside (the engine on main since fb0fe66, R-X1, R-SK2). SKILLS.md says only that manual
/// assignment ignores skills; the engine's reading is the one the model follows.
pub const MANUAL_TO_GROUP_QUALIFIES: bool = true;

/// A claim of a named conversation needs the skills too, as it needs room (R-P2: a claim
/// respects the agent's limit): `AgentUnavailable` otherwise. SKILLS.md names only the claim
/// of "the next"; the engine refuses both, and so does the model.
pub const CLAIM_NAMED_NEEDS_SKILLS: bool = true;

/// Bug 4 (fixed): `RemoveGroup` removed a group that only a stage not yet entered of an open
/// conversation names, though the command's docs say it removes "a group that no open
/// conversation names" (R-SK2); the stage then joins nothing for it. Regression test:
/// `group_named_by_a_later_stage_cannot_be_removed`.
pub const KNOWN_BUG_4_REMOVE_GROUP_NAMED_BY_STAGES: bool = false;

/// Bug 6 (fixed): once a conversation's group overflow time has passed without joining any group (it
/// waits in all of them already, say through a stage), its later stage boundaries are never
/// armed: its stages stop (R-SK2). Regression test:
/// `stages_after_an_overflow_that_joins_nothing_still_come`.
pub const KNOWN_BUG_6_NO_OP_OVERFLOW_STOPS_STAGES: bool = false;

/// Bug 7 (fixed): a stage's group that the conversation already waits in as its designated group is
/// not kept as a stage group; once the designation ends (first service), a conversation
/// routed again no longer waits in it, though "the groups of the stages entered so far" stay
/// candidates (R-SK2, SKILLS.md). Invariant 4 found it. Regression test:
/// `a_stage_group_that_was_the_designated_group_stays_a_candidate`.
pub const KNOWN_BUG_7_STAGE_GROUP_LOST_WITH_DESIGNATION: bool = false;

/// A sequence number: registration order for agents and groups, arrival order for
/// conversations. Only the order matters.
pub type Seq = u64;

// ---- work kinds (R-K1..R-K3) ----------------------------------------------------------------

/// The kinds of a config, as the crate documents them: the configured ones, or one implicit
/// kind `default` costing 1, with no maximum, blocking nothing.
pub fn kinds_of(config: &Config) -> Vec<KindSpec> {
    if config.kinds.is_empty() {
        vec![KindSpec::new("default", 1)]
    } else {
        config.kinds.clone()
    }
}

/// A kind of a config, by id.
pub fn kind_of(config: &Config, kind: &KindId) -> Option<KindSpec> {
    kinds_of(config).into_iter().find(|k| &k.kind == kind)
}

/// Whether paused (snoozed) work of a kind holds its units: the kind's own setting, else the
/// desk's `snoozed_count_toward_load`.
pub fn paused_holds(config: &Config, spec: &KindSpec) -> bool {
    spec.paused_holds_units
        .unwrap_or(config.snoozed_count_toward_load)
}

/// What an agent holds that holds units, as fit reads it: units in all, per kind (count) and
/// per group whose own work it is (units).
#[derive(Clone, Debug, Default)]
pub struct Holding {
    pub units: u64,
    pub kinds: Vec<(KindId, u32)>,
    pub groups: Vec<(GroupId, u64)>,
}

impl Holding {
    pub fn add(&mut self, kind: &KindId, cost: u32, group: &GroupId) {
        self.units += u64::from(cost);
        match self.kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => self.kinds.push((kind.clone(), 1)),
        }
        match self.groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, u)) => *u += u64::from(cost),
            None => self.groups.push((group.clone(), u64::from(cost))),
        }
    }

    pub fn count(&self, kind: &KindId) -> u32 {
        self.kinds
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    }

    pub fn units_of(&self, group: &GroupId) -> u64 {
        self.groups
            .iter()
            .find(|(g, _)| g == group)
            .map_or(0, |(_, u)| *u)
    }
}

/// The model's one fit rule (R-K1..R-K3), eligibility aside: the first dimension in which an
/// agent of `capacity` units holding `holding` does not fit one more conversation of `kind`
/// whose own group is `home`, capped at `cap` (units, kind maximum, blocking, group cap).
pub fn misfit(
    config: &Config,
    capacity: u32,
    holding: &Holding,
    kind: &KindId,
    home: &GroupId,
    cap: Option<u32>,
) -> Option<&'static str> {
    let Some(spec) = kind_of(config, kind) else {
        return Some("unknown kind");
    };
    let cost = u64::from(spec.cost);
    if holding.units + cost > u64::from(capacity) {
        return Some("units");
    }
    if spec
        .max_per_agent
        .is_some_and(|max| holding.count(kind) >= max)
    {
        return Some("kind maximum");
    }
    if kinds_of(config)
        .iter()
        .any(|k| k.blocks.contains(kind) && holding.count(&k.kind) > 0)
    {
        return Some("blocked");
    }
    if cap.is_some_and(|cap| holding.units_of(home) + cost > u64::from(cap)) {
        return Some("group cap");
    }
    None
}

/// Where a conversation is, in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Between two steps of one command only.
    Routing,
    Queued,
    Pooled,
    Offered {
        agent: Seq,
        expires: DateTime<Utc>,
    },
    Active {
        agent: Seq,
    },
    Snoozed {
        agent: Seq,
        until: DateTime<Utc>,
    },
    Abandoned,
    /// `"QueueFull"` or `"MaxWait"`.
    TurnedAway(&'static str),
    LeftMessage,
    Ended {
        reason: EndReason,
        agent: Option<AgentId>,
    },
}

impl Place {
    pub fn is_open(&self) -> bool {
        !matches!(
            self,
            Place::Abandoned | Place::TurnedAway(_) | Place::LeftMessage | Place::Ended { .. }
        )
    }

    pub fn is_waiting(&self) -> bool {
        matches!(self, Place::Queued | Place::Pooled)
    }

    pub fn holder(&self) -> Option<Seq> {
        match self {
            Place::Offered { agent, .. }
            | Place::Active { agent }
            | Place::Snoozed { agent, .. } => Some(*agent),
            _ => None,
        }
    }
}

/// What a deadline does when it comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    SnoozeEnds,
    OfferExpires,
    FirstReplyTimeout,
    MaxWait,
    /// The next boundary of its timeline (R-SK2, R-S4): a stage starts, or its group's
    /// overflow time comes, whichever is first.
    Stage,
    SlaWarning,
    SlaBreach,
    InactivityReminder,
    InactivityEnd,
}

impl TimerKind {
    /// A conversation has at most one deadline per purpose: the snooze, the reception (offer
    /// or first reply), the wait, the overflow, the reply goal, the visitor's silence.
    fn purpose(self) -> u8 {
        match self {
            TimerKind::SnoozeEnds => 0,
            TimerKind::OfferExpires | TimerKind::FirstReplyTimeout => 1,
            TimerKind::MaxWait => 2,
            TimerKind::Stage => 3,
            TimerKind::SlaWarning | TimerKind::SlaBreach => 4,
            TimerKind::InactivityReminder | TimerKind::InactivityEnd => 5,
        }
    }
}

/// A pending deadline. Two at the same instant fire in the order they were set (the natural
/// reading of "earliest first"; the SPEC does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub at: DateTime<Utc>,
    pub set: u64,
    pub kind: TimerKind,
}

/// An open reply goal (R-L1): its clock runs except while snoozed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goal {
    pub kind: ReplyGoal,
    pub target_ms: i64,
    pub spent_ms: i64,
    pub running_since: Option<DateTime<Utc>>,
    pub warned: bool,
    pub breached: bool,
}

#[derive(Clone, Debug)]
pub struct MAgent {
    pub id: AgentId,
    pub seq: Seq,
    pub status: AgentStatus,
    pub own_limit: Option<u32>,
    pub groups: Vec<(GroupId, u8)>,
    /// The assignment number of its latest assignment (0: never).
    pub last: u64,
    pub total: u64,
    /// The schedules it follows, without repeats, in the order given.
    pub schedules: Vec<ScheduleId>,
    /// Inside one of its schedules, as of the last time it was evaluated: when its schedules
    /// change, when one of them is redefined, and at each of their shift boundaries.
    pub on_duty: bool,
    /// Its skills with their levels, as given (R-SK1).
    pub skills: Vec<SkillLevel>,
}

/// A schedule (R-W1). The model knows only time zones without daylight saving, as a fixed
/// offset; the scenario tests cover daylight saving.
#[derive(Clone, Debug)]
pub struct MSchedule {
    pub id: ScheduleId,
    pub offset_minutes: i64,
    pub ranges: Vec<WeeklyRange>,
    /// Its next shift boundary (a start or an end), and the order it was set in.
    pub next: Option<(DateTime<Utc>, u64)>,
}

const WEEK_MINUTES: i64 = 7 * 1440;

/// The fixed offset of the zones the model knows.
pub fn zone_offset(zone: &str) -> Result<i64, &'static str> {
    match zone {
        "UTC" => Ok(0),
        "Asia/Kolkata" => Ok(330),
        "Mars/Olympus_Mons" => Err("UnknownTimeZone"),
        other => panic!("the model does not know the time zone {other}"),
    }
}

impl MSchedule {
    /// Every `[from, to)` span of the week it covers, in local minutes from Monday 00:00
    /// (`to` may pass the week's end: an overnight range on Sunday).
    fn spans(ranges: &[WeeklyRange]) -> Vec<(i64, i64)> {
        let minute = |t: chrono::NaiveTime| i64::from(t.num_seconds_from_midnight() / 60);
        let mut out = Vec::new();
        for r in ranges {
            for d in &r.days {
                let from = i64::from(d.num_days_from_monday()) * 1440 + minute(r.start);
                let mut to = i64::from(d.num_days_from_monday()) * 1440 + minute(r.end);
                if r.end <= r.start {
                    to += 1440;
                }
                out.push((from, to));
            }
        }
        out
    }

    /// Local minutes since the Monday 00:00 that starts the week of `at` (local), and that
    /// Monday as an instant.
    fn week_of(&self, at: DateTime<Utc>) -> (i64, i64) {
        let local_secs = at.timestamp() + self.offset_minutes * 60;
        // 1970-01-05 was a Monday.
        let since_monday = (local_secs - 4 * 86_400).rem_euclid(WEEK_MINUTES * 60);
        let monday_utc = at.timestamp() - since_monday;
        (since_monday / 60, monday_utc)
    }

    pub fn on_duty(&self, at: DateTime<Utc>) -> bool {
        let (m, _) = self.week_of(at);
        Self::spans(&self.ranges).iter().any(|&(from, to)| {
            (from <= m && m < to) || (from <= m + WEEK_MINUTES && m + WEEK_MINUTES < to)
        })
    }

    /// The first instant after `after` at which a span starts or ends.
    pub fn next_boundary(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (_, monday) = self.week_of(after);
        Self::spans(&self.ranges)
            .iter()
            .flat_map(|&(from, to)| [from, to % WEEK_MINUTES])
            .flat_map(|p| [0, 1].map(|w| monday + (p + w * WEEK_MINUTES) * 60))
            .filter_map(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
            .filter(|t| *t > after)
            .min()
    }

    /// The engine's validation, written as a bitmap of the week's minutes.
    fn validate(ranges: &[WeeklyRange]) -> Result<(), &'static str> {
        if ranges.is_empty() || ranges.iter().any(|r| r.days.is_empty() || r.start == r.end) {
            return Err("InvalidSchedule");
        }
        let mut covered = vec![false; WEEK_MINUTES as usize];
        for (from, to) in Self::spans(ranges) {
            for m in from..to {
                let slot = &mut covered[(m % WEEK_MINUTES) as usize];
                if *slot {
                    return Err("InvalidSchedule");
                }
                *slot = true;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct MGroup {
    pub id: GroupId,
    pub seq: Seq,
    pub strategy: Strategy,
    pub limit: Option<u32>,
    pub overflow: Vec<GroupId>,
    pub overflow_after: u64,
    /// The most units of its own work one agent may hold automatically (R-K3).
    pub cap: Option<u32>,
    /// Round robin: the agent this group's strategy chose last (0: none).
    pub cursor: Seq,
}

#[derive(Clone, Debug)]
pub struct MConv {
    pub id: ConversationId,
    pub seq: Seq,
    pub visitor: VisitorId,
    pub group: GroupId,
    pub priority: u8,
    /// Its kind of work (R-K1).
    pub kind: KindId,
    pub arrived_at: DateTime<Utc>,
    /// As given at arrival; cleared by a transfer or a manual assignment.
    pub designated: Option<Target>,
    /// The designation while it still routes (until first served).
    pub d_agent: Option<Seq>,
    pub d_group: Option<GroupId>,
    /// Agents that must not get it automatically (R-R2, R-X2).
    pub excluded: Vec<Seq>,
    /// Overflow groups it joined after waiting (R-S4).
    pub overflow: Vec<GroupId>,
    /// The groups its stages entered so far brought (R-SK2), those it did not wait in yet.
    pub stage_groups: Vec<GroupId>,
    /// Its group's overflow time came (the overflow does not come twice).
    pub overflowed: bool,
    /// Its stages of requirements (R-SK2), as given.
    pub stages: Option<Vec<Stage>>,
    /// The stage in force, 0-based.
    pub stage: usize,
    pub redirects: u32,
    pub stalled: bool,
    pub replied: bool,
    pub place: Place,
    pub goal: Option<Goal>,
    pub silent_since: Option<DateTime<Utc>>,
    pub reminded: bool,
    pub deadlines: Vec<Deadline>,
}

impl MConv {
    /// What the stage in force requires (R-SK2): nothing without stages.
    pub fn requires(&self) -> &[SkillLevel] {
        self.stages
            .as_ref()
            .map_or(&[][..], |s| s[self.stage].require.as_slice())
    }

    /// What the stage in force prefers.
    pub fn prefers(&self) -> &[SkillLevel] {
        self.stages
            .as_ref()
            .map_or(&[][..], |s| s[self.stage].prefer.as_slice())
    }

    /// When stage `n` starts: arrival plus the durations of the stages before it.
    pub fn stage_start(&self, n: usize) -> Option<DateTime<Utc>> {
        let stages = self.stages.as_ref()?;
        let ms = stages[..n.min(stages.len())]
            .iter()
            .map(|s| s.for_ms.unwrap_or(0))
            .fold(0u64, u64::saturating_add);
        Some(at_ms(
            self.arrived_at,
            i64::try_from(ms).unwrap_or(i64::MAX),
        ))
    }

    /// The groups whose queues it waits in: its own, a designated one, overflow groups, its
    /// stages' groups.
    pub fn waiting_groups(&self) -> Vec<GroupId> {
        let mut groups = vec![self.group.clone()];
        for g in self
            .d_group
            .iter()
            .chain(self.overflow.iter())
            .chain(self.stage_groups.iter())
        {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        groups
    }
}

/// An event as the model reports it; the engine's events are mapped to these to compare.
/// Queue position announcements are not modelled (the projection checks them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MEvent {
    Arrived(ConversationId, GroupId, u8, KindId),
    Queued(ConversationId, GroupId, u32),
    Pooled(ConversationId, GroupId, bool),
    Offered(
        ConversationId,
        AgentId,
        AssignReason,
        DateTime<Utc>,
        u32,
        u32,
        KindId,
        Option<MSkillMatch>,
    ),
    Accepted(ConversationId, AgentId),
    Declined(ConversationId, AgentId),
    Expired(ConversationId, AgentId, bool),
    Withdrawn(ConversationId, AgentId),
    FirstReplyTimedOut(ConversationId, AgentId),
    RedirectLimitReached(ConversationId, u32),
    Overflowed(ConversationId, Vec<GroupId>),
    LeaveMessageOffered(ConversationId, String),
    TurnedAway(ConversationId, String),
    LeftMessage(ConversationId),
    Assigned(
        ConversationId,
        AgentId,
        AssignReason,
        u32,
        u32,
        KindId,
        Option<MSkillMatch>,
    ),
    /// A stage entered: the stage, what it requires, its groups (R-SK2).
    StageAdvanced(ConversationId, u32, Vec<SkillLevel>, Vec<GroupId>),
    Transferred(ConversationId, AgentId, Target),
    Requeued(ConversationId, AgentId),
    Abandoned(ConversationId, GroupId),
    Ended(ConversationId, Option<AgentId>, EndReason),
    Snoozed(ConversationId, AgentId, DateTime<Utc>),
    Woke(ConversationId, AgentId, WakeReason),
    SlaWarning(ConversationId, AgentId, ReplyGoal, DateTime<Utc>),
    SlaBreached(ConversationId, AgentId, ReplyGoal),
    InactivityReminder(ConversationId, AgentId, Option<DateTime<Utc>>),
    ModeChanged(ReceptionMode, ReceptionMode),
    Forgotten(ConversationId),
    DutyChanged(AgentId, bool),
    ScheduleDefined(ScheduleId),
    ScheduleRemoved(ScheduleId),
    VisitorForgotten(VisitorId),
    AgentRegistered(AgentId, u32),
    AgentUpdated(AgentId, u32),
    AgentRemoved(AgentId),
    AgentStatusChanged(AgentId, AgentStatus, AgentStatus),
    GroupRegistered(GroupId),
    GroupUpdated(GroupId),
    GroupRemoved(GroupId),
    ConfigUpdated,
}

/// `SkillMatch` in the model's words (R-B1): the stage in force, the agent's level on each
/// required skill (0 when it lacks it), the preferred skills it matched.
pub type MSkillMatch = (u32, Vec<SkillLevel>, Vec<SkillId>);

/// Whether an agent holding `skills` qualifies for `require` (R-SK2): each required skill held
/// at least at its level.
pub fn qualifies(skills: &[SkillLevel], require: &[SkillLevel]) -> bool {
    require
        .iter()
        .all(|r| level_of(skills, &r.skill) >= r.level)
}

/// The level an agent holding `skills` has on `skill`, 0 when it lacks it.
pub fn level_of(skills: &[SkillLevel], skill: &SkillId) -> u8 {
    skills
        .iter()
        .find(|s| &s.skill == skill)
        .map_or(0, |s| s.level)
}

/// What a conversation needs of an agent, for a group's strategy to pick one.
pub struct Need<'a> {
    pub kind: &'a KindId,
    /// Its own group, whose cap binds (R-K3).
    pub home: &'a GroupId,
    pub excluded: &'a [Seq],
    pub require: &'a [SkillLevel],
    pub prefer: &'a [SkillLevel],
    /// Whether the agent must qualify (not for a manual assignment to a group).
    pub qualify: bool,
}

impl<'a> Need<'a> {
    pub fn of(c: &'a MConv) -> Self {
        Self {
            kind: &c.kind,
            home: &c.group,
            excluded: &c.excluded,
            require: c.requires(),
            prefer: c.prefers(),
            qualify: true,
        }
    }
}

/// What one command did in the model.
#[derive(Clone, Debug, Default)]
pub struct MOutcome {
    pub events: Vec<MEvent>,
    /// One entry per batch item: `None` when it succeeded, else the error's variant name.
    pub items: Vec<Option<&'static str>>,
}

/// The model's answer: the outcome, or the name of the error variant.
pub type MResult = Result<MOutcome, &'static str>;

#[derive(Clone, Debug)]
pub struct Model {
    pub config: Config,
    pub clock: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    next_seq: Seq,
    assignments: u64,
    deadlines_set: u64,
    pub agents: Vec<MAgent>,
    pub groups: Vec<MGroup>,
    pub schedules: Vec<MSchedule>,
    pub convs: Vec<MConv>,
    /// The agent who last served each visitor, and when (R-S2).
    pub last_service: Vec<(VisitorId, AgentId, DateTime<Utc>)>,
    pub arrived: u64,
    /// The engine's storage order of conversations (`Engine::conversations`, documented as
    /// storage order), told by the harness before each command. Used only where the engine
    /// breaks a tie by it, which it does not document: snoozed conversations waking at the
    /// same instant.
    pub storage_order: Vec<ConversationId>,
    out: MOutcome,
}

/// The variant name of an engine error, to compare with the model's.
pub fn error_name(error: &Error) -> &'static str {
    match error {
        Error::UnknownAgent { .. } => "UnknownAgent",
        Error::UnknownGroup { .. } => "UnknownGroup",
        Error::UnknownConversation { .. } => "UnknownConversation",
        Error::UnknownVisitor { .. } => "UnknownVisitor",
        Error::DuplicateConversation { .. } => "DuplicateConversation",
        Error::DuplicateAgent { .. } => "DuplicateAgent",
        Error::DuplicateGroup { .. } => "DuplicateGroup",
        Error::DuplicateMembership { .. } => "DuplicateMembership",
        Error::InvalidRank { .. } => "InvalidRank",
        Error::ZeroAgentLimit { .. } => "ZeroAgentLimit",
        Error::ZeroGroupLimit { .. } => "ZeroGroupLimit",
        Error::UnknownStatus { .. } => "UnknownStatus",
        Error::EmptyBatch => "EmptyBatch",
        Error::InvalidState { .. } => "InvalidState",
        Error::AlreadyAssigned { .. } => "AlreadyAssigned",
        Error::AgentUnavailable { .. } => "AgentUnavailable",
        Error::EmptyGroup { .. } => "EmptyGroup",
        Error::GroupInUse { .. } => "GroupInUse",
        Error::StillOpen { .. } => "StillOpen",
        Error::WrongMode { .. } => "WrongMode",
        Error::SnoozeNotInFuture { .. } => "SnoozeNotInFuture",
        Error::PoolEmpty { .. } => "PoolEmpty",
        Error::NotOfferedTo { .. } => "NotOfferedTo",
        Error::OfferExpired { .. } => "OfferExpired",
        Error::InvalidOverflow { .. } => "InvalidOverflow",
        Error::OverflowTarget { .. } => "OverflowTarget",
        Error::LeaveMessageOff => "LeaveMessageOff",
        Error::InvalidConfig { .. } => "InvalidConfig",
        Error::UnknownSchedule { .. } => "UnknownSchedule",
        Error::NoScheduledAgent => "NoScheduledAgent",
        Error::UnknownTimeZone { .. } => "UnknownTimeZone",
        Error::InvalidSchedule { .. } => "InvalidSchedule",
        Error::ScheduleInUse { .. } => "ScheduleInUse",
        Error::UnknownKind { .. } => "UnknownKind",
        Error::KindInUse { .. } => "KindInUse",
        Error::ZeroGroupCap { .. } => "ZeroGroupCap",
        Error::UnknownSkill { .. } => "UnknownSkill",
        Error::InvalidLevel { .. } => "InvalidLevel",
        Error::DuplicateSkill { .. } => "DuplicateSkill",
        Error::InvalidStages { .. } => "InvalidStages",
        Error::SkillInUse { .. } => "SkillInUse",
        _ => "other",
    }
}

/// `at + secs`, saturating at the end of chrono's range.
pub fn after(at: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn at_ms(at: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    at.checked_add_signed(TimeDelta::milliseconds(ms))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs).map_or(i64::MAX, |s| s.saturating_mul(1000))
}

/// `a / b < c / d`, exactly.
fn fraction_cmp(a: u64, b: u32, c: u64, d: u32) -> Ordering {
    (u128::from(a) * u128::from(d)).cmp(&(u128::from(c) * u128::from(b)))
}

impl Model {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            clock: None,
            now: DateTime::<Utc>::MIN_UTC,
            next_seq: 0,
            assignments: 0,
            deadlines_set: 0,
            agents: Vec::new(),
            groups: Vec::new(),
            schedules: Vec::new(),
            convs: Vec::new(),
            last_service: Vec::new(),
            arrived: 0,
            storage_order: Vec::new(),
            out: MOutcome::default(),
        }
    }

    fn seq(&mut self) -> Seq {
        self.next_seq += 1;
        self.next_seq
    }

    fn emit(&mut self, event: MEvent) {
        self.out.events.push(event);
    }

    // ---- lookups -------------------------------------------------------------------------

    pub fn agent_by_id(&self, id: &AgentId) -> Option<&MAgent> {
        self.agents.iter().find(|a| &a.id == id)
    }

    pub fn agent(&self, seq: Seq) -> &MAgent {
        self.agents
            .iter()
            .find(|a| a.seq == seq)
            .expect("the model holds only registered agents")
    }

    fn agent_mut(&mut self, seq: Seq) -> &mut MAgent {
        self.agents
            .iter_mut()
            .find(|a| a.seq == seq)
            .expect("the model holds only registered agents")
    }

    pub fn group(&self, id: &GroupId) -> Option<&MGroup> {
        self.groups.iter().find(|g| &g.id == id)
    }

    fn group_mut(&mut self, id: &GroupId) -> &mut MGroup {
        self.groups
            .iter_mut()
            .find(|g| &g.id == id)
            .expect("routing names registered groups only")
    }

    pub fn conv_index(&self, id: &ConversationId) -> Option<usize> {
        self.convs.iter().position(|c| &c.id == id)
    }

    pub fn conv(&self, id: &ConversationId) -> Option<&MConv> {
        self.convs.iter().find(|c| &c.id == id)
    }

    // ---- agents: limit, load, eligibility ----------------------------------------------

    /// Whether a status gets automatic work; `None` for a custom status the config lacks.
    pub fn assignable(config: &Config, status: &AgentStatus) -> Option<bool> {
        match status {
            AgentStatus::Online => Some(true),
            AgentStatus::Busy | AgentStatus::ShortBreak | AgentStatus::Offline => Some(false),
            AgentStatus::Custom(name) => config
                .custom_statuses
                .iter()
                .find(|s| &s.name == name)
                .map(|s| s.assignable),
            _ => unreachable!("a variant added after this test"),
        }
    }

    /// Eligible for automatic work: an assignable status, or any status in asynchronous mode
    /// with all agents as the target (R-M2); and on duty while working hours are on (R-W2).
    pub fn eligible(&self, a: &MAgent) -> bool {
        Self::eligible_under(&self.config, &a.status, a.on_duty)
    }

    pub fn eligible_under(config: &Config, status: &AgentStatus, on_duty: bool) -> bool {
        ((config.mode == ReceptionMode::Asynchronous
            && config.allocation_target == AllocationTarget::AllAgents)
            || Self::assignable(config, status).unwrap_or(false))
            && (!config.working_hours || on_duty)
    }

    /// R-A3: its own limit, else the largest of its groups', else the default.
    pub fn limit(&self, a: &MAgent) -> u32 {
        a.own_limit
            .or_else(|| {
                a.groups
                    .iter()
                    .filter_map(|(g, _)| self.group(g).and_then(|g| g.limit))
                    .max()
            })
            .unwrap_or(self.config.default_limit)
    }

    /// Whether a held conversation holds units (R-A3, R-K2): offered and active ones do,
    /// snoozed ones when their kind's paused work does.
    pub fn holds_units(&self, c: &MConv) -> bool {
        match c.place {
            Place::Offered { .. } | Place::Active { .. } => true,
            Place::Snoozed { .. } => {
                kind_of(&self.config, &c.kind).is_some_and(|k| paused_holds(&self.config, &k))
            }
            _ => false,
        }
    }

    /// What agent `a` holds that holds units (R-K1..R-K3).
    pub fn holding(&self, a: Seq) -> Holding {
        let mut holding = Holding::default();
        for c in &self.convs {
            if c.place.holder() == Some(a) && self.holds_units(c) {
                let cost = kind_of(&self.config, &c.kind).map_or(0, |k| k.cost);
                holding.add(&c.kind, cost, &c.group);
            }
        }
        holding
    }

    /// R-A3, R-K1: the units held (offered + active + snoozed whose kind's paused work holds
    /// units).
    pub fn units(&self, a: Seq) -> u64 {
        self.holding(a).units
    }

    /// The load as the views and events report it: units, saturating at `u32::MAX`.
    pub fn load(&self, a: Seq) -> u32 {
        u32::try_from(self.units(a)).unwrap_or(u32::MAX)
    }

    /// Whether agent `a` may take one more conversation of `kind` whose own group is `home`
    /// automatically now: eligible, and fitting in every dimension (R-K1..R-K3).
    pub fn fits(&self, a: &MAgent, kind: &KindId, home: &GroupId) -> bool {
        let cap = self.group(home).and_then(|g| g.cap);
        self.eligible(a)
            && misfit(
                &self.config,
                self.limit(a),
                &self.holding(a.seq),
                kind,
                home,
                cap,
            )
            .is_none()
    }

    /// The conversations an agent holds, in arrival order.
    pub fn held(&self, a: Seq) -> Vec<usize> {
        (0..self.convs.len())
            .filter(|&i| self.convs[i].place.holder() == Some(a))
            .collect()
    }

    /// Eligible and below its limit.
    pub fn available(&self, a: &MAgent) -> bool {
        self.eligible(a) && self.units(a.seq) < u64::from(self.limit(a))
    }

    fn available_for(&self, a: Seq, conv: &MConv) -> bool {
        self.agents
            .iter()
            .find(|x| x.seq == a)
            .is_some_and(|agent| {
                self.fits(agent, &conv.kind, &conv.group)
                    && qualifies(&agent.skills, conv.requires())
            })
            && !conv.excluded.contains(&a)
    }

    fn priority_in(a: &MAgent, g: &GroupId) -> Option<u8> {
        a.groups.iter().find(|(x, _)| x == g).map(|(_, p)| *p)
    }

    // ---- waiting order -------------------------------------------------------------------

    /// The order of waiting work, smallest first: in real-time mode priority (higher first)
    /// then arrival, with aging counting `aging_step_secs` of waiting as one level (R-Q1);
    /// in asynchronous mode the pool order (R-P1).
    pub fn key(&self, c: &MConv) -> (i128, Seq) {
        let rank = match self.config.mode {
            ReceptionMode::RealTime => match self.config.queue.aging_step_secs {
                None => -i128::from(c.priority),
                Some(step) => {
                    i128::from(c.arrived_at.timestamp_millis())
                        - i128::from(c.priority) * i128::from(step) * 1000
                }
            },
            ReceptionMode::Asynchronous => match self.config.pool_order {
                PoolOrder::OldestFirst => 0,
                PoolOrder::NewestFirst => -i128::from(c.seq),
                PoolOrder::PriorityThenOldest => -i128::from(c.priority),
                _ => unreachable!("a variant added after this test"),
            },
            _ => unreachable!("a variant added after this test"),
        };
        (rank, c.seq)
    }

    /// A group's queue as listed: the waiting conversations that wait in it, best first,
    /// those past the redirect limit (waiting for an admin) after all the others (R-R2,
    /// `Engine::queue` docs).
    pub fn queue(&self, g: &GroupId) -> Vec<usize> {
        let mut q: Vec<usize> = (0..self.convs.len())
            .filter(|&i| {
                let c = &self.convs[i];
                c.place.is_waiting() && c.waiting_groups().contains(g)
            })
            .collect();
        q.sort_by_key(|&i| (self.convs[i].stalled, self.key(&self.convs[i])));
        q
    }

    /// The pool as listed (empty in real-time mode): pool order, stalled ones last.
    pub fn pool(&self) -> Vec<usize> {
        if self.config.mode != ReceptionMode::Asynchronous {
            return Vec::new();
        }
        let mut q: Vec<usize> = (0..self.convs.len())
            .filter(|&i| self.convs[i].place.is_waiting())
            .collect();
        q.sort_by_key(|&i| (self.convs[i].stalled, self.key(&self.convs[i])));
        q
    }

    /// 1-based position in its own group's queue, while queued.
    pub fn position(&self, i: usize) -> Option<u32> {
        if self.convs[i].place != Place::Queued {
            return None;
        }
        let q = self.queue(&self.convs[i].group);
        q.iter().position(|&x| x == i).map(|p| p as u32 + 1)
    }

    // ---- choosing an agent (R-S1) ------------------------------------------------------------

    /// The group's choice among its members that fit a conversation of `need.kind` whose own
    /// group is `need.home`, are not excluded and qualify for what it requires (R-SK2), under
    /// the group's strategy and its documented tie-breaks.
    pub fn pick(&self, g: &GroupId, need: &Need) -> Option<Seq> {
        let group = self.group(g)?;
        let mut candidates: Vec<&MAgent> = self
            .agents
            .iter()
            .filter(|a| Self::priority_in(a, g).is_some())
            .filter(|a| self.fits(a, need.kind, need.home) && !need.excluded.contains(&a.seq))
            .filter(|a| !need.qualify || qualifies(&a.skills, need.require))
            .collect();
        candidates.sort_by_key(|a| a.seq);
        let chosen = match group.strategy {
            Strategy::LeastRecentlyAssigned => candidates.iter().min_by_key(|a| (a.last, a.seq)),
            Strategy::RoundRobin => candidates
                .iter()
                .find(|a| a.seq > group.cursor)
                .or_else(|| candidates.first()),
            Strategy::LeastLoaded => candidates.iter().min_by(|a, b| {
                fraction_cmp(
                    self.units(a.seq),
                    self.limit(a),
                    self.units(b.seq),
                    self.limit(b),
                )
                .then((a.last, a.seq).cmp(&(b.last, b.seq)))
            }),
            Strategy::AgentPriority => candidates
                .iter()
                .min_by_key(|a| (Self::priority_in(a, g), a.last, a.seq)),
            // R-SK3: the highest sum of levels on the required skills, then the most
            // preferred skills matched, then least recently assigned, then registration.
            Strategy::BestSkilled => candidates.iter().min_by_key(|a| {
                let sum: u32 = need
                    .require
                    .iter()
                    .map(|r| u32::from(level_of(&a.skills, &r.skill)))
                    .sum();
                let matched = need
                    .prefer
                    .iter()
                    .filter(|p| level_of(&a.skills, &p.skill) >= p.level)
                    .count();
                (
                    std::cmp::Reverse(sum),
                    std::cmp::Reverse(matched),
                    a.last,
                    a.seq,
                )
            }),
            _ => unreachable!("a variant added after this test"),
        };
        chosen.map(|a| a.seq)
    }

    /// R-B1: for a conversation with stages, the stage in force, agent `a`'s levels on what it
    /// requires and the preferred skills it matches; `None` without stages.
    pub fn skill_match(&self, i: usize, a: Seq) -> Option<MSkillMatch> {
        let c = &self.convs[i];
        c.stages.as_ref()?;
        let skills = &self.agent(a).skills;
        let required = c
            .requires()
            .iter()
            .map(|r| SkillLevel::new(r.skill.clone(), level_of(skills, &r.skill)))
            .collect();
        let preferred = c
            .prefers()
            .iter()
            .filter(|p| level_of(skills, &p.skill) >= p.level)
            .map(|p| p.skill.clone())
            .collect();
        Some((c.stage as u32, required, preferred))
    }

    /// The visitor's last agent, if the preference is on, the service lies within the window
    /// and the agent belongs to a group the conversation waits in.
    fn last_agent(&self, conv: &MConv) -> Option<Seq> {
        let setting = &self.config.last_agent;
        if !setting.enabled {
            return None;
        }
        let (_, agent, at) = self
            .last_service
            .iter()
            .find(|(v, _, _)| v == &conv.visitor)?;
        if let Some(window) = setting.window_secs
            && after(*at, window) < self.now
        {
            return None;
        }
        let agent = self.agent_by_id(agent)?;
        let groups = conv.waiting_groups();
        groups
            .iter()
            .any(|g| Self::priority_in(agent, g).is_some())
            .then_some(agent.seq)
    }

    // ---- deadlines -----------------------------------------------------------------------

    fn set_deadline(&mut self, i: usize, at: DateTime<Utc>, kind: TimerKind) {
        self.deadlines_set += 1;
        let set = self.deadlines_set;
        let conv = &mut self.convs[i];
        conv.deadlines
            .retain(|d| d.kind.purpose() != kind.purpose());
        conv.deadlines.push(Deadline { at, set, kind });
    }

    fn clear_deadline(&mut self, i: usize, purpose_of: TimerKind) {
        self.convs[i]
            .deadlines
            .retain(|d| d.kind.purpose() != purpose_of.purpose());
    }

    /// The snoozed bucket: soonest to wake first, ties in storage order.
    pub fn snoozed(&self) -> Vec<usize> {
        let place = |id: &ConversationId| self.storage_order.iter().position(|x| x == id);
        let mut snoozed: Vec<(DateTime<Utc>, Option<usize>, Seq, usize)> = (0..self.convs.len())
            .filter_map(|i| match self.convs[i].place {
                Place::Snoozed { until, .. } => {
                    Some((until, place(&self.convs[i].id), self.convs[i].seq, i))
                }
                _ => None,
            })
            .collect();
        snoozed.sort();
        snoozed.into_iter().map(|(_, _, _, i)| i).collect()
    }

    /// The earliest pending deadline.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.convs
            .iter()
            .flat_map(|c| c.deadlines.iter())
            .map(|d| d.at)
            .chain(
                self.schedules
                    .iter()
                    .filter_map(|s| s.next.map(|(at, _)| at)),
            )
            .min()
    }

    // ---- the routing pipeline --------------------------------------------------------------

    /// Gives conversation `i` to agent `a`: an offer when automatic reception is off (not for
    /// manual assignments and claims), else active.
    fn attach(&mut self, i: usize, a: Seq, reason: AssignReason) {
        if self.convs[i].place.is_waiting() {
            self.clear_deadline(i, TimerKind::MaxWait);
            self.clear_deadline(i, TimerKind::Stage);
        }
        // A designation routes only until the conversation is first served.
        self.convs[i].d_agent = None;
        self.convs[i].d_group = None;
        let direct = matches!(
            reason,
            AssignReason::Manual | AssignReason::ManualToGroup { .. } | AssignReason::Claimed
        );
        let offer = !direct && !self.config.reception.auto_accept;
        let agent_id = self.take_on(i, a);
        let now = self.now;
        let conv_id = self.convs[i].id.clone();
        let skills = self.skill_match(i, a);
        if offer {
            let expires = after(now, self.config.reception.offer_timeout_secs);
            self.convs[i].place = Place::Offered { agent: a, expires };
            self.set_deadline(i, expires, TimerKind::OfferExpires);
            let (load, limit) = (self.load(a), self.limit(self.agent(a)));
            let kind = self.convs[i].kind.clone();
            self.emit(MEvent::Offered(
                conv_id, agent_id, reason, expires, load, limit, kind, skills,
            ));
        } else {
            self.convs[i].place = Place::Active { agent: a };
            let (load, limit) = (self.load(a), self.limit(self.agent(a)));
            let kind = self.convs[i].kind.clone();
            self.emit(MEvent::Assigned(
                conv_id, agent_id, reason, load, limit, kind, skills,
            ));
            self.activate(i);
        }
    }

    /// Agent `a` takes conversation `i` on: its latest assignment, and the visitor's last agent.
    fn take_on(&mut self, i: usize, a: Seq) -> AgentId {
        self.assignments += 1;
        let n = self.assignments;
        let agent = self.agent_mut(a);
        agent.last = n;
        agent.total += 1;
        let agent_id = agent.id.clone();
        let now = self.now;
        let visitor = self.convs[i].visitor.clone();
        self.last_service.retain(|(v, _, _)| v != &visitor);
        self.last_service.push((visitor, agent_id.clone(), now));
        agent_id
    }

    /// Agent `a` lets go of conversation `i`: the stint's reply goal and silence go, and the
    /// visitor's last service by `a` ends now.
    fn let_go(&mut self, i: usize, a: Seq) {
        let conv = &mut self.convs[i];
        conv.goal = None;
        conv.silent_since = None;
        conv.reminded = false;
        let agent_id = self.agent(a).id.clone();
        let now = self.now;
        let visitor = self.convs[i].visitor.clone();
        for (v, agent, at) in &mut self.last_service {
            if *v == visitor && *agent == agent_id {
                *at = now;
            }
        }
    }

    /// A new stint with an agent: no reply yet, a first-reply goal, a first-reply limit.
    fn activate(&mut self, i: usize) {
        let (Place::Offered { agent, .. } | Place::Active { agent }) = self.convs[i].place else {
            unreachable!("activate an offered or active conversation");
        };
        self.convs[i].place = Place::Active { agent };
        self.convs[i].replied = false;
        self.goal_start(i, ReplyGoal::FirstReply);
        if let Some(secs) = self.config.reception.first_reply_timeout_secs {
            self.set_deadline(i, after(self.now, secs), TimerKind::FirstReplyTimeout);
        }
    }

    /// Takes a held conversation from its agent; its deadlines, reply goal and silence go.
    fn detach(&mut self, i: usize) -> Seq {
        let a = self.convs[i]
            .place
            .holder()
            .expect("detach a held conversation");
        let conv = &mut self.convs[i];
        conv.place = Place::Routing;
        conv.deadlines.clear();
        self.let_go(i, a);
        a
    }

    /// R-S2, R-S1: designated agent, designated group, last agent, own group.
    fn try_assign(&mut self, i: usize) -> bool {
        match self.choose(i) {
            Some(choice) => {
                self.take(i, choice);
                true
            }
            None => false,
        }
    }

    /// Who takes conversation `i` if it is routed now, why, and the group whose strategy
    /// chose (its round-robin cursor moves): designated agent, designated group, last agent,
    /// own group, overflow groups.
    fn choose(&self, i: usize) -> Option<(Seq, AssignReason, Option<GroupId>)> {
        let conv = &self.convs[i];
        if let Some(d) = conv.d_agent
            && self.available_for(d, conv)
        {
            return Some((d, AssignReason::DesignatedAgent, None));
        }
        if let Some(h) = &conv.d_group
            && let Some(a) = self.pick(h, &Need::of(conv))
        {
            let strategy = self.group(h).expect("designated group").strategy;
            let reason = AssignReason::DesignatedGroup { strategy };
            return Some((a, reason, Some(h.clone())));
        }
        if let Some(a) = self.last_agent(conv)
            && self.available_for(a, conv)
        {
            return Some((a, AssignReason::LastAgent, None));
        }
        if let Some(a) = self.pick(&conv.group, &Need::of(conv)) {
            let strategy = self.group(&conv.group).expect("own group").strategy;
            let reason = AssignReason::Strategy { strategy };
            return Some((a, reason, Some(conv.group.clone())));
        }
        if KNOWN_BUG_1_OVERFLOW_REROUTE {
            return None;
        }
        self.choose_overflow(i)
    }

    /// The first group the conversation joined with an agent free: its group's overflow
    /// groups (R-S4), then its stages' groups (R-SK2).
    fn choose_overflow(&self, i: usize) -> Option<(Seq, AssignReason, Option<GroupId>)> {
        let conv = &self.convs[i];
        let stage_groups = conv
            .stage_groups
            .iter()
            .filter(|g| !conv.overflow.contains(g));
        conv.overflow.iter().chain(stage_groups).find_map(|g| {
            let a = self.pick(g, &Need::of(conv))?;
            let strategy = self.group(g).expect("overflow group").strategy;
            let reason = AssignReason::Overflow {
                group: g.clone(),
                strategy,
            };
            Some((a, reason, Some(g.clone())))
        })
    }

    /// Gives conversation `i` to the chosen agent, moving the choosing group's cursor.
    fn take(&mut self, i: usize, (a, reason, group): (Seq, AssignReason, Option<GroupId>)) {
        if let Some(g) = group {
            self.group_mut(&g).cursor = a;
        }
        self.attach(i, a, reason);
    }

    /// The overflow groups the conversation joined, in order (R-S4).
    fn try_overflow_groups(&mut self, i: usize) -> bool {
        match self.choose_overflow(i) {
            Some(choice) => {
                self.take(i, choice);
                true
            }
            None => false,
        }
    }

    fn route(&mut self, i: usize) {
        if !self.try_assign(i) {
            self.enqueue(i);
        }
    }

    /// Waits: in the queue (real-time) or the pool (asynchronous).
    fn enqueue(&mut self, i: usize) {
        let conv = &self.convs[i];
        let (id, group) = (conv.id.clone(), conv.group.clone());
        self.arm_timeline(i);
        match self.config.mode {
            ReceptionMode::Asynchronous => {
                self.convs[i].place = Place::Pooled;
                self.emit(MEvent::Pooled(id, group, false));
            }
            ReceptionMode::RealTime => {
                self.convs[i].place = Place::Queued;
                if let Some(secs) = self.config.queue.max_wait_secs {
                    self.set_deadline(i, after(self.now, secs), TimerKind::MaxWait);
                }
                let position = self.position(i).expect("just queued");
                self.emit(MEvent::Queued(id, group, position));
            }
            _ => unreachable!("a variant added after this test"),
        }
    }

    /// The next boundary of a waiting conversation's timeline (R-SK2, R-S4): the start of its
    /// next stage, or its group's overflow time if the overflow has not come yet, whichever
    /// is first. A conversation past the redirect limit waits for an admin and has none.
    fn next_boundary(&self, i: usize) -> Option<DateTime<Utc>> {
        let c = &self.convs[i];
        if c.stalled {
            return None;
        }
        let overflow = self
            .group(&c.group)
            .filter(|g| !g.overflow.is_empty() && !c.overflowed)
            .map(|g| after(c.arrived_at, g.overflow_after));
        let stage = c
            .stages
            .as_ref()
            .filter(|s| c.stage + 1 < s.len())
            .and_then(|_| c.stage_start(c.stage + 1));
        match (stage, overflow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// While it waits, its next boundary is a deadline; one that passed while it was held is
    /// due at the next `Tick`.
    fn arm_timeline(&mut self, i: usize) {
        match self.next_boundary(i) {
            Some(at) => self.set_deadline(i, at.max(self.now), TimerKind::Stage),
            None => self.clear_deadline(i, TimerKind::Stage),
        }
    }

    /// A boundary came (R-SK2, R-S4): every stage whose start has come is entered, in order,
    /// one event each, its groups joining; then the overflow groups join if their time has
    /// come (stages first at the same instant); then it is routed again, keeping its place:
    /// after a stage by every route, after an overflow alone by the groups it joined.
    fn advance(&mut self, i: usize) {
        if !self.convs[i].place.is_waiting() || self.convs[i].stalled {
            return;
        }
        let mut relaxed = false;
        if let Some(stages) = self.convs[i].stages.clone() {
            while self.convs[i].stage + 1 < stages.len()
                && self.convs[i]
                    .stage_start(self.convs[i].stage + 1)
                    .is_some_and(|t| t <= self.now)
            {
                let n = self.convs[i].stage + 1;
                self.convs[i].stage = n;
                let added = self.join_stage_groups(i);
                self.emit(MEvent::StageAdvanced(
                    self.convs[i].id.clone(),
                    n as u32,
                    stages[n].require.clone(),
                    added,
                ));
                relaxed = true;
            }
        }
        let c = &self.convs[i];
        let overflow_due = self.group(&c.group).is_some_and(|g| {
            !g.overflow.is_empty()
                && !c.overflowed
                && after(c.arrived_at, g.overflow_after) <= self.now
        });
        let overflowed = overflow_due && self.overflow(i);
        let served = if relaxed {
            self.try_assign(i)
        } else {
            overflowed && self.try_overflow_groups(i)
        };
        if !served {
            // Its next boundary, still ahead (bug 6: a boundary passed hides those after it).
            match self.next_boundary(i).filter(|at| *at > self.now) {
                Some(at) => self.set_deadline(i, at, TimerKind::Stage),
                None => self.clear_deadline(i, TimerKind::Stage),
            }
        }
    }

    /// The groups of the stage in force join its candidates, those it does not wait in yet,
    /// each once; returns them.
    fn join_stage_groups(&mut self, i: usize) -> Vec<GroupId> {
        let Some(stages) = &self.convs[i].stages else {
            return Vec::new();
        };
        let Some(stage) = stages.get(self.convs[i].stage) else {
            return Vec::new();
        };
        let mut added = Vec::new();
        for g in stage.groups.clone() {
            let c = &self.convs[i];
            let new = !c.waiting_groups().contains(&g);
            let keep = if KNOWN_BUG_7_STAGE_GROUP_LOST_WITH_DESIGNATION {
                new
            } else {
                g != c.group && !c.stage_groups.contains(&g)
            };
            if keep && self.group(&g).is_some() {
                self.convs[i].stage_groups.push(g.clone());
            }
            if new && self.group(&g).is_some() {
                added.push(g);
            }
        }
        added
    }

    fn unqueue(&mut self, i: usize) {
        self.clear_deadline(i, TimerKind::MaxWait);
        self.clear_deadline(i, TimerKind::Stage);
        self.convs[i].place = Place::Routing;
    }

    /// No longer waiting or held: deadlines and routing links go.
    fn retire(&mut self, i: usize) {
        let conv = &mut self.convs[i];
        conv.deadlines.clear();
        conv.d_agent = None;
        conv.d_group = None;
        conv.overflow.clear();
        conv.stage_groups.clear();
    }

    /// R-D1, R-K5, R-SK4: an agent with room takes the best waiting work it may have, fits and
    /// qualifies for (conversations that designated it first, then the best of its groups'
    /// queues, of any kind and requirement set) until nothing fits.
    fn drain(&mut self, a: Seq, trigger: DrainTrigger) {
        loop {
            let Some(agent) = self.agents.iter().find(|x| x.seq == a) else {
                return;
            };
            if !self.available(agent) {
                return;
            }
            let groups: Vec<GroupId> = agent.groups.iter().map(|(g, _)| g.clone()).collect();
            let allowed = |c: &MConv| {
                c.place.is_waiting()
                    && !c.stalled
                    && !c.excluded.contains(&a)
                    && self.fits(agent, &c.kind, &c.group)
                    && qualifies(&agent.skills, c.requires())
            };
            let designated = (0..self.convs.len())
                .filter(|&i| allowed(&self.convs[i]) && self.convs[i].d_agent == Some(a))
                .min_by_key(|&i| self.key(&self.convs[i]));
            let best = designated.or_else(|| {
                (0..self.convs.len())
                    .filter(|&i| {
                        allowed(&self.convs[i])
                            && self.convs[i]
                                .waiting_groups()
                                .iter()
                                .any(|g| groups.contains(g))
                    })
                    .min_by_key(|&i| self.key(&self.convs[i]))
            });
            let Some(i) = best else {
                return;
            };
            self.attach(i, a, AssignReason::Drain { trigger });
        }
    }

    /// Drains every agent with room, in registration order.
    fn drain_all(&mut self, trigger: DrainTrigger) {
        let ready: Vec<Seq> = self
            .agents
            .iter()
            .filter(|a| self.available(a))
            .map(|a| a.seq)
            .collect();
        for a in ready {
            self.drain(a, trigger);
        }
    }

    // ---- reply goals and silence (R-L1, R-L2) ------------------------------------------

    fn goal_start(&mut self, i: usize, kind: ReplyGoal) {
        let target = match kind {
            ReplyGoal::FirstReply => self.config.sla.first_reply_secs,
            ReplyGoal::NextReply => self.config.sla.next_reply_secs,
            _ => unreachable!("a variant added after this test"),
        };
        let Some(target) = target else {
            return;
        };
        self.convs[i].goal = Some(Goal {
            kind,
            target_ms: secs_ms(target),
            spent_ms: 0,
            running_since: Some(self.now),
            warned: false,
            breached: false,
        });
        self.goal_arm(i);
    }

    fn breach_at(goal: &Goal, since: DateTime<Utc>) -> DateTime<Utc> {
        at_ms(since, goal.target_ms.saturating_sub(goal.spent_ms))
    }

    /// The goal's next deadline: the warning (not before the clock started), else the breach.
    fn goal_arm(&mut self, i: usize) {
        let warn = self.config.sla.warn_before_secs.map(secs_ms);
        let Some(goal) = self.convs[i].goal.clone() else {
            return;
        };
        let Some(since) = goal.running_since else {
            return;
        };
        if goal.breached {
            return;
        }
        let breach = Self::breach_at(&goal, since);
        match warn {
            Some(warn) if !goal.warned => {
                let at = at_ms(breach, -warn).max(since);
                self.set_deadline(i, at, TimerKind::SlaWarning);
            }
            _ => self.set_deadline(i, breach, TimerKind::SlaBreach),
        }
    }

    fn goal_pause(&mut self, i: usize) {
        self.clear_deadline(i, TimerKind::SlaBreach);
        let now = self.now;
        if let Some(goal) = &mut self.convs[i].goal
            && let Some(since) = goal.running_since.take()
        {
            let ran = now.signed_duration_since(since).num_milliseconds().max(0);
            goal.spent_ms = goal.spent_ms.saturating_add(ran);
        }
    }

    fn goal_resume(&mut self, i: usize) {
        let now = self.now;
        if let Some(goal) = &mut self.convs[i].goal {
            goal.running_since = Some(now);
        }
        self.goal_arm(i);
    }

    fn silence_start(&mut self, i: usize) {
        self.convs[i].silent_since = Some(self.now);
        self.convs[i].reminded = false;
        self.silence_arm(i);
    }

    fn silence_arm(&mut self, i: usize) {
        let setting = self.config.inactivity.clone();
        let conv = &self.convs[i];
        let Some(since) = conv.silent_since else {
            return;
        };
        match (setting.reminder_after_secs, setting.end_after_secs) {
            (Some(r), _) if !conv.reminded => {
                self.set_deadline(i, after(since, r), TimerKind::InactivityReminder)
            }
            (_, Some(e)) => self.set_deadline(i, after(since, e), TimerKind::InactivityEnd),
            _ => self.clear_deadline(i, TimerKind::InactivityEnd),
        }
    }

    // ---- the commands ------------------------------------------------------------------------

    /// Applies one command at `now`, like `Engine::handle`. On `Err` the model is unchanged.
    pub fn handle(&mut self, now: DateTime<Utc>, command: &Command) -> MResult {
        let now = match self.clock {
            Some(clock) if clock > now => clock,
            _ => now,
        };
        let saved = self.clone();
        self.now = now;
        self.out = MOutcome::default();
        match self.apply(command) {
            Ok(()) => {
                // A batch whose every item is refused changes nothing, not even the clock.
                let items = &self.out.items;
                if items.is_empty() || items.iter().any(Option::is_none) {
                    self.clock = Some(now);
                }
                Ok(std::mem::take(&mut self.out))
            }
            Err(e) => {
                *self = saved;
                Err(e)
            }
        }
    }

    fn apply(&mut self, command: &Command) -> Result<(), &'static str> {
        match command {
            Command::VisitorArrives(arrival) => self.arrive(arrival),
            Command::VisitorLeaves { conversation } => self.leave(conversation),
            Command::AgentStatusChanged { agent, status } => self.status(agent, status),
            Command::Snooze {
                conversations,
                until,
            } => self.snooze(conversations, *until),
            Command::AssignManually {
                conversations,
                target,
            } => self.assign_manually(conversations, target),
            Command::EndConversations {
                conversations,
                reason,
            } => self.end_many(conversations, *reason),
            Command::Transfer { conversation, to } => self.transfer(conversation, to),
            Command::Message { conversation, from } => self.message(conversation, *from),
            Command::Claim {
                agent,
                conversation,
            } => self.claim(agent, conversation.as_ref()),
            // The mode already in force: nothing changes, nothing is said.
            Command::SetReceptionMode { mode } if *mode == self.config.mode => Ok(()),
            Command::SetReceptionMode { mode } => {
                let config = Config {
                    mode: *mode,
                    ..self.config.clone()
                };
                self.update_config(&config)
            }
            Command::AcceptOffer {
                conversation,
                agent,
            } => self.accept(conversation, agent),
            Command::DeclineOffer {
                conversation,
                agent,
            } => self.decline(conversation, agent),
            Command::LeaveMessage { conversation } => self.leave_message(conversation),
            Command::Tick => {
                self.tick();
                Ok(())
            }
            Command::RegisterAgent(spec) => self.register_agent(spec),
            Command::UpdateAgent(update) => self.update_agent(update),
            Command::RemoveAgent { agent } => self.remove_agent(agent),
            Command::RegisterGroup(spec) => self.register_group(spec),
            Command::UpdateGroup(update) => self.update_group(update),
            Command::RemoveGroup { group } => self.remove_group(group),
            Command::UpdateConfig(config) => self.update_config(config),
            Command::Forget { conversations } => self.forget_many(conversations),
            Command::ForgetVisitor { visitor } => self.forget_visitor(visitor),
            Command::DefineSchedule(spec) => self.define_schedule(spec),
            Command::RemoveSchedule { schedule } => self.remove_schedule(schedule),
            other => panic!("the model does not cover {other:?}"),
        }
    }

    fn known_conv(&self, id: &ConversationId) -> Result<usize, &'static str> {
        self.conv_index(id).ok_or("UnknownConversation")
    }

    fn known_agent(&self, id: &AgentId) -> Result<Seq, &'static str> {
        self.agent_by_id(id).map(|a| a.seq).ok_or("UnknownAgent")
    }

    fn known_group(&self, id: &GroupId) -> Result<(), &'static str> {
        self.group(id).map(|_| ()).ok_or("UnknownGroup")
    }

    fn arrive(&mut self, arrival: &Arrival) -> Result<(), &'static str> {
        if self.conv_index(&arrival.conversation).is_some() {
            return Err("DuplicateConversation");
        }
        self.known_group(&arrival.group)?;
        let kind = match &arrival.kind {
            Some(kind) => kind_of(&self.config, kind).ok_or("UnknownKind")?.kind,
            None => kinds_of(&self.config)[0].kind.clone(),
        };
        let (d_agent, d_group) = match &arrival.designated {
            None => (None, None),
            Some(Target::Agent(a)) => (Some(self.known_agent(a)?), None),
            Some(Target::Group(g)) => {
                self.known_group(g)?;
                (None, Some(g.clone()))
            }
            _ => unreachable!("a variant added after this test"),
        };
        if let Some(stages) = &arrival.stages {
            self.check_stages(stages)?;
        }
        let seq = self.seq();
        self.convs.push(MConv {
            id: arrival.conversation.clone(),
            seq,
            visitor: arrival.visitor.clone(),
            group: arrival.group.clone(),
            priority: arrival.priority,
            kind: kind.clone(),
            arrived_at: self.now,
            designated: arrival.designated.clone(),
            d_agent,
            d_group,
            excluded: Vec::new(),
            overflow: Vec::new(),
            stage_groups: Vec::new(),
            overflowed: false,
            stages: arrival.stages.clone(),
            stage: 0,
            redirects: 0,
            stalled: false,
            replied: false,
            place: Place::Routing,
            goal: None,
            silent_since: None,
            reminded: false,
            deadlines: Vec::new(),
        });
        self.arrived += 1;
        let i = self.convs.len() - 1;
        // Stage 0 applies from arrival, its groups with it.
        self.join_stage_groups(i);
        self.emit(MEvent::Arrived(
            arrival.conversation.clone(),
            arrival.group.clone(),
            arrival.priority,
            kind,
        ));
        if self.try_assign(i) {
            return Ok(());
        }
        // R-Q3: a full queue turns the visitor away; a long one, no eligible agent, or
        // outside service hours offers to leave a message (real-time mode only).
        let realtime = self.config.mode == ReceptionMode::RealTime;
        let waiting = self.queue(&arrival.group).len();
        if realtime
            && self
                .config
                .queue
                .max_length
                .is_some_and(|m| waiting >= m as usize)
        {
            self.turn_away(i, "QueueFull");
            return Ok(());
        }
        self.enqueue(i);
        if !realtime || !self.config.queue.leave_message {
            return Ok(());
        }
        let nobody = !self
            .agents
            .iter()
            .any(|a| Self::priority_in(a, &arrival.group).is_some() && self.eligible(a));
        let long = self
            .config
            .queue
            .long_queue_threshold
            .is_some_and(|n| self.queue(&arrival.group).len() >= n as usize);
        let id = arrival.conversation.clone();
        if self.outside_service_hours() {
            self.emit(MEvent::LeaveMessageOffered(
                id,
                "OutsideServiceHours".into(),
            ));
        } else if nobody {
            self.emit(MEvent::LeaveMessageOffered(id, "NoAgentAvailable".into()));
        } else if long {
            self.emit(MEvent::LeaveMessageOffered(id, "LongQueue".into()));
        }
        Ok(())
    }

    /// A known skill at a level 1..=10 (R-SK1).
    fn check_skill(&self, s: &SkillLevel) -> Result<(), &'static str> {
        if !self.config.skills.contains(&s.skill) {
            return Err("UnknownSkill");
        }
        if !(SkillLevel::MIN..=SkillLevel::MAX).contains(&s.level) {
            return Err("InvalidLevel");
        }
        Ok(())
    }

    /// An agent's skills: known, at valid levels, each once.
    fn check_agent_skills(&self, skills: &[SkillLevel]) -> Result<(), &'static str> {
        for (n, s) in skills.iter().enumerate() {
            self.check_skill(s)?;
            if skills[..n].iter().any(|x| x.skill == s.skill) {
                return Err("DuplicateSkill");
            }
        }
        Ok(())
    }

    /// R-SK2: a non-empty list; durations of at least 1 ms on all but the last, none on the
    /// last; each stage's skills known, at valid levels, each once within its requirements and
    /// within its preferences; its groups known. Stage by stage, in order.
    fn check_stages(&self, stages: &[Stage]) -> Result<(), &'static str> {
        if stages.is_empty() {
            return Err("InvalidStages");
        }
        for (n, stage) in stages.iter().enumerate() {
            let last = n + 1 == stages.len();
            match (last, stage.for_ms) {
                (false, None | Some(0)) | (true, Some(_)) => return Err("InvalidStages"),
                _ => {}
            }
            for list in [&stage.require, &stage.prefer] {
                for (k, s) in list.iter().enumerate() {
                    self.check_skill(s)?;
                    if list[..k].iter().any(|x| x.skill == s.skill) {
                        return Err("InvalidStages");
                    }
                }
            }
            for g in &stage.groups {
                self.known_group(g)?;
            }
        }
        Ok(())
    }

    fn turn_away(&mut self, i: usize, reason: &'static str) {
        self.retire(i);
        self.convs[i].place = Place::TurnedAway(reason);
        let id = self.convs[i].id.clone();
        self.emit(MEvent::TurnedAway(id.clone(), reason.into()));
        if self.config.queue.leave_message {
            self.emit(MEvent::LeaveMessageOffered(id, reason.into()));
        }
    }

    /// A visitor gives up from a queue, the pool, or an offer not yet accepted.
    fn leave(&mut self, id: &ConversationId) -> Result<(), &'static str> {
        let i = self.known_conv(id)?;
        let offered = matches!(self.convs[i].place, Place::Offered { .. });
        if !self.convs[i].place.is_waiting() && !offered {
            return Err("InvalidState");
        }
        let freed = if offered {
            Some(self.detach(i))
        } else {
            self.unqueue(i);
            None
        };
        self.retire(i);
        self.convs[i].place = Place::Abandoned;
        let group = self.convs[i].group.clone();
        self.emit(MEvent::Abandoned(id.clone(), group));
        if let Some(a) = freed {
            self.drain(a, DrainTrigger::CapacityFreed);
        }
        Ok(())
    }

    fn leave_message(&mut self, id: &ConversationId) -> Result<(), &'static str> {
        if self.config.mode != ReceptionMode::RealTime {
            return Err("WrongMode");
        }
        if !self.config.queue.leave_message {
            return Err("LeaveMessageOff");
        }
        let i = self.known_conv(id)?;
        match self.convs[i].place {
            Place::Queued => {
                self.unqueue(i);
                self.retire(i);
            }
            Place::TurnedAway(_) => {}
            _ => return Err("InvalidState"),
        }
        self.convs[i].place = Place::LeftMessage;
        self.emit(MEvent::LeftMessage(id.clone()));
        Ok(())
    }

    fn check_status(&self, status: &AgentStatus) -> Result<(), &'static str> {
        Self::assignable(&self.config, status)
            .map(|_| ())
            .ok_or("UnknownStatus")
    }

    fn status(&mut self, id: &AgentId, status: &AgentStatus) -> Result<(), &'static str> {
        let a = self.known_agent(id)?;
        self.check_status(status)?;
        if &self.agent(a).status == status {
            return Ok(());
        }
        self.set_status(a, status.clone());
        Ok(())
    }

    fn set_status(&mut self, a: Seq, status: AgentStatus) {
        let agent = self.agent(a);
        self.emit(MEvent::AgentStatusChanged(
            agent.id.clone(),
            agent.status.clone(),
            status.clone(),
        ));
        let was = self.eligible(self.agent(a));
        self.agent_mut(a).status = status;
        self.after_agent_change(a, was, DrainTrigger::BecameAssignable);
    }

    /// After a change to an agent: eligible, it takes waiting work (R-D1); no longer
    /// eligible, its offers are withdrawn and re-routed (R-A2), and under
    /// `requeue_when_unassignable` what it holds goes back to be routed again.
    fn after_agent_change(&mut self, a: Seq, was: bool, trigger: DrainTrigger) {
        if self.eligible(self.agent(a)) {
            self.drain(a, trigger);
        } else if was {
            self.withdraw_offers(a);
            if self.config.requeue_when_unassignable {
                let id = self.agent(a).id.clone();
                for i in self.held(a) {
                    self.detach(i);
                    self.emit(MEvent::Requeued(self.convs[i].id.clone(), id.clone()));
                    self.route(i);
                }
            }
        }
    }

    fn withdraw_offers(&mut self, a: Seq) {
        let offered: Vec<usize> = self
            .held(a)
            .into_iter()
            .filter(|&i| matches!(self.convs[i].place, Place::Offered { .. }))
            .collect();
        let id = self.agent(a).id.clone();
        for i in offered {
            self.detach(i);
            self.emit(MEvent::Withdrawn(self.convs[i].id.clone(), id.clone()));
            self.route(i);
        }
    }

    fn memberships(
        &self,
        groups: &[switchboard::Membership],
    ) -> Result<Vec<(GroupId, u8)>, &'static str> {
        let mut out: Vec<(GroupId, u8)> = Vec::new();
        for m in groups {
            self.known_group(&m.group)?;
            if !(1..=5).contains(&m.rank) {
                return Err("InvalidRank");
            }
            if out.iter().any(|(g, _)| g == &m.group) {
                return Err("DuplicateMembership");
            }
            out.push((m.group.clone(), m.rank));
        }
        Ok(out)
    }

    fn agent_limit(limit: Limit) -> Result<Option<u32>, &'static str> {
        match limit {
            Limit::Inherit => Ok(None),
            Limit::Fixed(0) => Err("ZeroAgentLimit"),
            Limit::Fixed(n) => Ok(Some(n)),
            _ => unreachable!("a variant added after this test"),
        }
    }

    fn register_agent(&mut self, spec: &AgentSpec) -> Result<(), &'static str> {
        if self.agent_by_id(&spec.agent).is_some() {
            return Err("DuplicateAgent");
        }
        let groups = self.memberships(&spec.groups)?;
        let schedules = self.schedule_ids(&spec.schedules)?;
        let own_limit = Self::agent_limit(spec.limit)?;
        self.check_status(&spec.status)?;
        self.check_agent_skills(&spec.skills)?;
        let seq = self.seq();
        self.agents.push(MAgent {
            id: spec.agent.clone(),
            seq,
            status: spec.status.clone(),
            own_limit,
            groups,
            last: 0,
            total: 0,
            schedules,
            on_duty: false,
            skills: spec.skills.clone(),
        });
        let on_duty = self.duty_now(self.agent(seq));
        self.agent_mut(seq).on_duty = on_duty;
        let limit = self.limit(self.agent(seq));
        self.emit(MEvent::AgentRegistered(spec.agent.clone(), limit));
        if on_duty {
            self.emit(MEvent::DutyChanged(spec.agent.clone(), true));
        }
        self.drain(seq, DrainTrigger::Registered);
        Ok(())
    }

    fn update_agent(&mut self, update: &AgentUpdate) -> Result<(), &'static str> {
        let a = self.known_agent(&update.agent)?;
        let groups = match &update.groups {
            Some(groups) => Some(self.memberships(groups)?),
            None => None,
        };
        let schedules = match &update.schedules {
            Some(schedules) => Some(self.schedule_ids(schedules)?),
            None => None,
        };
        let limit = match update.limit {
            Some(limit) => Some(Self::agent_limit(limit)?),
            None => None,
        };
        if let Some(skills) = &update.skills {
            self.check_agent_skills(skills)?;
        }
        let was = self.eligible(self.agent(a));
        let was_on_duty = self.agent(a).on_duty;
        let agent = self.agent_mut(a);
        if let Some(groups) = groups {
            agent.groups = groups;
        }
        if let Some(limit) = limit {
            agent.own_limit = limit;
        }
        // R-SK5: what it holds stays; it drains below with its new skills.
        if let Some(skills) = &update.skills {
            agent.skills = skills.clone();
        }
        if let Some(schedules) = schedules {
            agent.schedules = schedules;
            let on_duty = self.duty_now(self.agent(a));
            self.agent_mut(a).on_duty = on_duty;
        }
        let limit = self.limit(self.agent(a));
        self.emit(MEvent::AgentUpdated(update.agent.clone(), limit));
        let on_duty = self.agent(a).on_duty;
        if on_duty != was_on_duty {
            self.emit(MEvent::DutyChanged(update.agent.clone(), on_duty));
        }
        self.after_agent_change(a, was, DrainTrigger::AgentUpdated);
        Ok(())
    }

    fn remove_agent(&mut self, id: &AgentId) -> Result<(), &'static str> {
        let a = self.known_agent(id)?;
        for c in &mut self.convs {
            if c.d_agent == Some(a) {
                c.d_agent = None;
            }
        }
        let held = self.held(a);
        for &i in &held {
            self.detach(i);
        }
        self.agents.retain(|x| x.seq != a);
        self.emit(MEvent::AgentRemoved(id.clone()));
        for i in held {
            self.emit(MEvent::Requeued(self.convs[i].id.clone(), id.clone()));
            self.route(i);
        }
        Ok(())
    }

    fn group_limit(limit: Limit) -> Result<Option<u32>, &'static str> {
        match limit {
            Limit::Inherit => Ok(None),
            Limit::Fixed(0) => Err("ZeroGroupLimit"),
            Limit::Fixed(n) => Ok(Some(n)),
            _ => unreachable!("a variant added after this test"),
        }
    }

    fn overflow_groups(
        &self,
        group: &GroupId,
        overflow: &switchboard::Overflow,
    ) -> Result<Vec<GroupId>, &'static str> {
        let mut out: Vec<GroupId> = Vec::new();
        for g in &overflow.groups {
            if g == group {
                return Err("InvalidOverflow");
            }
            self.known_group(g)?;
            if out.contains(g) {
                return Err("InvalidOverflow");
            }
            out.push(g.clone());
        }
        if !out.is_empty() && overflow.after_secs == 0 {
            return Err("InvalidOverflow");
        }
        Ok(out)
    }

    fn register_group(&mut self, spec: &GroupSpec) -> Result<(), &'static str> {
        if self.group(&spec.group).is_some() {
            return Err("DuplicateGroup");
        }
        let limit = Self::group_limit(spec.limit)?;
        let overflow = match &spec.overflow {
            Some(o) => (self.overflow_groups(&spec.group, o)?, o.after_secs),
            None => (Vec::new(), 0),
        };
        if spec.agent_cap == Some(0) {
            return Err("ZeroGroupCap");
        }
        let seq = self.seq();
        self.groups.push(MGroup {
            id: spec.group.clone(),
            seq,
            strategy: spec.strategy,
            limit,
            overflow: overflow.0,
            overflow_after: overflow.1,
            cap: spec.agent_cap,
            cursor: 0,
        });
        self.emit(MEvent::GroupRegistered(spec.group.clone()));
        Ok(())
    }

    fn members(&self, g: &GroupId) -> Vec<Seq> {
        self.agents
            .iter()
            .filter(|a| Self::priority_in(a, g).is_some())
            .map(|a| a.seq)
            .collect()
    }

    fn update_group(&mut self, update: &GroupUpdate) -> Result<(), &'static str> {
        self.known_group(&update.group)?;
        let limit = match update.limit {
            Some(limit) => Some(Self::group_limit(limit)?),
            None => None,
        };
        let overflow = match &update.overflow {
            Some(o) => Some((self.overflow_groups(&update.group, o)?, o.after_secs)),
            None => None,
        };
        if update.agent_cap == Some(Some(0)) {
            return Err("ZeroGroupCap");
        }
        let group = self.group_mut(&update.group);
        let cap_changed = update.agent_cap.is_some_and(|cap| cap != group.cap);
        if let Some(cap) = update.agent_cap {
            group.cap = cap;
        }
        if let Some(strategy) = update.strategy {
            group.strategy = strategy;
        }
        if let Some(limit) = limit {
            group.limit = limit;
        }
        if let Some((groups, after)) = overflow {
            group.overflow = groups;
            group.overflow_after = after;
        }
        self.emit(MEvent::GroupUpdated(update.group.clone()));
        if !KNOWN_BUG_3_OVERFLOW_UPDATE_IGNORED && update.overflow.is_some() {
            // Conversations already waiting follow an overflow that is set or cleared; an update
            // that leaves the overflow alone leaves their deadlines alone (an overdue one stays
            // due at its own time). The overflow is one boundary of its timeline (R-SK2).
            for i in 0..self.convs.len() {
                let c = &self.convs[i];
                if c.group == update.group && c.place.is_waiting() && !c.overflowed {
                    self.arm_timeline(i);
                }
            }
        }
        if cap_changed {
            // The cap bounds the group's work wherever it waits: every agent looks again.
            self.drain_all(DrainTrigger::GroupChanged);
        } else {
            for a in self.members(&update.group) {
                self.drain(a, DrainTrigger::GroupChanged);
            }
        }
        Ok(())
    }

    fn remove_group(&mut self, id: &GroupId) -> Result<(), &'static str> {
        self.known_group(id)?;
        // A group an open conversation waits in, or that its stages name (R-SK2).
        if self.convs.iter().any(|c| {
            c.place.is_open()
                && (c.waiting_groups().contains(id)
                    || (!KNOWN_BUG_4_REMOVE_GROUP_NAMED_BY_STAGES
                        && c.stages.iter().flatten().any(|s| s.groups.contains(id))))
        }) {
            return Err("GroupInUse");
        }
        if self.groups.iter().any(|g| g.overflow.contains(id)) {
            return Err("OverflowTarget");
        }
        let members = self.members(id);
        for a in &members {
            self.agent_mut(*a).groups.retain(|(g, _)| g != id);
        }
        self.groups.retain(|g| &g.id != id);
        self.emit(MEvent::GroupRemoved(id.clone()));
        for a in members {
            self.drain(a, DrainTrigger::GroupChanged);
        }
        Ok(())
    }

    fn update_config(&mut self, config: &Config) -> Result<(), &'static str> {
        config.validate().map_err(|e| error_name(&e))?;
        if let Some(id) = &config.service_hours {
            self.schedule_index(id)?;
        }
        if config.working_hours
            && !self.config.working_hours
            && self.agents.iter().all(|a| a.schedules.is_empty())
        {
            return Err("NoScheduledAgent");
        }
        if self
            .agents
            .iter()
            .any(|a| Self::assignable(config, &a.status).is_none())
        {
            return Err("InvalidConfig");
        }
        // R-K1: a kind open conversations have cannot go.
        let next = kinds_of(config);
        if self.convs.iter().any(|c| {
            c.place.is_open()
                && kind_of(&self.config, &c.kind).is_some()
                && !next.iter().any(|k| k.kind == c.kind)
        }) {
            return Err("KindInUse");
        }
        // R-SK1: a skill agents hold or open conversations' stages name cannot go.
        let named = |c: &MConv, skill: &SkillId| {
            c.stages.iter().flatten().any(|s| {
                s.require
                    .iter()
                    .chain(s.prefer.iter())
                    .any(|x| &x.skill == skill)
            })
        };
        if self.config.skills.iter().any(|skill| {
            !config.skills.contains(skill)
                && (self
                    .agents
                    .iter()
                    .any(|a| a.skills.iter().any(|s| &s.skill == skill))
                    || self
                        .convs
                        .iter()
                        .any(|c| c.place.is_open() && named(c, skill)))
        }) {
            return Err("SkillInUse");
        }
        let (from, to) = (self.config.mode, config.mode);
        // The cause before its effects (R-C2): the new config and mode, then the wakes and
        // the moves they bring.
        self.emit(MEvent::ConfigUpdated);
        if from != to {
            self.emit(MEvent::ModeChanged(from, to));
        }
        if from == ReceptionMode::Asynchronous && to == ReceptionMode::RealTime {
            // Snoozes lift when leaving asynchronous mode, soonest first.
            for i in self.snoozed() {
                self.wake(i, WakeReason::ModeChanged);
            }
        }
        self.config = config.clone();
        if from != to {
            // Waiting work moves between queue and pool in arrival order.
            for i in 0..self.convs.len() {
                if !self.convs[i].place.is_waiting() {
                    continue;
                }
                let (id, group) = (self.convs[i].id.clone(), self.convs[i].group.clone());
                match to {
                    ReceptionMode::Asynchronous => {
                        self.clear_deadline(i, TimerKind::MaxWait);
                        self.convs[i].place = Place::Pooled;
                        self.emit(MEvent::Pooled(id, group, true));
                    }
                    ReceptionMode::RealTime => {
                        self.convs[i].place = Place::Queued;
                        if let Some(secs) = self.config.queue.max_wait_secs {
                            self.set_deadline(i, after(self.now, secs), TimerKind::MaxWait);
                        }
                        let position = self.position(i).expect("queued");
                        self.emit(MEvent::Queued(id, group, position));
                    }
                    _ => unreachable!("a variant added after this test"),
                }
            }
        }
        // A timed feature switched off stops: reply goals, visitor silence, maximum waits,
        // first-reply limits. Changed values apply to what is armed afterwards.
        let sla_off =
            self.config.sla.first_reply_secs.is_none() && self.config.sla.next_reply_secs.is_none();
        let inactivity_off = self.config.inactivity.reminder_after_secs.is_none()
            && self.config.inactivity.end_after_secs.is_none();
        let wait_off = self.config.queue.max_wait_secs.is_none();
        let first_reply_off = self.config.reception.first_reply_timeout_secs.is_none();
        let off = |kind: TimerKind| match kind {
            TimerKind::SlaWarning | TimerKind::SlaBreach => sla_off,
            TimerKind::InactivityReminder | TimerKind::InactivityEnd => inactivity_off,
            TimerKind::MaxWait => wait_off,
            TimerKind::FirstReplyTimeout => first_reply_off,
            _ => false,
        };
        for conv in &mut self.convs {
            // Whether it had a running timer of a feature switched off.
            let stopped = conv.deadlines.iter().any(|d| off(d.kind));
            conv.deadlines.retain(|d| !off(d.kind));
            if sla_off && (stopped || !KNOWN_BUG_2_PAUSED_GOAL_SURVIVES_SLA_OFF) {
                conv.goal = None;
            }
            // The visitor's silence is forgotten where its clock ran; a snoozed conversation
            // (clock stopped) times it afresh when it wakes, as after any snooze.
            if inactivity_off && stopped {
                conv.silent_since = None;
                conv.reminded = false;
            }
        }
        // Agents the new config makes ineligible lose their offers (R-A2).
        let offering: Vec<Seq> = self
            .agents
            .iter()
            .filter(|a| !self.eligible(a))
            .filter(|a| {
                self.held(a.seq)
                    .iter()
                    .any(|&i| matches!(self.convs[i].place, Place::Offered { .. }))
            })
            .map(|a| a.seq)
            .collect();
        for a in offering {
            self.withdraw_offers(a);
        }
        self.drain_all(DrainTrigger::ConfigUpdated);
        Ok(())
    }

    fn batch(
        &mut self,
        ids: &[ConversationId],
        mut item: impl FnMut(&mut Self, &ConversationId) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        if ids.is_empty() {
            return Err("EmptyBatch");
        }
        for id in ids {
            // An item that fails changes nothing.
            let saved_events = self.out.events.len();
            let saved = (
                self.convs.clone(),
                self.agents.clone(),
                self.groups.clone(),
                self.last_service.clone(),
                self.assignments,
            );
            let result = item(self, id);
            if result.is_err() {
                self.out.events.truncate(saved_events);
                (
                    self.convs,
                    self.agents,
                    self.groups,
                    self.last_service,
                    self.assignments,
                ) = saved;
            }
            self.out.items.push(result.err());
        }
        Ok(())
    }

    fn end_many(&mut self, ids: &[ConversationId], reason: EndReason) -> Result<(), &'static str> {
        self.batch(ids, |m, id| {
            let i = m.known_conv(id)?;
            if !m.convs[i].place.is_open() {
                return Err("InvalidState");
            }
            m.finish(i, reason);
            Ok(())
        })
    }

    fn finish(&mut self, i: usize, reason: EndReason) {
        let freed = if self.convs[i].place.is_waiting() {
            self.unqueue(i);
            None
        } else {
            Some(self.detach(i))
        };
        self.retire(i);
        let agent = freed.map(|a| self.agent(a).id.clone());
        self.convs[i].place = Place::Ended {
            reason,
            agent: agent.clone(),
        };
        self.emit(MEvent::Ended(self.convs[i].id.clone(), agent, reason));
        if let Some(a) = freed {
            self.drain(a, DrainTrigger::CapacityFreed);
        }
    }

    /// A transfer or manual assignment gives the conversation a new home: designations,
    /// overflow and the stall go.
    fn rehome(&mut self, i: usize, group: Option<&GroupId>) {
        let conv = &mut self.convs[i];
        if let Some(g) = group {
            conv.group = g.clone();
        }
        conv.designated = None;
        conv.d_agent = None;
        conv.d_group = None;
        // The groups it joined go with the old home: its group's overflow groups and its
        // stages' groups so far; its stage stays.
        conv.overflow.clear();
        conv.stage_groups.clear();
        conv.overflowed = false;
        conv.stalled = false;
    }

    /// R-X2: an agent hands an active or snoozed conversation on. A snoozed one keeps its
    /// snooze when an agent takes it at once (automatic reception on); otherwise the snooze
    /// lifts first (`Reassigned`) and it goes on as an active one.
    fn transfer(&mut self, id: &ConversationId, to: &Target) -> Result<(), &'static str> {
        let i = self.known_conv(id)?;
        let (Place::Active { agent: from } | Place::Snoozed { agent: from, .. }) =
            self.convs[i].place
        else {
            return Err("InvalidState");
        };
        let target_agent = match to {
            Target::Agent(b) => {
                let b = self.known_agent(b)?;
                let c = &self.convs[i];
                if b == from || !self.fits(self.agent(b), &c.kind, &c.group) {
                    return Err("AgentUnavailable");
                }
                Some(b)
            }
            Target::Group(g) => {
                self.known_group(g)?;
                None
            }
            _ => unreachable!("a variant added after this test"),
        };
        let group = match to {
            Target::Group(g) => Some(g),
            Target::Agent(_) => None,
            _ => unreachable!("a variant added after this test"),
        };
        if matches!(self.convs[i].place, Place::Snoozed { .. }) {
            self.rehome(i, group);
            if !self.convs[i].excluded.contains(&from) {
                self.convs[i].excluded.push(from);
            }
            let landing = match target_agent {
                Some(b) => Some((b, AssignReason::Transfer, None)),
                None => self.choose(i),
            };
            match landing {
                Some((b, reason, chooser)) if self.config.reception.auto_accept => {
                    let from_id = self.agent(from).id.clone();
                    self.emit(MEvent::Transferred(id.clone(), from_id, to.clone()));
                    if let Some(g) = chooser {
                        self.group_mut(&g).cursor = b;
                    }
                    self.move_snoozed(i, b, reason);
                    self.drain(from, DrainTrigger::CapacityFreed);
                    return Ok(());
                }
                _ => self.wake(i, WakeReason::Reassigned),
            }
        }
        self.detach(i);
        let from_id = self.agent(from).id.clone();
        self.emit(MEvent::Transferred(id.clone(), from_id, to.clone()));
        self.rehome(i, group);
        // The handing agent is never given it again automatically (only by hand).
        if !self.convs[i].excluded.contains(&from) {
            self.convs[i].excluded.push(from);
        }
        match target_agent {
            Some(b) => self.attach(i, b, AssignReason::Transfer),
            None => self.route(i),
        }
        self.drain(from, DrainTrigger::CapacityFreed);
        Ok(())
    }

    fn assign_manually(
        &mut self,
        ids: &[ConversationId],
        target: &Target,
    ) -> Result<(), &'static str> {
        if ids.is_empty() {
            return Err("EmptyBatch");
        }
        match target {
            Target::Agent(a) => {
                self.known_agent(a)?;
            }
            Target::Group(g) => {
                self.known_group(g)?;
                if self.members(g).is_empty() {
                    return Err("EmptyGroup");
                }
            }
            _ => unreachable!("a variant added after this test"),
        }
        self.batch(ids, |m, id| m.assign_one(id, target))
    }

    /// R-X1: to an agent, always; to a group, its best eligible member, else its least loaded
    /// member; never back to the agent that holds it. From the queue or pool, an offer, an
    /// agent, or a snooze, which moves along with it.
    fn assign_one(&mut self, id: &ConversationId, target: &Target) -> Result<(), &'static str> {
        let i = self.known_conv(id)?;
        let place = self.convs[i].place.clone();
        if !(place.is_waiting() || place.holder().is_some()) {
            return Err("InvalidState");
        }
        let snoozed = matches!(place, Place::Snoozed { .. });
        let holder = place.holder();
        let (agent, reason) = match target {
            Target::Agent(a) => (self.known_agent(a)?, AssignReason::Manual),
            Target::Group(g) => {
                // The group takes it on as its own work.
                let excluded: Vec<Seq> = holder.into_iter().collect();
                let c = &self.convs[i];
                let need = Need {
                    home: g,
                    excluded: &excluded,
                    qualify: MANUAL_TO_GROUP_QUALIFIES,
                    ..Need::of(c)
                };
                match self.pick(g, &need) {
                    Some(a) => (
                        a,
                        AssignReason::ManualToGroup {
                            strategy: Some(self.group(g).expect("known").strategy),
                        },
                    ),
                    None => {
                        let least = self
                            .agents
                            .iter()
                            .filter(|a| Self::priority_in(a, g).is_some())
                            .filter(|a| Some(a.seq) != holder)
                            .min_by(|a, b| {
                                fraction_cmp(
                                    self.units(a.seq),
                                    self.limit(a),
                                    self.units(b.seq),
                                    self.limit(b),
                                )
                                .then((a.last, a.seq).cmp(&(b.last, b.seq)))
                            })
                            .map(|a| a.seq);
                        match least {
                            Some(a) => (a, AssignReason::ManualToGroup { strategy: None }),
                            None => return Err("AlreadyAssigned"),
                        }
                    }
                }
            }
            _ => unreachable!("a variant added after this test"),
        };
        if holder == Some(agent) {
            return Err("AlreadyAssigned");
        }
        match holder {
            Some(from) => {
                if !snoozed {
                    self.detach(i);
                }
                let from_id = self.agent(from).id.clone();
                self.emit(MEvent::Transferred(id.clone(), from_id, target.clone()));
            }
            None => self.unqueue(i),
        }
        let group = match target {
            Target::Group(g) => Some(g.clone()),
            Target::Agent(_) => None,
            _ => unreachable!("a variant added after this test"),
        };
        self.rehome(i, group.as_ref());
        if let (Some(g), AssignReason::ManualToGroup { strategy: Some(_) }) = (&group, &reason) {
            self.group_mut(g).cursor = agent;
        }
        if snoozed {
            self.move_snoozed(i, agent, reason);
        } else {
            self.attach(i, agent, reason);
        }
        if let Some(from) = holder {
            self.drain(from, DrainTrigger::CapacityFreed);
        }
        Ok(())
    }

    fn snooze(&mut self, ids: &[ConversationId], until: DateTime<Utc>) -> Result<(), &'static str> {
        if self.config.mode != ReceptionMode::Asynchronous {
            return Err("WrongMode");
        }
        if until <= self.now {
            return Err("SnoozeNotInFuture");
        }
        self.batch(ids, |m, id| {
            let i = m.known_conv(id)?;
            let Place::Active { agent } = m.convs[i].place else {
                return Err("InvalidState");
            };
            m.goal_pause(i);
            m.clear_deadline(i, TimerKind::InactivityEnd);
            m.clear_deadline(i, TimerKind::FirstReplyTimeout);
            m.convs[i].place = Place::Snoozed { agent, until };
            m.set_deadline(i, until, TimerKind::SnoozeEnds);
            let agent_id = m.agent(agent).id.clone();
            m.emit(MEvent::Snoozed(id.clone(), agent_id, until));
            if !m.holds_units(&m.convs[i]) {
                m.drain(agent, DrainTrigger::CapacityFreed);
            }
            Ok(())
        })
    }

    /// R-X1, R-Z1: a snoozed conversation goes to agent `b` with its snooze: the same time and
    /// deadline, counted toward `b`'s load as snoozed work is. A new stint: `b` has not
    /// replied, its first-reply goal waits (paused) for the wake, the visitor's silence is
    /// forgotten. Reported as an assignment, then a snooze under `b`.
    fn move_snoozed(&mut self, i: usize, b: Seq, reason: AssignReason) {
        let Place::Snoozed { agent: a, until } = self.convs[i].place else {
            unreachable!("move a snoozed conversation");
        };
        self.let_go(i, a);
        let b_id = self.take_on(i, b);
        let conv = &mut self.convs[i];
        conv.place = Place::Snoozed { agent: b, until };
        conv.replied = false;
        let conv_id = conv.id.clone();
        let kind = conv.kind.clone();
        let (load, limit) = (self.load(b), self.limit(self.agent(b)));
        let skills = self.skill_match(i, b);
        self.emit(MEvent::Assigned(
            conv_id.clone(),
            b_id.clone(),
            reason,
            load,
            limit,
            kind,
            skills,
        ));
        self.goal_start(i, ReplyGoal::FirstReply);
        self.goal_pause(i);
        self.emit(MEvent::Snoozed(conv_id, b_id, until));
    }

    /// R-Z2: the snooze lifts; the goal's clock runs on, the visitor's silence is timed
    /// afresh, and the first-reply limit starts again.
    fn wake(&mut self, i: usize, reason: WakeReason) {
        let Place::Snoozed { agent, .. } = self.convs[i].place else {
            return;
        };
        self.clear_deadline(i, TimerKind::SnoozeEnds);
        self.convs[i].place = Place::Active { agent };
        let agent_id = self.agent(agent).id.clone();
        self.emit(MEvent::Woke(self.convs[i].id.clone(), agent_id, reason));
        self.goal_resume(i);
        if self.convs[i].silent_since.is_some() {
            self.silence_start(i);
        }
        if let (false, Some(secs)) = (
            self.convs[i].replied,
            self.config.reception.first_reply_timeout_secs,
        ) {
            self.set_deadline(i, after(self.now, secs), TimerKind::FirstReplyTimeout);
        }
    }

    fn message(&mut self, id: &ConversationId, from: Sender) -> Result<(), &'static str> {
        let i = self.known_conv(id)?;
        let place = self.convs[i].place.clone();
        let held = matches!(place, Place::Active { .. } | Place::Snoozed { .. });
        let allowed = match from {
            Sender::Visitor => place.is_open(),
            _ => held,
        };
        if !allowed {
            return Err("InvalidState");
        }
        match from {
            Sender::Visitor => {
                self.wake(i, WakeReason::VisitorMessage);
                if held {
                    self.clear_deadline(i, TimerKind::InactivityEnd);
                    self.convs[i].silent_since = None;
                    self.convs[i].reminded = false;
                    if self.convs[i].goal.is_none() {
                        self.goal_start(i, ReplyGoal::NextReply);
                    }
                }
            }
            Sender::AgentReply => {
                self.wake(i, WakeReason::AgentMessage);
                self.convs[i].replied = true;
                self.clear_deadline(i, TimerKind::FirstReplyTimeout);
                self.clear_deadline(i, TimerKind::SlaBreach);
                self.convs[i].goal = None;
                self.silence_start(i);
            }
            _ => {}
        }
        Ok(())
    }

    fn claim(&mut self, agent: &AgentId, id: Option<&ConversationId>) -> Result<(), &'static str> {
        if self.config.mode != ReceptionMode::Asynchronous {
            return Err("WrongMode");
        }
        let a = self.known_agent(agent)?;
        let i = match id {
            Some(id) => {
                let i = self.known_conv(id)?;
                if !self.convs[i].place.is_waiting() {
                    return Err("InvalidState");
                }
                i
            }
            // The first in pool order it may take and fits; else the first it may take,
            // which it does not fit.
            None => {
                let may = |i: &usize| !self.convs[*i].excluded.contains(&a);
                let pool = self.pool();
                let agent = self.agent(a);
                let fitting = pool.iter().copied().filter(may).find(|&i| {
                    let c = &self.convs[i];
                    self.fits(agent, &c.kind, &c.group) && qualifies(&agent.skills, c.requires())
                });
                match fitting {
                    Some(i) => i,
                    None => pool.into_iter().find(may).ok_or("PoolEmpty")?,
                }
            }
        };
        let c = &self.convs[i];
        let agent = self.agent(a);
        let skills =
            (id.is_some() && !CLAIM_NAMED_NEEDS_SKILLS) || qualifies(&agent.skills, c.requires());
        if !self.fits(agent, &c.kind, &c.group) || !skills {
            return Err("AgentUnavailable");
        }
        self.attach(i, a, AssignReason::Claimed);
        Ok(())
    }

    fn offer_of(&self, id: &ConversationId, agent: &AgentId) -> Result<(usize, Seq), &'static str> {
        let i = self.known_conv(id)?;
        let a = self.known_agent(agent)?;
        let Place::Offered { agent: to, expires } = self.convs[i].place else {
            return Err("InvalidState");
        };
        if to != a {
            return Err("NotOfferedTo");
        }
        if self.now >= expires {
            return Err("OfferExpired");
        }
        Ok((i, a))
    }

    fn accept(&mut self, id: &ConversationId, agent: &AgentId) -> Result<(), &'static str> {
        let (i, _) = self.offer_of(id, agent)?;
        self.clear_deadline(i, TimerKind::OfferExpires);
        self.emit(MEvent::Accepted(id.clone(), agent.clone()));
        self.activate(i);
        Ok(())
    }

    fn decline(&mut self, id: &ConversationId, agent: &AgentId) -> Result<(), &'static str> {
        let (i, a) = self.offer_of(id, agent)?;
        self.detach(i);
        self.emit(MEvent::Declined(id.clone(), agent.clone()));
        self.redirect(i, a);
        self.drain(a, DrainTrigger::CapacityFreed);
        Ok(())
    }

    /// R-R2: to another agent of its group, never back to one who missed or declined it;
    /// with no one free, back to its place; past the redirect limit it waits for an admin.
    fn redirect(&mut self, i: usize, from: Seq) {
        let conv = &mut self.convs[i];
        if !conv.excluded.contains(&from) {
            conv.excluded.push(from);
        }
        conv.redirects += 1;
        let redirects = conv.redirects;
        if self
            .config
            .reception
            .redirect_limit
            .is_some_and(|l| redirects > l)
        {
            self.convs[i].stalled = true;
            self.emit(MEvent::RedirectLimitReached(
                self.convs[i].id.clone(),
                redirects,
            ));
            self.enqueue(i);
            return;
        }
        let conv = self.convs[i].clone();
        match self.pick(&conv.group, &Need::of(&conv)) {
            Some(a) => {
                let strategy = self.group(&conv.group).expect("own group").strategy;
                self.group_mut(&conv.group).cursor = a;
                self.attach(i, a, AssignReason::Redirect { strategy });
            }
            None => {
                if KNOWN_BUG_1_OVERFLOW_REROUTE || !self.try_overflow_groups(i) {
                    self.enqueue(i);
                }
            }
        }
    }

    fn forget_many(&mut self, ids: &[ConversationId]) -> Result<(), &'static str> {
        self.batch(ids, |m, id| {
            let i = m.known_conv(id)?;
            if m.convs[i].place.is_open() {
                return Err("StillOpen");
            }
            m.convs.remove(i);
            m.emit(MEvent::Forgotten(id.clone()));
            Ok(())
        })
    }

    /// `ForgetVisitor`: the visitor's last agent is gone; their conversations stay.
    fn forget_visitor(&mut self, visitor: &VisitorId) -> Result<(), &'static str> {
        let before = self.last_service.len();
        self.last_service.retain(|(v, _, _)| v != visitor);
        if self.last_service.len() == before {
            return Err("UnknownVisitor");
        }
        self.emit(MEvent::VisitorForgotten(visitor.clone()));
        Ok(())
    }

    // ---- working hours -------------------------------------------------------------------

    fn schedule_index(&self, id: &ScheduleId) -> Result<usize, &'static str> {
        self.schedules
            .iter()
            .position(|s| &s.id == id)
            .ok_or("UnknownSchedule")
    }

    /// Resolves an agent's schedules, without repeats.
    fn schedule_ids(&self, ids: &[ScheduleId]) -> Result<Vec<ScheduleId>, &'static str> {
        let mut out: Vec<ScheduleId> = Vec::new();
        for id in ids {
            self.schedule_index(id)?;
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    /// Sets a schedule's next boundary after now.
    fn arm_boundary(&mut self, s: usize) {
        let next = self.schedules[s].next_boundary(self.now);
        self.schedules[s].next = next.map(|at| {
            self.deadlines_set += 1;
            (at, self.deadlines_set)
        });
    }

    fn duty_now(&self, a: &MAgent) -> bool {
        a.schedules.iter().any(|id| {
            self.schedules
                .iter()
                .any(|s| &s.id == id && s.on_duty(self.now))
        })
    }

    /// Re-evaluates an agent's duty; a change is reported, and the agent takes work or loses
    /// offers as its eligibility changes.
    fn update_duty(&mut self, a: Seq) {
        let on_duty = self.duty_now(self.agent(a));
        if on_duty == self.agent(a).on_duty {
            return;
        }
        let was = self.eligible(self.agent(a));
        self.agent_mut(a).on_duty = on_duty;
        self.emit(MEvent::DutyChanged(self.agent(a).id.clone(), on_duty));
        self.after_agent_change(a, was, DrainTrigger::ShiftStarted);
    }

    /// Members of a schedule, in registration order, re-evaluate their duty.
    fn update_members(&mut self, s: usize) {
        let id = self.schedules[s].id.clone();
        let members: Vec<Seq> = self
            .agents
            .iter()
            .filter(|a| a.schedules.contains(&id))
            .map(|a| a.seq)
            .collect();
        for a in members {
            self.update_duty(a);
        }
    }

    fn shift_boundary(&mut self, s: usize) {
        self.arm_boundary(s);
        self.update_members(s);
    }

    fn define_schedule(&mut self, spec: &ScheduleSpec) -> Result<(), &'static str> {
        let offset_minutes = zone_offset(&spec.time_zone)?;
        MSchedule::validate(&spec.ranges)?;
        let s = match self.schedule_index(&spec.schedule) {
            Ok(s) => {
                self.schedules[s].offset_minutes = offset_minutes;
                self.schedules[s].ranges = spec.ranges.clone();
                s
            }
            Err(_) => {
                self.schedules.push(MSchedule {
                    id: spec.schedule.clone(),
                    offset_minutes,
                    ranges: spec.ranges.clone(),
                    next: None,
                });
                self.schedules.len() - 1
            }
        };
        self.arm_boundary(s);
        self.emit(MEvent::ScheduleDefined(spec.schedule.clone()));
        self.update_members(s);
        Ok(())
    }

    fn remove_schedule(&mut self, id: &ScheduleId) -> Result<(), &'static str> {
        let s = self.schedule_index(id)?;
        if self.agents.iter().any(|a| a.schedules.contains(id))
            || self.config.service_hours.as_ref() == Some(id)
        {
            return Err("ScheduleInUse");
        }
        self.schedules.remove(s);
        self.emit(MEvent::ScheduleRemoved(id.clone()));
        Ok(())
    }

    /// Outside the desk's service hours, if it has them (evaluated at the instant asked).
    fn outside_service_hours(&self) -> bool {
        self.config.service_hours.as_ref().is_some_and(|id| {
            self.schedules
                .iter()
                .any(|s| &s.id == id && !s.on_duty(self.now))
        })
    }

    // ---- time ------------------------------------------------------------------------------

    /// Fires every deadline at or before now, earliest first.
    fn tick(&mut self) {
        loop {
            let due = (0..self.convs.len())
                .flat_map(|i| {
                    self.convs[i]
                        .deadlines
                        .iter()
                        .map(move |d| (d.at, d.set, i))
                })
                .filter(|(at, _, _)| *at <= self.now)
                .min();
            let shift = self
                .schedules
                .iter()
                .enumerate()
                .filter_map(|(s, sch)| sch.next.map(|(at, set)| (at, set, s)))
                .filter(|(at, _, _)| *at <= self.now)
                .min();
            // Ties between a shift boundary and a conversation's deadline: the order set.
            if let Some((at, set, s)) = shift
                && due.is_none_or(|(d_at, d_set, _)| (at, set) < (d_at, d_set))
            {
                self.shift_boundary(s);
                continue;
            }
            let Some((_, set, i)) = due else {
                return;
            };
            let d = *self.convs[i]
                .deadlines
                .iter()
                .find(|d| d.set == set)
                .expect("found above");
            self.convs[i].deadlines.retain(|x| x.set != set);
            // The crate documents that a conversation whose overflow time and maximum wait
            // fall at the same instant overflows first, whichever was set first; SKILLS.md puts
            // its stage boundaries before both.
            let before: &[TimerKind] = match d.kind {
                TimerKind::MaxWait => &[TimerKind::Stage],
                _ => &[],
            };
            for kind in before {
                if let Some(o) = self.convs[i]
                    .deadlines
                    .iter()
                    .find(|o| o.kind == *kind && o.at <= d.at)
                    .copied()
                {
                    self.convs[i].deadlines.retain(|x| x.set != o.set);
                    self.fire(i, *kind);
                }
            }
            self.fire(i, d.kind);
        }
    }

    fn fire(&mut self, i: usize, kind: TimerKind) {
        let id = self.convs[i].id.clone();
        match kind {
            TimerKind::SnoozeEnds => self.wake(i, WakeReason::SnoozeEnded),
            TimerKind::OfferExpires => {
                let Place::Offered { agent: a, .. } = self.convs[i].place else {
                    return;
                };
                self.detach(i);
                let short_break = self.config.reception.short_break_on_timeout
                    && self.agent(a).status != AgentStatus::ShortBreak;
                let agent_id = self.agent(a).id.clone();
                self.emit(MEvent::Expired(id, agent_id, short_break));
                // The conversation that waited longest is redirected first; then the short
                // break withdraws the agent's other offers.
                self.redirect(i, a);
                if short_break {
                    self.set_status(a, AgentStatus::ShortBreak);
                }
                self.drain(a, DrainTrigger::CapacityFreed);
            }
            TimerKind::FirstReplyTimeout => {
                let (Place::Active { agent: a }, false) =
                    (self.convs[i].place.clone(), self.convs[i].replied)
                else {
                    return;
                };
                self.detach(i);
                let agent_id = self.agent(a).id.clone();
                self.emit(MEvent::FirstReplyTimedOut(id, agent_id));
                self.redirect(i, a);
                self.drain(a, DrainTrigger::CapacityFreed);
            }
            TimerKind::MaxWait => {
                if self.convs[i].place != Place::Queued {
                    return;
                }
                self.unqueue(i);
                self.turn_away(i, "MaxWait");
            }
            TimerKind::Stage => self.advance(i),
            TimerKind::SlaWarning => {
                let Some(goal) = &mut self.convs[i].goal else {
                    return;
                };
                goal.warned = true;
                let goal = goal.clone();
                let breach = Self::breach_at(&goal, goal.running_since.unwrap_or(self.now));
                self.goal_arm(i);
                let agent = self.holder_id(i);
                self.emit(MEvent::SlaWarning(id, agent, goal.kind, breach));
            }
            TimerKind::SlaBreach => {
                let Some(goal) = &mut self.convs[i].goal else {
                    return;
                };
                goal.breached = true;
                let kind = goal.kind;
                let agent = self.holder_id(i);
                self.emit(MEvent::SlaBreached(id, agent, kind));
            }
            TimerKind::InactivityReminder => {
                self.convs[i].reminded = true;
                self.silence_arm(i);
                let end_at = self.convs[i]
                    .deadlines
                    .iter()
                    .find(|d| d.kind == TimerKind::InactivityEnd)
                    .map(|d| d.at);
                let agent = self.holder_id(i);
                self.emit(MEvent::InactivityReminder(id, agent, end_at));
            }
            TimerKind::InactivityEnd => self.finish(i, EndReason::Inactivity),
        }
    }

    fn holder_id(&self, i: usize) -> AgentId {
        let a = self.convs[i].place.holder().expect("a held conversation");
        self.agent(a).id.clone()
    }

    /// R-S4: the group's overflow groups join the conversation's candidates (those it does
    /// not wait in yet); `false` when there are none.
    fn overflow(&mut self, i: usize) -> bool {
        let conv = self.convs[i].clone();
        self.convs[i].overflowed = true;
        let waiting = conv.waiting_groups();
        let added: Vec<GroupId> = self
            .group(&conv.group)
            .map(|g| g.overflow.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|g| !waiting.contains(g))
            .collect();
        if added.is_empty() {
            // Bug 6: the engine keeps the overflow as still to come, and due.
            self.convs[i].overflowed = !KNOWN_BUG_6_NO_OP_OVERFLOW_STOPS_STAGES;
            return false;
        }
        self.convs[i].overflow.extend(added.iter().cloned());
        self.emit(MEvent::Overflowed(conv.id.clone(), added));
        true
    }
}
