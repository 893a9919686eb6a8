//! Story: a desk manager sets up agents and skill groups, changes them while visitors wait,
//! moves agents through their statuses, and sets reception limits (R-A1 .. R-A4).

mod common;
use common::*;

use chrono::TimeDelta;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AssignReason, Command, Config, ConversationState,
    CustomStatus, DrainTrigger, Error, Event, GroupSpec, GroupUpdate, Limit, Membership, Strategy,
    Target,
};

fn drain(trigger: DrainTrigger) -> AssignReason {
    AssignReason::Drain { trigger }
}

const LRA: AssignReason = AssignReason::Strategy {
    strategy: Strategy::LeastRecentlyAssigned,
};

// ---- R-A1: agents and groups by command ------------------------------------------------------

/// R-A1: memberships carry a rank 1..=5, 3 when not given; bad registrations are refused
/// with an error naming the ids, and change nothing.
#[test]
fn r_a1_agent_memberships_default_to_rank_3_and_bad_registrations_are_refused() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("sales", Strategy::LeastRecentlyAssigned);

    let out = desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .group_with_rank("sales", 1),
    );
    assert_eq!(
        out.events,
        vec![Event::AgentRegistered {
            agent: "ana".into(),
            limit: 5
        }]
    );
    let ana = desk.agent_view("ana");
    assert_eq!(
        ana.groups,
        vec![
            Membership::new("support"),
            Membership::with_rank("sales", 1)
        ]
    );
    assert_eq!(ana.groups[0].rank, 3, "the default rank is 3");
    assert_eq!(ana.status, AgentStatus::Online);
    assert_eq!(
        desk.engine.group("sales").unwrap().members,
        vec!["ana".into()]
    );

    // The serialized default is 3 too.
    let m: Membership = serde_json::from_str(r#"{"group":"support"}"#).unwrap();
    assert_eq!(m.rank, 3);

    for rank in [0, 6] {
        let err = desk.refuse(Command::RegisterAgent(
            AgentSpec::new("bo").group_with_rank("support", rank),
        ));
        assert_eq!(
            err,
            Error::InvalidRank {
                agent: "bo".into(),
                group: "support".into(),
                rank
            }
        );
    }
    for rank in 1..=5 {
        let id = format!("p{rank}");
        desk.register(AgentSpec::new(id.as_str()).group_with_rank("support", rank));
        assert_eq!(desk.agent_view(&id).groups[0].rank, rank);
    }
    assert_eq!(
        desk.refuse(Command::RegisterAgent(
            AgentSpec::new("bo").group("support").group("support")
        )),
        Error::DuplicateMembership {
            agent: "bo".into(),
            group: "support".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(
            AgentSpec::new("bo").group("nowhere")
        )),
        Error::UnknownGroup {
            group: "nowhere".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(AgentSpec::new("ana"))),
        Error::DuplicateAgent {
            agent: "ana".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(AgentSpec::new("bo").limit(0))),
        Error::ZeroAgentLimit { agent: "bo".into() }
    );
    assert!(desk.engine.agent("bo").is_none());
}

/// R-A1, R-D1: an update replaces the agent's groups; joining a group makes the agent take
/// the work waiting there at once.
#[test]
fn r_a1_updating_an_agents_groups_replaces_them_and_joining_a_group_drains_it() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("sales", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 3, &["support"]);
    let out = desk.arrive("c1", "v1", "sales");
    assert!(pairs(&out.events).is_empty(), "sales has no members yet");
    assert_eq!(desk.queue("sales"), ["c1"]);

    let out = desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: None,
        groups: Some(vec![
            Membership::new("support"),
            Membership::with_rank("sales", 2),
        ]),
        schedules: None,
    }));
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "ana".into(), drain(DrainTrigger::AgentUpdated))]
    );
    assert_eq!(
        desk.agent_view("ana").groups,
        vec![
            Membership::new("support"),
            Membership::with_rank("sales", 2)
        ]
    );

    // Replacing, not adding: ana leaves support.
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: None,
        groups: Some(vec![Membership::new("sales")]),
        schedules: None,
    }));
    assert!(desk.engine.group("support").unwrap().members.is_empty());
    let out = desk.arrive("c2", "v2", "support");
    assert!(
        pairs(&out.events).is_empty(),
        "ana no longer serves support"
    );
    assert_eq!(
        desk.holder("c1").as_deref(),
        Some("ana"),
        "she keeps what she holds"
    );

    assert_eq!(
        desk.refuse(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ghost".into(),
            limit: None,
            groups: None,
            schedules: None,
        })),
        Error::UnknownAgent {
            agent: "ghost".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: "ana".into(),
            limit: None,
            groups: Some(vec![Membership::with_rank("sales", 9)]),
            schedules: None,
        })),
        Error::InvalidRank {
            agent: "ana".into(),
            group: "sales".into(),
            rank: 9
        }
    );
}

