//! Many desks in one process on one SQLite file, no server (`--desks`): each desk its own
//! engine, addressed by its id; an unknown desk refused; a desk created twice keeps its
//! config; after a kill -9 the restarted process claims every desk again and continues each
//! from its journal.
//!
//! SPEC: R-DS1 (many desks per process, each its own engine), R-DS2 (the SQLite journal behind
//! the same trait as PostgreSQL's).

mod host;

use std::time::Duration;

use host::{Service, scratch, wait_for};
use serde_json::{Value, json};

fn start(db: &std::path::Path) -> Service {
    Service::start(db, &["--desks", "--lease-ms", "500"])
}

/// Sends a command once the process writes for `desk`.
fn command(service: &Service, desk: &str, path: &str, body: Value) -> Value {
    let path = format!("/desks/{desk}{path}");
    wait_for(Duration::from_secs(30), "the desk to be served", || {
        let reply = service.post(&path, &body.to_string());
        match reply.status {
            200 => Some(reply.json()),
            // Not claimed yet, or still held by the killed process until its lease runs out.
            503 | 307 => None,
            other => panic!("{path}: {other} {}", reply.body),
        }
    })
}

fn arrived(service: &Service, desk: &str) -> Value {
    let reply = service.get(&format!("/desks/{desk}/state"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["counters"]["arrived"].clone()
}

#[test]
fn r_ds1_one_process_serves_many_desks_from_one_sqlite_file_and_recovers_them() {
    let dir = scratch("desks");
    let db = dir.join("desks.db");
    let service = start(&db);
    let desks = ["north", "south", "west"];
    for desk in desks {
        let reply = service.put(&format!("/desks/{desk}"), "{}");
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    // A desk created twice keeps its config; an unknown desk is refused, its routes too.
    let again = service.put("/desks/north", r#"{"mode": "Asynchronous"}"#);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["created"], json!(false));
    let unknown = service.post(
        "/desks/east/visitors",
        r#"{"conversation": "c", "visitor": "v", "group": "support"}"#,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(service.get("/desks/east/state").status, 404);

    // Each desk its own engine: the same ids in each, a different number of arrivals.
    for (n, desk) in desks.into_iter().enumerate() {
        command(&service, desk, "/groups", json!({ "group": "support" }));
        for i in 0..=n {
            let answer = command(
                &service,
                desk,
                "/visitors",
                json!({ "conversation": format!("c{i}"), "visitor": format!("v{i}"), "group": "support" }),
            );
            assert_eq!(answer["seq"], json!(i + 2), "{desk}: {answer}");
        }
        assert_eq!(arrived(&service, desk), json!(n + 1), "{desk}");
    }
    let listed = service.get("/desks").json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["here"] == json!(true))
    );

    // kill -9, restart on the same file: every desk is claimed again once the dead process's
    // lease runs out, and continues where its journal ends.
    service.kill();
    let service = start(&db);
    for (n, desk) in desks.into_iter().enumerate() {
        let answer = command(
            &service,
            desk,
            "/visitors",
            json!({ "conversation": "late", "visitor": "late", "group": "support" }),
        );
        assert_eq!(answer["seq"], json!(n + 3), "{desk}: {answer}");
        assert_eq!(arrived(&service, desk), json!(n + 2), "{desk}");
        let known = service.get(&format!("/desks/{desk}/conversations/c0"));
        assert_eq!(known.status, 200, "{desk}: {}", known.body);
    }
}
