//! Working hours (SHOPLINE): named weekly schedules in an IANA time zone, agents linked to any
//! number of them, working-hours routing off by default and refused without a scheduled agent,
//! and each shift start a deadline that drains waiting work (R-W1, R-W2).

mod common;

use chrono::Weekday::{self, *};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AssignReason, Command, Config, ConversationState,
    DrainTrigger, Engine, Error, Event, LeaveMessageReason, ScheduleSpec, Strategy, WeeklyRange,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a valid timestamp")
}

/// A `DefineSchedule` command: `ranges` are (days, start, end), "HH:MM" in the zone's local
/// time.
fn schedule(id: &str, time_zone: &str, ranges: &[(&[Weekday], &str, &str)]) -> Command {
    let time = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").expect("a valid HH:MM");
    Command::DefineSchedule(ScheduleSpec {
        schedule: id.into(),
        time_zone: time_zone.into(),
        ranges: ranges
            .iter()
            .map(|(days, start, end)| WeeklyRange::new(days, time(start), time(end)))
            .collect(),
    })
}

const WEEKDAYS: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];

/// An Online agent in `support` with a limit and schedules.
fn scheduled(agent: &str, limit: u32, schedules: &[&str]) -> AgentSpec {
    let mut spec = AgentSpec::new(agent)
        .status(AgentStatus::Online)
        .limit(limit)
        .group("support");
    for s in schedules {
        spec = spec.schedule(*s);
    }
    spec
}

fn working_hours(desk: &mut Desk, on: bool) -> Result<Ran, Error> {
    let mut config = desk.engine.config().clone();
    config.working_hours = on;
    desk.try_run(Command::UpdateConfig(config)).map(Ran::new)
}

fn shift_started() -> AssignReason {
    AssignReason::Drain {
        trigger: DrainTrigger::ShiftStarted,
    }
}

fn leave_message_reasons(events: &[Event]) -> Vec<(String, LeaveMessageReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::LeaveMessageOffered {
                conversation,
                reason,
            } => Some((conversation.to_string(), *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn r_w1_r_w2_a_berlin_shift_after_the_daylight_saving_change_drains_the_queue_at_0700_utc() {
    let mut desk = Desk::new();
    // Friday 27 March 2026, 19:00 in Berlin (UTC+1): after the week's last shift.
    desk.now = at("2026-03-27T18:00:00Z");
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule(
        "berlin-days",
        "Europe/Berlin",
        &[(WEEKDAYS, "09:00", "17:00")],
    ));
    desk.register(scheduled("ana", 2, &["berlin-days"]));
    working_hours(&mut desk, true).expect("ana has a schedule");

    // Saturday: ana is off duty, the visitors wait (and, with no one on duty, may leave a
    // message: R-Q3).
    desk.now = at("2026-03-28T10:00:00Z");
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(pairs(&events).is_empty(), "{events:?}");
    assert_eq!(
        leave_message_reasons(&events),
        vec![("c1".into(), LeaveMessageReason::NoAgentAvailable)]
    );
    desk.now = at("2026-03-28T10:05:00Z");
    desk.arrive("c2", "v2", "support");
    assert_eq!(desk.queue("support"), vec!["c1", "c2"]);

    // Berlin moved to summer time (UTC+2) on Sunday 29 March: Monday 09:00 is 07:00 UTC,
    // not 08:00 as the Monday before.
    let shift = at("2026-03-30T07:00:00Z");
    assert_eq!(desk.engine.next_deadline(), Some(shift));

    // A second before: nothing.
    desk.now = at("2026-03-30T06:59:59Z");
    let events = desk.run(Command::Tick).events;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c1", "c2"]);

    // At the deadline, exactly: the queue drains into ana.
    desk.now = shift;
    let events = desk.run(Command::Tick).events;
    assert_eq!(
        assignments(&events),
        vec![
            ("c1".into(), "ana".into(), shift_started()),
            ("c2".into(), "ana".into(), shift_started()),
        ]
    );
    assert!(desk.queue("support").is_empty());
    assert_eq!(
        desk.engine
            .conversation("c1")
            .expect("known")
            .waited(desk.now),
        (shift - at("2026-03-28T10:00:00Z"))
            .to_std()
            .expect("positive")
    );

    // The shift ends at 17:00 local, 15:00 UTC; her conversations stay, new ones wait.
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-30T15:00:00Z"))
    );
    desk.end("c1");
    desk.advance(TimeDelta::hours(8));
    assert_eq!(desk.now, at("2026-03-30T15:00:00Z"));
    let events = desk.arrive("c3", "v3", "support").events;
    assert!(pairs(&events).is_empty(), "off duty at 17:00 Berlin");
    assert_eq!(desk.holder("c2").as_deref(), Some("ana"));
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-31T07:00:00Z"))
    );
}

