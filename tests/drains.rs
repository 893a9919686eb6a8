//! Drains: whenever an agent gains room it takes the best waiting work of its groups at once,
//! until it is full (R-D1), and each assignment says what gave it room (R-B1).

mod common;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, AssignReason, Command, Config, CustomStatus,
    DrainTrigger, Event, GroupSpec, GroupUpdate, Limit, Membership, Strategy, Target,
};

fn drain(trigger: DrainTrigger) -> AssignReason {
    AssignReason::Drain { trigger }
}

/// (conversation, agent, reason) triples, as strings, for a compact comparison.
fn taken(events: &[Event]) -> Vec<(String, String, AssignReason)> {
    assignments(events)
}

fn triple(c: &str, a: &str, reason: AssignReason) -> (String, String, AssignReason) {
    (c.to_string(), a.to_string(), reason)
}

fn arrive_p(desk: &mut Desk, conversation: &str, group: &str, priority: u8) {
    let arrival = Arrival::new(conversation, format!("v-{conversation}"), group).priority(priority);
    desk.run(Command::VisitorArrives(arrival));
}

/// Group `support`; agent `ana` (limit 1) holds `c0`; `c1`, `c2`, `c3` wait, in that order.
fn full_desk() -> Desk {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    for c in ["c0", "c1", "c2", "c3"] {
        desk.wait(TimeDelta::seconds(1));
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(desk.holder("c0").as_deref(), Some("ana"));
    assert_eq!(desk.queue("support"), ["c1", "c2", "c3"]);
    desk
}

fn load(desk: &Desk, agent: &str) -> (u32, u32) {
    let view = desk.engine.agent(agent).expect("a known agent");
    (view.load, view.limit)
}

// R-D1: a conversation ends; its agent takes the head of the queue, with the trigger named.
#[test]
fn r_d1_an_ended_conversation_drains_the_queue_into_its_agent() {
    let mut desk = full_desk();
    let events = desk.end("c0").events;
    assert_eq!(
        taken(&events),
        [triple("c1", "ana", drain(DrainTrigger::CapacityFreed))]
    );
    // The end comes before the assignment it caused.
    let end = events
        .iter()
        .position(|e| matches!(e, Event::ConversationEnded { .. }))
        .expect("an end");
    let assigned = events
        .iter()
        .position(|e| matches!(e, Event::ConversationAssigned { .. }))
        .expect("an assignment");
    assert!(end < assigned);
    assert_eq!(desk.queue("support"), ["c2", "c3"]);
    assert_eq!(load(&desk, "ana"), (1, 1));
}

// R-D1: a conversation transferred away frees its agent, who drains at once.
#[test]
fn r_d1_a_transfer_away_drains_the_queue_into_the_agent_it_left() {
    let mut desk = full_desk();
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.agent("bo", 3, &["billing"]);
    let events = desk
        .run(Command::Transfer {
            conversation: "c0".into(),
            to: Target::Agent("bo".into()),
        })
        .events;
    assert_eq!(
        taken(&events),
        [
            triple("c0", "bo", AssignReason::Transfer),
            triple("c1", "ana", drain(DrainTrigger::CapacityFreed)),
        ]
    );
    assert_eq!(desk.queue("support"), ["c2", "c3"]);
}

// R-D1: an agent's limit raised by `UpdateAgent`: it fills until full, no further.
#[test]
fn r_d1_a_raised_agent_limit_fills_the_agent_until_full() {
    let mut desk = full_desk();
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
        taken(&events),
        [
            triple("c1", "ana", drain(DrainTrigger::AgentUpdated)),
            triple("c2", "ana", drain(DrainTrigger::AgentUpdated)),
        ]
    );
    assert_eq!(load(&desk, "ana"), (3, 3));
    assert_eq!(desk.queue("support"), ["c3"]);
}

