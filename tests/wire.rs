//! The wire format (crate docs, "Wire format"): every enum tagged one way, durations as whole
//! numbers, one direction per ordering, unknown fields refused on every input (R-C6, R-C5),
//! and what the service sends read back by a Rust client (R-C7): views, outcomes, errors.

mod common;

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use common::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AgentView, Arrival, AssignReason, Command, Config,
    ConversationState, ConversationView, Counters, CustomStatus, DrainTrigger, EndReason, Engine,
    Error, GroupSpec, GroupUpdate, GroupView, Inactivity, ItemResult, LastAgent, Limit, Membership,
    Outcome, Overflow, QueueConfig, Reception, ReceptionMode, SNAPSHOT_VERSION, ScheduleSpec,
    Sender, Sla, Snapshot, Strategy, Target, WeeklyRange,
};

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("serializes")
}

fn from_json<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn time(at: &str) -> DateTime<Utc> {
    at.parse().expect("a valid timestamp")
}

// ---- Unknown fields (defect 6) ---------------------------------------------------------------

/// Every object inside `value`, by its path; objects at `maps` are maps (keyed by ids or
/// internal keys), whose entries are walked into but which take any key.
fn objects(value: &Value, path: &str, maps: &[&str], out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if !maps.contains(&path) {
                out.push(path.to_string());
            }
            for (key, field) in fields {
                objects(field, &format!("{path}/{key}"), maps, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                objects(item, &format!("{path}/{i}"), maps, out);
            }
        }
        _ => {}
    }
}

/// Checks that `value` reads as a `T`, and that a field it does not know, added to any one of
/// its objects, is refused naming the field. Returns how many objects were checked.
fn refuses_unknown_fields<T: DeserializeOwned>(value: &Value, maps: &[&str]) -> usize {
    if let Err(e) = from_json::<T>(value.clone()) {
        panic!("{value} does not read back: {e}");
    }
    let mut paths = Vec::new();
    objects(value, "", maps, &mut paths);
    for path in &paths {
        let mut edited = value.clone();
        edited
            .pointer_mut(path)
            .and_then(Value::as_object_mut)
            .expect("an object")
            .insert("conversaton".into(), json!("c3"));
        match from_json::<T>(edited) {
            Ok(_) => panic!("an unknown field at `{path}` of {value} was dropped silently"),
            Err(e) => assert!(
                e.contains("unknown field `conversaton`"),
                "at `{path}` of {value}: {e}"
            ),
        }
    }
    paths.len()
}

/// A config with every optional part filled, so that every nested object appears.
fn full_config() -> Config {
    Config {
        queue: QueueConfig {
            aging_step_secs: Some(60),
            max_length: Some(50),
            max_wait_secs: Some(3600),
            long_queue_threshold: Some(20),
            ..QueueConfig::default()
        },
        last_agent: LastAgent {
            enabled: true,
            window_secs: Some(600),
        },
        custom_statuses: vec![CustomStatus {
            name: "Lunch".into(),
            assignable: false,
        }],
        sla: Sla {
            first_reply_secs: Some(60),
            next_reply_secs: Some(120),
            warn_before_secs: Some(30),
        },
        inactivity: Inactivity {
            reminder_after_secs: Some(300),
            end_after_secs: Some(600),
        },
        reception: Reception {
            auto_accept: false,
            first_reply_timeout_secs: Some(90),
            ..Reception::default()
        },
        service_hours: Some("office".into()),
        ..Config::default()
    }
}

