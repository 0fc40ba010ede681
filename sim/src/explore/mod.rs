//! Experiments over a scenario beyond one comparison (sim/MODEL.md §13): sweeps of spec
//! fields and behaviour parameters, the sensitivity of the decision to the behaviour
//! parameters, and the search for the best spec.
//!
//! They share one idea. A [`Factor`] is a number of the scenario that can be set: a field of
//! one spec by its dotted path, or a behaviour parameter by its name in MODEL.md §7.1. A
//! point gives factors values; [`at_point`] turns a scenario and a point into the scenario
//! to simulate, validated like any scenario file. Every point of an experiment keeps the
//! scenario's seed and replication indices, so it is simulated on the same worlds and
//! shocks as every other point (common random numbers) and differences between points are
//! paired.

use std::fmt;

use chanlab_shared::ProcessRules;
use toml::{Table, Value};

use crate::params::{self, ParameterInfo};
use crate::scenario::{self, Scenario, ScenarioFile, SpecEntry};

pub mod optimise;
pub mod sensitivity;
pub mod sensitivity_chart;
pub mod sweep;
pub mod sweep_chart;

/// What went wrong setting up an experiment: the field (or flag) it is about, what is wrong
/// and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}{}", fix.as_deref().map(|f| format!("; fix: {f}")).unwrap_or_default())]
pub struct ExploreError {
    /// The field path in the experiment's input (`sweep[0].path`) or the flag (`--vary`).
    pub field: String,
    /// What is wrong (and, where no fix is given apart, how to fix it).
    pub message: String,
    /// What to do, when it is something other than changing the field.
    pub fix: Option<String>,
}

impl ExploreError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            fix: None,
        }
    }

    /// The error with what to do about it.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// A number of the scenario an experiment can set.
#[derive(Debug, Clone)]
pub enum Factor {
    /// A field of the spec at index `spec` of the scenario, by its dotted path in the spec
    /// file (`goal_setting.strategy.uplift`).
    Spec {
        /// Index of the spec in the scenario.
        spec: usize,
        /// Dotted path of the field in the spec file.
        path: String,
    },
    /// A behaviour parameter (`commitment_midpoint`, `own_touches.B`, `effort_range[1]`).
    Behaviour(&'static ParameterInfo),
}

impl Factor {
    /// The behaviour parameter called `name`, or an error listing how to find the names.
    pub fn behaviour(name: &str) -> Result<Self, String> {
        params::parameter(name)
            .map(Factor::Behaviour)
            .ok_or_else(|| {
                format!(
                    "no behaviour parameter is called {name:?}; `chanlab scenario init` lists them \
                 (sim/MODEL.md §7.1)"
                )
            })
    }

    /// The field at `path` of the spec called `spec_name` in `scenario`; checked to exist and
    /// hold a number.
    pub fn spec_field(scenario: &Scenario, spec_name: &str, path: &str) -> Result<Self, String> {
        let spec = spec_index(scenario, spec_name)?;
        spec_value(&scenario.specs()[spec], path)?;
        Ok(Factor::Spec {
            spec,
            path: path.to_owned(),
        })
    }

    /// The factor's value in `scenario`.
    pub fn value(&self, scenario: &Scenario) -> Result<f64, String> {
        match self {
            Factor::Spec { spec, path } => spec_value(&scenario.specs()[*spec], path),
            Factor::Behaviour(p) => Ok(p.value(scenario.behaviour())),
        }
    }

    /// A short label for tables and charts: the path, or the parameter's name.
    pub fn label(&self) -> &str {
        match self {
            Factor::Spec { path, .. } => path,
            Factor::Behaviour(p) => p.name(),
        }
    }
}

impl PartialEq for Factor {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Factor::Spec { spec: a, path: p }, Factor::Spec { spec: b, path: q }) => {
                a == b && p == q
            }
            (Factor::Behaviour(a), Factor::Behaviour(b)) => a.name() == b.name(),
            _ => false,
        }
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Factor::Spec { spec, path } => write!(f, "specs[{spec}].{path}"),
            Factor::Behaviour(p) => write!(f, "behaviour.{}", p.name()),
        }
    }
}

/// The index of the spec called `name` in `scenario`.
pub fn spec_index(scenario: &Scenario, name: &str) -> Result<usize, String> {
    scenario
        .specs()
        .iter()
        .position(|s| s.name.as_str() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = scenario.specs().iter().map(|s| s.name.as_str()).collect();
            format!(
                "the scenario has no spec called {name:?}; its specs: {}",
                known.join(", ")
            )
        })
}

/// `scenario` with every factor of `point` set to its value, validated as a scenario file
/// is (ranges, cross-field rules). Seed and replications are kept, so the point runs on the
/// scenario's replications. A calibrated scenario's draw of a parameter the point sets is
/// dropped: the point fixes it.
pub fn at_point(scenario: &Scenario, point: &[(Factor, f64)]) -> Result<Scenario, String> {
    let mut file: ScenarioFile = scenario.file().clone();
    let mut specs: Vec<ProcessRules> = scenario.specs().to_vec();
    for (factor, value) in point {
        match factor {
            Factor::Spec { spec, path } => {
                specs[*spec] = with_spec_value(&specs[*spec], path, *value)?;
            }
            Factor::Behaviour(p) => {
                if !p.valid().contains(*value) {
                    let v = p.valid();
                    return Err(format!(
                        "behaviour.{}: expected a number between {} and {}, found {value}",
                        p.name(),
                        v.min,
                        v.max
                    ));
                }
                *p.value_mut(&mut file.behaviour) = *value;
                if let Some(u) = &mut file.uncertainty {
                    u.parameters.retain(|d| d.parameter != p.name());
                }
            }
        }
    }
    file.behaviour
        .validate()
        .map_err(|e| format!("behaviour.{}: {}", e.field(), e.message()))?;
    file.specs = specs
        .into_iter()
        .map(|rules| SpecEntry {
            bundled: None,
            file: None,
            inline: Some(rules),
        })
        .collect();
    let no_files = |path: &str| Err(format!("a point may not refer to files ({path})"));
    scenario::resolve(file, &no_files).map_err(|e| format!("{}: {}", e.field, e.message))
}

