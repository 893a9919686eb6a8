//! The engine's state: primary tables that serialize, and the ordered indexes derived from
//! them, kept in step by a handful of operations (list an agent, queue a conversation, attach
//! it to an agent, ...).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::{Agent, Filed, Listing};
use crate::command::Stage;
use crate::config::{Config, ReceptionMode};
use crate::conversation::{Conversation, Phase};
use crate::ctx::Ctx;
use crate::event::{AssignReason, Event, PoolReason, ReplyGoal, SkillMatch};
use crate::group::Group;
use crate::group::SERVED_SAMPLES;
use crate::ids::{AgentId, ConversationId, GroupId, ScheduleId, SkillId, SkillLevel, VisitorId};
use crate::keys::{
    AgentKey, ConvKey, GroupKey, IdMap, KindKey, ReqKey, RouteKey, ScheduleKey, SkillKey,
};
use crate::kinds::Kinds;
use crate::routing::candidates::{CandKey, Candidates, Ratio};
use crate::routing::fit::{self, Misfit, Work};
use crate::routing::queue::Waiting;
use crate::routing::reqs::{ReqSet, Reqs, Skills};
use crate::routing::route::Route;
use crate::schedule::Schedule;
use crate::slab::Slab;
use crate::strategy::Strategy;
use crate::timers::timer::{Slot, Timer, TimerKind, after};
use crate::view::Counters;

mod check;

/// The agent who last served a visitor, and when (assignment, or end if it ended).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LastService {
    pub agent: AgentId,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct State {
    pub config: Config,
    pub clock: Option<DateTime<Utc>>,
    /// The last key handed out; keys start at 1.
    pub last_key: u64,
    /// The last assignment sequence number handed out.
    pub assignment_seq: u64,
    /// The last timer sequence number handed out.
    pub timer_seq: u64,
    pub agents: BTreeMap<AgentKey, Agent>,
    pub groups: BTreeMap<GroupKey, Group>,
    pub conversations: Slab<Conversation>,
    pub schedules: BTreeMap<ScheduleKey, Schedule>,
    /// Every group ever registered, removed ones included: finished conversations may name a
    /// group that is gone.
    pub group_names: BTreeMap<GroupKey, GroupId>,
    pub visitors: IdMap<VisitorId, LastService>,
    pub counters: Counters,
    #[serde(skip)]
    pub agent_ids: IdMap<AgentId, AgentKey>,
    #[serde(skip)]
    pub group_ids: IdMap<GroupId, GroupKey>,
    #[serde(skip)]
    pub conv_ids: IdMap<ConversationId, ConvKey>,
    #[serde(skip)]
    pub schedule_ids: IdMap<ScheduleId, ScheduleKey>,
    /// Every armed timer, earliest first.
    #[serde(skip)]
    pub timers: BTreeSet<Timer>,
    /// Every waiting conversation, queue or pool, in the current mode's order, the stalled
    /// ones apart.
    #[serde(skip)]
    pub waiting: Waiting,
    /// Every snoozed conversation, by the time its snooze ends.
    #[serde(skip)]
    pub snoozed: BTreeSet<(DateTime<Utc>, ConvKey)>,
    /// The config's kinds of work, compiled (R-K1).
    #[serde(skip)]
    pub kinds: Kinds,
    /// The config's skills, compiled (R-SK1).
    #[serde(skip)]
    pub skills: Skills,
    /// The requirement sets routing keys use (R-SK4).
    #[serde(skip)]
    pub reqs: Reqs,
    /// Every routing key's indexes (R-SK4), found through its group's `routes` or its
    /// agents' `routes`.
    #[serde(skip)]
    pub routes: Slab<Route>,
}

const AGENT: &str = "agent keys held anywhere refer to registered agents";
const GROUP: &str = "group keys held anywhere refer to registered groups";
const CONV: &str = "conversation keys held anywhere refer to known conversations";
const SCHEDULE: &str = "schedule keys held anywhere refer to defined schedules";
const ROUTE: &str = "an open conversation's routing keys exist in each group it waits in";

impl State {
    pub(crate) fn new(config: Config) -> Self {
        let kinds = Kinds::compile(&config);
        let skills = Skills::compile(&config);
        let mut waiting = Waiting::default();
        waiting.reset(kinds.len(), false);
        Self {
            kinds,
            skills,
            reqs: Reqs::default(),
            routes: Slab::default(),
            config,
            clock: None,
            last_key: 0,
            assignment_seq: 0,
            timer_seq: 0,
            agents: BTreeMap::new(),
            groups: BTreeMap::new(),
            conversations: Slab::default(),
            schedules: BTreeMap::new(),
            group_names: BTreeMap::new(),
            visitors: IdMap::default(),
            counters: Counters::default(),
            agent_ids: IdMap::default(),
            group_ids: IdMap::default(),
            conv_ids: IdMap::default(),
            schedule_ids: IdMap::default(),
            timers: BTreeSet::new(),
            waiting,
            snoozed: BTreeSet::new(),
        }
    }

    /// The ids of a held conversation and its agent, for events.
    pub(crate) fn conv_and_holder_ids(&self, c: ConvKey) -> (ConversationId, AgentId) {
        let conv = self.conv(c);
        let agent = conv
            .phase
            .holder()
            .expect("timers that name an agent run only on held conversations");
        (conv.id.clone(), self.agent(agent).id.clone())
    }

    pub(crate) fn next_key(&mut self) -> u64 {
        self.last_key += 1;
        self.last_key
    }

    pub(crate) fn agent(&self, a: AgentKey) -> &Agent {
        self.agents.get(&a).expect(AGENT)
    }

    pub(crate) fn agent_mut(&mut self, a: AgentKey) -> &mut Agent {
        self.agents.get_mut(&a).expect(AGENT)
    }

    pub(crate) fn group(&self, g: GroupKey) -> &Group {
        self.groups.get(&g).expect(GROUP)
    }

    pub(crate) fn group_mut(&mut self, g: GroupKey) -> &mut Group {
        self.groups.get_mut(&g).expect(GROUP)
    }

    pub(crate) fn conv(&self, c: ConvKey) -> &Conversation {
        self.conversations.get(c).expect(CONV)
    }

    pub(crate) fn conv_mut(&mut self, c: ConvKey) -> &mut Conversation {
        self.conversations.get_mut(c).expect(CONV)
    }

