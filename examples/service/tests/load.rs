//! A bounded load test on loopback (R-HS1): 32 clients, each over its own keep-alive
//! connection, alternate `VisitorArrives` and `EndConversations` against a desk of 200 agents,
//! with snapshots, compaction and retention on, for `SWITCHBOARD_LOAD_SECS` seconds (20 by
//! default, as CI runs it; 600 for the full run recorded in docs/HOST.md).
//!
//! It prints the acknowledged rate and the latency percentiles per window (per minute in a
//! run of two minutes or more, per 10 s otherwise) and checks that nothing went wrong: every
//! answer was 200, every acknowledged entry is in the journal or behind a snapshot, and the
//! service restarts from what it wrote. It asserts nothing about speed: figures are for
//! reading, on a machine whose load the test does not control.
//!
//! ```sh
//! SWITCHBOARD_LOAD_SECS=600 cargo test --release -p switchboard-service --test load -- --nocapture
//! ```

mod host;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use host::{Service, scratch};
use rusqlite::Connection;
use serde_json::json;

const CLIENTS: usize = 32;
const AGENTS: usize = 200;

/// One acknowledged command: when it was answered (since the start), how long it took.
struct Sample {
    at: Duration,
    took: Duration,
    seq: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[test]
fn r_hs1_load_32_clients_with_snapshots_on() {
    let seconds: u64 = std::env::var("SWITCHBOARD_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = scratch("load");
    let db = dir.join("desk.db");
    let args = [
        "--snapshot-every",
        "10000",
        "--forget-after-secs",
        "10",
        "--forget-visitors-after-secs",
        "10",
        "--log",
        "warn",
    ];
    let service = Service::start(&db, &args);
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    for i in 0..AGENTS {
        service.ok(
            "POST",
            "/agents",
            &json!({"agent": format!("a{i}"), "status": "Online", "limit": {"type": "Fixed", "limit": 4},
                    "groups": [{"group": "support"}]})
            .to_string(),
        );
    }

    let start = Instant::now();
    let deadline = Duration::from_secs(seconds);
    let failed = AtomicBool::new(false);
    let samples: Vec<Sample> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let addr = service.addr.clone();
                let failed = &failed;
                scope.spawn(move || {
                    // A connection of its own, kept alive.
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .max_idle_connections_per_host(1)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                        .into();
                    let mut samples = Vec::new();
                    let mut i = 0u64;
                    while start.elapsed() < deadline && !failed.load(Ordering::Relaxed) {
                        let id = format!("c{client}-{i}");
                        i += 1;
                        let sends = [
                            (
                                "/visitors",
                                json!({"conversation": id, "visitor": format!("v{client}-{i}"), "group": "support"}),
                            ),
                            ("/end", json!({"conversations": [id], "reason": "Agent"})),
                        ];
                        for (path, body) in sends {
                            let sent = Instant::now();
                            let reply = agent
                                .post(&format!("http://{addr}{path}"))
                                .header("Content-Type", "application/json")
                                .send(body.to_string());
                            let mut reply = match reply {
                                Ok(reply) => reply,
                                Err(e) => {
                                    failed.store(true, Ordering::Relaxed);
                                    panic!("{path}: {e}");
                                }
                            };
                            let text = reply.body_mut().read_to_string().expect("a body");
                            if reply.status() != 200 {
                                failed.store(true, Ordering::Relaxed);
                                panic!("{path}: {} {text}", reply.status());
                            }
                            let seq = serde_json::from_str::<serde_json::Value>(&text)
                                .expect("JSON")["seq"]
                                .as_u64()
                                .expect("a seq");
                            samples.push(Sample {
                                at: start.elapsed(),
                                took: sent.elapsed(),
                                seq,
                            });
                        }
                    }
                    samples
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("no client failed"))
            .collect()
    });
    assert!(!samples.is_empty());

    // The figures, per window.
    let window = if seconds >= 120 { 60 } else { 10 };
    let windows = seconds.div_ceil(window) as usize;
    let mut by_window: Vec<Vec<Duration>> = vec![Vec::new(); windows];
    for s in &samples {
        let w = (s.at.as_secs() / window) as usize;
        if w < windows {
            by_window[w].push(s.took);
        }
    }
    println!(
        "load: {CLIENTS} clients, {seconds} s, {} acknowledged, snapshots every 10,000 entries",
        samples.len()
    );
    println!("window        ack/s    p50 ms   p99 ms   max ms");
    for (w, took) in by_window.iter_mut().enumerate() {
        took.sort_unstable();
        let span = window.min(seconds - w as u64 * window).max(1);
        println!(
            "{:>4}-{:<4}s {:>8.0} {:>9.2} {:>8.2} {:>8.2}",
            w as u64 * window,
            w as u64 * window + span,
            took.len() as f64 / span as f64,
            percentile(took, 50.0).as_secs_f64() * 1e3,
            percentile(took, 99.0).as_secs_f64() * 1e3,
            took.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    let mut all: Vec<Duration> = samples.iter().map(|s| s.took).collect();
    all.sort_unstable();
    println!(
        "overall: {:.0} ack/s, p50 {:.2} ms, p99 {:.2} ms",
        samples.len() as f64 / seconds as f64,
        percentile(&all, 50.0).as_secs_f64() * 1e3,
        percentile(&all, 99.0).as_secs_f64() * 1e3
    );

    // Nothing acknowledged is missing: the journal reaches the last acknowledged entry, and
    // what was compacted is behind a snapshot.
    let metrics = service.get("/metrics").body;
    let last = samples.iter().map(|s| s.seq).max().unwrap_or(0);
    let conn = Connection::open(&db).expect("the database opens");
    let (first, end): (u64, u64) = conn
        .query_row("SELECT MIN(seq), MAX(seq) FROM journal", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("the journal can be read");
    drop(conn);
    assert!(end >= last, "the journal ends at {end}, before {last}");
    println!(
        "journal: entries {first}..={end} kept; {}",
        metrics
            .lines()
            .filter(|l| l.starts_with("switchboard_snapshot_seq ")
                || l.starts_with("switchboard_conversations_known "))
            .collect::<Vec<_>>()
            .join("; ")
    );
    service.kill();
    let restarted = Instant::now();
    let service = Service::start(&db, &args);
    println!(
        "restart after kill -9: listening after {:.2} s",
        restarted.elapsed().as_secs_f64()
    );
    let state = service.get("/state").json();
    assert!(state["seq"].as_u64().expect("a seq") >= last);
    let _ = std::fs::remove_dir_all(&dir);
}
