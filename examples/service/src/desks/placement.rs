//! The placement loops: which desks this host writes for, and warm engines for the others.
//! Two loops, each every eighth of the lease, so that a slow round of the second (a host
//! that starts and replays every desk) never delays the first's renewals:
//!
//! The **lease keeper**:
//!
//! 1. **Heartbeat**: the host is alive until a lease from now; the database counts the hosts
//!    alive.
//! 2. **Renew** the leases of the desks this host writes for, with their epochs. A desk the
//!    renewal does not return was claimed by another host: its writer stops at once (and its
//!    appends were already refused by the fence).
//!
//! The **placement** round:
//!
//! 1. **Follow** every other desk: read its journal after the warm engine's entry and apply
//!    it, checking each entry replays to the events it logged. This is the standby: when the
//!    desk's writer dies, this host has the desk's engine as of a round ago.
//! 2. **Claim** free desks (no owner, or a lease that ran out by the database's clock) while
//!    this host writes for fewer than its fair share, the desks divided by the hosts alive
//!    (rounded up). After a claim, the warm engine reads the journal to its end (every entry
//!    the old writer committed is visible: the claim waited for its append in flight) and a
//!    writer starts on it.
//!
//! A desk's fail-over therefore costs what is left of the dead writer's lease, at most one
//! round, and the replay of the entries written since the standby's last round.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use switchboard::{Engine, Snapshot};

use super::{Desks, Host, writer};
use crate::journal::{Journal, Logged};
use crate::store::to_json;

/// Most journal entries read per round.
const READ_AT_MOST: usize = 20_000;

/// A desk followed: its engine as of entry `seq`.
struct Warm {
    engine: Engine,
    seq: u64,
    /// The entry of the snapshot it started from, or of the last one written.
    snapshot_seq: u64,
}

/// Runs both loops until the process ends.
pub async fn run<J: Journal>(journal: Arc<J>, desks: Desks, host: Host) {
    let alive = Arc::new(AtomicUsize::new(1));
    tokio::spawn(keep(
        journal.clone(),
        desks.clone(),
        host.clone(),
        alive.clone(),
    ));
    let mut warm: HashMap<String, Warm> = HashMap::new();
    let mut every = every(&host);
    loop {
        every.tick().await;
        let alive = alive.load(Ordering::Acquire);
        if let Err(problem) = round(&journal, &desks, &host, alive, &mut warm).await {
            tracing::warn!(%problem, "placement round failed; retrying");
        }
    }
}

