//! Story: an administrator overrides routing by hand (Sobot): assigns one or many conversations
//! to an agent or a group, closes invalid ones in a batch, and agents transfer conversations
//! to a colleague or a group (R-X1, R-X2, R-C8).

mod common;
use common::*;

use switchboard::{
    AgentSpec, AgentStatus, AssignReason, Command, Config, ConversationState, DrainTrigger,
    EndReason, Error, Event, LastAgent, Strategy, Target,
};

const LRA: AssignReason = AssignReason::Strategy {
    strategy: Strategy::LeastRecentlyAssigned,
};
const FREED: AssignReason = AssignReason::Drain {
    trigger: DrainTrigger::CapacityFreed,
};

fn to(agent: &str) -> Target {
    Target::Agent(agent.into())
}

fn transfer(conversation: &str, target: Target) -> Command {
    Command::Transfer {
        conversation: conversation.into(),
        to: target,
    }
}

fn end_by_admin(conversations: &[&str]) -> Command {
    Command::EndConversations {
        conversations: conversation_ids(conversations),
        reason: EndReason::Admin,
    }
}

/// A support desk where nobody is free: every arrival waits.
fn desk_with_waiting(conversations: &[&str]) -> Desk {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(AgentSpec::new("ana").limit(1).group("support")); // Offline
    desk.register(AgentSpec::new("bo").limit(1).group("support")); // Offline
    for c in conversations {
        desk.arrive(c, &format!("visitor-{c}"), "support");
    }
    desk
}

// ---- R-X1: manual assignment -------------------------------------------------------------------

/// R-X1: "Manual assignment by the administrator is the highest priority and will not be
/// affected by the online status or reception limit" (Sobot): it succeeds for an Offline agent
/// and beyond the agent's limit.
#[test]
fn r_x1_manual_assignment_ignores_status_and_limit() {
    let mut desk = desk_with_waiting(&["c1", "c2", "c3"]);
    assert_eq!(desk.queue("support"), ["c1", "c2", "c3"]);

    let out = desk.assign(&["c1"], to("ana"));
    assert_eq!(
        out.events[0],
        Event::ConversationAssigned {
            skills: None,
            conversation: "c1".into(),
            agent: "ana".into(),
            reason: AssignReason::Manual,
            load: 1,
            limit: 1,
            kind: "default".into()
        }
    );
    let out = desk.assign(&["c2"], to("ana"));
    assert!(out.all_succeeded());
    assert!(out.events.contains(&Event::ConversationAssigned {
        skills: None,
        conversation: "c2".into(),
        agent: "ana".into(),
        reason: AssignReason::Manual,
        load: 2,
        limit: 1,
        kind: "default".into()
    }));
    let ana = desk.agent_view("ana");
    assert_eq!(ana.status, AgentStatus::Offline, "the status is untouched");
    assert_eq!((ana.load, ana.limit), (2, 1));
    assert_eq!(ana.conversations, conversation_ids(&["c1", "c2"]));
    assert_eq!(
        desk.engine.conversation("c2").unwrap().state,
        ConversationState::Active {
            agent: "ana".into()
        }
    );
    assert_eq!(desk.queue("support"), ["c3"]);
    let counters = desk.engine.counters();
    assert_eq!(
        (
            counters.assigned_manually,
            counters.assigned_automatically,
            counters.waiting,
            counters.active
        ),
        (2, 0, 1, 2)
    );
}

