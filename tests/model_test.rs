//! The proof of correctness (issue 5): random command sequences over a small universe of ids,
//! run against the engine and against a plain reference model (`tests/model/`), with every
//! invariant checked after every step, each by its own named function:
//!
//! 1. conservation (`inv1_conservation`), 2. automatic assignment within the limit
//!    (`inv2_...`), 3. only to eligible agents (`inv3_...`), 4. work conservation (`inv4_...`),
//!    5. queues left in priority order (`inv5_...`), 6. fairness (`r_s3_fairness_...`, its own
//!    property), 7. nothing timed happens to a snoozed conversation (`inv7_...`), 8. deadlines
//!    fire once, on time, and `next_deadline` is the earliest (`inv8_...`), 9. an `Err` changes
//!    nothing (`inv9_...`), 10. the events are a complete account (`inv10_...`), 11. no
//!    automatic assignment beyond any dimension of capacity (`inv11_...`), 12. work
//!    conservation per kind, for work that requires no skill (`inv12_...`), 13. never an
//!    automatic assignment to an agent that lacks a required skill of the stage in force, and
//!    the assignment's `skills` names that stage (`inv13_...`, R-SK2, R-SK3, R-B1), 14. a stage
//!    is entered only on a `Tick`, while waiting, at or after arrival plus the durations before
//!    it, and the views show the stage the events told, which for every waiting conversation
//!    after a `Tick` is the one the clock says (`inv14_stage_advances_only_at_its_time`,
//!    `inv14_stages_in_force_follow_the_clock`, R-SK2), 15. work conservation with skills: no
//!    waiting conversation both fits and qualifies for an eligible agent of a group it waits
//!    in (`inv15_...`, R-SK4); plus the model's agreement with the engine
//!    (`model_agrees_with_engine`), determinism (R-C1) and snapshot-restore-continue (R-C6).
//!
//! Skills (R-SK1..R-SK5): a config declares none or two to four of `SKILLS`; agents hold
//! random skills and levels (invalid ones too: level 0 or 11, an undeclared skill, a skill
//! twice), replaced at run time by `UpdateAgent`; arrivals carry one to three stages with
//! durations of a few seconds, so that they fall due during a run (invalid lists too); groups
//! may route best skilled; `UpdateConfig` may drop a skill in use.
//!
//! Runs `PROPTEST_CASES` cases (64 when unset, as in CI). Failures persist to
//! `proptest-regressions/model_test.txt`.

mod model;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use switchboard::{
    AgentId, AgentSpec, AgentStatus, AgentUpdate, AllocationTarget, Arrival, AssignReason, Command,
    Config, ConversationId, ConversationState, CustomStatus, EndReason, Engine, Event, GroupId,
    GroupSpec, GroupUpdate, Inactivity, KindId, KindSpec, LastAgent, Limit, Membership, Outcome,
    Overflow, PoolOrder, PoolReason, QueueConfig, Reception, ReceptionMode, ScheduleId,
    ScheduleSpec, Sender, SkillId, SkillLevel, Sla, Snapshot, Stage, Strategy as Routing, Target,
    WeeklyRange,
};

use model::projection::{
    Context, Projection, inv1_conservation, inv4_work_conservation,
    inv10_events_are_a_complete_account, inv12_work_conservation_per_kind,
    inv14_stages_in_force_follow_the_clock, inv15_work_conservation_with_skills,
};
use model::{MEvent, MResult, Model, Place, error_name, kinds_of};

const AGENTS: [&str; 5] = ["a0", "a1", "a2", "a3", "a4"];
const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g9"];
const CONVERSATIONS: usize = 8;
const STRATEGIES: [Routing; 5] = [
    Routing::LeastRecentlyAssigned,
    Routing::RoundRobin,
    Routing::LeastLoaded,
    Routing::AgentPriority,
    Routing::BestSkilled,
];

/// The skills a config may declare (R-SK1), and `xx`, which none declares.
const SKILLS: [&str; 4] = ["en", "fr", "billing", "tech"];
const UNKNOWN_SKILL: &str = "xx";

/// The skills a mask of `SKILLS` declares, in order.
fn skills_of(mask: u8) -> Vec<SkillId> {
    (0..SKILLS.len())
        .filter(|s| mask & (1 << s) != 0)
        .map(|s| SkillId::from(SKILLS[s]))
        .collect()
}

/// An agent's skills (R-SK1): picks resolved against the skills the config declares (the
/// n-th of them, repeats dropped), then at times one fault: a level 0 or 11, an undeclared
/// skill, a skill held twice.
#[derive(Clone, Debug)]
struct SkillsPick {
    levels: Vec<(usize, u8)>,
    fault: u8,
}

fn skills_pick() -> impl Strategy<Value = SkillsPick> {
    (
        prop::collection::vec((0usize..4, 1u8..=10), 0..=3),
        prop_oneof![12 => Just(0u8), 4 => 1u8..5],
    )
        .prop_map(|(levels, fault)| SkillsPick { levels, fault })
}

fn skill_levels(pick: &SkillsPick, declared: &[SkillId]) -> Vec<SkillLevel> {
    let mut out: Vec<SkillLevel> = Vec::new();
    if !declared.is_empty() {
        for (s, level) in &pick.levels {
            let skill = declared[s % declared.len()].clone();
            if !out.iter().any(|x| x.skill == skill) {
                out.push(SkillLevel::new(skill, *level));
            }
        }
    }
    match (pick.fault, out.first().cloned()) {
        (1, Some(first)) => out[0] = SkillLevel::new(first.skill, 0),
        (2, Some(first)) => out[0] = SkillLevel::new(first.skill, 11),
        (3, _) => out.push(SkillLevel::new(UNKNOWN_SKILL, 5)),
        (4, Some(first)) => out.push(SkillLevel::new(first.skill, 3)),
        _ => {}
    }
    out
}

/// One stage of an arrival (R-SK2): up to two required skills (distinct), maybe one preferred,
/// maybe one group (index into the registered groups), and its duration in milliseconds
/// (dropped on the last stage).
#[derive(Clone, Debug)]
struct StagePick {
    require: Vec<(usize, u8)>,
    prefer: Option<(usize, u8)>,
    group: Option<usize>,
    for_ms: u64,
}

/// An arrival's stages, then at times one fault: 1 an empty list, 2 a zero duration, 3 a
/// missing one, 4 a duration on the last, 5 an undeclared skill, 6 an unknown group, 7 a skill
/// required twice in a stage, 8 a level 0 or 11.
#[derive(Clone, Debug)]
struct StagesPick {
    stages: Vec<StagePick>,
    fault: u8,
}

fn stages_pick() -> impl Strategy<Value = StagesPick> {
    let stage = (
        prop::collection::vec((0usize..4, 1u8..=7), 0..=2),
        prop_oneof![2 => Just(None), 1 => (0usize..4, 1u8..=8).prop_map(Some)],
        prop_oneof![4 => Just(None), 1 => (0usize..3).prop_map(Some)],
        // A few seconds mostly; at times a minute or so, to meet the overflow times.
        prop_oneof![6 => 1000u64..=6000, 1 => 1u64..1000, 1 => Just(1u64), 1 => 30_000u64..=90_000],
    )
        .prop_map(|(require, prefer, group, for_ms)| StagePick {
            require,
            prefer,
            group,
            for_ms,
        });
    (
        prop::collection::vec(stage, 1..=3),
        prop_oneof![16 => Just(0u8), 5 => 1u8..=8],
    )
        .prop_map(|(stages, fault)| StagesPick { stages, fault })
}

fn stages(pick: &StagesPick, declared: &[SkillId], groups: &[GroupId]) -> Vec<Stage> {
    let n = pick.stages.len();
    let mut out: Vec<Stage> = pick
        .stages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut stage = Stage::new();
            if !declared.is_empty() {
                for (s, level) in &p.require {
                    let skill = declared[s % declared.len()].clone();
                    if !stage.require.iter().any(|x| x.skill == skill) {
                        stage.require.push(SkillLevel::new(skill, *level));
                    }
                }
                if let Some((s, level)) = p.prefer {
                    stage
                        .prefer
                        .push(SkillLevel::new(declared[s % declared.len()].clone(), level));
                }
            }
            if let (Some(g), false) = (p.group, groups.is_empty()) {
                stage.groups.push(groups[g % groups.len()].clone());
            }
            stage.for_ms = (i + 1 < n).then_some(p.for_ms);
            stage
        })
        .collect();
    let last = out.len() - 1;
    match pick.fault {
        1 => out.clear(),
        2 if n > 1 => out[0].for_ms = Some(0),
        3 if n > 1 => out[0].for_ms = None,
        2..=4 => out[last].for_ms = Some(1000),
        5 => out[last].require.push(SkillLevel::new(UNKNOWN_SKILL, 2)),
        6 => out[0].groups.push(GROUPS[3].into()),
        7 => match declared.first() {
            Some(skill) => {
                out[0].require.push(SkillLevel::new(skill.clone(), 1));
                out[0].require.push(SkillLevel::new(skill.clone(), 2));
            }
            None => out[0].require.push(SkillLevel::new(UNKNOWN_SKILL, 1)),
        },
        8 => match declared.first() {
            Some(skill) => out[last]
                .require
                .push(SkillLevel::new(skill.clone(), if n > 1 { 0 } else { 11 })),
            None => out[0].prefer.push(SkillLevel::new(UNKNOWN_SKILL, 1)),
        },
        _ => {}
    }
    out
}

fn t0() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().expect("a valid timestamp")
}

