//! A small virtual-clock harness for scenario tests: a desk with an engine, a clock the test
//! moves, and helpers that keep the stories short.
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use switchboard::{
    AgentSpec, AgentStatus, AgentView, Arrival, AssignReason, Command, Config, ConversationId,
    ConversationState, EndReason, Engine, Error, Event, GroupSpec, ItemResult, Outcome, Strategy,
    Target, WakeReason,
};

/// Monday 2 March 2026, 09:00 UTC: the start of every story.
pub fn t0() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().expect("a valid timestamp")
}

/// What a desk helper returns: the command's [`Outcome`], which the desk has already used (its
/// events are in [`Desk::events`]), so a test may drop it, unlike a bare `Outcome`
/// (`#[must_use]`). The same fields as an `Outcome`; [`Ran::outcome`] gives the outcome back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub events: Vec<Event>,
    pub results: Vec<ItemResult>,
    pub next_deadline: Option<DateTime<Utc>>,
    outcome: Outcome,
}

impl Ran {
    pub fn new(outcome: Outcome) -> Self {
        Self {
            events: outcome.events.clone(),
            results: outcome.results.clone(),
            next_deadline: outcome.next_deadline,
            outcome,
        }
    }

    /// The outcome, as the engine returned it.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// [`Outcome::all_succeeded`].
    pub fn all_succeeded(&self) -> bool {
        self.outcome.all_succeeded()
    }
}

pub struct Desk {
    pub engine: Engine,
    pub now: DateTime<Utc>,
    /// Every command that succeeded, with its time: a replayable log.
    pub log: Vec<(DateTime<Utc>, Command)>,
    /// Every event so far.
    pub events: Vec<Event>,
}

impl Desk {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        Self {
            engine: Engine::new(config).expect("a valid config"),
            now: t0(),
            log: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Runs a command at the desk's clock; panics on `Err`.
    pub fn run(&mut self, command: Command) -> Ran {
        match self.try_run(command.clone()) {
            Ok(outcome) => Ran::new(outcome),
            Err(e) => panic!("{command:?} failed: {e}"),
        }
    }

    pub fn try_run(&mut self, command: Command) -> Result<Outcome, Error> {
        let outcome = self.engine.handle(self.now, command.clone())?;
        self.log.push((self.now, command));
        self.events.extend(outcome.events.iter().cloned());
        Ok(outcome)
    }

    /// Runs a command that must fail, and checks that the engine's serialized state did not
    /// change (R-C4). Returns the error.
    pub fn refuse(&mut self, command: Command) -> Error {
        let before = self.state_json();
        let result = self.engine.handle(self.now, command.clone());
        let after = self.state_json();
        assert_eq!(before, after, "a refused {command:?} changed the engine");
        match result {
            Err(e) => e,
            Ok(outcome) => panic!("{command:?} succeeded with {outcome:?}"),
        }
    }

    pub fn state_json(&self) -> String {
        serde_json::to_string(&self.engine.snapshot()).expect("the state serializes")
    }

    /// Moves the clock forward by `by`, sending a `Tick` at every deadline on the way and at
    /// the end.
    pub fn advance(&mut self, by: TimeDelta) -> Vec<Event> {
        let until = self.now + by;
        let mut events = Vec::new();
        while let Some(deadline) = self.engine.next_deadline() {
            if deadline > until {
                break;
            }
            self.now = self.now.max(deadline);
            events.extend(self.run(Command::Tick).events);
        }
        self.now = until;
        events.extend(self.run(Command::Tick).events);
        events
    }

    /// Moves the clock without ticking.
    pub fn wait(&mut self, by: TimeDelta) {
        self.now += by;
    }

    pub fn group(&mut self, id: &str, strategy: Strategy) -> Ran {
        self.run(Command::RegisterGroup(
            GroupSpec::new(id).strategy(strategy),
        ))
    }

    /// Registers an Online agent with a fixed limit in the given groups (priority 3).
    pub fn agent(&mut self, id: &str, limit: u32, groups: &[&str]) -> Ran {
        let mut spec = AgentSpec::new(id).status(AgentStatus::Online).limit(limit);
        for g in groups {
            spec = spec.group(*g);
        }
        self.run(Command::RegisterAgent(spec))
    }

    pub fn arrive(&mut self, conversation: &str, visitor: &str, group: &str) -> Ran {
        self.run(Command::VisitorArrives(Arrival::new(
            conversation,
            visitor,
            group,
        )))
    }

