//! Snapshots (R-HS1): the engine's state and the host's projection after some journal entry,
//! each in its own file beside the database, written by a thread of their own from a copy the
//! read model hands over. The writer never waits for one: it neither clones nor serializes.
//! What a snapshot costs is the size of the live state, which retention keeps bounded, not the
//! length of the history.
//!
//! A file is written whole or not at all (a temporary file, synced, then renamed), so a crash
//! mid-write leaves the previous snapshots intact. Two are kept. Once a new one is durable,
//! the journal up to the older one kept is no longer needed for recovery, and is compacted or
//! archived as `--journal` says (`store.rs`).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::{Deserialize, Serialize};
use switchboard::Snapshot;

use crate::metrics::Metrics;
use crate::projection::Projection;
use crate::store::Journal;

/// How many snapshot files are kept.
pub const KEPT: usize = 2;

/// What becomes of the journal once a snapshot makes it unnecessary for recovery.
#[derive(Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Retain {
    /// Keep every entry in the database (an audit log that grows without bound).
    Keep,
    /// Delete the entries before the older snapshot kept.
    Compact,
    /// Write those entries to JSON-lines files in the archive folder, then delete them.
    Archive,
}

/// A snapshot file, as read.
#[derive(Deserialize)]
pub struct Stored {
    /// The last journal entry it includes.
    pub seq: u64,
    /// The engine.
    pub engine: Snapshot,
    /// The host's projection (absent in snapshots of older versions).
    pub projection: Option<Projection>,
}

#[derive(Serialize)]
struct Storing<'a> {
    seq: u64,
    engine: &'a Snapshot,
    projection: &'a Projection,
}

/// The folder of snapshot files.
#[derive(Clone, Debug)]
pub struct Snapshots {
    dir: PathBuf,
}