fn conv_id(i: usize) -> ConversationId {
    format!("c{}", i % CONVERSATIONS).into()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// `MODEL_CHECKS=off` checks the invariants alone, without comparing with the model: to see
/// which invariant catches a deliberate break that the model would catch first.
fn model_checks() -> bool {
    std::env::var("MODEL_CHECKS").map_or(true, |v| v != "off")
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

// ---- what is generated ----------------------------------------------------------------------

/// The engine-wide settings a case runs with; `UpdateConfig` draws another.
#[derive(Clone, Debug)]
struct ConfigPick {
    mode: bool,
    online_only: bool,
    pool_order: u8,
    default_limit: u32,
    aging: Option<u64>,
    max_length: Option<u32>,
    max_wait: Option<u64>,
    long_queue: Option<u32>,
    leave_message: bool,
    announce: u32,
    last_agent: Option<Option<u64>>,
    requeue: bool,
    snoozed_count: bool,
    sla: Option<(u64, u64, Option<u64>)>,
    inactivity: Option<(Option<u64>, Option<u64>)>,
    auto_accept: bool,
    offer_timeout: u64,
    redirect_limit: Option<u32>,
    short_break: bool,
    first_reply_timeout: Option<u64>,
    custom: u8,
    working_hours: bool,
    /// Service hours: a schedule of `SCHEDULES`.
    service_hours: Option<usize>,
    /// Work kinds (R-K1, R-K2): none (the implicit kind), or one of `KIND_SETS`.
    kinds: Option<usize>,
    /// The skills it declares (R-SK1): a mask of `SKILLS`.
    skills: u8,
}

/// The kinds a generated arrival may name: those of `KIND_SETS`, and `fax`, which none
/// defines.
const KINDS: [&str; 5] = ["chat", "email", "voice", "video", "fax"];

/// The kind sets a config may define (R-K1, R-K2), their costs within the generated limits
/// (1 to 3 units), so that each dimension can bind: a kind's maximum below what the units
/// allow, a call that blocks chats with units to spare, two kinds that block each other,
/// paused work that holds no units.
fn kind_set(set: usize) -> Vec<KindSpec> {
    match set {
        0 => vec![
            KindSpec::new("chat", 1),
            KindSpec::new("email", 2)
                .max_per_agent(1)
                .paused_holds_units(false),
            KindSpec::new("voice", 1).blocks("chat"),
        ],
        _ => vec![
            KindSpec::new("voice", 1).blocks("video"),
            KindSpec::new("chat", 1).max_per_agent(1),
            KindSpec::new("video", 2)
                .blocks("voice")
                .paused_holds_units(true),
        ],
    }
}

fn config_pick() -> impl Strategy<Value = ConfigPick> {
    let routing = (
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        prop_oneof![4 => 1u32..=3, 1 => Just(0u32)],
        prop_oneof![Just(None), Just(Some(30u64)), Just(Some(600))],
        prop_oneof![3 => Just(None), 1 => (1u32..=3).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => Just(Some(300u64)), 1 => Just(Some(40))],
        prop_oneof![3 => Just(None), 1 => (1u32..=3).prop_map(Some)],
        prop_oneof![4 => Just(true), 1 => Just(false)],
        prop_oneof![Just(0u32), Just(2), Just(10)],
        prop_oneof![2 => Just(None), 1 => Just(Some(None)), 1 => Just(Some(Some(120u64)))],
    );
    let timers = (
        any::<bool>(),
        prop_oneof![3 => Just(true), 1 => Just(false)],
        prop_oneof![
            2 => Just(None),
            1 => Just(Some((120u64, 90u64, Some(30u64)))),
            1 => Just(Some((60, 60, None))),
            1 => Just(Some((60, 200, Some(90)))),
        ],
        prop_oneof![
            2 => Just(None),
            1 => Just(Some((Some(60u64), Some(180u64)))),
            1 => Just(Some((None, Some(100)))),
            1 => Just(Some((Some(50), None))),
            1 => Just(Some((Some(200), Some(100)))),
        ],
        prop_oneof![1 => Just(true), 1 => Just(false)],
        prop_oneof![Just(30u64), Just(60), Just(600)],
        prop_oneof![Just(None), Just(Some(0u32)), Just(Some(1)), Just(Some(3))],
        any::<bool>(),
        prop_oneof![3 => Just(None), 1 => Just(Some(150u64)), 1 => Just(Some(60))],
        0u8..4,
    );
    let hours = (
        prop_oneof![3 => Just(false), 1 => Just(true)],
        prop_oneof![3 => Just(None), 1 => (0usize..SCHEDULES.len()).prop_map(Some)],
        prop_oneof![1 => Just(None), 1 => (0usize..2).prop_map(Some)],
        // Mostly two to four skills, at times none.
        // Drawn from the masks with two or more bits, not filtered: a filter's rejects add up
        // over a long run (100,000 cases) past proptest's limit.
        prop_oneof![
            1 => Just(0u8),
            6 => prop::sample::select((0u8..16).filter(|m| m.count_ones() >= 2).collect::<Vec<_>>()),
        ],
    );
    (routing, timers, hours).prop_map(
        |(
            (
                mode,
                online_only,
                pool_order,
                default_limit,
                aging,
                max_length,
                max_wait,
                long_queue,
                leave_message,
                announce,
                last_agent,
            ),
            (
                requeue,
                snoozed_count,
                sla,
                inactivity,
                auto_accept,
                offer_timeout,
                redirect_limit,
                short_break,
                first_reply_timeout,
                custom,
            ),
            (working_hours, service_hours, kinds, skills),
        )| ConfigPick {
            mode,
            online_only,
            pool_order,
            default_limit,
            aging,
            max_length,
            max_wait,
            long_queue,
            leave_message,
            announce,
            last_agent,
            requeue,
            snoozed_count,
            sla,
            inactivity,
            auto_accept,
            offer_timeout,
            redirect_limit,
            short_break,
            first_reply_timeout,
            custom,
            working_hours,
            service_hours,
            kinds,
            skills,
        },
    )
}

impl ConfigPick {
    fn config(&self) -> Config {
        let custom = |name: &str, assignable| CustomStatus {
            name: name.into(),
            assignable,
        };
        Config {
            skills: skills_of(self.skills),
            default_limit: self.default_limit,
            queue: QueueConfig {
                announce_positions: self.announce,
                aging_step_secs: self.aging,
                max_length: self.max_length,
                max_wait_secs: self.max_wait,
                long_queue_threshold: self.long_queue,
                leave_message: self.leave_message,
            },
            last_agent: LastAgent {
                enabled: self.last_agent.is_some(),
                window_secs: self.last_agent.flatten(),
            },
            custom_statuses: match self.custom {
                0 => vec![custom("Chat", true), custom("Away", false)],
                1 => vec![custom("Chat", false), custom("Away", true)],
                2 => vec![custom("Chat", true)],
                _ => Vec::new(),
            },
            requeue_when_unassignable: self.requeue,
            mode: if self.mode {
                ReceptionMode::Asynchronous
            } else {
                ReceptionMode::RealTime
            },
            allocation_target: if self.online_only {
                AllocationTarget::OnlineOnly
            } else {
                AllocationTarget::AllAgents
            },
            pool_order: [
                PoolOrder::OldestFirst,
                PoolOrder::NewestFirst,
                PoolOrder::PriorityThenOldest,
            ][self.pool_order as usize],
            snoozed_count_toward_load: self.snoozed_count,
            sla: match self.sla {
                None => Sla::default(),
                Some((first, next, warn)) => Sla {
                    first_reply_secs: Some(first),
                    next_reply_secs: Some(next),
                    warn_before_secs: warn,
                },
            },
            inactivity: match self.inactivity {
                None => Inactivity::default(),
                Some((reminder, end)) => Inactivity {
                    reminder_after_secs: reminder,
                    end_after_secs: end,
                },
            },
            working_hours: self.working_hours,
            reception: Reception {
                auto_accept: self.auto_accept,
                offer_timeout_secs: self.offer_timeout,
                redirect_limit: self.redirect_limit,
                short_break_on_timeout: self.short_break,
                first_reply_timeout_secs: self.first_reply_timeout,
            },
            service_hours: self.service_hours.map(|s| SCHEDULES[s].into()),
            kinds: self.kinds.map(kind_set).unwrap_or_default(),
        }
    }
}

/// Schedules: `s2` is never defined by the setup.
const SCHEDULES: [&str; 3] = ["s0", "s1", "s2"];

/// A schedule: a time zone (UTC, India's fixed +05:30, or one that does not exist) and weekly
/// ranges near the clock's start (Monday 09:00 UTC), so that shifts start and end during a
/// run; some ranges are overnight, empty, dayless or overlapping (refused).
#[derive(Clone, Debug)]
struct SchedulePick {
    zone: usize,
    /// (days, start minute after the zone's base time, length in minutes).
    ranges: Vec<(Vec<Weekday>, u32, u32)>,
}

const ZONES: [(&str, u32); 3] = [
    ("UTC", 9 * 60),
    ("Asia/Kolkata", 14 * 60 + 30),
    ("Mars/Olympus_Mons", 0),
];

fn days() -> impl Strategy<Value = Vec<Weekday>> {
    prop_oneof![
        4 => Just(vec![Weekday::Mon]),
        2 => Just(vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun]),
        1 => Just(vec![Weekday::Tue]),
        1 => Just(vec![Weekday::Sun]),
    ]
}

fn range_pick() -> impl Strategy<Value = (Vec<Weekday>, u32, u32)> {
    (
        days(),
        prop_oneof![4 => 0u32..180, 1 => Just(14 * 60)],
        prop_oneof![6 => 1u32..90, 1 => Just(1440 - 30), 1 => Just(0)],
    )
}

fn schedule_pick() -> impl Strategy<Value = SchedulePick> {
    (
        prop_oneof![6 => Just(0usize), 3 => Just(1), 1 => Just(2)],
        prop_oneof![
            4 => prop::collection::vec(range_pick(), 1..=1),
            2 => prop::collection::vec(range_pick(), 2..=3),
            1 => prop::collection::vec((days(), 0u32..180, 1u32..90), 0..=1).prop_map(|mut r| {
                if let Some(first) = r.first_mut() {
                    first.0.clear();
                }
                r
            }),
        ],
    )
        .prop_map(|(zone, ranges)| SchedulePick { zone, ranges })
}

/// A schedule the setup can define: a known zone and one non-empty range.
fn valid_schedule_pick() -> impl Strategy<Value = SchedulePick> {
    (0usize..2, days(), 0u32..180, 1u32..90).prop_map(|(zone, days, start, len)| SchedulePick {
        zone,
        ranges: vec![(days, start, len)],
    })
}

fn define_schedule(s: usize, pick: &SchedulePick) -> Command {
    let (zone, base) = ZONES[pick.zone];
    let time = |minutes: u32| {
        NaiveTime::from_num_seconds_from_midnight_opt((minutes % 1440) * 60, 0)
            .expect("a valid time")
    };
    Command::DefineSchedule(ScheduleSpec {
        schedule: SCHEDULES[s].into(),
        time_zone: zone.into(),
        ranges: pick
            .ranges
            .iter()
            .map(|(days, start, len)| WeeklyRange {
                days: days.clone(),
                start: time(base + start),
                end: time(base + start + len),
            })
            .collect(),
    })
}

const STATUSES: usize = 7;

fn status(i: usize) -> AgentStatus {
    match i % STATUSES {
        0 => AgentStatus::Online,
        1 => AgentStatus::Busy,
        2 => AgentStatus::ShortBreak,
        3 => AgentStatus::Offline,
        4 => AgentStatus::Custom("Chat".into()),
        5 => AgentStatus::Custom("Away".into()),
        _ => AgentStatus::Custom("Lunch".into()),
    }
}

#[derive(Clone, Debug)]
struct AgentPick {
    status: usize,
    limit: Option<u32>,
    groups: Vec<(usize, u8)>,
    schedules: Vec<usize>,
    skills: SkillsPick,
}

fn agent_pick() -> impl Strategy<Value = AgentPick> {
    (
        prop_oneof![4 => Just(0usize), 2 => 1usize..STATUSES],
        prop_oneof![3 => (1u32..=3).prop_map(Some), 1 => Just(None), 1 => Just(Some(0))],
        prop::collection::vec(
            (0usize..4, prop_oneof![6 => 1u8..=5, 1 => Just(0u8)]),
            0..=3,
        ),
        schedule_refs(),
        skills_pick(),
    )
        .prop_map(|(status, limit, groups, schedules, skills)| AgentPick {
            status,
            limit,
            groups,
            schedules,
            skills,
        })
}

/// An agent's schedules, repeats and the undefined `s2` included.
fn schedule_refs() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        3 => Just(Vec::new()),
        3 => prop::collection::vec(0usize..2, 1..=2),
        1 => prop::collection::vec(0usize..SCHEDULES.len(), 1..=2),
    ]
}

fn schedule_ids(schedules: &[usize]) -> Vec<ScheduleId> {
    schedules.iter().map(|s| SCHEDULES[*s].into()).collect()
}

fn memberships(groups: &[(usize, u8)]) -> Vec<Membership> {
    groups
        .iter()
        .map(|(g, p)| Membership::with_rank(GROUPS[*g], *p))
        .collect()
}

fn limit(limit: Option<u32>) -> Limit {
    limit.map_or(Limit::Inherit, Limit::Fixed)
}

#[derive(Clone, Debug)]
struct GroupPick {
    strategy: usize,
    limit: Option<u32>,
    overflow: Option<(Vec<usize>, u64)>,
    /// The units of its own work one agent may hold (R-K3).
    cap: Option<u32>,
}

