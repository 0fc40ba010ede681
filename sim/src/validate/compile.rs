//! Turning an experiment file into runnable arms: the bundled scenario and specs as TOML
//! tables, the patches merged in, and each arm parsed by the same code as any scenario file,
//! so an arm is accepted exactly when the equivalent scenario file would be.

use toml::{Table, Value};

use super::{Expect, ExperimentFile, Measure, Statistic, ValidateError};
use crate::bundled;
use crate::files::{self, Format};
use crate::model::CompiledSpecs;
use crate::scenario::{self, Scenario};

/// The bundled experiments, in the order the table shows them.
const BUNDLED: &[&str] = &[
    include_str!("../../validation/goal-difficulty.toml"),
    include_str!("../../validation/fiscal-year-end.toml"),
    include_str!("../../validation/quarter-end.toml"),
    include_str!("../../validation/timing-discounts.toml"),
    include_str!("../../validation/ratchet.toml"),
    include_str!("../../validation/bonus-design.toml"),
    include_str!("../../validation/lumpy-bonus.toml"),
    include_str!("../../validation/measured-gets-done.toml"),
];

/// One arm ready to run: a one-spec scenario.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The arm's name (sweep arms: `"{arm} {value}"`).
    pub name: String,
    /// The swept value, for sweep arms.
    pub sweep_value: Option<f64>,
    pub(super) scenario: Scenario,
    pub(super) compiled: CompiledSpecs,
}

impl Arm {
    /// The arm's scenario (one spec, the experiment's seed and replications).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
}

/// A loaded experiment: the file and its arms.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The file as written.
    pub file: ExperimentFile,
    /// The arms, sweep arms expanded in place.
    pub arms: Vec<Arm>,
    /// Indices of the sweep's arms in [`Experiment::arms`], in value order.
    pub sweep: Vec<usize>,
}

impl Experiment {
    /// Index of the arm called `name`.
    pub(super) fn arm(&self, name: &str) -> Option<usize> {
        self.arms.iter().position(|a| a.name == name)
    }
}

/// Every bundled experiment.
pub fn bundled() -> Vec<Experiment> {
    BUNDLED
        .iter()
        .map(|text| load(text).expect("bundled experiments are valid (tested)"))
        .collect()
}

/// The TOML text of the bundled experiment whose id is `id`: a template for one's own.
pub fn bundled_text(id: &str) -> Option<&'static str> {
    BUNDLED
        .iter()
        .copied()
        .find(|text| load(text).is_ok_and(|e| e.file.id == id))
}

