//! A conversation's life: arrival, abandon, end, transfer, forget.

use crate::command::Arrival;
use crate::conversation::{Conversation, Phase, Routing};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{AssignReason, DrainTrigger, EndReason, Event, WakeReason};
use crate::ids::Target;
use crate::ids::{ConversationId, VisitorId};
use crate::keys::{AgentKey, ConvKey, GroupKey};
use crate::routing::Choice;
use crate::routing::fit::Misfit;
use crate::store::State;
use crate::timers::timer::Slots;

/// Where a transfer goes, resolved to keys.
enum To {
    Agent(AgentKey),
    Group(GroupKey),
}

impl State {
    /// `VisitorArrives`: O(log agents) to find an agent, O(groups · log agents) to assign, or
    /// O(log n + min(ahead, behind)) to queue; plus O(kinds) to find a named kind.
    pub(crate) fn visitor_arrives(
        &mut self,
        ctx: &mut Ctx,
        mut arrival: Arrival,
    ) -> Result<(), Error> {
        if self.conv_ids.contains_key(&arrival.conversation) {
            return Err(Error::DuplicateConversation {
                conversation: arrival.conversation,
            });
        }
        let group = self.group_key(&arrival.group)?;
        let kind_key = match &arrival.kind {
            Some(kind) => self
                .kinds
                .key(kind)
                .ok_or_else(|| Error::UnknownKind { kind: kind.clone() })?,
            None => 0,
        };
        let (designated_agent, designated_group) = match &arrival.designated {
            None => (None, None),
            Some(Target::Agent(agent)) => (Some(self.agent_key(agent)?), None),
            Some(Target::Group(group)) => (None, Some(self.group_key(group)?)),
        };
        let joined = match &arrival.stages {
            Some(stages) => self.check_stages(&arrival.conversation, stages)?,
            None => Vec::new(),
        };

        let c = self.conversations.vacant_key();
        let seq = self.next_key();
        let conv = Conversation {
            id: arrival.conversation.clone(),
            visitor: arrival.visitor.clone(),
            group,
            priority: arrival.priority,
            kind: self.kinds.get(kind_key).id.clone(),
            kind_key,
            req: 0,
            arrived_at: ctx.now,
            routing: (arrival.designated.is_some() || arrival.stages.is_some()).then(|| {
                Box::new(Routing {
                    designated: arrival.designated.clone(),
                    designated_agent,
                    designated_group,
                    // Moved, not cloned: the event below does not name them.
                    stages: arrival.stages.take().unwrap_or_default(),
                    // A stage group that is also the designated group stays joined after the
                    // designation ends.
                    joined: joined.into_iter().filter(|g| *g != group).collect(),
                    ..Routing::default()
                })
            }),
            redirects: 0,
            stalled: false,
            replied: false,
            phase: Phase::Routing,
            waiting_since: None,
            first_assigned_at: None,
            goal: None,
            silent_since: None,
            reminded: false,
            timers: Slots::default(),
            key: c,
            seq,
        };
        self.conversations.insert(conv);
        self.conv_ids.insert(arrival.conversation.clone(), c);
        self.claim_groups(c);
        self.counters.arrived += 1;
        ctx.emit(Event::ConversationArrived {
            conversation: arrival.conversation,
            visitor: arrival.visitor,
            group: arrival.group,
            priority: arrival.priority,
            kind: self.kinds.get(kind_key).id.clone(),
        });
        if !self.try_assign(ctx, c) {
            self.arrive_waiting(ctx, c);
        }
        Ok(())
    }

