//! The single writer: one thread owns the engine and the journal; everyone else talks to it
//! through a channel of commands with one-shot replies.
//!
//! The thread takes whatever commands are waiting (up to [`MAX_GROUP`]), applies them to the
//! engine one by one, appends the accepted ones to the journal in one transaction (group
//! commit: one disk sync for many commands), and only then publishes them (to the read model
//! and the event stream) and answers. It answers no query and writes no snapshot: queries go
//! to the read model (`read.rs`), snapshots are written from the read model's copy
//! (`snapshots.rs`), so nothing a reader does delays a command. If a commit fails, the
//! commands it held are answered 503 and the engine is rebuilt from the journal, so memory
//! never runs ahead of the disk.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use chrono::{DateTime, Utc};
use switchboard::{Command, Engine, Error, ItemResult, Outcome};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::metrics::Metrics;
use crate::projection::Settings;
use crate::recover::recover;
use crate::snapshots::{CompactTo, Snapshots};
use crate::store::{Entry, Store};

/// Most commands handled in one group commit.
const MAX_GROUP: usize = 256;

/// Commands waiting for the writer; senders wait when it is full (back-pressure).
const QUEUE_DEPTH: usize = 1024;

/// The host's clock. The engine never reads one; the host stamps each command with this.
pub fn wall_clock() -> DateTime<Utc> {
    SystemTime::now().into()
}

/// A command the engine accepted, once it is durable.
#[derive(Debug)]
pub struct Accepted {
    /// Its journal entry.
    pub seq: u64,
    /// The time it was handled at.
    pub at: DateTime<Utc>,
    /// What the engine answered.
    pub outcome: Outcome,
}

/// Why a command was not accepted. Nothing was journaled for it.
#[derive(Debug)]
pub enum Refusal {
    /// The engine refused it.
    Engine(Error),
    /// A batch command of which every item was refused.
    Items(Vec<ItemResult>),
    /// The store failed, or the writer stopped; the command may be retried.
    Unavailable(String),
}

/// A committed journal entry as published: the entry, and its event-stream message.
pub struct Committed {
    pub entry: Entry,
    /// `{"seq", "at", "events"}` as JSON, serialized once for every subscriber.
    pub data: String,
}

/// Where the answer to a command goes.
pub type Reply = oneshot::Sender<Result<Accepted, Refusal>>;

/// A command for a writer, with where its answer goes.
pub struct Request {
    pub command: Box<Command>,
    pub reply: Reply,
}

/// Hands a command to the writer behind `requests`; answers once it is durable, or why it was
/// refused (every writer, of one desk or of many, is asked this way).
pub async fn ask(requests: &mpsc::Sender<Request>, command: Command) -> Result<Accepted, Refusal> {
    let (reply, answer) = oneshot::channel();
    let gone = || Refusal::Unavailable("the writer has stopped; retry".into());
    requests
        .send(Request {
            command: Box::new(command),
            reply,
        })
        .await
        .map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

/// A handle on the writer; cheap to clone, one per HTTP handler.
#[derive(Clone)]
pub struct Desk {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Arc<Committed>>,
    deadline: watch::Receiver<Option<DateTime<Utc>>>,
    committed: watch::Receiver<u64>,
}

/// What the writer needs to rebuild itself after a failed commit.
pub struct Rebuild {
    pub snapshots: Snapshots,
    pub settings: Settings,
}

impl Desk {
    /// Starts the writer thread on the engine as of journal entry `seq`. Every committed entry
    /// is sent to `follower` (the read model) before it is answered.
    pub fn start(
        engine: Engine,
        seq: u64,
        store: Store,
        follower: std::sync::mpsc::Sender<Arc<Committed>>,
        compact_to: CompactTo,
        rebuild: Rebuild,
        metrics: Arc<Metrics>,
    ) -> Desk {
        let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (events, _) = broadcast::channel(4096);
        let (deadline_tx, deadline) = watch::channel(engine.next_deadline());
        let (committed_tx, committed) = watch::channel(seq);
        let writer = Writer {
            engine,
            store,
            seq,
            events: events.clone(),
            follower,
            deadline: deadline_tx,
            committed: committed_tx,
            metrics,
            compact_to,
            rebuild,
            entries: Vec::new(),
            replies: Vec::new(),
        };
        std::thread::Builder::new()
            .name("switchboard-writer".into())
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| writer.run(receiver));
                if std::panic::catch_unwind(run).is_err() {
                    // A panic is a bug in switchboard (or here). The command that caused it was
                    // not journaled: stop, and let the supervisor restart from the journal.
                    tracing::error!("the writer panicked; stopping");
                    std::process::exit(70);
                }
            })
            .expect("the writer thread starts");
        Desk {
            requests,
            events,
            deadline,
            committed,
        }
    }

    /// Hands a command to the engine; answers once it is durable, or why it was refused.
    pub async fn command(&self, command: Command) -> Result<Accepted, Refusal> {
        ask(&self.requests, command).await
    }

    /// The entries committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.events.subscribe()
    }

    /// The engine's next deadline, updated after every commit.
    pub fn deadline(&self) -> watch::Receiver<Option<DateTime<Utc>>> {
        self.deadline.clone()
    }

    /// The last committed journal entry; it moves before the entry is published.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    /// Whether the writer still takes commands.
    pub fn is_alive(&self) -> bool {
        !self.requests.is_closed()
    }

    /// Commands waiting for the writer.
    pub fn backlog(&self) -> usize {
        QUEUE_DEPTH - self.requests.capacity()
    }
}

