//! Timers on live conversations: reply goals with a warning before the breach (R-L1) and visitor
//! inactivity (R-L2), driven by `Command::Message`; both pause while snoozed (R-Z1). A virtual
//! clock steps from deadline to deadline through a busy day to show every timer fires exactly
//! once, at its time, never while snoozed, and that `next_deadline()` is exact (R-C2).

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AssignReason, Command, Config, DrainTrigger, EndReason, Error, Event,
    Inactivity, ReceptionMode, ReplyGoal, Sender, Sla, Strategy, Target, WakeReason,
};

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn message(conversation: &str, from: Sender) -> Command {
    Command::Message {
        conversation: conversation.into(),
        from,
    }
}

fn snooze(conversations: &[&str], until: DateTime<Utc>) -> Command {
    Command::Snooze {
        conversations: conversation_ids(conversations),
        until,
    }
}

fn sla(first: Option<u64>, next: Option<u64>, warn: Option<u64>) -> Sla {
    Sla {
        first_reply_secs: first,
        next_reply_secs: next,
        warn_before_secs: warn,
    }
}

fn inactivity(reminder: Option<u64>, end: Option<u64>) -> Inactivity {
    Inactivity {
        reminder_after_secs: reminder,
        end_after_secs: end,
    }
}

fn warning(c: &str, agent: &str, goal: ReplyGoal, breach_at: DateTime<Utc>) -> Event {
    Event::SlaWarning {
        conversation: c.into(),
        agent: agent.into(),
        goal,
        breach_at,
    }
}

fn breach(c: &str, agent: &str, goal: ReplyGoal) -> Event {
    Event::SlaBreached {
        conversation: c.into(),
        agent: agent.into(),
        goal,
    }
}

fn reminder(c: &str, agent: &str, end_at: Option<DateTime<Utc>>) -> Event {
    Event::InactivityReminder {
        conversation: c.into(),
        agent: agent.into(),
        end_at,
    }
}

fn ended(c: &str, agent: &str, reason: EndReason) -> Event {
    Event::ConversationEnded {
        conversation: c.into(),
        agent: Some(agent.into()),
        reason,
    }
}

fn woke(c: &str, agent: &str, reason: WakeReason) -> Event {
    Event::ConversationWoke {
        conversation: c.into(),
        agent: agent.into(),
        reason,
    }
}

/// A desk with `config`: group `support`, `ana` (limit 3) holds `c1`, arrived at t0.
fn desk_of(config: Config) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 3, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk
}

fn async_with(sla: Sla, inactivity: Inactivity) -> Config {
    Config {
        mode: ReceptionMode::Asynchronous,
        sla,
        inactivity,
        ..Config::default()
    }
}

/// Moves the desk's clock to `secs` and sends a Tick; returns its events.
fn tick_at(desk: &mut Desk, secs: i64) -> Vec<Event> {
    desk.now = at(secs);
    desk.run(Command::Tick).events
}

// ---- R-L1: reply goals --------------------------------------------------------------------

// R-L1: the first reply after assignment has a target; a warning comes `warn_before` ahead, at
// its time exactly and not before, then the breach. The goal stays open after the breach but
// nothing fires twice.
#[test]
fn r_l1_first_reply_warning_then_breach_each_once_at_its_time() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), None, Some(15)),
        ..Config::default()
    });
    assert_eq!(desk.engine.next_deadline(), Some(at(45)));
    assert!(tick_at(&mut desk, 44).is_empty(), "not before its time");
    assert_eq!(
        tick_at(&mut desk, 45),
        [warning("c1", "ana", ReplyGoal::FirstReply, at(60))]
    );
    assert_eq!(desk.engine.next_deadline(), Some(at(60)));
    assert!(tick_at(&mut desk, 45).is_empty(), "twice is harmless");
    assert!(tick_at(&mut desk, 59).is_empty());
    assert_eq!(
        tick_at(&mut desk, 60),
        [breach("c1", "ana", ReplyGoal::FirstReply)]
    );
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
    // A late reply closes the goal quietly.
    assert!(
        desk.run(message("c1", Sender::AgentReply))
            .events
            .is_empty()
    );
    let counters = desk.engine.counters();
    assert_eq!((counters.sla_warnings, counters.sla_breaches), (1, 1));
}

