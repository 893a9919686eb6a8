//! Registering, updating and removing agents, and their status changes.

use crate::agent::{Agent, Member};
use crate::command::{AgentSpec, AgentUpdate, Limit, Membership};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{DrainTrigger, Event};
use crate::ids::{AgentId, ScheduleId};
use crate::keys::{AgentKey, ConvKey, ScheduleKey};
use crate::status::AgentStatus;
use crate::store::State;

impl State {
    /// Checks memberships: known groups, ranks 1..=5, no group twice.
    fn members(&self, agent: &AgentId, groups: &[Membership]) -> Result<Vec<Member>, Error> {
        let mut members: Vec<Member> = Vec::with_capacity(groups.len());
        for m in groups {
            let group = self.group_key(&m.group)?;
            if !(1..=5).contains(&m.rank) {
                return Err(Error::InvalidRank {
                    agent: agent.clone(),
                    group: m.group.clone(),
                    rank: m.rank,
                });
            }
            if members.iter().any(|x| x.group == group) {
                return Err(Error::DuplicateMembership {
                    agent: agent.clone(),
                    group: m.group.clone(),
                });
            }
            members.push(Member {
                group,
                rank: m.rank,
            });
        }
        Ok(members)
    }

    fn check_status(&self, status: &AgentStatus) -> Result<bool, Error> {
        status
            .assignable(&self.config)
            .ok_or_else(|| Error::UnknownStatus {
                status: status.to_string(),
            })
    }

    /// `RegisterAgent`: O(groups · log agents), plus the work the agent takes.
    pub(crate) fn register_agent(&mut self, ctx: &mut Ctx, spec: AgentSpec) -> Result<(), Error> {
        if self.agent_ids.contains_key(&spec.agent) {
            return Err(Error::DuplicateAgent { agent: spec.agent });
        }
        let members = self.members(&spec.agent, &spec.groups)?;
        let schedules = self.schedule_keys(&spec.schedules)?;
        let limit = agent_limit(&spec.agent, spec.limit)?;
        self.check_status(&spec.status)?;
        self.check_skills(&spec.agent, &spec.skills)?;

        let a = self.next_key();
        let mut agent = Agent::new(spec.agent.clone(), spec.status, limit);
        agent.groups = members;
        agent.levels = self.skills.levels(&spec.skills);
        agent.skills = spec.skills;
        for m in &agent.groups {
            self.group_mut(m.group).members.insert(a);
        }
        self.agents.insert(a, agent);
        self.agent_ids.insert(spec.agent.clone(), a);
        self.requalify(a);
        let duty_changed = self.link_schedules(ctx, a, schedules);
        self.refresh(a);
        ctx.emit(Event::AgentRegistered {
            agent: spec.agent,
            limit: self.agent(a).effective_limit,
        });
        if duty_changed {
            self.duty_changed(ctx, a);
        }
        self.drain(ctx, a, DrainTrigger::Registered);
        Ok(())
    }

    /// `UpdateAgent`: O(groups · log agents), plus the work the agent takes or the offers it
    /// loses.
    pub(crate) fn update_agent(&mut self, ctx: &mut Ctx, update: AgentUpdate) -> Result<(), Error> {
        let a = self.agent_key(&update.agent)?;
        let members = match &update.groups {
            Some(groups) => Some(self.members(&update.agent, groups)?),
            None => None,
        };
        let schedules = match &update.schedules {
            Some(schedules) => Some(self.schedule_keys(schedules)?),
            None => None,
        };
        let limit = match update.limit {
            Some(limit) => Some(agent_limit(&update.agent, limit)?),
            None => None,
        };
        if let Some(skills) = &update.skills {
            self.check_skills(&update.agent, skills)?;
        }

        let change = |state: &mut State, ctx: &mut Ctx| {
            let requalify = members.is_some() || update.skills.is_some();
            if let Some(skills) = update.skills {
                let levels = state.skills.levels(&skills);
                let agent = state.agent_mut(a);
                agent.levels = levels;
                agent.skills = skills;
            }
            if let Some(members) = members {
                let old = std::mem::replace(&mut state.agent_mut(a).groups, members);
                for m in old {
                    state.group_mut(m.group).members.remove(&a);
                }
                let new = state.agent(a).groups.clone();
                for m in new {
                    state.group_mut(m.group).members.insert(a);
                }
            }
            if requalify {
                state.requalify(a);
            }
            let duty_changed =
                schedules.is_some_and(|schedules| state.link_schedules(ctx, a, schedules));
            if let Some(limit) = limit {
                state.agent_mut(a).limit = limit;
            }
            state.refresh(a);
            ctx.emit(Event::AgentUpdated {
                agent: update.agent,
                limit: state.agent(a).effective_limit,
            });
            if duty_changed {
                state.duty_changed(ctx, a);
            }
        };
        self.set_eligibility(ctx, a, change, DrainTrigger::AgentUpdated);
        Ok(())
    }

    /// Resolves schedule ids to keys.
    fn schedule_keys(&self, schedules: &[ScheduleId]) -> Result<Vec<ScheduleKey>, Error> {
        let mut keys: Vec<ScheduleKey> = Vec::with_capacity(schedules.len());
        for id in schedules {
            let s = self.schedule_key(id)?;
            if !keys.contains(&s) {
                keys.push(s);
            }
        }
        Ok(keys)
    }

