//! Seeds that deserialise one behaviour field and check it against its valid range.
//!
//! The check runs inside the field's own deserialisation (not after the whole table is
//! read), so `serde_path_to_error` reports the field's path with the error, down to a tier
//! (`touches_for_half_engagement.B`) or an element (`effort_range[1]`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Bounds, PerTier};

/// One number within bounds.
pub(super) struct Checked(pub(super) Bounds);

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        // f64's own impl, so integers (`calls_per_month = 20`) are read as before.
        let v = <f64 as serde::Deserialize>::deserialize(deserializer)?;
        self.0.check(v).map_err(de::Error::custom)
    }
}

/// A `{ A = .., B = .., C = .. }` table, every tier within the same bounds and all three
/// required, as `PerTier`'s derived impl requires them.
pub(super) struct Tiered(pub(super) Bounds);

impl<'de> DeserializeSeed<'de> for Tiered {
    type Value = PerTier;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<PerTier, D::Error> {
        deserializer.deserialize_struct("PerTier", TIERS, self)
    }
}

const TIERS: &[&str] = &["A", "B", "C"];

impl<'de> Visitor<'de> for Tiered {
    type Value = PerTier;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table with a number for each tier A, B and C")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<PerTier, M::Error> {
        let mut tiers: [Option<f64>; 3] = [None; 3];
        while let Some(key) = map.next_key::<String>()? {
            let i = TIERS
                .iter()
                .position(|t| *t == key)
                .ok_or_else(|| de::Error::unknown_field(&key, TIERS))?;
            if tiers[i].is_some() {
                return Err(de::Error::duplicate_field(TIERS[i]));
            }
            tiers[i] = Some(map.next_value_seed(Checked(self.0))?);
        }
        let value = |i: usize| tiers[i].ok_or_else(|| de::Error::missing_field(TIERS[i]));
        Ok(PerTier {
            a: value(0)?,
            b: value(1)?,
            c: value(2)?,
        })
    }
}

/// A two-element array, each element within its own bounds.
pub(super) struct Pair(pub(super) [Bounds; 2]);

impl<'de> DeserializeSeed<'de> for Pair {
    type Value = [f64; 2];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<[f64; 2], D::Error> {
        deserializer.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for Pair {
    type Value = [f64; 2];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of length 2")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<[f64; 2], S::Error> {
        let mut out = [0.0; 2];
        for (i, bounds) in self.0.into_iter().enumerate() {
            out[i] = seq
                .next_element_seed(Checked(bounds))?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(out)
    }
}
