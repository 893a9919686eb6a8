//! A host for the switchboard engine that a team could deploy: an HTTP service with a durable
//! journal, safe defaults, and a live page for the desk.
//!
//! ```sh
//! cargo run --release -p switchboard-service -- --db desk.db   # then open http://127.0.0.1:8080/
//! curl --json '{"group":"support"}' localhost:8080/groups
//! curl --json '{"conversation":"c1","visitor":"v1","group":"support"}' localhost:8080/visitors
//! ```
//!
//! The parts, each in its own file:
//!
//! - `desk.rs`: the single writer. One thread owns the [`Engine`] and the store; HTTP handlers
//!   send it commands over a channel and wait on a one-shot reply. It applies a group of
//!   waiting commands, commits them with their events in one SQLite transaction, and only
//!   then answers and publishes the events.
//! - `store.rs`: the journal (every accepted command with its time and events), snapshots
//!   every N commands, and recovery (latest snapshot, then replay of the journal after it).
//! - `timer.rs`: sends `Tick` at the engine's next deadline.
//! - `server.rs`: the connection loop: header-read timeout, connection cap, graceful shutdown.
//! - `guard.rs`: Host, Origin, bearer token and JSON checks on every request.
//! - `api.rs`: the JSON endpoints, the server-sent-events stream, the monitoring page
//!   (`monitor.html`).
//!
//! `--help` lists the options; each can also be set by the environment variable it names.

mod api;
mod desk;
mod desks;
mod guard;
mod journal;
mod metrics;
mod openapi;
mod projection;
mod read;
mod recover;
mod retention;
mod server;
mod snapshots;
mod store;
mod timer;
mod wallboard;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono_tz::Tz;
use clap::Parser;
use switchboard::{Config, Engine};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::desk::{Desk, Rebuild};
use crate::guard::Policy;
use crate::projection::Settings;
use crate::read::{Reader, View};
use crate::recover::recover;
use crate::snapshots::{Retain, Snapshots};
use crate::store::{Journal, Store};

