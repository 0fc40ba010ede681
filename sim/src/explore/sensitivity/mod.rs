//! Sensitivity of the decision (sim/MODEL.md §13.3): how much each behaviour parameter,
//! over its plausible range, moves each spec's paired difference from the baseline, and in
//! what share of plausible parameter sets each spec stays best.
//!
//! The design is Morris's elementary effects (Morris 1991) with the μ* of Campolongo,
//! Cariboni & Saltelli (2007): `samples` trajectories through a grid on the plausible
//! ranges, each moving one parameter at a time. Every point of every trajectory is
//! simulated on the same replication indices (common random numbers), and the unit of work
//! is one replication of one trajectory, all its points in a row, so each elementary
//! effect is a per-replication double difference whose Monte Carlo noise is measured, not
//! guessed. The state is exact sums ([`Moments`]), so the result is bit-identical for any
//! number of threads and shards of the replications merge exactly
//! ([`SensitivityResult::merge`]); the analysis ([`SensitivityResult::report`]) is computed
//! from the state.

mod analysis;
mod design;
mod run;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use analysis::{
    BestShare, ComparisonSensitivity, ParameterEffect, RULE_QUALITY, Robustness, SensitivityReport,
    SplitRule,
};
pub use design::{DESIGN_STREAM, Trajectory, VariedParameter, delta};
pub use run::{run_sensitivity, simulations};

use super::ExploreError;
use crate::model::Kpi;
use crate::scenario::ScenarioFile;
use crate::stats::Moments;

/// Trajectories when `--samples` is not given: the r = 10 Campolongo et al. (2007) found
/// enough to rank the important parameters.
pub const DEFAULT_SAMPLES: u32 = 10;
/// Most trajectories a run may ask for.
pub const MAX_SAMPLES: u32 = 1000;
/// Grid levels per parameter when not set: p = 4, Δ = 2/3 (Saltelli et al. 2008, §3.3).
pub const DEFAULT_LEVELS: u32 = 4;
/// Replications per point when the command line does not set them and the scenario has
/// more: enough for a per-point noise estimate; the elementary effects are paired, so
/// their noise is far below that of one point's mean (sim/MODEL.md §13.3).
pub const DEFAULT_REPLICATIONS: u32 = 64;

/// Which behaviour parameters to vary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterChoice {
    /// Every parameter the scenario does not draw from a calibration's `uncertainty`
    /// table, except those whose plausible range is a single value.
    All,
    /// These, by name (`commitment_midpoint`, `own_touches.B`; a per-tier or pair field's
    /// name, `own_touches`, stands for all its entries).
    List(Vec<String>),
}

/// What to vary and how finely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitivityOptions {
    /// The parameters to vary.
    pub parameters: ParameterChoice,
    /// Trajectories r; the design has r·(k + 1) points for k parameters.
    pub samples: u32,
    /// Grid levels p per parameter: even, 2 to 20.
    pub levels: u32,
}

impl Default for SensitivityOptions {
    fn default() -> Self {
        Self {
            parameters: ParameterChoice::All,
            samples: DEFAULT_SAMPLES,
            levels: DEFAULT_LEVELS,
        }
    }
}

/// The `kind` tag of a sensitivity result, so `chanlab merge` and readers of a JSON file
/// can tell it from a run's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SensitivityKind))]
pub enum Kind {
    /// A sensitivity study.
    Sensitivity,
}

/// A parameter left out of the design, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedParameter {
    /// The parameter's name.
    pub name: String,
    /// Why it is not varied.
    pub reason: String,
}

/// The mergeable state of one trajectory. Inner vectors are indexed
/// `compared · Kpi::COUNT + kpi`, where `compared` counts the scenario's specs in order
/// with the baseline left out and `kpi` is [`Kpi::index`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryState {
    /// Per point (k + 1), the paired difference spec − baseline over replications.
    pub points: Vec<Vec<Moments>>,
    /// Per step (k), the per-replication change of that difference from the point before
    /// (not yet divided by ±Δ).
    pub steps: Vec<Vec<Moments>>,
}

impl TrajectoryState {
    pub(crate) fn new(k: usize, width: usize) -> Self {
        Self {
            points: vec![vec![Moments::new(); width]; k + 1],
            steps: vec![vec![Moments::new(); width]; k],
        }
    }

    pub(crate) fn merge(&mut self, other: &TrajectoryState) {
        let both = |a: &mut Vec<Vec<Moments>>, b: &Vec<Vec<Moments>>| {
            for (x, y) in a.iter_mut().zip(b) {
                x.iter_mut().zip(y).for_each(|(m, n)| m.merge(n));
            }
        };
        both(&mut self.points, &other.points);
        both(&mut self.steps, &other.steps);
    }
}

