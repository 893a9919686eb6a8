//! # switchboard
//!
//! A pure, deterministic routing engine for live-chat conversations: it decides which agent
//! serves which conversation. A contact-center or help-desk service links it, feeds it
//! commands stamped with the time (a visitor arrives, an agent changes status, an admin assigns
//! by hand, a conversation ends) and gets back the decisions as events. The engine does no
//! I/O and never reads a clock: the host owns time, storage and the network.
//!
//! ## The run loop
//!
//! Everything goes through one method, [`Engine::handle`]`(now, command)`. It returns an
//! [`Outcome`]: the [`Event`]s in causal order, per-item results for batch commands, and the
//! next deadline. A host
//!
//! 1. calls `handle` with the current time and the command,
//! 2. persists or dispatches the events (open the chat on the agent's desk, tell the visitor
//!    its queue position, ...),
//! 3. schedules a [`Command::Tick`] at [`Outcome::next_deadline`], if there is one.
//!
//! ```
//! use chrono::{DateTime, TimeDelta, Utc};
//! use switchboard::{
//!     AgentSpec, AgentStatus, Arrival, AssignReason, Command, Config, Engine, EndReason,
//!     Event, GroupSpec, Strategy,
//! };
//!
//! let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
//! let mut engine = Engine::new(Config::default()).unwrap();
//!
//! // One group, two agents with room for one conversation each.
//! engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support"))).unwrap();
//! for name in ["ana", "bo"] {
//!     let agent = AgentSpec::new(name).status(AgentStatus::Online).limit(1).group("support");
//!     engine.handle(t0, Command::RegisterAgent(agent)).unwrap();
//! }
//!
//! // Three visitors arrive: two are served at once, the third waits.
//! for (i, visitor) in ["v1", "v2", "v3"].into_iter().enumerate() {
//!     let at = t0 + TimeDelta::seconds(i as i64);
//!     let arrival = Arrival::new(format!("c{i}"), visitor, "support");
//!     let outcome = engine.handle(at, Command::VisitorArrives(arrival)).unwrap();
//!     for event in &outcome.events {
//!         match event {
//!             Event::ConversationAssigned { conversation, agent, reason, .. } => {
//!                 // Least recently assigned (the default): ana, then bo.
//!                 assert_eq!(*reason, AssignReason::Strategy { strategy: Strategy::LeastRecentlyAssigned });
//!                 println!("{conversation} -> {agent}");
//!             }
//!             Event::ConversationQueued { conversation, position, .. } => {
//!                 assert_eq!((conversation.as_str(), *position), ("c2", 1));
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//!
//! // ana finishes c0 and at once takes c2, the best waiting conversation of her groups.
//! let end = Command::EndConversations { conversations: vec!["c0".into()], reason: EndReason::Agent };
//! let outcome = engine.handle(t0 + TimeDelta::minutes(5), end).unwrap();
//! assert!(outcome.events.iter().any(|e| matches!(e,
//!     Event::ConversationAssigned { conversation, agent, .. }
//!         if conversation.as_str() == "c2" && agent.as_str() == "ana")));
//! assert_eq!(engine.counters().waiting, 0);
//! ```
//!
//! ## What decides who gets a conversation
//!
//! When a conversation needs an agent, the engine tries in order (R-S2, R-S1):
//!
//! 1. the **designated agent** named at arrival, if eligible and below its limit;
//! 2. the **designated group** named at arrival, through that group's strategy;
//! 3. the **last agent** who served the visitor ([`Config::last_agent`], off by default),
//!    if it belongs to the conversation's group, is eligible and below its limit, and the last
//!    service lies within the optional window;
//! 4. the conversation's **group**, through its [`Strategy`]: least recently assigned (the
//!    default), round robin, least loaded, or agent priority; each ends in a total tie-break;
//! 5. with no one available, the conversation **queues** in its group (and in its designated
//!    group, and for its designated agent) by priority, then arrival, with optional aging.
//!
//! An agent is *eligible* when its status is assignable (Online, or a custom status marked
//! assignable). Its *limit* is its own, else the largest limit of its groups, else
//! [`Config::default_limit`]; its *load* is the conversations it holds. Every assignment event
//! says which step chose the agent ([`AssignReason`], R-B1).
//!
//! Whenever an agent gains room (a conversation ended or left it, it became assignable, its
//! limit rose, it joined a group, it was registered) it takes the best waiting work at once:
//! first conversations that designated it, then the best head among its groups' queues, until
//! it is full (R-D1). So after every command no conversation waits while an eligible agent
//! with room could take it (R-Q4).
//!
//! Manual assignment ([`Command::AssignManually`]) is the admin's override: it ignores status
//! and limit and always succeeds for a known agent; the agent may go over its limit and then
//! gets no automatic work until it is below it again (R-X1, R-A4).
//!
//! ## Time
//!
//! Every command carries `now`, a [`chrono::DateTime<Utc>`]. Time never runs backwards: a
//! command stamped earlier than the engine's clock is handled at the engine's clock (R-C3).
//! The engine schedules deadlines only for behaviours that need them and reports the earliest
//! as [`Engine::next_deadline`]; a [`Command::Tick`] that comes early or twice does nothing
//! (R-C2). In this release nothing is scheduled yet, so `next_deadline` is `None`.
//!
//! ## Determinism, snapshots, errors and panics
//!
//! - The engine reads no clock, draws no randomness, does no I/O and keeps no global state;
//!   it never iterates in hash order. The same commands give the same events, bit for bit
//!   (R-C1). The crate does not even enable chrono's clock.
//! - [`Engine::snapshot`] captures the whole state as a versioned [`Snapshot`] (serde);
//!   [`Engine::restore`] continues from it exactly as if never stopped (R-C6).
//! - A command either succeeds or returns an [`Error`] that names the ids involved, and then
//!   the engine is exactly as before (R-C4). Batch commands (assign, end, forget many) report
//!   one result per item; a bad item does not stop the others (R-C8). Business outcomes (no
//!   agent free) are events, never errors.
//! - No input panics the engine (R-C5). A panic would be a bug in switchboard: please report
//!   it with the command log.
//!
//! ## Cost
//!
//! Choosing an agent and choosing the next waiting conversation are lookups in ordered
//! indexes (B-trees): an arrival costs O(g · log a) where `a` is the number of agents and `g`
//! the number of groups of the chosen agent; an end that frees an agent costs O(g · log n) per
//! conversation the agent then takes, however long the queues. Each command's docs give its
//! cost.
//!
//! ## What is not here yet
//!
//! Asynchronous reception (the unassigned pool, snooze), offers with accept/decline, SLA and
//! inactivity timers, working hours, leave-a-message and estimated waits are planned; see the
//! README's feature table. [`Command::Snooze`] answers [`Error::WrongMode`] until then.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod agent;
mod command;
mod config;
mod conversation;
mod engine;
mod error;
mod event;
mod group;
mod handle;
mod ids;
mod outcome;
mod routing;
mod schedule;
mod store;
mod timers;
mod view;

pub use agent::AgentStatus;
pub use command::{
    AgentSpec, AgentUpdate, Arrival, Command, GroupSpec, GroupUpdate, Limit, Membership, Sender,
    Target,
};
pub use config::{
    AllocationTarget, Config, CustomStatus, Inactivity, LastAgent, PoolOrder, QueueConfig,
    ReceptionMode, Sla,
};
pub use conversation::ConversationState;
pub use engine::{Engine, SNAPSHOT_VERSION, Snapshot};
pub use error::Error;
pub use event::{AssignReason, DrainTrigger, EndReason, Event, PoolReason, ReplyGoal, WakeReason};
pub use ids::{AgentId, ConversationId, GroupId, VisitorId};
pub use outcome::{ItemResult, Outcome};
pub use routing::Strategy;
pub use view::{AgentView, ConversationView, Counters, GroupView};
