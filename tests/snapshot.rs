//! Snapshots: the whole state serializes, restores, and continues exactly as if never stopped
//! (R-C6); bad snapshots are refused with typed errors, never a panic (R-C5); a clone runs
//! what-if simulations without touching the live engine (R-B3).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use serde_json::Value;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, Command, Config, CustomStatus, EndReason, Engine,
    Error, Event, GroupSpec, GroupUpdate, LastAgent, Limit, Membership, QueueConfig,
    SNAPSHOT_VERSION, Snapshot, Strategy, Target,
};

type Log = Vec<(DateTime<Utc>, Command)>;

fn config() -> Config {
    Config {
        default_limit: 2,
        queue: QueueConfig {
            announce_positions: 2,
            aging_step_secs: Some(90),
            ..QueueConfig::default()
        },
        last_agent: LastAgent {
            enabled: true,
            window_secs: Some(600),
        },
        custom_statuses: vec![
            CustomStatus {
                name: "Chat only".into(),
                assignable: true,
            },
            CustomStatus {
                name: "Training".into(),
                assignable: false,
            },
        ],
        requeue_when_unassignable: true,
        ..Config::default()
    }
}

fn arrival(conversation: &str, visitor: &str, group: &str, priority: u8) -> Command {
    Command::VisitorArrives(Arrival::new(conversation, visitor, group).priority(priority))
}

fn end(conversations: &[&str]) -> Command {
    Command::EndConversations {
        conversations: conversations.iter().map(|c| (*c).into()).collect(),
        reason: EndReason::Visitor,
    }
}

/// A day at a desk that touches every command and every routing layer: four strategies,
/// designated agents and groups, the last-agent preference, aging, custom statuses, requeues,
/// transfers, manual work, batches with bad items, forgetting and removals. Every command
/// succeeds (the desk panics otherwise).
fn busy_day() -> Desk {
    let mut desk = Desk::with_config(config());
    let minute = TimeDelta::minutes(1);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("sales", Strategy::RoundRobin);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("vip")
            .strategy(Strategy::AgentPriority)
            .limit(1),
    ));
    desk.group("tech", Strategy::LeastLoaded);
    desk.group("spare", Strategy::LeastRecentlyAssigned);
    desk.run(Command::RegisterAgent(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(2)
            .group("support")
            .group_with_rank("sales", 1),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .group_with_rank("sales", 2)
            .group_with_rank("vip", 1),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("cy").group("tech").group("support"),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("dee")
            .status(AgentStatus::Custom("Chat only".into()))
            .group_with_rank("vip", 3)
            .group("tech")
            .group("spare"),
    ));
    let arrivals = [
        ("c1", "v1", "support", 0),
        ("c2", "v2", "sales", 1),
        ("c3", "v3", "vip", 2),
        ("c4", "v4", "support", 0),
        ("c5", "v5", "tech", 0),
        ("c6", "v6", "support", 3),
        ("c7", "v7", "sales", 0),
        ("c8", "v8", "tech", 1),
        ("c9", "v9", "support", 0),
    ];
    for (c, v, g, p) in arrivals {
        desk.wait(TimeDelta::seconds(20));
        desk.run(arrival(c, v, g, p));
    }
    desk.run(Command::VisitorArrives(
        Arrival::new("d1", "v10", "support").designated(Target::Agent("cy".into())),
    ));
    desk.run(Command::VisitorArrives(
        Arrival::new("d2", "v11", "support")
            .priority(1)
            .designated(Target::Group("vip".into())),
    ));
    desk.advance(minute * 3);
    desk.status("cy", AgentStatus::Online);
    desk.run(Command::Transfer {
        conversation: "c2".into(),
        to: Target::Group("sales".into()),
    });
    desk.run(end(&["c1", "nope", "c3"]));
    desk.run(Command::VisitorLeaves {
        conversation: "c9".into(),
    });
    desk.wait(minute);
    desk.status("ana", AgentStatus::Custom("Training".into()));
    desk.run(arrival("c10", "v1", "support", 0)); // v1 comes back
    desk.run(Command::AssignManually {
        conversations: vec!["c7".into(), "c5".into(), "ghost".into()],
        target: Target::Group("tech".into()),
    });
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "bo".into(),
        limit: Some(Limit::Fixed(3)),
        groups: Some(vec![
            Membership::with_rank("vip", 2),
            Membership::new("support"),
        ]),
        schedules: None,
    }));
    desk.advance(minute * 5);
    desk.status("ana", AgentStatus::Online);
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "vip".into(),
        strategy: Some(Strategy::LeastLoaded),
        limit: Some(Limit::Fixed(3)),
        overflow: None,
        agent_cap: None,
    }));
    for (c, v, g, p) in [
        ("c11", "v12", "sales", 2),
        ("c12", "v13", "support", 0),
        ("c13", "v2", "sales", 0),
        ("c14", "v14", "tech", 4),
    ] {
        desk.wait(TimeDelta::seconds(45));
        desk.run(arrival(c, v, g, p));
    }
    desk.run(Command::UpdateConfig(Config {
        queue: QueueConfig {
            announce_positions: 5,
            aging_step_secs: None,
            ..QueueConfig::default()
        },
        ..config()
    }));
    let held: Vec<String> = desk
        .engine
        .agent_conversations("ana")
        .expect("ana")
        .map(|c| c.to_string())
        .collect();
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    desk.run(end(&held));
    desk.run(Command::Forget {
        conversations: vec!["c1".into(), "c9".into(), "c4".into()],
    });
    // bo's conversations go back to their queues (cy is kept: d1 designated it, and removing
    // a designated agent hits an engine bug tested on its own below).
    desk.run(Command::RemoveAgent { agent: "bo".into() });
    desk.run(Command::RemoveGroup {
        group: "spare".into(),
    });
    desk.wait(minute * 2);
    desk.run(arrival("c1", "v1", "support", 1)); // a forgotten id, reused
    desk.run(Command::AssignManually {
        conversations: vec!["c12".into()],
        target: Target::Agent("dee".into()),
    });
    desk.status("dee", AgentStatus::Offline);
    desk.run(Command::Tick);
    desk
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// Everything the queries can say about an engine, as one string.
fn views(engine: &Engine) -> String {
    let conversations: Vec<_> = engine
        .conversations()
        .map(|c| engine.conversation(c))
        .collect();
    let agents: Vec<_> = engine.agents().map(|a| engine.agent(a)).collect();
    let groups: Vec<_> = engine
        .groups()
        .map(|g| {
            let queue: Vec<_> = engine.queue(g).expect("known").cloned().collect();
            (engine.group(g), queue)
        })
        .collect();
    json(&(
        conversations,
        agents,
        groups,
        engine.counters(),
        engine.now(),
    ))
}

