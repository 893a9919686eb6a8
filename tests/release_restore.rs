//! Release regressions for issue 13, defects 3 and 8: the estimated wait never panics and never
//! tells a conversation that must wait zero (R-B2, R-DY6, R-C5); restore refuses a snapshot
//! whose parts contradict each other, naming what contradicts what, instead of restoring an
//! engine that panics on a later `Tick`, `UpdateConfig` or `SetReceptionMode` (R-C5, R-C6).
//!
//! The snapshot edits find what they change by its content (a conversation by its id, a timer
//! by its kind), and take a phase or a mode from another engine's snapshot rather than
//! spelling it, so that they do not depend on how the snapshot's enums are tagged.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use common::{Desk, t0};
use serde_json::Value;
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, Engine, Error, GroupSpec,
    ReceptionMode, ScheduleSpec, Snapshot, WeeklyRange,
};

// ---- helpers -------------------------------------------------------------------------------

fn value_of(engine: &Engine) -> Value {
    serde_json::to_value(engine.snapshot()).expect("a snapshot serializes")
}

/// Restores a snapshot given as JSON; a panic fails the test.
fn restore(value: Value) -> Result<Engine, Error> {
    let snapshot: Snapshot = serde_json::from_value(value).expect("still a snapshot's shape");
    catch_unwind(AssertUnwindSafe(|| Engine::restore(snapshot)))
        .unwrap_or_else(|_| panic!("R-C5: Engine::restore panicked"))
}

/// Asserts that restore refuses `value` as corrupt, naming each of `named`.
fn assert_refused(what: &str, value: Value, named: &[&str]) {
    match restore(value) {
        Err(Error::CorruptSnapshot { problem }) => {
            for name in named {
                assert!(
                    problem.contains(name),
                    "{what}: the problem `{problem}` names `{name}`"
                );
            }
        }
        Err(other) => panic!("{what}: refused with {other:?}, not as corrupt"),
        Ok(_) => panic!("{what}: the snapshot restored"),
    }
}

/// The JSON pointer of the first node (depth first) that `matches`.
fn find(value: &Value, matches: &dyn Fn(&Value) -> bool) -> Option<String> {
    if matches(value) {
        return Some(String::new());
    }
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match value {
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| find(v, matches).map(|p| format!("/{}{p}", escape(k)))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find(v, matches).map(|p| format!("/{i}{p}"))),
        _ => None,
    }
}

fn at<'a>(value: &'a mut Value, pointer: &str) -> &'a mut Value {
    value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("`{pointer}` in the snapshot"))
}

/// The pointer of the record with this `id` that has a `field` (a conversation has a phase, a
/// group an overflow list).
fn record(value: &Value, id: &str, field: &str) -> String {
    find(value, &|v| {
        v.get("id").and_then(Value::as_str) == Some(id) && v.get(field).is_some()
    })
    .unwrap_or_else(|| panic!("a record `{id}` with a `{field}`"))
}

fn conversation(value: &Value, id: &str) -> String {
    record(value, id, "phase")
}

/// The pointer of the timer of `kind` under `owner`.
fn timer(value: &Value, owner: &str, kind: &str) -> String {
    let inside = value.pointer(owner).expect("the owner");
    let found = find(inside, &|v| {
        v.get("kind").and_then(Value::as_str) == Some(kind) && v.get("seq").is_some()
    })
    .unwrap_or_else(|| panic!("a {kind} timer under `{owner}`"));
    format!("{owner}{found}")
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

/// A real-time desk with a timer of most kinds armed: a schedule (its next shift boundary),
/// `c1` active with `ana` (first-reply limit, reply goal), `c2` queued in `sales` (maximum
/// wait, overflow into `spare`).
fn armed_desk() -> Desk {
    let mut config = Config::default();
    config.queue.max_wait_secs = Some(600);
    config.reception.first_reply_timeout_secs = Some(120);
    config.sla.first_reply_secs = Some(60);
    let mut desk = Desk::with_config(config);
    desk.run(Command::DefineSchedule(ScheduleSpec {
        schedule: "day".into(),
        time_zone: "UTC".into(),
        ranges: vec![WeeklyRange::new(
            &[Weekday::Mon, Weekday::Tue],
            hm(8, 0),
            hm(18, 0),
        )],
    }));
    desk.run(Command::RegisterGroup(GroupSpec::new("spare")));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales").overflow(&["spare"], 30),
    ));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(1)
            .group("sales")
            .schedule("day"),
    );
    desk.arrive("c1", "v1", "sales");
    desk.arrive("c2", "v2", "sales");
    desk
}

