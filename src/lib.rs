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
//! ### The host's loop: inputs and deadlines
//!
//! A host waits for two things at once, the next input (a request, a message from the
//! network) and the engine's next deadline, and hands the engine whichever comes first: the
//! input as its command, the deadline as a [`Command::Tick`]. raft-rs (`tick`) and str0m
//! (`Output::Timeout`) are driven the same way. Below, the clock is virtual and the inputs are
//! a list, so the example runs at once; a real host sleeps where the comment says, for example
//! with `tokio::select!` over its input channel and `tokio::time::sleep_until(deadline)`.
//!
//! ```
//! use chrono::{DateTime, TimeDelta, Utc};
//! use switchboard::{
//!     AgentSpec, AgentStatus, Arrival, Command, Config, EndReason, Engine, Event, GroupSpec,
//!     Inactivity, Sender,
//! };
//!
//! let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
//! let at = |secs| t0 + TimeDelta::seconds(secs);
//! // A silent visitor is reminded after two minutes, and the conversation ends after five.
//! let config = Config {
//!     inactivity: Inactivity { reminder_after_secs: Some(120), end_after_secs: Some(300) },
//!     ..Config::default()
//! };
//! let mut engine = Engine::new(config)?;
//!
//! // What the network will deliver, and when: ana replies to the visitor, who never answers.
//! let ana = AgentSpec::new("ana").status(AgentStatus::Online).group("support");
//! let reply = Command::Message { conversation: "c1".into(), from: Sender::AgentReply };
//! let mut inputs = vec![
//!     (at(0), Command::RegisterGroup(GroupSpec::new("support"))),
//!     (at(0), Command::RegisterAgent(ana)),
//!     (at(5), Command::VisitorArrives(Arrival::new("c1", "v1", "support"))),
//!     (at(20), reply),
//! ]
//! .into_iter()
//! .peekable();
//!
//! let mut deadline = engine.next_deadline();
//! let mut log = Vec::new();
//! loop {
//!     let next_input = inputs.peek().map(|(time, _)| *time);
//!     // Nothing to wait for: a real host would now wait for input alone.
//!     let Some(wake) = next_input.into_iter().chain(deadline).min() else { break };
//!     // A real host sleeps here until `wake`, or until an input arrives earlier.
//!     let now = wake;
//!     let command = match inputs.next_if(|(time, _)| *time <= now) {
//!         Some((_, input)) => input,
//!         None => Command::Tick, // the deadline came first
//!     };
//!     let outcome = engine.handle(now, command)?;
//!     // Persist or dispatch the events, then wait for the new deadline.
//!     for event in outcome.events {
//!         log.push(((now - t0).num_seconds(), event));
//!     }
//!     deadline = outcome.next_deadline;
//! }
//!
//! // The reminder came two minutes after ana's reply, the end three minutes later, each on a
//! // Tick at its deadline; then nothing was left to wait for.
//! let ended = |e: &Event| {
//!     matches!(e, Event::ConversationEnded { reason: EndReason::Inactivity, .. })
//! };
//! let reminded = |e: &Event| matches!(e, Event::InactivityReminder { .. });
//! assert!(log.iter().any(|(secs, e)| *secs == 140 && reminded(e)));
//! assert!(log.iter().any(|(secs, e)| *secs == 320 && ended(e)));
//! assert_eq!(engine.next_deadline(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What decides who gets a conversation
//!
//! When a conversation needs an agent, the engine tries in order (R-S2, R-S1):
//!
//! 1. the **designated agent** named at arrival, if it fits the conversation (below);
//! 2. the **designated group** named at arrival, through that group's strategy;
//! 3. the **last agent** who served the visitor ([`Config::last_agent`], off by default),
//!    if it belongs to one of the conversation's groups (its own, a designated one or an
//!    overflow group it joined), fits the conversation, and the last service lies within the
//!    optional window;
//! 4. the conversation's **group**, through its [`Strategy`]: least recently assigned (the
//!    default), round robin, least loaded, or agent priority; each ends in a total tie-break;
//! 5. with no one available, the conversation **waits**: in its group's queue in real-time
//!    mode, in the unassigned pool in asynchronous mode.
//!
//! Each step considers only agents that **fit** the conversation, in every dimension:
//!
//! - *eligible*: its status is assignable (Online, or a custom status marked assignable; in
//!   asynchronous mode with [`AllocationTarget::AllAgents`] status is ignored), and, with
//!   working-hours routing on, it is inside one of its schedules;
//! - *units*: its load plus the conversation's cost stays within its limit. Its *limit* is its
//!   capacity in units: its own, else the largest limit of its groups, else
//!   [`Config::default_limit`]; its *load* is the units of the conversations it holds:
//!   offered, active, and snoozed unless their kind's paused work holds none
//!   ([`KindSpec::paused_holds_units`], by default [`Config::snoozed_count_toward_load`]).
//!   On a desk without kinds every conversation costs 1 unit, so limit and load count
//!   conversations;
//! - *the kind's maximum*, *blocking kinds* and *the group's cap*: see "Work kinds and
//!   capacity" below.
//!
//! Every assignment event says which step chose the agent ([`AssignReason`], R-B1). A
//! designation routes only until the conversation is first served.
//!
//! Whenever an agent gains room (a conversation ended or left it, it became eligible, its
//! shift started, its limit rose, it joined a group, it was registered, a group's cap rose)
//! it takes the best waiting work it fits at once: first conversations that designated it,
//! then the best among the heads of its groups' queues, of every kind it fits, by the queue's
//! order (priority with aging, then arrival), until nothing fits (R-D1, R-K5). A call at the
//! head of a queue that the agent has no room for does not keep it from the chat behind. So
//! after every command no conversation waits while an eligible agent could take it in every
//! dimension (R-Q4, R-K5). Two documented exceptions: an agent never
//! gets automatically a conversation it transferred away, declined or let time out, and a
//! conversation redirected more often than [`Reception::redirect_limit`] waits for an admin.
//! Such a *stalled* conversation waits apart, out of the drains' way: the queries list it
//! after every live one ([`Engine::queue`], [`Engine::pool`]), and it routes normally again
//! once an admin assigns it ([`Command::AssignManually`]) or it is transferred.
//!
//! Manual assignment ([`Command::AssignManually`]) is the admin's override: it ignores status,
//! working hours and every dimension of capacity, and always succeeds for a known agent, from
//! the queue or pool, an offer, an agent or a snooze; the agent may go over its limit (or a
//! kind's maximum, or a group's cap, or take a blocked kind) and then gets no automatic work
//! that dimension bounds until it fits again (R-X1, R-A4 per dimension).
//!
//! ## Work kinds and capacity
//!
//! A desk that routes chats, emails and calls together defines its kinds of work in
//! [`Config::kinds`] (R-K1..R-K5). Each [`KindSpec`] has a **cost** in units, an optional
//! **maximum** per agent, the kinds it **blocks** while held (a call blocks chats), and whether
//! its **paused** (snoozed) work holds its units. An agent's limit is then its capacity in
//! units, and a conversation names its kind at arrival ([`Arrival::kind`]; the first kind is
//! the default). A group may **cap** the units of its own work one agent holds
//! ([`GroupSpec::agent_cap`]: at most two sales chats at once), on top of the capacity; the
//! cap follows the conversation however it reaches the agent (its group, an overflow or
//! designated group, a drain, a claim). Automatic work must fit every dimension; manual
//! assignment may exceed each one. The views show the load per kind and the free units
//! ([`AgentView::kinds`], [`AgentView::free_units`]); the events name the kind (R-K4).
//!
//! A desk that defines no kinds has one implicit kind, `default`, costing 1 unit, with no
//! maximum and blocking nothing: it routes exactly as a desk did before kinds.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use switchboard::{
//!     AgentSpec, AgentStatus, Arrival, Command, Config, EndReason, Engine, Event, GroupSpec,
//!     KindSpec,
//! };
//!
//! let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
//! // Capacity 100 units: four chats of 25, or one call of 100, which also blocks chats.
//! let config = Config {
//!     default_limit: 100,
//!     kinds: vec![KindSpec::new("chat", 25), KindSpec::new("voice", 100).blocks("chat")],
//!     ..Config::default()
//! };
//! let mut engine = Engine::new(config)?;
//! engine.handle(t0, Command::RegisterGroup(GroupSpec::new("support")))?;
//! let ana = AgentSpec::new("ana").status(AgentStatus::Online).group("support");
//! engine.handle(t0, Command::RegisterAgent(ana))?;
//!
//! for c in ["c1", "c2", "c3", "c4", "c5"] {
//!     engine.handle(t0, Command::VisitorArrives(Arrival::new(c, c, "support").kind("chat")))?;
//! }
//! engine.handle(t0, Command::VisitorArrives(Arrival::new("v1", "v1", "support").kind("voice")))?;
//! let ana = engine.agent("ana").expect("registered");
//! assert_eq!((ana.load, ana.free_units), (100, 0));
//! assert_eq!((ana.kinds[0].kind.as_str(), ana.kinds[0].count), ("chat", 4));
//! let waiting: Vec<&str> = engine.queue("support").expect("known").map(|c| c.as_str()).collect();
//! assert_eq!(waiting, ["c5", "v1"]);
//!
//! // A chat ends: the fifth chat fits the 25 units it frees, the call behind it does not.
//! let end = Command::EndConversations { conversations: vec!["c1".into()], reason: EndReason::Agent };
//! let outcome = engine.handle(t0, end)?;
//! assert!(outcome.events.iter().any(|e| matches!(e,
//!     Event::ConversationAssigned { conversation, kind, load: 100, .. }
//!         if conversation.as_str() == "c5" && kind.as_str() == "chat")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Skills and stages
//!
//! A desk that routes by language and product declares its skills in [`Config::skills`]
//! (R-SK1..R-SK5). Agents hold skills with a proficiency level from 1 to 10
//! ([`AgentSpec::skill`], changed at run time by [`AgentUpdate::skills`]); a conversation
//! carries requirements in **stages** ([`Arrival::stages`], [`Stage`]): the skills an agent must
//! hold at least at a level, the skills it should preferably hold, groups whose agents join as
//! candidates, and how long the stage lasts before the next, more relaxed one. Stage `i` begins
//! at arrival plus the durations of the stages before it, as an ordinary deadline, with
//! [`Event::StageAdvanced`]; the conversation keeps its place in the queue. Requirements apply
//! in every group the conversation waits in, and to the designated and last agents; manual
//! assignment and transfer to an agent ignore them, like every capacity dimension.
//!
//! Groups stay what they were: a group is the special case "one skill, any level", and a
//! group's overflow ([`GroupSpec::overflow`]) is the special case of a stage that adds groups
//! and keeps the requirements. Both are one timeline of deadlines per conversation: at one
//! instant, the stages that fall due relax first, in order, then the overflow groups join, then
//! a maximum wait may turn the visitor away.
//!
//! Groups choose among the qualified agents with their strategy, or with
//! [`Strategy::BestSkilled`]: the highest sum of levels on the required skills, then the most
//! preferred skills matched, then the least recently assigned, then registration order. Every
//! assignment of a conversation with stages says which stage and skills qualified the agent
//! ([`SkillMatch`], beside the [`AssignReason`] naming the strategy, R-B1). Requirements no agent
//! meets are accepted: the conversation waits, as for a group with no one online, until a
//! stage relaxes, an agent gains the skills, or the queue's limits turn it away.
//!
//! A desk that declares no skills and sends no stages routes exactly as before skills.
//!
//! ```
//! use chrono::{DateTime, TimeDelta, Utc};
//! use switchboard::{
//!     AgentSpec, AgentStatus, Arrival, Command, Config, Engine, Event, GroupSpec, Stage,
//!     Strategy,
//! };
//!
//! let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse()?;
//! let config = Config {
//!     skills: vec!["english".into(), "german".into(), "billing".into()],
//!     ..Config::default()
//! };
//! let mut engine = Engine::new(config)?;
//! let support = GroupSpec::new("support").strategy(Strategy::BestSkilled);
//! engine.handle(t0, Command::RegisterGroup(support))?;
//! let greta = AgentSpec::new("greta").status(AgentStatus::Online).group("support");
//! engine.handle(t0, Command::RegisterAgent(greta.skill("german", 9).skill("billing", 6)))?;
//!
//! // English and billing for 30 seconds, then any billing agent.
//! let arrival = Arrival::new("c1", "v1", "support")
//!     .stage(Stage::new().require("english", 5).require("billing", 5).for_ms(30_000))
//!     .stage(Stage::new().require("billing", 1));
//! engine.handle(t0, Command::VisitorArrives(arrival))?;
//! assert_eq!(engine.conversation("c1").expect("known").position, Some(1));
//! assert_eq!(engine.next_deadline(), Some(t0 + TimeDelta::seconds(30)));
//!
//! let outcome = engine.handle(t0 + TimeDelta::seconds(30), Command::Tick)?;
//! assert!(matches!(&outcome.events[0], Event::StageAdvanced { stage: 1, .. }));
//! let (conversation, agent, skills) = outcome
//!     .events
//!     .iter()
//!     .find_map(|e| match e {
//!         Event::ConversationAssigned { conversation, agent, skills, .. } => {
//!             Some((conversation, agent, skills.as_ref()?))
//!         }
//!         _ => None,
//!     })
//!     .expect("assigned once the stage relaxed");
//! assert_eq!((conversation.as_str(), agent.as_str()), ("c1", "greta"));
//! assert_eq!((skills.stage, skills.required[0].level), (1, 6));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The two reception modes
//!
//! **Real-time** (the default, R-M1): a visitor with no agent free waits in its group's queue,
//! ordered by priority then arrival, with optional aging ([`QueueConfig::aging_step_secs`])
//! that never re-sorts. The engine announces positions to the first few
//! ([`Event::QueuePositionChanged`]) and offers leave-a-message ([`Event::LeaveMessageOffered`])
//! when the queue is full, long, outside service hours or without any eligible agent (R-Q3).
//!
//! **Asynchronous** ([`ReceptionMode::Asynchronous`], Sobot): the conversation is accepted at
//! once, assigned or put in the unassigned pool ([`Event::ConversationPooled`]); agents claim
//! from the pool ([`Command::Claim`]) and snooze conversations they cannot finish yet
//! ([`Command::Snooze`]). A snoozed conversation keeps its agent, has no reply-goal clock,
//! reminder or automatic end, and wakes at its time, on a visitor message or an agent reply.
//! The snooze belongs to the conversation: reassigned by an admin, or transferred to an agent
//! who takes it at once, it stays snoozed with its new agent until the same time; transferred
//! where it must wait (a group with no one free) or be offered (automatic reception off), it
//! wakes first ([`WakeReason::Reassigned`]). Switch at run time with
//! [`Command::SetReceptionMode`]: queued conversations move to the pool in arrival order and
//! back; snoozes lift. The mode change is reported first, then what it moves.
//!
//! ```
//! use chrono::{DateTime, TimeDelta, Utc};
//! use switchboard::{
//!     AgentSpec, Arrival, Command, Config, ConversationState, Engine, Event, GroupSpec,
//!     ReceptionMode, Sender, WakeReason,
//! };
//!
//! let t0: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
//! let config = Config { mode: ReceptionMode::Asynchronous, ..Config::default() };
//! let mut engine = Engine::new(config).unwrap();
//! engine.handle(t0, Command::RegisterGroup(GroupSpec::new("billing"))).unwrap();
//! // Offline, but asynchronous mode assigns to all agents by default.
//! engine.handle(t0, Command::RegisterAgent(AgentSpec::new("ana").limit(1).group("billing"))).unwrap();
//!
//! engine.handle(t0, Command::VisitorArrives(Arrival::new("c1", "v1", "billing"))).unwrap();
//! let outcome = engine.handle(t0, Command::VisitorArrives(Arrival::new("c2", "v2", "billing"))).unwrap();
//! assert!(matches!(outcome.events[1], Event::ConversationPooled { .. }));
//!
//! // ana parks c1 until the afternoon; it stays hers and still counts toward her limit.
//! let until = t0 + TimeDelta::hours(5);
//! let outcome = engine.handle(t0, Command::Snooze { conversations: vec!["c1".into()], until }).unwrap();
//! assert_eq!(outcome.next_deadline, Some(until));
//! assert!(matches!(engine.conversation("c1").unwrap().state, ConversationState::Snoozed { .. }));
//!
//! // The visitor writes back: the snooze lifts at once.
//! let message = Command::Message { conversation: "c1".into(), from: Sender::Visitor };
//! let outcome = engine.handle(t0 + TimeDelta::hours(1), message).unwrap();
//! assert!(matches!(outcome.events[0],
//!     Event::ConversationWoke { reason: WakeReason::VisitorMessage, .. }));
//! ```
//!
//! ## Reception, timers and working hours
//!
//! - **Offers** ([`Reception::auto_accept`] off, R-R1): automatic assignments and transfers are
//!   offers the agent accepts or declines before a deadline; a missed or declined offer goes to
//!   another agent of the group, never back, or returns to its original place; a redirect limit
//!   ends ping-pong (R-R2); optionally the agent goes on ShortBreak (R-R3), and an active
//!   conversation with no first reply in time is redirected the same way (R-R4).
//! - **Reply goals** ([`Sla`], R-L1) and **visitor inactivity** ([`Inactivity`], R-L2) are
//!   driven by [`Command::Message`]; internal notes are not replies; snoozed time does not
//!   count.
//! - **Working hours** ([`Config::working_hours`], R-W1, R-W2): named weekly schedules in an IANA
//!   time zone ([`ScheduleSpec`]), daylight saving and overnight ranges handled; only on-duty
//!   agents are eligible, and a shift start drains waiting work at that instant.
//! - **Overflow groups** ([`GroupSpec::overflow`], R-S4) join a conversation's candidates once it
//!   has waited a set time; **estimated waits** ([`Engine::estimated_wait`], R-B2) come from
//!   the group's recent service rate.
//!
//! ## Time
//!
//! Every command carries `now`, a [`chrono::DateTime<Utc>`]. Time never runs backwards: a
//! command stamped earlier than the engine's clock is handled at the engine's clock (R-C3).
//! Deadlines (snooze ends, offer expiries, reply goals, reminders, maximum waits, overflow,
//! shift boundaries) live in one ordered index; [`Engine::next_deadline`] is its first entry,
//! exact. They fire only on [`Command::Tick`], earliest first (at the same instant, in the
//! order they were set, except that a conversation's overflow comes before its maximum wait),
//! so a `Tick` costs in proportion to what is due; a `Tick` that comes early or twice does
//! nothing (R-C2). Send `Tick` at the
//! deadline: until then the engine acts on the state as of the last deadline it handled, and
//! a command that makes a timer moot before its `Tick` cancels it unreported (an agent reply
//! after the breach time but before the `Tick` reports no breach). A late `Tick` fires what is
//! due at the `Tick`'s time: a snooze woken late resumes its clocks from then.
//! Deadline arithmetic saturates at the end of chrono's range and never panics.
//!
//! ## Determinism, snapshots, errors and panics
//!
//! - The engine reads no clock, makes no random choices, does no I/O and keeps no global state
//!   of its own; it never iterates in hash order. The same commands give the same events, bit
//!   for bit, in any process (R-C1). The crate does not even enable chrono's clock. One input
//!   below it does vary: the maps from the host's ids to the engine's records hash with
//!   foldhash's `RandomState`, which seeds itself once per process from memory addresses and
//!   the system time, and each map from a per-thread counter, so that ids chosen by visitors
//!   cannot be made to collide on purpose. The seed decides only where an id sits in a hash
//!   table: these maps iterate in insertion order, so no event, result, view, error or
//!   snapshot depends on it, only, and slightly, how long a lookup takes.
//! - [`Engine::snapshot`] captures the whole state as a versioned [`Snapshot`] (serde);
//!   [`Engine::restore`] rebuilds the indexes and continues exactly as if never stopped
//!   (R-C6). Restore checks the snapshot's parts against each other.
//! - A command either succeeds or returns an [`Error`] that names the ids involved, and then
//!   the engine is exactly as before (R-C4). Batch commands (assign, end, snooze, forget many)
//!   report one result per item; a bad item does not stop the others (R-C8). Business
//!   outcomes (no agent free, queue full) are events, never errors.
//! - No input panics the engine (R-C5). A panic would be a bug in switchboard: please report
//!   it with the command log.
//!
//! ## Wire format
//!
//! Commands, events, the config, views, outcomes, errors and snapshots all implement serde's
//! `Serialize` and `Deserialize` under one convention, so that a service can put them on the
//! wire as they are and a Rust client can read back what it sends (JSON here):
//!
//! - An enum whose variants carry no data is a plain string: `"RealTime"`, `"LeastLoaded"`,
//!   `"Visitor"`, `"QueueFull"`.
//! - An enum with data is an object whose `"type"` names the variant, with the variant's fields
//!   beside it, and its variants without data are `{"type":...}` alone:
//!   `{"type":"Claim","agent":"ana","conversation":null}` and `{"type":"Tick"}` ([`Command`]),
//!   `{"type":"Fixed","limit":2}` and `{"type":"Inherit"}` ([`Limit`]),
//!   `{"type":"Agent","agent":"ana"}` ([`Target`]),
//!   `{"type":"Strategy","strategy":"RoundRobin"}` and `{"type":"Manual"}`
//!   ([`AssignReason`]). The same holds for [`Event`], [`ConversationState`] and [`Error`]. A
//!   batch item's result is `{"conversation":"c1","error":null}`, or the error in `"error"`
//!   ([`ItemResult`]).
//! - An agent status is its name: `"Online"`, or `"Lunch"` for a custom status
//!   ([`AgentStatus`]).
//! - Times are RFC 3339 strings in UTC (`"2026-03-02T09:00:00Z"`). Durations are whole
//!   numbers: seconds in the config (fields ending in `_secs`), milliseconds in views (fields
//!   ending in `_ms`, such as [`ConversationView::estimated_wait`] on the wire). Views carry
//!   instants rather than ages, so that a host measures live figures against its own clock
//!   ([`ConversationView::waited`]).
//! - One direction per ordering: an arrival's [`priority`](Arrival::priority) is served higher
//!   first (0 ..= 255); an agent's [`rank`](Membership::rank) in a group runs from 1 (first)
//!   to 5 (last).
//! - Every input refuses fields it does not know (commands and everything in them, the config,
//!   schedules, snapshots): `{"type":"Claim","agent":"ana","conversaton":"c3"}` is an error,
//!   not a claim of the pool's head.
//! - Tagged enums need a self-describing format: JSON, CBOR, MessagePack, TOML and the like;
//!   not bincode.
//!
//! A [`Snapshot`] carries [`SNAPSHOT_VERSION`] (3 since this convention); restore refuses
//! other versions with [`Error::UnsupportedSnapshot`].
//!
//! ## Cost
//!
//! Choosing an agent and choosing the next waiting conversation are lookups in ordered
//! indexes (B-trees), kept per group and per kind of work: an arrival costs O(g · K · log a)
//! where `a` is the number of agents, `g` the number of groups of the chosen agent and `K` the
//! number of kinds (1 on a desk without kinds), the agent being re-filed under each; an end
//! that frees an agent costs O(g · K · log n) per conversation the agent then takes, however
//! long the queues and however many conversations wait for an admin past the redirect limit
//! (plus one step for each waiting conversation ahead that the agent itself transferred,
//! declined or missed, or that is another group's work at whose cap the agent is); a `Tick`
//! costs O(log t) per deadline due. Each command documents its cost; see also
//! `BENCHMARKS.md`.
//!
//! With skills, the indexes are kept per **routing key**: a group and a distinct requirement
//! set in use there (R-SK4). A key is made when the first open conversation waiting in the
//! group needs its set, filing the group's members that meet it: O(h · r), `r` the skills the
//! set names and `h` the members holding the rarest of its required skills (each group keeps
//! its members per skill held); and dropped with the last such conversation. An agent is filed under the
//! keys it meets, so re-filing it after its load falls costs O((g + k) · K · log a), `k`
//! the keys of its groups that it meets (one pass per set; a key with at most 128 candidates
//! keeps them in a sorted vector, where moving one is a binary search and one short copy).
//! After an assignment (its load and latest assignment only grow, so it only ranks lower)
//! its keys are re-filed lazily: its entries stay where they were, and a pick that meets
//! such an entry re-files the agent in that key first, O(K · log a), once per entry; the
//! agent picked is always the one an index kept up to date would give. In
//! a desk with skills, a group's index for work that asks for no skill is kept only from the
//! first such conversation that names it (filing its members then, O(members · K · log a),
//! once), so agents whose work all asks for skills are filed under routing keys alone. A freed
//! agent looks at the heads of the same keys:
//! O((g + k) · K · log n) per conversation it takes. An arrival with requirements costs
//! O(K · log a) to find a qualified agent with room in a key that exists. Changing an agent's
//! skills or groups re-checks it against the keys of its groups: O(keys · r).
//!
//! Memory is the host's to bound: finished conversations stay until [`Command::Forget`], and
//! the last agent of every visitor an agent served stays until [`Command::ForgetVisitor`]. The
//! room they held is reused by new conversations; the engine does not shrink its tables.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(unnameable_types)]
#![warn(clippy::unwrap_used)]