/// One command of each kind, with every optional part filled.
fn every_command() -> Vec<Command> {
    let t = time("2026-03-02T12:00:00Z");
    let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("a time");
    let five = NaiveTime::from_hms_opt(17, 0, 0).expect("a time");
    vec![
        Command::VisitorArrives(
            Arrival::new("c1", "v1", "support")
                .priority(2)
                .designated(Target::Agent("ana".into())),
        ),
        Command::VisitorArrives(
            Arrival::new("c2", "v2", "support").designated(Target::Group("vip".into())),
        ),
        Command::VisitorLeaves {
            conversation: "c1".into(),
        },
        Command::AgentStatusChanged {
            agent: "ana".into(),
            status: AgentStatus::Custom("Lunch".into()),
        },
        Command::Snooze {
            conversations: vec!["c1".into()],
            until: t,
        },
        Command::AssignManually {
            conversations: vec!["c1".into()],
            target: Target::Agent("bo".into()),
        },
        Command::EndConversations {
            conversations: vec!["c1".into()],
            reason: EndReason::Admin,
        },
        Command::Transfer {
            conversation: "c1".into(),
            to: Target::Group("sales".into()),
        },
        Command::Message {
            conversation: "c1".into(),
            from: Sender::AgentNote,
        },
        Command::Claim {
            agent: "ana".into(),
            conversation: Some("c1".into()),
        },
        Command::Claim {
            agent: "ana".into(),
            conversation: None,
        },
        Command::SetReceptionMode {
            mode: ReceptionMode::Asynchronous,
        },
        Command::AcceptOffer {
            conversation: "c1".into(),
            agent: "ana".into(),
        },
        Command::DeclineOffer {
            conversation: "c1".into(),
            agent: "ana".into(),
        },
        Command::LeaveMessage {
            conversation: "c1".into(),
        },
        Command::DefineSchedule(ScheduleSpec {
            schedule: "office".into(),
            time_zone: "Europe/Berlin".into(),
            ranges: vec![WeeklyRange::new(&[Weekday::Mon, Weekday::Tue], nine, five)],
        }),
        Command::RemoveSchedule {
            schedule: "office".into(),
        },
        Command::Tick,
        Command::RegisterAgent(
            AgentSpec::new("ana")
                .status(AgentStatus::Online)
                .limit(2)
                .group_with_rank("support", 1)
                .schedule("office"),
        ),
        Command::RegisterAgent(AgentSpec::new("bo")), // an inherited limit
        Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ana".into(),
            limit: Some(Limit::Inherit),
            groups: Some(vec![Membership::with_rank("sales", 5)]),
            schedules: Some(vec!["office".into()]),
        }),
        Command::RemoveAgent {
            agent: "ana".into(),
        },
        Command::RegisterGroup(
            GroupSpec::new("support")
                .strategy(Strategy::AgentPriority)
                .limit(3)
                .overflow(&["sales"], 60),
        ),
        Command::UpdateGroup(GroupUpdate {
            group: "support".into(),
            strategy: Some(Strategy::RoundRobin),
            limit: Some(Limit::Fixed(4)),
            overflow: Some(Overflow {
                groups: vec!["vip".into()],
                after_secs: 30,
            }),
            agent_cap: None,
        }),
        Command::RemoveGroup {
            group: "support".into(),
        },
        Command::UpdateConfig(full_config()),
        Command::Forget {
            conversations: vec!["c1".into()],
        },
        Command::ForgetVisitor {
            visitor: "v1".into(),
        },
    ]
}

/// Defect 6, R-C6: `{"type":"Claim","agent":"a","conversaton":"c3"}` (a typo) claimed the head
/// of the pool; it is refused, naming the field.
#[test]
fn defect_6_a_misspelt_field_of_a_command_is_refused() {
    let typo = json!({ "type": "Claim", "agent": "a", "conversaton": "c3" });
    let err = from_json::<Command>(typo).expect_err("a typo must not claim the pool's head");
    assert!(err.contains("unknown field `conversaton`"), "{err}");
    let spelt = json!({ "type": "Claim", "agent": "a", "conversation": "c3" });
    assert_eq!(
        from_json::<Command>(spelt),
        Ok(Command::Claim {
            agent: "a".into(),
            conversation: Some("c3".into())
        })
    );
    // A command without fields takes none either.
    let err = from_json::<Command>(json!({ "type": "Tick", "at": "now" })).expect_err("refused");
    assert!(err.contains("unknown field `at`"), "{err}");
}

/// Defect 6, R-C6: every input type refuses a field it does not know, at every level: each
/// command and its payload (arrivals, targets, limits, memberships, specs, updates, overflow,
/// schedules and their ranges, the config and every part of it).
#[test]
fn defect_6_every_input_type_refuses_unknown_fields() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut checked = 0;
    for command in every_command() {
        let value = to_json(&command);
        kinds.insert(value["type"].as_str().expect("tagged").to_string());
        checked += refuses_unknown_fields::<Command>(&value, &[]);
    }
    assert_eq!(kinds.len(), 25, "one of each command: {kinds:?}");
    // The config, and the inputs a host may read on their own.
    checked += refuses_unknown_fields::<Config>(&to_json(&full_config()), &[]);
    let spec = AgentSpec::new("ana").limit(1).group("support");
    checked += refuses_unknown_fields::<AgentSpec>(&to_json(&spec), &[]);
    checked += refuses_unknown_fields::<Target>(&to_json(&Target::Agent("ana".into())), &[]);
    checked += refuses_unknown_fields::<Limit>(&to_json(&Limit::Inherit), &[]);
    assert!(checked >= 60, "{checked} objects checked");
}

