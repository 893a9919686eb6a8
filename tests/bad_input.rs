//! Bad input: every refusal is a typed error that names the ids involved, and leaves the engine
//! exactly as it was (R-C4, R-C5). `Desk::refuse` checks the serialized state byte for byte.

mod common;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, Command, Config, CustomStatus, EndReason, Engine,
    Error, GroupSpec, GroupUpdate, LastAgent, Limit, Membership, QueueConfig, Strategy, Target,
};

fn statuses() -> Vec<CustomStatus> {
    vec![
        CustomStatus {
            name: "Chat only".into(),
            assignable: true,
        },
        CustomStatus {
            name: "Training".into(),
            assignable: false,
        },
    ]
}

/// Groups `support` and `empty`; `ana` (limit 1, in "Chat only") holds `c0`; `c1` waits; `c2`
/// ended; `c3` was abandoned; `bo` is Offline in `support`.
fn desk() -> Desk {
    let mut desk = Desk::with_config(Config {
        custom_statuses: statuses(),
        ..Config::default()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("empty", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.status("ana", AgentStatus::Custom("Chat only".into()));
    desk.run(Command::RegisterAgent(
        AgentSpec::new("bo").limit(2).group("support"),
    ));
    for c in ["c0", "c1", "c2", "c3", "c4"] {
        desk.arrive(c, &format!("v-{c}"), "support");
    }
    desk.end("c2");
    desk.run(Command::VisitorLeaves {
        conversation: "c3".into(),
    });
    desk.wait(TimeDelta::minutes(1));
    desk
}

fn end(conversations: &[&str]) -> Command {
    Command::EndConversations {
        conversations: conversations.iter().map(|c| (*c).into()).collect(),
        reason: EndReason::Admin,
    }
}

fn update_agent(agent: &str, limit: Option<Limit>, groups: Option<Vec<Membership>>) -> Command {
    Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: agent.into(),
        limit,
        groups,
        schedules: None,
    })
}

/// A batch whose items all fail: the command succeeds with one error per item, and changes
/// nothing (R-C4, R-C8). Returns the item errors.
fn refuse_items(desk: &mut Desk, command: Command) -> Vec<Error> {
    desk.now = desk.engine.now().expect("the desk has run commands");
    let before = desk.state_json();
    let outcome = desk
        .engine
        .handle(desk.now, command.clone())
        .unwrap_or_else(|e| panic!("{command:?} failed as a whole: {e}"));
    assert_eq!(before, desk.state_json(), "{command:?} changed the engine");
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    outcome
        .results
        .into_iter()
        .map(|r| r.result.expect_err("every item fails"))
        .collect()
}

fn unknown_agent(id: &str) -> Error {
    Error::UnknownAgent { agent: id.into() }
}

fn unknown_group(id: &str) -> Error {
    Error::UnknownGroup { group: id.into() }
}

fn unknown_conversation(id: &str) -> Error {
    Error::UnknownConversation {
        conversation: id.into(),
    }
}

// R-C4, R-C5: an unknown agent, wherever one is named.
#[test]
fn r_c5_unknown_agent_is_refused_everywhere() {
    let mut desk = desk();
    let commands = [
        Command::AgentStatusChanged {
            agent: "ghost".into(),
            status: AgentStatus::Online,
        },
        update_agent("ghost", Some(Limit::Fixed(2)), None),
        Command::RemoveAgent {
            agent: "ghost".into(),
        },
        Command::AssignManually {
            conversations: vec!["c1".into()],
            target: Target::Agent("ghost".into()),
        },
        Command::Transfer {
            conversation: "c0".into(),
            to: Target::Agent("ghost".into()),
        },
        Command::VisitorArrives(
            Arrival::new("c9", "v9", "support").designated(Target::Agent("ghost".into())),
        ),
    ];
    for command in commands {
        assert_eq!(desk.refuse(command), unknown_agent("ghost"));
    }
    assert!(desk.engine.conversation("c9").is_none());
    assert!(
        unknown_agent("ghost").to_string().contains("ghost"),
        "the message names the id"
    );
}

// R-C4, R-C5: an unknown group, wherever one is named.
#[test]
fn r_c5_unknown_group_is_refused_everywhere() {
    let mut desk = desk();
    let commands = [
        Command::VisitorArrives(Arrival::new("c9", "v9", "ghost")),
        Command::VisitorArrives(
            Arrival::new("c9", "v9", "support").designated(Target::Group("ghost".into())),
        ),
        Command::RegisterAgent(AgentSpec::new("cy").group("support").group("ghost")),
        update_agent(
            "ana",
            None,
            Some(vec![Membership::new("support"), Membership::new("ghost")]),
        ),
        Command::UpdateGroup(GroupUpdate {
            group: "ghost".into(),
            strategy: Some(Strategy::RoundRobin),
            limit: None,
            overflow: None,
            agent_cap: None,
        }),
        Command::RemoveGroup {
            group: "ghost".into(),
        },
        Command::AssignManually {
            conversations: vec!["c1".into()],
            target: Target::Group("ghost".into()),
        },
        Command::Transfer {
            conversation: "c0".into(),
            to: Target::Group("ghost".into()),
        },
    ];
    for command in commands {
        assert_eq!(desk.refuse(command), unknown_group("ghost"));
    }
    assert!(desk.engine.agent("cy").is_none());
    assert!(unknown_group("ghost").to_string().contains("ghost"));
}

// R-C4, R-C5, R-C8: an unknown conversation: refused outright by single commands, refused per
// item by batches.
#[test]
fn r_c5_unknown_conversation_is_refused_everywhere() {
    let mut desk = desk();
    for command in [
        Command::VisitorLeaves {
            conversation: "ghost".into(),
        },
        Command::Transfer {
            conversation: "ghost".into(),
            to: Target::Agent("bo".into()),
        },
    ] {
        assert_eq!(desk.refuse(command), unknown_conversation("ghost"));
    }
    for command in [
        end(&["ghost"]),
        Command::AssignManually {
            conversations: vec!["ghost".into()],
            target: Target::Agent("bo".into()),
        },
        Command::Forget {
            conversations: vec!["ghost".into()],
        },
    ] {
        assert_eq!(
            refuse_items(&mut desk, command),
            [unknown_conversation("ghost")]
        );
    }
    assert!(unknown_conversation("ghost").to_string().contains("ghost"));
}

// R-C5: a conversation id that already exists, whether open or finished; it is free again only
// once forgotten.
#[test]
fn r_c5_a_conversation_id_that_exists_is_refused_until_forgotten() {
    let mut desk = desk();
    for id in ["c0", "c1", "c2", "c3"] {
        let err = desk.refuse(Command::VisitorArrives(Arrival::new(id, "v9", "support")));
        assert_eq!(
            err,
            Error::DuplicateConversation {
                conversation: id.into()
            }
        );
        assert!(err.to_string().contains(id));
    }
    let outcome = desk.run(Command::Forget {
        conversations: vec!["c2".into()],
    });
    assert!(outcome.all_succeeded());
    desk.arrive("c2", "v9", "support");
    assert!(desk.engine.conversation("c2").is_some());
}

// R-C5: an agent or a group registered twice.
#[test]
fn r_c5_an_agent_or_group_registered_twice_is_refused() {
    let mut desk = desk();
    let err = desk.refuse(Command::RegisterAgent(
        AgentSpec::new("ana").status(AgentStatus::Online),
    ));
    assert_eq!(
        err,
        Error::DuplicateAgent {
            agent: "ana".into()
        }
    );
    assert!(err.to_string().contains("ana"));
    let err = desk.refuse(Command::RegisterGroup(GroupSpec::new("support")));
    assert_eq!(
        err,
        Error::DuplicateGroup {
            group: "support".into()
        }
    );
    assert!(err.to_string().contains("support"));
}

// R-C5: a limit of zero: agent, group, and the config's default limit.
#[test]
fn r_c5_a_zero_limit_is_refused() {
    let mut desk = desk();
    let zero_agent = Error::ZeroAgentLimit { agent: "cy".into() };
    assert_eq!(
        desk.refuse(Command::RegisterAgent(
            AgentSpec::new("cy").limit(0).group("support")
        )),
        zero_agent
    );
    assert_eq!(
        desk.refuse(update_agent(
            "ana",
            Some(Limit::Fixed(0)),
            Some(vec![Membership::new("empty")])
        )),
        Error::ZeroAgentLimit {
            agent: "ana".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::RegisterGroup(GroupSpec::new("new").limit(0))),
        Error::ZeroGroupLimit {
            group: "new".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::UpdateGroup(GroupUpdate {
            group: "support".into(),
            strategy: Some(Strategy::LeastLoaded),
            limit: Some(Limit::Fixed(0)),
            overflow: None,
            agent_cap: None
        })),
        Error::ZeroGroupLimit {
            group: "support".into()
        }
    );
    let zero_default = Config {
        default_limit: 0,
        ..Config::default()
    };
    let err = desk.refuse(Command::UpdateConfig(zero_default.clone()));
    assert!(
        matches!(&err, Error::InvalidConfig { field, .. } if field == "default_limit"),
        "{err:?}"
    );
    assert!(matches!(
        Engine::new(zero_default),
        Err(Error::InvalidConfig { field, .. }) if field == "default_limit"
    ));
    assert!(zero_agent.to_string().contains("cy"));
}

// R-A1, R-C5: a rank in a group outside 1..=5, on registration and on update.
#[test]
fn r_a1_a_group_rank_outside_one_to_five_is_refused() {
    let mut desk = desk();
    for rank in [0, 6, u8::MAX] {
        let err = desk.refuse(Command::RegisterAgent(
            AgentSpec::new("cy")
                .group("empty")
                .group_with_rank("support", rank),
        ));
        assert_eq!(
            err,
            Error::InvalidRank {
                agent: "cy".into(),
                group: "support".into(),
                rank
            }
        );
        assert!(err.to_string().contains("cy") && err.to_string().contains("support"));
        let err = desk.refuse(update_agent(
            "ana",
            None,
            Some(vec![Membership::with_rank("empty", rank)]),
        ));
        assert_eq!(
            err,
            Error::InvalidRank {
                agent: "ana".into(),
                group: "empty".into(),
                rank
            }
        );
    }
    // The bounds themselves are fine.
    desk.run(Command::RegisterAgent(
        AgentSpec::new("cy")
            .group_with_rank("support", 1)
            .group_with_rank("empty", 5),
    ));
}

// R-A1, R-C5: the same group twice in one agent's memberships.
#[test]
fn r_a1_a_duplicate_membership_is_refused() {
    let mut desk = desk();
    let err = desk.refuse(Command::RegisterAgent(
        AgentSpec::new("cy")
            .group("support")
            .group("empty")
            .group_with_rank("support", 1),
    ));
    assert_eq!(
        err,
        Error::DuplicateMembership {
            agent: "cy".into(),
            group: "support".into()
        }
    );
    assert!(err.to_string().contains("cy") && err.to_string().contains("support"));
    let err = desk.refuse(update_agent(
        "bo",
        None,
        Some(vec![Membership::new("empty"), Membership::new("empty")]),
    ));
    assert_eq!(
        err,
        Error::DuplicateMembership {
            agent: "bo".into(),
            group: "empty".into()
        }
    );
}

// R-A2, R-C5: a custom status the config does not define.
#[test]
fn r_a2_an_undefined_custom_status_is_refused() {
    let mut desk = desk();
    let undefined = Error::UnknownStatus {
        status: "Lunch".into(),
    };
    assert_eq!(
        desk.refuse(Command::AgentStatusChanged {
            agent: "bo".into(),
            status: AgentStatus::Custom("Lunch".into()),
        }),
        undefined
    );
    assert_eq!(
        desk.refuse(Command::RegisterAgent(
            AgentSpec::new("cy")
                .group("support")
                .status(AgentStatus::Custom("Lunch".into()))
        )),
        undefined
    );
    assert!(undefined.to_string().contains("Lunch"));
}

// R-C5: operations on a conversation in the wrong state: InvalidState naming it, its state and
// the operation.
#[test]
fn r_c5_an_operation_in_the_wrong_state_is_refused() {
    let mut desk = desk();
    let errors = refuse_items(&mut desk, end(&["c2", "c3"]));
    assert_eq!(
        errors,
        [
            Error::InvalidState {
                conversation: "c2".into(),
                state: "ended".into(),
                operation: "end".into()
            },
            Error::InvalidState {
                conversation: "c3".into(),
                state: "abandoned".into(),
                operation: "end".into()
            },
        ]
    );
    assert!(errors[0].to_string().contains("c2"));
    assert_eq!(
        desk.refuse(Command::VisitorLeaves {
            conversation: "c0".into()
        }),
        Error::InvalidState {
            conversation: "c0".into(),
            state: "active".into(),
            operation: "abandon".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::Transfer {
            conversation: "c1".into(),
            to: Target::Agent("bo".into()),
        }),
        Error::InvalidState {
            conversation: "c1".into(),
            state: "queued".into(),
            operation: "transfer".into()
        }
    );
    assert_eq!(
        refuse_items(
            &mut desk,
            Command::AssignManually {
                conversations: vec!["c2".into()],
                target: Target::Agent("bo".into()),
            }
        ),
        [Error::InvalidState {
            conversation: "c2".into(),
            state: "ended".into(),
            operation: "assign".into()
        }]
    );
}

// R-C5, R-Z1: snooze exists in asynchronous mode only; this engine answers WrongMode.
#[test]
fn r_c5_snooze_answers_wrong_mode() {
    let mut desk = desk();
    let until = desk.now + TimeDelta::hours(1);
    let err = desk.refuse(Command::Snooze {
        conversations: vec!["c0".into()],
        until,
    });
    assert_eq!(
        err,
        Error::WrongMode {
            operation: "snooze".into(),
            mode: "real-time".into()
        }
    );
}

// R-C5: forgetting a conversation that is still open.
#[test]
fn r_c5_forgetting_an_open_conversation_is_refused() {
    let mut desk = desk();
    assert_eq!(
        refuse_items(
            &mut desk,
            Command::Forget {
                conversations: vec!["c0".into(), "c1".into()],
            }
        ),
        [
            Error::StillOpen {
                conversation: "c0".into()
            },
            Error::StillOpen {
                conversation: "c1".into()
            }
        ]
    );
    assert!(
        Error::StillOpen {
            conversation: "c0".into()
        }
        .to_string()
        .contains("c0")
    );
}

// R-A2, R-C5: a new config that drops a custom status an agent is in.
#[test]
fn r_a2_a_config_dropping_a_status_in_use_is_refused() {
    let mut desk = desk();
    let err = desk.refuse(Command::UpdateConfig(Config {
        custom_statuses: vec![CustomStatus {
            name: "Training".into(),
            assignable: false,
        }],
        ..Config::default()
    }));
    match &err {
        Error::InvalidConfig { field, problem } => {
            assert_eq!(*field, "custom_statuses");
            assert!(
                problem.contains("Chat only") && problem.contains("ana"),
                "{problem}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Dropping a status nobody is in is fine.
    desk.run(Command::UpdateConfig(Config {
        custom_statuses: vec![CustomStatus {
            name: "Chat only".into(),
            assignable: true,
        }],
        ..Config::default()
    }));
}

// R-C5: every other invalid config names its field.
#[test]
fn r_c5_invalid_configs_name_their_field() {
    let mut desk = desk();
    let status = |name: &str| CustomStatus {
        name: name.into(),
        assignable: true,
    };
    let with_statuses = |extra: Vec<CustomStatus>| Config {
        custom_statuses: statuses().into_iter().chain(extra).collect(),
        ..Config::default()
    };
    let cases = [
        (
            Config {
                queue: QueueConfig {
                    aging_step_secs: Some(0),
                    ..QueueConfig::default()
                },
                custom_statuses: statuses(),
                ..Config::default()
            },
            "queue.aging_step_secs",
        ),
        (
            Config {
                queue: QueueConfig {
                    aging_step_secs: Some(366 * 24 * 3600 + 1),
                    ..QueueConfig::default()
                },
                custom_statuses: statuses(),
                ..Config::default()
            },
            "queue.aging_step_secs",
        ),
        (
            Config {
                last_agent: LastAgent {
                    enabled: true,
                    window_secs: Some(0),
                },
                custom_statuses: statuses(),
                ..Config::default()
            },
            "last_agent.window_secs",
        ),
        (with_statuses(vec![status("  ")]), "custom_statuses"),
        (with_statuses(vec![status("Online")]), "custom_statuses"),
        (with_statuses(vec![status("Training")]), "custom_statuses"),
    ];
    for (config, expected) in cases {
        assert!(
            matches!(Engine::new(config.clone()), Err(Error::InvalidConfig { field, .. }) if field == expected)
        );
        let err = desk.refuse(Command::UpdateConfig(config));
        assert!(
            matches!(&err, Error::InvalidConfig { field, .. } if *field == expected),
            "{err:?}"
        );
    }
}

// R-C4, R-C5: refusals about the targets of assignments and transfers, and group removal.
#[test]
fn r_c5_unavailable_targets_and_groups_in_use_are_refused() {
    let mut desk = desk();
    assert_eq!(
        desk.refuse(Command::AssignManually {
            conversations: vec!["c1".into()],
            target: Target::Group("empty".into()),
        }),
        Error::EmptyGroup {
            group: "empty".into()
        }
    );
    assert_eq!(
        refuse_items(
            &mut desk,
            Command::AssignManually {
                conversations: vec!["c0".into()],
                target: Target::Agent("ana".into()),
            }
        ),
        [Error::AlreadyAssigned {
            conversation: "c0".into(),
            agent: "ana".into()
        }]
    );
    // bo is Offline: a transfer respects eligibility.
    let err = desk.refuse(Command::Transfer {
        conversation: "c0".into(),
        to: Target::Agent("bo".into()),
    });
    assert!(
        matches!(&err, Error::AgentUnavailable { conversation, agent, .. }
            if conversation.as_str() == "c0" && agent.as_str() == "bo"),
        "{err:?}"
    );
    assert!(err.to_string().contains("bo") && err.to_string().contains("c0"));
    assert!(matches!(
        desk.refuse(Command::Transfer {
            conversation: "c0".into(),
            to: Target::Agent("ana".into()),
        }),
        Error::AgentUnavailable { .. }
    ));
    assert_eq!(
        desk.refuse(Command::RemoveGroup {
            group: "support".into()
        }),
        Error::GroupInUse {
            group: "support".into(),
            conversations: 3
        }
    );
}

// R-C4: validate first, then mutate. A command whose first parts are valid and whose last part
// is not changes nothing, not even the valid parts.
#[test]
fn r_c4_a_command_valid_in_part_changes_nothing() {
    let mut desk = desk();
    // Valid new groups, invalid limit: ana keeps her groups.
    desk.refuse(update_agent(
        "ana",
        Some(Limit::Fixed(0)),
        Some(vec![Membership::new("empty")]),
    ));
    let ana = desk.engine.agent("ana").expect("known");
    assert_eq!(ana.groups, [Membership::new("support")]);
    // Valid strategy, invalid limit: the group keeps its strategy.
    desk.refuse(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: Some(Strategy::RoundRobin),
        limit: Some(Limit::Fixed(0)),
        overflow: None,
        agent_cap: None,
    }));
    assert_eq!(
        desk.engine.group("support").expect("known").strategy,
        Strategy::LeastRecentlyAssigned
    );
    // Valid group and limit, undefined status: not registered, not a member anywhere.
    desk.refuse(Command::RegisterAgent(
        AgentSpec::new("cy")
            .group("support")
            .limit(3)
            .status(AgentStatus::Custom("Lunch".into())),
    ));
    assert!(desk.engine.agent("cy").is_none());
    assert!(
        !desk
            .engine
            .group("support")
            .expect("known")
            .members
            .contains(&"cy".into())
    );
    // A refusal stamped later than the clock does not move the clock (R-C3, R-C4).
    let clock = desk.engine.now();
    desk.now += TimeDelta::hours(1);
    desk.refuse(Command::RemoveAgent {
        agent: "ghost".into(),
    });
    assert_eq!(desk.engine.now(), clock);
}