/// A host for the switchboard routing engine: JSON commands and queries over HTTP, every
/// accepted command journaled in SQLite before it is acknowledged, a live page for the desk.
#[derive(Parser, Debug)]
#[command(name = "switchboard-service", version)]
struct Options {
    /// Listen on this address. Anything but a loopback address exposes the service: set a
    /// token (SWITCHBOARD_TOKEN or --token-file).
    #[arg(long, env = "SWITCHBOARD_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Listen on this port (0 picks a free one).
    #[arg(long, env = "SWITCHBOARD_PORT", default_value_t = 8080)]
    port: u16,
    /// The SQLite database: the journal.
    #[arg(long, env = "SWITCHBOARD_DB", default_value = "switchboard.db")]
    db: PathBuf,
    /// Write a snapshot every N journal entries (off the writer; when the previous one is
    /// still being written, the next waits).
    #[arg(long, env = "SWITCHBOARD_SNAPSHOT_EVERY", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_every: u64,
    /// The folder of snapshot files [default: the database's path + `.snapshots`].
    #[arg(long, env = "SWITCHBOARD_SNAPSHOTS")]
    snapshots: Option<PathBuf>,
    /// What becomes of journal entries that recovery no longer needs (older than the older of
    /// the two snapshots kept).
    #[arg(long, env = "SWITCHBOARD_JOURNAL", value_enum, default_value_t = Retain::Compact)]
    journal: Retain,
    /// Where `--journal archive` writes them, as JSON-lines files [default: the database's
    /// path + `.archive`].
    #[arg(long, env = "SWITCHBOARD_ARCHIVE")]
    archive_dir: Option<PathBuf>,
    /// Forget a finished conversation this many seconds after it finished (0: never).
    #[arg(long, env = "SWITCHBOARD_FORGET_AFTER", default_value_t = 3600)]
    forget_after_secs: u64,
    /// Forget a visitor's last agent this many seconds after their latest conversation
    /// finished, once their conversations are forgotten (0: never). Keep it at least the
    /// last-agent window when that preference is on.
    #[arg(long, env = "SWITCHBOARD_FORGET_VISITORS_AFTER", default_value_t = 7 * 86_400)]
    forget_visitors_after_secs: u64,
    /// The service level's target wait: a conversation answered within it counts as within
    /// target.
    #[arg(long, env = "SWITCHBOARD_SERVICE_LEVEL_SECS", default_value_t = 20)]
    service_level_secs: u64,
    /// The service level the desk aims for, in percent (the wallboard shows it against it).
    #[arg(long, env = "SWITCHBOARD_SERVICE_LEVEL_TARGET", default_value_t = 80.0)]
    service_level_target: f64,
    /// The wallboard shows a group's longest wait amber from this many seconds.
    #[arg(long, env = "SWITCHBOARD_WAIT_AMBER", default_value_t = 30)]
    wait_amber_secs: u64,
    /// ... and red from this many.
    #[arg(long, env = "SWITCHBOARD_WAIT_RED", default_value_t = 60)]
    wait_red_secs: u64,
    /// The desk's time zone (IANA name): where "today" begins for the service level.
    #[arg(long, env = "SWITCHBOARD_TIME_ZONE", default_value = "UTC")]
    time_zone: Tz,
    /// The engine's config as JSON, for a new database only; afterwards the config lives in
    /// the journal (PUT /config changes it).
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// A file whose first line is the bearer token every route but /healthz and /readyz
    /// requires. SWITCHBOARD_TOKEN gives the token itself instead (never as a flag, which
    /// other users could read in the process list). Without either, no token is required.
    #[arg(long, env = "SWITCHBOARD_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// A host name clients may use to reach the service (the Host header; repeat, or separate
    /// with commas). Always allowed: localhost, 127.0.0.1, [::1] and the bind address.
    #[arg(
        long = "allowed-host",
        env = "SWITCHBOARD_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// An origin (scheme://host[:port]) whose pages may call the service, besides the service's
    /// own page (repeat, or separate with commas).
    #[arg(
        long = "allowed-origin",
        env = "SWITCHBOARD_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// Most connections open at once; kept below the file-descriptor limit. Past it, the
    /// connection idle longest is closed to make room.
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS", default_value_t = 1000)]
    max_connections: usize,
    /// Seconds a connection may take to send a request head, after opening or after its
    /// previous answer (the keep-alive idle time too).
    #[arg(long, env = "SWITCHBOARD_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds within which every request but the event stream is answered (408 otherwise).
    #[arg(long, env = "SWITCHBOARD_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout_secs: u64,
    /// The largest request body accepted, in bytes (413 past it).
    #[arg(long, env = "SWITCHBOARD_MAX_BODY", default_value_t = 256 * 1024)]
    max_body_bytes: usize,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, env = "SWITCHBOARD_SHUTDOWN_GRACE", default_value_t = 10)]
    shutdown_grace_secs: u64,
    /// What to log: a level (error, warn, info, debug, trace), or per module
    /// (`info,switchboard_service::server=debug`).
    #[arg(long, env = "SWITCHBOARD_LOG", default_value = "info")]
    log: Targets,
    /// Serve many desks, each addressed by its id (`/desks/{desk}/...`), from a journal of
    /// many desks: the SQLite file `--db`, or PostgreSQL with `--postgres`. Desks are claimed
    /// in the database, so several processes can share them (see docs/SCALING.md).
    #[arg(long, env = "SWITCHBOARD_DESKS")]
    desks: bool,
    /// The PostgreSQL journal (implies `--desks`), as a connection string:
    /// `host=127.0.0.1 port=5432 user=postgres dbname=switchboard` or
    /// `postgresql://user@host/db`. Plain TCP or a Unix socket: no TLS.
    #[arg(long, env = "SWITCHBOARD_POSTGRES")]
    postgres: Option<String>,
    /// With `--desks`: how long a claim on a desk lasts without renewal, in milliseconds, by
    /// the database's clock. A desk whose writer died is taken over within about this long.
    #[arg(long, env = "SWITCHBOARD_LEASE_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(100..))]
    lease_ms: u64,
    /// With `--desks`: this process's name in the database [default: host-PID-MICROSECONDS].
    #[arg(long, env = "SWITCHBOARD_HOST_ID")]
    host_id: Option<String>,
    /// With `--desks`: the address other hosts send clients to [default: the address
    /// listened on].
    #[arg(long, env = "SWITCHBOARD_ADVERTISE")]
    advertise: Option<String>,
    /// With `--postgres`: connections to the database, shared by every desk's writer.
    #[arg(long, env = "SWITCHBOARD_PG_CONNECTIONS", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pg_connections: u64,
    /// For tests: hold each transaction open N ms before it commits (a slow disk).
    #[arg(
        long,
        env = "SWITCHBOARD_COMMIT_DELAY_MS",
        default_value_t = 0,
        hide = true
    )]
    commit_delay_ms: u64,
}