struct Writer {
    engine: Engine,
    store: Store,
    /// The last journal entry applied to `engine` (committed or pending).
    seq: u64,
    events: broadcast::Sender<Arc<Committed>>,
    follower: std::sync::mpsc::Sender<Arc<Committed>>,
    deadline: watch::Sender<Option<DateTime<Utc>>>,
    committed: watch::Sender<u64>,
    metrics: Arc<Metrics>,
    compact_to: CompactTo,
    rebuild: Rebuild,
    /// Applied to the engine, not yet committed.
    entries: Vec<Entry>,
    /// Answers to send once `entries` are committed.
    replies: Vec<(Reply, Result<Accepted, Refusal>)>,
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut next = Some(first);
            let mut taken = 0;
            while let Some(Request { command, reply }) = next {
                self.apply(*command, Some(reply));
                taken += 1;
                next = if taken < MAX_GROUP {
                    receiver.try_recv().ok()
                } else {
                    None
                };
            }
            self.commit();
        }
        // Every handle is gone: the service is shutting down, and all is committed.
    }

    /// Applies one command to the engine and queues its journal entry and its answer.
    fn apply(&mut self, command: Command, reply: Option<Reply>) {
        let answer = apply(&mut self.engine, &mut self.seq, &mut self.entries, command);
        if let Some(reply) = reply {
            let outcome = if answer.is_ok() {
                "accepted"
            } else {
                "refused"
            };
            self.metrics.commands.with_label_values(&[outcome]).inc();
            self.replies.push((reply, answer));
        }
    }

    /// Commits the pending entries, then publishes and answers. On a store failure, answers
    /// 503 and rebuilds the engine from the store.
    fn commit(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        let replies = std::mem::take(&mut self.replies);
        if !entries.is_empty() {
            let started = Instant::now();
            let compact_to = self.compact_to.load(Ordering::Acquire);
            if let Err(problem) = self.store.append(&entries, compact_to) {
                tracing::error!(%problem, "commit failed, rebuilding from the store");
                for (reply, _) in replies {
                    let _ = reply.send(Err(Refusal::Unavailable(format!(
                        "not stored, try again: {problem}"
                    ))));
                }
                self.rebuild();
                return;
            }
            self.metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            self.metrics.entries.inc_by(entries.len() as u64);
            // The committed mark moves first: a reader that sees an entry on the stream can
            // count on the journal and the read model to reach it.
            self.committed.send_replace(self.seq);
            for entry in entries {
                let data = entry.stream_data();
                let committed = Arc::new(Committed { entry, data });
                // The read model stops only with the process.
                let _ = self.follower.send(committed.clone());
                // No subscriber is fine: nobody is watching.
                let _ = self.events.send(committed);
            }
            self.deadline.send_replace(self.engine.next_deadline());
        }
        for (reply, answer) in replies {
            // The client may have hung up; its command is durable all the same.
            let _ = reply.send(answer);
        }
    }

    fn rebuild(&mut self) {
        let Rebuild {
            snapshots,
            settings,
        } = &self.rebuild;
        match recover(&mut self.store, snapshots, settings, || {
            Err("the database lost its genesis config".into())
        }) {
            Ok(recovered) => {
                self.engine = recovered.engine;
                self.seq = recovered.seq;
                self.deadline.send_replace(self.engine.next_deadline());
            }
            Err(problem) => {
                tracing::error!(%problem, "cannot rebuild from the store, stopping");
                std::process::exit(1);
            }
        }
    }
}

/// Applies one command to `engine` at the host's clock and, if accepted, queues its journal
/// entry (numbered after `seq`, which it advances) in `entries`. A deadline that passed before
/// the command fires first, as a `Tick` of its own entry, so that the command meets the state
/// as of now (the timer task may not have woken yet). Every desk writer, single or many,
/// applies commands through this.
pub fn apply(
    engine: &mut Engine,
    seq: &mut u64,
    entries: &mut Vec<Entry>,
    command: Command,
) -> Result<Accepted, Refusal> {
    if !matches!(command, Command::Tick) && engine.next_deadline().is_some_and(|d| d <= now(engine))
    {
        let _ = apply(engine, seq, entries, Command::Tick);
    }
    let at = now(engine);
    match engine.handle(at, command.clone()) {
        Err(error) => Err(Refusal::Engine(error)),
        Ok(outcome) if refused_entirely(&outcome) => {
            // Every item refused: nothing changed, not even the engine's clock. Nothing to
            // journal.
            Err(Refusal::Items(outcome.results))
        }
        Ok(outcome) => {
            *seq += 1;
            entries.push(Entry::new(*seq, at, command, outcome.events.clone()));
            Ok(Accepted {
                seq: *seq,
                at,
                outcome,
            })
        }
    }
}

/// The time to hand the engine: the wall clock, or the engine's own clock if the wall clock
/// stepped back. Time never runs backwards for the engine; journaling the time it actually
/// uses makes replay hand it the same.
fn now(engine: &Engine) -> DateTime<Utc> {
    let wall = wall_clock();
    match engine.now() {
        Some(clock) if clock > wall => clock,
        _ => wall,
    }
}

/// A batch command whose every item was refused, and that therefore changed nothing.
fn refused_entirely(outcome: &Outcome) -> bool {
    !outcome.results.is_empty()
        && outcome.results.iter().all(|r| r.result.is_err())
        && outcome.events.is_empty()
}
