//! Identifiers the host chooses: agents, groups, conversations and visitors.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps the host's identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as the host gave it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
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
    /// A skill group: a set of agents, each with a priority in it.
    GroupId
);
id_type!(
    /// One chat session of one visitor, named by the host. Unique for the engine's lifetime
    /// (until the host forgets it with [`Command::Forget`](crate::Command::Forget)).
    ConversationId
);
id_type!(
    /// A stable visitor identity (a partner id, or an anonymous visitor id); the engine remembers
    /// the last agent who served it.
    VisitorId
);
id_type!(
    /// A named weekly schedule (working hours or service hours).
    ScheduleId
);
