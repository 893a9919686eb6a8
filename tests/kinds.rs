//! Work kinds and weighted capacity (R-K1..R-K5, R-A4 per dimension): a desk that routes chat,
//! email and voice against agents' capacity in units, with kinds that block others, a kind's
//! maximum per agent, paused work that holds units or not, and groups that cap their own work
//! on one agent. Every story goes through the public API; bad input leaves the engine as it
//! was (R-C4).

mod common;

use chrono::TimeDelta;
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, ConversationState, EndReason, Engine, Error,
    Event, GroupSpec, GroupUpdate, KindId, KindSpec, ReceptionMode, Sender, Snapshot, Strategy,
    Target,
};

/// Capacity 100 by default; chat 25, email 10 (at most 3 per agent), voice 100.
fn config() -> Config {
    Config {
        default_limit: 100,
        kinds: vec![
            KindSpec::new("chat", 25),
            KindSpec::new("email", 10).max_per_agent(3),
            KindSpec::new("voice", 100),
        ],
        ..Config::default()
    }
}

/// A desk under `config` with group `support` and `ana` Online in it, capacity 100.
fn desk_with(config: Config) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support"),
    );
    desk
}

fn arrive(desk: &mut Desk, conversation: &str, kind: &str) -> Ran {
    desk.arrive_as(Arrival::new(conversation, conversation, "support").kind(kind))
}

/// The (conversation, agent, load, limit, kind) of each assignment in `events`.
fn assigned(events: &[Event]) -> Vec<(String, String, u32, u32, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationAssigned {
                conversation,
                agent,
                load,
                limit,
                kind,
                ..
            } => Some((
                conversation.to_string(),
                agent.to_string(),
                *load,
                *limit,
                kind.to_string(),
            )),
            _ => None,
        })
        .collect()
}

fn row(c: &str, a: &str, load: u32, limit: u32, kind: &str) -> (String, String, u32, u32, String) {
    (c.into(), a.into(), load, limit, kind.into())
}

/// An agent's load per kind, as (kind, count, units).
fn kinds_of(desk: &Desk, agent: &str) -> Vec<(String, u32, u32)> {
    desk.agent_view(agent)
        .kinds
        .iter()
        .map(|k| (k.kind.to_string(), k.count, k.units))
        .collect()
}

// ---- R-K1: capacity in units ------------------------------------------------------------------

/// R-K1: on a 100-unit agent, chat costing 25 and voice 100, four chats fill the agent and a
/// fifth waits; a call waits until all four are gone, then takes the whole agent.
#[test]
fn r_k1_four_chats_or_one_call_on_a_100_unit_agent() {
    let mut desk = desk_with(config());
    let mut events = Vec::new();
    for c in ["c1", "c2", "c3", "c4"] {
        events.extend(arrive(&mut desk, c, "chat").events);
    }
    assert_eq!(
        assigned(&events),
        [
            row("c1", "ana", 25, 100, "chat"),
            row("c2", "ana", 50, 100, "chat"),
            row("c3", "ana", 75, 100, "chat"),
            row("c4", "ana", 100, 100, "chat"),
        ]
    );
    arrive(&mut desk, "c5", "chat");
    arrive(&mut desk, "v1", "voice");
    assert_eq!(
        desk.queue("support"),
        ["c5", "v1"],
        "a fifth chat and a call wait"
    );

    // One chat ends: the fifth chat fits the 25 units freed, the call does not.
    let ended = desk.end("c1");
    assert_eq!(
        assigned(&ended.events),
        [row("c5", "ana", 100, 100, "chat")]
    );
    for c in ["c2", "c3", "c4"] {
        let ended = desk.end(c);
        assert!(
            assigned(&ended.events).is_empty(),
            "{c}: the call needs 100 free units"
        );
    }
    let ended = desk.end("c5");
    assert_eq!(
        assigned(&ended.events),
        [row("v1", "ana", 100, 100, "voice")]
    );
    // One call is all she can hold: a chat waits.
    arrive(&mut desk, "c6", "chat");
    assert_eq!(desk.queue("support"), ["c6"]);
}

