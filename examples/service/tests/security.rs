//! Safe by default (R-HS2): idle and slow connections cannot keep a real client out; requests
//! from foreign pages, for foreign host names, without the token, or with a body that is not
//! JSON are refused before they reach the writer, so nothing is journaled for them.

mod host;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use host::{Launch, Service, raw_status, request_with, scratch};
use rusqlite::Connection;
use serde_json::json;

fn journaled(db: &std::path::Path) -> u64 {
    let conn = Connection::open(db).expect("the database opens");
    conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
        r.get(0)
    })
    .expect("the journal can be read")
}

/// R-HS2: 1,100 connections that send nothing, or half a request head, under a file limit of
/// 1,024 in the service, do not stop a real request: past the connection cap the idlest
/// connection is closed to make room. The header timeout is set long here, so that only the
/// cap can let the request in.
#[test]
fn r_hs2_idle_connections_do_not_keep_a_real_request_out() {
    const IDLE: usize = 1100;
    let available = host::raise_descriptor_limit(IDLE as u64 + 200);
    assert!(
        available >= IDLE as u64 + 100,
        "this test needs {} file descriptors; the hard limit allows {available}",
        IDLE + 100
    );
    let dir = scratch("idle");
    let service = Service::launch(
        &dir.join("desk.db"),
        &Launch {
            descriptor_limit: Some(1024),
            args: &["--header-timeout-secs", "600"],
            ..Launch::default()
        },
    );
    service.ok("POST", "/groups", r#"{"group": "support"}"#);

    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        let mut stream = TcpStream::connect(&service.addr).expect("the kernel accepts");
        if i % 2 == 1 {
            // A slow client: half a request head, never finished.
            let _ = stream.write_all(b"POST /agents HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        }
        idle.push(stream);
    }

    // The real client is served while all of those are still open on its side.
    let reply = service.post(
        "/agents",
        r#"{"agent": "ana", "groups": [{"group": "support"}]}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = service.get("/agents/ana");
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(idle);
    let _ = std::fs::remove_dir_all(&dir);
}

/// R-HS2: a connection that does not finish its request head within the header timeout is
/// closed.
#[test]
fn r_hs2_a_slow_request_head_is_cut_off() {
    let dir = scratch("slow-head");
    let service = Service::start(&dir.join("desk.db"), &["--header-timeout-secs", "1"]);
    let mut slow = TcpStream::connect(&service.addr).expect("the service accepts");
    slow.write_all(b"GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("half a head is sent");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout can be set");
    let mut answer = Vec::new();
    let closed = slow.read_to_end(&mut answer);
    assert!(
        closed.is_ok(),
        "the connection was still open after 30 s: {closed:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request and the status it must get: method, path, body, headers, status.
type Refusal<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    u16,
);

const TOKEN: &str = "test-token-0123456789abcdef";

/// R-HS2: cross-origin pages (another site, a `file://` page), a DNS-rebinding host name,
/// requests without the token or with a wrong one, and bodies that are not JSON are all
/// refused, and the journal does not move.
#[test]
fn r_hs2_foreign_pages_hosts_and_missing_tokens_are_refused_and_nothing_is_journaled() {
    let dir = scratch("refusals");
    let db = dir.join("desk.db");
    let service = Service::launch(
        &db,
        &Launch {
            token: Some(TOKEN),
            args: &["--max-body-bytes", "4096"],
            ..Launch::default()
        },
    );
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "ana", "groups": [{"group": "support"}]}"#,
    );
    let before = journaled(&db);
    let bearer = format!("Bearer {TOKEN}");
    let remove = r#"{"type": "RemoveAgent", "agent": "ana"}"#;
    let port = service.addr.rsplit(':').next().expect("a port").to_owned();

    let refusals: Vec<Refusal> = vec![
        // No token, a wrong one, a token in the query of a command.
        ("POST", "/commands", Some(remove), vec![], 401),
        (
            "POST",
            "/commands",
            Some(remove),
            vec![("Authorization", "Bearer nope")],
            401,
        ),
        (
            "POST",
            "/commands?token=test-token-0123456789abcdef",
            Some(remove),
            vec![],
            401,
        ),
        ("GET", "/", None, vec![], 401),
        ("GET", "/events", None, vec![], 401),
        ("GET", "/snapshot", None, vec![], 401),
        ("GET", "/state", None, vec![], 401),
        // The token in a cookie admits the page's reads, never a command.
        (
            "POST",
            "/commands",
            Some(remove),
            vec![("Cookie", "switchboard_token=test-token-0123456789abcdef")],
            401,
        ),
        // A page on another site, and a file:// page (Origin: null), even with the token.
        (
            "POST",
            "/commands",
            Some(remove),
            vec![
                ("Authorization", &bearer),
                ("Origin", "http://evil.example"),
            ],
            403,
        ),
        (
            "POST",
            "/commands",
            Some(remove),
            vec![("Authorization", &bearer), ("Origin", "null")],
            403,
        ),
        (
            "GET",
            "/snapshot",
            None,
            vec![
                ("Authorization", &bearer),
                ("Origin", "http://evil.example"),
            ],
            403,
        ),
        // Not JSON: a form post, plain text.
        (
            "POST",
            "/commands",
            Some("type=RemoveAgent&agent=ana"),
            vec![
                ("Authorization", &bearer),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            415,
        ),
        (
            "POST",
            "/commands",
            Some(remove),
            vec![("Authorization", &bearer), ("Content-Type", "text/plain")],
            415,
        ),
    ];
    for (method, path, body, headers, status) in &refusals {
        let reply = request_with(&service.addr, method, path, *body, headers).expect("an answer");
        assert_eq!(
            reply.status, *status,
            "{method} {path} {headers:?}: {}",
            reply.body
        );
        assert!(!reply.error().is_empty());
    }
    // Too large a body.
    let big = json!({ "type": "RemoveAgent", "agent": "a".repeat(5000) }).to_string();
    let reply = service.post("/commands", &big);
    assert_eq!(reply.status, 413, "{}", reply.body);

    // DNS rebinding: the page's own host name in `Host`, even with the token.
    for (method, path) in [("GET", "/snapshot"), ("POST", "/commands")] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: evil.example:{port}\r\nAuthorization: {bearer}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{remove}",
            remove.len()
        );
        assert_eq!(raw_status(&service.addr, &request), 421, "{method} {path}");
    }

    assert_eq!(journaled(&db), before, "a refused request was journaled");
    assert_eq!(service.get("/agents/ana").status, 200, "ana is still there");

    // What is allowed: the page's own origin with the token; the page itself through
    // `/?token=`, which sets the cookie, and then with the cookie.
    let origin = format!("http://{}", service.addr);
    let reply = request_with(
        &service.addr,
        "POST",
        "/commands",
        Some(r#"{"type": "AgentStatusChanged", "agent": "ana", "status": "Online"}"#),
        &[("Authorization", &bearer), ("Origin", &origin)],
    )
    .expect("an answer");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = request_with(&service.addr, "GET", &format!("/?token={TOKEN}"), None, &[])
        .expect("an answer");
    assert_eq!(reply.status, 303, "{}", reply.body);
    let cookie = reply
        .header("set-cookie")
        .expect("the token cookie is set")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().expect("name=value").to_owned();
    let reply =
        request_with(&service.addr, "GET", "/", None, &[("Cookie", &pair)]).expect("an answer");
    assert_eq!(reply.status, 200);
    assert_eq!(journaled(&db), before + 1);
    let _ = std::fs::remove_dir_all(&dir);
}
