//! Snapshot and restore of 10,000 and 100,000 conversations, through serde_json.
//!
//! The desk: one agent per 10 conversations, 10 groups, each agent in 3, limit 5, every agent
//! Online and full; half the conversations are active, half wait.
//!
//! - `snapshot_to_json`: `engine.snapshot()` and `serde_json::to_vec` of it.
//! - `restore_from_json`: `serde_json::from_slice` and `Engine::restore` (which rebuilds every
//!   index); dropping the restored engine is not timed.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use switchboard::{Engine, Snapshot};

use common::{Desk, Shape};

fn snapshot_and_restore(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    for conversations in [10_000, 100_000] {
        let shape = Shape {
            agents: conversations / 10,
            groups: 10,
            groups_per_agent: 3,
            limit: 5,
        };
        let mut desk = Desk::new(shape, |_| false);
        desk.arrivals(conversations);
        assert_eq!(desk.engine.counters().waiting, conversations as u64 / 2);
        let engine = desk.engine;
        let json = serde_json::to_vec(&engine.snapshot()).expect("serializable");
        group.throughput(Throughput::Elements(conversations as u64));
        group.bench_function(BenchmarkId::new("snapshot_to_json", conversations), |b| {
            b.iter(|| serde_json::to_vec(&engine.snapshot()).expect("serializable"))
        });
        group.bench_function(BenchmarkId::new("restore_from_json", conversations), |b| {
            b.iter_with_large_drop(|| {
                let snapshot: Snapshot = serde_json::from_slice(&json).expect("our own json");
                Engine::restore(snapshot).expect("our own snapshot")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = snapshot_and_restore
}
criterion_main!(benches);
