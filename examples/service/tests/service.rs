//! The service example as a deployment runs it: many clients at once, a crash, a restart on the
//! same database. Every acknowledged command must be in the journal, the restarted engine must
//! be the one that crashed, and the deadlines it had pending must still fire. Refused commands
//! get 4xx answers with the engine's own message and leave nothing in the journal.
//!
//! SPEC: R-C4 (an `Err` changes nothing), R-C6 (snapshot, restore and continue), R-C8 (batch
//! results), R-Z1/R-Z2 (a snooze lifts at its time, here across a crash).

mod host;

use std::path::Path;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use host::{EventStream, Service, scratch, wait_for, wall};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, EndReason, Engine, GroupSpec, Sender, Target,
};

const CLIENTS: usize = 12;
const PER_CLIENT: usize = 15;
const AGENTS: usize = 4;
/// What a round sends when nothing stops it: each client's arrivals, every third one's visitor
/// message, every fifth one's end.
const COMMANDS: usize = CLIENTS * (PER_CLIENT + PER_CLIENT / 3 + PER_CLIENT / 5);

/// An acknowledged command: its journal entry and what was sent.
type Ack = (u64, Command);

fn body<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

fn desk_setup(service: &Service) {
    service.ok("POST", "/groups", &body(&GroupSpec::new("support")));
    for i in 0..AGENTS {
        let agent = AgentSpec::new(format!("a{i}"))
            .status(AgentStatus::Online)
            .limit(3)
            .group("support");
        service.ok("POST", "/agents", &body(&agent));
    }
    service.ok("PUT", "/mode", r#"{"mode": "Asynchronous"}"#);
}

/// `CLIENTS` threads, each sending arrivals, visitor messages and ends of its own
/// conversations, until done or until the service stops answering. Returns what was
/// acknowledged.
fn clients(addr: &str, round: &str) -> Vec<Ack> {
    let acks = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for client in 0..CLIENTS {
            let acks = &acks;
            scope.spawn(move || {
                for i in 0..PER_CLIENT {
                    let id = format!("{round}-{client}-{i}");
                    let mut sends = vec![(
                        "/visitors".to_owned(),
                        Command::VisitorArrives(Arrival::new(
                            id.as_str(),
                            format!("v-{id}"),
                            "support",
                        )),
                    )];
                    if i % 3 == 1 {
                        sends.push((
                            format!("/conversations/{id}/messages"),
                            Command::Message {
                                conversation: id.as_str().into(),
                                from: Sender::Visitor,
                            },
                        ));
                    }
                    if i % 5 == 4 {
                        sends.push((
                            "/end".to_owned(),
                            Command::EndConversations {
                                conversations: vec![id.as_str().into()],
                                reason: EndReason::Visitor,
                            },
                        ));
                    }
                    for (path, command) in sends {
                        // The route supplies the type and the path's id; the body may repeat them.
                        let Ok(reply) = host::request(addr, "POST", &path, Some(&body(&command)))
                        else {
                            return; // the service is gone
                        };
                        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
                        let seq = reply.json()["seq"]
                            .as_u64()
                            .expect("an acknowledgment has a seq");
                        acks.lock()
                            .expect("no client panicked")
                            .push((seq, command));
                    }
                }
            });
        }
    });
    acks.into_inner().expect("no client panicked")
}

