//! Behaviour parameters: how reps, partners and regional managers respond.
//!
//! Every parameter is one row of the table in `table.rs`: its name, type, default, valid
//! range, plausible range, unit, doc line and source. The `Behaviour` struct, its
//! `Default`, its range-checking `Deserialize`, [`Behaviour::validate`], the
//! [`parameters`] listing and the `chanlab scenario init` template
//! ([`commented_defaults`]) are all generated from that one table, and tests check
//! `sim/MODEL.md` §7.1 against it. The defaults describe a mid-size B2B channel; where no
//! published figure exists the parameter is a calibration knob, and its source says so.

use std::sync::OnceLock;

use chanlab_shared::{Tier, ValidationError};
use serde::{Deserialize, Serialize};

#[macro_use]
mod macros;
mod de_checked;
#[cfg(feature = "openapi")]
mod schema;
mod table;
#[cfg(test)]
mod tests;

pub use table::{Behaviour, FIELD_NAMES};

/// A value per partner tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PerTier {
    /// Tier A.
    #[serde(rename = "A")]
    pub a: f64,
    /// Tier B.
    #[serde(rename = "B")]
    pub b: f64,
    /// Tier C.
    #[serde(rename = "C")]
    pub c: f64,
}

impl PerTier {
    /// The value for `tier`.
    pub fn get(&self, tier: Tier) -> f64 {
        match tier {
            Tier::A => self.a,
            Tier::B => self.b,
            Tier::C => self.c,
        }
    }
}

/// A closed interval `min..=max` of a parameter's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Lowest value in the interval.
    pub min: f64,
    /// Highest value in the interval.
    pub max: f64,
}

impl Bounds {
    /// The interval `min..=max`.
    pub const fn new(min: f64, max: f64) -> Self {
        Self { min, max }
    }

    /// Whether `v` is a finite number inside the interval.
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && (self.min..=self.max).contains(&v)
    }

    /// `Ok(v)` inside the interval, otherwise the message validation has always given.
    fn check(&self, v: f64) -> Result<f64, String> {
        if self.contains(v) {
            Ok(v)
        } else {
            Err(format!(
                "expected a number between {} and {}, found {v}",
                self.min, self.max
            ))
        }
    }
}

/// One entry of the behaviour parameter table: a scalar parameter, one tier of a per-tier
/// parameter (`own_touches.B`) or one element of `effort_range` (`effort_range[0]`).
///
/// Sensitivity analysis and calibration read and write a [`Behaviour`] through these
/// entries by name; [`Behaviour::validate`] afterwards checks the cross-field rules.
#[derive(Debug, Clone, Copy)]
pub struct ParameterInfo {
    name: &'static str,
    field: &'static str,
    default: f64,
    valid: Bounds,
    plausible: Bounds,
    unit: &'static str,
    doc: &'static str,
    source: &'static str,
    get: fn(&Behaviour) -> f64,
    slot: fn(&mut Behaviour) -> &mut f64,
}

impl ParameterInfo {
    /// The entry's name: the field, with `.A`/`.B`/`.C` for a tier or `[0]`/`[1]` for an
    /// element. It is also the path an out-of-range value is reported under.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `Behaviour` field (and `[behaviour]` key) the entry belongs to.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The default value.
    pub fn default(&self) -> f64 {
        self.default
    }

    /// The values the model accepts; anything outside is rejected.
    pub fn valid(&self) -> Bounds {
        self.valid
    }

    /// The range a careful modeller believes the real value lies in (inside the valid
    /// range, containing the default): what a sensitivity analysis varies it over.
    pub fn plausible(&self) -> Bounds {
        self.plausible
    }

    /// The unit of the value.
    pub fn unit(&self) -> &'static str {
        self.unit
    }

    /// What the parameter means (the field's rustdoc, on one line).
    pub fn doc(&self) -> &'static str {
        // Each `///` line starts with a space; joined, they read as one sentence.
        self.doc.trim_start()
    }

    /// Where the default and the plausible range come from: a citation, or "calibration
    /// knob" with the reasoning behind the range.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The entry's value in `b`.
    pub fn value(&self, b: &Behaviour) -> f64 {
        (self.get)(b)
    }

    /// The entry's slot in `b`, to set it; nothing is checked until
    /// [`Behaviour::validate`].
    pub fn value_mut<'b>(&self, b: &'b mut Behaviour) -> &'b mut f64 {
        (self.slot)(b)
    }
}