// The ground floor, the vocabulary: what goes in and out. These import nothing from the
// floors above.
mod command;
mod config;
mod error;
mod event;
mod ids;
mod outcome;
mod status;
mod strategy;
mod view;
mod wire;

// The state: keys, records and the tables.
mod agent;
mod conversation;
mod ctx;
mod group;
mod keys;
mod kinds;
mod schedule;
mod slab;
mod store;

// The indexes: how the agent is chosen and waiting work found, and the deadlines.
mod routing;
mod timers;

// The handlers, one file per command family, and the facade.
mod engine;
mod handle;

pub use command::{
    AgentSpec, AgentUpdate, Arrival, Command, GroupSpec, GroupUpdate, Limit, Membership, Overflow,
    ScheduleSpec, Sender, Stage, WeeklyRange,
};
pub use config::{
    AllocationTarget, Config, CustomStatus, Inactivity, KindSpec, LastAgent, PoolOrder,
    QueueConfig, Reception, ReceptionMode, Sla,
};
pub use engine::{Engine, SNAPSHOT_VERSION, Snapshot};
pub use error::Error;
pub use event::{
    AssignReason, DrainTrigger, EndReason, Event, LeaveMessageReason, PoolReason, ReplyGoal,
    SkillMatch, TurnAwayReason, WakeReason,
};
pub use ids::{
    AgentId, ConversationId, GroupId, KindId, ScheduleId, SkillId, SkillLevel, Target, VisitorId,
};
pub use outcome::{Assignment, ItemResult, Outcome, QueuePosition};
pub use status::AgentStatus;
pub use strategy::Strategy;
pub use view::{AgentView, ConversationState, ConversationView, Counters, GroupView, KindLoad};