#[test]
fn r_w1_an_overnight_shift_belongs_to_the_day_it_starts() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // Monday 22:00 to Tuesday 06:00 in Tokyo (UTC+9): 13:00 to 21:00 UTC on Monday.
    desk.run(schedule(
        "tokyo-nights",
        "Asia/Tokyo",
        &[(&[Mon], "22:00", "06:00")],
    ));
    desk.register(scheduled("nina", 3, &["tokyo-nights"]));
    working_hours(&mut desk, true).expect("nina has a schedule");

    // 18:00 in Tokyo: not yet.
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.queue("support"), vec!["c1"]);
    let start = at("2026-03-02T13:00:00Z");
    assert_eq!(desk.engine.next_deadline(), Some(start));
    desk.now = start;
    let events = desk.run(Command::Tick).events;
    assert_eq!(
        assignments(&events),
        vec![("c1".into(), "nina".into(), shift_started())]
    );

    // Tuesday 05:59 in Tokyo, past local midnight: still Monday's shift.
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-02T21:00:00Z"))
    );
    desk.now = at("2026-03-02T20:59:00Z");
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(pairs(&events), vec![("c2".into(), "nina".into())]);

    // Tuesday 06:00 in Tokyo: the shift is over.
    desk.advance(TimeDelta::minutes(1));
    let events = desk.arrive("c3", "v3", "support").events;
    assert!(pairs(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c3"]);

    // Tuesday night is not a shift (only Monday's range starts one): the next start is the
    // following Monday, 22:00 Tokyo.
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-09T13:00:00Z"))
    );
}

#[test]
fn r_w1_an_overnight_shift_across_the_daylight_saving_night_is_an_hour_shorter() {
    let mut desk = Desk::new();
    desk.now = at("2026-03-28T12:00:00Z");
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // Saturday 22:00 (UTC+1) to Sunday 06:00 (UTC+2): 21:00 to 04:00 UTC, seven hours.
    desk.run(schedule(
        "berlin-nights",
        "Europe/Berlin",
        &[(&[Sat], "22:00", "06:00")],
    ));
    desk.register(scheduled("nils", 5, &["berlin-nights"]));
    working_hours(&mut desk, true).expect("nils has a schedule");

    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-28T21:00:00Z"))
    );
    desk.advance(TimeDelta::hours(9));
    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(pairs(&events), vec![("c1".into(), "nils".into())]);
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-29T04:00:00Z"))
    );

    desk.now = at("2026-03-29T03:59:59Z");
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(pairs(&events), vec![("c2".into(), "nils".into())]);
    desk.now = at("2026-03-29T04:00:00Z");
    desk.run(Command::Tick);
    let events = desk.arrive("c3", "v3", "support").events;
    assert!(
        pairs(&events).is_empty(),
        "06:00 summer time ends the shift"
    );
}

#[test]
fn r_w2_working_hours_routing_is_off_by_default_and_schedules_do_not_restrict_it() {
    let mut desk = Desk::new();
    assert!(!desk.engine.config().working_hours);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // A Sunday-only schedule: on Monday ana is off duty, which does not matter yet.
    desk.run(schedule(
        "sundays",
        "Europe/Berlin",
        &[(&[Sun], "09:00", "17:00")],
    ));
    desk.register(scheduled("ana", 1, &["sundays"]));
    desk.agent("bo", 1, &["support"]);

    let events = desk.arrive("c1", "v1", "support").events;
    let events2 = desk.arrive("c2", "v2", "support").events;
    let mut served = [pairs(&events), pairs(&events2)].concat();
    served.sort();
    assert_eq!(
        served,
        vec![("c1".into(), "ana".into()), ("c2".into(), "bo".into())]
    );
}