/// R-X1, R-C8: a batch assigns in the given order, one result per item; unknown, ended and
/// abandoned conversations get their own error while the good ones are done.
#[test]
fn r_x1_batch_assignment_reports_per_item_and_bad_items_do_not_stop_good_ones() {
    let mut desk = desk_with_waiting(&["c0", "c1", "c2", "c3", "c4"]);
    desk.run(end_by_admin(&["c0"]));
    desk.run(Command::VisitorLeaves {
        conversation: "c4".into(),
    });

    let out = desk.assign(&["c1", "ghost", "c0", "c2", "c4", "c3", "c2"], to("bo"));
    assert_eq!(
        item_results(&out),
        [
            ("c1".to_string(), Ok(())),
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
                    operation: "assign".into()
                })
            ),
            ("c2".to_string(), Ok(())),
            (
                "c4".to_string(),
                Err(Error::InvalidState {
                    conversation: "c4".into(),
                    state: "abandoned".into(),
                    operation: "assign".into()
                })
            ),
            ("c3".to_string(), Ok(())),
            (
                "c2".to_string(),
                Err(Error::AlreadyAssigned {
                    conversation: "c2".into(),
                    agent: "bo".into()
                })
            ),
        ]
    );
    assert!(!out.all_succeeded());
    assert_eq!(
        pairs(&out.events),
        [
            ("c1".into(), "bo".into()),
            ("c2".into(), "bo".into()),
            ("c3".into(), "bo".into())
        ]
    );
    assert_eq!(desk.load("bo"), (3, 1));
    assert!(desk.queue("support").is_empty());
}

/// R-X1, R-C4: a manual assignment whose target is wrong is refused as a whole and changes
/// nothing.
#[test]
fn r_x1_manual_assignment_to_an_unknown_or_empty_target_is_refused() {
    let mut desk = desk_with_waiting(&["c1"]);
    desk.group("empty", Strategy::LeastRecentlyAssigned);
    let assign = |target| Command::AssignManually {
        conversations: conversation_ids(&["c1"]),
        target,
    };
    assert_eq!(
        desk.refuse(assign(to("ghost"))),
        Error::UnknownAgent {
            agent: "ghost".into()
        }
    );
    assert_eq!(
        desk.refuse(assign(Target::Group("nowhere".into()))),
        Error::UnknownGroup {
            group: "nowhere".into()
        }
    );
    assert_eq!(
        desk.refuse(assign(Target::Group("empty".into()))),
        Error::EmptyGroup {
            group: "empty".into()
        }
    );
    assert_eq!(
        desk.refuse(Command::AssignManually {
            conversations: Vec::new(),
            target: to("ana")
        }),
        Error::EmptyBatch
    );
    assert_eq!(desk.queue("support"), ["c1"]);
}

/// R-X1: to a group, the admin's conversation goes to the member the group's strategy picks
/// among eligible ones; when none is eligible, to the least loaded member (load / limit, then
/// least recently assigned), whatever its status. The conversation joins that group.
#[test]
fn r_x1_manual_assignment_to_a_group_picks_the_best_eligible_member_else_the_least_loaded() {
    let mut desk = desk_with_waiting(&["c1", "c2", "c3", "c4", "c5"]);
    desk.group("billing", Strategy::AgentPriority);
    let member = |id: &str, limit: u32, priority: u8, status: AgentStatus| {
        AgentSpec::new(id)
            .status(status)
            .limit(limit)
            .group_with_rank("billing", priority)
    };
    desk.register(member("gus", 2, 3, AgentStatus::Online));
    desk.register(member("hal", 2, 1, AgentStatus::Online));
    desk.register(member("ida", 4, 1, AgentStatus::Offline));
    let billing = |strategy| AssignReason::ManualToGroup { strategy };

    // hal has the best priority among the eligible (ida is offline).
    let out = desk.assign(&["c1"], Target::Group("billing".into()));
    assert_eq!(
        assignments(&out.events),
        [(
            "c1".into(),
            "hal".into(),
            billing(Some(Strategy::AgentPriority))
        )]
    );
    let c1 = desk.engine.conversation("c1").unwrap();
    assert_eq!(
        c1.group.as_str(),
        "billing",
        "the conversation joins the group"
    );
    assert!(desk.queue("support").iter().all(|c| c != "c1"));

    desk.status("hal", AgentStatus::Busy);
    let out = desk.assign(&["c2"], Target::Group("billing".into()));
    assert_eq!(
        assignments(&out.events),
        [(
            "c2".into(),
            "gus".into(),
            billing(Some(Strategy::AgentPriority))
        )]
    );

    // No one eligible: gus 1/2, hal 1/2, ida 0/4.
    desk.status("gus", AgentStatus::Offline);
    let out = desk.assign(&["c3", "c4", "c5"], Target::Group("billing".into()));
    assert!(out.all_succeeded());
    assert_eq!(
        assignments(&out.events),
        [
            // 0/4 is lowest; then 1/4 < 1/2; then 2/4 == 1/2 == 1/2: hal (c1) was assigned
            // longest ago.
            ("c3".into(), "ida".into(), billing(None)),
            ("c4".into(), "ida".into(), billing(None)),
            ("c5".into(), "hal".into(), billing(None)),
        ]
    );
    assert_eq!(desk.load("hal"), (2, 2));
}

