//! Operable (R-HS4): probes, Prometheus metrics, the OpenAPI document of every route, and a
//! shutdown that finishes the requests in flight.

mod host;

use std::time::Duration;

use host::{Service, raw_status, scratch, wait_for};
use serde_json::{Value, json};

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// R-HS4: `/healthz` and `/readyz` answer anyone (an orchestrator calls them by address, with
/// no token); `/metrics` reports queues, waits, agents, the service level, commands and
/// commit latency.
#[test]
fn r_hs4_probes_and_metrics() {
    let dir = scratch("metrics");
    let token = "ops-token-0123456789abcdef";
    let service = Service::launch(
        &dir.join("desk.db"),
        &host::Launch {
            token: Some(token),
            ..host::Launch::default()
        },
    );
    for path in ["/healthz", "/readyz"] {
        let reply = host::request(&service.addr, "GET", path, None).expect("an answer");
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let raw =
            format!("GET {path} HTTP/1.1\r\nHost: 10.1.2.3:8080\r\nConnection: close\r\n\r\n");
        assert_eq!(raw_status(&service.addr, &raw), 200, "{path} by address");
    }
    assert_eq!(service.get("/readyz").json()["status"], "ready");
    let unauthorized = host::request(&service.addr, "GET", "/metrics", None).expect("an answer");
    assert_eq!(unauthorized.status, 401);

    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "ana", "status": "Online", "limit": {"type": "Fixed", "limit": 1}, "groups": [{"group": "support"}]}"#,
    );
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "bo", "groups": [{"group": "support"}]}"#,
    );
    for i in 0..3 {
        service.ok(
            "POST",
            "/visitors",
            &json!({"conversation": format!("c{i}"), "visitor": format!("v{i}"), "group": "support"})
                .to_string(),
        );
    }
    let refused = service.post(
        "/visitors",
        r#"{"conversation": "c0", "visitor": "v", "group": "support"}"#,
    );
    assert_eq!(refused.status, 409);

    let reply = service.get("/metrics");
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain"))
    );
    let text = reply.body;
    assert_eq!(
        metric(&text, r#"switchboard_queue_length{group="support"}"#),
        Some(2.0)
    );
    assert!(
        metric(
            &text,
            r#"switchboard_longest_wait_seconds{group="support"}"#
        )
        .is_some()
    );
    assert_eq!(
        metric(&text, r#"switchboard_agents{status="Online"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, r#"switchboard_agents{status="Offline"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, r#"switchboard_commands_total{outcome="accepted"}"#),
        Some(6.0)
    );
    assert_eq!(
        metric(&text, r#"switchboard_commands_total{outcome="refused"}"#),
        Some(1.0)
    );
    assert!(metric(&text, "switchboard_commit_seconds_count").is_some_and(|n| n >= 1.0));
    // c0 was answered at once: one wait ended, within target.
    assert_eq!(
        metric(&text, r#"switchboard_service_level_ratio{window="today"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, r#"switchboard_waits_ended{window="30m"}"#),
        Some(1.0)
    );
    assert_eq!(metric(&text, "switchboard_journal_seq"), Some(6.0));
    assert_eq!(metric(&text, "switchboard_read_model_seq"), Some(6.0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// R-HS4: `/openapi.json` documents every route the service serves, and the example body of
/// a command route is one the service accepts.
#[test]
fn r_hs4_the_openapi_document_covers_every_route() {
    let dir = scratch("openapi");
    let service = Service::start(&dir.join("desk.db"), &[]);
    let document = service.get("/openapi.json").json();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    let paths = document["paths"].as_object().expect("paths");
    let expected = [
        ("get", "/"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/events"),
        ("get", "/state"),
        ("get", "/wallboard"),
        ("get", "/snapshot"),
        ("get", "/pool"),
        ("get", "/snoozed"),
        ("get", "/agents"),
        ("get", "/agents/{agent}"),
        ("get", "/groups"),
        ("get", "/groups/{group}/queue"),
        ("get", "/conversations/{conversation}"),
        ("post", "/commands"),
        ("post", "/agents"),
        ("post", "/groups"),
        ("put", "/agents/{agent}/status"),
        ("post", "/visitors"),
        ("post", "/conversations/{conversation}/leave"),
        ("post", "/conversations/{conversation}/leave-message"),
        ("post", "/conversations/{conversation}/messages"),
        ("post", "/conversations/{conversation}/transfer"),
        ("post", "/conversations/{conversation}/accept"),
        ("post", "/conversations/{conversation}/decline"),
        ("post", "/assign"),
        ("post", "/end"),
        ("post", "/snooze"),
        ("post", "/claim"),
        ("put", "/mode"),
        ("put", "/config"),
    ];
    for (method, path) in expected {
        assert!(
            paths
                .get(path)
                .is_some_and(|item| item.get(method).is_some()),
            "{method} {path} is not documented"
        );
    }
    for schema in [
        "Answer",
        "Problem",
        "DeskState",
        "QueueEntry",
        "Ready",
        "Wallboard",
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
    // The examples are the engine's wire format: sent as they are, they are accepted.
    let body = |method: &str, path: &str| -> Value {
        paths[path][method]["requestBody"]["content"]["application/json"]["example"].clone()
    };
    for (method, path) in [
        ("post", "/groups"),
        ("post", "/agents"),
        ("post", "/visitors"),
    ] {
        let example = body(method, path);
        assert!(example.is_object(), "{path} has an example");
        service.ok("POST", path, &example.to_string());
    }
    let ana = service.get("/agents/ana").json();
    assert_eq!(ana["conversations"], json!(["c1"]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// R-HS4: SIGTERM stops taking new connections but finishes the request in flight: its
/// command is answered and journaled, and the process exits cleanly.
#[test]
fn r_hs4_shutdown_finishes_the_requests_in_flight() {
    let dir = scratch("shutdown");
    let db = dir.join("desk.db");
    // A slow disk keeps the command in flight long enough to stop the service under it.
    let service = Service::start(&db, &["--commit-delay-ms", "1500"]);
    let addr = service.addr.clone();
    let sent = std::thread::spawn(move || {
        host::request(&addr, "POST", "/groups", Some(r#"{"group": "support"}"#))
    });
    wait_for(
        Duration::from_secs(30),
        "the command to be in flight",
        || {
            let text = service.get("/metrics").body;
            // The scrape itself is one request in flight.
            (metric(&text, "switchboard_requests_in_flight").is_some_and(|n| n >= 2.0))
                .then_some(())
        },
    );
    let status = service.terminate();
    let reply = sent
        .join()
        .expect("the client does not panic")
        .expect("the command is answered");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(status.success(), "the service exits cleanly: {status:?}");
    let service = Service::start(&db, &[]);
    assert_eq!(service.get("/groups").json()[0]["id"], "support");
    let _ = std::fs::remove_dir_all(&dir);
}