// R-L1: a reply in time meets the goal: no warning, no breach. Without a warning setting the
// breach is the only deadline.
#[test]
fn r_l1_a_reply_in_time_meets_the_goal() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), None, None),
        ..Config::default()
    });
    assert_eq!(desk.engine.next_deadline(), Some(at(60)));
    desk.now = at(59);
    assert!(
        desk.run(message("c1", Sender::AgentReply))
            .events
            .is_empty()
    );
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
    assert_eq!(desk.engine.counters().sla_breaches, 0);
}

// R-L1: an internal note is not a reply: the goal runs on to its warning and breach.
#[test]
fn r_l1_an_internal_note_is_not_a_reply() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), Some(60), Some(15)),
        ..Config::default()
    });
    desk.now = at(30);
    assert!(desk.run(message("c1", Sender::AgentNote)).events.is_empty());
    assert_eq!(desk.engine.next_deadline(), Some(at(45)));
    let events = desk.advance(TimeDelta::seconds(60));
    assert_eq!(
        events,
        [
            warning("c1", "ana", ReplyGoal::FirstReply, at(60)),
            breach("c1", "ana", ReplyGoal::FirstReply)
        ]
    );
}

// R-L1: a visitor message opens a next-reply goal (when none is open); more visitor messages do
// not move it; the agent's reply meets it; the next visitor message opens a new one.
#[test]
fn r_l1_next_reply_goal_from_the_visitor_message() {
    let mut desk = desk_of(Config {
        sla: sla(Some(30), Some(120), Some(20)),
        ..Config::default()
    });
    desk.now = at(5);
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(desk.engine.next_deadline(), None);

    desk.now = at(100);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), Some(at(200)));
    desk.now = at(150);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), Some(at(200)), "not reset");
    assert_eq!(
        tick_at(&mut desk, 200),
        [warning("c1", "ana", ReplyGoal::NextReply, at(220))]
    );
    desk.now = at(210);
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(desk.engine.next_deadline(), None);

    desk.now = at(1000);
    desk.run(message("c1", Sender::Visitor));
    let events = desk.advance(TimeDelta::seconds(200));
    assert_eq!(
        events,
        [
            warning("c1", "ana", ReplyGoal::NextReply, at(1120)),
            breach("c1", "ana", ReplyGoal::NextReply)
        ]
    );
}

// R-L1: a visitor message while the first-reply goal is still open does not replace it.
#[test]
fn r_l1_a_visitor_message_leaves_an_open_first_reply_goal_alone() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), Some(600), None),
        ..Config::default()
    });
    desk.now = at(30);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), Some(at(60)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(1000)),
        [breach("c1", "ana", ReplyGoal::FirstReply)]
    );
}

// R-L1: only the goals that have a target run: with no next-reply target a visitor message
// opens nothing.
#[test]
fn r_l1_no_target_no_goal() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), None, None),
        ..Config::default()
    });
    desk.now = at(10);
    desk.run(message("c1", Sender::AgentReply));
    desk.now = at(20);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
}

// R-L1: each agent that gets the conversation owes its own first reply: a manual reassignment
// starts a fresh first-reply goal for the new agent.
#[test]
fn r_l1_a_new_agent_owes_its_own_first_reply() {
    let mut desk = desk_of(Config {
        sla: sla(Some(60), None, None),
        ..Config::default()
    });
    desk.register(AgentSpec::new("bo").status(AgentStatus::Online).limit(2));
    desk.now = at(50);
    desk.assign(&["c1"], Target::Agent("bo".into()));
    assert_eq!(desk.engine.next_deadline(), Some(at(110)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(100)),
        [breach("c1", "bo", ReplyGoal::FirstReply)]
    );
}

