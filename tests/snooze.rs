//! Snooze (R-Z1, R-Z2), statement by statement after the Sobot seed: an agent sets a
//! conversation it cannot handle now to "Snoozed" until a time; "in the snoozed state, the
//! session does not trigger SLA time limit assessments, does not send timeout reply messages,
//! and does not automatically end"; "when the suspension duration expires, or when a new message
//! is sent by the customer service or the customer, the snoozed state will be automatically
//! lifted"; "sessions in the snoozed state will be moved to the Snoozed group"; "supports batch
//! setting of the Snoozed status".

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AssignReason, Command, Config, ConversationState, DrainTrigger, EndReason, Engine, Error,
    Event, Inactivity, ReceptionMode, ReplyGoal, Sender, Sla, Strategy, WakeReason,
};

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

fn async_config() -> Config {
    Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn message(conversation: &str, from: Sender) -> Command {
    Command::Message {
        conversation: conversation.into(),
        from,
    }
}

/// Asynchronous desk: `ana` (limit 3) holds `c1`, `c2`, `c3`, all arrived at t0.
fn desk_of(config: Config) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 3, &["support"]);
    for c in ["c1", "c2", "c3"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    desk
}

fn busy_desk() -> Desk {
    desk_of(async_config())
}

// R-Z1: snoozing several conversations: one result and one event each; each moves to the
// snoozed bucket (soonest to wake first) and keeps its agent, who still carries it (snoozed
// conversations count toward load by default).
#[test]
fn r_z1_batch_snooze_moves_conversations_to_the_bucket_and_they_keep_their_agent() {
    let mut desk = busy_desk();
    assert!(Config::default().snoozed_count_toward_load);
    let late = at(7200);
    let outcome = desk.run(snooze(&["c1", "c3"], late));
    assert_eq!(
        item_results(&outcome),
        [("c1".to_string(), Ok(())), ("c3".to_string(), Ok(()))]
    );
    assert_eq!(
        outcome.events,
        [
            snoozed_event("c1", "ana", late),
            snoozed_event("c3", "ana", late)
        ]
    );
    let soon = at(3600);
    desk.run(snooze(&["c2"], soon));
    assert_eq!(
        bucket(&desk),
        [
            ("c2".to_string(), soon),
            ("c1".to_string(), late),
            ("c3".to_string(), late)
        ]
    );
    assert_eq!(
        state(&desk, "c1"),
        ConversationState::Snoozed {
            agent: "ana".into(),
            until: late
        }
    );
    assert_eq!(desk.holder("c1"), None, "not active while snoozed");
    let ana = desk.agent_view("ana");
    assert_eq!(ana.conversations, conversation_ids(&["c1", "c2", "c3"]));
    assert_eq!((ana.load, ana.limit), (3, 3));
    let counters = desk.engine.counters();
    assert_eq!(
        (counters.snoozed, counters.active, counters.snoozes),
        (3, 0, 3)
    );
    assert_eq!(desk.engine.next_deadline(), Some(soon));

    // Still full: a new visitor waits in the pool.
    desk.arrive("c4", "v4", "support");
    assert_eq!(pool(&desk), ["c4"]);
}

// R-Z1, R-C8: a batch with bad items snoozes the good ones and reports each bad one.
#[test]
fn r_z1_batch_snooze_with_bad_items_does_the_good_ones() {
    let mut desk = busy_desk();
    desk.arrive("c4", "v4", "support"); // ana is full: c4 is pooled
    desk.end("c3"); // ana takes c4 back from the pool
    desk.arrive("c5", "v5", "support"); // pooled
    let until = at(600);
    desk.run(snooze(&["c2"], until));
    let outcome = desk.run(snooze(&["c1", "c5", "ghost", "c3", "c2", "c4"], until));
    assert_eq!(
        item_results(&outcome),
        [
            ("c1".to_string(), Ok(())),
            (
                "c5".to_string(),
                Err(Error::InvalidState {
                    conversation: "c5".into(),
                    state: "in the unassigned pool".into(),
                    operation: "snooze".into(),
                })
            ),
            (
                "ghost".to_string(),
                Err(Error::UnknownConversation {
                    conversation: "ghost".into()
                })
            ),
            (
                "c3".to_string(),
                Err(Error::InvalidState {
                    conversation: "c3".into(),
                    state: "ended".into(),
                    operation: "snooze".into(),
                })
            ),
            (
                "c2".to_string(),
                Err(Error::InvalidState {
                    conversation: "c2".into(),
                    state: "snoozed".into(),
                    operation: "snooze".into(),
                })
            ),
            ("c4".to_string(), Ok(())),
        ]
    );
    assert_eq!(
        outcome.events,
        [
            snoozed_event("c1", "ana", until),
            snoozed_event("c4", "ana", until)
        ]
    );
    assert_eq!(bucket(&desk).len(), 3);
    assert_eq!(state(&desk, "c5"), ConversationState::Pooled);
}

