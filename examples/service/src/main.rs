//! A real host for the engine: an HTTP service with a durable journal and live monitoring.
//!
//! ```sh
//! cargo run -p switchboard-service -- --db desk.db --port 8080  # then open http://127.0.0.1:8080/
//! curl -X POST localhost:8080/groups -d '{"group":"support"}'
//! curl -X POST localhost:8080/visitors -d '{"conversation":"c1","visitor":"v1","group":"support"}'
//! ```
//!
//! The parts, each in its own file:
//!
//! - `desk.rs`: the single writer. One thread owns the [`Engine`] and the store; HTTP handlers
//!   send it commands and queries over a channel and wait on a one-shot reply. It applies a
//!   group of waiting commands, commits them with their events in one SQLite transaction, and
//!   only then answers and publishes the events.
//! - `store.rs`: the journal (every accepted command with its time and events), snapshots
//!   every N commands, and recovery (latest snapshot, then replay of the journal after it).
//! - `timer.rs`: sends `Tick` at the engine's next deadline.
//! - `api.rs`: the JSON endpoints, the server-sent-events stream, the monitoring page
//!   (`monitor.html`).
//!
//! Options (flags, or the environment variable after each):
//!
//! - `--port N` (`SWITCHBOARD_PORT`, default 8080; 0 picks a free port)
//! - `--bind ADDR` (`SWITCHBOARD_BIND`, default 127.0.0.1)
//! - `--db PATH` (`SWITCHBOARD_DB`, default `switchboard.db`)
//! - `--snapshot-every N` (`SWITCHBOARD_SNAPSHOT_EVERY`, default 1000 commands)
//! - `--config PATH` (`SWITCHBOARD_CONFIG`): the engine's config as JSON, for a new database
//!   only; afterwards the config lives in the journal (`PUT /config` changes it).
//! - `--commit-delay-ms N` (`SWITCHBOARD_COMMIT_DELAY_MS`, default 0): for tests, simulates a
//!   slow disk by holding each transaction open N ms before it commits.
//!
//! On start it prints `listening on http://ADDR:PORT` once it accepts connections.

mod api;
mod desk;
mod store;
mod timer;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use switchboard::{Config, Engine};

use crate::desk::Desk;
use crate::store::Store;

const USAGE: &str = "\
usage: service [--port N] [--bind ADDR] [--db PATH] [--snapshot-every N] [--config PATH]
               [--commit-delay-ms N]
  --port N            listen on this port (default 8080; 0 picks a free one)
  --bind ADDR         listen on this address (default 127.0.0.1)
  --db PATH           the SQLite database (default switchboard.db)
  --snapshot-every N  store a snapshot every N commands (default 1000)
  --config PATH       the engine config as JSON, for a new database only
  --commit-delay-ms N for tests: hold each transaction open N ms (a slow disk)
each flag can also be given as SWITCHBOARD_PORT, SWITCHBOARD_BIND, SWITCHBOARD_DB,
SWITCHBOARD_SNAPSHOT_EVERY, SWITCHBOARD_CONFIG, SWITCHBOARD_COMMIT_DELAY_MS";

/// The service's settings, from flags and the environment.
struct Options {
    bind: String,
    port: u16,
    db: PathBuf,
    snapshot_every: u64,
    config: Option<PathBuf>,
    commit_delay: Duration,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let env = |name: &str| std::env::var(name).ok();
        let mut bind = env("SWITCHBOARD_BIND");
        let mut port = env("SWITCHBOARD_PORT");
        let mut db = env("SWITCHBOARD_DB");
        let mut snapshot_every = env("SWITCHBOARD_SNAPSHOT_EVERY");
        let mut config = env("SWITCHBOARD_CONFIG");
        let mut commit_delay = env("SWITCHBOARD_COMMIT_DELAY_MS");
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--bind" => &mut bind,
                "--port" => &mut port,
                "--db" => &mut db,
                "--snapshot-every" => &mut snapshot_every,
                "--config" => &mut config,
                "--commit-delay-ms" => &mut commit_delay,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument `{other}`")),
            };
            *slot = Some(args.next().ok_or(format!("`{flag}` needs a value"))?);
        }
        let number = |name: &str, value: Option<String>, default: u64| match value {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{name} must be a number, not `{v}`")),
        };
        let port = number("the port", port, 8080)?;
        Ok(Self {
            bind: bind.unwrap_or_else(|| "127.0.0.1".into()),
            port: u16::try_from(port).map_err(|_| format!("the port {port} is too large"))?,
            db: db.unwrap_or_else(|| "switchboard.db".into()).into(),
            snapshot_every: number("--snapshot-every", snapshot_every, 1000)?.max(1),
            config: config.map(PathBuf::from),
            commit_delay: Duration::from_millis(number("--commit-delay-ms", commit_delay, 0)?),
        })
    }
}

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            if problem.is_empty() {
                println!("{USAGE}");
                std::process::exit(0);
            }
            eprintln!("service: {problem}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(problem) = run(options) {
        eprintln!("service: {problem}");
        std::process::exit(1);
    }
}

fn run(options: Options) -> Result<(), String> {
    let config = match &options.config {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("read {}: {e}", path.display()))?;
            let config: Config = serde_json::from_str(&text)
                .map_err(|e| format!("config {}: {e}", path.display()))?;
            Some(config)
        }
    };

    let mut store = Store::open(&options.db, options.commit_delay)?;
    let given = config.clone();
    let recovered = store.recover(|| {
        Engine::new(given.unwrap_or_default()).map_err(|e| format!("the config: {e}"))
    })?;
    if config.is_some_and(|c| c != *recovered.engine.config()) {
        eprintln!(
            "service: --config ignored: {} has its own config (change it with PUT /config)",
            options.db.display()
        );
    }
    eprintln!(
        "service: {}: snapshot {}, replayed {} command(s), at entry {}",
        options.db.display(),
        recovered.snapshot,
        recovered.replayed,
        recovered.seq
    );

    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio: {e}"))?;
    runtime.block_on(async move {
        let desk = Desk::start(recovered, store, options.snapshot_every);
        let address = format!("{}:{}", options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| format!("bind {address}: {e}"))?;
        let local: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(timer::run(desk.clone()));
        println!("listening on http://{local}");
        // The tests wait for this line; make sure it leaves the pipe now.
        let _ = std::io::stdout().flush();
        tokio::select! {
            served = axum::serve(listener, api::router(desk)) => {
                served.map_err(|e| format!("serve: {e}"))
            }
            () = shutdown() => Ok(()),
        }
    })?;
    // Every acknowledged command is already committed, so stopping needs no flush; a command
    // in flight is either committed whole or not at all. Open event streams would keep a
    // graceful shutdown waiting forever, so the runtime is dropped at once.
    runtime.shutdown_background();
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler installs");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    eprintln!("service: stopping");
}
