//! Work conservation as a property (R-Q4): random mixes of arrivals, ends, status changes,
//! limit changes and abandons over a small universe; after every command, no conversation
//! waits while an Online member of its group has room. The queues are checked against a plain
//! reference model (priority, then arrival, with optional aging: R-Q1, R-Q2), and the same run
//! checks determinism (R-C1), refusals (R-C4), the clock (R-C3) and snapshot round trips at a
//! random step (R-C6).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, Command, Config, ConversationState, EndReason,
    Engine, Event, GroupSpec, Limit, QueueConfig, Snapshot, Strategy as Routing,
};

const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
const STRATEGIES: [Routing; 4] = [
    Routing::LeastRecentlyAssigned,
    Routing::RoundRobin,
    Routing::LeastLoaded,
    Routing::AgentPriority,
];

fn t0() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().expect("a valid timestamp")
}

#[derive(Clone, Debug)]
struct AgentSetup {
    groups: Vec<(usize, u8)>,
    limit: u32,
    online: bool,
}

#[derive(Clone, Debug)]
struct Setup {
    groups: usize,
    strategies: Vec<usize>,
    agents: Vec<AgentSetup>,
    aging: Option<u64>,
}

#[derive(Clone, Debug)]
enum Op {
    Arrive { group: usize, priority: u8 },
    End { pick: usize },
    Abandon { pick: usize },
    Status { agent: usize, status: usize },
    Limit { agent: usize, limit: u32 },
    Wait { secs: i64 },
}

#[derive(Clone, Debug)]
struct Step {
    op: Op,
    /// Seconds the command's stamp lies before the desk's clock (R-C3).
    skew: i64,
}

