//! The timer task: sends `Tick` when the engine's next deadline comes.
//!
//! The engine has no clock; it says when it next needs one ([`Engine::next_deadline`]) and the
//! writer publishes that after every commit. This task sleeps until then, or until the
//! deadline changes, and sends a `Tick` like any other command, so it is journaled too and a
//! replay fires the same deadlines at the same instants. A deadline that passed while the
//! service was down fires as soon as it is back.
//!
//! [`Engine::next_deadline`]: switchboard::Engine::next_deadline

use std::time::Duration;

use switchboard::Command;

use crate::desk::{Desk, Refusal, wall_clock};

/// Runs until the writer stops.
pub async fn run(desk: Desk) {
    let mut deadline = desk.deadline();
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
            _ => match desk.command(Command::Tick).await {
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