    pub fn end(&mut self, conversation: &str) -> Ran {
        self.run(Command::EndConversations {
            conversations: vec![conversation.into()],
            reason: EndReason::Agent,
        })
    }

    pub fn status(&mut self, agent: &str, status: AgentStatus) -> Ran {
        self.run(Command::AgentStatusChanged {
            agent: agent.into(),
            status,
        })
    }

    /// The agent holding a conversation, if any.
    pub fn holder(&self, conversation: &str) -> Option<String> {
        match self.engine.conversation(conversation)?.state {
            switchboard::ConversationState::Active { agent } => Some(agent.to_string()),
            _ => None,
        }
    }

    /// A group's queue, as strings.
    pub fn queue(&self, group: &str) -> Vec<String> {
        self.engine
            .queue(group)
            .expect("a known group")
            .map(|c| c.to_string())
            .collect()
    }
}

/// The assignments in an outcome's events: (conversation, agent, reason).
pub fn assignments(events: &[Event]) -> Vec<(String, String, AssignReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConversationAssigned {
                conversation,
                agent,
                reason,
                ..
            } => Some((conversation.to_string(), agent.to_string(), reason.clone())),
            _ => None,
        })
        .collect()
}

/// The (conversation, agent) pairs of an outcome's assignments.
pub fn pairs(events: &[Event]) -> Vec<(String, String)> {
    assignments(events)
        .into_iter()
        .map(|(c, a, _)| (c, a))
        .collect()
}

// ---- Helpers for the agent, strategy, preference and manual-operation stories ----------------

impl Desk {
    /// Registers an agent from a full spec (any status, limit, groups and priorities).
    pub fn register(&mut self, spec: AgentSpec) -> Ran {
        self.run(Command::RegisterAgent(spec))
    }

    /// A visitor arrives with a full `Arrival` (priority, designated agent or group).
    pub fn arrive_as(&mut self, arrival: Arrival) -> Ran {
        self.run(Command::VisitorArrives(arrival))
    }

    /// An admin assigns conversations to an agent or a group (R-X1).
    pub fn assign(&mut self, conversations: &[&str], target: Target) -> Ran {
        self.run(Command::AssignManually {
            conversations: conversation_ids(conversations),
            target,
        })
    }

    /// An agent's view; panics if the agent is unknown.
    pub fn agent_view(&self, agent: &str) -> AgentView {
        self.engine
            .agent(agent)
            .unwrap_or_else(|| panic!("agent `{agent}` is registered"))
    }

    /// An agent's (load, limit).
    pub fn load(&self, agent: &str) -> (u32, u32) {
        let view = self.agent_view(agent);
        (view.load, view.limit)
    }
}

/// Conversation ids from strings.
pub fn conversation_ids(ids: &[&str]) -> Vec<ConversationId> {
    ids.iter().map(|id| ConversationId::from(*id)).collect()
}

/// A batch outcome's per-item results, as (conversation, result).
pub fn item_results(outcome: &Ran) -> Vec<(String, Result<(), Error>)> {
    outcome
        .results
        .iter()
        .map(|r| (r.conversation.to_string(), r.result.clone()))
        .collect()
}

// ---- Helpers for the snooze stories (R-Z1, R-Z2) ---------------------------------------------

/// `Snooze` of the given conversations until `until`.
pub fn snooze(conversations: &[&str], until: DateTime<Utc>) -> Command {
    Command::Snooze {
        conversations: conversation_ids(conversations),
        until,
    }
}

/// A conversation's state by the engine's query; panics if it is unknown.
pub fn state(desk: &Desk, conversation: &str) -> ConversationState {
    desk.engine
        .conversation(conversation)
        .expect("a known conversation")
        .state
}

/// The snoozed bucket, soonest first, as strings.
pub fn bucket(desk: &Desk) -> Vec<(String, DateTime<Utc>)> {
    desk.engine
        .snoozed()
        .map(|(c, until)| (c.to_string(), until))
        .collect()
}

/// The unassigned pool, as strings.
pub fn pool(desk: &Desk) -> Vec<String> {
    desk.engine.pool().map(|c| c.to_string()).collect()
}

pub fn woke(conversation: &str, agent: &str, reason: WakeReason) -> Event {
    Event::ConversationWoke {
        conversation: conversation.into(),
        agent: agent.into(),
        reason,
    }
}

pub fn snoozed_event(conversation: &str, agent: &str, until: DateTime<Utc>) -> Event {
    Event::ConversationSnoozed {
        conversation: conversation.into(),
        agent: agent.into(),
        until,
    }
}
