//! Skills, staged requirements and best skilled (R-SK1..R-SK5, R-B1, R-K5): a desk whose agents
//! hold skills with levels, and whose conversations require skills in stages that relax over
//! time. Every story goes through the public API and is written from the design
//! (`SKILLS.md`) and the SPEC, as a user of a contact-center product would expect; bad input
//! leaves the engine as it was (R-C4).

mod common;

use chrono::TimeDelta;
use common::*;
use serde_json::{Value, json};
use switchboard::{
    AgentSpec, AgentStatus, AgentUpdate, Arrival, AssignReason, Command, Config, ConversationState,
    DrainTrigger, Engine, Error, Event, GroupSpec, GroupUpdate, KindSpec, LastAgent, SkillId,
    SkillLevel, SkillMatch, Snapshot, Stage, Strategy, Target,
};

/// A desk that declares four skills and nothing else.
fn config() -> Config {
    Config {
        skills: ["english", "billing", "spanish", "vip"]
            .into_iter()
            .map(SkillId::from)
            .collect(),
        ..Config::default()
    }
}

/// A desk under [`config`] with group `support` (least recently assigned).
fn desk() -> Desk {
    let mut desk = Desk::with_config(config());
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk
}

/// Registers an Online agent with a fixed limit, its groups and its skills.
fn agent(desk: &mut Desk, id: &str, limit: u32, groups: &[&str], skills: &[(&str, u8)]) -> Ran {
    let mut spec = AgentSpec::new(id).status(AgentStatus::Online).limit(limit);
    for g in groups {
        spec = spec.group(*g);
    }
    for (skill, level) in skills {
        spec = spec.skill(*skill, *level);
    }
    desk.register(spec)
}

fn levels(skills: &[(&str, u8)]) -> Vec<SkillLevel> {
    skills
        .iter()
        .map(|(skill, level)| SkillLevel::new(*skill, *level))
        .collect()
}

/// English and billing at level 5 or better for 30 seconds, then any billing agent.
fn english_billing(conversation: &str, group: &str) -> Arrival {
    Arrival::new(conversation, conversation, group)
        .stage(
            Stage::new()
                .require("english", 5)
                .require("billing", 5)
                .for_ms(30_000),
        )
        .stage(Stage::new().require("billing", 1))
}

/// A conversation with one stage that requires `skills` for good.
fn needing(conversation: &str, group: &str, skills: &[(&str, u8)]) -> Arrival {
    let mut stage = Stage::new();
    for (skill, level) in skills {
        stage = stage.require(*skill, *level);
    }
    Arrival::new(conversation, conversation, group).stage(stage)
}

/// The stage changes in `events`: (conversation, stage, requires, groups).
fn stages(events: &[Event]) -> Vec<(String, u32, Vec<SkillLevel>, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StageAdvanced {
                conversation,
                stage,
                requires,
                groups,
            } => Some((
                conversation.to_string(),
                *stage,
                requires.clone(),
                groups.iter().map(|g| g.to_string()).collect(),
            )),
            _ => None,
        })
        .collect()
}

fn advanced(
    conversation: &str,
    stage: u32,
    requires: &[(&str, u8)],
    groups: &[&str],
) -> (String, u32, Vec<SkillLevel>, Vec<String>) {
    (
        conversation.into(),
        stage,
        levels(requires),
        groups.iter().map(|g| g.to_string()).collect(),
    )
}

/// The skill explanation of the assignment (or offer) of `conversation` in `events`.
fn skill_match(events: &[Event], conversation: &str) -> Option<SkillMatch> {
    events
        .iter()
        .find_map(|e| match e {
            Event::ConversationAssigned {
                conversation: c,
                skills,
                ..
            }
            | Event::ConversationOffered {
                conversation: c,
                skills,
                ..
            } if c.as_str() == conversation => Some(skills.as_deref().cloned()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{conversation} was assigned or offered in {events:?}"))
}

/// A [`SkillMatch`] as (stage, required with the agent's levels, preferred matched).
fn explained(m: &SkillMatch) -> (u32, Vec<SkillLevel>, Vec<String>) {
    (
        m.stage,
        m.required.clone(),
        m.preferred.iter().map(|s| s.to_string()).collect(),
    )
}

fn explanation(
    stage: u32,
    required: &[(&str, u8)],
    preferred: &[&str],
) -> (u32, Vec<SkillLevel>, Vec<String>) {
    (
        stage,
        levels(required),
        preferred.iter().map(|s| s.to_string()).collect(),
    )
}

/// A conversation's (stage, requires) by the view.
fn stage_of(desk: &Desk, conversation: &str) -> (Option<u32>, Vec<SkillLevel>) {
    let view = desk.engine.conversation(conversation).expect("known");
    (view.stage, view.requires)
}

fn position(desk: &Desk, conversation: &str) -> Option<u32> {
    desk.engine
        .conversation(conversation)
        .expect("known")
        .position
}

fn strategy(strategy: Strategy) -> AssignReason {
    AssignReason::Strategy { strategy }
}

const LRA: Strategy = Strategy::LeastRecentlyAssigned;

// ---- R-SK2: stages relax over time ------------------------------------------------------------

/// R-SK2: English-billing work waits while only a billing agent without English is free; its
/// stage boundary is the next deadline; a millisecond before it nothing happens; at it, the
/// conversation relaxes to "any billing agent" (`StageAdvanced`) and is routed again at once.
#[test]
fn r_sk2_english_billing_work_relaxes_to_any_billing_agent_exactly_at_the_boundary() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 6)]);
    let arrived = desk.arrive_as(english_billing("c1", "support"));
    assert!(pairs(&arrived.events).is_empty(), "bo speaks no English");
    assert_eq!(desk.queue("support"), ["c1"]);
    assert_eq!(
        stage_of(&desk, "c1"),
        (Some(0), levels(&[("english", 5), ("billing", 5)]))
    );
    let boundary = t0() + TimeDelta::seconds(30);
    assert_eq!(arrived.next_deadline, Some(boundary));
    assert_eq!(desk.engine.next_deadline(), Some(boundary));

    desk.now = boundary - TimeDelta::milliseconds(1);
    let early = desk.run(Command::Tick);
    assert!(stages(&early.events).is_empty(), "{:?}", early.events);
    assert!(pairs(&early.events).is_empty(), "{:?}", early.events);
    assert_eq!(stage_of(&desk, "c1").0, Some(0), "a millisecond early");
    assert_eq!(desk.engine.next_deadline(), Some(boundary));

    desk.now = boundary;
    let due = desk.run(Command::Tick);
    assert_eq!(
        stages(&due.events),
        [advanced("c1", 1, &[("billing", 1)], &[])]
    );
    assert_eq!(
        assignments(&due.events),
        [("c1".into(), "bo".into(), strategy(LRA))]
    );
    let relaxed = due
        .events
        .iter()
        .position(|e| matches!(e, Event::StageAdvanced { .. }));
    let assigned = due
        .events
        .iter()
        .position(|e| matches!(e, Event::ConversationAssigned { .. }));
    assert!(
        relaxed < assigned,
        "the stage changes first: {:?}",
        due.events
    );
    let why = skill_match(&due.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(1, &[("billing", 6)], &[]));
}

/// R-SK2: stage 0 goes to an agent who holds both skills at the levels required, not to the
/// billing expert the strategy would pick otherwise; once held, no stage deadline is left.
#[test]
fn r_sk2_stage_zero_goes_to_an_agent_with_every_required_skill() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 9)]);
    agent(
        &mut desk,
        "cy",
        2,
        &["support"],
        &[("english", 4), ("billing", 9)],
    );
    agent(
        &mut desk,
        "ana",
        2,
        &["support"],
        &[("english", 7), ("billing", 5)],
    );
    let arrived = desk.arrive_as(english_billing("c1", "support"));
    assert_eq!(
        assignments(&arrived.events),
        [("c1".into(), "ana".into(), strategy(LRA))],
        "bo lacks English, cy's English is 4"
    );
    let why = skill_match(&arrived.events, "c1").expect("c1 has stages");
    assert_eq!(
        explained(&why),
        explanation(0, &[("english", 7), ("billing", 5)], &[])
    );
    assert_eq!(desk.engine.next_deadline(), None, "a held conversation");
    // Work without requirements still follows the strategy alone: bo was never assigned.
    let plain = desk.arrive("c2", "v2", "support");
    assert_eq!(pairs(&plain.events), [("c2".into(), "bo".into())]);
}

/// R-SK2: a conversation whose stage relaxes keeps its place in the queue: it stays between
/// the one that arrived before it and the one that arrived after, and when the billing agent
/// frees up, it takes them in queue order.
#[test]
fn r_sk2_a_relaxed_conversation_keeps_its_place() {
    let mut desk = desk();
    agent(&mut desk, "bo", 1, &["support"], &[("billing", 6)]);
    desk.arrive("x0", "x0", "support"); // bo is full
    desk.arrive("a", "a", "support");
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(english_billing("c1", "support"));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive("b", "b", "support");
    assert_eq!(desk.queue("support"), ["a", "c1", "b"]);
    assert_eq!(position(&desk, "c1"), Some(2));

    let events = desk.advance(TimeDelta::seconds(30));
    assert_eq!(stages(&events), [advanced("c1", 1, &[("billing", 1)], &[])]);
    assert_eq!(desk.queue("support"), ["a", "c1", "b"]);
    assert_eq!(position(&desk, "c1"), Some(2));
    assert_eq!(stage_of(&desk, "c1"), (Some(1), levels(&[("billing", 1)])));
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::ConversationQueued { .. } | Event::QueuePositionChanged { .. }
        )),
        "no one moved: {events:?}"
    );

    assert_eq!(pairs(&desk.end("x0").events), [("a".into(), "bo".into())]);
    assert_eq!(pairs(&desk.end("a").events), [("c1".into(), "bo".into())]);
    assert_eq!(pairs(&desk.end("c1").events), [("b".into(), "bo".into())]);
}

/// R-SK2: when a host ticks late, every stage that fell due is entered, one event each, in
/// order.
#[test]
fn r_sk2_several_stages_due_at_once_each_emit_an_event_in_order() {
    let mut desk = desk();
    desk.arrive_as(
        Arrival::new("c1", "v1", "support")
            .stage(Stage::new().require("english", 9).for_ms(10_000))
            .stage(Stage::new().require("english", 5).for_ms(10_000))
            .stage(Stage::new().require("english", 1)),
    );
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(10))
    );
    desk.wait(TimeDelta::minutes(1));
    let late = desk.run(Command::Tick);
    assert_eq!(
        stages(&late.events),
        [
            advanced("c1", 1, &[("english", 5)], &[]),
            advanced("c1", 2, &[("english", 1)], &[]),
        ]
    );
    assert_eq!(stage_of(&desk, "c1"), (Some(2), levels(&[("english", 1)])));
    assert_eq!(desk.engine.next_deadline(), None, "the last stage lasts");
}

