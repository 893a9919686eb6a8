//! Issue 13, engine defects 1, 2 and 5: regression tests through the public API, each naming
//! the defect and the SPEC ids it covers.
//!
//! - Defect 1 (R-X1, R-X2, R-Z1): an admin reassigns, or an agent transfers, a snoozed
//!   conversation. The snooze moves with it when it lands on an agent; it lifts first
//!   (`WakeReason::Reassigned`) when the conversation must wait or be offered.
//! - Defect 2 (R-C2, R-M1): a mode switch reports its cause before its effects; the mode already
//!   in force changes nothing and says nothing.
//! - Defect 5 (R-D1, R-Q4, R-R2): conversations past the redirect limit wait apart, out of the
//!   drains' way, and are listed after the live ones.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AllocationTarget, Arrival, AssignReason, Command, Config,
    ConversationState, DrainTrigger, Event, GroupSpec, PoolReason, ReceptionMode, Sla, Strategy,
    Target, WakeReason,
};

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn async_config() -> Config {
    Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    }
}

fn transfer(conversation: &str, to: Target) -> Command {
    Command::Transfer {
        conversation: conversation.into(),
        to,
    }
}

fn transferred(conversation: &str, from: &str, to: Target) -> Event {
    Event::ConversationTransferred {
        conversation: conversation.into(),
        from: from.into(),
        to,
    }
}

fn assigned(conversation: &str, agent: &str, reason: AssignReason, load: u32, limit: u32) -> Event {
    Event::ConversationAssigned {
        skills: None,
        conversation: conversation.into(),
        agent: agent.into(),
        reason,
        load,
        limit,
        kind: "default".into(),
    }
}

/// A snoozed conversation moved without waking, as the events report it (R-X1): the transfer
/// from `from`, the assignment to `to` (whose load and limit are given), and the snooze under
/// `to` until the same time.
fn moved(
    from: &str,
    target: Target,
    to: &str,
    reason: AssignReason,
    load: (u32, u32),
    until: DateTime<Utc>,
) -> Vec<Event> {
    vec![
        transferred("c1", from, target),
        assigned("c1", to, reason, load.0, load.1),
        snoozed_event("c1", to, until),
    ]
}

/// `c1` is snoozed with `agent` until `until`, by the queries: its state and the bucket.
fn assert_snoozed_with(desk: &Desk, agent: &str, until: DateTime<Utc>) {
    let expected = ConversationState::Snoozed {
        agent: agent.into(),
        until,
    };
    assert_eq!(state(desk, "c1"), expected);
    assert_eq!(bucket(desk), [("c1".to_string(), until)]);
}

/// Asynchronous desk, group `support`: `ana` and `bo` (limit 2 each, ana registered first so
/// she gets the first conversation); `c1` arrives and goes to ana, who snoozes it for an hour
/// at t0 + 10 s. Returns the desk and the snooze's end.
fn snoozed_desk(config: Config) -> (Desk, DateTime<Utc>) {
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 2, &["support"]);
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    desk.now = at(10);
    let until = at(3600);
    desk.run(snooze(&["c1"], until));
    (desk, until)
}

// ---- defect 1 --------------------------------------------------------------------------------