/// The maps of a snapshot's state: keyed by internal keys or visitor ids.
const SNAPSHOT_MAPS: [&str; 5] = [
    "/state/agents",
    "/state/groups",
    "/state/schedules",
    "/state/group_names",
    "/state/visitors",
];

/// A desk whose state has every kind of record: a schedule, an agent on it, a group that
/// overflows, conversations active with a reply goal and a silent visitor, offered,
/// designated and waiting, ended, abandoned.
fn varied_desk() -> Desk {
    let mut config = full_config();
    config.service_hours = None;
    config.reception.auto_accept = true;
    let mut desk = Desk::with_config(config);
    let every_day: Vec<Weekday> = std::iter::successors(Some(Weekday::Mon), |d| Some(d.succ()))
        .take(7)
        .collect();
    let days = WeeklyRange::new(
        &every_day,
        NaiveTime::from_hms_opt(8, 0, 0).expect("a time"),
        NaiveTime::from_hms_opt(20, 0, 0).expect("a time"),
    );
    desk.run(Command::DefineSchedule(ScheduleSpec {
        schedule: "days".into(),
        time_zone: "UTC".into(),
        ranges: vec![days],
    }));
    desk.group("sales", Strategy::RoundRobin);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("support")
            .strategy(Strategy::AgentPriority)
            .overflow(&["sales"], 60),
    ));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 1)
            .schedule("days"),
    );
    desk.register(AgentSpec::new("bo").group("sales"));
    desk.arrive("c1", "v1", "support"); // ana
    desk.run(Command::Message {
        conversation: "c1".into(),
        from: Sender::AgentReply,
    }); // the visitor's silence is timed
    desk.arrive_as(Arrival::new("c2", "v2", "support").designated(Target::Agent("bo".into())));
    desk.arrive("c3", "v3", "support");
    desk.run(Command::VisitorLeaves {
        conversation: "c3".into(),
    });
    desk.arrive("c4", "v4", "sales");
    desk.run(Command::EndConversations {
        conversations: vec!["c4".into()],
        reason: EndReason::Admin,
    });
    desk
}

/// Defect 6, R-C6: a snapshot refuses unknown fields too, in every record it holds.
#[test]
fn defect_6_a_snapshot_refuses_unknown_fields_in_every_record() {
    let desk = varied_desk();
    let value = to_json(&desk.engine.snapshot());
    let checked = refuses_unknown_fields::<Snapshot>(&value, &SNAPSHOT_MAPS);
    assert!(checked > 20, "{checked} objects checked");
}

// ---- One tagging convention (R-C6) -------------------------------------------------------------

