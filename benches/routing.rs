//! The routing decisions at 100, 1,000, 10,000 and 100,000 agents, each next to the naive
//! baseline (benches/common/naive.rs) on the same workload in the same group, so the ratio
//! comes from one run.
//!
//! Every bench times only the command under test (`Engine::handle` and dropping its outcome);
//! the commands are built before the timer starts, and the host's bookkeeping and the commands
//! that put the desk back in the same state run untimed between chunks of measured commands.
//! So the state is steady across iterations: the figure is the cost of one command on a desk
//! of that size.
//!
//! - `arrival_free_capacity`: a visitor arrives and an agent with free capacity takes it. 10
//!   groups, each agent in 3, limit 5, every agent Online and holding about 2. Chunks of up to
//!   min(agents/2, 1000) arrivals are timed, then ended and forgotten untimed.
//! - `end_takes_best_of_100k`: a conversation ends and its agent, now with room, takes the best
//!   of 100,000 waiting. 1 group, limit 5, every agent full. Chunks of 100 ends are timed; then,
//!   untimed, 100 arrivals refill the queue and the ended conversations are forgotten.
//! - `online_fills_from_100k`: an agent comes Online with limit 5 and takes 5 from a queue of
//!   100,000. 1 group; the last 50 agents start Offline, the others are full. Chunks of up to
//!   50 status changes are timed; then, untimed, the agents go Offline again, their
//!   conversations end and are forgotten, and arrivals refill the queue.
//! - `free_in_5_groups_100k`: an agent in 5 groups ends a conversation and takes the best head
//!   of its 5 groups' queues. 10 groups of 10,000 waiting each, each agent in 5 of them, limit
//!   5, every agent full. Timed and reset like `end_takes_best_of_100k`.
//!
//! - `status_change_past_16k_stalled` (engine only: the naive baseline has no offers): an
//!   agent comes Online and takes the one live conversation it may have while 16,000
//!   conversations past the redirect limit wait in its group, all arrived before it (issue 13,
//!   defect 5: they used to lie in the drain's path, 30 µs a status change, and building them
//!   was quadratic). 1 group; each of 16,000 conversations was offered to agent `x` and
//!   declined with a redirect limit of 0; then 50 agents with limit 1 start Offline and 50 live
//!   conversations wait. Chunks of up to 50 status changes are timed; then, untimed, the agents
//!   go Offline again, their conversations end and are forgotten, and arrivals refill the live
//!   part.
//!
//! `Tick` with 1,000 of up to 1,000,000 timers due is in benches/timers.rs; snapshot and
//! restore in benches/snapshot.rs; the mixed day in benches/mixed_day.rs.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use switchboard::{AgentStatus, Command, ConversationId};

use common::{Desk, Host, Router, Shape, StalledDesk, end, forget, sizes, status, timed};

const WAITING: usize = 100_000;

fn arrival_free_capacity(c: &mut Criterion) {
    let mut group = c.benchmark_group("arrival_free_capacity");
    group.throughput(Throughput::Elements(1));
    for agents in sizes() {
        let shape = Shape {
            agents,
            groups: 10,
            groups_per_agent: 3,
            limit: 5,
        };
        let mut desk = Desk::new(shape, |_| false);
        desk.arrivals(2 * agents);
        let chunk = (agents / 2).min(1000);
        let Desk {
            engine,
            naive,
            host,
            ..
        } = desk;
        arrivals(
            &mut group,
            "engine",
            agents,
            engine,
            host.clone(),
            chunk,
            shape,
        );
        arrivals(&mut group, "naive", agents, naive, host, chunk, shape);
    }
    group.finish();
}

fn arrivals<R: Router>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    size: usize,
    mut router: R,
    mut host: Host,
    chunk: usize,
    shape: Shape,
) {
    group.bench_function(BenchmarkId::new(name, size), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            let mut assigned = Vec::new();
            while left > 0 {
                let k = left.min(chunk);
                left -= k;
                let commands = (0..k).map(|_| host.arrival(shape.groups)).collect();
                let now = host.tick();
                assigned.clear();
                total += timed(&mut router, now, commands, &mut assigned);
                assert_eq!(assigned.len(), k, "every arrival finds an agent with room");
                router.exec(now, end(assigned.clone()));
                router.exec(now, forget(std::mem::take(&mut assigned)));
            }
            total
        })
    });
}

/// A desk of `shape` with every agent full and `WAITING` conversations queued.
fn full_desk(shape: Shape, offline: impl Fn(usize) -> bool, online: usize) -> Desk {
    let mut desk = Desk::new(shape, offline);
    desk.arrivals(online * shape.limit as usize + WAITING);
    assert_eq!(desk.engine.counters().waiting, WAITING as u64);
    desk
}

