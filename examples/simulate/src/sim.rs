//! The host: a discrete-event simulation of a contact-center day around the engine.
//!
//! The host owns time and chance. It keeps a calendar of what people will do (a visitor
//! arrives, gives up, writes back; an agent replies, finishes, starts a shift, takes a break,
//! answers an offer), draws each from its seeded generator, and sends the engine a command at
//! each moment. Between two host moments it sends `Command::Tick` at every
//! `engine.next_deadline()`, so the engine's own timers (offer expiry, reply goals, snooze
//! ends, overflow, maximum waits) fire exactly on time. What the engine answers (assigned,
//! queued, offered, ...) is what the host reacts to: it never decides routing itself.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use indicatif::ProgressBar;
use switchboard::{
    AgentId, AgentSpec, AgentStatus, AllocationTarget, Arrival, Command, ConversationId,
    ConversationState, Counters, EndReason, Engine, Event, GroupSpec, GroupUpdate, KindId,
    KindLoad, KindSpec, Limit, Membership, Outcome, ReceptionMode, Sender, SkillMatch, Stage,
    Strategy, Target,
};

use crate::rng::Rng;
use crate::scenario::{Dist, Scenario, Shape};

const MINUTE: i64 = 60_000;
const DAY: i64 = 1440 * MINUTE;
/// After the last close, the run goes on until every conversation is done, or this long.
const DRAIN_LIMIT: i64 = 6 * 60 * MINUTE;
/// How many equal stretches of time the measured period is cut into for batch means.
pub const BATCHES: usize = 30;

/// What a run changes in the scenario: the columns of `--compare`.
#[derive(Clone, Debug)]
pub struct Variant {
    pub label: String,
    pub strategy: Option<Strategy>,
    pub mode: Option<ReceptionMode>,
}

impl Variant {
    pub fn as_written() -> Self {
        Self {
            label: "as written".into(),
            strategy: None,
            mode: None,
        }
    }
}

/// Sums of a piecewise-constant quantity over fixed-width time buckets: by time of day
/// (`wrap`) for the chart, or along the run for batch means.
#[derive(Clone, Debug)]
pub struct Buckets {
    start: i64,
    width: i64,
    wrap: bool,
    pub sums: Vec<f64>,
}

impl Buckets {
    fn new(start: i64, width: i64, count: usize, wrap: bool) -> Self {
        Self {
            start,
            width: width.max(1),
            wrap,
            sums: vec![0.0; count],
        }
    }

    fn index(&self, t: i64) -> Option<usize> {
        let p = if self.wrap { t.rem_euclid(DAY) } else { t } - self.start;
        if p < 0 {
            return None;
        }
        let i = (p / self.width) as usize;
        (i < self.sums.len()).then_some(i)
    }

    /// Adds `value` for every millisecond of `[t0, t1)`.
    fn add(&mut self, mut t0: i64, t1: i64, value: f64) {
        if value == 0.0 {
            return;
        }
        while t0 < t1 {
            let p = if self.wrap { t0.rem_euclid(DAY) } else { t0 } - self.start;
            let to_edge = if p < 0 {
                -p
            } else {
                self.width - p % self.width
            };
            let end = t1.min(t0 + to_edge);
            if let Some(i) = self.index(t0) {
                self.sums[i] += value * (end - t0) as f64;
            }
            t0 = end;
        }
    }

    /// Adds one point value to the bucket of time `t`.
    fn count(&mut self, t: i64, value: f64) {
        if let Some(i) = self.index(t) {
            self.sums[i] += value;
        }
    }
}

/// Everything a run measured; `report` turns it into figures.
pub struct RunResult {
    pub variant: Variant,
    /// Conversations that arrived in the measured period.
    pub conversations: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub left_message: u64,
    /// Turned away (full queue, maximum wait) without leaving a message.
    pub turned_away: u64,
    /// Still waiting for an agent when the run stopped.
    pub unfinished: u64,
    /// Waited at all (found no agent free).
    pub waited: u64,
    /// Waits of answered conversations, in seconds, sorted.
    pub waits: Vec<f64>,
    pub within_20: u64,
    pub within_60: u64,
    /// Slot-milliseconds in use and available, while agents were Online.
    pub busy_slot_ms: f64,
    pub staffed_slot_ms: f64,
    /// Per agent: conversations answered and milliseconds Online.
    pub per_agent: Vec<(String, u64, i64)>,
    /// Engine counters over the measured period.
    pub counters: Counters,
    pub commands: u64,
    pub engine_time: Duration,
    pub wall_time: Duration,
    /// Host actions the engine refused because they came too late (an offer accepted after
    /// it expired, ...): expected, and harmless.
    pub late_actions: u64,
    pub chart: Chart,
    pub batches: Batches,
    /// The length of one batch.
    pub batch_width_ms: i64,
    /// Figures per kind of work, in the order of `engine.kinds`; empty on a desk without kinds.
    pub kinds: Vec<KindResult>,
    /// Times an agent's view showed it holding a kind together with one that kind blocks
    /// (a call with a chat): 0 unless the engine breaks R-K2 or an admin assigned by hand.
    pub blocked_together: u64,
    /// Figures per requirement set (the first stage's required skills), in the order the
    /// groups' mixes name them; empty when no stream has stages.
    pub skills: Vec<SkillResult>,
}

/// What a run measured for the conversations of one requirement set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkillResult {
    /// The requirement set, "english+billing" (see `Scenario::requirement_label`).
    pub label: String,
    pub conversations: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Waits of answered conversations, in seconds, sorted.
    pub waits: Vec<f64>,
    /// Answered by an agent chosen under the first stage's requirements.
    pub first_stage: u64,
    /// Answered by an agent chosen after the requirements relaxed (stage 1 or later).
    pub relaxed: u64,
    /// The answering agents' levels on the required skills of the stage that applied: their
    /// sum and how many there were (from the engine's `SkillMatch`).
    pub level_sum: u64,
    pub levels: u64,
}

/// What a run measured for one kind of work.
#[derive(Clone, Debug, PartialEq)]
pub struct KindResult {
    pub kind: String,
    pub conversations: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Waits of answered conversations, in seconds, sorted.
    pub waits: Vec<f64>,
    /// Unit-milliseconds this kind held on Online agents in the measured period.
    pub busy_unit_ms: f64,
}

/// Time-of-day series for the chart.
pub struct Chart {
    /// Minutes since midnight of bucket 0, and the width in minutes.
    pub first_minute: u32,
    pub minutes: u32,
    /// Time-average waiting conversations, per bucket.
    pub waiting: Vec<f64>,
    /// Time-average agents Online, per bucket.
    pub online: Vec<f64>,
    /// Mean and 90th-percentile wait (seconds) of answered conversations that arrived in the
    /// bucket.
    pub mean_wait: Vec<Option<f64>>,
    pub p90_wait: Vec<Option<f64>>,
}

