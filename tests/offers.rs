//! Reception settings (Tencent Cloud Desk): automatic reception on or off, offers that the
//! agent accepts or declines, redirects within the group when an agent does not respond, the
//! short break after a missed offer, the first-reply timeout, and offers withdrawn when an agent
//! stops being assignable (R-R1, R-R2, R-R3, R-R4, R-A2).

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use switchboard::{
    AgentSpec, AgentStatus, AssignReason, Command, Config, ConversationState, DrainTrigger, Error,
    Event, Sender, Strategy, Target,
};

/// Automatic reception off: assignments are offers that stand for `timeout` seconds.
fn offers_config(timeout: u64) -> Config {
    let mut config = Config::default();
    config.reception.auto_accept = false;
    config.reception.offer_timeout_secs = timeout;
    config
}

/// The offers in some events: (conversation, agent, reason, expires_at).
fn offers(events: &[Event]) -> Vec<(String, String, AssignReason, DateTime<Utc>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationOffered {
                conversation,
                agent,
                reason,
                expires_at,
                ..
            } => Some((
                conversation.to_string(),
                agent.to_string(),
                reason.clone(),
                *expires_at,
            )),
            _ => None,
        })
        .collect()
}

/// The (conversation, agent) pairs of some offers.
fn offered(events: &[Event]) -> Vec<(String, String)> {
    offers(events)
        .into_iter()
        .map(|(c, a, _, _)| (c, a))
        .collect()
}

fn pair(c: &str, a: &str) -> (String, String) {
    (c.to_owned(), a.to_owned())
}

/// Where an event sits in a list; panics if it is not there.
fn index_of(events: &[Event], wanted: &Event) -> usize {
    events
        .iter()
        .position(|e| e == wanted)
        .unwrap_or_else(|| panic!("{wanted:?} is not among {events:?}"))
}

fn state(desk: &Desk, conversation: &str) -> ConversationState {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .state
}

fn accept(conversation: &str, agent: &str) -> Command {
    Command::AcceptOffer {
        conversation: conversation.into(),
        agent: agent.into(),
    }
}

fn decline(conversation: &str, agent: &str) -> Command {
    Command::DeclineOffer {
        conversation: conversation.into(),
        agent: agent.into(),
    }
}

/// A group `support` with the agent-priority strategy, and Online agents with limit 1 whose
/// group priorities follow the order given (the first is chosen first).
fn priority_desk(config: Config, agents: &[&str]) -> Desk {
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::AgentPriority);
    for (i, agent) in agents.iter().enumerate() {
        let priority = u8::try_from(i + 1).expect("at most five agents");
        desk.register(
            AgentSpec::new(*agent)
                .status(AgentStatus::Online)
                .limit(1)
                .group_with_rank("support", priority),
        );
    }
    desk
}

const PRIORITY: AssignReason = AssignReason::Strategy {
    strategy: Strategy::AgentPriority,
};
const REDIRECT: AssignReason = AssignReason::Redirect {
    strategy: Strategy::AgentPriority,
};

#[test]
fn r_r1_automatic_reception_is_on_by_default_and_assigns_at_once() {
    let mut desk = Desk::new();
    assert!(desk.engine.config().reception.auto_accept);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);

    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(pairs(&events), vec![pair("c1", "ana")]);
    assert!(
        offers(&events).is_empty(),
        "no offer with automatic reception"
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(desk.engine.next_deadline(), None, "nothing to time out");
}