// Defect 1, R-X1 (amended), R-Z1: `AssignManually` of a snoozed conversation succeeds, and the
// snooze moves with it: the new agent holds it snoozed until the same time, in the same place
// of the snoozed bucket, with no reply-goal clock until it wakes; the old agent lets it go.
#[test]
fn defect_1_admin_reassigns_a_snoozed_conversation() {
    let config = Config {
        sla: Sla {
            first_reply_secs: Some(60),
            ..Sla::default()
        },
        ..async_config()
    };
    let (mut desk, until) = snoozed_desk(config);
    desk.now = at(20);
    let outcome = desk.assign(&["c1"], Target::Agent("bo".into()));
    assert_eq!(item_results(&outcome), [("c1".to_string(), Ok(()))]);
    assert_eq!(
        outcome.events,
        moved(
            "ana",
            Target::Agent("bo".into()),
            "bo",
            AssignReason::Manual,
            (1, 2),
            until
        )
    );
    assert_snoozed_with(&desk, "bo", until);
    assert_eq!(
        desk.engine.next_deadline(),
        Some(until),
        "the same deadline"
    );
    assert_eq!(desk.load("ana"), (0, 2));
    assert!(desk.agent_view("ana").conversations.is_empty());
    assert_eq!(desk.load("bo"), (1, 2), "snoozed work counts by default");
    let counters = desk.engine.counters();
    assert_eq!(
        (counters.snoozed, counters.snoozes, counters.transferred),
        (1, 1, 1),
        "the same snooze, not a new one"
    );

    // Nothing happens while it sleeps: bo's first-reply goal starts at the wake.
    let events = desk.advance(TimeDelta::seconds(3600 - 20 + 59));
    assert_eq!(events, [woke("c1", "bo", WakeReason::SnoozeEnded)]);
    let events = desk.advance(TimeDelta::seconds(1));
    assert!(
        matches!(&events[..], [Event::SlaBreached { conversation, agent, .. }]
            if conversation.as_str() == "c1" && agent.as_str() == "bo"),
        "{events:?}"
    );
}

// Defect 1, R-X1: to a group, the best eligible member gets it, snooze and all; a second
// manual assignment of the same snoozed conversation moves it again.
#[test]
fn defect_1_admin_reassigns_a_snoozed_conversation_to_a_group() {
    let (mut desk, until) = snoozed_desk(async_config());
    desk.run(Command::RegisterGroup(GroupSpec::new("billing")));
    desk.agent("cy", 1, &["billing"]);
    let outcome = desk.assign(&["c1"], Target::Group("billing".into()));
    let reason = AssignReason::ManualToGroup {
        strategy: Some(LRA),
    };
    assert_eq!(
        outcome.events,
        moved(
            "ana",
            Target::Group("billing".into()),
            "cy",
            reason,
            (1, 1),
            until
        )
    );
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(
        view.group.as_str(),
        "billing",
        "a new home, as for any manual assignment"
    );
    assert_snoozed_with(&desk, "cy", until);

    let outcome = desk.assign(&["c1"], Target::Agent("ana".into()));
    assert_eq!(outcome.events.len(), 3);
    assert_snoozed_with(&desk, "ana", until);
    assert_eq!(desk.load("cy"), (0, 1));
}

// Defect 1, R-X1, R-A3, R-D1: loads stay right for both agents under either load setting, and
// the old agent takes waiting work with the room it frees.
#[test]
fn defect_1_reassigning_a_snoozed_conversation_keeps_loads_right() {
    // ana (limit 1, in support) holds c1 snoozed; bo (limit 1, in no group) is free.
    let desk_of = |config| {
        let mut desk = Desk::with_config(config);
        desk.group("support", LRA);
        desk.agent("ana", 1, &["support"]);
        desk.register(AgentSpec::new("bo").status(AgentStatus::Online).limit(1));
        desk.arrive("c1", "v1", "support");
        desk.run(snooze(&["c1"], at(600)));
        desk
    };
    // Snoozed work counts (the default): ana is full with c1 snoozed, c2 waits in the pool;
    // once c1 moves to bo, ana takes c2.
    let mut desk = desk_of(async_config());
    desk.arrive("c2", "v2", "support");
    assert_eq!(desk.engine.pool().count(), 1);
    let outcome = desk.assign(&["c1"], Target::Agent("bo".into()));
    assert_eq!(
        pairs(&outcome.events),
        [
            ("c1".to_string(), "bo".to_string()),
            ("c2".to_string(), "ana".to_string())
        ]
    );
    assert!(outcome.events.iter().any(|e| matches!(e,
        Event::ConversationAssigned { conversation, reason: AssignReason::Drain { trigger: DrainTrigger::CapacityFreed }, .. }
            if conversation.as_str() == "c2")));
    assert_eq!((desk.load("ana"), desk.load("bo")), ((1, 1), (1, 1)));

    // Snoozed work does not count: the snooze moves without changing either load.
    let config = Config {
        snoozed_count_toward_load: false,
        ..async_config()
    };
    let mut desk = desk_of(config);
    assert_eq!(desk.load("ana"), (0, 1));
    let outcome = desk.assign(&["c1"], Target::Agent("bo".into()));
    assert_eq!(
        outcome.events[1],
        assigned("c1", "bo", AssignReason::Manual, 0, 1),
        "the load reported is bo's, without the snoozed conversation"
    );
    assert_eq!((desk.load("ana"), desk.load("bo")), ((0, 1), (0, 1)));
    // It counts again when it wakes, with bo.
    desk.advance(TimeDelta::seconds(600));
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
    assert_eq!(desk.load("bo"), (1, 1));
}

