//! A projection of the event stream: what a host that only listens to the events (and knows
//! the commands it sent) can tell about every conversation, agent and queue. Folding the
//! events of each command into it, event by event, is where the invariants that speak about
//! single decisions are checked: each assignment within the agent's limit (2), to an eligible
//! agent (3), out of the queue in order (5), nothing to a snoozed conversation (7), deadlines
//! not before their time and each once (8), no automatic assignment beyond any dimension of
//! capacity (11), no automatic assignment to an agent that lacks a required skill of the stage
//! in force (13), stages entered only at their time (14, with its check after each command).
//! Afterwards the projection must agree with the engine's own queries (10), no waiting
//! conversation may fit an eligible agent in every dimension (12), nor fit and qualify for one
//! (15).

use chrono::{DateTime, TimeDelta, Utc};
use switchboard::{
    AgentId, AgentStatus, AssignReason, Command, Config, ConversationId, ConversationState,
    Counters, EndReason, Engine, Event, GroupId, KindId, PoolOrder, ReceptionMode, Sender,
    SkillLevel, Stage, Target, WakeReason,
};

use super::{
    CLAIM_NAMED_NEEDS_SKILLS, Holding, KNOWN_BUG_1_OVERFLOW_REROUTE,
    KNOWN_BUG_7_STAGE_GROUP_LOST_WITH_DESIGNATION, Model, after, kind_of, level_of, misfit,
    paused_holds, qualifies,
};

/// Where a conversation is, as the events tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PState {
    Routing,
    Queued,
    Pooled,
    Offered(AgentId, DateTime<Utc>),
    Active(AgentId),
    Snoozed(AgentId, DateTime<Utc>),
    Abandoned,
    TurnedAway,
    LeftMessage,
    Ended,
}

impl PState {
    fn holder(&self) -> Option<&AgentId> {
        match self {
            PState::Offered(a, _) | PState::Active(a) | PState::Snoozed(a, _) => Some(a),
            _ => None,
        }
    }

    fn waiting(&self) -> bool {
        matches!(self, PState::Queued | PState::Pooled)
    }
}

#[derive(Clone, Debug)]
pub struct PConv {
    pub id: ConversationId,
    pub seq: u64,
    pub group: GroupId,
    pub priority: u8,
    /// Its kind of work, as its arrival told (R-K4).
    pub kind: KindId,
    pub arrived_at: DateTime<Utc>,
    /// The designation while it still routes (until first served).
    pub d_agent: Option<AgentId>,
    pub d_group: Option<GroupId>,
    pub excluded: Vec<AgentId>,
    pub overflow: Vec<GroupId>,
    pub stalled: bool,
    pub state: PState,
    /// The position it was last told (R-Q2).
    pub told: Option<u32>,
    /// When its maximum wait runs out, while queued.
    pub wait_ends: Option<DateTime<Utc>>,
    /// Turned away, then left a message (counted in both counters).
    pub left_after_turn_away: bool,
    /// The open reply goal was warned about (with the breach time it announced).
    pub warned: Option<DateTime<Utc>>,
    /// The open reply goal was breached.
    pub breached: bool,
    /// The visitor's current silence got its reminder (with the end time it announced).
    pub reminded: Option<Option<DateTime<Utc>>>,
    /// A snoozed conversation reassigned without waking (R-X1): its snooze's time, until the
    /// new agent's `ConversationSnoozed` reports it moved along.
    pub carried: Option<DateTime<Utc>>,
    /// Its stages, as its arrival gave them (R-SK2).
    pub stages: Option<Vec<Stage>>,
    /// The stage in force, as `StageAdvanced` tells it.
    pub stage: usize,
    /// The groups of the stages entered so far.
    pub stage_groups: Vec<GroupId>,
}

impl PConv {
    /// What the stage in force requires (nothing without stages).
    pub fn requires(&self) -> &[SkillLevel] {
        self.stages
            .as_ref()
            .and_then(|s| s.get(self.stage))
            .map_or(&[][..], |s| s.require.as_slice())
    }

    /// When stage `n` starts: arrival plus the durations of the stages before it (R-SK2).
    pub fn stage_start(&self, n: usize) -> DateTime<Utc> {
        let ms: u64 = self
            .stages
            .iter()
            .flatten()
            .take(n)
            .fold(0u64, |sum, s| sum.saturating_add(s.for_ms.unwrap_or(0)));
        self.arrived_at
            .checked_add_signed(TimeDelta::milliseconds(
                i64::try_from(ms).unwrap_or(i64::MAX),
            ))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The stage the clock says is in force at `now`: the last whose start has come.
    pub fn clock_stage(&self, now: DateTime<Utc>) -> usize {
        let n = self.stages.as_ref().map_or(0, Vec::len);
        (0..n)
            .rev()
            .find(|&s| self.stage_start(s) <= now)
            .unwrap_or(0)
    }

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

#[derive(Clone, Debug, Default)]
pub struct Projection {
    pub convs: Vec<PConv>,
    pub agents: Vec<(AgentId, AgentStatus)>,
    /// Agents on duty (R-W1), as `AgentDutyChanged` tells it.
    pub on_duty: Vec<AgentId>,
    seq: u64,
    /// Conversations that arrived, forgotten ones included.
    pub arrived: u64,
    /// Visitors who left a message after being turned away, forgotten ones included.
    pub left_after_turn_away: u64,
    /// The running counters, as the events account for them.
    pub counters: Counters,
}

/// What the fold needs to know about the command whose events it reads.
pub struct Context<'a> {
    pub command: &'a Command,
    /// The engine's time for the command.
    pub now: DateTime<Utc>,
    /// The engine after the command (config, agents' groups and limits).
    pub engine: &'a Engine,
}

fn is_manual(reason: &AssignReason) -> bool {
    matches!(
        reason,
        AssignReason::Manual | AssignReason::ManualToGroup { .. }
    )
}

/// The order in which waiting work is served (R-Q1, R-P1), from what the events told.
pub fn wait_key(config: &Config, c: &PConv) -> (i128, u64) {
    let rank = match config.mode {
        ReceptionMode::RealTime => match config.queue.aging_step_secs {
            None => -i128::from(c.priority),
            Some(step) => {
                i128::from(c.arrived_at.timestamp_millis())
                    - i128::from(c.priority) * i128::from(step) * 1000
            }
        },
        ReceptionMode::Asynchronous => match config.pool_order {
            PoolOrder::OldestFirst => 0,
            PoolOrder::NewestFirst => -i128::from(c.seq),
            PoolOrder::PriorityThenOldest => -i128::from(c.priority),
            _ => unreachable!("a variant added after this test"),
        },
        _ => unreachable!("a variant added after this test"),
    };
    (rank, c.seq)
}

impl Projection {
    fn conv(&self, id: &ConversationId) -> Option<usize> {
        self.convs.iter().position(|c| &c.id == id)
    }

    fn conv_mut(&mut self, id: &ConversationId) -> Result<&mut PConv, String> {
        self.convs
            .iter_mut()
            .find(|c| &c.id == id)
            .ok_or_else(|| format!("an event names `{id}`, which never arrived"))
    }

    pub fn status(&self, agent: &AgentId) -> Option<&AgentStatus> {
        self.agents.iter().find(|(a, _)| a == agent).map(|(_, s)| s)
    }