/// R-K1: an arrival that names no kind is of the desk's default kind, the first configured; a
/// desk that configures none has the implicit kind `default`, costing 1 unit.
#[test]
fn r_k1_arrivals_without_a_kind_take_the_default_kind() {
    let mut desk = desk_with(config());
    let arrived = desk.arrive("c1", "v1", "support");
    assert!(matches!(&arrived.events[0],
        Event::ConversationArrived { kind, .. } if kind.as_str() == "chat"));
    assert_eq!(
        desk.engine.conversation("c1").expect("known").kind.as_str(),
        "chat"
    );

    let mut plain = Desk::new();
    plain.group("support", Strategy::LeastRecentlyAssigned);
    plain.agent("bo", 2, &["support"]);
    let arrived = plain.arrive("c1", "v1", "support");
    assert_eq!(
        assigned(&arrived.events),
        [row("c1", "bo", 1, 2, "default")]
    );
}

/// R-K1: a kind's maximum per agent holds for automatic work even with units to spare; other
/// kinds still fit.
#[test]
fn r_k1_a_kinds_maximum_per_agent_holds_with_units_to_spare() {
    let mut desk = desk_with(config());
    for e in ["e1", "e2", "e3", "e4"] {
        arrive(&mut desk, e, "email");
    }
    assert_eq!(
        desk.queue("support"),
        ["e4"],
        "at most 3 emails, 70 units free"
    );
    assert_eq!(desk.agent_view("ana").free_units, 70);
    let chat = arrive(&mut desk, "c1", "chat");
    assert_eq!(assigned(&chat.events), [row("c1", "ana", 55, 100, "chat")]);
    let ended = desk.end("e1");
    assert_eq!(
        assigned(&ended.events),
        [row("e4", "ana", 55, 100, "email")]
    );
}

// ---- R-K2: blocking kinds and paused work ------------------------------------------------------

/// R-K2: while an agent holds a call, it gets no chats, though it has units free; other kinds
/// still fit; when the call ends, the waiting chat drains at once.
#[test]
fn r_k2_a_call_blocks_chats_until_it_ends() {
    let mut desk = desk_with(Config {
        default_limit: 100,
        kinds: vec![
            KindSpec::new("chat", 25),
            KindSpec::new("email", 10),
            KindSpec::new("voice", 60).blocks("chat"),
        ],
        ..Config::default()
    });
    arrive(&mut desk, "v1", "voice");
    arrive(&mut desk, "c1", "chat");
    assert_eq!(
        desk.queue("support"),
        ["c1"],
        "40 units free, but the call blocks chats"
    );
    let email = arrive(&mut desk, "e1", "email");
    assert_eq!(
        assigned(&email.events),
        [row("e1", "ana", 70, 100, "email")]
    );

    let ended = desk.end("v1");
    assert_eq!(assigned(&ended.events), [row("c1", "ana", 35, 100, "chat")]);
    assert!(desk.queue("support").is_empty());
}

/// R-K2: a transfer to an agent whose held work blocks the conversation's kind is refused,
/// naming the dimension, and changes nothing; a manual assignment goes through.
#[test]
fn r_k2_a_transfer_respects_blocking_and_a_manual_assignment_does_not() {
    let mut desk = desk_with(Config {
        default_limit: 100,
        kinds: vec![
            KindSpec::new("chat", 25),
            KindSpec::new("voice", 60).blocks("chat"),
        ],
        ..Config::default()
    });
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .group("support"),
    );
    arrive(&mut desk, "v1", "voice");
    arrive(&mut desk, "c1", "chat");
    assert_eq!(desk.holder("v1").as_deref(), Some("ana"));
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));

    let error = desk.refuse(Command::Transfer {
        conversation: "c1".into(),
        to: Target::Agent("ana".into()),
    });
    assert!(
        matches!(&error, Error::AgentUnavailable { agent, reason, .. }
            if agent.as_str() == "ana" && reason.contains("blocks")),
        "{error:?}"
    );
    desk.assign(&["c1"], Target::Agent("ana".into()));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(
        kinds_of(&desk, "ana"),
        [("chat".into(), 1, 25), ("voice".into(), 1, 60)]
    );
}