/// Per-batch figures for the noise estimate.
pub struct Batches {
    pub arrived: Vec<f64>,
    pub waited: Vec<f64>,
    pub wait_sum: Vec<f64>,
    pub within_20: Vec<f64>,
    pub busy: Vec<f64>,
    pub staffed: Vec<f64>,
}

impl Batches {
    fn ratio(num: &[f64], den: &[f64]) -> Vec<f64> {
        num.iter()
            .zip(den)
            .filter(|(_, d)| **d > 0.0)
            .map(|(n, d)| n / d)
            .collect()
    }
    pub fn p_wait(&self) -> Vec<f64> {
        Self::ratio(&self.waited, &self.arrived)
    }
    pub fn mean_wait(&self) -> Vec<f64> {
        Self::ratio(&self.wait_sum, &self.arrived)
    }
    pub fn service_level_20(&self) -> Vec<f64> {
        Self::ratio(&self.within_20, &self.arrived)
    }
    pub fn occupancy(&self) -> Vec<f64> {
        Self::ratio(&self.busy, &self.staffed)
    }
}

/// What keeps an agent from automatic work: off shift, on a break, or on the short break the
/// engine imposed after a missed offer.
#[derive(Clone, Copy, Debug)]
enum Duty {
    Shift,
    Break,
    ForcedBreak,
}

/// What the host has scheduled.
#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival {
        group: usize,
    },
    Abandon {
        conv: usize,
    },
    LeaveMessage {
        conv: usize,
    },
    FirstReply {
        conv: usize,
        service: u32,
    },
    SnoozeStart {
        conv: usize,
        service: u32,
    },
    VisitorWrites {
        conv: usize,
        snooze: u32,
    },
    End {
        conv: usize,
        service: u32,
    },
    OfferAnswer {
        conv: usize,
        agent: usize,
        accept: bool,
    },
    /// An agent's shift, break or forced break starts (`on`) or ends.
    Duty {
        agent: usize,
        duty: Duty,
        on: bool,
    },
    /// An admin assigns a conversation that reached the redirect limit to its group.
    AdminAssigns {
        conv: usize,
    },
    WarmupEnd,
    Housekeeping,
}

struct Scheduled {
    at: i64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A visitor's conversation as the host sees it. Its needs are drawn at arrival.
struct Conv {
    id: ConversationId,
    group: usize,
    /// Its kind's index in `engine.kinds`; none on a desk without kinds.
    kind: Option<usize>,
    /// Its requirement set's index in the skill results; none when no stream has stages.
    requirement: Option<usize>,
    /// The stage in force, as the engine's `StageAdvanced` events tell.
    stage: u32,
    /// The stage under which the engine last chose an agent for it, and that agent's levels
    /// on the required skills (sum, count), from the assignment's or offer's `SkillMatch`.
    picked_stage: u32,
    picked_levels: (u64, u64),
    arrived: i64,
    handling: i64,
    reply_after: Option<i64>,
    snooze: Option<(i64, Option<i64>)>,
    takes_message: bool,
    measured: bool,
    queued: bool,
    answered: bool,
    done: bool,
    /// Work done so far, and when the current stretch started.
    worked: i64,
    working_since: Option<i64>,
    /// Bumped whenever service starts or stops, so stale calendar entries are ignored.
    service: u32,
    snoozed_once: bool,
    snoozes: u32,
    /// The visitor gave up while the conversation was on offer.
    leaving: bool,
}

struct AgentSim {
    id: AgentId,
    on_shift: bool,
    on_break: bool,
    forced_break: bool,
    status: AgentStatus,
    load: u32,
    limit: u32,
    /// Units held per kind, as its view last showed (empty on a desk without kinds).
    kind_units: Vec<u32>,
    answered: u64,
    online_ms: i64,
    online_since: Option<i64>,
}

impl AgentSim {
    fn online(&self) -> bool {
        self.status == AgentStatus::Online
    }

    fn desired(&self) -> AgentStatus {
        if !self.on_shift {
            if self.load > 0 {
                AgentStatus::Busy
            } else {
                AgentStatus::Offline
            }
        } else if self.on_break || self.forced_break {
            AgentStatus::ShortBreak
        } else {
            AgentStatus::Online
        }
    }
}

/// A group's arrival process: Poisson with a rate that is constant within each hour of the
/// profile, drawn lazily.
struct ArrivalStream {
    rng: Rng,
    /// Per entry of the group's mix: its stages as the engine takes them, and its requirement
    /// set's index in the skill results.
    stages: Vec<Option<Vec<Stage>>>,
    requirements: Vec<Option<usize>>,
    /// The requirement set of a conversation of a group without mix.
    no_mix: Option<usize>,
}

/// Something that sees every command the engine accepts, with its instant and its events.
pub type Observer<'a> = &'a mut dyn FnMut(DateTime<Utc>, &Command, &[Event]);

struct Sim<'a> {
    sc: &'a Scenario,
    observer: Option<Observer<'a>>,
    engine: Engine,
    origin: DateTime<Utc>,
    now: i64,
    run_start: i64,
    warmup_end: i64,
    last_close: i64,
    calendar: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    arrivals: Vec<ArrivalStream>,
    behaviour_rng: Rng,
    convs: Vec<Conv>,
    agents: Vec<AgentSim>,
    agent_index: BTreeMap<AgentId, usize>,
    open: u64,
    finished: Vec<ConversationId>,
    async_mode: bool,
    pending_status: Vec<usize>,
    // Measurements.
    commands: u64,
    engine_time: Duration,
    late_actions: u64,
    busy_slots: f64,
    staffed_slots: f64,
    online_agents: f64,
    busy_slot_ms: f64,
    staffed_slot_ms: f64,
    counters_at_warmup: Counters,
    day_waiting: Buckets,
    day_online: Buckets,
    day_waits: Vec<Vec<f64>>,
    batch_busy: Buckets,
    batch_staffed: Buckets,
    batch_arrived: Buckets,
    batch_waited: Buckets,
    batch_wait_sum: Buckets,
    batch_within_20: Buckets,
    waits: Vec<f64>,
    result_counts: [u64; 6],
    // Per kind (empty on a desk without kinds): result counts, waits, units held by Online
    // agents now and integrated over the measured period.
    kind_counts: Vec<[u64; 6]>,
    kind_waits: Vec<Vec<f64>>,
    kind_busy_units: Vec<f64>,
    kind_busy_ms: Vec<f64>,
    blocked_together: u64,
    skill_results: Vec<SkillResult>,
}

// Indexes into `result_counts`.
const ARRIVED: usize = 0;
const ANSWERED: usize = 1;
const ABANDONED: usize = 2;
const LEFT_MESSAGE: usize = 3;
const TURNED_AWAY: usize = 4;
const WAITED: usize = 5;

fn draw(rng: &mut Rng, dist: &Dist) -> f64 {
    match dist.distribution {
        Shape::Exponential => rng.exponential(dist.mean_secs),
        Shape::Lognormal => rng.lognormal(dist.mean_secs, dist.cv.unwrap_or(1.0)),
        Shape::Fixed => dist.mean_secs,
    }
}

