//! The unassigned pool of asynchronous mode (R-P1, R-P2) and how it drains (R-D1), statement by
//! statement after the Sobot seed: "if there are no agents available to meet the allocation
//! conditions, the conversation will automatically enter the unassigned group"; "when the
//! customer service reception value is released or the customer service status changes to
//! online (if ... only to online customer service), the system will re-fetch sessions from the
//! allocation pool"; "manual assignment by the administrator is the highest priority and will
//! not be affected by the online status or reception limit"; "both assigning conversations and
//! ending conversations support batch operations".

mod common;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AllocationTarget, Arrival, AssignReason, Command, Config,
    ConversationState, DrainTrigger, EndReason, Error, Event, GroupUpdate, Limit, Membership,
    PoolOrder, PoolReason, ReceptionMode, Strategy, Target,
};

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

fn async_config() -> Config {
    Config {
        mode: ReceptionMode::Asynchronous,
        ..Config::default()
    }
}

fn pool(desk: &Desk) -> Vec<String> {
    desk.engine.pool().map(|c| c.to_string()).collect()
}

fn drain(trigger: DrainTrigger) -> AssignReason {
    AssignReason::Drain { trigger }
}

fn triple(c: &str, a: &str, reason: AssignReason) -> (String, String, AssignReason) {
    (c.to_string(), a.to_string(), reason)
}

fn state(desk: &Desk, conversation: &str) -> ConversationState {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .state
}

fn claim(agent: &str, conversation: Option<&str>) -> Command {
    Command::Claim {
        agent: agent.into(),
        conversation: conversation.map(Into::into),
    }
}

/// Asynchronous desk with `order`: group `support`, `ana` (limit 1) holds `c0`; `c1` (priority
/// 0), `c2` (9), `c3` (9), `c4` (1) arrive a second apart and wait in the pool.
fn pooled_desk(order: PoolOrder) -> Desk {
    let mut desk = Desk::with_config(Config {
        pool_order: order,
        ..async_config()
    });
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    for (c, priority) in [("c1", 0), ("c2", 9), ("c3", 9), ("c4", 1)] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive_as(Arrival::new(c, format!("v-{c}"), "support").priority(priority));
    }
    assert_eq!(desk.holder("c0").as_deref(), Some("ana"));
    desk
}

// R-P1: no eligible agent with room: the conversation enters the pool, with an event naming its
// group and why. Oldest first is the default order, and the agent that frees up takes the
// oldest (R-D1: "the reception value is released").
#[test]
fn r_p1_r_d1_pool_oldest_first_by_default_and_a_freed_agent_takes_the_oldest() {
    assert_eq!(Config::default().pool_order, PoolOrder::OldestFirst);
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    let pooled: Vec<Event> = desk
        .events
        .iter()
        .filter(|e| matches!(e, Event::ConversationPooled { .. }))
        .cloned()
        .collect();
    assert_eq!(
        pooled,
        ["c1", "c2", "c3", "c4"].map(|c| Event::ConversationPooled {
            conversation: c.into(),
            group: "support".into(),
            reason: PoolReason::NoAgentAvailable,
        })
    );
    assert_eq!(pool(&desk), ["c1", "c2", "c3", "c4"]);
    assert_eq!(desk.engine.counters().pooled, 4);

    let events = desk.end("c0").events;
    assert_eq!(
        assignments(&events),
        [triple("c1", "ana", drain(DrainTrigger::CapacityFreed))]
    );
    let ended = events
        .iter()
        .position(|e| matches!(e, Event::ConversationEnded { .. }))
        .expect("an end");
    let assigned = events
        .iter()
        .position(|e| matches!(e, Event::ConversationAssigned { .. }))
        .expect("an assignment");
    assert!(ended < assigned, "the end causes the drain");
    assert_eq!(pool(&desk), ["c2", "c3", "c4"]);
    assert_eq!(desk.engine.counters().waiting, 3);
}

// R-P1: newest first serves the latest arrival first, priority ignored.
#[test]
fn r_p1_pool_newest_first() {
    let mut desk = pooled_desk(PoolOrder::NewestFirst);
    assert_eq!(pool(&desk), ["c4", "c3", "c2", "c1"]);
    assert_eq!(
        pairs(&desk.end("c0").events),
        [("c4".to_string(), "ana".to_string())]
    );
    assert_eq!(pool(&desk), ["c3", "c2", "c1"]);
}

