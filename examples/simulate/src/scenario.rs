//! A scenario file: the desk (groups, agents, shifts, breaks), the demand (arrivals by hour,
//! handling times, patience) and the engine's settings, read from TOML or JSON with serde and
//! then checked as a whole. Every problem is reported as `field.path: what is wrong`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use switchboard::{Config, Overflow, ReceptionMode, SkillLevel, Stage, Strategy};

/// A whole scenario, as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A title for the report.
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// Seed of the host's random generator: the same seed gives the same day.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The first simulated day (UTC), "YYYY-MM-DD".
    #[serde(default = "default_date")]
    pub date: Date,
    /// How many days in a row; every day repeats the same profile and shifts.
    #[serde(default = "one")]
    pub days: u32,
    /// When visitors start arriving each day, "HH:MM" (UTC).
    pub open: ClockTime,
    /// When visitors stop arriving each day, "HH:MM"; "24:00" for midnight.
    pub close: ClockTime,
    /// Minutes at the start of the run left out of the figures, while the desk fills up.
    #[serde(default)]
    pub warmup_minutes: u32,
    /// Width of the chart's buckets in minutes.
    #[serde(default = "default_chart_minutes")]
    pub chart_minutes: u32,
    /// The engine's settings, as `switchboard::Config` (mode, queue, reception, sla, ...).
    #[serde(default)]
    pub engine: Config,
    /// The skill groups, each with its demand.
    pub groups: Vec<Group>,
    /// The agents, by team.
    pub agents: Vec<Team>,
    /// How visitors and agents react to what the engine tells them.
    #[serde(default)]
    pub behaviour: Behaviour,
}

/// A skill group and the visitors who ask for it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Its id.
    pub id: String,
    /// How it picks an agent.
    #[serde(default)]
    pub strategy: Strategy,
    /// A reception limit for its members (in units of capacity when the engine has kinds).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The most units of this group's own work one agent may hold (R-K3); none: no cap.
    #[serde(default)]
    pub agent_cap: Option<u32>,
    /// Groups whose agents may help after a wait.
    #[serde(default)]
    pub overflow: Option<Overflow>,
    /// How many visitors arrive (a Poisson process at the given rates).
    pub arrivals: Arrivals,
    /// How long an agent works on a conversation, in all (for a kind of the `mix` that gives
    /// none of its own).
    pub handling: Dist,
    /// The kinds of work its visitors bring (`engine.kinds` must define them), with their
    /// shares in percent (adding up to 100) and, optionally, their own handling and patience.
    /// None: every arrival is of the desk's default kind (the first of `engine.kinds`).
    #[serde(default)]
    pub mix: Option<Vec<KindShare>>,
    /// How long a visitor waits before leaving the queue; none: forever.
    #[serde(default)]
    pub patience: Option<Dist>,
    /// How long after getting a conversation the agent first replies; none: never.
    #[serde(default)]
    pub first_reply: Option<Dist>,
    /// In asynchronous mode, the share of conversations the agent snoozes halfway.
    #[serde(default)]
    pub snooze: Option<Snooze>,
}

/// One arrival stream of a group's `mix`: a kind of work and, on a desk with skills, what its
/// conversations require of an agent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindShare {
    /// The kind, one of `engine.kinds`; none: the desk's default kind (the first of
    /// `engine.kinds`, or no kind at all on a desk without kinds).
    #[serde(default)]
    pub kind: Option<String>,
    /// The share of the group's arrivals in this stream, in percent.
    pub percent: f64,
    /// Its handling time; none: the group's `handling`.
    #[serde(default)]
    pub handling: Option<Dist>,
    /// Its visitors' patience; none: the group's `patience`.
    #[serde(default)]
    pub patience: Option<Dist>,
    /// What an agent needs to take its conversations, in stages that relax over time
    /// (R-SK2), as `switchboard::Arrival::stages`; none: nothing beyond the group.
    #[serde(default)]
    pub stages: Option<Vec<StageSpec>>,
}

/// One stage of a stream's requirements: `switchboard::Stage` with skills written
/// `{ skill = level }` and the duration in seconds.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Skills an agent must hold, each at least at its level (1..=10).
    #[serde(default)]
    pub require: BTreeMap<String, u8>,
    /// Skills an agent should hold at least at its level: `BestSkilled` ranks agents that
    /// match more of them first.
    #[serde(default)]
    pub prefer: BTreeMap<String, u8>,
    /// Groups whose agents become candidates from this stage on.
    #[serde(default)]
    pub groups: Vec<String>,
    /// How long the stage applies before the next, in seconds: needed on every stage but the
    /// last, which applies until the conversation is served.
    #[serde(default)]
    pub for_secs: Option<f64>,
}

/// Arrivals per hour: one rate all day, or one rate per hour from `open`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// A constant rate, visitors per hour.
    #[serde(default)]
    pub per_hour: Option<f64>,
    /// One rate per hour, the first for the hour starting at `open`.
    #[serde(default)]
    pub hourly: Option<Vec<f64>>,
}

/// A distribution of durations in seconds.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dist {
    /// Its shape.
    pub distribution: Shape,
    /// Its mean, in seconds.
    pub mean_secs: f64,
    /// Coefficient of variation (standard deviation / mean), for `lognormal` only.
    #[serde(default)]
    pub cv: Option<f64>,
}

/// The shape of a [`Dist`].
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Memoryless: the handling time of Erlang C.
    Exponential,
    /// Skewed with a long tail, as real handling times are; needs `cv`.
    Lognormal,
    /// Always the mean.
    Fixed,
}

impl Dist {
    /// An exponential distribution with the given mean.
    pub fn exponential(mean_secs: f64) -> Self {
        Self {
            distribution: Shape::Exponential,
            mean_secs,
            cv: None,
        }
    }
}

/// Snoozing in asynchronous mode: the agent parks the conversation halfway through its work.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    /// The share of conversations snoozed, 0..=1.
    pub share: f64,
    /// How long the snooze is set for.
    pub duration: Dist,
    /// When the visitor writes back, which lifts the snooze early; none: never.
    #[serde(default)]
    pub visitor_writes: Option<Dist>,
}

/// A team: `count` agents alike, named `name-1`, `name-2`, ... (just `name` when alone).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// The name, or the prefix of the names.
    pub name: String,
    /// How many agents.
    #[serde(default = "one")]
    pub count: u32,
    /// Their groups.
    pub groups: Vec<String>,
    /// Their rank (1 first ..= 5 last) in some of their groups; 3 elsewhere.
    #[serde(default)]
    pub rank: BTreeMap<String, u8>,
    /// Their skills with their levels (1..=10), `{ english = 8, billing = 5 }`; each one of
    /// `engine.skills`.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Their own reception limit; none: the largest of their groups', else the engine's
    /// `default_limit`.
    #[serde(default)]
    pub limit: Option<u32>,
    /// When they work each day; none: the whole run.
    #[serde(default)]
    pub shift: Option<Shift>,
    /// Breaks each day.
    #[serde(default)]
    pub breaks: Vec<Break>,
    /// Each agent of the team takes its breaks this many minutes after the one before.
    #[serde(default)]
    pub stagger_minutes: u32,
}

