//! Prometheus metrics (R-HS4), served at `GET /metrics` in the text format.
//!
//! Counters and the commit histogram are updated where things happen (the writer, the
//! connection loop); the desk's gauges (queues, waits, agents, service level) are read from
//! the read model at each scrape, so a scrape costs O(groups + agents) and never the writer.
//!
//! | metric | what |
//! |---|---|
//! | `switchboard_commands_total{outcome}` | commands handled: `accepted` (journaled), `refused` (4xx) |
//! | `switchboard_journal_entries_total` | journal entries committed (accepted commands and the ticks before them) |
//! | `switchboard_commit_seconds` | histogram: one group commit, its disk sync included |
//! | `switchboard_queue_length{group}` | conversations waiting in the group's queue |
//! | `switchboard_longest_wait_seconds{group}` | the longest current wait among the group's own conversations |
//! | `switchboard_agents{status}` | agents by status |
//! | `switchboard_service_level_ratio{window}` | answered within target over waits ended, `today` and `30m` |
//! | `switchboard_waits_ended{window}` | the service level's denominator |
//! | `switchboard_journal_seq`, `switchboard_read_model_seq`, `switchboard_snapshot_seq` | where the writer, the read model and the latest snapshot stand |
//! | `switchboard_conversations_known` | conversations in memory (open and finished, until forgotten) |
//! | `switchboard_open_connections`, `switchboard_requests_in_flight` | the connection loop |
//! | `switchboard_writer_backlog` | commands waiting for the writer |
//!
//! Commands per second: `rate(switchboard_commands_total{outcome="accepted"}[1m])`.

use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use switchboard::AgentStatus;

use crate::read::View;

