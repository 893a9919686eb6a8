//! No input panics the engine (R-C5), and a refused command changes nothing (R-C4): random
//! sequences of arbitrary commands, with no model. Ids collide, are empty or huge; batches are
//! empty or thousands long; times sit at the edges of chrono's range and jump about; configs,
//! limits, priorities and timeouts take their extreme values; schedules name odd time zones
//! and ranges; skills are declared twice, held at levels 0, 11 and 255, unknown or named twice;
//! arrivals carry stages that are empty, misplace their durations (0, missing, on the last
//! one, up to `u64::MAX`), require and prefer any skill at any level and add unknown groups;
//! groups route best skilled; config updates drop skills in use. After every command every
//! query is asked too. A second property restores engines from tampered snapshots (enum
//! variants swapped, numbers at the edges of their ranges, entries duplicated or dropped) of a
//! desk with skills and a conversation in stages, and drives them on.
//!
//! Runs `PROPTEST_CASES` cases (64 when unset, as in CI). Failures persist to
//! `proptest-regressions/no_panic.txt`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AllocationTarget, Arrival, Command, Config, CustomStatus,
    EndReason, Engine, Error, GroupSpec, GroupUpdate, Inactivity, KindSpec, LastAgent, Limit,
    Membership, Overflow, PoolOrder, QueueConfig, Reception, ReceptionMode, ScheduleSpec, Sender,
    SkillLevel, Sla, Snapshot, Stage, Strategy as Routing, Target, WeeklyRange,
};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

fn t0() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().expect("a valid timestamp")
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// Ids that collide often, plus the empty id, a long one and odd characters.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0usize..4).prop_map(|i| format!("x{i}")),
        1 => Just(String::new()),
        1 => Just("x".repeat(5000)),
        1 => Just("ä \u{0} \"\\ x0".to_string()),
        1 => "\\PC{0,12}",
    ]
}

/// Times at the edges of chrono's range, near the start, and anywhere.
fn time() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        6 => (-100_000i64..1_000_000).prop_map(|s| t0() + TimeDelta::seconds(s)),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => (0i64..100_000).prop_map(|s| DateTime::<Utc>::MAX_UTC - TimeDelta::seconds(s)),
        1 => (0i64..100_000).prop_map(|s| DateTime::<Utc>::MIN_UTC + TimeDelta::seconds(s)),
        1 => any::<i64>().prop_map(|s| {
            let min = DateTime::<Utc>::MIN_UTC.timestamp();
            let max = DateTime::<Utc>::MAX_UTC.timestamp();
            DateTime::from_timestamp(s.rem_euclid(max - min) + min, 0)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        }),
    ]
}

fn big_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        2u64..1000,
        Just(u64::MAX),
        Just(u64::MAX / 1000),
        Just(i64::MAX as u64),
        any::<u64>(),
    ]
}

fn big_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1), 2u32..10, Just(u32::MAX), any::<u32>()]
}

fn status() -> impl Strategy<Value = AgentStatus> {
    prop_oneof![
        Just(AgentStatus::Online),
        Just(AgentStatus::Busy),
        Just(AgentStatus::ShortBreak),
        Just(AgentStatus::Offline),
        id().prop_map(AgentStatus::Custom),
        Just(AgentStatus::Custom("c0".into())),
    ]
}

fn config_without_kinds() -> BoxedStrategy<Config> {
    let queue = (
        big_u32(),
        prop::option::of(big_u64()),
        prop::option::of(big_u32()),
        prop::option::of(big_u64()),
        prop::option::of(big_u32()),
        any::<bool>(),
    )
        .prop_map(
            |(announce_positions, aging, max_length, max_wait, long, leave)| QueueConfig {
                announce_positions,
                aging_step_secs: aging,
                max_length,
                max_wait_secs: max_wait,
                long_queue_threshold: long,
                leave_message: leave,
            },
        )
        .boxed();
    let timers = (
        prop::option::of(big_u64()),
        prop::option::of(big_u64()),
        prop::option::of(big_u64()),
        prop::option::of(big_u64()),
        prop::option::of(big_u64()),
        any::<bool>(),
        big_u64(),
        prop::option::of(big_u32()),
        any::<bool>(),
        prop::option::of(big_u64()),
    )
        .boxed();
    let rest = (
        big_u32(),
        any::<bool>(),
        prop::option::of(big_u64()),
        prop::collection::vec(
            (prop_oneof![Just("c0".to_string()), id()], any::<bool>()),
            0..3,
        ),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(id()),
    )
        .boxed();
    (queue, timers, rest)
        .prop_map(
            |(
                queue,
                (
                    first,
                    next,
                    warn,
                    reminder,
                    end,
                    auto_accept,
                    offer,
                    redirects,
                    short,
                    first_reply,
                ),
                (
                    default_limit,
                    last_enabled,
                    window,
                    custom,
                    requeue,
                    asynchronous,
                    online_only,
                    pool,
                    snoozed_count,
                    working_hours,
                    service_hours,
                ),
            )| Config {
                skills: Vec::new(),
                default_limit,
                queue,
                last_agent: LastAgent {
                    enabled: last_enabled,
                    window_secs: window,
                },
                custom_statuses: custom
                    .into_iter()
                    .map(|(name, assignable)| CustomStatus { name, assignable })
                    .collect(),
                requeue_when_unassignable: requeue,
                mode: if asynchronous {
                    ReceptionMode::Asynchronous
                } else {
                    ReceptionMode::RealTime
                },
                allocation_target: if online_only {
                    AllocationTarget::OnlineOnly
                } else {
                    AllocationTarget::AllAgents
                },
                pool_order: [
                    PoolOrder::OldestFirst,
                    PoolOrder::NewestFirst,
                    PoolOrder::PriorityThenOldest,
                ][pool as usize],
                snoozed_count_toward_load: snoozed_count,
                sla: Sla {
                    first_reply_secs: first,
                    next_reply_secs: next,
                    warn_before_secs: warn,
                },
                inactivity: Inactivity {
                    reminder_after_secs: reminder,
                    end_after_secs: end,
                },
                working_hours,
                reception: Reception {
                    auto_accept,
                    offer_timeout_secs: offer,
                    redirect_limit: redirects,
                    short_break_on_timeout: short,
                    first_reply_timeout_secs: first_reply,
                },
                service_hours: service_hours.map(Into::into),
                kinds: Vec::new(),
            },
        )
        .boxed()
}