/// A daily shift: Online at `start`; at `end`, Busy until the last conversation is done, then
/// Offline.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Start, "HH:MM".
    pub start: ClockTime,
    /// End, "HH:MM", after the start.
    pub end: ClockTime,
}

/// A daily break: ShortBreak from `at` for `minutes`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    /// Start, "HH:MM".
    pub at: ClockTime,
    /// Length in minutes.
    pub minutes: u32,
}

/// How people react.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// The share of visitors who take an offer to leave a message.
    pub leave_message_share: f64,
    /// How long an agent takes to accept an offer (automatic reception off).
    pub offer_response: Dist,
    /// The share of offers an agent lets expire.
    pub offer_miss_share: f64,
    /// The share of offers an agent declines.
    pub offer_decline_share: f64,
    /// How long an agent the engine put on ShortBreak (a missed offer) stays there.
    pub short_break_minutes: f64,
    /// How long until an admin assigns, to its group, a conversation that reached the
    /// redirect limit; none: no admin, it waits (and may be turned away at the maximum wait).
    pub admin_after_minutes: Option<f64>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            leave_message_share: 0.5,
            offer_response: Dist::exponential(10.0),
            offer_miss_share: 0.0,
            offer_decline_share: 0.0,
            short_break_minutes: 5.0,
            admin_after_minutes: Some(5.0),
        }
    }
}

fn default_seed() -> u64 {
    1
}

fn default_date() -> Date {
    Date(NaiveDate::from_ymd_opt(2026, 3, 2).expect("a valid date"))
}

fn one() -> u32 {
    1
}

fn default_chart_minutes() -> u32 {
    15
}

/// A time of day, minutes since midnight, written "HH:MM"; "24:00" is the end of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u32);

impl ClockTime {
    pub fn parse(text: &str) -> Option<Self> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(Self(h * 60 + m))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromText {
            expecting: "a time of day in quotes, like \"08:30\" (00:00 to 24:00)",
            parse: ClockTime::parse,
        })
    }
}

/// A calendar date written "YYYY-MM-DD".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromText {
            expecting: "a date in quotes, like \"2026-03-02\"",
            parse: |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(Date),
        })
    }
}

/// Reads a value from a string with `parse`; serde's error says what was `expecting`.
struct FromText<T> {
    expecting: &'static str,
    parse: fn(&str) -> Option<T>,
}

impl<T> Visitor<'_> for FromText<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Reads a scenario from TOML (`.toml`) or JSON (`.json`) text and checks it. The error names
/// the source, the field and the problem.
pub fn parse(source: &str, text: &str) -> Result<Scenario, String> {
    let scenario: Scenario = if source.ends_with(".json") {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            format!(
                "{source}: {}: {} (line {}, column {})",
                field(&e.path().to_string()),
                strip_position(&inner.to_string()),
                inner.line(),
                inner.column()
            )
        })?
    } else if source.ends_with(".toml") {
        let de = toml::Deserializer::parse(text).map_err(|e| format!("{source}: {e}"))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = field(&e.path().to_string()).to_owned();
            let inner = e.into_inner();
            let line = inner
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            format!("{source}: {path}: {}{line}", inner.message())
        })?
    } else {
        return Err(format!("{source}: a scenario file ends in .toml or .json"));
    };
    scenario
        .validate()
        .map_err(|problem| format!("{source}: {problem}"))?;
    Ok(scenario)
}

/// serde_path_to_error writes the top level as ".".
fn field(path: &str) -> &str {
    if path == "." { "the scenario" } else { path }
}

/// serde_json's messages end in " at line L column C"; the caller says it its own way.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// Whether the visitor of a snoozed conversation writes back, and other checks, use these.
fn check_share(field: &str, share: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&share) {
        return Err(format!("{field}: must lie between 0 and 1, got {share}"));
    }
    Ok(())
}

fn check_dist(field: &str, dist: &Dist) -> Result<(), String> {
    if !dist.mean_secs.is_finite() || dist.mean_secs <= 0.0 {
        return Err(format!(
            "{field}.mean_secs: must be a positive number of seconds, got {}",
            dist.mean_secs
        ));
    }
    if dist.mean_secs > 7.0 * 86_400.0 {
        return Err(format!(
            "{field}.mean_secs: at most a week (604800 s), got {}",
            dist.mean_secs
        ));
    }
    match (dist.distribution, dist.cv) {
        (Shape::Lognormal, None) => Err(format!(
            "{field}.cv: a lognormal distribution needs a coefficient of variation (cv)"
        )),
        (Shape::Lognormal, Some(cv)) if !cv.is_finite() || cv <= 0.0 || cv > 10.0 => Err(format!(
            "{field}.cv: must be a number above 0 and at most 10, got {cv}"
        )),
        (Shape::Exponential | Shape::Fixed, Some(_)) => Err(format!(
            "{field}.cv: only a lognormal distribution takes a cv (an exponential one has cv 1, a fixed one 0)"
        )),
        _ => Ok(()),
    }
}

impl Scenario {
    /// Minutes of arrivals each day.
    pub fn open_minutes(&self) -> u32 {
        self.close.0 - self.open.0
    }

    /// Hours of the arrival profile each day (the last may be partial).
    pub fn profile_hours(&self) -> usize {
        self.open_minutes().div_ceil(60) as usize
    }

    /// Every agent's id with its team's index, in the order they are registered.
    pub fn agent_ids(&self) -> Vec<(String, usize)> {
        let mut ids = Vec::new();
        for (t, team) in self.agents.iter().enumerate() {
            if team.count == 1 {
                ids.push((team.name.clone(), t));
            } else {
                ids.extend((1..=team.count).map(|i| (format!("{}-{i}", team.name), t)));
            }
        }
        ids
    }

    /// A group's arrival rate (per hour) in hour `hour` of the profile.
    pub fn rate(&self, group: usize, hour: usize) -> f64 {
        let arrivals = &self.groups[group].arrivals;
        match (&arrivals.per_hour, &arrivals.hourly) {
            (Some(rate), _) => *rate,
            (None, Some(hourly)) => hourly.get(hour).copied().unwrap_or(0.0),
            (None, None) => 0.0,
        }
    }

    /// A team member's effective limit, as the engine will compute it.
    pub fn team_limit(&self, team: &Team) -> u32 {
        team.limit.unwrap_or_else(|| {
            team.groups
                .iter()
                .filter_map(|g| self.groups.iter().find(|x| &x.id == g)?.limit)
                .max()
                .unwrap_or(self.engine.default_limit)
        })
    }