/// Serializes a snapshot to JSON text and reads it back.
fn through_json(snapshot: &Snapshot) -> Snapshot {
    serde_json::from_str(&json(snapshot)).expect("a snapshot deserializes")
}

fn replay(engine: &mut Engine, log: &[(DateTime<Utc>, Command)]) -> Vec<String> {
    log.iter()
        .map(|(at, command)| json(&engine.handle(*at, command.clone()).expect("replays")))
        .collect()
}

// R-C6: at every cut point of a busy day, snapshot -> JSON -> restore -> the rest of the log
// gives the same outcomes as running straight through, and the same queries and final state.
#[test]
fn r_c6_restore_then_the_rest_of_the_log_gives_the_same_events_at_every_cut() {
    let desk = busy_day();
    let log: Log = desk.log.clone();
    assert!(log.len() > 40, "a non-trivial story: {}", log.len());
    let mut straight = Engine::new(config()).expect("valid");
    let expected = replay(&mut straight, &log);
    let final_state = json(&straight.snapshot());
    assert_eq!(final_state, desk.state_json());

    for cut in 0..=log.len() {
        let mut first = Engine::new(config()).expect("valid");
        replay(&mut first, &log[..cut]);
        let snapshot = through_json(&first.snapshot());
        assert_eq!(snapshot.version, SNAPSHOT_VERSION);
        let mut restored = Engine::restore(snapshot).expect("a snapshot of a live engine restores");
        assert_eq!(
            views(&restored),
            views(&first),
            "queries after a restore at {cut}"
        );
        assert_eq!(
            json(&restored.snapshot()),
            json(&first.snapshot()),
            "restore then snapshot is the identity at {cut}"
        );
        let rest = replay(&mut restored, &log[cut..]);
        assert_eq!(rest, expected[cut..], "continuing from the cut at {cut}");
        assert_eq!(json(&restored.snapshot()), final_state);
    }
}

// R-C6: commands, events and config serialize and read back unchanged; a log read back from
// JSON replays to the same events.
#[test]
fn r_c6_commands_events_and_config_round_trip_through_serde() {
    let desk = busy_day();
    let text = json(&desk.log);
    let log: Log = serde_json::from_str(&text).expect("a log deserializes");
    assert_eq!(log, desk.log);
    let events: Vec<Event> = serde_json::from_str(&json(&desk.events)).expect("events");
    assert_eq!(events, desk.events);
    let config: Config = serde_json::from_str(&json(&config())).expect("config");
    assert_eq!(config, self::config());
    let mut engine = Engine::new(config).expect("valid");
    let replayed: Vec<Event> = log
        .iter()
        .flat_map(|(at, c)| engine.handle(*at, c.clone()).expect("replays").events)
        .collect();
    assert_eq!(replayed, desk.events);
}