fn group_pick() -> impl Strategy<Value = GroupPick> {
    (
        0..STRATEGIES.len(),
        prop_oneof![3 => Just(None), 2 => (1u32..=3).prop_map(Some), 1 => Just(Some(0))],
        prop_oneof![
            3 => Just(None),
            1 => (prop::collection::vec(0usize..4, 0..=2), prop_oneof![Just(0u64), Just(60), Just(200)])
                .prop_map(Some),
        ],
        prop_oneof![4 => Just(None), 2 => (1u32..=2).prop_map(Some), 1 => Just(Some(0))],
    )
        .prop_map(|(strategy, limit, overflow, cap)| GroupPick {
            strategy,
            limit,
            overflow,
            cap,
        })
}

fn overflow(pick: &Option<(Vec<usize>, u64)>) -> Option<Overflow> {
    pick.as_ref().map(|(groups, after)| Overflow {
        groups: groups.iter().map(|g| GroupId::from(GROUPS[*g])).collect(),
        after_secs: *after,
    })
}

/// A conversation: one the engine knows (by its index among them), or a raw id.
#[derive(Clone, Copy, Debug)]
enum ConvPick {
    Known(usize),
    Raw(usize),
}

fn conv_pick() -> impl Strategy<Value = ConvPick> {
    prop_oneof![
        5 => any::<usize>().prop_map(ConvPick::Known),
        1 => (0..CONVERSATIONS).prop_map(ConvPick::Raw),
    ]
}

/// What a step wants of the conversation it names.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// An arrival: a fresh id (the first of c0..c7 not in use), when there is one.
    Fresh,
    /// Most commands: an open conversation, when there is one.
    Open,
    /// Waiting (queued or pooled).
    Waiting,
    /// Offered to an agent.
    Offered,
    /// Active.
    Active,
    /// Active or snoozed.
    Held,
    /// Snoozed.
    Snoozed,
    /// `Forget`: a finished conversation, when there is one.
    Finished,
}

/// Resolves a pick against the model's conversations.
fn resolve(pick: ConvPick, model: &Model, want: Want) -> ConversationId {
    let i = match pick {
        ConvPick::Raw(i) => return conv_id(i),
        ConvPick::Known(i) => i,
    };
    if want == Want::Fresh {
        return (0..CONVERSATIONS)
            .map(conv_id)
            .find(|id| model.conv(id).is_none())
            .unwrap_or_else(|| conv_id(i));
    }
    let fits: Vec<&ConversationId> = model
        .convs
        .iter()
        .filter(|c| match want {
            Want::Fresh | Want::Open => c.place.is_open(),
            Want::Finished => !c.place.is_open(),
            Want::Waiting => c.place.is_waiting(),
            Want::Offered => matches!(c.place, Place::Offered { .. }),
            Want::Active => matches!(c.place, Place::Active { .. }),
            Want::Held => matches!(c.place, Place::Active { .. } | Place::Snoozed { .. }),
            Want::Snoozed => matches!(c.place, Place::Snoozed { .. }),
        })
        .map(|c| &c.id)
        .collect();
    match fits.len() {
        0 => conv_id(i),
        n => fits[i % n].clone(),
    }
}

#[derive(Clone, Debug)]
enum To {
    Agent(usize),
    Group(usize),
}

fn to() -> impl Strategy<Value = To> {
    prop_oneof![
        2 => (0usize..5).prop_map(To::Agent),
        1 => (0usize..4).prop_map(To::Group),
    ]
}

fn target(to: &To) -> Target {
    match to {
        To::Agent(a) => Target::Agent(AGENTS[*a].into()),
        To::Group(g) => Target::Group(GROUPS[*g].into()),
    }
}

#[derive(Clone, Debug)]
enum Op {
    Arrive {
        conv: ConvPick,
        visitor: usize,
        group: usize,
        priority: u8,
        designated: Option<To>,
        /// A kind of the config (0..3), one of `KINDS` (10..15), or the desk's default kind.
        kind: Option<usize>,
        /// Stages of requirements (R-SK2).
        stages: Option<StagesPick>,
    },
    Leave(ConvPick),
    Status(usize, usize),
    End(Vec<ConvPick>, usize),
    Transfer(ConvPick, To),
    Assign(Vec<ConvPick>, To),
    /// A snoozed conversation reassigned: by an admin (true) or transferred by its agent
    /// (R-X1, R-X2).
    Reassign(ConvPick, To, bool),
    Snooze(Vec<ConvPick>, i64),
    Message(ConvPick, usize),
    Claim(usize, Option<ConvPick>),
    /// Accept (true) or decline an offer, by the agent it is offered to or by `agent`.
    Answer {
        conv: ConvPick,
        accept: bool,
        right: bool,
        agent: usize,
    },
    LeaveMessage(ConvPick),
    Mode(bool),
    Config(Box<ConfigPick>),
    RegisterAgent(usize, AgentPick),
    UpdateAgent(
        usize,
        Option<Option<u32>>,
        Option<Vec<(usize, u8)>>,
        Option<Vec<usize>>,
        Option<SkillsPick>,
    ),
    RemoveAgent(usize),
    RegisterGroup(usize, GroupPick),
    UpdateGroup(
        usize,
        Option<usize>,
        Option<Option<u32>>,
        Option<Option<(Vec<usize>, u64)>>,
        Option<Option<u32>>,
    ),
    RemoveGroup(usize),
    Forget(Vec<ConvPick>),
    ForgetVisitor(usize),
    DefineSchedule(usize, SchedulePick),
    RemoveSchedule(usize),
    Tick,
}

/// How the clock moves before a step.
#[derive(Clone, Debug)]
enum Clock {
    Stay,
    Forward(i64),
    /// Exactly to `next_deadline()`.
    ToDeadline,
    /// A second before `next_deadline()`.
    JustBefore,
    /// The command is stamped this many seconds before the clock (R-C3).
    Back(i64),
}

fn clock() -> impl Strategy<Value = Clock> {
    prop_oneof![
        6 => Just(Clock::Stay),
        3 => (1i64..10).prop_map(Clock::Forward),
        2 => (10i64..200).prop_map(Clock::Forward),
        1 => (200i64..5000).prop_map(Clock::Forward),
        3 => Just(Clock::ToDeadline),
        1 => Just(Clock::JustBefore),
        1 => (1i64..60).prop_map(Clock::Back),
    ]
}

fn convs() -> impl Strategy<Value = Vec<ConvPick>> {
    prop_oneof![
        1 => Just(Vec::new()),
        8 => prop::collection::vec(conv_pick(), 1..=1),
        3 => prop::collection::vec(conv_pick(), 2..=4),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        16 => (conv_pick(), 0usize..4, prop_oneof![12 => 0usize..3, 1 => Just(3usize)], 0u8..4,
               prop_oneof![5 => Just(None), 1 => to().prop_map(Some)],
               prop_oneof![4 => Just(None), 6 => (0usize..3).prop_map(Some), 1 => (2usize..5).prop_map(Some)
                   .prop_map(|k| k.map(|k| k + 10))],
               prop_oneof![3 => Just(None), 2 => stages_pick().prop_map(Some)])
            .prop_map(|(conv, visitor, group, priority, designated, kind, stages)| Op::Arrive {
                conv, visitor, group, priority, designated, kind, stages
            }),
        2 => conv_pick().prop_map(Op::Leave),
        6 => (0usize..5, 0..STATUSES).prop_map(|(a, s)| Op::Status(a, s)),
        12 => (convs(), 0usize..4).prop_map(|(c, r)| Op::End(c, r)),
        3 => (conv_pick(), to()).prop_map(|(c, t)| Op::Transfer(c, t)),
        3 => (convs(), to()).prop_map(|(c, t)| Op::Assign(c, t)),
        3 => (conv_pick(), to(), any::<bool>()).prop_map(|(c, t, m)| Op::Reassign(c, t, m)),
        5 => (convs(), prop_oneof![1 => -10i64..=0, 6 => 1i64..600]).prop_map(|(c, s)| Op::Snooze(c, s)),
        8 => (conv_pick(), 0usize..3).prop_map(|(c, s)| Op::Message(c, s)),
        4 => (0usize..5, prop_oneof![Just(None), conv_pick().prop_map(Some)])
            .prop_map(|(a, c)| Op::Claim(a, c)),
        10 => (conv_pick(), any::<bool>(), prop_oneof![4 => Just(true), 1 => Just(false)], 0usize..5)
            .prop_map(|(conv, accept, right, agent)| Op::Answer { conv, accept, right, agent }),
        1 => conv_pick().prop_map(Op::LeaveMessage),
        2 => any::<bool>().prop_map(Op::Mode),
        1 => config_pick().prop_map(|c| Op::Config(Box::new(c))),
        1 => (0usize..5, agent_pick()).prop_map(|(a, p)| Op::RegisterAgent(a, p)),
        2 => (0usize..5,
              prop_oneof![2 => Just(None), 2 => (1u32..=3).prop_map(|l| Some(Some(l))), 1 => Just(Some(None)), 1 => Just(Some(Some(0)))],
              prop_oneof![2 => Just(None), 1 => prop::collection::vec((0usize..4, 1u8..=5), 0..=3).prop_map(Some)],
              prop_oneof![3 => Just(None), 1 => schedule_refs().prop_map(Some)],
              prop_oneof![1 => Just(None), 1 => skills_pick().prop_map(Some)])
            .prop_map(|(a, l, g, s, k)| Op::UpdateAgent(a, l, g, s, k)),
        1 => (0usize..5).prop_map(Op::RemoveAgent),
        1 => (0usize..4, group_pick()).prop_map(|(g, p)| Op::RegisterGroup(g, p)),
        1 => (0usize..4, prop::option::of(0..STRATEGIES.len()),
              prop::option::of(prop_oneof![Just(None), (0u32..=3).prop_map(Some)]),
              prop::option::of(prop::option::of((prop::collection::vec(0usize..4, 0..=2), prop_oneof![Just(0u64), Just(60)]))),
              prop_oneof![3 => Just(None), 2 => prop::option::of(0u32..=3).prop_map(Some)])
            .prop_map(|(g, s, l, o, c)| Op::UpdateGroup(g, s, l, o, c)),
        1 => (0usize..4).prop_map(Op::RemoveGroup),
        4 => convs().prop_map(Op::Forget),
        1 => (0usize..5).prop_map(Op::ForgetVisitor),
        1 => (0usize..SCHEDULES.len(), schedule_pick()).prop_map(|(s, p)| Op::DefineSchedule(s, p)),
        1 => (0usize..SCHEDULES.len()).prop_map(Op::RemoveSchedule),
        8 => Just(Op::Tick),
    ]
}

#[derive(Clone, Debug)]
struct Setup {
    config: ConfigPick,
    /// Switch working-hours routing on once the agents are registered (if one is scheduled).
    working_hours: bool,
    schedules: Vec<SchedulePick>,
    groups: Vec<GroupPick>,
    agents: Vec<AgentPick>,
}

