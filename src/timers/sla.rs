//! Reply-time goals (R-L1): armed when an agent gets a conversation or the visitor writes,
//! met by the agent's reply, paused while snoozed.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ctx::Ctx;
use crate::event::{Event, ReplyGoal};
use crate::keys::ConvKey;
use crate::store::State;
use crate::timers::timer::Goal;
use crate::timers::timer::{Slot, TimerKind};

impl Goal {
    /// When the goal is breached if its clock keeps running from `since`.
    fn breach_at(&self, since: DateTime<Utc>) -> DateTime<Utc> {
        at_ms(since, self.target_ms.saturating_sub(self.spent_ms))
    }
}

fn at_ms(since: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    since
        .checked_add_signed(TimeDelta::milliseconds(
            ms.clamp(-1_000_000_000_000, 1_000_000_000_000_000),
        ))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).map_or(i64::MAX, |s| s.saturating_mul(1000))
}

impl State {
    /// Opens a reply goal of `kind`, if the config sets a target for it.
    pub(crate) fn sla_start(&mut self, ctx: &Ctx, c: ConvKey, kind: ReplyGoal) {
        let target = match kind {
            ReplyGoal::FirstReply => self.config.sla.first_reply_secs,
            ReplyGoal::NextReply => self.config.sla.next_reply_secs,
        };
        let Some(target) = target else {
            return;
        };
        self.conv_mut(c).goal = Some(Box::new(Goal {
            kind,
            target_ms: secs_to_ms(target),
            spent_ms: 0,
            running_since: Some(ctx.now),
            warned: false,
            breached: false,
        }));
        self.sla_arm(c);
    }

    /// Arms the goal's next timer: the warning, else the breach, else nothing.
    fn sla_arm(&mut self, c: ConvKey) {
        let warn_ms = self.config.sla.warn_before_secs.map(secs_to_ms);
        let Some(goal) = &self.conv(c).goal else {
            return;
        };
        let Some(since) = goal.running_since else {
            return;
        };
        if goal.breached {
            return;
        }
        let breach_at = goal.breach_at(since);
        match warn_ms {
            Some(warn) if !goal.warned => {
                let warn_at = at_ms(breach_at, -warn).max(since);
                self.arm(c, warn_at, TimerKind::SlaWarning);
            }
            _ => self.arm(c, breach_at, TimerKind::SlaBreach),
        }
    }

    /// Stops the goal's clock (snooze). The time spent so far is kept.
    pub(crate) fn sla_pause(&mut self, ctx: &Ctx, c: ConvKey) {
        self.disarm(c, Slot::Sla);
        if let Some(goal) = &mut self.conv_mut(c).goal
            && let Some(since) = goal.running_since.take()
        {
            let ran = ctx.now.signed_duration_since(since).num_milliseconds();
            goal.spent_ms = goal.spent_ms.saturating_add(ran.max(0));
        }
    }

    /// Starts the goal's clock again (the snooze lifted).
    pub(crate) fn sla_resume(&mut self, ctx: &Ctx, c: ConvKey) {
        if let Some(goal) = &mut self.conv_mut(c).goal {
            goal.running_since = Some(ctx.now);
        }
        self.sla_arm(c);
    }

    /// The agent replied: the open goal is met.
    pub(crate) fn sla_meet(&mut self, c: ConvKey) {
        self.disarm(c, Slot::Sla);
        self.conv_mut(c).goal = None;
    }

    pub(super) fn sla_warn(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let Some(goal) = &mut self.conv_mut(c).goal else {
            return;
        };
        goal.warned = true;
        let kind = goal.kind;
        let breach_at = goal.breach_at(goal.running_since.unwrap_or(ctx.now));
        self.sla_arm(c);
        self.counters.sla_warnings += 1;
        let (conversation, agent) = self.conv_and_holder_ids(c);
        ctx.emit(Event::SlaWarning {
            conversation,
            agent,
            goal: kind,
            breach_at,
        });
    }

    pub(super) fn sla_breach(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let Some(goal) = &mut self.conv_mut(c).goal else {
            return;
        };
        goal.breached = true;
        let kind = goal.kind;
        self.counters.sla_breaches += 1;
        let (conversation, agent) = self.conv_and_holder_ids(c);
        ctx.emit(Event::SlaBreached {
            conversation,
            agent,
            goal: kind,
        });
    }
}
