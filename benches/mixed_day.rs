//! A mixed day as commands per second, at 100, 1,000, 10,000 and 100,000 agents.
//!
//! The desk: 10 groups, each agent in 3, limit 5; 80% of the agents Online, 10% Busy, 10%
//! Offline; the Online ones hold 60% of their capacity. A deterministic host-side generator
//! (xorshift) drives a scratch copy of the engine to write a log of 10,000 valid commands, then
//! each iteration replays the log on a fresh clone of the desk. The figure is commands per
//! second. Untimed: the clone, and the log up to its first arrival. A clone's conversation
//! table has no spare capacity, so its first new conversation copies the whole table (about
//! 16 ms at 100,000 agents); that is a cost of `Engine::clone`, paid once per clone,
//! not of a day's commands, so it is left out here and reported in BENCHMARKS.md.
//!
//! `mixed_day` (real-time mode, the default config), the engine next to the naive baseline on
//! the same log; setup checks that the naive router assigns exactly the same conversations to
//! the same agents, command by command, so both do the same work:
//!
//! | share | command |
//! |---|---|
//! | 38% | a visitor arrives (priority 0, or 1..=3 for one in ten) |
//! | 34% | an active conversation ends |
//! | 4% | a waiting visitor leaves |
//! | 10% | an agent changes status (Online to Busy, ShortBreak or Offline, and back) |
//! | 6% | an active conversation is transferred to a group |
//! | 3% | an active conversation is transferred to an agent with room (else to a group) |
//! | 5% | finished conversations are forgotten, up to 50 at once |
//!
//! `mixed_day_async` (asynchronous mode, all agents get work whatever their status, snoozed
//! conversations count toward load), the engine alone (the naive baseline has no asynchronous
//! mode): 34% arrivals, 32% ends, 8% status changes, 6% transfers to a group, 5% forgets, 10%
//! snoozes of an active conversation for 1 to 60 minutes, 5% visitor messages to a snoozed
//! one (which wake it); and a `Tick` whenever the engine's next deadline has passed, in place
//! of the next command (ticks count as commands).

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use indexmap::IndexSet;
use switchboard::{
    AgentStatus, Command, Config, ConversationId, ConversationState, Engine, Event, ReceptionMode,
    Sender, Target,
};

use common::naive::Naive;
use common::{Desk, Host, Router, Shape, XorShift, agent_id, end, forget, group_id, sizes, status};

const COMMANDS: usize = 10_000;

type Log = Vec<(DateTime<Utc>, Command)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    RealTime,
    Asynchronous,
}

/// The host's view while writing the log: what is active, waiting, snoozed and finished.
struct Generator {
    mode: Mode,
    rng: XorShift,
    host: Host,
    shape: Shape,
    active: IndexSet<ConversationId>,
    queued: IndexSet<ConversationId>,
    snoozed: IndexSet<ConversationId>,
    finished: Vec<ConversationId>,
}

fn pick(rng: &mut XorShift, set: &IndexSet<ConversationId>) -> ConversationId {
    set[rng.below(set.len())].clone()
}

impl Generator {
    fn next(&mut self, engine: &Engine) -> Command {
        match self.mode {
            Mode::RealTime => self.next_real_time(engine),
            Mode::Asynchronous => self.next_async(engine),
        }
    }

    fn status_change(&mut self, engine: &Engine) -> Command {
        let a = self.rng.below(self.shape.agents);
        let now = engine.agent_status(&agent_id(a)).expect("registered");
        let to = if *now == AgentStatus::Online {
            [
                AgentStatus::Busy,
                AgentStatus::ShortBreak,
                AgentStatus::Offline,
            ][self.rng.below(3)]
            .clone()
        } else {
            AgentStatus::Online
        };
        status(a, to)
    }

    fn forget_some(&mut self) -> Command {
        let n = self.finished.len().min(50);
        forget(self.finished.drain(..n).collect())
    }