/// A valid start: 2-3 groups, 3-4 agents each in one to three of them (the random steps
/// bring the invalid registrations).
fn setup() -> impl Strategy<Value = Setup> {
    let group = (
        0..STRATEGIES.len(),
        prop_oneof![2 => Just(None), 1 => (1u32..=3).prop_map(Some)],
        prop_oneof![
            4 => Just(None),
            1 => (prop::collection::vec(0usize..3, 1..=2), prop_oneof![Just(60u64), Just(200)])
                .prop_map(|(mut groups, after)| { groups.dedup(); Some((groups, after)) }),
        ],
    )
        .prop_map(|(strategy, limit, overflow)| GroupPick {
            strategy,
            limit,
            overflow,
            cap: None,
        });
    let group = (
        group,
        prop_oneof![3 => Just(None), 1 => (1u32..=2).prop_map(Some)],
    )
        .prop_map(|(group, cap)| GroupPick { cap, ..group });
    let agent = (
        prop_oneof![5 => Just(0usize), 1 => Just(4usize), 2 => 1usize..4],
        prop_oneof![3 => (1u32..=3).prop_map(Some), 1 => Just(None)],
        prop::collection::btree_map(0usize..3, 1u8..=5, 1..=3),
        prop_oneof![2 => Just(Vec::new()), 1 => prop::collection::vec(0usize..2, 1..=2)],
        // Valid skills only.
        prop::collection::vec((0usize..4, 1u8..=10), 0..=3),
    )
        .prop_map(|(status, limit, groups, schedules, levels)| AgentPick {
            status,
            limit,
            groups: groups.into_iter().collect(),
            schedules,
            skills: SkillsPick { levels, fault: 0 },
        });
    (
        config_pick().prop_map(|mut c| {
            // A valid start: room for the dearest kind.
            let dearest = c.kinds.map_or(1, |set| {
                kind_set(set).iter().map(|k| k.cost).max().unwrap_or(1)
            });
            c.default_limit = c.default_limit.max(dearest);
            // Working hours and service hours come with later steps, once schedules exist.
            c.working_hours = false;
            c.service_hours = None;
            c
        }),
        prop::collection::vec(valid_schedule_pick(), 0..=2),
        prop::collection::vec(group, 3..=3),
        prop::collection::vec(agent, 3..=4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(config, schedules, mut groups, mut agents, two, working_hours)| {
                if two {
                    // Two groups: no agent in g2 and no overflow into it.
                    groups.truncate(2);
                    for g in &mut groups {
                        if let Some((targets, _)) = &mut g.overflow {
                            targets.retain(|t| *t < 2);
                        }
                    }
                    for a in &mut agents {
                        a.groups.retain(|(g, _)| *g < 2);
                    }
                }
                for (i, g) in groups.iter_mut().enumerate() {
                    // Overflow only into groups registered before, never into itself.
                    if let Some((targets, _)) = &mut g.overflow {
                        targets.retain(|t| *t < i);
                    }
                }
                for a in &mut agents {
                    // Only schedules the setup defines.
                    a.schedules.retain(|s| *s < schedules.len());
                }
                Setup {
                    config,
                    working_hours,
                    schedules,
                    groups,
                    agents,
                }
            },
        )
}

fn setup_commands(setup: &Setup) -> Vec<Command> {
    let mut commands = Vec::new();
    for (s, pick) in setup.schedules.iter().enumerate() {
        commands.push(define_schedule(s, pick));
    }
    for (g, pick) in setup.groups.iter().enumerate() {
        commands.push(Command::RegisterGroup(GroupSpec {
            group: GROUPS[g].into(),
            strategy: STRATEGIES[pick.strategy],
            limit: limit(pick.limit),
            overflow: overflow(&pick.overflow),
            agent_cap: pick.cap,
        }));
    }
    let declared = skills_of(setup.config.skills);
    for (a, pick) in setup.agents.iter().enumerate() {
        commands.push(register_agent(a, pick, &declared));
    }
    if setup.working_hours && setup.agents.iter().any(|a| !a.schedules.is_empty()) {
        let mut config = setup.config.config();
        config.working_hours = true;
        commands.push(Command::UpdateConfig(config));
    }
    commands
}

fn register_agent(a: usize, pick: &AgentPick, declared: &[SkillId]) -> Command {
    Command::RegisterAgent(AgentSpec {
        skills: skill_levels(&pick.skills, declared),
        agent: AGENTS[a].into(),
        status: status(pick.status),
        limit: limit(pick.limit),
        groups: memberships(&pick.groups),
        schedules: schedule_ids(&pick.schedules),
    })
}

/// Turns a generated step into a command, looking at the model for the agent an offer is
/// made to (so that most answers are by the right agent).
fn command(op: &Op, model: &Model, now: DateTime<Utc>) -> Command {
    let ids = |v: &[ConvPick]| {
        v.iter()
            .map(|c| resolve(*c, model, Want::Open))
            .collect::<Vec<_>>()
    };
    let one = |c: &ConvPick, want| resolve(*c, model, want);
    match op {
        Op::Arrive {
            conv,
            visitor,
            group,
            priority,
            designated,
            kind,
            stages: stage_picks,
        } => Command::VisitorArrives(Arrival {
            stages: stage_picks.as_ref().map(|p| {
                let groups: Vec<GroupId> = model.groups.iter().map(|g| g.id.clone()).collect();
                stages(p, &model.config.skills, &groups)
            }),
            conversation: resolve(*conv, model, Want::Fresh),
            visitor: format!("v{visitor}").into(),
            // A registered group, or (index 3) one that never is.
            group: match (*group, model.groups.len()) {
                (3, _) | (_, 0) => GROUPS[3].into(),
                (g, n) => model.groups[g % n].id.clone(),
            },
            priority: *priority,
            designated: designated.as_ref().map(target),
            // Mostly a kind the config defines (0..3: the n-th of its kinds); else (10..)
            // one of `KINDS` after the first two, defined or not.
            kind: kind.map(|k| match k {
                k if k >= 10 => KindId::from(KINDS[k - 10]),
                k => {
                    let defined = kinds_of(&model.config);
                    defined[k % defined.len()].kind.clone()
                }
            }),
        }),
        Op::Leave(c) => Command::VisitorLeaves {
            conversation: one(c, Want::Waiting),
        },
        Op::Status(a, s) => Command::AgentStatusChanged {
            agent: AGENTS[*a].into(),
            status: status(*s),
        },
        Op::End(c, r) => Command::EndConversations {
            conversations: ids(c),
            reason: [
                EndReason::Agent,
                EndReason::Visitor,
                EndReason::Admin,
                EndReason::Inactivity,
            ][*r],
        },
        Op::Transfer(c, t) => Command::Transfer {
            conversation: one(c, Want::Held),
            to: target(t),
        },
        Op::Reassign(c, t, true) => Command::AssignManually {
            conversations: vec![one(c, Want::Snoozed)],
            target: target(t),
        },
        Op::Reassign(c, t, false) => Command::Transfer {
            conversation: one(c, Want::Snoozed),
            to: target(t),
        },
        Op::Assign(c, t) => Command::AssignManually {
            conversations: ids(c),
            target: target(t),
        },
        Op::Snooze(c, secs) => Command::Snooze {
            conversations: c.iter().map(|c| one(c, Want::Active)).collect(),
            until: model.clock.unwrap_or(now).max(now) + TimeDelta::seconds(*secs),
        },
        Op::Message(c, s) => Command::Message {
            conversation: one(c, Want::Held),
            from: [Sender::Visitor, Sender::AgentReply, Sender::AgentNote][*s],
        },
        Op::Claim(a, c) => Command::Claim {
            agent: AGENTS[*a].into(),
            conversation: c.as_ref().map(|c| one(c, Want::Waiting)),
        },
        Op::Answer {
            conv,
            accept,
            right,
            agent,
        } => {
            let conversation = one(conv, Want::Offered);
            let offered = model.conv(&conversation).and_then(|c| match c.place {
                Place::Offered { agent, .. } => Some(model.agent(agent).id.clone()),
                _ => None,
            });
            let agent = match (right, offered) {
                (true, Some(a)) => a,
                _ => AGENTS[*agent].into(),
            };
            if *accept {
                Command::AcceptOffer {
                    conversation,
                    agent,
                }
            } else {
                Command::DeclineOffer {
                    conversation,
                    agent,
                }
            }
        }
        Op::LeaveMessage(c) => Command::LeaveMessage {
            conversation: one(c, Want::Waiting),
        },
        Op::Mode(asynchronous) => Command::SetReceptionMode {
            mode: if *asynchronous {
                ReceptionMode::Asynchronous
            } else {
                ReceptionMode::RealTime
            },
        },
        Op::Config(pick) => Command::UpdateConfig(pick.config()),
        Op::RegisterAgent(a, pick) => register_agent(*a, pick, &model.config.skills),
        Op::UpdateAgent(a, l, g, s, k) => Command::UpdateAgent(AgentUpdate {
            skills: k.as_ref().map(|k| skill_levels(k, &model.config.skills)),
            agent: AGENTS[*a].into(),
            limit: l.map(limit),
            groups: g.as_ref().map(|g| memberships(g)),
            schedules: s.as_ref().map(|s| schedule_ids(s)),
        }),
        Op::RemoveAgent(a) => Command::RemoveAgent {
            agent: AGENTS[*a].into(),
        },
        Op::RegisterGroup(g, pick) => Command::RegisterGroup(GroupSpec {
            group: GROUPS[*g].into(),
            strategy: STRATEGIES[pick.strategy],
            limit: limit(pick.limit),
            overflow: overflow(&pick.overflow),
            agent_cap: pick.cap,
        }),
        Op::UpdateGroup(g, s, l, o, c) => Command::UpdateGroup(GroupUpdate {
            group: GROUPS[*g].into(),
            strategy: s.map(|s| STRATEGIES[s]),
            limit: l.map(limit),
            overflow: o.as_ref().map(|o| {
                overflow(o).unwrap_or(Overflow {
                    groups: Vec::new(),
                    after_secs: 0,
                })
            }),
            agent_cap: *c,
        }),
        Op::RemoveGroup(g) => Command::RemoveGroup {
            group: GROUPS[*g].into(),
        },
        Op::Forget(c) => Command::Forget {
            conversations: c
                .iter()
                .map(|c| resolve(*c, model, Want::Finished))
                .collect(),
        },
        Op::DefineSchedule(s, pick) => define_schedule(*s, pick),
        Op::RemoveSchedule(s) => Command::RemoveSchedule {
            schedule: SCHEDULES[*s].into(),
        },
        Op::ForgetVisitor(v) => Command::ForgetVisitor {
            visitor: format!("v{v}").into(),
        },
        Op::Tick => Command::Tick,
    }
}

// ---- the model's view against the engine's ---------------------------------------------------

/// An engine event in the model's vocabulary; `None` for position announcements, which the
/// projection checks instead.
fn normalize(event: &Event) -> Result<Option<MEvent>, String> {
    Ok(Some(match event.clone() {
        Event::ConversationArrived {
            conversation,
            group,
            priority,
            kind,
            ..
        } => MEvent::Arrived(conversation, group, priority, kind),
        Event::ConversationQueued {
            conversation,
            group,
            position,
        } => MEvent::Queued(conversation, group, position),
        Event::ConversationPooled {
            conversation,
            group,
            reason,
        } => MEvent::Pooled(conversation, group, reason == PoolReason::ModeChanged),
        Event::QueuePositionChanged { .. } => return Ok(None),
        Event::ConversationOffered {
            skills,
            conversation,
            agent,
            reason,
            expires_at,
            load,
            limit,
            kind,
        } => MEvent::Offered(
            conversation,
            agent,
            reason,
            expires_at,
            load,
            limit,
            kind,
            skills.map(|m| (m.stage, m.required, m.preferred)),
        ),
        Event::StageAdvanced {
            conversation,
            stage,
            requires,
            groups,
        } => MEvent::StageAdvanced(conversation, stage, requires, groups),
        Event::OfferAccepted {
            conversation,
            agent,
        } => MEvent::Accepted(conversation, agent),
        Event::OfferDeclined {
            conversation,
            agent,
        } => MEvent::Declined(conversation, agent),
        Event::OfferExpired {
            conversation,
            agent,
            short_break,
        } => MEvent::Expired(conversation, agent, short_break),
        Event::OfferWithdrawn {
            conversation,
            agent,
        } => MEvent::Withdrawn(conversation, agent),
        Event::FirstReplyTimedOut {
            conversation,
            agent,
        } => MEvent::FirstReplyTimedOut(conversation, agent),
        Event::RedirectLimitReached {
            conversation,
            redirects,
        } => MEvent::RedirectLimitReached(conversation, redirects),
        Event::ConversationOverflowed {
            conversation,
            groups,
        } => MEvent::Overflowed(conversation, groups),
        Event::LeaveMessageOffered {
            conversation,
            reason,
        } => MEvent::LeaveMessageOffered(conversation, format!("{reason:?}")),
        Event::ConversationTurnedAway {
            conversation,
            reason,
        } => MEvent::TurnedAway(conversation, format!("{reason:?}")),
        Event::ConversationLeftMessage { conversation } => MEvent::LeftMessage(conversation),
        Event::ConversationAssigned {
            skills,
            conversation,
            agent,
            reason,
            load,
            limit,
            kind,
        } => MEvent::Assigned(
            conversation,
            agent,
            reason,
            load,
            limit,
            kind,
            skills.map(|m| (m.stage, m.required, m.preferred)),
        ),
        Event::ConversationTransferred {
            conversation,
            from,
            to,
        } => MEvent::Transferred(conversation, from, to),
        Event::ConversationRequeued { conversation, from } => MEvent::Requeued(conversation, from),
        Event::ConversationAbandoned {
            conversation,
            group,
        } => MEvent::Abandoned(conversation, group),
        Event::ConversationEnded {
            conversation,
            agent,
            reason,
        } => MEvent::Ended(conversation, agent, reason),
        Event::ConversationSnoozed {
            conversation,
            agent,
            until,
        } => MEvent::Snoozed(conversation, agent, until),
        Event::ConversationWoke {
            conversation,
            agent,
            reason,
        } => MEvent::Woke(conversation, agent, reason),
        Event::SlaWarning {
            conversation,
            agent,
            goal,
            breach_at,
        } => MEvent::SlaWarning(conversation, agent, goal, breach_at),
        Event::SlaBreached {
            conversation,
            agent,
            goal,
        } => MEvent::SlaBreached(conversation, agent, goal),
        Event::InactivityReminder {
            conversation,
            agent,
            end_at,
        } => MEvent::InactivityReminder(conversation, agent, end_at),
        Event::ReceptionModeChanged { from, to } => MEvent::ModeChanged(from, to),
        Event::ConversationForgotten { conversation } => MEvent::Forgotten(conversation),
        Event::VisitorForgotten { visitor } => MEvent::VisitorForgotten(visitor),
        Event::AgentRegistered { agent, limit } => MEvent::AgentRegistered(agent, limit),
        Event::AgentUpdated { agent, limit } => MEvent::AgentUpdated(agent, limit),
        Event::AgentRemoved { agent } => MEvent::AgentRemoved(agent),
        Event::AgentStatusChanged { agent, from, to } => {
            MEvent::AgentStatusChanged(agent, from, to)
        }
        Event::GroupRegistered { group } => MEvent::GroupRegistered(group),
        Event::GroupUpdated { group } => MEvent::GroupUpdated(group),
        Event::GroupRemoved { group } => MEvent::GroupRemoved(group),
        Event::ConfigUpdated => MEvent::ConfigUpdated,
        Event::AgentDutyChanged { agent, on_duty } => MEvent::DutyChanged(agent, on_duty),
        Event::ScheduleDefined { schedule } => MEvent::ScheduleDefined(schedule),
        Event::ScheduleRemoved { schedule } => MEvent::ScheduleRemoved(schedule),
        other => return Err(format!("the model does not know the event {other:?}")),
    }))
}

/// The model's conversation state, in the engine's words.
fn model_state(model: &Model, place: &Place) -> String {
    let id = |a: &u64| model.agent(*a).id.clone();
    let state = match place {
        Place::Routing => return "Routing (between commands!)".into(),
        Place::Queued => ConversationState::Queued,
        Place::Pooled => ConversationState::Pooled,
        Place::Offered { agent, expires } => ConversationState::Offered {
            agent: id(agent),
            expires: *expires,
        },
        Place::Active { agent } => ConversationState::Active { agent: id(agent) },
        Place::Snoozed { agent, until } => ConversationState::Snoozed {
            agent: id(agent),
            until: *until,
        },
        Place::Abandoned => ConversationState::Abandoned,
        Place::TurnedAway(reason) => return format!("TurnedAway {{ reason: {reason} }}"),
        Place::LeftMessage => ConversationState::LeftMessage,
        Place::Ended { reason, agent } => ConversationState::Ended {
            reason: *reason,
            agent: agent.clone(),
        },
    };
    format!("{state:?}")
}

fn first_difference<T: std::fmt::Debug + PartialEq>(engine: &[T], model: &[T]) -> String {
    let i = engine
        .iter()
        .zip(model)
        .position(|(a, b)| a != b)
        .unwrap_or(engine.len().min(model.len()));
    format!(
        "first difference at #{i}: engine {:?}, model {:?}\n  engine: {engine:#?}\n  model: {model:#?}",
        engine.get(i),
        model.get(i)
    )
}

/// The engine's queries agree with the model, item by item.
fn model_agrees_with_engine(engine: &Engine, model: &Model) -> Result<(), String> {
    // Listed in storage order, which forgetting makes differ from arrival order.
    let mut ids: Vec<ConversationId> = engine.conversations().cloned().collect();
    ids.sort();
    let mut mids: Vec<ConversationId> = model.convs.iter().map(|c| c.id.clone()).collect();
    mids.sort();
    if ids != mids {
        return Err(format!("conversations: engine {ids:?}, model {mids:?}"));
    }
    for (i, c) in model.convs.iter().enumerate() {
        let view = engine.conversation(&c.id).expect("listed");
        let (state, expected) = (format!("{:?}", view.state), model_state(model, &c.place));
        if state != expected {
            return Err(format!("{}: engine {state}, model {expected}", c.id));
        }
        if view.kind != c.kind {
            return Err(format!(
                "{}: engine kind {}, model {}",
                c.id, view.kind, c.kind
            ));
        }
        // R-SK2: the stage in force and what it requires.
        let stage = c.stages.as_ref().map(|_| c.stage as u32);
        if (view.stage, view.requires.as_slice()) != (stage, c.requires()) {
            return Err(format!(
                "{}: engine stage {:?} requiring {:?}, model {stage:?} requiring {:?}",
                c.id,
                view.stage,
                view.requires,
                c.requires()
            ));
        }
        let position = model.position(i);
        if view.position != position || view.group != c.group || view.designated != c.designated {
            return Err(format!(
                "{}: engine position {:?} group {} designated {:?}, model {position:?} {} {:?}",
                c.id, view.position, view.group, view.designated, c.group, c.designated
            ));
        }
    }
    let agents: Vec<AgentId> = engine.agents().cloned().collect();
    let magents: Vec<AgentId> = model.agents.iter().map(|a| a.id.clone()).collect();
    if agents != magents {
        return Err(format!("agents: engine {agents:?}, model {magents:?}"));
    }
    for a in &model.agents {
        let view = engine.agent(&a.id).expect("listed");
        let held: Vec<ConversationId> = model
            .held(a.seq)
            .into_iter()
            .map(|i| model.convs[i].id.clone())
            .collect();
        let groups: Vec<Membership> = a
            .groups
            .iter()
            .map(|(g, p)| Membership::with_rank(g.clone(), *p))
            .collect();
        let expected = (
            &a.status,
            model.load(a.seq),
            model.limit(a),
            &groups,
            &held,
            a.total,
            &a.schedules,
            a.on_duty,
        );
        let actual = (
            &view.status,
            view.load,
            view.limit,
            &view.groups,
            &view.conversations,
            view.assigned_total,
            &view.schedules,
            view.on_duty,
        );
        if actual != expected {
            return Err(format!(
                "{} (status, load, limit, groups, conversations, assigned, schedules, on duty): engine {actual:?}, model {expected:?}",
                a.id
            ));
        }
        if view.skills != a.skills {
            return Err(format!(
                "{} skills: engine {:?}, model {:?}",
                a.id, view.skills, a.skills
            ));
        }
        // R-K4: load per kind, in the config's order, and free units.
        let holding = model.holding(a.seq);
        let kinds: Vec<(KindId, u32, u32)> = kinds_of(&model.config)
            .into_iter()
            .filter(|k| holding.count(&k.kind) > 0)
            .map(|k| {
                let count = holding.count(&k.kind);
                (k.kind, count, count * k.cost)
            })
            .collect();
        let free = u32::try_from(u64::from(model.limit(a)).saturating_sub(holding.units))
            .unwrap_or(u32::MAX);
        let actual: Vec<(KindId, u32, u32)> = view
            .kinds
            .iter()
            .map(|k| (k.kind.clone(), k.count, k.units))
            .collect();
        if (&actual, view.free_units) != (&kinds, free) {
            return Err(format!(
                "{} (kinds, free units): engine {:?}, model {:?}",
                a.id,
                (&actual, view.free_units),
                (&kinds, free)
            ));
        }
    }
    let groups: Vec<GroupId> = engine.groups().cloned().collect();
    let mgroups: Vec<GroupId> = model.groups.iter().map(|g| g.id.clone()).collect();
    if groups != mgroups {
        return Err(format!("groups: engine {groups:?}, model {mgroups:?}"));
    }
    for g in &model.groups {
        let view = engine.group(&g.id).expect("listed");
        let members: Vec<AgentId> = model
            .agents
            .iter()
            .filter(|a| a.groups.iter().any(|(x, _)| x == &g.id))
            .map(|a| a.id.clone())
            .collect();
        let queue: Vec<ConversationId> = engine.queue(&g.id).expect("listed").cloned().collect();
        let mqueue: Vec<ConversationId> = model
            .queue(&g.id)
            .into_iter()
            .map(|i| model.convs[i].id.clone())
            .collect();
        let actual = (
            view.strategy,
            view.limit,
            view.agent_cap,
            &view.members,
            &queue,
        );
        let expected = (g.strategy, g.limit, g.cap, &members, &mqueue);
        if actual != expected {
            return Err(format!(
                "{} (strategy, limit, cap, members, queue): engine {actual:?}, model {expected:?}",
                g.id
            ));
        }
    }
    let pool: Vec<ConversationId> = engine.pool().cloned().collect();
    let mpool: Vec<ConversationId> = model
        .pool()
        .into_iter()
        .map(|i| model.convs[i].id.clone())
        .collect();
    if pool != mpool {
        return Err(format!("pool: engine {pool:?}, model {mpool:?}"));
    }
    let snoozed: Vec<(ConversationId, DateTime<Utc>)> =
        engine.snoozed().map(|(c, t)| (c.clone(), t)).collect();
    let msnoozed: Vec<(ConversationId, DateTime<Utc>)> = model
        .snoozed()
        .into_iter()
        .map(|i| match model.convs[i].place {
            Place::Snoozed { until, .. } => (model.convs[i].id.clone(), until),
            _ => unreachable!("the snoozed bucket holds snoozed conversations"),
        })
        .collect();
    if snoozed != msnoozed {
        return Err(format!("snoozed: engine {snoozed:?}, model {msnoozed:?}"));
    }
    if engine.counters().arrived != model.arrived {
        return Err(format!(
            "arrived: engine {}, model {}",
            engine.counters().arrived,
            model.arrived
        ));
    }
    if engine.now() != model.clock {
        return Err(format!(
            "clock: engine {:?}, model {:?}",
            engine.now(),
            model.clock
        ));
    }
    Ok(())
}

/// The outcome agrees with the model's: the same result, items and events.
fn outcome_agrees(
    result: &Result<Outcome, switchboard::Error>,
    expected: &MResult,
) -> Result<(), String> {
    match (result, expected) {
        (Err(e), Err(name)) if error_name(e) == *name => Ok(()),
        (Ok(outcome), Ok(m)) => {
            let items: Vec<Option<&str>> = outcome
                .results
                .iter()
                .map(|r| r.result.as_ref().err().map(error_name))
                .collect();
            if items != m.items {
                return Err(format!(
                    "item results: engine {items:?}, model {:?}",
                    m.items
                ));
            }
            let mut events = Vec::new();
            for e in &outcome.events {
                if let Some(e) = normalize(e)? {
                    events.push(e);
                }
            }
            if events != m.events {
                return Err(format!("events: {}", first_difference(&events, &m.events)));
            }
            Ok(())
        }
        (result, expected) => Err(format!(
            "result: engine {:?}, model {expected:?}",
            result.as_ref().map(|o| &o.events)
        )),
    }
}

// ---- invariants checked after each command --------------------------------------------------

/// Invariant 8 (R-C2): `next_deadline()` is the earliest pending deadline (the model's), the
/// outcome reports it, a `Tick` leaves nothing due behind it, and a `Tick` before the
/// earliest deadline (early, or twice) does nothing.
fn inv8_deadlines_on_time_and_exact(
    engine: &Engine,
    model: Option<&Model>,
    command: &Command,
    outcome: &Outcome,
    deadline_before: Option<DateTime<Utc>>,
) -> Result<(), String> {
    let next = engine.next_deadline();
    if let Some(model) = model
        && next != model.next_deadline()
    {
        return Err(format!(
            "invariant 8: next_deadline() is {next:?}, the earliest pending deadline is {:?}",
            model.next_deadline()
        ));
    }
    if outcome.next_deadline != next {
        return Err(format!(
            "invariant 8: the outcome says the next deadline is {:?}, next_deadline() says {next:?}",
            outcome.next_deadline
        ));
    }
    if matches!(command, Command::Tick) {
        let now = engine.now().expect("a tick set the clock");
        if next.is_some_and(|t| t <= now) {
            return Err(format!(
                "invariant 8: after a Tick at {now} the deadline {next:?} is still pending"
            ));
        }
        if deadline_before.is_none_or(|t| now < t) && !outcome.events.is_empty() {
            return Err(format!(
                "invariant 8: a Tick at {now}, before the earliest deadline {deadline_before:?}, did {:?}",
                outcome.events
            ));
        }
    }
    Ok(())
}

/// Invariant 9 (R-C4): an `Err` leaves the serialized state byte-identical.
fn inv9_refusal_changes_nothing(before: &Engine, after: &Engine) -> Result<(), String> {
    let (b, a) = (json(&before.snapshot()), json(&after.snapshot()));
    if b != a {
        return Err(format!(
            "invariant 9: a refused command changed the state:\n before {b}\n after  {a}"
        ));
    }
    Ok(())
}

// ---- the run -----------------------------------------------------------------------------------

/// The engine under test, a twin fed the same commands (R-C1), an engine restored from a
/// snapshot at a random step (R-C6), the model and the projection.
struct Run {
    engine: Engine,
    twin: Engine,
    restored: Option<Engine>,
    model: Model,
    projection: Projection,
    now: DateTime<Utc>,
    /// Every command with its stamp, for the failure report.
    log: Vec<(DateTime<Utc>, Command)>,
}

impl Run {
    fn new(config: Config) -> Result<Self, String> {
        let engine = Engine::new(config.clone()).map_err(|e| format!("{e}"))?;
        Ok(Self {
            twin: engine.clone(),
            engine,
            restored: None,
            model: Model::new(config),
            projection: Projection::default(),
            now: t0(),
            log: Vec::new(),
        })
    }

    fn cut(&mut self) -> Result<(), String> {
        let text = json(&self.engine.snapshot());
        let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match Engine::restore(snapshot) {
            Ok(restored) => self.restored = Some(restored),
            // Bug 5: see `KNOWN_BUG_5_RESTORE_REFUSES_FINISHED_STAGES`.
            Err(e)
                if KNOWN_BUG_5_RESTORE_REFUSES_FINISHED_STAGES
                    && e.to_string().contains("names undeclared skill") =>
            {
                self.restored = None
            }
            Err(e) => return Err(e.to_string()),
        }
        Ok(())
    }

    fn step(&mut self, at: DateTime<Utc>, command: Command) -> Result<(), String> {
        self.log.push((at, command.clone()));
        let before = self.engine.clone();
        let deadline_before = self.engine.next_deadline();
        let result = self.engine.handle(at, command.clone());
        let text = json(&result);
        // R-C1: the same log gives the same outcomes; R-C6: so does a restored engine.
        let twin = json(&self.twin.handle(at, command.clone()));
        if twin != text {
            return Err(format!(
                "determinism: the twin engine answered\n {twin}\nnot\n {text}"
            ));
        }
        if let Some(restored) = &mut self.restored {
            let again = json(&restored.handle(at, command.clone()));
            if again != text {
                return Err(format!(
                    "replay: the restored engine answered\n {again}\nnot\n {text}"
                ));
            }
        }
        self.model.storage_order = self.engine.conversations().cloned().collect();
        let expected = self.model.handle(at, &command);
        if std::env::var_os("MODEL_STATS").is_some() {
            print_stats(&command, &expected);
        }
        // The invariants first, each on its own, then the model's agreement.
        match &result {
            Err(_) => inv9_refusal_changes_nothing(&before, &self.engine)?,
            Ok(outcome) => {
                let now = self.engine.now().expect("a command set the clock");
                let ctx = Context {
                    command: &command,
                    now,
                    engine: &self.engine,
                };
                self.projection.apply(&ctx, &outcome.events)?;
                inv8_deadlines_on_time_and_exact(
                    &self.engine,
                    model_checks().then_some(&self.model),
                    &command,
                    outcome,
                    deadline_before,
                )?;
            }
        }
        inv1_conservation(&self.projection, &self.engine)?;
        inv4_work_conservation(&self.projection, &self.engine)?;
        inv12_work_conservation_per_kind(&self.projection, &self.engine)?;
        inv15_work_conservation_with_skills(&self.projection, &self.engine)?;
        if result.is_ok() {
            let tick = matches!(command, Command::Tick);
            inv14_stages_in_force_follow_the_clock(&self.projection, &self.engine, tick)?;
        }
        inv10_events_are_a_complete_account(&self.projection, &self.engine)?;
        if model_checks() {
            outcome_agrees(&result, &expected).map_err(|e| format!("model disagrees: {e}"))?;
            model_agrees_with_engine(&self.engine, &self.model)
                .map_err(|e| format!("model disagrees: {e}"))?;
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), String> {
        if let Some(restored) = &self.restored
            && json(&restored.snapshot()) != json(&self.engine.snapshot())
        {
            return Err("replay: the restored engine ended in another state".into());
        }
        if json(&self.twin.snapshot()) != json(&self.engine.snapshot()) {
            return Err("determinism: the twin ended in another state".into());
        }
        Ok(())
    }
}

/// With `MODEL_STATS` set, prints one line per modelled event, item result and refusal, to
/// see what the generated cases exercise:
/// `MODEL_STATS=1 cargo test --test model_test engine_matches -- --nocapture | grep ^STAT | sort | uniq -c`.
fn print_stats(command: &Command, expected: &MResult) {
    match expected {
        Ok(outcome) => {
            for e in &outcome.events {
                let text = format!("{e:?}");
                let name = text.split('(').next().unwrap_or("");
                let detail = match e {
                    MEvent::Assigned(_, _, AssignReason::Drain { trigger }, _, _, _, _)
                    | MEvent::Offered(_, _, AssignReason::Drain { trigger }, _, _, _, _, _) => {
                        format!("Drain {trigger:?}")
                    }
                    MEvent::Assigned(_, _, r, _, _, _, m)
                    | MEvent::Offered(_, _, r, _, _, _, _, m) => {
                        let skilled = if m.is_some() { " skilled" } else { "" };
                        format!("{r:?}").split(' ').next().unwrap_or("").to_string() + skilled
                    }
                    MEvent::StageAdvanced(_, stage, _, _) => format!("{stage}"),
                    MEvent::Woke(_, _, r) => format!("{r:?}"),
                    MEvent::LeaveMessageOffered(_, r) | MEvent::TurnedAway(_, r) => r.clone(),
                    _ => String::new(),
                };
                println!("STAT event {name} {detail}");
            }
            for item in &outcome.items {
                println!("STAT item {item:?}");
            }
        }
        Err(e) => {
            let command = format!("{command:?}");
            let name = command.split(|c: char| !c.is_alphanumeric()).next();
            println!("STAT refused {e} {}", name.unwrap_or(""));
        }
    }
}

fn log_text(log: &[(DateTime<Utc>, Command)]) -> String {
    log.iter()
        .map(|(t, c)| format!("  {t} {c:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a generated case; on failure, the message and the command log.
fn run_case(setup: &Setup, steps: &[(Clock, Op)], cut: usize) -> Result<(), String> {
    let config = setup.config.config();
    let Ok(mut run) = Run::new(config.clone()) else {
        // An invalid starting config: Engine::new refuses it, as the model's validation does.
        return match config.validate() {
            Err(_) => Ok(()),
            Ok(()) => Err("Engine::new refused a valid config".into()),
        };
    };
    let fail = |run: &Run, e: String| format!("{e}\ncommand log:\n{}", log_text(&run.log));
    for command in setup_commands(setup) {
        let at = run.now;
        run.step(at, command).map_err(|e| fail(&run, e))?;
    }
    for (i, (clock, op)) in steps.iter().enumerate() {
        if i == cut {
            run.cut().map_err(|e| fail(&run, e))?;
        }
        let mut at = run.now;
        match clock {
            Clock::Stay => {}
            Clock::Forward(secs) => run.now += TimeDelta::seconds(*secs),
            Clock::ToDeadline => {
                if let Some(t) = run.engine.next_deadline() {
                    run.now = run.now.max(t);
                }
            }
            Clock::JustBefore => {
                if let Some(t) = run.engine.next_deadline() {
                    run.now = run.now.max(t - TimeDelta::seconds(1));
                }
            }
            Clock::Back(secs) => at = run.now - TimeDelta::seconds(*secs),
        }
        if !matches!(clock, Clock::Back(_)) {
            at = run.now;
        }
        let command = command(op, &run.model, at);
        run.step(at, command).map_err(|e| fail(&run, e))?;
    }
    run.finish().map_err(|e| fail(&run, e))
}

fn step_strategy() -> impl Strategy<Value = (Clock, Op)> {
    (clock(), op())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_test.txt",
        ))),
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    /// Invariants 1-5 and 7-10, the model's agreement, determinism and replay, after every
    /// step of a random command sequence.
    #[test]
    fn engine_matches_model_and_keeps_every_invariant(
        setup in setup(),
        steps in prop::collection::vec(step_strategy(), 1..160),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = cut.index(steps.len() + 1);
        if let Err(e) = run_case(&setup, &steps, cut) {
            return Err(TestCaseError::fail(e));
        }
    }
}

// ---- determinism and replay (R-C1, R-C6) -------------------------------------------------------

/// The commands of a generated case with their stamps, as the run sends them.
fn case_log(setup: &Setup, steps: &[(Clock, Op)]) -> Option<Vec<(DateTime<Utc>, Command)>> {
    let config = setup.config.config();
    let mut engine = Engine::new(config.clone()).ok()?;
    let mut model = Model::new(config);
    let mut now = t0();
    let mut log: Vec<(DateTime<Utc>, Command)> = setup_commands(setup)
        .into_iter()
        .map(|c| (now, c))
        .collect();
    for (at, command) in &log {
        model.storage_order = engine.conversations().cloned().collect();
        let _ = (
            engine.handle(*at, command.clone()),
            model.handle(*at, command),
        );
    }
    for (clock, op) in steps {
        let mut at = now;
        match clock {
            Clock::Stay => {}
            Clock::Forward(secs) => now += TimeDelta::seconds(*secs),
            Clock::ToDeadline => now = engine.next_deadline().map_or(now, |t| now.max(t)),
            Clock::JustBefore => {
                now = engine
                    .next_deadline()
                    .map_or(now, |t| now.max(t - TimeDelta::seconds(1)))
            }
            Clock::Back(secs) => at = now - TimeDelta::seconds(*secs),
        }
        if !matches!(clock, Clock::Back(_)) {
            at = now;
        }
        let command = command(op, &model, at);
        model.storage_order = engine.conversations().cloned().collect();
        let _ = (
            engine.handle(at, command.clone()),
            model.handle(at, &command),
        );
        log.push((at, command));
    }
    Some(log)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_test.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// R-C1: the same command log gives the same outcomes (events, results, deadlines) and the
    /// same final state, bit for bit.
    #[test]
    fn r_c1_the_same_log_gives_the_same_events(
        setup in setup(),
        steps in prop::collection::vec(step_strategy(), 1..160),
    ) {
        let Some(log) = case_log(&setup, &steps) else { return Ok(()) };
        let config = setup.config.config();
        let (mut first, mut second) = (Engine::new(config.clone()).expect("valid"), Engine::new(config).expect("valid"));
        let outcomes = |engine: &mut Engine| -> Vec<String> {
            log.iter().map(|(at, c)| json(&engine.handle(*at, c.clone()))).collect()
        };
        let (a, b) = (outcomes(&mut first), outcomes(&mut second));
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            prop_assert_eq!(a, b, "step {}: {:?}", i, log[i]);
        }
        prop_assert_eq!(json(&first.snapshot()), json(&second.snapshot()));
    }

    /// R-C6: a snapshot taken at a random step, serialized with serde_json and restored,
    /// continues with the same outcomes as the engine that never stopped, to the same state.
    #[test]
    fn r_c6_restore_and_continue_gives_the_same_events(
        setup in setup(),
        steps in prop::collection::vec(step_strategy(), 1..160),
        cut in any::<prop::sample::Index>(),
    ) {
        let Some(log) = case_log(&setup, &steps) else { return Ok(()) };
        let mut engine = Engine::new(setup.config.config()).expect("valid");
        let cut = cut.index(log.len() + 1);
        for (at, c) in &log[..cut] {
            let _ = engine.handle(*at, c.clone());
        }
        let text = json(&engine.snapshot());
        let snapshot: Snapshot = serde_json::from_str(&text).expect("a snapshot deserializes");
        let mut restored = match Engine::restore(snapshot) {
            Ok(restored) => restored,
            // Bug 5: see `KNOWN_BUG_5_RESTORE_REFUSES_FINISHED_STAGES`.
            Err(e) if KNOWN_BUG_5_RESTORE_REFUSES_FINISHED_STAGES
                && e.to_string().contains("names undeclared skill") => return Ok(()),
            Err(e) => panic!("a live snapshot restores: {e}"),
        };
        prop_assert_eq!(json(&restored.snapshot()), text, "restore changed the state");
        for (i, (at, c)) in log[cut..].iter().enumerate() {
            let (a, b) = (json(&engine.handle(*at, c.clone())), json(&restored.handle(*at, c.clone())));
            prop_assert_eq!(a, b, "step {} after a cut at {}: {:?}", i, cut, c);
        }
        prop_assert_eq!(json(&restored.snapshot()), json(&engine.snapshot()));
    }
}

// ---- invariant 6: fairness -------------------------------------------------------------------

#[derive(Clone, Debug)]
enum FairOp {
    Arrive(u8),
    /// End the n-th active conversation.
    End(usize),
    Wait(i64),
}

fn fair_op() -> impl Strategy<Value = FairOp> {
    prop_oneof![
        4 => (0u8..3).prop_map(FairOp::Arrive),
        3 => any::<usize>().prop_map(FairOp::End),
        1 => (0i64..30).prop_map(FairOp::Wait),
    ]
}

/// Invariant 6 (R-S3): among identical agents that stay eligible and never fill up, least
/// recently assigned and round robin keep every agent's assignment count within one of every
/// other's.
fn inv6_fairness(engine: &Engine) -> Result<(), String> {
    let totals: BTreeMap<String, u64> = engine
        .agents()
        .map(|a| {
            (
                a.to_string(),
                engine.agent(a).expect("listed").assigned_total,
            )
        })
        .collect();
    let (min, max) = (
        totals.values().min().copied().unwrap_or(0),
        totals.values().max().copied().unwrap_or(0),
    );
    if max > min + 1 {
        return Err(format!(
            "invariant 6: assignment counts spread more than one apart: {totals:?}"
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_test.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Invariant 6, fairness (R-S3).
    #[test]
    fn r_s3_fairness_among_identical_always_online_agents(
        agents in 2usize..=4,
        round_robin in any::<bool>(),
        ops in prop::collection::vec(fair_op(), 1..200),
    ) {
        let mut engine = Engine::new(Config::default()).expect("valid");
        let strategy = if round_robin { Routing::RoundRobin } else { Routing::LeastRecentlyAssigned };
        let mut now = t0();
        let _ = engine.handle(now, Command::RegisterGroup(GroupSpec::new("g").strategy(strategy))).expect("group");
        for a in 0..agents {
            let spec = AgentSpec::new(format!("a{a}")).status(AgentStatus::Online).limit(1000).group("g");
            let _ = engine.handle(now, Command::RegisterAgent(spec)).expect("agent");
        }
        let (mut next, mut active): (usize, Vec<ConversationId>) = (0, Vec::new());
        for op in &ops {
            let command = match op {
                FairOp::Arrive(priority) => {
                    next += 1;
                    active.push(format!("c{next}").into());
                    Command::VisitorArrives(Arrival::new(format!("c{next}"), format!("v{}", next % 3), "g").priority(*priority))
                }
                FairOp::End(pick) if !active.is_empty() => {
                    let id = active.remove(pick % active.len());
                    Command::EndConversations { conversations: vec![id], reason: EndReason::Agent }
                }
                FairOp::End(_) => Command::Tick,
                FairOp::Wait(secs) => {
                    now += TimeDelta::seconds(*secs);
                    Command::Tick
                }
            };
            let outcome = engine.handle(now, command).expect("no refusal here");
            for event in &outcome.events {
                if let Event::ConversationAssigned { reason, .. } = event {
                    prop_assert_eq!(reason, &AssignReason::Strategy { strategy });
                }
            }
            if let Err(e) = inv6_fairness(&engine) {
                return Err(TestCaseError::fail(e));
            }
        }
    }
}

// ---- engine bugs the model found -------------------------------------------------------------

/// Bug 5 (fixed): a snapshot whose finished (not forgotten) conversations have stages naming a skill
/// the config no longer declares is refused by `Engine::restore` ("corrupt snapshot"), though
/// `UpdateConfig` rightly let the skill go (only open conversations hold a skill in use,
/// SKILLS.md, `Config::skills` docs). While set, the run skips the restored twin when that
/// happens. Regression test: `snapshot_restores_after_a_skill_named_only_by_finished_work_goes`.
const KNOWN_BUG_5_RESTORE_REFUSES_FINISHED_STAGES: bool = false;

/// Bug 4 (R-SK2, `Command::RemoveGroup` docs: "a group that no open conversation names"): a
/// group that a later stage of a waiting conversation names cannot be removed.
#[test]
fn group_named_by_a_later_stage_cannot_be_removed() {
    let mut desk = Desk::new(Config::default());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(GroupSpec::new("g1")));
    desk.run(Command::VisitorArrives(
        Arrival::new("c0", "v0", "g1")
            .stage(Stage::new().for_ms(1000))
            .stage(Stage::new().group("g0")),
    ));
    let removed = desk
        .engine
        .handle(desk.now, Command::RemoveGroup { group: "g0".into() });
    assert!(
        matches!(removed, Err(switchboard::Error::GroupInUse { .. })),
        "c0's stage 1 names g0: {removed:?}"
    );
}

/// Bug 6 (R-SK2, R-S4): an overflow whose groups the conversation already waits in (a stage
/// brought them) joins nothing; its later stages still come, at their time.
#[test]
fn stages_after_an_overflow_that_joins_nothing_still_come() {
    let mut desk = Desk::new(Config::default());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("g1").overflow(&["g0"], 1),
    ));
    desk.run(Command::VisitorArrives(
        Arrival::new("c0", "v0", "g1")
            .stage(Stage::new().group("g0").for_ms(5000))
            .stage(Stage::new()),
    ));
    desk.wait(1); // the overflow time: g0 is already a candidate
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(5)),
        "stage 1 starts 5 s after arrival"
    );
    let events = desk.wait(4).events;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::StageAdvanced { stage: 1, .. })),
        "no stage 1 at its time: {events:?}"
    );
}

