//! Validation that a release can rely on (issue 13): schedules compared to the second and
//! beyond, not to the minute (defect 4, R-W1, R-C5), and custom statuses checked for
//! duplicates by name (defect 7, R-A2). Their speed is measured in `benches/validation.rs`,
//! never here.

mod common;

use chrono::Weekday::{self, *};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, Command, Config, CustomStatus, Engine, Error, ScheduleSpec, WeeklyRange,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a valid timestamp")
}

/// A local time from "HH:MM:SS".
fn hms(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M:%S").expect("a valid HH:MM:SS")
}

/// A schedule in UTC; `ranges` are (days, start, end) as "HH:MM:SS".
fn spec(id: &str, ranges: &[(&[Weekday], &str, &str)]) -> ScheduleSpec {
    ScheduleSpec {
        schedule: id.into(),
        time_zone: "UTC".into(),
        ranges: ranges
            .iter()
            .map(|(days, start, end)| WeeklyRange::new(days, hms(start), hms(end)))
            .collect(),
    }
}

/// Asserts that defining the schedule is refused with `InvalidSchedule` naming it, and that
/// the refusal changes nothing (R-C4). Returns the problem.
fn refused(desk: &mut Desk, spec: ScheduleSpec) -> String {
    let id = spec.schedule.clone();
    match desk.refuse(Command::DefineSchedule(spec)) {
        Error::InvalidSchedule { schedule, problem } if schedule == id => problem,
        other => panic!("{id}: expected InvalidSchedule naming it, got {other:?}"),
    }
}

// Defect 4, R-W1, R-C5: ranges shorter than a minute were empty intervals to the old check, so
// the same sub-minute range twice was accepted, against the docs ("no two ranges overlap").
#[test]
fn defect_4_r_w1_sub_minute_duplicates_and_overlaps_are_refused() {
    let mut desk = Desk::new();
    let twice = spec(
        "twice",
        &[
            (&[Mon], "09:00:10", "09:00:50"),
            (&[Mon], "09:00:10", "09:00:50"),
        ],
    );
    let problem = refused(&mut desk, twice);
    assert_eq!(problem, "ranges 1 and 2 overlap on Mon");

    let inside = spec(
        "inside",
        &[
            (&[Tue, Mon], "09:00:10", "09:00:50"),
            (&[Mon], "09:00:30", "09:00:40"),
        ],
    );
    assert_eq!(refused(&mut desk, inside), "ranges 1 and 2 overlap on Mon");

    // Two ranges that share twenty seconds across a minute boundary (whole minutes saw
    // 09:00–10:00 and 08:00–09:00, which only touch).
    let across = spec(
        "across",
        &[
            (&[Wed], "09:00:30", "10:00:00"),
            (&[Wed], "08:00:00", "09:00:50"),
        ],
    );
    assert_eq!(refused(&mut desk, across), "ranges 1 and 2 overlap on Wed");

    // One range naming its day twice.
    let same_day = spec("same-day", &[(&[Thu, Thu], "09:00:10", "09:00:50")]);
    assert_eq!(refused(&mut desk, same_day), "range 1 names Thu twice");

    // A bound in a leap second (chrono's `hh:mm:60`) has no place in a weekly schedule.
    let mut leap = spec("leap", &[(&[Fri], "23:00:00", "23:59:59")]);
    leap.ranges[0].end = NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500).expect("a leap second");
    assert_eq!(
        refused(&mut desk, leap),
        "range 1 ends in a leap second (23:59:60.500)"
    );

    // Ranges that only touch, to the second, are fine; so is the same sub-minute range on
    // another day.
    desk.run(Command::DefineSchedule(spec(
        "touching",
        &[
            (&[Mon], "09:00:10", "09:00:30"),
            (&[Mon], "09:00:30", "09:00:50"),
            (&[Tue], "09:00:10", "09:00:30"),
        ],
    )));
}

