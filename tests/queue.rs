//! The real-time queue: who waits, in what order, and what the waiting visitors are told
//! (R-Q1, R-Q2).

mod common;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AgentStatus, Arrival, AssignReason, Command, Config, ConversationState, DrainTrigger, Event,
    QueueConfig, Strategy,
};

/// A visitor arrives in `group` with a priority; the visitor id is derived from the conversation.
fn arrive_p(desk: &mut Desk, conversation: &str, group: &str, priority: u8) -> Vec<Event> {
    let arrival = Arrival::new(conversation, format!("v-{conversation}"), group).priority(priority);
    desk.run(Command::VisitorArrives(arrival)).events
}

/// The queue announcements of some events, in order: (conversation, position), for both the
/// entry event and position changes.
fn announced(events: &[Event]) -> Vec<(String, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationQueued {
                conversation,
                position,
                ..
            }
            | Event::QueuePositionChanged {
                conversation,
                position,
                ..
            } => Some((conversation.to_string(), *position)),
            _ => None,
        })
        .collect()
}

/// Only the position changes of some events: (conversation, position).
fn position_changes(events: &[Event]) -> Vec<(String, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::QueuePositionChanged {
                conversation,
                position,
                ..
            } => Some((conversation.to_string(), *position)),
            _ => None,
        })
        .collect()
}

fn position(desk: &Desk, conversation: &str) -> Option<u32> {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .position
}

/// Every queued conversation's queried position matches its place in `engine.queue` (R-Q2).
fn assert_positions_match_queue(desk: &Desk, group: &str) {
    for (i, c) in desk.queue(group).iter().enumerate() {
        assert_eq!(position(desk, c), Some(i as u32 + 1), "position of {c}");
    }
}

fn with_queue(queue: QueueConfig) -> Config {
    Config {
        queue,
        ..Config::default()
    }
}

/// A desk with group `support` whose only agent `ana` (limit 1) already holds `c0`.
fn busy_desk(config: Config) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    assert_eq!(desk.holder("c0").as_deref(), Some("ana"));
    desk
}

// R-Q1: with no eligible agent the conversation waits in its own group's queue, even while an
// agent of another group has room.
#[test]
fn r_q1_no_eligible_agent_means_the_conversation_waits_in_its_groups_queue() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("sales", Strategy::LeastRecentlyAssigned);
    desk.agent("sam", 5, &["sales"]);
    desk.agent("ana", 5, &["support"]);
    desk.status("ana", AgentStatus::Busy);

    let events = desk.arrive("c1", "v1", "support").events;
    assert!(pairs(&events).is_empty(), "nobody of support may take it");
    assert!(events.iter().any(|e| matches!(e,
        Event::ConversationQueued { conversation, group, position: 1 }
            if conversation.as_str() == "c1" && group.as_str() == "support")));
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.state, ConversationState::Queued);
    assert_eq!(view.position, Some(1));
    assert_eq!(desk.queue("support"), ["c1"]);
    assert!(desk.queue("sales").is_empty());
    assert_eq!(desk.engine.group("support").expect("known").waiting, 1);
    assert_eq!(desk.engine.counters().waiting, 1);
    assert_eq!(desk.engine.agent("sam").expect("known").load, 0);
}

// R-Q1: priority first (higher first), then arrival.
#[test]
fn r_q1_queue_order_is_priority_then_arrival() {
    let mut desk = busy_desk(Config::default());
    let arrivals = [
        ("c1", 0),
        ("c2", 2),
        ("c3", 1),
        ("c4", 2),
        ("c5", 0),
        ("c6", 1),
    ];
    for (i, (c, p)) in arrivals.into_iter().enumerate() {
        desk.wait(TimeDelta::seconds(i as i64 + 1));
        arrive_p(&mut desk, c, "support", p);
    }
    assert_eq!(desk.queue("support"), ["c2", "c4", "c3", "c6", "c1", "c5"]);
    assert_positions_match_queue(&desk, "support");
}