/// Bug 7 (R-SK2): the groups of the stages entered so far stay candidates; one that was also
/// the designated group stays after the designation ends (at first service). Redirected after
/// its first agent misses the first reply, the conversation goes to the stage group's other
/// agent.
#[test]
fn a_stage_group_that_was_the_designated_group_stays_a_candidate() {
    let mut config = Config::default();
    config.reception.first_reply_timeout_secs = Some(150);
    let mut desk = Desk::new(config);
    for g in ["g1", "g2"] {
        desk.run(Command::RegisterGroup(GroupSpec::new(g)));
    }
    for a in ["a0", "a1"] {
        let spec = AgentSpec::new(a)
            .status(AgentStatus::Online)
            .limit(1)
            .group("g1");
        desk.run(Command::RegisterAgent(spec));
    }
    let mut arrival = Arrival::new("c0", "v0", "g2").stage(Stage::new().group("g1"));
    arrival.designated = Some(Target::Group("g1".into()));
    desk.run(Command::VisitorArrives(arrival)); // a0, by the designated group
    desk.wait(150); // a0 missed the first reply: redirected
    assert_eq!(
        desk.state("c0"),
        ConversationState::Active { agent: "a1".into() },
        "g1, its stage's group, has a1 free"
    );
}

/// Bug 8 (R-S4, R-C2): an overflow whose time came with nothing to add (a stage had brought
/// its group already) has come: re-queuing the conversation later (here, a change of reception
/// mode) must not arm it again as due.
#[test]
fn an_overflow_that_added_nothing_is_not_due_again() {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    let mut desk = Desk::new(config);
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("g1").overflow(&["g0"], 60),
    ));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("a0").limit(1).group("g0"),
    ));
    desk.run(Command::VisitorArrives(
        Arrival::new("c0", "v0", "g1")
            .stage(Stage::new().for_ms(1000))
            .stage(Stage::new().group("g0")),
    ));
    desk.wait(1); // stage 1: g0 joins
    desk.wait(59); // the overflow time: g0 is a candidate already
    assert_eq!(desk.engine.next_deadline(), None, "nothing is left to come");
    desk.run(Command::AgentStatusChanged {
        agent: "a0".into(),
        status: AgentStatus::Online,
    }); // offered to a0
    desk.run(Command::DeclineOffer {
        conversation: "c0".into(),
        agent: "a0".into(),
    }); // queued again
    assert_eq!(
        desk.engine.next_deadline(),
        None,
        "queued again, the overflow that came is not due again"
    );
}

