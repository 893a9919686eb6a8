//! Engine-wide settings, validated before they take effect.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{KindId, ScheduleId, SkillId};

/// Engine-wide settings. Every field has a default that matches what a contact-center product
/// does out of the box; [`Config::validate`] checks a config before the engine accepts it.
///
/// Changed at run time ([`Command::UpdateConfig`](crate::Command::UpdateConfig)), waiting work
/// is re-ordered and re-routed at once. A timed feature switched off (both reply targets,
/// inactivity, the maximum wait, the first-reply limit) stops its running timers; changed
/// values apply to timers armed after the change: a reply goal keeps the target it opened
/// with, as Sobot applies SLA edits to later conversations only. Inactivity switched off
/// forgets the visitor's silence where its clock was running; a conversation snoozed after
/// the agent's reply keeps it and, if inactivity is on again by then, times it afresh when it
/// wakes, as after any snooze.
///
/// # Example
///
/// Start from the defaults and set what the desk needs; [`Engine::new`](crate::Engine::new)
/// and [`Command::UpdateConfig`](crate::Command::UpdateConfig) validate it.
///
/// ```
/// use switchboard::{Config, CustomStatus, Engine, Error, Inactivity, QueueConfig, Sla};
///
/// let config = Config {
///     // Agents with no limit of their own or of their groups serve three at once.
///     default_limit: 3,
///     // At most 50 waiting per group; every two minutes waited counts as one priority level.
///     queue: QueueConfig {
///         max_length: Some(50),
///         aging_step_secs: Some(120),
///         ..QueueConfig::default()
///     },
///     // First replies within a minute, with a warning 15 seconds before.
///     sla: Sla { first_reply_secs: Some(60), warn_before_secs: Some(15), ..Sla::default() },
///     // Remind a silent visitor after 5 minutes, end the conversation after 10.
///     inactivity: Inactivity { reminder_after_secs: Some(300), end_after_secs: Some(600) },
///     // A status of the host's own, in which agents get no automatic work.
///     custom_statuses: vec![CustomStatus { name: "Training".into(), assignable: false }],
///     ..Config::default()
/// };
/// config.validate()?;
/// let engine = Engine::new(config)?;
/// assert_eq!(engine.config().default_limit, 3);
///
/// // A warning after the target is refused, naming the field.
/// let late = Sla { first_reply_secs: Some(60), warn_before_secs: Some(90), ..Sla::default() };
/// let error = Config { sla: late, ..Config::default() }.validate().unwrap_err();
/// assert!(matches!(error, Error::InvalidConfig { ref field, .. } if field == "sla.warn_before_secs"));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Reception limit of an agent that has no limit of its own and belongs to no group with a
    /// limit (R-A3): its capacity in units (R-K1), which is a number of conversations when
    /// every kind costs 1, as the implicit kind does. Default 5. Must be at least 1, and at
    /// least the cost of every kind.
    pub default_limit: u32,
    /// The real-time queue (R-Q1, R-Q2).
    pub queue: QueueConfig,
    /// The last-agent preference (R-S2). Off by default, as in Tencent Cloud Desk, where it is an
    /// option next to the first-come-first-served default.
    pub last_agent: LastAgent,
    /// Statuses the host defines beyond Online, Busy, ShortBreak and Offline (R-A2).
    pub custom_statuses: Vec<CustomStatus>,
    /// When an agent leaves an assignable status, put the conversations it holds back in their
    /// queues (R-A2 "a policy may requeue them"). Default `false`: they stay with the agent.
    pub requeue_when_unassignable: bool,
    /// Real-time (the default) or asynchronous reception (R-M1).
    pub mode: ReceptionMode,
    /// Who gets automatic work in asynchronous mode (R-M2). Default all agents.
    pub allocation_target: AllocationTarget,
    /// The order of the unassigned pool in asynchronous mode (R-P1). Default oldest first.
    pub pool_order: PoolOrder,
    /// Whether snoozed conversations count toward their agent's load (R-Z1). Default `true`:
    /// snoozing parks a conversation, it does not free the agent.
    pub snoozed_count_toward_load: bool,
    /// Reply-time targets (R-L1). Default: none.
    pub sla: Sla,
    /// Visitor inactivity (R-L2). Default: off.
    pub inactivity: Inactivity,
    /// Working-hours routing (R-W2, SHOPLINE): only agents inside one of their schedules get
    /// automatic work. Off by default; switching it on needs at least one agent with a
    /// schedule. Agents with no schedule are then never assigned automatically.
    pub working_hours: bool,
    /// Automatic reception, offers and redirects (R-R1..R-R4).
    pub reception: Reception,
    /// The desk's service hours (R-Q3): outside them, an arriving visitor who has to wait is
    /// offered to leave a message (one an agent takes at once is simply served). `None`:
    /// always open.
    pub service_hours: Option<ScheduleId>,
    /// The kinds of work the desk routes (R-K1, R-K2), in the order the views list them. The
    /// first is the desk's default kind, for arrivals that name none. Empty (the default): one
    /// implicit kind named `default`, costing 1 unit, with no maximum and blocking nothing, so
    /// that capacity counts conversations, as a desk without kinds expects. See
    /// [`KindSpec`] and the crate docs, "Work kinds and capacity".
    ///
    /// An [`UpdateConfig`](crate::Command::UpdateConfig) that removes a kind still named by an
    /// open conversation is refused ([`Error::KindInUse`]); finished conversations keep the
    /// name of their kind. To introduce kinds on a desk with open conversations, keep a kind
    /// named `default` until they are done.
    pub kinds: Vec<KindSpec>,
    /// The skills agents may hold and conversations may require (R-SK1), each once. Empty
    /// (the default): a desk routes by groups alone, as before skills. See
    /// [`Stage`](crate::Stage) and the crate docs, "Skills and stages".
    ///
    /// An [`UpdateConfig`](crate::Command::UpdateConfig) that removes a skill an agent holds
    /// or an open conversation names in its stages is refused ([`Error::SkillInUse`]).
    #[serde(default)]
    pub skills: Vec<SkillId>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_limit: 5,
            queue: QueueConfig::default(),
            last_agent: LastAgent::default(),
            custom_statuses: Vec::new(),
            requeue_when_unassignable: false,
            mode: ReceptionMode::RealTime,
            allocation_target: AllocationTarget::AllAgents,
            pool_order: PoolOrder::OldestFirst,
            snoozed_count_toward_load: true,
            sla: Sla::default(),
            inactivity: Inactivity::default(),
            working_hours: false,
            reception: Reception::default(),
            service_hours: None,
            kinds: Vec::new(),
            skills: Vec::new(),
        }
    }
}

