//! Leave-a-message in real-time mode (Sobot): the queue's maximum length and wait, the long
//! queue threshold, the desk's service hours and the lack of any assignable agent each offer
//! leave-a-message, naming the reason; a waiting visitor leaves a message or abandons (R-Q3,
//! with service hours from R-W2).
//!
//! `LeaveMessageReason` and `TurnAwayReason` are not re-exported by the crate, so the reasons
//! are compared by their `Debug` names.

mod common;

use chrono::Weekday::*;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, Command, Config, ConversationState, Error, Event, LeaveMessageReason,
    ReceptionMode, ScheduleSpec, Strategy, TurnAwayReason, WeeklyRange,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a valid timestamp")
}

/// The leave-a-message offers in some events: (conversation, reason).
fn leave_offers(events: &[Event]) -> Vec<(String, LeaveMessageReason)> {
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

/// The turn-aways in some events: (conversation, reason).
fn turned_away(events: &[Event]) -> Vec<(String, TurnAwayReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationTurnedAway {
                conversation,
                reason,
            } => Some((conversation.to_string(), *reason)),
            _ => None,
        })
        .collect()
}

fn one<R>(conversation: &str, reason: R) -> Vec<(String, R)> {
    vec![(conversation.to_owned(), reason)]
}

fn state(desk: &Desk, conversation: &str) -> ConversationState {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .state
}

fn leave_message(conversation: &str) -> Command {
    Command::LeaveMessage {
        conversation: conversation.into(),
    }
}

/// A desk whose one agent `ana` (limit 1) holds `c0`, under `config`.
fn busy_desk(config: Config) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    desk
}

#[test]
fn r_q3_a_full_queue_turns_the_visitor_away_and_offers_leave_a_message() {
    let mut config = Config::default();
    config.queue.max_length = Some(2);
    let mut desk = busy_desk(config);
    desk.arrive("c1", "v1", "support");
    let events = desk.arrive("c2", "v2", "support").events;
    assert!(leave_offers(&events).is_empty(), "room in the queue");

    let events = desk.arrive("c3", "v3", "support").events;
    assert_eq!(turned_away(&events), one("c3", TurnAwayReason::QueueFull));
    assert_eq!(
        leave_offers(&events),
        one("c3", LeaveMessageReason::QueueFull)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ConversationQueued { .. })),
        "{events:?}"
    );
    assert_eq!(desk.queue("support"), vec!["c1", "c2"]);
    assert_eq!(
        format!("{:?}", state(&desk, "c3")),
        "TurnedAway { reason: QueueFull }"
    );
    assert_eq!(desk.engine.counters().turned_away, 1);

    // The turned-away visitor takes the offer.
    let events = desk.run(leave_message("c3")).events;
    assert_eq!(
        events,
        vec![Event::ConversationLeftMessage {
            conversation: "c3".into()
        }]
    );
    assert_eq!(state(&desk, "c3"), ConversationState::LeftMessage);
    assert_eq!(desk.engine.counters().left_message, 1);

    // Once the queue has room again, visitors queue again.
    desk.end("c0");
    let events = desk.arrive("c4", "v4", "support").events;
    assert!(turned_away(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c2", "c4"]);
}

#[test]
fn r_q3_the_maximum_wait_turns_the_visitor_away_at_the_deadline() {
    let mut config = Config::default();
    config.queue.max_wait_secs = Some(300);
    let mut desk = busy_desk(config);
    desk.arrive("c1", "v1", "support");
    desk.wait(TimeDelta::seconds(100));
    desk.arrive("c2", "v2", "support");
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(300))
    );

    let events = desk.advance(TimeDelta::seconds(199));
    assert!(events.is_empty(), "{events:?}");
    let events = desk.advance(TimeDelta::seconds(1));
    assert_eq!(turned_away(&events), one("c1", TurnAwayReason::MaxWait));
    assert_eq!(
        leave_offers(&events),
        one("c1", LeaveMessageReason::MaxWait)
    );
    assert_eq!(desk.queue("support"), vec!["c2"]);
    assert_eq!(
        format!("{:?}", state(&desk, "c1")),
        "TurnedAway { reason: MaxWait }"
    );
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(400)),
        "c2's own maximum wait"
    );

    // c2 is served before its deadline: no turn-away for it later.
    desk.end("c0");
    assert_eq!(desk.holder("c2").as_deref(), Some("ana"));
    assert_eq!(desk.engine.next_deadline(), None);
}