/// Kind names: a few that configs define, and one they never do.
const KIND_NAMES: [&str; 5] = ["default", "chat", "voice", "email", "nope"];

fn kind_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(KIND_NAMES.to_vec())
}

/// Work kinds (R-K1, R-K2), invalid ones included: costs of 0 and beyond any capacity, a
/// maximum of 0, unknown, repeated and self-blocking kinds.
fn kinds() -> impl Strategy<Value = Vec<KindSpec>> {
    prop::collection::vec(
        (
            kind_name(),
            prop_oneof![4 => 1u32..=120, 1 => Just(0u32), 1 => Just(u32::MAX)],
            prop::option::of(0u32..=3),
            prop::collection::vec(kind_name(), 0..3),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(kind, cost, max, blocks, paused)| {
                let mut spec = KindSpec::new(kind, cost);
                if let Some(max) = max {
                    spec = spec.max_per_agent(max);
                }
                for blocked in blocks {
                    spec = spec.blocks(blocked);
                }
                if let Some(paused) = paused {
                    spec = spec.paused_holds_units(paused);
                }
                spec
            }),
        0..4,
    )
}

/// Skill names: the ones configs declare, and one they never do.
const SKILL_NAMES: [&str; 4] = ["en", "fr", "de", "zz"];

fn skill_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SKILL_NAMES.to_vec())
}

/// Declared skills (R-SK1): often all three known ones, sometimes none, a few or a skill
/// declared twice (refused).
fn declared_skills() -> impl Strategy<Value = Vec<switchboard::SkillId>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => Just(vec!["en".into(), "fr".into(), "de".into()]),
        2 => prop::collection::vec(skill_name().prop_map(Into::into), 0..5),
    ]
}

/// A level: mostly within 1..=10, sometimes 0, 11 or 255 (refused).
fn level() -> impl Strategy<Value = u8> {
    prop_oneof![8 => 1u8..=10, 1 => Just(0u8), 1 => Just(11u8), 1 => Just(255u8)]
}

/// Skills with levels, as agents hold them and stages require or prefer them: unknown skills,
/// invalid levels and a skill named twice included.
fn skill_levels() -> impl Strategy<Value = Vec<SkillLevel>> {
    prop_oneof![
        2 => prop::sample::subsequence(vec!["en", "fr", "de"], 0..=3)
            .prop_flat_map(|names| {
                let n = names.len();
                (Just(names), prop::collection::vec(1u8..=10, n))
            })
            .prop_map(|(names, levels)| {
                names.into_iter().zip(levels).map(|(s, l)| SkillLevel::new(s, l)).collect()
            }),
        1 => prop::collection::vec(
            (skill_name(), level()).prop_map(|(s, l)| SkillLevel::new(s, l)),
            0..4,
        ),
    ]
}

/// Stage durations: 0 (refused), 1 ms, small, an hour, and huge up to `u64::MAX`.
fn duration_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        2 => Just(1u64),
        3 => 2u64..5000,
        1 => Just(3_600_000u64),
        1 => Just(i64::MAX as u64),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

/// An arrival's stages (R-SK2): none, an empty list (refused), or one to four stages with
/// required and preferred skills at any level, known and unknown groups, and durations that
/// are mostly well placed (on every stage but the last) but sometimes missing, zero or
/// present on the last.
fn stages() -> impl Strategy<Value = Option<Vec<Stage>>> {
    let stage = (
        skill_levels(),
        skill_levels(),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(
                prop_oneof![6 => (0usize..4).prop_map(|i| format!("x{i}")), 1 => id()],
                1..3,
            ),
        ],
        duration_ms(),
        prop::option::of(duration_ms()),
    );
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(Vec::new())),
        5 => (prop::collection::vec(stage, 1..=4), prop_oneof![3 => Just(true), 1 => Just(false)])
            .prop_map(|(stages, well_placed)| {
                let last = stages.len() - 1;
                Some(
                    stages
                        .into_iter()
                        .enumerate()
                        .map(|(i, (require, prefer, groups, ms, raw))| Stage {
                            require,
                            prefer,
                            groups: groups.into_iter().map(Into::into).collect(),
                            for_ms: match (well_placed, i == last) {
                                (true, true) => None,
                                (true, false) => Some(ms),
                                (false, _) => raw,
                            },
                        })
                        .collect(),
                )
            }),
    ]
}

/// Group strategies, best skilled (R-SK3) included.
const STRATEGIES: [Routing; 5] = [
    Routing::LeastRecentlyAssigned,
    Routing::RoundRobin,
    Routing::LeastLoaded,
    Routing::AgentPriority,
    Routing::BestSkilled,
];

/// An engine-wide config, often with work kinds and skills.
fn config() -> BoxedStrategy<Config> {
    (
        config_without_kinds(),
        prop_oneof![2 => Just(Vec::new()), 3 => kinds()],
        declared_skills(),
    )
        .prop_map(|(mut config, kinds, skills)| {
            config.kinds = kinds;
            config.skills = skills;
            config
        })
        .boxed()
}

