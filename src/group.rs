//! What a group is: a strategy, an optional limit, its members' candidate index and its queue.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::GroupId;
use crate::routing::{CandKey, QueueKey, Strategy};
use crate::store::AgentKey;

/// A group as the engine keeps it. Fields after `cursor` are derived and rebuilt on restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Group {
    pub id: GroupId,
    pub strategy: Strategy,
    pub limit: Option<u32>,
    /// Round robin: the agent this group's strategy chose last (0: none yet).
    pub cursor: AgentKey,
    #[serde(skip)]
    pub members: BTreeSet<AgentKey>,
    /// Members that are eligible and below their limit, best first.
    #[serde(skip)]
    pub available: BTreeSet<CandKey>,
    /// Conversations waiting for this group (as their own group or as a designated one).
    #[serde(skip)]
    pub queue: BTreeSet<QueueKey>,
    /// Open conversations that name this group.
    #[serde(skip)]
    pub open: u64,
}

impl Group {
    pub(crate) fn new(id: GroupId, strategy: Strategy, limit: Option<u32>) -> Self {
        Self {
            id,
            strategy,
            limit,
            cursor: 0,
            members: BTreeSet::new(),
            available: BTreeSet::new(),
            queue: BTreeSet::new(),
            open: 0,
        }
    }
}