#[test]
fn r_q3_a_long_queue_offers_leave_a_message_and_the_visitor_still_waits() {
    let mut config = Config::default();
    config.queue.long_queue_threshold = Some(2);
    let mut desk = busy_desk(config);
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(leave_offers(&events).is_empty(), "1 waiting < threshold 2");

    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c2", LeaveMessageReason::LongQueue)
    );
    assert!(events.contains(&Event::ConversationQueued {
        conversation: "c2".into(),
        group: "support".into(),
        position: 2,
    }));
    assert_eq!(state(&desk, "c2"), ConversationState::Queued);
    let events = desk.arrive("c3", "v3", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c3", LeaveMessageReason::LongQueue)
    );

    // c2 takes the offer: out of the queue, and c3 moves up.
    let events = desk.run(leave_message("c2")).events;
    assert_eq!(
        events[0],
        Event::ConversationLeftMessage {
            conversation: "c2".into()
        }
    );
    assert!(events.contains(&Event::QueuePositionChanged {
        conversation: "c3".into(),
        group: "support".into(),
        position: 2,
    }));
    assert_eq!(desk.queue("support"), vec!["c1", "c3"]);
    assert_eq!(state(&desk, "c2"), ConversationState::LeftMessage);
    assert_eq!(
        desk.engine.conversation("c2").expect("known").position,
        None
    );

    // A conversation that left a message is not served later.
    desk.end("c0");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(state(&desk, "c2"), ConversationState::LeftMessage);
}

#[test]
fn r_q3_r_w2_outside_the_service_hours_the_visitor_is_offered_leave_a_message() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    let time = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("a valid time");
    // Service hours use the same schedules as working hours.
    desk.run(Command::DefineSchedule(ScheduleSpec {
        schedule: "desk-hours".into(),
        time_zone: "Europe/Berlin".into(),
        ranges: vec![WeeklyRange::new(
            &[Mon, Tue, Wed, Thu, Fri],
            time(9),
            time(17),
        )],
    }));
    let mut config = desk.engine.config().clone();
    config.service_hours = Some("desk-hours".into());
    desk.run(Command::UpdateConfig(config));
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");

    // 10:00 in Berlin: open, ana busy but eligible, no offer.
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(leave_offers(&events).is_empty(), "{events:?}");

    // 17:30 in Berlin (16:30 UTC): closed.
    desk.now = at("2026-03-02T16:30:00Z");
    desk.run(Command::Tick);
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c2", LeaveMessageReason::OutsideServiceHours)
    );
    assert_eq!(state(&desk, "c2"), ConversationState::Queued);
    desk.run(leave_message("c2"));
    assert_eq!(state(&desk, "c2"), ConversationState::LeftMessage);
    assert_eq!(desk.queue("support"), vec!["c1"]);

    // Saturday is closed as well; Monday 08:00 UTC (09:00 Berlin) is open again.
    desk.now = at("2026-03-07T12:00:00Z");
    let events = desk.arrive("c3", "v3", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c3", LeaveMessageReason::OutsideServiceHours)
    );
    desk.now = at("2026-03-09T08:00:00Z");
    let events = desk.arrive("c4", "v4", "support").events;
    assert!(leave_offers(&events).is_empty(), "{events:?}");
}

#[test]
fn r_q3_with_no_assignable_agent_the_visitor_is_offered_leave_a_message() {
    let mut desk = busy_desk(Config::default());
    desk.register(AgentSpec::new("bo").limit(2).group("support")); // Offline

    // ana is busy but assignable: no offer.
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(leave_offers(&events).is_empty(), "{events:?}");

    // ana goes on a break: no one in the group may take work any more.
    desk.status("ana", AgentStatus::ShortBreak);
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c2", LeaveMessageReason::NoAgentAvailable)
    );
    assert_eq!(state(&desk, "c2"), ConversationState::Queued);

    // The visitor keeps waiting, and is served when bo comes online.
    let events = desk.status("bo", AgentStatus::Online).events;
    assert_eq!(
        pairs(&events),
        vec![("c1".into(), "bo".into()), ("c2".into(), "bo".into())]
    );

    // A group with no members at all.
    desk.group("empty", Strategy::LeastRecentlyAssigned);
    let events = desk.arrive("c3", "v3", "empty").events;
    assert_eq!(
        leave_offers(&events),
        one("c3", LeaveMessageReason::NoAgentAvailable)
    );
}