/// Every acknowledged command is in the journal under its `seq`, unless compaction removed it
/// (then a snapshot covers it: the restarts below check the state), and the journal has no
/// gaps. Returns the last entry and the first one still in the journal.
fn assert_journaled(db: &Path, acks: &[Ack]) -> (u64, u64) {
    let conn = Connection::open(db).expect("the database opens");
    let (count, first, last): (u64, u64, u64) = conn
        .query_row(
            "SELECT COUNT(*), COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM journal",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the journal can be read");
    assert_eq!(count, last + 1 - first, "the journal has gaps");
    let newest_snapshot = snapshots(db).first().copied().unwrap_or(0);
    for (seq, sent) in acks {
        if *seq < first {
            assert!(
                *seq <= newest_snapshot,
                "acknowledged entry {seq} was compacted but no snapshot covers it"
            );
            continue;
        }
        let stored: String = conn
            .query_row(
                "SELECT command FROM journal WHERE seq = ?1",
                params![seq],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("acknowledged entry {seq} is not in the journal: {e}"));
        let stored: Command = serde_json::from_str(&stored).expect("a journaled command parses");
        assert_eq!(&stored, sent, "journal entry {seq}");
    }
    (last, first)
}

/// The snapshot files beside the database, newest first, by `seq`.
fn snapshots(db: &Path) -> Vec<u64> {
    let dir = db.with_file_name("desk.db.snapshots");
    let mut found: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_prefix("snapshot-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect();
    found.sort_unstable_by(|a, b| b.cmp(a));
    found
}

fn snapshot(service: &Service) -> (u64, Value) {
    let reply = service.get("/snapshot").json();
    (
        reply["seq"].as_u64().expect("a seq"),
        reply["snapshot"].clone(),
    )
}

#[test]
fn a_crash_loses_no_acknowledged_command_and_deadlines_still_fire() {
    let dir = scratch("crash");
    let db = dir.join("desk.db");
    // Snapshots every 25 entries, the journal compacted behind them: recovery restores one and
    // replays the journal after it. A simulated slow disk widens the window between writing and committing a group, so that
    // acknowledging before the commit would lose commands to the crash below, visibly.
    let options = ["--snapshot-every", "25", "--commit-delay-ms", "20"];
    let service = Service::start(&db, &options);
    desk_setup(&service);

    // Round 1: concurrent clients, then snoozes that lift a few seconds from now.
    let mut acks = clients(&service.addr, "r1");
    assert_eq!(acks.len(), COMMANDS);
    let held: Vec<String> = service.get("/agents/a0").json()["conversations"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c.as_str().expect("an id").to_owned())
        .collect();
    assert!(!held.is_empty(), "a0 serves someone");
    let until: DateTime<Utc> = wall() + TimeDelta::seconds(6);
    let snooze = Command::Snooze {
        conversations: held.iter().map(|c| c.as_str().into()).collect(),
        until,
    };
    let answer = service.ok("POST", "/snooze", &body(&snooze));
    acks.push((answer["seq"].as_u64().expect("a seq"), snooze));
    let (seq, before) = snapshot(&service);

    // Crash, then check the disk before anything else touches it.
    service.kill();
    let (last, first) = assert_journaled(&db, &acks);
    assert_eq!(last, seq);
    assert!(first > 1, "the journal was compacted behind the snapshots");

    // The restarted engine is the one that crashed: same state, bit for bit.
    let service = Service::start(&db, &options);
    let (seq_after, after) = snapshot(&service);
    assert!(
        wall() < until,
        "the restart took longer than the snooze's margin; the comparison below needs it"
    );
    assert_eq!(
        seq_after, seq,
        "nothing happened between the crash and the restart"
    );
    assert!(
        after == before,
        "the restarted state differs from the state before the crash"
    );

    // Round 2: crash while the clients are still sending.
    let mut round2 = Vec::new();
    let addr = service.addr.clone();
    thread::scope(|scope| {
        let running = scope.spawn(|| clients(&addr, "r2"));
        wait_for(Duration::from_secs(30), "round 2 to get going", || {
            (snapshot(&service).0 >= seq + 40).then_some(())
        });
        // Kill with requests in flight; the clients see errors and stop.
        service.kill();
        round2 = running.join().expect("the clients do not panic");
    });
    assert!(!round2.is_empty());
    assert!(
        round2.len() < COMMANDS,
        "the crash came while clients were sending"
    );
    assert_journaled(&db, &round2);
    acks.extend(round2);

    // Restart after the snooze time passed while the service was down.
    let wait = (until - wall()).to_std().unwrap_or_default() + Duration::from_millis(500);
    thread::sleep(wait);
    let service = Service::start(&db, &[]);
    for (_, command) in &acks {
        if let Command::VisitorArrives(arrival) = command {
            let reply = service.get(&format!("/conversations/{}", arrival.conversation));
            assert_eq!(
                reply.status, 200,
                "{} is lost: {}",
                arrival.conversation, reply.body
            );
        }
    }
    wait_for(
        Duration::from_secs(20),
        "the snoozes to lift after the restart",
        || {
            let snoozed = service.get("/snoozed").json();
            snoozed.as_array().expect("a list").is_empty().then_some(())
        },
    );
    for id in &held {
        let state = &service.get(&format!("/conversations/{id}")).json()["state"];
        assert_eq!(
            state,
            &json!({ "type": "Active", "agent": "a0" }),
            "{id} woke and is a0's again"
        );
    }
    service.kill();

    // The wake-ups are journaled as a Tick, with their events.
    let conn = Connection::open(&db).expect("the database opens");
    let woke: u64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events JOIN journal USING (seq)
             WHERE journal.command = '{\"type\":\"Tick\"}'
               AND json_extract(event, '$.type') = 'ConversationWoke'
               AND json_extract(event, '$.reason') = 'SnoozeEnded'",
            [],
            |r| r.get(0),
        )
        .expect("the events can be read");
    assert_eq!(woke, held.len() as u64);
    assert!(
        snapshots(&db).len() == 2,
        "two snapshots are kept: {:?}",
        snapshots(&db)
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the engine itself says to a refused command, from an engine with the same setup.
fn engine_says(mirror: &mut Engine, command: Command) -> String {
    let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().expect("a time");
    match mirror.handle(now, command) {
        Err(error) => error.to_string(),
        Ok(outcome) => outcome.results[0]
            .result
            .as_ref()
            .expect_err("the item is refused")
            .to_string(),
    }
}

#[test]
fn refused_commands_get_4xx_with_the_engines_message_and_leave_no_trace() {
    let dir = scratch("refused");
    let db = dir.join("desk.db");
    let service = Service::start(&db, &[]);
    let setup = [
        Command::RegisterGroup(GroupSpec::new("support")),
        Command::RegisterAgent(
            AgentSpec::new("ana")
                .status(AgentStatus::Online)
                .limit(1)
                .group("support"),
        ),
        Command::VisitorArrives(Arrival::new("c1", "v1", "support")),
    ];
    let mut mirror = Engine::new(Config::default()).expect("the default config is valid");
    for command in setup {
        service.ok("POST", "/commands", &body(&command));
        let _ = mirror
            .handle("2026-03-02T09:00:00Z".parse().expect("a time"), command)
            .expect("the setup is valid");
    }
    let (seq, before) = snapshot(&service);
    let mut events = EventStream::open(&service);

    let engine_refusals = [
        (
            "PUT",
            "/agents/nobody/status",
            r#"{"status":"Online"}"#,
            404,
            Command::AgentStatusChanged {
                agent: "nobody".into(),
                status: AgentStatus::Online,
            },
        ),
        (
            "POST",
            "/conversations/ghost/transfer",
            r#"{"to":{"type":"Agent","agent":"ana"}}"#,
            404,
            Command::Transfer {
                conversation: "ghost".into(),
                to: Target::Agent("ana".into()),
            },
        ),
        (
            "POST",
            "/visitors",
            r#"{"conversation":"c1","visitor":"v9","group":"support"}"#,
            409,
            Command::VisitorArrives(Arrival::new("c1", "v9", "support")),
        ),
        (
            "POST",
            "/conversations/c1/leave",
            "",
            409,
            Command::VisitorLeaves {
                conversation: "c1".into(),
            },
        ),
        (
            "POST",
            "/snooze",
            r#"{"conversations":["c1"],"until":"2030-01-01T00:00:00Z"}"#,
            409,
            Command::Snooze {
                conversations: vec!["c1".into()],
                until: "2030-01-01T00:00:00Z".parse().expect("a time"),
            },
        ),
        (
            "POST",
            "/claim",
            r#"{"agent":"ana","conversation":null}"#,
            409,
            Command::Claim {
                agent: "ana".into(),
                conversation: None,
            },
        ),
        (
            "POST",
            "/agents",
            r#"{"agent":"ana"}"#,
            409,
            Command::RegisterAgent(AgentSpec::new("ana")),
        ),
        (
            "POST",
            "/groups",
            r#"{"group":"vip","limit":{"type":"Fixed","limit":0}}"#,
            422,
            Command::RegisterGroup(GroupSpec::new("vip").limit(0)),
        ),
        // A batch whose every item is refused is refused as a whole.
        (
            "POST",
            "/end",
            r#"{"conversations":["ghost"],"reason":"Agent"}"#,
            404,
            Command::EndConversations {
                conversations: vec!["ghost".into()],
                reason: EndReason::Agent,
            },
        ),
    ];
    for (method, path, text, status, command) in engine_refusals {
        let reply = host::request(&service.addr, method, path, Some(text)).expect("an answer");
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(
            reply.error(),
            engine_says(&mut mirror, command),
            "{method} {path}"
        );
    }

    let malformed = [
        (
            "POST",
            "/visitors",
            r#"{"conversation":"#,
            400,
            "malformed JSON: EOF while parsing",
        ),
        (
            "POST",
            "/visitors",
            "[1, 2]",
            400,
            "the body must be a JSON object",
        ),
        (
            "POST",
            "/visitors",
            r#"{"conversation":"c9","group":"support"}"#,
            422,
            "missing field `visitor`",
        ),
        (
            "POST",
            "/commands",
            r#"{"type":"Teleport"}"#,
            422,
            "unknown variant `Teleport`",
        ),
        (
            "PUT",
            "/agents/ana/status",
            r#"{"agent":"bo","status":"Online"}"#,
            400,
            "this route sets `agent`",
        ),
        (
            "PUT",
            "/agents/ana/status",
            r#"{"status":"Sleepy"}"#,
            422,
            // A status is its name on the wire: an unknown one is a custom status the config
            // does not define, refused by the engine.
            "status `Sleepy` is not defined in the config's custom statuses",
        ),
    ];
    for (method, path, text, status, message) in malformed {
        let reply = host::request(&service.addr, method, path, Some(text)).expect("an answer");
        assert_eq!(
            reply.status, status,
            "{method} {path} {text}: {}",
            reply.body
        );
        assert!(
            reply.error().contains(message),
            "{method} {path} {text}: {}",
            reply.body
        );
    }
    let reply = service.get("/conversations/ghost");
    assert_eq!(
        (reply.status, reply.error()),
        (404, "unknown conversation `ghost`".to_owned())
    );

    // Nothing was journaled, nothing changed. The batch whose every item was refused moved
    // the engine's clock in memory (the engine advances it on Ok), and only that.
    let (seq_after, mut after) = snapshot(&service);
    assert_eq!(seq_after, seq);
    let mut before = before;
    after["state"]["clock"] = Value::Null;
    before["state"]["clock"] = Value::Null;
    assert!(after == before, "a refused command changed the engine");

    // A batch with one good item is accepted, with a result per item, and streamed.
    let answer = service.ok(
        "POST",
        "/end",
        r#"{"conversations":["c1","ghost"],"reason":"Agent"}"#,
    );
    assert_eq!(answer["seq"], json!(seq + 1));
    assert_eq!(
        answer["results"][0],
        json!({ "conversation": "c1", "ok": true })
    );
    assert_eq!(answer["results"][1]["ok"], json!(false));
    let streamed = events.next_entry();
    assert_eq!(
        streamed["seq"], answer["seq"],
        "the first entry streamed is the first accepted"
    );
    assert_eq!(streamed["events"], answer["events"]);

    service.kill();
    let conn = Connection::open(&db).expect("the database opens");
    let count: u64 = conn
        .query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
        .expect("the journal can be read");
    assert_eq!(
        count,
        seq + 1,
        "only the accepted commands are in the journal"
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
