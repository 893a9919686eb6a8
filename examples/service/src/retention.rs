//! Retention (R-HS1): the engine keeps every finished conversation, and each served visitor's
//! last agent, until the host says to forget them. This task says so after a configured age,
//! with `Command::Forget` (in batches) and `Command::ForgetVisitor`, journaled like any other
//! command, so that memory, snapshots and replays stay the size of the live desk rather than
//! of its history.
//!
//! - A conversation is forgotten `--forget-after-secs` after it finished (ended, abandoned,
//!   turned away, left a message).
//! - A visitor's last agent is forgotten `--forget-visitors-after-secs` after their latest
//!   conversation finished, once none of their conversations is known any more. Keep it at
//!   least as long as the last-agent window (`last_agent.window_secs`) when the preference is
//!   on.
//!
//! Zero turns either off. The task reads the projection (`projection.rs`) to know what is due;
//! what it sends goes through the writer, so a replay forgets exactly the same.

use std::time::Duration;

use chrono::TimeDelta;
use switchboard::Command;

use crate::desk::{Desk, Refusal, wall_clock};
use crate::read::Reader;

/// The ages after which things are forgotten; `None`: never.
#[derive(Clone, Copy, Debug)]
pub struct Ages {
    pub conversations: Option<Duration>,
    pub visitors: Option<Duration>,
}

/// Most conversations in one `Forget`, and visitors forgotten per round.
const BATCH: usize = 1000;

/// Runs until the writer stops.
pub async fn run(desk: Desk, reader: Reader, ages: Ages) {
    if ages.conversations.is_none() && ages.visitors.is_none() {
        return;
    }
    let cutoff = |age: Option<Duration>| {
        age.map(|age| wall_clock() - TimeDelta::from_std(age).unwrap_or(TimeDelta::MAX))
    };
    loop {
        let (conversations, visitors) = (cutoff(ages.conversations), cutoff(ages.visitors));
        let due = reader
            .read(move |view| {
                (
                    conversations
                        .map_or_else(Vec::new, |c| view.projection.finished_before(c, BATCH)),
                    visitors.map_or_else(Vec::new, |c| view.projection.visitors_before(c, BATCH)),
                )
            })
            .await;
        let Ok((conversations, visitors)) = due else {
            return;
        };
        let busy = conversations.len() == BATCH || visitors.len() == BATCH;
        if !conversations.is_empty() {
            let count = conversations.len();
            match desk.command(Command::Forget { conversations }).await {
                Ok(_) => tracing::debug!(count, "finished conversations forgotten"),
                Err(Refusal::Unavailable(_)) => return,
                Err(other) => tracing::warn!(?other, "forgetting conversations was refused"),
            }
        }
        // One command per visitor; sent together, they share group commits.
        let mut sent = tokio::task::JoinSet::new();
        for visitor in visitors {
            let desk = desk.clone();
            sent.spawn(async move { desk.command(Command::ForgetVisitor { visitor }).await });
        }
        while let Some(result) = sent.join_next().await {
            if let Ok(Err(Refusal::Unavailable(_))) = result {
                return;
            }
        }
        if !busy {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