/// A mid-day snapshot of the busy day, as JSON, with an active and a queued conversation.
fn midday() -> (Desk, Value) {
    let full = busy_day();
    let mut desk = Desk::with_config(config());
    for (at, command) in &full.log[..full.log.len() / 2] {
        desk.now = *at;
        desk.run(command.clone());
    }
    let value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    (desk, value)
}

fn restore_json(value: Value) -> Result<Engine, Error> {
    let snapshot: Snapshot = serde_json::from_value(value).expect("still a snapshot's shape");
    Engine::restore(snapshot)
}

// R-C6: a snapshot of another format version is refused, naming both versions.
#[test]
fn r_c6_a_snapshot_of_another_version_is_unsupported() {
    let (desk, mut value) = midday();
    value["version"] = Value::from(SNAPSHOT_VERSION + 1);
    let err = restore_json(value).expect_err("another version");
    assert_eq!(
        err,
        Error::UnsupportedSnapshot {
            found: SNAPSHOT_VERSION + 1,
            supported: SNAPSHOT_VERSION
        }
    );
    // 0 never existed; 1 kept a conversation's designation and overflow groups at the top
    // level of its record, which version 2 nests under `routing`; 2 tagged enums by wrapping
    // them (`{"Active":{...}}`) and named a membership's rank `priority`, where version 3
    // follows the crate's wire format (see CHANGELOG). tests/wire.rs reads a version-2 shape.
    for old in [0, 1, 2] {
        let mut snapshot = desk.engine.snapshot();
        snapshot.version = old;
        assert_eq!(
            Engine::restore(snapshot).err(),
            Some(Error::UnsupportedSnapshot {
                found: old,
                supported: SNAPSHOT_VERSION
            })
        );
    }
    assert_eq!(SNAPSHOT_VERSION, 3, "a format change bumps the version");
}

/// The slab index (as a string) and id of the first conversation in `value` whose phase
/// matches `phase`.
fn conversation_key(value: &Value, phase: &str) -> (String, String) {
    let conversations = value["state"]["conversations"]["entries"]
        .as_array()
        .expect("the conversations' slab");
    conversations
        .iter()
        .enumerate()
        .find(|(_, c)| c["phase"]["type"] == phase)
        .map(|(k, c)| (k.to_string(), c["id"].as_str().expect("an id").to_string()))
        .unwrap_or_else(|| panic!("a {phase} conversation"))
}

fn first_agent_key(value: &Value) -> String {
    value["state"]["agents"]
        .as_object()
        .expect("a map")
        .keys()
        .next()
        .expect("an agent")
        .clone()
}