    /// What the agent holds that holds units, as the events tell it (R-A3, R-K1..R-K3):
    /// offered and active conversations, and snoozed ones whose kind's paused work holds
    /// units.
    pub fn holding(&self, agent: &AgentId, config: &Config) -> Holding {
        let mut holding = Holding::default();
        for c in &self.convs {
            let spec = kind_of(config, &c.kind);
            let holds = match &c.state {
                PState::Offered(a, _) | PState::Active(a) => a == agent,
                PState::Snoozed(a, _) => {
                    a == agent && spec.as_ref().is_some_and(|k| paused_holds(config, k))
                }
                _ => false,
            };
            if holds {
                holding.add(&c.kind, spec.map_or(0, |k| k.cost), &c.group);
            }
        }
        holding
    }

    /// The agent's load in units as the events tell it (R-A3, R-K1).
    pub fn load(&self, agent: &AgentId, config: &Config) -> u32 {
        u32::try_from(self.holding(agent, config).units).unwrap_or(u32::MAX)
    }

    /// The first dimension in which the agent, of capacity `limit`, does not fit one more
    /// conversation `c` now, by what the events tell it holds (eligibility aside); the caps
    /// are the groups' as the engine reports them.
    pub fn misfit(
        &self,
        engine: &Engine,
        agent: &AgentId,
        limit: u32,
        c: &PConv,
    ) -> Option<&'static str> {
        let config = engine.config();
        let cap = engine.group(&c.group).and_then(|g| g.agent_cap);
        misfit(
            config,
            limit,
            &self.holding(agent, config),
            &c.kind,
            &c.group,
            cap,
        )
    }

    /// Folds one command's events, checking each decision as it comes.
    pub fn apply(&mut self, ctx: &Context, events: &[Event]) -> Result<(), String> {
        let tick = matches!(ctx.command, Command::Tick);
        // An agent reply meets the reply goal and starts a new silence; a config change may
        // close goals and open new ones later: what fired before may fire again.
        match ctx.command {
            Command::Message {
                conversation,
                from: Sender::AgentReply,
            } => {
                let c = self.conv_mut(conversation)?;
                (c.warned, c.breached, c.reminded) = (None, false, None);
            }
            Command::UpdateConfig(_) | Command::SetReceptionMode { .. } => {
                for c in &mut self.convs {
                    (c.warned, c.breached, c.reminded) = (None, false, None);
                }
            }
            _ => {}
        }
        for event in events {
            inv7_snoozed_conversations_have_no_timers(self, tick, event)?;
            inv8_deadlines_fire_on_tick_and_not_early(self, ctx, tick, event)?;
            inv2_automatic_assignment_within_limit(self, ctx, event)?;
            inv3_automatic_assignment_only_to_eligible_agents(self, ctx, event)?;
            inv5_queue_left_in_priority_order(self, ctx, event)?;
            inv11_no_dimension_over_capacity_automatically(self, ctx, event)?;
            inv13_automatic_assignment_only_to_qualified_agents(self, ctx, event)?;
            inv14_stage_advances_only_at_its_time(self, ctx, tick, event)?;
            self.fold(ctx, event)?;
        }
        if let Some(c) = self.convs.iter().find(|c| c.carried.is_some()) {
            return Err(format!(
                "{} was reassigned with its snooze, but no ConversationSnoozed followed",
                c.id
            ));
        }
        Ok(())
    }

    /// What each event adds to the running counters (`Counters` docs). A snooze that moved
    /// with its conversation (`moved`) is not a new one.
    fn count(&mut self, event: &Event, moved: bool) {
        let n = &mut self.counters;
        match event {
            Event::ConversationArrived { .. } => n.arrived += 1,
            Event::ConversationQueued { .. } => n.queued += 1,
            Event::ConversationPooled { .. } => n.pooled += 1,
            Event::ConversationAssigned { reason, .. }
            | Event::ConversationOffered { reason, .. } => {
                if is_manual(reason) {
                    n.assigned_manually += 1;
                } else {
                    n.assigned_automatically += 1;
                }
                if *reason == AssignReason::Claimed {
                    n.claimed += 1;
                }
                if matches!(event, Event::ConversationOffered { .. }) {
                    n.offers += 1;
                }
            }
            Event::ConversationTransferred { .. } => n.transferred += 1,
            Event::ConversationRequeued { .. } => n.requeued += 1,
            Event::ConversationAbandoned { .. } => n.abandoned += 1,
            Event::ConversationEnded { reason, .. } => {
                n.ended += 1;
                if *reason == EndReason::Inactivity {
                    n.ended_for_inactivity += 1;
                }
            }
            Event::ConversationSnoozed { .. } if !moved => n.snoozes += 1,
            Event::SlaWarning { .. } => n.sla_warnings += 1,
            Event::SlaBreached { .. } => n.sla_breaches += 1,
            Event::InactivityReminder { .. } => n.inactivity_reminders += 1,
            Event::OfferDeclined { .. } => {
                n.offers_declined += 1;
                n.redirects += 1;
            }
            Event::OfferExpired { .. } => {
                n.offers_expired += 1;
                n.redirects += 1;
            }
            Event::FirstReplyTimedOut { .. } => n.redirects += 1,
            Event::ConversationTurnedAway { .. } => n.turned_away += 1,
            Event::ConversationLeftMessage { .. } => n.left_message += 1,
            _ => {}
        }
    }