// R-Z1, R-C4, R-C5: the time must lie in the future (now is not), the batch must name some
// conversation, and snooze is an asynchronous-mode operation; each refusal changes nothing,
// not even the good items of the batch.
#[test]
fn r_z1_snooze_until_not_in_the_future_or_in_real_time_mode_is_refused() {
    let mut desk = busy_desk();
    desk.now = at(100);
    for until in [at(100), at(99), at(-3600)] {
        assert_eq!(
            desk.refuse(snooze(&["c1", "c2"], until)),
            Error::SnoozeNotInFuture {
                until,
                now: at(100)
            }
        );
    }
    // The engine's clock counts, not the command's stamp (R-C3): a stale stamp does not make a
    // past time acceptable.
    desk.run(Command::Tick);
    desk.now = at(50);
    assert_eq!(
        desk.refuse(snooze(&["c1"], at(80))),
        Error::SnoozeNotInFuture {
            until: at(80),
            now: at(100)
        }
    );
    desk.now = at(100);
    assert_eq!(desk.refuse(snooze(&[], at(200))), Error::EmptyBatch);
    assert_eq!(bucket(&desk), []);

    let mut rt = desk_of(Config::default());
    assert_eq!(
        rt.refuse(snooze(&["c1"], at(3600))),
        Error::WrongMode {
            operation: "snooze".into(),
            mode: "real-time".into()
        }
    );
    // One second ahead is enough.
    desk.run(snooze(&["c1"], at(101)));
    assert_eq!(bucket(&desk), [("c1".to_string(), at(101))]);
}

// R-Z1: only an active conversation can be snoozed: not one merely offered to its agent.
#[test]
fn r_z1_an_offered_conversation_cannot_be_snoozed() {
    let mut config = async_config();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 2, &["support"]);
    desk.arrive("c1", "v1", "support");
    assert!(matches!(
        state(&desk, "c1"),
        ConversationState::Offered { .. }
    ));
    let outcome = desk.run(snooze(&["c1"], at(600)));
    assert_eq!(
        item_results(&outcome),
        [(
            "c1".to_string(),
            Err(Error::InvalidState {
                conversation: "c1".into(),
                state: "offered".into(),
                operation: "snooze".into(),
            })
        )]
    );
    assert!(outcome.events.is_empty());
}

// R-Z2: the snooze lifts when its time comes, on the Tick at that time and not before; the
// conversation is active with its agent again and leaves the bucket.
#[test]
fn r_z2_snooze_lifts_at_its_time_on_tick() {
    let mut desk = busy_desk();
    let until = at(1800);
    desk.run(snooze(&["c1"], until));
    desk.now = until - TimeDelta::seconds(1);
    assert!(desk.run(Command::Tick).events.is_empty(), "not before");
    assert!(matches!(
        state(&desk, "c1"),
        ConversationState::Snoozed { .. }
    ));
    assert_eq!(desk.engine.next_deadline(), Some(until));

    desk.now = until;
    let events = desk.run(Command::Tick).events;
    assert_eq!(events, [woke("c1", "ana", WakeReason::SnoozeEnded)]);
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(bucket(&desk), []);
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.run(Command::Tick).events.is_empty(), "a second tick");
    let counters = desk.engine.counters();
    assert_eq!((counters.snoozed, counters.active), (0, 3));
}