// Defect 1, R-X2, R-Z1: an agent transfers its snoozed conversation to another agent, or to a
// group where someone is free: the snooze moves along, and the handing agent is excluded.
#[test]
fn defect_1_transfer_of_a_snoozed_conversation() {
    let (mut desk, until) = snoozed_desk(async_config());
    let outcome = desk.run(transfer("c1", Target::Agent("bo".into())));
    assert_eq!(
        outcome.events,
        moved(
            "ana",
            Target::Agent("bo".into()),
            "bo",
            AssignReason::Transfer,
            (1, 2),
            until
        )
    );
    assert_snoozed_with(&desk, "bo", until);

    // To a group: its strategy picks a member with room (ana transferred it away before, so
    // only cy qualifies after bo hands it on).
    desk.run(Command::RegisterGroup(GroupSpec::new("billing")));
    desk.agent("cy", 2, &["billing", "support"]);
    let outcome = desk.run(transfer("c1", Target::Group("support".into())));
    assert_eq!(
        outcome.events,
        moved(
            "bo",
            Target::Group("support".into()),
            "cy",
            AssignReason::Strategy { strategy: LRA },
            (1, 2),
            until
        )
    );
    assert_eq!(desk.engine.counters().snoozes, 1);
}

// Defect 1, R-X2, R-Z2: transferred to a group with no one free, the snoozed conversation must
// wait in the pool, where there is no snooze: it wakes first (reason Reassigned, naming the
// agent who held it), then is transferred and pooled like an active one.
#[test]
fn defect_1_transfer_of_a_snoozed_conversation_that_must_wait_wakes_it_first() {
    let (mut desk, _) = snoozed_desk(async_config());
    desk.run(Command::RegisterGroup(GroupSpec::new("billing")));
    let outcome = desk.run(transfer("c1", Target::Group("billing".into())));
    assert_eq!(
        outcome.events,
        [
            woke("c1", "ana", WakeReason::Reassigned),
            transferred("c1", "ana", Target::Group("billing".into())),
            Event::ConversationPooled {
                conversation: "c1".into(),
                group: "billing".into(),
                reason: PoolReason::NoAgentAvailable,
            },
        ]
    );
    assert_eq!(state(&desk, "c1"), ConversationState::Pooled);
    assert!(bucket(&desk).is_empty());
    assert_eq!(
        desk.engine.next_deadline(),
        None,
        "the snooze's deadline went with it"
    );
    assert_eq!(desk.load("ana"), (0, 2));
}

// Defect 1, R-R1, R-X2: with automatic reception off a transfer is an offer, which the new
// agent must answer: the snooze lifts first.
#[test]
fn defect_1_transfer_of_a_snoozed_conversation_as_an_offer_wakes_it_first() {
    let mut config = async_config();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 2, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.run(Command::AcceptOffer {
        conversation: "c1".into(),
        agent: "ana".into(),
    });
    desk.run(snooze(&["c1"], at(600)));
    let outcome = desk.run(transfer("c1", Target::Agent("bo".into())));
    assert_eq!(
        outcome.events[..2],
        [
            woke("c1", "ana", WakeReason::Reassigned),
            transferred("c1", "ana", Target::Agent("bo".into())),
        ]
    );
    assert!(matches!(&outcome.events[2],
        Event::ConversationOffered { conversation, agent, reason: AssignReason::Transfer, .. }
            if conversation.as_str() == "c1" && agent.as_str() == "bo"));
    assert_eq!(outcome.events.len(), 3);
    assert!(bucket(&desk).is_empty());
}