/// R-SK2: stage times count from the arrival, not from the latest queueing: a conversation
/// served for ten seconds and then back in the queue still relaxes 30 seconds after it
/// arrived.
#[test]
fn r_sk2_stage_times_count_from_the_arrival_not_the_latest_queueing() {
    let mut desk = desk();
    agent(
        &mut desk,
        "ana",
        2,
        &["support"],
        &[("english", 9), ("billing", 9)],
    );
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 5)]);
    desk.arrive_as(english_billing("c1", "support"));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    desk.wait(TimeDelta::seconds(10));
    desk.run(Command::RemoveAgent {
        agent: "ana".into(),
    });
    assert_eq!(desk.queue("support"), ["c1"], "bo speaks no English");
    let boundary = t0() + TimeDelta::seconds(30);
    assert_eq!(desk.engine.next_deadline(), Some(boundary));
    let events = desk.advance(TimeDelta::seconds(20));
    assert_eq!(stages(&events), [advanced("c1", 1, &[("billing", 1)], &[])]);
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
}

/// R-SK2: a conversation that stops waiting before its stage boundary (the visitor leaves)
/// drops its stage deadline: no stage change follows.
#[test]
fn r_sk2_a_conversation_that_stops_waiting_drops_its_stage_deadline() {
    let mut desk = desk();
    desk.arrive_as(english_billing("c1", "support"));
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(30))
    );
    desk.wait(TimeDelta::seconds(5));
    desk.run(Command::VisitorLeaves {
        conversation: "c1".into(),
    });
    assert_eq!(desk.engine.next_deadline(), None);
    let events = desk.advance(TimeDelta::minutes(1));
    assert!(stages(&events).is_empty(), "{events:?}");
}

/// R-SK2: a held conversation does not change stage; when its agent is removed and it waits
/// again, the stages that fell due meanwhile are entered (by the next Tick at the latest), and
/// an agent who qualifies for the stage now in force takes it.
#[test]
fn r_sk2_a_held_conversation_keeps_its_stage_until_it_waits_again() {
    let mut desk = desk();
    agent(
        &mut desk,
        "ana",
        2,
        &["support"],
        &[("english", 9), ("billing", 5)],
    );
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 5)]);
    desk.arrive_as(
        Arrival::new("c1", "v1", "support")
            .stage(Stage::new().require("english", 9).for_ms(10_000))
            .stage(Stage::new().require("english", 5).for_ms(10_000))
            .stage(Stage::new().require("billing", 1)),
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    let held = desk.advance(TimeDelta::minutes(1));
    assert!(stages(&held).is_empty(), "{held:?}");
    assert_eq!(stage_of(&desk, "c1").0, Some(0));

    let mut events = desk
        .run(Command::RemoveAgent {
            agent: "ana".into(),
        })
        .events;
    events.extend(desk.run(Command::Tick).events);
    assert_eq!(
        stages(&events),
        [
            advanced("c1", 1, &[("english", 5)], &[]),
            advanced("c1", 2, &[("billing", 1)], &[]),
        ]
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
    let why = skill_match(&events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(2, &[("billing", 5)], &[]));
}

// ---- R-SK3: best skilled -----------------------------------------------------------------------

/// A desk with group `billing` under best skilled.
fn best_skilled_desk() -> Desk {
    let mut desk = Desk::with_config(config());
    desk.group("billing", Strategy::BestSkilled);
    desk
}

fn best(conversation: &str, require: &[(&str, u8)], prefer: &[(&str, u8)]) -> Arrival {
    let mut stage = Stage::new();
    for (skill, level) in require {
        stage = stage.require(*skill, *level);
    }
    for (skill, level) in prefer {
        stage = stage.prefer(*skill, *level);
    }
    Arrival::new(conversation, conversation, "billing").stage(stage)
}

/// R-SK3, R-B1: best skilled gives billing work to the level-9 agent over the level-5 one
/// who has been idle longer (never assigned); work without requirements goes least recently
/// assigned.
#[test]
fn r_sk3_best_skilled_picks_level_9_over_level_5_idle_longer() {
    let mut desk = best_skilled_desk();
    agent(&mut desk, "bo", 3, &["billing"], &[("billing", 9)]);
    agent(&mut desk, "ana", 3, &["billing"], &[("billing", 5)]);
    let plain = desk.arrive("p1", "p1", "billing");
    assert_eq!(
        assignments(&plain.events),
        [("p1".into(), "bo".into(), strategy(Strategy::BestSkilled))],
        "no requirements: least recently assigned, then registration order"
    );
    let c1 = desk.arrive_as(best("c1", &[("billing", 3)], &[]));
    assert_eq!(
        assignments(&c1.events),
        [("c1".into(), "bo".into(), strategy(Strategy::BestSkilled))],
        "level 9 beats level 5, though ana was never assigned"
    );
    let why = skill_match(&c1.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(0, &[("billing", 9)], &[]));
    // Plain work again: ana is the least recently assigned now.
    let plain = desk.arrive("p2", "p2", "billing");
    assert_eq!(pairs(&plain.events), [("p2".into(), "ana".into())]);
}

/// R-SK3: best skilled ranks by the sum of the agent's levels on the required skills only: an
/// agent with 9 + 2 beats one with 5 + 5 and one whose other, unrequired skills are high.
#[test]
fn r_sk3_best_skilled_sums_the_levels_on_the_required_skills() {
    let mut desk = best_skilled_desk();
    agent(
        &mut desk,
        "dan",
        3,
        &["billing"],
        &[("vip", 10), ("english", 5), ("billing", 5)],
    );
    agent(
        &mut desk,
        "bo",
        3,
        &["billing"],
        &[("english", 5), ("billing", 5)],
    );
    agent(
        &mut desk,
        "ana",
        3,
        &["billing"],
        &[("english", 9), ("billing", 2)],
    );
    let c1 = desk.arrive_as(best("c1", &[("english", 1), ("billing", 1)], &[]));
    assert_eq!(pairs(&c1.events), [("c1".into(), "ana".into())]);
    let why = skill_match(&c1.events, "c1").expect("c1 has stages");
    assert_eq!(
        explained(&why),
        explanation(0, &[("english", 9), ("billing", 2)], &[])
    );
}

/// R-SK3: between equal sums, more preferred skills matched (held at least at the preferred
/// level) wins; a preferred skill held below its level does not count; a higher sum beats any
/// preference.
#[test]
fn r_sk3_best_skilled_ties_go_to_preferred_skills_matched() {
    let mut desk = best_skilled_desk();
    agent(&mut desk, "ana", 3, &["billing"], &[("billing", 7)]);
    agent(
        &mut desk,
        "bo",
        3,
        &["billing"],
        &[("billing", 7), ("vip", 3)],
    );
    let c1 = desk.arrive_as(best("c1", &[("billing", 5)], &[("vip", 3)]));
    assert_eq!(pairs(&c1.events), [("c1".into(), "bo".into())]);
    let why = skill_match(&c1.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(0, &[("billing", 7)], &["vip"]));

    // vip 3 is below the preferred 4: no match, and the tie goes to the least recently
    // assigned.
    let c2 = desk.arrive_as(best("c2", &[("billing", 5)], &[("vip", 4)]));
    assert_eq!(pairs(&c2.events), [("c2".into(), "ana".into())]);
    let why = skill_match(&c2.events, "c2").expect("c2 has stages");
    assert_eq!(explained(&why), explanation(0, &[("billing", 7)], &[]));

    // A higher sum comes before preferences.
    agent(&mut desk, "cy", 3, &["billing"], &[("billing", 8)]);
    let c3 = desk.arrive_as(best("c3", &[("billing", 5)], &[("vip", 1)]));
    assert_eq!(pairs(&c3.events), [("c3".into(), "cy".into())]);
}

/// R-SK3: between equal sums and preferences, the least recently assigned agent wins (never
/// assigned first), then registration order.
#[test]
fn r_sk3_best_skilled_then_least_recently_assigned_then_registration_order() {
    let mut desk = best_skilled_desk();
    agent(&mut desk, "ana", 5, &["billing"], &[("billing", 5)]);
    agent(&mut desk, "bo", 5, &["billing"], &[("billing", 5)]);
    agent(&mut desk, "cy", 5, &["billing"], &[("billing", 5)]);
    let mut order = Vec::new();
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        let arrived = desk.arrive_as(best(c, &[("billing", 1)], &[]));
        order.extend(pairs(&arrived.events).into_iter().map(|(_, a)| a));
        desk.wait(TimeDelta::seconds(1));
    }
    assert_eq!(order, ["ana", "bo", "cy", "ana", "bo"]);
}

/// R-SK3: strategies other than best skilled ignore levels and preferences among qualified
/// agents: least recently assigned picks the first registered, though another is better.
#[test]
fn r_sk3_other_strategies_ignore_levels_and_preferences() {
    let mut desk = desk();
    agent(&mut desk, "ana", 3, &["support"], &[("billing", 2)]);
    agent(
        &mut desk,
        "bo",
        3,
        &["support"],
        &[("billing", 9), ("vip", 9)],
    );
    let c1 = desk.arrive_as(
        Arrival::new("c1", "v1", "support")
            .stage(Stage::new().require("billing", 1).prefer("vip", 1)),
    );
    assert_eq!(
        assignments(&c1.events),
        [("c1".into(), "ana".into(), strategy(LRA))]
    );
    let why = skill_match(&c1.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(0, &[("billing", 2)], &[]));
}

/// R-SK3, R-SK4: a group switched to best skilled at run time ranks by levels in the routing
/// keys it already has, not only in new ones: `ana` (billing 9) beats `bo` (billing 2), who
/// has waited longer since his last assignment.
#[test]
fn r_sk3_a_group_switched_to_best_skilled_ranks_its_existing_routing_keys_by_levels() {
    let mut desk = desk();
    agent(&mut desk, "ana", 2, &["support"], &[("billing", 9)]);
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 2)]);
    let c1 = desk.arrive_as(needing("c1", "support", &[("billing", 1)]));
    assert_eq!(
        assignments(&c1.events),
        [("c1".into(), "ana".into(), strategy(LRA))],
        "least recently assigned: both new, ana registered first"
    );
    // c1 stays active: the routing key (support, billing >= 1) stays.
    desk.run(Command::UpdateGroup(GroupUpdate {
        group: "support".into(),
        strategy: Some(Strategy::BestSkilled),
        limit: None,
        overflow: None,
        agent_cap: None,
    }));
    let c2 = desk.arrive_as(needing("c2", "support", &[("billing", 1)]));
    assert_eq!(
        assignments(&c2.events),
        [("c2".into(), "ana".into(), strategy(Strategy::BestSkilled))],
        "best skilled: 9 beats 2, though bo was assigned less recently"
    );
}