/// A config that validates, its extreme values kept, so that they reach the engine's
/// arithmetic: each refused field is repaired.
fn valid_config() -> BoxedStrategy<Config> {
    config()
        .prop_map(|mut c| {
            let one = |v: &mut Option<u64>| {
                if *v == Some(0) {
                    *v = Some(1);
                }
            };
            c.default_limit = c.default_limit.max(1);
            one(&mut c.queue.aging_step_secs);
            // The aging step is at most 366 days.
            c.queue.aging_step_secs = c.queue.aging_step_secs.map(|s| s.min(31_622_400));
            one(&mut c.queue.max_wait_secs);
            one(&mut c.last_agent.window_secs);
            one(&mut c.sla.first_reply_secs);
            one(&mut c.sla.next_reply_secs);
            one(&mut c.inactivity.reminder_after_secs);
            one(&mut c.inactivity.end_after_secs);
            one(&mut c.reception.first_reply_timeout_secs);
            c.reception.offer_timeout_secs = c.reception.offer_timeout_secs.max(1);
            c.queue.max_length = c.queue.max_length.map(|n| n.max(1));
            c.queue.long_queue_threshold = c.queue.long_queue_threshold.map(|n| n.max(1));
            if c.validate().is_err() {
                // Each skill declared once, in the order first declared.
                let mut seen = Vec::new();
                c.skills.retain(|s| {
                    let first = !seen.contains(s);
                    seen.push(s.clone());
                    first
                });
            }
            if c.validate().is_err() {
                c.sla.warn_before_secs = None;
            }
            if c.validate().is_err() {
                c.inactivity.reminder_after_secs = None;
            }
            if c.validate().is_err() {
                c.custom_statuses.clear();
            }
            if c.validate().is_err() {
                // Keep what validates of the kinds: costs within the default capacity, known
                // kinds blocked once, never the kind itself, each kind defined once.
                let names: Vec<_> = c.kinds.iter().map(|k| k.kind.clone()).collect();
                let limit = c.default_limit;
                let mut seen = Vec::new();
                c.kinds.retain(|k| {
                    let first = !seen.contains(&k.kind);
                    seen.push(k.kind.clone());
                    first
                });
                for k in &mut c.kinds {
                    k.cost = k.cost.clamp(1, limit);
                    k.max_per_agent = k.max_per_agent.map(|m| m.max(1));
                    let own = k.kind.clone();
                    let mut blocked = Vec::new();
                    for b in std::mem::take(&mut k.blocks) {
                        if b != own && names.contains(&b) && !blocked.contains(&b) {
                            blocked.push(b);
                        }
                    }
                    k.blocks = blocked;
                }
            }
            if c.validate().is_err() {
                c.kinds.clear();
            }
            c
        })
        .boxed()
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![Just(Limit::Inherit), big_u32().prop_map(Limit::Fixed)]
}

fn memberships() -> impl Strategy<Value = Vec<Membership>> {
    prop::collection::vec(
        (id(), prop_oneof![4 => 1u8..=5, 1 => any::<u8>()])
            .prop_map(|(g, p)| Membership::with_rank(g, p)),
        0..4,
    )
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        id().prop_map(|a| Target::Agent(a.into())),
        id().prop_map(|g| Target::Group(g.into())),
    ]
}

fn batch() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        8 => prop::collection::vec(id(), 0..5),
        1 => (id(), 1000usize..3000).prop_map(|(id, n)| vec![id; n]),
        1 => prop::collection::vec((0usize..4).prop_map(|i| format!("x{i}")), 200..400),
    ]
}

fn schedule() -> impl Strategy<Value = ScheduleSpec> {
    let day = prop::sample::select(vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]);
    let time = prop_oneof![
        (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0)),
        Just(NaiveTime::from_hms_nano_opt(23, 59, 59, 1_999_999_999)),
        Just(NaiveTime::from_hms_opt(0, 0, 0)),
        Just(NaiveTime::from_hms_opt(2, 30, 0)),
    ]
    .prop_map(|t| t.unwrap_or(NaiveTime::MIN));
    let range = (prop::collection::vec(day, 0..4), time.clone(), time)
        .prop_map(|(days, start, end)| WeeklyRange::new(&days, start, end));
    (
        id(),
        prop::sample::select(vec![
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Kiritimati",
            "America/Santiago",
            "Nowhere/Atlantis",
            "",
        ]),
        prop::collection::vec(range, 0..4),
    )
        .prop_map(|(schedule, zone, ranges)| ScheduleSpec {
            schedule: schedule.into(),
            time_zone: zone.into(),
            ranges,
        })
}

fn ids(v: Vec<String>) -> Vec<switchboard::ConversationId> {
    v.into_iter().map(Into::into).collect()
}

fn command() -> BoxedStrategy<Command> {
    prop_oneof![
        6 => (id(), id(), id(), any::<u8>(), prop::option::of(target()), prop::option::of(kind_name()), stages()).prop_map(
            |(c, v, g, priority, designated, kind, stages)| Command::VisitorArrives(Arrival {
                stages,
                conversation: c.into(),
                visitor: v.into(),
                group: g.into(),
                priority,
                designated,
                kind: kind.map(Into::into),
            })
        ).boxed(),
        1 => id().prop_map(|c| Command::VisitorLeaves { conversation: c.into() }).boxed(),
        3 => (id(), status()).prop_map(|(a, status)| Command::AgentStatusChanged { agent: a.into(), status }).boxed(),
        2 => (batch(), time()).prop_map(|(c, until)| Command::Snooze { conversations: ids(c), until }).boxed(),
        2 => (batch(), target()).prop_map(|(c, target)| Command::AssignManually { conversations: ids(c), target }).boxed(),
        2 => (batch(), prop::sample::select(vec![EndReason::Agent, EndReason::Visitor, EndReason::Admin, EndReason::Inactivity]))
            .prop_map(|(c, reason)| Command::EndConversations { conversations: ids(c), reason }).boxed(),
        2 => (id(), target()).prop_map(|(c, to)| Command::Transfer { conversation: c.into(), to }).boxed(),
        2 => (id(), prop::sample::select(vec![Sender::Visitor, Sender::AgentReply, Sender::AgentNote]))
            .prop_map(|(c, from)| Command::Message { conversation: c.into(), from }).boxed(),
        1 => (id(), prop::option::of(id())).prop_map(|(a, c)| Command::Claim { agent: a.into(), conversation: c.map(Into::into) }).boxed(),
        1 => any::<bool>().prop_map(|a| Command::SetReceptionMode {
            mode: if a { ReceptionMode::Asynchronous } else { ReceptionMode::RealTime },
        }).boxed(),
        2 => (id(), id()).prop_map(|(c, a)| Command::AcceptOffer { conversation: c.into(), agent: a.into() }).boxed(),
        2 => (id(), id()).prop_map(|(c, a)| Command::DeclineOffer { conversation: c.into(), agent: a.into() }).boxed(),
        1 => id().prop_map(|c| Command::LeaveMessage { conversation: c.into() }).boxed(),
        1 => schedule().prop_map(Command::DefineSchedule).boxed(),
        1 => id().prop_map(|s| Command::RemoveSchedule { schedule: s.into() }).boxed(),
        4 => Just(Command::Tick).boxed(),
        2 => (id(), status(), limit(), memberships(), prop::collection::vec(id(), 0..2), skill_levels()).prop_map(
            |(a, status, limit, groups, schedules, skills)| Command::RegisterAgent(AgentSpec {
                skills,
                agent: a.into(),
                status,
                limit,
                groups,
                schedules: schedules.into_iter().map(Into::into).collect(),
            })
        ).boxed(),
        2 => (id(), prop::option::of(limit()), prop::option::of(memberships()), prop::option::of(prop::collection::vec(id(), 0..2)), prop::option::of(skill_levels()))
            .prop_map(|(a, limit, groups, schedules, skills)| Command::UpdateAgent(AgentUpdate {
                skills,
                agent: a.into(),
                limit,
                groups,
                schedules: schedules.map(|s| s.into_iter().map(Into::into).collect()),
            })).boxed(),
        1 => id().prop_map(|a| Command::RemoveAgent { agent: a.into() }).boxed(),
        2 => (id(), 0usize..5, limit(), prop::option::of((prop::collection::vec(id(), 0..3), big_u64())), prop::option::of(big_u32()))
            .prop_map(|(g, s, limit, overflow, agent_cap)| Command::RegisterGroup(GroupSpec {
                group: g.into(),
                strategy: STRATEGIES[s],
                limit,
                overflow: overflow.map(|(groups, after_secs)| Overflow {
                    groups: groups.into_iter().map(Into::into).collect(),
                    after_secs,
                }),
                agent_cap,
            })).boxed(),
        1 => (id(), prop::option::of(0usize..5), prop::option::of(limit()), prop::option::of((prop::collection::vec(id(), 0..3), big_u64())), prop::option::of(prop::option::of(big_u32())))
            .prop_map(|(g, s, limit, overflow, agent_cap)| Command::UpdateGroup(GroupUpdate {
                group: g.into(),
                strategy: s.map(|s| STRATEGIES[s]),
                limit,
                overflow: overflow.map(|(groups, after_secs)| Overflow {
                    groups: groups.into_iter().map(Into::into).collect(),
                    after_secs,
                }),
                agent_cap,
            })).boxed(),
        1 => id().prop_map(|g| Command::RemoveGroup { group: g.into() }).boxed(),
        2 => prop_oneof![config(), valid_config()].prop_map(Command::UpdateConfig).boxed(),
        1 => batch().prop_map(|c| Command::Forget { conversations: ids(c) }).boxed(),
        1 => id().prop_map(|v| Command::ForgetVisitor { visitor: v.into() }).boxed(),
    ].boxed()
}

