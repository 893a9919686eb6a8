//! The two reception modes (R-M1) and the asynchronous allocation target (R-M2), after the
//! Sobot seed "Asynchronous Reception Mode": a visitor never waits in line and never leaves a
//! message; who gets automatic work is all agents (status ignored, limit kept) or online agents
//! only; the mode switches at run time, moving waiting work between queue and pool and lifting
//! snoozes.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AllocationTarget, Arrival, AssignReason, Command, Config,
    ConversationState, DrainTrigger, Error, Event, PoolReason, ReceptionMode, Strategy,
    TurnAwayReason, WakeReason,
};

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

fn async_config() -> Config {
    Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn set_mode(desk: &mut Desk, mode: ReceptionMode) -> Vec<Event> {
    desk.run(Command::SetReceptionMode { mode }).events
}

fn state(desk: &Desk, conversation: &str) -> ConversationState {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .state
}

fn pool(desk: &Desk) -> Vec<String> {
    desk.engine.pool().map(|c| c.to_string()).collect()
}

fn pooled(conversation: &str, group: &str, reason: PoolReason) -> Event {
    Event::ConversationPooled {
        conversation: conversation.into(),
        group: group.into(),
        reason,
    }
}

fn agent_with_status(desk: &mut Desk, id: &str, status: AgentStatus, limit: u32) {
    desk.register(
        AgentSpec::new(id)
            .status(status)
            .limit(limit)
            .group("support"),
    );
}

/// The events of one kind, by a predicate.
fn count(events: &[Event], pred: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

// R-M1: in asynchronous mode every conversation is accepted at once: assigned, or put in the
// unassigned pool. Queue limits and leave-a-message settings that would turn a visitor away
// in real-time mode do nothing here.
#[test]
fn r_m1_async_mode_assigns_or_pools_and_never_queues_or_offers_leave_message() {
    let strict = |mode| {
        let mut config = Config {
            mode,
            ..Config::default()
        };
        config.queue.max_length = Some(1);
        config.queue.long_queue_threshold = Some(1);
        config.queue.max_wait_secs = Some(60);
        config
    };

    // Real time, for contrast: the second visitor queues and is offered to leave a message,
    // the third is turned away from the full queue.
    let mut rt = Desk::with_config(strict(ReceptionMode::RealTime));
    rt.group("support", LRA);
    rt.agent("ana", 1, &["support"]);
    for c in ["c1", "c2", "c3"] {
        rt.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(rt.queue("support"), ["c2"]);
    assert_eq!(
        count(&rt.events, |e| matches!(
            e,
            Event::LeaveMessageOffered { .. }
        )),
        2
    );
    assert!(matches!(
        state(&rt, "c3"),
        ConversationState::TurnedAway { .. }
    ));

    // Asynchronous, the same desk: one assigned, two pooled, nothing else.
    let mut desk = Desk::with_config(strict(ReceptionMode::Asynchronous));
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    let first = desk.arrive("c1", "v-c1", "support").events;
    assert_eq!(pairs(&first), [("c1".to_string(), "ana".to_string())]);
    for c in ["c2", "c3"] {
        let events = desk.arrive(c, &format!("v-{c}"), "support").events;
        assert_eq!(
            events,
            [
                Event::ConversationArrived {
                    conversation: c.into(),
                    visitor: format!("v-{c}").into(),
                    group: "support".into(),
                    priority: 0,
                    kind: "default".into()
                },
                pooled(c, "support", PoolReason::NoAgentAvailable),
            ]
        );
        assert_eq!(state(&desk, c), ConversationState::Pooled);
        let view = desk.engine.conversation(c).expect("known");
        assert_eq!(
            view.position, None,
            "a pooled conversation has no queue position"
        );
    }
    assert_eq!(pool(&desk), ["c2", "c3"]);
    let counters = desk.engine.counters();
    assert_eq!(
        (counters.pooled, counters.queued, counters.waiting),
        (2, 0, 2)
    );
    assert_eq!(counters.turned_away, 0);
    assert!(!desk.events.iter().any(|e| matches!(
        e,
        Event::ConversationQueued { .. }
            | Event::LeaveMessageOffered { .. }
            | Event::ConversationTurnedAway { .. }
    )));
    // No queue wait is timed in the pool: an hour later both still wait.
    assert_eq!(desk.engine.next_deadline(), None);
    desk.advance(TimeDelta::hours(1));
    assert_eq!(pool(&desk), ["c2", "c3"]);
    // Leave-a-message exists in real-time mode only.
    assert_eq!(
        desk.refuse(Command::LeaveMessage {
            conversation: "c2".into()
        }),
        Error::WrongMode {
            operation: "leave a message".into(),
            mode: "asynchronous".into()
        }
    );
}

// R-M1: switching to asynchronous mode moves the queued conversations to the pool in arrival
// order (whatever their queue order), and switching back puts them in the queue again, in
// arrival order, each at its queue position.
#[test]
fn r_m1_switching_modes_moves_waiting_work_between_queue_and_pool_in_arrival_order() {
    let mut desk = Desk::new();
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    for (c, priority) in [("c1", 0), ("c2", 5), ("c3", 0)] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive_as(Arrival::new(c, format!("v-{c}"), "support").priority(priority));
    }
    assert_eq!(desk.queue("support"), ["c2", "c1", "c3"]);

    let events = set_mode(&mut desk, ReceptionMode::Asynchronous);
    let tail: Vec<Event> = events
        .iter()
        .skip_while(|e| !matches!(e, Event::ReceptionModeChanged { .. }))
        .cloned()
        .collect();
    assert_eq!(
        tail,
        [
            Event::ReceptionModeChanged {
                from: ReceptionMode::RealTime,
                to: ReceptionMode::Asynchronous,
            },
            pooled("c1", "support", PoolReason::ModeChanged),
            pooled("c2", "support", PoolReason::ModeChanged),
            pooled("c3", "support", PoolReason::ModeChanged),
        ]
    );
    assert_eq!(pool(&desk), ["c1", "c2", "c3"], "oldest first, the default");
    for c in ["c1", "c2", "c3"] {
        assert_eq!(state(&desk, c), ConversationState::Pooled);
    }
    assert_eq!(desk.engine.config().mode, ReceptionMode::Asynchronous);
    assert_eq!(desk.holder("c0").as_deref(), Some("ana"));
    assert_eq!(desk.engine.counters().waiting, 3);

    let events = set_mode(&mut desk, ReceptionMode::RealTime);
    let queued: Vec<(String, u32)> = events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationQueued {
                conversation,
                position,
                ..
            } => Some((conversation.to_string(), *position)),
            _ => None,
        })
        .collect();
    assert_eq!(
        queued,
        [
            ("c1".to_string(), 2),
            ("c2".to_string(), 1),
            ("c3".to_string(), 3)
        ],
        "in arrival order, each told its place in the priority-ordered queue"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::QueuePositionChanged { .. })),
        "each was told its position once, by its Queued event"
    );
    assert!(events.contains(&Event::ReceptionModeChanged {
        from: ReceptionMode::Asynchronous,
        to: ReceptionMode::RealTime,
    }));
    assert_eq!(desk.queue("support"), ["c2", "c1", "c3"]);
    assert!(pool(&desk).is_empty());
    assert_eq!(state(&desk, "c1"), ConversationState::Queued);
    let c1 = desk.engine.conversation("c1").expect("known");
    assert_eq!(c1.position, Some(2));
    // Real-time draining is back: ana finishes c0 and takes the queue's head.
    assert_eq!(
        pairs(&desk.end("c0").events),
        [("c2".to_string(), "ana".to_string())]
    );
}

