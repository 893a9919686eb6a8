//! The engine's shape: determinism, the one entry point and its deadline, time that never runs
//! backwards, refusals that change nothing, no panics, queries, and batches (R-C1 .. R-C5,
//! R-C7, R-C8).

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, AssignReason, Command, Config, ConversationState,
    Counters, CustomStatus, EndReason, Engine, Error, GroupSpec, GroupUpdate, LastAgent, Limit,
    Membership, QueueConfig, Strategy, Target,
};

fn arrive_p(desk: &mut Desk, conversation: &str, group: &str, priority: u8) {
    let arrival = Arrival::new(conversation, format!("v-{conversation}"), group).priority(priority);
    desk.run(Command::VisitorArrives(arrival));
}

fn end(conversations: &[&str]) -> Command {
    Command::EndConversations {
        conversations: conversations.iter().map(|c| (*c).into()).collect(),
        reason: EndReason::Agent,
    }
}

/// A morning at a desk with two groups, four strategies' worth of agents, queues, transfers,
/// manual work, status changes and ends. Returns the desk; its `log` replays the story.
fn morning() -> Desk {
    let mut desk = Desk::with_config(Config {
        last_agent: LastAgent {
            enabled: true,
            window_secs: Some(3600),
        },
        queue: QueueConfig {
            announce_positions: 3,
            aging_step_secs: Some(120),
            ..QueueConfig::default()
        },
        ..Config::default()
    });
    desk.group("support", Strategy::LeastLoaded);
    desk.group("sales", Strategy::RoundRobin);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 1, &["support", "sales"]);
    desk.agent("cy", 2, &["sales"]);
    for (i, (c, g, p)) in [
        ("c1", "support", 0),
        ("c2", "sales", 1),
        ("c3", "support", 2),
        ("c4", "support", 0),
        ("c5", "sales", 0),
        ("c6", "sales", 3),
        ("c7", "support", 1),
        ("c8", "support", 0),
    ]
    .into_iter()
    .enumerate()
    {
        desk.wait(TimeDelta::seconds(30 + i as i64));
        arrive_p(&mut desk, c, g, p);
    }
    desk.wait(TimeDelta::minutes(2));
    desk.run(Command::Transfer {
        conversation: "c1".into(),
        to: Target::Group("sales".into()),
    });
    desk.status("cy", AgentStatus::Busy);
    desk.run(end(&["c3", "c2"]));
    desk.run(Command::VisitorLeaves {
        conversation: "c8".into(),
    });
    desk.wait(TimeDelta::minutes(1));
    desk.run(Command::AssignManually {
        conversations: vec!["c7".into(), "c4".into()],
        target: Target::Agent("cy".into()),
    });
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: Some(Limit::Fixed(3)),
        groups: Some(vec![Membership::new("support"), Membership::new("sales")]),
        schedules: None,
    }));
    desk.status("cy", AgentStatus::Online);
    desk.arrive("c9", "v-c1", "support");
    desk.run(Command::RemoveAgent { agent: "bo".into() });
    desk.wait(TimeDelta::minutes(4));
    let held: Vec<String> = desk
        .engine
        .agent_conversations("ana")
        .expect("ana")
        .map(|c| c.to_string())
        .collect();
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    desk.run(end(&held));
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "sales".into(),
        strategy: Some(Strategy::AgentPriority),
        limit: Some(Limit::Fixed(4)),
        overflow: None,
        agent_cap: None,
    }));
    desk.arrive("c10", "v10", "sales");
    desk
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

// R-C1: the same command log gives the same outcomes, bit for bit, and the same final state.
#[test]
fn r_c1_the_same_command_log_gives_identical_events() {
    let desk = morning();
    assert!(desk.log.len() > 20);
    let config = desk.engine.config().clone();
    let replay = |log: &[(DateTime<Utc>, Command)]| {
        let mut engine = Engine::new(config.clone()).expect("valid");
        let outcomes: Vec<String> = log
            .iter()
            .map(|(at, c)| json(&engine.handle(*at, c.clone()).expect("replays")))
            .collect();
        (outcomes, json(&engine.snapshot()))
    };
    let (first, first_state) = replay(&desk.log);
    let (second, second_state) = replay(&desk.log);
    assert_eq!(first, second);
    assert_eq!(first_state, second_state);
    assert_eq!(first_state, desk.state_json());
    // The events are those the story saw.
    let mut engine = Engine::new(config).expect("valid");
    let events: Vec<_> = desk
        .log
        .iter()
        .flat_map(|(at, c)| engine.handle(*at, c.clone()).expect("replays").events)
        .collect();
    assert_eq!(json(&events), json(&desk.events));
}