/// A desk for the random commands to hit: groups `x0`..`x3` of any strategy, best skilled
/// (R-SK3) included, and agents `x0`..`x3` in some of them, holding skills (R-SK1), mostly
/// online. Without it most random arrivals and agents name a group no one registered.
fn desk() -> impl Strategy<Value = Vec<Command>> {
    let groups = prop::collection::vec(0usize..5, 4).prop_map(|strategies| {
        strategies
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Command::RegisterGroup(GroupSpec::new(format!("x{i}")).strategy(STRATEGIES[s]))
            })
            .collect::<Vec<_>>()
    });
    let agent = (
        prop::sample::subsequence(vec!["x0", "x1", "x2", "x3"], 0..=4),
        prop_oneof![3 => Just(AgentStatus::Online), 1 => status()],
        prop_oneof![3 => 1u32..=4, 1 => big_u32()],
        skill_levels(),
    );
    (groups, prop::collection::vec(agent, 4)).prop_map(|(mut commands, agents)| {
        for (i, (groups, status, limit, skills)) in agents.into_iter().enumerate() {
            let mut spec = AgentSpec::new(format!("x{i}")).status(status).limit(limit);
            spec.skills = skills;
            for g in groups {
                spec = spec.group(g);
            }
            commands.push(Command::RegisterAgent(spec));
        }
        commands
    })
}

/// Asks every query, as a host would after a command.
fn ask_everything(engine: &Engine) {
    let _ = engine.next_deadline();
    let _ = engine.now();
    let _ = engine.config();
    let _ = engine.counters();
    for c in engine.conversations() {
        let _ = engine.conversation(c);
        let _ = engine.estimated_wait(c);
    }
    for a in engine.agents() {
        let _ = engine.agent(a);
        let _ = engine.agent_status(a);
        let _ = engine.agent_conversations(a).map(|i| i.count());
    }
    for g in engine.groups() {
        let _ = engine.group(g);
        let _ = engine.queue(g).map(|q| q.count());
    }
    let _ = engine.pool().count();
    let _ = engine.snoozed().count();
}