#[test]
fn r_r1_reception_off_makes_an_offer_with_a_deadline_that_counts_toward_load() {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);

    let events = desk.arrive("c1", "v1", "support").events;
    let expires = t0() + TimeDelta::seconds(30);
    assert!(
        events.contains(&Event::ConversationOffered {
            skills: None,
            conversation: "c1".into(),
            agent: "ana".into(),
            reason: AssignReason::Strategy {
                strategy: Strategy::LeastRecentlyAssigned
            },
            expires_at: expires,
            load: 1,
            limit: 1,
            kind: "default".into()
        }),
        "{events:?}"
    );
    assert!(
        pairs(&events).is_empty(),
        "an offer is not an assignment yet"
    );
    assert_eq!(
        state(&desk, "c1"),
        ConversationState::Offered {
            agent: "ana".into(),
            expires
        }
    );
    assert_eq!(desk.holder("c1"), None, "not active before it is accepted");
    assert_eq!(desk.engine.next_deadline(), Some(expires));
    assert_eq!(desk.engine.counters().offered, 1);

    // The offer fills ana's only slot: the next visitor waits.
    assert_eq!(desk.load("ana"), (1, 1));
    desk.wait(TimeDelta::seconds(5));
    let events = desk.arrive("c2", "v2", "support").events;
    assert!(offers(&events).is_empty());
    assert_eq!(desk.queue("support"), vec!["c2"]);

    // One second before the deadline ana accepts: active, and the deadline is gone.
    desk.wait(TimeDelta::seconds(24));
    let events = desk.run(accept("c1", "ana")).events;
    assert_eq!(
        events,
        vec![Event::OfferAccepted {
            conversation: "c1".into(),
            agent: "ana".into()
        }]
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
    assert_eq!(desk.load("ana"), (1, 1));
    assert_eq!(desk.engine.next_deadline(), None);
    assert_eq!(desk.engine.counters().offered, 0);
    assert_eq!(desk.queue("support"), vec!["c2"]);

    // Nothing expires later: the accepted conversation stays with ana.
    let events = desk.advance(TimeDelta::minutes(5));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
}

#[test]
fn r_r1_r_r2_a_declined_offer_goes_to_another_agent_of_the_group_and_never_back() {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.agent("bo", 1, &["support"]);

    let events = desk.arrive("c1", "v1", "support").events;
    let first = offered(&events)[0].1.clone();
    let second = if first == "ana" { "bo" } else { "ana" };

    desk.wait(TimeDelta::seconds(3));
    let events = desk.run(decline("c1", &first)).events;
    let declined = Event::OfferDeclined {
        conversation: "c1".into(),
        agent: first.as_str().into(),
    };
    let redirect = Event::ConversationOffered {
        skills: None,
        conversation: "c1".into(),
        agent: second.into(),
        reason: AssignReason::Redirect {
            strategy: Strategy::LeastRecentlyAssigned,
        },
        expires_at: desk.now + TimeDelta::seconds(30),
        load: 1,
        limit: 1,
        kind: "default".into(),
    };
    assert!(index_of(&events, &declined) < index_of(&events, &redirect));
    assert_eq!(desk.load(&first), (0, 1), "the decline freed its slot");

    // The second agent declines too: the first is free, but it declined, so the conversation
    // waits instead of bouncing back.
    let events = desk.run(decline("c1", second)).events;
    assert!(offers(&events).is_empty(), "{events:?}");
    assert!(events.contains(&Event::ConversationQueued {
        conversation: "c1".into(),
        group: "support".into(),
        position: 1,
    }));
    assert_eq!(desk.load(&first), (0, 1));
    assert_eq!(desk.load(second), (0, 1));
    assert_eq!(desk.queue("support"), vec!["c1"]);
    let counters = desk.engine.counters();
    assert_eq!((counters.offers_declined, counters.redirects), (2, 2));

    // Someone else still gets work: a new visitor goes to a free agent.
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(offered(&events).len(), 1);
    assert_eq!(desk.queue("support"), vec!["c1"]);
}

#[test]
fn r_r2_a_timed_out_offer_is_redirected_within_the_group_skipping_the_agent_who_missed_it() {
    // Agent priority would pick ana every time she is free; the redirect must skip her.
    let mut desk = priority_desk(offers_config(30), &["ana", "bo", "cy"]);
    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(
        offers(&events),
        vec![(
            "c1".into(),
            "ana".into(),
            PRIORITY,
            t0() + TimeDelta::seconds(30)
        )]
    );

    // The deadline is exact: one second early nothing happens.
    let events = desk.advance(TimeDelta::seconds(29));
    assert!(events.is_empty(), "{events:?}");
    let events = desk.advance(TimeDelta::seconds(1));
    let expired = Event::OfferExpired {
        conversation: "c1".into(),
        agent: "ana".into(),
        short_break: false,
    };
    assert_eq!(events[0], expired);
    assert_eq!(
        offers(&events),
        vec![(
            "c1".into(),
            "bo".into(),
            REDIRECT,
            t0() + TimeDelta::seconds(60)
        )]
    );
    assert_eq!(desk.load("ana"), (0, 1));
    assert_eq!(desk.agent_view("ana").status, AgentStatus::Online);

    // bo misses it too: cy, not ana (free, and first by priority).
    let events = desk.advance(TimeDelta::seconds(30));
    assert_eq!(offered(&events), vec![pair("c1", "cy")]);

    // cy misses it: everyone has missed it, so it waits. Three redirects are within the
    // default limit of three: no limit event.
    let events = desk.advance(TimeDelta::seconds(30));
    assert!(offers(&events).is_empty(), "{events:?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::RedirectLimitReached { .. })),
        "{events:?}"
    );
    assert_eq!(desk.queue("support"), vec!["c1"]);
    assert_eq!(desk.engine.counters().offers_expired, 3);

    // The agents stay useful for other visitors: ana takes the next one at once.
    let events = desk.arrive("c2", "v2", "support").events;
    assert_eq!(offered(&events), vec![pair("c2", "ana")]);
}