/// Bug 5 (R-C6, R-SK1): a skill that only a finished conversation's stages name may go
/// (`UpdateConfig` accepts it), and the snapshot taken afterwards must restore.
#[test]
fn snapshot_restores_after_a_skill_named_only_by_finished_work_goes() {
    let mut config = Config {
        skills: vec!["billing".into()],
        ..Config::default()
    };
    let mut desk = Desk::new(config.clone());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::VisitorArrives(
        Arrival::new("c0", "v0", "g0").require("billing", 1),
    ));
    desk.end("c0");
    config.skills.clear();
    desk.run(Command::UpdateConfig(config));
    let text = json(&desk.engine.snapshot());
    let snapshot: Snapshot = serde_json::from_str(&text).expect("deserializes");
    let restored = Engine::restore(snapshot);
    assert!(restored.is_ok(), "{:?}", restored.err());
}

/// A small desk for the regression tests: run commands at a clock that only moves forward.
/// What the desk's helpers return: the parts of a command's outcome these stories read. A
/// story may drop it, unlike an `Outcome` (`#[must_use]`): the desk checked it succeeded.
struct Ran {
    events: Vec<Event>,
    next_deadline: Option<DateTime<Utc>>,
}

struct Desk {
    engine: Engine,
    now: DateTime<Utc>,
}