/// R-SK3, R-SK2: when a stage relaxes, best skilled ranks by the requirements of the stage
/// now in force.
#[test]
fn r_sk3_best_skilled_ranks_by_the_stage_in_force() {
    let mut desk = best_skilled_desk();
    agent(
        &mut desk,
        "ana",
        2,
        &["billing"],
        &[("billing", 3), ("english", 9)],
    );
    agent(
        &mut desk,
        "bo",
        2,
        &["billing"],
        &[("billing", 8), ("english", 1)],
    );
    desk.arrive_as(
        Arrival::new("c1", "v1", "billing")
            .stage(
                Stage::new()
                    .require("billing", 9)
                    .require("english", 1)
                    .for_ms(10_000),
            )
            .stage(Stage::new().require("billing", 1)),
    );
    assert_eq!(desk.queue("billing"), ["c1"]);
    let events = desk.advance(TimeDelta::seconds(10));
    assert_eq!(
        assignments(&events),
        [("c1".into(), "bo".into(), strategy(Strategy::BestSkilled))],
        "billing alone counts now: 8 beats 3"
    );
    let why = skill_match(&events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(1, &[("billing", 8)], &[]));
}

/// R-SK3, R-S4: an overflow group under best skilled ranks its members by the conversation's
/// requirements.
#[test]
fn r_sk3_an_overflow_group_under_best_skilled_ranks_by_the_requirements() {
    let mut desk = Desk::with_config(config());
    desk.group("experts", Strategy::BestSkilled);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("billing").overflow(&["experts"], 60),
    ));
    agent(&mut desk, "ana", 2, &["experts"], &[("billing", 4)]);
    agent(&mut desk, "bo", 2, &["experts"], &[("billing", 7)]);
    desk.arrive_as(needing("c1", "billing", &[("billing", 2)]));
    let events = desk.advance(TimeDelta::seconds(60));
    assert_eq!(
        assignments(&events),
        [(
            "c1".into(),
            "bo".into(),
            AssignReason::Overflow {
                group: "experts".into(),
                strategy: Strategy::BestSkilled
            }
        )]
    );
}

// ---- R-SK5: skills change at run time ---------------------------------------------------------

/// R-SK5, R-D1: a skill granted at run time drains the waiting work the agent now qualifies
/// for at once; a level raised does the same.
#[test]
fn r_sk5_a_skill_granted_at_run_time_drains_waiting_work_at_once() {
    let mut desk = desk();
    agent(&mut desk, "ana", 3, &["support"], &[("english", 5)]);
    desk.arrive_as(needing("c1", "support", &[("spanish", 3)]));
    desk.arrive_as(needing("c2", "support", &[("spanish", 8)]));
    assert_eq!(desk.queue("support"), ["c1", "c2"]);

    let granted = desk.run(Command::UpdateAgent(
        AgentUpdate::new("ana").skills(levels(&[("english", 5), ("spanish", 4)])),
    ));
    assert_eq!(
        assignments(&granted.events),
        [(
            "c1".into(),
            "ana".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::AgentUpdated
            }
        )]
    );
    assert_eq!(
        desk.agent_view("ana").skills,
        levels(&[("english", 5), ("spanish", 4)])
    );
    assert_eq!(desk.queue("support"), ["c2"]);

    let raised = desk.run(Command::UpdateAgent(
        AgentUpdate::new("ana").skills(levels(&[("spanish", 8)])),
    ));
    assert_eq!(pairs(&raised.events), [("c2".into(), "ana".into())]);
    assert!(desk.queue("support").is_empty());
}

/// R-SK5, R-SK4: a skill granted, or a group joined, at run time counts for requirement sets
/// that come into use later too, and so does every skill after a restore: each new routing
/// key finds its qualified members among the holders of its rarest skill, which follow every
/// change of skills and groups.
#[test]
fn r_sk5_r_sk4_skills_and_groups_changed_at_run_time_count_for_new_requirement_sets() {
    let mut desk = desk();
    desk.group("sales", LRA);
    agent(&mut desk, "ana", 5, &["support"], &[("english", 5)]);
    desk.run(Command::UpdateAgent(
        AgentUpdate::new("ana").skills(levels(&[("english", 5), ("spanish", 4)])),
    ));
    let c1 = desk.arrive_as(needing("c1", "support", &[("spanish", 3)]));
    assert_eq!(pairs(&c1.events), [("c1".into(), "ana".into())], "granted");

    desk.run(Command::UpdateAgent(AgentUpdate {
        groups: Some(vec![
            switchboard::Membership::new("support"),
            switchboard::Membership::new("sales"),
        ]),
        ..AgentUpdate::new("ana")
    }));
    let c2 = desk.arrive_as(needing("c2", "sales", &[("english", 2), ("spanish", 1)]));
    assert_eq!(
        pairs(&c2.events),
        [("c2".into(), "ana".into())],
        "joined sales"
    );

    desk.run(Command::UpdateAgent(
        AgentUpdate::new("ana").skills(levels(&[("english", 5)])),
    ));
    let c3 = desk.arrive_as(needing("c3", "sales", &[("spanish", 2)]));
    assert!(pairs(&c3.events).is_empty(), "spanish taken away: c3 waits");

    desk.engine = Engine::restore(desk.engine.snapshot()).expect("restores");
    let c4 = desk.arrive_as(needing("c4", "support", &[("english", 4)]));
    assert_eq!(
        pairs(&c4.events),
        [("c4".into(), "ana".into())],
        "after a restore"
    );
}

/// R-SK5: removing a skill keeps the work the agent holds; new work that needs it waits.
#[test]
fn r_sk5_removing_a_skill_keeps_held_work() {
    let mut desk = desk();
    agent(&mut desk, "ana", 3, &["support"], &[("spanish", 5)]);
    desk.arrive_as(needing("c1", "support", &[("spanish", 3)]));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));

    let removed = desk.run(Command::UpdateAgent(AgentUpdate::new("ana").skills(vec![])));
    assert!(
        !removed
            .events
            .iter()
            .any(|e| matches!(e, Event::ConversationRequeued { .. })),
        "{:?}",
        removed.events
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert!(desk.agent_view("ana").skills.is_empty());
    desk.arrive_as(needing("c2", "support", &[("spanish", 3)]));
    assert_eq!(desk.queue("support"), ["c2"], "ana has room but no Spanish");
    assert_eq!(desk.agent_view("ana").conversations, ["c1".into()]);
}

/// R-SK5, R-A2, R-D1: an agent who comes online takes the waiting work it qualifies for;
/// one who lacks the skill, coming online first, leaves it waiting.
#[test]
fn r_sk5_r_d1_an_agent_coming_online_takes_only_work_it_qualifies_for() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 9)]);
    agent(&mut desk, "ana", 2, &["support"], &[("english", 6)]);
    desk.status("bo", AgentStatus::Busy);
    desk.status("ana", AgentStatus::Busy);
    desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    assert!(pairs(&desk.status("bo", AgentStatus::Online).events).is_empty());
    let back = desk.status("ana", AgentStatus::Online);
    assert_eq!(
        assignments(&back.events),
        [(
            "c1".into(),
            "ana".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::BecameAssignable
            }
        )]
    );
}

/// R-SK2: a stage that only prefers skills requires nothing: any agent of the group may take
/// the conversation, and the explanation shows what it matched.
#[test]
fn r_sk2_a_stage_that_only_prefers_requires_nothing() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 9)]);
    let arrived = desk
        .arrive_as(Arrival::new("c1", "v1", "support").stage(Stage::new().prefer("english", 5)));
    assert_eq!(pairs(&arrived.events), [("c1".into(), "bo".into())]);
    let why = skill_match(&arrived.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(0, &[], &[]));
    assert_eq!(stage_of(&desk, "c1"), (Some(0), vec![]));
}

/// R-SK2, R-R1: an offered conversation is held: it does not change stage while the offer
/// stands; when the offer expires unanswered, it waits again, enters the stage that fell due,
/// and is offered to the agent who qualifies for it.
#[test]
fn r_sk2_r_r1_an_offer_holds_the_stage_until_it_expires() {
    let mut config = config();
    config.reception.auto_accept = false;
    config.reception.offer_timeout_secs = 60;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    agent(
        &mut desk,
        "ana",
        2,
        &["support"],
        &[("english", 6), ("billing", 6)],
    );
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 6)]);
    let arrived = desk.arrive_as(english_billing("c1", "support"));
    assert!(
        skill_match(&arrived.events, "c1").is_some(),
        "offered to ana"
    );
    let held = desk.advance(TimeDelta::seconds(59));
    assert!(stages(&held).is_empty(), "{held:?}");
    let mut events = desk.advance(TimeDelta::seconds(1));
    events.extend(desk.run(Command::Tick).events);
    assert_eq!(stages(&events), [advanced("c1", 1, &[("billing", 1)], &[])]);
    let offered: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOffered { agent, .. } => Some(agent.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(offered, ["bo"], "{events:?}");
    let why = skill_match(&events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(1, &[("billing", 6)], &[]));
}

/// R-SK1, R-D1: a newly registered agent takes the waiting work it qualifies for, and only
/// that.
#[test]
fn r_sk1_r_d1_a_registered_agent_takes_only_work_it_qualifies_for() {
    let mut desk = desk();
    desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    desk.arrive_as(needing("c2", "support", &[("billing", 5)]));
    let registered = agent(&mut desk, "bo", 3, &["support"], &[("billing", 5)]);
    assert_eq!(
        assignments(&registered.events),
        [(
            "c2".into(),
            "bo".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::Registered
            }
        )]
    );
    assert_eq!(desk.queue("support"), ["c1"]);
}

