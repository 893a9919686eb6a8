//! What happens to a conversation while it waits: queue limits and leave-a-message (R-Q3),
//! overflow groups joining after a wait (R-S4), and the estimated wait (R-B2).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ReceptionMode;
use crate::conversation::{Conversation, Phase};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{Event, LeaveMessageReason, TurnAwayReason};
use crate::ids::ConversationId;
use crate::keys::{ConvKey, GroupKey};
use crate::store::State;
use crate::timers::timer::{Slot, TimerKind, after};

impl State {
    /// A new conversation that no agent took: it waits, unless the queue is full; a visitor
    /// who may wait a long time is offered to leave a message (R-Q3).
    pub(crate) fn arrive_waiting(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let realtime = self.config.mode == ReceptionMode::RealTime;
        let home = self.conv(c).group;
        let full = self
            .config
            .queue
            .max_length
            .is_some_and(|max| self.group(home).queue.len() >= max as usize);
        if realtime && full {
            self.turn_away(ctx, c, TurnAwayReason::QueueFull);
            return;
        }
        self.enqueue(ctx, c);
        if !realtime || !self.config.queue.leave_message {
            return;
        }
        let outside_hours = self.config.service_hours.as_ref().is_some_and(|id| {
            self.schedule_ids
                .get(id)
                .is_some_and(|s| !self.schedule(*s).on_duty(ctx.now))
        });
        let long = self
            .config
            .queue
            .long_queue_threshold
            .is_some_and(|n| self.group(home).queue.len() >= n as usize);
        let reason = if outside_hours {
            Some(LeaveMessageReason::OutsideServiceHours)
        } else if self.group(home).eligible == 0 {
            Some(LeaveMessageReason::NoAgentAvailable)
        } else if long {
            Some(LeaveMessageReason::LongQueue)
        } else {
            None
        };
        if let Some(reason) = reason {
            ctx.emit(Event::LeaveMessageOffered {
                conversation: self.conv(c).id.clone(),
                reason,
            });
        }
    }

    /// The conversation cannot wait: it is turned away, and offered to leave a message.
    fn turn_away(&mut self, ctx: &mut Ctx, c: ConvKey, reason: TurnAwayReason) {
        self.retire(c);
        self.conv_mut(c).phase = Phase::TurnedAway {
            at: ctx.now,
            reason,
        };
        self.counters.turned_away += 1;
        let conversation = self.conv(c).id.clone();
        ctx.emit(Event::ConversationTurnedAway {
            conversation: conversation.clone(),
            reason,
        });
        if self.config.queue.leave_message {
            ctx.emit(Event::LeaveMessageOffered {
                conversation,
                reason: reason.into(),
            });
        }
    }

    /// A queued conversation reached the queue's maximum wait. If its overflow time falls at
    /// the same instant, the overflow comes first: the overflow groups get their chance
    /// before the visitor is turned away, whichever of the two deadlines was armed first.
    pub(crate) fn max_wait_reached(&mut self, ctx: &mut Ctx, c: ConvKey, at: DateTime<Utc>) {
        if !matches!(self.conv(c).phase, Phase::Queued) {
            return;
        }
        if let Some(timer) = self.conv(c).timers.get(Slot::Stage)
            && timer.at <= at
        {
            self.disarm(c, Slot::Stage);
            self.advance(ctx, c);
            if !matches!(self.conv(c).phase, Phase::Queued) {
                return;
            }
        }
        self.dequeue(ctx, c);
        self.turn_away(ctx, c, TurnAwayReason::MaxWait);
    }

