//! The journal of many desks in one SQLite file: the embedded default, no server. The same
//! rules as on PostgreSQL (claims, epochs, leases by the database's clock, fenced appends
//! with the key `(desk, seq)`); SQLite serializes writers on the whole file, so the fence
//! check and the insert run in one `BEGIN IMMEDIATE` transaction. Hosts sharing the file
//! must share the machine: this is for one process, or a few on one disk.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use switchboard::Config;

use super::{AppendError, DeskRow, Journal, Logged, events_array, lease_ms, parse_logged};
use crate::store::{Entry, to_json};

/// The database's clock, in milliseconds since 1970.
const NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

/// The SQLite journal of many desks.
pub struct Sqlite {
    conn: Mutex<Connection>,
}

fn sql(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

impl Sqlite {
    /// Opens (or creates) the file, in WAL mode with `synchronous = FULL` like the single-desk
    /// journal.
    pub fn open(path: &Path) -> Result<Sqlite, String> {
        let conn = Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS desks (
                 desk        TEXT PRIMARY KEY,
                 epoch       INTEGER NOT NULL DEFAULT 0,
                 owner       TEXT,
                 address     TEXT,
                 lease_until INTEGER,
                 config      TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS hosts (
                 host       TEXT PRIMARY KEY,
                 seen_until INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS desk_journal (
                 desk    TEXT NOT NULL,
                 seq     INTEGER NOT NULL,
                 at      TEXT NOT NULL,
                 command TEXT NOT NULL,
                 events  TEXT NOT NULL,
                 PRIMARY KEY (desk, seq)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS desk_snapshots (
                 desk     TEXT NOT NULL,
                 seq      INTEGER NOT NULL,
                 snapshot TEXT NOT NULL,
                 PRIMARY KEY (desk, seq)
             );",
        )
        .map_err(|e| format!("prepare {}: {e}", path.display()))?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the connection, off the async workers' hot path.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        tokio::task::block_in_place(|| {
            let mut conn = self
                .conn
                .lock()
                .expect("the SQLite journal lock is never poisoned");
            f(&mut conn)
        })
    }
}

impl Journal for Sqlite {
    async fn create_desk(&self, desk: &str, config: &Config) -> Result<bool, String> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO desks (desk, config) VALUES (?1, ?2) ON CONFLICT (desk) DO NOTHING",
                params![desk, to_json(config)],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
    }

    async fn desks(&self) -> Result<Vec<DeskRow>, String> {
        self.with(|conn| {
            let mut statement = conn
                .prepare_cached(&format!(
                    "SELECT desk, owner, address,
                            owner IS NULL OR lease_until IS NULL OR lease_until <= {NOW}
                     FROM desks ORDER BY desk"
                ))
                .map_err(sql)?;
            statement
                .query_map([], |row| {
                    Ok(DeskRow {
                        desk: row.get(0)?,
                        owner: row.get(1)?,
                        address: row.get(2)?,
                        free: row.get(3)?,
                    })
                })
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)
        })
    }

    async fn heartbeat(&self, host: &str, lease: Duration) -> Result<usize, String> {
        self.with(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO hosts (host, seen_until) VALUES (?1, {NOW} + ?2)
                     ON CONFLICT (host) DO UPDATE SET seen_until = excluded.seen_until"
                ),
                params![host, lease_ms(lease)],
            )
            .map_err(sql)?;
            conn.query_row(
                &format!("SELECT COUNT(*) FROM hosts WHERE seen_until > {NOW}"),
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| usize::try_from(n).unwrap_or(1).max(1))
            .map_err(sql)
        })
    }

    async fn claim(
        &self,
        desks: &[String],
        host: &str,
        address: &str,
        lease: Duration,
    ) -> Result<Vec<(String, i64)>, String> {
        self.with(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let mut claimed = Vec::new();
            {
                let mut claim = tx
                    .prepare_cached(&format!(
                        "UPDATE desks
                         SET epoch = epoch + 1, owner = ?2, address = ?3, lease_until = {NOW} + ?4
                         WHERE desk = ?1
                           AND (owner IS NULL OR lease_until <= {NOW} OR owner = ?2)
                         RETURNING epoch"
                    ))
                    .map_err(sql)?;
                for desk in desks {
                    let epoch: Option<i64> = claim
                        .query_row(params![desk, host, address, lease_ms(lease)], |row| {
                            row.get(0)
                        })
                        .optional()
                        .map_err(sql)?;
                    if let Some(epoch) = epoch {
                        claimed.push((desk.clone(), epoch));
                    }
                }
            }
            tx.commit().map_err(sql)?;
            Ok(claimed)
        })
    }

    async fn renew(
        &self,
        host: &str,
        held: &[(String, i64)],
        lease: Duration,
    ) -> Result<Vec<String>, String> {
        self.with(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let mut kept = Vec::new();
            {
                let mut renew = tx
                    .prepare_cached(&format!(
                        "UPDATE desks SET lease_until = {NOW} + ?4
                         WHERE desk = ?2 AND epoch = ?3 AND owner = ?1"
                    ))
                    .map_err(sql)?;
                for (desk, epoch) in held {
                    if renew
                        .execute(params![host, desk, epoch, lease_ms(lease)])
                        .map_err(sql)?
                        == 1
                    {
                        kept.push(desk.clone());
                    }
                }
            }
            tx.commit().map_err(sql)?;
            Ok(kept)
        })
    }

    async fn append(&self, desk: &str, epoch: i64, entries: &[Entry]) -> Result<(), AppendError> {
        let failed = |e: rusqlite::Error| AppendError::Failed(sql(e));
        self.with(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed)?;
            let holds: bool = tx
                .query_row(
                    &format!(
                        "SELECT COUNT(*) > 0 FROM desks
                         WHERE desk = ?1 AND epoch = ?2 AND lease_until > {NOW}"
                    ),
                    params![desk, epoch],
                    |row| row.get(0),
                )
                .map_err(failed)?;
            if !holds {
                return Err(AppendError::Fenced(format!(
                    "desk {desk} is no longer at epoch {epoch}, or its lease ran out"
                )));
            }
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO desk_journal (desk, seq, at, command, events)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(failed)?;
                for entry in entries {
                    match insert.execute(params![
                        desk,
                        entry.seq,
                        entry.at_json,
                        entry.command_json,
                        events_array(entry)
                    ]) {
                        Ok(_) => {}
                        Err(rusqlite::Error::SqliteFailure(e, _))
                            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            return Err(AppendError::Fenced(format!(
                                "desk {desk}: entry {} is already written",
                                entry.seq
                            )));
                        }
                        Err(e) => return Err(failed(e)),
                    }
                }
            }
            tx.commit().map_err(failed)
        })
    }

    async fn genesis(&self, desk: &str) -> Result<Option<Config>, String> {
        let text: Option<String> = self.with(|conn| {
            conn.query_row(
                "SELECT config FROM desks WHERE desk = ?1",
                params![desk],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql)
        })?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| format!("desk {desk}'s config: {e}")))
            .transpose()
    }

    async fn latest_snapshot(&self, desk: &str) -> Result<Option<(u64, String)>, String> {
        self.with(|conn| {
            conn.query_row(
                "SELECT seq, snapshot FROM desk_snapshots WHERE desk = ?1
                 ORDER BY seq DESC LIMIT 1",
                params![desk],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql)
        })
    }

    async fn save_snapshot(&self, desk: &str, seq: u64, snapshot: String) -> Result<(), String> {
        self.with(|conn| {
            let tx = conn.transaction().map_err(sql)?;
            tx.execute(
                "INSERT OR IGNORE INTO desk_snapshots (desk, seq, snapshot) VALUES (?1, ?2, ?3)",
                params![desk, seq, snapshot],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM desk_snapshots WHERE desk = ?1 AND seq < ?2",
                params![desk, seq],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
    }

    async fn read_after(
        &self,
        after: &[(String, u64)],
        most: usize,
    ) -> Result<Vec<Logged>, String> {
        self.with(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT seq, at, command, events FROM desk_journal
                     WHERE desk = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(sql)?;
            let mut out = Vec::new();
            for (desk, from) in after {
                let left = most.saturating_sub(out.len());
                if left == 0 {
                    break;
                }
                let rows = statement
                    .query_map(params![desk, from, left as u64], |row| {
                        Ok((
                            row.get::<_, u64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                        ))
                    })
                    .map_err(sql)?;
                for row in rows {
                    let (seq, at, command, events) = row.map_err(sql)?;
                    out.push(parse_logged(desk.clone(), seq, &at, &command, events)?);
                }
            }
            Ok(out)
        })
    }
}
