//! Sweeps (sim/MODEL.md §13.2): a scenario run at every point of a grid over one or two
//! factors, on the same replications, reported as a KPI surface with paired intervals
//! against the baseline.
//!
//! A spec-field axis does not need a run per point: each value becomes a variant of the
//! swept spec, appended to the scenario as an extra spec, so one engine run simulates every
//! variant beside the baseline on the same worlds and shocks. A behaviour axis changes the
//! world itself, so each of its values is a run of its own ([`at_point`]) with the same seed
//! and replication indices. Mixed sweeps do both: one run per behaviour value, holding the
//! variants of the spec axis. Either way a point's numbers are exactly those of running the
//! scenario with the point's values set, and every run is a plain [`RunResult`], so shards
//! of a sweep merge point by point, exactly.

use std::ops::ControlFlow;

use chanlab_shared::{Name, ProcessRules};
use serde::{Deserialize, Serialize};

use super::{ExploreError, Factor, at_point, with_extra_specs, with_spec_value};
use crate::engine::{self, RunOptions, RunResult};
use crate::scenario::{self, MAX_SPECS, Scenario, ScenarioFile};

mod report;

pub use report::{PointKpi, PointReport, PointSpec, SweepReport};

/// Most values one axis may take.
pub const MAX_AXIS_VALUES: usize = 50;
/// Most points (product of the axes' values) one sweep may have.
pub const MAX_POINTS: usize = 400;

/// One axis of a sweep, as written in a scenario file (`[[sweep]]`): a spec field
/// (`spec` and `path`) or a behaviour parameter (`parameter`), and its values (`values` or
/// `grid`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SweepAxis {
    /// Name of the spec whose field is swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Dotted path of the field in the spec file (`goal_setting.strategy.uplift`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Name of the behaviour parameter swept (`commitment_midpoint`, sim/MODEL.md §7.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The values, in the order reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// Evenly spaced values instead of a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Grid>,
}

/// `steps` evenly spaced values from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// First value.
    pub from: f64,
    /// Last value.
    pub to: f64,
    /// How many values, 2 to 50 (`MAX_AXIS_VALUES`).
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 50))]
    pub steps: u32,
}

impl Grid {
    /// The values, `from` and `to` exactly at the ends.
    pub fn values(&self) -> Vec<f64> {
        let n = self.steps.max(2);
        let last = f64::from(n - 1);
        (0..n)
            .map(|i| {
                let t = f64::from(i) / last;
                let x = self.from * (1.0 - t) + self.to * t;
                // Rounded to 12 significant digits so 0.1..0.5 in 3 steps gives 0.3, not
                // 0.30000000000000004, in tables and file names alike.
                format!("{x:.11e}").parse().unwrap_or(x)
            })
            .collect()
    }
}

/// A resolved axis: the factor and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// What is varied.
    pub factor: Factor,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// The axes of `scenario`'s `[[sweep]]`, checked: each names exactly one factor that exists,
/// gives one to [`MAX_AXIS_VALUES`] finite values, and the grid has at most [`MAX_POINTS`]
/// points. Errors name the field (`sweep[1].path`) and the fix.
pub fn axes(scenario: &Scenario) -> Result<Vec<Axis>, ExploreError> {
    let file = scenario.file();
    if file.sweep.len() > 2 {
        return Err(ExploreError::new(
            "sweep",
            format!(
                "a sweep has one or two axes, found {}; run several sweeps to cover more factors",
                file.sweep.len()
            ),
        ));
    }
    let mut axes: Vec<Axis> = Vec::new();
    for (i, raw) in file.sweep.iter().enumerate() {
        let at = |field: &str| format!("sweep[{i}]{field}");
        let factor = match (&raw.spec, &raw.path, &raw.parameter) {
            (Some(spec), Some(path), None) => {
                let factor = Factor::spec_field(scenario, spec, path)
                    .map_err(|m| ExploreError::new(at(".path"), m))?;
                if let Factor::Spec { spec: index, .. } = factor
                    && index == scenario.baseline()
                {
                    return Err(ExploreError::new(
                        at(".spec"),
                        format!(
                            "{spec:?} is the baseline, which every point is compared with; copy it \
                             as a second spec with another name and sweep the copy"
                        ),
                    ));
                }
                factor
            }
            (None, None, Some(name)) => {
                Factor::behaviour(name).map_err(|m| ExploreError::new(at(".parameter"), m))?
            }
            _ => {
                return Err(ExploreError::new(
                    at(""),
                    "give either `spec` and `path` (a spec field) or `parameter` (a behaviour \
                     parameter), e.g. spec = \"Stretch goals\", path = \"goal_setting.strategy.uplift\"",
                ));
            }
        };
        let values = axis_values(raw).map_err(|m| ExploreError::new(at(""), m))?;
        if let Factor::Behaviour(p) = &factor
            && let Some(bad) = values.iter().find(|v| !p.valid().contains(**v))
        {
            let range = p.valid();
            return Err(ExploreError::new(
                at(".values"),
                format!(
                    "{} takes values between {} and {}, found {bad}; keep the axis inside",
                    p.name(),
                    range.min,
                    range.max
                ),
            ));
        }
        if let Some(j) = axes.iter().position(|a| a.factor == factor) {
            return Err(ExploreError::new(
                at(""),
                format!("sweeps the same factor as sweep[{j}]; give each axis its own factor"),
            ));
        }
        axes.push(Axis { factor, values });
    }
    let spec_targets: Vec<usize> = axes
        .iter()
        .filter_map(|a| match a.factor {
            Factor::Spec { spec, .. } => Some(spec),
            Factor::Behaviour(_) => None,
        })
        .collect();
    if spec_targets.len() == 2 && spec_targets[0] != spec_targets[1] {
        return Err(ExploreError::new(
            "sweep[1].spec",
            "two spec-field axes must vary the same spec (a point is one variant of it); \
             name the spec of sweep[0]",
        ));
    }
    let points: usize = axes.iter().map(|a| a.values.len()).product();
    if points > MAX_POINTS {
        return Err(ExploreError::new(
            "sweep",
            format!("the grid has {points} points, more than {MAX_POINTS}; use fewer values"),
        ));
    }
    Ok(axes)
}

