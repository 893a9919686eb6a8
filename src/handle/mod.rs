//! One handler per command: each validates everything first, then mutates (R-C4).

mod agents;
mod claim;
mod conversations;
mod groups;
mod manual;
mod messages;
mod offers;
mod schedules;
mod skills;
mod snooze;
mod waiting;

use crate::command::Command;
use crate::config::{Config, ReceptionMode};
use crate::conversation::Phase;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{DrainTrigger, Event, PoolReason, WakeReason};
use crate::ids::{AgentId, ConversationId, GroupId};
use crate::keys::{AgentKey, ConvKey, GroupKey, KindKey};
use crate::kinds::Kinds;
use crate::outcome::ItemResult;
use crate::store::State;
use crate::timers::timer::{Slot, TimerKind, after};

impl State {
    /// Applies one command. On `Err` nothing has changed.
    pub(crate) fn apply(&mut self, ctx: &mut Ctx, command: Command) -> Result<(), Error> {
        match command {
            Command::VisitorArrives(arrival) => self.visitor_arrives(ctx, arrival),
            Command::VisitorLeaves { conversation } => self.visitor_leaves(ctx, &conversation),
            Command::AgentStatusChanged { agent, status } => {
                self.agent_status_changed(ctx, &agent, status)
            }
            Command::Snooze {
                conversations,
                until,
            } => self.snooze(ctx, conversations, until),
            Command::Message { conversation, from } => self.message(ctx, &conversation, from),
            Command::Claim {
                agent,
                conversation,
            } => self.claim(ctx, &agent, conversation.as_ref()),
            Command::SetReceptionMode { mode } => {
                if mode == self.config.mode {
                    return Ok(());
                }
                let config = Config {
                    mode,
                    ..self.config.clone()
                };
                self.update_config(ctx, config)
            }
            Command::AssignManually {
                conversations,
                target,
            } => self.assign_manually(ctx, conversations, &target),
            Command::EndConversations {
                conversations,
                reason,
            } => self.batch(ctx, conversations, |state, ctx, id| {
                state.end_conversation(ctx, id, reason)
            }),
            Command::Transfer { conversation, to } => self.transfer(ctx, &conversation, to),
            Command::AcceptOffer {
                conversation,
                agent,
            } => self.accept_offer(ctx, &conversation, &agent),
            Command::DeclineOffer {
                conversation,
                agent,
            } => self.decline_offer(ctx, &conversation, &agent),
            Command::LeaveMessage { conversation } => self.leave_message(ctx, &conversation),
            Command::DefineSchedule(spec) => self.define_schedule(ctx, spec),
            Command::RemoveSchedule { schedule } => self.remove_schedule(ctx, &schedule),
            Command::Tick => {
                self.tick(ctx);
                Ok(())
            }
            Command::RegisterAgent(spec) => self.register_agent(ctx, spec),
            Command::UpdateAgent(update) => self.update_agent(ctx, update),
            Command::RemoveAgent { agent } => self.remove_agent(ctx, &agent),
            Command::RegisterGroup(spec) => self.register_group(ctx, spec),
            Command::UpdateGroup(update) => self.update_group(ctx, update),
            Command::RemoveGroup { group } => self.remove_group(ctx, &group),
            Command::UpdateConfig(config) => self.update_config(ctx, config),
            Command::Forget { conversations } => {
                self.batch(ctx, conversations, |state, ctx, id| state.forget(ctx, id))
            }
            Command::ForgetVisitor { visitor } => self.forget_visitor(ctx, visitor),
        }
    }

    /// Runs `item` on each conversation of a batch, recording one result each (R-C8).
    pub(crate) fn batch(
        &mut self,
        ctx: &mut Ctx,
        conversations: Vec<ConversationId>,
        mut item: impl FnMut(&mut State, &mut Ctx, &ConversationId) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if conversations.is_empty() {
            return Err(Error::EmptyBatch);
        }
        for conversation in conversations {
            let result = item(self, ctx, &conversation);
            ctx.results.push(ItemResult {
                conversation,
                result,
            });
        }
        Ok(())
    }

