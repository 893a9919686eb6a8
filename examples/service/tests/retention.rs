//! Retention (R-HS1): finished conversations and visitors' last agents are forgotten after the
//! configured age, so that memory and snapshots stay the size of the live desk; the journal
//! behind the snapshots is compacted, or archived first.

mod host;

use std::path::Path;
use std::time::Duration;

use host::{EventStream, Service, scratch, wait_for};
use rusqlite::Connection;
use serde_json::json;

fn setup(service: &Service) {
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "ana", "status": "Online", "limit": {"type": "Fixed", "limit": 50}, "groups": [{"group": "support"}]}"#,
    );
}

/// Arrivals served by ana and ended at once.
fn serve_and_end(service: &Service, round: &str, count: usize) {
    for i in 0..count {
        let id = format!("{round}-{i}");
        service.ok(
            "POST",
            "/visitors",
            &json!({"conversation": id, "visitor": format!("v-{id}"), "group": "support"})
                .to_string(),
        );
        service.ok(
            "POST",
            "/end",
            &json!({"conversations": [id], "reason": "Agent"}).to_string(),
        );
    }
}

fn count_events(db: &Path, kind: &str) -> u64 {
    let conn = Connection::open(db).expect("the database opens");
    conn.query_row(
        "SELECT COUNT(*) FROM events WHERE json_extract(event, '$.type') = ?1",
        [kind],
        |r| r.get(0),
    )
    .expect("the events can be read")
}

/// R-HS1: a finished conversation is forgotten after `--forget-after-secs`, its visitor's
/// last agent after `--forget-visitors-after-secs`; an open conversation is kept.
#[test]
fn r_hs1_finished_conversations_and_visitors_are_forgotten_after_the_configured_age() {
    let dir = scratch("forget");
    let db = dir.join("desk.db");
    let service = Service::start(
        &db,
        &[
            "--forget-after-secs",
            "1",
            "--forget-visitors-after-secs",
            "2",
        ],
    );
    setup(&service);
    serve_and_end(&service, "done", 3);
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "open", "visitor": "v-open", "group": "support"}"#,
    );
    assert_eq!(service.get("/conversations/done-0").status, 200);

    wait_for(
        Duration::from_secs(30),
        "the finished ones to be forgotten",
        || {
            (0..3)
                .all(|i| service.get(&format!("/conversations/done-{i}")).status == 404)
                .then_some(())
        },
    );
    wait_for(
        Duration::from_secs(30),
        "their visitors to be forgotten",
        || (count_events(&db, "VisitorForgotten") == 3).then_some(()),
    );
    assert_eq!(count_events(&db, "ConversationForgotten"), 3);
    let open = service.get("/conversations/open");
    assert_eq!(open.status, 200, "an open conversation is kept");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The newest snapshot file's size, once one newer than `after` exists.
fn snapshot_after(db: &Path, after: u64) -> (u64, u64) {
    let dir = db.with_file_name("desk.db.snapshots");
    wait_for(Duration::from_secs(30), "a new snapshot", || {
        std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let seq: u64 = name
                    .strip_prefix("snapshot-")?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                Some((seq, entry.metadata().ok()?.len()))
            })
            .filter(|(seq, _)| *seq > after)
            .max()
    })
}

/// R-HS1: with retention, a snapshot costs the live desk, not its history: after three times
/// the traffic, a snapshot is no larger than after the first round (give or take the ids'
/// lengths), and the journal keeps only what the snapshots do not cover.
#[test]
fn r_hs1_snapshots_stay_the_size_of_the_live_desk() {
    let dir = scratch("bounded");
    let db = dir.join("desk.db");
    let service = Service::start(
        &db,
        &[
            "--forget-after-secs",
            "1",
            "--forget-visitors-after-secs",
            "1",
            "--snapshot-every",
            "20",
        ],
    );
    setup(&service);
    let mut stream = EventStream::open(&service);
    let mut forgotten = 0;
    let mut sizes = Vec::new();
    let mut last = 0;
    for round in 0..3 {
        serve_and_end(&service, &format!("r{round}"), 60);
        // The journal is compacted as it goes: count on the event stream.
        while forgotten < 60 * (round + 1) {
            let entry = stream.next_entry();
            forgotten += entry["events"]
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["type"] == "VisitorForgotten")
                .count();
        }
        // One more entry, so that a snapshot after the forgetting is taken.
        for i in 0..20 {
            service.ok(
                "PUT",
                "/agents/ana/status",
                if i % 2 == 0 {
                    r#"{"status": "Busy"}"#
                } else {
                    r#"{"status": "Online"}"#
                },
            );
        }
        let (seq, size) = snapshot_after(&db, last.max(1));
        last = seq;
        sizes.push(size);
    }
    assert!(
        sizes[2] <= sizes[0] + sizes[0] / 10,
        "snapshot sizes grew with history: {sizes:?}"
    );
    let conn = Connection::open(&db).expect("the database opens");
    let (first, rows): (u64, u64) = conn
        .query_row("SELECT MIN(seq), COUNT(*) FROM journal", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("the journal can be read");
    assert!(first > 1, "the journal was compacted");
    assert!(rows < 300, "{rows} journal entries kept");
    let _ = std::fs::remove_dir_all(&dir);
}

/// R-HS1: `--journal archive` writes the entries recovery no longer needs to JSON-lines files,
/// contiguous with what the journal still holds, before deleting them.
#[test]
fn r_hs1_the_journal_is_archived_before_it_is_compacted() {
    let dir = scratch("archive");
    let db = dir.join("desk.db");
    let service = Service::start(&db, &["--journal", "archive", "--snapshot-every", "10"]);
    setup(&service);
    let archive = db.with_file_name("desk.db.archive");
    let mut round = 0;
    let first = wait_for(
        Duration::from_secs(30),
        "an archive and a compaction",
        || {
            round += 1;
            serve_and_end(&service, &format!("a{round}"), 10);
            let conn = Connection::open(&db).expect("the database opens");
            let first: u64 = conn
                .query_row("SELECT MIN(seq) FROM journal", [], |r| r.get(0))
                .expect("the journal can be read");
            (first > 1).then_some(first)
        },
    );
    let mut lines: Vec<serde_json::Value> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&archive)
        .expect("the archive folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(file).expect("readable");
        lines.extend(
            text.lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line")),
        );
    }
    let seqs: Vec<u64> = lines
        .iter()
        .map(|l| l["seq"].as_u64().expect("a seq"))
        .collect();
    // Archived first, deleted a few hundred entries per commit after: the archive reaches at
    // least where the journal now starts, without a gap.
    assert!(
        seqs.len() as u64 >= first - 1,
        "{seqs:?} vs journal from {first}"
    );
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the archive holds every entry from 1, in order"
    );
    assert_eq!(lines[0]["command"]["type"], "RegisterGroup");
    assert_eq!(lines[0]["events"][0]["type"], "GroupRegistered");
    let _ = std::fs::remove_dir_all(&dir);
}