impl Desk {
    fn new(config: Config) -> Self {
        Self {
            engine: Engine::new(config).expect("a valid config"),
            now: t0(),
        }
    }

    fn run(&mut self, command: Command) -> Ran {
        let outcome = self
            .engine
            .handle(self.now, command.clone())
            .unwrap_or_else(|e| panic!("{command:?} failed: {e}"));
        Ran {
            events: outcome.events,
            next_deadline: outcome.next_deadline,
        }
    }

    fn wait(&mut self, secs: i64) -> Ran {
        self.now += TimeDelta::seconds(secs);
        self.run(Command::Tick)
    }

    fn arrive(&mut self, conversation: &str, group: &str) -> Ran {
        self.run(Command::VisitorArrives(Arrival::new(
            conversation,
            "v",
            group,
        )))
    }

    /// `UpdateGroup`: `group` overflows into `into` after 60 s of waiting.
    fn overflow_after_a_minute(&mut self, group: &str, into: &str) -> Ran {
        self.run(Command::UpdateGroup(GroupUpdate {
            group: group.into(),
            strategy: None,
            limit: None,
            overflow: Some(Overflow {
                groups: vec![into.into()],
                after_secs: 60,
            }),
            agent_cap: None,
        }))
    }

    fn end(&mut self, conversation: &str) -> Ran {
        self.run(Command::EndConversations {
            conversations: vec![conversation.into()],
            reason: EndReason::Agent,
        })
    }