// R-L1, R-Z1: snoozed time does not count: the clock pauses, it does not reset. Target 60 s,
// 40 s run, snooze an hour: after the wake the warning comes at 10 s and the breach at 20 s.
#[test]
fn r_l1_snoozed_time_pauses_the_reply_goal_clock() {
    let mut desk = desk_of(async_with(
        sla(Some(60), None, Some(10)),
        Inactivity::default(),
    ));
    desk.now = at(40);
    desk.run(snooze(&["c1"], at(3640)));
    assert_eq!(desk.engine.next_deadline(), Some(at(3640)));
    let events = desk.advance(TimeDelta::seconds(3600));
    assert_eq!(events, [woke("c1", "ana", WakeReason::SnoozeEnded)]);
    assert_eq!(desk.engine.next_deadline(), Some(at(3650)));
    assert!(tick_at(&mut desk, 3649).is_empty());
    assert_eq!(
        tick_at(&mut desk, 3650),
        [warning("c1", "ana", ReplyGoal::FirstReply, at(3660))]
    );
    assert!(tick_at(&mut desk, 3659).is_empty());
    assert_eq!(
        tick_at(&mut desk, 3660),
        [breach("c1", "ana", ReplyGoal::FirstReply)]
    );
}

// R-L1, R-Z1, R-Z2: pauses add up over several snoozes, whatever lifts them; a snooze after the
// warning resumes to the breach only.
#[test]
fn r_l1_pauses_add_up_over_several_snoozes() {
    let mut desk = desk_of(async_with(
        sla(Some(60), None, Some(25)),
        Inactivity::default(),
    ));
    // 20 s run, snoozed 100 s, woken by the visitor.
    desk.now = at(20);
    desk.run(snooze(&["c1"], at(1000)));
    desk.now = at(120);
    let events = desk.run(message("c1", Sender::Visitor)).events;
    assert_eq!(events, [woke("c1", "ana", WakeReason::VisitorMessage)]);
    // 40 s left: the warning 15 s on, at 135.
    assert_eq!(desk.engine.next_deadline(), Some(at(135)));
    assert_eq!(
        tick_at(&mut desk, 135),
        [warning("c1", "ana", ReplyGoal::FirstReply, at(160))]
    );
    // 35 s run in all at 135; 10 more, then snoozed to 500: 15 s left after it.
    desk.now = at(145);
    desk.run(snooze(&["c1"], at(500)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(355)),
        [woke("c1", "ana", WakeReason::SnoozeEnded)]
    );
    assert_eq!(
        desk.engine.next_deadline(),
        Some(at(515)),
        "no second warning"
    );
    assert_eq!(
        desk.advance(TimeDelta::seconds(100)),
        [breach("c1", "ana", ReplyGoal::FirstReply)]
    );
}

// ---- R-L2: visitor inactivity -------------------------------------------------------------

// R-L2: after the agent's reply the visitor stays silent: a reminder (naming when the end
// comes), then the end with reason inactivity; the freed agent takes pool work.
#[test]
fn r_l2_inactivity_reminder_then_end_after_the_agents_reply() {
    let mut desk = Desk::with_config(async_with(Sla::default(), inactivity(Some(120), Some(300))));
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    assert_eq!(
        desk.engine.next_deadline(),
        None,
        "no clock before the reply"
    );
    desk.now = at(10);
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(desk.engine.next_deadline(), Some(at(130)));
    assert!(tick_at(&mut desk, 129).is_empty());
    assert_eq!(
        tick_at(&mut desk, 130),
        [reminder("c1", "ana", Some(at(310)))]
    );
    assert_eq!(desk.engine.next_deadline(), Some(at(310)));
    assert!(tick_at(&mut desk, 309).is_empty());
    let events = tick_at(&mut desk, 310);
    assert_eq!(
        events,
        [
            ended("c1", "ana", EndReason::Inactivity),
            Event::ConversationAssigned {
                skills: None,
                conversation: "c2".into(),
                agent: "ana".into(),
                reason: AssignReason::Drain {
                    trigger: DrainTrigger::CapacityFreed
                },
                load: 1,
                limit: 1,
                kind: "default".into()
            }
        ]
    );
    let counters = desk.engine.counters();
    assert_eq!(
        (counters.inactivity_reminders, counters.ended_for_inactivity),
        (1, 1)
    );
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
}