/// R-X1, R-S1: a batch assigned to a round-robin group is spread by the rotation that the
/// assignment events name (`ManualToGroup { strategy: Some(RoundRobin) }`), and the rotation
/// goes on from there for automatic work.
#[test]
fn r_x1_manual_assignment_to_a_round_robin_group_follows_the_rotation() {
    let mut desk = desk_with_waiting(&["m1", "m2", "m3"]);
    desk.group("rr", Strategy::RoundRobin);
    desk.agent("xia", 5, &["rr"]);
    desk.agent("wes", 5, &["rr"]);
    let out = desk.assign(&["m1", "m2", "m3"], Target::Group("rr".into()));
    let by_rotation = AssignReason::ManualToGroup {
        strategy: Some(Strategy::RoundRobin),
    };
    assert_eq!(
        assignments(&out.events),
        [
            ("m1".into(), "xia".into(), by_rotation.clone()),
            ("m2".into(), "wes".into(), by_rotation.clone()),
            ("m3".into(), "xia".into(), by_rotation),
        ]
    );
    let out = desk.arrive("c1", "v1", "rr");
    assert_eq!(pairs(&out.events), [("c1".into(), "wes".into())]);
}

/// R-X1: assigning an active conversation is a transfer: the old agent lets it go (and takes
/// waiting work with the freed place), the new one gets it as a manual assignment.
#[test]
fn r_x1_manual_assignment_of_an_active_conversation_is_a_transfer() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.register(AgentSpec::new("bo").limit(1).group("support")); // Offline
    desk.arrive("c1", "v1", "support"); // ana
    desk.arrive("c2", "v2", "support"); // waits

    let out = desk.assign(&["c1"], to("bo"));
    assert!(out.all_succeeded());
    assert_eq!(
        out.events[0],
        Event::ConversationTransferred {
            conversation: "c1".into(),
            from: "ana".into(),
            to: to("bo")
        }
    );
    assert_eq!(
        assignments(&out.events),
        [
            ("c1".into(), "bo".into(), AssignReason::Manual),
            ("c2".into(), "ana".into(), FREED),
        ]
    );
    assert_eq!(desk.engine.counters().transferred, 1);

    // Back to the agent who holds it: refused for that item only.
    let out = desk.assign(&["c1"], to("bo"));
    assert_eq!(
        item_results(&out),
        [(
            "c1".to_string(),
            Err(Error::AlreadyAssigned {
                conversation: "c1".into(),
                agent: "bo".into()
            })
        )]
    );
    assert!(out.events.is_empty());

    // To a group, an active conversation goes to another member than its holder.
    let out = desk.assign(&["c1"], Target::Group("support".into()));
    assert_eq!(
        assignments(&out.events),
        [(
            "c1".into(),
            "ana".into(),
            AssignReason::ManualToGroup { strategy: None }
        )]
    );
    assert_eq!(desk.load("ana"), (2, 1));
}

// ---- R-X2: batch end --------------------------------------------------------------------------------

