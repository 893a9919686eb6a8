//! Drives the service (`examples/service`) as a separate process, the way a deployment runs it:
//! start it on a loopback port, talk HTTP to it (with ureq), kill it.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The wall clock (the crate builds chrono without its clock, so not `Utc::now()`).
pub fn wall() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

/// A fresh scratch directory for one test, under Cargo's per-target temporary directory.
pub fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("service")
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be made");
    dir
}

/// The service binary: Cargo builds it for this package's integration tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard-service"))
}

/// The variables the service reads; a test sets the ones it means.
const VARIABLES: [&str; 21] = [
    "SWITCHBOARD_PORT",
    "SWITCHBOARD_BIND",
    "SWITCHBOARD_DB",
    "SWITCHBOARD_SNAPSHOT_EVERY",
    "SWITCHBOARD_CONFIG",
    "SWITCHBOARD_TOKEN",
    "SWITCHBOARD_TOKEN_FILE",
    "SWITCHBOARD_ALLOWED_HOSTS",
    "SWITCHBOARD_ALLOWED_ORIGINS",
    "SWITCHBOARD_MAX_CONNECTIONS",
    "SWITCHBOARD_HEADER_TIMEOUT",
    "SWITCHBOARD_REQUEST_TIMEOUT",
    "SWITCHBOARD_MAX_BODY",
    "SWITCHBOARD_LOG",
    "SWITCHBOARD_COMMIT_DELAY_MS",
    "SWITCHBOARD_DESKS",
    "SWITCHBOARD_POSTGRES",
    "SWITCHBOARD_LEASE_MS",
    "SWITCHBOARD_HOST_ID",
    "SWITCHBOARD_ADVERTISE",
    "SWITCHBOARD_PG_CONNECTIONS",
];

/// How to start a service.
#[derive(Default)]
pub struct Launch<'a> {
    /// Extra flags.
    pub args: &'a [&'a str],
    /// The bearer token (given through `SWITCHBOARD_TOKEN`), sent by this handle's requests.
    pub token: Option<&'a str>,
    /// Hard and soft file-descriptor limit for the process.
    pub descriptor_limit: Option<u64>,
}

/// A running service process. Dropping it kills it.
pub struct Service {
    child: Child,
    /// `127.0.0.1:port`
    pub addr: String,
    /// The token its requests carry, if any.
    pub token: Option<String>,
}

impl Service {
    /// Starts the service on a free loopback port with the database `db`; its log goes to
    /// `service.log` beside the database. Waits (bounded) until it listens.
    pub fn start(db: &Path, args: &[&str]) -> Service {
        Service::launch(
            db,
            &Launch {
                args,
                ..Launch::default()
            },
        )
    }

    pub fn launch(db: &Path, launch: &Launch) -> Service {
        let log = File::options()
            .create(true)
            .append(true)
            .open(db.with_file_name("service.log"))
            .expect("the log file opens");
        let mut command = Command::new(binary());
        for name in VARIABLES {
            command.env_remove(name);
        }
        if let Some(token) = launch.token {
            command.env("SWITCHBOARD_TOKEN", token);
        }
        if let Some(limit) = launch.descriptor_limit {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: between fork and exec, only setrlimit (async-signal-safe) runs.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command
            .args(["--port", "0", "--db"])
            .arg(db)
            .args(launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the service starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the service did not start within a minute (see service.log)");
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line from the service: {line:?}"))
            .to_owned();
        Service {
            child,
            addr,
            token: launch.token.map(String::from),
        }
    }

    /// `http://127.0.0.1:port{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        self.token
            .iter()
            .map(|t| ("Authorization", format!("Bearer {t}")))
            .collect()
    }

    /// A request with this handle's token.
    pub fn send(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let headers = self.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        request_with(&self.addr, method, path, body, &headers).expect("the service answers")
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        self.send("POST", path, Some(body))
    }

    pub fn put(&self, path: &str, body: &str) -> Reply {
        self.send("PUT", path, Some(body))
    }

    /// Sends a command that must be accepted; returns the answer's JSON.
    pub fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let reply = self.send(method, path, Some(body));
        assert_eq!(reply.status, 200, "{method} {path} {body}: {}", reply.body);
        reply.json()
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits")
    }

