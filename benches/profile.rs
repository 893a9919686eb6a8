//! Not a criterion bench: a driver that runs one scenario of benches/routing.rs a fixed number
//! of times, for profilers and for instruction counts that do not depend on the machine's load.
//! `cargo bench` runs it without a scenario, and then it does nothing.
//!
//! ```sh
//! CARGO_TARGET_DIR=target cargo bench --bench profile --no-run   # prints the binary's path
//! target/release/deps/profile-HASH arrival 10000 20   # scenario, agents, rounds
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*common::timed*' \
//!     target/release/deps/profile-HASH arrival 10000 20
//! ```
//!
//! Scenarios, each set up as its criterion bench: `arrival` (rounds of min(agents/2, 1000)
//! arrivals), `end` (rounds of 100 ends on a desk with 100,000 waiting), `end5` (the same with
//! agents in 5 of 10 groups), `clone` (the first arrival on a fresh `Engine::clone` of a desk
//! holding 2.4 conversations per agent, once per round).
//!
//! Issue 13's scenarios, each set up as in benches/validation.rs and benches/routing.rs; the
//! second argument is the input's size instead of an agent count:
//! `schedule_restore N` ([`Engine::restore`] of a snapshot holding one schedule of N ranges on
//! all seven days, once per round), `schedule_define N` (that schedule redefined by
//! `DefineSchedule`, once per round), `statuses N` ([`switchboard::Config::validate`] with N
//! custom statuses, once per round), `stalled N` (rounds of 50 agents coming Online past N
//! conversations stalled at the redirect limit, each taking one live conversation).
//!
//! Issue 16's scenarios, each set up as in benches/skills.rs (a desk of 50 skills and 1,000
//! requirement sets of 3 skills, [`common::SkilledDesk`]): `skills_arrival` (as `arrival`, the
//! conversations asking for skills) and `skills_end` (as `end`, every agent filled with work it
//! qualifies for and 100,000 waiting that ask for skills; each conversation taken is replaced
//! by one asking for the same set). They need at least 10,000 agents.
//!
//! Only `common::timed` (the commands and dropping their outcomes) and `common::timed_call` (the
//! restore or the validation alone) are measured, so with the toggle above callgrind counts
//! exactly the measured work; it prints how many commands (or calls) there were.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use switchboard::{Command, ConversationId, Engine};

use common::{
    Desk, Shape, SkilledDesk, StalledDesk, arrival_round, end, end_round, forget, many_statuses,
    t0, tiled_schedule, timed, timed_call,
};

fn arrivals(desk: &mut Desk, rounds: usize) -> (Duration, usize) {
    let chunk = (desk.shape.agents / 2).min(1000);
    let mut total = Duration::ZERO;
    let mut assigned = Vec::new();
    for _ in 0..rounds {
        let commands = (0..chunk)
            .map(|_| desk.host.arrival(desk.shape.groups))
            .collect();
        let now = desk.host.tick();
        assigned.clear();
        total += timed(&mut desk.engine, now, commands, &mut assigned);
        run(desk, end(assigned.clone()));
        run(desk, forget(std::mem::take(&mut assigned)));
    }
    (total, rounds * chunk)
}

fn ends(desk: &mut Desk, rounds: usize) -> (Duration, usize) {
    let mut total = Duration::ZERO;
    let mut assigned = Vec::new();
    for _ in 0..rounds {
        let ending: Vec<ConversationId> = desk.host.active.drain(..100).collect();
        let commands = ending.iter().map(|c| end(vec![c.clone()])).collect();
        let now = desk.host.tick();
        assigned.clear();
        total += timed(&mut desk.engine, now, commands, &mut assigned);
        desk.host.active.extend(assigned.drain(..));
        for _ in 0..100 {
            let arrival = desk.host.arrival(desk.shape.groups);
            run(desk, arrival);
        }
        run(desk, forget(ending));
    }
    (total, rounds * 100)
}

/// The first arrival on a fresh clone of the engine, `rounds` times.
fn first_arrival_after_clone(desk: &mut Desk, rounds: usize) -> (Duration, usize) {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let mut engine = desk.engine.clone();
        let arrival = desk.host.arrival(desk.shape.groups);
        let now = desk.host.tick();
        total += timed(&mut engine, now, vec![arrival], &mut Vec::new());
    }
    (total, rounds)
}

/// `Engine::restore` of a snapshot holding one schedule of `ranges` ranges, `rounds` times; the
/// snapshot's clone and dropping the restored engine are not measured.
fn schedule_restore(ranges: u32, rounds: usize) -> (Duration, usize) {
    let mut engine = Engine::new(Default::default()).expect("a valid config");
    let define = Command::DefineSchedule(tiled_schedule(ranges));
    let _ = engine.handle(t0(), define).expect("a valid schedule");
    let snapshot = engine.snapshot();
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let snapshot = snapshot.clone();
        let (restored, took) = timed_call(|| Engine::restore(snapshot));
        restored.expect("a valid snapshot");
        total += took;
    }
    (total, rounds)
}

