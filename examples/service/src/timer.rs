//! The timer task: sends `Tick` when the engine's next deadline comes.
//!
//! The engine has no clock; it says when it next needs one ([`Engine::next_deadline`]) and the
//! writer publishes that after every commit. This task sleeps until then, or until the
//! deadline changes, and sends a `Tick` like any other command, so it is journaled too and a
//! replay fires the same deadlines at the same instants. A deadline that passed while the
//! service was down fires as soon as it is back.
//!
//! [`Engine::next_deadline`]: switchboard::Engine::next_deadline

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchboard::Command;
use tokio::sync::watch;

use crate::desk::{Accepted, Desk, Refusal, wall_clock};

/// Runs until the writer stops.
pub async fn run(desk: Desk) {
    let deadline = desk.deadline();
    drive(deadline, move || {
        let desk = desk.clone();
        async move { desk.command(Command::Tick).await }
    })
    .await;
}

/// Sends a `Tick` through `tick` whenever the deadline published on `deadline` comes; ends
/// when the writer drops its side. Each writer of a many-desk host has one.
pub async fn drive<F>(mut deadline: watch::Receiver<Option<DateTime<Utc>>>, tick: impl Fn() -> F)
where
    F: Future<Output = Result<Accepted, Refusal>>,
{
    loop {
        let next = *deadline.borrow_and_update();
        let Some(at) = next else {
            if deadline.changed().await.is_err() {
                return;
            }
            continue;
        };
        match (at - wall_clock()).to_std() {
            Ok(wait) if !wait.is_zero() => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = deadline.changed() => if changed.is_err() { return },
                }
            }
            // Due: the writer publishes the next deadline after the Tick commits.
            _ => match tick().await {
                Ok(_) => {}
                Err(Refusal::Unavailable(problem)) => {
                    tracing::warn!(%problem, "tick not stored, retrying in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(other) => {
                    // A Tick is never refused; if it were, retrying at once would spin.
                    tracing::error!(?other, "tick refused");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        }
    }
}