/// R-SK1, R-A1: an agent moved out of a group no longer takes that group's skilled work,
/// though it still holds the skill.
#[test]
fn r_sk1_an_agent_moved_out_of_a_group_takes_none_of_its_skilled_work() {
    let mut desk = desk();
    desk.group("billing", LRA);
    agent(&mut desk, "ana", 3, &["support"], &[("english", 6)]);
    desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    desk.end("c1");
    desk.run(Command::UpdateAgent(AgentUpdate {
        groups: Some(vec![switchboard::Membership::new("billing")]),
        ..AgentUpdate::new("ana")
    }));
    desk.arrive_as(needing("c2", "support", &[("english", 5)]));
    assert_eq!(desk.queue("support"), ["c2"]);
    let back = desk.run(Command::UpdateAgent(AgentUpdate {
        groups: Some(vec![switchboard::Membership::new("support")]),
        ..AgentUpdate::new("ana")
    }));
    assert_eq!(pairs(&back.events), [("c2".into(), "ana".into())]);
}

// ---- R-SK2, R-S4: overflow groups and stage groups ---------------------------------------------

/// R-SK2, R-S4: requirements apply in the overflow groups a conversation joins: after the
/// overflow, the English speaker of `general` takes it, not the first registered one.
#[test]
fn r_sk2_requirements_apply_in_overflow_groups() {
    let mut desk = Desk::with_config(config());
    desk.group("general", LRA);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("billing").overflow(&["general"], 60),
    ));
    agent(&mut desk, "bo", 2, &["general"], &[("billing", 9)]);
    agent(&mut desk, "cy", 2, &["general"], &[("english", 6)]);
    desk.arrive_as(needing("c1", "billing", &[("english", 5)]));
    desk.arrive_as(needing("c2", "billing", &[("spanish", 1)]));
    let events = desk.advance(TimeDelta::seconds(60));
    assert_eq!(
        assignments(&events),
        [(
            "c1".into(),
            "cy".into(),
            AssignReason::Overflow {
                group: "general".into(),
                strategy: LRA
            }
        )]
    );
    assert_eq!(desk.queue("billing"), ["c2"], "no one speaks Spanish");
    assert_eq!(desk.queue("general"), ["c2"]);
}

/// R-SK2: a stage with groups adds their agents as candidates from that stage on, with the
/// requirements in force, and they stay for later stages.
#[test]
fn r_sk2_stage_groups_join_from_that_stage_on_and_stay() {
    let mut desk = Desk::with_config(config());
    desk.group("billing", LRA);
    desk.group("general", LRA);
    agent(&mut desk, "bo", 2, &["general"], &[("billing", 2)]);
    desk.arrive_as(
        Arrival::new("c1", "v1", "billing")
            .stage(Stage::new().require("billing", 5).for_ms(10_000))
            .stage(
                Stage::new()
                    .require("billing", 5)
                    .group("general")
                    .for_ms(10_000),
            )
            .stage(Stage::new().require("billing", 1)),
    );
    let first = desk.advance(TimeDelta::seconds(10));
    assert_eq!(
        stages(&first),
        [advanced("c1", 1, &[("billing", 5)], &["general"])]
    );
    assert!(pairs(&first).is_empty(), "bo's billing is 2");
    assert_eq!(desk.queue("general"), ["c1"]);

    let second = desk.advance(TimeDelta::seconds(10));
    assert_eq!(stages(&second), [advanced("c1", 2, &[("billing", 1)], &[])]);
    assert_eq!(
        assignments(&second),
        [(
            "c1".into(),
            "bo".into(),
            AssignReason::Overflow {
                group: "general".into(),
                strategy: LRA
            }
        )],
        "general stays a candidate group"
    );
}

/// R-SK2: an agent of a stage's group does not take the conversation before that stage, though
/// it qualifies and is idle.
#[test]
fn r_sk2_stage_groups_do_not_join_before_their_stage() {
    let mut desk = Desk::with_config(config());
    desk.group("billing", LRA);
    desk.group("general", LRA);
    agent(&mut desk, "cy", 2, &["general"], &[("billing", 6)]);
    let arrived = desk.arrive_as(
        Arrival::new("c1", "v1", "billing")
            .stage(Stage::new().require("billing", 5).for_ms(10_000))
            .stage(Stage::new().require("billing", 5).group("general")),
    );
    assert!(
        pairs(&arrived.events).is_empty(),
        "general has not joined yet"
    );
    assert!(desk.queue("general").is_empty());
    let events = desk.advance(TimeDelta::seconds(10));
    assert_eq!(pairs(&events), [("c1".into(), "cy".into())]);
}

/// R-SK2, R-D1: an agent of a stage's group who frees capacity drains the conversation that
/// waits in its group through the stage, as it would an overflowed one.
#[test]
fn r_sk2_r_d1_an_agent_of_a_stage_group_drains_the_conversation_when_it_frees() {
    let mut desk = Desk::with_config(config());
    desk.group("billing", LRA);
    desk.group("general", LRA);
    agent(&mut desk, "bo", 1, &["general"], &[("billing", 6)]);
    desk.arrive("g1", "g1", "general"); // bo is full
    desk.arrive_as(
        Arrival::new("c1", "v1", "billing")
            .stage(Stage::new().require("billing", 5).for_ms(10_000))
            .stage(Stage::new().require("billing", 5).group("general")),
    );
    let events = desk.advance(TimeDelta::seconds(10));
    assert_eq!(
        stages(&events),
        [advanced("c1", 1, &[("billing", 5)], &["general"])]
    );
    assert!(pairs(&events).is_empty(), "bo is full");
    let freed = desk.end("g1");
    assert_eq!(
        assignments(&freed.events),
        [(
            "c1".into(),
            "bo".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
}

/// R-SK2, R-S4: when a stage boundary and the group's overflow fall at the same instant, the
/// stage changes first, then the overflow groups join, then the conversation is routed.
#[test]
fn r_sk2_a_stage_boundary_and_an_overflow_at_the_same_instant_stage_first() {
    let mut desk = Desk::with_config(config());
    desk.group("general", LRA);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("billing").overflow(&["general"], 30),
    ));
    agent(&mut desk, "bo", 2, &["general"], &[("billing", 3)]);
    desk.arrive_as(english_billing("c1", "billing"));
    let events = desk.advance(TimeDelta::seconds(30));
    let at = |f: fn(&Event) -> bool| {
        events
            .iter()
            .position(f)
            .unwrap_or_else(|| panic!("missing in {events:?}"))
    };
    let stage = at(|e| matches!(e, Event::StageAdvanced { .. }));
    let overflow = at(|e| matches!(e, Event::ConversationOverflowed { .. }));
    let assigned = at(|e| matches!(e, Event::ConversationAssigned { .. }));
    assert!(stage < overflow && overflow < assigned, "{events:?}");
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
}

// ---- R-SK4, R-D1, R-K5: drains with skills -----------------------------------------------------

/// R-SK4, R-D1: a freed agent takes the best waiting conversation (queue order) it qualifies
/// for, passing over the ones it does not; what it passed over keeps its place.
#[test]
fn r_sk4_a_freed_agent_takes_the_best_waiting_work_it_qualifies_for() {
    let mut desk = desk();
    agent(&mut desk, "ana", 1, &["support"], &[("billing", 5)]);
    desk.arrive("x0", "x0", "support");
    desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("c2", "support", &[("billing", 3)]));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive("c3", "c3", "support");
    assert_eq!(desk.queue("support"), ["c1", "c2", "c3"]);

    let freed = desk.end("x0");
    assert_eq!(
        assignments(&freed.events),
        [(
            "c2".into(),
            "ana".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
    assert_eq!(desk.queue("support"), ["c1", "c3"]);
    assert_eq!(pairs(&desk.end("c2").events), [("c3".into(), "ana".into())]);
    assert_eq!(desk.queue("support"), ["c1"]);
}

/// R-SK4, R-D1: priority comes before arrival among the work an agent qualifies for.
#[test]
fn r_sk4_a_drain_follows_queue_order_among_qualified_work() {
    let mut desk = desk();
    agent(&mut desk, "ana", 1, &["support"], &[("billing", 5)]);
    desk.arrive("x0", "x0", "support");
    desk.arrive_as(needing("c1", "support", &[("billing", 3)]));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("c2", "support", &[("english", 3)]).priority(9));
    desk.arrive_as(needing("c3", "support", &[("billing", 5)]).priority(5));
    assert_eq!(pairs(&desk.end("x0").events), [("c3".into(), "ana".into())]);
    assert_eq!(pairs(&desk.end("c3").events), [("c1".into(), "ana".into())]);
    assert_eq!(desk.queue("support"), ["c2"]);
}

/// R-SK4, R-D1: an agent freed who lacks the skill leaves the skilled work waiting, with room
/// to spare.
#[test]
fn r_sk4_an_unqualified_agent_freed_leaves_skilled_work_waiting() {
    let mut desk = desk();
    agent(&mut desk, "bo", 1, &["support"], &[("english", 9)]);
    desk.arrive("x0", "x0", "support");
    desk.arrive_as(needing("c1", "support", &[("spanish", 1)]));
    let freed = desk.end("x0");
    assert!(pairs(&freed.events).is_empty(), "{:?}", freed.events);
    assert_eq!(desk.queue("support"), ["c1"]);
    assert_eq!(desk.load("bo"), (0, 1));
}

/// R-SK4, R-K5: across its groups, a freed agent takes the best waiting work it qualifies
/// for: the head of one group's queue needs a skill it lacks, so it takes the other group's,
/// though it arrived later.
#[test]
fn r_sk4_r_k5_a_drain_looks_past_the_head_of_every_group() {
    let mut desk = desk();
    desk.group("billing", LRA);
    agent(
        &mut desk,
        "ana",
        1,
        &["support", "billing"],
        &[("billing", 4)],
    );
    desk.arrive("x0", "x0", "support");
    desk.arrive_as(needing("s1", "support", &[("english", 1)]));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("b1", "billing", &[("billing", 5)]));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("b2", "billing", &[("billing", 4)]));
    let freed = desk.end("x0");
    assert_eq!(pairs(&freed.events), [("b2".into(), "ana".into())]);
    assert_eq!(desk.queue("support"), ["s1"]);
    assert_eq!(desk.queue("billing"), ["b1"]);
}

// ---- R-S2, R-X1: preferences and manual work ---------------------------------------------------

