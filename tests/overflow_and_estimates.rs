//! Two things beyond the seeds: skill relaxation, where a group's overflow groups join the
//! candidates once a conversation has waited (R-S4, Twilio and Genesys), and the estimated wait
//! of a queued conversation from the group's own recent service rate (R-B2).

mod common;

use std::time::Duration;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AssignReason, Command, DrainTrigger, Error, Event, GroupSpec, GroupUpdate, Overflow, Strategy,
};

/// `support` (sam, limit 1) and `sales` (sally, limit 1), sales overflowing into support after
/// two minutes; sally holds `s0`.
fn overflow_desk() -> Desk {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales").overflow(&["support"], 120),
    ));
    desk.agent("sam", 1, &["support"]);
    desk.agent("sally", 1, &["sales"]);
    desk.arrive("s0", "v0", "sales");
    assert_eq!(desk.holder("s0").as_deref(), Some("sally"));
    desk
}

fn overflowed(events: &[Event]) -> Vec<(String, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOverflowed {
                conversation,
                groups,
            } => Some((
                conversation.to_string(),
                groups.iter().map(|g| g.to_string()).collect(),
            )),
            _ => None,
        })
        .collect()
}

fn wait_of(desk: &Desk, conversation: &str) -> Option<Duration> {
    desk.engine.estimated_wait(conversation)
}

#[test]
fn r_s4_an_overflow_group_joins_after_the_wait_and_its_agent_takes_the_conversation() {
    let mut desk = overflow_desk();
    desk.wait(TimeDelta::seconds(10));

    // sam is free, but support is not a candidate for sales work yet.
    let events = desk.arrive("c1", "v1", "sales").events;
    assert!(pairs(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("sales"), vec!["c1"]);
    assert!(desk.queue("support").is_empty());

    // The wait is a deadline: arrival + 120 s.
    let deadline = t0() + TimeDelta::seconds(130);
    assert_eq!(desk.engine.next_deadline(), Some(deadline));
    let events = desk.advance(TimeDelta::seconds(119));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(desk.queue("sales"), vec!["c1"]);

    desk.now = deadline;
    let events = desk.run(Command::Tick).events;
    assert_eq!(
        overflowed(&events),
        vec![("c1".to_owned(), vec!["support".to_owned()])]
    );
    assert_eq!(
        assignments(&events),
        vec![(
            "c1".into(),
            "sam".into(),
            AssignReason::Overflow {
                group: "support".into(),
                strategy: Strategy::LeastRecentlyAssigned,
            }
        )]
    );
    let first = |wanted: fn(&Event) -> bool| events.iter().position(wanted);
    assert!(
        first(|e| matches!(e, Event::ConversationOverflowed { .. }))
            < first(|e| matches!(e, Event::ConversationAssigned { .. })),
        "overflow, then assignment: {events:?}"
    );
    assert!(desk.queue("sales").is_empty());
    assert_eq!(desk.engine.next_deadline(), None);
}

#[test]
fn r_s4_an_overflowed_conversation_waits_in_both_queues_until_either_group_frees() {
    let mut desk = overflow_desk();
    desk.arrive("t0", "w0", "support"); // sam is busy too
    desk.arrive("c1", "v1", "sales");

    let events = desk.advance(TimeDelta::seconds(120));
    assert_eq!(
        overflowed(&events),
        vec![("c1".to_owned(), vec!["support".to_owned()])]
    );
    assert!(pairs(&events).is_empty(), "no one free: {events:?}");
    assert_eq!(desk.queue("sales"), vec!["c1"]);
    assert_eq!(desk.queue("support"), vec!["c1"]);
    assert_eq!(
        desk.engine.conversation("c1").expect("known").position,
        Some(1),
        "its position is in its own group's queue"
    );

    // sam frees first and takes it; it leaves both queues.
    desk.wait(TimeDelta::seconds(30));
    let events = desk.end("t0").events;
    assert_eq!(
        assignments(&events),
        vec![(
            "c1".into(),
            "sam".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
    assert!(desk.queue("sales").is_empty());
    assert!(desk.queue("support").is_empty());

    // sally's group did not lose its own work to the overflow: the next sales visitor waits
    // for sally, not for support.
    desk.arrive("c2", "v2", "sales");
    let events = desk.end("s0").events;
    assert_eq!(pairs(&events), vec![("c2".into(), "sally".into())]);
}

#[test]
fn r_s4_a_conversation_served_before_its_overflow_time_leaves_no_deadline() {
    let mut desk = overflow_desk();
    desk.arrive("c1", "v1", "sales");
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(120))
    );
    desk.wait(TimeDelta::seconds(60));
    desk.end("s0");
    assert_eq!(desk.holder("c1").as_deref(), Some("sally"));
    assert_eq!(desk.engine.next_deadline(), None);
    let events = desk.advance(TimeDelta::minutes(5));
    assert!(overflowed(&events).is_empty(), "{events:?}");
}

#[test]
fn r_s4_bad_input_overflow_settings_that_make_no_sense_are_refused() {
    let mut desk = overflow_desk();
    let register = |group: &str, overflow: &[&str], after: u64| {
        Command::RegisterGroup(GroupSpec::new(group).overflow(overflow, after))
    };
    let error = desk.refuse(register("vip", &["vip"], 60));
    assert!(
        matches!(&error, Error::InvalidOverflow { group, .. } if group.as_str() == "vip"),
        "{error:?}"
    );
    let error = desk.refuse(register("vip", &["support", "support"], 60));
    assert!(matches!(error, Error::InvalidOverflow { .. }), "{error:?}");
    let error = desk.refuse(register("vip", &["support"], 0));
    assert!(matches!(error, Error::InvalidOverflow { .. }), "{error:?}");
    assert_eq!(
        desk.refuse(register("vip", &["nowhere"], 60)),
        Error::UnknownGroup {
            group: "nowhere".into()
        }
    );
    let error = desk.refuse(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: None,
        limit: None,
        overflow: Some(Overflow {
            groups: vec!["support".into()],
            after_secs: 30,
        }),
        agent_cap: None,
    }));
    assert!(matches!(error, Error::InvalidOverflow { .. }), "{error:?}");
    assert_eq!(
        desk.refuse(Command::RemoveGroup {
            group: "support".into()
        }),
        Error::OverflowTarget {
            group: "support".into(),
            of: "sales".into()
        }
    );
}

