//! Many desks per process, spread over processes (R-DS1, R-DS2): each desk has its own
//! engine, writer and timer; which process writes for a desk is decided by claims in the
//! journal's database (`journal/`), never by a process alone.
//!
//! - `writer.rs`: one task per desk this host writes for. It applies a group of waiting
//!   commands, appends their entries with one fenced statement, and only then answers. If the
//!   append is fenced or fails, it answers 503 to the whole group and stops: the engine it
//!   holds may be ahead of the journal, so the desk is rebuilt from the journal.
//! - `placement.rs`: two loops per host, every eighth of the lease. The lease keeper records
//!   the host as alive and renews the leases it holds (a desk whose lease it lost is dropped
//!   at once). The placement round follows every other desk's journal to keep a warm engine
//!   (the standby), and claims free desks (no owner, or a lease that ran out) up to its fair
//!   share: the desks divided by the hosts alive.
//! - `api.rs`: the routes, `/desks/{desk}/...`; a desk written elsewhere is answered with a
//!   redirect to its owner, a desk without a writer (during a fail-over) with 503.

pub mod api;
pub mod placement;
pub mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard::{Command, Engine};
use tokio::sync::{mpsc, watch};

use crate::desk::{Accepted, Refusal, Request, ask};

/// What a host is and how long its claims last.
#[derive(Clone, Debug)]
pub struct Host {
    /// This process's name in the desks table; unique per start.
    pub id: String,
    /// Where clients reach it (`127.0.0.1:8080`), written into the desks it claims.
    pub address: String,
    /// How long a claim or a renewal holds a desk without renewal, by the database's clock.
    pub lease: Duration,
    /// A snapshot of a desk every this many of its entries.
    pub snapshot_every: u64,
}

/// A desk this host writes for.
#[derive(Clone)]
pub struct Served {
    /// The epoch of the claim it writes under.
    pub epoch: i64,
    requests: mpsc::Sender<Request>,
    /// The writer's engine: queries read it as of a commit (the writer holds it from
    /// applying a group to committing it).
    pub engine: Arc<tokio::sync::RwLock<Engine>>,
    /// The last entry committed.
    pub committed: watch::Receiver<u64>,
    /// Tells the writer to stop (the lease was lost).
    stop: Arc<tokio::sync::Notify>,
    /// Until when the lease surely runs, by this host's monotonic clock: the lease from the
    /// moment the last claim or renewal was *sent*. Queries are answered only before it (a
    /// host woken from a pause finds it past); commands are fenced by the database anyway.
    valid_until: Arc<Mutex<Instant>>,
}

impl Served {
    /// Whether the lease is surely still held (see `valid_until`).
    pub fn is_valid(&self) -> bool {
        Instant::now() < *self.valid_until.lock().expect("never poisoned")
    }

    /// Hands a command to the desk's writer; answers once it is durable, or why not.
    pub async fn command(&self, command: Command) -> Result<Accepted, Refusal> {
        ask(&self.requests, command).await
    }
}

/// Where a desk is served, as this host knows it.
pub enum Route {
    /// Here.
    Here(Served),
    /// By another host, at this address.
    Elsewhere(String),
    /// A known desk that has no writer now (a fail-over in progress).
    Unowned,
    /// No such desk.
    Unknown,
}

/// The desks this host knows of and those it writes for.
#[derive(Default)]
pub struct Table {
    served: HashMap<String, Served>,
    /// Every desk in the database, with its owner's address while its lease runs.
    known: HashMap<String, Option<String>>,
    /// The desks have been read once: until then no desk is unknown, only not yet served.
    loaded: bool,
}

/// The shared table, cheap to clone.
#[derive(Clone, Default)]
pub struct Desks {
    table: Arc<Mutex<Table>>,
}

impl Desks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table
            .lock()
            .expect("the desks table is never poisoned")
    }

    /// Where a command or query for `desk` should go.
    pub fn route(&self, desk: &str) -> Route {
        let table = self.lock();
        if let Some(served) = table.served.get(desk) {
            return Route::Here(served.clone());
        }
        match table.known.get(desk) {
            Some(Some(address)) => Route::Elsewhere(address.clone()),
            Some(None) => Route::Unowned,
            None if !table.loaded => Route::Unowned,
            None => Route::Unknown,
        }
    }

    /// Records that the lease on `desk` at `epoch` surely holds until `until`.
    fn renewed(&self, desk: &str, epoch: i64, until: Instant) {
        if let Some(served) = self.lock().served.get(desk).filter(|s| s.epoch == epoch) {
            *served.valid_until.lock().expect("never poisoned") = until;
        }
    }

    /// The desks this host writes for, with their epochs.
    pub fn held(&self) -> Vec<(String, i64)> {
        self.lock()
            .served
            .iter()
            .map(|(desk, served)| (desk.clone(), served.epoch))
            .collect()
    }

    /// How many desks this host writes for.
    pub fn served_count(&self) -> usize {
        self.lock().served.len()
    }

    /// Whether this host writes for `desk`.
    pub fn serves(&self, desk: &str) -> bool {
        self.lock().served.contains_key(desk)
    }

    /// Every known desk: its owner's address (if any) and whether this host writes for it.
    pub fn list(&self) -> Vec<(String, Option<String>, bool)> {
        let table = self.lock();
        let mut list: Vec<_> = table
            .known
            .iter()
            .map(|(desk, owner)| (desk.clone(), owner.clone(), table.served.contains_key(desk)))
            .collect();
        list.sort();
        list
    }

    /// Records a desk just created here, so that it is known before the next round.
    pub fn know(&self, desk: &str) {
        self.lock().known.entry(desk.to_owned()).or_insert(None);
    }

    /// Replaces what is known of the other desks (those this host does not write for).
    fn set_known(&self, known: HashMap<String, Option<String>>) {
        let mut table = self.lock();
        table.known = known;
        table.loaded = true;
    }

    /// Whether the desks have been read from the database once.
    pub fn is_loaded(&self) -> bool {
        self.lock().loaded
    }

    fn insert(&self, desk: String, served: Served) {
        self.lock().served.insert(desk, served);
    }

    /// Stops writing for `desk` (if still at `epoch`): the writer is told to stop and its
    /// engine is dropped. Returns whether it was served.
    fn drop_desk(&self, desk: &str, epoch: Option<i64>) -> bool {
        let mut table = self.lock();
        if table
            .served
            .get(desk)
            .is_some_and(|s| epoch.is_none_or(|e| s.epoch == e))
        {
            if let Some(served) = table.served.remove(desk) {
                served.stop.notify_one();
            }
            return true;
        }
        false
    }
}