#[test]
fn r_r2_with_no_one_free_the_conversation_returns_to_its_original_place_in_the_queue() {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);

    desk.arrive("c1", "v1", "support");
    desk.wait(TimeDelta::seconds(5));
    desk.arrive("c2", "v2", "support");
    desk.wait(TimeDelta::seconds(5));
    desk.arrive("c3", "v3", "support");
    assert_eq!(desk.queue("support"), vec!["c2", "c3"]);

    // ana lets c1 expire. It goes back in front of the later arrivals, and ana, who may not
    // have it again, takes the next one.
    let events = desk.advance(TimeDelta::seconds(20));
    let queued = Event::ConversationQueued {
        conversation: "c1".into(),
        group: "support".into(),
        position: 1,
    };
    assert!(
        index_of(
            &events,
            &Event::OfferExpired {
                conversation: "c1".into(),
                agent: "ana".into(),
                short_break: false,
            }
        ) < index_of(&events, &queued)
    );
    assert_eq!(
        offers(&events)
            .into_iter()
            .map(|(c, a, reason, _)| (c, a, reason))
            .collect::<Vec<_>>(),
        vec![(
            "c2".to_owned(),
            "ana".to_owned(),
            AssignReason::Drain {
                trigger: DrainTrigger::CapacityFreed
            }
        )]
    );
    assert_eq!(desk.queue("support"), vec!["c1", "c3"]);
    let view = desk.engine.conversation("c1").expect("known");
    assert_eq!(view.position, Some(1));
    assert_eq!(view.arrived_at, t0(), "the original arrival time is kept");

    // A new agent takes the conversation that has waited longest: c1.
    let events = desk.agent("bo", 1, &["support"]).events;
    assert_eq!(offered(&events), vec![pair("c1", "bo")]);
    assert_eq!(desk.queue("support"), vec!["c3"]);
}

