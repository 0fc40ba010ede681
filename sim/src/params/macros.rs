//! The macro that turns the parameter table (`table.rs`) into the `Behaviour` struct, its
//! `Default`, its checking `Deserialize`, the listing behind [`super::parameters`] and, with
//! the `openapi` feature, its OpenAPI schema.
//!
//! A row is `name: type = default, valid [..], plausible [..], unit "..", source "..";`
//! after its `///` doc. `type` is `f64`, `PerTier` or `[f64; 2]`; the helper macros below
//! read the default and the ranges in the shape that type needs, so every row has the same
//! outer shape and one `macro_rules!` pass generates everything from it.

/// Generates everything a behaviour parameter needs from its one table row.
macro_rules! behaviour_parameters {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident : $ty:tt = $default:tt,
            valid $valid:tt,
            plausible $plausible:tt,
            unit $unit:literal,
            source $source:literal;
    )+) => {
        /// How the people in the channel behave. See `sim/MODEL.md` for every equation and
        /// [`parameters`](super::parameters) for each field's unit, ranges and source.
        ///
        /// Deserialising checks every value against its valid range as it is read, so an
        /// error names the field's path (`behaviour.demand_noise`); omitted fields keep their
        /// defaults and unknown ones are rejected.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct Behaviour {
            $(
                $(#[doc = $doc])+
                pub $name: param_type!($ty),
            )+
        }

        impl Default for Behaviour {
            fn default() -> Self {
                Self {
                    $($name: param_default!($ty, $default),)+
                }
            }
        }

        /// The struct's field names, in the order they are declared and serialised.
        pub const FIELD_NAMES: &[&str] = &[$(stringify!($name)),+];

        /// Every entry of the table, built once: one per scalar, three per tiered parameter,
        /// two for `effort_range`.
        pub(super) fn entries() -> Vec<ParameterInfo> {
            let mut all = Vec::new();
            $(
                all.extend_from_slice(&param_entries!(
                    $ty, $name, $default, $valid, $plausible,
                    concat!($($doc),+), $unit, $source
                ));
            )+
            all
        }

        // By hand, not derived: the bounds, defaults and units are the table's, as the
        // checking `Deserialize` below reads them (`schema.rs` builds the pieces).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for Behaviour {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                super::schema::behaviour(vec![$(
                    (
                        stringify!($name),
                        param_schema!($ty, $default, $valid, concat!($($doc),+), $unit),
                    ),
                )+])
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for Behaviour {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                super::schema::referenced(schemas);
            }
        }

        impl<'de> Deserialize<'de> for Behaviour {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_struct("Behaviour", FIELD_NAMES, BehaviourVisitor)
            }
        }

        /// Reads a `[behaviour]` table field by field over the defaults.
        struct BehaviourVisitor;

        impl<'de> Visitor<'de> for BehaviourVisitor {
            type Value = Behaviour;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of behaviour parameters")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Behaviour, M::Error> {
                let mut b = Behaviour::default();
                let mut seen: Vec<&'static str> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let name: &'static str = match key.as_str() {
                        $(stringify!($name) => {
                            // Each value goes through a seed that checks its range, so the
                            // error is raised inside the field and carries its path.
                            b.$name = map.next_value_seed(param_seed!($ty, $valid))?;
                            stringify!($name)
                        })+
                        other => return Err(de::Error::unknown_field(other, FIELD_NAMES)),
                    };
                    if seen.contains(&name) {
                        return Err(de::Error::duplicate_field(name));
                    }
                    seen.push(name);
                }
                b.check_across().map_err(|e| de::Error::custom(e.to_string()))?;
                Ok(b)
            }
        }
    };
}

/// The Rust type of a row's `type` token.
macro_rules! param_type {
    (f64) => {
        f64
    };
    (PerTier) => {
        PerTier
    };
    ([f64; 2]) => {
        [f64; 2]
    };
}

/// A row's default as a value of its type.
macro_rules! param_default {
    (f64, $d:literal) => {
        $d
    };
    (PerTier, {A: $a:literal, B: $b:literal, C: $c:literal}) => {
        PerTier {
            a: $a,
            b: $b,
            c: $c,
        }
    };
    ([f64; 2], [$lo:literal, $hi:literal]) => {
        [$lo, $hi]
    };
}

/// The seed that deserialises one field of a row's type, checking its valid range.
macro_rules! param_seed {
    (f64, [$lo:expr, $hi:expr]) => {
        de_checked::Checked(Bounds::new($lo, $hi))
    };
    (PerTier, [$lo:expr, $hi:expr]) => {
        de_checked::Tiered(Bounds::new($lo, $hi))
    };
    ([f64; 2], [[$lo0:expr, $hi0:expr], [$lo1:expr, $hi1:expr]]) => {
        de_checked::Pair([Bounds::new($lo0, $hi0), Bounds::new($lo1, $hi1)])
    };
}

