//! Policy search on the simulator: candidates as extra specs of one engine run per rung and
//! chunk, then the winner confirmed on fresh replications.

use std::ops::ControlFlow;

use chanlab_shared::{Name, ProcessRules};
use serde::{Deserialize, Serialize};

use super::staged::{OptimiseState, Study};
use super::{Constraint, Score, Search, Settings, Vary, is_integer_field, latin_hypercube};
use crate::engine::{self, RunResult};
use crate::explore::{ExploreError, spec_index, spec_value, with_extra_specs, with_spec_value};
use crate::model::Kpi;
use crate::scenario::{self, MAX_SPECS, Scenario, SpecEntry};
use crate::stats::SummaryReport;

/// What to search: which spec, which fields in which ranges, the objective and the bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The spec to vary, by name; the first spec that is not the baseline when `None`.
    pub spec: Option<String>,
    /// The fields and their ranges.
    pub vary: Vec<Vary>,
    /// The KPI to make best (in its better direction, [`Kpi::better`]; more when it has none).
    pub objective: Kpi,
    /// Bounds on KPI means the winner must meet.
    pub constraints: Vec<Constraint>,
    /// How hard to search.
    pub settings: Settings,
}

/// The winner on the confirmation's fresh replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    /// Replication indices `[start, end)`, disjoint from every search replication.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::ReplicationRange))]
    pub replications: (u64, u64),
    /// The objective for the winner.
    pub objective: SummaryReport,
    /// The objective for the baseline.
    pub baseline: SummaryReport,
    /// Paired difference winner − baseline on the objective, with its 95% interval.
    pub difference: SummaryReport,
    /// Share of replications in which the winner beat the baseline on the objective.
    pub probability_better: f64,
    /// Each constraint on the winner.
    pub constraints: Vec<ConstraintReport>,
}

/// A constraint on the confirmed winner.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConstraintReport {
    /// The constraint as written (`rep_attrition <= 20`).
    pub constraint: String,
    /// The KPI's mean and interval for the winner.
    pub value: SummaryReport,
    /// How far the mean is inside the bound (negative: outside).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub margin: Option<f64>,
    /// The margin's 95% interval, low end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub margin_low: Option<f64>,
    /// The margin's 95% interval, high end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub margin_high: Option<f64>,
    /// Whether the mean meets the bound.
    pub met: bool,
}

/// Everything a search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptimiseReport {
    /// The spec varied.
    pub spec: String,
    /// The baseline.
    pub baseline: String,
    /// The objective.
    pub objective: Kpi,
    /// Whether more of the objective is better.
    pub maximise: bool,
    /// The fields and ranges.
    pub vary: Vec<Vary>,
    /// The constraints as written.
    pub constraints: Vec<String>,
    /// The settings used.
    pub settings: Settings,
    /// The candidates, by index: values of the varied fields (index 0 is the spec as written
    /// when its values lie inside the box).
    pub candidates: Vec<Vec<f64>>,
    /// The search's rungs and winner.
    pub search: Search,
    /// The winner's values of the varied fields.
    pub best: Vec<f64>,
    /// Whether the winner met every constraint during the search.
    pub feasible: bool,
    /// When nothing was feasible: which constraints bound, in words.
    pub binding: Vec<String>,
    /// The winner on fresh replications.
    pub confirmation: Confirmation,
    /// The winning spec, ready to write as a spec file.
    pub best_spec: ProcessRules,
}

/// A search ready to run: the candidates, built and checked.
#[derive(Debug, Clone)]
pub struct Prepared {
    base: Scenario,
    spec: usize,
    original: ProcessRules,
    pub(super) problem: Problem,
    candidates: Vec<Vec<f64>>,
    rules: Vec<ProcessRules>,
    pub(super) study: Study,
}