/// Every entry of the behaviour parameter table, in the struct's field order.
pub fn parameters() -> &'static [ParameterInfo] {
    static ALL: OnceLock<Vec<ParameterInfo>> = OnceLock::new();
    ALL.get_or_init(table::entries)
}

/// The table entry called `name` (`demand_noise`, `own_touches.B`, `effort_range[1]`).
pub fn parameter(name: &str) -> Option<&'static ParameterInfo> {
    parameters().iter().find(|p| p.name == name)
}

impl Behaviour {
    /// Checks every parameter is in its valid range and the cross-field rules hold,
    /// naming the first that does not. Deserialising already does this; call it after
    /// building or changing a `Behaviour` in code (calibration, uncertainty draws).
    pub fn validate(&self) -> Result<(), ValidationError> {
        for p in parameters() {
            p.valid
                .check(p.value(self))
                .map_err(|message| ValidationError::new(p.name, message))?;
        }
        self.check_across()
    }

    /// The rules that tie one parameter's range to another's value ([`CROSS_FIELD_RULES`]
    /// says them in words).
    fn check_across(&self) -> Result<(), ValidationError> {
        if self.recovered_above < self.at_risk_below {
            return Err(ValidationError::new(
                "recovered_above",
                format!(
                    "must be at least at_risk_below ({}), found {}",
                    self.at_risk_below, self.recovered_above
                ),
            ));
        }
        // The table's static range for max_cover_months starts at 0; its real floor is
        // the normal cover, as validation has always required.
        Bounds::new(self.cover_months, 24.0)
            .check(self.max_cover_months)
            .map_err(|message| ValidationError::new("max_cover_months", message))?;
        Ok(())
    }
}

/// The rules [`Behaviour::validate`] checks across fields, in words, for the schema's
/// description: a schema states each parameter's own range but cannot tie one parameter's
/// range to another's value.
pub const CROSS_FIELD_RULES: &str = "Two rules tie parameters together and are not expressed \
    in this schema: `recovered_above` must be at least `at_risk_below`, and \
    `max_cover_months` must be at least `cover_months`; a scenario breaking either is \
    rejected.";

/// Checks `v` is a finite number in `lo..=hi`, naming `field` if not.
pub(crate) fn check_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    Bounds::new(lo, hi)
        .check(v)
        .map(|_| ())
        .map_err(|message| ValidationError::new(field, message))
}

/// Reads a `[behaviour]` table already parsed into TOML (e.g. a scenario's table with a
/// file's overrides merged in), naming the path of a bad value as `files::parse` does.
pub fn from_toml(table: toml::Value) -> Result<Behaviour, ValidationError> {
    serde_path_to_error::deserialize(table).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ValidationError::new(field, e.inner().message())
    })
}

/// The plausible range of `field`'s entries as written in the scenario template and in
/// sim/MODEL.md §7.1: `0.2–0.5`, or per entry `A 0.3–1.2, B …` and `[0] 0.3–0.7, …`.
pub fn plausible_text(field: &str) -> String {
    let entries: Vec<&ParameterInfo> = parameters().iter().filter(|p| p.field == field).collect();
    let range = |p: &ParameterInfo| format!("{}–{}", p.plausible.min, p.plausible.max);
    match entries.as_slice() {
        [one] if one.name == field => range(one),
        many => many
            .iter()
            .map(|p| {
                let label = p.name[field.len()..].trim_start_matches('.');
                format!("{label} {}", range(p))
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The `[behaviour]` table with every parameter at its default, commented out, with its
/// meaning, unit and plausible range: for `chanlab scenario init`.
pub fn commented_defaults() -> String {
    let defaults = toml::Value::try_from(Behaviour::default()).expect("defaults serialise");
    let table = defaults.as_table().expect("a table");
    let mut out = String::from(
        "# Behaviour parameters. Every one has a documented default (sim/MODEL.md); uncomment\n# a line to change it.\n[behaviour]\n",
    );
    for field in FIELD_NAMES {
        let value = table
            .get(*field)
            .map_or_else(String::new, |v| v.to_string());
        let first = parameters()
            .iter()
            .find(|p| p.field == *field)
            .expect("every field has a table entry");
        out.push_str(&format!(
            "# {field} = {value}\n#   {}\n#   unit: {}; plausible: {}\n",
            first.doc(),
            first.unit,
            plausible_text(field)
        ));
    }
    out
}
