//! The public face: [`Engine`], its one entry point, its queries, snapshot and restore.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::command::{Command, Membership};
use crate::config::Config;
use crate::conversation::{Conversation, Phase};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::ids::{AgentId, ConversationId, GroupId};
use crate::keys::AgentKey;
use crate::outcome::Outcome;
use crate::status::AgentStatus;
use crate::store::State;
use crate::view::ConversationState;
use crate::view::{AgentView, ConversationView, Counters, GroupView, KindLoad};

/// The routing engine: a deterministic state machine driven by [`Engine::handle`].
///
/// Cloning is a deep copy of the state, so a host can run what-if simulations from live state
/// (R-B3).
#[derive(Clone, Debug)]
pub struct Engine {
    state: State,
}

/// The version [`Engine::snapshot`] writes and [`Engine::restore`] reads. Version 3 follows
/// the wire convention of the crate docs ("Wire format") and names an agent's place in a
/// group its `rank`; snapshots of versions 1 and 2 are refused
/// ([`Error::UnsupportedSnapshot`]), not migrated.
pub const SNAPSHOT_VERSION: u32 = 3;

/// The engine's whole state, for storage (R-C6). Serialize it with a self-describing serde
/// format (JSON, CBOR, MessagePack, ...); hand it back to [`Engine::restore`] to continue
/// exactly where it stopped. Derived indexes are not stored; restore rebuilds them.
///
/// A snapshot refuses fields it does not know, like every input. Reading one of another
/// version succeeds, its state left unread, and [`Engine::restore`] refuses it with
/// [`Error::UnsupportedSnapshot`] naming both versions. That needs `version` before `state`,
/// as this crate writes them, or a format that can go on after a part failed to read (a
/// `serde_json::Value`, whose keys are sorted, can); JSON text stored with its keys
/// reordered (a database's JSON column) fails to read instead, at the first field of the old
/// state.
///
/// Two snapshots are equal when they hold the same stored state, whatever the derived
/// indexes of the engines they came from: a snapshot equals itself read back from its
/// serialized form, and an engine restored from it snapshots equal again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// The snapshot format's version ([`SNAPSHOT_VERSION`] when written by this build).
    pub version: u32,
    /// `None` only for a snapshot of another version read from its serialized form.
    state: Option<State>,
}

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("Snapshot", &["version", "state"], SnapshotVisitor)
    }
}

/// A snapshot's fields, by name; any other is refused.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum SnapshotField {
    Version,
    State,
}

/// Reads `version` first, then `state` only if it is of this version.
struct SnapshotVisitor;

impl<'de> Visitor<'de> for SnapshotVisitor {
    type Value = Snapshot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a switchboard snapshot: an object with `version` and `state`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
        let mut version: Option<u32> = None;
        let mut state: Option<Option<State>> = None;
        // Why a state read before the version failed: an error if the version turns out to be
        // this one (or cannot be read after it), moot if it is another.
        let mut unread: Option<A::Error> = None;
        loop {
            let field = match map.next_key() {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => return Err(unread.unwrap_or(e)),
            };
            match field {
                SnapshotField::Version => {
                    if version.is_some() {
                        return Err(de::Error::duplicate_field("version"));
                    }
                    version = Some(map.next_value().map_err(|e| unread.take().unwrap_or(e))?);
                }
                SnapshotField::State => {
                    if state.is_some() {
                        return Err(de::Error::duplicate_field("state"));
                    }
                    state = Some(match version {
                        Some(v) if v != SNAPSHOT_VERSION => {
                            map.next_value::<IgnoredAny>()?;
                            None
                        }
                        Some(_) => Some(map.next_value()?),
                        // Stored with its keys sorted (a JSON value, a database's JSON column):
                        // read it as this version's, and judge a failure by the version.
                        None => match map.next_value() {
                            Ok(read) => Some(read),
                            Err(e) => {
                                unread = Some(e);
                                None
                            }
                        },
                    });
                }
            }
        }
        let version = match (version, unread) {
            (Some(v), Some(_)) if v != SNAPSHOT_VERSION => v,
            (_, Some(e)) => return Err(e),
            (Some(v), None) => v,
            (None, None) => return Err(de::Error::missing_field("version")),
        };
        Ok(Snapshot {
            version,
            state: state.ok_or_else(|| de::Error::missing_field("state"))?,
        })
    }
}