    /// The kind of a mix's stream: its index in `engine.kinds`, the desk's default kind (0)
    /// for a stream that names none, `None` on a desk without kinds.
    pub fn kind_index(&self, share: &KindShare) -> Option<usize> {
        let kinds = &self.engine.kinds;
        match &share.kind {
            Some(kind) => kinds.iter().position(|k| k.kind.as_str() == kind),
            None => (!kinds.is_empty()).then_some(0),
        }
    }

    /// Skills written `{ skill = level }`, in the order `engine.skills` declares them.
    pub fn skill_levels(&self, skills: &BTreeMap<String, u8>) -> Vec<SkillLevel> {
        let mut levels: Vec<SkillLevel> = skills
            .iter()
            .map(|(skill, level)| SkillLevel::new(skill.as_str(), *level))
            .collect();
        levels.sort_by_key(|l| {
            self.engine
                .skills
                .iter()
                .position(|s| *s == l.skill)
                .unwrap_or(usize::MAX)
        });
        levels
    }

    /// A stream's stages as the engine takes them.
    pub fn engine_stages(&self, stages: &[StageSpec]) -> Vec<Stage> {
        stages
            .iter()
            .map(|spec| Stage {
                require: self.skill_levels(&spec.require),
                prefer: self.skill_levels(&spec.prefer),
                groups: spec.groups.iter().map(|g| g.as_str().into()).collect(),
                for_ms: spec
                    .for_secs
                    .map(|secs| (secs * 1000.0).round().max(1.0) as u64),
            })
            .collect()
    }

    /// The name of a stream's requirements in the report: its first stage's required skills
    /// joined by `+` in the order of `engine.skills` ("english+billing"), `anyone` for a first
    /// stage that requires nothing, `no stages` for a stream without stages.
    pub fn requirement_label(&self, stages: Option<&[StageSpec]>) -> String {
        match stages.and_then(<[StageSpec]>::first) {
            None => "no stages".into(),
            Some(first) if first.require.is_empty() => "anyone".into(),
            Some(first) => self
                .skill_levels(&first.require)
                .iter()
                .map(|l| l.skill.as_str())
                .collect::<Vec<_>>()
                .join("+"),
        }
    }

    /// A skill named at `field` with a level: declared in `engine.skills`, level 1..=10.
    fn check_skill(&self, field: &str, skill: &str, level: u8) -> Result<(), String> {
        let declared = &self.engine.skills;
        if !declared.iter().any(|s| s.as_str() == skill) {
            let known: Vec<&str> = declared.iter().map(|s| s.as_str()).collect();
            return Err(if known.is_empty() {
                format!("{field}: no skill is called `{skill}`: engine.skills declares none")
            } else {
                format!(
                    "{field}: no skill is called `{skill}` (engine.skills has {})",
                    known.join(", ")
                )
            });
        }
        if !(SkillLevel::MIN..=SkillLevel::MAX).contains(&level) {
            return Err(format!(
                "{field}: levels run from {} to {}, got {level}",
                SkillLevel::MIN,
                SkillLevel::MAX
            ));
        }
        Ok(())
    }

    /// A stream's stages: at least one; known skills at levels 1..=10 and known groups; a
    /// duration on every stage but the last; and an agent who can serve the last stage.
    fn check_stages(&self, at: &str, group: &Group, stages: &[StageSpec]) -> Result<(), String> {
        let Some(last) = stages.len().checked_sub(1) else {
            return Err(format!(
                "{at}.stages: give at least one stage, or leave stages out"
            ));
        };
        for (i, stage) in stages.iter().enumerate() {
            let here = format!("{at}.stages[{i}]");
            for (field, skills) in [("require", &stage.require), ("prefer", &stage.prefer)] {
                for (skill, level) in skills {
                    self.check_skill(&format!("{here}.{field}.{skill}"), skill, *level)?;
                }
            }
            for (j, g) in stage.groups.iter().enumerate() {
                if !self.groups.iter().any(|x| &x.id == g) {
                    return Err(format!("{here}.groups[{j}]: no group is called `{g}`"));
                }
            }
            match stage.for_secs {
                None if i < last => {
                    return Err(format!(
                        "{here}.for_secs: every stage but the last needs one (how long it applies before stage {})",
                        i + 1
                    ));
                }
                Some(_) if i == last => {
                    return Err(format!(
                        "{here}.for_secs: the last stage applies until the conversation is served; leave for_secs out"
                    ));
                }
                Some(secs) if !(0.001..=7.0 * 86_400.0).contains(&secs) => {
                    return Err(format!(
                        "{here}.for_secs: must be a number of seconds from 0.001 to a week (604800), got {secs}"
                    ));
                }
                _ => {}
            }
        }
        // Someone must be able to take the conversations once every stage has relaxed: a
        // member of the group, of its overflow groups or of the groups the stages add.
        let mut candidates: BTreeSet<&str> = BTreeSet::from([group.id.as_str()]);
        candidates.extend(
            group
                .overflow
                .iter()
                .flat_map(|o| o.groups.iter().map(|g| g.as_str())),
        );
        candidates.extend(
            stages
                .iter()
                .flat_map(|s| s.groups.iter().map(String::as_str)),
        );
        let qualified = self.agents.iter().any(|team| {
            team.groups.iter().any(|g| candidates.contains(g.as_str()))
                && stages[last]
                    .require
                    .iter()
                    .all(|(skill, level)| team.skills.get(skill).is_some_and(|l| l >= level))
        });
        if !qualified {
            let needs: Vec<String> = self
                .skill_levels(&stages[last].require)
                .iter()
                .map(|l| format!("{} {}", l.skill, l.level))
                .collect();
            return Err(format!(
                "{at}.stages[{last}].require: no agent who may serve group `{}` holds {} (at those levels or better): nobody could ever take these conversations",
                group.id,
                needs.join(" and ")
            ));
        }
        Ok(())
    }