/// The result of a sensitivity study (or of a shard of its replications): the design and
/// the mergeable state, serialised with `"kind": "sensitivity"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityResult {
    /// Always [`Kind::Sensitivity`].
    pub kind: Kind,
    /// The chanlab version that produced it.
    pub chanlab_version: String,
    /// The scenario, self-contained; `replications` is the number per point.
    pub scenario: ScenarioFile,
    /// The varied parameters, in design order.
    pub parameters: Vec<VariedParameter>,
    /// Parameters left out, with the reason.
    pub skipped: Vec<SkippedParameter>,
    /// Grid levels p.
    pub levels: u32,
    /// The trajectories.
    pub trajectories: Vec<Trajectory>,
    /// Replication indices covered at every point, `[start, end)` pairs in order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::ReplicationRange>))]
    pub replications: Vec<(u64, u64)>,
    /// Index of the baseline spec.
    pub baseline: usize,
    /// Spec names, in scenario order.
    pub specs: Vec<String>,
    /// Per trajectory, the mergeable state for `chanlab merge` (exact sums of the paired
    /// differences). Its layout is internal; read the figures in `report`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub state: Vec<TrajectoryState>,
}

impl SensitivityResult {
    /// Replications covered at every point.
    pub fn replications_done(&self) -> u64 {
        self.replications.iter().map(|(a, b)| b - a).sum()
    }

    /// True when every replication of the scenario is covered.
    pub fn is_complete(&self) -> bool {
        self.replications == [(0, u64::from(self.scenario.replications))]
    }

    /// The compared specs' names (every spec but the baseline), in state order.
    pub fn compared(&self) -> impl Iterator<Item = (usize, &str)> {
        self.specs
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != self.baseline)
            .map(|(_, s)| s.as_str())
            .enumerate()
    }

    /// Merges shards of one study: same scenario and design, disjoint replications. The
    /// result equals running those replications in one go, bit for bit.
    pub fn merge(mut parts: Vec<SensitivityResult>) -> Result<SensitivityResult, ExploreError> {
        let bad = |m: String| ExploreError::new("merge", m);
        if parts.is_empty() {
            return Err(bad("nothing to merge".to_owned()));
        }
        for part in &parts {
            part.check()?;
        }
        parts.sort_by_key(|p| p.replications.first().copied());
        let mut merged = parts.remove(0);
        for part in parts {
            let same = part.scenario == merged.scenario
                && part.parameters == merged.parameters
                && part.levels == merged.levels
                && part.trajectories == merged.trajectories;
            if !same {
                return Err(bad(
                    "the parts come from different studies (scenario, seed, parameters or \
                     samples differ); merge only shards of one `chanlab sensitivity` command"
                        .to_owned(),
                ));
            }
            for range in &part.replications {
                if merged
                    .replications
                    .iter()
                    .any(|r| range.0 < r.1 && r.0 < range.1)
                {
                    return Err(bad(format!(
                        "replications {}..{} appear in two parts; each shard may be merged once",
                        range.0, range.1
                    )));
                }
            }
            for (a, b) in merged.state.iter_mut().zip(&part.state) {
                a.merge(b);
            }
            merged.replications.extend(part.replications);
        }
        merged.replications.sort_unstable();
        merged.replications = coalesce(&merged.replications);
        Ok(merged)
    }

    /// Checks that a result read from a file has the shape this version writes, so a merge
    /// or a report never indexes out of range.
    pub fn check(&self) -> Result<(), ExploreError> {
        let bad = |m: String| Err(ExploreError::new("merge", m));
        if self.chanlab_version != env!("CARGO_PKG_VERSION") {
            return bad(format!(
                "the part was written by chanlab {}, this is {}; merge parts with the version \
                 that wrote them",
                self.chanlab_version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        let k = self.parameters.len();
        let specs = self.specs.len();
        let width = specs.saturating_sub(1) * Kpi::COUNT;
        let levels_ok = (2..=20).contains(&self.levels) && self.levels.is_multiple_of(2);
        let trajectory_ok = |t: &Trajectory| {
            let mut seen = vec![false; k];
            t.base.len() == k
                && t.base.iter().all(|&l| l < self.levels)
                && t.order.len() == k
                && t.order
                    .iter()
                    .all(|&i| i < k && !std::mem::replace(&mut seen[i], true))
        };
        let state_ok = |s: &TrajectoryState| {
            s.points.len() == k + 1
                && s.steps.len() == k
                && s.points.iter().chain(&s.steps).all(|v| v.len() == width)
        };
        let total = u64::from(self.scenario.replications);
        let ok = k > 0
            && levels_ok
            && specs == self.scenario.specs.len()
            && self.baseline < specs
            && self.trajectories.iter().all(trajectory_ok)
            && self.state.len() == self.trajectories.len()
            && self.state.iter().all(state_ok)
            && !self.replications.is_empty()
            && self.replications.iter().all(|&(a, b)| a < b && b <= total)
            && self
                .parameters
                .iter()
                .all(|p| p.min.is_finite() && p.max.is_finite() && p.min < p.max);
        if !ok {
            return bad(
                "the part is damaged or incomplete: its design and state do not fit \
                        together; write it again with `chanlab sensitivity --shard K/N`"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

fn coalesce(ranges: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &(a, b) in ranges {
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

/// The JSON document a sensitivity study is written as: the mergeable result with the
/// figures people read beside it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityDocument<'a> {
    /// The design and the mergeable state.
    #[serde(flatten)]
    pub result: &'a SensitivityResult,
    /// The derived figures ([`SensitivityResult::report`]).
    pub report: SensitivityReport,
}

impl SensitivityResult {
    /// The result with its report, as written by `chanlab sensitivity --format json`.
    pub fn document(&self) -> SensitivityDocument<'_> {
        SensitivityDocument {
            result: self,
            report: self.report(),
        }
    }
}