fn setup() -> impl Strategy<Value = Setup> {
    (2usize..=3).prop_flat_map(|groups| {
        let agent = (
            prop::collection::btree_map(0..groups, 1u8..=5, 0..=groups),
            1u32..=3,
            any::<bool>(),
        )
            .prop_map(|(groups, limit, online)| AgentSetup {
                groups: groups.into_iter().collect(),
                limit,
                online,
            });
        (
            Just(groups),
            prop::collection::vec(0..STRATEGIES.len(), groups),
            prop::collection::vec(agent, 2..=4),
            prop_oneof![Just(None), Just(Some(30)), Just(Some(600))],
        )
            .prop_map(|(groups, strategies, agents, aging)| Setup {
                groups,
                strategies,
                agents,
                aging,
            })
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..3, 0u8..4).prop_map(|(group, priority)| Op::Arrive { group, priority }),
        3 => any::<usize>().prop_map(|pick| Op::End { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Abandon { pick }),
        3 => (0usize..4, 0usize..3).prop_map(|(agent, status)| Op::Status { agent, status }),
        1 => (0usize..4, 1u32..=3).prop_map(|(agent, limit)| Op::Limit { agent, limit }),
        2 => (1i64..120).prop_map(|secs| Op::Wait { secs }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (op(), prop_oneof![6 => Just(0i64), 1 => 1i64..90]).prop_map(|(op, skew)| Step { op, skew })
}

fn agent_id(i: usize) -> String {
    format!("a{i}")
}

fn setup_commands(setup: &Setup) -> Vec<Command> {
    let mut commands = Vec::new();
    for (g, s) in GROUPS.iter().take(setup.groups).zip(&setup.strategies) {
        commands.push(Command::RegisterGroup(
            GroupSpec::new(*g).strategy(STRATEGIES[*s]),
        ));
    }
    for (i, a) in setup.agents.iter().enumerate() {
        let mut spec = AgentSpec::new(agent_id(i))
            .limit(a.limit)
            .status(if a.online {
                AgentStatus::Online
            } else {
                AgentStatus::Offline
            });
        for (g, priority) in &a.groups {
            spec = spec.group_with_rank(GROUPS[*g], *priority);
        }
        commands.push(Command::RegisterAgent(spec));
    }
    commands
}

/// Turns a step into a command, given the conversations so far. Picks among known ids (ended or
/// abandoned ones included, so refusals happen too).
fn command(step: &Step, setup: &Setup, next_id: &mut usize, ids: &mut Vec<String>) -> Command {
    let pick = |p: usize| ids.get(p % ids.len().max(1)).cloned();
    match &step.op {
        Op::Arrive { group, priority } => {
            let id = format!("c{next_id}");
            *next_id += 1;
            ids.push(id.clone());
            let group = GROUPS[group % setup.groups];
            Command::VisitorArrives(
                Arrival::new(id.as_str(), format!("v{}", *next_id % 5), group).priority(*priority),
            )
        }
        Op::End { pick: p } => match pick(*p) {
            Some(id) => Command::EndConversations {
                conversations: vec![id.into()],
                reason: EndReason::Agent,
            },
            None => Command::Tick,
        },
        Op::Abandon { pick: p } => match pick(*p) {
            Some(id) => Command::VisitorLeaves {
                conversation: id.into(),
            },
            None => Command::Tick,
        },
        Op::Status { agent, status } => Command::AgentStatusChanged {
            agent: agent_id(agent % setup.agents.len()).into(),
            status: [AgentStatus::Online, AgentStatus::Busy, AgentStatus::Offline][*status % 3]
                .clone(),
        },
        Op::Limit { agent, limit } => Command::UpdateAgent(AgentUpdate {
            skills: None,
            agent: agent_id(agent % setup.agents.len()).into(),
            limit: Some(Limit::Fixed(*limit)),
            groups: None,
            schedules: None,
        }),
        Op::Wait { .. } => Command::Tick,
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// The invariants, from the public queries alone.
fn check(engine: &Engine, aging: Option<u64>) -> Result<(), TestCaseError> {
    let agents: Vec<_> = engine
        .agents()
        .map(|a| engine.agent(a).expect("listed agents are known"))
        .collect();
    // (group, rank, arrival index, id) of every queued conversation, for the model queue.
    let mut model: BTreeMap<String, Vec<(i64, usize, String)>> = BTreeMap::new();
    let (mut queued, mut active) = (0u64, 0u64);
    for (index, id) in engine.conversations().enumerate() {
        let view = engine
            .conversation(id)
            .expect("listed conversations are known");
        match &view.state {
            ConversationState::Queued => {
                queued += 1;
                // R-Q4: nobody who could take it is free.
                for a in &agents {
                    let could = a.status == AgentStatus::Online
                        && a.groups.iter().any(|m| m.group == view.group)
                        && a.load < a.limit;
                    prop_assert!(
                        !could,
                        "{id} waits in {} while {} is Online with room ({}/{})",
                        view.group,
                        a.id,
                        a.load,
                        a.limit
                    );
                }
                let priority = i64::from(view.priority);
                let rank = match aging {
                    None => -priority,
                    Some(step) => {
                        view.arrived_at.timestamp_millis() - priority * (step as i64) * 1000
                    }
                };
                model.entry(view.group.to_string()).or_default().push((
                    rank,
                    index,
                    id.to_string(),
                ));
            }
            ConversationState::Active { agent } => {
                active += 1;
                let holder = agents
                    .iter()
                    .find(|a| &a.id == agent)
                    .expect("its agent is known");
                prop_assert!(holder.conversations.contains(id));
                prop_assert_eq!(view.position, None);
            }
            _ => prop_assert_eq!(view.position, None),
        }
    }
    for a in &agents {
        prop_assert_eq!(a.load as usize, a.conversations.len());
    }
    // R-Q1, R-Q2: each queue is in model order, and positions match.
    for g in engine.groups() {
        let mut expected = model.remove(g.as_str()).unwrap_or_default();
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, _, id)| id).collect();
        let actual: Vec<String> = engine
            .queue(g)
            .expect("known")
            .map(|c| c.to_string())
            .collect();
        prop_assert_eq!(&actual, &expected, "queue of {}", g);
        for (i, id) in actual.iter().enumerate() {
            let position = engine.conversation(id.as_str()).expect("known").position;
            prop_assert_eq!(position, Some(i as u32 + 1));
        }
        prop_assert_eq!(engine.group(g).expect("known").waiting, actual.len());
    }
    let counters = engine.counters();
    prop_assert_eq!((counters.waiting, counters.active), (queued, active));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/work_conservation.txt",
        ))),
        ..ProptestConfig::default()
    })]

    // R-Q4, R-D1, R-Q1, R-Q2, R-C1, R-C3, R-C4, R-C6.
    #[test]
    fn r_q4_no_conversation_waits_while_an_eligible_agent_has_room(
        setup in setup(),
        steps in prop::collection::vec(step(), 100..300),
        cut in any::<prop::sample::Index>(),
    ) {
        let config = Config {
            queue: QueueConfig { aging_step_secs: setup.aging, ..QueueConfig::default() },
            ..Config::default()
        };
        let mut engine = Engine::new(config.clone()).expect("valid");
        let mut twin = Engine::new(config).expect("valid");
        let mut now = t0();
        for c in setup_commands(&setup) {
            let outcome = engine.handle(now, c.clone()).expect("setup");
            prop_assert_eq!(json(&outcome), json(&twin.handle(now, c).expect("setup")));
            check(&engine, setup.aging)?;
        }

        let cut = cut.index(steps.len() + 1);
        let mut restored: Option<Engine> = None;
        let (mut next_id, mut ids) = (0usize, Vec::new());
        for (i, step) in steps.iter().enumerate() {
            if i == cut {
                let text = json(&engine.snapshot());
                let snapshot: Snapshot = serde_json::from_str(&text).expect("deserializes");
                restored = Some(Engine::restore(snapshot).expect("restores"));
            }
            if let Op::Wait { secs } = step.op {
                now += TimeDelta::seconds(secs);
            }
            let command = command(step, &setup, &mut next_id, &mut ids);
            let at = now - TimeDelta::seconds(step.skew);
            let clock = engine.now();
            let before = json(&engine.snapshot());
            let result = engine.handle(at, command.clone());
            match &result {
                // R-C4: a refusal changes nothing.
                Err(_) => prop_assert_eq!(&json(&engine.snapshot()), &before),
                Ok(outcome) => {
                    // R-C3: the clock never runs backwards; it reaches the command's time
                    // unless the command was a batch with every item refused (R-C4: then
                    // nothing changes, not even the clock).
                    prop_assert!(engine.now() >= clock);
                    let all_refused = !outcome.results.is_empty()
                        && outcome.results.iter().all(|r| r.result.is_err());
                    if all_refused {
                        prop_assert_eq!(&json(&engine.snapshot()), &before);
                    } else {
                        prop_assert!(engine.now() >= Some(at));
                    }
                    // R-A4: automatic work never takes an agent past its limit (a lowered
                    // limit may leave it above, never a new assignment).
                    for event in &outcome.events {
                        if let Event::ConversationAssigned { agent, load, limit, .. } = event {
                            prop_assert!(load <= limit, "{} assigned past its limit: {:?}", agent, event);
                        }
                    }
                }
            }
            let result = json(&result);
            // R-C1: the same commands give the same outcomes.
            prop_assert_eq!(&json(&twin.handle(at, command.clone())), &result);
            // R-C6: the restored engine goes on exactly like the one never stopped.
            if let Some(restored) = restored.as_mut() {
                prop_assert_eq!(&json(&restored.handle(at, command.clone())), &result, "step {} after a cut at {}", i, cut);
            }
            check(&engine, setup.aging)?;
        }
        if let Some(restored) = restored {
            prop_assert_eq!(json(&restored.snapshot()), json(&engine.snapshot()));
        }
        prop_assert_eq!(json(&twin.snapshot()), json(&engine.snapshot()));
    }
}
