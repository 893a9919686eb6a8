//! No input panics the engine (R-C5), and a refused command changes nothing (R-C4): random
//! sequences of arbitrary commands, with no model. Ids collide, are empty or huge; batches are
//! empty or thousands long; times sit at the edges of chrono's range and jump about; configs,
//! limits, priorities and timeouts take their extreme values; schedules name odd time zones
//! and ranges. After every command every query is asked too. A second property restores
//! engines from tampered snapshots and drives them on.
//!
//! Runs `PROPTEST_CASES` cases (64 when unset, as in CI). Failures persist to
//! `proptest-regressions/no_panic.txt`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AllocationTarget, Arrival, Command, Config, CustomStatus,
    EndReason, Engine, GroupSpec, GroupUpdate, Inactivity, LastAgent, Limit, Membership, Overflow,
    PoolOrder, QueueConfig, Reception, ReceptionMode, ScheduleSpec, Sender, Sla, Snapshot,
    Strategy as Routing, Target, WeeklyRange,
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

fn config() -> BoxedStrategy<Config> {
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
            },
        )
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
                c.sla.warn_before_secs = None;
            }
            if c.validate().is_err() {
                c.inactivity.reminder_after_secs = None;
            }
            if c.validate().is_err() {
                c.custom_statuses.clear();
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
        6 => (id(), id(), id(), any::<u8>(), prop::option::of(target())).prop_map(
            |(c, v, g, priority, designated)| Command::VisitorArrives(Arrival {
                conversation: c.into(),
                visitor: v.into(),
                group: g.into(),
                priority,
                designated,
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
        2 => (id(), status(), limit(), memberships(), prop::collection::vec(id(), 0..2)).prop_map(
            |(a, status, limit, groups, schedules)| Command::RegisterAgent(AgentSpec {
                agent: a.into(),
                status,
                limit,
                groups,
                schedules: schedules.into_iter().map(Into::into).collect(),
            })
        ).boxed(),
        2 => (id(), prop::option::of(limit()), prop::option::of(memberships()), prop::option::of(prop::collection::vec(id(), 0..2)))
            .prop_map(|(a, limit, groups, schedules)| Command::UpdateAgent(AgentUpdate {
                agent: a.into(),
                limit,
                groups,
                schedules: schedules.map(|s| s.into_iter().map(Into::into).collect()),
            })).boxed(),
        1 => id().prop_map(|a| Command::RemoveAgent { agent: a.into() }).boxed(),
        2 => (id(), 0usize..4, limit(), prop::option::of((prop::collection::vec(id(), 0..3), big_u64())))
            .prop_map(|(g, s, limit, overflow)| Command::RegisterGroup(GroupSpec {
                group: g.into(),
                strategy: [Routing::LeastRecentlyAssigned, Routing::RoundRobin, Routing::LeastLoaded, Routing::AgentPriority][s],
                limit,
                overflow: overflow.map(|(groups, after_secs)| Overflow {
                    groups: groups.into_iter().map(Into::into).collect(),
                    after_secs,
                }),
            })).boxed(),
        1 => (id(), prop::option::of(0usize..4), prop::option::of(limit()), prop::option::of((prop::collection::vec(id(), 0..3), big_u64())))
            .prop_map(|(g, s, limit, overflow)| Command::UpdateGroup(GroupUpdate {
                group: g.into(),
                strategy: s.map(|s| [Routing::LeastRecentlyAssigned, Routing::RoundRobin, Routing::LeastLoaded, Routing::AgentPriority][s]),
                limit,
                overflow: overflow.map(|(groups, after_secs)| Overflow {
                    groups: groups.into_iter().map(Into::into).collect(),
                    after_secs,
                }),
            })).boxed(),
        1 => id().prop_map(|g| Command::RemoveGroup { group: g.into() }).boxed(),
        2 => prop_oneof![config(), valid_config()].prop_map(Command::UpdateConfig).boxed(),
        1 => batch().prop_map(|c| Command::Forget { conversations: ids(c) }).boxed(),
        1 => id().prop_map(|v| Command::ForgetVisitor { visitor: v.into() }).boxed(),
    ].boxed()
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
        steps in prop::collection::vec((time(), command()), 1..80),
    ) {
        let mut engine = match catch_unwind(|| Engine::new(start.clone())) {
            Ok(Ok(engine)) => engine,
            Ok(Err(_)) => Engine::new(Config::default()).expect("the default config is valid"),
            Err(_) => return Err(TestCaseError::fail(format!("Engine::new panicked on {start:?}"))),
        };
        let mut log = Vec::new();
        for (at, command) in steps {
            survive(&mut engine, at, command, &mut log)?;
        }
        let text = json(&engine.snapshot());
        let snapshot: Snapshot = serde_json::from_str(&text).expect("a snapshot deserializes");
        let restored = Engine::restore(snapshot).expect("a live snapshot restores");
        prop_assert_eq!(json(&restored.snapshot()), text);
    }

    /// R-C5, R-C6: restoring a tampered snapshot (a number or a string changed) never panics:
    /// it is refused, or it restores to an engine that then handles commands without panics.
    #[test]
    fn r_c5_tampered_snapshots_never_panic(
        setup in prop::collection::vec((time(), command()), 1..40),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop_oneof![
            Just("0".to_string()), Just("1".to_string()), Just("18446744073709551615".to_string()),
            Just("-1".to_string()), Just("4611686018427387905".to_string()), Just("\"x0\"".to_string()),
            Just("null".to_string()), Just("[]".to_string()), Just("\"+262142-12-31T23:59:59Z\"".to_string()),
        ]), 1..4),
        after in prop::collection::vec((time(), command()), 1..20),
    ) {
        let mut engine = Engine::new(Config::default()).expect("valid");
        let mut log = Vec::new();
        for (at, command) in setup {
            survive(&mut engine, at, command, &mut log)?;
        }
        let mut text = json(&engine.snapshot());
        for (at, value) in &edits {
            // Replace one scalar (a number, or a string) with another value.
            let scalars: Vec<(usize, usize)> = scalar_spans(&text);
            if scalars.is_empty() {
                break;
            }
            let (from, to) = scalars[at.index(scalars.len())];
            text.replace_range(from..to, value);
        }
        let Ok(snapshot) = serde_json::from_str::<Snapshot>(&text) else {
            return Ok(());
        };
        let restored = catch_unwind(AssertUnwindSafe(|| Engine::restore(snapshot)));
        let mut engine = match restored {
            Err(_) => return Err(TestCaseError::fail(format!("Engine::restore panicked on\n{text}"))),
            Ok(Err(_)) => return Ok(()),
            Ok(Ok(engine)) => engine,
        };
        log.push(format!("-- restored from a tampered snapshot:\n{text}"));
        if catch_unwind(AssertUnwindSafe(|| ask_everything(&engine))).is_err() {
            return Err(TestCaseError::fail(format!("a query panicked after restoring\n{text}")));
        }
        for (at, command) in after {
            survive(&mut engine, at, command, &mut log)?;
        }
    }
}

/// The byte spans of the JSON scalars (numbers and strings) in `text`.
fn scalar_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                // A string followed by ':' is an object key: leave keys alone.
                if bytes.get(i) != Some(&b':') {
                    spans.push((start, i.min(bytes.len())));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                spans.push((start, i));
            }
            _ => i += 1,
        }
    }
    spans
}
