//! Working hours (R-W1): named weekly schedules in an IANA time zone, evaluated in local time
//! so that daylight-saving changes and overnight ranges come out right.

use chrono::{
    DateTime, Datelike, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::error::Error;
use crate::ids::ScheduleId;
use crate::store::AgentKey;
use crate::timers::Timer;

/// A named weekly schedule (SHOPLINE "working time"): a time zone and weekly ranges. Used for
/// agents' working hours and for the desk's service hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Its id.
    pub schedule: ScheduleId,
    /// An IANA time zone name, such as `Europe/Berlin`.
    pub time_zone: String,
    /// The weekly ranges; on duty means inside any of them.
    pub ranges: Vec<WeeklyRange>,
}

/// A time range on some days of the week, in the schedule's local time. When `end` is not
/// after `start` the range runs overnight into the next day; the days name the day it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyRange {
    /// The days on which the range starts.
    pub days: Vec<Weekday>,
    /// Local start time (inclusive).
    pub start: NaiveTime,
    /// Local end time (exclusive); at or before `start` for an overnight range.
    pub end: NaiveTime,
}

impl WeeklyRange {
    /// A range on the given days.
    pub fn new(days: &[Weekday], start: NaiveTime, end: NaiveTime) -> Self {
        Self {
            days: days.to_vec(),
            start,
            end,
        }
    }

    fn overnight(&self) -> bool {
        self.end <= self.start
    }

    /// Minutes-of-week intervals `[from, to)` this range covers (`to` may pass the week's end).
    fn intervals(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let minute = |t: NaiveTime| t.num_seconds_from_midnight() / 60;
        self.days.iter().map(move |d| {
            let base = d.num_days_from_monday() * 1440;
            let from = base + minute(self.start);
            let to = if self.overnight() {
                base + 1440 + minute(self.end)
            } else {
                base + minute(self.end)
            };
            (from, to)
        })
    }
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
    /// Validates a spec: a known time zone, at least one range, each with days and a non-empty
    /// span, and no two ranges overlapping.
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
        let mut spans: Vec<(u32, u32)> = Vec::new();
        for (i, range) in spec.ranges.iter().enumerate() {
            if range.days.is_empty() {
                return Err(invalid(format!("range {} names no days", i + 1)));
            }
            if range.start == range.end {
                return Err(invalid(format!(
                    "range {} is empty: it starts and ends at {}",
                    i + 1,
                    range.start
                )));
            }
            for (from, to) in range.intervals() {
                const WEEK: u32 = 7 * 1440;
                for (f, t) in &spans {
                    // Compare on the week's circle: shift one interval by a week both ways.
                    let overlaps = [0, WEEK].iter().any(|shift| {
                        (from + shift < *t && *f < to + shift)
                            || (*f + shift < to && from < *t + shift)
                    });
                    if overlaps {
                        return Err(invalid(format!(
                            "range {} overlaps another range on {}",
                            i + 1,
                            weekday_of(from)
                        )));
                    }
                }
                spans.push((from, to));
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

fn weekday_of(minute_of_week: u32) -> Weekday {
    let mut day = Weekday::Mon;
    for _ in 0..(minute_of_week / 1440) % 7 {
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