/// R-SK2, R-S2: a designated agent must qualify: one without the skill is passed over for a
/// qualified agent of the group, though it has room.
#[test]
fn r_sk2_a_designated_agent_must_qualify() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 9)]);
    agent(&mut desk, "ana", 2, &["support"], &[("english", 6)]);
    let control =
        desk.arrive_as(Arrival::new("c0", "v0", "support").designated(Target::Agent("ana".into())));
    assert_eq!(
        assignments(&control.events),
        [("c0".into(), "ana".into(), AssignReason::DesignatedAgent)]
    );
    let arrived = desk.arrive_as(
        needing("c1", "support", &[("english", 5)]).designated(Target::Agent("bo".into())),
    );
    assert_eq!(
        assignments(&arrived.events),
        [("c1".into(), "ana".into(), strategy(LRA))]
    );
    assert_eq!(desk.load("bo"), (0, 2));

    // Waiting work designated to bo does not go to him when he frees up, either.
    desk.arrive("x1", "x1", "support"); // bo
    desk.arrive("x2", "x2", "support"); // bo is full: ana and bo hold two each
    assert_eq!(desk.load("bo"), (2, 2));
    desk.arrive_as(
        needing("c2", "support", &[("english", 5)]).designated(Target::Agent("bo".into())),
    );
    assert_eq!(desk.queue("support"), ["c2"]);
    let freed = desk.end("x1");
    assert!(pairs(&freed.events).is_empty(), "{:?}", freed.events);
    assert_eq!(pairs(&desk.end("c0").events), [("c2".into(), "ana".into())]);
}

/// R-SK2, R-S2: requirements apply in a designated group: its members without the skill are
/// passed over, and the conversation goes to a qualified agent of its own group.
#[test]
fn r_sk2_requirements_apply_in_a_designated_group() {
    let mut desk = desk();
    desk.group("vip", LRA);
    agent(&mut desk, "vic", 2, &["vip"], &[("vip", 9)]);
    agent(&mut desk, "ana", 2, &["support"], &[("english", 6)]);
    let arrived = desk.arrive_as(
        needing("c1", "support", &[("english", 5)]).designated(Target::Group("vip".into())),
    );
    assert_eq!(
        assignments(&arrived.events),
        [("c1".into(), "ana".into(), strategy(LRA))]
    );
    let control = desk
        .arrive_as(needing("c2", "support", &[("vip", 5)]).designated(Target::Group("vip".into())));
    assert_eq!(
        assignments(&control.events),
        [(
            "c2".into(),
            "vic".into(),
            AssignReason::DesignatedGroup { strategy: LRA }
        )]
    );
}

/// R-SK2, R-S2: the last agent must qualify: a returning visitor goes back to bo for plain
/// work, but not for work that needs English, which bo lacks.
#[test]
fn r_sk2_the_last_agent_must_qualify() {
    let mut desk = Desk::with_config(Config {
        last_agent: LastAgent {
            enabled: true,
            window_secs: None,
        },
        ..config()
    });
    desk.group("support", LRA);
    agent(&mut desk, "bo", 3, &["support"], &[("billing", 9)]);
    agent(&mut desk, "ana", 3, &["support"], &[("english", 6)]);
    desk.arrive("c1", "v1", "support"); // bo, registered first
    desk.end("c1");
    let back = desk.arrive("c2", "v1", "support");
    assert_eq!(
        assignments(&back.events),
        [("c2".into(), "bo".into(), AssignReason::LastAgent)]
    );
    desk.end("c2");
    let skilled = desk.arrive_as(Arrival {
        visitor: "v1".into(),
        ..needing("c3", "support", &[("english", 1)])
    });
    assert_eq!(
        assignments(&skilled.events),
        [("c3".into(), "ana".into(), strategy(LRA))]
    );
}

/// R-SK2, R-X1, R-B1: a manual assignment ignores skills; its explanation shows level 0 for
/// the required skill the agent lacks.
#[test]
fn r_sk2_r_x1_manual_assignment_ignores_skills() {
    let mut desk = desk();
    agent(&mut desk, "ana", 2, &["support"], &[("billing", 3)]);
    desk.arrive_as(
        Arrival::new("c1", "v1", "support").stage(
            Stage::new()
                .require("english", 5)
                .require("billing", 2)
                .prefer("billing", 3),
        ),
    );
    assert_eq!(desk.queue("support"), ["c1"]);
    let manual = desk.assign(&["c1"], Target::Agent("ana".into()));
    assert_eq!(
        assignments(&manual.events),
        [("c1".into(), "ana".into(), AssignReason::Manual)]
    );
    let why = skill_match(&manual.events, "c1").expect("c1 has stages");
    assert_eq!(
        explained(&why),
        explanation(0, &[("english", 0), ("billing", 3)], &["billing"])
    );
}

/// R-SK2, R-X2: a transfer to an agent ignores skills; a transfer to a group routes with the
/// requirements in force.
#[test]
fn r_sk2_r_x2_transfers_to_an_agent_ignore_skills_to_a_group_do_not() {
    let mut desk = desk();
    desk.group("billing", LRA);
    agent(&mut desk, "ana", 3, &["support"], &[("english", 6)]);
    agent(&mut desk, "bo", 3, &["billing"], &[("billing", 6)]);
    desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    desk.arrive_as(needing("c2", "support", &[("english", 5)]));
    let to_group = desk.run(Command::Transfer {
        conversation: "c1".into(),
        to: Target::Group("billing".into()),
    });
    assert!(pairs(&to_group.events).is_empty(), "bo speaks no English");
    assert_eq!(desk.queue("billing"), ["c1"]);

    let to_agent = desk.run(Command::Transfer {
        conversation: "c2".into(),
        to: Target::Agent("bo".into()),
    });
    assert_eq!(
        assignments(&to_agent.events),
        [("c2".into(), "bo".into(), AssignReason::Transfer)]
    );
    let why = skill_match(&to_agent.events, "c2").expect("c2 has stages");
    assert_eq!(explained(&why), explanation(0, &[("english", 0)], &[]));
}

/// R-SK2, R-R2: a redirect after a declined offer goes to another agent who qualifies, not
/// to the next one the strategy would pick.
#[test]
fn r_sk2_r_r2_a_redirect_goes_to_a_qualified_agent() {
    let mut config = config();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    agent(&mut desk, "ana", 2, &["support"], &[("english", 6)]);
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 9)]);
    agent(&mut desk, "cy", 2, &["support"], &[("english", 5)]);
    let offered = desk.arrive_as(needing("c1", "support", &[("english", 5)]));
    assert!(
        offered.events.iter().any(|e| matches!(e,
            Event::ConversationOffered { agent, .. } if agent.as_str() == "ana")),
        "{:?}",
        offered.events
    );
    let declined = desk.run(Command::DeclineOffer {
        conversation: "c1".into(),
        agent: "ana".into(),
    });
    let offers: Vec<(String, AssignReason)> = declined
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOffered { agent, reason, .. } => {
                Some((agent.to_string(), reason.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        offers,
        [("cy".into(), AssignReason::Redirect { strategy: LRA })],
        "bo lacks English"
    );
}

/// R-SK2, R-P2: in asynchronous mode, a claim of "the next one" passes over pooled work the
/// agent does not qualify for, and is refused when there is nothing it qualifies for; a stage
/// change happens in the pool too, and then the claim takes the relaxed conversation.
#[test]
fn r_sk2_r_p2_a_claim_of_the_next_one_takes_only_work_the_agent_qualifies_for() {
    let mut desk = Desk::with_config(Config {
        mode: switchboard::ReceptionMode::Asynchronous,
        ..config()
    });
    desk.group("support", LRA); // no one in it: its work waits in the pool for a claim
    desk.group("billing", LRA);
    agent(&mut desk, "ana", 3, &["billing"], &[("billing", 5)]);
    desk.arrive_as(english_billing("c1", "support"));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive("c2", "v2", "support");
    assert_eq!(pool(&desk), ["c1", "c2"]);
    let claim = Command::Claim {
        agent: "ana".into(),
        conversation: None,
    };
    let claimed = desk.run(claim.clone());
    assert_eq!(
        assignments(&claimed.events),
        [("c2".into(), "ana".into(), AssignReason::Claimed)]
    );
    let error = desk.refuse(claim.clone());
    assert!(
        matches!(&error, Error::AgentUnavailable { conversation, .. } if conversation.as_str() == "c1"),
        "{error:?}"
    );

    // A named claim respects skills too, as it respects every capacity dimension (R-K1).
    let error = desk.refuse(Command::Claim {
        agent: "ana".into(),
        conversation: Some("c1".into()),
    });
    assert!(
        matches!(&error, Error::AgentUnavailable { conversation, .. } if conversation.as_str() == "c1"),
        "{error:?}"
    );

    let relaxed = desk.advance(TimeDelta::seconds(29));
    assert_eq!(
        stages(&relaxed),
        [advanced("c1", 1, &[("billing", 1)], &[])]
    );
    assert_eq!(pool(&desk), ["c1"]);
    let claimed = desk.run(claim);
    assert_eq!(
        assignments(&claimed.events),
        [("c1".into(), "ana".into(), AssignReason::Claimed)]
    );
    let why = skill_match(&claimed.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(1, &[("billing", 5)], &[]));
}

/// R-SK2, R-X1: a manual assignment to a group picks "the best eligible member" (R-X1) with
/// the requirements in force, as a transfer to a group routes with them: the group's strategy
/// chooses among the members who qualify, so the English speaker gets the English work though
/// the strategy alone would pick the first registered.
#[test]
fn r_sk2_r_x1_manual_assignment_to_a_group_picks_a_qualified_member() {
    let mut desk = desk();
    desk.group("other", LRA); // no one in it: its work waits
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 5)]);
    agent(
        &mut desk,
        "ana",
        2,
        &["support"],
        &[("english", 5), ("billing", 5)],
    );
    desk.arrive_as(needing("c1", "other", &[("english", 5)]));
    let manual = desk.assign(&["c1"], Target::Group("support".into()));
    assert_eq!(
        assignments(&manual.events),
        [(
            "c1".into(),
            "ana".into(),
            AssignReason::ManualToGroup {
                strategy: Some(LRA)
            }
        )],
        "bo lacks English"
    );
}

/// R-SK4, R-S1: in a desk with skills, a group whose work so far all asked for skills keeps
/// no candidate index for work that asks for none until such work names it; the first such
/// conversation still goes at once to a free member, by the group's strategy, and so does one
/// assigned by hand to another group (R-X1), and after a restore.
#[test]
fn r_sk4_work_without_requirements_in_a_skilled_desk_finds_a_free_member() {
    let mut desk = desk();
    desk.group("other", LRA); // no one in it: its work waits
    agent(&mut desk, "ana", 3, &["support"], &[("billing", 5)]);
    agent(&mut desk, "bo", 3, &["support"], &[("billing", 5)]);
    desk.arrive_as(needing("c1", "support", &[("billing", 1)])); // ana
    desk.arrive("c2", "v2", "other");
    assert_eq!(desk.queue("other"), ["c2"]);
    let manual = desk.assign(&["c2"], Target::Group("support".into()));
    assert_eq!(
        assignments(&manual.events),
        [(
            "c2".into(),
            "bo".into(),
            AssignReason::ManualToGroup {
                strategy: Some(LRA)
            }
        )],
        "bo: never assigned; the first work without requirements support sees"
    );
    let c3 = desk.arrive("c3", "v3", "support");
    assert_eq!(
        assignments(&c3.events),
        [("c3".into(), "ana".into(), strategy(LRA))],
        "ana, assigned longer ago than bo"
    );
    let restored = Engine::restore(desk.engine.snapshot()).expect("restores");
    desk.engine = restored;
    let c4 = desk.arrive("c4", "v4", "support");
    assert_eq!(
        assignments(&c4.events),
        [("c4".into(), "bo".into(), strategy(LRA))],
        "after a restore too"
    );
}

