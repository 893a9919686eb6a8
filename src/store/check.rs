//! What a consistent state is: every part of the primary tables checked against the others and
//! against the config. A live engine keeps all of it by construction; [`State::check`] runs on
//! restore, before the indexes are rebuilt, so that a snapshot whose parts contradict each
//! other is refused instead of panicking the engine later (R-C5, R-C6). Each rule names what
//! relies on it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::config::ReceptionMode;
use crate::conversation::{Conversation, Phase};
use crate::group::SERVED_SAMPLES;
use crate::kinds::Kinds;
use crate::timers::timer::{Slot, Timer, TimerKind};

use crate::ids::SkillLevel;
use crate::routing::reqs::Skills;
use crate::store::State;

/// Skills with levels: declared, levels 1..=10, each once.
fn check_levels(skills: &Skills, levels: &[SkillLevel]) -> Result<(), String> {
    for (i, s) in levels.iter().enumerate() {
        if skills.key(&s.skill).is_none() {
            return Err(format!("names undeclared skill `{}`", s.skill));
        }
        if !(SkillLevel::MIN..=SkillLevel::MAX).contains(&s.level) {
            return Err(format!("has skill `{}` at level {}", s.skill, s.level));
        }
        if levels[..i].iter().any(|o| o.skill == s.skill) {
            return Err(format!("names skill `{}` twice", s.skill));
        }
    }
    Ok(())
}

/// Every sequence number and counter of a restored snapshot must lie below this. A live engine
/// never comes near it (one command a nanosecond would take 146 years), and it leaves room for
/// 2⁶² more increments before anything could overflow.
const HUGE: u64 = 1 << 62;