/// Seconds to whole milliseconds: at least 1, at most a year (a far tail draw stays a long
/// time, not an overflow).
fn ms(secs: f64) -> i64 {
    (secs * 1000.0).round().clamp(1.0, 365.0 * DAY as f64) as i64
}

/// Runs the scenario under the variant, with `progress` advanced in simulated minutes and its
/// message showing the simulated day and time.
pub fn run(sc: &Scenario, variant: &Variant, progress: &ProgressBar) -> Result<RunResult, String> {
    run_observed(sc, variant, progress, None)
}

/// [`run`], showing every command the engine accepts and its events to `observer`, as they
/// happen.
pub fn run_observed<'a>(
    sc: &'a Scenario,
    variant: &Variant,
    progress: &ProgressBar,
    observer: Option<Observer<'a>>,
) -> Result<RunResult, String> {
    let wall = Instant::now();
    let mut sim = Sim::new(sc, variant, observer)?;
    let total = (sim.last_close - sim.run_start) / MINUTE;
    progress.set_length(total.max(1) as u64);
    // About 500 updates a run: enough to watch, too few to cost anything.
    let step = (total / 500).max(1);
    let mut shown = -step;
    loop {
        let host = sim.calendar.peek().map(|Reverse(s)| s.at);
        let deadline = sim.engine.next_deadline().map(|d| sim.ms_ceil(d));
        let (at, tick) = match (host, deadline) {
            (None, None) => break,
            (Some(h), Some(d)) if d <= h => (d, true),
            (None, Some(d)) => (d, true),
            (Some(h), _) => (h, false),
        };
        if at > sim.last_close + DRAIN_LIMIT || (at > sim.last_close && sim.open == 0) {
            break;
        }
        sim.advance(at);
        if tick {
            sim.send(Command::Tick)?;
        } else if let Some(Reverse(s)) = sim.calendar.pop() {
            sim.happen(s.ev)?;
        }
        sim.sync_statuses()?;
        let minute = (sim.now - sim.run_start) / MINUTE;
        if minute >= shown + step && minute <= total {
            shown = minute;
            progress.set_position(minute.max(0) as u64);
            let day = sim.now.div_euclid(DAY);
            let clock = sim.now.rem_euclid(DAY) / MINUTE;
            progress.set_message(format!(
                "day {} of {}, {:02}:{:02}",
                day + 1,
                sc.days,
                clock / 60,
                clock % 60
            ));
        }
    }
    let end = sim.now.max(sim.last_close);
    sim.advance(end);
    Ok(sim.finish(variant.clone(), wall.elapsed()))
}

