//! Working hours (R-W1): named weekly schedules in an IANA time zone, evaluated in local time
//! so that daylight-saving changes and overnight ranges come out right.

use chrono::{
    DateTime, Datelike, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::command::{ScheduleSpec, WeeklyRange};
use crate::error::Error;
use crate::keys::AgentKey;
use crate::timers::timer::Timer;

impl WeeklyRange {
    fn overnight(&self) -> bool {
        self.end <= self.start
    }

    /// The intervals `[from, to)` of the week this range covers, in nanoseconds from Monday
    /// 00:00 local time; an interval that runs past the end of the week (Sunday night into
    /// Monday) comes as two, one on each side of it. The bounds must not be leap seconds.
    fn intervals(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.days.iter().flat_map(move |d| {
            let base = u64::from(d.num_days_from_monday()) * DAY;
            let from = base + nanos_of_day(self.start);
            let to = base + nanos_of_day(self.end) + if self.overnight() { DAY } else { 0 };
            if to > WEEK {
                [Some((from, WEEK)), Some((0, to - WEEK))]
            } else {
                [Some((from, to)), None]
            }
            .into_iter()
            .flatten()
        })
    }
}

/// A day and a week in nanoseconds: ranges are compared exactly, to the nanosecond that
/// [`NaiveTime`] keeps, as [`Schedule::on_duty`] evaluates them.
const DAY: u64 = 86_400 * 1_000_000_000;
const WEEK: u64 = 7 * DAY;

/// Nanoseconds since midnight; below [`DAY`] for any time that is not a leap second.
fn nanos_of_day(t: NaiveTime) -> u64 {
    u64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + u64::from(t.nanosecond())
}

/// Whether chrono represents `t` as a leap second (`hh:mm:60`).
fn is_leap_second(t: NaiveTime) -> bool {
    t.nanosecond() >= 1_000_000_000
}

/// A validated schedule as the engine keeps it. `tz` and `members` are derived and rebuilt on
/// restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Schedule {
    pub spec: ScheduleSpec,
    /// Its next shift boundary.
    pub timer: Option<Timer>,
    #[serde(skip, default = "utc")]
    tz: Tz,
    /// Agents linked to it.
    #[serde(skip)]
    pub members: BTreeSet<AgentKey>,
}

fn utc() -> Tz {
    Tz::UTC
}

/// Equality of what a snapshot stores (for [`Snapshot`](crate::Snapshot)'s): the derived
/// fields, which restore rebuilds, are left out.
impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        // Every field is named, so that a new one must be placed on one side or the other.
        let Schedule {
            spec,
            timer,
            tz: _,
            members: _,
        } = self;
        (spec, timer) == (&other.spec, &other.timer)
    }
}

impl Schedule {
    /// Validates a spec: a known time zone, at least one range, each with days, a non-empty
    /// span and bounds that are not leap seconds, and no two ranges overlapping, compared to
    /// the nanosecond. Costs O(r log r) in the number of (range, day) pairs: the ranges' spans
    /// are sorted by start and swept once.
    pub(crate) fn new(spec: ScheduleSpec) -> Result<Self, Error> {
        let invalid = |problem: String| Error::InvalidSchedule {
            schedule: spec.schedule.clone(),
            problem,
        };
        let tz: Tz = spec.time_zone.parse().map_err(|_| Error::UnknownTimeZone {
            schedule: spec.schedule.clone(),
            time_zone: spec.time_zone.clone(),
        })?;
        if spec.ranges.is_empty() {
            return Err(invalid("has no ranges".into()));
        }
        for (i, range) in spec.ranges.iter().enumerate() {
            let n = i + 1;
            if range.days.is_empty() {
                return Err(invalid(format!("range {n} names no days")));
            }
            if range.start == range.end {
                return Err(invalid(format!(
                    "range {n} is empty: it starts and ends at {}",
                    range.start
                )));
            }
            for (bound, t) in [("starts", range.start), ("ends", range.end)] {
                if is_leap_second(t) {
                    return Err(invalid(format!("range {n} {bound} in a leap second ({t})")));
                }
            }
        }
        // Sort and sweep: with the spans ordered by start, two overlap if and only if some
        // span starts before the one before it ends (the spans before it do not overlap,
        // so that one ends last).
        let mut spans: Vec<(u64, u64, usize)> = spec
            .ranges
            .iter()
            .enumerate()
            .flat_map(|(i, range)| range.intervals().map(move |(from, to)| (from, to, i)))
            .collect();
        spans.sort_unstable();
        for pair in spans.windows(2) {
            let [(_, end, first), (from, _, second)] = [pair[0], pair[1]];
            if from < end {
                let day = weekday_of(from);
                return Err(invalid(if first == second {
                    format!("range {} names {day} twice", first + 1)
                } else {
                    format!(
                        "ranges {} and {} overlap on {day}",
                        first.min(second) + 1,
                        first.max(second) + 1
                    )
                }));
            }
        }
        Ok(Self {
            spec,
            timer: None,
            tz,
            members: BTreeSet::new(),
        })
    }