/// R-K2: per kind, paused (snoozed) work holds its units or frees them: a snoozed email frees
/// its units and the waiting chat drains; a snoozed chat keeps its units. When the email wakes
/// it holds its units again, over the capacity if need be.
#[test]
fn r_k2_snoozed_work_holds_or_frees_units_per_kind() {
    let mut desk = desk_with(Config {
        default_limit: 100,
        mode: ReceptionMode::Asynchronous,
        kinds: vec![
            KindSpec::new("chat", 50),
            KindSpec::new("email", 50).paused_holds_units(false),
        ],
        ..Config::default()
    });
    arrive(&mut desk, "c1", "chat");
    arrive(&mut desk, "e1", "email");
    arrive(&mut desk, "c2", "chat");
    assert_eq!(pool(&desk), ["c2"]);

    let until = desk.now + TimeDelta::hours(1);
    let snoozed = desk.run(snooze(&["c1"], until));
    assert!(
        assigned(&snoozed.events).is_empty(),
        "a paused chat holds its units"
    );
    assert_eq!(desk.load("ana"), (100, 100));

    let snoozed = desk.run(snooze(&["e1"], until));
    assert_eq!(
        assigned(&snoozed.events),
        [row("c2", "ana", 100, 100, "chat")]
    );
    assert_eq!(
        kinds_of(&desk, "ana"),
        [("chat".into(), 2, 100)],
        "the paused email holds nothing"
    );

    desk.run(Command::Message {
        conversation: "e1".into(),
        from: Sender::Visitor,
    });
    assert_eq!(desk.load("ana"), (150, 100));
    assert_eq!(desk.agent_view("ana").free_units, 0);
}

/// R-K2: `paused_holds_units` left unset follows `Config::snoozed_count_toward_load`.
#[test]
fn r_k2_paused_work_follows_the_desk_setting_by_default() {
    let mut desk = desk_with(Config {
        default_limit: 100,
        mode: ReceptionMode::Asynchronous,
        snoozed_count_toward_load: false,
        kinds: vec![KindSpec::new("chat", 50)],
        ..Config::default()
    });
    for c in ["c1", "c2", "c3"] {
        arrive(&mut desk, c, "chat");
    }
    let until = desk.now + TimeDelta::hours(1);
    let snoozed = desk.run(snooze(&["c1"], until));
    assert_eq!(
        assigned(&snoozed.events),
        [row("c3", "ana", 100, 100, "chat")]
    );
}

// ---- R-K3: group caps ----------------------------------------------------------------------------

/// Groups `sales` (its work capped at 50 units per agent: two chats) and `support`; `ana`
/// (capacity 100) is in both.
fn capped_desk() -> Desk {
    let mut desk = Desk::with_config(config());
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales").agent_cap(50),
    ));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("sales")
            .group("support"),
    );
    desk
}

fn sale(desk: &mut Desk, conversation: &str) -> Ran {
    desk.arrive_as(Arrival::new(conversation, conversation, "sales").kind("chat"))
}

/// R-K3: a group cap below the agent's capacity: at most two sales chats at once, while the
/// other group's work still fits; when a sales chat ends, the next one drains.
#[test]
fn r_k3_a_group_cap_below_the_agents_capacity() {
    let mut desk = capped_desk();
    for c in ["s1", "s2", "s3"] {
        sale(&mut desk, c);
    }
    assert_eq!(desk.queue("sales"), ["s3"], "two sales chats are the cap");
    assert_eq!(desk.agent_view("ana").free_units, 50);
    let support = desk.arrive_as(Arrival::new("t1", "t1", "support").kind("chat"));
    assert_eq!(
        assigned(&support.events),
        [row("t1", "ana", 75, 100, "chat")]
    );
    assert_eq!(
        desk.engine.group("sales").expect("known").agent_cap,
        Some(50)
    );

    let ended = desk.end("s1");
    assert_eq!(assigned(&ended.events), [row("s3", "ana", 75, 100, "chat")]);
}

/// R-K3, R-A4 per dimension: a manual assignment takes an agent past a group's cap and past its
/// capacity; it then gets no automatic work of that group until it is under the cap again,
/// nor any work until it is under its capacity.
#[test]
fn r_k3_r_a4_manual_assignment_exceeds_a_cap_and_capacity_then_each_dimension_holds() {
    let mut desk = capped_desk();
    for c in ["s1", "s2", "s3", "s4"] {
        sale(&mut desk, c);
    }
    desk.assign(&["s3", "s4"], Target::Agent("ana".into()));
    assert_eq!(desk.load("ana"), (100, 100));
    desk.arrive_as(Arrival::new("t1", "t1", "support").kind("email"));
    desk.assign(&["t1"], Target::Agent("ana".into()));
    assert_eq!(desk.load("ana"), (110, 100), "over its capacity by hand");
    sale(&mut desk, "s5");
    desk.arrive_as(Arrival::new("t2", "t2", "support").kind("email"));

    // Each end frees units: the support email fits the capacity again before the sales chat
    // fits the sales cap.
    let ended = desk.end("t1");
    assert!(
        assigned(&ended.events).is_empty(),
        "110 - 10 = 100: still full"
    );
    let ended = desk.end("s1");
    assert_eq!(
        assigned(&ended.events),
        [row("t2", "ana", 85, 100, "email")]
    );
    let ended = desk.end("s2");
    assert!(
        assigned(&ended.events).is_empty(),
        "50 units of sales work: at its cap"
    );
    let ended = desk.end("s3");
    assert_eq!(assigned(&ended.events), [row("s5", "ana", 60, 100, "chat")]);
}

