//! How the agent is chosen, and how an agent with room chooses waiting work.
//!
//! Who may take what is decided in one place, [`fit`]: eligibility, units, a kind's maximum,
//! blocking kinds and group caps (R-K1..R-K3). The indexes are filed by it: each group keeps
//! its candidates per kind of work ([`candidates::Candidates`]) and its waiting work whole
//! and per kind ([`queue::Waiting`]). A route is a group and a kind: routing a conversation
//! looks only at the candidates its group files under its kind.
//!
//! Choosing an agent for a conversation (`route`) tries, in order: the designated agent, the
//! designated group's strategy, the last agent, the conversation's group's strategy; with no
//! one available the conversation queues (R-S1, R-S2, R-Q1). Each step is a lookup in an
//! ordered index: O(log agents), plus one step per excluded agent skipped, and, for another
//! group's conversation routed through a group (designated, overflow) whose own group caps
//! its work (R-K3), one step per candidate at that cap. In a routing key, an entry that lazy
//! re-filing left stale (see [`route`]) is re-filed, O(K · log a), and the look goes on past it;
//! each such entry once.
//!
//! Choosing work for an agent that has room (`drain`, R-D1, R-K5) takes, while the agent
//! stays below its limit, the best waiting conversation among those that designated it and
//! the heads of its groups' queues of each kind it fits: O(g · K · (log n + x)) per
//! conversation taken, never a scan of a queue. Conversations past the redirect limit wait
//! apart (see [`queue::Queue`]) and cost a drain nothing; `x` counts the waiting conversations
//! ahead that the agent may not take: those it is excluded from (it transferred, declined or
//! missed them), which it steps over one by one, and another group's conversations
//! (overflowed or designated into its group) whose group's cap it has reached.

pub(crate) mod candidates;
pub(crate) mod fit;
pub(crate) mod queue;
pub(crate) mod reqs;
pub(crate) mod route;

use chrono::TimeDelta;

use crate::agent::Agent;
use crate::conversation::Conversation;
use crate::ctx::Ctx;
use crate::event::{AssignReason, DrainTrigger};
use crate::group::Group;
use crate::keys::{AgentKey, ConvKey, GroupKey, KindKey, RouteKey};
use crate::routing::candidates::{CandKey, Ratio};
use crate::routing::fit::{Misfit, Work};
use crate::routing::queue::{QueueKey, Waiting};
use crate::store::State;
use crate::strategy::Strategy;

/// What one pick looks for: in group `g` (in its routing key `route`, for work with
/// requirements), work of kind `kind` whose own group is `home` (`own`: `g` itself), in the
/// order of `g`'s `strategy` (round robin from after `cursor`); `below`: among the candidates
/// below `g`'s cap; `capped`: `home`'s cap checked per candidate.
struct Look {
    g: GroupKey,
    home: GroupKey,
    kind: KindKey,
    own: bool,
    strategy: Strategy,
    cursor: AgentKey,
    route: Option<RouteKey>,
    below: bool,
    capped: bool,
}

/// The agent chosen for a conversation, why, and the group whose strategy chose it (whose
/// round-robin cursor then moves).
pub(crate) struct Choice {
    pub agent: AgentKey,
    pub reason: AssignReason,
    pub group: Option<GroupKey>,
}

impl Choice {
    pub(crate) fn direct(agent: AgentKey, reason: AssignReason) -> Self {
        Choice {
            agent,
            reason,
            group: None,
        }
    }

    fn by_strategy(group: GroupKey, agent: AgentKey, reason: AssignReason) -> Self {
        Choice {
            agent,
            reason,
            group: Some(group),
        }
    }
}

impl State {
    /// The best member of group `g` under the group's strategy that may take conversation `c`
    /// (its kind and requirements in force, other than the agents it excludes) as the work
    /// of group `home`. For the group's own work the candidate index holds exactly those
    /// that fit; for another group's work routed through `g`, that group's cap (if it has one)
    /// is checked per candidate. In a routing key, an entry met that lazy re-filing left where
    /// its agent stood before its latest assignments is re-filed ([`State::settle`]), and the
    /// look goes on past it (round robin, which wraps around, starts again) (see [`route`]):
    /// O(log a + x + s · K · log a) for `s` such entries, each re-filed once.
    pub(crate) fn pick(&mut self, g: GroupKey, home: GroupKey, c: ConvKey) -> Option<AgentKey> {
        self.pick_excluding(g, home, c, None)
    }

