//! The one error type: every variant names the ids involved and reads well in a log line.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ConversationId, GroupId, KindId, ScheduleId, SkillId, VisitorId};

/// Why a command, or one item of a batch command, was refused. The engine is unchanged by a
/// refused command (R-C4); in a batch, a refused item changes nothing and the others go on
/// (R-C8).
///
/// On the wire an error is an object whose `"type"` names the variant, with its fields beside
/// it: `{"type":"UnknownAgent","agent":"ana"}`, `{"type":"EmptyBatch"}`. The words in
/// `state`, `operation`, `reason`, `mode` and `field` are [`Cow`]s so that an error read back
/// from the wire is the same value; the engine fills them with fixed words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Error {
    /// No agent with this id is registered.
    #[error("unknown agent `{agent}`")]
    UnknownAgent {
        /// The id that was given.
        agent: AgentId,
    },
    /// No group with this id is registered.
    #[error("unknown group `{group}`")]
    UnknownGroup {
        /// The id that was given.
        group: GroupId,
    },
    /// No kind of work with this id is defined in [`Config::kinds`](crate::Config::kinds)
    /// (R-K1).
    #[error("unknown kind `{kind}`")]
    UnknownKind {
        /// The id that was given.
        kind: KindId,
    },
    /// No skill with this id is declared in [`Config::skills`](crate::Config::skills)
    /// (R-SK1).
    #[error("unknown skill `{skill}`")]
    UnknownSkill {
        /// The id that was given.
        skill: SkillId,
    },
    /// A skill level outside 1..=10, held by an agent or named by a stage (R-SK1).
    #[error("skill `{skill}` has level {level}; levels run from 1 to 10")]
    InvalidLevel {
        /// The skill.
        skill: SkillId,
        /// The level that was given.
        level: u8,
    },
    /// An agent's skills name the same skill twice.
    #[error("agent `{agent}` holds skill `{skill}` twice")]
    DuplicateSkill {
        /// The agent.
        agent: AgentId,
        /// The skill named twice.
        skill: SkillId,
    },
    /// A conversation's stages are malformed (R-SK2): an empty list, a missing or zero
    /// duration before the last stage, a duration on the last, or a skill named twice in
    /// one stage's requirements or preferences.
    #[error("conversation `{conversation}` stage {stage}: {problem}")]
    InvalidStages {
        /// The conversation.
        conversation: ConversationId,
        /// The 0-based stage at fault.
        stage: usize,
        /// What is wrong.
        problem: String,
    },
    /// No conversation with this id is known (never arrived, or forgotten).
    #[error("unknown conversation `{conversation}`")]
    UnknownConversation {
        /// The id that was given.
        conversation: ConversationId,
    },
    /// The engine remembers nothing of this visitor: no agent has served them, or they were
    /// forgotten ([`Command::ForgetVisitor`](crate::Command::ForgetVisitor)).
    #[error("unknown visitor `{visitor}`: no agent has served them, or they were forgotten")]
    UnknownVisitor {
        /// The id that was given.
        visitor: VisitorId,
    },
    /// A conversation with this id already exists.
    #[error("conversation `{conversation}` already exists")]
    DuplicateConversation {
        /// The id that was given twice.
        conversation: ConversationId,
    },
    /// An agent with this id is already registered.
    #[error("agent `{agent}` is already registered")]
    DuplicateAgent {
        /// The id that was given twice.
        agent: AgentId,
    },
    /// A group with this id is already registered.
    #[error("group `{group}` is already registered")]
    DuplicateGroup {
        /// The id that was given twice.
        group: GroupId,
    },
    /// The same group appears twice in one agent's memberships.
    #[error("agent `{agent}` lists group `{group}` twice")]
    DuplicateMembership {
        /// The agent being registered or updated.
        agent: AgentId,
        /// The group listed twice.
        group: GroupId,
    },
    /// A rank in a group outside 1 (first) ..= 5 (last) (R-A1).
    #[error(
        "agent `{agent}` has rank {rank} in group `{group}`; ranks run from 1 (first) to 5 (last)"
    )]
    InvalidRank {
        /// The agent being registered or updated.
        agent: AgentId,
        /// The group of the membership.
        group: GroupId,
        /// The rank that was given.
        rank: u8,
    },
    /// A reception limit of zero for an agent: to keep an agent from automatic work, give it a
    /// status that is not assignable.
    #[error(
        "agent `{agent}` cannot have a reception limit of 0; use a status that is not assignable instead"
    )]
    ZeroAgentLimit {
        /// The agent being registered or updated.
        agent: AgentId,
    },
    /// A reception limit of zero for a group.
    #[error("group `{group}` cannot have a reception limit of 0")]
    ZeroGroupLimit {
        /// The group being registered or updated.
        group: GroupId,
    },
    /// A cap of zero on the units of a group's own work one agent may hold (R-K3): to keep a
    /// group's work from automatic routing, leave its members in a status that is not
    /// assignable instead.
    #[error("group `{group}` cannot cap its work on an agent at 0 units")]
    ZeroGroupCap {
        /// The group being registered or updated.
        group: GroupId,
    },
    /// A custom status that the config does not define.
    #[error("status `{status}` is not defined in the config's custom statuses")]
    UnknownStatus {
        /// The status name that was given.
        status: String,
    },
    /// A batch command with no items.
    #[error("the batch names no conversations")]
    EmptyBatch,
    /// The conversation is in a state that does not allow the operation.
    #[error("cannot {operation} conversation `{conversation}`: it is {state}")]
    InvalidState {
        /// The conversation.
        conversation: ConversationId,
        /// Its state, in words (`queued`, `active`, `ended`, ...).
        state: Cow<'static, str>,
        /// What was attempted (`end`, `transfer`, ...).
        operation: Cow<'static, str>,
    },
    /// A manual assignment to the agent that already holds the conversation.
    #[error("conversation `{conversation}` is already assigned to agent `{agent}`")]
    AlreadyAssigned {
        /// The conversation.
        conversation: ConversationId,
        /// Its agent.
        agent: AgentId,
    },
    /// A transfer to an agent that cannot take it now (status not assignable, at its limit, or
    /// the conversation's own agent). Transfers respect eligibility; an admin can use
    /// [`Command::AssignManually`](crate::Command::AssignManually) instead.
    #[error("agent `{agent}` cannot take conversation `{conversation}` now: {reason}")]
    AgentUnavailable {
        /// The conversation.
        conversation: ConversationId,
        /// The agent that was named.
        agent: AgentId,
        /// Why, in words.
        reason: Cow<'static, str>,
    },
    /// A manual assignment to a group with no members.
    #[error("group `{group}` has no members to assign to")]
    EmptyGroup {
        /// The group.
        group: GroupId,
    },
    /// A group cannot be removed while conversations still route through it.
    #[error("group `{group}` still has {conversations} open conversation(s)")]
    GroupInUse {
        /// The group.
        group: GroupId,
        /// How many open conversations name it.
        conversations: u64,
    },
    /// A config change cannot remove a kind of work that open conversations still have.
    #[error("kind `{kind}` still has {conversations} open conversation(s)")]
    KindInUse {
        /// The kind the new config leaves out.
        kind: KindId,
        /// How many open conversations are of it.
        conversations: u64,
    },
    /// A config change cannot remove a skill that agents hold or open conversations name.
    #[error(
        "skill `{skill}` is held by {agents} agent(s) and named by {conversations} open conversation(s)"
    )]
    SkillInUse {
        /// The skill the new config leaves out.
        skill: SkillId,
        /// How many agents hold it.
        agents: u64,
        /// How many open conversations name it in their stages.
        conversations: u64,
    },
    /// Only a conversation that ended, was abandoned or left a message can be forgotten.
    #[error("conversation `{conversation}` is still open and cannot be forgotten")]
    StillOpen {
        /// The conversation.
        conversation: ConversationId,
    },
    /// The operation exists only in another reception mode.
    #[error("{operation} is not available in {mode} reception mode")]
    WrongMode {
        /// What was attempted.
        operation: Cow<'static, str>,
        /// The engine's reception mode, in words (`real-time`, `asynchronous`).
        mode: Cow<'static, str>,
    },
    /// A snooze must end in the future.
    #[error("cannot snooze until {until}: it is not after the engine's time {now}")]
    SnoozeNotInFuture {
        /// The time that was given.
        until: DateTime<Utc>,
        /// The engine's time.
        now: DateTime<Utc>,
    },
    /// A claim of "the next conversation" when the pool holds none the agent may take.
    #[error("the unassigned pool has no conversation for agent `{agent}`")]
    PoolEmpty {
        /// The agent that claimed.
        agent: AgentId,
    },
    /// A schedule names a time zone that the IANA database does not know.
    #[error("schedule `{schedule}` names an unknown time zone `{time_zone}`")]
    UnknownTimeZone {
        /// The schedule.
        schedule: ScheduleId,
        /// The name that was given.
        time_zone: String,
    },
    /// A schedule whose ranges make no sense.
    #[error("schedule `{schedule}` {problem}")]
    InvalidSchedule {
        /// The schedule.
        schedule: ScheduleId,
        /// What is wrong.
        problem: String,
    },
    /// No schedule with this id is defined.
    #[error("unknown schedule `{schedule}`")]
    UnknownSchedule {
        /// The id that was given.
        schedule: ScheduleId,
    },
    /// A schedule cannot be removed while agents or the service hours use it.
    #[error("schedule `{schedule}` is in use ({agents} agent(s), or the service hours)")]
    ScheduleInUse {
        /// The schedule.
        schedule: ScheduleId,
        /// How many agents link to it.
        agents: usize,
    },
    /// Working-hours routing needs at least one agent with a schedule (SHOPLINE).
    #[error("working-hours routing needs at least one agent with a schedule")]
    NoScheduledAgent,
    /// An offer answered by an agent it was not offered to.
    #[error("conversation `{conversation}` is not offered to agent `{agent}`")]
    NotOfferedTo {
        /// The conversation.
        conversation: ConversationId,
        /// The agent that answered.
        agent: AgentId,
    },
    /// An offer answered at or after its expiry.
    #[error("the offer of conversation `{conversation}` expired at {expired_at}")]
    OfferExpired {
        /// The conversation.
        conversation: ConversationId,
        /// When the offer expired.
        expired_at: DateTime<Utc>,
    },
    /// A group's overflow setting that makes no sense.
    #[error("group `{group}` overflow: {problem}")]
    InvalidOverflow {
        /// The group.
        group: GroupId,
        /// What is wrong.
        problem: String,
    },
    /// A group cannot be removed while another group overflows into it.
    #[error("group `{group}` is an overflow group of `{of}`")]
    OverflowTarget {
        /// The group to remove.
        group: GroupId,
        /// The group that overflows into it.
        of: GroupId,
    },
    /// Leave-a-message is switched off in the config.
    #[error("leave-a-message is switched off")]
    LeaveMessageOff,
    /// The config was refused by [`Config::validate`](crate::Config::validate).
    #[error("invalid config: `{field}` {problem}")]
    InvalidConfig {
        /// The field, as a path.
        field: Cow<'static, str>,
        /// What is wrong with it.
        problem: String,
    },
    /// A snapshot that this version of the crate cannot restore.
    #[error("snapshot version {found} is not supported (this build reads version {supported})")]
    UnsupportedSnapshot {
        /// The snapshot's version.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },
    /// A snapshot whose contents contradict each other (edited by hand, or not from this crate).
    #[error("corrupt snapshot: {problem}")]
    CorruptSnapshot {
        /// What contradicts what.
        problem: String,
    },
}
