//! The wallboard in a real browser (R-HS5): headless Chromium (Debian's `chromium`, driven by
//! `chromedriver` through fantoccini) loads the page from the service, the test sends commands
//! over HTTP, and the page must show their effects as the event stream reports them: the
//! service level today and over 30 minutes (checked against the engine's own views of the
//! conversations), the longest wait per group ticking live and turning amber then red, agents'
//! time in status, the queue, the pool, snoozes and who is on shift. A page of another origin
//! (`file://`) cannot change the desk (R-HS2). Without the browser the test says so and skips,
//! unless `SWITCHBOARD_REQUIRE_BROWSER` is set; `.ci/run` installs the browser and sets it.
//! With `SWITCHBOARD_SCREENSHOT=path.png` it saves a screenshot of the wallboard there.

mod host;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
use chrono::{NaiveTime, TimeDelta, Timelike};
use fantoccini::{Client, ClientBuilder};
use host::{Service, free_port, scratch, wait_for, wall};
use serde_json::{Value, json};
use switchboard::{
    AgentSpec, Command as EngineCommand, ConversationState, ConversationView, ScheduleSpec,
    WeeklyRange,
};

/// What the page shows, read from its DOM.
const READ_PAGE: &str = r##"
const text = (el) => el ? el.textContent.trim() : null;
const ids = (list) => [...document.querySelectorAll(list + " [data-conversation]")].map((li) => li.dataset.conversation);
const level = (id) => { const el = document.getElementById(id);
  return { text: text(el), within: el.dataset.within, ended: el.dataset.ended }; };
return {
  conn: text(document.getElementById("conn")),
  mode: text(document.getElementById("mode")),
  today: level("sl-today"),
  recent: level("sl-recent"),
  waiting: text(document.getElementById("waiting")),
  groups: Object.fromEntries([...document.querySelectorAll("#groups [data-group]")].map((row) => [row.dataset.group, {
    waiting: text(row.querySelector(".waiting")),
    longest: text(row.querySelector(".longest")),
    longest_class: row.querySelector(".longest")?.className ?? null,
    online: text(row.querySelector(".online")),
  }])),
  agents: Object.fromEntries([...document.querySelectorAll("#agents [data-agent]")].map((row) => [row.dataset.agent, {
    status: text(row.querySelector(".status")),
    since: text(row.querySelector(".since")),
    duty: text(row.querySelector(".duty")),
    load: text(row.querySelector(".load")),
    kinds: text(row.querySelector(".kinds")),
    skills: text(row.querySelector(".skills")),
    conversations: text(row.querySelector(".conversations")),
  }])),
  queues: Object.fromEntries([...document.querySelectorAll("#queues [data-queue]")].map((q) =>
    [q.dataset.queue, [...q.querySelectorAll("[data-conversation]")].map((li) => li.dataset.conversation)])),
  stages: Object.fromEntries([...document.querySelectorAll("#queues [data-conversation], #pool [data-conversation]")]
    .map((li) => [li.dataset.conversation, text(li.querySelector(".stage"))])),
  pool: ids("#pool"),
  snoozed: ids("#snoozed"),
  feed: [...document.querySelectorAll("#feed [data-event]")].map((li) => li.textContent),
};
"##;

fn find(variable: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// chromedriver on a loopback port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(chromedriver: &Path, log: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr = format!("127.0.0.1:{port}");
        wait_for(Duration::from_secs(30), "chromedriver to be ready", || {
            let reply = host::request(&addr, "GET", "/status", None).ok()?;
            (reply.json()["value"]["ready"] == json!(true)).then_some(())
        });
        Driver {
            child,
            url: format!("http://{addr}"),
        }
    }
}

/// One browser session: headless Chromium started as this machine needs it, driven through
/// fantoccini on a runtime of its own (the rest of the test is plain threads).
struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
}

impl Browser {
    fn open(driver: &Driver, chromium: &Path, profile: &Path) -> Browser {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal");
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = runtime
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&driver.url),
            )
            .expect("a browser session");
        Browser {
            runtime,
            client: Some(client),
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    fn visit(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("the browser opens {url}: {e}"));
    }

    fn run(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|e| panic!("the script runs: {e}"))
    }

    fn read(&self) -> Value {
        self.run(READ_PAGE)
    }

    fn screenshot(&self, path: &Path) {
        let png = self
            .runtime
            .block_on(self.client().screenshot())
            .expect("a screenshot");
        std::fs::write(path, png).expect("the screenshot is written");
    }

    /// Waits until the page shows what `check` wants; on timeout, fails with what it shows.
    fn until(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_for(Duration::from_secs(20), what, || {
                last = self.read();
                check(&last).then(|| last.clone())
            })
        }));
        found.unwrap_or_else(|_| panic!("the page never showed {what}; it shows {last:#}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
    }
}