/// Every object in `value` that looks externally tagged (`{"Variant": ...}`) or holds a
/// `std::time::Duration` (`{"secs", "nanos"}`), by path. Ids in these stories are lower case,
/// so an upper-case key is a variant name.
fn off_convention(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                if key.starts_with(|c: char| c.is_ascii_uppercase()) || key == "nanos" {
                    out.push(format!("{path}/{key}"));
                }
                off_convention(field, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                off_convention(item, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// R-C6: everything the engine takes or gives follows one convention: no externally tagged
/// enum and no `{"secs","nanos"}` anywhere in commands, events, outcomes, views, counters,
/// errors or snapshots.
#[test]
fn r_c6_commands_events_views_and_snapshots_follow_one_convention() {
    let mut desk = varied_desk();
    desk.now += TimeDelta::minutes(2); // c2 overflows; the estimates have data
    let ticked = desk.run(Command::Tick);
    let mut values: Vec<Value> = every_command().iter().map(to_json).collect();
    values.push(to_json(ticked.outcome()));
    values.extend(desk.events.iter().map(to_json));
    for id in desk.engine.conversations() {
        values.push(to_json(&desk.engine.conversation(id).expect("known")));
    }
    for id in desk.engine.agents() {
        values.push(to_json(&desk.engine.agent(id).expect("known")));
    }
    for id in desk.engine.groups() {
        values.push(to_json(&desk.engine.group(id).expect("known")));
    }
    values.push(to_json(desk.engine.counters()));
    values.push(to_json(&desk.engine.snapshot()));
    let batch = desk.run(Command::Forget {
        conversations: vec!["c3".into(), "c1".into(), "ghost".into()],
    });
    values.push(to_json(batch.outcome()));
    let mut wrong = Vec::new();
    for value in &values {
        off_convention(value, "", &mut wrong);
    }
    assert!(wrong.is_empty(), "off the convention: {wrong:?}");
    assert!(values.len() > 40, "{} values", values.len());
}

/// R-C6: the shape of each enum that carries data, and of the plain ones.
#[test]
fn r_c6_the_json_shape_of_each_enum() {
    let cases: Vec<(Value, Value)> = vec![
        (
            to_json(&Limit::Fixed(2)),
            json!({ "type": "Fixed", "limit": 2 }),
        ),
        (to_json(&Limit::Inherit), json!({ "type": "Inherit" })),
        (
            to_json(&Target::Agent("ana".into())),
            json!({ "type": "Agent", "agent": "ana" }),
        ),
        (
            to_json(&Target::Group("support".into())),
            json!({ "type": "Group", "group": "support" }),
        ),
        (
            to_json(&AssignReason::Strategy {
                strategy: Strategy::RoundRobin,
            }),
            json!({ "type": "Strategy", "strategy": "RoundRobin" }),
        ),
        (to_json(&AssignReason::Manual), json!({ "type": "Manual" })),
        (
            to_json(&AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed,
            }),
            json!({ "type": "Drain", "trigger": "CapacityFreed" }),
        ),
        (
            to_json(&AssignReason::ManualToGroup { strategy: None }),
            json!({ "type": "ManualToGroup", "strategy": null }),
        ),
        (to_json(&AgentStatus::Online), json!("Online")),
        (to_json(&AgentStatus::ShortBreak), json!("ShortBreak")),
        (
            to_json(&AgentStatus::Custom("Lunch".into())),
            json!("Lunch"),
        ),
        (
            to_json(&ConversationState::Active {
                agent: "ana".into(),
            }),
            json!({ "type": "Active", "agent": "ana" }),
        ),
        (
            to_json(&ConversationState::Queued),
            json!({ "type": "Queued" }),
        ),
        (to_json(&Command::Tick), json!({ "type": "Tick" })),
        (
            to_json(&Command::Transfer {
                conversation: "c1".into(),
                to: Target::Agent("bo".into()),
            }),
            json!({ "type": "Transfer", "conversation": "c1", "to": { "type": "Agent", "agent": "bo" } }),
        ),
        (
            to_json(&Error::UnknownAgent {
                agent: "ana".into(),
            }),
            json!({ "type": "UnknownAgent", "agent": "ana" }),
        ),
        (to_json(&Error::EmptyBatch), json!({ "type": "EmptyBatch" })),
        (to_json(&ReceptionMode::RealTime), json!("RealTime")),
        (to_json(&Strategy::LeastLoaded), json!("LeastLoaded")),
        (to_json(&Sender::Visitor), json!("Visitor")),
        (to_json(&EndReason::Inactivity), json!("Inactivity")),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
    }
    // Read back the same way; a status is read by its name.
    assert_eq!(
        from_json::<Limit>(json!({ "type": "Fixed", "limit": 2 })),
        Ok(Limit::Fixed(2))
    );
    assert_eq!(
        from_json::<Target>(json!({ "type": "Group", "group": "vip" })),
        Ok(Target::Group("vip".into()))
    );
    assert_eq!(
        from_json::<AgentStatus>(json!("Offline")),
        Ok(AgentStatus::Offline)
    );
    assert_eq!(
        from_json::<AgentStatus>(json!("Lunch")),
        Ok(AgentStatus::Custom("Lunch".into()))
    );
    assert_eq!("Busy".parse(), Ok(AgentStatus::Busy));
    assert_eq!(AgentStatus::Custom("Lunch".into()).name(), "Lunch");
    // The old, externally tagged shapes are refused.
    assert!(from_json::<Limit>(json!({ "Fixed": 2 })).is_err());
    assert!(from_json::<Target>(json!({ "Agent": "ana" })).is_err());
    assert!(from_json::<AgentStatus>(json!({ "Custom": "Lunch" })).is_err());
}

/// R-C6: through the config, a custom status is its name in commands and events.
#[test]
fn r_c6_a_custom_status_is_its_name_in_commands_and_events() {
    let mut desk = Desk::with_config(full_config_without_schedule());
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    let command = from_json::<Command>(
        json!({ "type": "AgentStatusChanged", "agent": "ana", "status": "Lunch" }),
    )
    .expect("a command");
    let out = desk.run(command);
    assert_eq!(
        to_json(&out.events[0]),
        json!({ "type": "AgentStatusChanged", "agent": "ana", "from": "Online", "to": "Lunch" })
    );
    assert_eq!(
        desk.engine.agent_status("ana"),
        Some(&AgentStatus::Custom("Lunch".into()))
    );
}

fn full_config_without_schedule() -> Config {
    Config {
        service_hours: None,
        ..full_config()
    }
}

// ---- Durations and rank (R-C7, R-A1) -----------------------------------------------------------

/// R-C7: durations in views are whole milliseconds under a `_ms` name.
#[test]
fn r_c7_durations_in_views_are_whole_milliseconds() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    for (i, c) in ["c1", "c2", "c3", "c4"].into_iter().enumerate() {
        desk.now = t0() + TimeDelta::milliseconds(1500 * i as i64);
        desk.arrive(c, c, "support");
    }
    // Two services 1.5 s apart from the queue: c4 (position 1) waits about 1.5 s.
    desk.now += TimeDelta::seconds(1);
    desk.end("c1"); // ana takes c2
    desk.now += TimeDelta::milliseconds(1500);
    desk.end("c2"); // ana takes c3
    let view = desk.engine.conversation("c4").expect("known");
    assert_eq!(view.estimated_wait, Some(Duration::from_millis(1500)));
    let value = to_json(&view);
    assert_eq!(value["estimated_wait_ms"], json!(1500));
    assert!(value.get("estimated_wait").is_none(), "{value}");
    assert_eq!(from_json::<ConversationView>(value), Ok(view));
}

/// R-A1: an agent's place in a group is its `rank`, 1 first ..= 5 last, everywhere: the
/// builders, the wire, the view and the error; `priority` is the arrival's alone.
#[test]
fn r_a1_a_membership_is_ranked_one_first() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(
        GroupSpec::new("vip").strategy(Strategy::AgentPriority),
    ));
    let command = from_json::<Command>(json!({
        "type": "RegisterAgent",
        "agent": "second",
        "status": "Online",
        "groups": [{ "group": "vip", "rank": 2 }]
    }))
    .expect("a command");
    desk.run(command);
    desk.register(
        AgentSpec::new("first")
            .status(AgentStatus::Online)
            .group_with_rank("vip", 1),
    );
    let out = desk.arrive("c1", "v1", "vip");
    assert_eq!(
        pairs(&out.events),
        [("c1".into(), "first".into())],
        "rank 1 first"
    );
    let view = desk.agent_view("second");
    assert_eq!(view.groups, [Membership::with_rank("vip", 2)]);
    assert_eq!(
        to_json(&view)["groups"],
        json!([{ "group": "vip", "rank": 2 }])
    );
    // The old name is an unknown field now, not a silently dropped one.
    let old = json!({ "group": "vip", "priority": 1 });
    let err = from_json::<Membership>(old).expect_err("renamed");
    assert!(err.contains("unknown field `priority`"), "{err}");
    let err = desk.refuse(Command::RegisterAgent(
        AgentSpec::new("third").group_with_rank("vip", 6),
    ));
    assert_eq!(
        err,
        Error::InvalidRank {
            agent: "third".into(),
            group: "vip".into(),
            rank: 6
        }
    );
    assert_eq!(
        err.to_string(),
        "agent `third` has rank 6 in group `vip`; ranks run from 1 (first) to 5 (last)"
    );
    // An arrival's priority runs the other way: higher first.
    let arrival = to_json(&Arrival::new("c9", "v9", "vip").priority(7));
    assert_eq!(arrival["priority"], json!(7));
}