// R-L2: a visitor message stops the clock, even after the reminder; the agent's next reply
// starts it again from then. An internal note starts nothing.
#[test]
fn r_l2_a_visitor_message_stops_the_inactivity_clock() {
    let mut desk = desk_of(Config {
        inactivity: inactivity(Some(120), Some(300)),
        ..Config::default()
    });
    desk.now = at(10);
    desk.run(message("c1", Sender::AgentNote));
    assert_eq!(desk.engine.next_deadline(), None, "a note is not a reply");
    desk.run(message("c1", Sender::AgentReply));
    desk.now = at(60);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), None);

    desk.now = at(100);
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(
        tick_at(&mut desk, 220),
        [reminder("c1", "ana", Some(at(400)))]
    );
    desk.now = at(250);
    desk.run(message("c1", Sender::Visitor));
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
    assert!(desk.holder("c1").is_some(), "still open");
}

// R-L2: with only a reminder set, nothing ends; with only an end set, no reminder comes first.
#[test]
fn r_l2_reminder_only_and_end_only() {
    let mut desk = desk_of(Config {
        inactivity: inactivity(Some(120), None),
        ..Config::default()
    });
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(
        desk.advance(TimeDelta::hours(1)),
        [reminder("c1", "ana", None)]
    );

    let mut desk = desk_of(Config {
        inactivity: inactivity(None, Some(300)),
        ..Config::default()
    });
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(desk.engine.next_deadline(), Some(at(300)));
    assert_eq!(
        desk.advance(TimeDelta::hours(1)),
        [ended("c1", "ana", EndReason::Inactivity)]
    );
}

// R-L2, R-Z1: none of this while snoozed; when the snooze lifts with the agent's reply still
// the last message, the silence is timed afresh from the wake.
#[test]
fn r_l2_no_inactivity_while_snoozed_and_afresh_after_the_wake() {
    let mut desk = desk_of(async_with(Sla::default(), inactivity(Some(120), Some(300))));
    desk.run(message("c1", Sender::AgentReply));
    desk.now = at(100);
    desk.run(snooze(&["c1"], at(10_000)));
    assert_eq!(desk.engine.next_deadline(), Some(at(10_000)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(9_900)),
        [woke("c1", "ana", WakeReason::SnoozeEnded)]
    );
    assert_eq!(desk.engine.next_deadline(), Some(at(10_120)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(300)),
        [
            reminder("c1", "ana", Some(at(10_300))),
            ended("c1", "ana", EndReason::Inactivity)
        ]
    );
}

// R-L2: switching inactivity off at run time stops the silence clocks already running: with
// the engine's config saying "off", no reminder and no automatic end may come.
#[test]
fn r_l2_switching_inactivity_off_stops_running_silence_clocks() {
    let config = Config {
        inactivity: inactivity(Some(120), Some(300)),
        ..Config::default()
    };
    let mut desk = desk_of(config.clone());
    desk.run(message("c1", Sender::AgentReply));
    assert_eq!(desk.engine.next_deadline(), Some(at(120)));
    desk.now = at(10);
    desk.run(Command::UpdateConfig(Config {
        inactivity: Inactivity::default(),
        ..config
    }));
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
    assert!(desk.holder("c1").is_some());
}

// R-L1: switching the reply targets off at run time stops the goals already open: with the
// engine's config saying "no targets", no warning and no breach may come.
#[test]
fn r_l1_switching_sla_targets_off_stops_open_goals() {
    let config = Config {
        sla: sla(Some(60), Some(60), Some(10)),
        ..Config::default()
    };
    let mut desk = desk_of(config.clone());
    assert_eq!(desk.engine.next_deadline(), Some(at(50)));
    desk.now = at(10);
    desk.run(Command::UpdateConfig(Config {
        sla: Sla::default(),
        ..config
    }));
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
}

// ---- R-C4, R-C5: bad messages --------------------------------------------------------------