// R-C2: a Tick that comes early, twice, or stamped in the past changes nothing and says nothing;
// the outcome's deadline is the engine's.
#[test]
fn r_c2_an_early_or_repeated_tick_is_a_harmless_no_op() {
    let mut desk = morning();
    desk.now = desk.engine.now().expect("ran");
    let before = desk.state_json();
    for at in [desk.now, desk.now, desk.now - TimeDelta::hours(2)] {
        let outcome = desk.engine.handle(at, Command::Tick).expect("a tick");
        assert!(outcome.events.is_empty() && outcome.results.is_empty());
        assert_eq!(outcome.next_deadline, desk.engine.next_deadline());
        assert_eq!(desk.state_json(), before);
    }
    // A later tick moves only the clock.
    let later = desk.now + TimeDelta::minutes(7);
    let outcome = desk.engine.handle(later, Command::Tick).expect("a tick");
    assert!(outcome.events.is_empty());
    assert_eq!(desk.engine.now(), Some(later));
    let mut after: serde_json::Value = serde_json::from_str(&desk.state_json()).expect("json");
    let mut before: serde_json::Value = serde_json::from_str(&before).expect("json");
    after["state"]["clock"] = serde_json::Value::Null;
    before["state"]["clock"] = serde_json::Value::Null;
    assert_eq!(after, before);
}

// R-C2: every outcome carries the engine's next deadline.
#[test]
fn r_c2_every_outcome_carries_the_engines_next_deadline() {
    let desk = morning();
    let mut engine = Engine::new(desk.engine.config().clone()).expect("valid");
    for (at, command) in &desk.log {
        let outcome = engine.handle(*at, command.clone()).expect("replays");
        assert_eq!(outcome.next_deadline, engine.next_deadline(), "{command:?}");
    }
}

// R-C3: a command stamped before the engine's clock is handled at the engine's clock: the
// clock, arrival times and waited times never go backwards.
#[test]
fn r_c3_a_command_stamped_in_the_past_is_handled_at_the_engines_clock() {
    let mut engine = Engine::new(Config::default()).expect("valid");
    let t = t0();
    let _ = engine
        .handle(t, Command::RegisterGroup(GroupSpec::new("support")))
        .expect("ok");
    let at = |minutes| t + TimeDelta::minutes(minutes);
    let _ = engine
        .handle(
            at(10),
            Command::VisitorArrives(Arrival::new("c1", "v1", "support")),
        )
        .expect("ok");
    let _ = engine
        .handle(
            at(15),
            Command::VisitorArrives(Arrival::new("c2", "v2", "support")),
        )
        .expect("ok");
    // Stamped 14 minutes back: handled at minute 15.
    let _ = engine
        .handle(
            at(1),
            Command::VisitorArrives(Arrival::new("c3", "v3", "support").priority(0)),
        )
        .expect("ok");
    assert_eq!(engine.now(), Some(at(15)));
    let c3 = engine.conversation("c3").expect("known");
    assert_eq!(c3.arrived_at, at(15));
    let engine_now = |engine: &Engine| engine.now().expect("a command ran");
    assert_eq!(c3.waited(engine_now(&engine)), Duration::ZERO);
    let queue: Vec<String> = engine
        .queue("support")
        .expect("known")
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        queue,
        ["c1", "c2", "c3"],
        "c3 arrived last, whatever its stamp"
    );
    let c1 = engine.conversation("c1").expect("known");
    assert_eq!(c1.waited(engine_now(&engine)), Duration::from_secs(5 * 60));

    // An agent registered with a stamp in the past takes c1 at minute 15: c1 waited 5 minutes,
    // not 5 minutes minus something.
    let _ = engine
        .handle(
            at(0),
            Command::RegisterAgent(
                AgentSpec::new("ana")
                    .status(AgentStatus::Online)
                    .limit(1)
                    .group("support"),
            ),
        )
        .expect("ok");
    let c1 = engine.conversation("c1").expect("known");
    assert_eq!(
        c1.state,
        ConversationState::Active {
            agent: "ana".into()
        }
    );
    assert_eq!(c1.waited(engine_now(&engine)), Duration::from_secs(5 * 60));
    assert_eq!(c1.first_assigned_at, Some(at(15)), "not at the stamp");
    // Time moves on, then a late stamp again: waited times of those still queued never shrink.
    let _ = engine.handle(at(20), Command::Tick).expect("ok");
    let waited = engine
        .conversation("c2")
        .expect("known")
        .waited(engine_now(&engine));
    assert_eq!(waited, Duration::from_secs(5 * 60));
    let _ = engine.handle(at(16), Command::Tick).expect("ok");
    assert_eq!(engine.now(), Some(at(20)));
    assert_eq!(
        engine
            .conversation("c2")
            .expect("known")
            .waited(engine_now(&engine)),
        waited
    );
}