/// Every eighth of the lease, a late tick delaying the next.
fn every(host: &Host) -> tokio::time::Interval {
    let mut every = tokio::time::interval((host.lease / 8).max(Duration::from_millis(20)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// The lease keeper: heartbeat and renewals.
async fn keep<J: Journal>(journal: Arc<J>, desks: Desks, host: Host, alive: Arc<AtomicUsize>) {
    let mut every = every(&host);
    loop {
        every.tick().await;
        if let Err(problem) = renew(&journal, &desks, &host, &alive).await {
            tracing::warn!(%problem, "lease renewal failed; retrying");
        }
    }
}

async fn renew<J: Journal>(
    journal: &Arc<J>,
    desks: &Desks,
    host: &Host,
    alive: &AtomicUsize,
) -> Result<(), String> {
    alive.store(
        journal.heartbeat(&host.id, host.lease).await?,
        Ordering::Release,
    );
    let held = desks.held();
    if !held.is_empty() {
        let asked = Instant::now();
        let kept = journal.renew(&host.id, &held, host.lease).await?;
        for (desk, epoch) in held {
            if kept.contains(&desk) {
                desks.renewed(&desk, epoch, asked + host.lease);
            } else if desks.drop_desk(&desk, Some(epoch)) {
                tracing::warn!(%desk, epoch, "lease lost: another host writes for this desk now");
            }
        }
    }
    Ok(())
}

async fn round<J: Journal>(
    journal: &Arc<J>,
    desks: &Desks,
    host: &Host,
    alive: usize,
    warm: &mut HashMap<String, Warm>,
) -> Result<(), String> {
    let rows = journal.desks().await?;
    desks.set_known(
        rows.iter()
            .map(|row| {
                // This host's own desks that it does not write for (yet) have no owner here.
                let owner = (!row.free && row.owner.as_deref() != Some(host.id.as_str()))
                    .then(|| row.address.clone())
                    .flatten();
                (row.desk.clone(), owner)
            })
            .collect(),
    );
    // Follow every desk not written here.
    warm.retain(|desk, _| !desks.serves(desk));
    for row in &rows {
        if !desks.serves(&row.desk) && !warm.contains_key(&row.desk) {
            match load(journal.as_ref(), &row.desk).await {
                Ok(engine) => {
                    warm.insert(row.desk.clone(), engine);
                }
                Err(problem) => tracing::warn!(desk = %row.desk, %problem, "cannot follow"),
            }
        }
    }
    follow(journal.as_ref(), warm, None).await?;

    // Claim again the desks still recorded as this host's (a writer that stopped on a failed
    // commit), then free desks up to the fair share, in an order of this host's own (so that
    // hosts claiming together mostly ask for different desks).
    let fair = rows.len().div_ceil(alive.max(1));
    let claimable =
        |row: &&crate::journal::DeskRow| !desks.serves(&row.desk) && warm.contains_key(&row.desk);
    let mut candidates: Vec<String> = rows
        .iter()
        .filter(|row| row.owner.as_deref() == Some(host.id.as_str()))
        .filter(claimable)
        .map(|row| row.desk.clone())
        .collect();
    let wanted = fair.saturating_sub(desks.served_count() + candidates.len());
    let mut free: Vec<&str> = rows
        .iter()
        .filter(|row| row.free && row.owner.as_deref() != Some(host.id.as_str()))
        .filter(claimable)
        .map(|row| row.desk.as_str())
        .collect();
    free.sort_by_key(|desk| spread(desk, &host.id));
    candidates.extend(free.into_iter().take(wanted).map(String::from));
    if candidates.is_empty() {
        return Ok(());
    }
    tracing::debug!(?candidates, fair, alive, "claiming");
    let asked = Instant::now();
    let claimed = journal
        .claim(&candidates, &host.id, &host.address, host.lease)
        .await?;
    if claimed.is_empty() {
        return Ok(());
    }
    // Every entry of the previous epochs is committed now: read them all.
    let names: Vec<String> = claimed.iter().map(|(desk, _)| desk.clone()).collect();
    while follow(journal.as_ref(), warm, Some(&names)).await? {}
    for (name, epoch) in claimed {
        let Some(desk) = warm.remove(&name) else {
            continue;
        };
        tracing::info!(desk = %name, epoch, seq = desk.seq, "claimed: writing for this desk");
        writer::start(
            journal.clone(),
            desks,
            host,
            writer::Claimed {
                desk: name,
                epoch,
                engine: desk.engine,
                seq: desk.seq,
                snapshot_seq: desk.snapshot_seq,
                valid_until: asked + host.lease,
            },
        );
    }
    Ok(())
}

/// A desk's place in this host's claiming order (FNV-1a of the desk and the host).
fn spread(desk: &str, host: &str) -> u64 {
    desk.bytes()
        .chain([0])
        .chain(host.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// The desk's engine from its latest snapshot and the journal after it (the genesis config
/// when it has no snapshot).
async fn load<J: Journal>(journal: &J, desk: &str) -> Result<Warm, String> {
    let (engine, seq) = match journal.latest_snapshot(desk).await? {
        Some((seq, text)) => {
            let snapshot: Snapshot = serde_json::from_str(&text)
                .map_err(|e| format!("desk {desk}'s snapshot {seq} does not parse: {e}"))?;
            let engine = Engine::restore(snapshot)
                .map_err(|e| format!("desk {desk}'s snapshot {seq} does not restore: {e}"))?;
            (engine, seq)
        }
        None => {
            let config = journal
                .genesis(desk)
                .await?
                .ok_or_else(|| format!("no desk {desk}"))?;
            let engine = Engine::new(config).map_err(|e| format!("desk {desk}'s config: {e}"))?;
            (engine, 0)
        }
    };
    let mut warm = HashMap::from([(
        desk.to_owned(),
        Warm {
            engine,
            seq,
            snapshot_seq: seq,
        },
    )]);
    while follow(journal, &mut warm, Some(&[desk.to_owned()])).await? {}
    warm.remove(desk)
        .ok_or_else(|| format!("desk {desk} could not be replayed"))
}

/// Applies the journal entries after each warm engine (only those of `only`, if given). A desk whose
/// entry does not replay as logged is dropped, to be loaded again. Returns whether the read
/// was cut short (more entries are waiting).
async fn follow<J: Journal>(
    journal: &J,
    warm: &mut HashMap<String, Warm>,
    only: Option<&[String]>,
) -> Result<bool, String> {
    let after: Vec<(String, u64)> = warm
        .iter()
        .filter(|(desk, _)| only.is_none_or(|o| o.contains(desk)))
        .map(|(desk, w)| (desk.clone(), w.seq))
        .collect();
    let logged = journal.read_after(&after, READ_AT_MOST).await?;
    let more = logged.len() == READ_AT_MOST;
    for Logged {
        desk,
        seq,
        at,
        command,
        events,
    } in logged
    {
        let Some(w) = warm.get_mut(&desk) else {
            continue;
        };
        if let Err(problem) = replay(w, seq, at, command, &events) {
            tracing::error!(%desk, %problem, "the standby diverged; reloading the desk");
            warm.remove(&desk);
        }
    }
    Ok(more)
}

fn replay(
    warm: &mut Warm,
    seq: u64,
    at: DateTime<Utc>,
    command: switchboard::Command,
    events: &str,
) -> Result<(), String> {
    if seq != warm.seq + 1 {
        return Err(format!("entry {seq} follows {}", warm.seq));
    }
    let outcome = warm
        .engine
        .handle(at, command)
        .map_err(|e| format!("entry {seq} is refused on replay: {e}"))?;
    if to_json(&outcome.events) != events {
        return Err(format!(
            "entry {seq} replays to other events than it logged"
        ));
    }
    warm.seq = seq;
    Ok(())
}