/// R-K3: the cap bounds a group's own work however it reaches the agent: sales chats that
/// overflow into `general` count against the sales cap on `bo`, who is not in sales.
#[test]
fn r_k3_the_cap_of_a_conversations_own_group_holds_through_an_overflow_group() {
    let mut desk = Desk::with_config(config());
    desk.group("general", Strategy::LeastRecentlyAssigned);
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales")
            .agent_cap(25)
            .overflow(&["general"], 60),
    ));
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .group("general"),
    );
    sale(&mut desk, "s1");
    sale(&mut desk, "s2");
    let events = desk.advance(TimeDelta::seconds(60));
    assert_eq!(
        assigned(&events),
        [row("s1", "bo", 25, 100, "chat")],
        "one sales chat is the cap on bo"
    );
    assert_eq!(desk.queue("general"), ["s2"]);
    let general = desk.arrive_as(Arrival::new("g1", "g1", "general").kind("chat"));
    assert_eq!(
        assigned(&general.events),
        [row("g1", "bo", 50, 100, "chat")]
    );
    let ended = desk.end("s1");
    assert_eq!(assigned(&ended.events), [row("s2", "bo", 50, 100, "chat")]);
}

/// R-K3, R-K5: an agent at its own group's cap still takes another group's work waiting in
/// that group's queue (here overflowed into it) when it frees units: the cap bounds only the
/// group's own work.
#[test]
fn r_k3_r_k5_an_agent_at_its_groups_cap_drains_other_groups_work_waiting_there() {
    let mut desk = Desk::with_config(config());
    desk.run(Command::RegisterGroup(
        GroupSpec::new("sales").agent_cap(25),
    ));
    desk.run(Command::RegisterGroup(
        GroupSpec::new("general").overflow(&["sales"], 60),
    ));
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(50)
            .group("sales"),
    );
    sale(&mut desk, "s1");
    sale(&mut desk, "s2");
    desk.arrive_as(Arrival::new("x1", "x1", "general").kind("chat"));
    desk.assign(&["x1"], Target::Agent("ana".into()));
    desk.arrive_as(Arrival::new("g1", "g1", "general").kind("chat"));
    let overflowed = desk.advance(TimeDelta::seconds(60));
    assert!(assigned(&overflowed).is_empty(), "ana is full");
    assert_eq!(desk.queue("sales"), ["s2", "g1"]);

    // 25 units free, but 25 units of sales work: s2 must wait, g1 (general's) need not.
    let ended = desk.end("x1");
    assert_eq!(assigned(&ended.events), [row("g1", "ana", 50, 50, "chat")]);
    assert_eq!(desk.queue("sales"), ["s2"]);
}

