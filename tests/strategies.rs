//! Story: four skill groups, each with its own strategy, pick among their agents; every pick
//! ends in the documented tie-break (R-S1), and the rotating strategies stay fair (R-S3).

mod common;
use common::*;

use proptest::prelude::{ProptestConfig, prop, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::Strategy as _;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, AssignReason, Command, GroupSpec, GroupUpdate, Membership,
    Strategy, Target,
};

fn by(strategy: Strategy) -> AssignReason {
    AssignReason::Strategy { strategy }
}

/// Runs the arrivals one by one in `group`, each from its own visitor, and returns who got
/// each (or "-" when it waited).
fn serve(desk: &mut Desk, group: &str, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|c| {
            let out = desk.arrive(c, &format!("visitor-{c}"), group);
            pairs(&out.events)
                .into_iter()
                .find(|(conv, _)| conv == c)
                .map_or_else(|| "-".to_string(), |(_, agent)| agent)
        })
        .collect()
}

// ---- Least recently assigned (the default; SHOPLINE) ---------------------------------------------

/// R-S1: least recently assigned is the default; agents never assigned go first, in
/// registration order (not id order).
#[test]
fn r_s1_least_recently_assigned_is_the_default_and_new_agents_go_in_registration_order() {
    let mut desk = Desk::new();
    desk.run(Command::RegisterGroup(GroupSpec::new("support")));
    assert_eq!(
        desk.engine.group("support").unwrap().strategy,
        Strategy::LeastRecentlyAssigned
    );
    for a in ["zoe", "amy", "max"] {
        desk.agent(a, 5, &["support"]);
    }
    let c = ["c1", "c2", "c3"];
    for (conv, agent) in c.iter().zip(["zoe", "amy", "max"]) {
        let out = desk.arrive(conv, conv, "support");
        assert_eq!(
            assignments(&out.events),
            [(
                conv.to_string(),
                agent.to_string(),
                by(Strategy::LeastRecentlyAssigned)
            )]
        );
    }
}

/// R-S1: the SHOPLINE order, "never assigned > longest since the last assignment > shortest";
/// the time an agent became free does not matter, only its last assignment.
#[test]
fn r_s1_least_recently_assigned_follows_the_shopline_order() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 5, &["support"]);
    desk.agent("bo", 5, &["support"]);
    assert_eq!(serve(&mut desk, "support", &["c1", "c2"]), ["ana", "bo"]);

    // cy was never assigned: she goes before both, though registered last.
    desk.agent("cy", 5, &["support"]);
    assert_eq!(
        serve(&mut desk, "support", &["c3", "c4", "c5"]),
        ["cy", "ana", "bo"]
    );

    // ana ends everything she has; that does not move her ahead: cy was assigned longest ago.
    desk.end("c1");
    desk.end("c4");
    assert_eq!(
        serve(&mut desk, "support", &["c6", "c7", "c8"]),
        ["cy", "ana", "bo"]
    );
}

/// A conversation of a group nobody serves, waiting for an admin: a manual assignment that
/// the test can make at will.
fn assign_by_hand(desk: &mut Desk, conversation: &str, agent: &str) {
    if desk.engine.group("back-office").is_none() {
        desk.group("back-office", Strategy::LeastRecentlyAssigned);
    }
    desk.arrive(conversation, conversation, "back-office");
    let out = desk.assign(&[conversation], Target::Agent(agent.into()));
    assert_eq!(
        assignments(&out.events),
        [(conversation.into(), agent.into(), AssignReason::Manual)]
    );
}

