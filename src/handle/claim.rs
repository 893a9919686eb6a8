//! An agent claims a conversation from the unassigned pool (R-P2), within its limit and every
//! other dimension of fit (R-K1..R-K3).

use crate::config::ReceptionMode;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::AssignReason;
use crate::ids::{AgentId, ConversationId};
use crate::keys::{AgentKey, ConvKey};
use crate::routing::fit::{self, Work};
use crate::routing::queue::QueueKey;
use crate::store::State;

impl State {
    /// `Claim`: O(g · K · log a) to assign, plus for a named conversation O(log n); for the
    /// best one, O(K · log n) plus one step per pooled conversation ahead that the agent may
    /// not take (excluded from it, or at the cap of its group, R-K3).
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
            None => match self.claimable(a) {
                Some(c) => c,
                // Nothing it may take: name the first it is not excluded from, with why it
                // cannot take it, or say the pool has nothing for it.
                None => self
                    .waiting
                    .iter()
                    .find(|k| !self.conv(k.conv).excluded().contains(&a))
                    .map(|k| k.conv)
                    .ok_or_else(|| Error::PoolEmpty {
                        agent: agent.clone(),
                    })?,
            },
        };
        let conv = self.conv(c);
        if let Some(misfit) = self.misfit(self.agent(a), conv.kind_key, conv.group) {
            return Err(Error::AgentUnavailable {
                conversation: conv.id.clone(),
                agent: agent.clone(),
                reason: misfit.words().into(),
            });
        }
        if !self.qualifies(self.agent(a), conv) {
            return Err(Error::AgentUnavailable {
                conversation: conv.id.clone(),
                agent: agent.clone(),
                reason: "it lacks a skill the conversation's stage in force requires".into(),
            });
        }

        self.counters.claimed += 1;
        self.attach(ctx, c, a, AssignReason::Claimed);
        Ok(())
    }

    /// The first conversation in pool order that agent `a` may claim: not excluded from it,
    /// and fitting it in every dimension (R-K1..R-K3). Per kind it fits, the first of the
    /// kind's pool that it may take; the first of those in pool order (live ones before
    /// those past the redirect limit).
    fn claimable(&self, a: AgentKey) -> Option<ConvKey> {
        let agent = self.agent(a);
        let mut best: Option<(bool, QueueKey)> = None;
        for kind in 0..self.kinds.len() {
            // The agent's own dimensions; a group's cap is checked per conversation.
            let own = Work {
                kind,
                home: 0,
                cap: None,
            };
            if fit::misfit(&self.config, &self.kinds, agent, own).is_some() {
                continue;
            }
            let first = self.waiting.of_kind(kind).iter().find(|k| {
                let conv = self.conv(k.conv);
                !conv.excluded().contains(&a)
                    && self.misfit(agent, conv.kind_key, conv.group).is_none()
                    && self.qualifies(agent, conv)
            });
            if let Some(key) = first {
                let place = (self.conv(key.conv).stalled, *key);
                if best.is_none_or(|b| place < b) {
                    best = Some(place);
                }
            }
        }
        best.map(|(_, key)| key.conv)
    }
}