// Defect 4, R-W1: overnight ranges, also across the end of the week, are compared to the
// second.
#[test]
fn defect_4_r_w1_overnight_ranges_overlap_to_the_second() {
    let mut desk = Desk::new();
    // Friday night into Saturday morning, thirty seconds into a Saturday range.
    let friday = spec(
        "friday",
        &[
            (&[Fri], "22:00:00", "06:00:30"),
            (&[Sat], "06:00:00", "07:00:00"),
        ],
    );
    assert_eq!(refused(&mut desk, friday), "ranges 1 and 2 overlap on Sat");

    // Sunday night into Monday, across the end of the week, ten seconds into Monday's range.
    let week_end = spec(
        "week-end",
        &[
            (&[Mon], "00:00:20", "08:00:00"),
            (&[Sun], "23:59:30", "00:00:30"),
        ],
    );
    assert_eq!(
        refused(&mut desk, week_end),
        "ranges 1 and 2 overlap on Mon"
    );

    // The same two, touching: accepted, and evaluated to the second.
    desk.run(Command::DefineSchedule(spec(
        "night",
        &[
            (&[Mon], "00:00:30", "08:00:00"),
            (&[Sun], "23:59:30", "00:00:30"),
        ],
    )));
    desk.group("support", switchboard::Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .schedule("night"),
    );
    // 2026-03-08 is a Sunday. The shift boundaries: 23:59:30, Monday 00:00:30 (one range ends
    // as the other starts: still on duty) and 08:00:00.
    desk.now = at("2026-03-08T23:59:29Z");
    desk.run(Command::Tick);
    assert!(
        !desk.agent_view("ana").on_duty,
        "before the Sunday night range"
    );
    desk.advance(TimeDelta::seconds(1));
    assert!(desk.agent_view("ana").on_duty, "Sunday 23:59:30");
    desk.advance(TimeDelta::seconds(61));
    assert!(desk.agent_view("ana").on_duty, "Monday 00:00:31");
    desk.now = at("2026-03-09T07:59:59Z");
    desk.run(Command::Tick);
    assert!(desk.agent_view("ana").on_duty, "Monday 07:59:59");
    desk.advance(TimeDelta::seconds(1));
    assert!(!desk.agent_view("ana").on_duty, "Monday 08:00:00");
}

/// Every day of the week cut into `per_day` ranges that touch, each `86,400 / per_day`
/// seconds long and shifted by half of that, so that the last of each day runs overnight
/// (Sunday's into Monday, across the end of the week).
fn tiled(id: &str, per_day: u32) -> ScheduleSpec {
    let all = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let step = 86_400 / per_day;
    let time = |secs: u32| {
        NaiveTime::from_num_seconds_from_midnight_opt(secs % 86_400, 0).expect("within a day")
    };
    ScheduleSpec {
        schedule: id.into(),
        time_zone: "UTC".into(),
        ranges: (0..per_day)
            .map(|k| {
                let start = step / 2 + k * step;
                WeeklyRange::new(&all, time(start), time(start + step))
            })
            .collect(),
    }
}

// Defect 4, R-W1: a large schedule whose ranges tile the whole week, to the second, is
// accepted (the sweep finds no overlap where ranges only touch) and keeps its agent on duty;
// the same schedule with one range a second longer is refused, naming the schedule and
// where. (12,096 range-days here; the speed of the check is in `benches/validation.rs`.)
#[test]
fn defect_4_r_w1_a_large_schedule_is_checked_to_the_second() {
    let mut desk = Desk::new();
    let week = tiled("week", 1_728); // 50-second ranges, starting at 00:00:25
    desk.run(Command::DefineSchedule(week.clone()));
    desk.group("support", switchboard::Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .schedule("week"),
    );
    assert!(desk.agent_view("ana").on_duty);
    // Sunday, in the last range of the week, and Monday in the first (2026-03-09 00:00:25).
    for now in ["2026-03-08T23:59:59Z", "2026-03-09T00:00:26Z"] {
        desk.now = at(now);
        desk.run(Command::Tick);
        assert!(desk.agent_view("ana").on_duty, "{now}");
    }

    // Range 100 of 1,728 runs one second into range 101, on every day.
    let mut longer = week.clone();
    longer.schedule = "longer".into();
    let range = &mut longer.ranges[99];
    range.end += TimeDelta::seconds(1);
    assert_eq!(
        refused(&mut desk, longer),
        "ranges 100 and 101 overlap on Mon"
    );

    // The last range of each day runs overnight; one second longer, it overlaps the first
    // range of the next day, and Sunday's the first of Monday.
    let mut overnight = week;
    overnight.schedule = "overnight".into();
    let last = overnight.ranges.last_mut().expect("ranges");
    last.days = vec![Sun];
    last.end += TimeDelta::seconds(1);
    assert_eq!(
        refused(&mut desk, overnight),
        "ranges 1 and 1728 overlap on Mon"
    );
}