// R-M1: the queue's maximum wait is a real-time timer: it stops when the conversation moves to
// the pool and starts afresh when it comes back to the queue.
#[test]
fn r_m1_queue_max_wait_stops_in_the_pool_and_restarts_in_the_queue() {
    let mut config = Config::default();
    config.queue.max_wait_secs = Some(300);
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.engine.next_deadline(), Some(at(300)));

    desk.now = at(60);
    set_mode(&mut desk, ReceptionMode::Asynchronous);
    assert_eq!(desk.engine.next_deadline(), None);
    let events = desk.advance(TimeDelta::minutes(30));
    assert!(
        events.is_empty(),
        "nothing is timed in the pool: {events:?}"
    );
    assert_eq!(pool(&desk), ["c1"]);

    let switched = desk.now;
    set_mode(&mut desk, ReceptionMode::RealTime);
    assert_eq!(
        desk.engine.next_deadline(),
        Some(switched + TimeDelta::seconds(300))
    );
    let events = desk.advance(TimeDelta::seconds(299));
    assert!(events.is_empty());
    let events = desk.advance(TimeDelta::seconds(1));
    assert!(events.iter().any(|e| matches!(e,
        Event::ConversationTurnedAway { conversation, reason: TurnAwayReason::MaxWait }
            if conversation.as_str() == "c1")));
}

