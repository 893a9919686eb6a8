//! Deadlines: one ordered index of every armed timer, so that a `Tick` costs in proportion to
//! what is due, and `next_deadline` is the first entry.
//!
//! Each conversation has at most one armed timer per [`Slot`]; the conversation records it so
//! it can be disarmed in O(log t). Timers are derived from the conversations and rebuilt on
//! restore.

mod inactivity;
mod sla;

pub(crate) use sla::Goal;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::Phase;
use crate::event::WakeReason;
use crate::outcome::Ctx;
use crate::store::{ConvKey, State};

/// What happens when a timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum TimerKind {
    /// A schedule's next shift start or end; the subject is a schedule key.
    ShiftBoundary,
    SnoozeEnds,
    OfferExpires,
    FirstReplyTimeout,
    MaxWait,
    Overflow,
    SlaWarning,
    SlaBreach,
    InactivityReminder,
    InactivityEnd,
}

impl TimerKind {
    /// The conversation slot it occupies; shift boundaries live on schedules instead.
    pub(crate) fn slot(self) -> Slot {
        match self {
            TimerKind::ShiftBoundary | TimerKind::SnoozeEnds => Slot::Snooze,
            TimerKind::OfferExpires | TimerKind::FirstReplyTimeout => Slot::Reception,
            TimerKind::MaxWait => Slot::Wait,
            TimerKind::Overflow => Slot::Overflow,
            TimerKind::SlaWarning | TimerKind::SlaBreach => Slot::Sla,
            TimerKind::InactivityReminder | TimerKind::InactivityEnd => Slot::Inactivity,
        }
    }
}

/// An armed timer. Ordered by time, then by the order it was armed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Timer {
    pub at: DateTime<Utc>,
    pub seq: u64,
    /// The conversation it belongs to (a schedule for shift boundaries).
    pub subject: u64,
    pub kind: TimerKind,
}

/// The kinds of timer a conversation can have armed at once, one each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Snooze,
    Reception,
    Wait,
    Overflow,
    Sla,
    Inactivity,
}

/// A conversation's armed timers, at most one per [`Slot`]. A short vector: most
/// conversations have none or one, and an empty one takes no heap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Slots(Vec<Timer>);

impl Slots {
    /// The timer in `slot`, if armed.
    pub(crate) fn get(&self, slot: Slot) -> Option<Timer> {
        self.0.iter().find(|t| t.kind.slot() == slot).copied()
    }

    /// Takes the timer out of `slot`.
    fn take(&mut self, slot: Slot) -> Option<Timer> {
        let i = self.0.iter().position(|t| t.kind.slot() == slot)?;
        Some(self.0.swap_remove(i))
    }

    /// Puts a timer in its slot, which must be empty.
    fn put(&mut self, timer: Timer) {
        debug_assert!(self.get(timer.kind.slot()).is_none(), "one timer per slot");
        self.0.push(timer);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Timer> + '_ {
        self.0.iter().copied()
    }
}

/// `at + secs`, saturating at the end of chrono's range: deadline arithmetic never overflows.
pub(crate) fn after(at: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

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
                TimerKind::Overflow => self.overflow(ctx, c),
                TimerKind::SlaWarning => self.sla_warn(ctx, c),
                TimerKind::SlaBreach => self.sla_breach(ctx, c),
                TimerKind::InactivityReminder => self.inactivity_remind(ctx, c),
                TimerKind::InactivityEnd => self.inactivity_end(ctx, c),
            }
        }
    }
}