// R-P1: priority then oldest: higher priority first, ties by arrival.
#[test]
fn r_p1_pool_priority_then_oldest() {
    let mut desk = pooled_desk(PoolOrder::PriorityThenOldest);
    assert_eq!(pool(&desk), ["c2", "c3", "c4", "c1"]);
    assert_eq!(
        pairs(&desk.end("c0").events),
        [("c2".to_string(), "ana".to_string())]
    );
    // A claim of "the next one" follows the same order.
    desk.register(
        AgentSpec::new("floater")
            .status(AgentStatus::Online)
            .limit(1),
    );
    desk.run(claim("floater", None));
    assert_eq!(
        state(&desk, "c3"),
        ConversationState::Active {
            agent: "floater".into()
        }
    );
    assert_eq!(pool(&desk), ["c4", "c1"]);
}

// R-P1: the pool order is a setting that can change at run time; the pool re-sorts.
#[test]
fn r_p1_changing_the_pool_order_at_run_time_re_sorts_the_pool() {
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    for (order, expected) in [
        (PoolOrder::NewestFirst, ["c4", "c3", "c2", "c1"]),
        (PoolOrder::PriorityThenOldest, ["c2", "c3", "c4", "c1"]),
        (PoolOrder::OldestFirst, ["c1", "c2", "c3", "c4"]),
    ] {
        desk.run(Command::UpdateConfig(Config {
            pool_order: order,
            ..async_config()
        }));
        assert_eq!(pool(&desk), expected, "{order:?}");
        for c in expected {
            assert_eq!(state(&desk, c), ConversationState::Pooled);
        }
    }
}

// R-P2: an agent claims from the pool within its limit: a named conversation, or the next one in
// pool order. The pool is shared: an agent of no group may claim. Beyond its limit the claim is
// refused and nothing changes.
#[test]
fn r_p2_an_agent_claims_from_the_pool_within_its_limit() {
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    desk.register(
        AgentSpec::new("floater")
            .status(AgentStatus::Online)
            .limit(2),
    );
    assert!(
        pool(&desk).len() == 4,
        "an agent of no group gets no automatic work"
    );

    let events = desk.run(claim("floater", Some("c3"))).events;
    assert_eq!(
        events,
        [Event::ConversationAssigned {
            skills: None,
            conversation: "c3".into(),
            agent: "floater".into(),
            reason: AssignReason::Claimed,
            load: 1,
            limit: 2,
            kind: "default".into()
        }]
    );
    let events = desk.run(claim("floater", None)).events;
    assert_eq!(
        assignments(&events),
        [triple("c1", "floater", AssignReason::Claimed)]
    );
    assert_eq!(pool(&desk), ["c2", "c4"]);
    assert_eq!(desk.load("floater"), (2, 2));
    let counters = desk.engine.counters();
    assert_eq!(counters.claimed, 2);
    assert_eq!(counters.waiting, 2);

    // At its limit: refused, for a named conversation and for the next one alike.
    assert_eq!(
        desk.refuse(claim("floater", Some("c2"))),
        Error::AgentUnavailable {
            conversation: "c2".into(),
            agent: "floater".into(),
            reason: "it is at its limit".into(),
        }
    );
    assert!(matches!(
        desk.refuse(claim("floater", None)),
        Error::AgentUnavailable { ref agent, .. } if agent.as_str() == "floater"
    ));
    assert_eq!(pool(&desk), ["c2", "c4"]);
}

// R-P2, R-M2: a claim respects status under the online-only target, and ignores it under the
// all-agents target.
#[test]
fn r_p2_claims_respect_status_under_the_online_only_target() {
    for (target, allowed) in [
        (AllocationTarget::OnlineOnly, false),
        (AllocationTarget::AllAgents, true),
    ] {
        let mut desk = Desk::with_config(Config {
            allocation_target: target,
            ..async_config()
        });
        desk.group("support", LRA);
        desk.agent("ana", 1, &["support"]);
        desk.arrive("c0", "v0", "support");
        desk.arrive("c1", "v1", "support");
        desk.register(
            AgentSpec::new("floater")
                .status(AgentStatus::Offline)
                .limit(2),
        );
        if allowed {
            let events = desk.run(claim("floater", None)).events;
            assert_eq!(
                assignments(&events),
                [triple("c1", "floater", AssignReason::Claimed)]
            );
        } else {
            assert_eq!(
                desk.refuse(claim("floater", Some("c1"))),
                Error::AgentUnavailable {
                    conversation: "c1".into(),
                    agent: "floater".into(),
                    reason: "its status is not assignable".into(),
                }
            );
        }
    }
}