// R-M1, R-M2: switching to asynchronous mode with all agents as the target hands the pool to
// agents that real-time mode skipped for their status, at once.
#[test]
fn r_m1_r_m2_switching_to_async_with_all_agents_fills_offline_agents_from_the_pool() {
    let mut desk = Desk::new();
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    agent_with_status(&mut desk, "bo", AgentStatus::Offline, 2);
    for c in ["c0", "c1", "c2", "c3"] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(desk.queue("support"), ["c1", "c2", "c3"], "bo is offline");

    let events = set_mode(&mut desk, ReceptionMode::Asynchronous);
    assert_eq!(
        assignments(&events),
        [
            (
                "c1".to_string(),
                "bo".to_string(),
                AssignReason::Drain {
                    trigger: DrainTrigger::ConfigUpdated
                }
            ),
            (
                "c2".to_string(),
                "bo".to_string(),
                AssignReason::Drain {
                    trigger: DrainTrigger::ConfigUpdated
                }
            ),
        ]
    );
    // Each was pooled before it was taken (causal order), c3 stays.
    let pooled_c1 = events
        .iter()
        .position(|e| *e == pooled("c1", "support", PoolReason::ModeChanged))
        .expect("c1 pooled");
    let assigned_c1 = events
        .iter()
        .position(|e| matches!(e, Event::ConversationAssigned { conversation, .. } if conversation.as_str() == "c1"))
        .expect("c1 assigned");
    assert!(pooled_c1 < assigned_c1);
    assert_eq!(pool(&desk), ["c3"]);
    assert_eq!(desk.load("bo"), (2, 2), "status ignored, limit kept");
    assert_eq!(desk.engine.agent_status("bo"), Some(&AgentStatus::Offline));
}

// R-M1, R-Z2: leaving asynchronous mode lifts every snooze, with reason ModeChanged, and drops
// the snooze deadlines; snooze is then refused.
#[test]
fn r_m1_switching_to_real_time_lifts_snoozes_with_reason_mode_changed() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 3, &["support"]);
    for c in ["c1", "c2", "c3"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let until = at(3600);
    let outcome = desk.run(Command::Snooze {
        conversations: conversation_ids(&["c1", "c3"]),
        until,
    });
    assert!(outcome.all_succeeded());
    assert_eq!(desk.engine.snoozed().count(), 2);
    assert_eq!(desk.engine.next_deadline(), Some(until));

    desk.now = at(60);
    let events = set_mode(&mut desk, ReceptionMode::RealTime);
    let woke: Vec<Event> = events
        .iter()
        .filter(|e| matches!(e, Event::ConversationWoke { .. }))
        .cloned()
        .collect();
    assert_eq!(
        woke,
        [
            Event::ConversationWoke {
                conversation: "c1".into(),
                agent: "ana".into(),
                reason: WakeReason::ModeChanged,
            },
            Event::ConversationWoke {
                conversation: "c3".into(),
                agent: "ana".into(),
                reason: WakeReason::ModeChanged,
            },
        ]
    );
    assert_eq!(desk.engine.snoozed().count(), 0);
    for c in ["c1", "c2", "c3"] {
        assert_eq!(desk.holder(c).as_deref(), Some("ana"));
    }
    let counters = desk.engine.counters();
    assert_eq!((counters.snoozed, counters.active), (0, 3));
    assert_eq!(
        desk.engine.next_deadline(),
        None,
        "the snooze deadline is gone"
    );
    desk.now = until;
    assert!(desk.run(Command::Tick).events.is_empty());

    assert_eq!(
        desk.refuse(Command::Snooze {
            conversations: conversation_ids(&["c2"]),
            until: at(7200),
        }),
        Error::WrongMode {
            operation: "snooze".into(),
            mode: "real-time".into()
        }
    );
}

// R-M1: switching to the mode the engine is in moves nothing.
#[test]
fn r_m1_setting_the_current_mode_again_moves_nothing() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    let events = set_mode(&mut desk, ReceptionMode::Asynchronous);
    assert!(!events.iter().any(|e| matches!(
        e,
        Event::ReceptionModeChanged { .. }
            | Event::ConversationPooled { .. }
            | Event::ConversationAssigned { .. }
    )));
    assert_eq!(pool(&desk), ["c2"]);
    assert_eq!(desk.engine.counters().pooled, 1);
}