    /// [`State::pick`] excluding the agents `excluded` instead of those the conversation
    /// excludes, when given.
    pub(crate) fn pick_excluding(
        &mut self,
        g: GroupKey,
        home: GroupKey,
        c: ConvKey,
        excluded: Option<&[AgentKey]>,
    ) -> Option<AgentKey> {
        let conv = self.conv(c);
        let (kind, r) = (conv.kind_key, conv.req);
        let group = self.group(g);
        debug_assert!(
            r != 0 || group.indexed,
            "work without requirements that names a group has it indexed"
        );
        let own = home == g;
        let look = Look {
            g,
            home,
            kind,
            own,
            strategy: group.strategy,
            cursor: group.cursor,
            route: match r {
                0 => None,
                r => Some(*group.routes.get(&r)?),
            },
            below: own && group.agent_cap.is_some(),
            capped: !own
                && self
                    .groups
                    .get(&home)
                    .is_some_and(|h| h.agent_cap.is_some()),
        };
        // Where the look goes on after a stale entry is re-filed: every entry before it was
        // passed over, and the re-filed one goes after it. Round robin, which wraps around,
        // starts again.
        let mut from = None;
        loop {
            let key = self.scan(&look, c, excluded, from.as_ref())?;
            let Some(k) = look.route else {
                return Some(key.agent);
            };
            if self.settle(k, &key, kind, look.below) {
                return Some(key.agent);
            }
            if look.strategy != Strategy::RoundRobin {
                from = Some(key);
            }
        }
    }

    /// [`State::pick`]'s look, changing nothing: the first candidate in the strategy's order
    /// (from `from` on, when given) that is not excluded and, for another group's work, is
    /// below that group's cap. In a routing key, the entry may be stale ([`State::settle`]).
    fn scan(
        &self,
        look: &Look,
        c: ConvKey,
        excluded: Option<&[AgentKey]>,
        from: Option<&CandKey>,
    ) -> Option<CandKey> {
        let excluded = excluded.unwrap_or(self.conv(c).excluded());
        let available = match look.route {
            None => &self.group(look.g).available,
            Some(k) => &self.route_at(k).available,
        };
        let candidates = available.for_work(look.kind, look.own);
        let allowed = |key: &&CandKey| {
            !excluded.contains(&key.agent)
                && (!look.capped
                    || self
                        .misfit(self.agent(key.agent), look.kind, look.home)
                        .is_none())
        };
        let found = if let Some(from) = from {
            candidates.range_from(from).find(allowed)
        } else {
            match look.strategy {
                Strategy::RoundRobin => {
                    let after = CandKey::new(
                        Strategy::RoundRobin,
                        Ratio::ZERO,
                        0,
                        0,
                        look.cursor.saturating_add(1),
                    );
                    candidates
                        .range_from(&after)
                        .find(allowed)
                        .or_else(|| candidates.iter().find(allowed))
                }
                _ => candidates.iter().find(allowed),
            }
        };
        found.copied()
    }

    /// Whether agent `a` may take conversation `conv` automatically now: it fits it in every
    /// dimension and is not excluded from it.
    pub(crate) fn available_for(&self, a: AgentKey, conv: &Conversation) -> bool {
        self.agents.get(&a).is_some_and(|agent| {
            self.misfit(agent, conv.kind_key, conv.group).is_none() && self.qualifies(agent, conv)
        }) && !conv.excluded().contains(&a)
    }

    /// Assigns through a group's strategy, moving the group's round-robin cursor.
    fn attach_by_strategy(
        &mut self,
        ctx: &mut Ctx,
        c: ConvKey,
        g: GroupKey,
        a: AgentKey,
        reason: AssignReason,
    ) {
        self.group_mut(g).cursor = a;
        self.attach(ctx, c, a, reason);
    }

