//! Story: visitors come with preferences (a designated agent or group, or the agent who served
//! them last) that are tried before the group's strategy, with overflow to the normal route
//! (R-S2); every assignment says which layer chose the agent (R-B1).

mod common;
use common::*;

use chrono::TimeDelta;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, AssignReason, Command, Config, CustomStatus,
    DrainTrigger, Error, Event, GroupSpec, GroupUpdate, LastAgent, Limit, Strategy, Target,
};

const LRA: AssignReason = AssignReason::Strategy {
    strategy: Strategy::LeastRecentlyAssigned,
};

fn drain(trigger: DrainTrigger) -> AssignReason {
    AssignReason::Drain { trigger }
}

fn for_agent(conversation: &str, visitor: &str, group: &str, agent: &str) -> Arrival {
    Arrival::new(conversation, visitor, group).designated(Target::Agent(agent.into()))
}

fn for_group(conversation: &str, visitor: &str, group: &str, designated: &str) -> Arrival {
    Arrival::new(conversation, visitor, group).designated(Target::Group(designated.into()))
}

/// A support group with ana and bo (least recently assigned would pick ana first).
fn support_desk(config: Config, ana_limit: u32, bo_limit: u32) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", ana_limit, &["support"]);
    desk.agent("bo", bo_limit, &["support"]);
    desk
}

fn last_agent_on(window_secs: Option<u64>) -> Config {
    Config {
        last_agent: LastAgent {
            enabled: true,
            window_secs,
        },
        ..Config::default()
    }
}

// ---- Designated agent ------------------------------------------------------------------------------

/// R-S2, R-B1: a designated agent that is eligible and below its limit wins over the strategy.
#[test]
fn r_s2_an_eligible_designated_agent_wins_over_the_strategy() {
    let mut desk = support_desk(Config::default(), 5, 5);
    let out = desk.arrive_as(for_agent("c1", "v1", "support", "bo"));
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "bo".into(), AssignReason::DesignatedAgent)],
        "least recently assigned alone would pick ana"
    );
    let view = desk.engine.conversation("c1").unwrap();
    assert_eq!(view.designated, Some(Target::Agent("bo".into())));
    let out = desk.arrive("c2", "v2", "support");
    assert_eq!(assignments(&out.events), [("c2".into(), "ana".into(), LRA)]);

    assert_eq!(
        desk.refuse(Command::VisitorArrives(for_agent(
            "c3", "v3", "support", "ghost"
        ))),
        Error::UnknownAgent {
            agent: "ghost".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::VisitorArrives(for_group(
            "c3", "v3", "support", "nowhere"
        ))),
        Error::UnknownGroup {
            group: "nowhere".into()
        }
    );
}

/// R-S2: a designated agent that is not assignable, or at its limit, does not hold the
/// conversation back: it overflows to the conversation's group.
#[test]
fn r_s2_a_designated_agent_that_cannot_serve_overflows_to_the_group() {
    let mut desk = support_desk(Config::default(), 5, 1);
    desk.status("bo", AgentStatus::Busy);
    let out = desk.arrive_as(for_agent("c1", "v1", "support", "bo"));
    assert_eq!(assignments(&out.events), [("c1".into(), "ana".into(), LRA)]);

    desk.status("bo", AgentStatus::Online);
    desk.arrive_as(for_agent("c2", "v2", "support", "bo")); // bo, now full
    let out = desk.arrive_as(for_agent("c3", "v3", "support", "bo"));
    assert_eq!(assignments(&out.events), [("c3".into(), "ana".into(), LRA)]);
    assert_eq!(desk.holder("c2").as_deref(), Some("bo"));
}

/// R-S2, R-D1: a conversation waiting for a busy designated agent goes to that agent as soon
/// as it frees a place, ahead of conversations that arrived earlier; another agent of the group
/// may still take it (overflow) if it frees first.
#[test]
fn r_s2_a_waiting_conversation_goes_first_to_its_designated_agent_when_it_frees() {
    let mut desk = support_desk(Config::default(), 1, 1);
    desk.arrive("c1", "v1", "support"); // ana
    desk.arrive("c2", "v2", "support"); // bo
    desk.arrive("c3", "v3", "support");
    let out = desk.arrive_as(for_agent("c4", "v4", "support", "bo"));
    assert!(out.events.contains(&Event::ConversationQueued {
        conversation: "c4".into(),
        group: "support".into(),
        position: 2
    }));
    assert_eq!(desk.queue("support"), ["c3", "c4"]);

    let out = desk.end("c2");
    assert_eq!(
        assignments(&out.events),
        [("c4".into(), "bo".into(), drain(DrainTrigger::CapacityFreed))],
        "bo takes the conversation that designated him, not the head of the queue"
    );
    let out = desk.end("c1");
    assert_eq!(pairs(&out.events), [("c3".into(), "ana".into())]);

    // Overflow while waiting: ana frees first and takes what designated bo.
    desk.arrive_as(for_agent("c5", "v5", "support", "bo"));
    assert_eq!(desk.queue("support"), ["c5"]);
    let out = desk.end("c3");
    assert_eq!(pairs(&out.events), [("c5".into(), "ana".into())]);

    // The designated agent coming back on shift takes its conversation first too.
    desk.status("bo", AgentStatus::Busy);
    desk.end("c4"); // bo has room but is busy
    desk.arrive("c6", "v6", "support");
    desk.arrive_as(for_agent("c7", "v7", "support", "bo"));
    assert_eq!(desk.queue("support"), ["c6", "c7"]);
    let out = desk.status("bo", AgentStatus::Online);
    assert_eq!(
        assignments(&out.events),
        [(
            "c7".into(),
            "bo".into(),
            drain(DrainTrigger::BecameAssignable)
        )]
    );
    assert_eq!(desk.queue("support"), ["c6"]);
}