fn axis_values(raw: &SweepAxis) -> Result<Vec<f64>, String> {
    let values = match (&raw.grid, raw.values.is_empty()) {
        (Some(grid), true) => {
            if !(2..=MAX_AXIS_VALUES as u32).contains(&grid.steps) {
                return Err(format!(
                    "grid.steps: expected 2 to {MAX_AXIS_VALUES}, found {}",
                    grid.steps
                ));
            }
            if !grid.from.is_finite() || !grid.to.is_finite() || grid.from == grid.to {
                return Err(format!(
                    "grid: expected two different finite numbers, found from = {}, to = {}",
                    grid.from, grid.to
                ));
            }
            grid.values()
        }
        (None, false) => raw.values.clone(),
        _ => {
            return Err(
                "give either `values = [..]` or `grid = { from, to, steps }`, not both \
                        nor neither"
                    .to_owned(),
            );
        }
    };
    if values.len() > MAX_AXIS_VALUES {
        return Err(format!(
            "values: at most {MAX_AXIS_VALUES} values, found {}",
            values.len()
        ));
    }
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(format!("values: expected finite numbers, found {bad}"));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!("values: {v} is listed twice; give each value once"));
        }
    }
    Ok(values)
}

/// Where a point's spec is found: run `run` of the sweep, spec `spec` of that run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    /// Index in [`SweepResult::runs`].
    pub run: usize,
    /// Index of the spec in that run.
    pub spec: usize,
}

/// The kind tag of a sweep result in JSON (`"kind": "sweep"`), so a reader (`chanlab
/// merge`) tells it from a plain run without guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SweepKind {
    /// A sweep.
    Sweep,
}

/// A sweep ready to run: the engine runs it needs and where each point's specs are in them.
#[derive(Debug, Clone)]
pub struct Sweep {
    scenario: ScenarioFile,
    axes: Vec<Axis>,
    runs: Vec<Scenario>,
    points: Vec<Vec<f64>>,
    cells: Vec<Vec<Cell>>,
}