fn main() -> ExitCode {
    let options = Options::parse();
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    if tracing_subscriber::registry()
        .with(logs)
        .with(options.log.clone())
        .try_init()
        .is_err()
    {
        eprintln!("switchboard-service: a logger was already installed");
    }
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            tracing::error!("{problem}");
            ExitCode::FAILURE
        }
    }
}

/// The token, from `SWITCHBOARD_TOKEN` or the file's first line.
fn token(options: &Options) -> Result<Option<String>, String> {
    let token = match (&options.token_file, std::env::var("SWITCHBOARD_TOKEN")) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("read the token file {}: {e}", path.display()))?;
            text.lines().next().unwrap_or("").trim().to_owned()
        }
        (None, Ok(token)) => token.trim().to_owned(),
        (None, Err(_)) => return Ok(None),
    };
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
        return Err(
            "the token must be at least 16 printable characters, without spaces or `;`".into(),
        );
    }
    Ok(Some(token))
}

fn policy(options: &Options) -> Result<Policy, String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .into_iter()
        .map(String::from)
        .collect();
    if !options.bind.is_unspecified() {
        hosts.push(match options.bind {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        });
    }
    hosts.extend(
        options
            .allowed_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase()),
    );
    Ok(Policy {
        hosts,
        origins: options
            .allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .collect(),
        token: token(options)?,
        request_timeout: Duration::from_secs(options.request_timeout_secs.max(1)),
    })
}

/// The connection loop's limits, the connection cap kept under the descriptor limit.
fn limits(options: &Options) -> server::Limits {
    let budget = server::descriptor_budget();
    if options.max_connections > budget {
        tracing::warn!(
            asked = options.max_connections,
            allowed = budget,
            "--max-connections lowered to stay under the file-descriptor limit"
        );
    }
    server::Limits {
        max_connections: options.max_connections.clamp(1, budget),
        header_timeout: Duration::from_secs(options.header_timeout_secs.max(1)),
        grace: Duration::from_secs(options.shutdown_grace_secs),
    }
}

fn run(options: Options) -> Result<(), String> {
    let policy = policy(&options)?;
    if policy.token.is_none() && !options.bind.is_loopback() {
        tracing::warn!(
            bind = %options.bind,
            "NO TOKEN: the service is bound beyond loopback and anyone who can reach it may \
             send any command; set SWITCHBOARD_TOKEN or --token-file"
        );
    }
    if options.desks || options.postgres.is_some() {
        return run_desks(options, policy);
    }
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

    let beside = |suffix: &str| {
        let mut path = options.db.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    };
    let snapshots = Snapshots::open(
        &options
            .snapshots
            .clone()
            .unwrap_or_else(|| beside(".snapshots")),
    )?;
    let settings = Settings {
        target: Duration::from_secs(options.service_level_secs),
        zone: options.time_zone,
    };
    let mut store = Store::open(&options.db, Duration::from_millis(options.commit_delay_ms))?;
    let given = config.clone();
    let recovered = recover(&mut store, &snapshots, &settings, || {
        Engine::new(given.unwrap_or_default()).map_err(|e| format!("the config: {e}"))
    })?;
    if config.is_some_and(|c| c != *recovered.engine.config()) {
        tracing::warn!(
            db = %options.db.display(),
            "--config ignored: the database has its own config (change it with PUT /config)"
        );
    }
    tracing::info!(
        db = %options.db.display(),
        snapshot = recovered.snapshot,
        replayed = recovered.replayed,
        seq = recovered.seq,
        "recovered"
    );
    let metrics = Arc::new(metrics::Metrics::new());
    let journal = Arc::new(Journal::open(&options.db)?);
    let compact_to = Arc::new(AtomicU64::new(0));
    let snapshotter = snapshots::start(
        snapshots.clone(),
        options.journal.clone(),
        options
            .archive_dir
            .clone()
            .unwrap_or_else(|| beside(".archive")),
        journal.clone(),
        compact_to.clone(),
        store.first_seq()?.map_or(recovered.seq, |first| first - 1),
        metrics.clone(),
    );
    let ages = retention::Ages {
        conversations: (options.forget_after_secs > 0)
            .then(|| Duration::from_secs(options.forget_after_secs)),
        visitors: (options.forget_visitors_after_secs > 0)
            .then(|| Duration::from_secs(options.forget_visitors_after_secs)),
    };

    let limits = limits(&options);

    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio: {e}"))?;
    runtime.block_on(async move {
        let (follow, entries) = std::sync::mpsc::channel();
        let view = View {
            engine: recovered.engine.clone(),
            projection: recovered.projection,
            seq: recovered.seq,
            settings,
            diverged: 0,
        };
        let desk = Desk::start(
            recovered.engine,
            recovered.seq,
            store,
            follow,
            compact_to,
            Rebuild {
                snapshots,
                settings,
            },
            metrics.clone(),
        );
        let reader = Reader::start(
            view,
            entries,
            desk.committed(),
            options.snapshot_every,
            snapshotter,
        );
        let address = SocketAddr::new(options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("bind {address}: {e}"))?;
        let local: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(timer::run(desk.clone()));
        tokio::spawn(retention::run(desk.clone(), reader.clone(), ages));
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let app = api::App {
            desk,
            reader,
            journal,
            stopping,
            metrics: metrics.clone(),
            board: wallboard::Board {
                target_percent: options.service_level_target,
                amber_secs: options.wait_amber_secs,
                red_secs: options.wait_red_secs.max(options.wait_amber_secs),
            },
        };
        let router = api::router(app, Arc::new(policy), options.max_body_bytes);
        tracing::info!(%local, max_connections = limits.max_connections, "listening");
        println!("listening on http://{local}");
        // The tests wait for this line; make sure it leaves the pipe now.
        let _ = std::io::stdout().flush();
        let shutdown = async move {
            shutdown().await;
            let _ = stop.send(true);
        };
        server::serve(listener, router, limits, metrics, shutdown).await;
        Ok::<(), String>(())
    })?;
    // Every acknowledged command is already committed, so stopping needs no flush; a command
    // in flight is either committed whole or not at all.
    runtime.shutdown_timeout(Duration::from_secs(1));
    tracing::info!("stopped");
    Ok(())
}

