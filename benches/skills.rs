//! Routing with skills (issue 16) next to the same routing without them, in one run, so that
//! the ratio between the two is meaningful on a loaded machine.
//!
//! A skilled desk ([`common::SkilledDesk`]) declares 50 skills; each agent holds a handful (7.6
//! on average) at random levels; its conversations ask for one of 1,000 distinct requirement
//! sets of 3 skills with minimum levels, at random, in a single stage (an agent meets 3.7 of
//! the sets on average). The plain desk ([`common::Desk`])
//! has the same shape with no skills (the "one-group" figures of BENCHMARKS.md). Both run
//! exactly the same loop ([`common::arrival_round`], [`common::end_round`]); only the commands
//! are timed, as in benches/routing.rs.
//!
//! - `skills_arrival`: a visitor arrives and an agent with free capacity that meets its
//!   requirements takes it at once. 100,000 agents, 10 groups, each agent in 3, limit 5,
//!   holding about 2: 20 for each (group, set), so every routing key exists. Chunks of 1,000
//!   arrivals are timed, then ended and forgotten untimed. `one_group`: benches/routing.rs's
//!   `arrival_free_capacity`.
//! - `skills_end`: a conversation ends and its agent, now with room, takes the best waiting
//!   conversation it qualifies for among 100,000 waiting. 100,000 agents, 1 group, limit 5,
//!   every agent full (filled with work it qualifies for), 100,000 waiting over the 1,000
//!   sets. Chunks of 100 ends are timed; then, untimed, for each conversation taken one that
//!   asks for the same set arrives (so the queue's mix stays the same), and the ended ones are
//!   forgotten. `one_group`: benches/routing.rs's `end_takes_best_of_100k`.
//!
//! 100,000 agents, or 10,000 when `BENCH_MAX_AGENTS` is below 100,000 (a skilled desk needs
//! 10,000 agents to put every set in every group). Building the skilled arrival desk files
//! every group's members under each of its 10,000 routing keys, which takes a while.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use common::{Desk, Shape, SkilledDesk, Workload, arrival_round, end_round};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const WAITING: usize = 100_000;

fn agents() -> usize {
    let max = std::env::var("BENCH_MAX_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    if max < 100_000 { 10_000 } else { 100_000 }
}

fn shape(agents: usize, groups: usize, groups_per_agent: usize) -> Shape {
    Shape {
        agents,
        groups,
        groups_per_agent,
        limit: 5,
    }
}

/// Times `iters` commands in rounds of at most `chunk`.
fn rounds<W: Workload>(
    desk: &mut W,
    iters: u64,
    chunk: usize,
    round: impl Fn(&mut W, usize) -> Duration,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let k = left.min(chunk);
        left -= k;
        total += round(desk, k);
    }
    total
}

fn skills_arrival(c: &mut Criterion) {
    let mut group = c.benchmark_group("skills_arrival");
    group.throughput(Throughput::Elements(1));
    let agents = agents();
    let chunk = (agents / 2).min(1000);
    {
        let mut desk = Desk::new(shape(agents, 10, 3), |_| false);
        desk.arrivals(2 * agents);
        group.bench_function(BenchmarkId::new("one_group", agents), |b| {
            b.iter_custom(|iters| rounds(&mut desk, iters, chunk, arrival_round))
        });
    }
    {
        let mut desk = SkilledDesk::new(shape(agents, 10, 3));
        desk.cover(2 * agents);
        assert_eq!(desk.engine.counters().waiting, 0, "every arrival assigned");
        group.bench_function(BenchmarkId::new("skilled", agents), |b| {
            b.iter_custom(|iters| rounds(&mut desk, iters, chunk, arrival_round))
        });
    }
    group.finish();
}

fn skills_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("skills_end");
    group.throughput(Throughput::Elements(1));
    let agents = agents();
    {
        let mut desk = Desk::new(shape(agents, 1, 1), |_| false);
        desk.arrivals(agents * 5 + WAITING);
        assert_eq!(desk.engine.counters().waiting, WAITING as u64);
        group.bench_function(BenchmarkId::new("one_group", agents), |b| {
            b.iter_custom(|iters| rounds(&mut desk, iters, 100, end_round))
        });
    }
    {
        let mut desk = SkilledDesk::new(shape(agents, 1, 1));
        desk.fill();
        desk.arrivals(WAITING);
        assert_eq!(desk.engine.counters().waiting, WAITING as u64);
        group.bench_function(BenchmarkId::new("skilled", agents), |b| {
            b.iter_custom(|iters| rounds(&mut desk, iters, 100, end_round))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = skills_arrival, skills_end
}
criterion_main!(benches);