#[test]
fn r_r2_the_redirect_limit_ends_ping_pong_with_an_event() {
    let mut config = offers_config(30);
    config.reception.redirect_limit = Some(1);
    let mut desk = priority_desk(config, &["ana", "bo", "cy"]);

    desk.arrive("c1", "v1", "support");
    let events = desk.advance(TimeDelta::seconds(30));
    assert_eq!(offered(&events), vec![pair("c1", "bo")], "redirect 1");

    // The second redirect is over the limit: the conversation waits for an admin, although cy
    // is free.
    let events = desk.run(decline("c1", "bo")).events;
    let limit = Event::RedirectLimitReached {
        conversation: "c1".into(),
        redirects: 2,
    };
    assert!(
        index_of(
            &events,
            &Event::OfferDeclined {
                conversation: "c1".into(),
                agent: "bo".into()
            }
        ) < index_of(&events, &limit)
    );
    assert!(offers(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c1"]);
    assert_eq!(desk.load("cy"), (0, 1));

    // No automatic route takes it any more: not a new agent, not a Tick much later.
    let events = desk.agent("dan", 1, &["support"]).events;
    assert!(offers(&events).is_empty(), "{events:?}");
    desk.advance(TimeDelta::hours(1));
    assert_eq!(desk.queue("support"), vec!["c1"]);

    // An admin assigns it: active at once, no offer.
    let events = desk.assign(&["c1"], Target::Agent("cy".into())).events;
    assert_eq!(
        assignments(&events),
        vec![("c1".into(), "cy".into(), AssignReason::Manual)]
    );
    assert_eq!(desk.holder("c1").as_deref(), Some("cy"));
}

#[test]
fn r_r3_a_missed_offer_sets_the_agent_to_short_break_and_its_other_conversations_stay() {
    let mut config = offers_config(30);
    config.reception.short_break_on_timeout = true;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::AgentPriority);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(2)
            .group_with_rank("support", 1),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 2),
    );

    desk.arrive("c0", "v0", "support");
    desk.run(accept("c0", "ana"));
    desk.wait(TimeDelta::seconds(10));
    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(offered(&events), vec![pair("c1", "ana")]);

    let events = desk.advance(TimeDelta::seconds(30));
    let expired = Event::OfferExpired {
        conversation: "c1".into(),
        agent: "ana".into(),
        short_break: true,
    };
    let on_break = Event::AgentStatusChanged {
        agent: "ana".into(),
        from: AgentStatus::Online,
        to: AgentStatus::ShortBreak,
    };
    assert!(index_of(&events, &expired) < index_of(&events, &on_break));
    assert_eq!(offered(&events), vec![pair("c1", "bo")]);

    let ana = desk.agent_view("ana");
    assert_eq!(ana.status, AgentStatus::ShortBreak);
    assert_eq!(ana.conversations, vec!["c0".into()], "c0 stays with ana");
    assert_eq!(desk.holder("c0").as_deref(), Some("ana"));
    assert_eq!(ana.load, 1);

    // On her break ana gets nothing, although she has room.
    let events = desk.arrive("c2", "v2", "support").events;
    assert!(offers(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c2"]);
}

#[test]
fn r_r4_no_first_reply_within_the_limit_transfers_the_conversation_the_same_way() {
    let mut config = Config::default();
    config.reception.first_reply_timeout_secs = Some(120);
    let mut desk = priority_desk(config, &["ana", "bo"]);

    let events = desk.arrive("c1", "v1", "support").events;
    assert_eq!(
        assignments(&events),
        vec![("c1".into(), "ana".into(), PRIORITY)]
    );
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(120))
    );

    // An internal note is not a reply.
    desk.wait(TimeDelta::seconds(60));
    desk.run(Command::Message {
        conversation: "c1".into(),
        from: Sender::AgentNote,
    });
    let events = desk.advance(TimeDelta::seconds(60));
    let timed_out = Event::FirstReplyTimedOut {
        conversation: "c1".into(),
        agent: "ana".into(),
    };
    assert_eq!(events[0], timed_out);
    assert_eq!(
        assignments(&events),
        vec![("c1".into(), "bo".into(), REDIRECT)]
    );
    assert_eq!(desk.load("ana"), (0, 1));
    assert_eq!(
        desk.engine.next_deadline(),
        Some(t0() + TimeDelta::seconds(240)),
        "bo has his own first-reply limit"
    );

    // bo replies in time: no more timeout.
    desk.wait(TimeDelta::seconds(10));
    desk.run(Command::Message {
        conversation: "c1".into(),
        from: Sender::AgentReply,
    });
    assert_eq!(desk.engine.next_deadline(), None);
    let events = desk.advance(TimeDelta::minutes(10));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(desk.holder("c1").as_deref(), Some("bo"));
}

#[test]
fn r_r4_with_no_one_else_free_a_timed_out_conversation_waits_and_skips_its_agent() {
    let mut config = Config::default();
    config.reception.first_reply_timeout_secs = Some(60);
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 2, &["support"]);
    desk.arrive("c1", "v1", "support");

    let events = desk.advance(TimeDelta::seconds(60));
    assert!(pairs(&events).is_empty(), "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c1"]);
    assert_eq!(desk.load("ana"), (0, 2));

    // ana has room but does not get it back; a new agent does.
    let events = desk.agent("bo", 1, &["support"]).events;
    assert_eq!(pairs(&events), vec![pair("c1", "bo")]);
}

#[test]
fn r_a2_leaving_an_assignable_status_withdraws_pending_offers_and_reroutes_them() {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::AgentPriority);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(2)
            .group_with_rank("support", 1),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 2),
    );
    desk.arrive("c0", "v0", "support");
    desk.run(accept("c0", "ana"));
    desk.arrive("c1", "v1", "support");
    assert!(matches!(
        state(&desk, "c1"),
        ConversationState::Offered { agent, .. } if agent.as_str() == "ana"
    ));

    desk.wait(TimeDelta::seconds(5));
    let events = desk.status("ana", AgentStatus::Busy).events;
    let changed = Event::AgentStatusChanged {
        agent: "ana".into(),
        from: AgentStatus::Online,
        to: AgentStatus::Busy,
    };
    let withdrawn = Event::OfferWithdrawn {
        conversation: "c1".into(),
        agent: "ana".into(),
    };
    assert!(index_of(&events, &changed) < index_of(&events, &withdrawn));
    let rerouted = offers(&events);
    assert_eq!(
        rerouted,
        vec![(
            "c1".into(),
            "bo".into(),
            PRIORITY,
            desk.now + TimeDelta::seconds(30)
        )]
    );
    let offer_at = events
        .iter()
        .position(|e| matches!(e, Event::ConversationOffered { .. }))
        .expect("an offer");
    assert!(
        index_of(&events, &withdrawn) < offer_at,
        "withdrawn, then offered"
    );
    // The accepted conversation stays with ana (held conversations stay by default).
    assert_eq!(desk.agent_view("ana").conversations, vec!["c0".into()]);
    assert_eq!(desk.load("ana"), (1, 2));
    assert_eq!(
        desk.engine.counters().redirects,
        0,
        "a withdrawal is not a redirect"
    );
}