    /// Re-derives the time zone after a restore.
    pub(crate) fn reload(&mut self) -> Result<(), Error> {
        self.tz = Schedule::new(self.spec.clone())?.tz;
        Ok(())
    }

    /// Whether `at` falls inside any range: between the instants a range occurrence starts
    /// and ends (see [`Schedule::instant`]), so that duty and shift boundaries always agree,
    /// also in the hour a daylight-saving change repeats or skips.
    pub(crate) fn on_duty(&self, at: DateTime<Utc>) -> bool {
        self.occurrences(at, -2..=1)
            .any(|(start, end)| start <= at && at < end)
    }

    /// The first instant after `after` at which a range starts or ends, if any within the
    /// next eight days.
    pub(crate) fn next_boundary(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.occurrences(after, -1..=8)
            .flat_map(|(start, end)| [start, end])
            .filter(|instant| *instant > after)
            .min()
    }

    /// The `[start, end)` instants of every range occurrence that starts on a local date
    /// `days` away from `around`'s local date.
    fn occurrences(
        &self,
        around: DateTime<Utc>,
        days: std::ops::RangeInclusive<i64>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let today = self.local(around).map(|l| l.date());
        days.filter_map(move |offset| today?.checked_add_signed(TimeDelta::days(offset)))
            .flat_map(move |date| {
                self.spec.ranges.iter().filter_map(move |r| {
                    if !r.days.contains(&date.weekday()) {
                        return None;
                    }
                    let end_date = if r.overnight() {
                        date.succ_opt()?
                    } else {
                        date
                    };
                    let start = self.instant(date.and_time(r.start))?;
                    let end = self.instant(end_date.and_time(r.end))?;
                    Some((start, end))
                })
            })
    }

    /// The local wall-clock time of an instant; `None` at the very ends of chrono's range,
    /// where local time does not exist.
    fn local(&self, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        let offset = self.tz.offset_from_utc_datetime(&at.naive_utc()).fix();
        at.naive_utc().checked_add_offset(offset)
    }

    /// The UTC instant of a local wall-clock time. A time that occurs twice (the hour a
    /// daylight-saving change repeats) is taken at its first occurrence; one that does not
    /// occur (the hour it skips) at the end of the gap, the instant the clocks jump.
    fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
            return Some(t.with_timezone(&Utc));
        }
        // In a gap: the first instant whose local time is at or after `local`. Local time
        // rises with UTC except at such jumps, so a binary search over a day finds it.
        let guess = local.and_utc().timestamp();
        let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0);
        let (mut lo, mut hi) = (guess.checked_sub(86_400)?, guess.checked_add(86_400)?);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.local(at(mid)?)? >= local {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        at(hi)
    }
}

