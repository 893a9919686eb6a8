//! An agent claims a conversation from the unassigned pool (R-P2), within its limit.

use crate::config::ReceptionMode;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::AssignReason;
use crate::ids::{AgentId, ConversationId};
use crate::store::State;

impl State {
    /// `Claim`: O(log n) for a named conversation; for the best one, O(log n) plus one step
    /// per pooled conversation the agent is excluded from. Plus O(groups · log agents) to
    /// assign.
    pub(crate) fn claim(
        &mut self,
        ctx: &mut Ctx,
        agent: &AgentId,
        conversation: Option<&ConversationId>,
    ) -> Result<(), Error> {
        if self.config.mode != ReceptionMode::Asynchronous {
            return Err(Error::WrongMode {
                operation: "claim".into(),
                mode: self.config.mode.name().into(),
            });
        }
        let a = self.agent_key(agent)?;
        let c = match conversation {
            Some(id) => {
                let c = self.conv_key(id)?;
                let phase = &self.conv(c).phase;
                if !phase.is_waiting() {
                    return Err(Error::InvalidState {
                        conversation: id.clone(),
                        state: phase.name().into(),
                        operation: "claim".into(),
                    });
                }
                c
            }
            None => self
                .waiting
                .iter()
                .find(|k| !self.conv(k.conv).excluded().contains(&a))
                .map(|k| k.conv)
                .ok_or_else(|| Error::PoolEmpty {
                    agent: agent.clone(),
                })?,
        };
        let held = self.agent(a);
        if !self.eligible(held) || held.load >= u64::from(held.effective_limit) {
            return Err(Error::AgentUnavailable {
                conversation: self.conv(c).id.clone(),
                agent: agent.clone(),
                reason: if self.eligible(held) {
                    "it is at its limit"
                } else {
                    "its status is not assignable"
                }
                .into(),
            });
        }

        self.counters.claimed += 1;
        self.attach(ctx, c, a, AssignReason::Claimed);
        Ok(())
    }
}