#[test]
fn r_q3_a_queued_visitor_may_abandon_instead() {
    let mut desk = busy_desk(Config::default());
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");

    desk.wait(TimeDelta::seconds(40));
    let events = desk
        .run(Command::VisitorLeaves {
            conversation: "c1".into(),
        })
        .events;
    assert_eq!(
        events[0],
        Event::ConversationAbandoned {
            conversation: "c1".into(),
            group: "support".into()
        }
    );
    assert_eq!(state(&desk, "c1"), ConversationState::Abandoned);
    assert_eq!(desk.queue("support"), vec!["c2"]);
    assert_eq!(desk.engine.counters().abandoned, 1);

    // Gone is gone: no message from an abandoned conversation.
    let error = desk.refuse(leave_message("c1"));
    assert!(
        matches!(&error, Error::InvalidState { conversation, .. } if conversation.as_str() == "c1"),
        "{error:?}"
    );
}

#[test]
fn r_q3_r_m1_leave_a_message_is_refused_in_asynchronous_mode() {
    let mut config = Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    };
    config.queue.max_length = Some(1);
    config.queue.long_queue_threshold = Some(1);
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);

    // No agent at all, a tiny queue limit and threshold: still never turned away or offered
    // leave-a-message; the conversations are pooled.
    let mut events = desk.arrive("c1", "v1", "support").events;
    events.extend(desk.arrive("c2", "v2", "support").events);
    assert!(leave_offers(&events).is_empty(), "{events:?}");
    assert!(turned_away(&events).is_empty(), "{events:?}");
    assert_eq!(state(&desk, "c2"), ConversationState::Pooled);

    assert_eq!(
        desk.refuse(leave_message("c1")),
        Error::WrongMode {
            operation: "leave a message".into(),
            mode: "asynchronous".into()
        }
    );
}

#[test]
fn r_q3_bad_input_leave_a_message_switched_off_or_from_the_wrong_state() {
    let mut config = Config::default();
    config.queue.leave_message = false;
    config.queue.max_length = Some(1);
    let mut desk = busy_desk(config);
    desk.arrive("c1", "v1", "support");

    // A full queue still turns the visitor away, but offers nothing.
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(turned_away(&events), one("c2", TurnAwayReason::QueueFull));
    assert!(leave_offers(&events).is_empty(), "{events:?}");
    assert_eq!(desk.refuse(leave_message("c1")), Error::LeaveMessageOff);
    assert_eq!(desk.refuse(leave_message("c2")), Error::LeaveMessageOff);

    let mut desk = busy_desk(Config::default());
    let error = desk.refuse(leave_message("c0"));
    assert!(
        matches!(&error, Error::InvalidState { conversation, state, .. }
            if conversation.as_str() == "c0" && state == "active"),
        "{error:?}"
    );
    assert_eq!(
        desk.refuse(leave_message("c9")),
        Error::UnknownConversation {
            conversation: "c9".into()
        }
    );
    desk.arrive("c1", "v1", "support");
    desk.run(leave_message("c1"));
    let error = desk.refuse(leave_message("c1"));
    assert!(
        matches!(&error, Error::InvalidState { .. }),
        "twice: {error:?}"
    );
}

// R-Q3, R-W2: outside the service hours an agent who is still there serves a visitor at once;
// a visitor who has to wait is offered leave-a-message (the documented choice).
#[test]
fn r_q3_r_w2_outside_the_service_hours_a_visitor_who_must_wait_is_offered_leave_a_message() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    let time = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("a valid time");
    desk.run(Command::DefineSchedule(ScheduleSpec {
        schedule: "desk-hours".into(),
        time_zone: "Europe/Berlin".into(),
        ranges: vec![WeeklyRange::new(
            &[Mon, Tue, Wed, Thu, Fri],
            time(9),
            time(17),
        )],
    }));
    let mut config = desk.engine.config().clone();
    config.service_hours = Some("desk-hours".into());
    desk.run(Command::UpdateConfig(config));
    desk.agent("ana", 1, &["support"]); // Online and free

    // 19:00 in Berlin: the desk is closed, but ana is still there and free.
    desk.now = at("2026-03-02T18:00:00Z");
    let events = desk.arrive("c1", "v1", "support").events;
    assert!(leave_offers(&events).is_empty(), "{events:?}");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(
        leave_offers(&events),
        one("c2", LeaveMessageReason::OutsideServiceHours)
    );
}