// R-C6, R-C5: snapshots whose parts contradict each other are refused as corrupt, naming what
// is wrong, and never panic.
#[test]
fn r_c6_a_corrupted_snapshot_is_refused_as_corrupt() {
    let (_, value) = midday();
    let (active, active_id) = conversation_key(&value, "Active");
    let (queued, queued_id) = conversation_key(&value, "Queued");
    let agent = first_agent_key(&value);
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, Option<String>)> = vec![
        (
            "an active conversation's agent is missing",
            Box::new({
                let active = active.clone();
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [active.parse::<usize>().expect("an index")]["phase"]["agent"] = 9999.into()
                }
            }),
            Some(active_id.clone()),
        ),
        (
            "a conversation's group is missing",
            Box::new({
                let queued = queued.clone();
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [queued.parse::<usize>().expect("an index")]["group"] = 9999.into()
                }
            }),
            Some(queued_id.clone()),
        ),
        (
            "a conversation's designated agent is missing",
            Box::new({
                let queued = queued.clone();
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [queued.parse::<usize>().expect("an index")]["routing"] =
                        serde_json::json!({ "designated_agent": 9999 })
                }
            }),
            Some(queued_id.clone()),
        ),
        (
            "a conversation is filed under another key",
            Box::new({
                let queued = queued.clone();
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [queued.parse::<usize>().expect("an index")]["key"] = 9999.into()
                }
            }),
            Some(queued_id.clone()),
        ),
        (
            "two conversations share an id",
            Box::new({
                let (active, queued_id) = (active.clone(), queued_id.clone());
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [active.parse::<usize>().expect("an index")]["id"] =
                        queued_id.clone().into()
                }
            }),
            Some(queued_id.clone()),
        ),
        (
            "an agent names a missing group",
            Box::new({
                let agent = agent.clone();
                move |v| v["state"]["agents"][&agent]["groups"][0]["group"] = 9999.into()
            }),
            None,
        ),
        (
            "an agent is in an undefined status",
            Box::new({
                let agent = agent.clone();
                move |v| v["state"]["agents"][&agent]["status"] = "Lunch".into()
            }),
            Some("Lunch".to_string()),
        ),
        (
            "two agents share an id",
            Box::new(|v| {
                let agents = v["state"]["agents"].as_object_mut().expect("a map");
                let first = agents.values().next().expect("an agent")["id"].clone();
                for a in agents.values_mut() {
                    a["id"] = first.clone();
                }
            }),
            None,
        ),
        (
            "two groups share an id",
            Box::new(|v| {
                for g in v["state"]["groups"]
                    .as_object_mut()
                    .expect("a map")
                    .values_mut()
                {
                    g["id"] = "same".into();
                }
            }),
            Some("same".to_string()),
        ),
        (
            "a conversation was saved mid-route",
            Box::new({
                let queued = queued.clone();
                move |v| {
                    v["state"]["conversations"]["entries"]
                        [queued.parse::<usize>().expect("an index")]["phase"] =
                        serde_json::json!({ "type": "Routing" })
                }
            }),
            Some(queued_id.clone()),
        ),
        (
            "the config is invalid",
            Box::new(|v| v["state"]["config"]["default_limit"] = 0.into()),
            Some("default_limit".to_string()),
        ),
    ];
    for (what, edit, named) in cases {
        let mut corrupt = value.clone();
        edit(&mut corrupt);
        let result = catch_unwind(AssertUnwindSafe(|| restore_json(corrupt)))
            .unwrap_or_else(|_| panic!("restore panicked: {what}"));
        match result {
            Err(Error::CorruptSnapshot { problem }) => {
                if let Some(named) = named {
                    assert!(
                        problem.contains(&named),
                        "{what}: `{problem}` names `{named}`"
                    );
                }
            }
            Err(other) => panic!("{what}: {other:?}"),
            Ok(_) => panic!("{what}: restored"),
        }
    }
}

/// Restores `value` and runs `commands` on it; a panic anywhere fails the test with `what`.
/// Either restore refuses the snapshot as corrupt, or every command is answered (Ok or Err).
fn restore_and_run(what: &str, value: Value, commands: Vec<Command>) -> Option<Engine> {
    let at = DateTime::<Utc>::MAX_UTC;
    catch_unwind(AssertUnwindSafe(|| match restore_json(value) {
        Err(Error::CorruptSnapshot { .. }) => None,
        Err(other) => panic!("{what}: {other:?}"),
        Ok(mut engine) => {
            for command in commands {
                let _ = engine.handle(at, command);
            }
            Some(engine)
        }
    }))
    .unwrap_or_else(|_| panic!("{what}: the engine panicked"))
}

fn round_robin_desk() -> Desk {
    let mut desk = Desk::new();
    desk.group("support", Strategy::RoundRobin);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk
}

// R-C5, R-C6: numbers at the edge of their range in a restored snapshot (a round-robin cursor
// naming no agent, sequence numbers and counters at their maximum) are refused as corrupt or
// handled, never a panic.
#[test]
fn r_c5_restored_edge_numbers_never_panic() {
    let desk = round_robin_desk();
    let value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    let group = value["state"]["groups"]
        .as_object()
        .expect("a map")
        .keys()
        .next()
        .expect("a group")
        .clone();
    let commands = || {
        vec![
            end(&["c1"]),
            arrival("c3", "v3", "support", 0),
            Command::RegisterGroup(GroupSpec::new("new")),
            Command::RegisterAgent(
                AgentSpec::new("bo")
                    .status(AgentStatus::Online)
                    .group("support"),
            ),
            arrival("c4", "v4", "support", 0),
        ]
    };
    let edits: Vec<(&str, Vec<&str>)> = vec![
        ("cursor", vec!["state", "groups", &group, "cursor"]),
        ("last_key", vec!["state", "last_key"]),
        ("assignment_seq", vec!["state", "assignment_seq"]),
        ("arrived", vec!["state", "counters", "arrived"]),
        ("queued", vec!["state", "counters", "queued"]),
        (
            "assigned",
            vec!["state", "counters", "assigned_automatically"],
        ),
        ("ended", vec!["state", "counters", "ended"]),
    ];
    for (what, path) in edits {
        let mut edited = value.clone();
        let mut slot = &mut edited;
        for step in path {
            slot = &mut slot[step];
        }
        *slot = Value::from(u64::MAX);
        restore_and_run(what, edited, commands());
    }
}