// ---- defect 2 --------------------------------------------------------------------------------

// Defect 2, R-C2, R-M1: leaving asynchronous mode reports the new config and mode first, then
// the snoozes lifting and the pool moving to the queue; the same through UpdateConfig.
#[test]
fn defect_2_mode_switch_reports_the_cause_first() {
    for by_config in [false, true] {
        let mut desk = Desk::with_config(async_config());
        desk.group("support", LRA);
        desk.agent("ana", 1, &["support"]);
        desk.arrive("c1", "v1", "support");
        desk.run(snooze(&["c1"], at(600)));
        desk.arrive("c2", "v2", "support");
        let command = if by_config {
            Command::UpdateConfig(Config::default())
        } else {
            Command::SetReceptionMode {
                mode: ReceptionMode::RealTime,
            }
        };
        let outcome = desk.run(command);
        assert_eq!(
            outcome.events,
            [
                Event::ConfigUpdated,
                Event::ReceptionModeChanged {
                    from: ReceptionMode::Asynchronous,
                    to: ReceptionMode::RealTime,
                },
                woke("c1", "ana", WakeReason::ModeChanged),
                Event::ConversationQueued {
                    conversation: "c2".into(),
                    group: "support".into(),
                    position: 1,
                },
            ],
            "by UpdateConfig: {by_config}"
        );
    }
}

// Defect 2, R-C2, R-C4: setting the mode already in force is Ok, says nothing and changes
// nothing, in either mode.
#[test]
fn defect_2_setting_the_mode_in_force_says_nothing() {
    for mode in [ReceptionMode::RealTime, ReceptionMode::Asynchronous] {
        let mut desk = Desk::with_config(Config {
            mode,
            ..Config::default()
        });
        desk.group("support", LRA);
        desk.agent("ana", 1, &["support"]);
        desk.arrive("c1", "v1", "support");
        desk.arrive("c2", "v2", "support");
        let before = desk.state_json();
        let outcome = desk.run(Command::SetReceptionMode { mode });
        assert!(outcome.events.is_empty(), "{mode:?}: {:?}", outcome.events);
        assert!(outcome.results.is_empty());
        assert_eq!(desk.state_json(), before, "{mode:?}: nothing changed");
    }
}

// ---- defect 5 --------------------------------------------------------------------------------

/// A desk with offers and a redirect limit of 0 (in asynchronous mode, only Online agents get
/// work): `x` (limit 1) is offered and declines `stalled` conversations one after another, each
/// of which then waits for an admin; then x goes on a break and two live conversations arrive:
/// `low` (priority 0) and `high` (priority 2).
fn stalled_desk(stalled: usize, mode: ReceptionMode) -> Desk {
    let mut config = Config {
        mode,
        allocation_target: AllocationTarget::OnlineOnly,
        ..Config::default()
    };
    config.reception.auto_accept = false;
    config.reception.redirect_limit = Some(0);
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.agent("x", 1, &["support"]);
    for i in 0..stalled {
        let id = format!("s{i:03}");
        desk.arrive(&id, &format!("v{i}"), "support");
        let outcome = desk.run(Command::DeclineOffer {
            conversation: id.as_str().into(),
            agent: "x".into(),
        });
        assert!(outcome.events.iter().any(|e| matches!(e,
            Event::RedirectLimitReached { conversation, .. } if conversation.as_str() == id)));
    }
    desk.status("x", AgentStatus::ShortBreak);
    desk.arrive("low", "vl", "support");
    desk.arrive_as(Arrival::new("high", "vh", "support").priority(2));
    desk
}

fn stalled_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s{i:03}")).collect()
}