// ---- R-B1: explanations -------------------------------------------------------------------------

/// R-B1: an offer (automatic reception off) carries the stage and skills for a conversation
/// with stages; a conversation without stages has none, and its JSON no `skills` field.
#[test]
fn r_b1_offers_and_assignments_explain_the_skills_only_with_stages() {
    let mut config = config();
    config.reception.auto_accept = false;
    let mut desk = Desk::with_config(config);
    desk.group("support", LRA);
    agent(
        &mut desk,
        "ana",
        3,
        &["support"],
        &[("english", 7), ("vip", 2)],
    );
    let offered = desk.arrive_as(
        Arrival::new("c1", "v1", "support")
            .stage(Stage::new().require("english", 5).prefer("vip", 2)),
    );
    let why = skill_match(&offered.events, "c1").expect("c1 has stages");
    assert_eq!(explained(&why), explanation(0, &[("english", 7)], &["vip"]));
    let offer = offered
        .events
        .iter()
        .find(|e| matches!(e, Event::ConversationOffered { .. }))
        .expect("an offer");
    assert_eq!(
        serde_json::to_value(offer).expect("serializes")["skills"],
        json!({ "stage": 0, "required": [{ "skill": "english", "level": 7 }], "preferred": ["vip"] })
    );

    let plain = desk.arrive("c2", "v2", "support");
    assert_eq!(skill_match(&plain.events, "c2"), None);
    let offer = plain
        .events
        .iter()
        .find(|e| matches!(e, Event::ConversationOffered { .. }))
        .expect("an offer");
    let json = serde_json::to_value(offer).expect("serializes");
    assert!(json.get("skills").is_none(), "{json}");
}

/// R-B1: an assignment of a conversation with stages carries the stage in force, the agent's
/// levels on the required skills and the preferred skills matched; without stages, `None`.
#[test]
fn r_b1_an_assignment_carries_the_skill_match() {
    let mut desk = desk();
    agent(
        &mut desk,
        "ana",
        3,
        &["support"],
        &[("vip", 1), ("english", 7), ("billing", 4)],
    );
    let assigned = desk.arrive_as(
        Arrival::new("c1", "v1", "support").stage(
            Stage::new()
                .require("billing", 2)
                .require("english", 5)
                .prefer("spanish", 1)
                .prefer("vip", 1),
        ),
    );
    let why = skill_match(&assigned.events, "c1").expect("c1 has stages");
    assert_eq!(
        explained(&why),
        explanation(0, &[("billing", 4), ("english", 7)], &["vip"]),
        "in the stage's order"
    );
    let plain = desk.arrive("c2", "v2", "support");
    assert_eq!(skill_match(&plain.events, "c2"), None);
}

// ---- Views -------------------------------------------------------------------------------------

/// R-SK1, R-SK2: the agent view shows its skills as given; the conversation view its stage and
/// what the stage in force requires, `None` and nothing without stages.
#[test]
fn r_sk1_r_sk2_views_show_skills_stage_and_requirements() {
    let mut desk = desk();
    agent(
        &mut desk,
        "ana",
        1,
        &["support"],
        &[("vip", 2), ("english", 7)],
    );
    assert_eq!(
        desk.agent_view("ana").skills,
        levels(&[("vip", 2), ("english", 7)])
    );
    let json = serde_json::to_value(desk.agent_view("ana")).expect("serializes");
    assert_eq!(json["skills"][0], json!({ "skill": "vip", "level": 2 }));

    desk.arrive("plain", "v0", "support");
    assert_eq!(stage_of(&desk, "plain"), (None, vec![]));
    desk.arrive_as(english_billing("c1", "support"));
    assert_eq!(
        stage_of(&desk, "c1"),
        (Some(0), levels(&[("english", 5), ("billing", 5)]))
    );
    desk.advance(TimeDelta::seconds(30));
    assert_eq!(stage_of(&desk, "c1"), (Some(1), levels(&[("billing", 1)])));
    let json =
        serde_json::to_value(desk.engine.conversation("c1").expect("known")).expect("serializes");
    assert_eq!(json["stage"], 1);
    assert_eq!(
        json["requires"],
        json!([{ "skill": "billing", "level": 1 }])
    );
}

// ---- R-K5 with skills ---------------------------------------------------------------------------

/// R-K5, R-SK4: kinds and skills together: a call needing Spanish goes to the Spanish speaker;
/// a call needing English waits for the English speaker's 100 units, though the Spanish one
/// is free after its call; when the English speaker's chat ends, the call drains to her.
#[test]
fn r_k5_r_sk4_a_voice_call_needing_a_skill_on_a_100_unit_agent() {
    let mut desk = Desk::with_config(Config {
        default_limit: 100,
        kinds: vec![KindSpec::new("chat", 25), KindSpec::new("voice", 100)],
        ..config()
    });
    desk.group("support", LRA);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .skill("english", 5),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .group("support")
            .skill("spanish", 5),
    );
    desk.arrive_as(Arrival::new("c1", "c1", "support").kind("chat")); // ana
    let v1 = desk.arrive_as(needing("v1", "support", &[("spanish", 3)]).kind("voice"));
    assert_eq!(pairs(&v1.events), [("v1".into(), "bo".into())]);
    desk.arrive_as(needing("v2", "support", &[("english", 3)]).kind("voice"));
    assert_eq!(desk.queue("support"), ["v2"], "ana has 75 units free");
    let bo_free = desk.end("v1");
    assert!(pairs(&bo_free.events).is_empty(), "bo speaks no English");
    let ana_free = desk.end("c1");
    assert_eq!(pairs(&ana_free.events), [("v2".into(), "ana".into())]);
    assert_eq!(desk.agent_view("ana").free_units, 0);
}

/// R-K5, R-SK4: a drain looks across kinds and requirement sets at once: 25 units free pass
/// over a chat needing Spanish and a call needing English that does not fit, for the English
/// chat behind them.
#[test]
fn r_k5_r_sk4_a_drain_passes_over_work_that_does_not_fit_or_qualify() {
    let mut desk = Desk::with_config(Config {
        default_limit: 100,
        kinds: vec![KindSpec::new("chat", 25), KindSpec::new("voice", 100)],
        ..config()
    });
    desk.group("support", LRA);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .skill("english", 5),
    );
    for c in ["x1", "x2", "x3", "x4"] {
        desk.arrive_as(Arrival::new(c, c, "support").kind("chat"));
    }
    desk.arrive_as(needing("s1", "support", &[("spanish", 1)]).kind("chat"));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("v1", "support", &[("english", 1)]).kind("voice"));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(needing("c1", "support", &[("english", 1)]).kind("chat"));
    assert_eq!(desk.queue("support"), ["s1", "v1", "c1"]);
    let freed = desk.end("x1");
    assert_eq!(pairs(&freed.events), [("c1".into(), "ana".into())]);
    assert_eq!(desk.queue("support"), ["s1", "v1"]);
}

// ---- Bad input ---------------------------------------------------------------------------------

/// A desk with `support`, `ana` holding English and a waiting conversation, for the bad-input
/// stories.
fn busy_desk() -> Desk {
    let mut desk = desk();
    agent(&mut desk, "ana", 1, &["support"], &[("english", 5)]);
    desk.arrive("x0", "x0", "support");
    desk.arrive_as(english_billing("c0", "support"));
    desk
}

/// R-SK1, R-C4: an agent's unknown skill, a level of 0 or 11 and a skill held twice are each
/// refused with their typed error, at registration and in an update; nothing changes.
#[test]
fn r_sk1_bad_agent_skills_are_refused_and_change_nothing() {
    let mut desk = busy_desk();
    let register = |skills: &[(&str, u8)]| {
        Command::RegisterAgent(AgentSpec {
            skills: levels(skills),
            ..AgentSpec::new("bo")
                .status(AgentStatus::Online)
                .group("support")
        })
    };
    let update = |skills: &[(&str, u8)]| {
        Command::UpdateAgent(AgentUpdate::new("ana").skills(levels(skills)))
    };
    let cases: [(&[(&str, u8)], Error); 4] = [
        (
            &[("english", 5), ("french", 5)],
            Error::UnknownSkill {
                skill: "french".into(),
            },
        ),
        (
            &[("english", 0)],
            Error::InvalidLevel {
                skill: "english".into(),
                level: 0,
            },
        ),
        (
            &[("billing", 11)],
            Error::InvalidLevel {
                skill: "billing".into(),
                level: 11,
            },
        ),
        (
            &[("english", 5), ("billing", 2), ("english", 6)],
            Error::DuplicateSkill {
                agent: "bo".into(),
                skill: "english".into(),
            },
        ),
    ];
    let ana = desk.agent_view("ana");
    for (skills, expected) in cases {
        assert_eq!(desk.refuse(register(skills)), expected, "{skills:?}");
        assert!(desk.engine.agent("bo").is_none());
        let expected = match expected {
            Error::DuplicateSkill { skill, .. } => Error::DuplicateSkill {
                agent: "ana".into(),
                skill,
            },
            other => other,
        };
        assert_eq!(desk.refuse(update(skills)), expected, "{skills:?}");
        assert_eq!(desk.agent_view("ana"), ana);
    }
    assert_eq!(
        Error::InvalidLevel {
            skill: "english".into(),
            level: 11
        }
        .to_string(),
        "skill `english` has level 11; levels run from 1 to 10"
    );
}