    fn state(&self, conversation: &str) -> ConversationState {
        self.engine.conversation(conversation).expect("known").state
    }
}

/// R-Q4, R-S4: a conversation that joined an overflow group and is routed again (its agent
/// removed) must go to an agent of that overflow group who has room, not wait beside it.
#[test]
fn rerouted_overflowed_conversation_goes_to_an_overflow_agent_with_room() {
    let mut desk = Desk::new(Config::default());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("g1").overflow(&["g0"], 60),
    ));
    for a in ["a0", "a1"] {
        let spec = AgentSpec::new(a)
            .status(AgentStatus::Online)
            .limit(1)
            .group("g0");
        desk.run(Command::RegisterAgent(spec));
    }
    desk.arrive("c0", "g0"); // a0
    desk.arrive("c1", "g0"); // a1
    desk.arrive("c2", "g1"); // g1 has no members: waits
    desk.wait(60); // c2 overflows into g0; nobody free there
    desk.end("c0"); // a0 takes c2 from g0's queue
    assert_eq!(
        desk.state("c2"),
        ConversationState::Active { agent: "a0".into() }
    );
    desk.end("c1"); // a1 is free
    desk.run(Command::RemoveAgent { agent: "a0".into() });
    // c2 is routed again: a1, in the overflow group it joined, has room.
    assert_eq!(
        desk.state("c2"),
        ConversationState::Active { agent: "a1".into() },
        "c2 waits in g0's queue while a1 of g0 has room"
    );
}

/// R-L1, `Config` docs: "a timed feature switched off stops its running timers". A reply goal
/// paused by a snooze when the reply targets are switched off must not come back and breach
/// after the snooze lifts.
#[test]
fn reply_goal_paused_by_snooze_does_not_breach_after_sla_is_switched_off() {
    let mut config = Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    };
    config.sla.first_reply_secs = Some(60);
    let mut desk = Desk::new(config.clone());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    let spec = AgentSpec::new("a0").status(AgentStatus::Online).group("g0");
    desk.run(Command::RegisterAgent(spec));
    desk.arrive("c0", "g0"); // active with a0, first-reply goal of 60 s running
    desk.now += TimeDelta::seconds(10);
    desk.run(Command::Snooze {
        conversations: vec!["c0".into()],
        until: desk.now + TimeDelta::seconds(100),
    });
    config.sla.first_reply_secs = None;
    desk.run(Command::UpdateConfig(config));
    let mut events = desk.wait(100).events; // the snooze lifts
    events.extend(desk.wait(3600).events);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SlaBreached { .. } | Event::SlaWarning { .. })),
        "reply-goal events after SLA was switched off: {events:?}"
    );
}

/// R-L2, R-Z2, `Config` docs: switching inactivity off forgets the visitor's silence only
/// where its clock ran. A reply made while inactivity was off, in a conversation snoozed since,
/// still leaves the visitor silent after the agent's reply: once inactivity is on again, the
/// wake times that silence afresh, even if another config change (with inactivity still off)
/// came in between.
#[test]
fn silence_after_a_reply_is_timed_when_a_snooze_lifts_after_inactivity_is_switched_on() {
    let mut config = Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    };
    let mut desk = Desk::new(config.clone());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    let spec = AgentSpec::new("a0").status(AgentStatus::Online).group("g0");
    desk.run(Command::RegisterAgent(spec));
    desk.arrive("c0", "g0"); // active with a0
    desk.run(Command::Message {
        conversation: "c0".into(),
        from: Sender::AgentReply,
    });
    desk.run(Command::UpdateConfig(config.clone())); // inactivity still off
    config.inactivity.reminder_after_secs = Some(60);
    config.inactivity.end_after_secs = Some(180);
    desk.run(Command::UpdateConfig(config));
    desk.run(Command::Snooze {
        conversations: vec!["c0".into()],
        until: desk.now + TimeDelta::seconds(1),
    });
    let woke = desk.wait(1);
    assert_eq!(
        woke.next_deadline,
        Some(desk.now + TimeDelta::seconds(60)),
        "the silence after the agent's reply is timed from the wake"
    );
    let reminded = desk.wait(60).events;
    assert!(
        reminded
            .iter()
            .any(|e| matches!(e, Event::InactivityReminder { .. })),
        "no inactivity reminder 60 s after the wake: {reminded:?}"
    );
}

/// R-S4: overflow groups join a conversation's candidates "once it has waited a set time".
/// Setting overflow on a group must apply to the conversations already waiting there.
#[test]
fn overflow_set_on_a_group_applies_to_conversations_already_waiting() {
    let mut desk = Desk::new(Config::default());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(GroupSpec::new("g1")));
    let spec = AgentSpec::new("a0").status(AgentStatus::Online).group("g0");
    desk.run(Command::RegisterAgent(spec));
    desk.arrive("c0", "g1"); // nobody in g1: waits
    desk.now += TimeDelta::seconds(600);
    desk.overflow_after_a_minute("g1", "g0");
    desk.wait(3600);
    assert_eq!(
        desk.state("c0"),
        ConversationState::Active { agent: "a0".into() },
        "c0 has waited over an hour; g1 overflows into g0 after a minute, and a0 of g0 is free"
    );
}

/// R-S4, R-C1: when an overflow set by `UpdateGroup` makes the deadlines of several waiting
/// conversations fall at the same instant, they overflow in arrival order (the order the
/// `GroupUpdate::overflow` docs give), not in queue order.
#[test]
fn overflow_deadlines_at_the_same_instant_fire_in_arrival_order() {
    let mut desk = Desk::new(Config::default());
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(GroupSpec::new("g1")));
    desk.arrive("early", "g1"); // nobody in g1: waits
    desk.now += TimeDelta::seconds(30);
    desk.run(Command::VisitorArrives(
        Arrival::new("later-but-urgent", "v2", "g1").priority(1),
    ));
    desk.now += TimeDelta::seconds(60);
    desk.overflow_after_a_minute("g1", "g0");
    // Both waited 60 s or more: both deadlines are now.
    let overflowed: Vec<String> = desk
        .wait(0)
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOverflowed { conversation, .. } => Some(conversation.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(overflowed, ["early", "later-but-urgent"]);
}

/// R-S4, R-Q3: a conversation whose overflow time and maximum wait fall at the same instant
/// overflows first, so an overflow agent with room takes it instead of the visitor being
/// turned away; with no room left, it overflows and then is turned away. The engine arms the
/// maximum wait before the overflow when a conversation enters the queue, so this fails if
/// the tie is broken by arming order alone.
#[test]
fn overflow_comes_before_max_wait_at_the_same_instant() {
    let mut desk = Desk::new(Config {
        queue: QueueConfig {
            max_wait_secs: Some(60),
            ..QueueConfig::default()
        },
        ..Config::default()
    });
    desk.run(Command::RegisterGroup(GroupSpec::new("g0")));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("g1").overflow(&["g0"], 60),
    ));
    let spec = AgentSpec::new("a0")
        .status(AgentStatus::Online)
        .limit(1)
        .group("g0");
    desk.run(Command::RegisterAgent(spec));
    desk.arrive("first", "g1"); // nobody in g1: waits
    desk.arrive("second", "g1");
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(60))
    );
    let events = desk.wait(60).events;
    assert!(
        matches!(desk.state("first"), ConversationState::Active { ref agent, .. } if agent.as_str() == "a0"),
        "the overflow agent takes the first: {events:?}"
    );
    assert!(
        matches!(desk.state("second"), ConversationState::TurnedAway { .. }),
        "the second, with no room left, is turned away: {events:?}"
    );
    let second: Vec<&Event> = events
        .iter()
        .filter(|e| match e {
            Event::ConversationOverflowed { conversation, .. }
            | Event::ConversationTurnedAway { conversation, .. } => {
                conversation.as_str() == "second"
            }
            _ => false,
        })
        .collect();
    assert!(
        matches!(
            second.as_slice(),
            [
                Event::ConversationOverflowed { .. },
                Event::ConversationTurnedAway { .. }
            ]
        ),
        "the second overflows before it is turned away: {second:?}"
    );
}