/// R-S1: least recently assigned skips agents that are not assignable or at their limit, and
/// counts manual assignments as assignments.
#[test]
fn r_s1_least_recently_assigned_skips_unavailable_agents_and_counts_manual_assignments() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.agent("bo", 5, &["support"]);
    desk.agent("cy", 5, &["support"]);
    desk.status("bo", AgentStatus::Busy);
    // ana (never assigned), bo is busy: cy; ana is full: cy again.
    assert_eq!(
        serve(&mut desk, "support", &["c1", "c2", "c3"]),
        ["ana", "cy", "cy"]
    );
    desk.status("bo", AgentStatus::Online);
    desk.end("c1");
    // bo was never assigned; then ana (last assigned 1st) before cy (3rd).
    assert_eq!(serve(&mut desk, "support", &["c4", "c5"]), ["bo", "ana"]);
    // ana is full. cy (3rd) would be next; an admin gives her one by hand, so bo (4th) goes.
    assign_by_hand(&mut desk, "m1", "cy");
    assert_eq!(serve(&mut desk, "support", &["c6", "c7"]), ["bo", "cy"]);
}

// ---- Round robin (Sobot) -----------------------------------------------------------------------------

/// R-S1: round robin rotates in registration order from a cursor the group's own choices move;
/// manual assignments do not move it (unlike least recently assigned), and ineligible agents are
/// skipped.
#[test]
fn r_s1_round_robin_rotates_in_registration_order_skipping_ineligible_agents() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::RoundRobin);
    for a in ["zoe", "yan", "xia", "wes"] {
        desk.agent(a, 10, &["support"]);
    }
    let out = desk.arrive("c1", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "zoe".into(), by(Strategy::RoundRobin))]
    );
    assert_eq!(serve(&mut desk, "support", &["c2"]), ["yan"]);
    // wes gets one by hand: least recently assigned would now start again at zoe.
    assign_by_hand(&mut desk, "m1", "wes");
    assert_eq!(serve(&mut desk, "support", &["c3", "c4"]), ["xia", "wes"]);
    // zoe on a break: the rotation wraps past her.
    desk.status("zoe", AgentStatus::ShortBreak);
    assert_eq!(serve(&mut desk, "support", &["c5", "c6"]), ["yan", "xia"]);
    desk.status("zoe", AgentStatus::Online);
    assert_eq!(
        serve(&mut desk, "support", &["c7", "c8", "c9"]),
        ["wes", "zoe", "yan"]
    );
    // An agent registered later takes its place at the end of the rotation.
    desk.agent("ann", 10, &["support"]);
    assert_eq!(
        serve(&mut desk, "support", &["c10", "c11", "c12", "c13"]),
        ["xia", "wes", "ann", "zoe"]
    );
}

/// R-S1: round robin skips agents at their limit, and a drain (an agent with room taking queued
/// work) does not move the cursor: only the group's own choices do.
#[test]
fn r_s1_round_robin_skips_full_agents_and_drains_do_not_move_the_cursor() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::RoundRobin);
    for a in ["p", "q", "r"] {
        desk.agent(a, 1, &["support"]);
    }
    assert_eq!(serve(&mut desk, "support", &["c1", "c2"]), ["p", "q"]);
    desk.end("c1");
    // Cursor at q: r, then p (wrapping), then everyone is full.
    assert_eq!(
        serve(&mut desk, "support", &["c3", "c4", "c5"]),
        ["r", "p", "-"]
    );
    // q frees and drains c5; the cursor stays at p.
    let out = desk.end("c2");
    assert_eq!(
        assignments(&out.events),
        [(
            "c5".into(),
            "q".into(),
            AssignReason::Drain {
                trigger: switchboard::DrainTrigger::CapacityFreed
            }
        )]
    );
    desk.end("c5");
    desk.end("c3");
    // q and r are free; after p comes q (a cursor moved by the drain would give r).
    assert_eq!(serve(&mut desk, "support", &["c6", "c7"]), ["q", "r"]);
}

// ---- Least loaded (Sobot saturation) -----------------------------------------------------------------

