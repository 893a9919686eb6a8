//! Snooze (R-Z1, R-Z2): an agent parks an active conversation until a time, in asynchronous
//! mode; it keeps its agent and its timers stop until the snooze lifts. Reassigned to another
//! agent (R-X1, R-X2), it takes its snooze along.

use chrono::{DateTime, Utc};

use crate::config::ReceptionMode;
use crate::conversation::Phase;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{AssignReason, DrainTrigger, Event, ReplyGoal, WakeReason};
use crate::ids::ConversationId;
use crate::keys::{AgentKey, ConvKey};
use crate::store::State;
use crate::timers::timer::{Slot, TimerKind, after};

impl State {
    /// `Snooze`: checks the mode and the time for the whole batch, then snoozes each
    /// conversation. Per conversation O(log t), plus O(g · K · log a) and the work the agent
    /// takes when the kind's paused work holds no units.
    pub(crate) fn snooze(
        &mut self,
        ctx: &mut Ctx,
        conversations: Vec<ConversationId>,
        until: DateTime<Utc>,
    ) -> Result<(), Error> {
        if self.config.mode != ReceptionMode::Asynchronous {
            return Err(Error::WrongMode {
                operation: "snooze".into(),
                mode: self.config.mode.name().into(),
            });
        }
        if until <= ctx.now {
            return Err(Error::SnoozeNotInFuture {
                until,
                now: ctx.now,
            });
        }
        self.batch(ctx, conversations, |state, ctx, id| {
            state.snooze_one(ctx, id, until)
        })
    }

    fn snooze_one(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
        until: DateTime<Utc>,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let conv = self.conv(c);
        let Some(a) = conv.agent() else {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: conv.phase.name().into(),
                operation: "snooze".into(),
            });
        };

        self.sla_pause(ctx, c);
        self.disarm(c, Slot::Inactivity);
        self.disarm(c, Slot::Reception);
        self.conv_mut(c).phase = Phase::Snoozed { agent: a, until };
        self.snoozed.insert((until, c));
        self.arm(c, until, TimerKind::SnoozeEnds);
        self.counters.active -= 1;
        self.counters.snoozed += 1;
        self.counters.snoozes += 1;
        ctx.emit(Event::ConversationSnoozed {
            conversation: id.clone(),
            agent: self.agent(a).id.clone(),
            until,
        });
        if !self.kinds.get(self.conv(c).kind_key).paused_holds {
            self.set_holding(c, a, false);
            self.drain(ctx, a, DrainTrigger::CapacityFreed);
        }
        Ok(())
    }

    /// Hands a snoozed conversation to agent `b` with its snooze (R-X1, R-Z1): `b` holds it
    /// snoozed until the same time (the same deadline, the same place in the snoozed
    /// bucket), counted toward `b`'s load as snoozed work is. It is a new stint for `b`: a
    /// first-reply goal whose clock starts when the snooze lifts, and no reminder meanwhile.
    /// Reports the assignment, then the snooze under `b`. The caller reports the transfer
    /// and lets the previous agent take work. O(g · log a).
    pub(crate) fn move_snoozed(
        &mut self,
        ctx: &mut Ctx,
        c: ConvKey,
        b: AgentKey,
        reason: AssignReason,
    ) {
        let Phase::Snoozed { agent: a, until } = self.conv(c).phase else {
            return;
        };
        let counted = self.holds_units(self.conv(c));
        self.let_go(ctx, c, a, counted);
        let (agent, load, limit) = self.take_on(ctx, c, b, counted, &reason);
        let skills = self.skill_match(c, b);
        let conv = self.conv_mut(c);
        conv.phase = Phase::Snoozed { agent: b, until };
        conv.replied = false;
        let conversation = conv.id.clone();
        let kind = conv.kind.clone();
        ctx.emit(Event::ConversationAssigned {
            conversation: conversation.clone(),
            agent: agent.clone(),
            reason,
            load,
            limit,
            kind,
            skills,
        });
        self.sla_start(ctx, c, ReplyGoal::FirstReply);
        self.sla_pause(ctx, c);
        ctx.emit(Event::ConversationSnoozed {
            conversation,
            agent,
            until,
        });
    }

    /// Lifts a snooze: the conversation is active with its agent again, its reply goal's clock
    /// runs on, and the visitor's silence is timed afresh if the agent spoke last.
    pub(crate) fn wake(&mut self, ctx: &mut Ctx, c: ConvKey, reason: WakeReason) {
        let Phase::Snoozed { agent: a, until } = self.conv(c).phase else {
            return;
        };
        self.snoozed.remove(&(until, c));
        self.disarm(c, Slot::Snooze);
        self.conv_mut(c).phase = Phase::Active { agent: a };
        self.counters.snoozed -= 1;
        self.counters.active += 1;
        if !self.kinds.get(self.conv(c).kind_key).paused_holds {
            self.set_holding(c, a, true);
        }
        ctx.emit(Event::ConversationWoke {
            conversation: self.conv(c).id.clone(),
            agent: self.agent(a).id.clone(),
            reason,
        });
        self.sla_resume(ctx, c);
        if self.conv(c).silent_since.is_some() {
            self.inactivity_start(ctx, c);
        }
        if let (false, Some(secs)) = (
            self.conv(c).replied,
            self.config.reception.first_reply_timeout_secs,
        ) {
            self.arm(c, after(ctx.now, secs), TimerKind::FirstReplyTimeout);
        }
    }
}