// ---- Designated group ------------------------------------------------------------------------------

/// R-S2, R-B1: a designated group is tried first with its own strategy; when it has no one
/// free the conversation overflows to its own group; when neither has, it waits in both
/// queues and the first agent of either to free up takes it.
#[test]
fn r_s2_a_designated_group_is_tried_first_and_overflows_to_the_conversations_group() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("vip", Strategy::RoundRobin);
    desk.agent("sam", 1, &["support"]);
    desk.agent("vera", 1, &["vip"]);
    desk.agent("vic", 1, &["vip"]);
    let by_vip = AssignReason::DesignatedGroup {
        strategy: Strategy::RoundRobin,
    };

    let out = desk.arrive_as(for_group("c1", "v1", "support", "vip"));
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "vera".into(), by_vip.clone())],
        "the designated group's strategy, not the home group's, chooses and is reported"
    );
    let out = desk.arrive_as(for_group("c2", "v2", "support", "vip"));
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "vic".into(), by_vip)]
    );
    let view = desk.engine.conversation("c2").unwrap();
    assert_eq!(
        (view.group.as_str(), view.designated),
        ("support", Some(Target::Group("vip".into())))
    );

    // vip is full: overflow to support.
    let out = desk.arrive_as(for_group("c3", "v3", "support", "vip"));
    assert_eq!(assignments(&out.events), [("c3".into(), "sam".into(), LRA)]);

    // Everyone is full: it waits in its own queue and in the designated group's.
    let out = desk.arrive_as(for_group("c4", "v4", "support", "vip"));
    assert!(out.events.contains(&Event::ConversationQueued {
        conversation: "c4".into(),
        group: "support".into(),
        position: 1
    }));
    assert_eq!(desk.queue("support"), ["c4"]);
    assert_eq!(desk.queue("vip"), ["c4"]);
    let out = desk.end("c2");
    assert_eq!(
        assignments(&out.events),
        [(
            "c4".into(),
            "vic".into(),
            drain(DrainTrigger::CapacityFreed)
        )]
    );
    assert!(desk.queue("support").is_empty(), "taken out of both queues");
    assert!(desk.queue("vip").is_empty());
}

// ---- Last agent (Tencent "priority allocation to the last receptionist") -----------------------------

/// R-S2, R-B1: with the preference on, a returning visitor goes back to the agent who served
/// it last; with it off (the default), the strategy decides.
#[test]
fn r_s2_the_last_agent_serves_a_returning_visitor_only_when_enabled() {
    for enabled in [false, true] {
        let config = if enabled {
            last_agent_on(None)
        } else {
            Config::default()
        };
        let mut desk = support_desk(config, 5, 5);
        desk.arrive("c1", "v1", "support"); // ana
        desk.wait(TimeDelta::minutes(10));
        desk.end("c1");
        desk.wait(TimeDelta::hours(3));
        let out = desk.arrive("c2", "v1", "support");
        let expected = if enabled {
            ("c2".into(), "ana".into(), AssignReason::LastAgent)
        } else {
            ("c2".into(), "bo".into(), LRA)
        };
        assert_eq!(assignments(&out.events), [expected], "enabled: {enabled}");
    }
    assert!(!Config::default().last_agent.enabled, "off by default");
}