    fn fold(&mut self, ctx: &Context, event: &Event) -> Result<(), String> {
        let moved = match event {
            Event::ConversationSnoozed { conversation, .. } => self
                .conv(conversation)
                .is_some_and(|i| self.convs[i].carried.is_some()),
            _ => false,
        };
        self.count(event, moved);
        let config = ctx.engine.config();
        match event {
            Event::ConversationArrived {
                conversation,
                group,
                priority,
                kind,
                ..
            } => {
                let Command::VisitorArrives(arrival) = ctx.command else {
                    return Err(format!("{event:?} from {:?}", ctx.command));
                };
                self.seq += 1;
                self.arrived += 1;
                let (d_agent, d_group) = match &arrival.designated {
                    Some(Target::Agent(a)) => (Some(a.clone()), None),
                    Some(Target::Group(g)) => (None, Some(g.clone())),
                    None => (None, None),
                    _ => unreachable!("a variant added after this test"),
                };
                let stage_groups = arrival
                    .stages
                    .as_ref()
                    .and_then(|s| s.first())
                    .map(|s| s.groups.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|g| {
                        !KNOWN_BUG_7_STAGE_GROUP_LOST_WITH_DESIGNATION
                            || arrival.designated != Some(Target::Group(g.clone()))
                    })
                    .collect();
                self.convs.push(PConv {
                    stages: arrival.stages.clone(),
                    stage: 0,
                    stage_groups,
                    id: conversation.clone(),
                    seq: self.seq,
                    group: group.clone(),
                    priority: *priority,
                    kind: kind.clone(),
                    arrived_at: ctx.now,
                    d_agent,
                    d_group,
                    excluded: Vec::new(),
                    overflow: Vec::new(),
                    stalled: false,
                    state: PState::Routing,
                    told: None,
                    wait_ends: None,
                    left_after_turn_away: false,
                    warned: None,
                    breached: false,
                    reminded: None,
                    carried: None,
                });
            }
            Event::ConversationQueued {
                conversation,
                position,
                ..
            } => {
                let wait_ends = config.queue.max_wait_secs.map(|s| after(ctx.now, s));
                let c = self.conv_mut(conversation)?;
                c.state = PState::Queued;
                c.told = Some(*position);
                c.wait_ends = wait_ends;
            }
            Event::ConversationPooled { conversation, .. } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Pooled;
                c.told = None;
                c.wait_ends = None;
            }
            Event::QueuePositionChanged {
                conversation,
                position,
                ..
            } => self.conv_mut(conversation)?.told = Some(*position),
            Event::ConversationOffered {
                conversation,
                agent,
                expires_at,
                ..
            } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Offered(agent.clone(), *expires_at);
                c.d_agent = None;
                c.d_group = None;
                c.told = None;
            }
            Event::ConversationAssigned {
                conversation,
                agent,
                reason,
                ..
            } => {
                let group = match (ctx.command, reason) {
                    (
                        Command::AssignManually {
                            target: Target::Group(g),
                            ..
                        },
                        AssignReason::ManualToGroup { .. },
                    ) => Some(g.clone()),
                    _ => None,
                };
                let c = self.conv_mut(conversation)?;
                if is_manual(reason) {
                    // A manual assignment gives it a new home (R-X1).
                    c.overflow.clear();
                    c.stage_groups.clear();
                    c.stalled = false;
                    if let Some(g) = group {
                        c.group = g;
                    }
                }
                c.state = PState::Active(agent.clone());
                c.d_agent = None;
                c.d_group = None;
                c.told = None;
                (c.warned, c.breached, c.reminded) = (None, false, None);
            }
            Event::OfferAccepted {
                conversation,
                agent,
            } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Active(agent.clone());
                (c.warned, c.breached, c.reminded) = (None, false, None);
            }
            Event::SlaWarning {
                conversation,
                breach_at,
                ..
            } => self.conv_mut(conversation)?.warned = Some(*breach_at),
            Event::SlaBreached { conversation, .. } => self.conv_mut(conversation)?.breached = true,
            Event::InactivityReminder {
                conversation,
                end_at,
                ..
            } => self.conv_mut(conversation)?.reminded = Some(*end_at),
            Event::OfferDeclined {
                conversation,
                agent,
            }
            | Event::OfferExpired {
                conversation,
                agent,
                ..
            }
            | Event::FirstReplyTimedOut {
                conversation,
                agent,
            } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Routing;
                if !c.excluded.contains(agent) {
                    c.excluded.push(agent.clone());
                }
            }
            Event::OfferWithdrawn { conversation, .. }
            | Event::ConversationRequeued { conversation, .. } => {
                self.conv_mut(conversation)?.state = PState::Routing
            }
            Event::RedirectLimitReached { conversation, .. } => {
                self.conv_mut(conversation)?.stalled = true
            }
            Event::ConversationOverflowed {
                conversation,
                groups,
            } => self.conv_mut(conversation)?.overflow = groups.clone(),
            Event::StageAdvanced {
                conversation,
                stage,
                groups,
                ..
            } => {
                let c = self.conv_mut(conversation)?;
                c.stage = *stage as usize;
                // The stage's groups stay candidates (bug 7: only those it joined anew).
                let all = c
                    .stages
                    .as_ref()
                    .and_then(|s| s.get(c.stage))
                    .map(|s| s.groups.clone())
                    .unwrap_or_default();
                let joined = if KNOWN_BUG_7_STAGE_GROUP_LOST_WITH_DESIGNATION {
                    groups.clone()
                } else {
                    all
                };
                c.stage_groups.extend(joined);
            }
            Event::ConversationTurnedAway { conversation, .. } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::TurnedAway;
                c.told = None;
            }
            Event::ConversationLeftMessage { conversation } => {
                let c = self.conv_mut(conversation)?;
                c.left_after_turn_away = c.state == PState::TurnedAway;
                c.state = PState::LeftMessage;
                c.told = None;
                if c.left_after_turn_away {
                    self.left_after_turn_away += 1;
                }
            }
            Event::ConversationTransferred {
                conversation,
                from,
                to,
            } => {
                let manual = matches!(ctx.command, Command::AssignManually { .. });
                let c = self.conv_mut(conversation)?;
                // Still snoozed: it was not woken first, so its snooze moves along (R-X1).
                if let PState::Snoozed(_, until) = c.state {
                    c.carried = Some(until);
                }
                c.state = PState::Routing;
                c.d_agent = None;
                c.d_group = None;
                c.overflow.clear();
                c.stage_groups.clear();
                c.stalled = false;
                if let Target::Group(g) = to {
                    c.group = g.clone();
                }
                // The handing agent is never given it again automatically (R-X2).
                if !manual && !c.excluded.contains(from) {
                    c.excluded.push(from.clone());
                }
            }
            Event::ConversationAbandoned { conversation, .. } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Abandoned;
                c.told = None;
            }
            Event::ConversationEnded { conversation, .. } => {
                let c = self.conv_mut(conversation)?;
                c.state = PState::Ended;
                c.told = None;
            }
            Event::ConversationSnoozed {
                conversation,
                agent,
                until,
            } => {
                let c = self.conv_mut(conversation)?;
                if let Some(carried) = c.carried.take()
                    && carried != *until
                {
                    return Err(format!(
                        "{conversation} was snoozed until {carried} and moved to {agent}, who holds it snoozed until {until}"
                    ));
                }
                if !moved && !matches!(ctx.command, Command::Snooze { .. }) {
                    return Err(format!("{conversation} snoozed by {:?}", ctx.command));
                }
                c.state = PState::Snoozed(agent.clone(), *until);
            }
            Event::ConversationWoke {
                conversation,
                agent,
                ..
            } => {
                // The visitor's silence is timed afresh after a snooze.
                let c = self.conv_mut(conversation)?;
                c.state = PState::Active(agent.clone());
                c.reminded = None;
            }
            Event::ConversationForgotten { conversation } => {
                let i = self
                    .conv(conversation)
                    .ok_or_else(|| format!("forgot unknown `{conversation}`"))?;
                self.convs.remove(i);
            }
            Event::AgentRegistered { agent, .. } => {
                let Command::RegisterAgent(spec) = ctx.command else {
                    return Err(format!("{event:?} from {:?}", ctx.command));
                };
                self.agents.push((agent.clone(), spec.status.clone()));
            }
            Event::AgentDutyChanged { agent, on_duty } => {
                if self.status(agent).is_none() {
                    return Err(format!("duty of unknown agent `{agent}`"));
                }
                self.on_duty.retain(|a| a != agent);
                if *on_duty {
                    self.on_duty.push(agent.clone());
                }
            }
            Event::AgentRemoved { agent } => {
                self.agents.retain(|(a, _)| a != agent);
                self.on_duty.retain(|a| a != agent);
                // A new agent under the same id is another agent.
                for c in &mut self.convs {
                    c.excluded.retain(|a| a != agent);
                    if c.d_agent.as_ref() == Some(agent) {
                        c.d_agent = None;
                    }
                }
            }
            Event::AgentStatusChanged { agent, to, .. } => {
                let entry = self
                    .agents
                    .iter_mut()
                    .find(|(a, _)| a == agent)
                    .ok_or_else(|| format!("status of unknown agent `{agent}`"))?;
                entry.1 = to.clone();
            }
            _ => {}
        }
        // A finished conversation routes no more.
        for c in &mut self.convs {
            if matches!(
                c.state,
                PState::Abandoned | PState::TurnedAway | PState::LeftMessage | PState::Ended
            ) {
                c.d_agent = None;
                c.d_group = None;
                c.overflow.clear();
                c.stage_groups.clear();
            }
        }
        Ok(())
    }
}

// ---- invariants checked at each event ------------------------------------------------------

