//! Manual assignment by an admin (R-X1): highest priority, always succeeds for a known agent,
//! from the queue or pool, an offer, an agent (a transfer) or a snooze (which moves along).

use crate::conversation::Phase;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{AssignReason, DrainTrigger, Event};
use crate::ids::ConversationId;
use crate::ids::Target;
use crate::keys::{AgentKey, GroupKey};
use crate::outcome::ItemResult;
use crate::routing::candidates::Ratio;
use crate::store::State;

/// A manual assignment's target, resolved to keys.
#[derive(Clone, Copy)]
enum To {
    Agent(AgentKey),
    Group(GroupKey),
}

impl State {
    /// `AssignManually`: per conversation O(groups · log agents) to an agent or to a group with
    /// an eligible member; to a group where no member is eligible, O(members) to find the least
    /// loaded one. Plus the work a previous agent then takes. A snoozed conversation keeps its
    /// snooze with its new agent.
    pub(crate) fn assign_manually(
        &mut self,
        ctx: &mut Ctx,
        conversations: Vec<ConversationId>,
        target: &Target,
    ) -> Result<(), Error> {
        if conversations.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let to = match target {
            Target::Agent(agent) => To::Agent(self.agent_key(agent)?),
            Target::Group(group) => {
                let g = self.group_key(group)?;
                if self.group(g).members.is_empty() {
                    return Err(Error::EmptyGroup {
                        group: group.clone(),
                    });
                }
                To::Group(g)
            }
        };
        for conversation in conversations {
            let result = self.assign_one(ctx, &conversation, to, target);
            ctx.results.push(ItemResult {
                conversation,
                result,
            });
        }
        Ok(())
    }

    fn assign_one(
        &mut self,
        ctx: &mut Ctx,
        id: &ConversationId,
        to: To,
        target: &Target,
    ) -> Result<(), Error> {
        let c = self.conv_key(id)?;
        let conv = self.conv(c);
        if !(conv.phase.is_waiting() || conv.phase.holder().is_some()) {
            return Err(Error::InvalidState {
                conversation: id.clone(),
                state: conv.phase.name().into(),
                operation: "assign".into(),
            });
        }
        let holder = conv.phase.holder();
        let snoozed = matches!(conv.phase, Phase::Snoozed { .. });
        let (agent, reason) = match to {
            To::Agent(a) => (a, AssignReason::Manual),
            To::Group(g) => {
                // The group takes the conversation on as its own work (it is rehomed there).
                // Its strategy picks among the members that meet the requirements in force;
                // with none free, the least loaded member takes it whatever its skills.
                let excluded: Vec<AgentKey> = holder.into_iter().collect();
                match self.pick_as_own(g, c, &excluded) {
                    Some(a) => (
                        a,
                        AssignReason::ManualToGroup {
                            strategy: Some(self.group(g).strategy),
                        },
                    ),
                    None => match self.least_loaded_member(g, holder) {
                        Some(a) => (a, AssignReason::ManualToGroup { strategy: None }),
                        None => {
                            return Err(Error::AlreadyAssigned {
                                conversation: id.clone(),
                                agent: self.agent(holder.expect("a group with members")).id.clone(),
                            });
                        }
                    },
                }
            }
        };
        if holder == Some(agent) {
            return Err(Error::AlreadyAssigned {
                conversation: id.clone(),
                agent: self.agent(agent).id.clone(),
            });
        }

        match holder {
            Some(from) => {
                if !snoozed {
                    self.detach(ctx, c);
                }
                self.counters.transferred += 1;
                ctx.emit(Event::ConversationTransferred {
                    conversation: id.clone(),
                    from: self.agent(from).id.clone(),
                    to: target.clone(),
                });
            }
            None => {
                self.dequeue(ctx, c);
                self.conv_mut(c).phase = Phase::Routing;
            }
        }
        self.rehome(
            c,
            match to {
                To::Group(g) => Some(g),
                To::Agent(_) => None,
            },
        );
        if let (To::Group(g), AssignReason::ManualToGroup { strategy: Some(_) }) = (to, &reason) {
            self.group_mut(g).cursor = agent;
        }
        if snoozed {
            self.move_snoozed(ctx, c, agent, reason);
        } else {
            self.attach(ctx, c, agent, reason);
        }
        if let Some(from) = holder {
            self.drain(ctx, from, DrainTrigger::CapacityFreed);
        }
        Ok(())
    }

    /// The member of `g` with the lowest load / limit (then least recently assigned, then
    /// registration order), other than `holder`, ignoring status and limits.
    fn least_loaded_member(&self, g: GroupKey, holder: Option<AgentKey>) -> Option<AgentKey> {
        self.group(g)
            .members
            .iter()
            .filter(|a| Some(**a) != holder)
            .min_by_key(|a| {
                let agent = self.agent(**a);
                let ratio = Ratio {
                    num: agent.load,
                    den: agent.effective_limit,
                };
                (ratio, agent.last_assignment, **a)
            })
            .copied()
    }
}