    /// Routing key `r`'s indexes.
    pub(crate) fn route_at(&self, r: RouteKey) -> &Route {
        self.routes.get(r).expect(ROUTE)
    }

    /// The routing key of group `g` for requirement set `r`, if it exists.
    pub(crate) fn route_of(&self, g: GroupKey, r: ReqKey) -> Option<RouteKey> {
        self.group(g).routes.get(&r).copied()
    }

    pub(crate) fn schedule(&self, s: ScheduleKey) -> &Schedule {
        self.schedules.get(&s).expect(SCHEDULE)
    }

    pub(crate) fn schedule_mut(&mut self, s: ScheduleKey) -> &mut Schedule {
        self.schedules.get_mut(&s).expect(SCHEDULE)
    }

    /// Whether a conversation holds units of its holder's capacity now (R-K2).
    pub(crate) fn holds_units(&self, conv: &Conversation) -> bool {
        conv.phase
            .holds_units(self.kinds.get(conv.kind_key).paused_holds)
    }

    // ---- agents' candidate indexes -------------------------------------------------------

    /// The limit that applies to an agent (R-A3): its own, else the largest of its groups',
    /// else the config's default.
    pub(crate) fn effective_limit(&self, agent: &Agent) -> u32 {
        agent
            .limit
            .or_else(|| {
                agent
                    .groups
                    .iter()
                    .filter_map(|m| self.group(m.group).limit)
                    .max()
            })
            .unwrap_or(self.config.default_limit)
    }

    /// Whether the agent may take automatic work: an assignable status, except in
    /// asynchronous mode with all agents as the target, where status is ignored (R-M2); and,
    /// with working-hours routing on, on duty (R-W2).
    pub(crate) fn eligible(&self, agent: &Agent) -> bool {
        fit::eligible(&self.config, agent)
    }

    /// The first dimension in which `agent` does not fit one more conversation of kind `kind`
    /// whose own group is `home` (see [`fit`]), or `None` when it fits.
    pub(crate) fn misfit(&self, agent: &Agent, kind: KindKey, home: GroupKey) -> Option<Misfit> {
        let cap = self.groups.get(&home).and_then(|g| g.agent_cap);
        fit::misfit(&self.config, &self.kinds, agent, Work { kind, home, cap })
    }

    /// Takes the agent out of its groups' candidate indexes. O(g · K · log a).
    pub(crate) fn unlist(&mut self, a: AgentKey) {
        let agent = self.agents.get_mut(&a).expect(AGENT);
        unlist(&mut self.groups, &mut self.routes, &self.reqs, a, agent);
    }

    /// Puts the agent in its groups' candidate indexes, under each kind it fits (see
    /// [`fit`]), if it is eligible and below its limit. O(g · K · log a).
    pub(crate) fn list(&mut self, a: AgentKey) {
        let agent = self.agents.get_mut(&a).expect(AGENT);
        list(
            &mut self.groups,
            &mut self.routes,
            &self.config,
            &self.kinds,
            &self.reqs,
            a,
            agent,
        );
    }

    /// Agent `a`'s held conversation `c` starts (`holds`) or stops holding units: a snooze lifts,
    /// or starts, on a kind whose paused work holds none. The agent is re-filed.
    /// O(g · K · log a).
    pub(crate) fn set_holding(&mut self, c: ConvKey, a: AgentKey, holds: bool) {
        let conv = self.conversations.get(c).expect(CONV);
        let (kind, home) = (conv.kind_key, conv.group);
        let cost = self.kinds.get(kind).cost;
        self.relist(a, holds, |agent| {
            if holds {
                agent.add_work(kind, cost, home);
            } else {
                agent.remove_work(kind, cost, home);
            }
        });
    }

    /// Makes `change` to agent `a`'s load or latest assignment (nothing else that places it:
    /// not its groups, ranks, routing keys, limit or status) and re-files it: each candidate set
    /// it was or is in is updated in one pass, moving it where it was and stays. Equivalent
    /// to [`State::unlist`] before the change and [`State::list`] after, except that after
    /// work was added (`grew`) its routing keys are left to [`State::pick`] (lazy re-filing,
    /// see [`crate::routing::route`]). O(g · K · log a) when it `grew`, else O((g + k) · K ·
    /// log a). `change` makes the change (one lookup of the agent for both) and what it
    /// returns is returned.
    pub(crate) fn relist<R>(
        &mut self,
        a: AgentKey,
        grew: bool,
        change: impl FnOnce(&mut Agent) -> R,
    ) -> R {
        let agent = self.agents.get_mut(&a).expect(AGENT);
        let out = change(agent);
        relist(
            &mut self.groups,
            &mut self.routes,
            &self.config,
            &self.kinds,
            &self.reqs,
            a,
            agent,
            grew,
        );
        out
    }

    /// Whether the entry `key` in routing key `k`'s candidates for work of kind `kind` (among
    /// those below the group's cap too: `below`) is where its agent stands now: it fits that
    /// work, and its listing now gives that key. An entry that is not is one left by lazy
    /// re-filing, where the agent stood better than it does now: the agent is re-filed in `k`
    /// by its listing now, and `false` returned. O(log a), or O(K · log a) to re-file.
    pub(crate) fn settle(
        &mut self,
        k: RouteKey,
        key: &CandKey,
        kind: KindKey,
        below: bool,
    ) -> bool {
        let a = key.agent;
        let agent = self.agents.get_mut(&a).expect(AGENT);
        let now = agent.listed;
        let route = self.routes.get(k).expect(ROUTE);
        if let Some(listing) = now {
            let work = Work {
                kind,
                home: route.group,
                cap: route.cap,
            };
            let fits =
                fits_as(&self.kinds, agent, work).is_some_and(|below_cap| below_cap || !below);
            let stands = route_key(route, &self.reqs, agent, listing, a);
            debug_assert!(
                !fits || stands >= *key,
                "a stale entry ranks its agent better than it stands, never worse"
            );
            if fits && stands == *key {
                return true;
            }
        }
        let filed = agent
            .routes
            .iter_mut()
            .find(|f| f.route == k)
            .expect("an agent in a routing key's candidates is filed under it");
        let was = std::mem::replace(&mut filed.listing, now);
        refile_route(
            &mut self.routes,
            &self.kinds,
            &self.reqs,
            a,
            agent,
            k,
            was,
            now,
        );
        false
    }