/// Invariant 2 (R-A4, R-A3): an automatic assignment or offer never takes an agent over its
/// limit; only a manual assignment may. The load it reports is the load the events account for.
pub fn inv2_automatic_assignment_within_limit(
    p: &Projection,
    ctx: &Context,
    event: &Event,
) -> Result<(), String> {
    let (conversation, agent, reason, load, limit) = match event {
        Event::ConversationAssigned {
            skills: _,
            conversation,
            agent,
            reason,
            load,
            limit,
            kind: _,
        }
        | Event::ConversationOffered {
            conversation,
            agent,
            reason,
            load,
            limit,
            ..
        } => (conversation, agent, reason, *load, *limit),
        _ => return Ok(()),
    };
    let config = ctx.engine.config();
    let before = p.load(agent, config);
    // A snooze that moves along counts toward the new agent's load as its kind's paused work
    // does; a conversation costs its kind's units (R-K1).
    let c = p
        .conv(conversation)
        .map(|i| &p.convs[i])
        .ok_or_else(|| format!("invariant 2: unknown {conversation}"))?;
    let carried = c.carried.is_some();
    let spec = kind_of(config, &c.kind)
        .ok_or_else(|| format!("invariant 2: {conversation} is of an unknown kind"))?;
    let added = if !carried || paused_holds(config, &spec) {
        spec.cost
    } else {
        0
    };
    if load != before + added {
        return Err(format!(
            "invariant 2: {conversation} to {agent} reports load {load}, but the agent held {before} before it (snooze carried: {carried})"
        ));
    }
    if !is_manual(reason) && load > limit {
        return Err(format!(
            "invariant 2: automatic assignment ({reason:?}) of {conversation} takes {agent} over its limit: {load}/{limit}"
        ));
    }
    Ok(())
}

/// Invariant 3 (R-S1, R-S2, R-M2, R-R2): an automatic assignment goes only to an agent that is
/// eligible (status, or any status under asynchronous all-agents allocation), not excluded from
/// the conversation, and a member of a group the layer that chose it names.
pub fn inv3_automatic_assignment_only_to_eligible_agents(
    p: &Projection,
    ctx: &Context,
    event: &Event,
) -> Result<(), String> {
    let (conversation, agent, reason) = match event {
        Event::ConversationAssigned {
            conversation,
            agent,
            reason,
            ..
        }
        | Event::ConversationOffered {
            conversation,
            agent,
            reason,
            ..
        } => (conversation, agent, reason),
        _ => return Ok(()),
    };
    if is_manual(reason) {
        return Ok(());
    }
    let config = ctx.engine.config();
    let status = p
        .status(agent)
        .ok_or_else(|| format!("invariant 3: {conversation} assigned to unknown agent {agent}"))?;
    if !Model::eligible_under(config, status, p.on_duty.contains(agent)) {
        return Err(format!(
            "invariant 3: {conversation} assigned automatically ({reason:?}) to {agent}, whose status {status:?} is not eligible (or is off duty)"
        ));
    }
    let c = &p.convs[p
        .conv(conversation)
        .ok_or_else(|| format!("invariant 3: unknown {conversation}"))?];
    let bypasses_exclusion = matches!(reason, AssignReason::Transfer | AssignReason::Claimed);
    if !bypasses_exclusion && c.excluded.contains(agent) {
        return Err(format!(
            "invariant 3: {conversation} assigned automatically ({reason:?}) to {agent}, who transferred, declined or missed it"
        ));
    }
    let groups: Vec<GroupId> = ctx
        .engine
        .agent(agent)
        .map(|a| a.groups.iter().map(|m| m.group.clone()).collect())
        .unwrap_or_default();
    let member = |g: &GroupId| groups.contains(g);
    let ok = match reason {
        AssignReason::DesignatedAgent => c.d_agent.as_ref() == Some(agent),
        AssignReason::DesignatedGroup { .. } => c.d_group.as_ref().is_some_and(member),
        AssignReason::Strategy { .. } | AssignReason::Redirect { .. } => member(&c.group),
        AssignReason::LastAgent => c.waiting_groups().iter().any(member),
        AssignReason::Drain { .. } => {
            c.d_agent.as_ref() == Some(agent) || c.waiting_groups().iter().any(member)
        }
        AssignReason::Overflow { group, .. } => {
            member(group) && (c.overflow.contains(group) || c.stage_groups.contains(group))
        }
        _ => true,
    };
    if !ok {
        return Err(format!(
            "invariant 3: {conversation} assigned ({reason:?}) to {agent}, not a member of the group that layer names (own {}, designated {:?}/{:?}, overflow {:?}; agent in {groups:?})",
            c.group, c.d_agent, c.d_group, c.overflow
        ));
    }
    Ok(())
}

/// Invariant 5 (R-Q1, R-D1): an agent that takes waiting work takes the best it may have:
/// first what designated it, then the smallest priority key among its groups' queues.
pub fn inv5_queue_left_in_priority_order(
    p: &Projection,
    ctx: &Context,
    event: &Event,
) -> Result<(), String> {
    let (conversation, agent) = match event {
        Event::ConversationAssigned {
            conversation,
            agent,
            reason: AssignReason::Drain { .. },
            ..
        }
        | Event::ConversationOffered {
            conversation,
            agent,
            reason: AssignReason::Drain { .. },
            ..
        } => (conversation, agent),
        _ => return Ok(()),
    };
    let config = ctx.engine.config();
    let taken = &p.convs[p
        .conv(conversation)
        .ok_or_else(|| format!("invariant 5: unknown {conversation}"))?];
    if !taken.state.waiting() {
        return Err(format!(
            "invariant 5: {agent} drained {conversation}, which was not waiting ({:?})",
            taken.state
        ));
    }
    let groups: Vec<GroupId> = ctx
        .engine
        .agent(agent)
        .map(|a| a.groups.iter().map(|m| m.group.clone()).collect())
        .unwrap_or_default();
    // What it may take: what fits it in every dimension before it takes it (R-K5) and what
    // it qualifies for (R-SK4).
    let limit = ctx.engine.agent(agent).map_or(0, |a| a.limit);
    let skills = ctx
        .engine
        .agent(agent)
        .map(|a| a.skills)
        .unwrap_or_default();
    let allowed = |c: &&PConv| {
        c.state.waiting()
            && !c.stalled
            && !c.excluded.contains(agent)
            && (c.d_agent.as_ref() == Some(agent)
                || c.waiting_groups().iter().any(|g| groups.contains(g)))
            && p.misfit(ctx.engine, agent, limit, c).is_none()
            && qualifies(&skills, c.requires())
    };
    let designated: Vec<&PConv> = p
        .convs
        .iter()
        .filter(allowed)
        .filter(|c| c.d_agent.as_ref() == Some(agent))
        .collect();
    let pool: Vec<&PConv> = if designated.is_empty() {
        p.convs.iter().filter(allowed).collect()
    } else {
        designated
    };
    let best = pool
        .iter()
        .min_by_key(|c| wait_key(config, c))
        .ok_or_else(|| {
            format!("invariant 5: {agent} drained {conversation}, which it may not take")
        })?;
    if best.id != *conversation {
        return Err(format!(
            "invariant 5: {agent} took {conversation} (priority {}, key {:?}) while {} (priority {}, key {:?}) waited ahead of it",
            taken.priority,
            wait_key(config, taken),
            best.id,
            best.priority,
            wait_key(config, best)
        ));
    }
    Ok(())
}

