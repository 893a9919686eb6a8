//! The wallboard's figures (R-HS5), `GET /wallboard`: what a desk manager keeps on a screen.
//! Small and O(groups + agents), read from the read model, so the page can refresh it after
//! every commit whatever the queue's length.
//!
//! - the service level today (in the desk's time zone) and over the last 30 minutes, against
//!   its target (`--service-level-secs`, `--service-level-target`); see `projection.rs` for
//!   what counts;
//! - per group: the queue's length, when its longest-waiting conversation arrived (the page
//!   ticks the wait up from that), the amber and red thresholds (`--wait-amber-secs`,
//!   `--wait-red-secs`), agents online;
//! - per agent: status and since when, load and limit.
//!
//! Times are given as instants, with the service's own `now`, so the page can tick waits and
//! times in status every second between refreshes, corrected for its own clock's offset.

use chrono::{DateTime, Utc};
use serde::Serialize;
use switchboard::{AgentStatus, Counters};

use crate::metrics::status_name;
use crate::projection::Tally;
use crate::read::View;

/// The wallboard's settings.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// The service level the desk aims for, in percent.
    pub target_percent: f64,
    /// A longest wait from this many seconds is shown amber.
    pub amber_secs: u64,
    /// From this many seconds, red.
    pub red_secs: u64,
}

/// A service level.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Level {
    /// Waits that ended: answered, or given up.
    pub ended: u64,
    /// Answered at all.
    pub answered: u64,
    /// Answered within the target wait.
    pub within: u64,
    /// `within / ended` in percent; absent before any wait ended.
    pub percent: Option<f64>,
}

impl From<Tally> for Level {
    fn from(tally: Tally) -> Level {
        Level {
            ended: tally.ended,
            answered: tally.answered,
            within: tally.within,
            percent: tally.level(),
        }
    }
}

/// One group on the wallboard.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupBoard {
    pub id: String,
    /// Conversations in its queue.
    pub waiting: usize,
    /// When the longest-waiting of its own conversations arrived.
    pub longest_since: Option<DateTime<Utc>>,
    /// That conversation.
    pub longest_conversation: Option<String>,
    /// Its agents whose status is Online.
    pub online: usize,
    /// Its agents.
    pub members: usize,
}

/// One agent on the wallboard.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentBoard {
    pub id: String,
    /// Its status (a custom one by its name).
    pub status: String,
    /// Since when it is in that status (registration, or its latest change).
    pub since: Option<DateTime<Utc>>,
    pub load: u32,
    pub limit: u32,
}

/// `GET /wallboard`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Wallboard {
    /// The journal entry it is as of.
    pub seq: u64,
    /// The service's clock when it answered.
    pub now: DateTime<Utc>,
    /// The target wait, in seconds.
    pub target_secs: u64,
    /// The service level aimed for, in percent.
    pub target_percent: f64,
    pub amber_secs: u64,
    pub red_secs: u64,
    /// Today, in the desk's time zone.
    pub today: Level,
    /// The last 30 minutes, by whole minutes.
    pub recent: Level,
    pub groups: Vec<GroupBoard>,
    pub agents: Vec<AgentBoard>,
    /// The engine's counters (`switchboard::Counters`).
    #[schema(value_type = Object)]
    pub counters: Counters,
}

/// The wallboard as of `now`.
pub fn wallboard(view: &View, board: &Board, now: DateTime<Utc>) -> Wallboard {
    let engine = &view.engine;
    let projection = &view.projection;
    let groups = engine
        .groups()
        .filter_map(|id| {
            let group = engine.group(id)?;
            let longest = projection.longest_waiting(id);
            Some(GroupBoard {
                id: id.to_string(),
                waiting: group.waiting,
                longest_since: longest.map(|(since, _)| since),
                longest_conversation: longest.map(|(_, c)| c.to_string()),
                online: group
                    .members
                    .iter()
                    .filter(|a| engine.agent_status(*a) == Some(&AgentStatus::Online))
                    .count(),
                members: group.members.len(),
            })
        })
        .collect();
    let agents = engine
        .agents()
        .filter_map(|id| {
            let agent = engine.agent(id)?;
            Some(AgentBoard {
                id: id.to_string(),
                status: status_name(&agent.status),
                since: projection.status_since(id),
                load: agent.load,
                limit: agent.limit,
            })
        })
        .collect();
    Wallboard {
        seq: view.seq,
        now,
        target_secs: view.settings.target.as_secs(),
        target_percent: board.target_percent,
        amber_secs: board.amber_secs,
        red_secs: board.red_secs,
        today: projection.today(now, &view.settings).into(),
        recent: projection.recent(now).into(),
        groups,
        agents,
        counters: engine.counters().clone(),
    }
}