#[test]
fn r_w2_switching_working_hours_on_needs_an_agent_with_a_schedule() {
    let config = Config {
        working_hours: true,
        ..Config::default()
    };
    assert_eq!(Engine::new(config).err(), Some(Error::NoScheduledAgent));

    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    // A schedule that no agent uses does not count.
    desk.run(schedule(
        "days",
        "Europe/Berlin",
        &[(WEEKDAYS, "09:00", "17:00")],
    ));
    let mut on = desk.engine.config().clone();
    on.working_hours = true;
    assert_eq!(
        desk.refuse(Command::UpdateConfig(on.clone())),
        Error::NoScheduledAgent
    );
    assert!(!desk.engine.config().working_hours);

    // Link ana to the schedule: now it may be switched on.
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: None,
        groups: None,
        schedules: Some(vec!["days".into()]),
    }));
    desk.run(Command::UpdateConfig(on));
    assert!(desk.engine.config().working_hours);
}

/// A `support` group and two Berlin schedules, `days` 09:00-17:00 and `evenings` 17:00-23:00
/// on weekdays; the clock at t0, Monday 09:00 UTC = 10:00 in Berlin.
fn days_and_evenings() -> Desk {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // t0 is Monday 09:00 UTC = 10:00 in Berlin.
    desk.run(schedule(
        "days",
        "Europe/Berlin",
        &[(WEEKDAYS, "09:00", "17:00")],
    ));
    desk.run(schedule(
        "evenings",
        "Europe/Berlin",
        &[(WEEKDAYS, "17:00", "23:00")],
    ));
    desk
}

#[test]
fn r_w2_when_on_only_on_duty_agents_are_eligible() {
    let mut desk = days_and_evenings();
    desk.register(scheduled("dora", 1, &["days"]));
    desk.register(scheduled("evan", 5, &["evenings"]));
    desk.agent("nobody", 5, &["support"]); // no schedule: never assigned automatically
    working_hours(&mut desk, true).expect("dora and evan have schedules");

    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(pairs(&events), vec![("c1".into(), "dora".into())]);
    // dora is full; evan and the unscheduled agent are free but not on duty.
    let events = desk.arrive("c2", "v2", "support").events;
    assert!(pairs(&events).is_empty(), "{events:?}");
    assert_eq!(
        leave_message_reasons(&events),
        Vec::<(String, LeaveMessageReason)>::new(),
        "dora is eligible, only busy"
    );
    assert_eq!(desk.queue("support"), vec!["c2"]);

    // 17:00 in Berlin (16:00 UTC): dora goes off duty, evan comes on and drains the queue.
    let events = desk.advance(TimeDelta::hours(7));
    assert_eq!(
        assignments(&events),
        vec![("c2".into(), "evan".into(), shift_started())]
    );
    assert_eq!(
        desk.holder("c1").as_deref(),
        Some("dora"),
        "held work stays"
    );
    let events = desk.arrive("c3", "v3", "support").events;
    assert_eq!(pairs(&events), vec![("c3".into(), "evan".into())]);
    assert_eq!(desk.load("nobody"), (0, 5));

    // Switching working hours off makes everyone eligible again: dora is full, and of evan
    // and the unscheduled agent, the one never assigned comes first (least recently assigned).
    working_hours(&mut desk, false).expect("switching off is always allowed");
    let events = desk.arrive("c4", "v4", "support").events;
    assert_eq!(pairs(&events), vec![("c4".into(), "nobody".into())]);
}