/// An asynchronous desk: `c1` snoozed with `ana`, `c2` in the pool (when `pooled`).
fn async_desk(pooled: bool) -> Desk {
    let config = Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    };
    let mut desk = Desk::with_config(config);
    desk.run(Command::RegisterGroup(GroupSpec::new("sales")));
    desk.agent("ana", 1, &["sales"]);
    desk.arrive("c1", "v1", "sales");
    desk.run(Command::Snooze {
        conversations: vec!["c1".into()],
        until: t0() + TimeDelta::hours(1),
    });
    desk.status("ana", AgentStatus::Offline);
    if pooled {
        desk.arrive("c2", "v2", "sales");
    }
    desk
}

// ---- defect 3a: the estimated wait saturates -------------------------------------------------

// R-B2, R-C5 (issue 13, defect 3a): the group's last two services span chrono's whole range,
// so the mean interval is about 1.65 · 10¹³ s; 1.1 M places back, `span / intervals *
// position` overflowed `Duration` and `estimated_wait` and `conversation()` panicked. The
// estimate saturates instead. The queue must be that long: no two instants lie further apart,
// and the position is the only other factor, so this is the cheapest way to the overflow.
#[test]
fn defect_3a_estimated_wait_saturates() {
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let mut config = Config::default();
    config.queue.announce_positions = 0;
    config.queue.leave_message = false;
    let mut engine = Engine::new(config).expect("a valid config");
    let mut run = |at, command| {
        let _ = engine.handle(at, command).expect("accepted");
    };
    run(min, Command::RegisterGroup(GroupSpec::new("g")));
    run(
        min,
        Command::RegisterAgent(
            AgentSpec::new("ana")
                .status(AgentStatus::Online)
                .limit(1)
                .group("g"),
        ),
    );
    for c in ["c1", "c2", "c3"] {
        run(min, Command::VisitorArrives(Arrival::new(c, "v", "g")));
    }
    // Ending c1 at the start of time serves c2 from the queue; ending c2 at its end, c3.
    let end = |c: &str| Command::EndConversations {
        conversations: vec![c.into()],
        reason: switchboard::EndReason::Agent,
    };
    run(min, end("c1"));
    run(max, end("c2"));
    let span = (max - min).to_std().expect("positive");
    let overflowing = u32::try_from(u64::MAX / span.as_secs() + 1).expect("about 1.1 M");
    for i in 0..overflowing {
        run(
            max,
            Command::VisitorArrives(Arrival::new(format!("q{i}"), "v", "g")),
        );
    }
    let first: ConversationId = "q0".into();
    let last: ConversationId = format!("q{}", overflowing - 1).into();
    assert_eq!(engine.estimated_wait(&first), Some(span), "one interval");
    let estimate = catch_unwind(AssertUnwindSafe(|| engine.estimated_wait(&last)))
        .unwrap_or_else(|_| panic!("R-C5: estimated_wait panicked"));
    assert_eq!(
        estimate,
        Some(span),
        "saturates at the span of chrono's range"
    );
    let view = catch_unwind(AssertUnwindSafe(|| engine.conversation(&last)))
        .unwrap_or_else(|_| panic!("R-C5: conversation() panicked"))
        .expect("known");
    assert_eq!(view.position, Some(overflowing));
    assert_eq!(view.estimated_wait, Some(span));
}

// ---- defect 8: never zero after a burst ------------------------------------------------------

// R-DY6, R-B2 (issue 13, defect 8): an agent coming online takes three waiting conversations
// at one instant, so the recent services span no time; the two still queued were told an
// estimated wait of 0 s. Each place now counts at least one second; a real span is used as
// it is.
#[test]
fn defect_8_estimated_wait_is_never_zero_after_a_burst() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(GroupSpec::new("sales")));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Offline)
            .limit(3)
            .group("sales"),
    );
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        desk.arrive(c, c, "sales");
    }
    desk.wait(TimeDelta::seconds(30));
    desk.status("ana", AgentStatus::Online);
    assert_eq!(desk.queue("sales"), ["c4", "c5"], "ana took three at once");
    let wait = |desk: &Desk, c: &str| {
        let estimate = desk.engine.estimated_wait(c);
        let view = desk.engine.conversation(c).expect("known");
        assert_eq!(view.estimated_wait, estimate, "the view agrees");
        estimate
    };
    for (c, position) in [("c4", 1), ("c5", 2)] {
        let estimate = wait(&desk, c).expect("three services: an estimate");
        assert!(estimate > Duration::ZERO, "R-DY6: {c} must wait, told 0 s");
        assert_eq!(
            estimate,
            Duration::from_secs(position),
            "{c}: one second a place"
        );
    }
    // A minute later ana ends c1 and takes c4: four services over 60 s, 20 s apart on average.
    desk.wait(TimeDelta::seconds(60));
    desk.end("c1");
    assert_eq!(desk.queue("sales"), ["c5"]);
    assert_eq!(wait(&desk, "c5"), Some(Duration::from_secs(20)));
}

