//! Serde helpers for the wire convention written in the crate docs ("Wire format"): unit
//! variants of tagged enums that refuse unknown fields, durations as whole milliseconds, and
//! updates that tell "leave" (absent) from "remove" (`null`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// An object with no fields besides its `"type"`; any other field is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// Deserializes a unit variant of an internally tagged enum, refusing fields beside its tag
/// (serde ignores them for unit variants otherwise). Use as
/// `#[serde(deserialize_with = "crate::wire::no_fields")]` on the variant.
pub(crate) fn no_fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    NoFields::deserialize(deserializer).map(|_| ())
}

/// `Option<Duration>` as whole milliseconds (saturating at `u64::MAX`) or null:
/// `#[serde(with = "crate::wire::ms_opt")]`.
pub(crate) mod ms_opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => {
                serializer.serialize_some(&u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
            }
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(deserializer).map(|ms| ms.map(Duration::from_millis))
    }
}

/// `Option<Option<T>>` for a field of an update: absent is `None` (leave the value), `null` is
/// `Some(None)` (remove it), a value is `Some(Some(value))`. Use with `default` and
/// `skip_serializing_if = "Option::is_none"`, so that `None` is written as an absent field:
/// `#[serde(default, skip_serializing_if = "Option::is_none", with = "crate::wire::double_option")]`.
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