    /// Re-files an agent after anything that decides its place changed.
    pub(crate) fn refresh(&mut self, a: AgentKey) {
        self.unlist(a);
        let limit = self.effective_limit(self.agent(a));
        self.agent_mut(a).effective_limit = limit;
        self.list(a);
    }

    // ---- queues ------------------------------------------------------------------------------

    /// Remembers the first entries of a queue before this command changes it, so that changed
    /// positions can be announced when the command is done. O(announce_positions).
    pub(crate) fn touch(&self, ctx: &mut Ctx, g: GroupKey) {
        touch_queue(&self.groups, &self.config, ctx, g);
    }

    /// Puts a conversation in the queues it waits in: the queue in real-time mode (announcing
    /// its position), the pool in asynchronous mode; a stalled one (past the redirect limit)
    /// goes to their stalled parts, after the live ones. O(log n + min(ahead, behind)).
    pub(crate) fn enqueue(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let conv = self.conversations.get(c).expect(CONV);
        let key = conv.queue_key(&self.config);
        let (home, stalled, kind) = (conv.group, conv.stalled, conv.kind_key);
        let designated = conv.designated_agent();
        for g in conv.waiting_groups() {
            touch_queue(&self.groups, &self.config, ctx, g);
        }
        self.file_waiting(c, None);
        if let Some(d) = designated {
            self.agent_mut(d).designated.insert(key);
        }
        self.waiting.insert(key, kind, stalled, false, true);
        self.counters.waiting += 1;
        self.conv_mut(c).waiting_since = Some(ctx.now);
        if self.config.mode == ReceptionMode::Asynchronous {
            self.conv_mut(c).phase = Phase::Pooled;
            self.counters.pooled += 1;
            ctx.emit(Event::ConversationPooled {
                conversation: self.conv(c).id.clone(),
                group: self.group(home).id.clone(),
                reason: PoolReason::NoAgentAvailable,
            });
        } else {
            self.conv_mut(c).phase = Phase::Queued;
            self.counters.queued += 1;
            if let Some(secs) = self.config.queue.max_wait_secs {
                self.arm(c, after(ctx.now, secs), TimerKind::MaxWait);
            }
            let position = position_of(self.group(home).queue.rank(&key));
            ctx.entered.insert(c, position);
            ctx.emit(Event::ConversationQueued {
                conversation: self.conv(c).id.clone(),
                group: self.group(home).id.clone(),
                position,
            });
        }
        self.arm_stage(ctx, c);
    }

    /// Takes a queued conversation out of every queue it waits in. O(log n) per queue.
    pub(crate) fn dequeue(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let conv = self.conversations.get(c).expect(CONV);
        debug_assert!(conv.phase.is_waiting());
        let key = conv.queue_key(&self.config);
        let kind = conv.kind_key;
        let designated = conv.designated_agent();
        for g in conv.waiting_groups() {
            touch_queue(&self.groups, &self.config, ctx, g);
        }
        self.unfile_waiting(c);
        if let Some(d) = designated {
            self.agent_mut(d).designated.remove(&key);
        }
        self.waiting.remove(&key, kind, false, true);
        self.counters.waiting -= 1;
        self.disarm(c, Slot::Wait);
        self.disarm(c, Slot::Stage);
    }

    /// Files a waiting conversation in the queues of the groups it waits in (all of them, or
    /// `only` one it has just joined): each group's listing, and either the group's per-kind
    /// queues (it requires nothing) or those of its routing key (R-SK4). O(log n) per queue.
    pub(crate) fn file_waiting(&mut self, c: ConvKey, only: Option<GroupKey>) {
        let conv = self.conversations.get(c).expect(CONV);
        let key = conv.queue_key(&self.config);
        let (home, stalled, kind, r) = (conv.group, conv.stalled, conv.kind_key, conv.req);
        for g in conv
            .waiting_groups()
            .filter(|g| only.is_none_or(|o| o == *g))
        {
            let group = self.groups.get_mut(&g).expect(GROUP);
            group.queue.insert(key, kind, stalled, g != home, r == 0);
            if r != 0 {
                let route = *group.routes.get(&r).expect(ROUTE);
                let route = self.routes.get_mut(route).expect(ROUTE);
                route.queue.insert(key, kind, stalled, g != home, true);
            }
        }
    }

    /// Undoes [`State::file_waiting`] in every group the conversation waits in.
    pub(crate) fn unfile_waiting(&mut self, c: ConvKey) {
        let conv = self.conversations.get(c).expect(CONV);
        let key = conv.queue_key(&self.config);
        let (home, kind, r) = (conv.group, conv.kind_key, conv.req);
        for g in conv.waiting_groups() {
            let group = self.groups.get_mut(&g).expect(GROUP);
            group.queue.remove(&key, kind, g != home, r == 0);
            if r != 0 {
                let route = *group.routes.get(&r).expect(ROUTE);
                let route = self.routes.get_mut(route).expect(ROUTE);
                route.queue.remove(&key, kind, g != home, true);
            }
        }
    }

    /// Arms a waiting conversation's next stage boundary (R-SK2, R-S4): the start of its next
    /// stage, or its group's overflow time if it has not joined the overflow groups yet,
    /// whichever comes first; now (the next `Tick`) if that has passed. A stalled
    /// conversation waits for an admin and has none.
    pub(crate) fn arm_stage(&mut self, ctx: &Ctx, c: ConvKey) {
        if let Some(at) = self.next_boundary(c) {
            self.arm(c, at.max(ctx.now), TimerKind::Stage);
        }
    }