// R-Q1, seed example (Sobot real-time mode: visitors wait in a queue and are served when an
// agent frees up): the queue drains in priority, then arrival order, one conversation each time
// the agent gets room.
#[test]
fn r_q1_seed_queue_drains_in_priority_then_arrival_order_when_an_agent_frees_up() {
    let mut desk = busy_desk(Config::default());
    for (c, p) in [("c1", 0), ("c2", 1), ("c3", 0), ("c4", 3), ("c5", 1)] {
        desk.wait(TimeDelta::seconds(10));
        arrive_p(&mut desk, c, "support", p);
    }
    let mut served = Vec::new();
    let mut current = "c0".to_string();
    for _ in 0..5 {
        desk.wait(TimeDelta::minutes(3));
        let events = desk.end(&current).events;
        let taken = assignments(&events);
        assert_eq!(
            taken.len(),
            1,
            "one conversation per freed slot: {events:?}"
        );
        let (c, agent, reason) = taken.into_iter().next().expect("one");
        assert_eq!(agent, "ana");
        assert_eq!(
            reason,
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        );
        assert_positions_match_queue(&desk, "support");
        served.push(c.clone());
        current = c;
    }
    assert_eq!(served, ["c4", "c2", "c5", "c1", "c3"]);
    assert!(desk.queue("support").is_empty());
}

// R-Q1: aging. With a 60 s step, a priority-0 conversation that has waited longer than one
// step ranks before a fresh priority-1 one, but not before a fresh priority-2 one.
#[test]
fn r_q1_aging_lets_a_long_waiting_low_priority_conversation_pass_a_fresh_higher_one() {
    let config = with_queue(QueueConfig {
        aging_step_secs: Some(60),
        ..QueueConfig::default()
    });
    let mut desk = busy_desk(config);
    arrive_p(&mut desk, "old", "support", 0);
    desk.wait(TimeDelta::seconds(61));
    let events = arrive_p(&mut desk, "fresh1", "support", 1);
    assert_eq!(announced(&events), [("fresh1".to_string(), 2)]);
    let events = arrive_p(&mut desk, "fresh2", "support", 2);
    assert_eq!(
        announced(&events),
        [
            ("fresh2".to_string(), 1),
            ("old".to_string(), 2),
            ("fresh1".to_string(), 3)
        ]
    );
    assert_eq!(desk.queue("support"), ["fresh2", "old", "fresh1"]);
    assert_positions_match_queue(&desk, "support");

    // The agent frees up: it takes them in the aged order.
    let mut served = Vec::new();
    let mut current = "c0".to_string();
    for _ in 0..3 {
        let (c, _) = pairs(&desk.end(&current).events)
            .into_iter()
            .next()
            .expect("a drain");
        served.push(c.clone());
        current = c;
    }
    assert_eq!(served, ["fresh2", "old", "fresh1"]);
}

// R-Q1: the same arrivals without aging: priority alone decides, however long one waited.
#[test]
fn r_q1_without_aging_waiting_time_does_not_outweigh_priority() {
    let mut desk = busy_desk(Config::default());
    arrive_p(&mut desk, "old", "support", 0);
    desk.wait(TimeDelta::hours(5));
    arrive_p(&mut desk, "fresh1", "support", 1);
    assert_eq!(desk.queue("support"), ["fresh1", "old"]);
}

// R-Q1: aging ties (exactly one step waited against one level) go to the earlier arrival, and
// a conversation that waited less than a step does not pass a higher priority.
#[test]
fn r_q1_aging_ties_go_to_the_earlier_arrival() {
    let config = with_queue(QueueConfig {
        aging_step_secs: Some(60),
        ..QueueConfig::default()
    });
    let mut desk = busy_desk(config);
    arrive_p(&mut desk, "a", "support", 0);
    desk.wait(TimeDelta::seconds(59));
    arrive_p(&mut desk, "b", "support", 1);
    assert_eq!(
        desk.queue("support"),
        ["b", "a"],
        "59 s is less than a step"
    );
    desk.wait(TimeDelta::seconds(1));
    // `a` has now waited exactly one step: level with a fresh priority-1 arrival, and earlier.
    arrive_p(&mut desk, "c", "support", 1);
    assert_eq!(desk.queue("support"), ["b", "a", "c"]);
}

