//! Identifiers the host chooses: agents, groups, conversations, visitors, schedules and work
//! kinds; and a target, an agent or a group.
//!
//! Each id is a shared, immutable string (`Arc<str>`): the engine keeps one copy of the text
//! and every record, index and event that names the id holds a reference to it, so cloning an
//! id into an event costs a reference count, not an allocation.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps the host's identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(Arc::from(id.into()))
            }

            /// The identifier as the host gave it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Lets maps keyed by the id be searched with a `&str`, and the engine's queries take
        /// a `&str` as well as the id: hashing, equality and order agree with `str`'s.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(Arc::from(id))
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(Arc::from(id))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
    };
}

id_type!(
    /// An agent (staff member, customer-service representative), named by the host.
    AgentId
);
id_type!(
    /// A skill group: a set of agents, each with a rank in it.
    GroupId
);
id_type!(
    /// One chat session of one visitor, named by the host. Unique for the engine's lifetime
    /// (until the host forgets it with [`Command::Forget`](crate::Command::Forget)).
    ConversationId
);
id_type!(
    /// A stable visitor identity (a partner id, or an anonymous visitor id); the engine remembers
    /// the last agent who served it, until the host forgets it with
    /// [`Command::ForgetVisitor`](crate::Command::ForgetVisitor).
    VisitorId
);
id_type!(
    /// A named weekly schedule (working hours or service hours).
    ScheduleId
);
id_type!(
    /// A kind of work (chat, email, voice, ...), defined in
    /// [`Config::kinds`](crate::Config::kinds) (R-K1). A desk that defines none has one
    /// implicit kind, named `default`.
    KindId
);
id_type!(
    /// A skill (a language, a product, a tier), declared in
    /// [`Config::skills`](crate::Config::skills) (R-SK1). Agents hold skills with a level;
    /// conversations require or prefer them ([`Stage`](crate::Stage)).
    SkillId
);

/// A skill with a proficiency level, 1 (novice) ..= 10 (expert) (R-SK1): what an agent holds
/// ([`AgentSpec::skills`](crate::AgentSpec::skills)), or what a [`Stage`](crate::Stage) requires at least or prefers.
///
/// On the wire: `{"skill":"english","level":7}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillLevel {
    /// The skill, one of [`Config::skills`](crate::Config::skills).
    pub skill: SkillId,
    /// The level, 1..=10.
    pub level: u8,
}

impl SkillLevel {
    /// The lowest level a skill can have.
    pub const MIN: u8 = 1;
    /// The highest level a skill can have.
    pub const MAX: u8 = 10;

    /// A skill at a level.
    pub fn new(skill: impl Into<SkillId>, level: u8) -> Self {
        Self {
            skill: skill.into(),
            level,
        }
    }
}

/// An agent or a group, as the target of an assignment or transfer.
///
/// On the wire: `{"type":"Agent","agent":"ana"}` or `{"type":"Group","group":"support"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "TargetWire", into = "TargetWire")]
#[non_exhaustive]
pub enum Target {
    /// One agent.
    Agent(AgentId),
    /// A group: the engine picks the agent.
    Group(GroupId),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Agent(agent) => write!(f, "agent `{agent}`"),
            Target::Group(group) => write!(f, "group `{group}`"),
        }
    }
}

/// [`Target`] on the wire: the variant in `"type"`, the id in a named field.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum TargetWire {
    Agent { agent: AgentId },
    Group { group: GroupId },
}

impl From<TargetWire> for Target {
    fn from(wire: TargetWire) -> Self {
        match wire {
            TargetWire::Agent { agent } => Target::Agent(agent),
            TargetWire::Group { group } => Target::Group(group),
        }
    }
}

impl From<Target> for TargetWire {
    fn from(target: Target) -> Self {
        match target {
            Target::Agent(agent) => TargetWire::Agent { agent },
            Target::Group(group) => TargetWire::Group { group },
        }
    }
}
