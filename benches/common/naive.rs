//! The baseline to beat: the default strategy's routing rule written the obvious way.
//!
//! Least recently assigned: among the agents that are Online, below their limit and members of
//! the group (and not excluded from the conversation), the one never assigned comes first, in
//! registration order, then the one whose latest assignment is oldest. An agent with room takes
//! the best waiting conversation of its groups: highest priority, then earliest arrival.
//!
//! Written as people write it by hand: a `Vec` of agents scanned in full for every choice, a
//! `Vec` per queue scanned in full for every drain and shifted on removal, std `HashMap`s to
//! find ids. It returns only `(conversation, agent index)` pairs, no events, so it does less
//! bookkeeping than the engine and the measured ratio is on the conservative side.

use std::collections::HashMap;

use switchboard::{
    AgentId, AgentStatus, Command, ConversationId, Event, GroupId, Limit, Outcome, Target,
};

/// What the naive router decided in one command: the conversations it assigned, to whom.
pub type Decisions = Vec<(ConversationId, usize)>;

#[derive(Clone)]
struct Agent {
    id: AgentId,
    online: bool,
    load: u32,
    limit: u32,
    /// Assignment sequence number of the latest assignment; 0 = never assigned.
    last: u64,
    groups: Vec<usize>,
}

#[derive(Clone)]
struct Waiting {
    priority: u8,
    seq: u64,
    conv: ConversationId,
    excluded: Vec<usize>,
}

impl Waiting {
    /// Whether `self` is served before `other`.
    fn before(&self, other: &Waiting) -> bool {
        (std::cmp::Reverse(self.priority), self.seq)
            < (std::cmp::Reverse(other.priority), other.seq)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Arrived, not yet queued or assigned.
    Routing,
    Queued,
    Active(usize),
    Done,
}

#[derive(Clone)]
struct Conv {
    group: usize,
    priority: u8,
    seq: u64,
    state: State,
    excluded: Vec<usize>,
}

/// The naive router's state.
#[derive(Clone, Default)]
pub struct Naive {
    assignments: u64,
    arrivals: u64,
    agents: Vec<Agent>,
    agent_index: HashMap<AgentId, usize>,
    queues: Vec<Vec<Waiting>>,
    group_index: HashMap<GroupId, usize>,
    convs: HashMap<ConversationId, Conv>,
}

impl Naive {
    /// The agent at `index` (registration order).
    pub fn agent_id(&self, index: usize) -> &AgentId {
        &self.agents[index].id
    }

    /// Handles one command the way the engine does, for the commands the benches send.
    pub fn handle(&mut self, command: &Command) -> Decisions {
        let mut out = Vec::new();
        match command {
            Command::RegisterGroup(spec) => self.register_group(&spec.group),
            Command::RegisterAgent(spec) => {
                let a = self.register_agent(spec);
                self.drain(a, &mut out);
            }
            Command::VisitorArrives(arrival) => {
                if self.convs.contains_key(&arrival.conversation) {
                    return out;
                }
                let group = self.group_index[&arrival.group];
                self.arrivals += 1;
                let conv = Conv {
                    group,
                    priority: arrival.priority,
                    seq: self.arrivals,
                    state: State::Routing,
                    excluded: Vec::new(),
                };
                self.convs.insert(arrival.conversation.clone(), conv);
                self.route(&arrival.conversation, &mut out);
            }
            Command::EndConversations { conversations, .. } => {
                for id in conversations {
                    let Some(conv) = self.convs.get(id) else {
                        continue;
                    };
                    match conv.state {
                        State::Queued => self.dequeue(id),
                        State::Active(a) => {
                            self.agents[a].load -= 1;
                            self.set_state(id, State::Done);
                            self.drain(a, &mut out);
                        }
                        State::Routing | State::Done => {}
                    }
                    self.set_state(id, State::Done);
                }
            }
            Command::VisitorLeaves { conversation } => {
                if self.convs.get(conversation).map(|c| c.state) == Some(State::Queued) {
                    self.dequeue(conversation);
                    self.set_state(conversation, State::Done);
                }
            }
            Command::AgentStatusChanged { agent, status } => {
                let a = self.agent_index[agent];
                let online = *status == AgentStatus::Online;
                let was = self.agents[a].online;
                self.agents[a].online = online;
                if online && !was {
                    self.drain(a, &mut out);
                }
            }
            Command::Transfer { conversation, to } => {
                let Some(State::Active(from)) = self.convs.get(conversation).map(|c| c.state)
                else {
                    return out;
                };
                match to {
                    Target::Agent(agent) => {
                        let b = self.agent_index[agent];
                        if b == from || !self.available(b) {
                            return out;
                        }
                        self.agents[from].load -= 1;
                        self.assign(conversation, b, &mut out);
                    }
                    Target::Group(group) => {
                        let g = self.group_index[group];
                        self.agents[from].load -= 1;
                        let conv = self.convs.get_mut(conversation).expect("active above");
                        conv.group = g;
                        if !conv.excluded.contains(&from) {
                            conv.excluded.push(from);
                        }
                        self.route(conversation, &mut out);
                    }
                    _ => unreachable!("a variant added after this test"),
                }
                self.drain(from, &mut out);
            }
            Command::Forget { conversations } => {
                for id in conversations {
                    if self.convs.get(id).map(|c| c.state) == Some(State::Done) {
                        self.convs.remove(id);
                    }
                }
            }
            Command::Tick => {}
            other => panic!("the naive router does not handle {other:?}"),
        }
        out
    }

