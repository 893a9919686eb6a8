//! The monitoring page in a real browser: headless Chromium (Debian's `chromium`, driven by
//! `chromedriver` over WebDriver) loads the page from the service, the test sends commands
//! over HTTP, and the page must show their effects (agent status and load, queue, pool,
//! snoozes, who is on shift) as the event stream reports them. Without the browser the test says so and skips,
//! unless `SWITCHBOARD_REQUIRE_BROWSER` is set; `.ci/run` installs the browser and sets it.

mod host;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
use chrono::{NaiveTime, TimeDelta, Timelike};
use host::{Service, free_port, scratch, wait_for, wall};
use serde_json::{Value, json};
use switchboard::{AgentSpec, Command as EngineCommand, ScheduleSpec, WeeklyRange};

/// What the page shows, read from its DOM.
const READ_PAGE: &str = r##"
const text = (el) => el ? el.textContent.trim() : null;
const ids = (list) => [...document.querySelectorAll(list + " [data-conversation]")].map((li) => li.dataset.conversation);
return {
  conn: text(document.getElementById("conn")),
  mode: text(document.getElementById("mode")),
  agents: Object.fromEntries([...document.querySelectorAll("#agents [data-agent]")].map((row) => [row.dataset.agent, {
    status: text(row.querySelector(".status")),
    duty: text(row.querySelector(".duty")),
    load: text(row.querySelector(".load")),
    conversations: text(row.querySelector(".conversations")),
  }])),
  queues: Object.fromEntries([...document.querySelectorAll("#queues [data-queue]")].map((q) =>
    [q.dataset.queue, [...q.querySelectorAll("[data-conversation]")].map((li) => li.dataset.conversation)])),
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
    addr: String,
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
        let driver = Driver {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        wait_for(Duration::from_secs(30), "chromedriver to be ready", || {
            let reply = host::request(&driver.addr, "GET", "/status", None).ok()?;
            (reply.json()["value"]["ready"] == json!(true)).then_some(())
        });
        driver
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let reply = host::request(&self.addr, method, path, Some(&body.to_string()))
            .unwrap_or_else(|e| panic!("chromedriver {method} {path}: {e}"));
        assert_eq!(
            reply.status, 200,
            "chromedriver {method} {path}: {}",
            reply.body
        );
        reply.json()["value"].clone()
    }
}

/// One browser session: headless Chromium started as this machine needs it.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
}

impl<'a> Browser<'a> {
    fn open(driver: &'a Driver, chromium: &Path, profile: &Path) -> Browser<'a> {
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
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }}});
        let value = driver.call("POST", "/session", &capabilities);
        let session = value["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Browser { driver, session }
    }

    fn visit(&self, url: &str) {
        self.driver.call(
            "POST",
            &format!("/session/{}/url", self.session),
            &json!({ "url": url }),
        );
    }

    fn read(&self) -> Value {
        let script = json!({ "script": READ_PAGE, "args": [] });
        self.driver.call(
            "POST",
            &format!("/session/{}/execute/sync", self.session),
            &script,
        )
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

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = host::request(&self.driver.addr, "DELETE", &path, None);
    }
}

#[test]
fn the_monitoring_page_follows_the_desk_live() {
    let (Some(chromium), Some(chromedriver)) = (
        find("CHROMIUM", "chromium"),
        find("CHROMEDRIVER", "chromedriver"),
    ) else {
        assert!(
            std::env::var_os("SWITCHBOARD_REQUIRE_BROWSER").is_none(),
            "SWITCHBOARD_REQUIRE_BROWSER is set, but chromium or chromedriver is missing"
        );
        eprintln!(
            "SKIPPED the_monitoring_page_follows_the_desk_live: no chromium or chromedriver \
             (install Debian's chromium and chromium-driver, as .ci/run does, or set CHROMIUM \
             and CHROMEDRIVER)"
        );
        return;
    };
    let dir = scratch("monitor");
    let service = Service::start(&dir.join("desk.db"), &[]);
    service.ok("POST", "/groups", r#"{"group": "support"}"#);
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "ana", "limit": {"Fixed": 1}, "groups": [{"group": "support"}]}"#,
    );
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "bo", "limit": {"Fixed": 2}, "groups": [{"group": "support"}]}"#,
    );

    let driver = Driver::start(&chromedriver, &dir.join("chromedriver.log"));
    let browser = Browser::open(&driver, &chromium, &dir.join("profile"));
    browser.visit(&service.url("/"));
    browser.until("the desk as it was, connected", |page| {
        page["conn"] == "live"
            && page["agents"]["ana"]["status"] == "Offline"
            && page["agents"]["bo"]["load"] == "0/2"
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

    // Bo comes back and takes c2 from the pool.
    service.ok("PUT", "/agents/bo/status", r#"{"status": "Online"}"#);
    browser.until("bo serving c2 and the pool empty", |page| {
        page["pool"] == json!([])
            && page["agents"]["bo"]["load"] == "1/2"
            && page["agents"]["bo"]["conversations"] == "c2"
    });

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

    drop(browser);
    drop(driver);
    service.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