impl Sweep {
    /// Plans the sweep of `scenario` (which must have a `[[sweep]]`).
    pub fn new(scenario: &Scenario) -> Result<Self, ExploreError> {
        let axes = axes(scenario)?;
        if axes.is_empty() {
            return Err(ExploreError::new(
                "sweep",
                "the scenario has no [[sweep]] axis; add one (sim/MODEL.md §13.2) or use a \
                 plain compare",
            ));
        }
        let mut file = scenario.file().clone();
        file.sweep.clear();
        let no_files = |p: &str| Err(format!("a sweep may not refer to files ({p})"));
        let base = scenario::resolve(file, &no_files)
            .map_err(|e| ExploreError::new(e.field, e.message))?;
        let (spec_axes, behaviour_axes): (Vec<usize>, Vec<usize>) =
            (0..axes.len()).partition(|&i| matches!(axes[i].factor, Factor::Spec { .. }));
        let points = grid(&axes, &(0..axes.len()).collect::<Vec<_>>());
        let behaviour_points = grid(&axes, &behaviour_axes);
        let spec_points = grid(&axes, &spec_axes);
        let n = base.specs().len();
        let room = MAX_SPECS - n;
        if !spec_axes.is_empty() && room == 0 {
            return Err(ExploreError::new(
                "specs",
                format!(
                    "a spec-field sweep adds its variants beside the scenario's specs, which \
                     already number {MAX_SPECS}; drop a spec"
                ),
            ));
        }
        let per_group = if spec_axes.is_empty() {
            1
        } else {
            spec_points.len().div_ceil(room)
        };
        let mut runs = Vec::new();
        for b in &behaviour_points {
            let pairs: Vec<(Factor, f64)> = behaviour_axes
                .iter()
                .zip(b)
                .map(|(&i, &v)| (axes[i].factor.clone(), v))
                .collect();
            let world = at_point(&base, &pairs).map_err(|m| ExploreError::new("sweep", m))?;
            if spec_axes.is_empty() {
                runs.push(world);
                continue;
            }
            let variants = variants(&world, &axes, &spec_axes, &spec_points)?;
            for chunk in variants.chunks(room) {
                runs.push(
                    with_extra_specs(&world, chunk.to_vec())
                        .map_err(|m| ExploreError::new("sweep", m))?,
                );
            }
        }
        let target = spec_axes.first().map(|&i| match axes[i].factor {
            Factor::Spec { spec, .. } => spec,
            Factor::Behaviour(_) => unreachable!("partitioned on the factor kind"),
        });
        let cells = points
            .iter()
            .map(|point| {
                let index = |dims: &[usize]| flat_index(&axes, dims, point);
                let (b, s) = (index(&behaviour_axes), index(&spec_axes));
                let run = if spec_axes.is_empty() {
                    b
                } else {
                    b * per_group + s / room
                };
                (0..n)
                    .map(|j| Cell {
                        run,
                        spec: if Some(j) == target { n + s % room } else { j },
                    })
                    .collect()
            })
            .collect();
        Ok(Sweep {
            scenario: scenario.file().clone(),
            axes,
            runs,
            points,
            cells,
        })
    }

    /// The axes.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// The engine runs the sweep makes, one after another.
    pub fn runs(&self) -> &[Scenario] {
        &self.runs
    }

    /// How many times `progress` is called by [`Sweep::run`] with `options`: once per
    /// replication of each run.
    pub fn ticks(&self, options: &RunOptions) -> u64 {
        let total = u64::from(self.scenario.replications);
        let (a, b) = options.shard.map_or((0, total), |s| s.range(total));
        (b - a) * self.runs.len() as u64
    }