#[test]
fn r_w1_an_agent_with_several_schedules_is_on_duty_inside_any_of_them() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // Mornings 08:00-12:00 UTC; afternoons 07:00-10:00 in New York (UTC-5 in early March):
    // 12:00-15:00 UTC, right after the mornings. Evenings 18:00-20:00 UTC.
    desk.run(schedule("mornings", "UTC", &[(&[Mon], "08:00", "12:00")]));
    desk.run(schedule(
        "afternoons",
        "America/New_York",
        &[(&[Mon], "07:00", "10:00")],
    ));
    desk.run(schedule("evenings", "UTC", &[(&[Mon], "18:00", "20:00")]));
    desk.register(scheduled("solo", 5, &["mornings"]));
    desk.register(scheduled(
        "split",
        5,
        &["mornings", "afternoons", "evenings"],
    ));
    working_hours(&mut desk, true).expect("scheduled agents");

    // 13:00 UTC: only the agent with the afternoon schedule is on duty.
    desk.advance(TimeDelta::hours(4));
    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(pairs(&events), vec![("c1".into(), "split".into())]);
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(pairs(&events), vec![("c2".into(), "split".into())]);

    // 16:00 UTC: between schedules, no one.
    desk.advance(TimeDelta::hours(3));
    let events = desk.arrive("c3", "v3", "support").events;
    assert!(pairs(&events).is_empty(), "{events:?}");

    // 18:00 UTC: the evening schedule brings split back, and the queue drains into it.
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-02T18:00:00Z"))
    );
    let events = desk.advance(TimeDelta::hours(2));
    assert_eq!(
        assignments(&events),
        vec![("c3".into(), "split".into(), shift_started())]
    );
}

#[test]
fn r_w1_r_a2_adjacent_schedules_in_different_zones_keep_an_offer_across_the_seam() {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    config.reception.offer_timeout_secs = 60;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule("mornings", "UTC", &[(&[Mon], "08:00", "12:00")]));
    desk.run(schedule(
        "afternoons",
        "America/New_York",
        &[(&[Mon], "07:00", "10:00")],
    ));
    desk.register(scheduled("split", 1, &["mornings", "afternoons"]));
    desk.register(scheduled("solo", 1, &["mornings"]));
    working_hours(&mut desk, true).expect("scheduled agents");

    desk.now = at("2026-03-02T11:59:30Z");
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    let holder = |desk: &Desk, c: &str| match desk.engine.conversation(c).map(|v| v.state) {
        Some(ConversationState::Offered { agent, .. }) => Some(agent.to_string()),
        _ => None,
    };
    let (on_split, on_solo) = if holder(&desk, "c1").as_deref() == Some("split") {
        ("c1", "c2")
    } else {
        ("c2", "c1")
    };
    assert_eq!(holder(&desk, on_solo).as_deref(), Some("solo"));

    // Noon UTC: both schedules have a boundary. solo goes off duty and loses its offer; split
    // stays on duty (the afternoons start as the mornings end) and keeps its own.
    desk.now = at("2026-03-02T12:00:00Z");
    let events = desk.run(Command::Tick).events;
    assert!(
        events.contains(&Event::OfferWithdrawn {
            conversation: on_solo.into(),
            agent: "solo".into()
        }),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::OfferWithdrawn { agent, .. } if agent.as_str() == "split"
        )),
        "{events:?}"
    );
    assert_eq!(holder(&desk, on_split).as_deref(), Some("split"));
    assert_eq!(desk.queue("support"), vec![on_solo.to_owned()]);
    desk.run(Command::AcceptOffer {
        conversation: on_split.into(),
        agent: "split".into(),
    });
}

#[test]
fn r_w2_redefining_a_schedule_re_evaluates_its_agents_at_once() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule(
        "shift",
        "Europe/Berlin",
        &[(&[Tue], "09:00", "17:00")],
    ));
    desk.register(scheduled("ana", 2, &["shift"]));
    working_hours(&mut desk, true).expect("ana has a schedule");
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.queue("support"), vec!["c1"]);

    // The admin adds Monday to the shift: ana is on duty now and takes the queue.
    let events = desk
        .run(schedule(
            "shift",
            "Europe/Berlin",
            &[(&[Mon, Tue], "09:00", "17:00")],
        ))
        .events;
    assert_eq!(
        events[0],
        Event::ScheduleDefined {
            schedule: "shift".into()
        }
    );
    assert_eq!(
        assignments(&events),
        vec![("c1".into(), "ana".into(), shift_started())]
    );
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-02T16:00:00Z")),
        "the new shift's end, 17:00 Berlin"
    );
}