/// Equality of the stored state: derived indexes, which restore rebuilds, are left out.
impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        // Every field is named, so that a new one must be placed on one side or the other.
        let State {
            config,
            clock,
            last_key,
            assignment_seq,
            timer_seq,
            agents,
            groups,
            conversations,
            schedules,
            group_names,
            visitors,
            counters,
            agent_ids: _,
            group_ids: _,
            conv_ids: _,
            schedule_ids: _,
            timers: _,
            waiting: _,
            snoozed: _,
            kinds: _,
            skills: _,
            reqs: _,
            routes: _,
        } = self;
        *config == other.config
            && *clock == other.clock
            && *last_key == other.last_key
            && *assignment_seq == other.assignment_seq
            && *timer_seq == other.timer_seq
            && *agents == other.agents
            && *groups == other.groups
            && *conversations == other.conversations
            && *schedules == other.schedules
            && *group_names == other.group_names
            // In order: the order is stored, and the map's own equality ignores it.
            && visitors.iter().eq(other.visitors.iter())
            && *counters == other.counters
    }
}

impl Engine {
    /// A new engine with no agents, groups or conversations.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when [`Config::validate`] refuses the config;
    /// [`Error::UnknownSchedule`] when it names service hours (no schedule exists yet);
    /// [`Error::NoScheduledAgent`] when it switches working-hours routing on (no agent has a
    /// schedule yet: register agents and schedules, then switch it on with
    /// [`Command::UpdateConfig`]).
    pub fn new(config: Config) -> Result<Self, Error> {
        State::new(Config::default()).check_config(&config)?;
        Ok(Self {
            state: State::new(config),
        })
    }

    /// Handles one command at time `now` and returns what happened (R-C2).
    ///
    /// A `now` earlier than the engine's clock is taken as the engine's clock: time never runs
    /// backwards (R-C3). The engine's clock advances to `now` only when the command succeeds;
    /// a batch whose every item is refused changes nothing, not even the clock, so a host may
    /// leave it out of its journal.
    ///
    /// # Errors
    /// Any [`Error`] variant that names a problem with this command: an unknown or duplicate
    /// id (a kind included), an invalid limit, cap, rank or status, a conversation in a state
    /// that does not allow the operation, an agent that does not fit what it is to take, an
    /// empty batch, an operation of another reception mode, a config that drops a kind in use.
    /// The engine is
    /// then exactly as it was (R-C4). Business outcomes (no agent free) are events, not errors.
    pub fn handle(&mut self, now: DateTime<Utc>, command: Command) -> Result<Outcome, Error> {
        let now = match self.state.clock {
            Some(clock) if clock > now => clock,
            _ => now,
        };
        let mut ctx = Ctx::new(now);
        self.state.apply(&mut ctx, command)?;
        let all_refused =
            !ctx.results.is_empty() && ctx.results.iter().all(|item| item.result.is_err());
        if !all_refused {
            self.state.clock = Some(now);
        }
        self.state.announce_positions(&mut ctx);
        Ok(Outcome {
            events: ctx.events,
            results: ctx.results,
            next_deadline: self.next_deadline(),
        })
    }

