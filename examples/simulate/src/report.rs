//! The report a desk manager reads: one column per run, one line per figure; and the Erlang C
//! check beside the simulated figures, with the noise a run of this length has.

use std::fmt::Write as _;
use std::time::Duration;

use switchboard::{ReceptionMode, Strategy};

use crate::erlang::Prediction;
use crate::scenario::{ErlangFit, Scenario};
use crate::sim::{BATCHES, KindResult, RunResult, SkillResult};
use crate::stats::{half_width_95, jain, mean, percentile};

pub fn strategy_name(strategy: Strategy) -> String {
    strategy.to_string()
}

pub fn mode_name(mode: ReceptionMode) -> String {
    mode.to_string()
}

/// 12,345
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn count_share(part: u64, whole: u64) -> String {
    format!("{} ({})", count(part), percent(part, whole))
}

/// A wait in seconds, as a person reads it: 0 s, 14.2 s, 3 m 05 s, 1 h 02 m.
pub fn wait(secs: f64) -> String {
    if secs < 0.05 {
        "0 s".into()
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} m {:02} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {:02} m", m / 60, m % 60)
    }
}

/// A stretch of time: minutes, hours or days.
fn span(secs: f64) -> String {
    if secs >= 2.0 * 86_400.0 {
        format!("{:.1} days", secs / 86_400.0)
    } else {
        wait(secs)
    }
}

fn rate(commands: u64, time: Duration) -> String {
    let secs = time.as_secs_f64();
    if secs <= 0.0 {
        return "-".into();
    }
    let per_sec = commands as f64 / secs;
    if per_sec >= 1e6 {
        format!("{:.2} M/s", per_sec / 1e6)
    } else {
        format!("{:.0} k/s", per_sec / 1e3)
    }
}

/// The figures of one run, in the order of [`LABELS`].
pub fn figures(r: &RunResult) -> Vec<String> {
    let n = r.conversations;
    let waits = &r.waits;
    let q = |p: f64| percentile(waits, p).map_or("-".into(), wait);
    let answered: Vec<f64> = r.per_agent.iter().map(|(_, a, _)| *a as f64).collect();
    let per_hour: Vec<f64> = r
        .per_agent
        .iter()
        .filter(|(_, _, online)| *online > 0)
        .map(|(_, a, online)| *a as f64 / (*online as f64 / 3_600_000.0))
        .collect();
    let fewest = answered.iter().copied().fold(f64::INFINITY, f64::min);
    let most = answered.iter().copied().fold(0.0, f64::max);
    let index = |v: &[f64]| jain(v).map_or("-".into(), |j| format!("{j:.3}"));
    vec![
        count(n),
        count_share(r.answered, n),
        count_share(r.abandoned, n),
        count_share(r.left_message, n),
        count_share(r.turned_away, n),
        count(r.unfinished),
        percent(r.within_20, n),
        percent(r.within_60, n),
        percent(r.waited, n),
        mean(waits).map_or("-".into(), wait),
        q(0.5),
        q(0.9),
        q(0.99),
        if r.staffed_slot_ms > 0.0 {
            format!("{:.1}%", 100.0 * r.busy_slot_ms / r.staffed_slot_ms)
        } else {
            "-".into()
        },
        format!("{} / {}", count(fewest as u64), count(most as u64)),
        format!("{} / {}", index(&answered), index(&per_hour)),
        count(r.counters.redirects),
        count(r.counters.assigned_manually),
        count(r.counters.sla_breaches),
        count(r.counters.snoozes),
        rate(r.commands, r.engine_time),
    ]
}

/// The report's lines, each explained in the README's "Reading the report".
pub const LABELS: [&str; 21] = [
    "Conversations",
    "  answered by an agent",
    "  abandoned in the queue",
    "  left a message",
    "  turned away, no message",
    "  still waiting at the end",
    "Service level: answered within 20 s",
    "Service level: answered within 60 s",
    "Had to wait at all",
    "Wait until answered: average",
    "  median (p50)",
    "  90th percentile (p90)",
    "  99th percentile (p99)",
    "Agent occupancy",
    "Answered per agent: fewest / most",
    "Fairness (Jain): per agent / per hour online",
    "Redirects",
    "  stuck at the redirect limit, assigned by an admin",
    "SLA breaches",
    "Snoozes",
    "Engine speed (commands per second)",
];