// R-Z2: a late tick still wakes it, once.
#[test]
fn r_z2_a_late_tick_wakes_each_snooze_once_in_time_order() {
    let mut desk = busy_desk();
    desk.run(snooze(&["c2"], at(300)));
    desk.run(snooze(&["c1"], at(200)));
    desk.now = at(5000);
    let events = desk.run(Command::Tick).events;
    assert_eq!(
        events,
        [
            woke("c1", "ana", WakeReason::SnoozeEnded),
            woke("c2", "ana", WakeReason::SnoozeEnded)
        ]
    );
    assert!(desk.run(Command::Tick).events.is_empty());
}

// R-Z2: a visitor message lifts the snooze at once; the snooze's deadline is dropped.
#[test]
fn r_z2_a_visitor_message_lifts_the_snooze() {
    let mut desk = busy_desk();
    desk.run(snooze(&["c1", "c2"], at(3600)));
    desk.now = at(60);
    let events = desk.run(message("c1", Sender::Visitor)).events;
    assert_eq!(events, [woke("c1", "ana", WakeReason::VisitorMessage)]);
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(bucket(&desk), [("c2".to_string(), at(3600))]);
    // Only c2's snooze is left to fire.
    let events = desk.advance(TimeDelta::hours(2));
    assert_eq!(events, [woke("c2", "ana", WakeReason::SnoozeEnded)]);
}

// R-Z2, R-L1: an agent reply lifts the snooze; an internal note does not.
#[test]
fn r_z2_an_agent_reply_lifts_the_snooze_but_an_internal_note_does_not() {
    let mut desk = busy_desk();
    desk.run(snooze(&["c1"], at(3600)));
    desk.now = at(60);
    assert!(desk.run(message("c1", Sender::AgentNote)).events.is_empty());
    assert!(matches!(
        state(&desk, "c1"),
        ConversationState::Snoozed { .. }
    ));
    assert_eq!(desk.engine.next_deadline(), Some(at(3600)));

    desk.now = at(120);
    let events = desk.run(message("c1", Sender::AgentReply)).events;
    assert_eq!(events, [woke("c1", "ana", WakeReason::AgentMessage)]);
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(2)).is_empty());
}