// ---- Snapshots (R-C6) --------------------------------------------------------------------------

/// R-C6: a snapshot reads back equal to itself, and an engine restored from it snapshots equal
/// again: equality is of the stored state, not of the indexes restore rebuilds.
#[test]
fn r_c6_a_snapshot_reads_back_equal_and_restores_equal() {
    let desk = varied_desk();
    let snapshot = desk.engine.snapshot();
    let json = serde_json::to_string(&snapshot).expect("serializes");
    let read: Snapshot = serde_json::from_str(&json).expect("reads back");
    assert_eq!(read, snapshot);
    let restored = Engine::restore(read).expect("restores");
    assert_eq!(restored.snapshot(), snapshot);
    // A different state is a different snapshot.
    let mut other = desk.engine.clone();
    let _ = other.handle(desk.now, Command::Tick).expect("a tick");
    let _ = other
        .handle(
            desk.now,
            Command::VisitorLeaves {
                conversation: "c2".into(),
            },
        )
        .expect("c2 waits");
    assert_ne!(other.snapshot(), snapshot);
}

/// R-C6: a version-2 snapshot (externally tagged enums, a membership's `priority`) reads as a
/// snapshot and is refused by restore with `UnsupportedSnapshot`, naming both versions, rather
/// than failing to parse on its first old field.
#[test]
fn r_c6_a_version_2_snapshot_is_refused_as_unsupported() {
    let desk = varied_desk();
    let mut value = to_json(&desk.engine.snapshot());
    assert_eq!(value["version"], json!(3));
    assert_eq!(SNAPSHOT_VERSION, 3);
    value["version"] = json!(2);
    let agents = value["state"]["agents"].as_object_mut().expect("a map");
    for agent in agents.values_mut() {
        for m in agent["groups"].as_array_mut().expect("memberships") {
            let rank = m["rank"].take();
            let m = m.as_object_mut().expect("a membership");
            m.remove("rank");
            m.insert("priority".into(), rank);
        }
        agent["status"] = json!({ "Custom": "Lunch" });
    }
    // Text as this crate writes it, `version` first; and a JSON value, whose keys are sorted,
    // `state` first.
    let version_first = format!(r#"{{"version":2,"state":{}}}"#, value["state"]);
    let from_text: Snapshot = serde_json::from_str(&version_first).expect("reads as a snapshot");
    let from_value: Snapshot = serde_json::from_value(value.clone()).expect("reads too");
    for snapshot in [from_text, from_value] {
        assert_eq!(
            Engine::restore(snapshot).err(),
            Some(Error::UnsupportedSnapshot {
                found: 2,
                supported: 3
            })
        );
    }
    // Text with `state` first cannot be read past a state that does not read: an error, as
    // the docs of `Snapshot` say, never a wrong restore.
    let state_first = serde_json::to_string(&value).expect("serializes");
    assert!(state_first.starts_with(r#"{"state":"#), "{state_first:.20}");
    assert!(serde_json::from_str::<Snapshot>(&state_first).is_err());
    // At this version, a state that does not read is an error in any order.
    value["version"] = json!(3);
    let version_first = format!(r#"{{"version":3,"state":{}}}"#, value["state"]);
    assert!(serde_json::from_str::<Snapshot>(&version_first).is_err());
    assert!(serde_json::from_value::<Snapshot>(value).is_err());
    // A snapshot with an unknown top-level field is refused outright.
    let mut value = to_json(&desk.engine.snapshot());
    value["extra"] = json!(1);
    assert!(from_json::<Snapshot>(value).is_err());
}

// ---- Views carry instants (defect 9) -----------------------------------------------------------

/// Defect 9, R-C7: a view's waited time was measured to the engine's clock, so a host showing
/// it saw 0.66 s after 20 s of silence. Views carry the instants, and the host measures
/// against its own clock.
#[test]
fn defect_9_views_carry_instants_so_waited_times_do_not_freeze() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    let arrived = t0() + TimeDelta::milliseconds(660);
    desk.now = arrived;
    desk.arrive("c1", "v1", "support");
    // 20 seconds later, no command has come: the engine's clock still reads `arrived`.
    let host_now = arrived + TimeDelta::seconds(20);
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.waited(host_now), Duration::from_secs(20));
    let value = to_json(&view);
    assert_eq!(value["arrived_at"], to_json(&arrived));
    assert_eq!(value["waiting_since"], to_json(&arrived));
    assert_eq!(value["first_assigned_at"], Value::Null);
    assert!(
        value.get("waited").is_none(),
        "no figure frozen at the engine's clock"
    );

    // An agent takes it at minute 1: the wait ends there, whatever the host's clock says.
    desk.now = t0() + TimeDelta::minutes(1);
    desk.agent("ana", 1, &["support"]);
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.waiting_since, None);
    assert_eq!(view.first_assigned_at, Some(desk.now));
    let waited = (desk.now - arrived).to_std().expect("positive");
    assert_eq!(view.waited(desk.now + TimeDelta::hours(1)), waited);

    // The agent goes away: c1 waits again, since then, and its first wait is still on record.
    desk.now += TimeDelta::minutes(1);
    desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.state, ConversationState::Queued);
    assert_eq!(view.waiting_since, Some(desk.now));
    assert_eq!(view.waited(desk.now + TimeDelta::hours(1)), waited);

    // A conversation that leaves unserved: its wait ends when it leaves.
    desk.arrive("c2", "v2", "support");
    let left = desk.now + TimeDelta::seconds(30);
    desk.now = left;
    desk.run(Command::VisitorLeaves {
        conversation: "c2".into(),
    });
    let view = desk.engine.conversation("c2").expect("known");
    assert_eq!((view.waiting_since, view.finished_at), (None, Some(left)));
    assert_eq!(
        view.waited(left + TimeDelta::hours(1)),
        Duration::from_secs(30)
    );
}