/// Checks `problem` against `scenario` and builds the candidates. Errors name the flag
/// (`--vary`, `--spec`) and the fix.
pub fn prepare(scenario: &Scenario, problem: &Problem) -> Result<Prepared, ExploreError> {
    let baseline = scenario.baseline();
    let spec = match &problem.spec {
        Some(name) => spec_index(scenario, name).map_err(|m| ExploreError::new("--spec", m))?,
        None => (0..scenario.specs().len())
            .find(|&i| i != baseline)
            .ok_or_else(|| {
                ExploreError::new(
                    "--spec",
                    "the scenario has only its baseline; add the spec to vary as a second spec",
                )
            })?,
    };
    if spec == baseline {
        return Err(ExploreError::new(
            "--spec",
            "that is the baseline the winner is compared with; name another spec, or copy the \
             baseline under a new name and vary the copy",
        ));
    }
    if problem.vary.is_empty() {
        return Err(ExploreError::new(
            "--vary",
            "give at least one FIELD=LOW..HIGH",
        ));
    }
    let original = scenario.specs()[spec].clone();
    let mut integer = Vec::new();
    for (i, v) in problem.vary.iter().enumerate() {
        let bad = |m: String| ExploreError::new("--vary", m);
        if problem.vary[..i].iter().any(|w| w.path == v.path) {
            return Err(bad(format!(
                "{} is given twice; vary each field once",
                v.path
            )));
        }
        spec_value(&original, &v.path).map_err(bad)?;
        let whole = is_integer_field(&original, &v.path).map_err(bad)?;
        for end in [v.low, v.high] {
            let end = if whole { end.round() } else { end };
            with_spec_value(&original, &v.path, end)
                .map_err(|m| bad(format!("{m}; narrow the range to values the field takes")))?;
        }
        if whole && v.low.ceil() > v.high.floor() {
            return Err(bad(format!(
                "{} takes whole numbers and {}..{} holds none",
                v.path, v.low, v.high
            )));
        }
        integer.push(whole);
    }
    let current: Vec<f64> = problem
        .vary
        .iter()
        .map(|v| spec_value(&original, &v.path).unwrap_or(f64::NAN))
        .collect();
    let mut points = Vec::new();
    // The spec as written is a candidate when it lies in the box, so the search compares
    // against it on the same replications and keeps it unless something beats it.
    if current
        .iter()
        .zip(&problem.vary)
        .all(|(x, v)| (v.low..=v.high).contains(x))
    {
        points.push(current);
    }
    let seed = scenario.file().seed;
    points.extend(latin_hypercube(
        &problem.vary,
        &integer,
        problem.settings.candidates,
        seed,
    ));
    let (mut candidates, mut rules) = (Vec::new(), Vec::new());
    for point in points {
        if candidates.contains(&point) {
            continue; // whole-number rounding can make two candidates one
        }
        let built = point
            .iter()
            .zip(&problem.vary)
            .try_fold(original.clone(), |r, (x, v)| {
                with_spec_value(&r, &v.path, *x)
            });
        // A point the spec's cross-field rules refuse is not a policy; it is left out.
        if let Ok(mut r) = built {
            r.name = Name::parse(&format!("Candidate {}", candidates.len() + 1))
                .expect("a short name is valid");
            candidates.push(point);
            rules.push(r);
        }
    }
    if candidates.is_empty() {
        return Err(ExploreError::new(
            "--vary",
            "no point of the box gives a valid spec; check the ranges with `chanlab spec check`",
        ));
    }
    let mut file = scenario.file().clone();
    file.sweep.clear();
    file.baseline = Some(scenario.specs()[baseline].name.as_str().to_owned());
    // Only the baseline rides beside the candidates: other specs would cost time and change
    // nothing (a spec's numbers do not depend on the specs beside it).
    file.specs = vec![SpecEntry {
        bundled: None,
        file: None,
        inline: Some(scenario.specs()[baseline].clone()),
    }];
    let no_files = |p: &str| Err(format!("a search may not refer to files ({p})"));
    let base =
        scenario::resolve(file, &no_files).map_err(|e| ExploreError::new(e.field, e.message))?;
    let mut identity = problem.clone();
    identity.settings.threads = 0; // how many cores ran it does not change the study
    let study = Study {
        scenario: scenario.file().clone(),
        problem: identity,
        candidates: candidates.clone(),
    };
    Ok(Prepared {
        base,
        spec,
        original,
        problem: problem.clone(),
        candidates,
        rules,
        study,
    })
}