/// The longest aging step (366 days): longer steps age nothing in practice, and the bound keeps
/// the queue's ordering key in 64 bits.
pub(crate) const MAX_AGING_STEP_SECS: u64 = 366 * 24 * 60 * 60;

impl Config {
    /// Checks the config as a whole.
    ///
    /// O(s log s + k log k + b · log k) for `s` custom statuses, `k` kinds and `b` blocked
    /// kinds named in all.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field and the problem: a zero default limit, a zero
    /// aging step or last-agent window, a custom status with an empty name, a name that a
    /// built-in status already has, or one defined twice; a kind defined twice, with a cost of
    /// 0 or above `default_limit`, a maximum of 0, or blocking itself, an unknown kind or one
    /// kind twice (the field is the kind's path, such as `kinds[1].cost`).
    pub fn validate(&self) -> Result<(), Error> {
        if self.default_limit == 0 {
            return Err(invalid("default_limit", "must be at least 1"));
        }
        match self.queue.aging_step_secs {
            Some(0) => {
                return Err(invalid(
                    "queue.aging_step_secs",
                    "must be at least 1 second",
                ));
            }
            Some(step) if step > MAX_AGING_STEP_SECS => {
                return Err(invalid(
                    "queue.aging_step_secs",
                    "must be at most 366 days (31,622,400 seconds)",
                ));
            }
            _ => {}
        }
        if self.last_agent.window_secs == Some(0) {
            return Err(invalid(
                "last_agent.window_secs",
                "must be at least 1 second",
            ));
        }
        for (field, secs) in [
            ("sla.first_reply_secs", self.sla.first_reply_secs),
            ("sla.next_reply_secs", self.sla.next_reply_secs),
            ("sla.warn_before_secs", self.sla.warn_before_secs),
            (
                "inactivity.reminder_after_secs",
                self.inactivity.reminder_after_secs,
            ),
            ("inactivity.end_after_secs", self.inactivity.end_after_secs),
            ("queue.max_wait_secs", self.queue.max_wait_secs),
            (
                "reception.first_reply_timeout_secs",
                self.reception.first_reply_timeout_secs,
            ),
            (
                "reception.offer_timeout_secs",
                Some(self.reception.offer_timeout_secs),
            ),
        ] {
            if secs == Some(0) {
                return Err(invalid(field, "must be at least 1 second"));
            }
        }
        if self.queue.max_length == Some(0) {
            return Err(invalid("queue.max_length", "must be at least 1"));
        }
        if self.queue.long_queue_threshold == Some(0) {
            return Err(invalid("queue.long_queue_threshold", "must be at least 1"));
        }
        if let Some(warn) = self.sla.warn_before_secs {
            let targets = [self.sla.first_reply_secs, self.sla.next_reply_secs];
            if targets.iter().flatten().any(|target| warn >= *target) {
                return Err(invalid(
                    "sla.warn_before_secs",
                    "must be shorter than every reply target",
                ));
            }
        }
        if let (Some(reminder), Some(end)) = (
            self.inactivity.reminder_after_secs,
            self.inactivity.end_after_secs,
        ) && reminder >= end
        {
            return Err(invalid(
                "inactivity.reminder_after_secs",
                "must be shorter than inactivity.end_after_secs",
            ));
        }
        // The names seen so far, sorted: O(n log n) for n statuses.
        let mut seen = std::collections::BTreeSet::new();
        for status in &self.custom_statuses {
            let name = status.name.as_str();
            if name.trim().is_empty() {
                return Err(invalid("custom_statuses", "a status name is empty"));
            }
            if ["Online", "Busy", "ShortBreak", "Offline"].contains(&name) {
                return Err(invalid(
                    "custom_statuses",
                    format!("`{name}` is a built-in status"),
                ));
            }
            if !seen.insert(name) {
                return Err(invalid(
                    "custom_statuses",
                    format!("`{name}` is defined twice"),
                ));
            }
        }
        self.validate_kinds()?;
        let mut skills = std::collections::BTreeSet::new();
        for (i, skill) in self.skills.iter().enumerate() {
            if !skills.insert(skill) {
                return Err(invalid_at(
                    format!("skills[{i}]"),
                    format!("`{skill}` is declared twice"),
                ));
            }
        }
        Ok(())
    }

