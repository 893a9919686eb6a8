//! What one command produced: its events, per-item results, and the next deadline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::event::{AssignReason, Event};
use crate::ids::{AgentId, ConversationId, GroupId};

/// The result of a successful [`Engine::handle`](crate::Engine::handle).
///
/// Dropping it unread loses the events and the next deadline, hence `#[must_use]`. Besides the
/// fields, readers pick out what nearly every host looks for: [`Outcome::assignments`],
/// [`Outcome::positions`], [`Outcome::item`] and [`Outcome::failures`].
#[must_use = "an outcome holds the events to dispatch and the next deadline to schedule"]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// What happened, in causal order.
    pub events: Vec<Event>,
    /// For batch commands (R-C8), one result per item, in the order given; empty otherwise.
    pub results: Vec<ItemResult>,
    /// When the host should send the next [`Command::Tick`](crate::Command::Tick), if ever.
    pub next_deadline: Option<DateTime<Utc>>,
}

impl Outcome {
    /// Whether every item of a batch succeeded (true for commands that are not batches).
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(|r| r.result.is_ok())
    }

    /// Whether there is nothing to dispatch: no events and no item results (an early
    /// [`Command::Tick`](crate::Command::Tick), for one). The command may still have moved the
    /// engine's clock: journal it as any other.
    ///
    /// ```
    /// # use chrono::{DateTime, Utc};
    /// use switchboard::{Command, Config, Engine, GroupSpec};
    ///
    /// # let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// let registered = engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
    /// assert!(!registered.is_empty());
    /// assert!(engine.handle(t0, Command::Tick).unwrap().is_empty(), "nothing was due");
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.results.is_empty()
    }

    /// Every conversation this command gave to an agent, in event order: assignments
    /// ([`Event::ConversationAssigned`]) and offers ([`Event::ConversationOffered`]).
    ///
    /// ```
    /// # use chrono::{DateTime, Utc};
    /// use switchboard::{AgentSpec, AgentStatus, Arrival, AssignReason, Command, Config, Engine, GroupSpec, Strategy};
    ///
    /// # let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
    /// let ana = AgentSpec::new("ana").status(AgentStatus::Online).group("support");
    /// engine.handle(t0, Command::RegisterAgent(ana)).unwrap();
    ///
    /// let outcome = engine.handle(t0, Command::VisitorArrives(Arrival::new("c1", "v1", "support"))).unwrap();
    /// let assigned: Vec<_> = outcome.assignments().collect();
    /// assert_eq!(assigned.len(), 1);
    /// assert_eq!((assigned[0].conversation.as_str(), assigned[0].agent.as_str()), ("c1", "ana"));
    /// assert_eq!(assigned[0].reason, &AssignReason::Strategy { strategy: Strategy::LeastRecentlyAssigned });
    /// assert!(!assigned[0].is_offer(), "automatic reception is on by default");
    /// ```
    pub fn assignments(&self) -> impl Iterator<Item = Assignment<'_>> + '_ {
        self.events.iter().filter_map(|event| match event {
            Event::ConversationAssigned {
                conversation,
                agent,
                reason,
                ..
            } => Some(Assignment {
                conversation,
                agent,
                reason,
                offer_expires_at: None,
            }),
            Event::ConversationOffered {
                conversation,
                agent,
                reason,
                expires_at,
                ..
            } => Some(Assignment {
                conversation,
                agent,
                reason,
                offer_expires_at: Some(*expires_at),
            }),
            _ => None,
        })
    }

    /// Every queue position this command announced, in event order: conversations that
    /// entered a queue ([`Event::ConversationQueued`]) and waiting ones whose position changed
    /// ([`Event::QueuePositionChanged`]). A conversation appears at most once per command
    /// in practice; should it appear twice, the later entry is the current one. The positions
    /// to tell visitors, without matching events.
    ///
    /// ```
    /// # use chrono::{DateTime, Utc};
    /// use switchboard::{Arrival, Command, Config, Engine, GroupSpec};
    ///
    /// # let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
    /// for c in ["c1", "c2"] {
    ///     let outcome = engine.handle(t0, Command::VisitorArrives(Arrival::new(c, c, "support"))).unwrap();
    ///     let entered = outcome.positions().find(|p| p.entered).unwrap();
    ///     assert_eq!(entered.conversation.as_str(), c);
    /// }
    /// // c1 leaves: c2 moves up to position 1.
    /// let outcome = engine.handle(t0, Command::VisitorLeaves { conversation: "c1".into() }).unwrap();
    /// let moved: Vec<_> = outcome.positions().map(|p| (p.conversation.as_str(), p.position)).collect();
    /// assert_eq!(moved, [("c2", 1)]);
    /// ```
    pub fn positions(&self) -> impl Iterator<Item = QueuePosition<'_>> + '_ {
        self.events.iter().filter_map(|event| match event {
            Event::ConversationQueued {
                conversation,
                group,
                position,
            } => Some(QueuePosition {
                conversation,
                group,
                position: *position,
                entered: true,
            }),
            Event::QueuePositionChanged {
                conversation,
                group,
                position,
            } => Some(QueuePosition {
                conversation,
                group,
                position: *position,
                entered: false,
            }),
            _ => None,
        })
    }

    /// The result of a batch command's item for `conversation`, if the batch named it (the
    /// first, if it named it more than once).
    ///
    /// ```
    /// # use chrono::{DateTime, Utc};
    /// use switchboard::{Arrival, Command, Config, EndReason, Engine, Error, GroupSpec};
    ///
    /// # let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
    /// engine.handle(t0, Command::VisitorArrives(Arrival::new("c1", "v1", "support"))).unwrap();
    ///
    /// let end = Command::EndConversations { conversations: vec!["c1".into(), "c9".into()], reason: EndReason::Admin };
    /// let outcome = engine.handle(t0, end).unwrap();
    /// assert_eq!(outcome.item("c1").map(|item| item.result.is_ok()), Some(true));
    /// assert!(matches!(outcome.item("c9").map(|item| &item.result), Some(Err(Error::UnknownConversation { .. }))));
    /// assert!(outcome.item("c5").is_none());
    /// ```
    pub fn item(&self, conversation: &str) -> Option<&ItemResult> {
        self.results
            .iter()
            .find(|item| item.conversation.as_str() == conversation)
    }

    /// The items of a batch command that were refused, with why, in the order given.
    ///
    /// ```
    /// # use chrono::{DateTime, Utc};
    /// use switchboard::{Command, Config, Engine, Error};
    ///
    /// # let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    /// let mut engine = Engine::new(Config::default()).unwrap();
    /// let forget = Command::Forget { conversations: vec!["c9".into()] };
    /// let outcome = engine.handle(t0, forget).unwrap();
    /// let failures: Vec<_> = outcome.failures().map(|(c, e)| (c.as_str(), e.clone())).collect();
    /// assert_eq!(failures, [("c9", Error::UnknownConversation { conversation: "c9".into() })]);
    /// ```
    pub fn failures(&self) -> impl Iterator<Item = (&ConversationId, &Error)> + '_ {
        self.results
            .iter()
            .filter_map(|item| Some((&item.conversation, item.result.as_ref().err()?)))
    }
}