/// Candidates beside the baseline in one engine run.
pub(super) const PER_RUN: usize = MAX_SPECS - 1;

impl Prepared {
    /// The candidates' values of the varied fields.
    pub fn candidates(&self) -> &[Vec<f64>] {
        &self.candidates
    }

    /// How many times [`Prepared::run`] calls `progress`: once per replication of every
    /// engine run, the confirmation included.
    pub fn ticks(&self) -> u64 {
        self.ticks_from(&self.start())
    }

    /// How many times [`Prepared::finish`] from `state` calls `progress`.
    pub fn ticks_from(&self, state: &OptimiseState) -> u64 {
        let rungs: u64 = state
            .halving
            .remaining()
            .iter()
            .map(|&(alive, (start, end))| alive.div_ceil(PER_RUN) as u64 * (end - start))
            .sum();
        let confirm = if state.confirmation.is_some() {
            0
        } else {
            self.confirm_range().1 - self.confirm_range().0
        };
        rungs + confirm
    }

    /// Partner-months the search and the confirmation simulate: every engine run counts the
    /// baseline beside its candidates, as [`Prepared::ticks`] counts its replications.
    pub fn partner_months(&self) -> u64 {
        let per_spec = self
            .base
            .partner_slots()
            .saturating_mul(u64::from(self.base.file().horizon_months));
        let rungs: u64 = self
            .start()
            .halving
            .remaining()
            .iter()
            .map(|&(alive, (start, end))| {
                (alive as u64 + alive.div_ceil(PER_RUN) as u64) * (end - start)
            })
            .sum();
        let (start, end) = self.confirm_range();
        per_spec.saturating_mul(rungs + 2 * (end - start))
    }

    /// The confirmation's replications: fresh, far above any the search uses.
    pub(super) fn confirm_range(&self) -> (u64, u64) {
        super::staged::confirm_range(&self.problem)
    }