    /// Runs every engine run (or one shard of each), calling `progress` once per replication
    /// per run; when it answers [`ControlFlow::Break`] the sweep stops with an error.
    pub fn run(
        &self,
        options: &RunOptions,
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<SweepResult, ExploreError> {
        let runs = self
            .runs
            .iter()
            .map(|s| {
                engine::run_cancellable(s, options, progress)
                    .map_err(|e| ExploreError::new("run", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SweepResult {
            kind: SweepKind::Sweep,
            chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario: self.scenario.clone(),
            points: self.points.clone(),
            cells: self.cells.clone(),
            runs,
        })
    }
}

/// Plans and runs the sweep of `scenario` ([`Sweep::new`], [`Sweep::run`]).
pub fn run_sweep(
    scenario: &Scenario,
    options: &RunOptions,
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<SweepResult, ExploreError> {
    Sweep::new(scenario)?.run(options, progress)
}

/// The points over the axes `dims` (in that order, the first outermost), as their values.
fn grid(axes: &[Axis], dims: &[usize]) -> Vec<Vec<f64>> {
    dims.iter().fold(vec![Vec::new()], |acc, &d| {
        acc.iter()
            .flat_map(|p| {
                axes[d].values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(*v);
                    q
                })
            })
            .collect()
    })
}

/// The position, in [`grid`]`(axes, dims)`, of the point whose values on all axes are
/// `point`. Values are looked up by position (the first equal value), which is exact because
/// `point` was built from the same values.
fn flat_index(axes: &[Axis], dims: &[usize], point: &[f64]) -> usize {
    dims.iter().fold(0, |acc, &d| {
        let k = axes[d]
            .values
            .iter()
            .position(|v| v.to_bits() == point[d].to_bits())
            .unwrap_or(0);
        acc * axes[d].values.len() + k
    })
}

/// One variant of the swept spec per spec point, renamed so names stay unique.
fn variants(
    world: &Scenario,
    axes: &[Axis],
    spec_axes: &[usize],
    spec_points: &[Vec<f64>],
) -> Result<Vec<ProcessRules>, ExploreError> {
    let Factor::Spec { spec: target, .. } = axes[spec_axes[0]].factor else {
        unreachable!("spec axes hold spec factors")
    };
    let original = &world.specs()[target];
    spec_points
        .iter()
        .enumerate()
        .map(|(k, values)| {
            let mut rules = original.clone();
            for (&i, &v) in spec_axes.iter().zip(values) {
                let Factor::Spec { path, .. } = &axes[i].factor else {
                    unreachable!("spec axes hold spec factors")
                };
                rules = with_spec_value(&rules, path, v)
                    .map_err(|m| ExploreError::new(format!("sweep[{i}].values"), m))?;
            }
            let short: String = original.name.as_str().chars().take(150).collect();
            rules.name = Name::parse(&format!("{short} · sweep point {}", k + 1))
                .map_err(|e| ExploreError::new("sweep", e.message().to_owned()))?;
            Ok(rules)
        })
        .collect()
}

/// The result of a sweep (or of one shard of it): the mergeable runs and where each point's
/// specs are in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepResult {
    /// Always `"sweep"`.
    pub kind: SweepKind,
    /// The chanlab version that produced it.
    pub chanlab_version: String,
    /// The scenario with its `[[sweep]]`, self-contained.
    pub scenario: ScenarioFile,
    /// Per point, the values of the axes in order. Points run over the last axis fastest.
    pub points: Vec<Vec<f64>>,
    /// Per point, per spec of the scenario, where its state is.
    pub cells: Vec<Vec<Cell>>,
    /// The engine runs.
    pub runs: Vec<RunResult>,
}

impl SweepResult {
    /// Replications covered at every point.
    pub fn replications_done(&self) -> u64 {
        self.runs.first().map_or(0, RunResult::replications_done)
    }

    /// True when every replication of the scenario is covered.
    pub fn is_complete(&self) -> bool {
        self.runs.iter().all(RunResult::is_complete)
    }

    /// Checks that a result read from a file is what this version would plan for its
    /// scenario: the same points, cells and run scenarios, and runs the engine accepts.
    pub fn check(&self) -> Result<(), ExploreError> {
        let bad = |m: String| Err(ExploreError::new("sweep result", m));
        let no_files = |p: &str| Err(format!("a result's scenario cannot refer to {p}"));
        let scenario = match scenario::resolve(self.scenario.clone(), &no_files) {
            Ok(s) => s,
            Err(e) => return bad(format!("its scenario is invalid: {e}")),
        };
        let plan = Sweep::new(&scenario)?;
        let same_runs = plan.runs.len() == self.runs.len()
            && plan
                .runs
                .iter()
                .zip(&self.runs)
                .all(|(p, r)| p.file() == &r.scenario);
        if plan.points != self.points || plan.cells != self.cells || !same_runs {
            return bad(
                "it does not match the sweep its scenario describes; it may have been \
                        edited or written by another version"
                    .to_owned(),
            );
        }
        for run in &self.runs {
            run.check()
                .map_err(|e| ExploreError::new("sweep result", e.to_string()))?;
            if run.replications != self.runs[0].replications {
                return bad("its runs cover different replications".to_owned());
            }
        }
        Ok(())
    }

    /// Merges shards of one sweep, point by point; the result equals running those
    /// replications in one go, exactly.
    pub fn merge(parts: Vec<SweepResult>) -> Result<SweepResult, ExploreError> {
        let Some(first) = parts.first() else {
            return Err(ExploreError::new("parts", "nothing to merge"));
        };
        for part in &parts {
            part.check()?;
            if part.scenario != first.scenario {
                return Err(ExploreError::new(
                    "parts",
                    "the parts come from different sweeps (scenario or seed); merge only shards \
                     of one sweep",
                ));
            }
        }
        let mut merged = first.clone();
        let mut columns: Vec<Vec<RunResult>> = vec![Vec::new(); first.runs.len()];
        for part in parts {
            for (column, run) in columns.iter_mut().zip(part.runs) {
                column.push(run);
            }
        }
        merged.runs = columns
            .into_iter()
            .map(|c| RunResult::merge(c).map_err(|e| ExploreError::new("parts", e.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(merged)
    }

    /// The published document: the result with its report, tagged `"kind": "sweep"`.
    pub fn document(&self) -> SweepDocument<'_> {
        SweepDocument {
            result: self,
            report: self.report(),
        }
    }
}

/// A sweep result with the figures people read beside it, as `chanlab compare --format
/// json` writes it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepDocument<'a> {
    /// What was run and the mergeable state.
    #[serde(flatten)]
    pub result: &'a SweepResult,
    /// The surface ([`SweepResult::report`]).
    pub report: SweepReport,
}

#[cfg(test)]
mod tests;