// R-C4: refused commands leave no trace: a desk that saw refusals in the middle of a story
// continues exactly like one that did not.
#[test]
fn r_c4_refusals_in_the_middle_of_a_story_leave_no_trace() {
    let reference = morning();
    let config = reference.engine.config().clone();
    let mut desk = Desk::with_config(config);
    let half = reference.log.len() / 2;
    for (at, command) in &reference.log[..half] {
        desk.now = *at;
        desk.run(command.clone());
    }
    let refusals = [
        Command::VisitorArrives(Arrival::new("c1", "v", "support")),
        Command::VisitorArrives(Arrival::new("new", "v", "nowhere")),
        Command::RegisterAgent(AgentSpec::new("zed").limit(0).group("support")),
        Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ana".into(),
            limit: Some(Limit::Fixed(9)),
            groups: Some(vec![Membership::with_rank("support", 9)]),
            schedules: None,
        }),
        Command::AgentStatusChanged {
            agent: "cy".into(),
            status: AgentStatus::Custom("Lunch".into()),
        },
        Command::RemoveGroup {
            group: "support".into(),
        },
        Command::Snooze {
            conversations: vec!["c1".into()],
            until: t0() + TimeDelta::days(1),
        },
        Command::EndConversations {
            conversations: vec![],
            reason: EndReason::Admin,
        },
        Command::UpdateConfig(Config {
            default_limit: 0,
            ..Config::default()
        }),
    ];
    for command in refusals {
        desk.now += TimeDelta::seconds(7);
        desk.refuse(command);
    }
    let mut continued = Vec::new();
    for (at, command) in &reference.log[half..] {
        desk.now = *at;
        continued.push(json(desk.run(command.clone()).outcome()));
    }
    let mut straight = Engine::new(reference.engine.config().clone()).expect("valid");
    let expected: Vec<String> = reference
        .log
        .iter()
        .map(|(at, c)| json(&straight.handle(*at, c.clone()).expect("replays")))
        .collect();
    assert_eq!(continued, expected[half..]);
    assert_eq!(desk.state_json(), reference.state_json());
}

