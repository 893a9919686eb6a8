//! Registering, updating and removing groups.

use crate::command::{GroupSpec, GroupUpdate, Limit, Overflow};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{DrainTrigger, Event};
use crate::group::Group;
use crate::ids::GroupId;
use crate::keys::{AgentKey, ConvKey, GroupKey};
use crate::store::State;
use crate::timers::timer::Slot;

impl State {
    /// `RegisterGroup`: O(log groups).
    pub(crate) fn register_group(&mut self, ctx: &mut Ctx, spec: GroupSpec) -> Result<(), Error> {
        if self.group_ids.contains_key(&spec.group) {
            return Err(Error::DuplicateGroup { group: spec.group });
        }
        let limit = group_limit(&spec.group, spec.limit)?;
        let overflow = match &spec.overflow {
            Some(overflow) => Some(self.overflow_groups(&spec.group, None, overflow)?),
            None => None,
        };
        let agent_cap = group_cap(&spec.group, spec.agent_cap)?;

        let g = self.next_key();
        let mut group = Group::new(spec.group.clone(), spec.strategy, limit);
        group.agent_cap = agent_cap;
        group.size(self.kinds.len(), !self.skills.is_empty());
        if let (Some(groups), Some(o)) = (overflow, &spec.overflow) {
            group.overflow = groups;
            group.overflow_after_secs = o.after_secs;
        }
        self.groups.insert(g, group);
        self.group_ids.insert(spec.group.clone(), g);
        self.group_names.insert(g, spec.group.clone());
        ctx.emit(Event::GroupRegistered { group: spec.group });
        Ok(())
    }

    /// `UpdateGroup`: O(members · g · K · log a), plus the work members take; a changed cap
    /// (R-K3) lets every agent with room look again: O(a · g · K · (log n + x)) more.
    pub(crate) fn update_group(&mut self, ctx: &mut Ctx, update: GroupUpdate) -> Result<(), Error> {
        let g = self.group_key(&update.group)?;
        let limit = match update.limit {
            Some(limit) => Some(group_limit(&update.group, limit)?),
            None => None,
        };
        let overflow = match &update.overflow {
            Some(overflow) => Some((
                self.overflow_groups(&update.group, Some(g), overflow)?,
                overflow.after_secs,
            )),
            None => None,
        };
        let agent_cap = match update.agent_cap {
            Some(cap) => Some(group_cap(&update.group, cap)?),
            None => None,
        };

        let members: Vec<AgentKey> = self.group(g).members.iter().copied().collect();
        for &a in &members {
            self.unlist(a);
        }
        let kinds = self.kinds.len();
        let group = self
            .groups
            .get_mut(&g)
            .expect("the group was looked up above");
        if let Some(strategy) = update.strategy {
            group.strategy = strategy;
        }
        if let Some(limit) = limit {
            group.limit = limit;
        }
        let cap_changed = agent_cap.is_some_and(|cap| cap != group.agent_cap);
        if let Some(cap) = agent_cap {
            group.agent_cap = cap;
            // Every member is unlisted: the candidate indexes are empty, and are sized anew
            // for the cap (the queues keep what waits).
            let capped = cap.is_some();
            group.available.reset(kinds, capped);
            for &route in group.routes.values() {
                if let Some(route) = self.routes.get_mut(route) {
                    route.available.reset(kinds, capped);
                }
            }
        }
        for &route in group.routes.values() {
            if let Some(route) = self.routes.get_mut(route) {
                route.strategy = group.strategy;
                route.cap = group.agent_cap;
            }
        }
        let overflow_changed = overflow.is_some();
        if let Some((groups, after_secs)) = overflow {
            group.overflow = groups;
            group.overflow_after_secs = after_secs;
        }
        for &a in &members {
            self.refresh(a);
        }
        ctx.emit(Event::GroupUpdated {
            group: update.group,
        });
        if cap_changed {
            // The cap bounds the group's work wherever it waits (overflowed or designated
            // into other groups, whose members need not be this group's): every agent with
            // room looks again, in registration order.
            self.drain_all(ctx, DrainTrigger::GroupChanged);
        } else {
            for a in members {
                self.drain(ctx, a, DrainTrigger::GroupChanged);
            }
        }
        if overflow_changed {
            // Conversations already waiting follow the new setting (R-S4), in arrival order,
            // so that deadlines falling at the same instant fire in arrival order.
            let mut waiting: Vec<(u64, ConvKey)> = self
                .group(g)
                .queue
                .iter()
                .map(|k| (k.seq, k.conv))
                .filter(|(_, c)| self.conv(*c).group == g)
                .collect();
            waiting.sort_unstable();
            for (_, c) in waiting {
                if self.conv(c).phase.is_waiting() && !self.conv(c).overflowed() {
                    self.disarm(c, Slot::Stage);
                    self.arm_stage(ctx, c);
                }
            }
        }
        Ok(())
    }

    /// `RemoveGroup`: O(members · groups · log agents), plus the work members take.
    pub(crate) fn remove_group(&mut self, ctx: &mut Ctx, id: &GroupId) -> Result<(), Error> {
        let g = self.group_key(id)?;
        // Open conversations that wait in it, and those whose later stages name it.
        let staged = self
            .conversations
            .values()
            .filter(|c| c.phase.is_open())
            .filter(|c| {
                let waits_in = c.waiting_groups().any(|w| w == g);
                !waits_in && c.stages().iter().any(|s| s.groups.contains(id))
            })
            .count();
        let open = self.group(g).open + staged as u64;
        if open > 0 {
            return Err(Error::GroupInUse {
                group: id.clone(),
                conversations: open,
            });
        }

        if let Some(of) = self
            .groups
            .values()
            .find(|other| other.overflow.contains(&g))
        {
            return Err(Error::OverflowTarget {
                group: id.clone(),
                of: of.id.clone(),
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

impl State {
    /// Checks an overflow setting: known groups, not the group itself, none twice, a wait of
    /// at least one second (unless it names no groups, which switches overflow off).
    fn overflow_groups(
        &self,
        group: &GroupId,
        key: Option<GroupKey>,
        overflow: &Overflow,
    ) -> Result<Vec<GroupKey>, Error> {
        let invalid = |problem: String| Error::InvalidOverflow {
            group: group.clone(),
            problem,
        };
        let mut keys: Vec<GroupKey> = Vec::new();
        for id in &overflow.groups {
            if id == group {
                return Err(invalid("a group cannot overflow into itself".into()));
            }
            let k = self.group_key(id)?;
            if keys.contains(&k) || Some(k) == key {
                return Err(invalid(format!("`{id}` is named twice")));
            }
            keys.push(k);
        }
        if !keys.is_empty() && overflow.after_secs == 0 {
            return Err(invalid("the wait must be at least 1 second".into()));
        }
        Ok(keys)
    }
}

/// Checks a cap on the units of a group's work on one agent (R-K3): at least 1.
fn group_cap(group: &GroupId, cap: Option<u32>) -> Result<Option<u32>, Error> {
    match cap {
        Some(0) => Err(Error::ZeroGroupCap {
            group: group.clone(),
        }),
        cap => Ok(cap),
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