    /// When the host should send the next [`Command::Tick`]: the earliest armed deadline
    /// (snooze ends, reply-goal warnings and breaches, inactivity reminders and ends), exact;
    /// `None` while nothing is scheduled. O(1).
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.state.next_deadline()
    }

    /// The engine's clock: the time of the latest successful command.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.state.clock
    }

    /// The engine's config.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// A conversation, or `None` if unknown: by its id or a `&str` (`engine.conversation("c1")`,
    /// no allocation). O(log n), plus O(min(ahead, behind)) for the position of a queued one.
    pub fn conversation<Q>(&self, id: &Q) -> Option<ConversationView>
    where
        ConversationId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let c = *self.state.conv_ids.get(id)?;
        Some(self.conversation_view(self.state.conv(c)))
    }

    fn conversation_view(&self, conv: &Conversation) -> ConversationView {
        let state = &self.state;
        let holder = |agent: &AgentKey| state.agent(*agent).id.clone();
        let (view_state, finished_at) = match &conv.phase {
            Phase::Routing | Phase::Queued => (ConversationState::Queued, None),
            Phase::Pooled => (ConversationState::Pooled, None),
            Phase::Snoozed { agent, until } => (
                ConversationState::Snoozed {
                    agent: holder(agent),
                    until: *until,
                },
                None,
            ),
            Phase::Active { agent } => (
                ConversationState::Active {
                    agent: holder(agent),
                },
                None,
            ),
            Phase::Offered { agent, expires } => (
                ConversationState::Offered {
                    agent: holder(agent),
                    expires: *expires,
                },
                None,
            ),
            Phase::Abandoned { at } => (ConversationState::Abandoned, Some(*at)),
            Phase::TurnedAway { at, reason } => {
                (ConversationState::TurnedAway { reason: *reason }, Some(*at))
            }
            Phase::LeftMessage { at } => (ConversationState::LeftMessage, Some(*at)),
            Phase::Ended { at, reason, agent } => (
                ConversationState::Ended {
                    reason: *reason,
                    agent: agent.clone(),
                },
                Some(*at),
            ),
        };
        let waiting_since = conv
            .phase
            .is_waiting()
            .then(|| conv.waiting_since.unwrap_or(conv.arrived_at));
        ConversationView {
            id: conv.id.clone(),
            visitor: conv.visitor.clone(),
            group: state
                .group_names
                .get(&conv.group)
                .expect("every conversation's group is in the group names")
                .clone(),
            priority: conv.priority,
            kind: conv.kind.clone(),
            state: view_state,
            position: state.position(conv),
            estimated_wait: state.estimated_wait(conv),
            arrived_at: conv.arrived_at,
            waiting_since,
            first_assigned_at: conv.first_assigned_at,
            finished_at,
            designated: conv.designation().cloned(),
            stage: conv.stage_index(),
            requires: conv.stage().map(|s| s.require.clone()).unwrap_or_default(),
        }
    }

    /// The estimated wait of a queued conversation (R-B2); `None` if it is not queued or its
    /// group has not yet served two conversations from its queue.
    ///
    /// The estimator is the engine's own recent service rate: each group remembers when its
    /// latest 20 conversations left its queue for an agent. With `n` such instants spanning
    /// `T`, the group serves one waiting conversation every `T / (n - 1)` on average, so the
    /// conversation at position `p` waits about `p · T / (n - 1)`. It adapts within 20
    /// services to a change in staffing, needs no handling-time input, and says nothing (None)
    /// rather than guess before two services.
    ///
    /// A conversation that waits is never told zero (R-DY6): the mean interval counts at
    /// least one second, so the conversation at position `p` is told at least `p` seconds,
    /// also right after a burst of services at one instant (an agent coming online takes
    /// several at once, and `T` is zero). The estimate saturates at the span of chrono's
    /// range of instants (about 524,000 years) and never panics (R-C5).
    pub fn estimated_wait<Q>(&self, id: &Q) -> Option<Duration>
    where
        ConversationId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let c = *self.state.conv_ids.get(id)?;
        self.state.estimated_wait(self.state.conv(c))
    }

    /// An agent, or `None` if unknown: by its id or a `&str`. O(log agents + held + kinds).
    pub fn agent<Q>(&self, id: &Q) -> Option<AgentView>
    where
        AgentId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let state = &self.state;
        let agent = state.agent(*state.agent_ids.get(id)?);
        let kinds = state
            .kinds
            .iter()
            .filter_map(|(k, kind)| {
                let count = agent.count_of(k);
                (count > 0).then(|| KindLoad {
                    kind: kind.id.clone(),
                    count,
                    units: u32::try_from(u64::from(count) * u64::from(kind.cost))
                        .unwrap_or(u32::MAX),
                })
            })
            .collect();
        Some(AgentView {
            id: agent.id.clone(),
            status: agent.status.clone(),
            load: u32::try_from(agent.load).unwrap_or(u32::MAX),
            limit: agent.effective_limit,
            free_units: u32::try_from(u64::from(agent.effective_limit).saturating_sub(agent.load))
                .unwrap_or(u32::MAX),
            kinds,
            groups: agent
                .groups
                .iter()
                .map(|m| Membership::with_rank(state.group(m.group).id.clone(), m.rank))
                .collect(),
            conversations: agent.held().map(|c| state.conv(c).id.clone()).collect(),
            assigned_total: agent.assigned_total,
            schedules: agent
                .schedules
                .iter()
                .map(|s| state.schedule(*s).spec.schedule.clone())
                .collect(),
            on_duty: agent.on_duty,
            skills: agent.skills.clone(),
        })
    }

    /// Every agent's id, in registration order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentId> + '_ {
        self.state.agents.values().map(|a| &a.id)
    }

    /// An agent's status, or `None` if unknown: by its id or a `&str`.
    pub fn agent_status<Q>(&self, id: &Q) -> Option<&AgentStatus>
    where
        AgentId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let a = *self.state.agent_ids.get(id)?;
        Some(&self.state.agent(a).status)
    }

    /// The conversations an agent holds, in arrival order; `None` if the agent is unknown. By
    /// its id or a `&str`.
    pub fn agent_conversations<Q>(
        &self,
        id: &Q,
    ) -> Option<impl Iterator<Item = &ConversationId> + '_>
    where
        AgentId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let a = *self.state.agent_ids.get(id)?;
        Some(self.state.agent(a).held().map(|c| &self.state.conv(c).id))
    }

    /// A group, or `None` if unknown: by its id or a `&str`. O(members).
    pub fn group<Q>(&self, id: &Q) -> Option<GroupView>
    where
        GroupId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let state = &self.state;
        let group = state.group(*state.group_ids.get(id)?);
        Some(GroupView {
            id: group.id.clone(),
            strategy: group.strategy,
            limit: group.limit,
            agent_cap: group.agent_cap,
            members: group
                .members
                .iter()
                .map(|a| state.agent(*a).id.clone())
                .collect(),
            waiting: group.queue.len(),
        })
    }

    /// Every group's id, in registration order.
    pub fn groups(&self) -> impl Iterator<Item = &GroupId> + '_ {
        self.state.groups.values().map(|g| &g.id)
    }

    /// A group's queue, best first: the order in which its agents take waiting work. It holds
    /// the group's own conversations, those that designated it and those that overflowed into
    /// it. In asynchronous mode these are the group's part of the unassigned pool, in pool
    /// order ([`Engine::pool`] lists them all). Conversations past the redirect limit, which
    /// wait for an admin and which no agent takes automatically, come after all the others,
    /// in the same order among themselves; a queued one's position counts from there (behind
    /// every live one, so it grows as live ones arrive ahead of it). `None` if the group is
    /// unknown. Lazy: O(log n) to start, O(1) per item. By the group's id or a `&str`.
    pub fn queue<Q>(&self, id: &Q) -> Option<impl Iterator<Item = &ConversationId> + '_>
    where
        GroupId: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let g = *self.state.group_ids.get(id)?;
        Some(
            self.state
                .group(g)
                .queue
                .iter()
                .map(|k| &self.state.conv(k.conv).id),
        )
    }

    /// The unassigned pool in pool order ([`Config::pool_order`]), conversations past the
    /// redirect limit last (as in [`Engine::queue`]); empty in real-time mode. Lazy: O(1) per
    /// item.
    pub fn pool(&self) -> impl Iterator<Item = &ConversationId> + '_ {
        let pooled = self.state.config.mode == crate::config::ReceptionMode::Asynchronous;
        self.state
            .waiting
            .iter()
            .filter(move |_| pooled)
            .map(|k| &self.state.conv(k.conv).id)
    }

    /// The snoozed bucket (R-Z1): snoozed conversations, the soonest to wake first, with the
    /// time each wakes. Lazy: O(1) per item.
    pub fn snoozed(&self) -> impl Iterator<Item = (&ConversationId, DateTime<Utc>)> + '_ {
        self.state
            .snoozed
            .iter()
            .map(|(until, c)| (&self.state.conv(*c).id, *until))
    }

    /// Every known conversation's id (open and finished, until forgotten), in storage order:
    /// arrival order until conversations are forgotten, whose places are then reused.
    pub fn conversations(&self) -> impl Iterator<Item = &ConversationId> + '_ {
        self.state.conversations.values().map(|c| &c.id)
    }

    /// Running counters and current gauges.
    pub fn counters(&self) -> &Counters {
        &self.state.counters
    }

    /// The whole state, for storage (R-C6). O(size of the state).
    ///
    /// # Example
    ///
    /// Store the snapshot with any serde format; the restored engine continues exactly as the
    /// original would.
    ///
    /// ```
    /// use chrono::{DateTime, TimeDelta, Utc};
    /// use switchboard::{AgentSpec, AgentStatus, Arrival, Command, Config, Engine, GroupSpec};
    ///
    /// let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
    /// let mut engine = Engine::new(Config::default())?;
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support")))?;
    /// let ana = AgentSpec::new("ana").status(AgentStatus::Online).limit(1).group("support");
    /// engine.handle(t0, Command::RegisterAgent(ana))?;
    /// for (c, v) in [("c1", "v1"), ("c2", "v2")] {
    ///     engine.handle(t0, Command::VisitorArrives(Arrival::new(c, v, "support")))?;
    /// }
    ///
    /// let stored: String = serde_json::to_string(&engine.snapshot())?;
    /// let mut restored = Engine::restore(serde_json::from_str(&stored)?)?;
    ///
    /// // The same command gives the same outcome: ana finishes c1 and takes c2.
    /// let end = Command::EndConversations {
    ///     conversations: vec!["c1".into()],
    ///     reason: switchboard::EndReason::Agent,
    /// };
    /// let later = t0 + TimeDelta::minutes(4);
    /// let original = engine.handle(later, end.clone())?;
    /// assert_eq!(restored.handle(later, end)?, original);
    /// assert_eq!(restored.counters(), engine.counters());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            state: Some(self.state.clone()),
        }
    }

    /// An engine that continues exactly where the snapshot's engine stopped: the same commands
    /// then give the same events (R-C6). Rebuilds every index, O(n log n + a · g · K · log a).
    ///
    /// # Errors
    /// [`Error::UnsupportedSnapshot`] for another format version; [`Error::CorruptSnapshot`],
    /// naming what contradicts what, when its config is invalid or its parts contradict each
    /// other: a key that names nothing or is filed twice, an open conversation of a kind its
    /// config does not define, a group cap of 0, a phase the reception mode cannot have, a
    /// timer that does not fit its owner or its owner's phase (or two in one slot), a
    /// sequence number or counter at 2⁶² or beyond, an instant after the engine's clock. A
    /// snapshot that restores is one this crate could have written, so that no later command
    /// panics on it (R-C5).
    ///
    /// # Example
    ///
    /// A snapshot of another format version is refused, not misread (see
    /// [`Engine::snapshot`] for a round trip).
    ///
    /// ```
    /// use switchboard::{Config, Engine, Error, SNAPSHOT_VERSION};
    ///
    /// let engine = Engine::new(Config::default())?;
    /// let mut snapshot = engine.snapshot();
    /// assert_eq!(snapshot.version, SNAPSHOT_VERSION);
    /// assert!(Engine::restore(snapshot.clone()).is_ok());
    ///
    /// snapshot.version = SNAPSHOT_VERSION + 1;
    /// let error = Engine::restore(snapshot).unwrap_err();
    /// assert!(matches!(error,
    ///     Error::UnsupportedSnapshot { found, .. } if found == SNAPSHOT_VERSION + 1));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn restore(snapshot: Snapshot) -> Result<Self, Error> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(Error::UnsupportedSnapshot {
                found: snapshot.version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let Some(mut state) = snapshot.state else {
            return Err(Error::CorruptSnapshot {
                problem: "the snapshot has no state".to_owned(),
            });
        };
        let corrupt = |problem: String| Error::CorruptSnapshot { problem };
        state
            .config
            .validate()
            .map_err(|e| corrupt(e.to_string()))?;
        state.reload().map_err(corrupt)?;
        state.check().map_err(corrupt)?;
        state.rebuild();
        Ok(Self { state })
    }
}
