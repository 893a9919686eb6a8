//! Drives the service (`examples/service`) as a separate process, the way a deployment
//! runs it: start it on a loopback port, talk HTTP to it, kill it. A minimal HTTP/1.1 client
//! on std's `TcpStream` keeps the tests free of a client library.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard-service"))
}

/// A running service process. Dropping it kills it.
pub struct Service {
    child: Child,
    /// `127.0.0.1:port`
    pub addr: String,
}

impl Service {
    /// Starts the service on a free loopback port with the database `db`; its log goes to
    /// `service.log` beside the database. Waits (bounded) until it listens.
    pub fn start(db: &Path, extra: &[&str]) -> Service {
        let log = File::options()
            .create(true)
            .append(true)
            .open(db.with_file_name("service.log"))
            .expect("the log file opens");
        let mut command = Command::new(binary());
        for name in [
            "SWITCHBOARD_PORT",
            "SWITCHBOARD_BIND",
            "SWITCHBOARD_DB",
            "SWITCHBOARD_SNAPSHOT_EVERY",
            "SWITCHBOARD_CONFIG",
        ] {
            command.env_remove(name);
        }
        let mut child = command
            .args(["--port", "0", "--db"])
            .arg(db)
            .args(extra)
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
        Service { child, addr }
    }

    /// `http://127.0.0.1:port{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> Reply {
        request(&self.addr, "GET", path, None).expect("the service answers")
    }

    pub fn post(&self, path: &str, body: &str) -> Reply {
        request(&self.addr, "POST", path, Some(body)).expect("the service answers")
    }

    pub fn put(&self, path: &str, body: &str) -> Reply {
        request(&self.addr, "PUT", path, Some(body)).expect("the service answers")
    }

    /// Sends a command that must be accepted; returns the answer's JSON.
    pub fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let reply = request(&self.addr, method, path, Some(body)).expect("the service answers");
        assert_eq!(reply.status, 200, "{method} {path} {body}: {}", reply.body);
        reply.json()
    }

    /// Kills the process at once (SIGKILL on Unix): no shutdown code runs.
    pub fn kill(mut self) {
        self.stop();
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
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), bounded in time.
pub fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> std::io::Result<Reply> {
    let mut stream = connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {line:?}")))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            length = value.parse().ok();
        } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let mut raw = Vec::new();
    match length {
        Some(length) if !chunked => {
            raw.resize(length, 0);
            reader.read_exact(&mut raw)?;
        }
        _ => {
            reader.read_to_end(&mut raw)?;
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let body = if chunked {
        dechunk(&text)?
    } else {
        text.into_owned()
    };
    Ok(Reply { status, body })
}

fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let socket = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    TcpStream::connect_timeout(&socket, Duration::from_secs(10))
}

fn dechunk(mut rest: &str) -> std::io::Result<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest
            .split_once("\r\n")
            .ok_or_else(|| std::io::Error::other("truncated chunk"))?;
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
        if size == 0 {
            return Ok(body);
        }
        body.push_str(
            after
                .get(..size)
                .ok_or_else(|| std::io::Error::other("short chunk"))?,
        );
        rest = after.get(size + 2..).unwrap_or("");
    }
}

/// A subscription to the service's event stream (`GET /events`).
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// Received, not yet returned.
    pending: String,
}

impl EventStream {
    pub fn open(addr: &str) -> EventStream {
        let mut stream = connect(addr).expect("the event stream connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("a read timeout can be set");
        write!(
            stream,
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .expect("the request is sent");
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        // Status line and headers.
        loop {
            line.clear();
            reader.read_line(&mut line).expect("the headers arrive");
            assert!(
                !line.is_empty(),
                "the event stream closed before its headers"
            );
            if line == "\r\n" {
                break;
            }
        }
        EventStream {
            reader,
            pending: String::new(),
        }
    }

    /// The data of the next message with an `id` (a journal entry), skipping keep-alives
    /// and the retry hint. Reads the chunked body a chunk at a time.
    pub fn next_entry(&mut self) -> Value {
        loop {
            while let Some((message, rest)) = self.pending.split_once("\n\n") {
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                let has_id = message.lines().any(|l| l.starts_with("id: "));
                self.pending = rest.to_owned();
                if has_id {
                    return serde_json::from_str(&data).expect("event data is JSON");
                }
            }
            let mut size = String::new();
            self.reader.read_line(&mut size).expect("a chunk arrives");
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            let mut chunk = vec![0; size + 2];
            self.reader
                .read_exact(&mut chunk)
                .expect("the chunk arrives");
            self.pending
                .push_str(&String::from_utf8_lossy(&chunk[..size]));
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
