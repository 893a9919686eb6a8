//! Validation of large inputs (issue 13, defects 4 and 7): a schedule of 1,440 and 5,760 ranges
//! and a config of 10,000 and 40,000 custom statuses. Both checks used to compare every pair
//! (5,760 ranges took 0.58 s, 40,000 statuses 1.4 s); they now sort, O(n log n), so the
//! figure should grow a little faster than the input, not sixteen-fold for four times as much.
//!
//! - `schedule_restore/N`: [`Engine::restore`] of a snapshot holding one schedule of N ranges,
//!   each on all seven days (7·N range-days), tiling the week: restore checks every schedule
//!   again, and with nothing else in the snapshot, that check is most of the time. The
//!   snapshot's clone is made between iterations, untimed.
//! - `schedule_define/N`: the same schedule (re)defined by [`Command::DefineSchedule`], which
//!   also evaluates its next shift boundary and duty (both O(N) per boundary).
//! - `custom_statuses/N`: [`Config::validate`] of a config with N custom statuses.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use switchboard::{Command, Config, Engine};

use common::{many_statuses, t0, tiled_schedule};

fn schedules(c: &mut Criterion) {
    let mut group = c.benchmark_group("validation");
    for ranges in [1_440, 5_760] {
        let spec = tiled_schedule(ranges);
        group.throughput(Throughput::Elements(u64::from(ranges)));
        let mut engine = Engine::new(Config::default()).expect("a valid config");
        let _ = engine
            .handle(t0(), Command::DefineSchedule(spec.clone()))
            .expect("a valid schedule");
        let snapshot = engine.snapshot();
        group.bench_function(BenchmarkId::new("schedule_restore", ranges), |b| {
            b.iter_batched(
                || snapshot.clone(),
                |snapshot| Engine::restore(snapshot).expect("a valid snapshot"),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("schedule_define", ranges), |b| {
            b.iter_batched(
                || Command::DefineSchedule(spec.clone()),
                |command| engine.handle(t0(), command).expect("a valid schedule"),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn custom_statuses(c: &mut Criterion) {
    let mut group = c.benchmark_group("validation");
    for statuses in [10_000, 40_000] {
        let config = many_statuses(statuses);
        group.throughput(Throughput::Elements(statuses as u64));
        group.bench_function(BenchmarkId::new("custom_statuses", statuses), |b| {
            b.iter(|| config.validate().expect("a valid config"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = schedules, custom_statuses
}
criterion_main!(benches);
