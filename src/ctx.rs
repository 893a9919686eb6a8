//! What one command collects while it runs: its events, item results and touched queues.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::event::Event;
use crate::keys::{ConvKey, GroupKey};
use crate::outcome::ItemResult;

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