#[test]
fn r_w2_r_a2_a_shift_end_withdraws_the_agents_pending_offers() {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    config.reception.offer_timeout_secs = 60;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule("short", "UTC", &[(&[Mon], "09:00", "10:00")]));
    desk.register(scheduled("ana", 1, &["short"]));
    working_hours(&mut desk, true).expect("ana has a schedule");

    desk.now = at("2026-03-02T09:59:30Z");
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ConversationOffered { agent, .. } if agent.as_str() == "ana"
    )));
    let events = desk.advance(TimeDelta::seconds(30));
    assert!(
        events.contains(&Event::OfferWithdrawn {
            conversation: "c1".into(),
            agent: "ana".into()
        }),
        "{events:?}"
    );
    assert_eq!(desk.queue("support"), vec!["c1"]);
    assert_eq!(desk.load("ana"), (0, 1));
}

#[test]
fn r_w2_r_a2_switching_working_hours_on_withdraws_offers_of_off_duty_agents() {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    config.reception.offer_timeout_secs = 60;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule("sundays", "UTC", &[(&[Sun], "09:00", "17:00")]));
    desk.register(scheduled("ana", 1, &["sundays"]));
    desk.arrive("c1", "v1", "support");

    // Monday: ana is off duty; once working hours are on she may not have the offer.
    let events = working_hours(&mut desk, true)
        .expect("ana has a schedule")
        .events;
    assert!(
        events.contains(&Event::OfferWithdrawn {
            conversation: "c1".into(),
            agent: "ana".into()
        }),
        "{events:?}"
    );
    assert_eq!(desk.queue("support"), vec!["c1"]);
}

// ---- Bad input ---------------------------------------------------------------------------

#[test]
fn r_w1_bad_input_a_schedule_with_an_unknown_zone_or_nonsense_ranges_is_refused() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    let nine_to_five: (&[Weekday], &str, &str) = (&[Mon], "09:00", "17:00");

    assert_eq!(
        desk.refuse(schedule("mars", "Mars/Olympus_Mons", &[nine_to_five])),
        Error::UnknownTimeZone {
            schedule: "mars".into(),
            time_zone: "Mars/Olympus_Mons".into(),
        }
    );
    let invalid = [
        ("none", schedule("none", "UTC", &[])),
        (
            "empty",
            schedule("empty", "UTC", &[(&[Mon], "09:00", "09:00")]),
        ),
        (
            "no-days",
            schedule("no-days", "UTC", &[(&[], "09:00", "17:00")]),
        ),
        (
            "overlap",
            schedule(
                "overlap",
                "UTC",
                &[nine_to_five, (&[Mon], "16:00", "18:00")],
            ),
        ),
        (
            // Sunday night runs into Monday morning, across the end of the week.
            "wraps",
            schedule("wraps", "UTC", &[nine_to_five, (&[Sun], "22:00", "10:00")]),
        ),
        (
            "same-day-twice",
            schedule(
                "same-day-twice",
                "UTC",
                &[nine_to_five, (&[Fri, Mon], "12:00", "13:00")],
            ),
        ),
    ];
    for (id, command) in invalid {
        let error = desk.refuse(command);
        assert!(
            matches!(&error, Error::InvalidSchedule { schedule, .. } if schedule.as_str() == id),
            "{id}: {error:?}"
        );
    }

    // Adjacent ranges are fine; so is redefining. A bad redefinition keeps the old schedule.
    desk.run(schedule(
        "ok",
        "UTC",
        &[nine_to_five, (&[Mon], "17:00", "18:00")],
    ));
    let error = desk.refuse(schedule("ok", "Nowhere/Land", &[nine_to_five]));
    assert!(matches!(error, Error::UnknownTimeZone { .. }), "{error:?}");
}