// R-D1, R-A3: a group's limit raised by `UpdateGroup` lifts its members who inherit it.
#[test]
fn r_d1_a_raised_group_limit_drains_into_its_members() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(GroupSpec::new("support").limit(1)));
    for agent in ["ana", "bo"] {
        let spec = AgentSpec::new(agent)
            .status(AgentStatus::Online)
            .group("support");
        desk.run(Command::RegisterAgent(spec));
    }
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(load(&desk, "ana"), (1, 1));
    assert_eq!(desk.queue("support"), ["c3", "c4", "c5"]);
    let events = desk
        .run(Command::UpdateGroup(GroupUpdate {
            group: "support".into(),
            strategy: None,
            limit: Some(Limit::Fixed(2)),
            overflow: None,
            agent_cap: None,
        }))
        .events;
    // Members drain in registration order, each until full.
    assert_eq!(
        taken(&events),
        [
            triple("c3", "ana", drain(DrainTrigger::GroupChanged)),
            triple("c4", "bo", drain(DrainTrigger::GroupChanged)),
        ]
    );
    assert_eq!(load(&desk, "ana"), (2, 2));
    assert_eq!(load(&desk, "bo"), (2, 2));
    assert_eq!(desk.queue("support"), ["c5"]);
}

// R-D1, R-A2: an agent back Online takes waiting work.
#[test]
fn r_d1_an_agent_coming_online_drains_until_full() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.status("ana", AgentStatus::Busy);
    for c in ["c1", "c2", "c3"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    assert_eq!(desk.queue("support"), ["c1", "c2", "c3"]);
    let events = desk.status("ana", AgentStatus::Online).events;
    assert!(matches!(
        &events[0],
        Event::AgentStatusChanged {
            to: AgentStatus::Online,
            ..
        }
    ));
    assert_eq!(
        taken(&events),
        [
            triple("c1", "ana", drain(DrainTrigger::BecameAssignable)),
            triple("c2", "ana", drain(DrainTrigger::BecameAssignable)),
        ]
    );
    assert_eq!(desk.queue("support"), ["c3"]);
}

// R-D1, R-A2: a custom status marked assignable drains like Online; one that is not does not.
#[test]
fn r_d1_an_assignable_custom_status_drains_and_a_non_assignable_one_does_not() {
    let config = Config {
        custom_statuses: vec![
            CustomStatus {
                name: "Chat only".into(),
                assignable: true,
            },
            CustomStatus {
                name: "Training".into(),
                assignable: false,
            },
        ],
        ..Config::default()
    };
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 5, &["support"]);
    desk.status("ana", AgentStatus::Offline);
    desk.arrive("c1", "v1", "support");

    let events = desk
        .status("ana", AgentStatus::Custom("Training".into()))
        .events;
    assert!(taken(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), ["c1"]);

    let events = desk
        .status("ana", AgentStatus::Custom("Chat only".into()))
        .events;
    assert_eq!(
        taken(&events),
        [triple("c1", "ana", drain(DrainTrigger::BecameAssignable))]
    );
}

// R-D1: an agent registered Online takes waiting work at once; one registered Offline does not.
#[test]
fn r_d1_a_registered_agent_drains_waiting_work() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    for c in ["c1", "c2", "c3"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let events = desk
        .run(Command::RegisterAgent(
            AgentSpec::new("off").limit(5).group("support"),
        ))
        .events;
    assert!(taken(&events).is_empty(), "{events:?}");

    let events = desk.agent("ana", 2, &["support"]).events;
    assert!(
        matches!(&events[0], Event::AgentRegistered { agent, limit: 2 } if agent.as_str() == "ana")
    );
    assert_eq!(
        taken(&events),
        [
            triple("c1", "ana", drain(DrainTrigger::Registered)),
            triple("c2", "ana", drain(DrainTrigger::Registered)),
        ]
    );
    assert_eq!(desk.queue("support"), ["c3"]);
}