/// R-S1: least loaded compares load / limit as exact fractions: 1/3 < 1/2 < 2/3.
#[test]
fn r_s1_least_loaded_picks_the_lowest_load_over_limit() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastLoaded);
    desk.agent("ana", 2, &["support"]);
    desk.agent("bo", 3, &["support"]);
    let out = desk.arrive("c1", "v1", "support");
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "ana".into(), by(Strategy::LeastLoaded))],
        "0/2 == 0/3, both never assigned: registration order"
    );
    // 1/2 vs 0/3: bo; 1/2 vs 1/3: bo; 1/2 vs 2/3: ana; ana 2/2 is full: bo; all full.
    assert_eq!(
        serve(&mut desk, "support", &["c2", "c3", "c4", "c5", "c6"]),
        ["bo", "bo", "ana", "bo", "-"]
    );
}

/// R-S1: equal fractions (2/4 == 1/2) tie, and the tie goes to the least recently assigned,
/// not to the lower absolute load nor to registration order.
#[test]
fn r_s1_least_loaded_ties_on_equal_fractions_go_to_the_least_recently_assigned() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastLoaded);
    desk.agent("ana", 4, &["support"]);
    desk.agent("bo", 2, &["support"]);
    // ana; bo (0/2 < 1/4); ana (1/4 < 1/2); then 2/4 == 1/2 and bo was assigned longer ago.
    assert_eq!(
        serve(&mut desk, "support", &["c1", "c2", "c3", "c4"]),
        ["ana", "bo", "ana", "bo"]
    );
    desk.end("c2");
    desk.end("c4");
    assert_eq!(serve(&mut desk, "support", &["c5"]), ["bo"]);
    // 2/4 == 1/2 again, now ana was assigned longer ago: ana, though her load (2) is higher.
    assert_eq!(serve(&mut desk, "support", &["c6", "c7"]), ["ana", "bo"]);
    assert_eq!(desk.load("ana"), (3, 4));
    assert_eq!(desk.load("bo"), (2, 2));
}

// ---- Agent priority (Tencent Cloud Desk) ----------------------------------------------------------

/// R-S1: agent priority serves the highest priority in the group first (1 before 5); ties go
/// to the least recently assigned; lower priorities get work only when higher ones are full.
#[test]
fn r_s1_agent_priority_serves_priority_1_first_and_ties_go_least_recently_assigned() {
    let mut desk = Desk::new();
    desk.group("vip", Strategy::AgentPriority);
    for (agent, priority) in [("ana", 5), ("bo", 1), ("cy", 1), ("di", 3)] {
        desk.register(
            AgentSpec::new(agent)
                .status(AgentStatus::Online)
                .limit(2)
                .group_with_rank("vip", priority),
        );
    }
    let out = desk.arrive("c1", "v1", "vip");
    assert_eq!(
        assignments(&out.events),
        [("c1".into(), "bo".into(), by(Strategy::AgentPriority))]
    );
    assert_eq!(
        serve(
            &mut desk,
            "vip",
            &["c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]
        ),
        ["cy", "bo", "cy", "di", "di", "ana", "ana", "-"]
    );
    // bo frees a place: the waiting c9 goes to him (a drain), and the next free priority-1 place
    // is taken before di's.
    desk.end("c1");
    assert_eq!(desk.holder("c9").as_deref(), Some("bo"));
    desk.end("c5");
    desk.end("c2");
    assert_eq!(serve(&mut desk, "vip", &["c10"]), ["cy"]);
}

/// R-S1: the priority is the agent's priority within the skill group (Tencent): the same
/// agents rank differently in two groups, and a priority change takes effect at once.
#[test]
fn r_s1_agent_priority_is_per_group_and_follows_updates() {
    let mut desk = Desk::new();
    desk.group("vip", Strategy::AgentPriority);
    desk.group("support", Strategy::AgentPriority);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(9)
            .group_with_rank("vip", 5)
            .group_with_rank("support", 1),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(9)
            .group_with_rank("vip", 1)
            .group_with_rank("support", 5),
    );
    assert_eq!(
        serve(&mut desk, "vip", &["v1", "v2", "v3"]),
        ["bo", "bo", "bo"]
    );
    assert_eq!(serve(&mut desk, "support", &["s1", "s2"]), ["ana", "ana"]);
    desk.run(Command::UpdateAgent(AgentUpdate {
        skills: None,
        agent: "ana".into(),
        limit: None,
        groups: Some(vec![
            Membership::with_rank("vip", 1),
            Membership::with_rank("support", 1),
        ]),
        schedules: None,
    }));
    // Now a tie in vip: bo's last assignment (v3) is older than ana's (s2), so bo, then ana.
    assert_eq!(serve(&mut desk, "vip", &["v4", "v5"]), ["bo", "ana"]);
}