// R-C5, R-C3: edge timestamps, huge priorities and limits, extreme aging steps and windows do
// not panic; time stays monotone.
#[test]
fn r_c5_edge_timestamps_and_extreme_values_do_not_panic() {
    for aging in [None, Some(1), Some(366 * 24 * 3600)] {
        let config = Config {
            queue: QueueConfig {
                announce_positions: u32::MAX,
                aging_step_secs: aging,
                ..QueueConfig::default()
            },
            last_agent: LastAgent {
                enabled: true,
                window_secs: Some(u64::MAX),
            },
            default_limit: u32::MAX,
            custom_statuses: vec![CustomStatus {
                name: "Chat only".into(),
                assignable: true,
            }],
            ..Config::default()
        };
        let mut engine = Engine::new(config).expect("valid");
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        let mut run = |at: DateTime<Utc>, command: Command| {
            let _ = engine
                .handle(at, command.clone())
                .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        };
        run(min, Command::RegisterGroup(GroupSpec::new("g")));
        run(
            min,
            Command::VisitorArrives(Arrival::new("a", "v1", "g").priority(u8::MAX)),
        );
        run(min, Command::VisitorArrives(Arrival::new("b", "v2", "g")));
        run(
            min,
            Command::RegisterAgent(
                AgentSpec::new("ana")
                    .status(AgentStatus::Custom("Chat only".into()))
                    .limit(1)
                    .group("g"),
            ),
        );
        run(
            max,
            Command::VisitorArrives(Arrival::new("c", "v1", "g").priority(u8::MAX)),
        );
        run(
            max,
            Command::VisitorArrives(Arrival::new("d", "v3", "g").priority(1)),
        );
        run(min, Command::Tick);
        run(max, Command::Tick);
        run(
            max,
            Command::RegisterAgent(
                AgentSpec::new("big")
                    .status(AgentStatus::Online)
                    .limit(u32::MAX)
                    .group("g"),
            ),
        );
        run(max, end(&["a"]));
        run(
            min,
            Command::UpdateGroup(GroupUpdate {
                group: "g".into(),
                strategy: Some(Strategy::LeastLoaded),
                limit: Some(Limit::Fixed(u32::MAX)),
                overflow: None,
                agent_cap: None,
            }),
        );
        let err = engine
            .handle(
                max,
                Command::Snooze {
                    conversations: vec!["c".into()],
                    until: min,
                },
            )
            .expect_err("snooze is of another mode");
        assert!(matches!(err, Error::WrongMode { .. }));
        assert_eq!(engine.now(), Some(max));
        for id in ["a", "b", "c", "d"] {
            let view = engine.conversation(id).expect("known");
            assert!(view.arrived_at == min || view.arrived_at == max);
        }
        let b = engine.conversation("b").expect("known");
        assert!(matches!(b.state, ConversationState::Active { .. }));
        // b waited from the first to the last instant chrono can represent.
        let span = (max - min).to_std().expect("positive");
        assert_eq!(b.waited(max), span);
        assert_eq!(b.first_assigned_at, Some(max));
        assert_eq!(engine.counters().waiting, 0);
    }
}