/// R-A1: removing an agent puts the conversations it held back in the queue at their original
/// place (by arrival, ahead of later arrivals), and they are served in that order.
#[test]
fn r_a1_removing_an_agent_requeues_its_conversations_at_their_original_place() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 1, &["support"]);
    for (i, c) in ["c1", "c2", "c3", "c4", "c5"].into_iter().enumerate() {
        desk.wait(TimeDelta::seconds(10));
        desk.arrive(c, &format!("v{i}"), "support");
    }
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(desk.holder("c2").as_deref(), Some("bo"));
    assert_eq!(desk.holder("c3").as_deref(), Some("ana"));
    assert_eq!(desk.queue("support"), ["c4", "c5"]);
    let arrived_c1 = desk.engine.conversation("c1").unwrap().arrived_at;

    desk.wait(TimeDelta::minutes(5));
    let out = desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    let expected_start = [
        Event::AgentRemoved {
            agent: "ana".into(),
        },
        Event::ConversationRequeued {
            conversation: "c1".into(),
            from: "ana".into(),
        },
        Event::ConversationQueued {
            conversation: "c1".into(),
            group: "support".into(),
            position: 1,
        },
        Event::ConversationRequeued {
            conversation: "c3".into(),
            from: "ana".into(),
        },
        Event::ConversationQueued {
            conversation: "c3".into(),
            group: "support".into(),
            position: 2,
        },
    ];
    assert_eq!(out.events[..5], expected_start);
    assert_eq!(desk.queue("support"), ["c1", "c3", "c4", "c5"]);
    let c1 = desk.engine.conversation("c1").unwrap();
    assert_eq!(
        c1.arrived_at, arrived_c1,
        "the original arrival time is kept"
    );
    assert_eq!(c1.position, Some(1));
    assert!(desk.engine.agent("ana").is_none());
    assert_eq!(
        desk.engine.group("support").unwrap().members,
        vec!["bo".into()]
    );
    assert_eq!(desk.engine.counters().requeued, 2);

    // bo frees up: the requeued c1 goes first, then c3, before c4.
    let out = desk.end("c2");
    assert_eq!(pairs(&out.events), [("c1".into(), "bo".into())]);
    let out = desk.end("c1");
    assert_eq!(pairs(&out.events), [("c3".into(), "bo".into())]);

    assert_eq!(
        desk.refuse(Command::RemoveAgent {
            agent: "ana".into()
        }),
        Error::UnknownAgent {
            agent: "ana".into()
        }
    );
}

/// R-A1: conversations of a removed agent are routed again at once when another agent has room.
#[test]
fn r_a1_removing_an_agent_routes_its_conversations_to_agents_with_room() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 5, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk.agent("bo", 1, &["support"]);
    desk.agent("cy", 1, &["support"]);

    let out = desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    assert_eq!(
        assignments(&out.events),
        [
            ("c1".into(), "bo".into(), LRA),
            ("c2".into(), "cy".into(), LRA)
        ]
    );
    assert_eq!(desk.engine.counters().waiting, 0);
}

/// R-A1, R-C5: removing an agent that a held conversation designated at arrival must requeue
/// that conversation like any other (the designation routed only until it was served).
#[test]
fn r_a1_removing_a_designated_agent_requeues_its_conversation_without_panicking() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    let out = desk.arrive_as(
        switchboard::Arrival::new("c1", "v1", "support").designated(Target::Agent("ana".into())),
    );
    assert_eq!(assignments(&out.events)[0].2, AssignReason::DesignatedAgent);

    desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    let c1 = desk.engine.conversation("c1").unwrap();
    assert_eq!(c1.state, ConversationState::Queued);
    assert_eq!(
        c1.designated,
        Some(Target::Agent("ana".into())),
        "the view keeps what the visitor asked for, as a record"
    );
    assert_eq!(desk.queue("support"), ["c1"]);
}

