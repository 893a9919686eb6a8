//! What the host derives from the journal beside the engine: a fold of every committed entry's
//! time and events, kept by the read model and stored with each snapshot.
//!
//! The engine answers "what is the state now"; a desk also wants "since when" and "how did
//! today go", which no engine query gives cheaply:
//!
//! - each known conversation's visitor, group, priority and arrival time, so that `GET /state`
//!   lists a queue in one pass (the engine's own view of a queued conversation counts its
//!   position, which over a whole queue is quadratic);
//! - when each conversation finished, in order, and each visitor's last agent, so that
//!   retention can forget them after a configured age (`retention.rs`);
//! - the waiting conversations of each group by arrival, for the longest wait;
//! - since when each agent is in its status;
//! - the service level today and over the last 30 minutes (by whole minutes, so that it takes
//!   the same room whatever the traffic).
//!
//! Service level: the share of conversations answered within the target wait, of those whose
//! wait ended (answered, abandoned, turned away, left a message, or ended before an agent took
//! them), counted when the wait ends. "Answered" is the first assignment, or the acceptance of
//! the first offer when offers are on. The same definition as the simulator's report.
//!
//! Being a fold of committed entries, it is deterministic: replaying the journal after a
//! snapshot rebuilds it exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, DurationRound as _, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use switchboard::{AgentId, ConversationId, Engine, Event, GroupId, VisitorId};

/// The window of the "recent" service level.
pub const RECENT: TimeDelta = TimeDelta::minutes(30);

/// What the fold needs from the host's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// A conversation answered within this wait counts as within target.
    pub target: Duration,
    /// The desk's time zone: where "today" begins.
    pub zone: Tz,
}

/// A conversation the host knows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Known {
    pub visitor: VisitorId,
    pub group: GroupId,
    pub priority: u8,
    pub arrived_at: DateTime<Utc>,
    /// When an agent first took it.
    pub answered_at: Option<DateTime<Utc>>,
    /// When its wait ended without an agent, or it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A visitor the host knows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Visitor {
    /// Known conversations of theirs (not yet forgotten).
    pub conversations: u32,
    /// Whether the engine remembers their last agent (an agent took one of theirs).
    pub remembered: bool,
    /// When their latest conversation finished.
    pub last_finished: Option<DateTime<Utc>>,
}

/// Conversations whose wait ended, and how many within the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Waits that ended (the service level's denominator).
    pub ended: u64,
    /// Answered within the target.
    pub within: u64,
    /// Answered at all.
    pub answered: u64,
}

impl Tally {
    fn add(&mut self, answered: bool, within: bool) {
        self.ended += 1;
        self.answered += u64::from(answered);
        self.within += u64::from(within);
    }

    /// The service level in percent; `None` before any wait ended.
    pub fn level(&self) -> Option<f64> {
        (self.ended > 0).then(|| 100.0 * self.within as f64 / self.ended as f64)
    }
}

/// The fold.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Projection {
    conversations: HashMap<ConversationId, Known>,
    /// Finished conversations, oldest first (may hold some already forgotten).
    finished: VecDeque<(DateTime<Utc>, ConversationId)>,
    visitors: HashMap<VisitorId, Visitor>,
    /// Visitors by their last finish, oldest first (may hold stale entries).
    visitors_due: VecDeque<(DateTime<Utc>, VisitorId)>,
    /// Waiting conversations of each group (its own), by arrival.
    waiting: BTreeMap<GroupId, BTreeSet<(DateTime<Utc>, ConversationId)>>,
    /// Since when each agent is in its status.
    agents: HashMap<AgentId, DateTime<Utc>>,
    /// The day `today` counts, in the desk's zone.
    day: Option<NaiveDate>,
    today: Tally,
    /// Waits that ended in the last 30 minutes, by the minute they ended in (at most 31
    /// minutes kept, whatever the traffic).
    recent: VecDeque<(DateTime<Utc>, Tally)>,
}