/// Defect 9, R-M1: a switch of reception mode moves waiting work between queue and pool
/// without restarting its wait.
#[test]
fn defect_9_a_mode_switch_keeps_when_a_conversation_started_waiting() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.arrive("c1", "v1", "support");
    desk.now += TimeDelta::minutes(5);
    desk.run(Command::SetReceptionMode {
        mode: ReceptionMode::Asynchronous,
    });
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.state, ConversationState::Pooled);
    assert_eq!(view.waiting_since, Some(t0()));
}

// ---- What a client reads back (R-C7) -----------------------------------------------------------

/// R-C7: views, counters, outcomes, item results and errors deserialize to what was sent.
#[test]
fn r_c7_views_outcomes_and_errors_read_back_as_sent() {
    let mut desk = varied_desk();
    for id in desk.engine.conversations() {
        let view = desk.engine.conversation(id).expect("known");
        assert_eq!(from_json::<ConversationView>(to_json(&view)), Ok(view));
    }
    for id in desk.engine.agents() {
        let view = desk.engine.agent(id).expect("known");
        assert_eq!(from_json::<AgentView>(to_json(&view)), Ok(view));
    }
    for id in desk.engine.groups() {
        let view = desk.engine.group(id).expect("known");
        assert_eq!(from_json::<GroupView>(to_json(&view)), Ok(view));
    }
    let counters = desk.engine.counters().clone();
    assert_eq!(from_json::<Counters>(to_json(&counters)), Ok(counters));

    let batch = desk.run(Command::Forget {
        conversations: vec!["c3".into(), "c1".into()],
    });
    let outcome = batch.outcome().clone();
    let value = to_json(&outcome);
    assert_eq!(
        value["results"],
        json!([
            { "conversation": "c3", "error": null },
            { "conversation": "c1", "error": { "type": "StillOpen", "conversation": "c1" } }
        ])
    );
    assert_eq!(from_json::<Outcome>(value), Ok(outcome.clone()));
    for item in &outcome.results {
        assert_eq!(from_json::<ItemResult>(to_json(item)), Ok(item.clone()));
    }

    // Errors, their words included, and the same text when read back.
    let errors = [
        desk.refuse(Command::Transfer {
            conversation: "c1".into(),
            to: Target::Agent("ana".into()),
        }),
        desk.refuse(Command::LeaveMessage {
            conversation: "c1".into(),
        }),
        desk.refuse(Command::Claim {
            agent: "ana".into(),
            conversation: None,
        }),
        desk.refuse(Command::UpdateConfig(Config {
            default_limit: 0,
            ..Config::default()
        })),
        desk.refuse(Command::EndConversations {
            conversations: vec![],
            reason: EndReason::Agent,
        }),
        Error::UnsupportedSnapshot {
            found: 2,
            supported: 3,
        },
    ];
    let names: Vec<Value> = errors.iter().map(|e| to_json(e)["type"].clone()).collect();
    assert_eq!(
        names,
        [
            "AgentUnavailable",
            "InvalidState",
            "WrongMode",
            "InvalidConfig",
            "EmptyBatch",
            "UnsupportedSnapshot"
        ]
    );
    for error in errors {
        let read: Error = from_json(to_json(&error)).expect("reads back");
        assert_eq!(read.to_string(), error.to_string());
        assert_eq!(read, error);
    }
}

