//! Offers when automatic reception is off (R-R1), and redirects when an agent does not
//! respond (R-R2..R-R4).

use crate::conversation::Phase;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{AssignReason, DrainTrigger, Event};
use crate::ids::{AgentId, ConversationId};
use crate::keys::{AgentKey, ConvKey};
use crate::status::AgentStatus;
use crate::store::State;
use crate::timers::timer::Slot;

impl State {
    /// Checks that `conversation` is offered to `agent` and the offer still stands.
    fn offer_of(
        &self,
        ctx: &Ctx,
        conversation: &ConversationId,
        agent: &AgentId,
    ) -> Result<(ConvKey, AgentKey), Error> {
        let c = self.conv_key(conversation)?;
        let a = self.agent_key(agent)?;
        let Phase::Offered { agent: to, expires } = self.conv(c).phase else {
            return Err(Error::InvalidState {
                conversation: conversation.clone(),
                state: self.conv(c).phase.name().into(),
                operation: "answer the offer of".into(),
            });
        };
        if to != a {
            return Err(Error::NotOfferedTo {
                conversation: conversation.clone(),
                agent: agent.clone(),
            });
        }
        if ctx.now >= expires {
            return Err(Error::OfferExpired {
                conversation: conversation.clone(),
                expired_at: expires,
            });
        }
        Ok((c, a))
    }

    /// `AcceptOffer`: O(log t).
    pub(crate) fn accept_offer(
        &mut self,
        ctx: &mut Ctx,
        conversation: &ConversationId,
        agent: &AgentId,
    ) -> Result<(), Error> {
        let (c, a) = self.offer_of(ctx, conversation, agent)?;

        self.disarm(c, Slot::Reception);
        self.counters.offered -= 1;
        ctx.emit(Event::OfferAccepted {
            conversation: conversation.clone(),
            agent: agent.clone(),
        });
        self.activate(ctx, c, a);
        Ok(())
    }

    /// `DeclineOffer`: O(groups · log agents) to take it back and redirect it, plus the work
    /// the declining agent then takes.
    pub(crate) fn decline_offer(
        &mut self,
        ctx: &mut Ctx,
        conversation: &ConversationId,
        agent: &AgentId,
    ) -> Result<(), Error> {
        let (c, a) = self.offer_of(ctx, conversation, agent)?;

        self.detach(ctx, c);
        self.counters.offers_declined += 1;
        ctx.emit(Event::OfferDeclined {
            conversation: conversation.clone(),
            agent: agent.clone(),
        });
        self.redirect(ctx, c, a);
        self.drain(ctx, a, DrainTrigger::CapacityFreed);
        Ok(())
    }

    /// An offer's deadline passed (R-R2, R-R3).
    pub(crate) fn offer_expired(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let Phase::Offered { agent: a, .. } = self.conv(c).phase else {
            return;
        };
        self.detach(ctx, c);
        self.counters.offers_expired += 1;
        let short_break = self.config.reception.short_break_on_timeout
            && self.agent(a).status != AgentStatus::ShortBreak;
        ctx.emit(Event::OfferExpired {
            conversation: self.conv(c).id.clone(),
            agent: self.agent(a).id.clone(),
            short_break,
        });
        // The conversation that waited longest is redirected first; then the short break
        // withdraws the agent's other offers.
        self.redirect(ctx, c, a);
        if short_break {
            self.set_status(ctx, a, AgentStatus::ShortBreak);
        }
        self.drain(ctx, a, DrainTrigger::CapacityFreed);
    }

    /// An active conversation's agent did not reply in time (R-R4).
    pub(crate) fn first_reply_timed_out(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let conv = self.conv(c);
        let (Phase::Active { agent: a }, false) = (&conv.phase, conv.replied) else {
            return;
        };
        let a = *a;
        self.detach(ctx, c);
        ctx.emit(Event::FirstReplyTimedOut {
            conversation: self.conv(c).id.clone(),
            agent: self.agent(a).id.clone(),
        });
        self.redirect(ctx, c, a);
        self.drain(ctx, a, DrainTrigger::CapacityFreed);
    }

    /// Sends a conversation that `from` missed or declined to another agent of its group,
    /// never back to one who missed or declined it; with none free, back to its place in the
    /// queue or pool. Past the redirect limit it stays there for an admin (R-R2).
    fn redirect(&mut self, ctx: &mut Ctx, c: ConvKey, from: AgentKey) {
        let limit = self.config.reception.redirect_limit;
        let conv = self.conv_mut(c);
        conv.exclude(from);
        conv.redirects += 1;
        let redirects = conv.redirects;
        self.counters.redirects += 1;
        if limit.is_some_and(|limit| redirects > limit) {
            self.conv_mut(c).stalled = true;
            ctx.emit(Event::RedirectLimitReached {
                conversation: self.conv(c).id.clone(),
                redirects,
            });
            self.enqueue(ctx, c);
            return;
        }
        let home = self.conv(c).group;
        match self.pick(home, home, c) {
            Some(a) => {
                let strategy = self.group(home).strategy;
                self.group_mut(home).cursor = a;
                self.attach(ctx, c, a, AssignReason::Redirect { strategy });
            }
            None => {
                if !self.try_overflow_groups(ctx, c) {
                    self.enqueue(ctx, c);
                }
            }
        }
    }

    /// An agent stopped being eligible: its pending offers are withdrawn and routed again
    /// (R-A2).
    pub(crate) fn withdraw_offers(&mut self, ctx: &mut Ctx, a: AgentKey) {
        let offered: Vec<ConvKey> = self
            .agent(a)
            .held()
            .filter(|c| matches!(self.conv(*c).phase, Phase::Offered { .. }))
            .collect();
        for c in offered {
            self.detach(ctx, c);
            ctx.emit(Event::OfferWithdrawn {
                conversation: self.conv(c).id.clone(),
                agent: self.agent(a).id.clone(),
            });
            self.route(ctx, c);
        }
    }
}