// R-Q1: aging needs no re-sorting: the relative order of conversations already waiting never
// changes as time passes (all age at the same rate), and nobody is re-announced for it.
#[test]
fn r_q1_aging_keeps_the_order_of_those_already_waiting_as_time_passes() {
    let config = with_queue(QueueConfig {
        aging_step_secs: Some(30),
        ..QueueConfig::default()
    });
    let mut desk = busy_desk(config);
    arrive_p(&mut desk, "low", "support", 0);
    arrive_p(&mut desk, "high", "support", 3);
    desk.wait(TimeDelta::seconds(10));
    arrive_p(&mut desk, "mid", "support", 2);
    let before = desk.queue("support");
    assert_eq!(before, ["high", "mid", "low"]);
    let events = desk.advance(TimeDelta::hours(3));
    assert!(position_changes(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), before);
    assert_positions_match_queue(&desk, "support");
}

// R-Q2: `ConversationQueued { position }` at entry; a conversation queued ahead of others
// announces the new positions of those it passed, after its own entry event.
#[test]
fn r_q2_queued_event_carries_the_entry_position_and_those_passed_are_told() {
    let mut desk = busy_desk(Config::default());
    assert_eq!(
        announced(&arrive_p(&mut desk, "c1", "support", 0)),
        [("c1".to_string(), 1)]
    );
    assert_eq!(
        announced(&arrive_p(&mut desk, "c2", "support", 0)),
        [("c2".to_string(), 2)],
        "a conversation queued at the back moves nobody"
    );
    let events = arrive_p(&mut desk, "c3", "support", 1);
    assert_eq!(
        announced(&events),
        [
            ("c3".to_string(), 1),
            ("c1".to_string(), 2),
            ("c2".to_string(), 3)
        ]
    );
    // Causal order: arrival, entry, then the changes.
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::ConversationArrived { .. } => "arrived",
            Event::ConversationQueued { .. } => "queued",
            Event::QueuePositionChanged { .. } => "moved",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["arrived", "queued", "moved", "moved"]);
    // A conversation queued in the middle moves only those behind it.
    let events = arrive_p(&mut desk, "c4", "support", 0);
    assert_eq!(announced(&events), [("c4".to_string(), 4)]);
    let events = arrive_p(&mut desk, "c5", "support", 1);
    assert_eq!(
        announced(&events),
        [
            ("c5".to_string(), 2),
            ("c1".to_string(), 3),
            ("c2".to_string(), 4),
            ("c4".to_string(), 5)
        ]
    );
    assert_positions_match_queue(&desk, "support");
}

// R-Q2: position changes are announced to the first N waiting only; the others can still
// query theirs.
#[test]
fn r_q2_position_changes_are_announced_to_the_first_n_only() {
    let config = with_queue(QueueConfig {
        announce_positions: 2,
        ..QueueConfig::default()
    });
    let mut desk = busy_desk(config);
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    // The agent frees up and takes c1: everyone moves up one, only the new first two are told.
    let events = desk.end("c0").events;
    assert_eq!(pairs(&events), [("c1".to_string(), "ana".to_string())]);
    assert_eq!(
        position_changes(&events),
        [("c2".to_string(), 1), ("c3".to_string(), 2)]
    );
    assert_eq!(position(&desk, "c4"), Some(3));
    assert_eq!(position(&desk, "c5"), Some(4));

    // A high-priority arrival enters at 1: its entry event plus the two now behind it in the
    // first two places; c4 and c5 (now 4 and 5) hear nothing.
    let events = arrive_p(&mut desk, "vip", "support", 9);
    assert_eq!(
        announced(&events),
        [("vip".to_string(), 1), ("c2".to_string(), 2)]
    );
    assert_eq!(position(&desk, "c3"), Some(3));
    assert_positions_match_queue(&desk, "support");
    assert_eq!(position(&desk, "c5"), Some(5));
}

// R-Q2: `announce_positions = 0` announces no position change, but entry events keep their
// position and every position stays queryable.
#[test]
fn r_q2_announcing_to_nobody_still_leaves_positions_queryable() {
    let config = with_queue(QueueConfig {
        announce_positions: 0,
        ..QueueConfig::default()
    });
    let mut desk = busy_desk(config);
    arrive_p(&mut desk, "c1", "support", 0);
    let events = arrive_p(&mut desk, "c2", "support", 5);
    assert_eq!(announced(&events), [("c2".to_string(), 1)]);
    desk.end("c0");
    assert!(
        position_changes(&desk.events).is_empty(),
        "{:?}",
        desk.events
    );
    assert_eq!(position(&desk, "c1"), Some(1));
    assert_eq!(desk.holder("c2").as_deref(), Some("ana"));
}