/// R-SK2, R-C4: malformed stages are refused with their typed error, naming the stage at
/// fault; the conversation is not created and nothing changes.
#[test]
fn r_sk2_bad_stages_are_refused_and_change_nothing() {
    let mut desk = busy_desk();
    let with = |stages: Vec<Stage>| Arrival {
        stages: Some(stages),
        ..Arrival::new("c1", "v1", "support")
    };
    let invalid = |stage: usize| Error::InvalidStages {
        conversation: "c1".into(),
        stage,
        problem: String::new(),
    };
    let cases: Vec<(&str, Arrival, Error)> = vec![
        ("an empty list", with(vec![]), invalid(0)),
        (
            "a zero duration",
            with(vec![
                Stage::new().require("english", 5).for_ms(0),
                Stage::new(),
            ]),
            invalid(0),
        ),
        (
            "a missing duration before the last stage",
            with(vec![
                Stage::new().require("english", 5).for_ms(1_000),
                Stage::new().require("english", 3),
                Stage::new(),
            ]),
            invalid(1),
        ),
        (
            "a duration on the last stage",
            with(vec![
                Stage::new().require("english", 5).for_ms(1_000),
                Stage::new().require("english", 3).for_ms(1_000),
            ]),
            invalid(1),
        ),
        (
            "a skill required twice in one stage",
            with(vec![
                Stage::new().require("english", 5).require("english", 3),
            ]),
            invalid(0),
        ),
        (
            "a skill preferred twice in one stage",
            with(vec![
                Stage::new().require("english", 5).for_ms(1_000),
                Stage::new().prefer("vip", 1).prefer("vip", 2),
            ]),
            invalid(1),
        ),
        (
            "an unknown required skill",
            with(vec![Stage::new().require("french", 5)]),
            Error::UnknownSkill {
                skill: "french".into(),
            },
        ),
        (
            "an unknown preferred skill",
            with(vec![
                Stage::new().require("english", 5).prefer("klingon", 1),
            ]),
            Error::UnknownSkill {
                skill: "klingon".into(),
            },
        ),
        (
            "a required level of 0",
            with(vec![Stage::new().require("english", 0)]),
            Error::InvalidLevel {
                skill: "english".into(),
                level: 0,
            },
        ),
        (
            "a preferred level of 11",
            with(vec![Stage::new().prefer("vip", 11)]),
            Error::InvalidLevel {
                skill: "vip".into(),
                level: 11,
            },
        ),
        (
            "an unknown group in a stage",
            with(vec![
                Stage::new().require("english", 5).for_ms(1_000),
                Stage::new().group("nowhere"),
            ]),
            Error::UnknownGroup {
                group: "nowhere".into(),
            },
        ),
    ];
    let deadline = desk.engine.next_deadline();
    for (what, arrival, expected) in cases {
        let error = desk.refuse(Command::VisitorArrives(arrival));
        match (&error, &expected) {
            (
                Error::InvalidStages {
                    conversation,
                    stage,
                    problem,
                },
                Error::InvalidStages { stage: want, .. },
            ) => {
                assert_eq!(
                    (conversation.as_str(), stage),
                    ("c1", want),
                    "{what}: {error:?}"
                );
                assert!(!problem.is_empty(), "{what}: says what is wrong");
            }
            _ => assert_eq!(error, expected, "{what}"),
        }
        assert!(desk.engine.conversation("c1").is_none(), "{what}");
        assert_eq!(desk.queue("support"), ["c0"], "{what}");
        assert_eq!(desk.engine.next_deadline(), deadline, "{what}");
    }
}

/// R-SK1, R-C5: a config naming a skill twice is refused by `Config::validate`, by
/// `Engine::new` and by `UpdateConfig`, naming the field.
#[test]
fn r_sk1_a_config_repeating_a_skill_is_refused() {
    let bad = Config {
        skills: ["english", "billing", "english"]
            .into_iter()
            .map(SkillId::from)
            .collect(),
        ..Config::default()
    };
    let expected =
        |error: &Error| matches!(error, Error::InvalidConfig { field, .. } if field == "skills[2]");
    let validated = bad.validate().expect_err("a repeated skill");
    assert!(expected(&validated), "{validated:?}");
    let created = Engine::new(bad.clone()).expect_err("a repeated skill");
    assert!(expected(&created), "{created:?}");
    let mut desk = busy_desk();
    let updated = desk.refuse(Command::UpdateConfig(bad));
    assert!(expected(&updated), "{updated:?}");
}

/// R-SK1, R-C4: a config that drops a skill an agent holds or an open conversation's stages
/// name is refused with `SkillInUse`, with how many of each; once neither uses it, the config
/// is accepted.
#[test]
fn r_sk1_removing_a_skill_in_use_is_refused_until_unused() {
    let mut desk = busy_desk(); // ana holds English; c0 names English and billing
    let without = |skill: &str| Config {
        skills: config()
            .skills
            .into_iter()
            .filter(|s| s.as_str() != skill)
            .collect(),
        ..config()
    };
    assert_eq!(
        desk.refuse(Command::UpdateConfig(without("english"))),
        Error::SkillInUse {
            skill: "english".into(),
            agents: 1,
            conversations: 1
        }
    );
    assert_eq!(
        desk.refuse(Command::UpdateConfig(without("billing"))),
        Error::SkillInUse {
            skill: "billing".into(),
            agents: 0,
            conversations: 1
        }
    );
    desk.run(Command::UpdateConfig(without("spanish")));
    // A preferred skill of a held conversation counts too.
    agent(&mut desk, "vic", 1, &["support"], &[]);
    desk.arrive_as(Arrival::new("p1", "p1", "support").stage(Stage::new().prefer("vip", 1)));
    assert_eq!(desk.holder("p1").as_deref(), Some("vic"));
    assert_eq!(
        desk.refuse(Command::UpdateConfig(without("vip"))),
        Error::SkillInUse {
            skill: "vip".into(),
            agents: 0,
            conversations: 1
        }
    );

    desk.run(Command::VisitorLeaves {
        conversation: "c0".into(),
    });
    assert_eq!(
        desk.refuse(Command::UpdateConfig(without("english"))),
        Error::SkillInUse {
            skill: "english".into(),
            agents: 1,
            conversations: 0
        }
    );
    desk.run(Command::UpdateAgent(AgentUpdate::new("ana").skills(vec![])));
    desk.run(Command::UpdateConfig(without("english")));
}

/// R-SK2: requirements that no agent meets are accepted: the conversation waits, with no
/// deadline of its own, until an agent gains the skill.
#[test]
fn r_sk2_requirements_no_agent_meets_are_accepted_and_wait() {
    let mut desk = desk();
    agent(&mut desk, "ana", 3, &["support"], &[("english", 9)]);
    let arrived = desk.arrive_as(needing("c1", "support", &[("english", 10), ("vip", 10)]));
    assert!(arrived.all_succeeded());
    assert!(matches!(state(&desk, "c1"), ConversationState::Queued));
    assert_eq!(desk.queue("support"), ["c1"]);
    assert_eq!(arrived.next_deadline, None);
    let granted = desk.run(Command::UpdateAgent(
        AgentUpdate::new("ana").skills(levels(&[("english", 10), ("vip", 10)])),
    ));
    assert_eq!(pairs(&granted.events), [("c1".into(), "ana".into())]);
}

// ---- Snapshots ---------------------------------------------------------------------------------

/// R-C6, R-SK2: a snapshot taken mid-stage restores with the stage deadline, and the restored
/// engine goes on with the same events: the stage advances at its time and the billing agent
/// takes the conversation.
#[test]
fn r_sk2_r_c6_a_snapshot_mid_stage_restores_and_continues_the_same() {
    let mut desk = desk();
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 6)]);
    desk.arrive_as(english_billing("c1", "support"));
    desk.advance(TimeDelta::seconds(10));
    let stored = serde_json::to_string(&desk.engine.snapshot()).expect("serializes");
    let snapshot: Snapshot = serde_json::from_str(&stored).expect("reads back");
    let mut restored = Engine::restore(snapshot).expect("restores");
    let boundary = t0() + TimeDelta::seconds(30);
    assert_eq!(restored.next_deadline(), Some(boundary));
    assert_eq!(restored.conversation("c1"), desk.engine.conversation("c1"));

    let original = desk.engine.handle(boundary, Command::Tick).expect("ticks");
    let again = restored.handle(boundary, Command::Tick).expect("ticks");
    assert_eq!(again, original);
    assert_eq!(
        stages(&original.events),
        [advanced("c1", 1, &[("billing", 1)], &[])]
    );
    assert_eq!(pairs(&original.events), [("c1".into(), "bo".into())]);
    assert_eq!(restored.snapshot(), desk.engine.snapshot());
}

/// R-C6, R-SK1: a snapshot written before skills (no `skills` in its config or on its agents,
/// no stages on its waiting conversations) restores as a desk without skills and goes on the
/// same.
#[test]
fn r_sk1_r_c6_a_snapshot_from_before_skills_restores() {
    let mut desk = Desk::new();
    desk.group("general", LRA);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("support").overflow(&["general"], 60),
    ));
    desk.agent("ana", 1, &["support"]);
    desk.agent("bo", 1, &["general"]);
    desk.arrive("c1", "v1", "support"); // ana
    // (Visitors named in the order they are served: a JSON value sorts an object's keys.)
    desk.arrive("g1", "v9", "general"); // bo
    desk.arrive_as(Arrival::new("c2", "v2", "support").designated(Target::Agent("ana".into())));
    desk.arrive("c3", "v3", "support");
    let mut value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    let state = &mut value["state"];
    state["config"]
        .as_object_mut()
        .expect("a config")
        .remove("skills");
    for agent in state["agents"]
        .as_object_mut()
        .expect("agents")
        .values_mut()
    {
        agent.as_object_mut().expect("an agent").remove("skills");
    }
    for entry in state["conversations"]["entries"]
        .as_array_mut()
        .expect("the conversations' slab")
    {
        if let Some(routing) = entry["routing"].as_object_mut() {
            for field in ["stages", "stage", "joined"] {
                routing.remove(field);
            }
        }
        // Before skills, the overflow had a timer of its own.
        for timer in entry["timers"].as_array_mut().expect("timers") {
            if timer["kind"] == "Stage" {
                timer["kind"] = "Overflow".into();
            }
        }
    }
    let snapshot: Snapshot = serde_json::from_value(value).expect("still a snapshot");
    let mut restored = Engine::restore(snapshot).expect("restores");
    assert_eq!(restored.snapshot(), desk.engine.snapshot());
    let later = desk.now + TimeDelta::seconds(60);
    let original = desk.engine.handle(later, Command::Tick).expect("ticks");
    assert_eq!(
        restored.handle(later, Command::Tick).expect("ticks"),
        original
    );
}