impl Snapshots {
    /// Opens (creates) the folder.
    pub fn open(dir: &Path) -> Result<Snapshots, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("create the snapshot folder {}: {e}", dir.display()))?;
        Ok(Snapshots {
            dir: dir.to_path_buf(),
        })
    }

    /// The snapshot files, newest first, with their `seq`.
    pub fn list(&self) -> Vec<(u64, PathBuf)> {
        let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let seq = name.strip_prefix("snapshot-")?.strip_suffix(".json")?;
                Some((seq.parse().ok()?, path))
            })
            .collect();
        found.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        found
    }

    /// Reads a snapshot file.
    pub fn load(path: &Path) -> Result<Stored, String> {
        let file = File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| format!("{} does not parse: {e}", path.display()))
    }

    /// Writes a snapshot durably; returns its path.
    pub fn write(
        &self,
        seq: u64,
        engine: &Snapshot,
        projection: &Projection,
    ) -> Result<PathBuf, String> {
        let path = self.dir.join(format!("snapshot-{seq:020}.json"));
        let temporary = path.with_extension("json.tmp");
        let fail = |e: std::io::Error| format!("write {}: {e}", temporary.display());
        let file = File::create(&temporary).map_err(fail)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        serde_json::to_writer(
            &mut out,
            &Storing {
                seq,
                engine,
                projection,
            },
        )
        .map_err(|e| format!("serialize snapshot {seq}: {e}"))?;
        let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        drop(file);
        std::fs::rename(&temporary, &path).map_err(fail)?;
        sync_dir(&self.dir);
        Ok(path)
    }

    /// Deletes all but the newest `keep` snapshots, and leftover temporary files.
    pub fn prune(&self, keep: usize) {
        for (_, path) in self.list().into_iter().skip(keep) {
            let _ = std::fs::remove_file(path);
        }
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The journal entry up to which recovery no longer needs the journal: the older of the
    /// snapshots kept (0 with fewer than [`KEPT`]).
    pub fn needed_from(&self) -> u64 {
        self.list().get(KEPT - 1).map_or(0, |(seq, _)| *seq)
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// A snapshot to write: the state after entry `seq`, copied by the read model.
pub struct Job {
    pub seq: u64,
    pub engine: Snapshot,
    pub projection: Projection,
}

/// The handle the read model uses to hand over snapshots.
#[derive(Clone)]
pub struct Snapshotter {
    jobs: SyncSender<Job>,
    /// True while no snapshot is being written: the read model copies its state only then.
    idle: Arc<AtomicBool>,
}

impl Snapshotter {
    /// Whether a snapshot handed over now would be taken at once.
    pub fn is_idle(&self) -> bool {
        self.idle.load(Ordering::Acquire)
    }

    /// Hands over a snapshot; false if one is still being written (the caller tries later).
    pub fn offer(&self, job: Job) -> bool {
        if !self.is_idle() {
            return false;
        }
        self.idle.store(false, Ordering::Release);
        match self.jobs.try_send(job) {
            Ok(()) => true,
            Err(_) => {
                self.idle.store(true, Ordering::Release);
                false
            }
        }
    }
}

/// Where compaction stands, shared between the snapshot thread (which raises it once a
/// snapshot is durable) and the writer (which deletes up to it).
pub type CompactTo = Arc<AtomicU64>;

/// Starts the snapshot thread.
pub fn start(
    snapshots: Snapshots,
    retain: Retain,
    archive: PathBuf,
    journal: Arc<Journal>,
    compact_to: CompactTo,
    archived: u64,
    metrics: Arc<Metrics>,
) -> Snapshotter {
    let (jobs, receiver) = sync_channel(1);
    let idle = Arc::new(AtomicBool::new(true));
    metrics.snapshot_seq.set(
        snapshots
            .list()
            .first()
            .map_or(0, |(seq, _)| i64::try_from(*seq).unwrap_or(i64::MAX)),
    );
    let handle = Snapshotter {
        jobs,
        idle: idle.clone(),
    };
    if retain == Retain::Compact {
        compact_to.store(snapshots.needed_from(), Ordering::Release);
    }
    std::thread::Builder::new()
        .name("switchboard-snapshots".into())
        .spawn(move || {
            run(
                receiver,
                Worker {
                    snapshots,
                    retain,
                    archive,
                    journal,
                    compact_to,
                    archived,
                    idle,
                    metrics,
                },
            );
        })
        .expect("the snapshot thread starts");
    handle
}

struct Worker {
    snapshots: Snapshots,
    retain: Retain,
    archive: PathBuf,
    journal: Arc<Journal>,
    compact_to: CompactTo,
    /// Entries up to this one are archived (or were compacted before).
    archived: u64,
    idle: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
}

fn run(jobs: Receiver<Job>, mut worker: Worker) {
    for job in jobs {
        let started = std::time::Instant::now();
        match worker
            .snapshots
            .write(job.seq, &job.engine, &job.projection)
        {
            Ok(path) => {
                worker
                    .metrics
                    .snapshot_seq
                    .set(i64::try_from(job.seq).unwrap_or(i64::MAX));
                tracing::info!(
                    seq = job.seq,
                    path = %path.display(),
                    took_ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                );
                worker.snapshots.prune(KEPT);
                worker.retire_journal();
            }
            Err(problem) => tracing::error!(%problem, "snapshot not written"),
        }
        drop(job);
        worker.idle.store(true, Ordering::Release);
    }
}

impl Worker {
    /// Lets the writer delete the journal recovery no longer needs, archiving it first if
    /// asked.
    fn retire_journal(&mut self) {
        let upto = self.snapshots.needed_from();
        match self.retain {
            Retain::Keep => {}
            Retain::Compact => self.compact_to.store(upto, Ordering::Release),
            Retain::Archive => {
                if upto <= self.archived {
                    return;
                }
                match self.write_archive(self.archived, upto) {
                    Ok(path) => {
                        tracing::info!(path = %path.display(), "journal archived");
                        self.archived = upto;
                        self.compact_to.store(upto, Ordering::Release);
                    }
                    Err(problem) => tracing::error!(%problem, "journal not archived; kept"),
                }
            }
        }
    }

    fn write_archive(&self, after: u64, upto: u64) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.archive)
            .map_err(|e| format!("create {}: {e}", self.archive.display()))?;
        let path = self
            .archive
            .join(format!("journal-{:020}-{upto:020}.jsonl", after + 1));
        let temporary = path.with_extension("jsonl.tmp");
        let fail = |e: std::io::Error| format!("write {}: {e}", temporary.display());
        let mut out = BufWriter::new(File::create(&temporary).map_err(fail)?);
        self.journal.export(after, upto, &mut out)?;
        out.flush().map_err(fail)?;
        let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&temporary, &path).map_err(fail)?;
        sync_dir(&self.archive);
        Ok(path)
    }
}
