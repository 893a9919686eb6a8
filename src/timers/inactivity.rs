//! Visitor inactivity (R-L2): after the agent's reply, a reminder and then the end, unless
//! the visitor writes; never while snoozed.

use crate::ctx::Ctx;
use crate::event::{EndReason, Event};
use crate::keys::ConvKey;
use crate::store::State;
use crate::timers::timer::{Slot, TimerKind, after};

impl State {
    /// The agent replied (or a snooze lifted after its reply): the visitor's silence starts now.
    pub(crate) fn inactivity_start(&mut self, ctx: &Ctx, c: ConvKey) {
        let conv = self.conv_mut(c);
        conv.silent_since = Some(ctx.now);
        conv.reminded = false;
        self.inactivity_arm(c);
    }

    /// Arms the next inactivity timer: the reminder, else the end, else nothing.
    fn inactivity_arm(&mut self, c: ConvKey) {
        let setting = self.config.inactivity.clone();
        let conv = self.conv(c);
        let Some(since) = conv.silent_since else {
            return;
        };
        match (setting.reminder_after_secs, setting.end_after_secs) {
            (Some(reminder), _) if !conv.reminded => {
                self.arm(c, after(since, reminder), TimerKind::InactivityReminder);
            }
            (_, Some(end)) => self.arm(c, after(since, end), TimerKind::InactivityEnd),
            _ => self.disarm(c, Slot::Inactivity),
        }
    }

    /// The visitor wrote: no silence to time.
    pub(crate) fn inactivity_stop(&mut self, c: ConvKey) {
        self.disarm(c, Slot::Inactivity);
        let conv = self.conv_mut(c);
        conv.silent_since = None;
        conv.reminded = false;
    }

    pub(super) fn inactivity_remind(&mut self, ctx: &mut Ctx, c: ConvKey) {
        self.conv_mut(c).reminded = true;
        self.inactivity_arm(c);
        self.counters.inactivity_reminders += 1;
        let end_at = self
            .conv(c)
            .timers
            .get(Slot::Inactivity)
            .filter(|t| t.kind == TimerKind::InactivityEnd)
            .map(|t| t.at);
        let (conversation, agent) = self.conv_and_holder_ids(c);
        ctx.emit(Event::InactivityReminder {
            conversation,
            agent,
            end_at,
        });
    }

    pub(super) fn inactivity_end(&mut self, ctx: &mut Ctx, c: ConvKey) {
        self.finish(ctx, c, EndReason::Inactivity);
    }
}