/// R-K3: raising a group's cap at run time drains the work it held back; a cap removed with
/// `null` on the wire lifts it.
#[test]
fn r_k3_a_cap_raised_or_removed_at_run_time_drains_at_once() {
    let mut desk = capped_desk();
    for c in ["s1", "s2", "s3", "s4"] {
        sale(&mut desk, c);
    }
    let update = |cap| {
        Command::UpdateGroup(GroupUpdate {
            group: "sales".into(),
            strategy: None,
            limit: None,
            overflow: None,
            agent_cap: Some(cap),
        })
    };
    let raised = desk.run(update(Some(75)));
    assert_eq!(
        assigned(&raised.events),
        [row("s3", "ana", 75, 100, "chat")]
    );
    let wire: Command =
        serde_json::from_str(r#"{"type":"UpdateGroup","group":"sales","agent_cap":null}"#)
            .expect("a group update");
    assert_eq!(wire, update(None));
    let lifted = desk.run(wire);
    assert_eq!(
        assigned(&lifted.events),
        [row("s4", "ana", 100, 100, "chat")]
    );
    assert_eq!(desk.engine.group("sales").expect("known").agent_cap, None);
}

// ---- R-K4: views and events ----------------------------------------------------------------

/// R-K4: the views show an agent's load per kind (in the config's order) and its free units,
/// a conversation's kind and a group's cap; the events name the kind.
#[test]
fn r_k4_views_show_load_per_kind_and_free_units_and_events_name_the_kind() {
    let mut desk = capped_desk();
    let arrived = desk.arrive_as(Arrival::new("v1", "visitor", "support").kind("email"));
    assert!(matches!(&arrived.events[0],
        Event::ConversationArrived { conversation, kind, .. }
            if conversation.as_str() == "v1" && kind.as_str() == "email"));
    assert_eq!(
        assigned(&arrived.events),
        [row("v1", "ana", 10, 100, "email")]
    );
    sale(&mut desk, "s1");
    desk.arrive_as(Arrival::new("e2", "e2", "support").kind("email"));

    let ana = desk.agent_view("ana");
    assert_eq!((ana.load, ana.limit, ana.free_units), (45, 100, 55));
    assert_eq!(
        kinds_of(&desk, "ana"),
        [("chat".into(), 1, 25), ("email".into(), 2, 20)]
    );
    let view = desk.engine.conversation("s1").expect("known");
    assert_eq!(view.kind, KindId::from("chat"));
    let json = serde_json::to_value(&ana).expect("a view serializes");
    assert_eq!(json["free_units"], 55);
    assert_eq!(json["kinds"][1]["kind"], "email");
}

/// R-K4: with automatic reception off, the offer names the kind and its load is in units.
#[test]
fn r_k4_an_offer_names_the_kind_and_its_load_in_units() {
    let mut config = config();
    config.reception.auto_accept = false;
    let mut desk = desk_with(config);
    let arrived = arrive(&mut desk, "v1", "voice");
    assert!(
        arrived.events.iter().any(|e| matches!(e,
            Event::ConversationOffered { kind, load: 100, limit: 100, .. }
                if kind.as_str() == "voice")),
        "{:?}",
        arrived.events
    );
}

// ---- R-K5: work conservation per kind ----------------------------------------------------------

/// R-K5: a freed agent takes the best waiting conversation that fits across its groups and
/// kinds: a call at the head of the queue does not stop a chat behind it from draining to an
/// agent with 30 free units.
#[test]
fn r_k5_a_call_at_the_head_does_not_stop_a_chat_behind_it() {
    let mut desk = desk_with(config());
    for (c, kind) in [
        ("c1", "chat"),
        ("c2", "chat"),
        ("c3", "chat"),
        ("e1", "email"),
        ("e2", "email"),
    ] {
        arrive(&mut desk, c, kind);
    }
    assert_eq!(desk.load("ana"), (95, 100));
    arrive(&mut desk, "v1", "voice");
    desk.wait(TimeDelta::seconds(1));
    arrive(&mut desk, "c4", "chat");
    assert_eq!(desk.queue("support"), ["v1", "c4"]);

    let ended = desk.end("c1");
    assert_eq!(assigned(&ended.events), [row("c4", "ana", 95, 100, "chat")]);
    assert_eq!(desk.queue("support"), ["v1"], "the call keeps its place");
}

/// R-K5: across groups and kinds, the best waiting conversation that fits goes first (priority,
/// then arrival), and the drain goes on while anything fits.
#[test]
fn r_k5_a_drain_takes_the_best_that_fits_across_groups_and_kinds_while_anything_fits() {
    let mut desk = Desk::with_config(config());
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("billing", Strategy::LeastRecentlyAssigned);
    desk.arrive_as(Arrival::new("b1", "b1", "billing").kind("email"));
    desk.wait(TimeDelta::seconds(1));
    desk.arrive_as(Arrival::new("s1", "s1", "support").kind("chat"));
    desk.arrive_as(Arrival::new("s2", "s2", "support").kind("voice"));
    desk.arrive_as(Arrival::new("b2", "b2", "billing").kind("chat").priority(5));
    desk.arrive_as(Arrival::new("b3", "b3", "billing").kind("chat"));
    desk.arrive_as(Arrival::new("s3", "s3", "support").kind("chat"));
    let registered = desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .group("support")
            .group("billing"),
    );
    let order: Vec<String> = assigned(&registered.events)
        .into_iter()
        .map(|(c, ..)| c)
        .collect();
    // b2 (priority 5), then by arrival: b1, s1; then 40 units are left: the call does not
    // fit, b3 (arrived before s3) does; 15 are left, which fits nothing.
    assert_eq!(order, ["b2", "b1", "s1", "b3"]);
    assert_eq!(desk.agent_view("ana").free_units, 15);
}

// ---- the config changes at run time ------------------------------------------------------------