/// Invariant 7 (R-Z1, R-L1, R-L2): no reply-goal warning or breach, reminder, first-reply
/// timeout or automatic end happens to a snoozed conversation.
pub fn inv7_snoozed_conversations_have_no_timers(
    p: &Projection,
    tick: bool,
    event: &Event,
) -> Result<(), String> {
    let conversation = match event {
        Event::SlaWarning { conversation, .. }
        | Event::SlaBreached { conversation, .. }
        | Event::InactivityReminder { conversation, .. }
        | Event::FirstReplyTimedOut { conversation, .. } => conversation,
        // A host may end a conversation with reason inactivity itself; on a Tick it is the
        // engine's automatic end.
        Event::ConversationEnded {
            conversation,
            reason: EndReason::Inactivity,
            ..
        } if tick => conversation,
        _ => return Ok(()),
    };
    if let Some(i) = p.conv(conversation)
        && let PState::Snoozed(_, until) = &p.convs[i].state
    {
        return Err(format!(
            "invariant 7: {event:?} happened to {conversation} while snoozed until {until}"
        ));
    }
    Ok(())
}

/// Invariant 8, at each event (R-C2): what a deadline does happens only on `Tick`, not
/// before its time, and once (the projection must still be in the state the deadline ends).
pub fn inv8_deadlines_fire_on_tick_and_not_early(
    p: &Projection,
    ctx: &Context,
    tick: bool,
    event: &Event,
) -> Result<(), String> {
    let timed = matches!(
        event,
        Event::OfferExpired { .. }
            | Event::SlaWarning { .. }
            | Event::SlaBreached { .. }
            | Event::InactivityReminder { .. }
            | Event::FirstReplyTimedOut { .. }
            | Event::ConversationOverflowed { .. }
            | Event::ConversationWoke {
                reason: WakeReason::SnoozeEnded,
                ..
            }
    ) || matches!(event, Event::ConversationTurnedAway { reason, .. } if format!("{reason:?}") == "MaxWait");
    if timed && !tick {
        return Err(format!(
            "invariant 8: {event:?} happened on {:?}, not on a Tick",
            ctx.command
        ));
    }
    let state = |c: &ConversationId| p.conv(c).map(|i| &p.convs[i]);
    match event {
        Event::OfferExpired {
            conversation,
            agent,
            ..
        } => match state(conversation).map(|c| &c.state) {
            Some(PState::Offered(a, expires)) if a == agent && *expires <= ctx.now => Ok(()),
            other => Err(format!(
                "invariant 8: the offer of {conversation} to {agent} expired at {} but the events say {other:?}",
                ctx.now
            )),
        },
        Event::ConversationWoke {
            conversation,
            reason: WakeReason::SnoozeEnded,
            ..
        } => match state(conversation).map(|c| &c.state) {
            Some(PState::Snoozed(_, until)) if *until <= ctx.now => Ok(()),
            other => Err(format!(
                "invariant 8: {conversation} woke at {} for its snooze's end, but the events say {other:?}",
                ctx.now
            )),
        },
        Event::SlaWarning {
            conversation, goal, ..
        } => match state(conversation) {
            Some(c) if c.warned.is_some() => Err(format!(
                "invariant 8: a second {goal:?} warning for {conversation} at {} (the first announced a breach at {:?})",
                ctx.now, c.warned
            )),
            _ => Ok(()),
        },
        Event::SlaBreached {
            conversation, goal, ..
        } => match state(conversation) {
            Some(c) if c.breached => Err(format!(
                "invariant 8: {conversation}'s {goal:?} goal breached twice (again at {})",
                ctx.now
            )),
            Some(c) if c.warned.is_some_and(|t| ctx.now < t) => Err(format!(
                "invariant 8: {conversation}'s {goal:?} goal breached at {}, before the {:?} its warning announced",
                ctx.now, c.warned
            )),
            _ => Ok(()),
        },
        Event::InactivityReminder { conversation, .. } => match state(conversation) {
            Some(c) if c.reminded.is_some() => Err(format!(
                "invariant 8: a second inactivity reminder for {conversation} at {} in one silence",
                ctx.now
            )),
            _ => Ok(()),
        },
        Event::ConversationEnded {
            conversation,
            reason: EndReason::Inactivity,
            ..
        } if tick => match state(conversation).and_then(|c| c.reminded) {
            Some(Some(end_at)) if ctx.now < end_at => Err(format!(
                "invariant 8: {conversation} ended for inactivity at {}, before the {end_at} its reminder announced",
                ctx.now
            )),
            _ => Ok(()),
        },
        Event::ConversationTurnedAway { conversation, .. } if timed => match state(conversation) {
            Some(c) if c.state == PState::Queued && c.wait_ends.is_some_and(|t| t <= ctx.now) => {
                Ok(())
            }
            other => Err(format!(
                "invariant 8: {conversation} reached its maximum wait at {}, but the events say {:?}",
                ctx.now,
                other.map(|c| (&c.state, c.wait_ends))
            )),
        },
        _ => Ok(()),
    }
}

// ---- invariant 10: the events are a complete account ------------------------------------

fn engine_state(state: &ConversationState) -> PState {
    match state {
        ConversationState::Queued => PState::Queued,
        ConversationState::Pooled => PState::Pooled,
        ConversationState::Offered { agent, expires } => PState::Offered(agent.clone(), *expires),
        ConversationState::Active { agent } => PState::Active(agent.clone()),
        ConversationState::Snoozed { agent, until } => PState::Snoozed(agent.clone(), *until),
        ConversationState::Abandoned => PState::Abandoned,
        ConversationState::TurnedAway { .. } => PState::TurnedAway,
        ConversationState::LeftMessage => PState::LeftMessage,
        ConversationState::Ended { .. } => PState::Ended,
        _ => PState::Routing,
    }
}