/// The day of the week on which an instant of the week (in nanoseconds) falls.
fn weekday_of(nanos_of_week: u64) -> Weekday {
    let mut day = Weekday::Mon;
    for _ in 0..(nanos_of_week / DAY) % 7 {
        day = day.succ();
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("a valid timestamp")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
    }

    fn schedule(tz: &str, ranges: Vec<WeeklyRange>) -> Result<Schedule, Error> {
        Schedule::new(ScheduleSpec {
            schedule: "s".into(),
            time_zone: tz.into(),
            ranges,
        })
    }

    #[test]
    fn berlin_nine_to_five_follows_daylight_saving() {
        let s = schedule(
            "Europe/Berlin",
            vec![WeeklyRange::new(&[Weekday::Mon], hm(9, 0), hm(17, 0))],
        )
        .expect("valid");
        // 2026-03-30 is the Monday after the change to summer time (UTC+2).
        assert!(!s.on_duty(t("2026-03-30T06:59:59Z")));
        assert!(s.on_duty(t("2026-03-30T07:00:00Z")));
        assert_eq!(
            s.next_boundary(t("2026-03-29T12:00:00Z")),
            Some(t("2026-03-30T07:00:00Z"))
        );
        // The Monday before, in winter time (UTC+1).
        assert_eq!(
            s.next_boundary(t("2026-03-22T12:00:00Z")),
            Some(t("2026-03-23T08:00:00Z"))
        );
    }

    #[test]
    fn overnight_range_belongs_to_its_start_day() {
        let s = schedule(
            "UTC",
            vec![WeeklyRange::new(&[Weekday::Fri], hm(22, 0), hm(6, 0))],
        )
        .expect("valid");
        assert!(s.on_duty(t("2026-03-06T23:00:00Z"))); // Friday night
        assert!(s.on_duty(t("2026-03-07T05:59:00Z"))); // Saturday morning
        assert!(!s.on_duty(t("2026-03-07T06:00:00Z")));
        assert!(!s.on_duty(t("2026-03-06T05:00:00Z"))); // Friday morning: Thursday is off
        assert_eq!(
            s.next_boundary(t("2026-03-06T23:00:00Z")),
            Some(t("2026-03-07T06:00:00Z"))
        );
    }

    #[test]
    fn a_start_in_the_spring_gap_moves_to_the_end_of_the_gap() {
        // 2026-03-29 02:30 does not exist in Berlin; the range starts at 03:00 local (01:00Z).
        let s = schedule(
            "Europe/Berlin",
            vec![WeeklyRange::new(&[Weekday::Sun], hm(2, 30), hm(4, 0))],
        )
        .expect("valid");
        assert_eq!(
            s.next_boundary(t("2026-03-28T12:00:00Z")),
            Some(t("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        let ok = WeeklyRange::new(&[Weekday::Mon], hm(9, 0), hm(17, 0));
        assert!(matches!(
            schedule("Mars/Olympus", vec![ok.clone()]),
            Err(Error::UnknownTimeZone { .. })
        ));
        assert!(matches!(
            schedule("UTC", vec![]),
            Err(Error::InvalidSchedule { .. })
        ));
        let empty = WeeklyRange::new(&[Weekday::Mon], hm(9, 0), hm(9, 0));
        assert!(matches!(
            schedule("UTC", vec![empty]),
            Err(Error::InvalidSchedule { .. })
        ));
        let overlapping = WeeklyRange::new(&[Weekday::Mon], hm(16, 0), hm(18, 0));
        assert!(matches!(
            schedule("UTC", vec![ok.clone(), overlapping]),
            Err(Error::InvalidSchedule { .. })
        ));
        let sunday_night = WeeklyRange::new(&[Weekday::Sun], hm(22, 0), hm(10, 0));
        assert!(matches!(
            schedule("UTC", vec![ok.clone(), sunday_night]),
            Err(Error::InvalidSchedule { .. })
        ));
        let adjacent = WeeklyRange::new(&[Weekday::Mon], hm(17, 0), hm(18, 0));
        assert!(schedule("UTC", vec![ok, adjacent]).is_ok());
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    #[test]
    fn the_ends_of_time_do_not_panic() {
        let s = Schedule::new(ScheduleSpec {
            schedule: "s".into(),
            time_zone: "Pacific/Kiritimati".into(),
            ranges: vec![WeeklyRange::new(
                &[Weekday::Mon, Weekday::Sun],
                NaiveTime::from_hms_opt(23, 0, 0).expect("valid"),
                NaiveTime::from_hms_opt(1, 0, 0).expect("valid"),
            )],
        })
        .expect("valid");
        let w = Schedule::new(ScheduleSpec {
            schedule: "w".into(),
            time_zone: "America/Adak".into(),
            ranges: s.spec.ranges.clone(),
        })
        .expect("valid");
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for s in [&s, &w] {
                let _ = s.on_duty(at);
                let _ = s.next_boundary(at);
            }
        }
    }
}