    /// `VisitorLeaves`: O(log n) from a queue or the pool; from an offer, O(g · log a) plus the
    /// work the agent then takes.
    pub(crate) fn visitor_leaves(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let phase = &self.conv(c).phase;
        let offered = matches!(phase, Phase::Offered { .. });
        if !phase.is_waiting() && !offered {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: phase.name().into(),
                operation: "abandon".into(),
            });
        }

        let freed = if offered {
            Some(self.detach(ctx, c))
        } else {
            self.dequeue(ctx, c);
            None
        };
        self.retire(c);
        self.conv_mut(c).phase = Phase::Abandoned { at: ctx.now };
        self.counters.abandoned += 1;
        let group = self.group(self.conv(c).group).id.clone();
        ctx.emit(Event::ConversationAbandoned {
            conversation: id.clone(),
            group,
        });
        if let Some(a) = freed {
            self.drain(ctx, a, DrainTrigger::CapacityFreed);
        }
        Ok(())
    }

    /// One item of `EndConversations`: O(log n) for a queued one; O(groups · log agents) for an
    /// active one, plus the work its agent then takes.
    pub(crate) fn end_conversation(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
        reason: EndReason,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let phase = &self.conv(c).phase;
        if !phase.is_open() {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: phase.name().into(),
                operation: "end".into(),
            });
        }

        self.finish(ctx, c, reason);
        Ok(())
    }

    /// Ends an open conversation: out of its queue or away from its agent, timers dropped;
    /// the agent then takes waiting work.
    pub(crate) fn finish(&mut self, ctx: &mut Ctx, c: ConvKey, reason: EndReason) {
        let freed = if self.conv(c).phase.is_waiting() {
            self.dequeue(ctx, c);
            None
        } else {
            Some(self.detach(ctx, c))
        };
        self.retire(c);
        let agent = freed.map(|a| self.agent(a).id.clone());
        self.conv_mut(c).phase = Phase::Ended {
            at: ctx.now,
            reason,
            agent: agent.clone(),
        };
        self.counters.ended += 1;
        if reason == EndReason::Inactivity {
            self.counters.ended_for_inactivity += 1;
        }
        ctx.emit(Event::ConversationEnded {
            conversation: self.conv(c).id.clone(),
            agent,
            reason,
        });
        if let Some(a) = freed {
            self.drain(ctx, a, DrainTrigger::CapacityFreed);
        }
    }

    /// `Transfer`: O(g · K · log a) for both agents, plus the work the first agent then
    /// takes. A named agent must fit the conversation in every dimension (R-K1..R-K3). A snoozed conversation keeps its snooze if an agent takes it at once (with
    /// automatic reception on); otherwise the snooze lifts first.
    pub(crate) fn transfer(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
        target: Target,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let conv = self.conv(c);
        let Some(from) = conv.phase.accepted_by() else {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: conv.phase.name().into(),
                operation: "transfer".into(),
            });
        };
        let to = match &target {
            Target::Agent(agent) => {
                let b = self.agent_key(agent)?;
                let unavailable = |reason: &'static str| Error::AgentUnavailable {
                    conversation: id.clone(),
                    agent: agent.clone(),
                    reason: reason.into(),
                };
                if b == from {
                    return Err(unavailable("it already holds the conversation"));
                }
                let conv = self.conv(c);
                match self.misfit(self.agent(b), conv.kind_key, conv.group) {
                    None => {}
                    Some(Misfit::Ineligible | Misfit::Units) => {
                        return Err(unavailable(
                            "its status is not assignable or it is at its limit",
                        ));
                    }
                    Some(misfit) => return Err(unavailable(misfit.words())),
                }
                To::Agent(b)
            }
            Target::Group(group) => To::Group(self.group_key(group)?),
        };

        let group = match to {
            To::Agent(_) => None,
            To::Group(g) => Some(g),
        };
        if matches!(self.conv(c).phase, Phase::Snoozed { .. }) {
            // The new home and the exclusion first: they decide who would take it.
            self.rehome(c, group);
            self.conv_mut(c).exclude(from);
            let landing = match to {
                To::Agent(b) => Some(Choice::direct(b, AssignReason::Transfer)),
                To::Group(_) => self.choose(ctx, c),
            };
            match landing {
                Some(choice) if self.config.reception.auto_accept => {
                    self.counters.transferred += 1;
                    ctx.emit(Event::ConversationTransferred {
                        conversation: id.clone(),
                        from: self.agent(from).id.clone(),
                        to: target,
                    });
                    if let Some(g) = choice.group {
                        self.group_mut(g).cursor = choice.agent;
                    }
                    self.move_snoozed(ctx, c, choice.agent, choice.reason);
                    self.drain(ctx, from, DrainTrigger::CapacityFreed);
                    return Ok(());
                }
                _ => self.wake(ctx, c, WakeReason::Reassigned),
            }
        }
        self.detach(ctx, c);
        self.counters.transferred += 1;
        ctx.emit(Event::ConversationTransferred {
            conversation: id.clone(),
            from: self.agent(from).id.clone(),
            to: target,
        });
        self.rehome(c, group);
        let conv = self.conv_mut(c);
        conv.exclude(from);
        match to {
            To::Agent(b) => self.attach(ctx, c, b, AssignReason::Transfer),
            To::Group(_) => self.route(ctx, c),
        }
        self.drain(ctx, from, DrainTrigger::CapacityFreed);
        Ok(())
    }

    /// Moves a conversation that is not waiting (held, or out of its queue to be routed) to a
    /// new own group (if given), dropping its designations, overflow groups and stall.
    ///
    /// A held (snoozed) conversation that moves to a new group moves its units from the old
    /// group's work to the new group's on its agent (R-K3).
    pub(crate) fn rehome(&mut self, c: ConvKey, group: Option<GroupKey>) {
        self.release_groups(c);
        let conv = self.conv(c);
        let moving = group.filter(|g| *g != conv.group).and_then(|_| {
            conv.phase
                .holder()
                .filter(|_| self.holds_units(self.conv(c)))
        });
        if let Some(a) = moving {
            self.set_holding(c, a, false);
        }
        let conv = self.conv_mut(c);
        if let Some(g) = group {
            conv.group = g;
        }
        conv.drop_routes(true);
        conv.stalled = false;
        if let Some(a) = moving {
            self.set_holding(c, a, true);
        }
        self.claim_groups(c);
    }

    /// One item of `Forget`: O(log n).
    pub(crate) fn forget(&mut self, ctx: &mut Ctx, id: &ConversationId) -> Result<(), Error> {
        let c: ConvKey = self.conv_key(id)?;
        if self.conv(c).phase.is_open() {
            return Err(Error::StillOpen {
                conversation: id.clone(),
            });
        }

        self.conversations.remove(c);
        self.conv_ids.swap_remove(id);
        ctx.emit(Event::ConversationForgotten {
            conversation: id.clone(),
        });
        Ok(())
    }

    /// `ForgetVisitor`: O(1).
    pub(crate) fn forget_visitor(
        &mut self,
        ctx: &mut Ctx,
        visitor: VisitorId,
    ) -> Result<(), Error> {
        if self.visitors.swap_remove(&visitor).is_none() {
            return Err(Error::UnknownVisitor { visitor });
        }
        ctx.emit(Event::VisitorForgotten { visitor });
        Ok(())
    }
}