    /// When a waiting conversation's next stage boundary falls (see [`State::arm_stage`]):
    /// its next stage's start, or its group's overflow time if the overflow has not come.
    pub(crate) fn next_boundary(&self, c: ConvKey) -> Option<DateTime<Utc>> {
        let conv = self.conv(c);
        if conv.stalled {
            return None;
        }
        let group = self.group(conv.group);
        let overflow = (!group.overflow.is_empty() && !conv.overflowed())
            .then(|| after(conv.arrived_at, group.overflow_after_secs));
        match (conv.next_stage_at(), overflow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The 1-based position of a queued conversation in its own group's queue, as listed: a
    /// stalled one comes after every live one.
    pub(crate) fn position(&self, conv: &Conversation) -> Option<u32> {
        if !matches!(conv.phase, Phase::Queued) {
            return None;
        }
        let key = conv.queue_key(&self.config);
        self.group(conv.group)
            .queue
            .rank(&key)
            .map(|r| position_of(Some(r)))
    }

    /// Announces the new positions of the first entries of every queue this command changed
    /// (R-Q2), except to a conversation whose position is what it was last told.
    pub(crate) fn announce_positions(&self, ctx: &mut Ctx) {
        let n = self.config.queue.announce_positions as usize;
        let touched = std::mem::take(&mut ctx.touched);
        ctx.events.reserve(touched.len() * n.min(64));
        for (g, before) in touched {
            let group = self.group(g);
            for (i, key) in group.queue.iter().take(n).enumerate() {
                let conv = self.conv(key.conv);
                if conv.group != g || !matches!(conv.phase, Phase::Queued) {
                    continue;
                }
                let position = position_of(Some(i));
                let told = ctx.entered.get(&key.conv).copied().or_else(|| {
                    before
                        .iter()
                        .position(|c| *c == key.conv)
                        .map(|r| position_of(Some(r)))
                });
                if told != Some(position) {
                    ctx.emit(Event::QueuePositionChanged {
                        conversation: conv.id.clone(),
                        group: group.id.clone(),
                        position,
                    });
                }
            }
        }
    }

    // ---- holding conversations ---------------------------------------------------------------

    /// Gives a waiting or fresh conversation to an agent: as an offer when automatic reception
    /// is off (except for manual assignments and claims), else active at once. A designation
    /// has done its job once the conversation is served and is dropped. O(groups · log agents
    /// + log n).
    pub(crate) fn attach(&mut self, ctx: &mut Ctx, c: ConvKey, a: AgentKey, reason: AssignReason) {
        if self.conv(c).phase.is_waiting() {
            self.dequeue(ctx, c);
            let home = self.conv(c).group;
            let served = &mut self.group_mut(home).served;
            served.push_back(ctx.now);
            if served.len() > SERVED_SAMPLES {
                served.pop_front();
            }
        }
        let conv = self.conv(c);
        if conv.designated_agent().is_some() || conv.designated_group().is_some() {
            self.release_groups(c);
            self.conv_mut(c).drop_designation();
            self.claim_groups(c);
        }
        let offer = !is_direct(&reason) && !self.config.reception.auto_accept;
        let (agent_id, load, limit) = self.take_on(ctx, c, a, true, &reason);
        let now = ctx.now;
        let conv_id = self.conv(c).id.clone();
        let kind = self.conv(c).kind.clone();
        let skill_match = self.skill_match(c, a);
        if offer {
            let expires_at = after(now, self.config.reception.offer_timeout_secs);
            self.conv_mut(c).phase = Phase::Offered {
                agent: a,
                expires: expires_at,
            };
            self.arm(c, expires_at, TimerKind::OfferExpires);
            self.counters.offered += 1;
            self.counters.offers += 1;
            ctx.emit(Event::ConversationOffered {
                conversation: conv_id,
                agent: agent_id,
                reason,
                expires_at,
                load,
                limit,
                kind,
                skills: skill_match.clone(),
            });
        } else {
            ctx.emit(Event::ConversationAssigned {
                conversation: conv_id,
                agent: agent_id,
                reason,
                load,
                limit,
                kind,
                skills: skill_match,
            });
            self.activate(ctx, c, a);
        }
    }

    /// Agent `a` takes conversation `c` on: it holds it (adding to its load when `counted`),
    /// its latest assignment is now, it is the visitor's last agent, and the assignment is
    /// counted. Returns the agent's id, load and limit for the event. O(g · log a).
    pub(crate) fn take_on(
        &mut self,
        ctx: &Ctx,
        c: ConvKey,
        a: AgentKey,
        counted: bool,
        reason: &AssignReason,
    ) -> (AgentId, u32, u32) {
        self.assignment_seq += 1;
        let seq = self.assignment_seq;
        let conv = self.conversations.get(c).expect(CONV);
        let (arrival, kind, home) = (conv.seq, conv.kind_key, conv.group);
        let cost = self.kinds.get(kind).cost;
        let (agent_id, load, limit) = self.relist(a, true, |agent| {
            if counted {
                agent.add_work(kind, cost, home);
            }
            agent.conversations.insert((arrival, c));
            agent.last_assignment = seq;
            agent.assigned_total += 1;
            let load = u32::try_from(agent.load).unwrap_or(u32::MAX);
            (agent.id.clone(), load, agent.effective_limit)
        });
        let now = ctx.now;
        let conv = self.conv_mut(c);
        conv.first_assigned_at.get_or_insert(now);
        let visitor = conv.visitor.clone();
        self.visitors.insert(
            visitor,
            LastService {
                agent: agent_id.clone(),
                at: now,
            },
        );
        if is_direct(reason) && !matches!(reason, AssignReason::Claimed) {
            self.counters.assigned_manually += 1;
        } else {
            self.counters.assigned_automatically += 1;
        }
        (agent_id, load, limit)
    }

    /// The conversation becomes active with its agent: a new stint, with its first-reply goal
    /// (R-L1) and first-reply limit (R-R4).
    pub(crate) fn activate(&mut self, ctx: &Ctx, c: ConvKey, a: AgentKey) {
        let conv = self.conv_mut(c);
        conv.phase = Phase::Active { agent: a };
        conv.replied = false;
        self.counters.active += 1;
        self.sla_start(ctx, c, ReplyGoal::FirstReply);
        if let Some(secs) = self.config.reception.first_reply_timeout_secs {
            self.arm(c, after(ctx.now, secs), TimerKind::FirstReplyTimeout);
        }
    }

    /// Takes a held (active or snoozed) conversation from its agent and returns the agent;
    /// its timers and reply goal are dropped and it is left `Routing` for the caller to place.
    /// O(groups · log agents + log t).
    pub(crate) fn detach(&mut self, ctx: &Ctx, c: ConvKey) -> AgentKey {
        let phase = self.conv(c).phase.clone();
        let a = phase
            .holder()
            .expect("detach is called on held conversations only");
        let counted = self.holds_units(self.conv(c));
        match phase {
            Phase::Snoozed { until, .. } => {
                self.snoozed.remove(&(until, c));
                self.counters.snoozed -= 1;
            }
            Phase::Offered { .. } => self.counters.offered -= 1,
            _ => self.counters.active -= 1,
        }
        self.let_go(ctx, c, a, counted);
        self.disarm_all(c);
        self.conv_mut(c).phase = Phase::Routing;
        a
    }

    /// Agent `a` lets go of conversation `c` (taking it off its load when `counted`): the
    /// agent's side of [`State::detach`], and the end of the stint's reply goal and silence.
    /// The conversation's phase and timers are the caller's. O(g · log a).
    pub(crate) fn let_go(&mut self, ctx: &Ctx, c: ConvKey, a: AgentKey, counted: bool) {
        let conv = self.conversations.get(c).expect(CONV);
        let (arrival, kind, home) = (conv.seq, conv.kind_key, conv.group);
        let cost = self.kinds.get(kind).cost;
        let agent_id = self.relist(a, false, |agent| {
            if counted {
                agent.remove_work(kind, cost, home);
            }
            agent.conversations.remove(&(arrival, c));
            agent.id.clone()
        });
        let conv = self.conv_mut(c);
        conv.goal = None;
        conv.silent_since = None;
        conv.reminded = false;
        let visitor = &self.conversations.get(c).expect(CONV).visitor;
        if let Some(last) = self.visitors.get_mut(visitor)
            && last.agent == agent_id
        {
            last.at = ctx.now;
        }
    }

    /// Counts an open conversation against the groups it names (so they cannot be removed),
    /// and its stage's requirement set against their routing keys, creating those it is the
    /// first to need (R-SK4): O(h · r) for a new one (see [`State::ensure_route`]).
    pub(crate) fn claim_groups(&mut self, c: ConvKey) {
        let r = self.stage_req(c);
        let conv = self.conversations.get_mut(c).expect(CONV);
        conv.req = r;
        if r == 0 {
            // The common case: no routing key to hold, nothing to collect.
            for g in conv.waiting_groups() {
                let group = self.groups.get_mut(&g).expect(GROUP);
                group.open += 1;
                if !group.indexed {
                    index_group(group, &self.agents, &self.kinds, g);
                }
            }
            return;
        }
        // By position rather than collected: claiming changes none of its groups.
        let n = conv.waiting_groups().count();
        for i in 0..n {
            let g = self.conv(c).waiting_groups().nth(i).expect("counted above");
            self.groups.get_mut(&g).expect(GROUP).open += 1;
            let route = self.ensure_route(g, r);
            self.routes.get_mut(route).expect(ROUTE).users += 1;
        }
    }

    /// Undoes [`State::claim_groups`]; a routing key left unused goes.
    pub(crate) fn release_groups(&mut self, c: ConvKey) {
        let conv = self.conversations.get(c).expect(CONV);
        let r = conv.req;
        if r == 0 {
            for g in conv.waiting_groups() {
                self.groups.get_mut(&g).expect(GROUP).open -= 1;
            }
            return;
        }
        let groups: Vec<GroupKey> = conv.waiting_groups().collect();
        self.release(&groups, r);
    }

    /// Changes what a conversation's claims depend on (its groups, stage or designation):
    /// claims the new ones before it releases the old, so that a routing key it keeps is not
    /// dropped and rebuilt on the way.
    pub(crate) fn reclaim(&mut self, c: ConvKey, change: impl FnOnce(&mut State)) {
        let conv = self.conv(c);
        let (groups, r): (Vec<GroupKey>, ReqKey) = (conv.waiting_groups().collect(), conv.req);
        change(self);
        self.claim_groups(c);
        self.release(&groups, r);
    }

    fn release(&mut self, groups: &[GroupKey], r: ReqKey) {
        for &g in groups {
            let group = self.groups.get_mut(&g).expect(GROUP);
            group.open -= 1;
            if r != 0 {
                let k = *group.routes.get(&r).expect(ROUTE);
                let route = self.routes.get_mut(k).expect(ROUTE);
                route.users -= 1;
                if route.users == 0 {
                    self.drop_route(k);
                }
            }
        }
    }

    /// The requirement set of a conversation's stage in force, interned. O(r log r).
    fn stage_req(&mut self, c: ConvKey) -> ReqKey {
        let Some(stage) = self.conv(c).stage() else {
            return 0;
        };
        let set = ReqSet {
            required: self.skills.levels(&stage.require),
            preferred: self.skills.levels(&stage.prefer),
        };
        self.reqs.intern(set)
    }

    /// Routing key (g, r), created if it does not exist: the members of `g` that meet `r`
    /// are filed under it, and those of them listed in its candidates. O(h · r · log a), `h`
    /// the members holding its rarest required skill (all members when it requires none).
    fn ensure_route(&mut self, g: GroupKey, r: ReqKey) -> RouteKey {
        if let Some(k) = self.route_of(g, r) {
            return k;
        }
        self.reqs.hold(r);
        let k = self.routes.vacant_key();
        let group = self.groups.get_mut(&g).expect(GROUP);
        let mut route = group.new_route(g, r, self.kinds.len());
        group.routes.insert(r, k);
        let set = self.reqs.get(r);
        // Only the holders of its rarest required skill can meet it (all members when it
        // requires none: it only prefers).
        static NONE: BTreeSet<AgentKey> = BTreeSet::new();
        let rarest = set
            .required
            .iter()
            .map(|(s, _)| group.holders.get(&s).unwrap_or(&NONE))
            .min_by_key(|holders| holders.len());
        for &a in rarest.unwrap_or(&group.members) {
            let agent = self.agents.get_mut(&a).expect(AGENT);
            if set.qualifies(&agent.levels) {
                route.qualified.insert(a);
                agent.routes.push(Filed {
                    route: k,
                    listing: agent.listed,
                });
            }
        }
        let inserted = self.routes.insert(route);
        debug_assert_eq!(inserted, k, "a slab fills its vacant key");
        let listed: Vec<(AgentKey, Listing)> = self
            .route_at(k)
            .qualified
            .iter()
            .filter_map(|&a| Some((a, self.agent(a).listed?)))
            .collect();
        for (a, listing) in listed {
            let agent = self.agents.get(&a).expect(AGENT);
            let now = Some(listing);
            refile_route(
                &mut self.routes,
                &self.kinds,
                &self.reqs,
                a,
                agent,
                k,
                None,
                now,
            );
        }
        k
    }

    /// The member of `g` its strategy would give conversation `c` as the group's own work,
    /// meeting the requirements in force: for a manual assignment to a group (R-X1), which
    /// rehomes the conversation there. Where `g` has no routing key for them yet, one is made
    /// for the lookup and dropped after: O(h · r) (see [`State::ensure_route`]).
    pub(crate) fn pick_as_own(
        &mut self,
        g: GroupKey,
        c: ConvKey,
        excluded: &[AgentKey],
    ) -> Option<AgentKey> {
        let r = self.conv(c).req;
        let group = self.groups.get_mut(&g).expect(GROUP);
        if r == 0 && !group.indexed {
            index_group(group, &self.agents, &self.kinds, g);
        }
        let made = (r != 0 && self.route_of(g, r).is_none()).then(|| self.ensure_route(g, r));
        let picked = self.pick_excluding(g, g, c, Some(excluded));
        if let Some(k) = made {
            self.drop_route(k);
        }
        picked
    }

    /// Drops routing key `k`, unused now. O(qualified · keys of each).
    fn drop_route(&mut self, k: RouteKey) {
        let route = self.routes.remove(k).expect(ROUTE);
        self.group_mut(route.group).routes.remove(&route.req);
        for a in route.qualified {
            if let Some(agent) = self.agents.get_mut(&a) {
                agent.routes.retain(|f| f.route != k);
            }
        }
        self.reqs.release(route.req);
    }

    /// Files agent `a`, unlisted, under the routing keys of its groups whose requirement sets
    /// it meets, after its skills or groups changed (R-SK5). O(routing keys of its groups · r).
    pub(crate) fn requalify(&mut self, a: AgentKey) {
        debug_assert!(
            self.agent(a).listed.is_none(),
            "requalify an unlisted agent"
        );
        let old = std::mem::take(&mut self.agent_mut(a).routes);
        for Filed { route: k, listing } in old {
            debug_assert!(
                listing.is_none(),
                "an unlisted agent is in no candidate set"
            );
            if let Some(route) = self.routes.get_mut(k) {
                route.qualified.remove(&a);
            }
        }
        let held = std::mem::take(&mut self.agent_mut(a).holding);
        for (g, s) in held {
            if let Some(group) = self.groups.get_mut(&g)
                && let Some(holders) = group.holders.get_mut(&s)
            {
                holders.remove(&a);
                if holders.is_empty() {
                    group.holders.remove(&s);
                }
            }
        }
        let agent = self.agents.get_mut(&a).expect(AGENT);
        for m in &agent.groups {
            let group = self.groups.get_mut(&m.group).expect(GROUP);
            hold(group, m.group, a, agent.levels.iter(), &mut agent.holding);
        }
        for m in &agent.groups {
            let group = self.groups.get(&m.group).expect(GROUP);
            for (r, &k) in &group.routes {
                if self.reqs.get(*r).qualifies(&agent.levels) {
                    self.routes.get_mut(k).expect(ROUTE).qualified.insert(a);
                    agent.routes.push(Filed {
                        route: k,
                        listing: None,
                    });
                }
            }
        }
    }

    /// Whether agent `a` meets the requirements in force of conversation `conv` (R-SK2).
    pub(crate) fn qualifies(&self, agent: &Agent, conv: &Conversation) -> bool {
        conv.req == 0 || self.reqs.get(conv.req).qualifies(&agent.levels)
    }

    /// Why agent `a` qualified for conversation `c` (R-B1), for a conversation with stages:
    /// the stage in force, the agent's level on each required skill, the preferred skills it
    /// matched.
    #[inline]
    pub(crate) fn skill_match(&self, c: ConvKey, a: AgentKey) -> Option<Box<SkillMatch>> {
        let conv = self.conv(c);
        let stage = conv.stage()?;
        Some(Box::new(self.explain(conv, stage, a)))
    }

    /// [`State::skill_match`] for a conversation with stages, out of line.
    #[inline(never)]
    fn explain(&self, conv: &Conversation, stage: &Stage, a: AgentKey) -> SkillMatch {
        let agent = self.agent(a);
        let level = |id: &SkillId| self.skills.key(id).map_or(0, |k| agent.levels.level(k));
        SkillMatch {
            stage: conv.stage_index().unwrap_or(0),
            required: stage
                .require
                .iter()
                .map(|s| SkillLevel::new(s.skill.clone(), level(&s.skill)))
                .collect(),
            preferred: stage
                .prefer
                .iter()
                .filter(|s| level(&s.skill) >= s.level)
                .map(|s| s.skill.clone())
                .collect(),
        }
    }

    /// A conversation that is no longer waiting or held is done routing: it stops counting
    /// against its groups, its timers go, and its designation keys are dropped (they may name
    /// agents or groups that are later removed).
    pub(crate) fn retire(&mut self, c: ConvKey) {
        self.release_groups(c);
        self.disarm_all(c);
        let conv = self.conv_mut(c);
        conv.req = 0;
        conv.drop_routes(false);
    }

    // ---- rebuilding ----------------------------------------------------------------------

    /// Compiles what a snapshot does not store (the schedules' time zones). Used on restore.
    pub(crate) fn reload(&mut self) -> Result<(), String> {
        for s in self.schedules.values_mut() {
            s.reload().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Rebuilds every derived index from the primary tables. Used on restore, after
    /// [`State::check`], and when the config changes. It cannot fail: it relies only on what
    /// `check` establishes and every command keeps, such as that the groups and schedules an
    /// agent names exist and that its status is defined (`UpdateConfig` checks the new config
    /// for that before it rebuilds).
    pub(crate) fn rebuild(&mut self) {
        self.kinds = Kinds::compile(&self.config);
        self.skills = Skills::compile(&self.config);
        self.reqs.clear();
        self.routes.clear();
        self.agent_ids.clear();
        self.group_ids.clear();
        self.conv_ids.clear();
        self.timers.clear();
        self.snoozed.clear();
        self.schedule_ids.clear();
        for (k, s) in &mut self.schedules {
            s.members.clear();
            self.timers.extend(s.timer);
            self.schedule_ids.insert(s.spec.schedule.clone(), *k);
        }
        let kinds = self.kinds.len();
        let skills = !self.skills.is_empty();
        self.waiting.reset(kinds, false);
        for (k, g) in &mut self.groups {
            g.members.clear();
            g.size(kinds, skills);
            g.open = 0;
            g.eligible = 0;
            self.group_ids.insert(g.id.clone(), *k);
        }
        for (k, a) in &mut self.agents {
            a.clear_work();
            a.conversations.clear();
            a.listed = None;
            a.counted_eligible = false;
            a.designated.clear();
            a.routes.clear();
            a.holding.clear();
            a.levels = self.skills.levels(&a.skills);
            self.agent_ids.insert(a.id.clone(), *k);
            for m in &a.groups {
                if let Some(group) = self.groups.get_mut(&m.group) {
                    group.members.insert(*k);
                    hold(group, m.group, *k, a.levels.iter(), &mut a.holding);
                }
            }
            for s in &a.schedules {
                if let Some(schedule) = self.schedules.get_mut(s) {
                    schedule.members.insert(*k);
                }
            }
        }
        let mut open = Vec::new();
        for c in self.conversations.values_mut() {
            c.kind_key = self.kinds.key(&c.kind).unwrap_or(0);
            c.req = 0;
            if c.phase.is_open() {
                open.push(c.key);
            }
        }
        for c in open {
            self.claim_groups(c);
        }
        let (mut waiting, mut active, mut snoozed, mut offered) = (0, 0, 0, 0);
        let mut queued = Vec::new();
        for (k, c) in self.conversations.iter() {
            self.conv_ids.insert(c.id.clone(), k);
            self.timers.extend(c.timers.iter());
            match &c.phase {
                Phase::Queued | Phase::Pooled => {
                    waiting += 1;
                    let key = c.queue_key(&self.config);
                    self.waiting.insert(key, c.kind_key, c.stalled, false, true);
                    queued.push(k);
                    if let Some(agent) = c.designated_agent().and_then(|d| self.agents.get_mut(&d))
                    {
                        agent.designated.insert(key);
                    }
                }
                Phase::Offered { agent, .. }
                | Phase::Active { agent }
                | Phase::Snoozed { agent, .. } => {
                    match c.phase {
                        Phase::Snoozed { until, .. } => {
                            snoozed += 1;
                            self.snoozed.insert((until, k));
                        }
                        Phase::Offered { .. } => offered += 1,
                        _ => active += 1,
                    }
                    let kind = self.kinds.get(c.kind_key);
                    let counted = c.phase.holds_units(kind.paused_holds);
                    if let Some(a) = self.agents.get_mut(agent) {
                        if counted {
                            a.add_work(c.kind_key, kind.cost, c.group);
                        }
                        a.conversations.insert((c.seq, k));
                    }
                }
                Phase::Routing
                | Phase::Abandoned { .. }
                | Phase::TurnedAway { .. }
                | Phase::LeftMessage { .. }
                | Phase::Ended { .. } => {}
            }
        }
        for c in queued {
            self.file_waiting(c, None);
        }
        self.counters.waiting = waiting;
        self.counters.active = active;
        self.counters.snoozed = snoozed;
        self.counters.offered = offered;
        let keys: Vec<AgentKey> = self.agents.keys().copied().collect();
        for a in keys {
            let limit = self.effective_limit(self.agent(a));
            self.agent_mut(a).effective_limit = limit;
            self.list(a);
        }
    }
}

/// Whether an assignment goes to its agent at once, never as an offer: an admin's or a claim.
fn is_direct(reason: &AssignReason) -> bool {
    matches!(
        reason,
        AssignReason::Manual | AssignReason::ManualToGroup { .. } | AssignReason::Claimed
    )
}

/// [`State::unlist`] on the groups and the agent, for callers that hold the agent borrowed.
fn unlist(
    groups: &mut BTreeMap<GroupKey, Group>,
    routes: &mut Slab<Route>,
    reqs: &Reqs,
    a: AgentKey,
    agent: &mut Agent,
) {
    if std::mem::take(&mut agent.counted_eligible) {
        for m in &agent.groups {
            groups.get_mut(&m.group).expect(GROUP).eligible -= 1;
        }
    }
    if let Some(listing) = agent.listed.take() {
        for m in &agent.groups {
            let group = groups.get_mut(&m.group).expect(GROUP);
            if group.indexed {
                let key = CandKey::new(group.strategy, listing.ratio, m.rank, listing.last, a);
                group.available.remove(&key);
            }
        }
    }
    // Its routing keys hold it by the listing each has (lazy re-filing), perhaps though it
    // is listed no more.
    for i in 0..agent.routes.len() {
        let k = agent.routes[i].route;
        if let Some(listing) = agent.routes[i].listing.take() {
            let route = routes.get_mut(k).expect(ROUTE);
            let key = route_key(route, reqs, agent, listing, a);
            route.available.remove(&key);
        }
    }
}

/// [`State::list`] on the groups and the agent, for callers that hold the agent borrowed.
fn list(
    groups: &mut BTreeMap<GroupKey, Group>,
    routes: &mut Slab<Route>,
    config: &Config,
    kinds: &Kinds,
    reqs: &Reqs,
    a: AgentKey,
    agent: &mut Agent,
) {
    debug_assert!(agent.listed.is_none(), "list after unlist");
    if !fit::eligible(config, agent) {
        return;
    }
    agent.counted_eligible = true;
    for m in &agent.groups {
        groups.get_mut(&m.group).expect(GROUP).eligible += 1;
    }
    if agent.load >= u64::from(agent.effective_limit) {
        return;
    }
    let listing = Listing {
        ratio: Ratio {
            num: agent.load,
            den: agent.effective_limit,
        },
        last: agent.last_assignment,
    };
    agent.listed = Some(listing);
    for f in &mut agent.routes {
        debug_assert!(f.listing.is_none(), "list after unlist");
        f.listing = Some(listing);
    }
    let agent = &*agent;
    for m in &agent.groups {
        let group = groups.get_mut(&m.group).expect(GROUP);
        if !group.indexed {
            continue;
        }
        let key = CandKey::new(group.strategy, listing.ratio, m.rank, listing.last, a);
        let cap = group.agent_cap;
        file(&mut group.available, kinds, agent, m.group, cap, key);
    }
    for f in &agent.routes {
        refile_route(routes, kinds, reqs, a, agent, f.route, None, f.listing);
    }
}

/// [`State::relist`] on the groups and the agent, for callers that hold the agent borrowed.
#[allow(clippy::too_many_arguments)]
fn relist(
    groups: &mut BTreeMap<GroupKey, Group>,
    routes: &mut Slab<Route>,
    config: &Config,
    kinds: &Kinds,
    reqs: &Reqs,
    a: AgentKey,
    agent: &mut Agent,
    grew: bool,
) {
    let eligible = fit::eligible(config, agent);
    // Work added ranks the agent lower in every candidate set, or takes it out: its routing
    // keys may keep it where it was until a pick meets it there (lazy re-filing). Anything
    // that may rank it higher re-files it at once.
    let lazy = grew && eligible == agent.counted_eligible;
    if eligible != agent.counted_eligible {
        // Not from a change of load; kept right all the same, as unlist and list would.
        for m in &agent.groups {
            let group = groups.get_mut(&m.group).expect(GROUP);
            if eligible {
                group.eligible += 1;
            } else {
                group.eligible -= 1;
            }
        }
        agent.counted_eligible = eligible;
    }
    let old = agent.listed.take();
    let new = (eligible && agent.load < u64::from(agent.effective_limit)).then_some(Listing {
        ratio: Ratio {
            num: agent.load,
            den: agent.effective_limit,
        },
        last: agent.last_assignment,
    });
    agent.listed = new;
    for m in &agent.groups {
        let group = groups.get_mut(&m.group).expect(GROUP);
        if !group.indexed {
            continue;
        }
        let key = |l: Listing| CandKey::new(group.strategy, l.ratio, m.rank, l.last, a);
        let (was, is) = (old.map(key), new.map(key));
        let work = |kind| Work {
            kind,
            home: m.group,
            cap: group.agent_cap,
        };
        let fits = |kind| fits_as(kinds, &*agent, work(kind));
        group.available.refile(was.as_ref(), is, fits);
    }
    if lazy {
        return;
    }
    for i in 0..agent.routes.len() {
        let k = agent.routes[i].route;
        let was = std::mem::replace(&mut agent.routes[i].listing, new);
        refile_route(routes, kinds, reqs, a, agent, k, was, new);
    }
}

/// Moves agent `a` in routing key `k`'s candidate sets from where listing `was` filed it (if
/// anywhere) to where listing `now` files it (if anywhere), under each kind it fits now.
/// O(K · log a).
#[allow(clippy::too_many_arguments)]
fn refile_route(
    routes: &mut Slab<Route>,
    kinds: &Kinds,
    reqs: &Reqs,
    a: AgentKey,
    agent: &Agent,
    k: RouteKey,
    was: Option<Listing>,
    now: Option<Listing>,
) {
    let route = routes.get_mut(k).expect(ROUTE);
    let key = |l: Listing| route_key(route, reqs, agent, l, a);
    let (was, is) = (was.map(key), now.map(key));
    let (g, cap) = (route.group, route.cap);
    let fits = |kind| fits_as(kinds, agent, Work { kind, home: g, cap });
    route.available.refile(was.as_ref(), is, fits);
}

/// Under which candidate sets of its kind a listed agent goes for `work` (see
/// [`Candidates::refile`]).
fn fits_as(kinds: &Kinds, agent: &Agent, work: Work) -> Option<bool> {
    match fit::misfit_eligible(kinds, agent, work) {
        None => Some(true),
        Some(Misfit::GroupCap) => Some(false),
        Some(_) => None,
    }
}

/// Starts keeping group `g`'s candidate index for work without requirements (see
/// [`Group::indexed`]): files its listed members. O(members · K · log a), once.
fn index_group(group: &mut Group, agents: &BTreeMap<AgentKey, Agent>, kinds: &Kinds, g: GroupKey) {
    group.indexed = true;
    for a in &group.members {
        let agent = agents.get(a).expect(AGENT);
        let Some(listing) = agent.listed else {
            continue;
        };
        let rank = agent.rank_in(g).unwrap_or(0);
        let key = CandKey::new(group.strategy, listing.ratio, rank, listing.last, *a);
        file(&mut group.available, kinds, agent, g, group.agent_cap, key);
    }
}

/// Lists agent `a`, a member of group `g`, among the group's holders of each skill it holds,
/// and records where in `holding`.
fn hold(
    group: &mut Group,
    g: GroupKey,
    a: AgentKey,
    skills: impl Iterator<Item = (SkillKey, u8)>,
    holding: &mut Vec<(GroupKey, SkillKey)>,
) {
    for (s, _) in skills {
        group.holders.entry(s).or_default().insert(a);
        holding.push((g, s));
    }
}

/// Files an agent in a candidate index under each kind it fits (see [`fit`]) as group `g`'s
/// member: among those below `g`'s cap too, or not.
fn file(
    candidates: &mut Candidates,
    kinds: &Kinds,
    agent: &Agent,
    g: GroupKey,
    cap: Option<u32>,
    key: CandKey,
) {
    let fits = |kind| fits_as(kinds, agent, Work { kind, home: g, cap });
    candidates.refile(None, Some(key), fits);
}

/// Where a listed agent stands in routing key (g, r)'s candidates: by the group's strategy,
/// or under best skilled by how well it meets `r` (R-SK3).
fn route_key(route: &Route, reqs: &Reqs, agent: &Agent, listing: Listing, a: AgentKey) -> CandKey {
    let rank = match route.strategy {
        Strategy::BestSkilled => {
            let (sum, matched) = reqs.get(route.req).score(&agent.levels);
            return CandKey::skilled(sum, matched, listing.last, a);
        }
        Strategy::AgentPriority => agent.rank_in(route.group).unwrap_or(0),
        _ => 0,
    };
    CandKey::new(route.strategy, listing.ratio, rank, listing.last, a)
}

/// [`State::touch`] on the groups alone, for callers that hold a conversation borrowed.
fn touch_queue(groups: &BTreeMap<GroupKey, Group>, config: &Config, ctx: &mut Ctx, g: GroupKey) {
    if ctx.touched.contains_key(&g) {
        return;
    }
    let n = config.queue.announce_positions as usize;
    let queue = &groups.get(&g).expect(GROUP).queue;
    let first = queue.iter().take(n).map(|k| k.conv).collect();
    ctx.touched.insert(g, first);
}

/// A 0-based rank as a 1-based position, saturating at `u32::MAX`.
fn position_of(rank: Option<usize>) -> u32 {
    rank.map_or(0, |r| u32::try_from(r + 1).unwrap_or(u32::MAX))
}