    pub(crate) fn agent_key(&self, agent: &AgentId) -> Result<AgentKey, Error> {
        self.agent_ids
            .get(agent)
            .copied()
            .ok_or_else(|| Error::UnknownAgent {
                agent: agent.clone(),
            })
    }

    pub(crate) fn group_key(&self, group: &GroupId) -> Result<GroupKey, Error> {
        self.group_ids
            .get(group)
            .copied()
            .ok_or_else(|| Error::UnknownGroup {
                group: group.clone(),
            })
    }

    pub(crate) fn conv_key(&self, conversation: &ConversationId) -> Result<ConvKey, Error> {
        self.conv_ids
            .get(conversation)
            .copied()
            .ok_or_else(|| Error::UnknownConversation {
                conversation: conversation.clone(),
            })
    }

    /// `UpdateConfig` and `SetReceptionMode`: a rebuild, O(a · g · K · log a + n · log n),
    /// plus O(conversations) to check the kinds it leaves out, and an event per waiting or
    /// snoozed conversation when the mode changes.
    fn update_config(&mut self, ctx: &mut Ctx, config: Config) -> Result<(), Error> {
        self.check_config(&config)?;
        if let Some(agent) = self
            .agents
            .values()
            .find(|a| a.status.assignable(&config).is_none())
        {
            return Err(Error::InvalidConfig {
                field: "custom_statuses".into(),
                problem: format!(
                    "drops status `{}`, which agent `{}` is in",
                    agent.status, agent.id
                ),
            });
        }
        self.check_kinds_kept(&config)?;
        self.check_skills_kept(&config)?;

        let from = self.config.mode;
        let to = config.mode;
        // The cause comes first (R-C2): the new config, then what it does to the snoozed and
        // waiting conversations.
        ctx.emit(Event::ConfigUpdated);
        if from != to {
            ctx.emit(Event::ReceptionModeChanged { from, to });
        }
        if from == ReceptionMode::Asynchronous && to == ReceptionMode::RealTime {
            let snoozed: Vec<ConvKey> = self.snoozed.iter().map(|(_, c)| *c).collect();
            for c in snoozed {
                self.wake(ctx, c, WakeReason::ModeChanged);
            }
        }
        let queues: Vec<GroupKey> = self
            .groups
            .iter()
            .filter(|(_, g)| !g.queue.is_empty())
            .map(|(k, _)| *k)
            .collect();
        for g in queues {
            self.touch(ctx, g);
        }
        self.config = config;
        self.rebuild();
        if from != to {
            self.move_waiting(ctx);
        }
        self.stop_switched_off_timers();
        let offering: Vec<AgentKey> = self
            .agents
            .iter()
            .filter(|(_, agent)| !self.eligible(agent))
            .filter(|(_, agent)| {
                agent
                    .held()
                    .any(|c| matches!(self.conv(c).phase, Phase::Offered { .. }))
            })
            .map(|(a, _)| *a)
            .collect();
        for a in offering {
            self.withdraw_offers(ctx, a);
        }
        self.drain_all(ctx, DrainTrigger::ConfigUpdated);
        Ok(())
    }

    /// Checks a config against the state: what [`Config::validate`] checks, plus the
    /// schedules it names and working-hours routing's need for a scheduled agent (R-W2).
    pub(crate) fn check_config(&self, config: &Config) -> Result<(), Error> {
        config.validate()?;
        if let Some(id) = &config.service_hours {
            self.schedule_key(id)?;
        }
        if config.working_hours
            && !self.config.working_hours
            && !self.agents.values().any(|a| !a.schedules.is_empty())
        {
            return Err(Error::NoScheduledAgent);
        }
        Ok(())
    }

    /// Refuses a config that leaves out a kind of work open conversations have (R-K1).
    /// O(conversations + kinds²).
    fn check_kinds_kept(&self, config: &Config) -> Result<(), Error> {
        let next = Kinds::compile(config);
        let gone: Vec<KindKey> = self
            .kinds
            .iter()
            .filter(|(_, kind)| next.key(&kind.id).is_none())
            .map(|(k, _)| k)
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        let mut open = vec![0u64; self.kinds.len()];
        for c in self.conversations.values() {
            if c.phase.is_open()
                && let Some(n) = open.get_mut(c.kind_key)
            {
                *n += 1;
            }
        }
        match gone.into_iter().find(|k| open[*k] > 0) {
            Some(k) => Err(Error::KindInUse {
                kind: self.kinds.get(k).id.clone(),
                conversations: open[k],
            }),
            None => Ok(()),
        }
    }

