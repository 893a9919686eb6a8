//! How the agent is chosen, and how an agent with room chooses waiting work.
//!
//! Choosing an agent for a conversation (`route`) tries, in order: the designated agent, the
//! designated group's strategy, the last agent, the conversation's group's strategy; with no
//! one available the conversation queues (R-S1, R-S2, R-Q1). Each step is a lookup in an
//! ordered index: O(log agents), plus one step per excluded agent skipped.
//!
//! Choosing work for an agent that has room (`drain`, R-D1) takes, while the agent stays
//! below its limit, the best waiting conversation among those that designated it and the heads
//! of its groups' queues: O(groups · (log n + x)) per conversation taken, never a scan of a
//! queue. Conversations past the redirect limit wait apart (see [`Queue`]) and cost a drain
//! nothing; `x` counts the waiting conversations the agent is excluded from (it transferred,
//! declined or missed them), which it steps over one by one where they sit ahead of what it
//! may take.

pub(crate) mod candidates;
pub(crate) mod queue;

use chrono::TimeDelta;

use crate::conversation::Conversation;
use crate::ctx::Ctx;
use crate::event::{AssignReason, DrainTrigger};
use crate::keys::{AgentKey, ConvKey, GroupKey};
use crate::routing::candidates::{CandKey, Ratio};
use crate::routing::queue::QueueKey;
use crate::store::State;
use crate::strategy::Strategy;

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
    /// The best available member of group `g` under the group's strategy, other than the
    /// `excluded` agents.
    pub(crate) fn pick(&self, g: GroupKey, excluded: &[AgentKey]) -> Option<AgentKey> {
        let group = self.group(g);
        let allowed = |k: &&CandKey| !excluded.contains(&k.agent);
        let found = match group.strategy {
            Strategy::RoundRobin => {
                let after = CandKey::new(
                    Strategy::RoundRobin,
                    Ratio::ZERO,
                    0,
                    0,
                    group.cursor.saturating_add(1),
                );
                group
                    .available
                    .range(after..)
                    .find(allowed)
                    .or_else(|| group.available.iter().find(allowed))
            }
            _ => group.available.iter().find(allowed),
        };
        found.map(|k| k.agent)
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
    pub(crate) fn choose(&self, ctx: &Ctx, c: ConvKey) -> Option<Choice> {
        let conv = self.conv(c);
        if let Some(d) = conv.designated_agent()
            && self.available_for(d, conv)
        {
            return Some(Choice::direct(d, AssignReason::DesignatedAgent));
        }
        if let Some(h) = conv.designated_group()
            && let Some(a) = self.pick(h, conv.excluded())
        {
            let strategy = self.group(h).strategy;
            return Some(Choice::by_strategy(
                h,
                a,
                AssignReason::DesignatedGroup { strategy },
            ));
        }
        if let Some(a) = self.last_agent(ctx, conv)
            && self.available_for(a, conv)
        {
            return Some(Choice::direct(a, AssignReason::LastAgent));
        }
        let home = conv.group;
        if let Some(a) = self.pick(home, conv.excluded()) {
            let strategy = self.group(home).strategy;
            return Some(Choice::by_strategy(
                home,
                a,
                AssignReason::Strategy { strategy },
            ));
        }
        self.choose_overflow(c)
    }

    /// The first overflow group the conversation joined with a member free (R-S4), and that
    /// member.
    fn choose_overflow(&self, c: ConvKey) -> Option<Choice> {
        let conv = self.conv(c);
        conv.overflow().iter().find_map(|&g| {
            let a = self.pick(g, conv.excluded())?;
            let group = self.group(g);
            let reason = AssignReason::Overflow {
                group: group.id.clone(),
                strategy: group.strategy,
            };
            Some(Choice::by_strategy(g, a, reason))
        })
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

    /// Fills agent `a` with waiting work until it is full or nothing it may take waits. Per
    /// conversation taken: O(g · (log n + x)), where `x` is the number of waiting conversations
    /// ahead in its queues that exclude the agent; stalled conversations are not in the way.
    pub(crate) fn drain(&mut self, ctx: &mut Ctx, a: AgentKey, trigger: DrainTrigger) {
        loop {
            let agent = self.agent(a);
            if agent.listed.is_none() {
                return;
            }
            let allowed = |k: &&QueueKey| {
                let conv = self.conv(k.conv);
                !conv.stalled && !conv.excluded().contains(&a)
            };
            let best = agent.designated.iter().find(allowed).copied().or_else(|| {
                agent
                    .groups
                    .iter()
                    .filter_map(|m| self.group(m.group).queue.live().find(allowed).copied())
                    .min()
            });
            let Some(key) = best else {
                return;
            };
            self.attach(ctx, key.conv, a, AssignReason::Drain { trigger });
        }
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