// R-Q2: a visitor who leaves the queue (abandons) shifts those behind up; those ahead keep
// their place and hear nothing.
#[test]
fn r_q2_abandon_shifts_those_behind_and_only_them() {
    let mut desk = busy_desk(Config::default());
    for c in ["c1", "c2", "c3", "c4"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let events = desk
        .run(Command::VisitorLeaves {
            conversation: "c2".into(),
        })
        .events;
    assert!(matches!(&events[0],
        Event::ConversationAbandoned { conversation, group }
            if conversation.as_str() == "c2" && group.as_str() == "support"));
    assert_eq!(
        position_changes(&events),
        [("c3".to_string(), 2), ("c4".to_string(), 3)]
    );
    assert_eq!(desk.queue("support"), ["c1", "c3", "c4"]);
    assert_positions_match_queue(&desk, "support");
    let view = desk.engine.conversation("c2").expect("known");
    assert_eq!(view.state, ConversationState::Abandoned);
    assert_eq!(view.position, None);
    let counters = desk.engine.counters();
    assert_eq!((counters.abandoned, counters.waiting), (1, 3));

    // The last one leaving moves nobody.
    let events = desk
        .run(Command::VisitorLeaves {
            conversation: "c4".into(),
        })
        .events;
    assert!(position_changes(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), ["c1", "c3"]);
}

// R-Q1, R-Q2: each group has its own queue and its own positions.
#[test]
fn r_q2_positions_are_per_group() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("sales", Strategy::LeastRecentlyAssigned);
    desk.arrive("s1", "v1", "support");
    let events = desk.arrive("b1", "v2", "sales").events;
    assert_eq!(announced(&events), [("b1".to_string(), 1)]);
    desk.arrive("s2", "v3", "support");
    assert_eq!(desk.queue("support"), ["s1", "s2"]);
    assert_eq!(desk.queue("sales"), ["b1"]);
    let events = desk
        .run(Command::VisitorLeaves {
            conversation: "s1".into(),
        })
        .events;
    assert_eq!(position_changes(&events), [("s2".to_string(), 1)]);
    assert_eq!(position(&desk, "b1"), Some(1));
}

// R-Q1, R-Q2: switching aging on re-orders the waiting queue under the new rule and tells the
// visitors whose position changed.
#[test]
fn r_q1_switching_aging_on_reorders_the_queue_and_announces_it() {
    let mut desk = busy_desk(Config::default());
    arrive_p(&mut desk, "old", "support", 0);
    desk.wait(TimeDelta::minutes(5));
    arrive_p(&mut desk, "fresh", "support", 1);
    assert_eq!(desk.queue("support"), ["fresh", "old"]);
    let events = desk
        .run(Command::UpdateConfig(with_queue(QueueConfig {
            aging_step_secs: Some(60),
            ..QueueConfig::default()
        })))
        .events;
    assert_eq!(desk.queue("support"), ["old", "fresh"]);
    let mut changes = position_changes(&events);
    changes.sort();
    assert_eq!(changes, [("fresh".to_string(), 2), ("old".to_string(), 1)]);
    assert_positions_match_queue(&desk, "support");
}

// R-Q1, R-C5: with the longest aging step allowed (366 days; longer ones are refused, see
// tests/bad_input.rs), the order is priority then arrival, as without aging, for every
// priority; the rank arithmetic must not saturate different priorities into a tie that arrival
// order then breaks.
#[test]
fn r_q1_a_huge_aging_step_still_orders_by_priority() {
    for step in [366 * 24 * 3600 - 1, 366 * 24 * 3600] {
        let config = with_queue(QueueConfig {
            aging_step_secs: Some(step),
            ..QueueConfig::default()
        });
        let mut desk = busy_desk(config);
        arrive_p(&mut desk, "p10", "support", 10);
        desk.wait(TimeDelta::seconds(1));
        arrive_p(&mut desk, "p200", "support", 200);
        desk.wait(TimeDelta::seconds(1));
        arrive_p(&mut desk, "p0", "support", 0);
        assert_eq!(
            desk.queue("support"),
            ["p200", "p10", "p0"],
            "aging step {step} s"
        );
    }
}
