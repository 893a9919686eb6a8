//! The journal on PostgreSQL (R-DS2): many desks, many hosts, one database.
//!
//! A few connections are shared by every desk writer of the host (tokio-postgres pipelines
//! the statements of concurrent writers on one connection); each is reopened when it drops.
//! Every write is one statement, so it is atomic without an explicit transaction, and every
//! lease is measured by the database's clock (`now()`), never the host's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use switchboard::Config;
use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use super::{AppendError, DeskRow, Journal, Logged, events_array, lease_ms, parse_logged};
use crate::store::{Entry, to_json};

/// The tables, created once by whichever host comes first (under an advisory lock, so that
/// hosts starting together do not race).
const SCHEMA: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(7150015);
CREATE TABLE IF NOT EXISTS desks (
    desk        text PRIMARY KEY,
    epoch       bigint NOT NULL DEFAULT 0,
    owner       text,
    address     text,
    lease_until timestamptz,
    config      text NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
    host       text PRIMARY KEY,
    seen_until timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    desk    text NOT NULL,
    seq     bigint NOT NULL,
    at      text NOT NULL,
    command text NOT NULL,
    events  text NOT NULL,
    PRIMARY KEY (desk, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    desk     text NOT NULL,
    seq      bigint NOT NULL,
    snapshot text NOT NULL,
    PRIMARY KEY (desk, seq)
);
COMMIT;";

/// The fenced append: the desk row is locked (a claim in flight is waited for, and then seen)
/// and must still carry the writer's epoch and an unexpired lease, or nothing is inserted.
const APPEND: &str = "
WITH fence AS (
    SELECT desk FROM desks
    WHERE desk = $1 AND epoch = $2 AND lease_until > now()
    FOR UPDATE
)
INSERT INTO journal (desk, seq, at, command, events)
SELECT fence.desk, e.seq, e.at, e.command, e.events
FROM fence, unnest($3::int8[], $4::text[], $5::text[], $6::text[]) AS e(seq, at, command, events)";

/// One connection with the append prepared on it.
struct Conn {
    client: Client,
    append: Statement,
}

/// The PostgreSQL journal.
pub struct Postgres {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
}

impl Postgres {
    /// Connects with `connections` connections (named `application` in `pg_stat_activity`)
    /// and creates the tables if they are missing.
    pub async fn connect(
        url: &str,
        application: &str,
        connections: usize,
    ) -> Result<Postgres, String> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| format!("the PostgreSQL address {url:?}: {e}"))?;
        config.application_name(application);
        let journal = Postgres {
            config,
            slots: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        };
        let client = journal.open().await?;
        client
            .batch_execute(SCHEMA)
            .await
            .map_err(|e| pg("create the tables", &e))?;
        Ok(journal)
    }

    /// A new connection, driven by a task of its own.
    async fn open(&self) -> Result<Client, String> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| pg("connect", &e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "a PostgreSQL connection ended");
            }
        });
        Ok(client)
    }

    /// A live connection, round robin; a dropped one is reopened.
    async fn conn(&self) -> Result<Arc<Conn>, String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if let Some(conn) = slot.as_ref()
            && !conn.client.is_closed()
        {
            return Ok(conn.clone());
        }
        *slot = None;
        let client = self.open().await?;
        let append = client
            .prepare(APPEND)
            .await
            .map_err(|e| pg("prepare the append", &e))?;
        let conn = Arc::new(Conn { client, append });
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

fn pg(what: &str, e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("postgres: {what}: {}", db.message()),
        None => format!("postgres: {what}: {e}"),
    }
}

fn fenced(desk: &str, epoch: i64) -> AppendError {
    AppendError::Fenced(format!(
        "desk {desk} is no longer at epoch {epoch}, or its lease ran out"
    ))
}

fn secs(lease: Duration) -> f64 {
    lease_ms(lease) as f64 / 1000.0
}

fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl Journal for Postgres {
    async fn create_desk(&self, desk: &str, config: &Config) -> Result<bool, String> {
        let conn = self.conn().await?;
        let n = conn
            .client
            .execute(
                "INSERT INTO desks (desk, config) VALUES ($1, $2) ON CONFLICT (desk) DO NOTHING",
                &[&desk, &to_json(config)],
            )
            .await
            .map_err(|e| pg("create the desk", &e))?;
        Ok(n == 1)
    }

    async fn desks(&self) -> Result<Vec<DeskRow>, String> {
        let conn = self.conn().await?;
        let rows = conn
            .client
            .query(
                "SELECT desk, owner, address,
                        owner IS NULL OR lease_until IS NULL OR lease_until <= now()
                 FROM desks ORDER BY desk",
                &[],
            )
            .await
            .map_err(|e| pg("list the desks", &e))?;
        Ok(rows
            .iter()
            .map(|row| DeskRow {
                desk: row.get(0),
                owner: row.get(1),
                address: row.get(2),
                free: row.get(3),
            })
            .collect())
    }

    async fn heartbeat(&self, host: &str, lease: Duration) -> Result<usize, String> {
        let conn = self.conn().await?;
        let row = conn
            .client
            .query_one(
                "WITH beat AS (
                     INSERT INTO hosts (host, seen_until)
                     VALUES ($1, now() + make_interval(secs => $2::float8))
                     ON CONFLICT (host) DO UPDATE SET seen_until = EXCLUDED.seen_until
                 )
                 SELECT count(*) FROM hosts WHERE seen_until > now() AND host <> $1",
                &[&host, &secs(lease)],
            )
            .await
            .map_err(|e| pg("heartbeat", &e))?;
        let others: i64 = row.get(0);
        Ok(usize::try_from(others).unwrap_or(0) + 1)
    }

    async fn claim(
        &self,
        desks: &[String],
        host: &str,
        address: &str,
        lease: Duration,
    ) -> Result<Vec<(String, i64)>, String> {
        if desks.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.conn().await?;
        // Rows are locked in one order, and rows locked by another claim or an append in
        // flight are skipped (claimed on a later round): hosts claiming together never
        // deadlock.
        let rows = conn
            .client
            .query(
                "WITH chosen AS (
                     SELECT desk FROM desks
                     WHERE desk = ANY($1) AND (owner IS NULL OR lease_until <= now() OR owner = $2)
                     ORDER BY desk
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE desks d
                 SET epoch = d.epoch + 1, owner = $2, address = $3,
                     lease_until = now() + make_interval(secs => $4::float8)
                 FROM chosen WHERE d.desk = chosen.desk
                 RETURNING d.desk, d.epoch",
                &[&desks, &host, &address, &secs(lease)],
            )
            .await
            .map_err(|e| pg("claim", &e))?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn renew(
        &self,
        host: &str,
        held: &[(String, i64)],
        lease: Duration,
    ) -> Result<Vec<String>, String> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let desks: Vec<&str> = held.iter().map(|(d, _)| d.as_str()).collect();
        let epochs: Vec<i64> = held.iter().map(|(_, e)| *e).collect();
        let conn = self.conn().await?;
        let rows = conn
            .client
            .query(
                "UPDATE desks d SET lease_until = now() + make_interval(secs => $4::float8)
                 FROM unnest($2::text[], $3::int8[]) AS h(desk, epoch)
                 WHERE d.desk = h.desk AND d.epoch = h.epoch AND d.owner = $1
                 RETURNING d.desk",
                &[&host, &desks, &epochs, &secs(lease)],
            )
            .await
            .map_err(|e| pg("renew the leases", &e))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn append(&self, desk: &str, epoch: i64, entries: &[Entry]) -> Result<(), AppendError> {
        let conn = self.conn().await.map_err(AppendError::Failed)?;
        if entries.is_empty() {
            let holds = conn
                .client
                .query_opt(
                    "SELECT 1 FROM desks WHERE desk = $1 AND epoch = $2 AND lease_until > now()",
                    &[&desk, &epoch],
                )
                .await
                .map_err(|e| AppendError::Failed(pg("check the lease", &e)))?;
            return match holds {
                Some(_) => Ok(()),
                None => Err(fenced(desk, epoch)),
            };
        }
        let seqs: Vec<i64> = entries.iter().map(|e| seq_i64(e.seq)).collect();
        let ats: Vec<&str> = entries.iter().map(|e| e.at_json.as_str()).collect();
        let commands: Vec<&str> = entries.iter().map(|e| e.command_json.as_str()).collect();
        let events: Vec<String> = entries.iter().map(events_array).collect();
        match conn
            .client
            .execute(
                &conn.append,
                &[&desk, &epoch, &seqs, &ats, &commands, &events],
            )
            .await
        {
            Ok(n) if n == entries.len() as u64 => Ok(()),
            Ok(_) => Err(fenced(desk, epoch)),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(AppendError::Fenced(
                format!("desk {desk}: entry {} is already written", entries[0].seq),
            )),
            Err(e) => Err(AppendError::Failed(pg("append", &e))),
        }
    }

    async fn genesis(&self, desk: &str) -> Result<Option<Config>, String> {
        let conn = self.conn().await?;
        let row = conn
            .client
            .query_opt("SELECT config FROM desks WHERE desk = $1", &[&desk])
            .await
            .map_err(|e| pg("read the desk's config", &e))?;
        row.map(|row| {
            let text: String = row.get(0);
            serde_json::from_str(&text).map_err(|e| format!("desk {desk}'s config: {e}"))
        })
        .transpose()
    }

    async fn latest_snapshot(&self, desk: &str) -> Result<Option<(u64, String)>, String> {
        let conn = self.conn().await?;
        let row = conn
            .client
            .query_opt(
                "SELECT seq, snapshot FROM snapshots WHERE desk = $1 ORDER BY seq DESC LIMIT 1",
                &[&desk],
            )
            .await
            .map_err(|e| pg("read a snapshot", &e))?;
        Ok(row.map(|row| {
            let seq: i64 = row.get(0);
            (u64::try_from(seq).unwrap_or(0), row.get(1))
        }))
    }

    async fn save_snapshot(&self, desk: &str, seq: u64, snapshot: String) -> Result<(), String> {
        let conn = self.conn().await?;
        conn.client
            .execute(
                "WITH dropped AS (DELETE FROM snapshots WHERE desk = $1 AND seq < $2)
                 INSERT INTO snapshots (desk, seq, snapshot) VALUES ($1, $2, $3)
                 ON CONFLICT (desk, seq) DO NOTHING",
                &[&desk, &seq_i64(seq), &snapshot],
            )
            .await
            .map_err(|e| pg("write a snapshot", &e))?;
        Ok(())
    }

    async fn read_after(
        &self,
        after: &[(String, u64)],
        most: usize,
    ) -> Result<Vec<Logged>, String> {
        if after.is_empty() {
            return Ok(Vec::new());
        }
        let desks: Vec<&str> = after.iter().map(|(d, _)| d.as_str()).collect();
        let seqs: Vec<i64> = after.iter().map(|(_, s)| seq_i64(*s)).collect();
        let most = i64::try_from(most).unwrap_or(i64::MAX);
        let conn = self.conn().await?;
        let rows = conn
            .client
            .query(
                "SELECT j.desk, j.seq, j.at, j.command, j.events
                 FROM unnest($1::text[], $2::int8[]) AS f(desk, seq)
                 JOIN journal j ON j.desk = f.desk AND j.seq > f.seq
                 ORDER BY j.desk, j.seq LIMIT $3",
                &[&desks, &seqs, &most],
            )
            .await
            .map_err(|e| pg("read the journal", &e))?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.get(1);
                let at: &str = row.get(2);
                let command: &str = row.get(3);
                parse_logged(
                    row.get(0),
                    u64::try_from(seq).unwrap_or(0),
                    at,
                    command,
                    row.get(4),
                )
            })
            .collect()
    }
}