/// Loads an experiment from TOML text.
pub fn load(text: &str) -> Result<Experiment, ValidateError> {
    let file: ExperimentFile = files::parse(text, Format::Toml)?;
    let invalid = |field: String, message: String| ValidateError::Invalid {
        experiment: file.id.clone(),
        field,
        message,
    };
    let scenario_text = bundled::find_scenario(&file.scenario)
        .ok_or_else(|| {
            let known: Vec<&str> = bundled::scenarios().iter().map(|s| s.name).collect();
            invalid(
                "scenario".into(),
                format!(
                    "no bundled scenario is called {:?}; known: {}",
                    file.scenario,
                    known.join(", ")
                ),
            )
        })?
        .text;
    let mut base: Table = toml::from_str(scenario_text).map_err(|e| {
        invalid(
            "scenario".into(),
            format!("bundled scenario unreadable: {e}"),
        )
    })?;
    base.remove("specs");
    base.remove("baseline");
    merge(&mut base, &file.scenario_patch);
    if file.replications < 2 {
        return Err(invalid(
            "replications".into(),
            "must be at least 2 for an interval".into(),
        ));
    }
    base.insert(
        "replications".into(),
        Value::Integer(i64::from(file.replications)),
    );

    let mut arms = Vec::new();
    let mut sweep = Vec::new();
    for (i, arm) in file.arms.iter().enumerate() {
        let field = format!("arms[{i}]");
        let spec_text = bundled::find_spec(&arm.spec)
            .ok_or_else(|| {
                let known: Vec<&str> = bundled::specs().iter().map(|s| s.name).collect();
                invalid(
                    format!("{field}.spec"),
                    format!(
                        "no bundled spec is called {:?}; known: {}",
                        arm.spec,
                        known.join(", ")
                    ),
                )
            })?
            .text;
        let mut spec: Table = toml::from_str(spec_text)
            .map_err(|e| invalid(format!("{field}.spec"), format!("unreadable: {e}")))?;
        for (key, value) in &arm.replace {
            spec.insert(key.clone(), value.clone());
        }
        merge(&mut spec, &arm.patch);
        spec.insert("name".into(), Value::String(arm.name.clone()));
        let variants: Vec<(String, Option<f64>, Table)> = match &file.sweep {
            Some(s) if s.arm == arm.name => s
                .values
                .iter()
                .map(|&v| {
                    let mut swept = spec.clone();
                    set_path(&mut swept, &s.path, Value::Float(v))
                        .map_err(|m| invalid("sweep.path".into(), m))?;
                    let name = format!("{} {v}", arm.name);
                    swept.insert("name".into(), Value::String(name.clone()));
                    Ok((name, Some(v), swept))
                })
                .collect::<Result<_, ValidateError>>()?,
            _ => vec![(arm.name.clone(), None, spec)],
        };
        for (name, sweep_value, spec) in variants {
            let mut table = base.clone();
            let behaviour = table
                .entry("behaviour")
                .or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(b) = behaviour {
                merge(b, &arm.behaviour);
            }
            let mut entry = Table::new();
            entry.insert("inline".into(), Value::Table(spec));
            table.insert("specs".into(), Value::Array(vec![Value::Table(entry)]));
            let text = toml::to_string(&table)
                .map_err(|e| invalid(field.clone(), format!("cannot assemble the arm: {e}")))?;
            let no_files = |path: &str| Err(format!("experiments may not refer to files ({path})"));
            let scenario = scenario::parse(&text, Format::Toml, &no_files).map_err(|e| {
                invalid(
                    field.clone(),
                    format!("the arm's scenario is invalid after patching: {e}"),
                )
            })?;
            if sweep_value.is_some() {
                sweep.push(arms.len());
            }
            let compiled = CompiledSpecs::new(&scenario);
            arms.push(Arm {
                name,
                sweep_value,
                scenario,
                compiled,
            });
        }
    }
    if let Some(s) = &file.sweep
        && (sweep.len() < 3
            || !file.arms.iter().any(|a| a.name == s.arm)
            || !s.values.windows(2).all(|w| w[0] < w[1]))
    {
        return Err(invalid(
            "sweep".into(),
            format!(
                "the sweep needs an arm called {:?} and at least three values in rising order",
                s.arm
            ),
        ));
    }
    for (i, arm) in arms.iter().enumerate() {
        if arms[..i].iter().any(|a| a.name == arm.name) {
            return Err(invalid(
                "arms".into(),
                format!(
                    "two arms are called {:?}; give every arm its own name",
                    arm.name
                ),
            ));
        }
    }
    let experiment = Experiment {
        file: file.clone(),
        arms,
        sweep,
    };
    check_references(&experiment).map_err(|(field, message)| invalid(field, message))?;
    Ok(experiment)
}