/// R-A1, R-C5, R-C6: an agent designated by a conversation that overflowed to another agent
/// is removed; the conversation must stay queryable and the state restorable.
#[test]
fn r_a1_removing_a_designated_agent_keeps_its_overflowed_conversation_sound() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.register(AgentSpec::new("bo").limit(1).group("support")); // Offline
    let out = desk.arrive_as(
        switchboard::Arrival::new("c1", "v1", "support").designated(Target::Agent("bo".into())),
    );
    assert_eq!(pairs(&out.events), [("c1".into(), "ana".into())]);

    desk.run(Command::RemoveAgent { agent: "bo".into() });
    let c1 = desk.engine.conversation("c1").unwrap();
    assert_eq!(
        c1.state,
        ConversationState::Active {
            agent: "ana".into()
        }
    );
    assert_eq!(c1.designated, Some(Target::Agent("bo".into())));
    assert!(switchboard::Engine::restore(desk.engine.snapshot()).is_ok());
}

/// R-A1: groups are registered, updated and removed by command; a group that open
/// conversations name (as their group or as a designated one) cannot be removed.
#[test]
fn r_a1_groups_are_registered_updated_and_removed_but_not_while_in_use() {
    let mut desk = Desk::new();
    let out = desk.run(Command::RegisterGroup(
        GroupSpec::new("support").strategy(Strategy::RoundRobin),
    ));
    assert_eq!(
        out.events,
        [Event::GroupRegistered {
            group: "support".into()
        }]
    );
    assert_eq!(
        desk.refuse(Command::RegisterGroup(GroupSpec::new("support"))),
        Error::DuplicateGroup {
            group: "support".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterGroup(GroupSpec::new("vip").limit(0))),
        Error::ZeroGroupLimit {
            group: "vip".into()
        }
    );
    desk.group("vip", Strategy::LeastRecentlyAssigned);

    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: Some(Strategy::LeastLoaded),
        limit: Some(Limit::Fixed(2)),
        overflow: None,
        agent_cap: None,
    }));
    let support = desk.engine.group("support").unwrap();
    assert_eq!(
        (support.strategy, support.limit),
        (Strategy::LeastLoaded, Some(2))
    );
    assert_eq!(
        desk.refuse(Command::UpdateGroup(GroupUpdate {
            group: "support".into(),
            strategy: None,
            limit: Some(Limit::Fixed(0)),
            overflow: None,
            agent_cap: None
        })),
        Error::ZeroGroupLimit {
            group: "support".into()
        }
    );

    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .group("vip"),
    );
    desk.arrive("c1", "v1", "support"); // active with ana
    desk.arrive("c2", "v2", "support"); // active with ana (limit 2)
    desk.arrive_as(
        switchboard::Arrival::new("c3", "v3", "support").designated(Target::Group("vip".into())),
    ); // waits in support and in vip
    assert_eq!(desk.queue("vip"), ["c3"]);

    assert_eq!(
        desk.refuse(Command::RemoveGroup {
            group: "support".into()
        }),
        Error::GroupInUse {
            group: "support".into(),
            conversations: 3
        }
    );
    assert_eq!(
        desk.refuse(Command::RemoveGroup {
            group: "vip".into()
        }),
        Error::GroupInUse {
            group: "vip".into(),
            conversations: 1
        }
    );

    desk.run(Command::EndConversations {
        conversations: conversation_ids(&["c3"]),
        reason: switchboard::EndReason::Admin,
    });
    let out = desk.run(Command::RemoveGroup {
        group: "vip".into(),
    });
    assert!(out.events.contains(&Event::GroupRemoved {
        group: "vip".into()
    }));
    assert!(desk.engine.group("vip").is_none());
    assert_eq!(
        desk.agent_view("ana").groups,
        vec![Membership::new("support")],
        "the agent stays, without the group"
    );
    assert_eq!(
        desk.refuse(Command::RemoveGroup {
            group: "vip".into()
        }),
        Error::UnknownGroup {
            group: "vip".into()
        }
    );

    desk.end("c1");
    desk.end("c2");
    desk.run(Command::RemoveGroup {
        group: "support".into(),
    });
    assert_eq!(desk.engine.groups().count(), 0);
    assert!(desk.agent_view("ana").groups.is_empty());
}

// ---- R-A2: statuses ----------------------------------------------------------------------------