// R-C6, R-C5: a snapshot whose key counter lies below the keys in use would hand out a key
// twice and file a new group or conversation over an existing one; restore must refuse it (or
// the engine must not clobber what exists).
#[test]
fn r_c6_a_key_counter_below_the_keys_in_use_is_refused() {
    let desk = round_robin_desk();
    let mut value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    value["state"]["last_key"] = Value::from(0);
    let commands = vec![
        Command::RegisterGroup(GroupSpec::new("new")),
        arrival("c3", "v3", "support", 0),
    ];
    if let Some(engine) = restore_and_run("last_key", value, commands) {
        let queue: Vec<String> = engine
            .queue("support")
            .expect("support still exists")
            .map(|c| c.to_string())
            .collect();
        assert_eq!(queue, ["c2", "c3"]);
        let c3 = engine.conversation("c3").expect("known");
        assert_eq!(c3.group.as_str(), "support");
        assert!(engine.queue("new").expect("new exists").next().is_none());
    }
}

// R-B3: a clone runs a what-if from live state without touching the original, which then goes
// on exactly as if the clone never existed.
#[test]
fn r_b3_a_clone_runs_what_if_without_touching_the_original() {
    let full = busy_day();
    let half = full.log.len() / 2;
    let (mut live, _) = midday();
    let before = live.state_json();
    let before_views = views(&live.engine);

    let mut what_if = live.engine.clone();
    let at = live.now + TimeDelta::minutes(1);
    let all: Vec<_> = what_if.conversations().cloned().collect();
    let _ = what_if
        .handle(
            at,
            Command::EndConversations {
                conversations: all,
                reason: EndReason::Admin,
            },
        )
        .expect("a batch");
    let _ = what_if
        .handle(
            at,
            Command::RegisterAgent(
                AgentSpec::new("temp")
                    .status(AgentStatus::Online)
                    .group("support"),
            ),
        )
        .expect("ok");
    let _ = what_if
        .handle(
            at,
            Command::RemoveAgent {
                agent: "ana".into(),
            },
        )
        .expect("ok");
    let _ = what_if
        .handle(at, arrival("w1", "vw", "support", 5))
        .expect("ok");
    assert_eq!(what_if.counters().waiting, 0);
    assert_ne!(json(&what_if.snapshot()), before);

    assert_eq!(live.state_json(), before);
    assert_eq!(views(&live.engine), before_views);
    assert!(live.engine.agent("temp").is_none());
    assert!(live.engine.conversation("w1").is_none());

    let mut straight = Engine::new(config()).expect("valid");
    let expected = replay(&mut straight, &full.log);
    let rest = replay(&mut live.engine, &full.log[half..]);
    assert_eq!(rest, expected[half..]);
}

/// Restores the desk's own snapshot, sent through JSON.
fn restore_own(desk: &Desk) -> Result<Engine, Error> {
    Engine::restore(through_json(&desk.engine.snapshot()))
}

// R-C6: an engine's own snapshot restores after an agent that a finished conversation had
// designated is removed.
#[test]
fn r_c6_the_snapshot_after_removing_a_designated_agent_restores() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("cy", 1, &["support"]);
    desk.run(Command::VisitorArrives(
        Arrival::new("d1", "v1", "support").designated(Target::Agent("cy".into())),
    ));
    desk.run(end(&["d1"]));
    desk.run(Command::RemoveAgent { agent: "cy".into() });
    let restored = restore_own(&desk).expect("an engine's own snapshot restores");
    assert_eq!(json(&restored.snapshot()), json(&desk.engine.snapshot()));
}

// R-C6: an engine's own snapshot restores after a group that only finished conversations name
// (as their group or their designated group) is removed.
#[test]
fn r_c6_the_snapshot_after_removing_a_group_of_finished_conversations_restores() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("spare", Strategy::LeastRecentlyAssigned);
    desk.group("night", Strategy::LeastRecentlyAssigned);
    desk.arrive("c1", "v1", "spare");
    desk.run(Command::VisitorArrives(
        Arrival::new("c2", "v2", "support").designated(Target::Group("night".into())),
    ));
    desk.run(end(&["c1", "c2"]));
    desk.run(Command::RemoveGroup {
        group: "spare".into(),
    });
    desk.run(Command::RemoveGroup {
        group: "night".into(),
    });
    let restored = restore_own(&desk).expect("an engine's own snapshot restores");
    assert_eq!(json(&restored.snapshot()), json(&desk.engine.snapshot()));
}