// R-P2, R-C4, R-C5: bad claims are typed errors and change nothing: from an empty pool, a
// conversation that is not in the pool, unknown ids, and in real-time mode.
#[test]
fn r_p2_bad_claims_are_typed_errors_and_change_nothing() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.register(
        AgentSpec::new("floater")
            .status(AgentStatus::Online)
            .limit(3),
    );
    assert_eq!(
        desk.refuse(claim("floater", None)),
        Error::PoolEmpty {
            agent: "floater".into()
        }
    );
    desk.arrive("c0", "v0", "support");
    desk.arrive("c1", "v1", "support");
    desk.end("c0");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(
        desk.refuse(claim("floater", None)),
        Error::PoolEmpty {
            agent: "floater".into()
        }
    );
    assert_eq!(
        desk.refuse(claim("floater", Some("c1"))),
        Error::InvalidState {
            conversation: "c1".into(),
            state: "active".into(),
            operation: "claim".into(),
        }
    );
    assert_eq!(
        desk.refuse(claim("floater", Some("c0"))),
        Error::InvalidState {
            conversation: "c0".into(),
            state: "ended".into(),
            operation: "claim".into(),
        }
    );
    assert_eq!(
        desk.refuse(claim("floater", Some("ghost"))),
        Error::UnknownConversation {
            conversation: "ghost".into()
        }
    );
    assert_eq!(
        desk.refuse(claim("nobody", None)),
        Error::UnknownAgent {
            agent: "nobody".into()
        }
    );

    // Real-time mode: a queued conversation cannot be claimed.
    let mut rt = Desk::new();
    rt.group("support", LRA);
    rt.agent("ana", 1, &["support"]);
    rt.register(
        AgentSpec::new("floater")
            .status(AgentStatus::Online)
            .limit(3),
    );
    rt.arrive("c0", "v0", "support");
    rt.arrive("c1", "v1", "support");
    assert_eq!(rt.queue("support"), ["c1"]);
    assert_eq!(
        rt.refuse(claim("floater", Some("c1"))),
        Error::WrongMode {
            operation: "claim".into(),
            mode: "real-time".into()
        }
    );
}

// R-P2, R-D1 (seed: "the customer service status changes to online (if the allocation target
// is set to allocate only to online customer service)"): an agent coming online takes pool
// work at once, in pool order.
#[test]
fn r_p2_r_d1_an_agent_coming_online_re_fetches_from_the_pool_under_online_only() {
    let mut desk = Desk::with_config(Config {
        allocation_target: AllocationTarget::OnlineOnly,
        pool_order: PoolOrder::PriorityThenOldest,
        ..async_config()
    });
    desk.group("support", LRA);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Offline)
            .limit(2)
            .group("support"),
    );
    for (c, priority) in [("c1", 0), ("c2", 3), ("c3", 0)] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive_as(Arrival::new(c, format!("v-{c}"), "support").priority(priority));
    }
    assert_eq!(pool(&desk), ["c2", "c1", "c3"]);
    let events = desk.status("ana", AgentStatus::Online).events;
    assert_eq!(
        assignments(&events),
        [
            triple("c2", "ana", drain(DrainTrigger::BecameAssignable)),
            triple("c1", "ana", drain(DrainTrigger::BecameAssignable)),
        ]
    );
    assert!(matches!(events[0], Event::AgentStatusChanged { .. }));
    assert_eq!(pool(&desk), ["c3"]);
}