/// R-C6, R-SK5: a snapshot keeps the agents' skills and the conversations' requirements: a
/// skill granted on the restored engine drains the same work as on the original.
#[test]
fn r_sk5_r_c6_a_restored_engine_re_evaluates_skills_the_same() {
    let mut desk = desk();
    agent(&mut desk, "ana", 2, &["support"], &[("english", 5)]);
    agent(&mut desk, "bo", 2, &["support"], &[("billing", 5)]);
    desk.arrive_as(needing("c1", "support", &[("spanish", 3)]));
    desk.arrive_as(needing("c2", "support", &[("english", 6)]));
    let mut restored = Engine::restore(desk.engine.snapshot()).expect("restores");
    assert_eq!(restored.agent("ana"), desk.engine.agent("ana"));
    let grant = Command::UpdateAgent(AgentUpdate::new("bo").skills(levels(&[
        ("billing", 5),
        ("spanish", 3),
        ("english", 6),
    ])));
    let original = desk.run(grant.clone());
    assert_eq!(
        pairs(&original.events),
        [("c1".into(), "bo".into()), ("c2".into(), "bo".into())]
    );
    assert_eq!(
        &restored.handle(desk.now, grant).expect("updates"),
        original.outcome()
    );
}

/// R-C6, R-SK2: a snapshot taken after a stage's groups joined keeps them: the restored engine
/// lists the conversation in the joined group's queue and drains it to that group's agent the
/// same way.
#[test]
fn r_sk2_r_c6_a_snapshot_keeps_the_groups_a_stage_joined() {
    let mut desk = Desk::with_config(config());
    desk.group("billing", LRA);
    desk.group("general", LRA);
    agent(&mut desk, "bo", 1, &["general"], &[("billing", 6)]);
    desk.arrive("g1", "g1", "general"); // bo is full
    desk.arrive_as(
        Arrival::new("c1", "v1", "billing")
            .stage(Stage::new().require("billing", 5).for_ms(10_000))
            .stage(Stage::new().require("billing", 5).group("general")),
    );
    desk.advance(TimeDelta::seconds(10));
    let stored = serde_json::to_string(&desk.engine.snapshot()).expect("serializes");
    let mut restored =
        Engine::restore(serde_json::from_str(&stored).expect("reads back")).expect("restores");
    let queue: Vec<String> = restored
        .queue("general")
        .expect("known")
        .map(|c| c.to_string())
        .collect();
    assert_eq!(queue, desk.queue("general"));
    assert_eq!(queue, ["c1"]);
    let end = Command::EndConversations {
        conversations: conversation_ids(&["g1"]),
        reason: switchboard::EndReason::Agent,
    };
    let original = desk.run(end.clone());
    assert_eq!(pairs(&original.events), [("c1".into(), "bo".into())]);
    assert_eq!(
        &restored.handle(desk.now, end).expect("ends"),
        original.outcome()
    );
}

// ---- Wire --------------------------------------------------------------------------------------

/// R-SK1, R-SK2, R-C6: an arrival with stages and an agent with skills read from and write to
/// JSON in the documented shape (`{"skill":"english","level":7}`, `for_ms`); unknown fields are
/// refused.
#[test]
fn r_sk1_r_sk2_stages_and_skills_on_the_wire() {
    let arrival: Command = serde_json::from_value(json!({
        "type": "VisitorArrives",
        "conversation": "c1",
        "visitor": "v1",
        "group": "support",
        "stages": [
            {
                "require": [{ "skill": "english", "level": 7 }, { "skill": "billing", "level": 5 }],
                "for_ms": 30000
            },
            {
                "require": [{ "skill": "billing", "level": 1 }],
                "prefer": [{ "skill": "vip", "level": 2 }],
                "groups": ["general"]
            }
        ]
    }))
    .expect("an arrival with stages");
    let built = Command::VisitorArrives(
        Arrival::new("c1", "v1", "support")
            .stage(
                Stage::new()
                    .require("english", 7)
                    .require("billing", 5)
                    .for_ms(30_000),
            )
            .stage(
                Stage::new()
                    .require("billing", 1)
                    .prefer("vip", 2)
                    .group("general"),
            ),
    );
    assert_eq!(arrival, built);
    let written = serde_json::to_value(&built).expect("serializes");
    assert_eq!(written["stages"][0]["for_ms"], 30000);
    assert_eq!(
        written["stages"][0]["require"][0],
        json!({ "skill": "english", "level": 7 })
    );
    assert_eq!(
        serde_json::from_value::<Command>(written).expect("reads back"),
        built
    );

    let agent: Command = serde_json::from_value(json!({
        "type": "RegisterAgent",
        "agent": "ana",
        "skills": [{ "skill": "english", "level": 7 }, { "skill": "vip", "level": 1 }]
    }))
    .expect("an agent with skills");
    let built = Command::RegisterAgent(AgentSpec::new("ana").skill("english", 7).skill("vip", 1));
    assert_eq!(agent, built);
    let written = serde_json::to_value(&built).expect("serializes");
    assert_eq!(written["skills"][1], json!({ "skill": "vip", "level": 1 }));
    assert_eq!(
        serde_json::from_value::<Command>(written).expect("reads back"),
        built
    );

    let update: Command = serde_json::from_value(json!({
        "type": "UpdateAgent",
        "agent": "ana",
        "skills": [{ "skill": "spanish", "level": 3 }]
    }))
    .expect("an update with skills");
    assert_eq!(
        update,
        Command::UpdateAgent(AgentUpdate::new("ana").skills(levels(&[("spanish", 3)])))
    );

    let refused = |value: Value, field: &str| {
        let error = serde_json::from_value::<Command>(value).expect_err("an unknown field");
        assert!(
            error
                .to_string()
                .contains(&format!("unknown field `{field}`")),
            "{error}"
        );
    };
    refused(
        json!({ "type": "RegisterAgent", "agent": "ana",
                "skills": [{ "skill": "english", "level": 7, "years": 3 }] }),
        "years",
    );
    refused(
        json!({ "type": "VisitorArrives", "conversation": "c1", "visitor": "v1",
                "group": "support", "stages": [{ "require": [], "for_secs": 30 }] }),
        "for_secs",
    );
    refused(
        json!({ "type": "VisitorArrives", "conversation": "c1", "visitor": "v1",
                "group": "support", "stages": [{ "requires": [] }] }),
        "requires",
    );
}

/// R-SK2, R-B1: `StageAdvanced` on the wire names the conversation, the stage, what it
/// requires and the groups that join.
#[test]
fn r_sk2_stage_advanced_on_the_wire() {
    let mut desk = desk();
    desk.group("general", LRA);
    desk.arrive_as(
        Arrival::new("c1", "v1", "support")
            .stage(Stage::new().require("english", 5).for_ms(1_000))
            .stage(Stage::new().require("english", 2).group("general")),
    );
    let events = desk.advance(TimeDelta::seconds(1));
    let event = events
        .iter()
        .find(|e| matches!(e, Event::StageAdvanced { .. }))
        .expect("a stage change");
    assert_eq!(
        serde_json::to_value(event).expect("serializes"),
        json!({
            "type": "StageAdvanced",
            "conversation": "c1",
            "stage": 1,
            "requires": [{ "skill": "english", "level": 2 }],
            "groups": ["general"]
        })
    );
}

/// Work in group `support` that needs english (any level).
fn english(conversation: &str) -> Arrival {
    needing(conversation, "support", &[("english", 1)])
}

/// Work in group `support` that needs billing (any level).
fn billing(conversation: &str) -> Arrival {
    needing(conversation, "support", &[("billing", 1)])
}

/// The agent each arrival went to, in order ("" where it waits).
fn takers(desk: &mut Desk, arrivals: Vec<Arrival>) -> Vec<String> {
    arrivals
        .into_iter()
        .map(|arrival| {
            let ran = desk.arrive_as(arrival);
            pairs(&ran.events)
                .first()
                .map(|(_, agent)| agent.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// R-SK4, R-A1, R-S1: an agent meets several requirement sets; work taken under one counts
/// under every other at once. Ana speaks english and knows billing, Ben only speaks english,
/// Cy only knows billing; least loaded. Work Ana took as english work keeps billing work
/// from her while Cy holds less, and the other way round; full agents get nothing under any
/// set, and each takes the work that waited when it has room again.
#[test]
fn r_sk4_load_taken_under_one_requirement_set_counts_under_every_other() {
    let mut desk = Desk::with_config(config());
    desk.group("support", Strategy::LeastLoaded);
    agent(
        &mut desk,
        "ana",
        3,
        &["support"],
        &[("english", 5), ("billing", 5)],
    );
    agent(&mut desk, "ben", 3, &["support"], &[("english", 5)]);
    agent(&mut desk, "cy", 3, &["support"], &[("billing", 5)]);
    let taken = takers(
        &mut desk,
        vec![
            english("c1"),
            billing("c2"),
            billing("c3"),
            english("c4"),
            english("c5"),
            billing("c6"),
            english("c7"),
            billing("c8"),
            english("c9"),
            english("c10"),
            billing("c11"),
        ],
    );
    // c1: ana and ben idle, ana registered first. c2: ana holds one, cy none. c3: one each,
    // ana assigned longer ago. c4: ana holds two, ben none. c5: ben holds one. c6: cy holds
    // one. c7: two each, ana assigned longer ago; she is full. c8: cy (ana full). c9: ben.
    // Everyone is full: c10 and c11 wait.
    assert_eq!(
        taken,
        [
            "ana", "cy", "ana", "ben", "ben", "cy", "ana", "cy", "ben", "", ""
        ]
    );
    let freed = desk.end("c2");
    assert_eq!(pairs(&freed.events), [("c11".into(), "cy".into())]);
    let freed = desk.end("c1");
    assert_eq!(pairs(&freed.events), [("c10".into(), "ana".into())]);
}

/// R-SK4, R-A2: under round robin, an agent filled by work under one requirement set is
/// skipped under another; the turn goes on past it.
#[test]
fn r_sk4_round_robin_skips_an_agent_filled_under_another_requirement_set() {
    let mut desk = Desk::with_config(config());
    desk.group("support", Strategy::RoundRobin);
    let both = [("english", 5), ("billing", 5)];
    agent(&mut desk, "ana", 1, &["support"], &both);
    agent(&mut desk, "ben", 2, &["support"], &both);
    agent(&mut desk, "cy", 1, &["support"], &[("billing", 5)]);
    let taken = takers(
        &mut desk,
        vec![
            english("c1"),
            billing("c2"),
            billing("c3"),
            billing("c4"),
            english("c5"),
        ],
    );
    // c1 fills ana; c2 and c3 go round from ben: ben, cy; c4 to ben again (ana full), which
    // fills him; nobody is left for c5.
    assert_eq!(taken, ["ana", "ben", "cy", "ben", ""]);
}