    /// Kills the process at once (SIGKILL on Unix): no shutdown code runs.
    pub fn kill(mut self) {
        self.stop();
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("a pid fits");
        // SAFETY: kill only sends a signal to the process this handle started.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        wait_for(Duration::from_secs(30), "the service to exit", || {
            self.child.try_wait().expect("the child can be waited on")
        })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` message of a refusal.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.body))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The tests' HTTP client: errors are answers, not `Err`; no redirects followed; pooled
/// connections are dropped well before the service's keep-alive timeout.
pub fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_age(Duration::from_secs(2))
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// One request with a JSON body (if any) and no token.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<Reply, ureq::Error> {
    request_with(addr, method, path, body, &[])
}

/// One request with extra headers.
pub fn request_with(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if body.is_some()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header("Content-Type", "application/json");
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.unwrap_or("").to_owned())
        .expect("a well-formed request");
    run_on(agent(), request)
}

/// A request with a JSON body (if any) on the given client (for its own timeout).
pub fn request_on(
    client: &ureq::Agent,
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if body.is_some() {
        builder = builder.header("Content-Type", "application/json");
    }
    let request = builder
        .body(body.unwrap_or("").to_owned())
        .expect("a well-formed request");
    run_on(client, request)
}

fn run_on(
    client: &ureq::Agent,
    request: ureq::http::Request<String>,
) -> Result<Reply, ureq::Error> {
    let mut response = client.run(request)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()?;
    Ok(Reply {
        status,
        body,
        headers,
    })
}

/// The status of a request written byte for byte, for what a client library will not send
/// (a foreign `Host`). Returns 0 if the connection closed without an answer.
pub fn raw_status(addr: &str, request: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("the service accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout can be set");
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut answer = String::new();
    let _ = BufReader::new(stream).read_line(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// One message of the event stream.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// A subscription to the service's event stream (`GET /events`), read on a thread.
pub struct EventStream {
    messages: mpsc::Receiver<Message>,
    pub status: u16,
}

impl EventStream {
    pub fn open(service: &Service) -> EventStream {
        EventStream::resume(service, None)
    }

    /// Opens the stream, resuming after journal entry `last` (`Last-Event-ID`) if given.
    pub fn resume(service: &Service, last: Option<u64>) -> EventStream {
        let mut builder = ureq::http::Request::builder()
            .method("GET")
            .uri(service.url("/events"))
            .header("Accept", "text/event-stream");
        if let Some(token) = &service.token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(last) = last {
            builder = builder.header("Last-Event-ID", last.to_string());
        }
        let request = builder.body(()).expect("a well-formed request");
        // A client of its own: the stream stays open past the tests' global timeout.
        let client: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = client.run(request).expect("the event stream answers");
        let status = response.status().as_u16();
        let (tx, messages) = mpsc::channel();
        let mut reader = BufReader::new(response.into_body().into_reader());
        std::thread::spawn(move || {
            let mut current = Message {
                id: None,
                event: None,
                data: String::new(),
            };
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let line = line.trim_end_matches(['\r', '\n']);
                if line.is_empty() {
                    let done = std::mem::replace(
                        &mut current,
                        Message {
                            id: None,
                            event: None,
                            data: String::new(),
                        },
                    );
                    if (done.id.is_some() || done.event.is_some() || !done.data.is_empty())
                        && tx.send(done).is_err()
                    {
                        return;
                    }
                } else if let Some(id) = line.strip_prefix("id:") {
                    current.id = Some(id.trim().to_owned());
                } else if let Some(event) = line.strip_prefix("event:") {
                    current.event = Some(event.trim().to_owned());
                } else if let Some(data) = line.strip_prefix("data:") {
                    current
                        .data
                        .push_str(data.strip_prefix(' ').unwrap_or(data));
                }
            }
        });
        EventStream { messages, status }
    }

    /// The next message, waiting up to 20 s.
    pub fn next(&mut self) -> Option<Message> {
        self.messages.recv_timeout(Duration::from_secs(20)).ok()
    }

    /// The next message within `wait`, if any.
    pub fn next_within(&mut self, wait: Duration) -> Option<Message> {
        self.messages.recv_timeout(wait).ok()
    }

    /// The data of the next message with an `id` (a journal entry), skipping the others.
    pub fn next_entry(&mut self) -> Value {
        loop {
            let message = self.next().expect("an event arrives within 20 s");
            if message.id.is_some() {
                return serde_json::from_str(&message.data).expect("event data is JSON");
            }
        }
    }
}

/// A loopback port nobody listens on now (for programs that need one given).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port is free")
        .port()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `limit` with `what`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Raises this process's soft file-descriptor limit to at least `wanted` if the hard limit
/// allows; returns the soft limit in force.
pub fn raise_descriptor_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by reference.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = raised.rlim_cur;
            }
        }
    }
    limit.rlim_cur
}

/// Reads whatever is left on a stream, for tests that hold raw connections.
pub fn drain(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    rest
}
