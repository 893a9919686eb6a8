//! What a group is: a strategy, an optional limit, its members' candidate index and its queue.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use crate::ids::GroupId;
use crate::routing::{CandKey, Queue, Strategy};
use crate::store::{AgentKey, GroupKey};

/// A group as the engine keeps it. Fields after `cursor` are derived and rebuilt on restore.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Group {
    pub id: GroupId,
    pub strategy: Strategy,
    pub limit: Option<u32>,
    /// Round robin: the agent this group's strategy chose last (0: none yet).
    pub cursor: AgentKey,
    /// Groups whose agents join after a conversation has waited `overflow_after_secs` (R-S4).
    pub overflow: Vec<GroupKey>,
    pub overflow_after_secs: u64,
    /// When its latest conversations left its queue for an agent, oldest first (R-B2).
    pub served: VecDeque<DateTime<Utc>>,
    #[serde(skip)]
    pub members: BTreeSet<AgentKey>,
    /// Members that are eligible and below their limit, best first.
    #[serde(skip)]
    pub available: BTreeSet<CandKey>,
    /// Conversations waiting for this group (as their own group, a designated one or an
    /// overflow group), the stalled ones apart.
    #[serde(skip)]
    pub queue: Queue,
    /// Open conversations that name this group.
    #[serde(skip)]
    pub open: u64,
    /// Members that are eligible (status, mode, working hours), whatever their load.
    #[serde(skip)]
    pub eligible: u32,
}

impl Group {
    pub(crate) fn new(id: GroupId, strategy: Strategy, limit: Option<u32>) -> Self {
        Self {
            id,
            strategy,
            limit,
            cursor: 0,
            overflow: Vec::new(),
            overflow_after_secs: 0,
            served: VecDeque::new(),
            members: BTreeSet::new(),
            available: BTreeSet::new(),
            queue: Queue::default(),
            open: 0,
            eligible: 0,
        }
    }
}

/// How many recent services the estimated wait looks at (R-B2).
pub(crate) const SERVED_SAMPLES: usize = 20;