/// R-X2, R-C8: an admin closes invalid conversations in a batch, waiting or active, without a
/// summary; already closed and unknown ones get their own error; freed agents take waiting work.
#[test]
fn r_x2_an_admin_ends_many_conversations_with_one_result_each() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    for c in ["c1", "c2", "c3", "c4"] {
        desk.arrive(c, c, "support");
    }
    desk.end("c1"); // ana takes c2
    assert_eq!(desk.queue("support"), ["c3", "c4"]);

    let out = desk.run(end_by_admin(&["c3", "c2", "c1", "ghost"]));
    assert_eq!(
        item_results(&out),
        [
            ("c3".to_string(), Ok(())),
            ("c2".to_string(), Ok(())),
            (
                "c1".to_string(),
                Err(Error::InvalidState {
                    conversation: "c1".into(),
                    state: "ended".into(),
                    operation: "end".into()
                })
            ),
            (
                "ghost".to_string(),
                Err(Error::UnknownConversation {
                    conversation: "ghost".into()
                })
            ),
        ]
    );
    let ended: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::ConversationEnded { .. }))
        .collect();
    assert_eq!(
        ended,
        [
            &Event::ConversationEnded {
                conversation: "c3".into(),
                agent: None,
                reason: EndReason::Admin
            },
            &Event::ConversationEnded {
                conversation: "c2".into(),
                agent: Some("ana".into()),
                reason: EndReason::Admin
            },
        ]
    );
    assert_eq!(
        assignments(&out.events),
        [("c4".into(), "ana".into(), FREED)]
    );
    assert_eq!(
        desk.engine.conversation("c2").unwrap().state,
        ConversationState::Ended {
            reason: EndReason::Admin,
            agent: Some("ana".into())
        }
    );
    assert_eq!(
        desk.engine.conversation("c3").unwrap().state,
        ConversationState::Ended {
            reason: EndReason::Admin,
            agent: None
        }
    );
    assert_eq!(desk.engine.counters().ended, 3);
    assert_eq!(desk.refuse(end_by_admin(&[])), Error::EmptyBatch);
}

// ---- R-X2: transfer ----------------------------------------------------------------------------------

/// R-X2: an agent transfers a conversation to a colleague who can take it now; its own freed
/// place takes waiting work.
#[test]
fn r_x2_transfer_to_an_available_agent() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support"); // ana
    desk.arrive("c2", "v2", "support"); // waits
    desk.register(AgentSpec::new("bo").limit(1)); // Offline, in no group

    desk.status("bo", AgentStatus::Online);
    let out = desk.run(transfer("c1", to("bo")));
    assert_eq!(
        out.events[0],
        Event::ConversationTransferred {
            conversation: "c1".into(),
            from: "ana".into(),
            to: to("bo")
        }
    );
    assert_eq!(
        assignments(&out.events),
        [
            ("c1".into(), "bo".into(), AssignReason::Transfer),
            ("c2".into(), "ana".into(), FREED),
        ]
    );
    let counters = desk.engine.counters();
    assert_eq!((counters.transferred, counters.assigned_manually), (1, 0));
}

/// R-X2, R-C4: a transfer respects eligibility: an Offline or full agent, or the holder
/// itself, is refused with `AgentUnavailable` and the engine is unchanged; so is a
/// conversation that is not active.
#[test]
fn r_x2_transfer_to_an_unavailable_agent_is_refused_and_changes_nothing() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 1, &["support"]);
    desk.register(AgentSpec::new("cy").limit(5).group("support")); // Offline
    desk.arrive("c1", "v1", "support"); // ana
    desk.arrive("c2", "v2", "support"); // bo, now full
    desk.arrive("c3", "v3", "support"); // ana, now full
    desk.arrive("c4", "v4", "support"); // waits

    for (agent, why) in [
        ("cy", "its status is not assignable or it is at its limit"),
        ("bo", "its status is not assignable or it is at its limit"),
        ("ana", "it already holds the conversation"),
    ] {
        assert_eq!(
            desk.refuse(transfer("c1", to(agent))),
            Error::AgentUnavailable {
                conversation: "c1".into(),
                agent: agent.into(),
                reason: why.into()
            },
            "to {agent}"
        );
    }
    desk.status("bo", AgentStatus::Busy);
    desk.end("c2"); // bo has room but is Busy
    assert!(matches!(
        desk.refuse(transfer("c1", to("bo"))),
        Error::AgentUnavailable { .. }
    ));
    assert_eq!(
        desk.refuse(transfer("c4", to("bo"))),
        Error::InvalidState {
            conversation: "c4".into(),
            state: "queued".into(),
            operation: "transfer".into()
        }
    );
    assert_eq!(
        desk.refuse(transfer("c1", to("ghost"))),
        Error::UnknownAgent {
            agent: "ghost".into()
        }
    );
    assert_eq!(
        desk.refuse(transfer("c1", Target::Group("nowhere".into()))),
        Error::UnknownGroup {
            group: "nowhere".into()
        }
    );
    assert_eq!(
        desk.refuse(transfer("ghost", to("bo"))),
        Error::UnknownConversation {
            conversation: "ghost".into()
        }
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    // An admin can still force it (R-X1).
    assert!(desk.assign(&["c1"], to("cy")).all_succeeded());
}

