//! The single writer: one thread owns the engine and the store; everyone else talks to it
//! through a channel of requests with one-shot replies.
//!
//! The thread takes whatever requests are waiting (up to [`MAX_GROUP`]), applies the commands
//! to the engine one by one, appends the accepted ones to the journal in one transaction
//! (group commit: one disk sync for many commands), and only then answers them and publishes
//! their events. A query is answered from committed state: pending commands are committed
//! before it runs. If a commit fails, the commands it held are answered 503 and the engine is
//! rebuilt from the store, so memory never runs ahead of the disk.

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use switchboard::{Command, Engine, Error, Event, ItemResult, Outcome};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::store::{Entry, Recovered, Store};

/// Most requests handled in one group commit.
const MAX_GROUP: usize = 256;

/// Requests waiting for the writer; senders wait when it is full (back-pressure).
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

/// The events of one journal entry, as published on the event stream.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Published {
    /// The journal entry.
    pub seq: u64,
    /// When it was handled.
    pub at: DateTime<Utc>,
    /// Its events, in causal order.
    pub events: Vec<Event>,
}

type Query = Box<dyn FnOnce(&Engine, u64) + Send>;

/// Where the answer to a command goes.
type Reply = oneshot::Sender<Result<Accepted, Refusal>>;

enum Request {
    Command { command: Box<Command>, reply: Reply },
    Query(Query),
}

/// A handle on the writer; cheap to clone, one per HTTP handler.
#[derive(Clone)]
pub struct Desk {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Arc<Published>>,
    deadline: watch::Receiver<Option<DateTime<Utc>>>,
}

impl Desk {
    /// Starts the writer thread on what recovery rebuilt from `store`.
    pub fn start(recovered: Recovered, store: Store, snapshot_every: u64) -> Desk {
        let Recovered {
            engine,
            seq,
            replayed,
            ..
        } = recovered;
        let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (events, _) = broadcast::channel(4096);
        let (deadline_tx, deadline) = watch::channel(engine.next_deadline());
        let writer = Writer {
            engine,
            store,
            seq,
            since_snapshot: replayed,
            snapshot_every,
            events: events.clone(),
            deadline: deadline_tx,
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
        }
    }

    /// Hands a command to the engine; answers once it is durable, or why it was refused.
    pub async fn command(&self, command: Command) -> Result<Accepted, Refusal> {
        let (reply, answer) = oneshot::channel();
        let gone = || Refusal::Unavailable("the writer has stopped".into());
        self.requests
            .send(Request::Command {
                command: Box::new(command),
                reply,
            })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Runs `read` on the engine as of the last commit, with that commit's `seq`.
    pub async fn query<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Engine, u64) -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let (reply, answer) = oneshot::channel();
        let run: Query = Box::new(move |engine, seq| {
            // The asker may have gone away; then nobody wants the answer.
            let _ = reply.send(read(engine, seq));
        });
        let gone = || Refusal::Unavailable("the writer has stopped".into());
        self.requests
            .send(Request::Query(run))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }

    /// The events of every journal entry committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    /// The engine's next deadline, updated after every commit.
    pub fn deadline(&self) -> watch::Receiver<Option<DateTime<Utc>>> {
        self.deadline.clone()
    }
}

struct Writer {
    engine: Engine,
    store: Store,
    /// The last journal entry applied to `engine` (committed or pending).
    seq: u64,
    since_snapshot: u64,
    snapshot_every: u64,
    events: broadcast::Sender<Arc<Published>>,
    deadline: watch::Sender<Option<DateTime<Utc>>>,
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
            while let Some(request) = next {
                match request {
                    Request::Command { command, reply } => self.apply(*command, Some(reply)),
                    Request::Query(run) => {
                        self.commit();
                        run(&self.engine, self.seq);
                    }
                }
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
        // A deadline that passed before this command fires first, so that the command meets
        // the state as of now (the timer task may not have woken yet).
        if !matches!(command, Command::Tick)
            && self.engine.next_deadline().is_some_and(|d| d <= self.now())
        {
            self.apply(Command::Tick, None);
        }
        let at = self.now();
        let answer = match self.engine.handle(at, command.clone()) {
            Err(error) => Err(Refusal::Engine(error)),
            Ok(outcome) if refused_entirely(&outcome) => {
                // Every item refused: nothing changed but the engine's clock, which the next
                // journaled command moves at least as far. Nothing to journal.
                Err(Refusal::Items(outcome.results))
            }
            Ok(outcome) => {
                self.seq += 1;
                self.entries.push(Entry {
                    seq: self.seq,
                    at,
                    command,
                    events: outcome.events.clone(),
                });
                Ok(Accepted {
                    seq: self.seq,
                    at,
                    outcome,
                })
            }
        };
        if let Some(reply) = reply {
            self.replies.push((reply, answer));
        }
    }

    /// The time to hand the engine: the wall clock, or the engine's own clock if the wall
    /// clock stepped back. Time never runs backwards for the engine; journaling the time it
    /// actually uses makes replay hand it the same.
    fn now(&self) -> DateTime<Utc> {
        let wall = wall_clock();
        match self.engine.now() {
            Some(clock) if clock > wall => clock,
            _ => wall,
        }
    }

    /// Commits the pending entries (and a snapshot when one is due), then answers and
    /// publishes. On a store failure, answers 503 and rebuilds the engine from the store.
    fn commit(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        let replies = std::mem::take(&mut self.replies);
        if !entries.is_empty() {
            self.since_snapshot += entries.len() as u64;
            let snapshot =
                (self.since_snapshot >= self.snapshot_every).then(|| self.engine.snapshot());
            if let Err(problem) = self.store.append(&entries, snapshot.as_ref()) {
                tracing::error!(%problem, "commit failed, rebuilding from the store");
                for (reply, _) in replies {
                    let _ = reply.send(Err(Refusal::Unavailable(format!(
                        "not stored, try again: {problem}"
                    ))));
                }
                self.rebuild();
                return;
            }
            if snapshot.is_some() {
                self.since_snapshot = 0;
            }
            for entry in entries {
                // No subscriber is fine: nobody is watching.
                let _ = self.events.send(Arc::new(Published {
                    seq: entry.seq,
                    at: entry.at,
                    events: entry.events,
                }));
            }
            self.deadline.send_replace(self.engine.next_deadline());
        }
        for (reply, answer) in replies {
            // The client may have hung up; its command is durable all the same.
            let _ = reply.send(answer);
        }
    }

    fn rebuild(&mut self) {
        match self
            .store
            .recover(|| Err("the database lost its first snapshot".into()))
        {
            Ok(recovered) => {
                self.engine = recovered.engine;
                self.seq = recovered.seq;
                self.since_snapshot = recovered.replayed;
                self.deadline.send_replace(self.engine.next_deadline());
            }
            Err(problem) => {
                tracing::error!(%problem, "cannot rebuild from the store, stopping");
                std::process::exit(1);
            }
        }
    }
}

/// A batch command whose every item was refused, and that therefore changed nothing.
fn refused_entirely(outcome: &Outcome) -> bool {
    !outcome.results.is_empty()
        && outcome.results.iter().all(|r| r.result.is_err())
        && outcome.events.is_empty()
}
