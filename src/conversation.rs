//! What a conversation can be: its record, and the states it moves through.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::command::Stage;
use crate::config::Config;
use crate::event::{EndReason, TurnAwayReason};
use crate::ids::Target;
use crate::ids::{AgentId, ConversationId, KindId, VisitorId};
use crate::keys::{AgentKey, ConvKey, GroupKey, KindKey, ReqKey};
use crate::kinds::IMPLICIT;
use crate::routing::queue::QueueKey;
use crate::timers::timer::{Goal, Slots};

/// The engine's own record of a conversation's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub(crate) enum Phase {
    /// In no queue and with no agent, while a command decides where it goes; never seen
    /// between commands.
    #[serde(deserialize_with = "crate::wire::no_fields")]
    Routing,
    #[serde(deserialize_with = "crate::wire::no_fields")]
    Queued,
    #[serde(deserialize_with = "crate::wire::no_fields")]
    Pooled,
    Offered {
        agent: AgentKey,
        expires: DateTime<Utc>,
    },
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
    TurnedAway {
        at: DateTime<Utc>,
        reason: TurnAwayReason,
    },
    LeftMessage {
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
            Phase::Offered { .. } => "offered",
            Phase::Active { .. } => "active",
            Phase::Abandoned { .. } => "abandoned",
            Phase::TurnedAway { .. } => "turned away",
            Phase::LeftMessage { .. } => "left a message",
            Phase::Ended { .. } => "ended",
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        !matches!(
            self,
            Phase::Abandoned { .. }
                | Phase::TurnedAway { .. }
                | Phase::LeftMessage { .. }
                | Phase::Ended { .. }
        )
    }

    /// Waiting for an agent: in a queue or in the pool.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self, Phase::Queued | Phase::Pooled)
    }

    /// The agent that holds it: offered, active or snoozed.
    pub(crate) fn holder(&self) -> Option<AgentKey> {
        match self {
            Phase::Offered { agent, .. }
            | Phase::Active { agent }
            | Phase::Snoozed { agent, .. } => Some(*agent),
            _ => None,
        }
    }

    /// The agent that has taken it on: active or snoozed, not merely offered.
    pub(crate) fn accepted_by(&self) -> Option<AgentKey> {
        match self {
            Phase::Active { agent } | Phase::Snoozed { agent, .. } => Some(*agent),
            _ => None,
        }
    }

    /// Whether it holds units of its holder's capacity (R-A3, R-K2): offered and active work
    /// does, paused work when its kind's paused work does (`paused_holds`).
    pub(crate) fn holds_units(&self, paused_holds: bool) -> bool {
        match self {
            Phase::Offered { .. } | Phase::Active { .. } => true,
            Phase::Snoozed { .. } => paused_holds,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Conversation {
    pub id: ConversationId,
    pub visitor: VisitorId,
    /// Its own group: where it queues, and where a transfer to a group moves it.
    pub group: GroupKey,
    pub priority: u8,
    /// Its kind of work (R-K1). Absent from a snapshot written before kinds: the implicit kind.
    #[serde(default = "implicit_kind")]
    pub kind: KindId,
    /// The requirement set of its stage in force while it is open (R-SK4), 0 when it requires
    /// nothing; derived, set by [`State::claim_groups`](crate::store::State::claim_groups)
    /// and on every rebuild.
    #[serde(skip)]
    pub req: ReqKey,
    /// Its kind's key in the kinds of the config in force; derived, set on arrival and on
    /// every rebuild. (A finished conversation whose kind the config no longer has keeps 0;
    /// nothing routes it.)
    #[serde(skip)]
    pub kind_key: KindKey,
    pub arrived_at: DateTime<Utc>,
    /// Designations, exclusions and overflow groups: `None` for most conversations, which
    /// have none of them, so that the common record stays small (R-Q1 memory).
    pub routing: Option<Box<Routing>>,
    /// Times it was redirected after a missed offer or first reply.
    pub redirects: u32,
    /// Past the redirect limit: only an admin (or a transfer) moves it now.
    pub stalled: bool,
    /// Whether its current agent has replied yet (R-R4).
    pub replied: bool,
    pub phase: Phase,
    /// When it last entered a queue or the pool (a mode switch keeps it); the views show it
    /// only while it waits.
    pub waiting_since: Option<DateTime<Utc>>,
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// The open reply goal (R-L1), while its agent owes a reply.
    pub goal: Option<Box<Goal>>,
    /// Since when the visitor has been silent after the agent's reply (R-L2).
    pub silent_since: Option<DateTime<Utc>>,
    /// Whether the inactivity reminder for the current silence went out.
    pub reminded: bool,
    /// The deadlines armed for it, one per kind of timer.
    pub timers: Slots,
    /// Where the engine files it (reused after it is forgotten).
    pub key: ConvKey,
    /// Its arrival sequence number, unique for the engine's lifetime: the tie-break of every
    /// order that says "earlier arrival first".
    pub seq: u64,
}

/// Equality of what a snapshot stores (for [`Snapshot`](crate::Snapshot)'s): the requirement
/// set's key, which a rebuild may number differently, is left out.
impl PartialEq for Conversation {
    fn eq(&self, other: &Self) -> bool {
        self.stored() == other.stored()
    }
}

impl Eq for Conversation {}

impl Conversation {
    /// Every field but the derived requirement key. Every field is named, so that a new one
    /// must be placed on one side or the other.
    fn stored(&self) -> impl PartialEq + '_ {
        let Conversation {
            id,
            visitor,
            group,
            priority,
            kind,
            req: _,
            kind_key,
            arrived_at,
            routing,
            redirects,
            stalled,
            replied,
            phase,
            waiting_since,
            first_assigned_at,
            goal,
            silent_since,
            reminded,
            timers,
            key,
            seq,
        } = self;
        (
            (id, visitor, group, priority, kind, kind_key, arrived_at),
            (routing, redirects, stalled, replied, phase, waiting_since),
            (
                first_assigned_at,
                goal,
                silent_since,
                reminded,
                timers,
                key,
                seq,
            ),
        )
    }
}

fn implicit_kind() -> KindId {
    KindId::from(IMPLICIT)
}

/// The rarer part of a conversation's routing state, kept out of line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Routing {
    /// What the visitor designated at arrival, as given (for the record).
    pub designated: Option<Target>,
    /// The designation while it still routes: until the conversation is first served.
    pub designated_agent: Option<AgentKey>,
    pub designated_group: Option<GroupKey>,
    /// Agents that must not get it automatically: those that transferred it away, declined
    /// it, or let its offer or first reply time out (R-R2).
    pub excluded: Vec<AgentKey>,
    /// Groups it overflowed into after waiting (R-S4).
    pub overflow: Vec<GroupKey>,
    /// Its group's overflow time came while it waited (R-S4), whether or not the overflow
    /// added a group (its groups may all be candidates already): the overflow does not come
    /// twice. Snapshots from before this field record only `overflow`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overflowed: bool,
    /// Its stages of requirements, as given (R-SK2); empty when it has none.
    pub stages: Vec<Stage>,
    /// The stage in force, an index into `stages`.
    pub stage: u32,
    /// Groups the stages entered so far added, in order, those still registered when their
    /// stage began.
    pub joined: Vec<GroupKey>,
}