    /// The kinds' part of [`Config::validate`].
    fn validate_kinds(&self) -> Result<(), Error> {
        let field = |i: usize, name: &str| format!("kinds[{i}].{name}");
        let defined: std::collections::BTreeSet<&KindId> =
            self.kinds.iter().map(|k| &k.kind).collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, spec) in self.kinds.iter().enumerate() {
            let kind = &spec.kind;
            if !seen.insert(kind) {
                return Err(invalid_at(
                    field(i, "kind"),
                    format!("`{kind}` is defined twice"),
                ));
            }
            if spec.cost == 0 {
                return Err(invalid_at(field(i, "cost"), "must be at least 1 unit"));
            }
            if spec.cost > self.default_limit {
                return Err(invalid_at(
                    field(i, "cost"),
                    format!(
                        "of kind `{kind}` is {} units, above default_limit ({}): a kind no agent of the default capacity could ever hold",
                        spec.cost, self.default_limit
                    ),
                ));
            }
            if spec.max_per_agent == Some(0) {
                return Err(invalid_at(field(i, "max_per_agent"), "must be at least 1"));
            }
            for (j, blocked) in spec.blocks.iter().enumerate() {
                if blocked == kind {
                    return Err(invalid_at(
                        field(i, "blocks"),
                        format!(
                            "`{kind}` cannot block itself; to allow one at a time, set its max_per_agent to 1"
                        ),
                    ));
                }
                if !defined.contains(blocked) {
                    return Err(invalid_at(
                        field(i, "blocks"),
                        format!("names `{blocked}`, which is not a defined kind"),
                    ));
                }
                if spec.blocks[..j].contains(blocked) {
                    return Err(invalid_at(
                        field(i, "blocks"),
                        format!("names `{blocked}` twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the custom status `name` is defined, and if so whether it is assignable.
    pub(crate) fn custom_status(&self, name: &str) -> Option<bool> {
        self.custom_statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.assignable)
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> Error {
    Error::InvalidConfig {
        field: field.into(),
        problem: problem.into(),
    }
}

/// [`invalid`] for a field whose path is built, such as `kinds[1].cost`.
fn invalid_at(field: String, problem: impl Into<String>) -> Error {
    Error::InvalidConfig {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A kind of work (R-K1, R-K2): what one conversation of it costs an agent, how many of it one
/// agent may hold, which kinds it keeps an agent from while held, and whether its paused
/// (snoozed) work holds units. Listed in [`Config::kinds`].
///
/// An agent's capacity is its limit ([`Limit`](crate::Limit), [`Config::default_limit`]) in
/// units: on a desk with capacity 100, chat costing 25 and voice 100, an agent takes four
/// chats or one call. All of these bound automatic work only: an admin's
/// [`AssignManually`](crate::Command::AssignManually) may exceed each of them, after which the
/// agent gets no automatic work of a kind until that kind fits again (R-A4 per dimension).
///
/// On the wire: `{"kind":"voice","cost":100,"max_per_agent":1,"blocks":["chat"]}`, the last
/// three fields optional.
///
/// ```
/// use switchboard::{Config, Error, KindSpec};
///
/// let config = Config {
///     default_limit: 100,
///     kinds: vec![
///         KindSpec::new("chat", 25),
///         KindSpec::new("email", 10).max_per_agent(3).paused_holds_units(false),
///         KindSpec::new("voice", 100).blocks("chat").blocks("email"),
///     ],
///     ..Config::default()
/// };
/// config.validate()?;
///
/// // A call costs more than an agent of the default capacity can hold.
/// let too_dear = Config { kinds: vec![KindSpec::new("voice", 200)], ..config.clone() };
/// let error = too_dear.validate().unwrap_err();
/// assert!(matches!(error, Error::InvalidConfig { ref field, .. } if field == "kinds[0].cost"));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// Its id; unique among the kinds.
    pub kind: KindId,
    /// The units one conversation of it takes of its agent's capacity: at least 1, at most
    /// [`Config::default_limit`]. An agent whose own capacity is below it never gets the kind
    /// automatically (only by hand).
    pub cost: u32,
    /// At most this many conversations of it on one agent at once, for automatic work (at
    /// least 1). `None`: as many as the units allow.
    #[serde(default)]
    pub max_per_agent: Option<u32>,
    /// Kinds an agent gets no automatic work of while it holds a conversation of this one (a
    /// call blocks chats). Defined kinds, each once, never the kind itself (use
    /// `max_per_agent: Some(1)` for one at a time). Two kinds may block each other: then an
    /// agent holds one or the other.
    #[serde(default)]
    pub blocks: Vec<KindId>,
    /// Whether a paused (snoozed) conversation of this kind holds its units, its count toward
    /// `max_per_agent` and its blocking. `None` (the default) follows
    /// [`Config::snoozed_count_toward_load`].
    #[serde(default)]
    pub paused_holds_units: Option<bool>,
}

impl KindSpec {
    /// A kind costing `cost` units, with no maximum, blocking nothing, whose paused work
    /// follows [`Config::snoozed_count_toward_load`].
    pub fn new(kind: impl Into<KindId>, cost: u32) -> Self {
        Self {
            kind: kind.into(),
            cost,
            max_per_agent: None,
            blocks: Vec::new(),
            paused_holds_units: None,
        }
    }

    /// Sets the most conversations of the kind one agent may hold at once.
    pub fn max_per_agent(mut self, max: u32) -> Self {
        self.max_per_agent = Some(max);
        self
    }

    /// Adds a kind that this one blocks while held.
    pub fn blocks(mut self, kind: impl Into<KindId>) -> Self {
        self.blocks.push(kind.into());
        self
    }

    /// Sets whether paused (snoozed) work of the kind holds its units.
    pub fn paused_holds_units(mut self, holds: bool) -> Self {
        self.paused_holds_units = Some(holds);
        self
    }
}

/// Real-time queue settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Position changes are announced ([`Event::QueuePositionChanged`](crate::Event)) to the
    /// first `announce_positions` waiting conversations of each queue (R-Q2). Default 10; 0
    /// announces none (positions can still be queried).
    pub announce_positions: u32,
    /// Aging (R-Q1): every `aging_step_secs` seconds waited count as one priority level, so a
    /// conversation of priority 0 that has waited one step ranks with a fresh one of priority 1.
    /// `None` (the default) turns aging off: priority, then arrival. At most 366 days.
    pub aging_step_secs: Option<u64>,
    /// The most conversations a group's queue holds; a visitor arriving at a full queue is
    /// turned away and offered to leave a message (R-Q3). `None`: no limit.
    pub max_length: Option<u32>,
    /// The longest a conversation stays in a queue (each time it enters it); then it is
    /// turned away and offered to leave a message. `None`: no limit. When its group's
    /// [`Overflow`](crate::Overflow) time falls at the same instant, the overflow comes first:
    /// the overflow groups' agents get their chance before the visitor is turned away.
    pub max_wait_secs: Option<u64>,
    /// An arriving visitor who finds this many or more waiting (itself included) is offered
    /// to leave a message, and waits unless it takes the offer. `None`: never.
    pub long_queue_threshold: Option<u32>,
    /// Whether visitors may leave a message (real-time mode only). Default `true`.
    pub leave_message: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            announce_positions: 10,
            aging_step_secs: None,
            max_length: None,
            max_wait_secs: None,
            long_queue_threshold: None,
            leave_message: true,
        }
    }
}

/// The last-agent preference (R-S2): a visitor goes back to the agent who last served it, when
/// that agent is eligible for the conversation's group and has free capacity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LastAgent {
    /// Whether the preference is applied.
    pub enabled: bool,
    /// Only when the last service (its assignment, or its end if it ended) lies at most this
    /// many seconds back. `None`: no window.
    pub window_secs: Option<u64>,
}

/// A status the host defines, with whether agents in it get automatic work (R-A2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomStatus {
    /// The status name, as used in [`AgentStatus::Custom`](crate::AgentStatus::Custom).
    pub name: String,
    /// Whether an agent in this status is eligible for automatic assignment.
    pub assignable: bool,
}

/// How visitors are received (R-M1, Sobot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReceptionMode {
    /// The visitor waits in a queue for an available agent. The default.
    #[default]
    RealTime,
    /// The conversation is accepted at once: assigned, or put in the unassigned pool. No
    /// queue; agents may snooze conversations.
    Asynchronous,
}

impl ReceptionMode {
    /// The mode in words, as [`Display`](fmt::Display) writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ReceptionMode::RealTime => "real-time",
            ReceptionMode::Asynchronous => "asynchronous",
        }
    }
}

