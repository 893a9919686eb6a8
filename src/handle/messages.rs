//! Messages in a conversation: they drive snooze lifts (R-Z2), reply goals (R-L1) and visitor
//! inactivity (R-L2). The engine keeps no message text.

use crate::command::Sender;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{ReplyGoal, WakeReason};
use crate::ids::ConversationId;
use crate::store::State;
use crate::timers::timer::Slot;

impl State {
    /// `Message`: O(log t), plus the wake of a snoozed conversation.
    pub(crate) fn message(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
        from: Sender,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let phase = &self.conv(c).phase;
        let held = phase.accepted_by().is_some();
        let allowed = match from {
            Sender::Visitor => phase.is_open(),
            Sender::AgentReply | Sender::AgentNote => held,
        };
        if !allowed {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: phase.name().into(),
                operation: match from {
                    Sender::Visitor => "take a visitor message for",
                    Sender::AgentReply | Sender::AgentNote => "take an agent message for",
                }
                .into(),
            });
        }

        match from {
            Sender::Visitor => {
                self.wake(ctx, c, WakeReason::VisitorMessage);
                if held {
                    self.inactivity_stop(c);
                    if self.conv(c).goal.is_none() {
                        self.sla_start(ctx, c, ReplyGoal::NextReply);
                    }
                }
            }
            Sender::AgentReply => {
                self.wake(ctx, c, WakeReason::AgentMessage);
                self.conv_mut(c).replied = true;
                self.disarm(c, Slot::Reception);
                self.sla_meet(c);
                self.inactivity_start(ctx, c);
            }
            Sender::AgentNote => {}
        }
        Ok(())
    }
}