/// Invariant 10 (R-C7, R-Q2): folding the events gives the same conversations and states,
/// agents' statuses, conversations and loads, queue and pool contents, snoozed bucket and
/// announced queue positions as the engine's own queries.
pub fn inv10_events_are_a_complete_account(p: &Projection, engine: &Engine) -> Result<(), String> {
    let config = engine.config();
    // Listed in storage order, which forgetting makes differ from arrival order.
    let mut ids: Vec<ConversationId> = engine.conversations().cloned().collect();
    ids.sort();
    let mut projected: Vec<ConversationId> = p.convs.iter().map(|c| c.id.clone()).collect();
    projected.sort();
    if ids != projected {
        return Err(format!(
            "invariant 10: the engine knows conversations {ids:?}, the events account for {projected:?}"
        ));
    }
    for c in &p.convs {
        let view = engine.conversation(&c.id).expect("listed");
        let state = engine_state(&view.state);
        if state != c.state {
            return Err(format!(
                "invariant 10: {} is {:?} by the engine's query, {:?} by the events",
                c.id, view.state, c.state
            ));
        }
        if view.group != c.group {
            return Err(format!(
                "invariant 10: {} belongs to {} by the query, {} by the events",
                c.id, view.group, c.group
            ));
        }
    }
    // The running counters are the events counted (the gauges are invariant 1's).
    let mut counters = engine.counters().clone();
    (
        counters.waiting,
        counters.active,
        counters.snoozed,
        counters.offered,
    ) = (0, 0, 0, 0);
    if counters != p.counters {
        return Err(format!(
            "invariant 10: the engine counts {counters:?}, the events {:?}",
            p.counters
        ));
    }
    let agents: Vec<AgentId> = engine.agents().cloned().collect();
    let projected: Vec<AgentId> = p.agents.iter().map(|(a, _)| a.clone()).collect();
    if agents != projected {
        return Err(format!(
            "invariant 10: agents {agents:?} by the query, {projected:?} by the events"
        ));
    }
    for (id, status) in &p.agents {
        let view = engine.agent(id).expect("listed");
        if &view.status != status {
            return Err(format!(
                "invariant 10: {id} is {:?} by the query, {status:?} by the events",
                view.status
            ));
        }
        if view.on_duty != p.on_duty.contains(id) {
            return Err(format!(
                "invariant 10: {id} is on duty: {} by the query, {} by the events",
                view.on_duty, !view.on_duty
            ));
        }
        let held: Vec<ConversationId> = p
            .convs
            .iter()
            .filter(|c| c.state.holder() == Some(id))
            .map(|c| c.id.clone())
            .collect();
        if view.conversations != held {
            return Err(format!(
                "invariant 10: {id} holds {:?} by the query, {held:?} by the events",
                view.conversations
            ));
        }
        let load = p.load(id, config);
        if view.load != load {
            return Err(format!(
                "invariant 10: {id} has load {} by the query, {load} by the events",
                view.load
            ));
        }
    }
    let n = config.queue.announce_positions as usize;
    for g in engine.groups() {
        let queue: Vec<ConversationId> = engine.queue(g).expect("listed").cloned().collect();
        let mut own: Vec<ConversationId> = queue
            .iter()
            .filter(|id| engine.conversation(*id).is_some_and(|v| &v.group == g))
            .cloned()
            .collect();
        own.sort();
        let mut projected: Vec<ConversationId> = p
            .convs
            .iter()
            .filter(|c| &c.group == g && c.state.waiting())
            .map(|c| c.id.clone())
            .collect();
        projected.sort();
        if own != projected {
            return Err(format!(
                "invariant 10: {g}'s queue holds {own:?} of its own by the query, {projected:?} by the events"
            ));
        }
        // R-Q2: the first N of each queue know their position.
        for (i, id) in queue.iter().enumerate().take(n) {
            let c = &p.convs[p.conv(id).expect("checked above")];
            if &c.group == g && c.state == PState::Queued && c.told != Some(i as u32 + 1) {
                return Err(format!(
                    "invariant 10: {id} is at position {} of {g}, but was last told {:?}",
                    i + 1,
                    c.told
                ));
            }
        }
    }
    let mut pool: Vec<ConversationId> = engine.pool().cloned().collect();
    pool.sort();
    let mut projected: Vec<ConversationId> = p
        .convs
        .iter()
        .filter(|c| c.state == PState::Pooled)
        .map(|c| c.id.clone())
        .collect();
    projected.sort();
    if pool != projected {
        return Err(format!(
            "invariant 10: the pool holds {pool:?} by the query, {projected:?} by the events"
        ));
    }
    let mut snoozed: Vec<(ConversationId, DateTime<Utc>)> =
        engine.snoozed().map(|(c, t)| (c.clone(), t)).collect();
    snoozed.sort();
    let mut projected: Vec<(ConversationId, DateTime<Utc>)> = p
        .convs
        .iter()
        .filter_map(|c| match &c.state {
            PState::Snoozed(_, until) => Some((c.id.clone(), *until)),
            _ => None,
        })
        .collect();
    projected.sort();
    if snoozed != projected {
        return Err(format!(
            "invariant 10: the snoozed bucket is {snoozed:?} by the query, {projected:?} by the events"
        ));
    }
    Ok(())
}