    fn random_group(&mut self) -> Target {
        Target::Group(group_id(self.rng.below(self.shape.groups)))
    }

    fn next_async(&mut self, engine: &Engine) -> Command {
        let roll = self.rng.below(100);
        match roll {
            34..66 if !self.active.is_empty() => end(vec![pick(&mut self.rng, &self.active)]),
            66..74 => self.status_change(engine),
            74..80 if !self.active.is_empty() => Command::Transfer {
                conversation: pick(&mut self.rng, &self.active),
                to: self.random_group(),
            },
            80..85 if !self.finished.is_empty() => self.forget_some(),
            85..95 if !self.active.is_empty() => Command::Snooze {
                conversations: vec![pick(&mut self.rng, &self.active)],
                until: self.host.now + TimeDelta::minutes(1 + self.rng.below(60) as i64),
            },
            95..100 if !self.snoozed.is_empty() => Command::Message {
                conversation: pick(&mut self.rng, &self.snoozed),
                from: Sender::Visitor,
            },
            _ => self.host.arrival(self.shape.groups),
        }
    }

    fn next_real_time(&mut self, engine: &Engine) -> Command {
        let roll = self.rng.below(100);
        match roll {
            38..72 if !self.active.is_empty() => end(vec![pick(&mut self.rng, &self.active)]),
            72..76 if !self.queued.is_empty() => Command::VisitorLeaves {
                conversation: pick(&mut self.rng, &self.queued),
            },
            76..86 => self.status_change(engine),
            86..95 if !self.active.is_empty() => {
                let conversation = pick(&mut self.rng, &self.active);
                let group = self.random_group();
                let to = if roll < 92 {
                    group
                } else {
                    let b = agent_id(self.rng.below(self.shape.agents));
                    let holder = match engine.conversation(&conversation).map(|c| c.state) {
                        Some(ConversationState::Active { agent }) => agent,
                        _ => unreachable!("tracked as active"),
                    };
                    let view = engine.agent(&b).expect("registered");
                    if b != holder && view.status == AgentStatus::Online && view.load < view.limit {
                        Target::Agent(b)
                    } else {
                        group
                    }
                };
                Command::Transfer { conversation, to }
            }
            95..100 if !self.finished.is_empty() => self.forget_some(),
            _ => self.host.arrival(self.shape.groups),
        }
    }

    fn track(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::ConversationAssigned { conversation, .. } => {
                    self.queued.swap_remove(conversation);
                    self.active.insert(conversation.clone());
                }
                Event::ConversationQueued { conversation, .. }
                | Event::ConversationPooled { conversation, .. } => {
                    self.active.swap_remove(conversation);
                    self.queued.insert(conversation.clone());
                }
                Event::ConversationSnoozed { conversation, .. } => {
                    self.active.swap_remove(conversation);
                    self.snoozed.insert(conversation.clone());
                }
                Event::ConversationWoke { conversation, .. } => {
                    self.snoozed.swap_remove(conversation);
                    self.active.insert(conversation.clone());
                }
                Event::ConversationTransferred { conversation, .. } => {
                    self.active.swap_remove(conversation);
                }
                Event::ConversationEnded { conversation, .. }
                | Event::ConversationAbandoned { conversation, .. } => {
                    self.active.swap_remove(conversation);
                    self.queued.swap_remove(conversation);
                    self.snoozed.swap_remove(conversation);
                    self.finished.push(conversation.clone());
                }
                _ => {}
            }
        }
    }
}