// R-P2, R-D1: a rise of the agent's limit, or of its group's limit, takes pool work at once;
// so does joining a group.
#[test]
fn r_p2_r_d1_a_raised_limit_or_a_new_group_re_fetches_from_the_pool() {
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    let events = desk
        .run(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ana".into(),
            limit: Some(Limit::Fixed(3)),
            groups: None,
            schedules: None,
        }))
        .events;
    assert_eq!(
        assignments(&events),
        [
            triple("c1", "ana", drain(DrainTrigger::AgentUpdated)),
            triple("c2", "ana", drain(DrainTrigger::AgentUpdated)),
        ]
    );
    assert_eq!(desk.load("ana"), (3, 3));

    // bo inherits its limit from its group, which starts at 1.
    desk.run(Command::RegisterGroup(
        switchboard::GroupSpec::new("billing").limit(1),
    ));
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .group("billing"),
    );
    desk.arrive("b1", "vb1", "billing");
    desk.arrive("b2", "vb2", "billing");
    assert_eq!(pool(&desk), ["c3", "c4", "b2"]);
    let events = desk
        .run(Command::UpdateGroup(GroupUpdate {
            group: "billing".into(),
            strategy: None,
            limit: Some(Limit::Fixed(2)),
            overflow: None,
            agent_cap: None,
        }))
        .events;
    assert_eq!(
        assignments(&events),
        [triple("b2", "bo", drain(DrainTrigger::GroupChanged))]
    );

    // bo joins support too (its limit is still 2, now full): nothing; at limit 4 it takes two.
    let events = desk
        .run(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "bo".into(),
            limit: Some(Limit::Fixed(4)),
            groups: Some(vec![Membership::new("billing"), Membership::new("support")]),
            schedules: None,
        }))
        .events;
    assert_eq!(
        assignments(&events),
        [
            triple("c3", "bo", drain(DrainTrigger::AgentUpdated)),
            triple("c4", "bo", drain(DrainTrigger::AgentUpdated)),
        ]
    );
    assert!(pool(&desk).is_empty());
}

// R-P2, R-X1, R-A4 (seed: "manual assignment ... will not be affected by the online status or
// reception limit"): an admin assigns from the pool to a full, offline agent; the agent is
// over its limit and takes no automatic work until it is below it again.
#[test]
fn r_p2_r_x1_manual_assignment_from_the_pool_goes_over_the_limit() {
    let mut desk = Desk::with_config(Config {
        allocation_target: AllocationTarget::OnlineOnly,
        ..async_config()
    });
    desk.group("support", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c0", "v0", "support");
    for c in ["c1", "c2", "c3"] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    desk.status("ana", AgentStatus::Offline);
    let events = desk.assign(&["c2"], Target::Agent("ana".into())).events;
    assert_eq!(
        events,
        [Event::ConversationAssigned {
            skills: None,
            conversation: "c2".into(),
            agent: "ana".into(),
            reason: AssignReason::Manual,
            load: 2,
            limit: 1,
            kind: "default".into()
        }]
    );
    assert_eq!(pool(&desk), ["c1", "c3"]);
    assert_eq!(desk.engine.counters().assigned_manually, 1);

    desk.status("ana", AgentStatus::Online);
    assert_eq!(
        pool(&desk),
        ["c1", "c3"],
        "over its limit: no automatic work"
    );
    assert!(
        pairs(&desk.end("c0").events).is_empty(),
        "at its limit: still none"
    );
    assert_eq!(
        assignments(&desk.end("c2").events),
        [triple("c1", "ana", drain(DrainTrigger::CapacityFreed))]
    );
}

// R-P2, R-X1, R-C8 (seed: "both assigning conversations and ending conversations support batch
// operations"): a batch assignment from the pool gives one result per item; bad items do not
// stop the good ones.
#[test]
fn r_p2_r_x1_batch_assignment_from_the_pool() {
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Offline)
            .limit(1)
            .group("support"),
    );
    // bo (status ignored, all agents) took the oldest when it registered.
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
    desk.end("c0");
    assert_eq!(desk.holder("c2").as_deref(), Some("ana"));
    assert_eq!(pool(&desk), ["c3", "c4"]);
    desk.arrive("c5", "v5", "support");

    let outcome = desk.assign(
        &["c4", "ghost", "c0", "c1", "c5"],
        Target::Agent("bo".into()),
    );
    assert_eq!(
        item_results(&outcome),
        [
            ("c4".to_string(), Ok(())),
            (
                "ghost".to_string(),
                Err(Error::UnknownConversation {
                    conversation: "ghost".into()
                })
            ),
            (
                "c0".to_string(),
                Err(Error::InvalidState {
                    conversation: "c0".into(),
                    state: "ended".into(),
                    operation: "assign".into(),
                })
            ),
            (
                "c1".to_string(),
                Err(Error::AlreadyAssigned {
                    conversation: "c1".into(),
                    agent: "bo".into(),
                })
            ),
            ("c5".to_string(), Ok(())),
        ]
    );
    assert_eq!(
        assignments(&outcome.events),
        [
            triple("c4", "bo", AssignReason::Manual),
            triple("c5", "bo", AssignReason::Manual),
        ]
    );
    assert_eq!(desk.load("bo"), (3, 1));
    assert_eq!(pool(&desk), ["c3"]);

    // To a group: the group picks; with no member below its limit, the least loaded member.
    let outcome = desk.assign(&["c3"], Target::Group("support".into()));
    assert_eq!(
        assignments(&outcome.events),
        [triple(
            "c3",
            "ana",
            AssignReason::ManualToGroup { strategy: None }
        )]
    );
    assert!(pool(&desk).is_empty());
}