/// Invariant 4 (R-Q4): after every command no waiting conversation has an eligible agent with
/// room that may take it. The documented exceptions: an agent excluded from the conversation
/// (it transferred it away, declined or missed it) and a conversation past the redirect limit.
///
/// While [`KNOWN_BUG_1_OVERFLOW_REROUTE`] is set, an agent that could take the conversation
/// only through an overflow group it joined earlier is not counted (engine bug 1, see
/// `rerouted_overflowed_conversation_goes_to_an_overflow_agent_with_room`).
///
/// It counts room as a number of conversations below the limit, so it speaks for desks
/// without kinds or group caps; invariant 12 speaks for every desk, per dimension.
pub fn inv4_work_conservation(p: &Projection, engine: &Engine) -> Result<(), String> {
    let config = engine.config();
    if !config.kinds.is_empty()
        || engine
            .groups()
            .any(|g| engine.group(g).is_some_and(|g| g.agent_cap.is_some()))
    {
        return Ok(());
    }
    // Skilled work is invariant 15's.
    let waiting = p
        .convs
        .iter()
        .filter(|c| c.state.waiting() && !c.stalled && c.requires().is_empty());
    for c in waiting {
        let groups = c.waiting_groups();
        let direct: Vec<&GroupId> = [&c.group].into_iter().chain(c.d_group.iter()).collect();
        for id in engine.agents() {
            let a = engine.agent(id).expect("listed");
            let only_by_overflow = !a.groups.iter().any(|m| direct.contains(&&m.group))
                && c.d_agent.as_ref() != Some(id);
            let could = Model::eligible_under(config, &a.status, a.on_duty)
                && a.load < a.limit
                && !c.excluded.contains(id)
                && (c.d_agent.as_ref() == Some(id)
                    || a.groups.iter().any(|m| groups.contains(&m.group)))
                && !(KNOWN_BUG_1_OVERFLOW_REROUTE && only_by_overflow);
            if could {
                return Err(format!(
                    "invariant 4: {} waits ({:?}, groups {groups:?}) while {id} is {:?} with room ({}/{}) in {:?}",
                    c.id,
                    c.state,
                    a.status,
                    a.load,
                    a.limit,
                    a.groups
                        .iter()
                        .map(|m| m.group.as_str())
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    Ok(())
}

/// Invariant 1 (conservation): every conversation that arrived and was not forgotten is in
/// exactly one place (its group's queue, the pool, one agent, or finished), the queries agree
/// on it, and the counters add up.
pub fn inv1_conservation(p: &Projection, engine: &Engine) -> Result<(), String> {
    let realtime = engine.config().mode == ReceptionMode::RealTime;
    let pool: Vec<ConversationId> = engine.pool().cloned().collect();
    let snoozed: Vec<ConversationId> = engine.snoozed().map(|(c, _)| c.clone()).collect();
    let agents: Vec<(AgentId, Vec<ConversationId>)> = engine
        .agents()
        .map(|a| (a.clone(), engine.agent(a).expect("listed").conversations))
        .collect();
    let (mut waiting, mut active, mut snoozing, mut offered) = (0u64, 0u64, 0u64, 0u64);
    let (mut ended, mut abandoned, mut turned, mut left) = (0u64, 0, 0, 0);
    for id in engine.conversations() {
        let view = engine.conversation(id).expect("listed");
        let in_queue = realtime
            && engine
                .queue(&view.group)
                .is_some_and(|mut q| q.any(|c| c == id));
        let in_pool = pool.contains(id);
        let holders: Vec<&AgentId> = agents
            .iter()
            .filter(|(_, held)| held.contains(id))
            .map(|(a, _)| a)
            .collect();
        let finished = matches!(
            view.state,
            ConversationState::Abandoned
                | ConversationState::TurnedAway { .. }
                | ConversationState::LeftMessage
                | ConversationState::Ended { .. }
        );
        let places =
            usize::from(in_queue) + usize::from(in_pool) + holders.len() + usize::from(finished);
        if places != 1 {
            return Err(format!(
                "invariant 1: {id} ({:?}) is in {places} places: queue {in_queue}, pool {in_pool}, agents {holders:?}, finished {finished}",
                view.state
            ));
        }
        let consistent = match &view.state {
            ConversationState::Queued => in_queue && realtime,
            ConversationState::Pooled => in_pool,
            ConversationState::Offered { agent, .. }
            | ConversationState::Active { agent }
            | ConversationState::Snoozed { agent, .. } => holders == [agent],
            _ => finished,
        };
        let in_bucket = snoozed.contains(id);
        if !consistent || in_bucket != matches!(view.state, ConversationState::Snoozed { .. }) {
            return Err(format!(
                "invariant 1: {id} is {:?} but found in queue {in_queue}, pool {in_pool}, agents {holders:?}, snoozed bucket {in_bucket}",
                view.state
            ));
        }
        if (view.position.is_some()) != matches!(view.state, ConversationState::Queued) {
            return Err(format!(
                "invariant 1: {id} is {:?} with position {:?}",
                view.state, view.position
            ));
        }
        match &view.state {
            ConversationState::Queued | ConversationState::Pooled => waiting += 1,
            ConversationState::Active { .. } => active += 1,
            ConversationState::Snoozed { .. } => snoozing += 1,
            ConversationState::Offered { .. } => offered += 1,
            ConversationState::Ended { .. } => ended += 1,
            ConversationState::Abandoned => abandoned += 1,
            ConversationState::TurnedAway { .. } => turned += 1,
            ConversationState::LeftMessage => left += 1,
            _ => {}
        }
    }
    let counters = engine.counters();
    let gauges = (
        counters.waiting,
        counters.active,
        counters.snoozed,
        counters.offered,
    );
    if gauges != (waiting, active, snoozing, offered) {
        return Err(format!(
            "invariant 1: counters say waiting/active/snoozed/offered {gauges:?}, the conversations {:?}",
            (waiting, active, snoozing, offered)
        ));
    }
    let held: usize = agents.iter().map(|(_, h)| h.len()).sum();
    if held as u64 != active + snoozing + offered {
        return Err(format!(
            "invariant 1: agents hold {held} conversations, but {active} are active, {snoozing} snoozed and {offered} offered"
        ));
    }
    for g in engine.groups() {
        let view = engine.group(g).expect("listed");
        let len = engine.queue(g).expect("listed").count();
        if view.waiting != len {
            return Err(format!(
                "invariant 1: {g} says {} wait, its queue lists {len}",
                view.waiting
            ));
        }
    }
    // Everything that arrived and is still known is open or finished exactly once.
    let known = engine.conversations().count() as u64;
    let open = waiting + active + snoozing + offered;
    let finished = ended + abandoned + turned + left;
    if open + finished != known {
        return Err(format!(
            "invariant 1: {known} conversations known, {open} open + {finished} finished"
        ));
    }
    if counters.arrived != p.arrived {
        return Err(format!(
            "invariant 1: {} arrivals counted, {} arrived",
            counters.arrived, p.arrived
        ));
    }
    // Every arrival is open now or finished once: ended, abandoned, turned away, or left a
    // message (a visitor turned away who then left a message is counted in both).
    let accounted =
        open + counters.ended + counters.abandoned + counters.turned_away + counters.left_message
            - p.left_after_turn_away;
    if accounted != counters.arrived {
        return Err(format!(
            "invariant 1: {} arrived, but {open} open + {} ended + {} abandoned + {} turned away + {} left a message (- {} counted twice) = {accounted}",
            counters.arrived,
            counters.ended,
            counters.abandoned,
            counters.turned_away,
            counters.left_message,
            p.left_after_turn_away
        ));
    }
    Ok(())
}

/// Invariant 11 (R-K1..R-K3, R-A4 per dimension): an automatic assignment or offer goes only to
/// an agent that fits the conversation in every dimension before it: its units plus the
/// kind's cost within its capacity, fewer than the kind's maximum of it, no held kind that
/// blocks it, and the units of the conversation's own group within that group's cap. Only a
/// manual assignment may go beyond, and then no automatic work of that dimension follows until
/// it fits again. Paused work counts where its kind's does.
pub fn inv11_no_dimension_over_capacity_automatically(
    p: &Projection,
    ctx: &Context,
    event: &Event,
) -> Result<(), String> {
    let (conversation, agent, reason, limit) = match event {
        Event::ConversationAssigned {
            conversation,
            agent,
            reason,
            limit,
            ..
        }
        | Event::ConversationOffered {
            conversation,
            agent,
            reason,
            limit,
            ..
        } => (conversation, agent, reason, *limit),
        _ => return Ok(()),
    };
    if is_manual(reason) {
        return Ok(());
    }
    let c = &p.convs[p
        .conv(conversation)
        .ok_or_else(|| format!("invariant 11: unknown {conversation}"))?];
    if let Some(dimension) = p.misfit(ctx.engine, agent, limit, c) {
        let holding = p.holding(agent, ctx.engine.config());
        return Err(format!(
            "invariant 11: automatic assignment ({reason:?}) of {conversation} (kind {}, group {}) to {agent} goes beyond its {dimension}: it holds {holding:?} of capacity {limit}",
            c.kind, c.group
        ));
    }
    Ok(())
}

/// Invariant 12 (R-K5, R-Q4): work conservation per kind. After every command no waiting
/// conversation fits, in every dimension (units, the kind's maximum, blocking, its group's
/// cap), an eligible agent that may take it: its designated agent, or a member of a group it
/// waits in, not excluded from it. Conversations past the redirect limit wait for an admin.
pub fn inv12_work_conservation_per_kind(p: &Projection, engine: &Engine) -> Result<(), String> {
    let config = engine.config();
    // Skilled work is invariant 15's.
    let waiting = p
        .convs
        .iter()
        .filter(|c| c.state.waiting() && !c.stalled && c.requires().is_empty());
    for c in waiting {
        let groups = c.waiting_groups();
        let direct: Vec<&GroupId> = [&c.group].into_iter().chain(c.d_group.iter()).collect();
        for id in engine.agents() {
            let a = engine.agent(id).expect("listed");
            let only_by_overflow = !a.groups.iter().any(|m| direct.contains(&&m.group))
                && c.d_agent.as_ref() != Some(id);
            let may = Model::eligible_under(config, &a.status, a.on_duty)
                && !c.excluded.contains(id)
                && (c.d_agent.as_ref() == Some(id)
                    || a.groups.iter().any(|m| groups.contains(&m.group)))
                && !(KNOWN_BUG_1_OVERFLOW_REROUTE && only_by_overflow);
            if may && p.misfit(engine, id, a.limit, c).is_none() {
                return Err(format!(
                    "invariant 12: {} (kind {}, group {}) waits ({:?}, groups {groups:?}) while {id} fits it in every dimension: it holds {:?} of capacity {}",
                    c.id,
                    c.kind,
                    c.group,
                    c.state,
                    p.holding(id, config),
                    a.limit
                ));
            }
        }
    }
    Ok(())
}

// ---- skills and stages (R-SK2..R-SK5) ---------------------------------------------------------

/// Invariant 13 (R-SK2, R-SK3): never an automatic assignment or offer (strategy, designated or
/// last agent, drain, redirect, overflow, claim of "the next") to an agent that lacks a
/// required skill of the stage in force, as the events tell the stage and the agent's view its
/// skills. Manual assignments and transfers to an agent ignore skills. The `skills` the event
/// carries says the same stage, and is present exactly for a conversation with stages (R-B1).
pub fn inv13_automatic_assignment_only_to_qualified_agents(
    p: &Projection,
    ctx: &Context,
    event: &Event,
) -> Result<(), String> {
    let (conversation, agent, reason, skills) = match event {
        Event::ConversationAssigned {
            conversation,
            agent,
            reason,
            skills,
            ..
        }
        | Event::ConversationOffered {
            conversation,
            agent,
            reason,
            skills,
            ..
        } => (conversation, agent, reason, skills),
        _ => return Ok(()),
    };
    let c = &p.convs[p
        .conv(conversation)
        .ok_or_else(|| format!("invariant 13: unknown {conversation}"))?];
    let held = ctx
        .engine
        .agent(agent)
        .map(|a| a.skills)
        .ok_or_else(|| format!("invariant 13: {conversation} assigned to unknown {agent}"))?;
    match (&c.stages, skills) {
        (None, None) => {}
        (Some(_), Some(m)) => {
            let expected: Vec<SkillLevel> = c
                .requires()
                .iter()
                .map(|r| SkillLevel::new(r.skill.clone(), level_of(&held, &r.skill)))
                .collect();
            if m.stage as usize != c.stage || m.required != expected {
                return Err(format!(
                    "invariant 13: {conversation} to {agent} reports {m:?}, but stage {} is in force and the agent's levels on what it requires are {expected:?}",
                    c.stage
                ));
            }
        }
        (stages, skills) => {
            return Err(format!(
                "invariant 13: {conversation} (stages {stages:?}) assigned to {agent} with skills {skills:?}"
            ));
        }
    }
    let named_claim = matches!(
        ctx.command,
        Command::Claim {
            conversation: Some(_),
            ..
        }
    ) && !CLAIM_NAMED_NEEDS_SKILLS;
    let ignores_skills = is_manual(reason)
        || (*reason == AssignReason::Transfer)
        || (*reason == AssignReason::Claimed && named_claim);
    if !ignores_skills && !qualifies(&held, c.requires()) {
        return Err(format!(
            "invariant 13: automatic assignment ({reason:?}) of {conversation} to {agent}, who holds {held:?}, while stage {} requires {:?}",
            c.stage,
            c.requires()
        ));
    }
    Ok(())
}

/// Invariant 14, at each event (R-SK2): a stage is entered only on a `Tick`, while the
/// conversation waits, one stage at a time, never before arrival plus the durations of the
/// stages before it; the event names what that stage requires and its groups.
pub fn inv14_stage_advances_only_at_its_time(
    p: &Projection,
    ctx: &Context,
    tick: bool,
    event: &Event,
) -> Result<(), String> {
    let Event::StageAdvanced {
        conversation,
        stage,
        requires,
        groups,
    } = event
    else {
        return Ok(());
    };
    let c = &p.convs[p
        .conv(conversation)
        .ok_or_else(|| format!("invariant 14: unknown {conversation}"))?];
    let n = *stage as usize;
    let Some(stages) = &c.stages else {
        return Err(format!(
            "invariant 14: {conversation}, which has no stages, entered stage {n}"
        ));
    };
    if !tick || !c.state.waiting() {
        return Err(format!(
            "invariant 14: {conversation} entered stage {n} on {:?} while {:?}",
            ctx.command, c.state
        ));
    }
    if n != c.stage + 1 || n >= stages.len() {
        return Err(format!(
            "invariant 14: {conversation} went from stage {} to {n} of {}",
            c.stage,
            stages.len()
        ));
    }
    let start = c.stage_start(n);
    if ctx.now < start {
        return Err(format!(
            "invariant 14: {conversation} entered stage {n} at {}, before its start {start}",
            ctx.now
        ));
    }
    // The stage's groups it did not wait in yet join, each once.
    let waiting = c.waiting_groups();
    let mut joining: Vec<GroupId> = Vec::new();
    for g in &stages[n].groups {
        let known = ctx.engine.group(g).is_some();
        if !waiting.contains(g) && !joining.contains(g) && known {
            joining.push(g.clone());
        }
    }
    if requires != &stages[n].require || groups != &joining {
        return Err(format!(
            "invariant 14: {conversation} entered stage {n} requiring {requires:?} with groups {groups:?}, but that stage is {:?} and it waits in {waiting:?}",
            stages[n]
        ));
    }
    Ok(())
}

/// Invariant 14, after each command (R-SK2, R-C7): the views show the stage the events told
/// (`None` without stages) and what it requires; no waiting conversation is in a stage later
/// than the clock says, and after a `Tick` every waiting one is in exactly the stage the clock
/// says (a stage that fell due while it was held is entered at the next `Tick`).
pub fn inv14_stages_in_force_follow_the_clock(
    p: &Projection,
    engine: &Engine,
    tick: bool,
) -> Result<(), String> {
    let Some(now) = engine.now() else {
        return Ok(());
    };
    for c in &p.convs {
        let view = engine
            .conversation(&c.id)
            .ok_or_else(|| format!("invariant 14: {} unknown to the engine", c.id))?;
        let told = c.stages.as_ref().map(|_| c.stage as u32);
        if view.stage != told || view.requires != c.requires() {
            return Err(format!(
                "invariant 14: {} is in stage {:?} requiring {:?} by the query, {told:?} requiring {:?} by the events",
                c.id,
                view.stage,
                view.requires,
                c.requires()
            ));
        }
        // Past the redirect limit it waits for an admin, its timeline stopped.
        if c.state.waiting() && !c.stalled {
            let clock = c.clock_stage(now);
            if c.stage > clock || (tick && c.stage != clock) {
                return Err(format!(
                    "invariant 14: {} waits in stage {} at {now}, the clock says stage {clock} (arrived {}, stages {:?})",
                    c.id, c.stage, c.arrived_at, c.stages
                ));
            }
        }
    }
    Ok(())
}

/// Invariant 15 (R-SK4, R-K5, R-Q4): work conservation with skills. After every command no
/// waiting conversation both fits, in every dimension, and qualifies by the skills of its stage
/// in force, an eligible agent that may take it: its designated agent, or a member of a group
/// it waits in (its own, a designated one, overflow groups joined, its stages' groups), not
/// excluded from it. Conversations past the redirect limit wait for an admin.
pub fn inv15_work_conservation_with_skills(p: &Projection, engine: &Engine) -> Result<(), String> {
    let config = engine.config();
    for c in p.convs.iter().filter(|c| c.state.waiting() && !c.stalled) {
        let groups = c.waiting_groups();
        let direct: Vec<&GroupId> = [&c.group].into_iter().chain(c.d_group.iter()).collect();
        for id in engine.agents() {
            let a = engine.agent(id).expect("listed");
            let only_by_overflow = !a.groups.iter().any(|m| direct.contains(&&m.group))
                && c.d_agent.as_ref() != Some(id);
            let may = Model::eligible_under(config, &a.status, a.on_duty)
                && !c.excluded.contains(id)
                && (c.d_agent.as_ref() == Some(id)
                    || a.groups.iter().any(|m| groups.contains(&m.group)))
                && !(KNOWN_BUG_1_OVERFLOW_REROUTE && only_by_overflow);
            if may
                && qualifies(&a.skills, c.requires())
                && p.misfit(engine, id, a.limit, c).is_none()
            {
                return Err(format!(
                    "invariant 15: {} (kind {}, group {}, stage {} requiring {:?}) waits ({:?}, groups {groups:?}) while {id}, holding {:?}, qualifies and fits it: it holds {:?} of capacity {}",
                    c.id,
                    c.kind,
                    c.group,
                    c.stage,
                    c.requires(),
                    c.state,
                    a.skills,
                    p.holding(id, config),
                    a.limit
                ));
            }
        }
    }
    Ok(())
}
