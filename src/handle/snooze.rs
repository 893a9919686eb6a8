//! Snooze (R-Z1, R-Z2): an agent parks an active conversation until a time, in asynchronous
//! mode; it keeps its agent and its timers stop until the snooze lifts.

use chrono::{DateTime, Utc};

use crate::config::ReceptionMode;
use crate::conversation::Phase;
use crate::error::Error;
use crate::event::{DrainTrigger, Event, WakeReason};
use crate::ids::ConversationId;
use crate::outcome::Ctx;
use crate::store::{ConvKey, State};
use crate::timers::{Slot, TimerKind, after};

impl State {
    /// `Snooze`: checks the mode and the time for the whole batch, then snoozes each
    /// conversation. Per conversation O(log t), plus O(groups · log agents) and the work the
    /// agent takes when snoozed conversations do not count toward load.
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
        if !self.config.snoozed_count_toward_load {
            self.unlist(a);
            self.agent_mut(a).load -= 1;
            self.list(a);
            self.drain(ctx, a, DrainTrigger::CapacityFreed);
        }
        Ok(())
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
        if !self.config.snoozed_count_toward_load {
            self.unlist(a);
            self.agent_mut(a).load += 1;
            self.list(a);
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