// R-Z1, R-A3: with snoozed conversations not counting toward load, snoozing frees the agent's
// place at once and it takes pool work; the woken conversation then puts it over its limit,
// and it takes no more until it is below it (R-A4).
#[test]
fn r_z1_snoozed_not_counting_toward_load_frees_the_agent_for_new_work() {
    let config = Config {
        snoozed_count_toward_load: false,
        ..async_config()
    };
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    for c in ["c1", "c2", "c3"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(pool(&desk), ["c2", "c3"]);

    let events = desk.run(snooze(&["c1"], at(600))).events;
    assert_eq!(events[0], snoozed_event("c1", "ana", at(600)));
    assert_eq!(
        assignments(&events),
        [(
            "c2".to_string(),
            "ana".to_string(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
    assert_eq!(desk.load("ana"), (1, 1));
    assert_eq!(
        desk.agent_view("ana").conversations,
        conversation_ids(&["c1", "c2"])
    );

    desk.now = at(600);
    let events = desk.run(Command::Tick).events;
    assert_eq!(events, [woke("c1", "ana", WakeReason::SnoozeEnded)]);
    assert_eq!(desk.load("ana"), (2, 1));
    assert!(pairs(&desk.end("c2").events).is_empty(), "at its limit");
    assert_eq!(
        pairs(&desk.end("c1").events),
        [("c3".to_string(), "ana".to_string())]
    );
}

// R-Z1: by default snoozing frees nothing: the pool keeps waiting.
#[test]
fn r_z1_snoozed_counting_toward_load_keeps_the_agent_full() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    let events = desk.run(snooze(&["c1"], at(600))).events;
    assert!(pairs(&events).is_empty());
    assert_eq!(desk.load("ana"), (1, 1));
    assert_eq!(pool(&desk), ["c2"]);

    // Switching the setting at run time frees the place at once.
    let events = desk
        .run(Command::UpdateConfig(Config {
            snoozed_count_toward_load: false,
            ..async_config()
        }))
        .events;
    assert_eq!(pairs(&events), [("c2".to_string(), "ana".to_string())]);
    assert_eq!(desk.load("ana"), (1, 1));
}

// R-Z1, R-D1: ending a snoozed conversation takes it out of the bucket, drops its deadline and
// frees its agent, who takes pool work.
#[test]
fn r_z1_ending_a_snoozed_conversation_frees_the_agent_and_drops_the_deadline() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk.run(snooze(&["c1"], at(600)));
    let events = desk.end("c1").events;
    assert_eq!(
        events[0],
        Event::ConversationEnded {
            conversation: "c1".into(),
            agent: Some("ana".into()),
            reason: EndReason::Agent,
        }
    );
    assert_eq!(pairs(&events), [("c2".to_string(), "ana".to_string())]);
    assert_eq!(bucket(&desk), []);
    assert_eq!(desk.engine.counters().snoozed, 0);
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
}

// R-Z1 (seed: "does not trigger SLA time limit assessments, does not send timeout reply
// messages, and does not automatically end the session"): a day snoozed with a reply goal and
// an inactivity clock running: nothing fires; both resume when the snooze lifts.
#[test]
fn r_z1_no_sla_assessment_no_reminder_no_automatic_end_while_snoozed() {
    let config = Config {
        sla: Sla {
            first_reply_secs: Some(60),
            next_reply_secs: Some(60),
            warn_before_secs: Some(10),
        },
        inactivity: Inactivity {
            reminder_after_secs: Some(120),
            end_after_secs: Some(300),
        },
        ..async_config()
    };
    let mut desk = desk_of(config);
    // c1 owes its first reply (breach due at 60); c2 was answered at 10 (reminder due at 130,
    // end at 310).
    desk.now = at(10);
    desk.run(message("c2", Sender::AgentReply));
    desk.run(message("c3", Sender::AgentReply));
    desk.now = at(20);
    let until = at(86_400);
    desk.run(snooze(&["c1", "c2"], until));
    assert_eq!(desk.engine.next_deadline(), Some(at(130)), "c3's reminder");

    let events = desk.advance(TimeDelta::seconds(86_400 - 20 - 1));
    let c3_only = events.iter().all(|e| match e {
        Event::InactivityReminder { conversation, .. }
        | Event::ConversationEnded { conversation, .. } => conversation.as_str() == "c3",
        _ => false,
    });
    assert!(c3_only, "only the awake c3 had timers fire: {events:?}");
    assert_eq!(events.len(), 2, "c3's reminder and end");
    assert!(matches!(
        state(&desk, "c1"),
        ConversationState::Snoozed { .. }
    ));
    assert!(matches!(
        state(&desk, "c2"),
        ConversationState::Snoozed { .. }
    ));
    let counters = desk.engine.counters();
    assert_eq!(
        (
            counters.sla_warnings,
            counters.sla_breaches,
            counters.inactivity_reminders,
            counters.ended_for_inactivity
        ),
        (0, 0, 1, 1)
    );

    // The snooze lifts: c1's goal resumes with 40 s left (warning 30 s on), c2's silence is
    // timed afresh from the wake.
    let events = desk.advance(TimeDelta::seconds(1));
    assert_eq!(
        events,
        [
            woke("c1", "ana", WakeReason::SnoozeEnded),
            woke("c2", "ana", WakeReason::SnoozeEnded)
        ]
    );
    assert_eq!(desk.now, until);
    assert_eq!(
        desk.engine.next_deadline(),
        Some(until + TimeDelta::seconds(30))
    );
    let events = desk.advance(TimeDelta::seconds(300));
    assert_eq!(
        events,
        [
            Event::SlaWarning {
                conversation: "c1".into(),
                agent: "ana".into(),
                goal: ReplyGoal::FirstReply,
                breach_at: until + TimeDelta::seconds(40),
            },
            Event::SlaBreached {
                conversation: "c1".into(),
                agent: "ana".into(),
                goal: ReplyGoal::FirstReply,
            },
            Event::InactivityReminder {
                conversation: "c2".into(),
                agent: "ana".into(),
                end_at: Some(until + TimeDelta::seconds(300)),
            },
            Event::ConversationEnded {
                conversation: "c2".into(),
                agent: Some("ana".into()),
                reason: EndReason::Inactivity,
            },
        ]
    );
}

// R-Z1, R-C6: a snapshot taken mid-snooze restores to an engine that goes on exactly the same.
#[test]
fn r_z1_a_snapshot_mid_snooze_goes_on_the_same() {
    let config = Config {
        sla: Sla {
            first_reply_secs: Some(60),
            next_reply_secs: None,
            warn_before_secs: Some(10),
        },
        ..async_config()
    };
    let mut desk = desk_of(config);
    desk.now = at(25);
    desk.run(snooze(&["c1", "c2"], at(500)));
    desk.now = at(30);
    desk.run(message("c3", Sender::AgentNote));

    let json = serde_json::to_string(&desk.engine.snapshot()).expect("serializes");
    let mut restored =
        Engine::restore(serde_json::from_str(&json).expect("deserializes")).expect("restores");
    assert_eq!(restored.next_deadline(), desk.engine.next_deadline());
    let script = [
        (at(400), message("c2", Sender::Visitor)),
        (at(500), Command::Tick),
        (at(520), Command::Tick),
        (at(535), Command::Tick),
    ];
    for (now, command) in script {
        desk.now = now;
        let live = desk.run(command.clone());
        let again = restored
            .handle(now, command)
            .expect("the same command succeeds");
        assert_eq!(live.outcome(), &again);
    }
    // The story did something: the wake and c1's resumed goal (35 s left at 500).
    let woken = desk
        .events
        .iter()
        .filter(|e| matches!(e, Event::ConversationWoke { .. }))
        .count();
    assert_eq!(woken, 2);
    assert!(desk.events.contains(&Event::SlaBreached {
        conversation: "c1".into(),
        agent: "ana".into(),
        goal: ReplyGoal::FirstReply,
    }));
}

// R-Z1: a snoozed conversation keeps its agent only while the agent exists: removing the agent
// ends the snooze's deadline and routes the conversation again (here, to the pool).
#[test]
fn r_z1_removing_the_agent_of_a_snoozed_conversation_routes_it_again() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.run(snooze(&["c1"], at(600)));
    let events = desk
        .run(Command::RemoveAgent {
            agent: "ana".into(),
        })
        .events;
    assert!(events.contains(&Event::ConversationRequeued {
        conversation: "c1".into(),
        from: "ana".into(),
    }));
    assert_eq!(state(&desk, "c1"), ConversationState::Pooled);
    assert_eq!(bucket(&desk), []);
    assert_eq!(desk.engine.counters().snoozed, 0);
    assert_eq!(desk.engine.next_deadline(), None);
    assert!(desk.advance(TimeDelta::hours(1)).is_empty());
}

// R-Z1: a config change (which rebuilds the indexes) keeps every snooze and its deadline.
#[test]
fn r_z1_a_config_change_keeps_snoozes_and_their_deadlines() {
    let mut desk = busy_desk();
    desk.run(snooze(&["c2"], at(900)));
    desk.run(snooze(&["c1"], at(600)));
    desk.now = at(10);
    desk.run(Command::UpdateConfig(Config {
        pool_order: switchboard::PoolOrder::NewestFirst,
        ..async_config()
    }));
    assert_eq!(
        bucket(&desk),
        [("c1".to_string(), at(600)), ("c2".to_string(), at(900))]
    );
    assert_eq!(desk.engine.next_deadline(), Some(at(600)));
    assert_eq!(
        desk.advance(TimeDelta::seconds(1000)),
        [
            woke("c1", "ana", WakeReason::SnoozeEnded),
            woke("c2", "ana", WakeReason::SnoozeEnded)
        ]
    );
}
