//! Working hours (R-W1, R-W2): defining schedules, and what happens at a shift boundary.

use crate::command::ScheduleSpec;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::event::{DrainTrigger, Event};
use crate::ids::ScheduleId;
use crate::keys::{AgentKey, ScheduleKey};
use crate::schedule::Schedule;
use crate::store::State;
use crate::timers::timer::TimerKind;

impl State {
    pub(crate) fn schedule_key(&self, schedule: &ScheduleId) -> Result<ScheduleKey, Error> {
        self.schedule_ids
            .get(schedule)
            .copied()
            .ok_or_else(|| Error::UnknownSchedule {
                schedule: schedule.clone(),
            })
    }

    /// `DefineSchedule`: creates a schedule or replaces one's ranges. O(members · (ranges +
    /// groups · log agents)), plus the work members take.
    pub(crate) fn define_schedule(
        &mut self,
        ctx: &mut Ctx,
        spec: ScheduleSpec,
    ) -> Result<(), Error> {
        let compiled = Schedule::new(spec.clone())?;

        let id = spec.schedule.clone();
        let s = match self.schedule_ids.get(&id) {
            Some(&s) => {
                let old = self.schedule_mut(s);
                if let Some(timer) = old.timer.take() {
                    self.timers.remove(&timer);
                }
                let members = std::mem::take(&mut self.schedule_mut(s).members);
                let schedule = self.schedule_mut(s);
                *schedule = compiled;
                schedule.members = members;
                s
            }
            None => {
                let s = self.next_key();
                self.schedules.insert(s, compiled);
                self.schedule_ids.insert(id.clone(), s);
                s
            }
        };
        self.arm_shift(ctx, s);
        ctx.emit(Event::ScheduleDefined { schedule: id });
        self.shift_boundary_members(ctx, s);
        Ok(())
    }

    /// `RemoveSchedule`: O(log s). Refused while an agent or the service hours use it.
    pub(crate) fn remove_schedule(&mut self, ctx: &mut Ctx, id: &ScheduleId) -> Result<(), Error> {
        let s = self.schedule_key(id)?;
        let agents = self.schedule(s).members.len();
        if agents > 0 || self.config.service_hours.as_ref() == Some(id) {
            return Err(Error::ScheduleInUse {
                schedule: id.clone(),
                agents,
            });
        }

        if let Some(timer) = self.schedule_mut(s).timer.take() {
            self.timers.remove(&timer);
        }
        self.schedules.remove(&s);
        self.schedule_ids.swap_remove(id);
        ctx.emit(Event::ScheduleRemoved {
            schedule: id.clone(),
        });
        Ok(())
    }

    /// Arms a schedule's next boundary.
    fn arm_shift(&mut self, ctx: &Ctx, s: ScheduleKey) {
        if let Some(at) = self.schedule(s).next_boundary(ctx.now) {
            let timer = self.new_timer(s, at, TimerKind::ShiftBoundary);
            self.timers.insert(timer);
            self.schedule_mut(s).timer = Some(timer);
        }
    }

    /// A shift starts or ends: members re-evaluate their duty, and the schedule's next
    /// boundary is armed. O(members · (ranges + groups · log agents)).
    pub(crate) fn shift_boundary(&mut self, ctx: &mut Ctx, s: ScheduleKey) {
        self.arm_shift(ctx, s);
        self.shift_boundary_members(ctx, s);
    }

    fn shift_boundary_members(&mut self, ctx: &mut Ctx, s: ScheduleKey) {
        let members: Vec<AgentKey> = self.schedule(s).members.iter().copied().collect();
        for a in members {
            self.update_duty(ctx, a);
        }
    }

    /// Whether an agent is inside one of its schedules now.
    pub(crate) fn duty_now(&self, ctx: &Ctx, a: AgentKey) -> bool {
        self.agent(a)
            .schedules
            .iter()
            .any(|s| self.schedule(*s).on_duty(ctx.now))
    }

    /// Re-evaluates an agent's duty; an agent coming on duty takes waiting work (R-D1), one
    /// going off duty has its pending offers withdrawn.
    pub(crate) fn update_duty(&mut self, ctx: &mut Ctx, a: AgentKey) {
        let on_duty = self.duty_now(ctx, a);
        if on_duty == self.agent(a).on_duty {
            return;
        }
        self.set_eligibility(
            ctx,
            a,
            |state, ctx| {
                state.agent_mut(a).on_duty = on_duty;
                state.duty_changed(ctx, a);
            },
            DrainTrigger::ShiftStarted,
        );
    }
}
