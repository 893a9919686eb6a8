//! What the bench files share: a deterministic generator, ids, desks built to a shape, the
//! naive baseline, and a timer that leaves the host's bookkeeping out of the measurement.

pub mod naive;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use switchboard::{
    AgentId, AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, CustomStatus,
    EndReason, Engine, Event, GroupId, GroupSpec, Outcome, ScheduleSpec, WeeklyRange,
};

use naive::{Decisions, Naive};

/// The agent counts every routing bench runs at: 100, 1,000, 10,000 and 100,000, or those up
/// to `BENCH_MAX_AGENTS` when that is set (setups are not skipped by criterion's name filter, so
/// this keeps a quick run quick).
pub fn sizes() -> Vec<usize> {
    let max = std::env::var("BENCH_MAX_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    [100, 1_000, 10_000, 100_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

/// Every bench starts its clock here.
pub fn t0() -> DateTime<Utc> {
    "2026-11-21T08:00:00Z".parse().expect("a valid date")
}

/// xorshift64: a tiny deterministic generator, so every run replays the same workload.
#[derive(Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform enough in `0..n` for a workload.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// 90% priority 0, 10% priority 1..=3.
    pub fn priority(&mut self) -> u8 {
        if self.below(10) == 0 {
            1 + self.below(3) as u8
        } else {
            0
        }
    }
}

/// Conversation ids are as long as a UUID (36 bytes), like most hosts' ids.
pub fn conv_id(n: u64) -> ConversationId {
    ConversationId::new(format!("c{n:035}"))
}

/// How many distinct visitors a desk sees: visitors come back, so the engine's table of
/// visitors (it remembers each one's last agent) stops growing at this size instead of growing
/// with every iteration of a bench.
pub const VISITORS: u64 = 100_000;

/// The visitor of conversation `n`; ids as long as a UUID (36 bytes).
pub fn visitor_id(n: u64) -> String {
    format!("v{:035}", n % VISITORS)
}

pub fn agent_id(i: usize) -> AgentId {
    AgentId::new(format!("agent-{i:06}"))
}

pub fn group_id(g: usize) -> GroupId {
    GroupId::new(format!("group-{g:02}"))
}

/// A desk's shape: how many agents, groups, groups per agent, limit.
#[derive(Clone, Copy)]
pub struct Shape {
    pub agents: usize,
    pub groups: usize,
    /// Agent `i` is in groups `i, i+1, ..` (mod `groups`).
    pub groups_per_agent: usize,
    pub limit: u32,
}

impl Shape {
    /// The groups of agent `i`.
    pub fn groups_of(&self, i: usize) -> impl Iterator<Item = usize> + use<> {
        let (groups, n) = (self.groups, self.groups_per_agent);
        (0..n).map(move |k| (i + k) % groups)
    }
}

/// Something that routes: the engine, or the naive baseline. The benches are generic over it so
/// both run exactly the same workload.
pub trait Router {
    type Out;
    fn exec(&mut self, now: DateTime<Utc>, command: Command) -> Self::Out;
    /// The conversations assigned in an outcome, in order.
    fn assigned(out: &Self::Out, to: &mut Vec<ConversationId>);
}

impl Router for Engine {
    type Out = Outcome;

    fn exec(&mut self, now: DateTime<Utc>, command: Command) -> Outcome {
        self.handle(now, command)
            .expect("the benches send valid commands")
    }

    fn assigned(out: &Outcome, to: &mut Vec<ConversationId>) {
        for event in &out.events {
            if let Event::ConversationAssigned { conversation, .. } = event {
                to.push(conversation.clone());
            }
        }
    }
}

impl Router for Naive {
    type Out = Decisions;

    fn exec(&mut self, _now: DateTime<Utc>, command: Command) -> Decisions {
        self.handle(&command)
    }

    fn assigned(out: &Decisions, to: &mut Vec<ConversationId>) {
        to.extend(out.iter().map(|(c, _)| c.clone()));
    }
}

/// Runs `commands` through `router` and times only that and dropping the outcomes; in between,
/// untimed, collects the conversations assigned into `assigned`.
pub fn timed<R: Router>(
    router: &mut R,
    now: DateTime<Utc>,
    commands: Vec<Command>,
    assigned: &mut Vec<ConversationId>,
) -> Duration {
    let mut outs = Vec::with_capacity(commands.len());
    let start = Instant::now();
    for command in commands {
        outs.push(router.exec(now, command));
    }
    let ran = start.elapsed();
    for out in &outs {
        R::assigned(out, assigned);
    }
    let start = Instant::now();
    drop(outs);
    ran + start.elapsed()
}

/// Runs `f` and times only that; what it returns is handed back, to be dropped untimed. Never
/// inlined, so that callgrind's `--toggle-collect='*common::timed*'` (benches/profile.rs) finds
/// it and counts `f` alone.
#[inline(never)]
pub fn timed_call<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The host's side of a desk: its clock, the next conversation number, and the active
/// conversations in the order they were assigned (oldest first).
#[derive(Clone)]
pub struct Host {
    pub now: DateTime<Utc>,
    pub next_conv: u64,
    pub active: VecDeque<ConversationId>,
    pub rng: XorShift,
    pub next_group: usize,
}

impl Host {
    /// A new arrival, its group round robin over `groups`.
    pub fn arrival(&mut self, groups: usize) -> Command {
        self.next_conv += 1;
        let n = self.next_conv;
        let group = self.next_group % groups;
        self.next_group += 1;
        let priority = self.rng.priority();
        Command::VisitorArrives(
            Arrival::new(conv_id(n), visitor_id(n), group_id(group)).priority(priority),
        )
    }

    /// Moves the clock a little: every batch of commands happens at a later instant.
    pub fn tick(&mut self) -> DateTime<Utc> {
        self.now += TimeDelta::milliseconds(100);
        self.now
    }
}

pub fn end(conversations: Vec<ConversationId>) -> Command {
    Command::EndConversations {
        conversations,
        reason: EndReason::Agent,
    }
}

pub fn forget(conversations: Vec<ConversationId>) -> Command {
    Command::Forget { conversations }
}

pub fn status(agent: usize, status: AgentStatus) -> Command {
    Command::AgentStatusChanged {
        agent: agent_id(agent),
        status,
    }
}

/// An engine and a naive router in the same state, and the host's view of it.
pub struct Desk {
    pub engine: Engine,
    pub naive: Naive,
    pub host: Host,
    pub shape: Shape,
}

impl Desk {
    /// Registers the groups and the agents (Online unless `offline(i)`), through the engine; the
    /// naive router mirrors the engine's events.
    pub fn new(shape: Shape, offline: impl Fn(usize) -> bool) -> Self {
        Self::with_config(shape, Config::default(), offline)
    }

    /// [`Desk::new`] under another config.
    pub fn with_config(shape: Shape, config: Config, offline: impl Fn(usize) -> bool) -> Self {
        let mut desk = Desk {
            engine: Engine::new(config).expect("a valid config"),
            naive: Naive::default(),
            host: Host {
                now: t0(),
                next_conv: 0,
                active: VecDeque::new(),
                rng: XorShift::new(0x5eed_0000 + shape.agents as u64),
                next_group: 0,
            },
            shape,
        };
        for g in 0..shape.groups {
            desk.setup(Command::RegisterGroup(GroupSpec::new(group_id(g))));
        }
        for i in 0..shape.agents {
            let status = if offline(i) {
                AgentStatus::Offline
            } else {
                AgentStatus::Online
            };
            let mut spec = AgentSpec::new(agent_id(i))
                .status(status)
                .limit(shape.limit);
            for g in shape.groups_of(i) {
                spec = spec.group(group_id(g));
            }
            desk.setup(Command::RegisterAgent(spec));
        }
        desk
    }

    /// `n` arrivals, round robin over the groups.
    pub fn arrivals(&mut self, n: usize) {
        for _ in 0..n {
            let command = self.host.arrival(self.shape.groups);
            self.setup(command);
        }
    }

    /// One setup command: the engine decides, the naive router mirrors, the host tracks.
    pub fn setup(&mut self, command: Command) {
        let now = self.host.tick();
        let out = self
            .engine
            .handle(now, command.clone())
            .expect("setup commands are valid");
        self.naive.mirror(&command, &out);
        let mut assigned = Vec::new();
        Engine::assigned(&out, &mut assigned);
        self.host.active.extend(assigned);
    }
}

/// A schedule of `ranges` ranges, each on all seven days (7·`ranges` range-days), each
/// `86,400 / ranges` seconds long, touching: they tile the week (issue 13, defect 4).
pub fn tiled_schedule(ranges: u32) -> ScheduleSpec {
    use Weekday::*;
    let step = 86_400 / ranges;
    let time = |secs: u32| {
        NaiveTime::from_num_seconds_from_midnight_opt(secs % 86_400, 0).expect("within a day")
    };
    ScheduleSpec {
        schedule: "week".into(),
        time_zone: "Europe/Berlin".into(),
        ranges: (0..ranges)
            .map(|k| {
                let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
                WeeklyRange::new(&days, time(k * step), time((k + 1) * step))
            })
            .collect(),
    }
}

/// The default config with `statuses` custom statuses, every other one assignable (issue 13,
/// defect 7).
pub fn many_statuses(statuses: usize) -> Config {
    Config {
        custom_statuses: (0..statuses)
            .map(|i| CustomStatus {
                // Names that share a long prefix, as generated names do.
                name: format!("custom-status-{i:06}"),
                assignable: i % 2 == 0,
            })
            .collect(),
        ..Config::default()
    }
}

/// A desk where most of the queue is stalled (issue 13, defect 5): one group; `stalled`
/// conversations past the redirect limit (each offered to agent `AGENTS`, who declines it, with
/// a redirect limit of 0); agents `0..AGENTS` (limit 1) Offline; `AGENTS` live conversations
/// waiting behind the stalled ones, all arrived after them. Automatic reception is switched
/// back on at the end, so the drains assign.
pub struct StalledDesk {
    pub engine: Engine,
    pub now: DateTime<Utc>,
    /// The last conversation number.
    n: u64,
}

impl StalledDesk {
    /// The agents that come Online, and the live conversations they take.
    pub const AGENTS: usize = 50;

    pub fn new(stalled: usize) -> Self {
        let mut config = Config::default();
        config.reception.auto_accept = false;
        config.reception.redirect_limit = Some(0);
        let mut engine = Engine::new(config).expect("a valid config");
        let mut now = t0();
        let _ = engine.exec(now, Command::RegisterGroup(GroupSpec::new(group_id(0))));
        let x = AgentSpec::new(agent_id(Self::AGENTS))
            .status(AgentStatus::Online)
            .limit(1)
            .group(group_id(0));
        let _ = engine.exec(now, Command::RegisterAgent(x));
        let mut n = 0;
        for _ in 0..stalled {
            n += 1;
            now += TimeDelta::milliseconds(10);
            let _ = engine.exec(now, Self::arrival(n));
            let decline = Command::DeclineOffer {
                conversation: conv_id(n),
                agent: agent_id(Self::AGENTS),
            };
            let _ = engine.exec(now, decline);
        }
        let _ = engine.exec(now, status(Self::AGENTS, AgentStatus::Offline));
        for a in 0..Self::AGENTS {
            let spec = AgentSpec::new(agent_id(a)).limit(1).group(group_id(0));
            let _ = engine.exec(now, Command::RegisterAgent(spec));
        }
        for _ in 0..Self::AGENTS {
            n += 1;
            now += TimeDelta::milliseconds(10);
            let _ = engine.exec(now, Self::arrival(n));
        }
        let mut config = engine.config().clone();
        config.reception.auto_accept = true;
        let _ = engine.exec(now, Command::UpdateConfig(config));
        assert_eq!(
            engine.counters().waiting,
            (stalled + Self::AGENTS) as u64,
            "every conversation waits"
        );
        Self { engine, now, n }
    }

    /// A conversation of the one group, priority 0.
    fn arrival(n: u64) -> Command {
        Command::VisitorArrives(Arrival::new(conv_id(n), visitor_id(n), group_id(0)))
    }

    /// Agents `0..k` (`k` at most `AGENTS`) come Online, each taking one live conversation: only
    /// that is timed (with [`timed`]). Then, untimed, the agents go Offline again, their
    /// conversations end and are forgotten, and arrivals refill the live part.
    pub fn round(&mut self, k: usize) -> Duration {
        let engine = &mut self.engine;
        let commands = (0..k).map(|a| status(a, AgentStatus::Online)).collect();
        self.now += TimeDelta::milliseconds(100);
        let now = self.now;
        let mut assigned = Vec::new();
        let took = timed(engine, now, commands, &mut assigned);
        assert_eq!(assigned.len(), k, "each agent takes one live conversation");
        for a in 0..k {
            let _ = engine.exec(now, status(a, AgentStatus::Offline));
        }
        let _ = engine.exec(now, end(assigned.clone()));
        let _ = engine.exec(now, forget(assigned));
        for _ in 0..k {
            self.n += 1;
            let _ = engine.exec(now, Self::arrival(self.n));
        }
        took
    }
}