    /// The visitor's last agent, if the preference is on, the service lies within the window,
    /// and the agent is a member of one of the conversation's groups.
    fn last_agent(&self, ctx: &Ctx, conv: &Conversation) -> Option<AgentKey> {
        let setting = &self.config.last_agent;
        if !setting.enabled {
            return None;
        }
        let last = self.visitors.get(&conv.visitor)?;
        if let Some(window) = setting.window_secs {
            let window = i64::try_from(window)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .unwrap_or(TimeDelta::MAX);
            if ctx.now.signed_duration_since(last.at) > window {
                return None;
            }
        }
        let a = *self.agent_ids.get(&last.agent)?;
        let agent = self.agent(a);
        conv.waiting_groups()
            .any(|g| agent.is_member(g))
            .then_some(a)
    }

    /// Finds an agent for a conversation that needs one, or queues it.
    pub(crate) fn route(&mut self, ctx: &mut Ctx, c: ConvKey) {
        if !self.try_assign(ctx, c) {
            self.enqueue(ctx, c);
        }
    }

    /// Finds an agent for a conversation that needs one; `false` when no one may take it.
    pub(crate) fn try_assign(&mut self, ctx: &mut Ctx, c: ConvKey) -> bool {
        self.choose(ctx, c)
            .map(|choice| self.take_choice(ctx, c, choice))
            .is_some()
    }

    /// Who would take a conversation that needs an agent, and why, changing nothing (R-S2,
    /// R-S1, R-S4): the designated agent, the designated group, the last agent, its own group,
    /// then the overflow groups it joined.
    pub(crate) fn choose(&mut self, ctx: &Ctx, c: ConvKey) -> Option<Choice> {
        let conv = self.conv(c);
        if let Some(d) = conv.designated_agent()
            && self.available_for(d, conv)
        {
            return Some(Choice::direct(d, AssignReason::DesignatedAgent));
        }
        if let Some(h) = conv.designated_group()
            && let Some(a) = self.pick(h, conv.group, c)
        {
            let strategy = self.group(h).strategy;
            return Some(Choice::by_strategy(
                h,
                a,
                AssignReason::DesignatedGroup { strategy },
            ));
        }
        let conv = self.conv(c);
        if let Some(a) = self.last_agent(ctx, conv)
            && self.available_for(a, conv)
        {
            return Some(Choice::direct(a, AssignReason::LastAgent));
        }
        let home = conv.group;
        if let Some(a) = self.pick(home, home, c) {
            let strategy = self.group(home).strategy;
            return Some(Choice::by_strategy(
                home,
                a,
                AssignReason::Strategy { strategy },
            ));
        }
        self.choose_overflow(c)
    }

    /// The first group the conversation joined, overflow groups (R-S4) then its stages'
    /// groups (R-SK2), with a member free, and that member.
    fn choose_overflow(&mut self, c: ConvKey) -> Option<Choice> {
        // By position: a pick may re-file candidates, and the groups are the conversation's.
        let mut i = 0;
        loop {
            let g = self.conv(c).extra_groups().nth(i)?;
            i += 1;
            let home = self.conv(c).group;
            if let Some(a) = self.pick(g, home, c) {
                let group = self.group(g);
                let reason = AssignReason::Overflow {
                    group: group.id.clone(),
                    strategy: group.strategy,
                };
                return Some(Choice::by_strategy(g, a, reason));
            }
        }
    }

    /// Offers a conversation to the overflow groups it has joined, in order (R-S4).
    pub(crate) fn try_overflow_groups(&mut self, ctx: &mut Ctx, c: ConvKey) -> bool {
        self.choose_overflow(c)
            .map(|choice| self.take_choice(ctx, c, choice))
            .is_some()
    }