/// Many desks (R-DS1, R-DS2): the journal of many desks on SQLite or PostgreSQL, the
/// placement loop, and the `/desks/{desk}/...` routes.
fn run_desks(options: Options, policy: Policy) -> Result<(), String> {
    let limits = limits(&options);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio: {e}"))?;
    runtime.block_on(async move {
        let address = SocketAddr::new(options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("bind {address}: {e}"))?;
        let local: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let host = desks::Host {
            id: options
                .host_id
                .clone()
                .unwrap_or_else(|| format!("host-{}-{started}", std::process::id())),
            address: options
                .advertise
                .clone()
                .unwrap_or_else(|| local.to_string()),
            lease: Duration::from_millis(options.lease_ms),
            snapshot_every: options.snapshot_every,
        };
        match &options.postgres {
            Some(url) => {
                let connections = usize::try_from(options.pg_connections).unwrap_or(4);
                let journal =
                    journal::postgres::Postgres::connect(url, &host.id, connections).await?;
                serve_desks(journal, host, listener, local, policy, limits, &options).await
            }
            None => {
                let journal = journal::sqlite::Sqlite::open(&options.db)?;
                serve_desks(journal, host, listener, local, policy, limits, &options).await
            }
        }
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    tracing::info!("stopped");
    Ok(())
}

async fn serve_desks<J: journal::Journal>(
    journal: J,
    host: desks::Host,
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    policy: Policy,
    limits: server::Limits,
    options: &Options,
) -> Result<(), String> {
    let journal = Arc::new(journal);
    // Alive before listening: hosts started together count each other before they claim.
    journal.heartbeat(&host.id, host.lease).await?;
    let table = desks::Desks::default();
    tracing::info!(host = %host.id, address = %host.address, lease_ms = options.lease_ms, "many desks");
    tokio::spawn(desks::placement::run(journal.clone(), table.clone(), host));
    let app = desks::api::App {
        desks: table,
        journal,
    };
    let router = desks::api::router(app, Arc::new(policy), options.max_body_bytes);
    tracing::info!(%local, max_connections = limits.max_connections, "listening");
    println!("listening on http://{local}");
    let _ = std::io::stdout().flush();
    let metrics = Arc::new(metrics::Metrics::new());
    server::serve(listener, router, limits, metrics, shutdown()).await;
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
    tracing::info!("stopping: draining requests in flight");
}