// R-C7: the queries tell the story as it stands.
#[test]
fn r_c7_queries_report_conversations_agents_groups_queues_and_counters() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales")
            .strategy(Strategy::RoundRobin)
            .limit(2),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(2)
            .group_with_rank("support", 1)
            .group("sales"),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("bo")
            .status(AgentStatus::Busy)
            .group("sales"),
    ));
    desk.arrive("c1", "v1", "support");
    desk.wait(TimeDelta::seconds(10));
    desk.arrive("c2", "v2", "sales");
    desk.wait(TimeDelta::seconds(10));
    arrive_p(&mut desk, "c3", "support", 0);
    arrive_p(&mut desk, "c4", "support", 2);
    arrive_p(&mut desk, "c5", "sales", 0);
    desk.wait(TimeDelta::seconds(40));

    // A conversation.
    let c1 = desk.engine.conversation("c1").expect("known");
    assert_eq!(c1.id.as_str(), "c1");
    assert_eq!(c1.visitor.as_str(), "v1");
    assert_eq!(c1.group.as_str(), "support");
    assert_eq!(
        c1.state,
        ConversationState::Active {
            agent: "ana".into()
        }
    );
    assert_eq!(
        (c1.position, c1.waited(desk.now), c1.arrived_at),
        (None, Duration::ZERO, t0())
    );
    // Views carry instants: the figures follow the host's clock with no command in between.
    let c3 = desk.engine.conversation("c3").expect("known");
    assert_eq!(c3.state, ConversationState::Queued);
    assert_eq!(c3.position, Some(2));
    assert_eq!(c3.waiting_since, Some(c3.arrived_at));
    assert_eq!(c3.waited(desk.now), Duration::from_secs(40));
    let c4 = desk.engine.conversation("c4").expect("known");
    assert_eq!((c4.priority, c4.position), (2, Some(1)));
    assert!(desk.engine.conversation("ghost").is_none());

    // An agent.
    let ana = desk.engine.agent("ana").expect("known");
    assert_eq!(ana.status, AgentStatus::Online);
    assert_eq!((ana.load, ana.limit, ana.assigned_total), (2, 2, 2));
    assert_eq!(
        ana.groups,
        [
            Membership::with_rank("support", 1),
            Membership::new("sales")
        ]
    );
    assert_eq!(ana.conversations, ["c1".into(), "c2".into()]);
    let held: Vec<_> = desk
        .engine
        .agent_conversations("ana")
        .expect("known")
        .cloned()
        .collect();
    assert_eq!(held, ana.conversations);
    let bo = desk.engine.agent("bo").expect("known");
    assert_eq!((bo.load, bo.limit), (0, 2), "inherits the sales limit");
    assert_eq!(desk.engine.agent_status("bo"), Some(&AgentStatus::Busy));
    assert!(desk.engine.agent("ghost").is_none());
    assert!(desk.engine.agent_conversations("ghost").is_none());
    let agents: Vec<_> = desk.engine.agents().map(|a| a.to_string()).collect();
    assert_eq!(agents, ["ana", "bo"]);

    // A group and its queue.
    let sales = desk.engine.group("sales").expect("known");
    assert_eq!(sales.strategy, Strategy::RoundRobin);
    assert_eq!(sales.limit, Some(2));
    assert_eq!(sales.members, ["ana".into(), "bo".into()]);
    assert_eq!(sales.waiting, 1);
    assert_eq!(desk.queue("support"), ["c4", "c3"]);
    assert_eq!(desk.queue("sales"), ["c5"]);
    assert!(desk.engine.queue("ghost").is_none());
    assert!(desk.engine.group("ghost").is_none());
    let groups: Vec<_> = desk.engine.groups().map(|g| g.to_string()).collect();
    assert_eq!(groups, ["support", "sales"]);
    let all: Vec<_> = desk.engine.conversations().map(|c| c.to_string()).collect();
    assert_eq!(all, ["c1", "c2", "c3", "c4", "c5"]);

    // Running counters through a few more events.
    desk.run(end(&["c1"])); // ana takes c4
    desk.run(Command::VisitorLeaves {
        conversation: "c5".into(),
    });
    desk.run(Command::AssignManually {
        conversations: vec!["c3".into()],
        target: Target::Agent("bo".into()),
    });
    desk.run(Command::Transfer {
        conversation: "c2".into(),
        to: Target::Group("support".into()),
    });
    let mut expected = Counters::default();
    (expected.arrived, expected.queued) = (5, 4);
    (expected.assigned_automatically, expected.assigned_manually) = (3, 1);
    (expected.transferred, expected.requeued) = (1, 0);
    (expected.abandoned, expected.ended) = (1, 1);
    (expected.waiting, expected.active) = (1, 2);
    assert_eq!(*desk.engine.counters(), expected);
    let ended = desk.engine.conversation("c1").expect("known");
    assert_eq!(
        ended.state,
        ConversationState::Ended {
            reason: EndReason::Agent,
            agent: Some("ana".into())
        }
    );
    assert_eq!(
        assignments(&desk.events)
            .iter()
            .filter(|(_, _, r)| *r == AssignReason::Manual)
            .count(),
        1
    );
}