/// Runs `command` without letting a panic escape; on a panic, fails with the command log.
fn survive(
    engine: &mut Engine,
    at: DateTime<Utc>,
    command: Command,
    log: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    let shown: String = format!("{command:?}").chars().take(300).collect();
    log.push(format!("{at} {shown}"));
    let before = json(&engine.snapshot());
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let result = engine.handle(at, command);
        ask_everything(engine);
        result.is_err()
    }));
    match outcome {
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(TestCaseError::fail(format!(
                "R-C5: the engine panicked ({message}) on the last of:\n{}",
                log.join("\n")
            )))
        }
        // R-C4: a refused command changes nothing.
        Ok(true) if json(&engine.snapshot()) != before => Err(TestCaseError::fail(format!(
            "R-C4: a refused command changed the state; commands:\n{}",
            log.join("\n")
        ))),
        Ok(_) => Ok(()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/no_panic.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// R-C5: no sequence of arbitrary commands at arbitrary times panics; a snapshot of where
    /// it ends restores to the same state.
    #[test]
    fn r_c5_no_input_panics_the_engine(
        start in valid_config(),
        desk in prop::option::weighted(0.75, desk()),
        steps in prop::collection::vec((time(), command()), 1..80),
    ) {
        let mut engine = match catch_unwind(|| Engine::new(start.clone())) {
            Ok(Ok(engine)) => engine,
            // Its service hours name a schedule no one has defined yet, or it routes by
            // working hours with no agent on a schedule: start without them.
            Ok(Err(_)) => Engine::new(Config {
                service_hours: None,
                working_hours: false,
                ..start.clone()
            })
                .or_else(|_| Engine::new(Config::default()))
                .expect("the default config is valid"),
            Err(_) => return Err(TestCaseError::fail(format!("Engine::new panicked on {start:?}"))),
        };
        let mut log = Vec::new();
        for command in desk.into_iter().flatten() {
            survive(&mut engine, t0(), command, &mut log)?;
        }
        for (at, command) in steps {
            survive(&mut engine, at, command, &mut log)?;
        }
        let text = json(&engine.snapshot());
        let snapshot: Snapshot = serde_json::from_str(&text).expect("a snapshot deserializes");
        let restored = Engine::restore(snapshot).expect("a live snapshot restores");
        prop_assert_eq!(json(&restored.snapshot()), text);
    }

    /// R-C5, R-C6: restoring a tampered snapshot never panics: it is refused, or it restores
    /// to an engine that then handles every command without a panic, and whose own snapshot
    /// restores. The snapshot is one of a desk with a conversation in every phase its mode
    /// has and a timer of every kind armed, driven on by random commands; four trials edit it
    /// one to three times each. The edits swap enum variants (timer kinds, phases, statuses,
    /// strategies, modes, ...), give a node the value a node under the same key has (here or
    /// in a desk of the other mode), hit the edges of the number ranges, nudge numbers and
    /// keys by one, and duplicate or drop list and map entries. On the skills (R-SK1, R-SK2)
    /// they reach restore's checks: an undeclared skill, a level out of range, a skill held
    /// twice, a stage index beyond the list, durations missing or misplaced, joined groups
    /// that are gone. After a restore the engine is
    /// driven: ticks far ahead, config updates and mode switches both ways, random commands,
    /// queries and snapshot round trips.
    #[test]
    fn r_c5_tampered_snapshots_never_panic(
        asynchronous in any::<bool>(),
        setup in prop::collection::vec((time(), command()), 0..8),
        trials in prop::collection::vec(prop::collection::vec(edit(), 1..4), 4),
        after in prop::collection::vec((time(), command()), 1..20),
    ) {
        let mut engine = rich_engine(asynchronous);
        let donor = serde_json::to_value(rich_engine(!asynchronous).snapshot()).expect("serializes");
        let mut log = vec![format!("-- a rich desk, asynchronous: {asynchronous}")];
        for (at, command) in setup {
            survive(&mut engine, at, command, &mut log)?;
        }
        let value = serde_json::to_value(engine.snapshot()).expect("serializes");
        for edits in &trials {
            let mut value = value.clone();
            for edit in edits {
                apply(&mut value, &donor, edit);
            }
            let text = json(&value);
            let Ok(snapshot) = serde_json::from_value::<Snapshot>(value) else {
                continue;
            };
            let restored = catch_unwind(AssertUnwindSafe(|| Engine::restore(snapshot)));
            let engine = match restored {
                Err(_) => return Err(TestCaseError::fail(format!(
                    "R-C5: Engine::restore panicked after {edits:?} on\n{text}"
                ))),
                Ok(Err(_)) => continue,
                Ok(Ok(engine)) => engine,
            };
            let mut log = log.clone();
            log.push(format!("-- restored after {edits:?} from\n{text}"));
            drive(engine, after.clone(), &mut log)?;
        }
    }
}