    /// Replaces an agent's schedules and re-evaluates its duty (without re-listing it).
    /// Returns whether the duty changed; the caller reports it.
    fn link_schedules(&mut self, ctx: &Ctx, a: AgentKey, schedules: Vec<ScheduleKey>) -> bool {
        let old = std::mem::replace(&mut self.agent_mut(a).schedules, schedules.clone());
        for s in old {
            self.schedule_mut(s).members.remove(&a);
        }
        for s in schedules {
            self.schedule_mut(s).members.insert(a);
        }
        let on_duty = self.duty_now(ctx, a);
        std::mem::replace(&mut self.agent_mut(a).on_duty, on_duty) != on_duty
    }

    /// Reports an agent's duty after it changed.
    pub(crate) fn duty_changed(&self, ctx: &mut Ctx, a: AgentKey) {
        let agent = self.agent(a);
        ctx.emit(Event::AgentDutyChanged {
            agent: agent.id.clone(),
            on_duty: agent.on_duty,
        });
    }

    /// `RemoveAgent`: O(groups · log agents + held · route).
    pub(crate) fn remove_agent(&mut self, ctx: &mut Ctx, id: &AgentId) -> Result<(), Error> {
        let a = self.agent_key(id)?;

        self.unlist(a);
        let groups = std::mem::take(&mut self.agent_mut(a).groups);
        for m in groups {
            self.group_mut(m.group).members.remove(&a);
        }
        self.requalify(a);
        let schedules = std::mem::take(&mut self.agent_mut(a).schedules);
        for s in schedules {
            self.schedule_mut(s).members.remove(&a);
        }
        let designated = std::mem::take(&mut self.agent_mut(a).designated);
        for key in designated {
            self.conv_mut(key.conv).drop_designated_agent();
        }
        let held: Vec<ConvKey> = self.agent(a).held().collect();
        for &c in &held {
            self.detach(ctx, c);
        }
        self.agents.remove(&a);
        self.agent_ids.swap_remove(id);
        ctx.emit(Event::AgentRemoved { agent: id.clone() });
        for c in held {
            self.requeue(ctx, c, id.clone());
        }
        Ok(())
    }

    /// Routes again a conversation whose agent went away; it keeps its original place.
    fn requeue(&mut self, ctx: &mut Ctx, c: ConvKey, from: AgentId) {
        self.counters.requeued += 1;
        ctx.emit(Event::ConversationRequeued {
            conversation: self.conv(c).id.clone(),
            from,
        });
        self.route(ctx, c);
    }

    /// `AgentStatusChanged`: O(groups · log agents), plus the work the agent takes (or the
    /// offers it loses and, under `requeue_when_unassignable`, the conversations it gives
    /// back).
    pub(crate) fn agent_status_changed(
        &mut self,
        ctx: &mut Ctx,
        id: &AgentId,
        status: AgentStatus,
    ) -> Result<(), Error> {
        let a = self.agent_key(id)?;
        self.check_status(&status)?;
        if self.agent(a).status == status {
            return Ok(());
        }

        self.set_status(ctx, a, status);
        Ok(())
    }

    /// Changes an agent's status (a checked one) and reports it.
    pub(crate) fn set_status(&mut self, ctx: &mut Ctx, a: AgentKey, status: AgentStatus) {
        ctx.emit(Event::AgentStatusChanged {
            agent: self.agent(a).id.clone(),
            from: self.agent(a).status.clone(),
            to: status.clone(),
        });
        self.set_eligibility(
            ctx,
            a,
            |state, _| state.agent_mut(a).status = status,
            DrainTrigger::BecameAssignable,
        );
    }

    /// Applies a change to agent `a` that may change its limit, groups or eligibility
    /// (status, duty). With room, it takes waiting work (R-D1); ceasing to be eligible, it
    /// loses its pending offers (R-A2) and, under `requeue_when_unassignable`, what it holds.
    pub(crate) fn set_eligibility(
        &mut self,
        ctx: &mut Ctx,
        a: AgentKey,
        change: impl FnOnce(&mut State, &mut Ctx),
        trigger: DrainTrigger,
    ) {
        let was_eligible = self.eligible(self.agent(a));
        self.unlist(a);
        change(self, ctx);
        self.refresh(a);
        let eligible = self.eligible(self.agent(a));
        if eligible {
            self.drain(ctx, a, trigger);
        } else if was_eligible {
            self.withdraw_offers(ctx, a);
            if self.config.requeue_when_unassignable {
                let id = self.agent(a).id.clone();
                let held: Vec<ConvKey> = self.agent(a).held().collect();
                for c in held {
                    self.detach(ctx, c);
                    self.requeue(ctx, c, id.clone());
                }
            }
        }
    }
}

fn agent_limit(agent: &AgentId, limit: Limit) -> Result<Option<u32>, Error> {
    match limit {
        Limit::Inherit => Ok(None),
        Limit::Fixed(0) => Err(Error::ZeroAgentLimit {
            agent: agent.clone(),
        }),
        Limit::Fixed(n) => Ok(Some(n)),
    }
}