    /// Runs the search and the confirmation, calling `progress` once per replication of each
    /// engine run; when it answers [`ControlFlow::Break`] the search stops with an error.
    pub fn run(
        &self,
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<OptimiseReport, ExploreError> {
        self.finish(self.start(), progress)
    }

    /// Runs what is left of the search from `state` (a study's first state, or one merged
    /// from shards, [`Prepared::check`]ed), then the confirmation unless `state` has it.
    pub fn finish(
        &self,
        state: OptimiseState,
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<OptimiseReport, ExploreError> {
        let mut halving = state.halving;
        while let Some((alive, range)) = halving.next() {
            let fresh = self.evaluate(alive, range, progress)?;
            halving.feed(fresh)?;
        }
        let search = halving.search().expect("a finished halving has a winner");
        let confirmed = match state.confirmation {
            Some(result) => result,
            None => self.confirm(search.winner, self.confirm_range(), progress)?,
        };
        self.report(search.clone(), &confirmed)
    }

    /// Measures the candidates `which` on the replications `range`, in engine runs of up to
    /// [`PER_RUN`] candidates beside the baseline.
    pub(super) fn evaluate(
        &self,
        which: &[usize],
        range: (u64, u64),
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<Vec<Score>, ExploreError> {
        let p = &self.problem;
        let kpis: Vec<Kpi> = std::iter::once(p.objective)
            .chain(p.constraints.iter().map(|c| c.kpi))
            .collect();
        let mut scores = Vec::with_capacity(which.len());
        for chunk in which.chunks(PER_RUN) {
            let rules = chunk.iter().map(|&i| self.rules[i].clone()).collect();
            let result = self.simulate(rules, range, progress)?;
            for state in &result.specs[1..] {
                let m = |k: Kpi| state.kpis[k.index()].moments().clone();
                scores.push(Score {
                    objective: m(kpis[0]),
                    constraints: kpis[1..].iter().map(|&k| m(k)).collect(),
                });
            }
        }
        Ok(scores)
    }

    /// The winner beside the baseline on the confirmation's replications `range` (or part
    /// of them).
    pub(super) fn confirm(
        &self,
        winner: usize,
        range: (u64, u64),
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<RunResult, ExploreError> {
        self.simulate(vec![self.rules[winner].clone()], range, progress)
    }

    /// The report of a finished search and its confirmation run.
    fn report(
        &self,
        search: Search,
        confirmed: &RunResult,
    ) -> Result<OptimiseReport, ExploreError> {
        let p = &self.problem;
        let maximise = p.objective.better() != Some(false);
        let mut best_spec = self.rules[search.winner].clone();
        let short: String = self.original.name.as_str().chars().take(180).collect();
        best_spec.name = Name::parse(&format!("{short} (optimised)"))
            .map_err(|e| ExploreError::new("--spec", e.message().to_owned()))?;
        Ok(OptimiseReport {
            spec: self.original.name.as_str().to_owned(),
            baseline: self.base.specs()[0].name.as_str().to_owned(),
            objective: p.objective,
            maximise,
            vary: p.vary.clone(),
            constraints: p.constraints.iter().map(ToString::to_string).collect(),
            settings: p.settings,
            candidates: self.candidates.clone(),
            best: self.candidates[search.winner].clone(),
            feasible: search.feasible,
            binding: if search.feasible {
                Vec::new()
            } else {
                binding(&p.constraints, &search)
            },
            confirmation: confirmation(confirmed, p),
            search,
            best_spec,
        })
    }

    fn simulate(
        &self,
        rules: Vec<ProcessRules>,
        range: (u64, u64),
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<RunResult, ExploreError> {
        let scenario =
            with_extra_specs(&self.base, rules).map_err(|m| ExploreError::new("--vary", m))?;
        engine::run_range(&scenario, self.problem.settings.threads, range, progress)
            .map_err(|e| ExploreError::new("run", e.to_string()))
    }

    /// The varied spec's index in the scenario.
    pub fn spec(&self) -> usize {
        self.spec
    }
}

/// Checks `problem`, searches and confirms ([`prepare`], [`Prepared::run`]).
pub fn optimise(
    scenario: &Scenario,
    problem: &Problem,
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<OptimiseReport, ExploreError> {
    prepare(scenario, problem)?.run(progress)
}

fn confirmation(result: &RunResult, problem: &Problem) -> Confirmation {
    let (base, winner) = (&result.specs[0], &result.specs[1]);
    let k = problem.objective.index();
    let n = winner.difference[k].count().max(1) as f64;
    Confirmation {
        replications: result.replications[0],
        objective: winner.kpis[k].moments().report(),
        baseline: base.kpis[k].moments().report(),
        difference: winner.difference[k].report(),
        probability_better: winner.wins[k] / n,
        constraints: problem
            .constraints
            .iter()
            .map(|c| {
                let value = winner.kpis[c.kpi.index()].moments().report();
                let margin = value.mean.map(|m| c.margin(m));
                let ends = [value.ci95_low, value.ci95_high].map(|e| e.map(|x| c.margin(x)));
                let (lo, hi) = match (ends[0], ends[1]) {
                    (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                    _ => (None, None),
                };
                ConstraintReport {
                    constraint: c.to_string(),
                    met: margin.is_some_and(|m| m >= 0.0),
                    value,
                    margin,
                    margin_low: lo,
                    margin_high: hi,
                }
            })
            .collect(),
    }
}

/// Which constraints bound a search that found nothing feasible: those no first-rung
/// candidate met; when each was met by some, the one met by fewest.
pub(crate) fn binding(constraints: &[Constraint], search: &Search) -> Vec<String> {
    let total = search.rungs.first().map_or(0, |r| r.ranked.len());
    let never: Vec<String> = constraints
        .iter()
        .zip(&search.met_by)
        .filter(|(_, n)| **n == 0)
        .map(|(c, _)| format!("{c}: no candidate met it"))
        .collect();
    if !never.is_empty() {
        return never;
    }
    constraints
        .iter()
        .zip(&search.met_by)
        .min_by_key(|(_, n)| **n)
        .map(|(c, n)| {
            format!("{c}: met by {n} of {total} candidates, never together with the others")
        })
        .into_iter()
        .collect()
}
