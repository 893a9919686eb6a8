//! What the bench files share: a deterministic generator, ids, desks built to a shape, the
//! naive baseline, and a timer that leaves the host's bookkeeping out of the measurement.

pub mod naive;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use switchboard::{
    AgentId, AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, CustomStatus,
    EndReason, Engine, Event, GroupId, GroupSpec, Outcome, ScheduleSpec, SkillId, Stage,
    WeeklyRange,
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

// ---- skills (issue 16) ----------------------------------------------------------------------

/// How many skills a skilled desk declares.
pub const SKILLS: usize = 50;

/// How many distinct requirement sets its conversations ask for, each 3 skills with a minimum
/// level.
pub const SETS: usize = 1_000;

/// Skill `s` of a skilled desk: `skill-00` .. `skill-49`.
pub fn skill_id(s: usize) -> SkillId {
    SkillId::new(format!("skill-{s:02}"))
}

/// The workload the skills benches (benches/skills.rs, `skills_*` in benches/profile.rs) run on
/// a plain desk ([`Desk`]) and on a skilled one ([`SkilledDesk`]) alike.
pub trait Workload {
    fn engine(&mut self) -> &mut Engine;
    fn host(&mut self) -> &mut Host;
    /// The next visitor's arrival.
    fn next_arrival(&mut self) -> Command;
    /// An arrival that replaces `taken`, a waiting conversation an agent just took: on a plain
    /// desk the next arrival; on a skilled desk one that asks for `taken`'s requirement set, so
    /// that the mix of sets in the queue stays the same.
    fn replacement(&mut self, taken: &ConversationId) -> Command;
}

impl Workload for Desk {
    fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }

    fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    fn next_arrival(&mut self) -> Command {
        self.host.arrival(self.shape.groups)
    }

    fn replacement(&mut self, _taken: &ConversationId) -> Command {
        self.next_arrival()
    }
}

/// One round of `k` arrivals: only they are timed (with [`timed`]); each must be assigned at
/// once. Then, untimed, they end and are forgotten. As `arrival_free_capacity` in
/// benches/routing.rs.
pub fn arrival_round<W: Workload>(desk: &mut W, k: usize) -> Duration {
    let commands = (0..k).map(|_| desk.next_arrival()).collect();
    let now = desk.host().tick();
    let mut assigned = Vec::new();
    let took = timed(desk.engine(), now, commands, &mut assigned);
    assert_eq!(assigned.len(), k, "every arrival finds an agent with room");
    let _ = desk.engine().exec(now, end(assigned.clone()));
    let _ = desk.engine().exec(now, forget(assigned));
    took
}

/// One round of `k` ends of the oldest active conversations: only they are timed; each freed
/// agent must take a waiting conversation. Then, untimed, a replacement arrives for each one
/// taken (it waits: every agent is full again) and the ended ones are forgotten. As
/// `end_takes_best_of_100k` in benches/routing.rs.
pub fn end_round<W: Workload>(desk: &mut W, k: usize) -> Duration {
    let ending: Vec<ConversationId> = desk.host().active.drain(..k).collect();
    let commands = ending.iter().map(|c| end(vec![c.clone()])).collect();
    let now = desk.host().tick();
    let mut assigned = Vec::new();
    let took = timed(desk.engine(), now, commands, &mut assigned);
    assert_eq!(assigned.len(), k, "every freed agent takes a waiting one");
    for taken in &assigned {
        let arrival = desk.replacement(taken);
        let _ = desk.engine().exec(now, arrival);
    }
    desk.host().active.extend(assigned);
    let _ = desk.engine().exec(now, forget(ending));
    took
}

/// A desk of `shape` whose agents hold skills and whose conversations require them (issue 16).
///
/// The desk declares [`SKILLS`] skills. There are [`SETS`] distinct requirement sets, each
/// requiring 3 skills at a minimum level of 1 to 5. Agent `i` holds the skills of two sets at a
/// level from the set's minimum to 10 (so it qualifies for both): set `(i / 10) % SETS`, which
/// puts every set on agents of every group once the desk has `10 · SETS` agents, and a random
/// one; and 2 more random skills at a random level: up to 8 skills (7.6 on average at 10,000
/// agents), and, by chance, sets beyond its two (3.7 sets met on average). Every conversation asks for one set (uniformly at random) in a single stage.
pub struct SkilledDesk {
    pub engine: Engine,
    pub host: Host,
    pub shape: Shape,
    /// Each set's requirements: (skill, minimum level), sorted by skill.
    pub sets: Vec<[(usize, u8); 3]>,
    /// Each agent's level on every skill, 0 where it holds none.
    pub levels: Vec<[u8; SKILLS]>,
    /// The set conversation `n` (numbered from 1) asks for, at `n - 1`.
    set_of: Vec<u16>,
}