/// R-A2: only Online gets automatic work among the built-in statuses; leaving it keeps the
/// conversations held (the default policy); coming back Online drains the queue (R-D1).
#[test]
fn r_a2_builtin_statuses_leaving_online_keeps_held_work_and_returning_drains() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 5, &["support"]);
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));

    let mut waiting = Vec::new();
    let mut from = AgentStatus::Online;
    for (i, status) in [
        AgentStatus::Busy,
        AgentStatus::ShortBreak,
        AgentStatus::Offline,
    ]
    .into_iter()
    .enumerate()
    {
        let out = desk.status("ana", status.clone());
        assert_eq!(
            out.events,
            [Event::AgentStatusChanged {
                agent: "ana".into(),
                from: from.clone(),
                to: status.clone(),
            }]
        );
        from = status.clone();
        assert!(
            !out.events
                .iter()
                .any(|e| matches!(e, Event::ConversationRequeued { .. })),
            "{status} keeps held conversations by default"
        );
        assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
        let c = format!("w{i}");
        let out = desk.arrive(&c, &format!("x{i}"), "support");
        assert!(pairs(&out.events).is_empty(), "{status} is not assignable");
        waiting.push(c);
    }
    assert_eq!(desk.queue("support"), waiting);
    assert_eq!(desk.agent_view("ana").status, AgentStatus::Offline);

    let out = desk.status("ana", AgentStatus::Online);
    let reason = drain(DrainTrigger::BecameAssignable);
    assert_eq!(
        assignments(&out.events),
        [
            ("w0".into(), "ana".into(), reason.clone()),
            ("w1".into(), "ana".into(), reason.clone()),
            ("w2".into(), "ana".into(), reason),
        ]
    );
    // A status change to the current status is a no-op.
    let out = desk.status("ana", AgentStatus::Online);
    assert!(out.events.is_empty());
    assert_eq!(
        desk.refuse(Command::AgentStatusChanged {
            agent: "ghost".into(),
            status: AgentStatus::Online
        }),
        Error::UnknownAgent {
            agent: "ghost".into()
        }
    );
}

fn custom_status_config() -> Config {
    Config {
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
    }
}

/// R-A2: host-defined statuses carry an assignable flag; moving to an assignable one drains,
/// moving to another keeps held work; an undefined status is refused.
#[test]
fn r_a2_custom_statuses_follow_their_assignable_flag() {
    let mut desk = Desk::with_config(custom_status_config());
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Custom("Training".into()))
            .limit(2)
            .group("support"),
    );
    desk.arrive("c1", "v1", "support");
    assert_eq!(desk.queue("support"), ["c1"], "Training is not assignable");

    let out = desk.status("ana", AgentStatus::Custom("Chat only".into()));
    assert_eq!(
        assignments(&out.events),
        [(
            "c1".into(),
            "ana".into(),
            drain(DrainTrigger::BecameAssignable)
        )]
    );
    let out = desk.arrive("c2", "v2", "support");
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "ana".into(), LRA)],
        "an assignable custom status gets automatic work"
    );
    desk.end("c2");

    desk.status("ana", AgentStatus::Custom("Training".into()));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    let out = desk.arrive("c3", "v3", "support");
    assert!(pairs(&out.events).is_empty());

    assert_eq!(
        desk.refuse(Command::AgentStatusChanged {
            agent: "ana".into(),
            status: AgentStatus::Custom("Lunch".into())
        }),
        Error::UnknownStatus {
            status: "Lunch".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(
            AgentSpec::new("bo").status(AgentStatus::Custom("Lunch".into()))
        )),
        Error::UnknownStatus {
            status: "Lunch".into()
        }
    );
    // A config that drops a status an agent is in is refused.
    assert!(matches!(
        desk.refuse(Command::UpdateConfig(Config::default())),
        Error::InvalidConfig { field, .. } if field == "custom_statuses"
    ));
}