fn end_and_take(c: &mut Criterion, name: &str, shape_of: impl Fn(usize) -> Shape) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for agents in sizes() {
        let shape = shape_of(agents);
        let desk = full_desk(shape, |_| false, agents);
        let Desk {
            engine,
            naive,
            host,
            ..
        } = desk;
        ends(&mut group, "engine", agents, engine, host.clone(), shape);
        ends(&mut group, "naive", agents, naive, host, shape);
    }
    group.finish();
}

fn ends<R: Router>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    size: usize,
    mut router: R,
    mut host: Host,
    shape: Shape,
) {
    group.bench_function(BenchmarkId::new(name, size), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            let mut assigned = Vec::new();
            while left > 0 {
                let k = left.min(100);
                left -= k;
                let ending: Vec<ConversationId> = host.active.drain(..k).collect();
                let commands = ending.iter().map(|c| end(vec![c.clone()])).collect();
                let now = host.tick();
                assigned.clear();
                total += timed(&mut router, now, commands, &mut assigned);
                assert_eq!(assigned.len(), k, "every freed agent takes a waiting one");
                host.active.extend(assigned.drain(..));
                for _ in 0..k {
                    let arrival = host.arrival(shape.groups);
                    router.exec(now, arrival);
                }
                router.exec(now, forget(ending));
            }
            total
        })
    });
}

fn end_takes_best_of_100k(c: &mut Criterion) {
    end_and_take(c, "end_takes_best_of_100k", |agents| Shape {
        agents,
        groups: 1,
        groups_per_agent: 1,
        limit: 5,
    });
}

fn free_in_5_groups_100k(c: &mut Criterion) {
    end_and_take(c, "free_in_5_groups_100k", |agents| Shape {
        agents,
        groups: 10,
        groups_per_agent: 5,
        limit: 5,
    });
}

const RESERVE: usize = 50;

fn online_fills_from_100k(c: &mut Criterion) {
    let mut group = c.benchmark_group("online_fills_from_100k");
    group.throughput(Throughput::Elements(1));
    for agents in sizes() {
        let shape = Shape {
            agents,
            groups: 1,
            groups_per_agent: 1,
            limit: 5,
        };
        let first_reserve = agents - RESERVE;
        let desk = full_desk(shape, |i| i >= first_reserve, first_reserve);
        let Desk {
            engine,
            naive,
            host,
            ..
        } = desk;
        let reserve: Vec<usize> = (first_reserve..agents).collect();
        online(
            &mut group,
            "engine",
            agents,
            engine,
            host.clone(),
            &reserve,
            shape,
        );
        online(&mut group, "naive", agents, naive, host, &reserve, shape);
    }
    group.finish();
}

fn online<R: Router>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    size: usize,
    mut router: R,
    mut host: Host,
    reserve: &[usize],
    shape: Shape,
) {
    let limit = shape.limit as usize;
    group.bench_function(BenchmarkId::new(name, size), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            let mut assigned = Vec::new();
            while left > 0 {
                let k = left.min(reserve.len());
                left -= k;
                let agents = &reserve[..k];
                let commands = agents
                    .iter()
                    .map(|&a| status(a, AgentStatus::Online))
                    .collect();
                let now = host.tick();
                assigned.clear();
                total += timed(&mut router, now, commands, &mut assigned);
                assert_eq!(assigned.len(), k * limit, "each agent fills its limit");
                for &a in agents {
                    router.exec(now, status(a, AgentStatus::Offline));
                }
                router.exec(now, end(assigned.clone()));
                router.exec(now, forget(std::mem::take(&mut assigned)));
                for _ in 0..k * limit {
                    let arrival: Command = host.arrival(shape.groups);
                    router.exec(now, arrival);
                }
            }
            total
        })
    });
}

const STALLED: usize = 16_000;

fn status_change_past_16k_stalled(c: &mut Criterion) {
    let mut group = c.benchmark_group("status_change_past_16k_stalled");
    group.throughput(Throughput::Elements(1));
    let mut desk = StalledDesk::new(STALLED);
    group.bench_function(BenchmarkId::new("engine", STALLED), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let k = left.min(StalledDesk::AGENTS);
                left -= k;
                total += desk.round(k);
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = arrival_free_capacity, end_takes_best_of_100k, online_fills_from_100k,
        free_in_5_groups_100k, status_change_past_16k_stalled
}
criterion_main!(benches);