impl<'a> Sim<'a> {
    fn new(
        sc: &'a Scenario,
        variant: &Variant,
        observer: Option<Observer<'a>>,
    ) -> Result<Self, String> {
        let origin = sc
            .date
            .0
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let mut config = sc.engine.clone();
        if let Some(mode) = variant.mode {
            config.mode = mode;
        }
        let async_mode = config.mode == ReceptionMode::Asynchronous;
        if async_mode {
            // Simulated agents work only while Online.
            config.allocation_target = AllocationTarget::OnlineOnly;
        }
        let engine = Engine::new(config).map_err(|e| format!("engine: {e}"))?;

        let earliest_shift = sc
            .agents
            .iter()
            .map(|t| t.shift.map_or(0, |s| s.start.0))
            .min()
            .unwrap_or(0);
        let run_start = i64::from(sc.open.0.min(earliest_shift)) * MINUTE;
        let last_close = i64::from(sc.days - 1) * DAY + i64::from(sc.close.0) * MINUTE;
        let warmup_end = run_start + i64::from(sc.warmup_minutes) * MINUTE;

        let latest_shift = sc
            .agents
            .iter()
            .map(|t| t.shift.map_or(1440, |s| s.end.0))
            .max()
            .unwrap_or(1440);
        let first_minute = sc.open.0.min(earliest_shift);
        let first_minute = first_minute - first_minute % sc.chart_minutes;
        let last_minute = sc.close.0.max(latest_shift).min(1440);
        let width = i64::from(sc.chart_minutes) * MINUTE;
        let chart_buckets = (last_minute - first_minute).div_ceil(sc.chart_minutes) as usize;
        let chart_start = i64::from(first_minute) * MINUTE;
        let batch_width = ((last_close - warmup_end) / BATCHES as i64).max(1);
        let batches = || Buckets::new(warmup_end, batch_width, BATCHES, false);

        // Requirement sets, in the order the groups' mixes name them, when any stream has
        // stages.
        let staged = sc
            .groups
            .iter()
            .flat_map(|g| g.mix.iter().flatten())
            .any(|m| m.stages.is_some());
        let mut skill_results: Vec<SkillResult> = Vec::new();
        let mut requirement = |stages: Option<&[crate::scenario::StageSpec]>| {
            if !staged {
                return None;
            }
            let label = sc.requirement_label(stages);
            Some(
                skill_results
                    .iter()
                    .position(|r| r.label == label)
                    .unwrap_or_else(|| {
                        skill_results.push(SkillResult {
                            label,
                            ..SkillResult::default()
                        });
                        skill_results.len() - 1
                    }),
            )
        };
        let arrivals = sc
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let mix = group.mix.as_deref().unwrap_or_default();
                ArrivalStream {
                    rng: Rng::new(sc.seed, 1 + g as u64),
                    stages: mix
                        .iter()
                        .map(|m| m.stages.as_deref().map(|s| sc.engine_stages(s)))
                        .collect(),
                    requirements: mix
                        .iter()
                        .map(|m| requirement(m.stages.as_deref()))
                        .collect(),
                    no_mix: if group.mix.is_none() {
                        requirement(None)
                    } else {
                        None
                    },
                }
            })
            .collect();

        let mut sim = Sim {
            sc,
            observer,
            engine,
            origin,
            now: run_start,
            run_start,
            warmup_end,
            last_close,
            calendar: BinaryHeap::new(),
            seq: 0,
            arrivals,
            behaviour_rng: Rng::new(sc.seed, 0),
            convs: Vec::new(),
            agents: Vec::new(),
            agent_index: BTreeMap::new(),
            open: 0,
            finished: Vec::new(),
            async_mode,
            pending_status: Vec::new(),
            commands: 0,
            engine_time: Duration::ZERO,
            late_actions: 0,
            busy_slots: 0.0,
            staffed_slots: 0.0,
            online_agents: 0.0,
            busy_slot_ms: 0.0,
            staffed_slot_ms: 0.0,
            counters_at_warmup: Counters::default(),
            day_waiting: Buckets::new(chart_start, width, chart_buckets, true),
            day_online: Buckets::new(chart_start, width, chart_buckets, true),
            day_waits: vec![Vec::new(); chart_buckets],
            batch_busy: batches(),
            batch_staffed: batches(),
            batch_arrived: batches(),
            batch_waited: batches(),
            batch_wait_sum: batches(),
            batch_within_20: batches(),
            waits: Vec::new(),
            result_counts: [0; 6],
            kind_counts: vec![[0; 6]; sc.engine.kinds.len()],
            kind_waits: vec![Vec::new(); sc.engine.kinds.len()],
            kind_busy_units: vec![0.0; sc.engine.kinds.len()],
            kind_busy_ms: vec![0.0; sc.engine.kinds.len()],
            blocked_together: 0,
            skill_results,
        };
        sim.set_up(variant)?;
        Ok(sim)
    }

    /// Registers the desk and fills the calendar with arrivals, shifts and breaks.
    fn set_up(&mut self, variant: &Variant) -> Result<(), String> {
        let sc = self.sc;
        for group in &sc.groups {
            let mut spec = GroupSpec::new(group.id.as_str())
                .strategy(variant.strategy.unwrap_or(group.strategy));
            if let Some(limit) = group.limit {
                spec = spec.limit(limit);
            }
            if let Some(cap) = group.agent_cap {
                spec = spec.agent_cap(cap);
            }
            self.send(Command::RegisterGroup(spec))?;
        }
        for group in &sc.groups {
            if let Some(overflow) = &group.overflow {
                self.send(Command::UpdateGroup(GroupUpdate {
                    group: group.id.as_str().into(),
                    strategy: None,
                    limit: None,
                    overflow: Some(overflow.clone()),
                    agent_cap: None,
                }))?;
            }
        }
        let ids = sc.agent_ids();
        let mut member = vec![0u32; sc.agents.len()];
        for (id, t) in ids {
            let team = &sc.agents[t];
            let k = member[t];
            member[t] += 1;
            let mut spec = AgentSpec::new(id.as_str());
            spec.limit = team.limit.map_or(Limit::Inherit, Limit::Fixed);
            spec.groups = team
                .groups
                .iter()
                .map(|g| Membership::with_rank(g.as_str(), *team.rank.get(g).unwrap_or(&3)))
                .collect();
            spec.skills = sc.skill_levels(&team.skills);
            let outcome = self.send_outcome(Command::RegisterAgent(spec))?;
            let limit = outcome
                .events
                .iter()
                .find_map(|e| match e {
                    Event::AgentRegistered { limit, .. } => Some(*limit),
                    _ => None,
                })
                .unwrap_or(1);
            let a = self.agents.len();
            self.agent_index.insert(AgentId::new(id.as_str()), a);
            self.agents.push(AgentSim {
                id: AgentId::new(id),
                on_shift: false,
                on_break: false,
                forced_break: false,
                status: AgentStatus::Offline,
                load: 0,
                limit,
                kind_units: vec![0; sc.engine.kinds.len()],
                answered: 0,
                online_ms: 0,
                online_since: None,
            });
            let stagger = i64::from(team.stagger_minutes) * i64::from(k) * MINUTE;
            match team.shift {
                None => self.schedule(
                    self.run_start,
                    Ev::Duty {
                        agent: a,
                        duty: Duty::Shift,
                        on: true,
                    },
                ),
                Some(shift) => {
                    for day in 0..i64::from(sc.days) {
                        let base = day * DAY;
                        self.schedule(
                            base + i64::from(shift.start.0) * MINUTE,
                            Ev::Duty {
                                agent: a,
                                duty: Duty::Shift,
                                on: true,
                            },
                        );
                        self.schedule(
                            base + i64::from(shift.end.0) * MINUTE,
                            Ev::Duty {
                                agent: a,
                                duty: Duty::Shift,
                                on: false,
                            },
                        );
                    }
                }
            }
            for day in 0..i64::from(sc.days) {
                for b in &team.breaks {
                    let at = day * DAY + i64::from(b.at.0) * MINUTE + stagger;
                    self.schedule(
                        at,
                        Ev::Duty {
                            agent: a,
                            duty: Duty::Break,
                            on: true,
                        },
                    );
                    self.schedule(
                        at + i64::from(b.minutes) * MINUTE,
                        Ev::Duty {
                            agent: a,
                            duty: Duty::Break,
                            on: false,
                        },
                    );
                }
            }
        }
        for g in 0..sc.groups.len() {
            if let Some(at) = self.next_arrival(g, i64::from(sc.open.0) * MINUTE) {
                self.schedule(at, Ev::Arrival { group: g });
            }
        }
        if self.warmup_end > self.run_start {
            self.schedule(self.warmup_end, Ev::WarmupEnd);
        }
        self.schedule(self.run_start + 60 * MINUTE, Ev::Housekeeping);
        Ok(())
    }

    /// The next arrival of group `g` strictly after `t` (or at `t` for the first), by thinning
    /// nothing: within an hour of the profile the rate is constant, so the gap is exponential;
    /// a gap that crosses the hour's end restarts there with the next hour's rate (memoryless).
    fn next_arrival(&mut self, g: usize, mut t: i64) -> Option<i64> {
        let sc = self.sc;
        let open = i64::from(sc.open.0) * MINUTE;
        let close = i64::from(sc.close.0) * MINUTE;
        loop {
            if t >= self.last_close {
                return None;
            }
            let day = t.div_euclid(DAY);
            let in_day = t - day * DAY;
            if in_day < open {
                t = day * DAY + open;
                continue;
            }
            if in_day >= close {
                t = (day + 1) * DAY + open;
                continue;
            }
            let hour = ((in_day - open) / (60 * MINUTE)) as usize;
            let hour_end = day * DAY + (open + (hour as i64 + 1) * 60 * MINUTE).min(close);
            let rate = sc.rate(g, hour);
            if rate <= 0.0 {
                t = hour_end;
                continue;
            }
            let gap = self.arrivals[g].rng.exponential(3600.0 / rate);
            let next = t + (gap * 1000.0).round() as i64;
            if next < hour_end {
                return Some(next.max(t));
            }
            t = hour_end;
        }
    }

    fn schedule(&mut self, at: i64, ev: Ev) {
        self.seq += 1;
        self.calendar.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn time(&self, ms: i64) -> DateTime<Utc> {
        self.origin + TimeDelta::milliseconds(ms)
    }

    fn ms_ceil(&self, at: DateTime<Utc>) -> i64 {
        let delta = at.signed_duration_since(self.origin);
        let floor = delta.num_milliseconds();
        if TimeDelta::milliseconds(floor) < delta {
            floor + 1
        } else {
            floor
        }
    }

    /// Moves the clock to `t`, integrating what was constant since the last move.
    fn advance(&mut self, t: i64) {
        let t0 = self.now;
        if t > t0 {
            let waiting = self.engine.counters().waiting as f64;
            // The chart folds the days onto one; a drain past the last midnight stays out of it.
            let last_midnight = i64::from(self.sc.days) * DAY;
            let (d0, d1) = (t0.min(last_midnight), t.min(last_midnight));
            self.day_waiting.add(d0, d1, waiting);
            self.day_online.add(d0, d1, self.online_agents);
            self.batch_busy.add(t0, t, self.busy_slots);
            self.batch_staffed.add(t0, t, self.staffed_slots);
            // Occupancy counts the measured opening hours: after the warm-up, until the last
            // close.
            let (from, to) = (t0.max(self.warmup_end), t.min(self.last_close));
            if to > from {
                let span = (to - from) as f64;
                self.busy_slot_ms += self.busy_slots * span;
                self.staffed_slot_ms += self.staffed_slots * span;
                for (sum, units) in self.kind_busy_ms.iter_mut().zip(&self.kind_busy_units) {
                    *sum += units * span;
                }
            }
            self.now = t;
        }
    }

    /// Sends one command at the current time and reacts to what comes out.
    /// Sends a command whose events only `react` needs.
    fn send(&mut self, command: Command) -> Result<(), String> {
        self.send_outcome(command).map(drop)
    }

    fn send_outcome(&mut self, command: Command) -> Result<Outcome, String> {
        let at = self.time(self.now);
        let started = Instant::now();
        let result = self.engine.handle(at, command.clone());
        self.engine_time += started.elapsed();
        self.commands += 1;
        let outcome = result.map_err(|e| {
            format!("the engine refused {command:?} at {at}: {e} (a bug in the simulator)")
        })?;
        self.observe(&command, &outcome.events);
        self.react(&outcome.events)?;
        Ok(outcome)
    }

    /// Sends a command that may come too late (the visitor was answered meanwhile, the offer
    /// expired): the engine's refusal is then expected and changes nothing.
    fn send_late_ok(&mut self, command: Command) -> Result<(), String> {
        let at = self.time(self.now);
        let started = Instant::now();
        let copy = self.observer.is_some().then(|| command.clone());
        let result = self.engine.handle(at, command);
        self.engine_time += started.elapsed();
        self.commands += 1;
        match result {
            Ok(outcome) => {
                if let Some(command) = copy {
                    self.observe(&command, &outcome.events);
                }
                self.react(&outcome.events)
            }
            Err(_) => {
                self.late_actions += 1;
                Ok(())
            }
        }
    }

    fn observe(&mut self, command: &Command, events: &[Event]) {
        let at = self.time(self.now);
        if let Some(observer) = self.observer.as_mut() {
            observer(at, command, events);
        }
    }

    fn conv_index(id: &ConversationId) -> usize {
        id.as_str()[1..]
            .parse()
            .expect("the simulator names conversations c<number>")
    }

    fn agent_of(&self, id: &AgentId) -> usize {
        self.agent_index[id]
    }

    /// What the host does at a moment of its calendar.
    fn happen(&mut self, ev: Ev) -> Result<(), String> {
        match ev {
            Ev::Arrival { group } => self.arrive(group)?,
            Ev::Abandon { conv } => {
                let c = &self.convs[conv];
                if !c.done && !c.answered {
                    let id = c.id.clone();
                    let offered = matches!(
                        self.engine.conversation(&id).map(|v| v.state),
                        Some(ConversationState::Offered { .. })
                    );
                    if offered {
                        // The engine's VisitorLeaves takes waiting conversations only; a
                        // visitor who closes the chat while an agent has it on offer ends it.
                        self.convs[conv].leaving = true;
                        self.send(Command::EndConversations {
                            conversations: vec![id],
                            reason: EndReason::Visitor,
                        })?;
                    } else {
                        self.send_late_ok(Command::VisitorLeaves { conversation: id })?;
                    }
                }
            }
            Ev::LeaveMessage { conv } => {
                if !self.convs[conv].answered {
                    let id = self.convs[conv].id.clone();
                    self.send_late_ok(Command::LeaveMessage { conversation: id })?;
                }
            }
            Ev::FirstReply { conv, service } => {
                if self.convs[conv].service == service && self.convs[conv].working_since.is_some() {
                    let id = self.convs[conv].id.clone();
                    self.send(Command::Message {
                        conversation: id,
                        from: Sender::AgentReply,
                    })?;
                }
            }
            Ev::SnoozeStart { conv, service } => {
                let c = &self.convs[conv];
                if c.service == service && c.working_since.is_some() {
                    let (length, writes) = c.snooze.expect("planned");
                    let id = c.id.clone();
                    let until = self.time(self.now + length);
                    self.send(Command::Snooze {
                        conversations: vec![id],
                        until,
                    })?;
                    let c = &mut self.convs[conv];
                    c.snoozed_once = true;
                    if let Some(writes) = writes.filter(|w| *w < length) {
                        let snooze = c.snoozes;
                        self.schedule(self.now + writes, Ev::VisitorWrites { conv, snooze });
                    }
                }
            }
            Ev::VisitorWrites { conv, snooze } => {
                let c = &self.convs[conv];
                if c.snoozes == snooze && !c.done && c.working_since.is_none() {
                    let id = c.id.clone();
                    self.send(Command::Message {
                        conversation: id,
                        from: Sender::Visitor,
                    })?;
                }
            }
            Ev::End { conv, service } => {
                if self.convs[conv].service == service && self.convs[conv].working_since.is_some() {
                    let id = self.convs[conv].id.clone();
                    self.send(Command::EndConversations {
                        conversations: vec![id],
                        reason: EndReason::Agent,
                    })?;
                }
            }
            Ev::OfferAnswer {
                conv,
                agent,
                accept,
            } => {
                if self.convs[conv].done {
                    return Ok(());
                }
                let conversation = self.convs[conv].id.clone();
                let agent = self.agents[agent].id.clone();
                let command = if accept {
                    Command::AcceptOffer {
                        conversation,
                        agent,
                    }
                } else {
                    Command::DeclineOffer {
                        conversation,
                        agent,
                    }
                };
                self.send_late_ok(command)?;
            }
            Ev::Duty { agent, duty, on } => {
                let a = &mut self.agents[agent];
                match duty {
                    Duty::Shift => a.on_shift = on,
                    Duty::Break => a.on_break = on,
                    Duty::ForcedBreak => a.forced_break = on,
                }
                self.pending_status.push(agent);
            }
            Ev::AdminAssigns { conv } => {
                let c = &self.convs[conv];
                if !c.done && c.working_since.is_none() {
                    let command = Command::AssignManually {
                        conversations: vec![c.id.clone()],
                        target: Target::Group(self.sc.groups[c.group].id.as_str().into()),
                    };
                    if !self.send_outcome(command)?.all_succeeded() {
                        self.late_actions += 1;
                    }
                }
            }
            Ev::WarmupEnd => {
                self.counters_at_warmup = self.engine.counters().clone();
            }
            Ev::Housekeeping => {
                // A host forgets finished conversations now and then, as a real one would
                // after archiving them.
                if !self.finished.is_empty() {
                    let conversations = std::mem::take(&mut self.finished);
                    self.send(Command::Forget { conversations })?;
                }
                if self.now < self.last_close + DRAIN_LIMIT {
                    self.schedule(self.now + 60 * MINUTE, Ev::Housekeeping);
                }
            }
        }
        Ok(())
    }

    /// A visitor arrives: its needs are drawn now, from its group's stream, whatever the
    /// routing, so every variant sees the same visitors.
    fn arrive(&mut self, group: usize) -> Result<(), String> {
        let sc = self.sc;
        let g = &sc.groups[group];
        let rng = &mut self.arrivals[group].rng;
        // The kind is drawn only for a group with a mix, so a scenario without kinds sees the
        // very same visitors as before kinds existed.
        let entry = g.mix.as_ref().map(|mix| {
            let roll = 100.0 * rng.uniform();
            let mut below = 0.0;
            let last = mix.iter().rposition(|m| m.percent > 0.0).unwrap_or(0);
            mix.iter()
                .position(|m| {
                    below += m.percent;
                    m.percent > 0.0 && roll < below
                })
                .unwrap_or(last)
        });
        let share = g.mix.as_ref().zip(entry).map(|(mix, j)| &mix[j]);
        let kind = match share {
            Some(share) => sc.kind_index(share),
            None => (!sc.engine.kinds.is_empty()).then_some(0),
        };
        let handling_dist = share
            .and_then(|m| m.handling.as_ref())
            .unwrap_or(&g.handling);
        let patience_dist = share
            .and_then(|m| m.patience.as_ref())
            .or(g.patience.as_ref());
        let handling = ms(draw(rng, handling_dist));
        let patience = patience_dist.map(|d| ms(draw(rng, d)));
        let reply_after = g.first_reply.as_ref().map(|d| ms(draw(rng, d)));
        let snooze = g.snooze.as_ref().and_then(|s| {
            let chosen = rng.chance(s.share);
            let length = ms(draw(rng, &s.duration));
            let writes = s.visitor_writes.as_ref().map(|d| ms(draw(rng, d)));
            chosen.then_some((length, writes))
        });
        let takes_message = rng.chance(sc.behaviour.leave_message_share);
        let stream = &self.arrivals[group];
        let (stages, requirement) = match entry {
            Some(j) => (stream.stages[j].clone(), stream.requirements[j]),
            None => (None, stream.no_mix),
        };

        let conv = self.convs.len();
        let id = ConversationId::new(format!("c{conv}"));
        let measured = self.now >= self.warmup_end && self.now < self.last_close;
        self.convs.push(Conv {
            id: id.clone(),
            group,
            kind,
            requirement,
            stage: 0,
            picked_stage: 0,
            picked_levels: (0, 0),
            arrived: self.now,
            handling,
            reply_after,
            snooze,
            takes_message,
            measured,
            queued: false,
            answered: false,
            done: false,
            worked: 0,
            working_since: None,
            service: 0,
            snoozed_once: false,
            snoozes: 0,
            leaving: false,
        });
        self.open += 1;
        if measured {
            self.result_counts[ARRIVED] += 1;
            self.batch_arrived.count(self.now, 1.0);
            if let Some(k) = kind {
                self.kind_counts[k][ARRIVED] += 1;
            }
            if let Some(r) = requirement {
                self.skill_results[r].conversations += 1;
            }
        }
        if let (Some(patience), false) = (patience, self.async_mode) {
            self.schedule(self.now + patience, Ev::Abandon { conv });
        }
        let mut arrival = Arrival::new(id, format!("v{conv}"), g.id.as_str());
        if let (Some(k), Some(_)) = (kind, share) {
            arrival = arrival.kind(sc.engine.kinds[k].kind.clone());
        }
        arrival.stages = stages;
        self.send(Command::VisitorArrives(arrival))?;
        if let Some(next) = self.next_arrival(group, self.now) {
            self.schedule(next, Ev::Arrival { group });
        }
        Ok(())
    }

    /// The host's side of each event.
    fn react(&mut self, events: &[Event]) -> Result<(), String> {
        let mut touched: Vec<usize> = Vec::new();
        for event in events {
            self.note_stage(event);
            match event {
                // Work starts or resumes.
                Event::ConversationAssigned {
                    conversation,
                    agent,
                    ..
                }
                | Event::OfferAccepted {
                    conversation,
                    agent,
                }
                | Event::ConversationWoke {
                    conversation,
                    agent,
                    ..
                } => {
                    let a = self.agent_of(agent);
                    touched.push(a);
                    self.start_service(Self::conv_index(conversation), a);
                }
                Event::ConversationOffered {
                    conversation,
                    agent,
                    ..
                } => {
                    let a = self.agent_of(agent);
                    touched.push(a);
                    let conv = Self::conv_index(conversation);
                    let b = &self.sc.behaviour;
                    let rng = &mut self.behaviour_rng;
                    let roll = rng.uniform();
                    let delay = ms(draw(rng, &b.offer_response));
                    if roll >= b.offer_miss_share {
                        let accept = roll >= b.offer_miss_share + b.offer_decline_share;
                        self.schedule(
                            self.now + delay,
                            Ev::OfferAnswer {
                                conv,
                                agent: a,
                                accept,
                            },
                        );
                    }
                }
                Event::OfferDeclined { agent, .. } | Event::OfferWithdrawn { agent, .. } => {
                    touched.push(self.agent_of(agent));
                }
                Event::OfferExpired {
                    agent, short_break, ..
                } => {
                    let a = self.agent_of(agent);
                    touched.push(a);
                    if *short_break {
                        self.agents[a].forced_break = true;
                        let back = ms(self.sc.behaviour.short_break_minutes * 60.0);
                        self.schedule(
                            self.now + back,
                            Ev::Duty {
                                agent: a,
                                duty: Duty::ForcedBreak,
                                on: false,
                            },
                        );
                    }
                }
                // Work stops: the conversation left its agent.
                Event::FirstReplyTimedOut {
                    conversation,
                    agent: from,
                }
                | Event::ConversationRequeued { conversation, from }
                | Event::ConversationTransferred {
                    conversation, from, ..
                } => {
                    touched.push(self.agent_of(from));
                    self.stop_service(Self::conv_index(conversation));
                }
                Event::ConversationQueued { conversation, .. }
                | Event::ConversationPooled { conversation, .. } => {
                    let conv = Self::conv_index(conversation);
                    let c = &mut self.convs[conv];
                    if !c.queued && !c.answered {
                        c.queued = true;
                        if c.measured {
                            self.result_counts[WAITED] += 1;
                            self.batch_waited.count(c.arrived, 1.0);
                        }
                    }
                }
                Event::LeaveMessageOffered { conversation, .. } => {
                    let conv = Self::conv_index(conversation);
                    if self.convs[conv].takes_message {
                        self.schedule(self.now, Ev::LeaveMessage { conv });
                    }
                }
                Event::ConversationTurnedAway { conversation, .. } => {
                    let conv = Self::conv_index(conversation);
                    if !self.convs[conv].takes_message || !self.engine.config().queue.leave_message
                    {
                        self.close(conv, Some(TURNED_AWAY));
                    }
                }
                Event::ConversationLeftMessage { conversation } => {
                    self.close(Self::conv_index(conversation), Some(LEFT_MESSAGE));
                }
                Event::ConversationAbandoned { conversation, .. } => {
                    self.close(Self::conv_index(conversation), Some(ABANDONED));
                }
                Event::ConversationEnded {
                    conversation,
                    agent,
                    ..
                } => {
                    if let Some(agent) = agent {
                        touched.push(self.agent_of(agent));
                    }
                    let conv = Self::conv_index(conversation);
                    self.stop_service(conv);
                    let leaving = self.convs[conv].leaving;
                    self.close(conv, leaving.then_some(ABANDONED));
                }
                Event::ConversationSnoozed {
                    conversation,
                    agent,
                    ..
                } => {
                    touched.push(self.agent_of(agent));
                    let conv = Self::conv_index(conversation);
                    self.stop_service(conv);
                    self.convs[conv].snoozes += 1;
                }
                Event::RedirectLimitReached { conversation, .. } => {
                    // It now waits for an admin, who looks at such conversations now and then.
                    if let Some(minutes) = self.sc.behaviour.admin_after_minutes {
                        let conv = Self::conv_index(conversation);
                        self.schedule(self.now + ms(minutes * 60.0), Ev::AdminAssigns { conv });
                    }
                }
                Event::AgentStatusChanged { agent, .. } => {
                    touched.push(self.agent_of(agent));
                }
                _ => {}
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for a in touched {
            self.refresh_agent(a);
        }
        Ok(())
    }

    /// What an event says of a conversation's stages: the stage it entered, or the stage
    /// under which an agent was chosen for it and that agent's levels. Without a `SkillMatch`
    /// (a conversation without stages) the stage in force counts.
    fn note_stage(&mut self, event: &Event) {
        match event {
            Event::StageAdvanced {
                conversation,
                stage,
                ..
            } => self.convs[Self::conv_index(conversation)].stage = *stage,
            Event::ConversationAssigned {
                conversation,
                skills,
                ..
            }
            | Event::ConversationOffered {
                conversation,
                skills,
                ..
            } => {
                let c = &mut self.convs[Self::conv_index(conversation)];
                match skills {
                    Some(m) => {
                        let SkillMatch {
                            stage, required, ..
                        } = &**m;
                        c.picked_stage = *stage;
                        c.picked_levels = (
                            required.iter().map(|l| u64::from(l.level)).sum(),
                            required.len() as u64,
                        );
                    }
                    None => {
                        c.picked_stage = c.stage;
                        c.picked_levels = (0, 0);
                    }
                }
            }
            _ => {}
        }
    }

    /// An agent starts or resumes work on a conversation.
    fn start_service(&mut self, conv: usize, agent: usize) {
        let now = self.now;
        let c = &mut self.convs[conv];
        if !c.answered {
            c.answered = true;
            self.agents[agent].answered += 1;
            if c.measured {
                let wait = (now - c.arrived) as f64 / 1000.0;
                self.result_counts[ANSWERED] += 1;
                self.waits.push(wait);
                if let Some(k) = c.kind {
                    self.kind_counts[k][ANSWERED] += 1;
                    self.kind_waits[k].push(wait);
                }
                if let Some(r) = c.requirement {
                    let tally = &mut self.skill_results[r];
                    tally.answered += 1;
                    tally.waits.push(wait);
                    if c.picked_stage == 0 {
                        tally.first_stage += 1;
                    } else {
                        tally.relaxed += 1;
                    }
                    tally.level_sum += c.picked_levels.0;
                    tally.levels += c.picked_levels.1;
                }
                self.batch_wait_sum.count(c.arrived, wait);
                if wait <= 20.0 {
                    self.batch_within_20.count(c.arrived, 1.0);
                }
                if let Some(i) = self.day_waiting.index(c.arrived) {
                    self.day_waits[i].push(wait);
                }
            }
        }
        c.service += 1;
        c.working_since = Some(now);
        let service = c.service;
        let remaining = (c.handling - c.worked).max(1);
        let snooze_now = self.async_mode && c.snooze.is_some() && !c.snoozed_once;
        let reply = c.reply_after;
        if snooze_now {
            self.schedule(now + remaining / 2, Ev::SnoozeStart { conv, service });
        } else {
            self.schedule(now + remaining, Ev::End { conv, service });
        }
        if let Some(reply) = reply {
            self.schedule(now + reply, Ev::FirstReply { conv, service });
        }
    }

    /// Work on a conversation stops (snoozed, requeued, ended, redirected).
    fn stop_service(&mut self, conv: usize) {
        let now = self.now;
        let c = &mut self.convs[conv];
        if let Some(since) = c.working_since.take() {
            c.worked += now - since;
        }
        c.service += 1;
    }

    /// A conversation is over for the host, counted under `outcome` (an index into the
    /// result counts) unless it was answered: a conversation an agent answered counts as
    /// answered however it ends (turned away after a requeue, say).
    fn close(&mut self, conv: usize, outcome: Option<usize>) {
        let c = &mut self.convs[conv];
        if c.done {
            return;
        }
        c.done = true;
        self.open -= 1;
        self.finished.push(c.id.clone());
        if let (Some(i), true, false) = (outcome, c.measured, c.answered) {
            self.result_counts[i] += 1;
            if let Some(k) = c.kind {
                self.kind_counts[k][i] += 1;
            }
            if let (Some(r), ABANDONED) = (c.requirement, i) {
                self.skill_results[r].abandoned += 1;
            }
        }
    }

    /// Reads an agent's load and status back from the engine and updates the integrals.
    fn refresh_agent(&mut self, a: usize) {
        let view = self
            .engine
            .agent(&self.agents[a].id)
            .expect("every simulated agent is registered");
        let now = self.now;
        let agent = &mut self.agents[a];
        if agent.online() {
            self.busy_slots -= f64::from(agent.load.min(agent.limit));
            self.staffed_slots -= f64::from(agent.limit);
            self.online_agents -= 1.0;
            for (sum, units) in self.kind_busy_units.iter_mut().zip(&agent.kind_units) {
                *sum -= f64::from(*units);
            }
        }
        let kinds = &self.sc.engine.kinds;
        for (k, units) in agent.kind_units.iter_mut().enumerate() {
            *units = view
                .kinds
                .iter()
                .find(|held| held.kind == kinds[k].kind)
                .map_or(0, |held| held.units);
        }
        self.blocked_together += u64::from(holds_blocked_pair(kinds, &view.kinds));
        agent.load = view.load;
        agent.limit = view.limit;
        agent.status = view.status;
        if agent.online() {
            self.busy_slots += f64::from(agent.load.min(agent.limit));
            self.staffed_slots += f64::from(agent.limit);
            self.online_agents += 1.0;
            for (sum, units) in self.kind_busy_units.iter_mut().zip(&agent.kind_units) {
                *sum += f64::from(*units);
            }
            agent.online_since.get_or_insert(now);
        } else if let Some(since) = agent.online_since.take() {
            agent.online_ms += now - since;
        }
        if agent.status != agent.desired() {
            self.pending_status.push(a);
        }
    }

    /// Brings every agent whose intended status changed in line with it.
    fn sync_statuses(&mut self) -> Result<(), String> {
        while let Some(a) = self.pending_status.pop() {
            let desired = self.agents[a].desired();
            if self.agents[a].status != desired {
                let agent = self.agents[a].id.clone();
                self.send(Command::AgentStatusChanged {
                    agent,
                    status: desired,
                })?;
            }
        }
        Ok(())
    }

    fn finish(mut self, variant: Variant, wall_time: Duration) -> RunResult {
        let now = self.now;
        for agent in &mut self.agents {
            if let Some(since) = agent.online_since.take() {
                agent.online_ms += now - since;
            }
        }
        let unfinished = self
            .convs
            .iter()
            .filter(|c| c.measured && !c.done && !c.answered)
            .count() as u64;
        self.waits.sort_by(f64::total_cmp);
        let within = |limit: f64, waits: &[f64]| waits.iter().filter(|w| **w <= limit).count();
        let counters = diff(self.engine.counters(), &self.counters_at_warmup);
        let chart = Chart {
            first_minute: (self.day_waiting.start / MINUTE) as u32,
            minutes: self.sc.chart_minutes,
            waiting: self.per_bucket_average(&self.day_waiting),
            online: self.per_bucket_average(&self.day_online),
            mean_wait: self
                .day_waits
                .iter()
                .map(|w| crate::stats::mean(w))
                .collect(),
            p90_wait: self
                .day_waits
                .iter_mut()
                .map(|w| {
                    w.sort_by(f64::total_cmp);
                    crate::stats::percentile(w, 0.9)
                })
                .collect(),
        };
        let batches = Batches {
            arrived: self.batch_arrived.sums.clone(),
            waited: self.batch_waited.sums.clone(),
            wait_sum: self.batch_wait_sum.sums.clone(),
            within_20: self.batch_within_20.sums.clone(),
            busy: self.batch_busy.sums.clone(),
            staffed: self.batch_staffed.sums.clone(),
        };
        let kinds = self
            .sc
            .engine
            .kinds
            .iter()
            .enumerate()
            .map(|(k, spec)| {
                let mut waits = std::mem::take(&mut self.kind_waits[k]);
                waits.sort_by(f64::total_cmp);
                KindResult {
                    kind: spec.kind.to_string(),
                    conversations: self.kind_counts[k][ARRIVED],
                    answered: self.kind_counts[k][ANSWERED],
                    abandoned: self.kind_counts[k][ABANDONED],
                    waits,
                    busy_unit_ms: self.kind_busy_ms[k],
                }
            })
            .collect();
        let mut skills = std::mem::take(&mut self.skill_results);
        for r in &mut skills {
            r.waits.sort_by(f64::total_cmp);
        }
        RunResult {
            variant,
            kinds,
            skills,
            blocked_together: self.blocked_together,
            conversations: self.result_counts[ARRIVED],
            answered: self.result_counts[ANSWERED],
            abandoned: self.result_counts[ABANDONED],
            left_message: self.result_counts[LEFT_MESSAGE],
            turned_away: self.result_counts[TURNED_AWAY],
            unfinished,
            waited: self.result_counts[WAITED],
            within_20: within(20.0, &self.waits) as u64,
            within_60: within(60.0, &self.waits) as u64,
            waits: self.waits,
            busy_slot_ms: self.busy_slot_ms,
            staffed_slot_ms: self.staffed_slot_ms,
            per_agent: self
                .agents
                .iter()
                .map(|a| (a.id.to_string(), a.answered, a.online_ms))
                .collect(),
            counters,
            commands: self.commands,
            engine_time: self.engine_time,
            wall_time,
            late_actions: self.late_actions,
            chart,
            batches,
            batch_width_ms: self.batch_busy.width,
        }
    }

    /// Time-of-day sums to averages: each bucket covers `width` milliseconds on each day.
    fn per_bucket_average(&self, buckets: &Buckets) -> Vec<f64> {
        let span = buckets.width as f64 * f64::from(self.sc.days);
        buckets.sums.iter().map(|s| s / span).collect()
    }
}

/// Whether an agent holding `held` (its view's load per kind) holds a kind together with one
/// that kind blocks, as the engine never does for automatic work (R-K2).
pub fn holds_blocked_pair(kinds: &[KindSpec], held: &[KindLoad]) -> bool {
    let holds = |kind: &KindId| held.iter().any(|h| &h.kind == kind && h.count > 0);
    kinds
        .iter()
        .filter(|spec| holds(&spec.kind))
        .any(|spec| spec.blocks.iter().any(holds))
}

/// Counters accumulated since `before`; the gauges (waiting, active, ...) as they are now.
fn diff(now: &Counters, before: &Counters) -> Counters {
    let mut d = now.clone();
    d.arrived -= before.arrived;
    d.queued -= before.queued;
    d.assigned_automatically -= before.assigned_automatically;
    d.assigned_manually -= before.assigned_manually;
    d.transferred -= before.transferred;
    d.requeued -= before.requeued;
    d.abandoned -= before.abandoned;
    d.ended -= before.ended;
    d.pooled -= before.pooled;
    d.claimed -= before.claimed;
    d.snoozes -= before.snoozes;
    d.sla_warnings -= before.sla_warnings;
    d.sla_breaches -= before.sla_breaches;
    d.inactivity_reminders -= before.inactivity_reminders;
    d.ended_for_inactivity -= before.ended_for_inactivity;
    d.offers -= before.offers;
    d.offers_declined -= before.offers_declined;
    d.offers_expired -= before.offers_expired;
    d.redirects -= before.redirects;
    d.turned_away -= before.turned_away;
    d.left_message -= before.left_message;
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(kinds: &[(&str, u32)]) -> Vec<KindLoad> {
        let json: Vec<serde_json::Value> = kinds
            .iter()
            .map(|(k, n)| serde_json::json!({ "kind": k, "count": n, "units": n * 10 }))
            .collect();
        serde_json::from_value(serde_json::Value::Array(json)).expect("KindLoad from JSON")
    }

    #[test]
    fn a_call_held_with_a_chat_is_a_blocked_pair() {
        let kinds = [
            KindSpec::new("chat", 25),
            KindSpec::new("email", 10),
            KindSpec::new("voice", 100).blocks("chat"),
        ];
        assert!(holds_blocked_pair(
            &kinds,
            &held(&[("chat", 1), ("voice", 1)])
        ));
        assert!(!holds_blocked_pair(
            &kinds,
            &held(&[("email", 2), ("voice", 1)])
        ));
        assert!(!holds_blocked_pair(
            &kinds,
            &held(&[("chat", 3), ("email", 1)])
        ));
        assert!(!holds_blocked_pair(
            &kinds,
            &held(&[("chat", 0), ("voice", 1)])
        ));
        assert!(!holds_blocked_pair(&kinds, &[]));
    }
}