// R-M2: with all agents as the target (the default), status is ignored but the limit is kept:
// offline and busy agents get conversations up to their limits, then the pool fills.
#[test]
fn r_m2_all_agents_target_ignores_status_and_keeps_the_limit() {
    let mut desk = Desk::with_config(async_config());
    assert_eq!(
        desk.engine.config().allocation_target,
        AllocationTarget::AllAgents
    );
    desk.group("support", LRA);
    agent_with_status(&mut desk, "ana", AgentStatus::Offline, 1);
    agent_with_status(&mut desk, "bo", AgentStatus::Busy, 2);
    for c in ["c1", "c2", "c3", "c4"] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let strategy = AssignReason::Strategy { strategy: LRA };
    assert_eq!(
        assignments(&desk.events),
        [
            ("c1".to_string(), "ana".to_string(), strategy.clone()),
            ("c2".to_string(), "bo".to_string(), strategy.clone()),
            ("c3".to_string(), "bo".to_string(), strategy),
        ]
    );
    assert_eq!(pool(&desk), ["c4"]);
    assert_eq!(desk.load("ana"), (1, 1));
    assert_eq!(desk.load("bo"), (2, 2));

    // A status change is no trigger under this target: ana coming online takes nothing.
    let events = desk.status("ana", AgentStatus::Online).events;
    assert!(pairs(&events).is_empty());
    // A freed place is: bo (still busy) finishes c2 and takes c4.
    assert_eq!(
        assignments(&desk.end("c2").events),
        [(
            "c4".to_string(),
            "bo".to_string(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
}

// R-M2: with online agents only as the target, agents in a status that is not assignable get
// nothing; one that comes online takes the pool at once, oldest first, up to its limit.
#[test]
fn r_m2_online_only_target_skips_other_statuses_and_drains_when_an_agent_comes_online() {
    let mut desk = Desk::with_config(Config {
        allocation_target: AllocationTarget::OnlineOnly,
        ..async_config()
    });
    desk.group("support", LRA);
    agent_with_status(&mut desk, "ana", AgentStatus::Offline, 2);
    desk.agent("bo", 1, &["support"]);
    for c in ["c1", "c2", "c3", "c4"] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(pairs(&desk.events), [("c1".to_string(), "bo".to_string())]);
    assert_eq!(pool(&desk), ["c2", "c3", "c4"]);

    let became = AssignReason::Drain {
        trigger: DrainTrigger::BecameAssignable,
    };
    assert_eq!(
        assignments(&desk.status("ana", AgentStatus::Online).events),
        [
            ("c2".to_string(), "ana".to_string(), became.clone()),
            ("c3".to_string(), "ana".to_string(), became),
        ]
    );
    assert_eq!(pool(&desk), ["c4"]);

    // Going on a break keeps what ana holds, and a freed place then goes to no one.
    desk.status("ana", AgentStatus::ShortBreak);
    assert_eq!(desk.holder("c2").as_deref(), Some("ana"));
    assert!(pairs(&desk.end("c2").events).is_empty());
    assert_eq!(pool(&desk), ["c4"]);
}

// R-M2: the allocation target can change at run time; a switch to all agents hands the pool
// to the offline agents with room.
#[test]
fn r_m2_switching_the_target_to_all_agents_drains_the_pool_into_offline_agents() {
    let online_only = Config {
        allocation_target: AllocationTarget::OnlineOnly,
        ..async_config()
    };
    let mut desk = Desk::with_config(online_only.clone());
    desk.group("support", LRA);
    agent_with_status(&mut desk, "ana", AgentStatus::Offline, 1);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    assert_eq!(pool(&desk), ["c1", "c2"]);

    let events = desk
        .run(Command::UpdateConfig(Config {
            allocation_target: AllocationTarget::AllAgents,
            ..online_only.clone()
        }))
        .events;
    assert_eq!(
        assignments(&events),
        [(
            "c1".to_string(),
            "ana".to_string(),
            AssignReason::Drain {
                trigger: DrainTrigger::ConfigUpdated
            }
        )]
    );
    assert_eq!(pool(&desk), ["c2"]);

    // Back to online only: ana keeps c1, and a new visitor waits in the pool.
    desk.run(Command::UpdateConfig(online_only));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    desk.end("c1");
    assert_eq!(pool(&desk), ["c2"], "offline ana is no longer a target");
}

// R-M2: the allocation target is an asynchronous setting; in real-time mode status decides, so
// an offline agent gets nothing even with all agents as the target.
#[test]
fn r_m2_all_agents_target_does_not_apply_in_real_time_mode() {
    let mut desk = Desk::new();
    assert_eq!(
        desk.engine.config().allocation_target,
        AllocationTarget::AllAgents
    );
    desk.group("support", LRA);
    agent_with_status(&mut desk, "ana", AgentStatus::Offline, 3);
    desk.arrive("c1", "v1", "support");
    assert_eq!(state(&desk, "c1"), ConversationState::Queued);
    assert_eq!(desk.queue("support"), ["c1"]);
    assert!(
        pool(&desk).is_empty(),
        "the pool is empty in real-time mode"
    );
}