impl SkilledDesk {
    /// Registers the groups and the agents, Online, with their skills.
    pub fn new(shape: Shape) -> Self {
        let mut rng = XorShift::new(0x5_1111_0000_u64.wrapping_add(shape.agents as u64));
        let mut seen = std::collections::BTreeSet::new();
        let mut sets = Vec::with_capacity(SETS);
        while sets.len() < SETS {
            let mut skills = [0; 3];
            let mut k = 0;
            while k < 3 {
                let s = rng.below(SKILLS);
                if !skills[..k].contains(&s) {
                    skills[k] = s;
                    k += 1;
                }
            }
            skills.sort_unstable();
            let set = skills.map(|s| (s, 1 + rng.below(5) as u8));
            if seen.insert(set) {
                sets.push(set);
            }
        }
        let config = Config {
            skills: (0..SKILLS).map(skill_id).collect(),
            ..Config::default()
        };
        let mut engine = Engine::new(config).expect("a valid config");
        let mut host = Host {
            now: t0(),
            next_conv: 0,
            active: VecDeque::new(),
            rng: XorShift::new(0x5eed_0000 + shape.agents as u64),
            next_group: 0,
        };
        for g in 0..shape.groups {
            let command = Command::RegisterGroup(GroupSpec::new(group_id(g)));
            let _ = engine.exec(host.tick(), command);
        }
        let mut levels = Vec::with_capacity(shape.agents);
        for i in 0..shape.agents {
            let mut held = [0u8; SKILLS];
            for set in [(i / 10) % SETS, rng.below(SETS)] {
                for (s, min) in sets[set] {
                    let level = min + rng.below(usize::from(11 - min)) as u8;
                    held[s] = held[s].max(level);
                }
            }
            for _ in 0..2 {
                let s = rng.below(SKILLS);
                if held[s] == 0 {
                    held[s] = 1 + rng.below(10) as u8;
                }
            }
            let mut spec = AgentSpec::new(agent_id(i))
                .status(AgentStatus::Online)
                .limit(shape.limit);
            for g in shape.groups_of(i) {
                spec = spec.group(group_id(g));
            }
            for (s, &level) in held.iter().enumerate() {
                if level > 0 {
                    spec = spec.skill(skill_id(s), level);
                }
            }
            let _ = engine.exec(host.tick(), Command::RegisterAgent(spec));
            levels.push(held);
        }
        SkilledDesk {
            engine,
            host,
            shape,
            sets,
            levels,
            set_of: Vec::new(),
        }
    }

    /// An arrival asking for set `set`, its group round robin over the desk's groups.
    pub fn arrival(&mut self, set: usize) -> Command {
        let host = &mut self.host;
        host.next_conv += 1;
        let n = host.next_conv;
        let group = host.next_group % self.shape.groups;
        host.next_group += 1;
        let priority = host.rng.priority();
        let mut stage = Stage::new();
        for (s, min) in self.sets[set] {
            stage = stage.require(skill_id(s), min);
        }
        debug_assert_eq!(
            self.set_of.len() as u64,
            n - 1,
            "conversations numbered in order"
        );
        self.set_of
            .push(u16::try_from(set).expect("fewer than 65,536 sets"));
        Command::VisitorArrives(
            Arrival::new(conv_id(n), visitor_id(n), group_id(group))
                .priority(priority)
                .stage(stage),
        )
    }

    /// One setup command, untimed; the host tracks what it assigns.
    pub fn setup(&mut self, command: Command) {
        let now = self.host.tick();
        let out = self.engine.exec(now, command);
        let mut assigned = Vec::new();
        Engine::assigned(&out, &mut assigned);
        self.host.active.extend(assigned);
    }

    /// `n` arrivals that ask for every set in every group in turn (arrival `k` for set
    /// `(k / groups) % SETS`, in group `k % groups`), so that with `n` at least `groups · SETS`
    /// every routing key exists and lasts while they are held.
    pub fn cover(&mut self, n: usize) {
        assert_eq!(self.host.next_group, 0, "the desk's first arrivals");
        for k in 0..n {
            let command = self.arrival((k / self.shape.groups) % SETS);
            self.setup(command);
        }
    }

    /// `n` arrivals, each asking for a random set.
    pub fn arrivals(&mut self, n: usize) {
        for _ in 0..n {
            let command = self.next_arrival();
            self.setup(command);
        }
    }

    /// Fills every agent to its limit: while agent `i` has room, a conversation asks for its
    /// first set (some agent with room that qualifies takes it; `i` does). O(agents · limit).
    pub fn fill(&mut self) {
        for i in 0..self.shape.agents {
            let id = agent_id(i);
            while self
                .engine
                .agent(&id)
                .expect("a registered agent")
                .free_units
                > 0
            {
                let command = self.arrival((i / 10) % SETS);
                let before = self.host.active.len();
                self.setup(command);
                assert_eq!(
                    self.host.active.len(),
                    before + 1,
                    "an agent with room takes it"
                );
            }
        }
    }

    /// Whether agent `i` meets set `set`.
    pub fn qualifies(&self, i: usize, set: usize) -> bool {
        self.sets[set]
            .iter()
            .all(|&(s, min)| self.levels[i][s] >= min)
    }

    /// The mean number of sets an agent meets, and how many skills it holds.
    pub fn mean_sets_and_skills(&self) -> (f64, f64) {
        let agents = self.levels.len().max(1) as f64;
        let sets: usize = (0..self.levels.len())
            .map(|i| (0..SETS).filter(|&s| self.qualifies(i, s)).count())
            .sum();
        let skills: usize = self
            .levels
            .iter()
            .map(|l| l.iter().filter(|&&v| v > 0).count())
            .sum();
        (sets as f64 / agents, skills as f64 / agents)
    }
}

impl Workload for SkilledDesk {
    fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }

    fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    fn next_arrival(&mut self) -> Command {
        let set = self.host.rng.below(SETS);
        self.arrival(set)
    }

    fn replacement(&mut self, taken: &ConversationId) -> Command {
        let n: usize = taken.as_str()[1..]
            .parse()
            .expect("a bench conversation id");
        let set = usize::from(self.set_of[n - 1]);
        self.arrival(set)
    }
}