// Defect 5, R-D1, R-Q4, R-R2, R-Q2: conversations past the redirect limit wait apart: the queue
// lists the live ones first (best first), then the stalled ones in their own order; positions
// count that way; a freed agent takes the best live conversation, however many are stalled
// ahead of it by arrival; an agent the stalled ones exclude still finds the live one; and an
// admin's manual assignment of a stalled one works and lets it route normally again.
#[test]
fn defect_5_stalled_work_is_out_of_the_drain_path() {
    const N: usize = 200;
    let mut desk = stalled_desk(N, ReceptionMode::RealTime);
    let mut listed = vec!["high".to_string(), "low".to_string()];
    listed.extend(stalled_ids(N));
    assert_eq!(desk.queue("support"), listed);
    let position = |desk: &Desk, c: &str| desk.engine.conversation(c).and_then(|v| v.position);
    assert_eq!(position(&desk, "high"), Some(1));
    assert_eq!(position(&desk, "low"), Some(2));
    assert_eq!(
        position(&desk, "s000"),
        Some(3),
        "behind every live conversation"
    );
    assert_eq!(position(&desk, "s199"), Some(202));
    assert_eq!(desk.engine.group("support").expect("known").waiting, N + 2);
    assert_eq!(desk.engine.counters().waiting, N as u64 + 2);

    // A new agent takes the live conversations, best first, then nothing more though it has
    // room: the rest is stalled.
    let outcome = desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(3)
            .group("support"),
    );
    let offered: Vec<(String, AssignReason)> = outcome
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOffered {
                conversation,
                reason,
                ..
            } => Some((conversation.to_string(), reason.clone())),
            _ => None,
        })
        .collect();
    let drain = AssignReason::Drain {
        trigger: DrainTrigger::Registered,
    };
    assert_eq!(
        offered,
        [
            ("high".to_string(), drain.clone()),
            ("low".to_string(), drain)
        ]
    );
    assert_eq!(position(&desk, "s000"), Some(1), "the live ones left");

    // x, whom every stalled conversation excludes, comes back and finds a new live one (bo
    // took it, with room; bo's exclusions do not matter to x).
    desk.arrive("fresh", "vf", "support");
    desk.arrive("later", "vl2", "support");
    assert_eq!(position(&desk, "later"), Some(1));
    let outcome = desk.status("x", AgentStatus::Online);
    assert!(outcome.events.iter().any(|e| matches!(e,
        Event::ConversationOffered { conversation, agent, .. }
            if conversation.as_str() == "later" && agent.as_str() == "x")));
    assert_eq!(desk.queue("support"), stalled_ids(N));

    // An admin assigns a stalled one, over x's limit.
    let outcome = desk.assign(&["s100"], Target::Agent("x".into()));
    assert_eq!(item_results(&outcome), [("s100".to_string(), Ok(()))]);
    assert_eq!(desk.holder("s100").as_deref(), Some("x"));
    assert_eq!(desk.queue("support").len(), N - 1);
    assert!(!desk.queue("support").contains(&"s100".to_string()));
}

// Defect 5, R-P1, R-P2, R-R2: in asynchronous mode the pool lists stalled conversations after
// the live ones too, and a claim of "the first one" takes a live one first.
#[test]
fn defect_5_the_pool_lists_stalled_work_last_and_claims_take_live_work_first() {
    const N: usize = 20;
    let mut desk = stalled_desk(N, ReceptionMode::Asynchronous);
    let pool: Vec<String> = desk.engine.pool().map(|c| c.to_string()).collect();
    let mut listed = vec!["low".to_string(), "high".to_string()];
    listed.extend(stalled_ids(N));
    assert_eq!(pool, listed, "oldest first, stalled last");
    desk.register(AgentSpec::new("cy").status(AgentStatus::Online).limit(3));
    let claim = Command::Claim {
        agent: "cy".into(),
        conversation: None,
    };
    for expected in ["low", "high", "s000"] {
        let outcome = desk.run(claim.clone());
        assert_eq!(
            pairs(&outcome.events),
            [(expected.to_string(), "cy".to_string())]
        );
    }
}