/// A desk whose ids (`x0`..`x3`) the random commands hit, with a conversation in every phase
/// its mode has and a timer of every kind armed: a shift boundary; in real-time mode a queued
/// conversation (maximum wait, overflow) that designated a busy agent, an offer (expiry), an
/// active conversation owing its first reply (first-reply limit, reply-goal warning) and one
/// whose visitor is silent (inactivity reminder), and an abandoned, an ended and a left-message
/// one; in asynchronous mode a snoozed conversation, an offer, a silent active one and the
/// pool. The group's service record holds a burst (services at one instant). Two work kinds
/// (R-K1, R-K2) and a group cap (R-K3): the conversations are of the default kind, but for one
/// of the other kind that waits, so that every agent counts load per kind and per group.
/// Skills (R-SK1): the desk declares three, the agents hold some, a best-skilled group
/// (R-SK3) has a member, and a conversation in stages (R-SK2) waits in its second stage,
/// having joined that group and another, with its third stage's boundary armed.
fn rich_engine(asynchronous: bool) -> Engine {
    let mut config = Config::default();
    config.queue.max_wait_secs = Some(600);
    config.reception.auto_accept = false;
    config.reception.first_reply_timeout_secs = Some(120);
    config.sla = Sla {
        first_reply_secs: Some(60),
        next_reply_secs: Some(60),
        warn_before_secs: Some(10),
    };
    config.inactivity = Inactivity {
        reminder_after_secs: Some(300),
        end_after_secs: Some(600),
    };
    config.custom_statuses = vec![CustomStatus {
        name: "c0".into(),
        assignable: false,
    }];
    config.kinds = vec![
        KindSpec::new("default", 1),
        KindSpec::new("k1", 2)
            .max_per_agent(1)
            .blocks("default")
            .paused_holds_units(false),
    ];
    config.default_limit = 3;
    config.skills = vec!["en".into(), "fr".into(), "de".into()];
    if asynchronous {
        config.mode = ReceptionMode::Asynchronous;
        config.allocation_target = AllocationTarget::OnlineOnly;
    }
    let mut engine = Engine::new(config).expect("a valid config");
    let now = t0();
    let mut run = |command: Command| {
        let shown = format!("{command:?}");
        if let Err(e) = engine.handle(now, command) {
            panic!("the rich desk's {shown} failed: {e}");
        }
    };
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("a valid time");
    run(Command::DefineSchedule(ScheduleSpec {
        schedule: "x0".into(),
        time_zone: "Europe/Berlin".into(),
        ranges: vec![WeeklyRange::new(
            &[Weekday::Mon, Weekday::Tue],
            hm(8),
            hm(18),
        )],
    }));
    run(Command::RegisterGroup(
        GroupSpec::new("x1").strategy(Routing::RoundRobin),
    ));
    run(Command::RegisterGroup(
        GroupSpec::new("x2").strategy(Routing::BestSkilled),
    ));
    run(Command::RegisterGroup(
        GroupSpec::new("x0")
            .strategy(Routing::LeastLoaded)
            .overflow(&["x1"], 30)
            .agent_cap(3),
    ));
    run(Command::RegisterAgent(
        AgentSpec::new("x0")
            .status(AgentStatus::Offline)
            .limit(3)
            .group("x0")
            .schedule("x0")
            .skill("en", 7)
            .skill("fr", 3),
    ));
    run(Command::RegisterAgent(
        AgentSpec::new("x1")
            .status(AgentStatus::Busy)
            .limit(1)
            .group("x1")
            .group("x0")
            .group("x2")
            .skill("en", 10)
            .skill("de", 2),
    ));
    let arrive = |c: &str| Command::VisitorArrives(Arrival::new(c, format!("v{c}"), "x0"));
    let accept = |c: &str, a: &str| Command::AcceptOffer {
        conversation: c.into(),
        agent: a.into(),
    };
    let reply = |c: &str| Command::Message {
        conversation: c.into(),
        from: Sender::AgentReply,
    };
    for c in ["x0", "x1", "x2"] {
        run(arrive(c));
    }
    // x0 comes online and is offered all three at once.
    run(Command::AgentStatusChanged {
        agent: "x0".into(),
        status: AgentStatus::Online,
    });
    run(accept("x1", "x0"));
    run(accept("x2", "x0"));
    run(reply("x2"));
    if asynchronous {
        run(Command::Snooze {
            conversations: vec!["x1".into()],
            until: now + TimeDelta::hours(2),
        });
        run(arrive("x3"));
        run(arrive("p4"));
    } else {
        run(Command::VisitorArrives(
            Arrival::new("x3", "vx3", "x0")
                .priority(2)
                .designated(Target::Agent("x1".into())),
        ));
        for c in ["q4", "q5", "q6"] {
            run(arrive(c));
        }
        run(Command::VisitorLeaves {
            conversation: "q4".into(),
        });
        run(Command::EndConversations {
            conversations: vec!["q5".into()],
            reason: EndReason::Admin,
        });
        run(Command::LeaveMessage {
            conversation: "q6".into(),
        });
    }
    // Work of the other kind, which no one has room for: it waits.
    run(Command::VisitorArrives(
        Arrival::new("k7", "vk7", "x0").kind("k1"),
    ));
    // Work in stages (R-SK2), which no one has room for: it waits, and a millisecond later
    // enters its second stage, which joins two groups and arms the third.
    run(Command::VisitorArrives(
        Arrival::new("s8", "vs8", "x0")
            .stage(Stage::new().require("en", 9).prefer("fr", 2).for_ms(1))
            .stage(
                Stage::new()
                    .require("en", 3)
                    .require("de", 1)
                    .prefer("fr", 5)
                    .group("x2")
                    .group("x1")
                    .for_ms(3_600_000),
            )
            .stage(Stage::new().prefer("de", 10)),
    ));
    let later = now + TimeDelta::milliseconds(1);
    if let Err(e) = engine.handle(later, Command::Tick) {
        panic!("the rich desk's tick failed: {e}");
    }
    let staged = engine.conversation("s8").expect("s8 is open");
    assert_eq!(staged.stage, Some(1), "s8 waits in its second stage");
    let snapshot = serde_json::to_value(engine.snapshot()).expect("serializes");
    let joined = nodes(&snapshot)
        .into_iter()
        .filter(|(p, k)| k == "joined" && snapshot.pointer(p).is_some_and(Value::is_array))
        .map(|(p, _)| {
            snapshot
                .pointer(&p)
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum::<usize>();
    assert_eq!(joined, 2, "s8 joined its stage's two groups");
    engine
}

/// One edit of a snapshot's JSON. Each `Index` picks among the nodes the edit applies to.
#[derive(Clone, Debug)]
enum Edit {
    /// A scalar (number, string, bool, null) becomes an edge value of its type.
    Scalar(prop::sample::Index, prop::sample::Index),
    /// A number moves by a little.
    Nudge(prop::sample::Index, i64),
    /// A node takes the value of another node under the same key, here or in the donor.
    Swap(prop::sample::Index, prop::sample::Index),
    /// An enum variant (a string, or an object's only key) becomes another of its enum.
    Variant(prop::sample::Index, prop::sample::Index),
    /// A numeric key of a map (an agent's, a group's, a schedule's) moves by a little.
    Rekey(prop::sample::Index, i64),
    /// A list entry is duplicated.
    Duplicate(prop::sample::Index),
    /// A list entry or a map entry (an agent, a group, ...) is dropped.
    Remove(prop::sample::Index),
}

/// The variant names of the snapshot's enums, by enum.
const VARIANTS: &[&[&str]] = &[
    &[
        "ShiftBoundary",
        "SnoozeEnds",
        "OfferExpires",
        "FirstReplyTimeout",
        "MaxWait",
        "Overflow",
        "Stage",
        "SlaWarning",
        "SlaBreach",
        "InactivityReminder",
        "InactivityEnd",
    ],
    &[
        "Routing",
        "Queued",
        "Pooled",
        "Offered",
        "Active",
        "Snoozed",
        "Abandoned",
        "TurnedAway",
        "LeftMessage",
        "Ended",
    ],
    &["Online", "Busy", "ShortBreak", "Offline", "Custom"],
    &[
        "LeastRecentlyAssigned",
        "RoundRobin",
        "LeastLoaded",
        "AgentPriority",
        "BestSkilled",
    ],
    &["RealTime", "Asynchronous"],
    &["AllAgents", "OnlineOnly"],
    &["OldestFirst", "NewestFirst", "PriorityThenOldest"],
    &["Agent", "Visitor", "Admin", "Inactivity"],
    &["QueueFull", "MaxWait"],
    &["FirstReply", "NextReply"],
    &["Agent", "Group"],
];

fn family(name: &str) -> Option<&'static [&'static str]> {
    VARIANTS.iter().copied().find(|f| f.contains(&name))
}

/// Edge values of the scalar's own type: for a number the ends of the number ranges, either
/// side of the engine's 2⁶² bound and of the skill levels (1..=10, u8); for an instant
/// chrono's first and last ones; for a string an id the random commands use, a declared
/// skill, an undeclared one and the empty one; for a bool the other one; for a
/// null (an unset option) a small number, an id or an instant.
fn edges(scalar: &Value) -> Vec<Value> {
    let time = |t: DateTime<Utc>| serde_json::to_value(t).expect("serializes");
    match scalar {
        Value::Number(_) => vec![
            Value::from(0),
            Value::from(1),
            Value::from(2),
            Value::from(10),
            Value::from(11),
            Value::from(255),
            Value::from(-1),
            Value::from(1u64 << 31),
            Value::from(u32::MAX),
            Value::from(u64::from(u32::MAX) + 1),
            Value::from((1u64 << 62) - 1),
            Value::from(1u64 << 62),
            Value::from((1u64 << 62) + 1),
            Value::from(i64::MAX),
            Value::from(u64::MAX),
        ],
        Value::String(s) if s.parse::<DateTime<Utc>>().is_ok() => vec![
            time(DateTime::<Utc>::MIN_UTC),
            time(DateTime::<Utc>::MAX_UTC),
            time(t0()),
            time(t0() + TimeDelta::days(400)),
        ],
        Value::String(_) => vec![
            Value::from("x0"),
            Value::from("x1"),
            Value::from(""),
            Value::from("en"),
            Value::from("zz"),
        ],
        Value::Bool(b) => vec![Value::Bool(!b)],
        _ => vec![
            Value::from(0),
            Value::from(1),
            Value::from("x0"),
            time(t0()),
        ],
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        3 => (index(), index()).prop_map(|(i, v)| Edit::Scalar(i, v)),
        2 => (index(), prop_oneof![Just(-1i64), Just(1), -3i64..=3]).prop_map(|(i, d)| Edit::Nudge(i, d)),
        4 => (index(), index()).prop_map(|(i, j)| Edit::Swap(i, j)),
        8 => (index(), index()).prop_map(|(i, j)| Edit::Variant(i, j)),
        1 => (index(), prop_oneof![Just(-1i64), Just(1)]).prop_map(|(i, d)| Edit::Rekey(i, d)),
        2 => index().prop_map(Edit::Duplicate),
        1 => index().prop_map(Edit::Remove),
    ]
}

/// Every node below the root but the version: its JSON pointer and the key it sits under (a
/// list's entries sit under the list's key).
fn nodes(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, pointer: &str, key: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    if p != "/version" {
                        out.push((p.clone(), k.clone()));
                        walk(child, &p, k, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    out.push((p.clone(), key.to_string()));
                    walk(child, &p, key, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", "", &mut out);
    out
}

/// The pointer of a node's parent, and the node's last step.
fn split(pointer: &str) -> (&str, String) {
    let at = pointer.rfind('/').unwrap_or(0);
    let step = pointer[at + 1..].replace("~1", "/").replace("~0", "~");
    (&pointer[..at], step)
}

fn apply(value: &mut Value, donor: &Value, edit: &Edit) {
    let all = nodes(value);
    let pick = |candidates: &[(String, String)], i: &prop::sample::Index| {
        (!candidates.is_empty()).then(|| candidates[i.index(candidates.len())].clone())
    };
    let is_scalar = |v: &Value| !v.is_object() && !v.is_array();
    let of = |filter: &dyn Fn(&Value, &str) -> bool| -> Vec<(String, String)> {
        all.iter()
            .filter(|(p, k)| value.pointer(p).is_some_and(|v| filter(v, k)))
            .cloned()
            .collect()
    };
    match edit {
        Edit::Scalar(i, j) => {
            if let Some((p, _)) = pick(&of(&|v, _| is_scalar(v)), i) {
                let node = value.pointer_mut(&p).expect("a node");
                let edges = edges(node);
                *node = edges[j.index(edges.len())].clone();
            }
        }
        Edit::Nudge(i, by) => {
            if let Some((p, _)) = pick(&of(&|v, _| v.is_number()), i) {
                let node = value.pointer_mut(&p).expect("a node");
                *node = match (node.as_u64(), node.as_i64()) {
                    (Some(n), _) => Value::from(n.saturating_add_signed(*by)),
                    (_, Some(n)) => Value::from(n.saturating_add(*by)),
                    _ => node.clone(),
                };
            }
        }
        Edit::Swap(i, j) => {
            let Some((p, key)) = pick(&all, i) else {
                return;
            };
            let current = value.pointer(&p).cloned();
            let sources: Vec<Value> = nodes(value)
                .into_iter()
                .map(|(q, k)| (value.pointer(&q).cloned(), k))
                .chain(
                    nodes(donor)
                        .into_iter()
                        .map(|(q, k)| (donor.pointer(&q).cloned(), k)),
                )
                .filter(|(v, k)| *k == key && v.is_some() && *v != current)
                .filter_map(|(v, _)| v)
                .collect();
            if !sources.is_empty() {
                *value.pointer_mut(&p).expect("a node") = sources[j.index(sources.len())].clone();
            }
        }
        Edit::Variant(i, j) => {
            let named = |v: &Value| match v {
                Value::String(s) => family(s).is_some(),
                Value::Object(map) => map.len() == 1 && map.keys().all(|k| family(k).is_some()),
                _ => false,
            };
            let Some((p, _)) = pick(&of(&|v, _| named(v)), i) else {
                return;
            };
            let node = value.pointer_mut(&p).expect("a node");
            match node {
                Value::String(s) => {
                    let names = family(s).expect("a variant");
                    *s = names[j.index(names.len())].to_string();
                }
                Value::Object(map) => {
                    let Some((name, inner)) =
                        map.iter().next().map(|(k, v)| (k.clone(), v.clone()))
                    else {
                        return;
                    };
                    let names = family(&name).expect("a variant");
                    map.clear();
                    map.insert(names[j.index(names.len())].to_string(), inner);
                }
                _ => {}
            }
        }
        Edit::Rekey(i, by) => {
            let numeric = of(&|_, k| k.parse::<u64>().is_ok());
            let Some((p, key)) = pick(&numeric, i) else {
                return;
            };
            let (parent, _) = split(&p);
            let parent = parent.to_string();
            if let Some(Value::Object(map)) = value.pointer_mut(&parent) {
                let n: u64 = key.parse().expect("numeric");
                let moved = n.saturating_add_signed(*by).to_string();
                if !map.contains_key(&moved)
                    && let Some(v) = map.remove(&key)
                {
                    map.insert(moved, v);
                }
            }
        }
        Edit::Duplicate(i) => {
            let entries = of(&|_, _| true);
            let entries: Vec<_> = entries
                .into_iter()
                .filter(|(p, _)| value.pointer(split(p).0).is_some_and(Value::is_array))
                .collect();
            let Some((p, _)) = pick(&entries, i) else {
                return;
            };
            let (parent, step) = split(&p);
            let entry = value.pointer(&p).cloned().expect("a node");
            if let (Some(Value::Array(items)), Ok(at)) =
                (value.pointer_mut(parent), step.parse::<usize>())
            {
                items.insert(at + 1, entry);
            }
        }
        Edit::Remove(i) => {
            let entries: Vec<_> = all
                .iter()
                .filter(|(p, k)| {
                    k.parse::<u64>().is_ok()
                        || value.pointer(split(p).0).is_some_and(Value::is_array)
                })
                .cloned()
                .collect();
            let Some((p, _)) = pick(&entries, i) else {
                return;
            };
            let (parent, step) = split(&p);
            match value.pointer_mut(parent) {
                Some(Value::Array(items)) => {
                    if let Ok(at) = step.parse::<usize>() {
                        items.remove(at);
                    }
                }
                Some(Value::Object(map)) => {
                    map.remove(&step);
                }
                _ => {}
            }
        }
    }
}

/// Runs `f` on the engine; a panic fails the case with the log.
fn calmly<T>(what: &str, log: &[String], f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        TestCaseError::fail(format!("R-C5: {what} panicked after:\n{}", log.join("\n")))
    })
}

/// The engine's own snapshot restores to the same state (R-C6), unless a command after a
/// restore just below the engine's number bound pushed a number past it.
fn round_trip(engine: &Engine, log: &[String]) -> Result<(), TestCaseError> {
    let text = json(&engine.snapshot());
    let snapshot: Snapshot = serde_json::from_str(&text).expect("a snapshot deserializes");
    match calmly("restoring the engine's own snapshot", log, || {
        Engine::restore(snapshot)
    })? {
        Ok(restored) if json(&restored.snapshot()) == text => Ok(()),
        Ok(_) => Err(TestCaseError::fail(format!(
            "R-C6: restoring the engine's own snapshot changed it, after:\n{}",
            log.join("\n")
        ))),
        Err(Error::CorruptSnapshot { problem }) if problem.contains("out of range") => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!(
            "R-C6: the engine's own snapshot is refused ({e}), after:\n{}",
            log.join("\n")
        ))),
    }
}

