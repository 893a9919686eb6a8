//! The durable part: a SQLite journal of accepted commands with their events.
//!
//! Three tables. `journal` holds every accepted command with the time it was handled at, in
//! order (`seq` 1, 2, ...); `events` holds what each produced; `meta` holds the config the
//! engine was first created with, so that a journal from entry 1 can always be replayed.
//! One write transaction appends a group of commands with their events; a command is
//! acknowledged only after that transaction has committed.
//!
//! Snapshots live beside the database, in files (`snapshots.rs`), written off the writer.
//! Once a snapshot is durable, the journal before the older of the two snapshots kept is no
//! longer needed for recovery: depending on `--journal`, it is kept (an audit log in the
//! database), compacted (deleted), or archived (written to JSON-lines files, then deleted).
//! The writer deletes it a few hundred entries per commit, so a compaction never stalls it.
//!
//! [`Journal`] is a second, read-only connection: the event stream reads missed entries from
//! it (`Last-Event-ID`), and the archiver reads what it archives, without touching the writer.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use switchboard::{Command, Config, Event};

/// One accepted command with what it produced, serialized once for the journal, the event
/// stream and the archive.
pub struct Entry {
    /// Its place in the journal.
    pub seq: u64,
    /// The time it was handled at (the engine's clock after it).
    pub at: DateTime<Utc>,
    /// The command.
    pub command: Command,
    /// What it produced.
    pub events: Vec<Event>,
    /// `at`, `command` and each event as JSON.
    pub at_json: String,
    pub command_json: String,
    pub events_json: Vec<String>,
}

impl Entry {
    pub fn new(seq: u64, at: DateTime<Utc>, command: Command, events: Vec<Event>) -> Entry {
        Entry {
            seq,
            at_json: to_json(&at),
            command_json: to_json(&command),
            events_json: events.iter().map(to_json).collect(),
            at,
            command,
            events,
        }
    }

    /// The event stream's message for this entry: `{"seq", "at", "events"}`.
    pub fn stream_data(&self) -> String {
        stream_data(self.seq, &self.at_json, &self.events_json)
    }
}

/// The event stream's message for a journal entry, the same whether it is sent live or read
/// back from the journal.
pub fn stream_data(seq: u64, at_json: &str, events_json: &[String]) -> String {
    let mut data = format!("{{\"seq\":{seq},\"at\":{at_json},\"events\":[");
    for (i, event) in events_json.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        data.push_str(event);
    }
    data.push_str("]}");
    data
}

/// The journal, opened for writing by the single writer.
pub struct Store {
    conn: Connection,
    /// Held between writing a group and committing it: a slow disk, simulated for tests (a
    /// command acknowledged before its commit would then be lost by a crash, and seen).
    commit_delay: Duration,
    /// Every entry up to this one has been deleted.
    compacted: u64,
}

/// Most journal entries deleted per commit, besides twice the entries that commit appends.
const COMPACT_CHUNK: u64 = 256;

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
             CREATE TABLE IF NOT EXISTS meta (
                 key   TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );",
        )
        .map_err(|e| format!("prepare {}: {e}", path.display()))?;
        let mut store = Self {
            conn,
            commit_delay,
            compacted: 0,
        };
        store.compacted = store
            .first_seq()?
            .map_or(store.last_seq()?, |first| first - 1);
        Ok(store)
    }

    /// The first entry in the journal, if any.
    pub fn first_seq(&self) -> Result<Option<u64>, String> {
        self.conn
            .query_row("SELECT MIN(seq) FROM journal", [], |r| r.get(0))
            .map_err(sql)
    }

    /// The last entry in the journal (0 for none).
    pub fn last_seq(&self) -> Result<u64, String> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
                r.get(0)
            })
            .map_err(sql)
    }

    /// The config the engine was first created with, if recorded.
    pub fn genesis(&self) -> Result<Option<Config>, String> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'genesis'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| format!("the genesis config: {e}")))
            .transpose()
    }

    /// Records the config the engine was first created with.
    pub fn set_genesis(&mut self, config: &Config) -> Result<(), String> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('genesis', ?1)",
                params![to_json(config)],
            )
            .map(drop)
            .map_err(sql)
    }

    /// The latest snapshot of a database written before snapshots moved to files, if any:
    /// its `seq` and JSON.
    pub fn legacy_snapshot(&self) -> Result<Option<(u64, String)>, String> {
        let exists: bool = self
            .conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        if !exists {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT seq, snapshot FROM snapshots ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql)
    }

    /// Calls `each` with every entry after `from`, in order: its `seq`, time, command, and
    /// its events as JSON. Fails on a gap.
    pub fn replay(
        &self,
        from: u64,
        mut each: impl FnMut(u64, DateTime<Utc>, Command, Vec<String>) -> Result<(), String>,
    ) -> Result<u64, String> {
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
            let events: Vec<String> = logged
                .query_map(params![seq], |row| row.get(0))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            each(seq, at, command, events)?;
            last = seq;
        }
        Ok(last)
    }

    /// Appends entries with their events in one transaction, and deletes a bounded part of
    /// the journal up to `compact_to` (0: none). Nothing is written unless all of it is.
    pub fn append(&mut self, entries: &[Entry], compact_to: u64) -> Result<(), String> {
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
                    .execute(params![entry.seq, entry.at_json, entry.command_json])
                    .map_err(sql)?;
                for (idx, event) in entry.events_json.iter().enumerate() {
                    events
                        .execute(params![entry.seq, idx as u64, event])
                        .map_err(sql)?;
                }
            }
        }
        let mut compacted = self.compacted;
        if compact_to > self.compacted {
            let upto = compact_to.min(self.compacted + COMPACT_CHUNK + 2 * entries.len() as u64);
            tx.execute(
                "DELETE FROM events WHERE seq > ?1 AND seq <= ?2",
                params![self.compacted, upto],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM journal WHERE seq > ?1 AND seq <= ?2",
                params![self.compacted, upto],
            )
            .map_err(sql)?;
            compacted = upto;
        }
        if !self.commit_delay.is_zero() {
            std::thread::sleep(self.commit_delay);
        }
        tx.commit().map_err(sql)?;
        self.compacted = compacted;
        Ok(())
    }
}