    /// A feature switched off stops its running timers: reply goals, visitor-inactivity
    /// clocks, first-reply limits, maximum waits. Changed values apply to timers armed after
    /// the change. O(conversations) when something was switched off.
    fn stop_switched_off_timers(&mut self) {
        let config = &self.config;
        let off: Vec<Slot> = [
            (
                config.sla.first_reply_secs.is_none() && config.sla.next_reply_secs.is_none(),
                Slot::Sla,
            ),
            (
                config.inactivity.reminder_after_secs.is_none()
                    && config.inactivity.end_after_secs.is_none(),
                Slot::Inactivity,
            ),
            (config.queue.max_wait_secs.is_none(), Slot::Wait),
        ]
        .into_iter()
        .filter_map(|(off, slot)| off.then_some(slot))
        .collect();
        let first_reply_off = config.reception.first_reply_timeout_secs.is_none();
        let armed: Vec<ConvKey> = self
            .conversations
            .iter()
            .filter(|(_, c)| {
                (off.contains(&Slot::Sla) && c.goal.is_some())
                    || c.timers.iter().any(|t| {
                        off.contains(&t.kind.slot())
                            || (first_reply_off && t.kind == TimerKind::FirstReplyTimeout)
                    })
            })
            .map(|(k, _)| k)
            .collect();
        for c in armed {
            // The visitor's silence is forgotten where its clock ran; a snoozed conversation
            // (clock stopped) or a reply made while inactivity was off keeps it, to be timed
            // afresh when the conversation wakes, as after any snooze.
            let silence_ran = self.conv(c).timers.get(Slot::Inactivity).is_some();
            for &slot in &off {
                self.disarm(c, slot);
            }
            if first_reply_off
                && self
                    .conv(c)
                    .timers
                    .get(Slot::Reception)
                    .is_some_and(|t| t.kind == TimerKind::FirstReplyTimeout)
            {
                self.disarm(c, Slot::Reception);
            }
            let conv = self.conv_mut(c);
            if off.contains(&Slot::Sla) {
                conv.goal = None;
            }
            if off.contains(&Slot::Inactivity) && silence_ran {
                conv.silent_since = None;
                conv.reminded = false;
            }
        }
    }

    /// After a mode switch: every waiting conversation, in arrival order, joins the pool or its
    /// queue (the indexes are already re-keyed by the rebuild).
    fn move_waiting(&mut self, ctx: &mut Ctx) {
        let mut waiting: Vec<(u64, ConvKey)> =
            self.waiting.iter().map(|k| (k.seq, k.conv)).collect();
        waiting.sort_unstable();
        for (_, c) in waiting {
            let conv = self.conv(c);
            let (conversation, group) = (conv.id.clone(), self.group(conv.group).id.clone());
            match self.config.mode {
                ReceptionMode::Asynchronous => {
                    self.disarm(c, Slot::Wait);
                    self.conv_mut(c).phase = Phase::Pooled;
                    self.counters.pooled += 1;
                    ctx.emit(Event::ConversationPooled {
                        conversation,
                        group,
                        reason: PoolReason::ModeChanged,
                    });
                }
                ReceptionMode::RealTime => {
                    self.conv_mut(c).phase = Phase::Queued;
                    self.counters.queued += 1;
                    if let Some(secs) = self.config.queue.max_wait_secs {
                        self.arm(c, after(ctx.now, secs), TimerKind::MaxWait);
                    }
                    let position = self.position(self.conv(c)).unwrap_or(0);
                    ctx.entered.insert(c, position);
                    ctx.emit(Event::ConversationQueued {
                        conversation,
                        group,
                        position,
                    });
                }
            }
        }
    }
}