// R-C8: a batch returns one result per item, in order; a bad item does not stop the others.
#[test]
fn r_c8_batches_report_one_result_per_item_and_go_on_past_bad_ones() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    for c in ["c1", "c2", "c3", "c4"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let outcome = desk.run(end(&["c1", "ghost", "c2", "c1"]));
    let results: Vec<(String, Result<(), Error>)> = outcome
        .results
        .iter()
        .map(|r| (r.conversation.to_string(), r.result.clone()))
        .collect();
    assert_eq!(
        results,
        [
            ("c1".to_string(), Ok(())),
            (
                "ghost".to_string(),
                Err(Error::UnknownConversation {
                    conversation: "ghost".into()
                })
            ),
            ("c2".to_string(), Ok(())),
            (
                "c1".to_string(),
                Err(Error::InvalidState {
                    conversation: "c1".into(),
                    state: "ended".into(),
                    operation: "end".into()
                })
            ),
        ]
    );
    assert!(!outcome.all_succeeded());
    // c1's end drained c2 into ana, then c2 ended too and ana took c3.
    assert_eq!(desk.holder("c3").as_deref(), Some("ana"));
    assert!(matches!(
        desk.engine.conversation("c2").expect("known").state,
        ConversationState::Ended { .. }
    ));

    let outcome = desk.run(Command::AssignManually {
        conversations: vec!["c1".into(), "c4".into()],
        target: Target::Agent("ana".into()),
    });
    assert_eq!(outcome.results.len(), 2);
    assert!(outcome.results[0].result.is_err() && outcome.results[1].result.is_ok());
    assert_eq!(desk.holder("c4").as_deref(), Some("ana"));

    let outcome = desk.run(Command::Forget {
        conversations: vec!["c3".into(), "c2".into()],
    });
    assert_eq!(
        outcome.results[0].result,
        Err(Error::StillOpen {
            conversation: "c3".into()
        })
    );
    assert_eq!(outcome.results[1].result, Ok(()));
    assert!(desk.engine.conversation("c2").is_none());
    assert!(desk.engine.conversation("c3").is_some());

    // An empty batch is an error, whichever batch command.
    for command in [
        end(&[]),
        Command::AssignManually {
            conversations: vec![],
            target: Target::Agent("ana".into()),
        },
        Command::Forget {
            conversations: vec![],
        },
    ] {
        assert_eq!(desk.refuse(command), Error::EmptyBatch);
    }
    // A command that is not a batch reports no item results.
    assert!(desk.arrive("c5", "v5", "support").results.is_empty());
}

// R-C5: removing an agent that holds a conversation which designated it, with no one else free,
// requeues the conversation; it must not panic.
#[test]
fn r_c5_removing_an_agent_designated_by_a_conversation_it_holds_does_not_panic() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("cy", 1, &["support"]);
    desk.run(Command::VisitorArrives(
        Arrival::new("d1", "v1", "support").designated(Target::Agent("cy".into())),
    ));
    assert_eq!(desk.holder("d1").as_deref(), Some("cy"));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        desk.engine
            .handle(desk.now, Command::RemoveAgent { agent: "cy".into() })
    }))
    .expect("RemoveAgent must not panic");
    let _ = outcome.expect("a known agent is removed");
    let d1 = desk.engine.conversation("d1").expect("known");
    assert_eq!(d1.state, ConversationState::Queued);
    assert_eq!(
        d1.designated,
        Some(Target::Agent("cy".into())),
        "the view keeps the designation as a record; it no longer routes"
    );
}

// R-C5, R-C7: a finished conversation stays queryable after its group, its designated group or
// its designated agent is removed.
#[test]
fn r_c7_a_finished_conversation_stays_queryable_after_removals() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("spare", Strategy::LeastRecentlyAssigned);
    desk.group("night", Strategy::LeastRecentlyAssigned);
    desk.agent("cy", 1, &["support"]);
    desk.arrive("c1", "v1", "spare");
    desk.run(Command::VisitorArrives(
        Arrival::new("c2", "v2", "support").designated(Target::Group("night".into())),
    ));
    desk.run(Command::VisitorArrives(
        Arrival::new("c3", "v3", "support").designated(Target::Agent("cy".into())),
    ));
    desk.run(end(&["c1", "c2", "c3"]));
    for group in ["spare", "night"] {
        desk.run(Command::RemoveGroup {
            group: group.into(),
        });
    }
    desk.run(Command::RemoveAgent { agent: "cy".into() });
    for id in ["c1", "c2", "c3"] {
        let view = std::panic::catch_unwind(|| desk.engine.conversation(id))
            .unwrap_or_else(|_| panic!("querying {id} panicked"))
            .expect("known");
        assert!(matches!(view.state, ConversationState::Ended { .. }));
    }
}