/// R-A2: with `requeue_when_unassignable`, an agent leaving an assignable status gives its
/// conversations back; they are routed again from their original place.
#[test]
fn r_a2_requeue_policy_gives_held_conversations_back_when_the_agent_leaves() {
    let mut desk = Desk::with_config(Config {
        requeue_when_unassignable: true,
        ..custom_status_config()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 3, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk.agent("bo", 1, &["support"]);
    desk.arrive("c3", "v3", "support"); // bo

    // ana moves between two assignable statuses: nothing is given back.
    let out = desk.status("ana", AgentStatus::Custom("Chat only".into()));
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::ConversationRequeued { .. }))
    );
    desk.end("c3");
    desk.wait(TimeDelta::minutes(1));

    let out = desk.status("ana", AgentStatus::Busy);
    assert_eq!(
        out.events[1..],
        [
            Event::ConversationRequeued {
                conversation: "c1".into(),
                from: "ana".into()
            },
            Event::ConversationAssigned {
                skills: None,
                conversation: "c1".into(),
                agent: "bo".into(),
                reason: LRA,
                load: 1,
                limit: 1,
                kind: "default".into()
            },
            Event::ConversationRequeued {
                conversation: "c2".into(),
                from: "ana".into()
            },
            Event::ConversationQueued {
                conversation: "c2".into(),
                group: "support".into(),
                position: 1
            },
        ]
    );
    assert_eq!(desk.agent_view("ana").load, 0);
    assert_eq!(desk.engine.counters().requeued, 2);

    // Busy to Offline: nothing left to give back, nothing happens but the status.
    let out = desk.status("ana", AgentStatus::Offline);
    assert_eq!(out.events.len(), 1);
}

// ---- R-A3: limits ---------------------------------------------------------------------------------

/// R-A3: an agent's own limit wins; else the largest limit of its groups (groups without a
/// limit do not count); else the config's default.
#[test]
fn r_a3_the_effective_limit_is_own_else_largest_group_limit_else_default() {
    let mut desk = Desk::with_config(Config {
        default_limit: 7,
        ..Config::default()
    });
    desk.run(Command::RegisterGroup(GroupSpec::new("small").limit(2)));
    desk.run(Command::RegisterGroup(GroupSpec::new("large").limit(4)));
    desk.group("open", Strategy::LeastRecentlyAssigned);
    let spec = |id: &str| AgentSpec::new(id).status(AgentStatus::Online);

    let out = desk.register(spec("alone"));
    assert_eq!(
        out.events,
        [Event::AgentRegistered {
            agent: "alone".into(),
            limit: 7
        }]
    );
    desk.register(spec("open").group("open"));
    desk.register(spec("small").group("small").group("open"));
    desk.register(spec("both").group("small").group("large"));
    desk.register(spec("both-rev").group("large").group("small"));
    desk.register(spec("own").limit(1).group("large"));
    let limits: Vec<(String, u32)> = ["alone", "open", "small", "both", "both-rev", "own"]
        .iter()
        .map(|a| (a.to_string(), desk.load(a).1))
        .collect();
    assert_eq!(
        limits,
        [
            ("alone".to_string(), 7),
            ("open".to_string(), 7),
            ("small".to_string(), 2),
            ("both".to_string(), 4),
            ("both-rev".to_string(), 4),
            ("own".to_string(), 1)
        ]
    );

    // Raising the own limit away and back: Inherit falls back to the groups.
    let out = desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "own".into(),
        limit: Some(Limit::Inherit),
        groups: None,
        schedules: None,
    }));
    assert!(out.events.contains(&Event::AgentUpdated {
        agent: "own".into(),
        limit: 4
    }));
    // A group limit change reaches every member.
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "large".into(),
        strategy: None,
        limit: Some(Limit::Inherit),
        overflow: None,
        agent_cap: None,
    }));
    assert_eq!(desk.load("both").1, 2);
    assert_eq!(desk.load("own").1, 7);
    // The default changes with the config.
    desk.run(Command::UpdateConfig(Config {
        default_limit: 3,
        ..Config::default()
    }));
    assert_eq!(desk.load("alone").1, 3);
    assert_eq!(desk.load("small").1, 2);
}

/// R-A3: the largest group limit is what routing enforces: an agent in a group of limit 1 and
/// one of limit 3 takes three conversations of the first group.
#[test]
fn r_a3_routing_enforces_the_largest_group_limit_and_load_counts_held_work() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(GroupSpec::new("chat").limit(1)));
    desk.run(Command::RegisterGroup(GroupSpec::new("mail").limit(3)));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("chat")
            .group("mail"),
    );
    for c in ["c1", "c2", "c3", "c4"] {
        desk.arrive(c, c, "chat");
    }
    let ana = desk.agent_view("ana");
    assert_eq!((ana.load, ana.limit), (3, 3));
    assert_eq!(
        ana.conversations,
        conversation_ids(&["c1", "c2", "c3"]),
        "load counts the held conversations"
    );
    assert_eq!(desk.queue("chat"), ["c4"]);
    let loads: Vec<(u32, u32)> = desk
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationAssigned { load, limit, .. } => Some((*load, *limit)),
            _ => None,
        })
        .collect();
    assert_eq!(loads, [(1, 3), (2, 3), (3, 3)]);

    // Ending one frees one place.
    let out = desk.end("c2");
    assert_eq!(pairs(&out.events), [("c4".into(), "ana".into())]);
    assert_eq!(desk.load("ana"), (3, 3));
}