// R-P2, R-X2, R-C8 (seed: "for invalid conversations, the administrator can directly close
// them"): a batch end from the pool: each pooled one ends with no agent, bad items are
// reported, and ending pooled conversations frees no one.
#[test]
fn r_p2_r_x2_batch_ending_of_pooled_conversations() {
    let mut desk = pooled_desk(PoolOrder::OldestFirst);
    desk.run(Command::VisitorLeaves {
        conversation: "c4".into(),
    });
    let outcome = desk.run(Command::EndConversations {
        conversations: conversation_ids(&["c1", "ghost", "c4", "c3"]),
        reason: EndReason::Admin,
    });
    assert_eq!(
        item_results(&outcome),
        [
            ("c1".to_string(), Ok(())),
            (
                "ghost".to_string(),
                Err(Error::UnknownConversation {
                    conversation: "ghost".into()
                })
            ),
            (
                "c4".to_string(),
                Err(Error::InvalidState {
                    conversation: "c4".into(),
                    state: "abandoned".into(),
                    operation: "end".into(),
                })
            ),
            ("c3".to_string(), Ok(())),
        ]
    );
    assert_eq!(
        outcome.events,
        ["c1", "c3"].map(|c| Event::ConversationEnded {
            conversation: c.into(),
            agent: None,
            reason: EndReason::Admin,
        })
    );
    assert_eq!(pool(&desk), ["c2"]);
    assert_eq!(
        state(&desk, "c1"),
        ConversationState::Ended {
            reason: EndReason::Admin,
            agent: None
        }
    );
    assert_eq!(desk.load("ana"), (1, 1));
    assert_eq!(desk.engine.counters().waiting, 1);
}

// R-P1, R-D1: a conversation that waits in the pool while another group's agent frees up stays
// there: drains take only from the agent's own groups.
#[test]
fn r_d1_drains_take_only_from_the_agents_groups() {
    let mut desk = Desk::with_config(async_config());
    desk.group("support", LRA);
    desk.group("billing", LRA);
    desk.agent("ana", 1, &["support"]);
    desk.agent("bo", 1, &["billing"]);
    desk.arrive("s1", "v1", "support");
    desk.arrive("s2", "v2", "support");
    desk.arrive("b1", "v3", "billing");
    assert_eq!(pool(&desk), ["s2"]);
    assert!(pairs(&desk.end("b1").events).is_empty());
    assert_eq!(pool(&desk), ["s2"]);
    assert_eq!(
        pairs(&desk.end("s1").events),
        [("s2".to_string(), "ana".to_string())]
    );
}

// R-P2, R-R1: a claim is the agent's own choice: active at once even when automatic reception
// is off (no offer to accept).
#[test]
fn r_p2_a_claim_is_active_at_once_even_without_automatic_reception() {
    let mut config = async_config();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    desk.register(
        AgentSpec::new("floater")
            .status(AgentStatus::Online)
            .limit(1),
    );
    desk.arrive("c1", "v1", "support"); // no member in the group: pooled
    assert_eq!(pool(&desk), ["c1"]);
    let events = desk.run(claim("floater", None)).events;
    assert_eq!(
        assignments(&events),
        [triple("c1", "floater", AssignReason::Claimed)]
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ConversationOffered { .. }))
    );
    assert_eq!(
        state(&desk, "c1"),
        ConversationState::Active {
            agent: "floater".into()
        }
    );
    assert_eq!(desk.engine.next_deadline(), None, "no offer to expire");
}