// ---- defect 3b: restore checks every part against the others ---------------------------------

// R-C5, R-C6 (issue 13, defect 3b): a timer whose kind does not fit its owner restored, and the
// tick that fired it ran a conversation's handler on a schedule's key, a schedule's handler on
// a conversation's, or a held conversation's handler on a queued one: each an `expect` that
// panicked. Restore refuses each, naming the owner and the kind.
#[test]
fn defect_3b_restore_refuses_timer_kind_foreign_to_its_owner() {
    let desk = armed_desk();
    let value = value_of(&desk.engine);
    let schedule = find(&value, &|v| {
        v.get("timer").is_some() && v.get("spec").is_some()
    })
    .expect("the schedule");
    let (c1, c2) = (conversation(&value, "c1"), conversation(&value, "c2"));
    let cases = [
        // A schedule's shift boundary turned into an inactivity reminder.
        (
            "day",
            timer(&value, &schedule, "ShiftBoundary"),
            "InactivityReminder",
        ),
        // A queued conversation's maximum wait turned into a shift boundary.
        ("c2", timer(&value, &c2, "MaxWait"), "ShiftBoundary"),
        // ... into an inactivity reminder, which only a held conversation can have.
        ("c2", timer(&value, &c2, "MaxWait"), "InactivityReminder"),
        // An active conversation's first-reply limit turned into the end of a snooze.
        ("c1", timer(&value, &c1, "FirstReplyTimeout"), "SnoozeEnds"),
        // ... or into an offer's expiry, with an offer's slot but not its phase.
        (
            "c1",
            timer(&value, &c1, "FirstReplyTimeout"),
            "OfferExpires",
        ),
    ];
    for (owner, pointer, kind) in cases {
        let mut edited = value.clone();
        *at(&mut edited, &format!("{pointer}/kind")) = kind.into();
        assert_refused(&format!("{owner}: {kind}"), edited, &[owner, kind]);
    }
    assert!(restore(value).is_ok(), "the unedited snapshot restores");
}

// R-C5, R-C6 (issue 13, defect 3b): a group's overflow naming a group that does not exist
// restored, and the overflow that ran it panicked.
#[test]
fn defect_3b_restore_refuses_an_overflow_into_a_missing_group() {
    let desk = armed_desk();
    let mut value = value_of(&desk.engine);
    let sales = record(&value, "sales", "overflow");
    *at(&mut value, &format!("{sales}/overflow/0")) = 9999.into();
    assert_refused("overflow into key 9999", value, &["sales", "9999"]);
}

// R-C5, R-C6 (issue 13, defect 3b): sequence numbers and counters at exactly 2⁶² passed the
// range check (`n > 2⁶²`); restore now refuses them from 2⁶² on, and takes 2⁶² - 1.
#[test]
fn defect_3b_restore_refuses_numbers_from_2_pow_62() {
    let desk = armed_desk();
    let value = value_of(&desk.engine);
    let ana = record(&value, "ana", "assigned_total");
    let fields = [
        "/state/last_key".to_string(),
        "/state/assignment_seq".to_string(),
        "/state/timer_seq".to_string(),
        "/state/counters/arrived".to_string(),
        "/state/counters/ended".to_string(),
        format!("{ana}/assigned_total"),
    ];
    for field in fields {
        for (n, restores) in [
            (1u64 << 62, false),
            ((1 << 62) + 1, false),
            ((1 << 62) - 1, true),
        ] {
            let mut edited = value.clone();
            *at(&mut edited, &field) = n.into();
            if restores {
                assert!(restore(edited).is_ok(), "{field} at {n} restores");
            } else {
                assert_refused(&format!("{field} at {n}"), edited, &["out of range"]);
            }
        }
    }
}