#[test]
fn r_a2_a_withdrawn_offer_waits_at_its_place_and_its_agent_may_take_it_again() {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.wait(TimeDelta::seconds(5));
    desk.arrive("c2", "v2", "support");

    desk.wait(TimeDelta::seconds(5));
    let events = desk.status("ana", AgentStatus::Offline).events;
    assert!(events.contains(&Event::OfferWithdrawn {
        conversation: "c1".into(),
        agent: "ana".into(),
    }));
    assert_eq!(desk.queue("support"), vec!["c1", "c2"]);
    assert_eq!(desk.load("ana"), (0, 1));
    assert_eq!(
        desk.engine.next_deadline(),
        None,
        "the offer's deadline went"
    );

    // A withdrawal is not a miss: back online, ana is offered c1 again.
    desk.wait(TimeDelta::seconds(5));
    let events = desk.status("ana", AgentStatus::Online).events;
    assert_eq!(
        offers(&events),
        vec![(
            "c1".into(),
            "ana".into(),
            AssignReason::Drain {
                trigger: DrainTrigger::BecameAssignable
            },
            desk.now + TimeDelta::seconds(30)
        )]
    );
}

// ---- Bad input ---------------------------------------------------------------------------

/// `ana` and `bo` (limit 1); `c1` is offered to ana until t0 + 30 s.
fn offer_desk() -> Desk {
    let mut desk = Desk::with_config(offers_config(30));
    desk.group("support", Strategy::AgentPriority);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 1),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 2),
    );
    desk.arrive("c1", "v1", "support");
    desk
}

#[test]
fn r_r1_bad_input_an_offer_answered_by_the_wrong_agent_is_refused() {
    let mut desk = offer_desk();
    desk.wait(TimeDelta::seconds(10));
    let not_offered = Error::NotOfferedTo {
        conversation: "c1".into(),
        agent: "bo".into(),
    };
    assert_eq!(desk.refuse(accept("c1", "bo")), not_offered);
    assert_eq!(desk.refuse(decline("c1", "bo")), not_offered);
    assert_eq!(
        desk.refuse(accept("c1", "zed")),
        Error::UnknownAgent {
            agent: "zed".into()
        }
    );
    assert_eq!(
        desk.refuse(accept("c9", "ana")),
        Error::UnknownConversation {
            conversation: "c9".into()
        }
    );
    // ana can still answer.
    desk.run(accept("c1", "ana"));
    assert_eq!(desk.holder("c1").as_deref(), Some("ana"));
}

#[test]
fn r_r1_bad_input_an_offer_answered_at_or_after_its_deadline_before_the_tick_is_refused() {
    let mut desk = offer_desk();
    let expired = Error::OfferExpired {
        conversation: "c1".into(),
        expired_at: t0() + TimeDelta::seconds(30),
    };
    // The host has not ticked yet: at the deadline itself, and after it.
    desk.wait(TimeDelta::seconds(30));
    assert_eq!(desk.refuse(accept("c1", "ana")), expired);
    assert_eq!(desk.refuse(decline("c1", "ana")), expired);
    desk.wait(TimeDelta::seconds(1));
    assert_eq!(desk.refuse(accept("c1", "ana")), expired);

    // The tick then expires it the normal way and redirects it.
    let events = desk.run(Command::Tick).events;
    assert!(events.contains(&Event::OfferExpired {
        conversation: "c1".into(),
        agent: "ana".into(),
        short_break: false,
    }));
    assert_eq!(offered(&events), vec![pair("c1", "bo")]);
    // Now ana's answer names an offer that is no longer hers.
    assert_eq!(
        desk.refuse(accept("c1", "ana")),
        Error::NotOfferedTo {
            conversation: "c1".into(),
            agent: "ana".into(),
        }
    );
}