impl Projection {
    /// The fold of an engine restored from a snapshot that carried no projection: what the
    /// engine's views tell (times of status changes and today's figures start afresh at `at`).
    /// O(n) views; a queued conversation's view costs its position, so this is for startup
    /// only.
    pub fn rebuild(engine: &Engine, at: DateTime<Utc>) -> Projection {
        let mut projection = Projection::default();
        for id in engine.conversations() {
            let Some(view) = engine.conversation(id) else {
                continue;
            };
            use switchboard::ConversationState as S;
            let open = matches!(
                view.state,
                S::Queued | S::Pooled | S::Offered { .. } | S::Active { .. } | S::Snoozed { .. }
            );
            let waiting = matches!(view.state, S::Queued | S::Pooled);
            let answered = !waiting
                && !matches!(view.state, S::Offered { .. })
                && !matches!(
                    view.state,
                    S::Abandoned | S::TurnedAway { .. } | S::LeftMessage
                );
            let known = Known {
                visitor: view.visitor.clone(),
                group: view.group.clone(),
                priority: view.priority,
                arrived_at: view.arrived_at,
                answered_at: answered.then(|| view.first_assigned_at.unwrap_or(view.arrived_at)),
                finished_at: (!open).then_some(at),
            };
            let visitor = projection.visitors.entry(view.visitor.clone()).or_default();
            visitor.conversations += 1;
            visitor.remembered |= answered;
            if !open {
                visitor.last_finished = Some(at);
                projection.finished.push_back((at, id.clone()));
            }
            if waiting {
                projection
                    .waiting
                    .entry(view.group.clone())
                    .or_default()
                    .insert((view.arrived_at, id.clone()));
            }
            projection.conversations.insert(id.clone(), known);
        }
        let visitors: Vec<VisitorId> = projection.visitors.keys().cloned().collect();
        for visitor in visitors {
            projection.visitors_due.push_back((at, visitor));
        }
        for agent in engine.agents() {
            projection.agents.insert(agent.clone(), at);
        }
        projection
    }

    /// Folds one committed entry: its time and its events.
    pub fn apply(&mut self, at: DateTime<Utc>, events: &[Event], settings: &Settings) {
        self.roll_day(at, settings);
        for event in events {
            match event {
                Event::ConversationArrived {
                    conversation,
                    visitor,
                    group,
                    priority,
                    ..
                } => {
                    self.conversations.insert(
                        conversation.clone(),
                        Known {
                            visitor: visitor.clone(),
                            group: group.clone(),
                            priority: *priority,
                            arrived_at: at,
                            answered_at: None,
                            finished_at: None,
                        },
                    );
                    self.visitors
                        .entry(visitor.clone())
                        .or_default()
                        .conversations += 1;
                }
                Event::ConversationQueued { conversation, .. }
                | Event::ConversationPooled { conversation, .. } => {
                    if let Some(known) = self.conversations.get(conversation) {
                        self.waiting
                            .entry(known.group.clone())
                            .or_default()
                            .insert((known.arrived_at, conversation.clone()));
                    }
                }
                Event::ConversationOffered { conversation, .. } => {
                    self.stop_waiting(conversation);
                }
                Event::ConversationAssigned { conversation, .. }
                | Event::OfferAccepted { conversation, .. } => {
                    self.stop_waiting(conversation);
                    self.answer(conversation, at, settings);
                }
                Event::ConversationAbandoned { conversation, .. }
                | Event::ConversationTurnedAway { conversation, .. }
                | Event::ConversationLeftMessage { conversation }
                | Event::ConversationEnded { conversation, .. } => {
                    self.stop_waiting(conversation);
                    self.finish(conversation, at);
                }
                Event::ConversationForgotten { conversation } => {
                    if let Some(known) = self.conversations.remove(conversation)
                        && let Some(visitor) = self.visitors.get_mut(&known.visitor)
                    {
                        visitor.conversations = visitor.conversations.saturating_sub(1);
                        if visitor.conversations == 0 && !visitor.remembered {
                            self.visitors.remove(&known.visitor);
                        }
                    }
                }
                Event::VisitorForgotten { visitor } => {
                    if let Some(v) = self.visitors.get_mut(visitor) {
                        v.remembered = false;
                        if v.conversations == 0 {
                            self.visitors.remove(visitor);
                        }
                    }
                }
                Event::AgentRegistered { agent, .. } | Event::AgentStatusChanged { agent, .. } => {
                    self.agents.insert(agent.clone(), at);
                }
                Event::AgentRemoved { agent } => {
                    self.agents.remove(agent);
                }
                _ => {}
            }
        }
        self.trim(at);
    }