/// R-S2, R-C4: `ForgetVisitor` drops a visitor's last agent, so a returning visitor is routed
/// by the strategy; the visitor's conversations stay. A visitor the engine does not remember
/// (never served, or already forgotten) is a typed error that changes nothing.
#[test]
fn r_s2_a_forgotten_visitor_has_no_last_agent() {
    let mut desk = support_desk(last_agent_on(None), 5, 5);
    desk.arrive("c1", "v1", "support"); // ana
    desk.end("c1");
    let out = desk.run(Command::ForgetVisitor {
        visitor: "v1".into(),
    });
    assert_eq!(
        out.events,
        [Event::VisitorForgotten {
            visitor: "v1".into()
        }]
    );
    assert!(
        desk.engine.conversation("c1").is_some(),
        "the visitor's conversations are not touched"
    );
    let out = desk.arrive("c2", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "bo".into(), LRA)],
        "without the memory, least recently assigned picks bo, not the last agent ana"
    );
    // The new assignment is remembered afresh.
    desk.end("c2");
    let out = desk.arrive("c3", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c3".into(), "bo".into(), AssignReason::LastAgent)]
    );

    desk.run(Command::ForgetVisitor {
        visitor: "v1".into(),
    });
    for visitor in ["v1", "never-served"] {
        assert_eq!(
            desk.refuse(Command::ForgetVisitor {
                visitor: visitor.into()
            }),
            Error::UnknownVisitor {
                visitor: visitor.into()
            }
        );
    }
}

/// R-S2: the last agent is preferred only when it is a member of the conversation's group, is
/// assignable, and is below its limit; otherwise the strategy decides.
#[test]
fn r_s2_the_last_agent_must_be_a_member_eligible_and_below_its_limit() {
    let mut desk = support_desk(last_agent_on(None), 2, 5);
    desk.group("sales", Strategy::LeastRecentlyAssigned);
    desk.agent("sol", 5, &["sales"]);
    desk.agent("sue", 5, &["sales"]);

    // Served by ana in support; comes back to sales, where ana is no member.
    desk.arrive("c1", "v1", "support"); // ana
    let out = desk.arrive("c2", "v1", "sales");
    assert_eq!(assignments(&out.events), [("c2".into(), "sol".into(), LRA)]);
    // Now sol served v1 last; back in support, sol is no member and ana is not the last agent.
    let out = desk.arrive("c3", "v1", "support");
    assert_eq!(assignments(&out.events), [("c3".into(), "bo".into(), LRA)]);

    // v2 was served by ana; ana is busy, then full.
    desk.arrive_as(for_agent("c4", "v2", "support", "ana")); // ana: 2/2
    desk.end("c1"); // ana: 1/2
    desk.status("ana", AgentStatus::Busy);
    let out = desk.arrive("c5", "v2", "support");
    assert_eq!(assignments(&out.events), [("c5".into(), "bo".into(), LRA)]);
    // bo served v2 last now; he is the one preferred, over ana (assigned longer ago).
    desk.status("ana", AgentStatus::Online);
    let out = desk.arrive("c6", "v2", "support");
    assert_eq!(
        assignments(&out.events),
        [("c6".into(), "bo".into(), AssignReason::LastAgent)]
    );
    desk.arrive_as(for_agent("c7", "v7", "support", "ana")); // ana: 2/2 (c4, c7)
    let out = desk.arrive("c8", "v7", "support");
    assert_eq!(
        assignments(&out.events),
        [("c8".into(), "bo".into(), LRA)],
        "ana is full"
    );
}

/// R-S2: with a window, the preference holds only while the last service (the assignment, or
/// the end if the conversation ended) lies within it.
#[test]
fn r_s2_the_last_agent_window_counts_from_the_last_service() {
    let mut desk = support_desk(last_agent_on(Some(600)), 5, 5);
    desk.arrive("c1", "v1", "support"); // ana, at 09:00
    desk.wait(TimeDelta::minutes(5));
    // Still active, assigned 5 minutes ago: within the window.
    let out = desk.arrive("c2", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "ana".into(), AssignReason::LastAgent)]
    );
    desk.end("c2");
    desk.wait(TimeDelta::minutes(25));
    desk.end("c1"); // ended at 09:30; the latest assignment to ana was c2's, at 09:05
    desk.wait(TimeDelta::minutes(8));
    // 33 minutes after the latest assignment, 8 after the end: within the window.
    let out = desk.arrive("c3", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c3".into(), "ana".into(), AssignReason::LastAgent)]
    );
    desk.end("c3");
    desk.wait(TimeDelta::minutes(11));
    // 11 minutes after the last end: outside the window; the strategy picks bo.
    let out = desk.arrive("c4", "v1", "support");
    assert_eq!(assignments(&out.events), [("c4".into(), "bo".into(), LRA)]);
}

/// R-S2: the layers run in the documented order: a designated agent or group before the
/// last agent.
#[test]
fn r_s2_designations_come_before_the_last_agent() {
    let mut desk = support_desk(last_agent_on(None), 5, 5);
    desk.group("vip", Strategy::LeastRecentlyAssigned);
    desk.agent("vera", 5, &["vip"]);
    desk.arrive("c1", "v1", "support"); // ana
    let out = desk.arrive_as(for_agent("c2", "v1", "support", "bo"));
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "bo".into(), AssignReason::DesignatedAgent)]
    );
    // bo is v1's last agent now; a designated group still comes first.
    let out = desk.arrive_as(for_group("c3", "v1", "support", "vip"));
    assert_eq!(
        assignments(&out.events),
        [(
            "c3".into(),
            "vera".into(),
            AssignReason::DesignatedGroup {
                strategy: Strategy::LeastRecentlyAssigned
            }
        )]
    );
}

