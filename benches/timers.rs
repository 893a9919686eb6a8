//! `Tick` when 1,000 timers are due among 10,000, 100,000 and 1,000,000 armed ones.
//!
//! The timers are snoozes, the one kind a host arms a million of easily: asynchronous mode,
//! 1,000 agents in one group, limit 5, snoozed conversations not counting toward load, and
//! every conversation snoozed until its own instant, 1 ms apart. Each iteration is one `Tick`
//! whose `now` makes exactly the next 1,000 snoozes due: they wake (`ConversationWoke`), each
//! back to its agent. Timed: the `Tick` and dropping its outcome. Untimed, between iterations:
//! the 1,000 woken conversations are snoozed again at the end of the line, so the number of
//! armed timers stays the same. The figure is per `Tick` (throughput: due timers per second);
//! that it stays flat as the armed timers grow 100-fold is the "costs in proportion to what is
//! due" target.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, Engine, Event, GroupSpec,
    ReceptionMode,
};

use common::{agent_id, conv_id, group_id, t0, visitor_id};

const DUE: u64 = 1_000;
const AGENTS: usize = 1_000;

/// A desk with `timers` snoozed conversations, the n-th until `start + n ms`.
struct Snoozes {
    engine: Engine,
    start: DateTime<Utc>,
    /// The sequence number of the next snooze to arm.
    next: u64,
}

impl Snoozes {
    fn until(&self, n: u64) -> DateTime<Utc> {
        self.start + TimeDelta::milliseconds(n as i64)
    }

    fn new(timers: u64) -> Self {
        let config = Config {
            mode: ReceptionMode::Asynchronous,
            snoozed_count_toward_load: false,
            ..Config::default()
        };
        let mut engine = Engine::new(config).expect("a valid config");
        let now = t0();
        let run = |engine: &mut Engine, command| {
            let _ = engine
                .handle(now, command)
                .expect("setup commands are valid");
        };
        run(
            &mut engine,
            Command::RegisterGroup(GroupSpec::new(group_id(0))),
        );
        for i in 0..AGENTS {
            let spec = AgentSpec::new(agent_id(i))
                .status(AgentStatus::Online)
                .limit(5)
                .group(group_id(0));
            run(&mut engine, Command::RegisterAgent(spec));
        }
        let mut desk = Snoozes {
            engine,
            start: now + TimeDelta::days(1),
            next: 0,
        };
        for n in 0..timers {
            let arrival = Arrival::new(conv_id(n), visitor_id(n), group_id(0));
            run(&mut desk.engine, Command::VisitorArrives(arrival));
            desk.snooze(now, conv_id(n));
        }
        assert_eq!(desk.engine.counters().snoozed, timers);
        desk
    }

    /// Snoozes a conversation until the next instant in line.
    fn snooze(&mut self, now: DateTime<Utc>, conversation: ConversationId) {
        let until = self.until(self.next);
        self.next += 1;
        let command = Command::Snooze {
            conversations: vec![conversation],
            until,
        };
        let outcome = self.engine.handle(now, command).expect("valid snooze");
        assert!(outcome.all_succeeded(), "an active conversation snoozes");
    }
}

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick_1000_due");
    group.throughput(Throughput::Elements(DUE));
    for timers in [10_000, 100_000, 1_000_000] {
        let mut desk = Snoozes::new(timers);
        // The first snooze not yet due.
        let mut due_from = 0;
        group.bench_function(BenchmarkId::new("engine", timers), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    due_from += DUE;
                    let now = desk.until(due_from - 1);
                    let start = Instant::now();
                    let outcome = desk.engine.handle(now, Command::Tick).expect("tick");
                    let ran = start.elapsed();
                    let woke: Vec<ConversationId> = outcome
                        .events
                        .iter()
                        .filter_map(|e| match e {
                            Event::ConversationWoke { conversation, .. } => {
                                Some(conversation.clone())
                            }
                            _ => None,
                        })
                        .collect();
                    let start = Instant::now();
                    drop(outcome);
                    total += ran + start.elapsed();
                    assert_eq!(woke.len() as u64, DUE, "exactly {DUE} snoozes were due");
                    for conversation in woke {
                        desk.snooze(now, conversation);
                    }
                }
                total
            })
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
    targets = tick
}
criterion_main!(benches);
