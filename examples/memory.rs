//! Memory per agent and per conversation, measured with a counting global allocator.
//!
//! ```sh
//! cargo run --release --example memory
//! ```
//!
//! Every figure is the growth of the live heap while the engine takes on that many agents or
//! conversations, divided by their number: so it includes the engine's indexes and their spare
//! capacity (hash tables and vectors grow by doubling), not only the records. "requested" is
//! what the engine asked the allocator for; "with malloc" adds glibc's per-chunk overhead (a
//! chunk is the request plus 8 bytes, rounded up to 16, at least 32). Ids are as long as a
//! host's usually are: 36 bytes (a UUID) for conversations and visitors, 12 for agents.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use chrono::{DateTime, TimeDelta, Utc};
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, ConversationId, EndReason, Engine, GroupSpec,
};

/// Counts the live bytes requested, and the live bytes of glibc chunks they take.
struct Counting;

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static CHUNKS: AtomicUsize = AtomicUsize::new(0);

fn chunk(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

fn grew(size: usize) {
    REQUESTED.fetch_add(size, Relaxed);
    CHUNKS.fetch_add(chunk(size), Relaxed);
}

fn shrank(size: usize) {
    REQUESTED.fetch_sub(size, Relaxed);
    CHUNKS.fetch_sub(chunk(size), Relaxed);
}

// SAFETY: every call is passed through to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through this allocator).
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The live heap now: (requested, in glibc chunks).
fn live() -> (usize, usize) {
    (REQUESTED.load(Relaxed), CHUNKS.load(Relaxed))
}

const GROUPS: usize = 10;

fn conv_id(n: usize) -> ConversationId {
    ConversationId::new(format!("c{n:035}"))
}

fn visitor_id(n: usize) -> String {
    format!("v{n:035}")
}

fn agent_id(i: usize) -> String {
    format!("agent-{i:06}")
}

fn group_id(g: usize) -> String {
    format!("group-{g:02}")
}

/// A desk: the engine, its clock, and how many conversations arrived so far.
struct Desk {
    engine: Engine,
    now: DateTime<Utc>,
    arrived: usize,
}

impl Desk {
    fn new() -> Self {
        let mut desk = Desk {
            engine: Engine::new(Config::default()).expect("the default config is valid"),
            now: "2026-11-21T08:00:00Z".parse().expect("a valid date"),
            arrived: 0,
        };
        for g in 0..GROUPS {
            desk.run(Command::RegisterGroup(GroupSpec::new(group_id(g))));
        }
        desk
    }

    fn run(&mut self, command: Command) {
        self.now += TimeDelta::milliseconds(100);
        let _ = self
            .engine
            .handle(self.now, command)
            .expect("valid commands");
    }

    /// `n` agents, each in 3 groups, limit 5.
    fn agents(&mut self, n: usize, status: AgentStatus) {
        for i in 0..n {
            let mut spec = AgentSpec::new(agent_id(i)).status(status.clone()).limit(5);
            for k in 0..3 {
                spec = spec.group(group_id((i + k) % GROUPS));
            }
            self.run(Command::RegisterAgent(spec));
        }
    }

    /// `n` arrivals, each from a new visitor, round robin over the groups.
    fn arrivals(&mut self, n: usize) {
        for _ in 0..n {
            let k = self.arrived;
            self.arrived += 1;
            let arrival = Arrival::new(conv_id(k), visitor_id(k), group_id(k % GROUPS));
            self.run(Command::VisitorArrives(arrival));
        }
    }
}

struct Row {
    what: String,
    count: usize,
    requested: f64,
    chunks: f64,
    target: &'static str,
}

/// Runs `grow` and reports the live heap's growth per item.
fn per_item(what: String, count: usize, target: &'static str, grow: impl FnOnce()) -> Row {
    let before = live();
    grow();
    Row {
        target,
        ..since(&what, count, before)
    }
}

/// The live heap's growth per item since `before`.
fn since(what: &str, count: usize, before: (usize, usize)) -> Row {
    let after = live();
    let per = |a: usize, b: usize| (a as f64 - b as f64) / count as f64;
    Row {
        what: what.to_string(),
        count,
        requested: per(after.0, before.0),
        chunks: per(after.1, before.1),
        target: "-",
    }
}

fn main() {
    let mut rows = Vec::new();
    for agents in [10_000, 100_000] {
        // Agents Online and idle, then filled to their limit: per agent, per active conversation.
        let mut desk = Desk::new();
        rows.push(per_item(
            format!("agent (Online, 3 of {GROUPS} groups, limit 5)"),
            agents,
            "<= 2048",
            || desk.agents(agents, AgentStatus::Online),
        ));
        let active = agents * 5;
        let before = live();
        rows.push(per_item(
            format!("active conversation ({agents} agents full)"),
            active,
            "-",
            || desk.arrivals(active),
        ));
        // End and forget them all; what stays is each visitor's last agent.
        let ids: Vec<ConversationId> = (0..active).map(conv_id).collect();
        desk.run(Command::EndConversations {
            conversations: ids.clone(),
            reason: EndReason::Agent,
        });
        desk.run(Command::Forget { conversations: ids });
        rows.push(since(
            "ended and forgotten conversation (what stays)",
            active,
            before,
        ));
        // Forget the visitors too: what stays now is room, not data.
        for k in 0..active {
            desk.run(Command::ForgetVisitor {
                visitor: visitor_id(k).into(),
            });
        }
        rows.push(since(
            "… and its visitor forgotten (what stays)",
            active,
            before,
        ));
        // What stays is room kept for reuse: as many new conversations fill it again.
        rows.push(per_item(
            format!("active conversation, after as many were forgotten ({agents} agents full)"),
            active,
            "-",
            || desk.arrivals(active),
        ));
    }
    for waiting in [100_000, 1_000_000] {
        // No agent can take work (all Busy): every arrival waits.
        let mut desk = Desk::new();
        desk.agents(1_000, AgentStatus::Busy);
        rows.push(per_item(
            format!("waiting conversation ({waiting} waiting in {GROUPS} queues)"),
            waiting,
            "<= 512",
            || desk.arrivals(waiting),
        ));
        if waiting == 100_000 {
            let json = serde_json::to_vec(&desk.engine.snapshot()).expect("serializable");
            println!(
                "snapshot of {waiting} waiting conversations: {} bytes of JSON, {:.0} per conversation\n",
                json.len(),
                json.len() as f64 / waiting as f64
            );
        }
    }

    println!(
        "| what | count | bytes each (requested) | bytes each (with malloc) | target |\n|---|---:|---:|---:|---|"
    );
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {} |",
            row.what, row.count, row.requested, row.chunks, row.target
        );
    }
}