// ---- R-B1: every assignment says why ------------------------------------------------------------------

/// R-B1: one desk's day, in which every kind of assignment happens once; each event names
/// the layer, strategy, drain trigger or manual operation that chose the agent.
#[test]
fn r_b1_every_assignment_event_says_why() {
    let mut desk = Desk::with_config(Config {
        custom_statuses: vec![CustomStatus {
            name: "Backoffice".into(),
            assignable: false,
        }],
        ..last_agent_on(None)
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("vip", Strategy::RoundRobin);
    desk.run(Command::RegisterGroup(GroupSpec::new("back").limit(1)));
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 2, &["support"]);
    desk.agent("vera", 1, &["vip"]);
    desk.register(AgentSpec::new("cy").group("support").group("back")); // Offline, limit 1
    desk.register(
        AgentSpec::new("fay")
            .status(AgentStatus::Custom("Backoffice".into()))
            .limit(1)
            .group("support"),
    );
    desk.agent("gus", 3, &["billing"]);
    desk.agent("hal", 3, &["billing"]);

    desk.arrive_as(for_agent("c1", "v1", "support", "ana"));
    desk.arrive_as(for_group("c2", "v2", "support", "vip"));
    desk.arrive("c3", "v1", "support"); // back to ana
    desk.arrive("c4", "v4", "support"); // bo
    desk.arrive("c5", "v5", "support"); // bo, now everyone in support is full
    desk.arrive("c6", "v6", "support");
    desk.end("c4"); // bo takes c6
    desk.arrive("c7", "v7", "support");
    desk.status("cy", AgentStatus::Online); // cy takes c7
    desk.arrive("c8", "v8", "support");
    desk.agent("dan", 1, &["support"]); // dan takes c8
    desk.arrive("c9", "v9", "support");
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "dan".into(),
        limit: Some(Limit::Fixed(2)),
        groups: None,
        schedules: None,
    })); // dan takes c9
    desk.arrive("c10", "v10", "support");
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "back".into(),
        strategy: None,
        limit: Some(Limit::Fixed(2)),
        overflow: None,
        agent_cap: None,
    })); // cy takes c10
    desk.arrive("c11", "v11", "support");
    let mut config = desk.engine.config().clone();
    config.custom_statuses[0].assignable = true;
    desk.run(Command::UpdateConfig(config)); // fay takes c11
    desk.arrive("c12", "v12", "support");
    desk.assign(&["c12"], Target::Agent("ana".into()));
    desk.arrive("c13", "v13", "support");
    desk.assign(&["c13"], Target::Group("vip".into())); // vera is full: least loaded member
    desk.arrive("c14", "v14", "support");
    desk.assign(&["c14"], Target::Group("billing".into()));
    desk.run(Command::Transfer {
        conversation: "c14".into(),
        to: Target::Agent("hal".into()),
    });

    let expected: Vec<(String, String, AssignReason)> = [
        ("c1", "ana", AssignReason::DesignatedAgent),
        (
            "c2",
            "vera",
            AssignReason::DesignatedGroup {
                strategy: Strategy::RoundRobin,
            },
        ),
        ("c3", "ana", AssignReason::LastAgent),
        ("c4", "bo", LRA),
        ("c5", "bo", LRA),
        ("c6", "bo", drain(DrainTrigger::CapacityFreed)),
        ("c7", "cy", drain(DrainTrigger::BecameAssignable)),
        ("c8", "dan", drain(DrainTrigger::Registered)),
        ("c9", "dan", drain(DrainTrigger::AgentUpdated)),
        ("c10", "cy", drain(DrainTrigger::GroupChanged)),
        ("c11", "fay", drain(DrainTrigger::ConfigUpdated)),
        ("c12", "ana", AssignReason::Manual),
        (
            "c13",
            "vera",
            AssignReason::ManualToGroup { strategy: None },
        ),
        (
            "c14",
            "gus",
            AssignReason::ManualToGroup {
                strategy: Some(Strategy::LeastRecentlyAssigned),
            },
        ),
        ("c14", "hal", AssignReason::Transfer),
    ]
    .into_iter()
    .map(|(c, a, r)| (c.to_string(), a.to_string(), r))
    .collect();
    assert_eq!(assignments(&desk.events), expected);
    let counters = desk.engine.counters();
    assert_eq!(counters.assigned_manually, 3);
    assert_eq!(counters.assigned_automatically, 12);
}