impl Conversation {
    /// What the visitor designated at arrival, as given.
    pub(crate) fn designation(&self) -> Option<&Target> {
        self.routing.as_ref()?.designated.as_ref()
    }

    /// The designated agent while the designation still routes.
    pub(crate) fn designated_agent(&self) -> Option<AgentKey> {
        self.routing.as_ref()?.designated_agent
    }

    /// The designated group while the designation still routes.
    pub(crate) fn designated_group(&self) -> Option<GroupKey> {
        self.routing.as_ref()?.designated_group
    }

    /// Agents that must not get it automatically.
    pub(crate) fn excluded(&self) -> &[AgentKey] {
        self.routing.as_ref().map_or(&[], |r| &r.excluded)
    }

    /// Groups it overflowed into.
    pub(crate) fn overflow(&self) -> &[GroupKey] {
        self.routing.as_ref().map_or(&[], |r| &r.overflow)
    }

    /// Whether its group's overflow has come (R-S4): it joined overflow groups, or its
    /// overflow time came with nothing to add.
    pub(crate) fn overflowed(&self) -> bool {
        self.routing
            .as_ref()
            .is_some_and(|r| r.overflowed || !r.overflow.is_empty())
    }

    /// Groups its stages so far added (R-SK2).
    pub(crate) fn joined(&self) -> &[GroupKey] {
        self.routing.as_ref().map_or(&[], |r| &r.joined)
    }