/// R-X2, R-B1: a transfer to a group goes through the group's route (its strategy chooses, and
/// the conversation now belongs to that group).
#[test]
fn r_x2_transfer_to_a_group_with_someone_free_assigns_by_its_strategy() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("tier2", Strategy::RoundRobin);
    desk.agent("ana", 2, &["support"]);
    desk.agent("tom", 2, &["tier2"]);
    desk.arrive("c1", "v1", "support");

    let out = desk.run(transfer("c1", Target::Group("tier2".into())));
    assert_eq!(
        out.events[0],
        Event::ConversationTransferred {
            conversation: "c1".into(),
            from: "ana".into(),
            to: Target::Group("tier2".into())
        }
    );
    assert_eq!(
        assignments(&out.events),
        [(
            "c1".into(),
            "tom".into(),
            AssignReason::Strategy {
                strategy: Strategy::RoundRobin
            }
        )]
    );
    assert_eq!(
        desk.engine.conversation("c1").unwrap().group.as_str(),
        "tier2"
    );
    assert_eq!(desk.load("ana"), (0, 2));
}

/// R-X2: a transfer to a group with no one free queues the conversation in that group; the
/// agent who handed it over is never chosen for it again automatically, even as a member of
/// that group with room and as the visitor's last agent; the next free colleague takes it.
#[test]
fn r_x2_transfer_to_a_busy_group_queues_it_there_and_never_returns_it_to_the_sender() {
    let mut desk = Desk::with_config(Config {
        last_agent: LastAgent {
            enabled: true,
            window_secs: None,
        },
        ..Config::default()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("tier2", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 3, &["support", "tier2"]);
    desk.agent("tom", 1, &["tier2"]);
    desk.arrive("t1", "vt", "tier2"); // ana (registered first)
    desk.arrive("t2", "vt2", "tier2"); // tom, now full
    desk.arrive("c1", "v1", "support"); // ana

    let out = desk.run(transfer("c1", Target::Group("tier2".into())));
    assert!(pairs(&out.events).is_empty());
    assert!(out.events.contains(&Event::ConversationQueued {
        conversation: "c1".into(),
        group: "tier2".into(),
        position: 1
    }));
    assert_eq!(desk.queue("tier2"), ["c1"]);
    assert!(desk.queue("support").is_empty());
    let c1 = desk.engine.conversation("c1").unwrap();
    assert_eq!(
        (c1.state, c1.group.as_str()),
        (ConversationState::Queued, "tier2")
    );

    // ana has room, but never gets it back automatically.
    let out = desk.end("t1");
    assert!(pairs(&out.events).is_empty());
    desk.status("ana", AgentStatus::Busy);
    let out = desk.status("ana", AgentStatus::Online);
    assert!(pairs(&out.events).is_empty());
    // A new tier2 conversation still goes to ana: the exclusion is for c1 only.
    let out = desk.arrive("t3", "vt3", "tier2");
    assert_eq!(assignments(&out.events), [("t3".into(), "ana".into(), LRA)]);
    assert_eq!(desk.queue("tier2"), ["c1"]);

    let out = desk.end("t2");
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "tom".into(), FREED)]
    );
}