// ---- Outcome readers ---------------------------------------------------------------------------

/// The readers on `Outcome` pick out assignments, offers, queue positions and item results
/// without matching events.
#[test]
fn outcome_readers_find_assignments_positions_and_item_results() {
    let config = Config {
        reception: Reception {
            auto_accept: false,
            ..Reception::default()
        },
        ..Config::default()
    };
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    let offered = desk.arrive("c1", "v1", "support");
    let assignments: Vec<_> = offered.outcome().assignments().collect();
    assert_eq!(assignments.len(), 1);
    let offer = assignments[0];
    assert_eq!(
        (offer.conversation.as_str(), offer.agent.as_str()),
        ("c1", "ana")
    );
    assert!(offer.is_offer());
    assert_eq!(
        offer.offer_expires_at,
        Some(desk.now + TimeDelta::seconds(60))
    );
    assert_eq!(
        offer.reason,
        &AssignReason::Strategy {
            strategy: Strategy::LeastRecentlyAssigned
        }
    );

    let queued = desk.arrive("c2", "v2", "support");
    let positions: Vec<_> = queued
        .outcome()
        .positions()
        .map(|p| {
            (
                p.conversation.as_str(),
                p.group.as_str(),
                p.position,
                p.entered,
            )
        })
        .collect();
    assert_eq!(positions, [("c2", "support", 1, true)]);
    desk.arrive("c3", "v3", "support");
    let left = desk.run(Command::VisitorLeaves {
        conversation: "c2".into(),
    });
    let moved: Vec<_> = left
        .outcome()
        .positions()
        .map(|p| (p.conversation.as_str(), p.position, p.entered))
        .collect();
    assert_eq!(moved, [("c3", 1, false)]);

    // Accepting is not an assignment; a manual assignment is, and active at once.
    let accepted = desk.run(Command::AcceptOffer {
        conversation: "c1".into(),
        agent: "ana".into(),
    });
    assert_eq!(accepted.outcome().assignments().count(), 0);
    assert!(!accepted.outcome().is_empty());
    let manual = desk.assign(&["c3", "c2", "ghost"], Target::Agent("ana".into()));
    let outcome = manual.outcome();
    let assigned: Vec<_> = outcome
        .assignments()
        .map(|a| (a.conversation.as_str(), a.is_offer(), a.reason.clone()))
        .collect();
    assert_eq!(assigned, [("c3", false, AssignReason::Manual)]);
    assert_eq!(outcome.item("c3").map(|i| i.result.is_ok()), Some(true));
    assert!(matches!(
        outcome.item("c2").map(|i| &i.result),
        Some(Err(Error::InvalidState { .. }))
    ));
    let failures: Vec<_> = outcome.failures().map(|(c, _)| c.as_str()).collect();
    assert_eq!(failures, ["c2", "ghost"]);
    assert!(!outcome.all_succeeded());
    assert!(outcome.item("c9").is_none());

    // An early tick: nothing to dispatch.
    let quiet = desk.run(Command::Tick);
    assert!(quiet.outcome().is_empty());
}

/// People read these in logs: `Display` in words.
#[test]
fn display_writes_enums_in_words() {
    assert_eq!(
        Strategy::LeastRecentlyAssigned.to_string(),
        "least recently assigned"
    );
    assert_eq!(ReceptionMode::Asynchronous.to_string(), "asynchronous");
    assert_eq!(EndReason::Visitor.to_string(), "visitor");
    assert_eq!(
        AssignReason::Overflow {
            group: "sales".into(),
            strategy: Strategy::RoundRobin
        }
        .to_string(),
        "overflow to group `sales` (round robin)"
    );
    assert_eq!(
        AssignReason::Drain {
            trigger: DrainTrigger::ShiftStarted
        }
        .to_string(),
        "drain (shift started)"
    );
    assert_eq!(Target::Agent("ana".into()).to_string(), "agent `ana`");
    assert_eq!(
        ConversationState::Active {
            agent: "ana".into()
        }
        .to_string(),
        "active with agent `ana`"
    );
    assert_eq!(AgentStatus::Custom("Lunch".into()).to_string(), "Lunch");
}