    fn stop_waiting(&mut self, conversation: &ConversationId) {
        if let Some(known) = self.conversations.get(conversation)
            && let Some(set) = self.waiting.get_mut(&known.group)
        {
            set.remove(&(known.arrived_at, conversation.clone()));
        }
    }

    fn answer(&mut self, conversation: &ConversationId, at: DateTime<Utc>, settings: &Settings) {
        let Some(known) = self.conversations.get_mut(conversation) else {
            return;
        };
        if known.answered_at.is_some() || known.finished_at.is_some() {
            return;
        }
        known.answered_at = Some(at);
        let within = at - known.arrived_at <= delta(settings.target);
        if let Some(visitor) = self.visitors.get_mut(&known.visitor) {
            visitor.remembered = true;
        }
        self.today.add(true, within);
        self.recent_add(at, true, within);
    }

    fn finish(&mut self, conversation: &ConversationId, at: DateTime<Utc>) {
        let Some(known) = self.conversations.get_mut(conversation) else {
            return;
        };
        if known.finished_at.is_some() {
            return;
        }
        known.finished_at = Some(at);
        let unanswered = known.answered_at.is_none();
        let visitor = known.visitor.clone();
        if unanswered {
            self.today.add(false, false);
            self.recent_add(at, false, false);
        }
        self.finished.push_back((at, conversation.clone()));
        if let Some(v) = self.visitors.get_mut(&visitor) {
            v.last_finished = Some(at);
            self.visitors_due.push_back((at, visitor));
        }
    }