    /// `LeaveMessage`: O(log n).
    pub(crate) fn leave_message(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
    ) -> Result<(), Error> {
        if self.config.mode != ReceptionMode::RealTime {
            return Err(Error::WrongMode {
                operation: "leave a message".into(),
                mode: self.config.mode.name().into(),
            });
        }
        if !self.config.queue.leave_message {
            return Err(Error::LeaveMessageOff);
        }
        let c = self.conv_key(id)?;
        let phase = &self.conv(c).phase;
        let queued = matches!(phase, Phase::Queued);
        if !queued && !matches!(phase, Phase::TurnedAway { .. }) {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: phase.name().into(),
                operation: "leave a message for".into(),
            });
        }

        if queued {
            self.dequeue(ctx, c);
            self.retire(c);
        }
        self.conv_mut(c).phase = Phase::LeftMessage { at: ctx.now };
        self.counters.left_message += 1;
        ctx.emit(Event::ConversationLeftMessage {
            conversation: id.clone(),
        });
        Ok(())
    }

    /// A waiting conversation reached its next stage boundary (R-SK2, R-S4): the stages that
    /// have fallen due begin, in order, then the overflow groups join if their time has come;
    /// then it is routed again (after a stage, by every route; after an overflow alone, by
    /// the overflow groups, since its own group has no one for it). Still waiting, it waits
    /// for its next boundary. O(stages entered + groups joined) routing-key changes.
    pub(crate) fn advance(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let conv = self.conv(c);
        if !conv.phase.is_waiting() || conv.stalled {
            return;
        }
        let mut relaxed = false;
        while let Some(at) = self.conv(c).next_stage_at()
            && at <= ctx.now
        {
            self.enter_next_stage(ctx, c);
            relaxed = true;
        }
        let conv = self.conv(c);
        let group = self.group(conv.group);
        let overflow_due = !group.overflow.is_empty()
            && !conv.overflowed()
            && after(conv.arrived_at, group.overflow_after_secs) <= ctx.now;
        let overflowed = overflow_due && self.join_overflow(ctx, c);
        let served = if relaxed {
            self.try_assign(ctx, c)
        } else {
            overflowed && self.try_overflow_groups(ctx, c)
        };
        if served || !self.conv(c).phase.is_waiting() {
            return;
        }
        // The boundaries still ahead: the next stage, and the overflow unless it came.
        let next = self.next_boundary(c);
        self.disarm(c, Slot::Stage);
        if let Some(at) = next {
            self.arm(c, at, TimerKind::Stage);
        }
    }

    /// A waiting conversation enters its next stage (R-SK2): its requirements change, the
    /// stage's groups join its candidates, it moves to the routing keys of the new
    /// requirements, keeping its place, and the change is reported.
    fn enter_next_stage(&mut self, ctx: &mut Ctx, c: ConvKey) {
        let conv = self.conv(c);
        let next = conv.stage_index().unwrap_or(0) + 1;
        let Some(stage) = conv.stages().get(next as usize).cloned() else {
            return;
        };
        // The stage's groups join for good, even one it waits in now as its designated
        // group (a designation ends when it is served); those it did not wait in are new.
        let waiting: Vec<GroupKey> = conv.waiting_groups().collect();
        let mut joined: Vec<GroupKey> = Vec::new();
        for id in &stage.groups {
            if let Some(&g) = self.group_ids.get(id)
                && g != conv.group
                && !conv.joined().contains(&g)
                && !joined.contains(&g)
            {
                joined.push(g);
            }
        }
        let added: Vec<GroupKey> = joined
            .iter()
            .copied()
            .filter(|g| !waiting.contains(g))
            .collect();
        for &g in &added {
            self.touch(ctx, g);
        }
        self.unfile_waiting(c);
        self.reclaim(c, |state| {
            state.conv_mut(c).with_routing(|r| {
                r.stage = next;
                r.joined.extend(joined);
            });
        });
        self.file_waiting(c, None);
        ctx.emit(Event::StageAdvanced {
            conversation: self.conv(c).id.clone(),
            stage: next,
            requires: stage.require,
            groups: added.iter().map(|g| self.group(*g).id.clone()).collect(),
        });
    }

    /// A waiting conversation has waited its group's overflow time: the overflow groups'
    /// agents become candidates (R-S4). `false` when it waits in all of them already.
    fn join_overflow(&mut self, ctx: &mut Ctx, c: ConvKey) -> bool {
        self.conv_mut(c).with_routing(|r| r.overflowed = true);
        let conv = self.conv(c);
        let waiting: Vec<GroupKey> = conv.waiting_groups().collect();
        let added: Vec<GroupKey> = self
            .group(conv.group)
            .overflow
            .iter()
            .copied()
            .filter(|g| !waiting.contains(g))
            .collect();
        if added.is_empty() {
            return false;
        }
        let joined = added.clone();
        self.reclaim(c, |state| {
            state.conv_mut(c).with_routing(|r| r.overflow = joined);
        });
        for &g in &added {
            self.touch(ctx, g);
            // An overflow group is never the conversation's own: its queues file it as
            // another group's work.
            self.file_waiting(c, Some(g));
        }
        ctx.emit(Event::ConversationOverflowed {
            conversation: self.conv(c).id.clone(),
            groups: added.iter().map(|g| self.group(*g).id.clone()).collect(),
        });
        true
    }

    /// The estimated wait of a queued conversation (R-B2, R-DY6): its position times the mean
    /// interval between the latest conversations that left its group's queue for an agent,
    /// that interval counting at least [`MIN_INTERVAL`]; saturating at [`longest_wait`].
    /// `None` until two have.
    pub(crate) fn estimated_wait(&self, conv: &Conversation) -> Option<Duration> {
        let position = self.position(conv)?;
        let served = &self.group(conv.group).served;
        let (first, last) = (served.front()?, served.back()?);
        let intervals = u32::try_from(served.len().checked_sub(1)?).ok()?;
        if intervals == 0 {
            return None;
        }
        let span = last.signed_duration_since(*first).to_std().ok()?;
        let interval = (span / intervals).max(MIN_INTERVAL);
        Some(interval.saturating_mul(position).min(longest_wait()))
    }
}

/// The least time a place in the queue counts for in the estimated wait: services that share
/// one instant (an agent coming online takes several at once) would otherwise make the mean
/// interval, and the estimate, zero (R-DY6).
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest estimate: the span of chrono's whole range of instants (about 524,000 years),
/// which fits any encoding of a duration in seconds or milliseconds.
fn longest_wait() -> Duration {
    (DateTime::<Utc>::MAX_UTC - DateTime::<Utc>::MIN_UTC)
        .to_std()
        .unwrap_or(Duration::MAX)
}
