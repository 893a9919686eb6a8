//! Deadlines: one ordered index of every armed timer, so that a `Tick` costs in proportion to
//! what is due, and `next_deadline` is the first entry.
//!
//! Each conversation has at most one armed timer per [`Slot`]; the conversation records it so
//! it can be disarmed in O(log t). Timers are derived from the conversations and rebuilt on
//! restore.

mod inactivity;
mod sla;
pub(crate) mod timer;

use chrono::{DateTime, Utc};

use crate::conversation::Phase;
use crate::ctx::Ctx;
use crate::event::WakeReason;
use crate::keys::ConvKey;
use crate::store::State;
use crate::timers::timer::{Slot, Slots, Timer, TimerKind};

impl State {
    /// A new timer, not yet in the index.
    pub(crate) fn new_timer(&mut self, subject: u64, at: DateTime<Utc>, kind: TimerKind) -> Timer {
        self.timer_seq += 1;
        Timer {
            at,
            seq: self.timer_seq,
            subject,
            kind,
        }
    }

    /// Arms (or re-arms) a conversation's timer in `kind`'s slot. O(log t).
    pub(crate) fn arm(&mut self, c: ConvKey, at: DateTime<Utc>, kind: TimerKind) {
        self.disarm(c, kind.slot());
        let timer = self.new_timer(c, at, kind);
        self.timers.insert(timer);
        self.conv_mut(c).timers.put(timer);
    }

    /// Disarms a conversation's timer in `slot`, if armed. O(log t).
    pub(crate) fn disarm(&mut self, c: ConvKey, slot: Slot) {
        if let Some(timer) = self.conv_mut(c).timers.take(slot) {
            self.timers.remove(&timer);
        }
    }

    /// Disarms every timer of a conversation.
    pub(crate) fn disarm_all(&mut self, c: ConvKey) {
        let Slots(timers) = std::mem::take(&mut self.conv_mut(c).timers);
        for timer in timers {
            self.timers.remove(&timer);
        }
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.timers.first().map(|t| t.at)
    }

    /// `Tick`: fires every timer due at or before now, earliest first. O(due · log t), plus
    /// what the timers do.
    pub(crate) fn tick(&mut self, ctx: &mut Ctx) {
        while let Some(timer) = self.timers.first().copied() {
            if timer.at > ctx.now {
                break;
            }
            self.timers.remove(&timer);
            let c = timer.subject;
            if timer.kind == TimerKind::ShiftBoundary {
                self.schedule_mut(c).timer = None;
                self.shift_boundary(ctx, c);
                continue;
            }
            self.conv_mut(c).timers.take(timer.kind.slot());
            match timer.kind {
                TimerKind::ShiftBoundary => {}
                TimerKind::SnoozeEnds => {
                    if matches!(self.conv(c).phase, Phase::Snoozed { .. }) {
                        self.wake(ctx, c, WakeReason::SnoozeEnded);
                    }
                }
                TimerKind::OfferExpires => self.offer_expired(ctx, c),
                TimerKind::FirstReplyTimeout => self.first_reply_timed_out(ctx, c),
                TimerKind::MaxWait => self.max_wait_reached(ctx, c, timer.at),
                TimerKind::Stage => self.advance(ctx, c),
                TimerKind::SlaWarning => self.sla_warn(ctx, c),
                TimerKind::SlaBreach => self.sla_breach(ctx, c),
                TimerKind::InactivityReminder => self.inactivity_remind(ctx, c),
                TimerKind::InactivityEnd => self.inactivity_end(ctx, c),
            }
        }
    }
}