    /// A group's `mix`: known kinds, no stream twice, shares adding up to 100, distributions
    /// that make sense, a kind its agents can hold, and stages someone can serve.
    fn check_mix(&self, at: &str, group: &Group, mix: &[KindShare]) -> Result<(), String> {
        let kinds = &self.engine.kinds;
        if mix.is_empty() {
            return Err(format!(
                "{at}.mix: give at least one kind, or leave mix out for the desk's default kind"
            ));
        }
        let mut total = 0.0;
        for (j, share) in mix.iter().enumerate() {
            let here = format!("{at}.mix[{j}]");
            let spec = match &share.kind {
                None => kinds.first(),
                Some(kind) => match kinds.iter().find(|k| k.kind.as_str() == kind) {
                    Some(spec) => Some(spec),
                    None => {
                        let known: Vec<&str> = kinds.iter().map(|k| k.kind.as_str()).collect();
                        return Err(if known.is_empty() {
                            format!(
                                "{here}.kind: no kind is called `{kind}`: engine.kinds defines none"
                            )
                        } else {
                            format!(
                                "{here}.kind: no kind is called `{kind}` (engine.kinds has {})",
                                known.join(", ")
                            )
                        });
                    }
                },
            };
            let name = spec.map_or("default", |s| s.kind.as_str());
            let same = |m: &KindShare| {
                self.kind_index(m) == self.kind_index(share) && m.stages == share.stages
            };
            if mix[..j].iter().any(same) {
                return Err(if share.stages.is_some() {
                    format!("{here}.kind: `{name}` is listed twice with the same stages")
                } else {
                    format!("{here}.kind: `{name}` is listed twice")
                });
            }
            if !share.percent.is_finite() || !(0.0..=100.0).contains(&share.percent) {
                return Err(format!(
                    "{here}.percent: must lie between 0 and 100, got {}",
                    share.percent
                ));
            }
            total += share.percent;
            if let Some(handling) = &share.handling {
                check_dist(&format!("{here}.handling"), handling)?;
            }
            if let Some(patience) = &share.patience {
                check_dist(&format!("{here}.patience"), patience)?;
            }
            if let Some(stages) = &share.stages {
                self.check_stages(&here, group, stages)?;
            }
            let cost = spec.map_or(1, |s| s.cost);
            if share.percent > 0.0 {
                if let Some(cap) = group.agent_cap.filter(|cap| *cap < cost) {
                    return Err(format!(
                        "{here}.kind: `{name}` costs {cost} units, above the group's agent_cap of {cap}: no agent could ever take it"
                    ));
                }
                let roomy = self.agents.iter().any(|team| {
                    team.groups.iter().any(|g| g == &group.id) && self.team_limit(team) >= cost
                });
                if !roomy {
                    return Err(format!(
                        "{here}.kind: `{name}` costs {cost} units, and no agent of group `{}` has that much capacity",
                        group.id
                    ));
                }
            }
        }
        if (total - 100.0).abs() > 1e-6 {
            return Err(format!(
                "{at}.mix: the percents must add up to 100, got {total}"
            ));
        }
        Ok(())
    }

