//! One desk's writer: a task that owns the right to append to the desk's journal (its claim's
//! epoch) and the engine. It takes whatever commands are waiting (up to [`MAX_GROUP`]),
//! applies them, appends their entries in one fenced statement, and only then answers (a group
//! the engine refused entirely is answered once the fence is checked all the same: a writer
//! woken from a pause must not answer even a refusal from an engine others wrote past). When
//! the append is fenced (another host claimed the desk, or the lease ran out) or fails (the
//! connection dropped: the group may or may not be in the journal), every command of the group
//! is answered 503 and the writer stops; the placement loop rebuilds the desk from the journal
//! and claims it again if it may. So no answer ever runs ahead of the journal, and a stale
//! writer cannot fork it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use switchboard::{Command, Engine};
use tokio::sync::{Notify, RwLock, mpsc, watch};

use super::{Desks, Host, Served};
use crate::desk::{Accepted, Refusal, Reply, Request, apply};
use crate::journal::{AppendError, Journal};
use crate::store::{Entry, to_json};

/// Most commands handled in one group commit.
const MAX_GROUP: usize = 256;

/// Commands waiting for one desk's writer; senders wait when it is full.
const QUEUE_DEPTH: usize = 256;

/// A desk just claimed, ready for its writer.
pub struct Claimed {
    /// The desk's id.
    pub desk: String,
    /// The claim's epoch.
    pub epoch: i64,
    /// Its engine, as of entry `seq`.
    pub engine: Engine,
    pub seq: u64,
    /// The entry of its latest snapshot.
    pub snapshot_seq: u64,
    /// Until when the claim surely holds, by this host's clock.
    pub valid_until: Instant,
}

/// Starts writing for a claimed desk; registers it in `desks`, with its timer.
pub fn start<J: Journal>(journal: Arc<J>, desks: &Desks, host: &Host, claimed: Claimed) {
    let Claimed {
        desk,
        epoch,
        engine,
        seq,
        snapshot_seq,
        valid_until,
    } = claimed;
    let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
    let (deadline_tx, deadline) = watch::channel(engine.next_deadline());
    let (committed_tx, committed) = watch::channel(seq);
    let engine = Arc::new(RwLock::new(engine));
    let stop = Arc::new(Notify::new());
    let served = Served {
        epoch,
        requests,
        engine: engine.clone(),
        committed,
        stop: stop.clone(),
        valid_until: Arc::new(Mutex::new(valid_until)),
    };
    desks.insert(desk.clone(), served.clone());
    let writer = Writer {
        journal,
        desks: desks.clone(),
        desk: desk.clone(),
        epoch,
        engine,
        seq,
        snapshot_seq,
        snapshot_every: host.snapshot_every,
        deadline: deadline_tx,
        committed: committed_tx,
    };
    tokio::spawn(writer.run(receiver, stop));
    tokio::spawn(crate::timer::drive(deadline, move || {
        let served = served.clone();
        async move { served.command(Command::Tick).await }
    }));
}

struct Writer<J> {
    journal: Arc<J>,
    desks: Desks,
    desk: String,
    epoch: i64,
    engine: Arc<RwLock<Engine>>,
    /// The last entry applied to the engine (committed: the writer stops on a failed append).
    seq: u64,
    snapshot_seq: u64,
    snapshot_every: u64,
    deadline: watch::Sender<Option<DateTime<Utc>>>,
    committed: watch::Sender<u64>,
}

impl<J: Journal> Writer<J> {
    async fn run(mut self, mut receiver: mpsc::Receiver<Request>, stop: Arc<Notify>) {
        loop {
            let first = tokio::select! {
                request = receiver.recv() => request,
                () = stop.notified() => None,
            };
            let Some(first) = first else {
                tracing::info!(desk = %self.desk, epoch = self.epoch, "writer stopped");
                return;
            };
            let mut entries: Vec<Entry> = Vec::new();
            let mut replies: Vec<(Reply, Result<Accepted, Refusal>)> = Vec::new();
            // Held until the group is committed (or the writer stops): queries read the
            // engine only as of a commit.
            let mut engine = self.engine.clone().write_owned().await;
            {
                let mut next = Some(first);
                while let Some(Request { command, reply }) = next {
                    let answer = apply(&mut engine, &mut self.seq, &mut entries, *command);
                    replies.push((reply, answer));
                    next = if replies.len() < MAX_GROUP {
                        receiver.try_recv().ok()
                    } else {
                        None
                    };
                }
            }
            if let Err(error) = self.journal.append(&self.desk, self.epoch, &entries).await {
                match &error {
                    AppendError::Fenced(_) => {
                        tracing::warn!(desk = %self.desk, %error, "fenced: no longer the writer")
                    }
                    AppendError::Failed(_) => {
                        tracing::error!(desk = %self.desk, %error, "commit failed; the desk is rebuilt from the journal")
                    }
                }
                for (reply, _) in replies {
                    let _ = reply.send(Err(Refusal::Unavailable(format!(
                        "not acknowledged, retry: {error}"
                    ))));
                }
                // Dropping the engine: it may hold entries the journal does not.
                self.desks.drop_desk(&self.desk, Some(self.epoch));
                drop(engine);
                return;
            }
            if !entries.is_empty() {
                self.committed.send_replace(self.seq);
                let snapshot = (self.seq >= self.snapshot_seq + self.snapshot_every)
                    .then(|| engine.snapshot());
                self.deadline.send_replace(engine.next_deadline());
                if let Some(snapshot) = snapshot {
                    self.snapshot_seq = self.seq;
                    let (journal, desk, seq) = (self.journal.clone(), self.desk.clone(), self.seq);
                    tokio::spawn(async move {
                        let text = to_json(&snapshot);
                        if let Err(problem) = journal.save_snapshot(&desk, seq, text).await {
                            tracing::warn!(%desk, %problem, "snapshot not written");
                        }
                    });
                }
            }
            drop(engine);
            for (reply, answer) in replies {
                let _ = reply.send(answer);
            }
        }
    }
}