/// Every metric, registered once.
pub struct Metrics {
    registry: Registry,
    pub commands: IntCounterVec,
    pub entries: IntCounter,
    pub commit_seconds: Histogram,
    pub open_connections: IntGauge,
    pub requests_in_flight: IntGauge,
    queue_length: IntGaugeVec,
    longest_wait: GaugeVec,
    agents: IntGaugeVec,
    service_level: GaugeVec,
    waits_ended: IntGaugeVec,
    journal_seq: IntGauge,
    read_seq: IntGauge,
    pub snapshot_seq: IntGauge,
    conversations: IntGauge,
    backlog: IntGauge,
    target: Gauge,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help)
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let metrics = Metrics {
            commands: IntCounterVec::new(
                opts(
                    "switchboard_commands_total",
                    "Commands handled, by outcome.",
                ),
                &["outcome"],
            )
            .expect("a valid metric"),
            entries: IntCounter::with_opts(opts(
                "switchboard_journal_entries_total",
                "Journal entries committed.",
            ))
            .expect("a valid metric"),
            commit_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "switchboard_commit_seconds",
                    "The duration of one group commit, its disk sync included.",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
                ]),
            )
            .expect("a valid metric"),
            open_connections: IntGauge::with_opts(opts(
                "switchboard_open_connections",
                "Connections open.",
            ))
            .expect("a valid metric"),
            requests_in_flight: IntGauge::with_opts(opts(
                "switchboard_requests_in_flight",
                "Requests being answered (an open event stream counts).",
            ))
            .expect("a valid metric"),
            queue_length: IntGaugeVec::new(
                opts(
                    "switchboard_queue_length",
                    "Conversations waiting in the group's queue.",
                ),
                &["group"],
            )
            .expect("a valid metric"),
            longest_wait: GaugeVec::new(
                opts(
                    "switchboard_longest_wait_seconds",
                    "The longest current wait among the group's own waiting conversations.",
                ),
                &["group"],
            )
            .expect("a valid metric"),
            agents: IntGaugeVec::new(opts("switchboard_agents", "Agents by status."), &["status"])
                .expect("a valid metric"),
            service_level: GaugeVec::new(
                opts(
                    "switchboard_service_level_ratio",
                    "Conversations answered within the target wait, over the waits that ended.",
                ),
                &["window"],
            )
            .expect("a valid metric"),
            waits_ended: IntGaugeVec::new(
                opts(
                    "switchboard_waits_ended",
                    "Waits that ended (answered or given up).",
                ),
                &["window"],
            )
            .expect("a valid metric"),
            journal_seq: IntGauge::with_opts(opts(
                "switchboard_journal_seq",
                "The last journal entry committed.",
            ))
            .expect("a valid metric"),
            read_seq: IntGauge::with_opts(opts(
                "switchboard_read_model_seq",
                "The last journal entry the read model applied.",
            ))
            .expect("a valid metric"),
            snapshot_seq: IntGauge::with_opts(opts(
                "switchboard_snapshot_seq",
                "The journal entry of the latest snapshot written.",
            ))
            .expect("a valid metric"),
            conversations: IntGauge::with_opts(opts(
                "switchboard_conversations_known",
                "Conversations in memory, open and finished until forgotten.",
            ))
            .expect("a valid metric"),
            backlog: IntGauge::with_opts(opts(
                "switchboard_writer_backlog",
                "Commands waiting for the writer.",
            ))
            .expect("a valid metric"),
            target: Gauge::with_opts(opts(
                "switchboard_service_level_target_seconds",
                "The wait within which an answer counts toward the service level.",
            ))
            .expect("a valid metric"),
            registry,
        };
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(metrics.commands.clone()),
            Box::new(metrics.entries.clone()),
            Box::new(metrics.commit_seconds.clone()),
            Box::new(metrics.open_connections.clone()),
            Box::new(metrics.requests_in_flight.clone()),
            Box::new(metrics.queue_length.clone()),
            Box::new(metrics.longest_wait.clone()),
            Box::new(metrics.agents.clone()),
            Box::new(metrics.service_level.clone()),
            Box::new(metrics.waits_ended.clone()),
            Box::new(metrics.journal_seq.clone()),
            Box::new(metrics.read_seq.clone()),
            Box::new(metrics.snapshot_seq.clone()),
            Box::new(metrics.conversations.clone()),
            Box::new(metrics.backlog.clone()),
            Box::new(metrics.target.clone()),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics
    }

    /// Sets the desk's gauges from the read model, as of `now`.
    pub fn observe(&self, view: &View, now: DateTime<Utc>, committed: u64, backlog: usize) {
        let engine = &view.engine;
        self.queue_length.reset();
        self.longest_wait.reset();
        for group in engine.groups() {
            let waiting = engine.group(group).map_or(0, |g| g.waiting);
            self.queue_length
                .with_label_values(&[group.as_str()])
                .set(i64::try_from(waiting).unwrap_or(i64::MAX));
            let longest = view
                .projection
                .longest_waiting(group)
                .map_or(0.0, |(since, _)| seconds(now - since));
            self.longest_wait
                .with_label_values(&[group.as_str()])
                .set(longest);
        }
        self.agents.reset();
        for agent in engine.agents() {
            if let Some(status) = engine.agent_status(agent) {
                self.agents.with_label_values(&[&status_name(status)]).inc();
            }
        }
        let settings = &view.settings;
        for (window, tally) in [
            ("today", view.projection.today(now, settings)),
            ("30m", view.projection.recent(now)),
        ] {
            self.waits_ended
                .with_label_values(&[window])
                .set(i64::try_from(tally.ended).unwrap_or(i64::MAX));
            match tally.level() {
                Some(level) => self
                    .service_level
                    .with_label_values(&[window])
                    .set(level / 100.0),
                None => {
                    let _ = self.service_level.remove_label_values(&[window]);
                }
            }
        }
        self.target.set(settings.target.as_secs_f64());
        self.journal_seq
            .set(i64::try_from(committed).unwrap_or(i64::MAX));
        self.read_seq
            .set(i64::try_from(view.seq).unwrap_or(i64::MAX));
        self.conversations
            .set(i64::try_from(view.projection.sizes().0).unwrap_or(i64::MAX));
        self.backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
    }

    /// Every metric in Prometheus's text format.
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("metrics encode to a Vec");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// A status's name as a label: the built-in ones by name, a custom one by its own.
pub fn status_name(status: &AgentStatus) -> String {
    match status {
        AgentStatus::Custom(name) => name.clone(),
        other => format!("{other:?}"),
    }
}

fn seconds(delta: chrono::TimeDelta) -> f64 {
    delta.num_milliseconds().max(0) as f64 / 1000.0
}
