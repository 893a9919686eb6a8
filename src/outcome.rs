//! What one command produced: its events, per-item results, and the next deadline.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Error;
use crate::event::Event;
use crate::ids::ConversationId;
use crate::store::{ConvKey, GroupKey};

/// The result of a successful [`Engine::handle`](crate::Engine::handle).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// What happened, in causal order.
    pub events: Vec<Event>,
    /// For batch commands (R-C8), one result per item, in the order given; empty otherwise.
    pub results: Vec<ItemResult>,
    /// When the host should send the next [`Command::Tick`](crate::Command::Tick), if ever.
    pub next_deadline: Option<DateTime<Utc>>,
}

impl Outcome {
    /// Whether every item of a batch succeeded (true for commands that are not batches).
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(|r| r.result.is_ok())
    }
}

/// The result of one item of a batch command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemResult {
    /// The item's conversation.
    pub conversation: ConversationId,
    /// `Ok` when it was done; the error otherwise (nothing was changed for this item).
    pub result: Result<(), Error>,
}

/// Collects what one command produces while it runs.
pub(crate) struct Ctx {
    pub now: DateTime<Utc>,
    pub events: Vec<Event>,
    pub results: Vec<ItemResult>,
    /// Queues changed by this command, with their first `announce` entries before the change.
    pub touched: BTreeMap<GroupKey, Vec<ConvKey>>,
    /// Conversations queued by this command, with the position their event announced.
    pub entered: BTreeMap<ConvKey, u32>,
}

impl Ctx {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            // Most commands emit a few events; one allocation covers them.
            events: Vec::with_capacity(8),
            results: Vec::new(),
            touched: BTreeMap::new(),
            entered: BTreeMap::new(),
        }
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push(event);
    }
}