    /// Checks what serde cannot: ranges, references between parts, and combinations.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name: must not be empty".into());
        }
        if !(1..=366).contains(&self.days) {
            return Err(format!("days: must be 1 to 366, got {}", self.days));
        }
        if self.close <= self.open {
            return Err(format!(
                "close: must be after open ({}), got {}",
                self.open, self.close
            ));
        }
        let run_minutes = u64::from(self.days - 1) * 1440 + u64::from(self.close.0);
        if u64::from(self.warmup_minutes) >= run_minutes {
            return Err(format!(
                "warmup_minutes: must end before the last close ({run_minutes} minutes into the run), got {}",
                self.warmup_minutes
            ));
        }
        if !(1..=1440).contains(&self.chart_minutes) {
            return Err(format!(
                "chart_minutes: must be 1 to 1440, got {}",
                self.chart_minutes
            ));
        }
        self.engine.validate().map_err(|e| match e {
            switchboard::Error::InvalidConfig { field, problem } => {
                format!("engine.{field}: {problem}")
            }
            other => format!("engine: {other}"),
        })?;
        if self.engine.working_hours {
            return Err("engine.working_hours: the simulator drives working hours itself with each team's `shift`; leave it off".into());
        }
        if self.engine.service_hours.is_some() {
            return Err(
                "engine.service_hours: not simulated; visitors arrive between `open` and `close`"
                    .into(),
            );
        }
        if self.groups.is_empty() {
            return Err("groups: a scenario needs at least one group".into());
        }
        let mut group_ids = BTreeSet::new();
        let hours = self.profile_hours();
        for (i, group) in self.groups.iter().enumerate() {
            let at = format!("groups[{i}]");
            if group.id.trim().is_empty() {
                return Err(format!("{at}.id: must not be empty"));
            }
            if !group_ids.insert(group.id.as_str()) {
                return Err(format!("{at}.id: `{}` is used twice", group.id));
            }
            if group.limit == Some(0) {
                return Err(format!("{at}.limit: must be at least 1"));
            }
            match (&group.arrivals.per_hour, &group.arrivals.hourly) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "{at}.arrivals: give either per_hour (one rate) or hourly (one per hour), not both"
                    ));
                }
                (None, None) => {
                    return Err(format!(
                        "{at}.arrivals: give per_hour (one rate) or hourly (one rate per hour from open)"
                    ));
                }
                (Some(rate), None) => {
                    if !rate.is_finite() || *rate < 0.0 {
                        return Err(format!(
                            "{at}.arrivals.per_hour: must be zero or more, got {rate}"
                        ));
                    }
                }
                (None, Some(hourly)) => {
                    if hourly.len() != hours {
                        return Err(format!(
                            "{at}.arrivals.hourly: open {} to close {} spans {hours} hours, so give {hours} rates, got {}",
                            self.open,
                            self.close,
                            hourly.len()
                        ));
                    }
                    if let Some((h, rate)) = hourly
                        .iter()
                        .enumerate()
                        .find(|(_, r)| !r.is_finite() || **r < 0.0)
                    {
                        return Err(format!(
                            "{at}.arrivals.hourly[{h}]: must be zero or more, got {rate}"
                        ));
                    }
                }
            }
            check_dist(&format!("{at}.handling"), &group.handling)?;
            if let Some(patience) = &group.patience {
                check_dist(&format!("{at}.patience"), patience)?;
            }
            match &group.first_reply {
                Some(reply) => check_dist(&format!("{at}.first_reply"), reply)?,
                None if self.engine.sla.first_reply_secs.is_some()
                    || self.engine.reception.first_reply_timeout_secs.is_some() =>
                {
                    return Err(format!(
                        "{at}.first_reply: needed when engine.sla.first_reply_secs or engine.reception.first_reply_timeout_secs is set, or no agent ever replies"
                    ));
                }
                None => {}
            }
            if group.agent_cap == Some(0) {
                return Err(format!("{at}.agent_cap: must be at least 1"));
            }
            if let Some(snooze) = &group.snooze {
                check_share(&format!("{at}.snooze.share"), snooze.share)?;
                check_dist(&format!("{at}.snooze.duration"), &snooze.duration)?;
                if let Some(writes) = &snooze.visitor_writes {
                    check_dist(&format!("{at}.snooze.visitor_writes"), writes)?;
                }
            }
        }
        for (i, group) in self.groups.iter().enumerate() {
            if let Some(overflow) = &group.overflow {
                let at = format!("groups[{i}].overflow");
                if overflow.after_secs == 0 {
                    return Err(format!("{at}.after_secs: must be at least 1 second"));
                }
                for (j, other) in overflow.groups.iter().enumerate() {
                    if other.as_str() == group.id {
                        return Err(format!(
                            "{at}.groups[{j}]: a group cannot overflow to itself"
                        ));
                    }
                    if !group_ids.contains(other.as_str()) {
                        return Err(format!("{at}.groups[{j}]: no group is called `{other}`"));
                    }
                }
            }
        }

        if self.agents.is_empty() {
            return Err("agents: a scenario needs at least one team of agents".into());
        }
        let mut names = BTreeSet::new();
        let mut total = 0u64;
        for (i, team) in self.agents.iter().enumerate() {
            let at = format!("agents[{i}]");
            if team.name.trim().is_empty() {
                return Err(format!("{at}.name: must not be empty"));
            }
            if !names.insert(team.name.as_str()) {
                return Err(format!("{at}.name: `{}` is used twice", team.name));
            }
            if team.count == 0 {
                return Err(format!("{at}.count: must be at least 1"));
            }
            total += u64::from(team.count);
            if team.groups.is_empty() {
                return Err(format!("{at}.groups: an agent needs at least one group"));
            }
            for (j, group) in team.groups.iter().enumerate() {
                if !group_ids.contains(group.as_str()) {
                    return Err(format!("{at}.groups[{j}]: no group is called `{group}`"));
                }
                if team.groups[..j].contains(group) {
                    return Err(format!("{at}.groups[{j}]: `{group}` is listed twice"));
                }
            }
            for (group, rank) in &team.rank {
                if !team.groups.contains(group) {
                    return Err(format!(
                        "{at}.rank.{group}: the team is not in group `{group}`"
                    ));
                }
                if !(1..=5).contains(rank) {
                    return Err(format!(
                        "{at}.rank.{group}: must be 1 (first) to 5 (last), got {rank}"
                    ));
                }
            }
            if team.limit == Some(0) {
                return Err(format!("{at}.limit: must be at least 1"));
            }
            for (skill, level) in &team.skills {
                self.check_skill(&format!("{at}.skills.{skill}"), skill, *level)?;
            }
            let (start, end) = match team.shift {
                Some(shift) if shift.end <= shift.start => {
                    return Err(format!(
                        "{at}.shift.end: must be after the start ({}), got {}",
                        shift.start, shift.end
                    ));
                }
                Some(shift) => (shift.start.0, shift.end.0),
                None => (0, 1440),
            };
            let mut breaks: Vec<(u32, u32)> = Vec::new();
            for (j, b) in team.breaks.iter().enumerate() {
                let last = b.at.0 + team.stagger_minutes * (team.count - 1);
                if b.minutes == 0 {
                    return Err(format!("{at}.breaks[{j}].minutes: must be at least 1"));
                }
                if b.at.0 < start || last + b.minutes > end {
                    return Err(format!(
                        "{at}.breaks[{j}]: every member's break (from {} to {} with the stagger) must lie within the shift, {} to {}",
                        b.at,
                        ClockTime(last + b.minutes),
                        ClockTime(start),
                        ClockTime(end)
                    ));
                }
                if let Some(k) = breaks
                    .iter()
                    .position(|&(s, e)| b.at.0 < e && s < b.at.0 + b.minutes)
                {
                    return Err(format!("{at}.breaks[{j}]: overlaps breaks[{k}]"));
                }
                breaks.push((b.at.0, b.at.0 + b.minutes));
            }
        }
        if total > 10_000 {
            return Err(format!(
                "agents: at most 10,000 agents in a simulation, got {total}"
            ));
        }
        let ids = self.agent_ids();
        let mut seen = BTreeSet::new();
        for (id, team) in &ids {
            if !seen.insert(id.as_str()) {
                return Err(format!(
                    "agents[{team}].name: its agents' names collide with another agent called `{id}`"
                ));
            }
        }
        let expected: f64 = (0..self.groups.len())
            .map(|g| {
                (0..hours)
                    .map(|h| {
                        let minutes = (self.open_minutes() - 60 * h as u32).min(60);
                        self.rate(g, h) * f64::from(minutes) / 60.0
                    })
                    .sum::<f64>()
            })
            .sum::<f64>()
            * f64::from(self.days);
        if expected > 5_000_000.0 {
            return Err(format!(
                "groups: about {expected:.0} visitors in all; keep a simulation under 5 million"
            ));
        }
        // After the agents: a kind of a mix needs an agent who can hold it.
        for (i, group) in self.groups.iter().enumerate() {
            if let Some(mix) = &group.mix {
                self.check_mix(&format!("groups[{i}]"), group, mix)?;
            }
        }

        let b = &self.behaviour;
        check_share("behaviour.leave_message_share", b.leave_message_share)?;
        check_share("behaviour.offer_miss_share", b.offer_miss_share)?;
        check_share("behaviour.offer_decline_share", b.offer_decline_share)?;
        if b.offer_miss_share + b.offer_decline_share > 1.0 {
            return Err(
                "behaviour.offer_decline_share: with offer_miss_share it must not exceed 1".into(),
            );
        }
        check_dist("behaviour.offer_response", &b.offer_response)?;
        if let Some(minutes) = b.admin_after_minutes
            && (!minutes.is_finite() || minutes <= 0.0 || minutes > 10_080.0)
        {
            return Err(format!(
                "behaviour.admin_after_minutes: must be a number of minutes above 0 and at most a week, got {minutes}"
            ));
        }
        if !b.short_break_minutes.is_finite() || b.short_break_minutes <= 0.0 {
            return Err(format!(
                "behaviour.short_break_minutes: must be a positive number, got {}",
                b.short_break_minutes
            ));
        }
        Ok(())
    }

    /// Whether Erlang C's assumptions hold, and if so its inputs; otherwise the first reason
    /// they do not.
    pub fn erlang_fit(&self) -> Result<ErlangFit, String> {
        if self.groups.len() != 1 {
            return Err(format!("{} groups, Erlang C has one", self.groups.len()));
        }
        if self.engine.mode != ReceptionMode::RealTime {
            return Err("asynchronous mode".into());
        }
        if !self.engine.kinds.is_empty() {
            return Err("work kinds share the agents' capacity".into());
        }
        let group = &self.groups[0];
        let rates: Vec<f64> = (0..self.profile_hours()).map(|h| self.rate(0, h)).collect();
        if rates.iter().any(|r| *r != rates[0]) {
            return Err("the arrival rate changes during the day".into());
        }
        if self.days > 1 && (self.open.0 != 0 || self.close.0 != 1440) {
            return Err("arrivals pause overnight".into());
        }
        if group.handling.distribution != Shape::Exponential {
            return Err("handling times are not exponential".into());
        }
        if group.patience.is_some() {
            return Err("visitors abandon".into());
        }
        let agents = self.agent_ids().len() as u32;
        for team in &self.agents {
            if self.team_limit(team) != 1 {
                return Err(format!(
                    "team `{}` has limit {}, not 1",
                    team.name,
                    self.team_limit(team)
                ));
            }
            if team.shift.is_some() || !team.breaks.is_empty() {
                return Err(format!("team `{}` has shifts or breaks", team.name));
            }
        }
        let e = &self.engine;
        if !e.reception.auto_accept || e.reception.first_reply_timeout_secs.is_some() {
            return Err("offers or redirects delay the answer".into());
        }
        if e.queue.max_length.is_some()
            || e.queue.max_wait_secs.is_some()
            || (e.queue.long_queue_threshold.is_some() && self.behaviour.leave_message_share > 0.0)
        {
            return Err("visitors are turned away or leave messages".into());
        }
        if e.inactivity.end_after_secs.is_some() {
            return Err("conversations end for inactivity".into());
        }
        let fit = ErlangFit {
            agents,
            per_hour: rates[0],
            handling_secs: group.handling.mean_secs,
        };
        if fit.per_hour * fit.handling_secs / 3600.0 >= f64::from(agents) {
            return Err("the offered traffic is at or over the number of agents: the queue grows without bound".into());
        }
        Ok(fit)
    }
}