/// `real-time` or `asynchronous`.
impl fmt::Display for ReceptionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who gets automatic work in asynchronous mode (R-M2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AllocationTarget {
    /// Every agent, whatever its status; limits still apply. The default.
    #[default]
    AllAgents,
    /// Only agents in an assignable status.
    OnlineOnly,
}

/// `all agents` or `online only`.
impl fmt::Display for AllocationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AllocationTarget::AllAgents => "all agents",
            AllocationTarget::OnlineOnly => "online only",
        })
    }
}

/// The order in which the unassigned pool is served (R-P1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PoolOrder {
    /// Earliest arrival first. The default.
    #[default]
    OldestFirst,
    /// Latest arrival first.
    NewestFirst,
    /// Higher priority first, then earliest arrival.
    PriorityThenOldest,
}

/// `oldest first`, `newest first` or `priority then oldest`.
impl fmt::Display for PoolOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolOrder::OldestFirst => "oldest first",
            PoolOrder::NewestFirst => "newest first",
            PoolOrder::PriorityThenOldest => "priority then oldest",
        })
    }
}

/// Reply-time targets (R-L1). A conversation has at most one open reply goal: the first reply
/// of each agent that gets it, or the reply to a visitor message that came while no goal was
/// open. An agent's reply (not an internal note) meets it. Time spent snoozed does not count:
/// the goal's clock pauses and resumes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sla {
    /// Seconds from assignment (or transfer) to the agent's first reply.
    pub first_reply_secs: Option<u64>,
    /// Seconds from a visitor message to the agent's reply.
    pub next_reply_secs: Option<u64>,
    /// A warning this many seconds before a breach; shorter than every target.
    pub warn_before_secs: Option<u64>,
}

