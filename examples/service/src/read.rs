//! The read model (R-HS3): every query and the page are answered from here, never by the
//! writer.
//!
//! A follower thread owns a second engine and the host's projection. The writer sends it every
//! entry once committed; it applies the same command at the same time, which (the engine being
//! deterministic) gives the same state and the same events, checked entry by entry, and folds
//! the events into the projection. Queries read it under a shared lock on blocking threads, so
//! a large query (`GET /state` with 40,000 queued) delays neither the writer nor other queries.
//!
//! Read-your-writes: a query first waits until the follower has applied every entry committed
//! when the query arrived, so a client that got an answer to a command sees its effect.
//!
//! Every `--snapshot-every` entries, when the snapshot thread is free, the follower copies its
//! engine and projection and hands them over (`snapshots.rs`).

use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use switchboard::Engine;
use tokio::sync::watch;

use crate::desk::Committed;
use crate::projection::{Projection, Settings};
use crate::snapshots::{Job, Snapshotter};

/// What queries read: the engine and the projection as of journal entry `seq`.
pub struct View {
    pub engine: Engine,
    pub projection: Projection,
    pub seq: u64,
    pub settings: Settings,
    /// Entries whose replay here gave other events than the writer's: a bug, logged.
    pub diverged: u64,
}

impl View {
    fn apply(&mut self, committed: &Committed) {
        let entry = &committed.entry;
        match self.engine.handle(entry.at, entry.command.clone()) {
            Ok(outcome) if outcome.events == entry.events => {}
            Ok(_) => {
                self.diverged += 1;
                tracing::error!(seq = entry.seq, "the read model diverged from the writer");
            }
            Err(error) => {
                self.diverged += 1;
                tracing::error!(seq = entry.seq, %error, "the read model refused a committed entry");
            }
        }
        self.projection
            .apply(entry.at, &entry.events, &self.settings);
        self.seq = entry.seq;
    }
}

/// A handle on the read model; cheap to clone.
#[derive(Clone)]
pub struct Reader {
    view: Arc<RwLock<View>>,
    applied: watch::Receiver<u64>,
    committed: watch::Receiver<u64>,
}

/// Most entries applied under one hold of the lock.
const BATCH: usize = 512;

impl Reader {
    /// Starts the follower on `view` (as of the writer's starting point), fed by `entries`.
    pub fn start(
        view: View,
        entries: Receiver<Arc<Committed>>,
        committed: watch::Receiver<u64>,
        snapshot_every: u64,
        snapshotter: Snapshotter,
    ) -> Reader {
        let (applied_tx, applied) = watch::channel(view.seq);
        let mut last_snapshot = view.seq;
        let view = Arc::new(RwLock::new(view));
        let shared = view.clone();
        std::thread::Builder::new()
            .name("switchboard-reader".into())
            .spawn(move || {
                while let Ok(first) = entries.recv() {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match entries.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let seq = {
                        let mut view = shared.write().expect("the read model is never poisoned");
                        for committed in &batch {
                            view.apply(committed);
                        }
                        view.seq
                    };
                    drop(batch);
                    applied_tx.send_replace(seq);
                    if seq >= last_snapshot + snapshot_every && snapshotter.is_idle() {
                        let job = {
                            let view = shared.read().expect("the read model is never poisoned");
                            Job {
                                seq: view.seq,
                                engine: view.engine.snapshot(),
                                projection: view.projection.clone(),
                            }
                        };
                        if snapshotter.offer(job) {
                            last_snapshot = seq;
                        }
                    }
                }
            })
            .expect("the reader thread starts");
        Reader {
            view,
            applied,
            committed,
        }
    }

    /// Runs `read` on the read model once it has every entry committed before this call, on
    /// a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&View) -> T + Send + 'static,
    ) -> Result<T, String> {
        let target = *self.committed.borrow();
        let mut applied = self.applied.clone();
        applied
            .wait_for(|seq| *seq >= target)
            .await
            .map_err(|_| "the read model has stopped".to_owned())?;
        let view = self.view.clone();
        tokio::task::spawn_blocking(move || {
            let view = view.read().expect("the read model is never poisoned");
            read(&view)
        })
        .await
        .map_err(|e| format!("the query failed: {e}"))
    }

    /// The last entry the read model applied.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }
}