impl State {
    /// Checks that the primary tables agree with each other and with the config: every key
    /// held anywhere names something that exists, every phase is one the mode can have, every
    /// armed timer fits its owner and its owner's phase, numbers lie in range, no instant lies
    /// after the engine's clock. Reads only. O(n log n).
    ///
    /// # Errors
    /// What contradicts what, naming the ids involved.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.check_numbers()?;
        self.check_schedules()?;
        self.check_groups()?;
        self.check_agents()?;
        self.check_conversations()?;
        self.check_timer_numbers()?;
        self.check_instants()
    }

    /// Keys come from one counter, start at 1 and are never reused; sequence numbers and
    /// counters lie in range.
    fn check_numbers(&self) -> Result<(), String> {
        let mut owners: BTreeMap<u64, String> = BTreeMap::new();
        let keys = self
            .agents
            .iter()
            .map(|(k, a)| (*k, format!("agent `{}`", a.id)))
            .chain(
                self.group_names
                    .iter()
                    .map(|(k, g)| (*k, format!("group `{g}`"))),
            )
            .chain(
                self.schedules
                    .iter()
                    .map(|(k, s)| (*k, format!("schedule `{}`", s.spec.schedule))),
            )
            .chain(
                self.conversations
                    .values()
                    .map(|c| (c.seq, format!("conversation `{}`", c.id))),
            );
        for (key, owner) in keys {
            if key == 0 || key > self.last_key {
                return Err(format!(
                    "{owner} has key {key}, outside the keys handed out (1 to {})",
                    self.last_key
                ));
            }
            if let Some(other) = owners.insert(key, owner.clone()) {
                return Err(format!("{other} and {owner} share key {key}"));
            }
        }
        let numbers = [
            ("the key counter", self.last_key),
            ("the assignment counter", self.assignment_seq),
            ("the timer counter", self.timer_seq),
            ("a counter", self.counters.largest()),
        ];
        if let Some((what, n)) = numbers.into_iter().find(|(_, n)| *n >= HUGE) {
            return Err(format!("{what} is out of range ({n})"));
        }
        for a in self.agents.values() {
            if a.assigned_total >= HUGE {
                return Err(format!(
                    "agent `{}` has an assignment total out of range",
                    a.id
                ));
            }
            if a.last_assignment > self.assignment_seq {
                return Err(format!(
                    "agent `{}` was last assigned by number {}, beyond the assignment counter {}",
                    a.id, a.last_assignment, self.assignment_seq
                ));
            }
            if (a.last_assignment == 0) != (a.assigned_total == 0) {
                return Err(format!(
                    "agent `{}` has {} assignments in total but last assignment number {}",
                    a.id, a.assigned_total, a.last_assignment
                ));
            }
        }
        for g in self.groups.values() {
            if g.cursor > self.last_key {
                return Err(format!(
                    "group `{}`'s round-robin cursor lies beyond the keys handed out",
                    g.id
                ));
            }
        }
        for c in self.conversations.values() {
            if u64::from(c.redirects) << 31 >= HUGE {
                return Err(format!(
                    "conversation `{}` has redirects out of range",
                    c.id
                ));
            }
        }
        Ok(())
    }

    /// Schedules: unique ids, and their only timer is their next shift boundary.
    fn check_schedules(&self) -> Result<(), String> {
        let mut ids = BTreeSet::new();
        for (k, s) in &self.schedules {
            let id = &s.spec.schedule;
            if !ids.insert(id) {
                return Err(format!("schedule `{id}` appears twice"));
            }
            if let Some(t) = s.timer {
                if t.subject != *k {
                    return Err(format!("schedule `{id}` holds another owner's timer"));
                }
                // A tick runs a shift boundary on the schedule its subject names, and any
                // other kind on the conversation it names.
                if t.kind != TimerKind::ShiftBoundary {
                    return Err(format!(
                        "schedule `{id}` has a {:?} timer, which only conversations have",
                        t.kind
                    ));
                }
            }
        }
        if let Some(id) = &self.config.service_hours
            && !ids.contains(id)
        {
            return Err(format!("the service hours name a missing schedule `{id}`"));
        }
        Ok(())
    }

    /// Groups: filed under their name, unique ids, limits and overflow settings as the
    /// commands accept them, and a service record in time order.
    fn check_groups(&self) -> Result<(), String> {
        let mut ids = BTreeSet::new();
        for (k, g) in &self.groups {
            if self.group_names.get(k) != Some(&g.id) {
                return Err(format!("group `{}` is missing from the group names", g.id));
            }
            if !ids.insert(&g.id) {
                return Err(format!("group `{}` appears twice", g.id));
            }
            if g.limit == Some(0) {
                return Err(format!("group `{}` has a limit of 0", g.id));
            }
            if g.agent_cap == Some(0) {
                return Err(format!("group `{}` caps its work on an agent at 0", g.id));
            }
            for (i, o) in g.overflow.iter().enumerate() {
                // An overflow runs every group it names (R-S4).
                let Some(other) = self.groups.get(o) else {
                    return Err(format!(
                        "group `{}` overflows into group key {o}, which does not exist",
                        g.id
                    ));
                };
                if o == k || g.overflow[..i].contains(o) {
                    return Err(format!(
                        "group `{}` overflows into group `{}` twice or into itself",
                        g.id, other.id
                    ));
                }
            }
            if !g.overflow.is_empty() && g.overflow_after_secs == 0 {
                return Err(format!("group `{}` overflows after 0 seconds", g.id));
            }
            if g.served.len() > SERVED_SAMPLES
                || g.served
                    .iter()
                    .zip(g.served.iter().skip(1))
                    .any(|(a, b)| a > b)
            {
                return Err(format!(
                    "group `{}`'s service record is not a recent record in time order",
                    g.id
                ));
            }
        }
        Ok(())
    }

    /// Agents: unique ids, a status the config defines, memberships and schedules that exist,
    /// each once.
    fn check_agents(&self) -> Result<(), String> {
        let skills = Skills::compile(&self.config);
        let mut ids = BTreeSet::new();
        for a in self.agents.values() {
            if !ids.insert(&a.id) {
                return Err(format!("agent `{}` appears twice", a.id));
            }
            if a.status.assignable(&self.config).is_none() {
                return Err(format!(
                    "agent `{}` has an undefined status `{}`",
                    a.id, a.status
                ));
            }
            if a.limit == Some(0) {
                return Err(format!("agent `{}` has a limit of 0", a.id));
            }
            for (i, m) in a.groups.iter().enumerate() {
                let Some(group) = self.groups.get(&m.group) else {
                    return Err(format!("agent `{}` names a missing group", a.id));
                };
                if a.groups[..i].iter().any(|n| n.group == m.group) {
                    return Err(format!("agent `{}` is in group `{}` twice", a.id, group.id));
                }
                if !(1..=5).contains(&m.rank) {
                    return Err(format!(
                        "agent `{}` has rank {} in group `{}`, outside 1 to 5",
                        a.id, m.rank, group.id
                    ));
                }
            }
            for (i, s) in a.schedules.iter().enumerate() {
                if !self.schedules.contains_key(s) || a.schedules[..i].contains(s) {
                    return Err(format!(
                        "agent `{}` names a missing schedule, or one twice",
                        a.id
                    ));
                }
            }
            if a.on_duty && a.schedules.is_empty() {
                return Err(format!("agent `{}` is on duty without a schedule", a.id));
            }
            // Qualification reads levels by declared skill (R-SK1).
            if let Err(problem) = check_levels(&skills, &a.skills) {
                return Err(format!("agent `{}` {problem}", a.id));
            }
        }
        Ok(())
    }

    /// Conversations: filed where they say, unique ids, every key they hold naming something
    /// that exists, a phase the mode can have, and timers that fit the phase. The gauges in the
    /// counters match what the conversations are.
    fn check_conversations(&self) -> Result<(), String> {
        if !self.conversations.is_consistent() {
            return Err("the conversations' free list is inconsistent".into());
        }
        let mut ids = BTreeSet::new();
        let (mut waiting, mut active, mut snoozed, mut offered) = (0, 0, 0, 0);
        // Routing reads an open conversation's kind (R-K1); a finished one keeps the name of a
        // kind the config may have dropped since.
        let kinds = Kinds::compile(&self.config);
        for (k, c) in self.conversations.iter() {
            if c.phase.is_open() && kinds.key(&c.kind).is_none() {
                return Err(format!(
                    "conversation `{}` is of kind `{}`, which the config does not define",
                    c.id, c.kind
                ));
            }
            if k != c.key {
                return Err(format!(
                    "conversation `{}` is filed under another key",
                    c.id
                ));
            }
            if !ids.insert(&c.id) {
                return Err(format!("conversation `{}` appears twice", c.id));
            }
            if !self.group_names.contains_key(&c.group) {
                return Err(format!("conversation `{}` names a missing group", c.id));
            }
            self.check_phase(c)?;
            self.check_timers(c)?;
            match c.phase {
                Phase::Queued | Phase::Pooled => waiting += 1,
                Phase::Offered { .. } => offered += 1,
                Phase::Active { .. } => active += 1,
                Phase::Snoozed { .. } => snoozed += 1,
                _ => {}
            }
        }
        let gauges = [
            ("waiting", self.counters.waiting, waiting),
            ("active", self.counters.active, active),
            ("snoozed", self.counters.snoozed, snoozed),
            ("offered", self.counters.offered, offered),
        ];
        for (what, counted, found) in gauges {
            if counted != found {
                return Err(format!(
                    "the counters say {counted} {what}, but {found} conversations are"
                ));
            }
        }
        Ok(())
    }

    /// A conversation's phase against the mode, the agents and groups it names, and the
    /// routing state, goal and silence only some phases have.
    fn check_phase(&self, c: &Conversation) -> Result<(), String> {
        let id = &c.id;
        let mode = self.config.mode;
        let name = c.phase.name();
        let contradicts = |what: &str| Err(format!("conversation `{id}` is {name}, {what}"));
        match &c.phase {
            Phase::Routing => return Err(format!("conversation `{id}` was saved mid-route")),
            Phase::Queued if mode != ReceptionMode::RealTime => {
                return contradicts("which the asynchronous mode has no queue for");
            }
            Phase::Pooled | Phase::Snoozed { .. } if mode != ReceptionMode::Asynchronous => {
                return contradicts("which only the asynchronous mode has");
            }
            _ => {}
        }
        if let Some(a) = c.phase.holder() {
            if !self.agents.contains_key(&a) {
                return Err(format!("conversation `{id}` names a missing agent"));
            }
            if c.first_assigned_at.is_none() {
                return contradicts("but was never assigned");
            }
        }
        if c.phase.is_open() {
            // Queues, candidate lookups and group removal run every group it waits in.
            if c.waiting_groups().any(|g| !self.groups.contains_key(&g)) {
                return Err(format!("conversation `{id}` names a missing group"));
            }
        } else if !c.overflow().is_empty() || !c.joined().is_empty() {
            return contradicts("but still names overflow groups");
        }
        self.check_stored_stages(c)?;
        // A designation routes until the conversation is served; a later requeue would file
        // it with an agent that may be gone by then.
        let designated = c.designated_agent().is_some() || c.designated_group().is_some();
        if designated && !c.phase.is_waiting() {
            return contradicts("but its designation still routes");
        }
        if c.designated_agent()
            .is_some_and(|d| !self.agents.contains_key(&d))
        {
            return Err(format!("conversation `{id}` names a missing agent"));
        }
        // A reply goal runs while active and pauses while snoozed; the visitor's silence is
        // timed only with an agent.
        if let Some(goal) = &c.goal {
            let fits = match c.phase {
                Phase::Active { .. } => goal.running_since.is_some(),
                Phase::Snoozed { .. } => goal.running_since.is_none(),
                _ => false,
            };
            if !fits || goal.target_ms < 0 || goal.spent_ms < 0 {
                return contradicts("which its reply goal does not fit");
            }
        }
        if (c.silent_since.is_some() || c.reminded) && c.phase.accepted_by().is_none() {
            return contradicts("but the visitor's silence is timed");
        }
        if c.reminded && c.silent_since.is_none() {
            return Err(format!(
                "conversation `{id}` was reminded of a silence that is not timed"
            ));
        }
        Ok(())
    }

    /// A conversation's stages (R-SK2): routing reads the stage in force and interns its
    /// requirements by declared skill; its timeline adds the durations.
    fn check_stored_stages(&self, c: &Conversation) -> Result<(), String> {
        let stages = c.stages();
        let Some(stage) = c.stage_index() else {
            return match c.routing.as_ref().map_or(0, |r| r.stage) {
                0 => Ok(()),
                _ => Err(format!(
                    "conversation `{}` is in a stage it does not have",
                    c.id
                )),
            };
        };
        if stage as usize >= stages.len() {
            return Err(format!(
                "conversation `{}` is in a stage it does not have",
                c.id
            ));
        }
        // A finished conversation keeps the names of skills the config may have dropped since.
        let skills = Skills::compile(&self.config);
        let open = c.phase.is_open();
        let last = stages.len() - 1;
        for (i, s) in stages.iter().enumerate() {
            let timed = matches!(s.for_ms, Some(ms) if ms > 0);
            if timed == (i == last) {
                return Err(format!(
                    "conversation `{}` stage {i} has a duration where it must not, or none where it must",
                    c.id
                ));
            }
            for list in [&s.require, &s.prefer].into_iter().filter(|_| open) {
                check_levels(&skills, list)
                    .map_err(|problem| format!("conversation `{}` stage {i} {problem}", c.id))?;
            }
        }
        Ok(())
    }

    /// A conversation's timers: its own, at most one per slot, each of a kind its phase arms
    /// (a tick runs each kind's handler, which relies on it); a snooze and an offer have the
    /// timer that ends them, at the time they say.
    fn check_timers(&self, c: &Conversation) -> Result<(), String> {
        let id = &c.id;
        let name = c.phase.name();
        let mut slots: Vec<Slot> = Vec::new();
        for t in c.timers.iter() {
            if t.subject != c.key {
                return Err(format!("conversation `{id}` holds another owner's timer"));
            }
            let slot = t.kind.slot();
            if slots.contains(&slot) {
                return Err(format!(
                    "conversation `{id}` has two timers in one slot ({:?})",
                    t.kind
                ));
            }
            slots.push(slot);
            let goal = c.goal.as_deref();
            let running = goal.is_some_and(|g| g.running_since.is_some() && !g.breached);
            let active = matches!(c.phase, Phase::Active { .. });
            let fits = match t.kind {
                TimerKind::ShiftBoundary => false,
                TimerKind::SnoozeEnds => {
                    matches!(c.phase, Phase::Snoozed { until, .. } if until == t.at)
                }
                TimerKind::OfferExpires => {
                    matches!(c.phase, Phase::Offered { expires, .. } if expires == t.at)
                }
                TimerKind::FirstReplyTimeout => active && !c.replied,
                TimerKind::MaxWait => matches!(c.phase, Phase::Queued),
                TimerKind::Stage => c.phase.is_waiting(),
                TimerKind::SlaWarning => active && running && goal.is_some_and(|g| !g.warned),
                TimerKind::SlaBreach => active && running,
                TimerKind::InactivityReminder => active && c.silent_since.is_some() && !c.reminded,
                TimerKind::InactivityEnd => active && c.silent_since.is_some(),
            };
            if !fits {
                return Err(format!(
                    "conversation `{id}` is {name}, which a {:?} timer does not fit",
                    t.kind
                ));
            }
        }
        let needed = match c.phase {
            Phase::Snoozed { .. } => Some(TimerKind::SnoozeEnds),
            Phase::Offered { .. } => Some(TimerKind::OfferExpires),
            _ => None,
        };
        if let Some(kind) = needed
            && c.timers.get(kind.slot()).is_none()
        {
            return Err(format!(
                "conversation `{id}` is {name} with no {kind:?} timer to end it"
            ));
        }
        Ok(())
    }

    /// Timer sequence numbers: handed out by the counter, each once.
    fn check_timer_numbers(&self) -> Result<(), String> {
        let timers = self
            .schedules
            .values()
            .filter_map(|s| s.timer)
            .chain(self.conversations.values().flat_map(|c| c.timers.iter()));
        let mut seen = BTreeSet::new();
        for Timer { seq, .. } in timers {
            if seq == 0 || seq > self.timer_seq {
                return Err(format!(
                    "timer number {seq} lies outside the numbers handed out (1 to {})",
                    self.timer_seq
                ));
            }
            if !seen.insert(seq) {
                return Err(format!("timer number {seq} is armed twice"));
            }
        }
        Ok(())
    }

    /// Nothing happened after the engine's clock, and nothing at all before it started.
    fn check_instants(&self) -> Result<(), String> {
        let Some(clock) = self.clock else {
            if self.last_key > 0 || !self.visitors.is_empty() {
                return Err("the engine's clock never started, yet keys were handed out".into());
            }
            return Ok(());
        };
        let after = |at: &DateTime<Utc>| *at > clock;
        for g in self.groups.values() {
            if g.served.iter().any(after) {
                return Err(format!(
                    "group `{}` served a conversation after the engine's clock",
                    g.id
                ));
            }
        }
        for c in self.conversations.values() {
            let ended = match &c.phase {
                Phase::Abandoned { at }
                | Phase::TurnedAway { at, .. }
                | Phase::LeftMessage { at }
                | Phase::Ended { at, .. } => Some(at),
                _ => None,
            };
            let running = c.goal.as_ref().and_then(|g| g.running_since);
            let instants = [Some(&c.arrived_at), c.first_assigned_at.as_ref(), ended]
                .into_iter()
                .chain([c.silent_since.as_ref(), running.as_ref()]);
            if instants.flatten().any(after) {
                return Err(format!(
                    "conversation `{}` records an instant after the engine's clock",
                    c.id
                ));
            }
        }
        if let Some((visitor, _)) = self.visitors.iter().find(|(_, last)| after(&last.at)) {
            return Err(format!(
                "visitor `{visitor}` was served after the engine's clock"
            ));
        }
        Ok(())
    }
}