// R-D1: an agent that joins a group (`UpdateAgent` groups) takes that group's waiting work.
#[test]
fn r_d1_joining_a_group_drains_its_queue() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.agent("bo", 2, &["billing"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk.arrive("c3", "v3", "support");
    assert_eq!(load(&desk, "bo"), (0, 2));

    let events = desk
        .run(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "bo".into(),
            limit: None,
            groups: Some(vec![Membership::new("billing"), Membership::new("support")]),
            schedules: None,
        }))
        .events;
    assert_eq!(
        taken(&events),
        [
            triple("c1", "bo", drain(DrainTrigger::AgentUpdated)),
            triple("c2", "bo", drain(DrainTrigger::AgentUpdated)),
        ]
    );
    assert_eq!(desk.queue("support"), ["c3"]);
}

// R-D1: an agent in several groups takes the best head across them: priority first, then
// arrival, whatever group it is in; and it fills until full in that merged order.
#[test]
fn r_d1_an_agent_in_several_groups_takes_the_best_conversation_across_them() {
    let mut desk = Desk::new();
    for g in ["a", "b", "c"] {
        desk.group(g, Strategy::LeastRecentlyAssigned);
    }
    // Arrival order and priorities across three queues.
    let arrivals = [
        ("a1", "a", 0),
        ("b1", "b", 0),
        ("a2", "a", 2),
        ("c1", "c", 1),
        ("b2", "b", 2),
        ("c2", "c", 0),
        ("a3", "a", 1),
    ];
    for (c, g, p) in arrivals {
        desk.wait(TimeDelta::seconds(5));
        arrive_p(&mut desk, c, g, p);
    }
    let spec = AgentSpec::new("ana")
        .status(AgentStatus::Busy)
        .limit(1)
        .group("a")
        .group("b")
        .group("c");
    desk.run(Command::RegisterAgent(spec));

    // Limit 1: the single best of all three heads (a2, priority 2, before b2).
    let events = desk.status("ana", AgentStatus::Online).events;
    assert_eq!(
        taken(&events),
        [triple("a2", "ana", drain(DrainTrigger::BecameAssignable))]
    );

    // More room: the rest in merged priority-then-arrival order, until full (5 of 6).
    let events = desk
        .run(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ana".into(),
            limit: Some(Limit::Fixed(6)),
            groups: None,
            schedules: None,
        }))
        .events;
    let order: Vec<String> = taken(&events).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(order, ["b2", "c1", "a3", "a1", "b1"]);
    assert_eq!(load(&desk, "ana"), (6, 6));
    assert_eq!(desk.queue("c"), ["c2"]);
    assert!(desk.queue("a").is_empty() && desk.queue("b").is_empty());
}

// R-D1: ties in priority across groups go to the earlier arrival, not to the group listed first.
#[test]
fn r_d1_equal_priority_heads_across_groups_go_to_the_earlier_arrival() {
    let mut desk = Desk::new();
    desk.group("first", Strategy::LeastRecentlyAssigned);
    desk.group("second", Strategy::LeastRecentlyAssigned);
    desk.arrive("s-early", "v1", "second");
    desk.wait(TimeDelta::seconds(1));
    desk.arrive("f-late", "v2", "first");
    let events = desk.agent("ana", 1, &["first", "second"]).events;
    assert_eq!(
        taken(&events),
        [triple("s-early", "ana", drain(DrainTrigger::Registered))]
    );
    let events = desk.end("s-early").events;
    assert_eq!(
        taken(&events),
        [triple("f-late", "ana", drain(DrainTrigger::CapacityFreed))]
    );
}

// R-D1, R-A3: removing an agent's only limited group lets it fall back to the default limit,
// and it drains the work it now has room for.
#[test]
fn r_d1_removing_a_limiting_group_drains_with_the_group_changed_trigger() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(GroupSpec::new("tiny").limit(1)));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    let spec = AgentSpec::new("ana")
        .status(AgentStatus::Online)
        .group("tiny")
        .group("support");
    desk.run(Command::RegisterAgent(spec));
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    assert_eq!(load(&desk, "ana"), (1, 1));
    let events = desk
        .run(Command::RemoveGroup {
            group: "tiny".into(),
        })
        .events;
    assert_eq!(
        taken(&events),
        [triple("c2", "ana", drain(DrainTrigger::GroupChanged))]
    );
    assert_eq!(load(&desk, "ana"), (2, 5));
}