/// R-K1: a config change re-evaluates at once: a cheaper chat lets a waiting one drain.
#[test]
fn r_k1_a_config_change_re_evaluates_capacity_at_once() {
    let mut desk = desk_with(config());
    for c in ["c1", "c2", "c3", "c4", "c5"] {
        arrive(&mut desk, c, "chat");
    }
    assert_eq!(desk.queue("support"), ["c5"]);
    let mut cheaper = config();
    cheaper.kinds[0].cost = 20;
    let updated = desk.run(Command::UpdateConfig(cheaper));
    assert_eq!(updated.events[0], Event::ConfigUpdated);
    assert_eq!(
        assigned(&updated.events),
        [row("c5", "ana", 100, 100, "chat")]
    );
}

// ---- bad input ---------------------------------------------------------------------------------

/// R-K1, R-C4: an arrival of a kind the config does not define is refused, naming it.
#[test]
fn r_k1_an_unknown_kind_is_refused_and_changes_nothing() {
    let mut desk = desk_with(config());
    let error = desk.refuse(Command::VisitorArrives(
        Arrival::new("c1", "v1", "support").kind("fax"),
    ));
    assert_eq!(error, Error::UnknownKind { kind: "fax".into() });
    assert_eq!(error.to_string(), "unknown kind `fax`");
    assert!(desk.engine.conversation("c1").is_none());
}

/// R-K1, R-K2, R-C5: every invalid kind is refused by `Config::validate`, by `Engine::new` and
/// by `UpdateConfig`, naming the field; nothing changes.
#[test]
fn r_k1_r_k2_invalid_kinds_are_refused_naming_the_field() {
    let with = |kinds: Vec<KindSpec>| Config { kinds, ..config() };
    let cases = [
        (
            with(vec![KindSpec::new("chat", 25), KindSpec::new("chat", 10)]),
            "kinds[1].kind",
            "defined twice",
        ),
        (
            with(vec![KindSpec::new("chat", 0)]),
            "kinds[0].cost",
            "at least 1",
        ),
        (
            with(vec![KindSpec::new("chat", 25), KindSpec::new("voice", 101)]),
            "kinds[1].cost",
            "above default_limit (100)",
        ),
        (
            with(vec![KindSpec::new("chat", 25).max_per_agent(0)]),
            "kinds[0].max_per_agent",
            "at least 1",
        ),
        (
            with(vec![KindSpec::new("voice", 60).blocks("fax")]),
            "kinds[0].blocks",
            "`fax`",
        ),
        (
            with(vec![
                KindSpec::new("chat", 25),
                KindSpec::new("voice", 60).blocks("chat").blocks("chat"),
            ]),
            "kinds[1].blocks",
            "twice",
        ),
        (
            with(vec![KindSpec::new("voice", 60).blocks("voice")]),
            "kinds[0].blocks",
            "cannot block itself",
        ),
    ];
    let mut desk = desk_with(config());
    arrive(&mut desk, "c1", "chat");
    for (bad, field, words) in cases {
        let expected = |error: &Error| {
            matches!(error, Error::InvalidConfig { field: f, problem }
                if f == field && problem.contains(words))
        };
        let validated = bad.validate().expect_err("an invalid kind");
        assert!(expected(&validated), "{field}: {validated:?}");
        let created = Engine::new(bad.clone()).expect_err("an invalid kind");
        assert!(expected(&created), "{field}: {created:?}");
        let updated = desk.refuse(Command::UpdateConfig(bad));
        assert!(expected(&updated), "{field}: {updated:?}");
    }
    // Two kinds that block each other are allowed: an agent holds one or the other.
    with(vec![
        KindSpec::new("voice", 60).blocks("video"),
        KindSpec::new("video", 60).blocks("voice"),
    ])
    .validate()
    .expect("mutual blocking is fine");
}