    fn recent_add(&mut self, at: DateTime<Utc>, answered: bool, within: bool) {
        let minute = at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at);
        match self.recent.back_mut() {
            Some((m, tally)) if *m == minute => tally.add(answered, within),
            _ => {
                let mut tally = Tally::default();
                tally.add(answered, within);
                self.recent.push_back((minute, tally));
            }
        }
    }

    /// Starts a new day's tally when `at` falls on another day in the desk's zone.
    fn roll_day(&mut self, at: DateTime<Utc>, settings: &Settings) {
        let day = at.with_timezone(&settings.zone).date_naive();
        if self.day != Some(day) {
            self.day = Some(day);
            self.today = Tally::default();
        }
    }

    /// Drops what no longer matters: recent waits older than 30 minutes, and the heads of the
    /// due lists that were forgotten or finished again since.
    fn trim(&mut self, at: DateTime<Utc>) {
        while self
            .recent
            .front()
            .is_some_and(|(minute, _)| *minute <= at - RECENT)
        {
            self.recent.pop_front();
        }
        while let Some((t, id)) = self.finished.front() {
            let live = self
                .conversations
                .get(id)
                .is_some_and(|k| k.finished_at == Some(*t));
            if live {
                break;
            }
            self.finished.pop_front();
        }
        while let Some((t, id)) = self.visitors_due.front() {
            let live = self
                .visitors
                .get(id)
                .is_some_and(|v| v.last_finished == Some(*t));
            if live {
                break;
            }
            self.visitors_due.pop_front();
        }
    }

    /// A known conversation.
    pub fn known(&self, id: &ConversationId) -> Option<&Known> {
        self.conversations.get(id)
    }

    /// Up to `most` conversations that finished at or before `cutoff`, oldest first.
    pub fn finished_before(&self, cutoff: DateTime<Utc>, most: usize) -> Vec<ConversationId> {
        self.finished
            .iter()
            .take_while(|(t, _)| *t <= cutoff)
            .filter(|(t, id)| {
                self.conversations
                    .get(id)
                    .is_some_and(|k| k.finished_at == Some(*t))
            })
            .take(most)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Up to `most` visitors the engine remembers, with no known conversation left, whose last
    /// conversation finished at or before `cutoff`.
    pub fn visitors_before(&self, cutoff: DateTime<Utc>, most: usize) -> Vec<VisitorId> {
        self.visitors_due
            .iter()
            .take_while(|(t, _)| *t <= cutoff)
            .filter(|(t, id)| {
                self.visitors.get(id).is_some_and(|v| {
                    v.last_finished == Some(*t) && v.remembered && v.conversations == 0
                })
            })
            .take(most)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The longest-waiting conversation of a group (its own), with its arrival.
    pub fn longest_waiting(&self, group: &GroupId) -> Option<(DateTime<Utc>, &ConversationId)> {
        self.waiting.get(group)?.first().map(|(at, id)| (*at, id))
    }

    /// Since when an agent is in its status.
    pub fn status_since(&self, agent: &AgentId) -> Option<DateTime<Utc>> {
        self.agents.get(agent).copied()
    }

    /// Today's tally as of `now` (empty once the day has turned with no entry since).
    pub fn today(&self, now: DateTime<Utc>, settings: &Settings) -> Tally {
        let day = now.with_timezone(&settings.zone).date_naive();
        if self.day == Some(day) {
            self.today
        } else {
            Tally::default()
        }
    }

    /// The tally of the waits that ended in the last 30 minutes before `now`, by whole
    /// minutes: the current minute and the 29 before it.
    pub fn recent(&self, now: DateTime<Utc>) -> Tally {
        let mut tally = Tally::default();
        for (_, minute) in self.recent.iter().filter(|(m, _)| *m > now - RECENT) {
            tally.ended += minute.ended;
            tally.within += minute.within;
            tally.answered += minute.answered;
        }
        tally
    }

    /// How many conversations and visitors it knows (for metrics and tests).
    pub fn sizes(&self) -> (usize, usize) {
        (self.conversations.len(), self.visitors.len())
    }
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard::{AgentId, EndReason};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    fn arrived(id: &str) -> Event {
        Event::ConversationArrived {
            conversation: id.into(),
            visitor: format!("v-{id}").as_str().into(),
            group: "support".into(),
            priority: 0,
            kind: "default".into(),
        }
    }

    fn assigned(id: &str) -> Event {
        Event::ConversationAssigned {
            skills: None,
            conversation: id.into(),
            agent: AgentId::from("ana"),
            reason: switchboard::AssignReason::Manual,
            kind: "default".into(),
            load: 1,
            limit: 2,
        }
    }

    /// R-HS5: the service level counts waits as they end: answered within the target,
    /// answered late, abandoned; today restarts at midnight in the desk's zone, the last 30
    /// minutes forget what is older.
    #[test]
    fn r_hs5_service_level_today_and_recent() {
        let settings = Settings {
            target: Duration::from_secs(20),
            zone: "Europe/Paris".parse().expect("a zone"),
        };
        let mut p = Projection::default();
        p.apply(
            at("2026-03-02T09:00:00Z"),
            &[arrived("a"), arrived("b"), arrived("c")],
            &settings,
        );
        p.apply(at("2026-03-02T09:00:10Z"), &[assigned("a")], &settings);
        p.apply(at("2026-03-02T09:01:00Z"), &[assigned("b")], &settings);
        let gave_up = Event::ConversationAbandoned {
            conversation: "c".into(),
            group: "support".into(),
        };
        p.apply(at("2026-03-02T09:02:00Z"), &[gave_up], &settings);
        let ended = Event::ConversationEnded {
            conversation: "a".into(),
            agent: Some("ana".into()),
            reason: EndReason::Agent,
        };
        p.apply(at("2026-03-02T09:03:00Z"), &[ended], &settings);
        let now = at("2026-03-02T09:05:00Z");
        let today = p.today(now, &settings);
        assert_eq!((today.within, today.answered, today.ended), (1, 2, 3));
        assert_eq!(p.recent(now), today);
        // 40 minutes on, the recent window is empty; today is not.
        let later = at("2026-03-02T09:45:00Z");
        assert_eq!(p.recent(later).ended, 0);
        assert_eq!(p.today(later, &settings).ended, 3);
        // Midnight in Paris is 23:00 UTC in March.
        assert_eq!(p.today(at("2026-03-02T22:59:00Z"), &settings).ended, 3);
        assert_eq!(p.today(at("2026-03-02T23:00:00Z"), &settings).ended, 0);
        // Finished ones are due for forgetting in finish order.
        assert_eq!(
            p.finished_before(at("2026-03-02T10:00:00Z"), 10),
            vec![ConversationId::from("c"), ConversationId::from("a")]
        );
    }
}
