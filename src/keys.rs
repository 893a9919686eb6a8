//! The engine's internal keys, and the map keyed by the host's ids.

use indexmap::IndexMap;

/// An agent's internal key: its registration sequence number (never reused).
pub(crate) type AgentKey = u64;
/// A group's internal key: its registration sequence number (never reused).
pub(crate) type GroupKey = u64;
/// A conversation's internal key: its arrival sequence number (never reused).
pub(crate) type ConvKey = u64;
/// A schedule's internal key: its definition sequence number (never reused).
pub(crate) type ScheduleKey = u64;
/// A kind of work's internal key: its index in the compiled kinds of the config in force
/// (re-derived when the config changes).
pub(crate) type KindKey = usize;

/// A map keyed by the host's ids. Iteration is insertion order whatever the hasher, so the
/// engine's behaviour does not depend on it; foldhash is several times faster than SipHash on
/// short strings, and its per-process random seed keeps keys chosen by visitors from
/// colliding on purpose.
pub(crate) type IdMap<K, V> = IndexMap<K, V, foldhash::fast::RandomState>;
/// A skill's internal key: its index in [`Config::skills`](crate::Config::skills) (re-derived
/// when the config changes).
pub(crate) type SkillKey = u32;
/// A requirement set's internal key (R-SK4); 0 is the empty set, which requires nothing.
/// Interned while a routing key uses it, then reused.
pub(crate) type ReqKey = u32;
/// A routing key's internal key (R-SK4): its slot in the engine's table of routing keys,
/// reused after the key is dropped. Derived state.
pub(crate) type RouteKey = u64;
