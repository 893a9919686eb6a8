//! The read model (R-HS3): queries are answered beside the writer, never by it, so a large
//! query does not hold commands up; `GET /state` lists a queue of 40,000 in one pass; the event
//! stream resumes from the journal with `Last-Event-ID`.

mod host;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use host::{EventStream, Service, scratch};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use switchboard::{Arrival, Command, Config, Engine, GroupSpec};

/// R-HS3: a stream that reconnects with `Last-Event-ID` gets exactly the entries it missed,
/// in order, then the live ones, none twice.
#[test]
fn r_hs3_a_reconnecting_stream_receives_exactly_the_events_it_missed() {
    let dir = scratch("resume");
    let service = Service::start(&dir.join("desk.db"), &[]);
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    let mut stream = EventStream::open(&service);
    let mut seen = Vec::new();
    for i in 0..3 {
        let answer = service.ok(
            "POST",
            "/visitors",
            &json!({"conversation": format!("a{i}"), "visitor": "v", "group": "support"})
                .to_string(),
        );
        let entry = stream.next_entry();
        assert_eq!(entry["seq"], answer["seq"]);
        seen.push(entry);
    }
    let last = seen.last().expect("three entries")["seq"]
        .as_u64()
        .expect("a seq");
    drop(stream);

    // Missed while disconnected: five entries.
    let mut missed = Vec::new();
    for i in 0..5 {
        let answer = service.ok(
            "POST",
            "/visitors",
            &json!({"conversation": format!("b{i}"), "visitor": "v", "group": "support"})
                .to_string(),
        );
        missed.push(answer);
    }
    let mut stream = EventStream::resume(&service, Some(last));
    assert_eq!(stream.status, 200);
    for answer in &missed {
        let message = stream.next().expect("a missed entry is resent");
        assert_eq!(message.event, None, "{message:?}");
        let entry: Value = serde_json::from_str(&message.data).expect("JSON");
        assert_eq!(
            message.id.as_deref(),
            Some(answer["seq"].to_string().as_str())
        );
        assert_eq!(entry["seq"], answer["seq"]);
        assert_eq!(entry["at"], answer["at"]);
        assert_eq!(
            entry["events"], answer["events"],
            "the events it missed, exactly"
        );
    }
    // Then the live stream, without repeating any of them.
    let answer = service.ok("POST", "/groups", r#"{"group": "sales"}"#);
    let entry = stream.next_entry();
    assert_eq!(entry["seq"], answer["seq"]);
    assert_eq!(entry["events"], answer["events"]);
    assert!(
        stream
            .next_within(Duration::from_millis(500))
            .is_none_or(|m| m.id.is_none()),
        "nothing more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// R-HS3: when the entries a stream missed were compacted away, it is told to start over
/// (`reset`) rather than given a partial history.
#[test]
fn r_hs3_a_stream_too_far_behind_is_told_to_reset() {
    let dir = scratch("reset");
    let db = dir.join("desk.db");
    let service = Service::start(&db, &["--snapshot-every", "5"]);
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    let mut i = 0;
    host::wait_for(
        Duration::from_secs(30),
        "the journal to be compacted",
        || {
            i += 1;
            service.ok(
                "POST",
                "/visitors",
                &json!({"conversation": format!("c{i}"), "visitor": "v", "group": "support"})
                    .to_string(),
            );
            let conn = Connection::open(&db).expect("the database opens");
            let first: u64 = conn
                .query_row("SELECT MIN(seq) FROM journal", [], |r| r.get(0))
                .expect("the journal can be read");
            (first > 3).then_some(())
        },
    );
    let mut stream = EventStream::resume(&service, Some(1));
    let message = stream.next().expect("an answer");
    assert_eq!(message.event.as_deref(), Some("reset"), "{message:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a journal of `queued` arrivals into a database the service created, as the service
/// would have: each command with the time it was handled at and the events it produced.
fn fill_journal(db: &std::path::Path, queued: usize) {
    let conn = Connection::open(db).expect("the database opens");
    let start: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().expect("a time");
    let mut engine = Engine::new(Config::default()).expect("the default config");
    let mut commands = vec![Command::RegisterGroup(GroupSpec::new("support"))];
    commands.extend((0..queued).map(|i| {
        Command::VisitorArrives(Arrival::new(format!("c{i}"), format!("v{i}"), "support"))
    }));
    conn.execute_batch("BEGIN").expect("a transaction");
    for (i, command) in commands.into_iter().enumerate() {
        let seq = i as u64 + 1;
        let at = start + TimeDelta::milliseconds(i as i64);
        let text = serde_json::to_string(&command).expect("serializes");
        let outcome = engine.handle(at, command).expect("accepted");
        conn.execute(
            "INSERT INTO journal (seq, at, command) VALUES (?1, ?2, ?3)",
            params![seq, serde_json::to_string(&at).expect("a time"), text],
        )
        .expect("journaled");
        for (idx, event) in outcome.events.iter().enumerate() {
            conn.execute(
                "INSERT INTO events (seq, idx, event) VALUES (?1, ?2, ?3)",
                params![
                    seq,
                    idx as u64,
                    serde_json::to_string(event).expect("serializes")
                ],
            )
            .expect("journaled");
        }
    }
    conn.execute_batch("COMMIT").expect("committed");
}

/// R-HS3: with 40,000 conversations queued, `GET /state` lists them all in queue order, and
/// while such requests are in flight all along, commands are still acknowledged without
/// waiting for them: most commands complete with no `/state` answer completing in between. A
/// writer that answered queries itself would make every command wait behind the query ahead
/// of it.
#[test]
fn r_hs3_state_at_40000_queued_does_not_delay_commands() {
    const QUEUED: usize = 40_000;
    const COMMANDS: usize = 60;
    let dir = scratch("state40k");
    let db = dir.join("desk.db");
    Service::start(&db, &[]).kill();
    fill_journal(&db, QUEUED);
    let service = Service::start(&db, &[]);

    let state = service.get("/state").json();
    let queue = state["groups"][0]["queue"].as_array().expect("a queue");
    assert_eq!(queue.len(), QUEUED);
    for (i, entry) in queue.iter().enumerate() {
        assert_eq!(entry["id"], json!(format!("c{i}")));
        assert_eq!(entry["position"], json!(i + 1));
    }
    // The one-pass listing agrees with the engine's own view of a conversation.
    for i in [0, 1, QUEUED / 2, QUEUED - 1] {
        let view = service.get(&format!("/conversations/c{i}")).json();
        assert_eq!(view["position"], queue[i]["position"]);
        assert_eq!(view["arrived_at"], queue[i]["arrived_at"]);
        assert_eq!(view["visitor"], queue[i]["visitor"]);
    }

    let done = AtomicBool::new(false);
    let in_flight = AtomicU64::new(0);
    let answered = AtomicU64::new(0);
    let (clean, sent_while_busy) = std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    in_flight.fetch_add(1, Ordering::AcqRel);
                    let reply = service.get("/state");
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                    assert_eq!(reply.status, 200);
                    answered.fetch_add(1, Ordering::AcqRel);
                }
            });
        }
        host::wait_for(
            Duration::from_secs(30),
            "a /state request in flight",
            || (in_flight.load(Ordering::Acquire) > 0).then_some(()),
        );
        let (mut clean, mut busy) = (0, 0);
        for i in 0..COMMANDS {
            let before = answered.load(Ordering::Acquire);
            busy += usize::from(in_flight.load(Ordering::Acquire) > 0);
            service.ok(
                "POST",
                "/groups",
                &json!({ "group": format!("g{i}") }).to_string(),
            );
            clean += usize::from(answered.load(Ordering::Acquire) == before);
        }
        done.store(true, Ordering::Release);
        (clean, busy)
    });
    eprintln!(
        "{clean} of {COMMANDS} commands acknowledged before the next /state answer; {sent_while_busy} sent while one was in flight"
    );
    assert!(
        sent_while_busy >= COMMANDS / 2,
        "only {sent_while_busy} of {COMMANDS} commands were sent while /state was in flight"
    );
    assert!(
        clean >= COMMANDS / 2,
        "only {clean} of {COMMANDS} commands were acknowledged before the next /state answer"
    );
    let groups = service.get("/groups").json();
    assert_eq!(groups.as_array().expect("a list").len(), COMMANDS + 1);
    let _ = std::fs::remove_dir_all(&dir);
}