/// That schedule redefined by `DefineSchedule`, `rounds` times.
fn schedule_define(ranges: u32, rounds: usize) -> (Duration, usize) {
    let spec = tiled_schedule(ranges);
    let mut engine = Engine::new(Default::default()).expect("a valid config");
    let define = Command::DefineSchedule(spec.clone());
    let _ = engine.handle(t0(), define).expect("a valid schedule");
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let commands = vec![Command::DefineSchedule(spec.clone())];
        total += timed(&mut engine, t0(), commands, &mut Vec::new());
    }
    (total, rounds)
}

/// `Config::validate` with `statuses` custom statuses, `rounds` times.
fn statuses(statuses: usize, rounds: usize) -> (Duration, usize) {
    let config = many_statuses(statuses);
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let (valid, took) = timed_call(|| config.validate());
        valid.expect("a valid config");
        total += took;
    }
    (total, rounds)
}

/// `rounds` rounds of 50 agents coming Online past `stalled` stalled conversations.
fn stalled(stalled: usize, rounds: usize) -> (Duration, usize) {
    let mut desk = StalledDesk::new(stalled);
    let total = (0..rounds).map(|_| desk.round(StalledDesk::AGENTS)).sum();
    (total, rounds * StalledDesk::AGENTS)
}

/// Issue 16's skilled desk ([`SkilledDesk`]) built as in benches/skills.rs. With
/// `SKILLS_STATS` set, prints how many skills and requirement sets an agent has on average
/// (untimed; it checks every agent against every set).
fn skilled_desk(shape: Shape) -> SkilledDesk {
    let desk = SkilledDesk::new(shape);
    if std::env::var_os("SKILLS_STATS").is_some() {
        let (sets, skills) = desk.mean_sets_and_skills();
        println!("an agent holds {skills:.2} skills and meets {sets:.2} sets on average");
    }
    desk
}

/// `rounds` rounds of min(agents/2, 1000) arrivals asking for skills, on 10 groups, each agent
/// in 3, holding about 2 (set by set in every group, so that every routing key exists).
fn skills_arrival(shape: Shape, rounds: usize) -> (Duration, usize) {
    let mut desk = skilled_desk(shape);
    desk.cover(2 * shape.agents);
    assert_eq!(desk.engine.counters().waiting, 0, "every arrival assigned");
    let chunk = (shape.agents / 2).min(1000);
    let total = (0..rounds).map(|_| arrival_round(&mut desk, chunk)).sum();
    (total, rounds * chunk)
}

/// `rounds` rounds of 100 ends on 1 group, every agent full, 100,000 waiting that ask for
/// skills.
fn skills_end(shape: Shape, rounds: usize) -> (Duration, usize) {
    let mut desk = skilled_desk(shape);
    desk.fill();
    desk.arrivals(100_000);
    assert_eq!(desk.engine.counters().waiting, 100_000);
    let total = (0..rounds).map(|_| end_round(&mut desk, 100)).sum();
    (total, rounds * 100)
}

fn run(desk: &mut Desk, command: Command) {
    let now = desk.host.now;
    let _ = Engine::handle(&mut desk.engine, now, command).expect("valid commands");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [scenario, agents, rounds] = args.as_slice() else {
        eprintln!(
            "profile: give a scenario (arrival, end, end5, clone; schedule_restore, \
             schedule_define, statuses, stalled; skills_arrival, skills_end), an agent count \
             (or a size) and rounds"
        );
        return;
    };
    let agents: usize = agents.parse().expect("an agent count");
    let rounds: usize = rounds.parse().expect("a number of rounds");
    let shape = |groups, groups_per_agent| Shape {
        agents,
        groups,
        groups_per_agent,
        limit: 5,
    };
    let (total, commands) = match scenario.as_str() {
        "arrival" => {
            let mut desk = Desk::new(shape(10, 3), |_| false);
            desk.arrivals(2 * agents);
            arrivals(&mut desk, rounds)
        }
        "end" | "end5" => {
            let shape = if scenario == "end" {
                shape(1, 1)
            } else {
                shape(10, 5)
            };
            let mut desk = Desk::new(shape, |_| false);
            desk.arrivals(agents * 5 + 100_000);
            ends(&mut desk, rounds)
        }
        "clone" => {
            let mut desk = Desk::new(shape(10, 3), |_| false);
            desk.arrivals(agents * 12 / 5);
            first_arrival_after_clone(&mut desk, rounds)
        }
        "schedule_restore" => schedule_restore(agents.try_into().expect("a size"), rounds),
        "schedule_define" => schedule_define(agents.try_into().expect("a size"), rounds),
        "statuses" => statuses(agents, rounds),
        "stalled" => stalled(agents, rounds),
        "skills_arrival" => skills_arrival(shape(10, 3), rounds),
        "skills_end" => skills_end(shape(1, 1), rounds),
        other => panic!("unknown scenario {other}"),
    };
    println!(
        "{scenario} {agents}: {commands} measured commands (or calls), {:?} each",
        total / commands as u32
    );
}
