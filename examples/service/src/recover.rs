//! Recovery: the newest snapshot that reads and that the journal continues, then every journal
//! entry after it, each checked to produce exactly the events it logged (determinism is what
//! makes the journal a faithful record). The host's projection is folded along.

use chrono::{DateTime, Utc};
use switchboard::{Engine, Snapshot};

use crate::projection::{Projection, Settings};
use crate::snapshots::Snapshots;
use crate::store::{Store, to_json};

/// What recovery rebuilt.
pub struct Recovered {
    /// The engine, as after the last journal entry.
    pub engine: Engine,
    /// The host's projection, as after the last journal entry.
    pub projection: Projection,
    /// The last journal entry applied (0 for none).
    pub seq: u64,
    /// The snapshot it started from.
    pub snapshot: u64,
    /// How many journal entries were replayed after the snapshot.
    pub replayed: u64,
}

/// Rebuilds the engine from the store and the snapshots. On a new database, creates the
/// engine with `new` and records its config.
pub fn recover(
    store: &mut Store,
    snapshots: &Snapshots,
    settings: &Settings,
    new: impl FnOnce() -> Result<Engine, String>,
) -> Result<Recovered, String> {
    let first = store.first_seq()?;
    let last = store.last_seq()?;
    // The snapshot must not be older than the journal's start, nor newer than its end.
    let usable = |seq: u64| seq <= last && first.is_none_or(|f| seq + 1 >= f);
    let mut start: Option<(Engine, Projection, u64)> = None;
    for (seq, path) in snapshots.list() {
        if !usable(seq) {
            continue;
        }
        match Snapshots::load(&path).and_then(|stored| {
            if stored.seq != seq {
                return Err(format!("{} holds entry {}", path.display(), stored.seq));
            }
            let engine = restore(stored.engine, seq)?;
            let projection = stored
                .projection
                .unwrap_or_else(|| Projection::rebuild(&engine, clock(&engine)));
            Ok((engine, projection))
        }) {
            Ok((engine, projection)) => {
                start = Some((engine, projection, seq));
                break;
            }
            Err(problem) => tracing::warn!(%problem, "snapshot skipped"),
        }
    }
    if start.is_none()
        && let Some((seq, text)) = store.legacy_snapshot()?
        && usable(seq)
    {
        let snapshot: Snapshot = serde_json::from_str(&text)
            .map_err(|e| format!("snapshot {seq} does not parse: {e}"))?;
        let engine = restore(snapshot, seq)?;
        let projection = Projection::rebuild(&engine, clock(&engine));
        start = Some((engine, projection, seq));
    }
    let (mut engine, mut projection, from) = match start {
        Some(start) => start,
        None if first.is_none_or(|f| f == 1) => {
            let engine = match store.genesis()? {
                Some(config) => {
                    Engine::new(config).map_err(|e| format!("the genesis config: {e}"))?
                }
                None if last == 0 => {
                    let engine = new()?;
                    store.set_genesis(engine.config())?;
                    engine
                }
                None => {
                    return Err("the journal has entries but no config to replay them on".into());
                }
            };
            (engine, Projection::default(), 0)
        }
        None => {
            return Err(format!(
                "the journal starts at entry {} but no snapshot continues it",
                first.unwrap_or(0)
            ));
        }
    };

    let mut replayed = 0;
    let seq = store.replay(from, |seq, at, command, logged| {
        let outcome = engine
            .handle(at, command)
            .map_err(|e| format!("journal entry {seq} is refused on replay: {e}"))?;
        let got: Vec<String> = outcome.events.iter().map(to_json).collect();
        if got != logged {
            return Err(format!(
                "journal entry {seq} replays to other events than it produced: the engine \
                 is not the one that wrote this journal"
            ));
        }
        projection.apply(at, &outcome.events, settings);
        replayed += 1;
        Ok(())
    })?;
    Ok(Recovered {
        engine,
        projection,
        seq,
        snapshot: from,
        replayed,
    })
}

fn restore(snapshot: Snapshot, seq: u64) -> Result<Engine, String> {
    Engine::restore(snapshot).map_err(|e| format!("snapshot {seq} does not restore: {e}"))
}

fn clock(engine: &Engine) -> DateTime<Utc> {
    engine
        .now()
        .unwrap_or_else(|| std::time::SystemTime::now().into())
}