// Defect 4, R-W1, R-C6: restore checks the schedules with the same rule, so a snapshot
// edited to hold a sub-minute duplicate range is refused, naming the schedule.
#[test]
fn defect_4_r_w1_restore_refuses_a_sub_minute_duplicate() {
    let mut desk = Desk::new();
    desk.run(Command::DefineSchedule(spec(
        "short",
        &[(&[Mon], "09:00:10", "09:00:50")],
    )));
    let mut json = serde_json::to_value(desk.engine.snapshot()).expect("the state serializes");
    assert_eq!(
        duplicate_every_range(&mut json),
        1,
        "one schedule in the snapshot"
    );
    let snapshot = serde_json::from_value(json).expect("still a snapshot in form");
    match Engine::restore(snapshot) {
        Err(Error::CorruptSnapshot { problem }) => assert!(
            problem.contains("`short`") && problem.contains("overlap"),
            "{problem}"
        ),
        other => panic!("expected CorruptSnapshot, got {:?}", other.map(|_| ())),
    }
}

/// Appends a copy of the first range to every `ranges` list in a JSON value; returns how many
/// lists it changed. Searches by key, so it does not depend on where schedules sit.
fn duplicate_every_range(value: &mut serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(key, v)| match v {
                Value::Array(ranges) if key == "ranges" && !ranges.is_empty() => {
                    ranges.push(ranges[0].clone());
                    1
                }
                other => duplicate_every_range(other),
            })
            .sum(),
        Value::Array(items) => items.iter_mut().map(duplicate_every_range).sum(),
        _ => 0,
    }
}

// Defect 7, R-A2: custom statuses are checked for duplicates by name (now in O(n log n)); the
// error still names the field and the status, and the first problem in the list's order is
// the one reported.
#[test]
fn defect_7_r_a2_a_custom_status_defined_twice_is_named() {
    let status = |name: &str| CustomStatus {
        name: name.into(),
        assignable: false,
    };
    let config = |names: &[&str]| Config {
        custom_statuses: names.iter().map(|n| status(n)).collect(),
        ..Config::default()
    };
    let problem = |config: Config| match config.validate() {
        Err(Error::InvalidConfig { field, problem }) => {
            assert_eq!(field, "custom_statuses");
            problem
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    };

    assert_eq!(
        problem(config(&["Away", "Lunch", "Meeting", "Lunch"])),
        "`Lunch` is defined twice"
    );
    // Names are compared exactly: case and spaces make another status.
    assert!(config(&["Lunch", "lunch", "Lunch "]).validate().is_ok());
    // The first problem in order wins: the duplicate comes before the empty name.
    assert_eq!(
        problem(config(&["Away", "Away", " "])),
        "`Away` is defined twice"
    );
    assert_eq!(
        problem(config(&["Away", " ", "Away"])),
        "a status name is empty"
    );
    assert_eq!(
        problem(config(&["Away", "Busy", "Away"])),
        "`Busy` is a built-in status"
    );

    // Many statuses: the duplicate of the first, at the end, is found and named.
    let mut names: Vec<String> = (0..5_000).map(|i| format!("status-{i:04}")).collect();
    let many = |names: &[String]| Config {
        custom_statuses: names.iter().map(|n| status(n)).collect(),
        ..Config::default()
    };
    assert!(many(&names).validate().is_ok());
    names.push("status-0000".into());
    assert_eq!(problem(many(&names)), "`status-0000` is defined twice");

    // The engine refuses such a config, at start and at run time.
    let error = Engine::new(config(&["Away", "Away"])).err();
    assert!(
        matches!(&error, Some(Error::InvalidConfig { problem, .. }) if problem == "`Away` is defined twice"),
        "{error:?}"
    );
    let mut desk = Desk::new();
    let error = desk.refuse(Command::UpdateConfig(config(&["Away", "Away"])));
    assert!(
        matches!(&error, Error::InvalidConfig { problem, .. } if problem == "`Away` is defined twice"),
        "{error:?}"
    );
}