/// R-A3, R-D1: raising a limit (the agent's, a group's, or the default) lets the agent take
/// waiting work at once; lowering it below the load takes nothing away.
#[test]
fn r_a3_raising_a_limit_drains_and_lowering_it_takes_nothing_away() {
    let mut desk = Desk::with_config(Config {
        default_limit: 1,
        ..Config::default()
    });
    desk.run(Command::RegisterGroup(GroupSpec::new("support").limit(1)));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support"),
    );
    desk.register(AgentSpec::new("bo").status(AgentStatus::Online));
    for c in ["c1", "c2", "c3", "c4"] {
        desk.arrive(c, c, "support");
    }
    assert_eq!(desk.queue("support"), ["c2", "c3", "c4"]);

    let out = desk.run(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: None,
        limit: Some(Limit::Fixed(2)),
        overflow: None,
        agent_cap: None,
    }));
    assert_eq!(
        assignments(&out.events),
        [("c2".into(), "ana".into(), drain(DrainTrigger::GroupChanged))]
    );
    let out = desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: Some(Limit::Fixed(3)),
        groups: None,
        schedules: None,
    }));
    assert_eq!(
        assignments(&out.events),
        [("c3".into(), "ana".into(), drain(DrainTrigger::AgentUpdated))]
    );

    // Lowering below the load: ana keeps all three, and takes nothing more.
    let out = desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: Some(Limit::Fixed(1)),
        groups: None,
        schedules: None,
    }));
    assert!(pairs(&out.events).is_empty());
    assert_eq!(desk.load("ana"), (3, 1));
    let out = desk.end("c1");
    assert!(pairs(&out.events).is_empty(), "2 held, limit 1: still full");
    assert_eq!(desk.queue("support"), ["c4"]);

    // bo, in no group, inherits the default; joining support with a raised default drains.
    desk.run(Command::UpdateConfig(Config {
        default_limit: 2,
        ..Config::default()
    }));
    assert_eq!(desk.load("bo"), (0, 2));
    let out = desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "bo".into(),
        limit: None,
        groups: Some(vec![Membership::new("support")]),
        schedules: None,
    }));
    assert_eq!(
        assignments(&out.events),
        [("c4".into(), "bo".into(), drain(DrainTrigger::AgentUpdated))]
    );
}

// ---- R-A4: over the limit after a manual assignment ---------------------------------------------

/// R-A4: an agent pushed over its limit by a manual assignment gets no automatic work until
/// its load is below the limit again, whatever else happens to it.
#[test]
fn r_a4_an_agent_over_its_limit_gets_no_automatic_work_until_below_it() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    desk.arrive("c3", "v3", "support");
    assert_eq!(desk.queue("support"), ["c3"]);

    let out = desk.assign(&["c3"], Target::Agent("ana".into()));
    assert!(out.all_succeeded());
    assert_eq!(desk.load("ana"), (3, 2));

    desk.arrive("c4", "v4", "support");
    assert_eq!(desk.queue("support"), ["c4"]);
    // Status round trip: becoming assignable does not lift the limit.
    desk.status("ana", AgentStatus::Busy);
    let out = desk.status("ana", AgentStatus::Online);
    assert!(pairs(&out.events).is_empty());

    // 3 -> 2: at the limit, still nothing.
    let out = desk.end("c1");
    assert!(pairs(&out.events).is_empty());
    assert_eq!(desk.queue("support"), ["c4"]);
    // A fresh arrival does not go to her either.
    let out = desk.arrive("c5", "v5", "support");
    assert!(pairs(&out.events).is_empty());

    // 2 -> 1: below the limit, she takes the best waiting conversation.
    let out = desk.end("c2");
    assert_eq!(
        assignments(&out.events),
        [(
            "c4".into(),
            "ana".into(),
            drain(DrainTrigger::CapacityFreed)
        )]
    );
    assert_eq!(desk.load("ana"), (2, 2));
    assert_eq!(desk.queue("support"), ["c5"]);
}