/// The engine's own account of the service level: of the conversations whose wait ended,
/// how many were answered within `target` (from each conversation's view, as the service
/// sends it, read back as the engine's own `ConversationView`).
fn engine_service_level(service: &Service, ids: &[&str], target: Duration) -> (u64, u64) {
    let (mut within, mut ended) = (0, 0);
    for id in ids {
        let json = service.get(&format!("/conversations/{id}")).json();
        let view: ConversationView =
            serde_json::from_value(json).expect("the service sends the engine's view");
        let waiting = matches!(
            view.state,
            ConversationState::Queued
                | ConversationState::Pooled
                | ConversationState::Offered { .. }
        );
        if waiting {
            continue;
        }
        ended += 1;
        let answered = match &view.state {
            ConversationState::Active { .. } | ConversationState::Snoozed { .. } => true,
            ConversationState::Ended { agent, .. } => agent.is_some(),
            _ => false,
        };
        // The wait has ended, so `waited` does not depend on the clock it is given.
        let waited = view.waited(view.arrived_at);
        within += u64::from(answered && waited <= target);
    }
    (within, ended)
}

#[test]
fn the_wallboard_follows_the_desk_live() {
    let (Some(chromium), Some(chromedriver)) = (
        find("CHROMIUM", "chromium"),
        find("CHROMEDRIVER", "chromedriver"),
    ) else {
        assert!(
            std::env::var_os("SWITCHBOARD_REQUIRE_BROWSER").is_none(),
            "SWITCHBOARD_REQUIRE_BROWSER is set, but chromium or chromedriver is missing"
        );
        eprintln!(
            "SKIPPED the_wallboard_follows_the_desk_live: no chromium or chromedriver \
             (install Debian's chromium and chromium-driver, as .ci/run does, or set CHROMIUM \
             and CHROMEDRIVER)"
        );
        return;
    };
    let dir = scratch("monitor");
    let target = Duration::from_secs(2);
    let service = Service::start(
        &dir.join("desk.db"),
        &[
            "--service-level-secs",
            "2",
            "--wait-amber-secs",
            "1",
            "--wait-red-secs",
            "3",
        ],
    );
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "ana", "limit": {"type": "Fixed", "limit": 1}, "groups": [{"group": "support"}]}"#,
    );
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "bo", "limit": {"type": "Fixed", "limit": 2}, "groups": [{"group": "support"}]}"#,
    );

    let driver = Driver::start(&chromedriver, &dir.join("chromedriver.log"));
    let browser = Browser::open(&driver, &chromium, &dir.join("profile"));
    browser.visit(&service.url("/"));
    browser.until("the desk as it was, connected", |page| {
        page["conn"] == "live"
            && page["agents"]["ana"]["status"] == "Offline"
            && page["agents"]["bo"]["load"] == "0/2"
            && page["today"]["text"] == "–"
    });

    // Ana comes online and takes the first visitor; the second waits in the queue.
    service.ok("PUT", "/agents/ana/status", r#"{"status": "Online"}"#);
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "c1", "visitor": "v1", "group": "support"}"#,
    );
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "c2", "visitor": "v2", "group": "support"}"#,
    );
    let page = browser.until("ana serving c1 and c2 queued", |page| {
        page["agents"]["ana"]["status"] == "Online"
            && page["agents"]["ana"]["load"] == "1/1"
            && page["agents"]["ana"]["conversations"] == "c1"
            && page["queues"]["support"] == json!(["c2"])
            && page["groups"]["support"]["waiting"] == "1"
            && page["groups"]["support"]["online"] == "1 of 2"
    });
    let feed = page["feed"].to_string();
    assert!(
        feed.contains("ConversationAssigned c1 → ana"),
        "the event feed: {feed}"
    );
    assert!(
        feed.contains("ConversationQueued c2"),
        "the event feed: {feed}"
    );
    // c1 was answered at once: 100% today, 1 of 1.
    browser.until("the service level after c1", |page| {
        page["today"]["text"] == "100.0%"
            && page["today"]["within"] == "1"
            && page["today"]["ended"] == "1"
            && page["recent"]["text"] == "100.0%"
    });
    // c2's wait ticks up in the browser between refreshes, amber past 1 s, red past 3 s.
    let first = browser.read()["groups"]["support"]["longest"].clone();
    browser.until("the longest wait ticking", |page| {
        page["groups"]["support"]["longest"] != first
    });
    browser.until("the longest wait red", |page| {
        page["groups"]["support"]["longest_class"]
            .as_str()
            .is_some_and(|c| c.contains("red"))
    });
    let page = browser.read();
    assert!(
        page["agents"]["ana"]["since"]
            .as_str()
            .is_some_and(|s| s.contains(':')),
        "ana's time in status: {}",
        page["agents"]["ana"]["since"]
    );

    // Bo goes busy; asynchronous reception for online agents only: the queue becomes the
    // pool, and ana parks c1 for an hour.
    service.ok("PUT", "/agents/bo/status", r#"{"status": "Busy"}"#);
    let config = r#"{"mode": "Asynchronous", "allocation_target": "OnlineOnly"}"#;
    service.ok("PUT", "/config", config);
    let until = wall() + TimeDelta::hours(1);
    service.ok(
        "POST",
        "/snooze",
        &json!({ "conversations": ["c1"], "until": until }).to_string(),
    );
    browser.until("c2 pooled, c1 snoozed, bo busy", |page| {
        page["mode"] == "Asynchronous"
            && page["pool"] == json!(["c2"])
            && page["snoozed"] == json!(["c1"])
            && page["agents"]["bo"]["status"] == "Busy"
    });

    // Bo comes back and takes c2 from the pool, long after the target: 1 of 2 within it.
    service.ok("PUT", "/agents/bo/status", r#"{"status": "Online"}"#);
    let page = browser.until("bo serving c2 and the pool empty", |page| {
        page["pool"] == json!([])
            && page["agents"]["bo"]["load"] == "1/2"
            && page["agents"]["bo"]["conversations"] == "c2"
            && page["today"]["ended"] == "2"
    });
    let (within, ended) = engine_service_level(&service, &["c1", "c2"], target);
    assert_eq!((within, ended), (1, 2), "the engine's own account");
    assert_eq!(page["today"]["within"], json!(within.to_string()));
    assert_eq!(page["today"]["ended"], json!(ended.to_string()));
    assert_eq!(page["today"]["text"], "50.0%");
    assert_eq!(page["recent"]["text"], "50.0%");
    let counters = service.get("/state").json()["counters"].clone();
    assert_eq!(counters["waiting"], 0);
    assert_eq!(page["waiting"], json!(counters["waiting"].to_string()));

    // Two agents on schedules (R-W1): one inside its shift now, one whose shift starts later.
    let now = wall();
    let minute = |d: TimeDelta| {
        let t = (now + d).time();
        NaiveTime::from_hms_opt(t.hour(), t.minute(), 0).expect("a valid time")
    };
    let every_day = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    for (schedule, from, to) in [
        ("now", TimeDelta::hours(-1), TimeDelta::hours(1)),
        ("later", TimeDelta::hours(2), TimeDelta::hours(3)),
    ] {
        let define = EngineCommand::DefineSchedule(ScheduleSpec {
            schedule: schedule.into(),
            time_zone: "UTC".into(),
            ranges: vec![WeeklyRange::new(&every_day, minute(from), minute(to))],
        });
        let body = serde_json::to_string(&define).expect("a command serializes");
        service.ok("POST", "/commands", &body);
    }
    for (agent, schedule) in [("cy", "now"), ("dan", "later")] {
        let spec = AgentSpec::new(agent).group("support").schedule(schedule);
        let body = serde_json::to_string(&EngineCommand::RegisterAgent(spec)).expect("serializes");
        service.ok("POST", "/commands", &body);
    }
    let page = browser.until("cy on shift, dan off shift", |page| {
        page["agents"]["cy"]["duty"] == "· on shift"
            && page["agents"]["dan"]["duty"] == "· off shift"
            && page["agents"]["ana"]["duty"].is_null()
    });
    let feed = page["feed"].to_string();
    assert!(
        feed.contains("AgentDutyChanged cy on shift"),
        "the event feed: {feed}"
    );
    // A third visitor waits, so that the picture shows a queue.
    service.ok("PUT", "/mode", r#"{"mode": "RealTime"}"#);
    service.ok("PUT", "/agents/bo/status", r#"{"status": "Busy"}"#);
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "c3", "visitor": "v3", "group": "support"}"#,
    );
    browser.until("c3 waiting, amber", |page| {
        page["groups"]["support"]["waiting"] == "1"
            && page["groups"]["support"]["longest_class"]
                .as_str()
                .is_some_and(|c| c.contains("amber"))
    });
    if let Some(path) = std::env::var_os("SWITCHBOARD_SCREENSHOT") {
        browser.screenshot(Path::new(&path));
    }

    // Work kinds (R-K4): the desk defines an email kind beside the default one, and an agent's
    // row shows its load per kind, the default kind left out.
    assert!(
        browser.read()["agents"]["bo"]["kinds"].is_null(),
        "no kinds shown yet"
    );
    service.ok(
        "PUT",
        "/config",
        r#"{"kinds": [{"kind": "default", "cost": 1}, {"kind": "email", "cost": 1}]}"#,
    );
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "e1", "visitor": "v4", "group": "support", "kind": "email"}"#,
    );
    let assign = r#"{"type": "AssignManually", "conversations": ["e1"], "target": {"type": "Agent", "agent": "bo"}}"#;
    service.ok("POST", "/commands", assign);
    browser.until("bo's load per kind", |page| {
        page["agents"]["bo"]["kinds"] == "email 1" && page["agents"]["bo"]["load"] == "2/2"
    });

    // Skills (R-SK1, R-SK2): the desk declares skills, bo gets some, and his row shows them
    // with their levels. A visitor who needs German waits (nobody speaks it) and the queue
    // shows its stage and what it requires; another's first stage lasts 1 ms, so the service's
    // timer relaxes it at once, and the page shows its stage 1.
    assert!(
        browser.read()["agents"]["bo"]["skills"].is_null(),
        "no skills shown yet"
    );
    service.ok(
        "PUT",
        "/config",
        r#"{"kinds": [{"kind": "default", "cost": 1}, {"kind": "email", "cost": 1}],
            "skills": ["english", "german", "billing"]}"#,
    );
    let update = r#"{"type": "UpdateAgent", "agent": "bo", "skills": [
        {"skill": "english", "level": 8}, {"skill": "billing", "level": 5}]}"#;
    service.ok("POST", "/commands", update);
    let stages = |first_ms: u64| {
        json!([
            {"require": [{"skill": "german", "level": 5}, {"skill": "billing", "level": 5}], "for_ms": first_ms},
            {"require": [{"skill": "billing", "level": 1}]},
        ])
    };
    for (id, first_ms) in [("s1", 3_600_000), ("s2", 1)] {
        let arrival = json!({"conversation": id, "visitor": id, "group": "support", "stages": stages(first_ms)});
        service.ok("POST", "/visitors", &arrival.to_string());
    }
    let page = browser.until("bo's skills and the stages of s1 and s2", |page| {
        page["agents"]["bo"]["skills"] == "english 8 · billing 5"
            && page["stages"]["s1"] == "· stage 0 · needs german 5 · billing 5"
            && page["stages"]["s2"] == "· stage 1 · needs billing 1"
    });
    let feed = page["feed"].to_string();
    assert!(
        feed.contains("StageAdvanced s2 stage 1 · needs billing 1"),
        "the event feed: {feed}"
    );
    // c3 has no stages: nothing shown.
    assert!(page["stages"]["c3"].is_null(), "{}", page["stages"]);

    // R-HS2 in the browser: a file:// page (Origin: null) tries to remove ana, as a page of
    // another site could: the service refuses it, and ana stays.
    let seq = service.get("/state").json()["seq"].clone();
    let attack = dir.join("attack.html");
    std::fs::write(&attack, "<!doctype html><title>another page</title>").expect("written");
    browser.visit(&format!("file://{}", attack.display()));
    let script = format!(
        r#"return fetch("{}", {{ method: "POST", mode: "no-cors",
             body: JSON.stringify({{ type: "RemoveAgent", agent: "ana" }}) }})
           .then(() => "sent", (e) => "failed: " + e);"#,
        service.url("/commands")
    );
    browser.run(&script);
    assert_eq!(service.get("/agents/ana").status, 200, "ana is still there");
    assert_eq!(
        service.get("/state").json()["seq"],
        seq,
        "nothing was journaled"
    );

    drop(browser);
    drop(driver);
    service.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