#[test]
fn r_w1_bad_input_schedules_in_use_or_unknown_are_refused() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule(
        "days",
        "Europe/Berlin",
        &[(WEEKDAYS, "09:00", "17:00")],
    ));
    desk.run(schedule(
        "desk-hours",
        "Europe/Berlin",
        &[(WEEKDAYS, "08:00", "20:00")],
    ));
    desk.register(scheduled("ana", 1, &["days"]));
    let mut config = desk.engine.config().clone();
    config.service_hours = Some("desk-hours".into());
    desk.run(Command::UpdateConfig(config));

    let remove = |id: &str| Command::RemoveSchedule {
        schedule: id.into(),
    };
    assert_eq!(
        desk.refuse(remove("days")),
        Error::ScheduleInUse {
            schedule: "days".into(),
            agents: 1
        }
    );
    assert_eq!(
        desk.refuse(remove("desk-hours")),
        Error::ScheduleInUse {
            schedule: "desk-hours".into(),
            agents: 0
        }
    );
    assert_eq!(
        desk.refuse(remove("nights")),
        Error::UnknownSchedule {
            schedule: "nights".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(scheduled("bo", 1, &["nights"]))),
        Error::UnknownSchedule {
            schedule: "nights".into()
        }
    );
    let mut config = desk.engine.config().clone();
    config.service_hours = Some("nights".into());
    assert_eq!(
        desk.refuse(Command::UpdateConfig(config)),
        Error::UnknownSchedule {
            schedule: "nights".into()
        }
    );

    // Once ana leaves it, the schedule can go, and its shift deadlines with it.
    desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    let events = desk.run(remove("days")).events;
    assert_eq!(
        events,
        vec![Event::ScheduleRemoved {
            schedule: "days".into()
        }]
    );
    // Only the desk hours' boundary is left: Monday 20:00 Berlin.
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-02T19:00:00Z"))
    );
}

#[test]
fn r_w1_an_overnight_shift_across_the_autumn_change_is_an_hour_longer() {
    let mut desk = Desk::new();
    desk.now = at("2026-10-24T12:00:00Z");
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // Saturday 22:00 (UTC+2) to Sunday 06:00 (UTC+1) on 24/25 October: 20:00 to 05:00 UTC,
    // nine hours; then Monday 09:00 in winter time, 08:00 UTC.
    desk.run(schedule(
        "berlin",
        "Europe/Berlin",
        &[(&[Sat], "22:00", "06:00"), (&[Mon], "09:00", "17:00")],
    ));
    desk.register(scheduled("nils", 5, &["berlin"]));
    working_hours(&mut desk, true).expect("nils has a schedule");

    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-10-24T20:00:00Z"))
    );
    desk.advance(TimeDelta::hours(8));
    // 02:30 local, the second time round: inside the night shift.
    desk.now = at("2026-10-25T01:30:00Z");
    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(pairs(&events), vec![("c1".into(), "nils".into())]);

    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-10-25T05:00:00Z"))
    );
    desk.now = at("2026-10-25T05:00:00Z");
    desk.run(Command::Tick);
    let events = desk.arrive("c2", "v2", "support").events;
    assert!(
        pairs(&events).is_empty(),
        "06:00 winter time ends the shift"
    );

    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-10-26T08:00:00Z"))
    );
    let events = desk.advance(TimeDelta::days(2));
    assert_eq!(
        assignments(&events),
        vec![("c2".into(), "nils".into(), shift_started())]
    );
}

#[test]
fn r_w1_r_w2_a_shift_starting_inside_the_spring_gap_drains_at_the_end_of_the_gap() {
    let mut desk = Desk::new();
    desk.now = at("2026-03-28T12:00:00Z");
    desk.group("support", Strategy::LeastRecentlyAssigned);
    // 02:10 does not exist in Berlin on Sunday 29 March 2026 (02:00 jumps to 03:00).
    desk.run(schedule(
        "early",
        "Europe/Berlin",
        &[(&[Sun], "02:10", "06:00")],
    ));
    desk.register(scheduled("ana", 5, &["early"]));
    working_hours(&mut desk, true).expect("ana has a schedule");
    desk.arrive("c1", "v1", "support");

    assert_eq!(
        desk.engine.next_deadline(),
        Some(at("2026-03-29T01:00:00Z"))
    );
}