/// The desk at the start of the day, and the day's command log.
fn day(agents: usize, mode: Mode) -> (Desk, Log) {
    let shape = Shape {
        agents,
        groups: 10,
        groups_per_agent: 3,
        limit: 5,
    };
    let config = match mode {
        Mode::RealTime => Config::default(),
        Mode::Asynchronous => Config {
            mode: ReceptionMode::Asynchronous,
            ..Config::default()
        },
    };
    let mut desk = Desk::with_config(shape, config, |i| i % 10 == 9);
    for i in (0..agents).filter(|i| i % 10 == 8) {
        desk.setup(status(i, AgentStatus::Busy));
    }
    desk.arrivals(agents * 12 / 5);
    assert_eq!(
        desk.engine.counters().waiting,
        0,
        "the day starts with no queue"
    );

    let mut generator = Generator {
        mode,
        rng: XorShift::new(0xda7 + agents as u64),
        host: desk.host.clone(),
        shape,
        active: desk.host.active.iter().cloned().collect(),
        queued: IndexSet::new(),
        snoozed: IndexSet::new(),
        finished: Vec::new(),
    };
    let mut scratch = desk.engine.clone();
    let mut log = Vec::with_capacity(COMMANDS);
    for _ in 0..COMMANDS {
        let now = generator.host.now + TimeDelta::milliseconds(250);
        generator.host.now = now;
        let command = match scratch.next_deadline() {
            Some(deadline) if deadline <= now => Command::Tick,
            _ => generator.next(&scratch),
        };
        let outcome = scratch
            .handle(now, command.clone())
            .expect("the generator writes valid commands");
        generator.track(&outcome.events);
        log.push((now, command));
    }
    if mode == Mode::RealTime {
        check_same_decisions(&desk, &log);
    }
    (desk, log)
}

/// The naive router must assign the same conversations to the same agents, command by command.
fn check_same_decisions(desk: &Desk, log: &Log) {
    let mut engine = desk.engine.clone();
    let mut naive = desk.naive.clone();
    for (i, (now, command)) in log.iter().enumerate() {
        let outcome = engine.handle(*now, command.clone()).expect("valid");
        let by_engine: Vec<(&ConversationId, &str)> = outcome
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ConversationAssigned {
                    conversation,
                    agent,
                    ..
                } => Some((conversation, agent.as_str())),
                _ => None,
            })
            .collect();
        let decisions = naive.handle(command);
        let by_naive: Vec<(&ConversationId, &str)> = decisions
            .iter()
            .map(|(c, a)| (c, naive.agent_id(*a).as_str()))
            .collect();
        assert_eq!(
            by_engine, by_naive,
            "command {i} ({command:?}): the naive baseline decided differently"
        );
    }
}

/// Times the log replayed on a clone of `router`, after its first arrival (see the crate docs
/// above: the clone's first arrival regrows the conversation table).
fn replay<R: Router + Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    size: usize,
    router: &R,
    log: &Log,
) {
    let warm = 1 + log
        .iter()
        .position(|(_, c)| matches!(c, Command::VisitorArrives(_)))
        .expect("the day has arrivals");
    group.throughput(Throughput::Elements((log.len() - warm) as u64));
    group.bench_function(BenchmarkId::new(name, size), |b| {
        b.iter_batched(
            || {
                let mut router = router.clone();
                for (now, command) in log[..warm].iter().cloned() {
                    router.exec(now, command);
                }
                (router, log[warm..].to_vec())
            },
            |(mut router, log)| {
                for (now, command) in log {
                    std::hint::black_box(router.exec(now, command));
                }
                router
            },
            BatchSize::PerIteration,
        )
    });
}

fn mixed_day(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixed_day");
    for agents in sizes() {
        let (desk, log) = day(agents, Mode::RealTime);
        replay(&mut group, "engine", agents, &desk.engine, &log);
        replay::<Naive>(&mut group, "naive", agents, &desk.naive, &log);
    }
    group.finish();
}

fn mixed_day_async(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixed_day_async");
    for agents in sizes() {
        let (desk, log) = day(agents, Mode::Asynchronous);
        let ticks = log.iter().filter(|(_, c)| *c == Command::Tick).count();
        assert!(ticks > 0, "the async day has ticks");
        replay(&mut group, "engine", agents, &desk.engine, &log);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = mixed_day, mixed_day_async
}
criterion_main!(benches);
