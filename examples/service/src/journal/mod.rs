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

    /// Claims those of `desks` that are free or already the host's, for `host` (reachable at
    /// `address`) for `lease`; returns each desk claimed with its new epoch. Desks another
    /// host holds, or that are locked by a claim or an append in flight, are left out.
    fn claim(
        &self,
        desks: &[String],
        host: &str,
        address: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<(String, i64)>, String>> + Send;

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

#[cfg(test)]
#[path = "../../tests/pg/mod.rs"]
mod pg;

#[cfg(test)]
mod tests {
    //! The trait's promises, on both databases (R-DS2): a desk claimed twice, a stale epoch,
    //! a lease that ran out, a group half of which collides.

    use chrono::TimeZone as _;

    use super::*;

    fn entry(seq: u64) -> Entry {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
            .single()
            .expect("a valid date");
        Entry::new(seq, at, Command::Tick, Vec::new())
    }

    fn seqs(logged: &[Logged]) -> Vec<u64> {
        logged.iter().map(|l| l.seq).collect()
    }

    async fn contract(journal: impl Journal) {
        let long = Duration::from_secs(60);
        let short = Duration::from_millis(300);
        let d = || "desk-1".to_owned();
        assert!(
            journal
                .create_desk("desk-1", &Config::default())
                .await
                .unwrap()
        );
        assert!(
            !journal
                .create_desk("desk-1", &Config::default())
                .await
                .unwrap()
        );
        assert_eq!(journal.genesis("nope").await.unwrap(), None);
        assert!(journal.genesis("desk-1").await.unwrap().is_some());
        assert_eq!(journal.heartbeat("a", long).await.unwrap(), 1);
        assert_eq!(journal.heartbeat("b", long).await.unwrap(), 2);

        // Claimed twice: the second host is refused while the lease runs.
        let first = journal.claim(&[d()], "a", "a:1", short).await.unwrap();
        assert_eq!(first.len(), 1, "a free desk can be claimed");
        let first = first[0].1;
        assert_eq!(journal.claim(&[d()], "b", "b:1", long).await.unwrap(), []);
        let rows = journal.desks().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].owner.as_deref(), Some("a"));
        assert_eq!(rows[0].address.as_deref(), Some("a:1"));
        assert!(!rows[0].free);

        journal
            .append("desk-1", first, &[entry(1), entry(2)])
            .await
            .unwrap();
        // A group one of whose entries is taken is written not at all.
        let collides = journal.append("desk-1", first, &[entry(3), entry(2)]).await;
        assert!(
            matches!(collides, Err(AppendError::Fenced(_))),
            "{collides:?}"
        );
        let logged = journal.read_after(&[(d(), 0)], 100).await.unwrap();
        assert_eq!(seqs(&logged), [1, 2]);
        assert_eq!(logged[0].events, "[]");

        // The lease runs out by the database's clock: the writer cannot append any more,
        // and another host claims the desk with a new epoch.
        tokio::time::sleep(short * 2).await;
        assert!(journal.desks().await.unwrap()[0].free);
        let late = journal.append("desk-1", first, &[entry(3)]).await;
        assert!(matches!(late, Err(AppendError::Fenced(_))), "{late:?}");
        let second = journal.claim(&[d()], "b", "b:1", long).await.unwrap();
        assert_eq!(second.len(), 1, "a desk whose lease ran out can be claimed");
        let second = second[0].1;
        assert!(second > first);
        // The stale writer renews nothing and still cannot append; the new one can.
        assert!(
            journal
                .renew("a", &[(d(), first)], long)
                .await
                .unwrap()
                .is_empty()
        );
        let stale = journal.append("desk-1", first, &[entry(3)]).await;
        assert!(matches!(stale, Err(AppendError::Fenced(_))), "{stale:?}");
        assert_eq!(
            journal.renew("b", &[(d(), second)], long).await.unwrap(),
            [d()]
        );
        journal.append("desk-1", second, &[entry(3)]).await.unwrap();
        let logged = journal.read_after(&[(d(), 1)], 100).await.unwrap();
        assert_eq!(seqs(&logged), [2, 3]);
        assert_eq!(journal.read_after(&[(d(), 0)], 2).await.unwrap().len(), 2);

        // Snapshots: the latest one.
        assert_eq!(journal.latest_snapshot("desk-1").await.unwrap(), None);
        journal
            .save_snapshot("desk-1", 2, "two".into())
            .await
            .unwrap();
        journal
            .save_snapshot("desk-1", 3, "three".into())
            .await
            .unwrap();
        assert_eq!(
            journal.latest_snapshot("desk-1").await.unwrap(),
            Some((3, "three".to_owned()))
        );
    }

    /// R-DS2 on SQLite.
    #[tokio::test(flavor = "multi_thread")]
    async fn r_ds2_the_sqlite_journal_fences_stale_writers() {
        let dir = std::env::temp_dir().join(format!("switchboard-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        contract(sqlite::Sqlite::open(&dir.join("desks.db")).unwrap()).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// R-DS2 on PostgreSQL (skipped without it, unless SWITCHBOARD_REQUIRE_POSTGRES=1).
    #[tokio::test(flavor = "multi_thread")]
    async fn r_ds2_the_postgres_journal_fences_stale_writers() {
        let Some(cluster) = pg::Postgres::start("journal") else {
            return;
        };
        let journal = postgres::Postgres::connect(&cluster.url(), "journal-test", 2)
            .await
            .unwrap();
        contract(journal).await;
        // A second host starting against the same database finds the tables.
        let again = postgres::Postgres::connect(&cluster.url(), "journal-test", 1)
            .await
            .unwrap();
        assert_eq!(again.desks().await.unwrap().len(), 1);
    }
}
