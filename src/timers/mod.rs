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
    SnoozeEnds,
    SlaWarning,
    SlaBreach,
    InactivityReminder,
    InactivityEnd,
}

impl TimerKind {
    fn slot(self) -> Slot {
        match self {
            TimerKind::SnoozeEnds => Slot::Snooze,
            TimerKind::SlaWarning | TimerKind::SlaBreach => Slot::Sla,
            TimerKind::InactivityReminder | TimerKind::InactivityEnd => Slot::Inactivity,
        }
    }
}

/// An armed timer. Ordered by time, then by the order it was armed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Timer {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub conv: ConvKey,
    pub kind: TimerKind,
}

/// The kinds of timer a conversation can have armed at once, one each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Snooze,
    Sla,
    Inactivity,
}

/// A conversation's armed timers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slots {
    pub snooze: Option<Timer>,
    pub sla: Option<Timer>,
    pub inactivity: Option<Timer>,
}

impl Slots {
    fn get_mut(&mut self, slot: Slot) -> &mut Option<Timer> {
        match slot {
            Slot::Snooze => &mut self.snooze,
            Slot::Sla => &mut self.sla,
            Slot::Inactivity => &mut self.inactivity,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Timer> + use<> {
        [self.snooze, self.sla, self.inactivity]
            .into_iter()
            .flatten()
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
    /// Arms (or re-arms) a conversation's timer in `kind`'s slot. O(log t).
    pub(crate) fn arm(&mut self, c: ConvKey, at: DateTime<Utc>, kind: TimerKind) {
        self.disarm(c, kind.slot());
        self.timer_seq += 1;
        let timer = Timer {
            at,
            seq: self.timer_seq,
            conv: c,
            kind,
        };
        self.timers.insert(timer);
        *self.conv_mut(c).timers.get_mut(kind.slot()) = Some(timer);
    }

    /// Disarms a conversation's timer in `slot`, if armed. O(log t).
    pub(crate) fn disarm(&mut self, c: ConvKey, slot: Slot) {
        if let Some(timer) = self.conv_mut(c).timers.get_mut(slot).take() {
            self.timers.remove(&timer);
        }
    }

    /// Disarms every timer of a conversation.
    pub(crate) fn disarm_all(&mut self, c: ConvKey) {
        for slot in [Slot::Snooze, Slot::Sla, Slot::Inactivity] {
            self.disarm(c, slot);
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
            *self.conv_mut(timer.conv).timers.get_mut(timer.kind.slot()) = None;
            match timer.kind {
                TimerKind::SnoozeEnds => {
                    if matches!(self.conv(timer.conv).phase, Phase::Snoozed { .. }) {
                        self.wake(ctx, timer.conv, WakeReason::SnoozeEnded);
                    }
                }
                TimerKind::SlaWarning => self.sla_warn(ctx, timer.conv),
                TimerKind::SlaBreach => self.sla_breach(ctx, timer.conv),
                TimerKind::InactivityReminder => self.inactivity_remind(ctx, timer.conv),
                TimerKind::InactivityEnd => self.inactivity_end(ctx, timer.conv),
            }
        }
    }
}