/// `scenario` with `extra` specs appended after its own (same seed, replications and
/// baseline): several variants of a spec simulated in one run, on common random numbers.
pub fn with_extra_specs(scenario: &Scenario, extra: Vec<ProcessRules>) -> Result<Scenario, String> {
    let mut file = scenario.file().clone();
    file.specs.extend(extra.into_iter().map(|rules| SpecEntry {
        bundled: None,
        file: None,
        inline: Some(rules),
    }));
    let no_files = |path: &str| Err(format!("a point may not refer to files ({path})"));
    scenario::resolve(file, &no_files).map_err(|e| format!("{}: {}", e.field, e.message))
}

/// The number at `path` in `rules`.
pub fn spec_value(rules: &ProcessRules, path: &str) -> Result<f64, String> {
    let table = spec_table(rules)?;
    match lookup(&table, path)? {
        Value::Float(x) => Ok(*x),
        Value::Integer(n) => Ok(*n as f64),
        other => Err(format!(
            "{path}: holds {}, not a number; only numeric fields can be varied",
            other.type_str()
        )),
    }
}

/// `rules` with the number at `path` set to `value`, parsed back so every field rule of a
/// spec file holds (an integer field takes only whole numbers).
pub fn with_spec_value(
    rules: &ProcessRules,
    path: &str,
    value: f64,
) -> Result<ProcessRules, String> {
    let mut table = spec_table(rules)?;
    let slot = lookup_mut(&mut table, path)?;
    *slot = match slot {
        Value::Integer(_) if value.fract() == 0.0 && value.abs() < 9.0e15 => {
            Value::Integer(value as i64)
        }
        Value::Integer(_) => {
            return Err(format!("{path}: takes a whole number, found {value}"));
        }
        Value::Float(_) => Value::Float(value),
        other => {
            return Err(format!(
                "{path}: holds {}, not a number; only numeric fields can be varied",
                other.type_str()
            ));
        }
    };
    Value::Table(table)
        .try_into::<ProcessRules>()
        .map_err(|e| format!("{path} = {value}: {}", e.message().trim()))
}

fn spec_table(rules: &ProcessRules) -> Result<Table, String> {
    Table::try_from(rules).map_err(|e| format!("cannot restate the spec as TOML: {e}"))
}

/// One step of a dotted path: a key, then any `[i]` indices (`cadences[0]`).
fn steps(path: &str) -> Result<Vec<(String, Vec<usize>)>, String> {
    if path.is_empty() {
        return Err(
            "the path is empty; give a dotted path such as goal_setting.strategy.uplift".into(),
        );
    }
    path.split('.')
        .map(|part| {
            let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            let mut indices = Vec::new();
            for index in rest.split('[').filter(|r| !r.is_empty()) {
                let n = index
                    .strip_suffix(']')
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("{path}: {part:?} is not a key or key[index]"))?;
                indices.push(n);
            }
            Ok((key.to_owned(), indices))
        })
        .collect()
}

fn lookup<'t>(table: &'t Table, path: &str) -> Result<&'t Value, String> {
    let steps = steps(path)?;
    let mut current = table;
    for (n, (key, indices)) in steps.iter().enumerate() {
        let mut value = current
            .get(key)
            .ok_or_else(|| missing(current, path, key))?;
        for &i in indices {
            let array = value
                .as_array()
                .ok_or_else(|| format!("{path}: {key:?} is not a list in the spec"))?;
            value = array.get(i).ok_or_else(|| {
                format!(
                    "{path}: {key:?} has {} entries, counted from 0",
                    array.len()
                )
            })?;
        }
        if n + 1 == steps.len() {
            return Ok(value);
        }
        current = value
            .as_table()
            .ok_or_else(|| format!("{path}: {key:?} is not a table in the spec"))?;
    }
    unreachable!("steps() returns at least one step")
}

fn lookup_mut<'t>(table: &'t mut Table, path: &str) -> Result<&'t mut Value, String> {
    // Checked read-only first, so the walk below cannot fail.
    lookup(table, path)?;
    let steps = steps(path)?;
    let mut current = table;
    let last = steps.len() - 1;
    for (n, (key, indices)) in steps.iter().enumerate() {
        let mut value = current.get_mut(key).expect("lookup checked the path");
        for &i in indices {
            value = &mut value.as_array_mut().expect("lookup checked the path")[i];
        }
        if n == last {
            return Ok(value);
        }
        current = value.as_table_mut().expect("lookup checked the path");
    }
    unreachable!("steps() returns at least one step")
}

fn missing(table: &Table, path: &str, part: &str) -> String {
    let keys: Vec<&str> = table.keys().map(String::as_str).collect();
    format!(
        "{path}: the spec has no {part:?} here; it has: {}",
        keys.join(", ")
    )
}

#[cfg(test)]
mod tests;
