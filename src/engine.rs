//! The public face: [`Engine`], its one entry point, its queries, snapshot and restore.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::AgentStatus;
use crate::command::{Command, Membership};
use crate::config::Config;
use crate::conversation::{Conversation, ConversationState, Phase};
use crate::error::Error;
use crate::ids::{AgentId, ConversationId, GroupId};
use crate::outcome::{Ctx, Outcome};
use crate::store::State;
use crate::view::{AgentView, ConversationView, Counters, GroupView};

/// The routing engine: a deterministic state machine driven by [`Engine::handle`].
///
/// Cloning is a deep copy of the state, so a host can run what-if simulations from live state
/// (R-B3).
#[derive(Clone, Debug)]
pub struct Engine {
    state: State,
}

/// The version [`Engine::snapshot`] writes and [`Engine::restore`] reads.
pub const SNAPSHOT_VERSION: u32 = 2;

/// The engine's whole state, for storage (R-C6). Serialize it with any serde format; hand it
/// back to [`Engine::restore`] to continue exactly where it stopped. Derived indexes are not
/// stored; restore rebuilds them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot format's version ([`SNAPSHOT_VERSION`] when written by this build).
    pub version: u32,
    state: State,
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
        let mut state = State::new(Config::default());
        state.check_config(&config)?;
        state.config = config;
        Ok(Self { state })
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
    /// id, an invalid limit, priority or status, a conversation in a state that does not allow
    /// the operation, an empty batch, an operation of another reception mode. The engine is
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

    /// A conversation, or `None` if unknown. O(log n), plus O(min(ahead, behind)) for the
    /// position of a queued one.
    pub fn conversation(&self, id: &ConversationId) -> Option<ConversationView> {
        let c = *self.state.conv_ids.get(id)?;
        Some(self.conversation_view(self.state.conv(c)))
    }

    fn conversation_view(&self, conv: &Conversation) -> ConversationView {
        let state = &self.state;
        let now = state.clock.unwrap_or(conv.arrived_at);
        let (view_state, waited_until) = match &conv.phase {
            Phase::Routing | Phase::Queued => (ConversationState::Queued, now),
            Phase::Pooled => (ConversationState::Pooled, now),
            Phase::Snoozed { agent, until } => (
                ConversationState::Snoozed {
                    agent: state.agent(*agent).id.clone(),
                    until: *until,
                },
                conv.first_assigned_at.unwrap_or(now),
            ),
            Phase::Active { agent } => (
                ConversationState::Active {
                    agent: state.agent(*agent).id.clone(),
                },
                conv.first_assigned_at.unwrap_or(now),
            ),
            Phase::Offered { agent, expires } => (
                ConversationState::Offered {
                    agent: state.agent(*agent).id.clone(),
                    expires: *expires,
                },
                conv.first_assigned_at.unwrap_or(now),
            ),
            Phase::Abandoned { at } => (ConversationState::Abandoned, *at),
            Phase::TurnedAway { at, reason } => {
                (ConversationState::TurnedAway { reason: *reason }, *at)
            }
            Phase::LeftMessage { at } => (ConversationState::LeftMessage, *at),
            Phase::Ended { at, reason, agent } => (
                ConversationState::Ended {
                    reason: *reason,
                    agent: agent.clone(),
                },
                conv.first_assigned_at.unwrap_or(*at),
            ),
        };
        ConversationView {
            id: conv.id.clone(),
            visitor: conv.visitor.clone(),
            group: state
                .group_names
                .get(&conv.group)
                .expect("every conversation's group is in the group names")
                .clone(),
            priority: conv.priority,
            state: view_state,
            position: state.position(conv),
            estimated_wait: state.estimated_wait(conv),
            arrived_at: conv.arrived_at,
            waited: waited_until
                .signed_duration_since(conv.arrived_at)
                .to_std()
                .unwrap_or(Duration::ZERO),
            designated: conv.designation().cloned(),
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
    pub fn estimated_wait(&self, id: &ConversationId) -> Option<Duration> {
        let c = *self.state.conv_ids.get(id)?;
        self.state.estimated_wait(self.state.conv(c))
    }

    /// An agent, or `None` if unknown. O(log agents + held).
    pub fn agent(&self, id: &AgentId) -> Option<AgentView> {
        let state = &self.state;
        let agent = state.agent(*state.agent_ids.get(id)?);
        Some(AgentView {
            id: agent.id.clone(),
            status: agent.status.clone(),
            load: agent.load,
            limit: agent.effective_limit,
            groups: agent
                .groups
                .iter()
                .map(|m| Membership::with_priority(state.group(m.group).id.clone(), m.priority))
                .collect(),
            conversations: agent.held().map(|c| state.conv(c).id.clone()).collect(),
            assigned_total: agent.assigned_total,
            schedules: agent
                .schedules
                .iter()
                .map(|s| state.schedule(*s).spec.schedule.clone())
                .collect(),
            on_duty: agent.on_duty,
        })
    }

    /// Every agent's id, in registration order.
    pub fn agents(&self) -> impl Iterator<Item = &AgentId> + '_ {
        self.state.agents.values().map(|a| &a.id)
    }

    /// An agent's status, or `None` if unknown.
    pub fn agent_status(&self, id: &AgentId) -> Option<&AgentStatus> {
        let a = *self.state.agent_ids.get(id)?;
        Some(&self.state.agent(a).status)
    }

    /// The conversations an agent holds, in arrival order; `None` if the agent is unknown.
    pub fn agent_conversations(
        &self,
        id: &AgentId,
    ) -> Option<impl Iterator<Item = &ConversationId> + '_> {
        let a = *self.state.agent_ids.get(id)?;
        Some(self.state.agent(a).held().map(|c| &self.state.conv(c).id))
    }

    /// A group, or `None` if unknown. O(members).
    pub fn group(&self, id: &GroupId) -> Option<GroupView> {
        let state = &self.state;
        let group = state.group(*state.group_ids.get(id)?);
        Some(GroupView {
            id: group.id.clone(),
            strategy: group.strategy,
            limit: group.limit,
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
    /// order ([`Engine::pool`] lists them all). `None` if the group is unknown. Lazy: O(log n)
    /// to start, O(1) per item.
    pub fn queue(&self, id: &GroupId) -> Option<impl Iterator<Item = &ConversationId> + '_> {
        let g = *self.state.group_ids.get(id)?;
        Some(
            self.state
                .group(g)
                .queue
                .iter()
                .map(|k| &self.state.conv(k.conv).id),
        )
    }

    /// The unassigned pool in pool order ([`Config::pool_order`]); empty in real-time mode.
    /// Lazy: O(1) per item.
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
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            state: self.state.clone(),
        }
    }

    /// An engine that continues exactly where the snapshot's engine stopped: the same commands
    /// then give the same events (R-C6). Rebuilds every index, O(n log n).
    ///
    /// # Errors
    /// [`Error::UnsupportedSnapshot`] for another format version; [`Error::CorruptSnapshot`],
    /// naming what contradicts what, when its config is invalid or its parts contradict each
    /// other: a key that names nothing or is filed twice, a phase the reception mode cannot
    /// have, a timer that does not fit its owner or its owner's phase (or two in one slot), a
    /// sequence number or counter at 2⁶² or beyond, an instant after the engine's clock. A
    /// snapshot that restores is one this crate could have written, so that no later command
    /// panics on it (R-C5).
    pub fn restore(snapshot: Snapshot) -> Result<Self, Error> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(Error::UnsupportedSnapshot {
                found: snapshot.version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let mut state = snapshot.state;
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