/// Drives an engine restored from a tampered snapshot: queries, ticks far ahead, config
/// updates and mode switches both ways, then random commands; each on its own copy, each
/// ending in a snapshot round trip.
fn drive(
    mut engine: Engine,
    after: Vec<(DateTime<Utc>, Command)>,
    log: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    calmly("a query", log, || ask_everything(&engine))?;
    round_trip(&engine, log)?;
    let now = engine.now().unwrap_or_else(t0);
    let later = |by: TimeDelta| {
        now.checked_add_signed(by)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    let mut ticks = engine.clone();
    for at in [
        now,
        later(TimeDelta::hours(1)),
        later(TimeDelta::days(9)),
        DateTime::<Utc>::MAX_UTC,
    ] {
        survive(&mut ticks, at, Command::Tick, log)?;
    }
    round_trip(&ticks, log)?;
    let mut configs = engine.clone();
    let config = engine.config().clone();
    let mut quiet = config.clone();
    quiet.sla = Sla::default();
    quiet.inactivity = Inactivity::default();
    quiet.queue.max_wait_secs = None;
    quiet.reception.first_reply_timeout_secs = None;
    quiet.reception.auto_accept = !config.reception.auto_accept;
    quiet.snoozed_count_toward_load = !config.snoozed_count_toward_load;
    // Dropping skills the agents hold or the stages name is refused (SkillInUse), unless the
    // tampering left none in use.
    let mut fewer = config.clone();
    fewer.skills.pop();
    let mut none = config.clone();
    none.skills.clear();
    let mode = |asynchronous| Command::SetReceptionMode {
        mode: if asynchronous {
            ReceptionMode::Asynchronous
        } else {
            ReceptionMode::RealTime
        },
    };
    let asynchronous = config.mode == ReceptionMode::Asynchronous;
    for command in [
        Command::UpdateConfig(config.clone()),
        mode(!asynchronous),
        mode(asynchronous),
        mode(!asynchronous),
        Command::UpdateConfig(quiet),
        Command::UpdateConfig(fewer),
        Command::UpdateConfig(none),
        Command::UpdateConfig(config),
        Command::Tick,
    ] {
        survive(&mut configs, later(TimeDelta::minutes(1)), command, log)?;
    }
    round_trip(&configs, log)?;
    for (at, command) in after {
        survive(&mut engine, at, command, log)?;
    }
    survive(&mut engine, DateTime::<Utc>::MAX_UTC, Command::Tick, log)?;
    round_trip(&engine, log)
}

/// R-C6, R-SK1: the engine's own snapshot restores after a config update drops a skill that
/// only a closed conversation's stages name (allowed: only open conversations keep a skill in
/// use). Found by `r_c5_no_input_panics_the_engine`; restore refused it before the fix.
#[test]
fn r_c6_r_sk1_a_closed_conversation_may_name_a_dropped_skill() {
    let config = Config {
        skills: vec!["en".into(), "fr".into()],
        ..Config::default()
    };
    let mut engine = Engine::new(config.clone()).expect("a valid config");
    let now = t0();
    for command in [
        Command::RegisterGroup(GroupSpec::new("g")),
        Command::VisitorArrives(Arrival::new("c", "v", "g").require("fr", 1)),
        Command::VisitorLeaves {
            conversation: "c".into(),
        },
        Command::UpdateConfig(Config {
            skills: vec!["en".into()],
            ..config
        }),
    ] {
        let outcome = engine.handle(now, command).expect("accepted");
        assert!(outcome.all_succeeded());
    }
    let text = json(&engine.snapshot());
    let snapshot: Snapshot = serde_json::from_str(&text).expect("a snapshot deserializes");
    let restored = Engine::restore(snapshot).expect("the engine's own snapshot restores");
    assert_eq!(json(&restored.snapshot()), text);
}