#[test]
fn r_w1_r_w2_an_agent_is_not_on_duty_for_a_week_after_a_shift_that_ended_in_the_repeated_hour() {
    let mut desk = Desk::new();
    // 01:10 UTC on Sunday 25 October 2026 is 02:10 CET, after 02:30 CEST (00:30 UTC), which
    // ends the shift (a repeated local time is taken at its first occurrence).
    desk.now = at("2026-10-25T01:10:00Z");
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(schedule(
        "early",
        "Europe/Berlin",
        &[(&[Sun], "00:00", "02:30")],
    ));
    desk.register(scheduled("ana", 5, &["early"]));
    working_hours(&mut desk, true).expect("ana has a schedule");

    // Monday 11:00 in Berlin, far from any range of the schedule.
    desk.advance(TimeDelta::hours(33));
    assert_eq!(desk.now, at("2026-10-26T10:10:00Z"));
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(pairs(&events).is_empty(), "ana is off duty: {events:?}");
}

fn duty_events(events: &[Event]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AgentDutyChanged { agent, on_duty } => Some((agent.to_string(), *on_duty)),
            _ => None,
        })
        .collect()
}

/// R-W1, R-W2, R-C7: every change of an agent's duty is an event (when it registers inside a
/// shift, when its schedules change, at each shift boundary, when its schedule is redefined),
/// reported before the work it takes, and the agent's view shows its schedules and duty.
#[test]
fn r_w1_r_w2_duty_changes_are_events_and_the_agent_view_shows_them() {
    let mut desk = days_and_evenings();
    let events = desk.register(scheduled("dora", 1, &["days"])).events;
    assert_eq!(duty_events(&events), [("dora".into(), true)]);
    assert!(matches!(
        events.as_slice(),
        [
            Event::AgentRegistered { .. },
            Event::AgentDutyChanged { .. },
            ..
        ]
    ));
    let events = desk.register(scheduled("evan", 1, &["evenings"])).events;
    assert_eq!(
        duty_events(&events),
        [],
        "off duty, as every new agent starts"
    );
    let view = desk.agent_view("dora");
    assert_eq!((view.schedules, view.on_duty), (vec!["days".into()], true));
    let view = desk.agent_view("evan");
    assert_eq!(
        (view.schedules, view.on_duty),
        (vec!["evenings".into()], false)
    );
    working_hours(&mut desk, true).expect("both have schedules");
    desk.arrive("c1", "v1", "support"); // dora
    desk.arrive("c2", "v2", "support"); // waits: evan is off duty

    // 17:00 in Berlin: dora goes off duty and evan comes on, then takes c2.
    let events = desk.advance(TimeDelta::hours(7));
    assert_eq!(
        duty_events(&events),
        [("dora".into(), false), ("evan".into(), true)]
    );
    let evan_on = events
        .iter()
        .position(
            |e| matches!(e, Event::AgentDutyChanged { agent, .. } if agent.as_str() == "evan"),
        )
        .expect("evan came on duty");
    let takes = events
        .iter()
        .position(|e| matches!(e, Event::ConversationAssigned { .. }))
        .expect("evan takes c2");
    assert!(
        evan_on < takes,
        "the duty change comes before the work: {events:?}"
    );
    assert!(!desk.agent_view("dora").on_duty);

    // Moving dora to the evening schedule puts her on duty at once, after the update.
    let events = desk
        .run(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "dora".into(),
            limit: None,
            groups: None,
            schedules: Some(vec!["evenings".into()]),
        }))
        .events;
    assert_eq!(duty_events(&events), [("dora".into(), true)]);
    assert!(matches!(
        events.as_slice(),
        [
            Event::AgentUpdated { .. },
            Event::AgentDutyChanged { .. },
            ..
        ]
    ));

    // Redefining the evening schedule to end now takes both off duty at once.
    let events = desk
        .run(schedule(
            "evenings",
            "Europe/Berlin",
            &[(WEEKDAYS, "18:00", "23:00")],
        ))
        .events;
    assert_eq!(
        duty_events(&events),
        [("dora".into(), false), ("evan".into(), false)]
    );
    assert!(!desk.agent_view("evan").on_duty);
}