    /// Replays what the engine did (its events) without deciding anything: builds the same
    /// state as the engine cheaply during a bench's setup. Handles registrations, arrivals and
    /// status changes.
    pub fn mirror(&mut self, command: &Command, outcome: &Outcome) {
        match command {
            Command::RegisterGroup(spec) => self.register_group(&spec.group),
            Command::RegisterAgent(spec) => {
                self.register_agent(spec);
            }
            _ => {}
        }
        for event in &outcome.events {
            match event {
                Event::ConversationArrived {
                    conversation,
                    group,
                    priority,
                    ..
                } => {
                    self.arrivals += 1;
                    let conv = Conv {
                        group: self.group_index[group],
                        priority: *priority,
                        seq: self.arrivals,
                        state: State::Routing,
                        excluded: Vec::new(),
                    };
                    self.convs.insert(conversation.clone(), conv);
                }
                Event::ConversationQueued { conversation, .. } => {
                    self.enqueue(conversation);
                }
                Event::ConversationAssigned {
                    conversation,
                    agent,
                    ..
                } => {
                    if self.convs[conversation].state == State::Queued {
                        self.dequeue(conversation);
                    }
                    let a = self.agent_index[agent];
                    self.assign(conversation, a, &mut Vec::new());
                }
                Event::AgentStatusChanged { agent, to, .. } => {
                    let a = self.agent_index[agent];
                    self.agents[a].online = *to == AgentStatus::Online;
                }
                Event::GroupRegistered { .. }
                | Event::AgentRegistered { .. }
                | Event::QueuePositionChanged { .. } => {}
                other => panic!("mirror does not replay {other:?}"),
            }
        }
    }

    fn register_group(&mut self, group: &GroupId) {
        self.group_index.insert(group.clone(), self.queues.len());
        self.queues.push(Vec::new());
    }

    fn register_agent(&mut self, spec: &switchboard::AgentSpec) -> usize {
        let a = self.agents.len();
        self.agents.push(Agent {
            id: spec.agent.clone(),
            online: spec.status == AgentStatus::Online,
            load: 0,
            limit: match spec.limit {
                Limit::Fixed(n) => n,
                _ => 5,
            },
            last: 0,
            groups: spec
                .groups
                .iter()
                .map(|m| self.group_index[&m.group])
                .collect(),
        });
        self.agent_index.insert(spec.agent.clone(), a);
        a
    }

    fn available(&self, a: usize) -> bool {
        let agent = &self.agents[a];
        agent.online && agent.load < agent.limit
    }

    fn set_state(&mut self, id: &ConversationId, state: State) {
        self.convs.get_mut(id).expect("known conversation").state = state;
    }

    /// Scans every agent for the least recently assigned available member of the group.
    fn route(&mut self, id: &ConversationId, out: &mut Decisions) {
        let conv = &self.convs[id];
        let (g, excluded) = (conv.group, &conv.excluded);
        let mut best: Option<usize> = None;
        for (i, agent) in self.agents.iter().enumerate() {
            if agent.online
                && agent.load < agent.limit
                && agent.groups.contains(&g)
                && !excluded.contains(&i)
                && best.is_none_or(|b| agent.last < self.agents[b].last)
            {
                best = Some(i);
            }
        }
        match best {
            Some(a) => self.assign(id, a, out),
            None => self.enqueue(id),
        }
    }

    fn assign(&mut self, id: &ConversationId, a: usize, out: &mut Decisions) {
        self.assignments += 1;
        let agent = &mut self.agents[a];
        agent.load += 1;
        agent.last = self.assignments;
        self.set_state(id, State::Active(a));
        out.push((id.clone(), a));
    }

    fn enqueue(&mut self, id: &ConversationId) {
        let conv = self.convs.get_mut(id).expect("known conversation");
        conv.state = State::Queued;
        self.queues[conv.group].push(Waiting {
            priority: conv.priority,
            seq: conv.seq,
            conv: id.clone(),
            excluded: conv.excluded.clone(),
        });
    }

    fn dequeue(&mut self, id: &ConversationId) {
        let conv = &self.convs[id];
        let queue = &mut self.queues[conv.group];
        let pos = queue
            .iter()
            .position(|w| w.seq == conv.seq)
            .expect("a queued conversation is in its group's queue");
        queue.remove(pos);
    }

    /// While the agent has room: scans every queue of its groups for the best conversation it
    /// may take, and takes it.
    fn drain(&mut self, a: usize, out: &mut Decisions) {
        while self.available(a) {
            let mut best: Option<(usize, usize)> = None;
            for &g in &self.agents[a].groups {
                for (pos, w) in self.queues[g].iter().enumerate() {
                    if !w.excluded.contains(&a)
                        && best.is_none_or(|(bg, bp)| w.before(&self.queues[bg][bp]))
                    {
                        best = Some((g, pos));
                    }
                }
            }
            let Some((g, pos)) = best else {
                return;
            };
            let taken = self.queues[g].remove(pos);
            self.assign(&taken.conv, a, out);
        }
    }
}
