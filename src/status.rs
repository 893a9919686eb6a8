//! An agent's status (R-A2): the vocabulary, with what makes a status assignable.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::Config;

/// An agent's status (R-A2). Online is assignable; Busy, ShortBreak and Offline are not; a
/// custom status is assignable when its [`CustomStatus`](crate::CustomStatus) says so.
///
/// On the wire a status is its name, a plain string: `"Online"`, `"ShortBreak"`, or the
/// custom status's own name (`"Lunch"`). A name that is not a built-in status reads as
/// [`AgentStatus::Custom`]; [`Config::validate`] refuses custom statuses named like a
/// built-in one, so no status is ambiguous.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentStatus {
    /// Available: gets automatic work.
    Online,
    /// Busy: no new automatic work.
    Busy,
    /// On a short break: no new automatic work.
    ShortBreak,
    /// Offline: no new automatic work.
    #[default]
    Offline,
    /// A host-defined status from [`Config::custom_statuses`].
    Custom(String),
}

impl AgentStatus {
    /// Whether an agent in this status gets automatic work under `config`; `None` for a custom
    /// status the config does not define.
    pub(crate) fn assignable(&self, config: &Config) -> Option<bool> {
        match self {
            AgentStatus::Online => Some(true),
            AgentStatus::Busy | AgentStatus::ShortBreak | AgentStatus::Offline => Some(false),
            AgentStatus::Custom(name) => config.custom_status(name),
        }
    }

    /// The status's name: the built-in status's name, or the custom status's own. It is what
    /// the status is on the wire and in [`Display`](fmt::Display).
    pub fn name(&self) -> &str {
        match self {
            AgentStatus::Online => "Online",
            AgentStatus::Busy => "Busy",
            AgentStatus::ShortBreak => "ShortBreak",
            AgentStatus::Offline => "Offline",
            AgentStatus::Custom(name) => name,
        }
    }

    /// The built-in status named `name`, if there is one.
    fn built_in(name: &str) -> Option<Self> {
        match name {
            "Online" => Some(AgentStatus::Online),
            "Busy" => Some(AgentStatus::Busy),
            "ShortBreak" => Some(AgentStatus::ShortBreak),
            "Offline" => Some(AgentStatus::Offline),
            _ => None,
        }
    }
}

/// The status named `name`: a built-in one, else a custom one. Never fails.
impl FromStr for AgentStatus {
    type Err = Infallible;

    fn from_str(name: &str) -> Result<Self, Infallible> {
        Ok(Self::built_in(name).unwrap_or_else(|| AgentStatus::Custom(name.to_owned())))
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for AgentStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AgentStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(match Self::built_in(&name) {
            Some(status) => status,
            None => AgentStatus::Custom(name),
        })
    }
}