#[test]
fn r_r1_bad_input_answering_a_conversation_that_is_not_offered_is_refused() {
    let mut desk = Desk::new();
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    desk.arrive("c2", "v2", "support");
    for (conversation, state) in [("c1", "active"), ("c2", "queued")] {
        let error = desk.refuse(accept(conversation, "ana"));
        assert!(
            matches!(&error, Error::InvalidState { conversation: c, state: s, .. }
                if c.as_str() == conversation && *s == state),
            "{error:?}"
        );
        let error = desk.refuse(decline(conversation, "ana"));
        assert!(matches!(error, Error::InvalidState { .. }), "{error:?}");
    }
}

#[test]
fn r_r2_in_asynchronous_mode_a_missed_offer_returns_to_its_place_in_the_pool() {
    let mut config = offers_config(30);
    config.mode = switchboard::ReceptionMode::Asynchronous;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::LeastRecentlyAssigned);
    desk.agent("ana", 1, &["support"]);
    desk.arrive("c1", "v1", "support");
    for (i, c) in ["c2", "c3"].into_iter().enumerate() {
        desk.wait(TimeDelta::seconds(5));
        let events = desk.arrive(c, &format!("v{}", i + 2), "support").events;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::ConversationPooled { .. })),
            "{events:?}"
        );
    }

    let events = desk.advance(TimeDelta::seconds(20));
    assert_eq!(offered(&events), vec![pair("c2", "ana")]);
    let pool: Vec<String> = desk.engine.pool().map(|c| c.to_string()).collect();
    assert_eq!(pool, vec!["c1", "c3"], "c1 keeps its place, oldest first");
}

#[test]
fn r_r2_r_r3_the_timed_out_offer_is_redirected_before_the_short_break_withdraws_the_others() {
    let mut config = offers_config(30);
    config.reception.short_break_on_timeout = true;
    let mut desk = Desk::with_config(config);
    desk.group("support", Strategy::AgentPriority);
    desk.register(
        AgentSpec::new("ana")
            .status(AgentStatus::Online)
            .limit(2)
            .group_with_rank("support", 1),
    );
    desk.register(
        AgentSpec::new("bo")
            .status(AgentStatus::Online)
            .limit(1)
            .group_with_rank("support", 2),
    );
    desk.arrive("c1", "v1", "support");
    desk.wait(TimeDelta::seconds(1));
    desk.arrive("c2", "v2", "support");

    // c1 times out while bo is free: R-R2 sends it to bo. The short break then withdraws
    // c2 (R-A2), which waits behind nobody.
    let events = desk.advance(TimeDelta::seconds(29));
    assert!(events.contains(&Event::OfferWithdrawn {
        conversation: "c2".into(),
        agent: "ana".into(),
    }));
    assert_eq!(offered(&events), vec![pair("c1", "bo")], "{events:?}");
    assert_eq!(desk.queue("support"), vec!["c2"]);
}

// R-R1, R-Q3: a visitor may give up while its conversation is offered; the offer is withdrawn,
// the conversation counts as abandoned and the agent's room goes to waiting work.
#[test]
fn r_r1_a_visitor_may_abandon_while_its_conversation_is_offered() {
    let mut desk = offer_desk();
    assert_eq!(
        state(&desk, "c1"),
        ConversationState::Offered {
            agent: "ana".into(),
            expires: desk.now + TimeDelta::seconds(30),
        }
    );
    desk.arrive("c2", "v2", "support"); // offered to bo
    desk.arrive("c3", "v3", "support"); // waits
    let events = desk
        .run(Command::VisitorLeaves {
            conversation: "c1".into(),
        })
        .events;
    assert!(
        matches!(&events[0], Event::ConversationAbandoned { conversation, .. } if conversation.as_str() == "c1")
    );
    assert_eq!(
        offered(&events),
        [pair("c3", "ana")],
        "ana's room goes to c3"
    );
    assert_eq!(state(&desk, "c1"), ConversationState::Abandoned);
    assert_eq!(desk.engine.counters().abandoned, 1);
    assert_eq!(desk.engine.counters().offered, 2);
    let error = desk.refuse(Command::AcceptOffer {
        conversation: "c1".into(),
        agent: "ana".into(),
    });
    assert!(matches!(error, Error::InvalidState { .. }), "{error:?}");
}