/// A conversation given to an agent by one command, read from its events by
/// [`Outcome::assignments`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assignment<'a> {
    /// The conversation.
    pub conversation: &'a ConversationId,
    /// The agent.
    pub agent: &'a AgentId,
    /// Why this agent (R-B1).
    pub reason: &'a AssignReason,
    /// `Some(expiry)` for an offer the agent must accept before then (R-R1); `None` when the
    /// conversation is active with the agent.
    pub offer_expires_at: Option<DateTime<Utc>>,
}

impl Assignment<'_> {
    /// Whether it is an offer rather than an assignment.
    pub fn is_offer(&self) -> bool {
        self.offer_expires_at.is_some()
    }
}

/// A waiting conversation's queue position, read by [`Outcome::positions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuePosition<'a> {
    /// The conversation.
    pub conversation: &'a ConversationId,
    /// The queue it waits in.
    pub group: &'a GroupId,
    /// Its 1-based position there.
    pub position: u32,
    /// Whether it entered the queue with this command ([`Event::ConversationQueued`]) rather
    /// than moved in it ([`Event::QueuePositionChanged`]).
    pub entered: bool,
}

/// The result of one item of a batch command.
///
/// On the wire: `{"conversation":"c1","error":null}` when it was done,
/// `{"conversation":"c2","error":{"type":"UnknownConversation","conversation":"c2"}}` when
/// it was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ItemResultWire", into = "ItemResultWire")]
#[non_exhaustive]
pub struct ItemResult {
    /// The item's conversation.
    pub conversation: ConversationId,
    /// `Ok` when it was done; the error otherwise (nothing was changed for this item).
    pub result: Result<(), Error>,
}

/// [`ItemResult`] on the wire: a `Result` is an externally tagged enum in serde, against the
/// crate's convention, so the error is a nullable field instead.
#[derive(Serialize, Deserialize)]
struct ItemResultWire {
    conversation: ConversationId,
    #[serde(default)]
    error: Option<Error>,
}

impl From<ItemResultWire> for ItemResult {
    fn from(wire: ItemResultWire) -> Self {
        ItemResult {
            conversation: wire.conversation,
            result: wire.error.map_or(Ok(()), Err),
        }
    }
}

impl From<ItemResult> for ItemResultWire {
    fn from(item: ItemResult) -> Self {
        ItemResultWire {
            conversation: item.conversation,
            error: item.result.err(),
        }
    }
}