// R-C4, R-C5, R-L1, R-L2: a message for a conversation that is ended, unknown, or not yet with
// an agent (agent messages) is a typed error and changes nothing.
#[test]
fn r_l1_r_l2_bad_messages_are_typed_errors_and_change_nothing() {
    let mut desk = Desk::new();
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support"); // queued
    desk.arrive("c3", "v3", "support"); // queued
    desk.end("c1"); // ana takes c2
    desk.run(Command::VisitorLeaves {
        conversation: "c3".into(),
    });

    let agent_op = "take an agent message for";
    let visitor_op = "take a visitor message for";
    for (c, from, state, operation) in [
        ("c1", Sender::Visitor, "ended", visitor_op),
        ("c1", Sender::AgentReply, "ended", agent_op),
        ("c1", Sender::AgentNote, "ended", agent_op),
        ("c3", Sender::Visitor, "abandoned", visitor_op),
        ("c3", Sender::AgentReply, "abandoned", agent_op),
    ] {
        assert_eq!(
            desk.refuse(message(c, from)),
            Error::InvalidState {
                conversation: c.into(),
                state: state.into(),
                operation: operation.into(),
            },
            "{c} {from:?}"
        );
    }
    assert_eq!(
        desk.refuse(message("ghost", Sender::Visitor)),
        Error::UnknownConversation {
            conversation: "ghost".into()
        }
    );

    // A queued conversation has no agent to write.
    desk.arrive("c4", "v4", "support");
    for from in [Sender::AgentReply, Sender::AgentNote] {
        assert_eq!(
            desk.refuse(message("c4", from)),
            Error::InvalidState {
                conversation: "c4".into(),
                state: "queued".into(),
                operation: agent_op.into(),
            }
        );
    }
    // The visitor may write while waiting: accepted, nothing happens.
    assert!(desk.run(message("c4", Sender::Visitor)).events.is_empty());

    // Nor does a pooled one, nor one only offered to its agent.
    let mut config = Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    };
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support"); // offered to ana
    desk.arrive("c2", "v2", "support"); // pooled
    for (c, state) in [("c1", "offered"), ("c2", "in the unassigned pool")] {
        assert_eq!(
            desk.refuse(message(c, Sender::AgentReply)),
            Error::InvalidState {
                conversation: c.into(),
                state: state.into(),
                operation: agent_op.into(),
            }
        );
    }
}

// ---- The virtual clock --------------------------------------------------------------------

/// One step of the busy day: a command at a time, or the Tick at a deadline with the exact
/// events it must fire. After every step, the engine's next deadline must be `next`.
enum Step {
    Do(i64, Box<Command>),
    Tick(i64, Vec<Event>),
}

/// Whether an event is fired by a timer.
fn is_timer_event(event: &Event) -> bool {
    matches!(
        event,
        Event::SlaWarning { .. }
            | Event::SlaBreached { .. }
            | Event::InactivityReminder { .. }
            | Event::ConversationEnded {
                reason: EndReason::Inactivity,
                ..
            }
            | Event::ConversationWoke {
                reason: WakeReason::SnoozeEnded,
                ..
            }
    )
}

fn timer_subject(event: &Event) -> String {
    match event {
        Event::SlaWarning { conversation, .. }
        | Event::SlaBreached { conversation, .. }
        | Event::InactivityReminder { conversation, .. }
        | Event::ConversationEnded { conversation, .. }
        | Event::ConversationWoke { conversation, .. } => conversation.to_string(),
        other => panic!("not a timer event: {other:?}"),
    }
}