    /// Its stages of requirements, empty when it has none.
    pub(crate) fn stages(&self) -> &[Stage] {
        self.routing.as_ref().map_or(&[], |r| &r.stages)
    }

    /// The index of the stage in force, `None` without stages.
    pub(crate) fn stage_index(&self) -> Option<u32> {
        let routing = self.routing.as_ref()?;
        (!routing.stages.is_empty()).then_some(routing.stage)
    }

    /// The stage in force, `None` without stages.
    pub(crate) fn stage(&self) -> Option<&Stage> {
        let routing = self.routing.as_ref()?;
        routing.stages.get(usize::try_from(routing.stage).ok()?)
    }

    /// When the next stage begins (R-SK2): arrival plus the durations of the stages up to and
    /// including the one in force; `None` in the last stage or without stages.
    pub(crate) fn next_stage_at(&self) -> Option<DateTime<Utc>> {
        let routing = self.routing.as_ref()?;
        let current = usize::try_from(routing.stage).ok()?;
        if current + 1 >= routing.stages.len() {
            return None;
        }
        let ms = routing.stages[..=current]
            .iter()
            .map(|s| s.for_ms.unwrap_or(0))
            .fold(0u64, u64::saturating_add);
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        Some(
            chrono::TimeDelta::try_milliseconds(ms)
                .and_then(|d| self.arrived_at.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// The groups whose agents may be chosen beyond its own and a designated one: the overflow
    /// groups it joined, then the groups its stages added, each once.
    pub(crate) fn extra_groups(&self) -> impl Iterator<Item = GroupKey> + '_ {
        let overflow = self.overflow();
        let joined = self.joined();
        overflow.iter().copied().chain(
            joined
                .iter()
                .enumerate()
                .filter(move |(i, g)| !overflow.contains(g) && !joined[..*i].contains(g))
                .map(|(_, g)| *g),
        )
    }

    /// Changes the out-of-line routing state, dropping it again when nothing is left in it.
    pub(crate) fn with_routing<R>(&mut self, change: impl FnOnce(&mut Routing) -> R) -> R {
        let routing = self.routing.get_or_insert_with(Box::default);
        let result = change(routing);
        if **routing == Routing::default() {
            self.routing = None;
        }
        result
    }

    /// Like [`Conversation::with_routing`] for changes that only clear: nothing to do, and
    /// nothing allocated, when there is no routing state.
    fn clear_routing(&mut self, change: impl FnOnce(&mut Routing)) {
        if self.routing.is_some() {
            self.with_routing(change);
        }
    }

    /// Keeps `agent` from getting it automatically again.
    pub(crate) fn exclude(&mut self, agent: AgentKey) {
        self.with_routing(|r| {
            if !r.excluded.contains(&agent) {
                r.excluded.push(agent);
            }
        });
    }

    /// Drops the designation's routing effect (the record of what was designated stays).
    pub(crate) fn drop_designation(&mut self) {
        self.clear_routing(|r| {
            r.designated_agent = None;
            r.designated_group = None;
        });
    }

    /// Drops a designated agent that is going away.
    pub(crate) fn drop_designated_agent(&mut self) {
        self.clear_routing(|r| r.designated_agent = None);
    }

    /// Drops everything that routes it beyond its own group: the designation's effect and
    /// the overflow groups it joined; with `record`, also the record of what was designated.
    pub(crate) fn drop_routes(&mut self, record: bool) {
        self.clear_routing(|r| {
            if record {
                r.designated = None;
            }
            r.designated_agent = None;
            r.designated_group = None;
            r.overflow.clear();
            r.overflowed = false;
            r.joined.clear();
        });
    }

    pub(crate) fn queue_key(&self, config: &Config) -> QueueKey {
        QueueKey::new(self.priority, self.arrived_at, self.seq, self.key, config)
    }

    pub(crate) fn agent(&self) -> Option<AgentKey> {
        match self.phase {
            Phase::Active { agent } => Some(agent),
            _ => None,
        }
    }

    /// The groups whose queues it waits in while waiting: its own, a designated one, and
    /// those it overflowed into, each once.
    pub(crate) fn waiting_groups(&self) -> impl Iterator<Item = GroupKey> + '_ {
        let own = self.group;
        let designated = self.designated_group().filter(|g| *g != own);
        let extra = self
            .extra_groups()
            .filter(move |g| *g != own && Some(*g) != designated);
        std::iter::once(own).chain(designated).chain(extra)
    }
}