/// The OpenAPI schema of one row's property: its type, default, valid range and text.
#[cfg(feature = "openapi")]
macro_rules! param_schema {
    (f64, $d:literal, [$lo:expr, $hi:expr], $doc:expr, $unit:literal) => {
        super::schema::number($doc, $unit, $d, Bounds::new($lo, $hi))
    };
    (PerTier, $d:tt, [$lo:expr, $hi:expr], $doc:expr, $unit:literal) => {
        super::schema::per_tier(
            $doc,
            $unit,
            param_default!(PerTier, $d),
            Bounds::new($lo, $hi),
        )
    };
    ([f64; 2], $d:tt, [[$lo0:expr, $hi0:expr], [$lo1:expr, $hi1:expr]], $doc:expr, $unit:literal) => {
        super::schema::pair(
            $doc,
            $unit,
            param_default!([f64; 2], $d),
            [Bounds::new($lo0, $hi0), Bounds::new($lo1, $hi1)],
        )
    };
}

/// The table entries of one row, as an array of [`ParameterInfo`].
macro_rules! param_entries {
    (f64, $name:ident, $d:literal, [$lo:expr, $hi:expr], [$plo:expr, $phi:expr],
     $doc:expr, $unit:literal, $source:literal) => {
        [param_entry!(
            $name,
            stringify!($name),
            $d,
            [$lo, $hi],
            [$plo, $phi],
            $doc,
            $unit,
            $source,
            |b| b.$name,
            |b| &mut b.$name
        )]
    };
    (PerTier, $name:ident, {A: $a:literal, B: $b:literal, C: $c:literal}, [$lo:expr, $hi:expr],
     {A: [$alo:expr, $ahi:expr], B: [$blo:expr, $bhi:expr], C: [$clo:expr, $chi:expr]},
     $doc:expr, $unit:literal, $source:literal) => {
        [
            param_entry!(
                $name,
                concat!(stringify!($name), ".A"),
                $a,
                [$lo, $hi],
                [$alo, $ahi],
                $doc,
                $unit,
                $source,
                |b| b.$name.a,
                |b| &mut b.$name.a
            ),
            param_entry!(
                $name,
                concat!(stringify!($name), ".B"),
                $b,
                [$lo, $hi],
                [$blo, $bhi],
                $doc,
                $unit,
                $source,
                |b| b.$name.b,
                |b| &mut b.$name.b
            ),
            param_entry!(
                $name,
                concat!(stringify!($name), ".C"),
                $c,
                [$lo, $hi],
                [$clo, $chi],
                $doc,
                $unit,
                $source,
                |b| b.$name.c,
                |b| &mut b.$name.c
            ),
        ]
    };
    ([f64; 2], $name:ident, [$d0:literal, $d1:literal],
     [[$lo0:expr, $hi0:expr], [$lo1:expr, $hi1:expr]],
     [[$plo0:expr, $phi0:expr], [$plo1:expr, $phi1:expr]],
     $doc:expr, $unit:literal, $source:literal) => {
        [
            param_entry!(
                $name,
                concat!(stringify!($name), "[0]"),
                $d0,
                [$lo0, $hi0],
                [$plo0, $phi0],
                $doc,
                $unit,
                $source,
                |b| b.$name[0],
                |b| &mut b.$name[0]
            ),
            param_entry!(
                $name,
                concat!(stringify!($name), "[1]"),
                $d1,
                [$lo1, $hi1],
                [$plo1, $phi1],
                $doc,
                $unit,
                $source,
                |b| b.$name[1],
                |b| &mut b.$name[1]
            ),
        ]
    };
}

/// One [`ParameterInfo`]; the accessors are small `fn` items, so an entry is plain data
/// that can be copied and listed.
macro_rules! param_entry {
    ($field:ident, $name:expr, $d:literal, [$lo:expr, $hi:expr], [$plo:expr, $phi:expr],
     $doc:expr, $unit:literal, $source:literal, |$g:ident| $get:expr, |$s:ident| $slot:expr) => {
        ParameterInfo {
            name: $name,
            field: stringify!($field),
            default: $d,
            valid: Bounds::new($lo, $hi),
            plausible: Bounds::new($plo, $phi),
            unit: $unit,
            doc: $doc,
            source: $source,
            get: {
                fn get($g: &Behaviour) -> f64 {
                    $get
                }
                get
            },
            slot: {
                fn slot($s: &mut Behaviour) -> &mut f64 {
                    $slot
                }
                slot
            },
        }
    };
}