// R-C2, R-L1, R-L2, R-Z1, R-Z2: a busy asynchronous day, stepped from deadline to deadline. Each
// Tick is sent exactly at `next_deadline()`, which must equal the deadline worked out by hand
// (the earliest pending one); an early Tick a second before, and a repeated one, do nothing;
// every timer fires exactly once, at its time; nothing fires for a snoozed conversation;
// timers disarmed by replies, visitor messages and snoozes never fire.
#[test]
fn r_c2_virtual_clock_steps_deadline_to_deadline_and_every_timer_fires_once_at_its_time() {
    // First reply 60 s, next reply 120 s, warnings 20 s ahead; reminder after 300 s of
    // silence, end after 600 s.
    let config = async_with(
        sla(Some(60), Some(120), Some(20)),
        inactivity(Some(300), Some(600)),
    );
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 1, &["support"]);
    let first = ReplyGoal::FirstReply;
    let next = ReplyGoal::NextReply;
    let arrive = |c: &str| {
        Command::VisitorArrives(switchboard::Arrival::new(c, format!("v-{c}"), "support"))
    };
    let drained = |c: &str, agent: &str, load: u32, limit: u32| Event::ConversationAssigned {
        skills: None,
        conversation: c.into(),
        agent: agent.into(),
        reason: AssignReason::Drain {
            trigger: DrainTrigger::CapacityFreed,
        },
        load,
        limit,
        kind: "default".into(),
    };

    use Step::{Do, Tick};
    let act = |secs: i64, command: Command| Do(secs, Box::new(command));
    // (step, the next deadline after it, in seconds from t0)
    let story: Vec<(Step, Option<i64>)> = vec![
        (act(0, arrive("c1")), Some(40)), // -> ana; c1 first-reply warning 40, breach 60
        (act(5, arrive("c2")), Some(40)), // -> bo (never assigned); warning 45
        (act(10, arrive("c3")), Some(40)), // -> ana; warning 50
        (act(30, message("c1", Sender::AgentReply)), Some(45)), // c1 met; silence: reminder 330
        (
            Tick(45, vec![warning("c2", "bo", first, at(65))]),
            Some(50), // c3's warning
        ),
        // c3 has run 38 s of its 60: its warning (50) and breach (70) must not fire.
        (act(48, snooze(&["c3"], at(1000))), Some(65)),
        (Tick(65, vec![breach("c2", "bo", first)]), Some(330)),
        (act(100, message("c2", Sender::AgentReply)), Some(330)), // c2 reminder 400, end 700
        (act(120, arrive("c5")), Some(330)), // pooled: ana 2/2 (c3 snoozed counts), bo 1/1
        // The visitor writes: c1's silence stops (330 never fires); next-reply goal 300/320.
        (act(200, message("c1", Sender::Visitor)), Some(300)),
        (
            Tick(300, vec![warning("c1", "ana", next, at(320))]),
            Some(320),
        ),
        (act(310, message("c1", Sender::AgentReply)), Some(400)), // met; reminder 610, end 910
        (
            Tick(400, vec![reminder("c2", "bo", Some(at(700)))]),
            Some(610),
        ),
        (
            Tick(610, vec![reminder("c1", "ana", Some(at(910)))]),
            Some(700),
        ),
        (
            Tick(
                700,
                vec![
                    ended("c2", "bo", EndReason::Inactivity),
                    drained("c5", "bo", 1, 1), // c5 first reply: warning 740, breach 760
                ],
            ),
            Some(740),
        ),
        (act(710, arrive("c4")), Some(740)), // pooled
        (
            Tick(740, vec![warning("c5", "bo", first, at(760))]),
            Some(760),
        ),
        (Tick(760, vec![breach("c5", "bo", first)]), Some(910)),
        // The visitor writes after the reminder: no end at 910; next-reply goal 900/920.
        (act(800, message("c1", Sender::Visitor)), Some(900)),
        (
            Tick(900, vec![warning("c1", "ana", next, at(920))]),
            Some(920),
        ),
        (Tick(920, vec![breach("c1", "ana", next)]), Some(1000)),
        // c3 wakes with 22 s left: warning 2 s on, breach 22 s on.
        (
            Tick(1000, vec![woke("c3", "ana", WakeReason::SnoozeEnded)]),
            Some(1002),
        ),
        (
            Tick(1002, vec![warning("c3", "ana", first, at(1022))]),
            Some(1022),
        ),
        (Tick(1022, vec![breach("c3", "ana", first)]), None),
        // ana finishes c1 and takes c4 from the pool: warning 1140, breach 1160.
        (
            act(
                1100,
                Command::EndConversations {
                    conversations: conversation_ids(&["c1"]),
                    reason: EndReason::Agent,
                },
            ),
            Some(1140),
        ),
        (act(1120, message("c4", Sender::AgentReply)), Some(1420)), // reminder 1420, end 1720
        (act(1130, snooze(&["c4"], at(5000))), Some(5000)),         // silence not timed
        // The visitor wakes c4 (no snooze end at 5000); next-reply goal 2100/2120.
        (act(2000, message("c4", Sender::Visitor)), Some(2100)),
        (act(2050, message("c4", Sender::AgentReply)), Some(2350)), // reminder 2350, end 2650
        (
            Tick(2350, vec![reminder("c4", "ana", Some(at(2650)))]),
            Some(2650),
        ),
        (
            Tick(2650, vec![ended("c4", "ana", EndReason::Inactivity)]),
            None,
        ),
    ];

    let mut fired: Vec<(i64, Event)> = Vec::new();
    for (step, expected_next) in story {
        match step {
            Do(secs, command) => {
                let command = *command;
                // Every deadline up to now has been ticked.
                assert!(
                    desk.engine.next_deadline().is_none_or(|d| d > at(secs)),
                    "a deadline before {secs} was skipped"
                );
                desk.now = at(secs);
                let events = desk.run(command).events;
                assert!(
                    !events.iter().any(is_timer_event),
                    "a command fired a timer at {secs}: {events:?}"
                );
            }
            Tick(secs, expected) => {
                assert_eq!(
                    desk.engine.next_deadline(),
                    Some(at(secs)),
                    "the deadline is exact"
                );
                // A second early: nothing fires, the deadline stands.
                let events = tick_at(&mut desk, secs - 1);
                assert!(events.is_empty(), "fired early at {}: {events:?}", secs - 1);
                assert_eq!(desk.engine.next_deadline(), Some(at(secs)));
                let events = tick_at(&mut desk, secs);
                assert_eq!(events, expected, "the tick at {secs}");
                fired.extend(events.into_iter().map(|e| (secs, e)));
                // Again at the same time: nothing.
                assert!(tick_at(&mut desk, secs).is_empty(), "fired twice at {secs}");
            }
        }
        assert_eq!(
            desk.engine.next_deadline(),
            expected_next.map(at),
            "next deadline after the step at {}",
            desk.now.signed_duration_since(t0()).num_seconds()
        );
    }
    // Nothing is left to fire, ever.
    assert!(desk.advance(TimeDelta::days(7)).is_empty());

    // Every timer fired once: no (conversation, event) pair repeats.
    let timers: Vec<&(i64, Event)> = fired.iter().filter(|(_, e)| is_timer_event(e)).collect();
    assert_eq!(timers.len(), 15);
    for (i, (_, a)) in timers.iter().enumerate() {
        assert!(
            !timers[i + 1..].iter().any(|(_, b)| a == b),
            "{a:?} fired twice"
        );
    }
    // Never while snoozed: from the desk's full event log, the snoozed spans of each
    // conversation, and no timer event other than the wake inside one.
    type Span = (DateTime<Utc>, DateTime<Utc>);
    let mut spans: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut open: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    // Re-run the log to stamp each event with its command's time.
    let mut replay = switchboard::Engine::new(desk.engine.config().clone()).expect("valid");
    let mut stamped: Vec<(DateTime<Utc>, Event)> = Vec::new();
    for (now, command) in &desk.log {
        let outcome = replay.handle(*now, command.clone()).expect("replays");
        stamped.extend(outcome.events.into_iter().map(|e| (*now, e)));
    }
    assert_eq!(
        stamped.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        desk.events,
        "the log replays to the same events (R-C1)"
    );
    let mut clock = t0();
    let mut timeline: Vec<(DateTime<Utc>, &Event)> = Vec::new();
    for (now, event) in &stamped {
        clock = clock.max(*now);
        timeline.push((clock, event));
        match event {
            Event::ConversationSnoozed { conversation, .. } => {
                open.insert(conversation.to_string(), clock);
            }
            Event::ConversationWoke { conversation, .. } => {
                let from = open.remove(&conversation.to_string()).expect("was snoozed");
                spans
                    .entry(conversation.to_string())
                    .or_default()
                    .push((from, clock));
            }
            _ => {}
        }
    }
    assert!(open.is_empty());
    assert_eq!(spans.len(), 2, "c3 and c4 were snoozed");
    for (when, event) in timeline {
        if !is_timer_event(event) || matches!(event, Event::ConversationWoke { .. }) {
            continue;
        }
        let subject = timer_subject(event);
        for (from, to) in spans.get(&subject).into_iter().flatten() {
            assert!(
                !(*from <= when && when < *to),
                "{event:?} fired at {when} while {subject} was snoozed"
            );
        }
    }
}
