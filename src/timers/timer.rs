//! A timer: its kind, the slot it takes in its conversation, and the open reply goal.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::event::ReplyGoal;

/// What happens when a timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum TimerKind {
    /// A schedule's next shift start or end; the subject is a schedule key.
    ShiftBoundary,
    SnoozeEnds,
    OfferExpires,
    FirstReplyTimeout,
    MaxWait,
    /// A waiting conversation's next stage boundary (R-SK2): a stage of requirements relaxes,
    /// or its group's overflow groups join (R-S4). Named `Overflow` in snapshots written
    /// before stages.
    #[serde(alias = "Overflow")]
    Stage,
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
            TimerKind::Stage => Slot::Stage,
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
    Stage,
    Sla,
    Inactivity,
}

/// A conversation's armed timers, at most one per [`Slot`]. A short vector: most
/// conversations have none or one, and an empty one takes no heap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Slots(pub(crate) Vec<Timer>);

impl Slots {
    /// The timer in `slot`, if armed.
    pub(crate) fn get(&self, slot: Slot) -> Option<Timer> {
        self.0.iter().find(|t| t.kind.slot() == slot).copied()
    }

    /// Takes the timer out of `slot`.
    pub(crate) fn take(&mut self, slot: Slot) -> Option<Timer> {
        let i = self.0.iter().position(|t| t.kind.slot() == slot)?;
        Some(self.0.swap_remove(i))
    }

    /// Puts a timer in its slot, which must be empty.
    pub(crate) fn put(&mut self, timer: Timer) {
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

/// An open reply goal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Goal {
    pub kind: ReplyGoal,
    /// The target, in milliseconds of running time.
    pub target_ms: i64,
    /// Running time spent before `running_since` (snoozes pause the clock).
    pub spent_ms: i64,
    /// Since when the clock runs; `None` while paused.
    pub running_since: Option<DateTime<Utc>>,
    pub warned: bool,
    pub breached: bool,
}