#[test]
fn r_b2_the_estimated_wait_matches_a_hand_computed_case() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support"); // straight to ana: not a service from the queue
    for (i, c) in ["c1", "c2", "c3", "c4"].into_iter().enumerate() {
        desk.wait(TimeDelta::seconds(10));
        desk.arrive(c, &format!("v{}", i + 1), "support");
    }
    // No service from the queue yet: no estimate rather than a guess.
    assert_eq!(wait_of(&desk, "c1"), None);

    // t0+60 s: c1 leaves the queue for ana. One service instant is no rate yet.
    desk.now = t0() + TimeDelta::seconds(60);
    desk.end("c0");
    assert_eq!(wait_of(&desk, "c2"), None);

    // t0+180 s: c2 is served. Instants {60, 180}: T = 120 s over n - 1 = 1 interval, so one
    // service every 120 s. c3 at position 1 waits 1 * 120 = 120 s; c4 at position 2, 240 s.
    desk.now = t0() + TimeDelta::seconds(180);
    desk.end("c1");
    assert_eq!(wait_of(&desk, "c3"), Some(Duration::from_secs(120)));
    assert_eq!(wait_of(&desk, "c4"), Some(Duration::from_secs(240)));

    // t0+240 s: c3 is served. Instants {60, 180, 240}: T = 180 s over 2 intervals = 90 s per
    // service. c4 is now at position 1: 90 s; c5, arriving at position 2: 2 * 90 = 180 s.
    desk.now = t0() + TimeDelta::seconds(240);
    desk.end("c2");
    desk.arrive("c5", "v5", "support");
    assert_eq!(wait_of(&desk, "c4"), Some(Duration::from_secs(90)));
    assert_eq!(wait_of(&desk, "c5"), Some(Duration::from_secs(180)));
    let view = desk.engine.conversation("c5").expect("known");
    assert_eq!(
        (view.position, view.estimated_wait),
        (Some(2), Some(Duration::from_secs(180)))
    );

    // Only queued conversations have an estimate.
    assert_eq!(desk.holder("c3").as_deref(), Some("ana"));
    assert_eq!(wait_of(&desk, "c3"), None);
    assert_eq!(wait_of(&desk, "nope"), None);
}

#[test]
fn r_b2_the_estimate_follows_the_latest_twenty_services() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    let queued: Vec<String> = (1..=22).map(|i| format!("q{i}")).collect();
    for q in &queued {
        desk.arrive(q, &format!("v-{q}"), "support");
    }

    // Service instants: s1 = t0+1 h, s2 = t0+2 h, then s3..s21 every 60 s after s2.
    desk.now = t0() + TimeDelta::hours(1);
    desk.end("c0"); // q1 served: s1
    desk.now = t0() + TimeDelta::hours(2);
    desk.end("q1"); // q2 served: s2
    // With s1, s2 only: T = 3600 s over 1 interval; q3 at position 1 waits an hour.
    assert_eq!(wait_of(&desk, "q3"), Some(Duration::from_secs(3600)));
    for k in 2..=20 {
        desk.now = t0() + TimeDelta::hours(2) + TimeDelta::seconds(60 * (k as i64 - 1));
        desk.end(&format!("q{k}")); // q(k+1) served: s(k+1)
    }
    assert_eq!(desk.holder("q21").as_deref(), Some("ana"));

    // 21 instants; the latest 20 are s2..s21: T = 19 * 60 s over 19 intervals = 60 s each.
    // (All 21 would give (3600 + 1140) / 20 = 237 s.) q22 is at position 1: 60 s.
    assert_eq!(desk.queue("support"), vec!["q22"]);
    assert_eq!(wait_of(&desk, "q22"), Some(Duration::from_secs(60)));
}