/// The table, one column per run.
pub fn table(results: &[RunResult]) -> String {
    let columns: Vec<Vec<String>> = results.iter().map(figures).collect();
    let label_width = LABELS.iter().map(|l| l.len()).max().unwrap_or(0);
    // Each column is as wide as its widest figure or the longest word of its heading; the
    // heading wraps onto as many lines as it needs.
    let widths: Vec<usize> = results
        .iter()
        .zip(&columns)
        .map(|(r, col)| {
            col.iter()
                .map(|v| v.chars().count())
                .chain(r.variant.label.split(' ').map(str::len))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let headings: Vec<Vec<String>> = results
        .iter()
        .zip(&widths)
        .map(|(r, w)| wrap(&r.variant.label, *w))
        .collect();
    let heading_lines = headings.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = String::new();
    if results.len() > 1 {
        for line in 0..heading_lines {
            let _ = write!(out, "{:label_width$}", "");
            for (heading, w) in headings.iter().zip(&widths) {
                // Bottom-aligned, so the last line of every heading sits on the same row.
                let skip = heading_lines - heading.len();
                let text = line.checked_sub(skip).map_or("", |i| heading[i].as_str());
                let _ = write!(out, "  {text:>w$}");
            }
            out.push('\n');
        }
    }
    for (i, label) in LABELS.iter().enumerate() {
        let _ = write!(out, "{label:label_width$}");
        for (col, w) in columns.iter().zip(&widths) {
            let _ = write!(out, "  {:>w$}", col[i]);
        }
        out.push('\n');
    }
    out
}

/// The lines of the table by kind of work, each explained in docs/SIMULATE.md.
pub const KIND_LABELS: [&str; 7] = [
    "Conversations",
    "  answered by an agent",
    "  abandoned in the queue",
    "Service level: answered within 20 s",
    "Wait until answered: average",
    "  90th percentile (p90)",
    "Occupancy (share of staffed units)",
];

/// One kind's figures, in the order of [`KIND_LABELS`]; occupancy is the share of the Online
/// agents' capacity (in units) this kind held, over the measured period.
pub fn kind_figures(k: &KindResult, staffed_unit_ms: f64) -> Vec<String> {
    let n = k.conversations;
    let within_20 = k.waits.iter().filter(|w| **w <= 20.0).count() as u64;
    vec![
        count(n),
        count_share(k.answered, n),
        count_share(k.abandoned, n),
        percent(within_20, n),
        mean(&k.waits).map_or("-".into(), wait),
        percentile(&k.waits, 0.9).map_or("-".into(), wait),
        if staffed_unit_ms > 0.0 {
            format!("{:.1}%", 100.0 * k.busy_unit_ms / staffed_unit_ms)
        } else {
            "-".into()
        },
    ]
}

/// The run's figures split by kind of work, one column per kind, headed `title`; `None` on a
/// desk without kinds.
pub fn kinds_table(r: &RunResult, title: &str) -> Option<String> {
    if r.kinds.is_empty() {
        return None;
    }
    let columns: Vec<(&str, Vec<String>)> = r
        .kinds
        .iter()
        .map(|k| (k.kind.as_str(), kind_figures(k, r.staffed_slot_ms)))
        .collect();
    Some(split_table(title, &KIND_LABELS, &columns))
}

/// The lines of the table by requirement set, each explained in docs/SIMULATE.md.
pub const SKILL_LABELS: [&str; 8] = [
    "Conversations",
    "  answered by an agent",
    "  abandoned in the queue",
    "Service level: answered within 20 s",
    "Wait until answered: average",
    "Answered under the first stage",
    "  after the requirements relaxed",
    "Agent's level on required skills: average",
];

/// One requirement set's figures, in the order of [`SKILL_LABELS`]: the stage shares are of
/// the answered conversations; the level is the mean of the answering agents' levels on each
/// skill the stage in force required.
pub fn skill_figures(s: &SkillResult) -> Vec<String> {
    let n = s.conversations;
    let within_20 = s.waits.iter().filter(|w| **w <= 20.0).count() as u64;
    vec![
        count(n),
        count_share(s.answered, n),
        count_share(s.abandoned, n),
        percent(within_20, n),
        mean(&s.waits).map_or("-".into(), wait),
        count_share(s.first_stage, s.answered),
        count_share(s.relaxed, s.answered),
        if s.levels > 0 {
            format!("{:.1}", s.level_sum as f64 / s.levels as f64)
        } else {
            "-".into()
        },
    ]
}

/// The run's figures split by requirement set (the first stage's required skills), one
/// column per set, headed `title`; `None` when no stream has stages.
pub fn skills_table(r: &RunResult, title: &str) -> Option<String> {
    if r.skills.is_empty() {
        return None;
    }
    let columns: Vec<(&str, Vec<String>)> = r
        .skills
        .iter()
        .map(|s| (s.label.as_str(), skill_figures(s)))
        .collect();
    Some(split_table(title, &SKILL_LABELS, &columns))
}

/// A table of one run split into parts (kinds, requirement sets): `title` above the labels,
/// one right-aligned column per part, headed by its name.
fn split_table(title: &str, labels: &[&str], columns: &[(&str, Vec<String>)]) -> String {
    let label_width = labels
        .iter()
        .map(|l| l.len())
        .chain([title.len()])
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = columns
        .iter()
        .map(|(name, col)| {
            col.iter()
                .map(|v| v.chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{title:label_width$}");
    for ((name, _), w) in columns.iter().zip(&widths) {
        let _ = write!(out, "  {name:>w$}");
    }
    out.push('\n');
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(out, "{label:label_width$}");
        for ((_, col), w) in columns.iter().zip(&widths) {
            let _ = write!(out, "  {:>w$}", col[i]);
        }
        out.push('\n');
    }
    out
}

/// Words joined into lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// The heading: what was simulated.
pub fn heading(sc: &Scenario, source: &str, results: &[RunResult]) -> String {
    let agents = sc.agent_ids().len();
    let mut out = format!("switchboard simulate: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(out, "  {}", sc.description.trim());
    }
    let days = if sc.days == 1 {
        format!("{}", sc.date.0)
    } else {
        format!("{} days from {}", sc.days, sc.date.0)
    };
    let _ = writeln!(
        out,
        "  {source} · seed {} · {days}, visitors {} to {} UTC · {} group{} · {agents} agent{}",
        sc.seed,
        sc.open,
        sc.close,
        sc.groups.len(),
        if sc.groups.len() == 1 { "" } else { "s" },
        if agents == 1 { "" } else { "s" },
    );
    if results.len() == 1 {
        let groups: Vec<String> = sc
            .groups
            .iter()
            .map(|g| format!("{} {}", g.id, strategy_name(g.strategy)))
            .collect();
        let _ = writeln!(
            out,
            "  {} reception · {}",
            mode_name(sc.engine.mode),
            groups.join(", ")
        );
    }
    if !sc.engine.kinds.is_empty() {
        let kinds: Vec<String> = sc
            .engine
            .kinds
            .iter()
            .map(|k| {
                let blocks: Vec<&str> = k.blocks.iter().map(|b| b.as_str()).collect();
                let mut text = format!("{} {}", k.kind, k.cost);
                if let Some(max) = k.max_per_agent {
                    let _ = write!(text, " (at most {max})");
                }
                if !blocks.is_empty() {
                    let _ = write!(text, " (blocks {})", blocks.join(", "));
                }
                text
            })
            .collect();
        let _ = writeln!(out, "  kinds, units each: {}", kinds.join(" · "));
    }
    if !sc.engine.skills.is_empty() {
        let skills: Vec<&str> = sc.engine.skills.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "  skills: {}", skills.join(", "));
    }
    if sc.warmup_minutes > 0 {
        let _ = writeln!(
            out,
            "  figures leave out the first {} minutes (warm-up)",
            sc.warmup_minutes
        );
    }
    let wall: Duration = results.iter().map(|r| r.wall_time).sum();
    let commands: u64 = results.iter().map(|r| r.commands).sum();
    let _ = writeln!(
        out,
        "  {} engine commands in {:.2} s of wall time",
        count(commands),
        wall.as_secs_f64()
    );
    out
}

/// Erlang C beside the simulation, with the noise expected from this run's length, or why it
/// does not apply.
pub fn erlang_section(fit: &Result<ErlangFit, String>, r: &RunResult) -> String {
    let fit = match fit {
        Ok(fit) => fit,
        Err(reason) => {
            return format!("Erlang C check: does not apply here ({reason}).\n");
        }
    };
    let Some(p) = Prediction::new(fit.agents, fit.per_hour, fit.handling_secs) else {
        return "Erlang C check: the desk is overloaded.\n".into();
    };
    let n = r.conversations.max(1) as f64;
    let b = &r.batches;
    let rows = [
        (
            "P(wait), the share that waits",
            p.p_wait,
            r.waited as f64 / n,
            half_width_95(&b.p_wait()),
            true,
        ),
        (
            "Mean wait, all visitors",
            p.mean_wait,
            r.waits.iter().sum::<f64>() / n,
            half_width_95(&b.mean_wait()),
            false,
        ),
        (
            "Answered within 20 s",
            p.answered_within(20.0),
            r.within_20 as f64 / n,
            half_width_95(&b.service_level_20()),
            true,
        ),
        (
            "Agent occupancy",
            p.occupancy,
            if r.staffed_slot_ms > 0.0 {
                r.busy_slot_ms / r.staffed_slot_ms
            } else {
                0.0
            },
            half_width_95(&b.occupancy()),
            true,
        ),
    ];
    let show = |v: f64, share: bool| {
        if share {
            format!("{:.2}%", 100.0 * v)
        } else {
            format!("{v:.1} s")
        }
    };
    let noise = |v: f64, share: bool| {
        if share {
            format!("±{:.2} pt", 100.0 * v)
        } else {
            format!("±{v:.1} s")
        }
    };
    let mut out = format!(
        "Erlang C check: {} agents of limit 1, Poisson arrivals at {}/h, exponential handling of {} on average, nobody abandons\n  offered traffic {:.2} Erlangs; {} conversations measured, cut into {BATCHES} batches of {} for the noise\n\n",
        fit.agents,
        fit.per_hour,
        wait(fit.handling_secs),
        p.traffic,
        count(r.conversations),
        span(r.batches_width_secs()),
    );
    let _ = writeln!(
        out,
        "  {:32}{:>10}{:>11}{:>13}   verdict",
        "", "Erlang C", "simulated", "95% noise"
    );
    let mut all_agree = true;
    for (label, predicted, simulated, half, share) in rows {
        let (noise_text, verdict) = match half {
            Some(h) => {
                let agrees = (simulated - predicted).abs() <= h;
                all_agree &= agrees;
                let z = if h > 0.0 {
                    (simulated - predicted) / (h / 1.96)
                } else {
                    0.0
                };
                (
                    noise(h, share),
                    format!(
                        "{} (off by {:.1} standard errors)",
                        if agrees { "agrees" } else { "OUTSIDE" },
                        z.abs()
                    ),
                )
            }
            None => ("-".into(), "too short to tell".into()),
        };
        let _ = writeln!(
            out,
            "  {label:32}{:>10}{:>11}{:>13}   {verdict}",
            show(predicted, share),
            show(simulated, share),
            noise_text,
        );
    }
    let _ = writeln!(
        out,
        "\n  \"95% noise\" is the half-width of the 95% confidence interval from batch means: the\n  run is cut into {BATCHES} equal stretches, and the spread of their figures shows how far this\n  run's figure may lie from the truth: the true value lies within it 19 times in 20.\n  Quadruple the days to halve it. {}",
        if all_agree {
            "Every figure agrees with Erlang C within it."
        } else {
            "A figure outside it is a 1-in-20 event per line; try another seed before suspecting the engine."
        }
    );
    out
}

impl RunResult {
    /// The length of one batch, in seconds.
    pub fn batches_width_secs(&self) -> f64 {
        self.batch_width_ms as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_a_person_writes_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(wait(0.0), "0 s");
        assert_eq!(wait(14.25), "14.2 s");
        assert_eq!(wait(185.0), "3 m 05 s");
        assert_eq!(wait(3720.0), "1 h 02 m");
    }

    #[test]
    fn the_table_by_kind_splits_each_figure() {
        let kind = |name: &str, n, answered, abandoned, waits: Vec<f64>, busy| KindResult {
            kind: name.into(),
            conversations: n,
            answered,
            abandoned,
            waits,
            busy_unit_ms: busy,
        };
        let chat = kind(
            "chat",
            10,
            8,
            2,
            vec![0.0, 0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 90.0],
            300.0,
        );
        let voice = kind("voice", 4, 0, 4, vec![], 0.0);
        // 8 waits: 6 within 20 s of 10 conversations; mean 170 / 8; p90 is the 8th (nearest
        // rank of 7.2); 300 of 1,000 staffed unit-ms.
        assert_eq!(
            kind_figures(&chat, 1000.0),
            [
                "10",
                "8 (80.0%)",
                "2 (20.0%)",
                "60.0%",
                "21.2 s",
                "1 m 30 s",
                "30.0%"
            ]
        );
        assert_eq!(
            kind_figures(&voice, 0.0),
            ["4", "0 (0.0%)", "4 (100.0%)", "0.0%", "-", "-", "-"]
        );
        let sc = crate::scenario::parse(
            "k.toml",
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../scenarios/multichannel.toml"),
            )
            .expect("shipped"),
        )
        .expect("valid");
        let bar = indicatif::ProgressBar::hidden();
        let mut sc_short = sc.clone();
        sc_short.close = crate::scenario::ClockTime(sc.open.0 + 30);
        sc_short.groups.iter_mut().for_each(|g| {
            if let Some(h) = &mut g.arrivals.hourly {
                h.truncate(1);
            }
        });
        let mut r =
            crate::sim::run(&sc_short, &crate::sim::Variant::as_written(), &bar).expect("runs");
        r.kinds = vec![chat, voice];
        r.staffed_slot_ms = 1000.0;
        let table = kinds_table(&r, "By kind of work").expect("kinds");
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + KIND_LABELS.len(), "{table}");
        let words = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
        assert_eq!(words(0), ["By", "kind", "of", "work", "chat", "voice"]);
        assert!(lines[2].starts_with("  answered by an agent"), "{table}");
        assert_eq!(words(2)[4..], ["8", "(80.0%)", "0", "(0.0%)"]);
        assert_eq!(words(7)[5..], ["30.0%", "0.0%"]);
        // Columns are right-aligned under their kind.
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
        // A desk without kinds has no such table.
        r.kinds.clear();
        assert_eq!(kinds_table(&r, "By kind of work"), None);
    }

    /// R-SK2: the table by skill splits answered conversations by the stage that applied.
    #[test]
    fn the_table_by_skill_splits_by_the_stage_that_applied() {
        let set = SkillResult {
            label: "german+billing".into(),
            conversations: 10,
            answered: 8,
            abandoned: 2,
            waits: vec![0.0, 0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 90.0],
            first_stage: 6,
            relaxed: 2,
            level_sum: 105,
            levels: 14,
        };
        assert_eq!(
            skill_figures(&set),
            [
                "10",
                "8 (80.0%)",
                "2 (20.0%)",
                "60.0%",
                "21.2 s",
                "6 (75.0%)",
                "2 (25.0%)",
                "7.5"
            ]
        );
        let none = SkillResult {
            label: "english+tech".into(),
            conversations: 3,
            abandoned: 3,
            ..SkillResult::default()
        };
        assert_eq!(
            skill_figures(&none),
            [
                "3",
                "0 (0.0%)",
                "3 (100.0%)",
                "0.0%",
                "-",
                "0 (-)",
                "0 (-)",
                "-"
            ]
        );
        let columns = [
            ("german+billing", skill_figures(&set)),
            ("english+tech", skill_figures(&none)),
        ];
        let table = split_table("By skill", &SKILL_LABELS, &columns);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + SKILL_LABELS.len(), "{table}");
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["By", "skill", "german+billing", "english+tech"]
        );
        assert!(
            lines[6].starts_with("Answered under the first stage"),
            "{table}"
        );
        assert!(lines[6].ends_with("6 (75.0%)         0 (-)"), "{table}");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
    }

    #[test]
    fn headings_wrap_at_word_boundaries() {
        assert_eq!(
            wrap("least recently assigned", 14),
            ["least recently", "assigned"]
        );
        assert_eq!(wrap("round robin", 14), ["round robin"]);
        assert_eq!(wrap("asynchronous mode", 5), ["asynchronous", "mode"]);
    }
}