    /// Gives the conversation to the chosen agent, moving the round-robin cursor of the group
    /// whose strategy chose it.
    fn take_choice(&mut self, ctx: &mut Ctx, c: ConvKey, choice: Choice) {
        match choice.group {
            Some(g) => self.attach_by_strategy(ctx, c, g, choice.agent, choice.reason),
            None => self.attach(ctx, c, choice.agent, choice.reason),
        }
    }

    /// Fills agent `a` with waiting work until it is full or nothing it may take waits (R-D1,
    /// R-K5). Per conversation taken: O(g · K · (log n + x)), where `x` is the number of
    /// waiting conversations ahead in its queues that it may not take (see the module docs);
    /// stalled conversations are not in the way.
    pub(crate) fn drain(&mut self, ctx: &mut Ctx, a: AgentKey, trigger: DrainTrigger) {
        while let Some(key) = self.best_work(a) {
            self.attach(ctx, key.conv, a, AssignReason::Drain { trigger });
        }
    }

    /// The best waiting conversation agent `a` may take now (R-D1, R-K5): the first of those
    /// that designated it that fits, else the best (smallest queue key: priority with aging,
    /// then arrival) among the heads of what it may take in each of its groups' queues, per
    /// kind it fits there. A kind it fits but for its group's cap leaves it that group's
    /// queue of other groups' work.
    fn best_work(&self, a: AgentKey) -> Option<QueueKey> {
        let agent = self.agent(a);
        agent.listed?;
        let may_take = |key: &&QueueKey| {
            let conv = self.conv(key.conv);
            !conv.stalled
                && !conv.excluded().contains(&a)
                && self.misfit(agent, conv.kind_key, conv.group).is_none()
                && self.qualifies(agent, conv)
        };
        if let Some(key) = agent.designated.iter().find(may_take) {
            return Some(*key);
        }
        let mut best: Option<QueueKey> = None;
        let mut consider = |head: Option<&QueueKey>| {
            if let Some(head) = head
                && best.is_none_or(|b| *head < b)
            {
                best = Some(*head);
            }
        };
        for m in &agent.groups {
            let group = self.group(m.group);
            consider(self.head_for(agent, a, m.group, group, &group.queue));
        }
        for f in &agent.routes {
            let route = self.route_at(f.route);
            let group = self.group(route.group);
            consider(self.head_for(agent, a, route.group, group, &route.queue));
        }
        best
    }

    /// The first waiting conversation agent `a` may take among `queue`, group `g`'s waiting
    /// work that requires nothing or one of its routing keys' (which the agent meets): the
    /// best of the heads of the kinds it fits. A kind it fits but for `g`'s cap leaves it the
    /// work of other groups waiting in `g`.
    fn head_for<'q>(
        &self,
        agent: &Agent,
        a: AgentKey,
        g: GroupKey,
        group: &Group,
        queue: &'q Waiting,
    ) -> Option<&'q QueueKey> {
        let mut best: Option<&QueueKey> = None;
        for kind in 0..self.kinds.len() {
            let work = Work {
                kind,
                home: g,
                cap: group.agent_cap,
            };
            let part = match fit::misfit_eligible(&self.kinds, agent, work) {
                None => queue.of_kind(kind),
                Some(Misfit::GroupCap) => queue.foreign(kind),
                Some(_) => continue,
            };
            // The group's own work fits as checked; another group's, against its cap.
            let head = part.live().find(|key| {
                let conv = self.conv(key.conv);
                !conv.excluded().contains(&a)
                    && (conv.group == g || self.misfit(agent, conv.kind_key, conv.group).is_none())
            });
            if let Some(head) = head
                && best.is_none_or(|b| head < b)
            {
                best = Some(head);
            }
        }
        best
    }

    /// Drains every agent that has room, in registration order: after a change that can make
    /// many agents eligible at once (a new config). O(agents · log agents) plus the work taken.
    pub(crate) fn drain_all(&mut self, ctx: &mut Ctx, trigger: DrainTrigger) {
        let ready: Vec<AgentKey> = self
            .agents
            .iter()
            .filter(|(_, agent)| agent.listed.is_some())
            .map(|(k, _)| *k)
            .collect();
        for a in ready {
            self.drain(ctx, a, trigger);
        }
    }
}
