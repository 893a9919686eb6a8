//! Registering, updating and removing groups.

use crate::command::{GroupSpec, GroupUpdate, Limit};
use crate::error::Error;
use crate::event::{DrainTrigger, Event};
use crate::group::Group;
use crate::ids::GroupId;
use crate::outcome::Ctx;
use crate::store::{AgentKey, State};

impl State {
    /// `RegisterGroup`: O(log groups).
    pub(crate) fn register_group(&mut self, ctx: &mut Ctx, spec: GroupSpec) -> Result<(), Error> {
        if self.group_ids.contains_key(&spec.group) {
            return Err(Error::DuplicateGroup { group: spec.group });
        }
        let limit = group_limit(&spec.group, spec.limit)?;

        let g = self.next_key();
        self.groups
            .insert(g, Group::new(spec.group.clone(), spec.strategy, limit));
        self.group_ids.insert(spec.group.clone(), g);
        ctx.emit(Event::GroupRegistered { group: spec.group });
        Ok(())
    }

    /// `UpdateGroup`: O(members · groups · log agents), plus the work members take.
    pub(crate) fn update_group(&mut self, ctx: &mut Ctx, update: GroupUpdate) -> Result<(), Error> {
        let g = self.group_key(&update.group)?;
        let limit = match update.limit {
            Some(limit) => Some(group_limit(&update.group, limit)?),
            None => None,
        };

        let members: Vec<AgentKey> = self.group(g).members.iter().copied().collect();
        for &a in &members {
            self.unlist(a);
        }
        let group = self.group_mut(g);
        if let Some(strategy) = update.strategy {
            group.strategy = strategy;
        }
        if let Some(limit) = limit {
            group.limit = limit;
        }
        for &a in &members {
            self.refresh(a);
        }
        ctx.emit(Event::GroupUpdated {
            group: update.group,
        });
        for a in members {
            self.drain(ctx, a, DrainTrigger::GroupChanged);
        }
        Ok(())
    }

    /// `RemoveGroup`: O(members · groups · log agents), plus the work members take.
    pub(crate) fn remove_group(&mut self, ctx: &mut Ctx, id: &GroupId) -> Result<(), Error> {
        let g = self.group_key(id)?;
        let open = self.group(g).open;
        if open > 0 {
            return Err(Error::GroupInUse {
                group: id.clone(),
                conversations: open,
            });
        }

        let members: Vec<AgentKey> = self.group(g).members.iter().copied().collect();
        for &a in &members {
            self.unlist(a);
            self.agent_mut(a).groups.retain(|m| m.group != g);
        }
        self.groups.remove(&g);
        self.group_ids.swap_remove(id);
        for &a in &members {
            self.refresh(a);
        }
        ctx.emit(Event::GroupRemoved { group: id.clone() });
        for a in members {
            self.drain(ctx, a, DrainTrigger::GroupChanged);
        }
        Ok(())
    }
}

fn group_limit(group: &GroupId, limit: Limit) -> Result<Option<u32>, Error> {
    match limit {
        Limit::Inherit => Ok(None),
        Limit::Fixed(0) => Err(Error::ZeroGroupLimit {
            group: group.clone(),
        }),
        Limit::Fixed(n) => Ok(Some(n)),
    }
}
