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
//! holding 2.4 conversations per agent, once per round). Only `common::timed` (the commands and dropping their outcomes)
//! is measured, so with the toggle above callgrind counts exactly the measured commands; it
//! prints how many there were.

#[allow(dead_code)] // each bench file uses a different part of it
mod common;

use std::time::Duration;

use switchboard::{Command, ConversationId, Engine};

use common::{Desk, Shape, end, forget, timed};

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
            "profile: give a scenario (arrival, end, end5, clone), an agent count and rounds"
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
        other => panic!("unknown scenario {other}"),
    };
    println!(
        "{scenario} at {agents} agents: {commands} measured commands, {:?} each",
        total / commands as u32
    );
}
