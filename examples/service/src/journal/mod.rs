//! The journal of many desks (R-DS2): one trait, [`Journal`], with two implementations,
//! SQLite (`sqlite.rs`, embedded: one file, no server) and PostgreSQL (`postgres.rs`, for
//! desks spread over several machines).
//!
//! What the trait promises, on either database:
//!
//! - **Desks** are rows `(desk, epoch, owner, address, lease_until, config)`. A host *claims*
//!   a desk when it has no owner, its lease ran out (by the database's clock), or the host
//!   itself owns it; claiming bumps the epoch in the same statement. A host renews its leases
//!   with the epochs it holds; a renewal that finds another epoch tells the host it lost the
//!   desk.
//! - **Fencing.** [`Journal::append`] writes a group of entries in one statement that also
//!   checks, under the desk row's lock, that the epoch is still the writer's and its lease has
//!   not run out; entries have the primary key `(desk, seq)`. A stale writer (paused past its
//!   lease, or cut off from the database while another host claimed the desk) therefore
//!   cannot commit, and no sequence number is ever written twice: the refusal is
//!   [`AppendError::Fenced`]. A claim waits for an append in flight on the same row, so the
//!   new owner reads every entry the old one committed.
//! - **Atomic groups.** A group is written whole or not at all. When the database cannot say
//!   which (the connection dropped mid-commit), the error is [`AppendError::Failed`]: the
//!   writer must not acknowledge the group and must reload the desk from the journal.
//! - **Reading** a desk back: its genesis config, its latest snapshot, and its entries after
//!   a sequence number (several desks in one read, for a standby following them).

pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchboard::{Command, Config};

use crate::store::Entry;

/// A desk's row, as a host sees it when it looks for desks to claim or follow.
#[derive(Clone, Debug)]
pub struct DeskRow {
    /// The desk's id.
    pub desk: String,
    /// The host that claimed it last, if any.
    pub owner: Option<String>,
    /// That host's HTTP address, for clients sent elsewhere.
    pub address: Option<String>,
    /// No owner, or its lease ran out (by the database's clock): claimable.
    pub free: bool,
}

/// One journal entry read back.
#[derive(Clone, Debug)]
pub struct Logged {
    /// The desk it belongs to.
    pub desk: String,
    /// Its place in that desk's journal.
    pub seq: u64,
    /// The time the engine handled it at.
    pub at: DateTime<Utc>,
    /// The command.
    pub command: Command,
    /// Its events as a JSON array, as written.
    pub events: String,
}

/// Why a group of entries was not appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// Not written: the desk's epoch moved on, the writer's lease ran out, or an entry's
    /// sequence number is already taken. Another host may own the desk now.
    Fenced(String),
    /// The database failed; the group may or may not be in the journal.
    Failed(String),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::Fenced(why) => write!(f, "fenced: {why}"),
            AppendError::Failed(why) => write!(f, "the journal failed: {why}"),
        }
    }
}

/// The journal of many desks, shared by every desk writer of a host.
pub trait Journal: Send + Sync + 'static {
    /// Creates the desk with its genesis config; false if it already exists (its config is
    /// kept).
    fn create_desk(
        &self,
        desk: &str,
        config: &Config,
    ) -> impl Future<Output = Result<bool, String>> + Send;

    /// Every desk.
    fn desks(&self) -> impl Future<Output = Result<Vec<DeskRow>, String>> + Send;

    /// Records that `host` is alive for `lease`; returns how many hosts are alive (this one
    /// included).
    fn heartbeat(
        &self,
        host: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<usize, String>> + Send;

    /// Claims the desk for `host` (reachable at `address`) for `lease`, if it is free or
    /// already the host's; returns the new epoch, or `None` if another host holds it.
    fn claim(
        &self,
        desk: &str,
        host: &str,
        address: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<i64>, String>> + Send;

    /// Extends the leases of the desks `host` holds at these epochs; returns those it still
    /// holds (the others were claimed by another host).
    fn renew(
        &self,
        host: &str,
        held: &[(String, i64)],
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<String>, String>> + Send;

    /// Appends a group of entries of one desk, fenced by `epoch` (see the module docs).
    fn append(
        &self,
        desk: &str,
        epoch: i64,
        entries: &[Entry],
    ) -> impl Future<Output = Result<(), AppendError>> + Send;

    /// The desk's genesis config; `None` for an unknown desk.
    fn genesis(&self, desk: &str) -> impl Future<Output = Result<Option<Config>, String>> + Send;

    /// The desk's latest snapshot: its `seq` and the engine's snapshot as JSON.
    fn latest_snapshot(
        &self,
        desk: &str,
    ) -> impl Future<Output = Result<Option<(u64, String)>, String>> + Send;

    /// Stores a snapshot of the desk after entry `seq`, and drops older ones.
    fn save_snapshot(
        &self,
        desk: &str,
        seq: u64,
        snapshot: String,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The entries after each given `(desk, seq)`, by desk then `seq`; at most `most`.
    fn read_after(
        &self,
        after: &[(String, u64)],
        most: usize,
    ) -> impl Future<Output = Result<Vec<Logged>, String>> + Send;
}

/// The events of a group's entries as JSON arrays, the form both databases store.
pub fn events_array(entry: &Entry) -> String {
    let mut text = String::from("[");
    for (i, event) in entry.events_json.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(event);
    }
    text.push(']');
    text
}

/// Parses a stored entry's time and command.
fn parse_logged(
    desk: String,
    seq: u64,
    at: &str,
    command: &str,
    events: String,
) -> Result<Logged, String> {
    let at: DateTime<Utc> = serde_json::from_str(at)
        .map_err(|e| format!("desk {desk} entry {seq}: bad time {at}: {e}"))?;
    let command: Command = serde_json::from_str(command)
        .map_err(|e| format!("desk {desk} entry {seq}: bad command: {e}"))?;
    Ok(Logged {
        desk,
        seq,
        at,
        command,
        events,
    })
}

/// Whole milliseconds of a lease, at least one.
fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1)
}