/// Every check names arms that exist, and peaks go with sweeps.
fn check_references(e: &Experiment) -> Result<(), (String, String)> {
    let known = || {
        e.arms
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let arm = |field: String, name: &str| -> Result<(), (String, String)> {
        match e.arm(name) {
            Some(_) => Ok(()),
            None => Err((
                field,
                format!("no arm is called {name:?}; arms: {}", known()),
            )),
        }
    };
    if e.file.checks.is_empty() {
        return Err(("checks".into(), "give at least one check".into()));
    }
    for (i, check) in e.file.checks.iter().enumerate() {
        let field = format!("checks[{i}].statistic");
        let peak = matches!(check.statistic, Statistic::Peak { .. });
        if peak != (check.expect == Expect::RisesThenFalls) {
            return Err((
                format!("checks[{i}].expect"),
                "`rises_then_falls` goes with a `peak` statistic, and only with it".into(),
            ));
        }
        let measures: Vec<&Measure> = match &check.statistic {
            Statistic::Value { arm: a, measure } => {
                arm(format!("{field}.arm"), a)?;
                vec![measure]
            }
            Statistic::Difference {
                arm: a,
                versus,
                measure,
                ..
            } => {
                arm(format!("{field}.arm"), a)?;
                arm(format!("{field}.versus"), versus)?;
                vec![measure]
            }
            Statistic::Contrast { terms } => {
                if terms.is_empty() {
                    return Err((format!("{field}.terms"), "give at least one term".into()));
                }
                for (k, t) in terms.iter().enumerate() {
                    arm(format!("{field}.terms[{k}].arm"), &t.arm)?;
                    if !t.weight.is_finite() || t.weight == 0.0 {
                        return Err((
                            format!("{field}.terms[{k}].weight"),
                            format!("must be a non-zero number, not {}", t.weight),
                        ));
                    }
                }
                terms.iter().map(|t| &t.measure).collect()
            }
            Statistic::Peak { measure } => {
                if e.sweep.is_empty() {
                    return Err((field, "a `peak` needs a [sweep]".into()));
                }
                vec![measure]
            }
        };
        for m in measures {
            if let Measure::FiscalMonth { month } = m
                && !(1..=12).contains(month)
            {
                return Err((field, format!("fiscal month {month} is not 1–12")));
            }
            if let Measure::QuarterMonth { month, quarter } = m {
                if !(1..=3).contains(month) {
                    return Err((field, format!("quarter month {month} is not 1–3")));
                }
                if *quarter == Some(0) {
                    return Err((field, "quarters are counted from 1".into()));
                }
            }
        }
    }
    Ok(())
}

/// Deep-merges `patch` into `base`: tables key by key, anything else replaced.
pub(crate) fn merge(base: &mut Table, patch: &Table) {
    for (key, value) in patch {
        match (base.get_mut(key), value) {
            (Some(Value::Table(b)), Value::Table(p)) => merge(b, p),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Sets the value at a dotted path, which must already exist (so a typo is an error, not a
/// silently ignored new key).
fn set_path(table: &mut Table, path: &str, value: Value) -> Result<(), String> {
    let mut parts = path.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            return match current.get_mut(part) {
                Some(slot) => {
                    *slot = value;
                    Ok(())
                }
                None => Err(format!("{path}: the spec has no {part:?} here")),
            };
        }
        current = match current.get_mut(part) {
            Some(Value::Table(t)) => t,
            _ => return Err(format!("{path}: {part:?} is not a table in the spec")),
        };
    }
    Err("the path is empty".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_experiment_loads() {
        for text in BUNDLED {
            if let Err(e) = load(text) {
                panic!("{e}");
            }
        }
        assert_eq!(bundled().len(), 8);
        // The within-quarter measurement (not a finding) stays runnable.
        let measurement = include_str!("../../validation/measurements/quarter-profile.toml");
        if let Err(e) = load(measurement) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_patch_merges_tables_and_replaces_values() {
        let mut base: Table = toml::from_str("a = 1\n[t]\nx = 1\ny = 2\n").unwrap();
        let patch: Table = toml::from_str("a = 5\n[t]\ny = 3\nz = 4\n").unwrap();
        merge(&mut base, &patch);
        let expected: Table = toml::from_str("a = 5\n[t]\nx = 1\ny = 3\nz = 4\n").unwrap();
        assert_eq!(base, expected);
    }

    #[test]
    fn a_sweep_path_must_exist() {
        let mut t: Table = toml::from_str("[g]\nu = 0.1\n").unwrap();
        assert!(set_path(&mut t, "g.u", Value::Float(0.5)).is_ok());
        assert_eq!(t["g"]["u"].as_float(), Some(0.5));
        assert!(set_path(&mut t, "g.v", Value::Float(0.5)).is_err());
        assert!(set_path(&mut t, "h.u", Value::Float(0.5)).is_err());
    }

    #[test]
    fn arm_names_are_unique_and_sweeps_rise() {
        let twice = BUNDLED[4].replace("name = \"ratchet\"", "name = \"flat\"");
        let err = load(&twice).unwrap_err().to_string();
        assert!(err.contains("two arms are called \"flat\""), "{err}");
        let unsorted = BUNDLED[0].replace("values = [0.0, 0.05", "values = [0.05, 0.0");
        let err = load(&unsorted).unwrap_err().to_string();
        assert!(err.contains("rising order"), "{err}");
    }

    #[test]
    fn unknown_arms_and_specs_are_named() {
        let text = BUNDLED[1].replace("arm = \"linear\"", "arm = \"lineal\"");
        let err = load(&text).unwrap_err().to_string();
        assert!(err.contains("\"lineal\"") && err.contains("arms:"), "{err}");
        let text = BUNDLED[1].replacen("spec = \"flat-growth\"", "spec = \"flat\"", 1);
        let err = load(&text).unwrap_err().to_string();
        assert!(
            err.contains("arms[0].spec") && err.contains("known:"),
            "{err}"
        );
    }
}