/// The inputs of Erlang C for a scenario that fits it.
#[derive(Clone, Copy, Debug)]
pub struct ErlangFit {
    pub agents: u32,
    pub per_hour: f64,
    pub handling_secs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "test desk"
open = "08:00"
close = "10:30"

[[groups]]
id = "support"
arrivals = { hourly = [10, 20, 5] }
handling = { distribution = "lognormal", mean_secs = 300, cv = 0.8 }
patience = { distribution = "exponential", mean_secs = 120 }

[[agents]]
name = "ana"
count = 3
groups = ["support"]
limit = 2
shift = { start = "07:30", end = "11:00" }
breaks = [{ at = "09:00", minutes = 15 }]
stagger_minutes = 15
"#;

    fn error_of(text: &str) -> String {
        parse("test.toml", text).expect_err("a bad scenario")
    }

    #[test]
    fn a_good_scenario_parses_and_names_its_agents() {
        let s = parse("test.toml", GOOD).expect("valid");
        assert_eq!(s.profile_hours(), 3);
        assert_eq!(s.rate(0, 1), 20.0);
        let ids: Vec<String> = s.agent_ids().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["ana-1", "ana-2", "ana-3"]);
        assert_eq!(s.team_limit(&s.agents[0]), 2);
        assert_eq!(s.seed, 1);
        assert!(s.erlang_fit().is_err());
    }

    #[test]
    fn serde_errors_name_the_field_and_the_line() {
        let e = error_of(&GOOD.replace("mean_secs = 300", "mean_secs = \"long\""));
        assert!(e.contains("groups[0].handling.mean_secs"), "{e}");
        assert!(e.contains("line 9"), "{e}");
        let e = error_of(&GOOD.replace("limit = 2", "limit = 2\nlimt = 3"));
        assert!(
            e.contains("agents[0]") && e.contains("unknown field `limt`"),
            "{e}"
        );
        let e = error_of(&GOOD.replace("\"07:30\"", "\"7.30am\""));
        assert!(
            e.contains("agents[0].shift.start") && e.contains("08:30"),
            "{e}"
        );
        let e = error_of(&GOOD.replace("\"lognormal\"", "\"gamma\""));
        assert!(e.contains("groups[0].handling.distribution"), "{e}");
        let e = error_of(
            &GOOD
                .replace("[engine]", "")
                .replace("[[groups]]", "[engine]\nmode = \"Sometimes\"\n\n[[groups]]"),
        );
        assert!(e.contains("engine.mode") && e.contains("RealTime"), "{e}");
        assert!(error_of("name = ").starts_with("test.toml: TOML parse error"));
    }

    #[test]
    fn json_errors_name_the_field_too() {
        let text = r#"{"name": "x", "open": "08:00", "close": "09:00",
            "groups": [{"id": "g", "arrivals": {"per_hour": -1},
                        "handling": {"distribution": "fixed", "mean_secs": 60}}],
            "agents": [{"name": "a", "groups": ["g"], "count": "two"}]}"#;
        let e = parse("x.json", text).expect_err("bad count");
        assert!(
            e.starts_with("x.json: agents[0].count: invalid type"),
            "{e}"
        );
        let e = parse("x.json", &text.replace("\"two\"", "2")).expect_err("negative rate");
        assert_eq!(
            e,
            "x.json: groups[0].arrivals.per_hour: must be zero or more, got -1"
        );
        assert!(parse("x.json", &text.replace("\"two\"", "2").replace("-1", "30")).is_ok());
        assert!(
            parse("x.yaml", "")
                .expect_err("extension")
                .contains(".toml or .json")
        );
    }

    #[test]
    fn semantic_errors_name_the_field_and_the_problem() {
        let cases = [
            (
                "close = \"10:30\"",
                "close = \"07:00\"",
                "close: must be after open (08:00)",
            ),
            (
                "[10, 20, 5]",
                "[10, 20]",
                "groups[0].arrivals.hourly: open 08:00 to close 10:30 spans 3 hours, so give 3 rates, got 2",
            ),
            (
                "[10, 20, 5]",
                "[10, -20, 5]",
                "groups[0].arrivals.hourly[1]: must be zero or more",
            ),
            (
                "hourly = [10, 20, 5]",
                "hourly = [10, 20, 5], per_hour = 3",
                "groups[0].arrivals: give either",
            ),
            (
                ", cv = 0.8",
                "",
                "groups[0].handling.cv: a lognormal distribution needs",
            ),
            (
                "mean_secs = 120",
                "mean_secs = 120, cv = 2",
                "groups[0].patience.cv: only a lognormal",
            ),
            (
                "mean_secs = 120",
                "mean_secs = 0",
                "groups[0].patience.mean_secs: must be a positive number",
            ),
            (
                "mean_secs = 120",
                "mean_secs = 1e9",
                "groups[0].patience.mean_secs: at most a week",
            ),
            (
                "cv = 0.8",
                "cv = 50",
                "groups[0].handling.cv: must be a number above 0 and at most 10, got 50",
            ),
            (
                "groups = [\"support\"]",
                "groups = [\"sales\"]",
                "agents[0].groups[0]: no group is called `sales`",
            ),
            (
                "limit = 2",
                "limit = 0",
                "agents[0].limit: must be at least 1",
            ),
            (
                "end = \"11:00\"",
                "end = \"07:00\"",
                "agents[0].shift.end: must be after the start (07:30)",
            ),
            (
                "stagger_minutes = 15",
                "stagger_minutes = 60",
                "agents[0].breaks[0]: every member's break",
            ),
            (
                "count = 3",
                "count = 0",
                "agents[0].count: must be at least 1",
            ),
            (
                "limit = 2",
                "limit = 2\nrank = { support = 9 }",
                "agents[0].rank.support: must be 1 (first) to 5 (last), got 9",
            ),
            (
                "name = \"test desk\"",
                "name = \"test desk\"\ndays = 0",
                "days: must be 1 to 366",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(GOOD.contains(from), "{from}");
            let e = error_of(&GOOD.replacen(from, to, 1));
            assert!(
                e.starts_with(&format!("test.toml: {expected}")),
                "{e}\nexpected: {expected}"
            );
        }
        let e = error_of(&format!("{GOOD}\n[engine]\ndefault_limit = 0\n"));
        assert!(
            e.contains("engine.default_limit: must be at least 1"),
            "{e}"
        );
        let e = error_of("name = \"x\"");
        assert_eq!(e, "test.toml: the scenario: missing field `open` (line 1)");
        let e = error_of(&format!("{GOOD}\n[behaviour]\noffer_miss_share = 1.5\n"));
        assert!(
            e.contains("behaviour.offer_miss_share: must lie between 0 and 1"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}\n[engine.sla]\nfirst_reply_secs = 60\n"));
        assert!(e.contains("groups[0].first_reply: needed"), "{e}");
    }

    /// GOOD with three kinds of work and a mix of them in its group.
    const KINDS: &str = r#"
name = "kinds desk"
open = "08:00"
close = "10:00"

[engine]
default_limit = 100

[[engine.kinds]]
kind = "chat"
cost = 25

[[engine.kinds]]
kind = "email"
cost = 10

[[engine.kinds]]
kind = "voice"
cost = 100
blocks = ["chat", "email"]

[[groups]]
id = "support"
agent_cap = 100
arrivals = { per_hour = 30 }
handling = { distribution = "exponential", mean_secs = 300 }
mix = [
    { kind = "chat", percent = 60 },
    { kind = "email", percent = 30, handling = { distribution = "fixed", mean_secs = 900 } },
    { kind = "voice", percent = 10, patience = { distribution = "exponential", mean_secs = 60 } },
]

[[agents]]
name = "ana"
count = 2
groups = ["support"]
"#;

    #[test]
    fn a_mix_of_kinds_parses() {
        let s = parse("k.toml", KINDS).expect("valid");
        let mix = s.groups[0].mix.as_ref().expect("a mix");
        assert_eq!(mix.len(), 3);
        assert_eq!(
            (mix[1].kind.as_deref(), mix[1].percent),
            (Some("email"), 30.0)
        );
        assert_eq!(mix[1].handling.map(|d| d.mean_secs), Some(900.0));
        assert!(mix[0].handling.is_none() && mix[2].patience.is_some());
        assert_eq!(s.groups[0].agent_cap, Some(100));
        assert_eq!(s.engine.kinds[2].blocks.len(), 2);
        assert_eq!(
            s.erlang_fit().expect_err("kinds").as_str(),
            "work kinds share the agents' capacity"
        );
    }

    #[test]
    fn bad_kinds_name_the_field_and_the_problem() {
        let cases = [
            (
                "kind = \"email\", percent = 30",
                "kind = \"fax\", percent = 30",
                "groups[0].mix[1].kind: no kind is called `fax` (engine.kinds has chat, email, voice)",
            ),
            (
                "kind = \"email\", percent = 30",
                "kind = \"chat\", percent = 30",
                "groups[0].mix[1].kind: `chat` is listed twice",
            ),
            (
                "percent = 30",
                "percent = 20",
                "groups[0].mix: the percents must add up to 100, got 90",
            ),
            (
                "percent = 60",
                "percent = -60",
                "groups[0].mix[0].percent: must lie between 0 and 100, got -60",
            ),
            (
                "mean_secs = 900 }",
                "mean_secs = 0 }",
                "groups[0].mix[1].handling.mean_secs: must be a positive number",
            ),
            (
                "mean_secs = 60 }",
                "mean_secs = 60, cv = 1 }",
                "groups[0].mix[2].patience.cv: only a lognormal",
            ),
            (
                "agent_cap = 100",
                "agent_cap = 0",
                "groups[0].agent_cap: must be at least 1",
            ),
            (
                "agent_cap = 100",
                "agent_cap = 50",
                "groups[0].mix[2].kind: `voice` costs 100 units, above the group's agent_cap of 50",
            ),
            (
                "groups = [\"support\"]",
                "groups = [\"support\"]\nlimit = 80",
                "groups[0].mix[2].kind: `voice` costs 100 units, and no agent of group `support` has that much capacity",
            ),
            ("cost = 10", "cost = 0", "engine.kinds[1].cost: "),
            (
                "blocks = [\"chat\", \"email\"]",
                "blocks = [\"chat\", \"fax\"]",
                "engine.kinds[2].blocks",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(KINDS.contains(from), "{from}");
            let e = parse("k.toml", &KINDS.replacen(from, to, 1)).expect_err(expected);
            assert!(
                e.starts_with(&format!("k.toml: {expected}")),
                "{e}\nexpected: {expected}"
            );
        }
        let e = error_of(&GOOD.replace(
            "patience = {",
            "mix = [{ kind = \"chat\", percent = 100 }]\npatience = {",
        ));
        assert!(
            e.contains(
                "groups[0].mix[0].kind: no kind is called `chat`: engine.kinds defines none"
            ),
            "{e}"
        );
        let e = parse(
            "k.toml",
            &KINDS.replace("percent = 60 }", "percent = 60, cost = 3 }"),
        )
        .expect_err("unknown field");
        assert!(
            e.contains("groups[0].mix[0]") && e.contains("unknown field `cost`"),
            "{e}"
        );
        let (head, tail) = KINDS.split_once("mix = [").expect("a mix");
        let (_, rest) = tail.split_once("]\n").expect("its end");
        let e = parse("k.toml", &format!("{head}mix = []\n{rest}")).expect_err("empty mix");
        assert!(
            e.starts_with("k.toml: groups[0].mix: give at least one kind"),
            "{e}"
        );
    }

    /// A desk with skills and no kinds: two streams whose first stage relaxes.
    const SKILLS: &str = r#"
name = "skills desk"
open = "08:00"
close = "10:00"

[engine]
skills = ["english", "german", "billing"]

[[groups]]
id = "billing"
arrivals = { per_hour = 30 }
handling = { distribution = "exponential", mean_secs = 300 }

[[groups.mix]]
percent = 70
stages = [
    { require = { billing = 5, english = 5 }, for_secs = 30 },
    { require = { billing = 1 } },
]

[[groups.mix]]
percent = 30
stages = [
    { require = { german = 5, billing = 5 }, for_secs = 45.5 },
    { require = { billing = 1 }, prefer = { german = 3 }, groups = ["spare"] },
]

[[groups]]
id = "spare"
arrivals = { per_hour = 0 }
handling = { distribution = "exponential", mean_secs = 300 }

[[agents]]
name = "ana"
count = 2
groups = ["billing"]
skills = { english = 8, billing = 7 }

[[agents]]
name = "bo"
groups = ["spare"]
skills = { german = 9, billing = 2 }
"#;

    /// R-SK1, R-SK2: skills, levels and stages parse into what the engine takes.
    #[test]
    fn r_sk2_skills_and_stages_parse_into_engine_stages() {
        let s = parse("s.toml", SKILLS).expect("valid");
        let mix = s.groups[0].mix.as_ref().expect("a mix");
        assert_eq!(s.kind_index(&mix[0]), None, "no kinds on this desk");
        let stages = s.engine_stages(mix[1].stages.as_ref().expect("stages"));
        assert_eq!(
            stages,
            [
                Stage::new()
                    .require("german", 5)
                    .require("billing", 5)
                    .for_ms(45_500),
                Stage::new()
                    .require("billing", 1)
                    .prefer("german", 3)
                    .group("spare"),
            ]
        );
        // Skills in the order engine.skills declares them, whatever the file's order.
        assert_eq!(
            s.skill_levels(&s.agents[1].skills),
            [SkillLevel::new("german", 9), SkillLevel::new("billing", 2)]
        );
        assert_eq!(
            s.requirement_label(mix[0].stages.as_deref()),
            "english+billing"
        );
        assert_eq!(
            s.requirement_label(mix[1].stages.as_deref()),
            "german+billing"
        );
        assert_eq!(s.requirement_label(None), "no stages");
        assert_eq!(s.requirement_label(Some(&[StageSpec::default()])), "anyone");
    }

    #[test]
    fn r_sk2_bad_skills_and_stages_name_the_field_and_the_problem() {
        let cases = [
            (
                "skills = { english = 8, billing = 7 }",
                "skills = { french = 8, billing = 7 }",
                "agents[0].skills.french: no skill is called `french` (engine.skills has english, german, billing)",
            ),
            (
                "skills = { english = 8, billing = 7 }",
                "skills = { english = 0, billing = 7 }",
                "agents[0].skills.english: levels run from 1 to 10, got 0",
            ),
            (
                "{ billing = 5, english = 5 }",
                "{ billing = 5, english = 11 }",
                "groups[0].mix[0].stages[0].require.english: levels run from 1 to 10, got 11",
            ),
            (
                "prefer = { german = 3 }",
                "prefer = { dutch = 3 }",
                "groups[0].mix[1].stages[1].prefer.dutch: no skill is called `dutch`",
            ),
            (
                ", for_secs = 30 }",
                " }",
                "groups[0].mix[0].stages[0].for_secs: every stage but the last needs one",
            ),
            (
                "{ require = { billing = 1 } },",
                "{ require = { billing = 1 }, for_secs = 60 },",
                "groups[0].mix[0].stages[1].for_secs: the last stage applies until the conversation is served",
            ),
            (
                "for_secs = 30 }",
                "for_secs = 0 }",
                "groups[0].mix[0].stages[0].for_secs: must be a number of seconds from 0.001",
            ),
            (
                "groups = [\"spare\"]",
                "groups = [\"sales\"]",
                "groups[0].mix[1].stages[1].groups[0]: no group is called `sales`",
            ),
            (
                "{ require = { billing = 1 } },",
                "{ require = { billing = 8 } },",
                "groups[0].mix[0].stages[1].require: no agent who may serve group `billing` holds billing 8 (at those levels or better)",
            ),
            (
                "percent = 30\nstages = [\n    { require = { german = 5, billing = 5 }, for_secs = 45.5 },\n    { require = { billing = 1 }, prefer = { german = 3 }, groups = [\"spare\"] },\n]",
                "percent = 30\nstages = [\n    { require = { billing = 5, english = 5 }, for_secs = 30 },\n    { require = { billing = 1 } },\n]",
                "groups[0].mix[1].kind: `default` is listed twice with the same stages",
            ),
            (
                "skills = [\"english\", \"german\", \"billing\"]",
                "skills = [\"english\", \"german\", \"english\"]",
                "engine.skills[2]: `english` is declared twice",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(SKILLS.contains(from), "{from}");
            let e = parse("s.toml", &SKILLS.replacen(from, to, 1)).expect_err(expected);
            assert!(
                e.starts_with(&format!("s.toml: {expected}")),
                "{e}\nexpected: {expected}"
            );
        }
        // Only the second stream's last stage may use bo, through the group its stage adds:
        // without that group, german billing work at level 3 finds nobody.
        let e = parse(
            "s.toml",
            &SKILLS.replace(", groups = [\"spare\"]", "").replace(
                "{ require = { billing = 1 }, prefer",
                "{ require = { german = 3 }, prefer",
            ),
        )
        .expect_err("nobody");
        assert!(
            e.starts_with("s.toml: groups[0].mix[1].stages[1].require: no agent who may serve group `billing` holds german 3"),
            "{e}"
        );
        let e = parse("s.toml", &SKILLS.replace(
            "percent = 30\nstages = [\n    { require = { german = 5, billing = 5 }, for_secs = 45.5 },\n    { require = { billing = 1 }, prefer = { german = 3 }, groups = [\"spare\"] },\n]",
            "percent = 30\nstages = []",
        ))
        .expect_err("no stage");
        assert!(
            e.starts_with("s.toml: groups[0].mix[1].stages: give at least one stage"),
            "{e}"
        );
        let e = parse("s.toml", &SKILLS.replace("english = 8", "english = 300"))
            .expect_err("not a level");
        assert!(e.contains("agents[0].skills.english"), "{e}");
        let e = parse("s.toml", &SKILLS.replace("for_secs = 30", "for_sec = 30"))
            .expect_err("unknown field");
        assert!(
            e.contains("groups[0].mix[0].stages[0]") && e.contains("unknown field `for_sec`"),
            "{e}"
        );
    }

    #[test]
    fn erlang_c_fits_only_its_assumptions() {
        let erlang = r#"
name = "mmc"
open = "00:00"
close = "24:00"
days = 3
[engine]
default_limit = 1
[[groups]]
id = "g"
arrivals = { per_hour = 80 }
handling = { distribution = "exponential", mean_secs = 360 }
[[agents]]
name = "a"
count = 10
groups = ["g"]
"#;
        let fit = parse("e.toml", erlang)
            .expect("valid")
            .erlang_fit()
            .expect("fits");
        assert_eq!(
            (fit.agents, fit.per_hour, fit.handling_secs),
            (10, 80.0, 360.0)
        );
        for (from, to, reason) in [
            ("default_limit = 1", "default_limit = 2", "limit 2"),
            ("\"exponential\"", "\"fixed\"", "not exponential"),
            ("count = 10", "count = 8", "grows without bound"),
            ("close = \"24:00\"", "close = \"20:00\"", "pause overnight"),
            (
                "mean_secs = 360 }",
                "mean_secs = 360 }\npatience = { distribution = \"fixed\", mean_secs = 60 }",
                "abandon",
            ),
        ] {
            let s = parse("e.toml", &erlang.replace(from, to)).expect("valid");
            let e = s.erlang_fit().expect_err(reason);
            assert!(e.contains(reason), "{e}");
        }
    }
}