/// R-K1, R-C4: a config that leaves out a kind open conversations have is refused, naming the
/// kind and how many; once they are done it is accepted. Leaving out the kinds altogether
/// leaves out the kinds named, for the implicit kind `default`.
#[test]
fn r_k1_removing_a_kind_in_use_is_refused_until_its_conversations_are_done() {
    let mut desk = desk_with(config());
    arrive(&mut desk, "v1", "voice");
    arrive(&mut desk, "v2", "voice");
    let mut fewer = config();
    fewer.kinds.pop();
    let error = desk.refuse(Command::UpdateConfig(fewer.clone()));
    assert_eq!(
        error,
        Error::KindInUse {
            kind: "voice".into(),
            conversations: 2
        }
    );
    assert_eq!(
        error.to_string(),
        "kind `voice` still has 2 open conversation(s)"
    );
    desk.run(Command::EndConversations {
        conversations: conversation_ids(&["v1", "v2"]),
        reason: EndReason::Agent,
    });
    desk.run(Command::UpdateConfig(fewer));
    // The finished calls keep the name of their kind.
    assert_eq!(
        desk.engine.conversation("v1").expect("known").kind.as_str(),
        "voice"
    );

    arrive(&mut desk, "c1", "chat");
    let plain = Config {
        default_limit: 100,
        ..Config::default()
    };
    let error = desk.refuse(Command::UpdateConfig(plain));
    assert!(
        matches!(error, Error::KindInUse { kind, conversations: 1 } if kind.as_str() == "chat")
    );
}