// R-D1: a new config (here a higher default limit) drains every agent with room.
#[test]
fn r_d1_a_config_change_that_raises_limits_drains_every_agent() {
    let mut desk = Desk::with_config(Config {
        default_limit: 1,
        ..Config::default()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    for agent in ["ana", "bo"] {
        let spec = AgentSpec::new(agent)
            .status(AgentStatus::Online)
            .group("support");
        desk.run(Command::RegisterAgent(spec));
    }
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    let events = desk
        .run(Command::UpdateConfig(Config {
            default_limit: 2,
            ..Config::default()
        }))
        .events;
    assert_eq!(
        taken(&events),
        [
            triple("c3", "ana", drain(DrainTrigger::ConfigUpdated)),
            triple("c4", "bo", drain(DrainTrigger::ConfigUpdated)),
        ]
    );
    assert_eq!(desk.queue("support"), ["c5"]);
}

// R-D1: a conversation that waits with an agent of another group never drains into that agent.
#[test]
fn r_d1_a_drain_takes_only_from_the_agents_own_groups() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["billing"]);
    desk.arrive("b1", "v1", "billing");
    desk.arrive("s1", "v2", "support");
    desk.arrive("b2", "v3", "billing");
    let events = desk.end("b1").events;
    assert_eq!(
        taken(&events),
        [triple("b2", "ana", drain(DrainTrigger::CapacityFreed))]
    );
    assert_eq!(desk.queue("support"), ["s1"]);
}

// R-D1, R-X1: a manual reassignment away from an agent frees it like a transfer does.
#[test]
fn r_d1_a_manual_reassignment_away_drains_the_agent_it_left() {
    let mut desk = full_desk();
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.agent("bo", 1, &["billing"]);
    desk.status("bo", AgentStatus::Busy);
    let outcome = desk.run(Command::AssignManually {
        conversations: vec!["c0".into()],
        target: Target::Agent("bo".into()),
    });
    assert!(outcome.all_succeeded());
    assert_eq!(
        taken(&outcome.events),
        [
            triple("c0", "bo", AssignReason::Manual),
            triple("c1", "ana", drain(DrainTrigger::CapacityFreed)),
        ]
    );
}

// R-D1, R-X2: a transfer back to the agent's own group with no one else free queues the
// conversation at its original place; the agent it left drains the next one, never taking back
// the conversation it handed away.
#[test]
fn r_d1_an_agent_that_transferred_to_its_group_skips_that_conversation_when_draining() {
    let mut desk = full_desk();
    let events = desk
        .run(Command::Transfer {
            conversation: "c0".into(),
            to: Target::Group("support".into()),
        })
        .events;
    assert_eq!(
        taken(&events),
        [triple("c1", "ana", drain(DrainTrigger::CapacityFreed))]
    );
    assert_eq!(desk.queue("support"), ["c0", "c2", "c3"]);
    // ana frees up again: still not c0.
    let events = desk.end("c1").events;
    assert_eq!(
        taken(&events),
        [triple("c2", "ana", drain(DrainTrigger::CapacityFreed))]
    );
    // Another agent of the group takes c0 first.
    let events = desk.agent("bo", 1, &["support"]).events;
    assert_eq!(
        taken(&events),
        [triple("c0", "bo", drain(DrainTrigger::Registered))]
    );
}

// R-D1, R-A4: an agent over its limit after a manual assignment drains only once it is below
// its limit again.
#[test]
fn r_d1_an_agent_over_its_limit_drains_only_once_below_it() {
    let mut desk = full_desk();
    desk.run(Command::AssignManually {
        conversations: vec!["c1".into()],
        target: Target::Agent("ana".into()),
    });
    assert_eq!(load(&desk, "ana"), (2, 1));
    let events = desk.end("c0").events;
    assert!(taken(&events).is_empty(), "still at its limit: {events:?}");
    assert_eq!(desk.queue("support"), ["c2", "c3"]);
    let events = desk.end("c1").events;
    assert_eq!(
        taken(&events),
        [triple("c2", "ana", drain(DrainTrigger::CapacityFreed))]
    );
}