/// Why [`Journal::since`] cannot give what was asked.
#[derive(Debug)]
pub enum Gap {
    /// The entries were compacted away, or there are more than the stream resends.
    TooFar,
    /// The database failed.
    Failed(String),
}

/// A read-only connection to the journal, for the event stream and the archiver.
pub struct Journal {
    conn: Mutex<Connection>,
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal, String> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("open {} for reading: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
        Ok(Journal {
            conn: Mutex::new(conn),
        })
    }

    /// The event-stream messages of the entries after `after` up to `upto`, in order, with
    /// their `seq`; at most `most` of them.
    pub fn since(&self, after: u64, upto: u64, most: u64) -> Result<Vec<(u64, String)>, Gap> {
        if upto <= after {
            return Ok(Vec::new());
        }
        if upto - after > most {
            return Err(Gap::TooFar);
        }
        let conn = self
            .conn
            .lock()
            .expect("the journal lock is never poisoned");
        let failed = |e: rusqlite::Error| Gap::Failed(e.to_string());
        let mut statement = conn
            .prepare_cached(
                "SELECT journal.seq, journal.at, events.event FROM journal
                 LEFT JOIN events ON events.seq = journal.seq
                 WHERE journal.seq > ?1 AND journal.seq <= ?2
                 ORDER BY journal.seq, events.idx",
            )
            .map_err(failed)?;
        let mut rows = statement.query(params![after, upto]).map_err(failed)?;
        let mut out = Vec::new();
        let mut current: Option<(u64, String, Vec<String>)> = None;
        while let Some(row) = rows.next().map_err(failed)? {
            let seq: u64 = row.get(0).map_err(failed)?;
            let at: String = row.get(1).map_err(failed)?;
            let event: Option<String> = row.get(2).map_err(failed)?;
            if current.as_ref().is_none_or(|(s, ..)| *s != seq) {
                if let Some((s, at, events)) = current.take() {
                    out.push((s, stream_data(s, &at, &events)));
                }
                current = Some((seq, at, Vec::new()));
            }
            if let (Some(event), Some((.., events))) = (event, current.as_mut()) {
                events.push(event);
            }
        }
        if let Some((s, at, events)) = current.take() {
            out.push((s, stream_data(s, &at, &events)));
        }
        // The first one asked for is gone: compacted.
        if out.first().is_none_or(|(s, _)| *s != after + 1) {
            return Err(Gap::TooFar);
        }
        Ok(out)
    }

    /// Writes the entries after `after` up to `upto` as JSON lines (`{"seq", "at",
    /// "command", "events"}`) to `out`.
    pub fn export(
        &self,
        after: u64,
        upto: u64,
        out: &mut impl std::io::Write,
    ) -> Result<(), String> {
        let conn = self
            .conn
            .lock()
            .expect("the journal lock is never poisoned");
        let mut journal = conn
            .prepare(
                "SELECT seq, at, command FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
            )
            .map_err(sql)?;
        let mut logged = conn
            .prepare("SELECT event FROM events WHERE seq = ?1 ORDER BY idx")
            .map_err(sql)?;
        let mut rows = journal.query(params![after, upto]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let seq: u64 = row.get(0).map_err(sql)?;
            let at: String = row.get(1).map_err(sql)?;
            let command: String = row.get(2).map_err(sql)?;
            let events: Vec<String> = logged
                .query_map(params![seq], |row| row.get(0))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            writeln!(
                out,
                "{{\"seq\":{seq},\"at\":{at},\"command\":{command},\"events\":[{}]}}",
                events.join(",")
            )
            .map_err(|e| format!("write the archive: {e}"))?;
        }
        Ok(())
    }
}

pub fn sql(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

/// The engine's types serialize to JSON without fail (string keys, no floats); a failure
/// would be a bug in switchboard's serde derives.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("switchboard's types serialize to JSON")
}
