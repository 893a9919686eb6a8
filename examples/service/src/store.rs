//! The durable part: a SQLite journal of accepted commands with their events, and snapshots.
//!
//! Three tables. `journal` holds every accepted command with the time it was handled at, in
//! order (`seq` 1, 2, ...); `events` holds what each produced; `snapshots` holds the whole
//! engine state after some `seq` (0 is the engine as first created, so its config is durable
//! too). One write transaction appends a group of commands with their events, and a snapshot
//! when one is due; a command is acknowledged only after that transaction has committed.
//! Recovery restores the latest snapshot and replays the journal after it, checking that every
//! replayed command gives the events it gave the first time.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use switchboard::{Command, Engine, Event, Snapshot};

/// One accepted command, ready to be appended.
pub struct Entry {
    /// Its place in the journal.
    pub seq: u64,
    /// The time it was handled at (the engine's clock after it).
    pub at: DateTime<Utc>,
    /// The command.
    pub command: Command,
    /// What it produced.
    pub events: Vec<Event>,
}

/// The journal and snapshots in one SQLite database.
pub struct Store {
    conn: Connection,
    /// Held between writing a group and committing it: a slow disk, simulated for tests (a
    /// command acknowledged before its commit would then be lost by a crash, and seen).
    commit_delay: Duration,
}

/// How many snapshots to keep; older ones are deleted when a new one is written. The journal
/// itself is kept whole: it is the audit log.
const SNAPSHOTS_KEPT: u64 = 2;

impl Store {
    /// Opens (or creates) the database. WAL with `synchronous = FULL`: a commit is on disk
    /// before it returns, so an acknowledged command survives a crash or power loss.
    pub fn open(path: &Path, commit_delay: Duration) -> Result<Self, String> {
        let conn = Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS journal (
                 seq     INTEGER PRIMARY KEY,
                 at      TEXT NOT NULL,
                 command TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS events (
                 seq   INTEGER NOT NULL REFERENCES journal (seq),
                 idx   INTEGER NOT NULL,
                 event TEXT NOT NULL,
                 PRIMARY KEY (seq, idx)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS snapshots (
                 seq      INTEGER PRIMARY KEY,
                 snapshot TEXT NOT NULL
             );",
        )
        .map_err(|e| format!("prepare {}: {e}", path.display()))?;
        Ok(Self { conn, commit_delay })
    }

    /// Rebuilds the engine: the latest snapshot, then every journal entry after it. On a new
    /// database, creates the engine with `new` and stores it as snapshot 0. Returns the engine,
    /// the last `seq` applied, the snapshot's `seq` and how many entries were replayed.
    pub fn recover(
        &mut self,
        new: impl FnOnce() -> Result<Engine, String>,
    ) -> Result<Recovered, String> {
        let latest: Option<(u64, String)> = self
            .conn
            .query_row(
                "SELECT seq, snapshot FROM snapshots ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let (mut engine, from) = match latest {
            Some((seq, text)) => {
                let snapshot: Snapshot = serde_json::from_str(&text)
                    .map_err(|e| format!("snapshot {seq} does not parse: {e}"))?;
                let engine = Engine::restore(snapshot)
                    .map_err(|e| format!("snapshot {seq} does not restore: {e}"))?;
                (engine, seq)
            }
            None => {
                let engine = new()?;
                let tx = self.conn.transaction().map_err(sql)?;
                tx.execute(
                    "INSERT INTO snapshots (seq, snapshot) VALUES (0, ?1)",
                    params![to_json(&engine.snapshot())],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                (engine, 0)
            }
        };

        let mut journal = self
            .conn
            .prepare("SELECT seq, at, command FROM journal WHERE seq > ?1 ORDER BY seq")
            .map_err(sql)?;
        let mut logged = self
            .conn
            .prepare("SELECT event FROM events WHERE seq = ?1 ORDER BY idx")
            .map_err(sql)?;
        let mut rows = journal.query(params![from]).map_err(sql)?;
        let mut last = from;
        let mut replayed = 0;
        while let Some(row) = rows.next().map_err(sql)? {
            let seq: u64 = row.get(0).map_err(sql)?;
            let at: String = row.get(1).map_err(sql)?;
            let command: String = row.get(2).map_err(sql)?;
            if seq != last + 1 {
                return Err(format!("journal gap: entry {seq} follows {last}"));
            }
            let at: DateTime<Utc> = serde_json::from_str(&at)
                .map_err(|e| format!("journal entry {seq}: bad time {at}: {e}"))?;
            let command: Command = serde_json::from_str(&command)
                .map_err(|e| format!("journal entry {seq}: bad command: {e}"))?;
            let outcome = engine
                .handle(at, command)
                .map_err(|e| format!("journal entry {seq} is refused on replay: {e}"))?;
            let expected: Vec<String> = logged
                .query_map(params![seq], |row| row.get(0))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            let got: Vec<String> = outcome.events.iter().map(to_json).collect();
            if got != expected {
                return Err(format!(
                    "journal entry {seq} replays to other events than it produced: the engine \
                     is not the one that wrote this journal"
                ));
            }
            last = seq;
            replayed += 1;
        }
        Ok(Recovered {
            engine,
            seq: last,
            snapshot: from,
            replayed,
        })
    }

    /// Appends entries with their events, and the snapshot of the engine after the last one
    /// when given, in one transaction. Nothing is written unless all of it is.
    pub fn append(&mut self, entries: &[Entry], snapshot: Option<&Snapshot>) -> Result<(), String> {
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut journal = tx
                .prepare_cached("INSERT INTO journal (seq, at, command) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            let mut events = tx
                .prepare_cached("INSERT INTO events (seq, idx, event) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for entry in entries {
                journal
                    .execute(params![
                        entry.seq,
                        to_json(&entry.at),
                        to_json(&entry.command)
                    ])
                    .map_err(sql)?;
                for (idx, event) in entry.events.iter().enumerate() {
                    events
                        .execute(params![entry.seq, idx as u64, to_json(event)])
                        .map_err(sql)?;
                }
            }
        }
        if let (Some(snapshot), Some(last)) = (snapshot, entries.last()) {
            tx.execute(
                "INSERT INTO snapshots (seq, snapshot) VALUES (?1, ?2)",
                params![last.seq, to_json(snapshot)],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM snapshots WHERE seq NOT IN
                     (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?1)",
                params![SNAPSHOTS_KEPT],
            )
            .map_err(sql)?;
        }
        if !self.commit_delay.is_zero() {
            std::thread::sleep(self.commit_delay);
        }
        tx.commit().map_err(sql)
    }
}

/// What [`Store::recover`] rebuilt.
pub struct Recovered {
    /// The engine, as after the last journal entry.
    pub engine: Engine,
    /// The last journal entry applied (0 for none).
    pub seq: u64,
    /// The snapshot it started from.
    pub snapshot: u64,
    /// How many journal entries were replayed after the snapshot.
    pub replayed: u64,
}

fn sql(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

/// The engine's types serialize to JSON without fail (string keys, no floats); a failure
/// would be a bug in switchboard's serde derives.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("switchboard's types serialize to JSON")
}