// R-C5 (issue 13, defect 3b): the rebuild inside `UpdateConfig` and `SetReceptionMode` ran the
// restore's range check and `expect`ed it to pass. A counter restored just below 2⁶² that then
// passed it made the next config change panic. The rebuild cannot fail now.
#[test]
fn defect_3b_update_config_never_panics_after_a_counter_passes_2_pow_62() {
    let desk = armed_desk();
    let mut value = value_of(&desk.engine);
    *at(&mut value, "/state/counters/arrived") = ((1u64 << 62) - 1).into();
    let mut engine = restore(value).expect("2⁶² - 1 restores");
    let now = desk.now;
    for c in ["c3", "c4"] {
        let _ = engine
            .handle(now, Command::VisitorArrives(Arrival::new(c, c, "sales")))
            .expect("accepted");
    }
    assert_eq!(engine.counters().arrived, (1 << 62) + 1);
    let config = engine.config().clone();
    let commands = [
        Command::UpdateConfig(config),
        Command::SetReceptionMode {
            mode: ReceptionMode::Asynchronous,
        },
        Command::SetReceptionMode {
            mode: ReceptionMode::RealTime,
        },
    ];
    for command in commands {
        let shown = format!("{command:?}");
        let _ = catch_unwind(AssertUnwindSafe(|| engine.handle(now, command)))
            .unwrap_or_else(|_| panic!("R-C5: {shown} panicked"))
            .expect("accepted");
    }
}

// R-C5, R-C6 (issue 13, defect 3b): two timers in one slot were guarded by a `debug_assert`
// only; restore accepted them. It refuses them now.
#[test]
fn defect_3b_restore_refuses_two_timers_in_one_slot() {
    let desk = armed_desk();
    let mut value = value_of(&desk.engine);
    let c2 = conversation(&value, "c2");
    let max_wait = timer(&value, &c2, "MaxWait");
    let seq = value["state"]["timer_seq"].as_u64().expect("a number") + 1;
    let mut second = value.pointer(&max_wait).expect("the timer").clone();
    second["seq"] = seq.into();
    value["state"]["timer_seq"] = seq.into();
    at(&mut value, &format!("{c2}/timers"))
        .as_array_mut()
        .expect("a list")
        .push(second);
    assert_refused("a second MaxWait", value, &["c2", "two timers in one slot"]);
}

// R-C5, R-C6 (issue 13, defect 3b): a phase the reception mode cannot have restored, and the
// engine reported a state that cannot exist: a queued conversation in asynchronous mode, a
// pooled or snoozed one in real-time mode. Restore refuses each, naming the conversation.
#[test]
fn defect_3b_restore_refuses_a_phase_the_mode_cannot_have() {
    let realtime = value_of(&armed_desk().engine);
    let queued = realtime
        .pointer(&conversation(&realtime, "c2"))
        .expect("c2")["phase"]
        .clone();
    let realtime_mode = realtime["state"]["config"]["mode"].clone();
    let asynchronous = value_of(&async_desk(true).engine);
    let pooled = asynchronous
        .pointer(&conversation(&asynchronous, "c2"))
        .expect("c2")["phase"]
        .clone();

    // Pooled edited to Queued in an asynchronous engine.
    let mut edited = asynchronous.clone();
    let c2 = conversation(&edited, "c2");
    *at(&mut edited, &format!("{c2}/phase")) = queued;
    assert_refused("queued in asynchronous mode", edited, &["c2", "queued"]);

    // Queued edited to Pooled in a real-time engine.
    let mut edited = realtime.clone();
    let c2 = conversation(&edited, "c2");
    *at(&mut edited, &format!("{c2}/phase")) = pooled;
    assert_refused("pooled in real-time mode", edited, &["c2", "pool"]);

    // The mode edited to real-time under a snoozed conversation.
    let mut edited = value_of(&async_desk(false).engine);
    edited["state"]["config"]["mode"] = realtime_mode;
    assert_refused("snoozed in real-time mode", edited, &["c1", "snoozed"]);
}

// R-C6: restore refuses only what this crate cannot write. An offer left pending when
// automatic acceptance is switched on stays an offer (the config change withdraws offers only
// from agents who stop being eligible), so such a snapshot restores.
#[test]
fn r_c6_an_offer_left_pending_when_auto_accept_is_switched_on_restores() {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config.clone());
    desk.run(Command::RegisterGroup(GroupSpec::new("sales")));
    desk.agent("ana", 1, &["sales"]);
    desk.arrive("c1", "v1", "sales");
    config.reception.auto_accept = true;
    desk.run(Command::UpdateConfig(config));
    let state = desk.engine.conversation("c1").expect("known").state;
    assert!(
        matches!(state, switchboard::ConversationState::Offered { .. }),
        "{state:?}"
    );
    let restored = restore(value_of(&desk.engine)).expect("restores");
    assert_eq!(value_of(&restored), value_of(&desk.engine));
}