/// Visitor inactivity (R-L2): when the agent's reply is the last message and the visitor
/// stays silent, a reminder, then the end of the conversation. A visitor message stops the
/// clock; an agent reply starts it again. Never while snoozed: a snooze stops it, and when the
/// snooze lifts with the agent's reply still the last message, it starts again from then.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inactivity {
    /// Seconds of visitor silence before the reminder.
    pub reminder_after_secs: Option<u64>,
    /// Seconds of visitor silence before the conversation ends (reason inactivity).
    pub end_after_secs: Option<u64>,
}

/// Automatic reception and what happens when an agent does not respond (R-R1..R-R4, Tencent
/// Cloud Desk reception settings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reception {
    /// On (the default): an assignment makes the conversation active at once. Off: automatic
    /// assignments and transfers are offers the agent accepts or declines before
    /// `offer_timeout_secs`; manual assignments and claims are active at once.
    pub auto_accept: bool,
    /// How long an offer stands. Default 60 seconds.
    pub offer_timeout_secs: u64,
    /// How many redirects a conversation may have before it stops being offered
    /// automatically and waits for an admin (R-R2). Default 3; `None`: no limit.
    pub redirect_limit: Option<u32>,
    /// Set an agent whose offer expired to ShortBreak (R-R3). Default `false`.
    pub short_break_on_timeout: bool,
    /// Redirect an active conversation whose agent has not replied within this many seconds
    /// (R-R4); time snoozed does not count (the limit starts again when the snooze lifts).
    /// `None` (the default): never.
    pub first_reply_timeout_secs: Option<u64>,
}

impl Default for Reception {
    fn default() -> Self {
        Self {
            auto_accept: true,
            offer_timeout_secs: 60,
            redirect_limit: Some(3),
            short_break_on_timeout: false,
            first_reply_timeout_secs: None,
        }
    }
}
