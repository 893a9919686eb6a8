//! A five-minute tour: two groups, four agents, a morning rush, a manual assignment and a
//! transfer. Run it with `cargo run --example quickstart`.

use chrono::{DateTime, TimeDelta, Utc};
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, EndReason, Engine, Event, GroupSpec,
    LastAgent, Strategy, Target,
};

fn main() -> Result<(), switchboard::Error> {
    let mut now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().expect("a fixed date");
    let config = Config {
        last_agent: LastAgent {
            enabled: true,
            window_secs: Some(24 * 3600),
        },
        ..Config::default()
    };
    let mut engine = Engine::new(config)?;
    let send = |engine: &mut Engine,
                now: DateTime<Utc>,
                command: Command|
     -> Result<(), switchboard::Error> {
        let outcome = engine.handle(now, command)?;
        for event in &outcome.events {
            println!("{}  {}", now.format("%H:%M:%S"), describe(event));
        }
        // The items of a batch that were refused (the others went ahead).
        for (conversation, e) in outcome.failures() {
            println!("          ! {conversation}: {e}");
        }
        Ok(())
    };

    println!("-- the desk opens");
    send(
        &mut engine,
        now,
        Command::RegisterGroup(GroupSpec::new("sales").strategy(Strategy::AgentPriority)),
    )?;
    send(
        &mut engine,
        now,
        Command::RegisterGroup(GroupSpec::new("support").limit(2)),
    )?;
    for (name, groups) in [
        ("ana", &[("sales", 1), ("support", 3)][..]),
        ("bo", &[("sales", 2)][..]),
        ("chen", &[("support", 3)][..]),
        ("dee", &[("support", 3)][..]),
    ] {
        let mut spec = AgentSpec::new(name).status(AgentStatus::Online);
        for (group, priority) in groups {
            spec = spec.group_with_rank(*group, *priority);
        }
        send(&mut engine, now, Command::RegisterAgent(spec))?;
    }

    println!("-- the morning rush: eight visitors ask for support");
    for i in 1..=8 {
        now += TimeDelta::seconds(20);
        let arrival = Arrival::new(format!("s{i}"), format!("visitor-{i}"), "support");
        send(&mut engine, now, Command::VisitorArrives(arrival))?;
    }

    println!("-- a VIP asks for sales with priority 5");
    now += TimeDelta::seconds(5);
    send(
        &mut engine,
        now,
        Command::VisitorArrives(Arrival::new("vip", "visitor-vip", "sales").priority(5)),
    )?;

    println!("-- an admin gives the longest-waiting visitor to bo, over his limit if need be");
    let first = engine.queue("support").expect("support").next().cloned();
    if let Some(first) = first {
        send(
            &mut engine,
            now,
            Command::AssignManually {
                conversations: vec![first],
                target: Target::Agent("bo".into()),
            },
        )?;
    }

    println!("-- chen finishes two conversations and takes the next waiting ones");
    now += TimeDelta::minutes(4);
    let ended: Vec<_> = engine.agent("chen").expect("chen").conversations;
    send(
        &mut engine,
        now,
        Command::EndConversations {
            conversations: ended,
            reason: EndReason::Agent,
        },
    )?;

    println!("-- dee goes on a break and keeps her conversations; ana transfers one to support");
    send(
        &mut engine,
        now,
        Command::AgentStatusChanged {
            agent: "dee".into(),
            status: AgentStatus::ShortBreak,
        },
    )?;
    let anas: Vec<_> = engine.agent("ana").expect("ana").conversations;
    if let Some(conversation) = anas.first().cloned() {
        send(
            &mut engine,
            now,
            Command::Transfer {
                conversation,
                to: Target::Group("support".into()),
            },
        )?;
    }

    println!("-- visitor-1 comes back later and gets the agent who served it last");
    now += TimeDelta::hours(2);
    send(
        &mut engine,
        now,
        Command::EndConversations {
            conversations: vec!["s1".into()],
            reason: EndReason::Visitor,
        },
    )?;
    send(
        &mut engine,
        now,
        Command::VisitorArrives(Arrival::new("s1-again", "visitor-1", "support")),
    )?;

    let c = engine.counters();
    println!(
        "-- counters: {} arrived, {} assigned automatically, {} manually, {} transferred, {} ended, {} waiting",
        c.arrived, c.assigned_automatically, c.assigned_manually, c.transferred, c.ended, c.waiting
    );
    Ok(())
}

fn describe(event: &Event) -> String {
    match event {
        Event::ConversationArrived {
            conversation,
            group,
            priority,
            ..
        } => {
            format!("{conversation} arrives for {group} (priority {priority})")
        }
        Event::ConversationAssigned {
            skills: _,
            conversation,
            agent,
            reason,
            load,
            limit,
            kind: _,
        } => {
            format!("{conversation} -> {agent} [{reason}] load {load}/{limit}")
        }
        Event::ConversationQueued {
            conversation,
            group,
            position,
        } => {
            format!("{conversation} waits in {group} at position {position}")
        }
        Event::QueuePositionChanged {
            conversation,
            position,
            ..
        } => {
            format!("{conversation} is now at position {position}")
        }
        other => format!("{other:?}"),
    }
}