/// R-K3, R-C4: a group cap of 0 is refused at registration and in an update, naming the group.
#[test]
fn r_k3_a_zero_group_cap_is_refused_and_changes_nothing() {
    let mut desk = capped_desk();
    let error = desk.refuse(Command::RegisterGroup(GroupSpec::new("x").agent_cap(0)));
    assert_eq!(error, Error::ZeroGroupCap { group: "x".into() });
    let error = desk.refuse(Command::UpdateGroup(GroupUpdate {
        group: "sales".into(),
        strategy: Some(Strategy::RoundRobin),
        limit: None,
        overflow: None,
        agent_cap: Some(Some(0)),
    }));
    assert_eq!(
        error,
        Error::ZeroGroupCap {
            group: "sales".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "group `sales` cannot cap its work on an agent at 0 units"
    );
}

/// R-P2, R-K1: a claim respects every dimension, as automatic work does: a named conversation
/// the agent does not fit is refused with the dimension; "the next one" names the first it may
/// not take when there is nothing it fits.
#[test]
fn r_k1_claims_respect_fit() {
    let mut desk = Desk::with_config(Config {
        mode: ReceptionMode::Asynchronous,
        ..config()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.register(AgentSpec::new("ana").limit(50).group("support"));
    for c in ["c1", "c2"] {
        arrive(&mut desk, c, "chat");
    }
    arrive(&mut desk, "v1", "voice");
    arrive(&mut desk, "c3", "chat");
    assert_eq!(pool(&desk), ["v1", "c3"]);
    let error = desk.refuse(Command::Claim {
        agent: "ana".into(),
        conversation: Some("v1".into()),
    });
    assert!(
        matches!(&error, Error::AgentUnavailable { conversation, reason, .. }
            if conversation.as_str() == "v1" && reason == "it is at its limit"),
        "{error:?}"
    );
    // 25 units free: the chat behind the call drains; the call never fits 50 units.
    desk.end("c1");
    assert_eq!(desk.holder("c3").as_deref(), Some("ana"));
    desk.end("c2");
    assert_eq!(pool(&desk), ["v1"]);
    let error = desk.refuse(Command::Claim {
        agent: "ana".into(),
        conversation: None,
    });
    assert!(
        matches!(&error, Error::AgentUnavailable { conversation, .. } if conversation.as_str() == "v1"),
        "{error:?}"
    );
    // An admin may still give it to her (R-X1).
    desk.assign(&["v1"], Target::Agent("ana".into()));
    assert_eq!(desk.load("ana"), (125, 50));
}

/// R-P2, R-K1: "the next one" in pool order that the agent fits: an email it has no room for
/// is passed over for the chat behind it, on a fresh engine as on a restored one.
#[test]
fn r_k1_a_claim_of_the_next_one_passes_over_what_does_not_fit() {
    let mut desk = Desk::with_config(Config {
        mode: ReceptionMode::Asynchronous,
        default_limit: 3,
        kinds: vec![KindSpec::new("chat", 1), KindSpec::new("email", 2)],
        ..Config::default()
    });
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.group("other", Strategy::LeastRecentlyAssigned);
    desk.register(AgentSpec::new("ana").group("support"));
    arrive(&mut desk, "c1", "chat");
    arrive(&mut desk, "c2", "chat");
    // No one is in `other`: its work waits in the pool for a claim.
    desk.arrive_as(Arrival::new("o1", "o1", "other").kind("email"));
    desk.arrive_as(Arrival::new("o2", "o2", "other").kind("chat"));
    assert_eq!(pool(&desk), ["o1", "o2"]);
    let claim = Command::Claim {
        agent: "ana".into(),
        conversation: None,
    };
    let mut restored = Engine::restore(desk.engine.snapshot()).expect("restores");
    let claimed = desk.run(claim.clone());
    assert_eq!(assigned(&claimed.events), [row("o2", "ana", 3, 3, "chat")]);
    let again = restored.handle(desk.now, claim).expect("claims");
    assert_eq!(again.events, claimed.events);
}

// ---- snapshots -------------------------------------------------------------------------------

/// R-C6, R-K1: a snapshot keeps every conversation's kind and every group's cap; the restored
/// engine rebuilds the loads per kind and answers as the original would.
#[test]
fn r_k1_a_snapshot_restores_kinds_and_caps_and_goes_on_the_same() {
    let mut desk = capped_desk();
    sale(&mut desk, "s1");
    sale(&mut desk, "s2");
    sale(&mut desk, "s3");
    desk.arrive_as(Arrival::new("e1", "e1", "support").kind("email"));
    let stored = serde_json::to_string(&desk.engine.snapshot()).expect("serializes");
    let snapshot: Snapshot = serde_json::from_str(&stored).expect("reads back");
    let mut restored = Engine::restore(snapshot).expect("restores");
    assert_eq!(restored.agent("ana"), desk.engine.agent("ana"));
    assert_eq!(restored.group("sales"), desk.engine.group("sales"));
    let end = Command::EndConversations {
        conversations: conversation_ids(&["s1"]),
        reason: EndReason::Agent,
    };
    let later = desk.now + TimeDelta::minutes(1);
    let original = desk.engine.handle(later, end.clone()).expect("ends");
    assert_eq!(restored.handle(later, end).expect("ends"), original);
    assert_eq!(
        assigned(&original.events),
        [row("s3", "ana", 60, 100, "chat")]
    );
}

/// R-C6, R-K1: a snapshot written before kinds (no `kinds` in its config, no `kind` on its
/// conversations, no `agent_cap` on its groups) restores as a desk of the implicit kind.
#[test]
fn r_k1_a_snapshot_from_before_kinds_restores_with_the_implicit_kind() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    let mut value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    let state = &mut value["state"];
    state["config"]
        .as_object_mut()
        .expect("a config")
        .remove("kinds");
    for entry in state["conversations"]["entries"]
        .as_array_mut()
        .expect("the conversations' slab")
    {
        entry
            .as_object_mut()
            .expect("a conversation")
            .remove("kind");
    }
    for group in state["groups"]
        .as_object_mut()
        .expect("groups")
        .values_mut()
    {
        group.as_object_mut().expect("a group").remove("agent_cap");
    }
    let snapshot: Snapshot = serde_json::from_value(value).expect("still a snapshot");
    let mut restored = Engine::restore(snapshot).expect("restores");
    assert_eq!(restored.snapshot(), desk.engine.snapshot());
    let end = Command::EndConversations {
        conversations: conversation_ids(&["c1"]),
        reason: EndReason::Agent,
    };
    let ended = restored.handle(desk.now, end).expect("ends");
    assert_eq!(assigned(&ended.events), [row("c2", "ana", 1, 1, "default")]);
}

/// R-C5, R-C6, R-K1: a snapshot whose open conversation is of a kind its config does not
/// define is refused as corrupt, naming both.
#[test]
fn r_k1_a_snapshot_with_an_open_conversation_of_an_unknown_kind_is_corrupt() {
    let mut desk = desk_with(config());
    arrive(&mut desk, "c1", "chat");
    let mut value = serde_json::to_value(desk.engine.snapshot()).expect("serializes");
    let conversations = value["state"]["conversations"]["entries"]
        .as_array_mut()
        .expect("the conversations' slab");
    conversations[0]["kind"] = "fax".into();
    let snapshot: Snapshot = serde_json::from_value(value).expect("still a snapshot");
    match Engine::restore(snapshot) {
        Err(Error::CorruptSnapshot { problem }) => {
            assert!(
                problem.contains("`c1`") && problem.contains("`fax`"),
                "{problem}"
            );
        }
        other => panic!("expected a corrupt snapshot, got {:?}", other.map(|_| ())),
    }
}

/// R-K1: a conversation's state is unaffected by its kind: the views and queries work as for
/// the default kind.
#[test]
fn r_k1_the_state_of_a_conversation_of_a_kind_reads_as_usual() {
    let mut desk = desk_with(config());
    arrive(&mut desk, "v1", "voice");
    assert!(matches!(
        state(&desk, "v1"),
        ConversationState::Active { agent } if agent.as_str() == "ana"
    ));
}