/// R-S1: a group's strategy can be changed by command; the next choice uses the new one and
/// the assignment says so (R-B1).
#[test]
fn r_s1_changing_a_groups_strategy_changes_the_next_choice() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(9)
            .group_with_rank("support", 4),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(9)
            .group_with_rank("support", 2),
    );
    assert_eq!(serve(&mut desk, "support", &["c1", "c2"]), ["ana", "bo"]);
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: Some(Strategy::AgentPriority),
        limit: None,
        overflow: None,
        agent_cap: None,
    }));
    let out = desk.arrive("c3", "v3", "support");
    assert_eq!(
        assignments(&out.events),
        [("c3".into(), "bo".into(), by(Strategy::AgentPriority))],
        "least recently assigned would have picked ana"
    );
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: Some(Strategy::LeastLoaded),
        limit: None,
        overflow: None,
        agent_cap: None,
    }));
    let out = desk.arrive("c4", "v4", "support");
    assert_eq!(
        assignments(&out.events),
        [("c4".into(), "ana".into(), by(Strategy::LeastLoaded))]
    );
}

// ---- R-S3: fairness ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    Arrive,
    /// End the n-th (modulo) active conversation.
    End(prop::sample::Index),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    prop_oneof![
        3 => proptest::strategy::Just(Step::Arrive),
        2 => proptest::arbitrary::any::<prop::sample::Index>().prop_map(Step::End),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// R-S3: identical, always-online agents with ample limits: under least recently assigned
    /// and round robin, after every step no agent has more than one assignment more than any
    /// other, however arrivals and ends interleave.
    #[test]
    fn r_s3_rotating_strategies_keep_assignment_counts_within_one(
        agents in 2usize..7,
        steps in prop::collection::vec(step(), 1..120),
        round_robin in proptest::arbitrary::any::<bool>(),
    ) {
        let strategy = if round_robin { Strategy::RoundRobin } else { Strategy::LeastRecentlyAssigned };
        let mut desk = Desk::new();
        desk.group("support", strategy);
        let ids: Vec<String> = (0..agents).map(|i| format!("agent-{i}")).collect();
        let limit = u32::try_from(steps.len()).unwrap() + 1;
        for id in &ids {
            desk.agent(id, limit, &["support"]);
        }
        let mut active: Vec<String> = Vec::new();
        let mut arrived = 0u64;
        for (i, s) in steps.iter().enumerate() {
            match s {
                Step::Arrive => {
                    let c = format!("c{i}");
                    let out = desk.arrive(&c, &format!("v{i}"), "support");
                    let got = assignments(&out.events);
                    prop_assert_eq!(got.len(), 1, "ample limits: every arrival is served at once");
                    prop_assert_eq!(&got[0].2, &by(strategy));
                    active.push(c);
                    arrived += 1;
                }
                Step::End(index) => {
                    if !active.is_empty() {
                        let c = active.remove(index.index(active.len()));
                        desk.end(&c);
                    }
                }
            }
            let counts: Vec<u64> = ids.iter().map(|a| desk.agent_view(a).assigned_total).collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            prop_assert!(max - min <= 1, "counts {:?} after step {} ({:?})", counts, i, s);
            prop_assert_eq!(counts.iter().sum::<u64>(), arrived);
        }
    }
}
