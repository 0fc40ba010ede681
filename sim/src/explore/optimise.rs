//! Policy search (sim/MODEL.md §13.4): the values of a few spec fields, inside a box, that
//! make one KPI best while others stay within bounds.
//!
//! The objective is noisy: each candidate's KPI is a Monte Carlo mean. Every candidate is
//! simulated as an extra spec of one engine run (common random numbers), so differences
//! between candidates are paired and far less noisy than the KPIs themselves. The search is
//! successive halving over a seeded Latin hypercube of candidates: all of them on a few
//! replications, the best third on twice as many, and so on until a rung would keep one: the
//! best of that rung wins. The winner
//! is then confirmed on replications the search never used, and only those decide what is
//! reported, so the winner's curse of picking the luckiest candidate does not inflate the
//! reported gain.
//!
//! The search core ([`successive_halving`]) takes the evaluation as a function, so it is
//! tested on objectives with a known optimum apart from the simulator.

use std::fmt;
use std::str::FromStr;

use chanlab_shared::ProcessRules;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{ExploreError, spec_value, with_spec_value};
use crate::model::Kpi;
use crate::stats::Moments;

mod run;
mod staged;

pub use run::{
    Confirmation, ConstraintReport, OptimiseReport, Prepared, Problem, optimise, prepare,
};
pub use staged::{OptimisePart, OptimiseState, PartKind, Stage, StateKind, Study, Work};

/// First replication index of the confirmation: far above any index a search uses (a
/// search is refused if it would reach it), so confirmation replications are fresh.
pub const CONFIRM_START: u64 = 1 << 32;

/// A spec field to vary and its range: `FIELD=LOW..HIGH` on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vary {
    /// Dotted path in the spec file.
    pub path: String,
    /// Lowest value tried.
    pub low: f64,
    /// Highest value tried.
    pub high: f64,
}

impl FromStr for Vary {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let fix = "write FIELD=LOW..HIGH, e.g. goal_setting.strategy.uplift=0.05..0.5";
        let (path, range) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} has no `=`; {fix}"))?;
        let (low, high) = range
            .split_once("..")
            .ok_or_else(|| format!("the range {range:?} has no `..`; {fix}"))?;
        let number = |part: &str| -> Result<f64, String> {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{part:?} is not a finite number; {fix}"))
        };
        let (low, high) = (number(low)?, number(high)?);
        if low >= high {
            return Err(format!(
                "the range {low}..{high} is empty or reversed; give LOW below HIGH"
            ));
        }
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("the field is missing; {fix}"));
        }
        Ok(Vary {
            path: path.to_owned(),
            low,
            high,
        })
    }
}

/// Which side of a bound is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `<=`
    AtMost,
    /// `>=`
    AtLeast,
}

/// A bound on a KPI's mean: `rep_attrition <= 20` on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// The KPI.
    pub kpi: Kpi,
    /// Which side is allowed.
    pub bound: Bound,
    /// The bound.
    pub limit: f64,
}

impl Constraint {
    /// How far `mean` is inside the bound (negative: outside).
    pub fn margin(&self, mean: f64) -> f64 {
        match self.bound {
            Bound::AtMost => self.limit - mean,
            Bound::AtLeast => mean - self.limit,
        }
    }
}

impl FromStr for Constraint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let fix = "write KPI <= NUMBER or KPI >= NUMBER, e.g. \"rep_attrition <= 20\"";
        let (name, bound, limit) = if let Some((a, b)) = s.split_once("<=") {
            (a, Bound::AtMost, b)
        } else if let Some((a, b)) = s.split_once(">=") {
            (a, Bound::AtLeast, b)
        } else {
            return Err(format!("{s:?} has no `<=` or `>=`; {fix}"));
        };
        let kpi = parse_kpi(name.trim())?;
        let limit = limit
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{:?} is not a finite number; {fix}", limit.trim()))?;
        Ok(Constraint { kpi, bound, limit })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.bound {
            Bound::AtMost => "<=",
            Bound::AtLeast => ">=",
        };
        write!(f, "{} {op} {}", self.kpi.name(), self.limit)
    }
}

/// The KPI called `name` ([`Kpi::name`]), or an error listing the names.
pub fn parse_kpi(name: &str) -> Result<Kpi, String> {
    Kpi::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Kpi::ALL.iter().map(|k| k.name()).collect();
            format!(
                "no KPI is called {name:?}; use one of: {}",
                names.join(", ")
            )
        })
}

/// How hard to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OptimiseSettings))]
pub struct Settings {
    /// Candidates in the first rung (the Latin hypercube's size, plus the spec as written).
    pub candidates: usize,
    /// Replications of the first rung; each later rung doubles them.
    pub replications: u64,
    /// Replications of the confirmation run.
    pub confirm: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Settings {
    /// Defaults of sim/MODEL.md §13.4: 27 candidates, 40 replications in the first rung, and
    /// the scenario's replications to confirm.
    pub fn new(confirm: u64) -> Self {
        Settings {
            candidates: 27,
            replications: 40,
            confirm,
            threads: 0,
        }
    }
}

/// What an evaluation measured for one candidate on a range of replications: the
/// objective's values and each constraint's KPI values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The objective KPI over the replications.
    pub objective: Moments,
    /// Per constraint, its KPI over the replications.
    pub constraints: Vec<Moments>,
}

impl Score {
    /// Adds what `other` measured on other replications of the same candidate (exact, so
    /// the order of the parts does not matter).
    pub fn merge(&mut self, other: &Score) {
        self.objective.merge(&other.objective);
        for (a, b) in self.constraints.iter_mut().zip(&other.constraints) {
            a.merge(b);
        }
    }
}

/// Measures the candidates at the given indices on the replications `[start, end)`, one
/// [`Score`] per index in order.
pub type Evaluate<'a> = dyn FnMut(&[usize], (u64, u64)) -> Result<Vec<Score>, ExploreError> + 'a;

/// One rung of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rung {
    /// Replications every candidate of the rung has been evaluated on, `[start, end)`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::ReplicationRange))]
    pub replications: (u64, u64),
    /// The candidates evaluated, by index, best first.
    pub ranked: Vec<usize>,
    /// Their objective means, in the same order; `null` for a candidate with no finite
    /// value of the objective (its mean is NaN, which JSON writes as `null`).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<f64>>))]
    pub objective: Vec<f64>,
    /// Whether each met every constraint (on the mean), in the same order.
    pub feasible: Vec<bool>,
}

/// What the search found: the winner and how it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OptimiseSearch))]
pub struct Search {
    /// The winning candidate's index.
    pub winner: usize,
    /// Whether the winner met every constraint in its last rung.
    pub feasible: bool,
    /// The rungs, in order.
    pub rungs: Vec<Rung>,
    /// Per constraint, how many first-rung candidates met it.
    pub met_by: Vec<usize>,
}

/// Successive halving over `count` candidates: every candidate on `replications`
/// replications, the best third on twice as many, and so on until a rung would keep one: the
/// best of that rung wins. `evaluate` measures the given candidates on the replications
/// `[start, end)`; each rung evaluates only its new replications and adds them to what
/// earlier rungs measured, so the survivors' means use every replication they have seen.
///
/// Candidates are ranked feasible first (every constraint met on the mean), by the objective
/// (more is better when `maximise`), then the rest by their total relative violation.
pub fn successive_halving(
    count: usize,
    maximise: bool,
    constraints: &[Constraint],
    replications: u64,
    evaluate: &mut Evaluate<'_>,
) -> Result<Search, ExploreError> {
    let mut halving = Halving::new(count, maximise, constraints, replications)?;
    while let Some((alive, range)) = halving.next() {
        let fresh = evaluate(alive, range)?;
        halving.feed(fresh)?;
    }
    Ok(halving
        .search()
        .expect("a finished halving has a winner")
        .clone())
}

/// Successive halving as a state that can stop between rungs and go on elsewhere: what a
/// search sharded over machines passes from one stage to the next (sim/MODEL.md §13.4).
/// [`next`](Self::next) says which candidates to measure on which replications;
/// [`feed`](Self::feed) takes what they measured and ranks the rung. Every sum in it is
/// exact, so a rung measured in parts and merged is the rung measured at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Halving {
    maximise: bool,
    constraints: Vec<Constraint>,
    /// Per candidate, what it measured on the replications `[0, done)`.
    scores: Vec<Option<Score>>,
    /// The candidates the next rung measures.
    alive: Vec<usize>,
    rungs: Vec<Rung>,
    /// Replications measured so far, `[0, done)`, and the next rung's end.
    done: u64,
    target: u64,
    /// Set once the last rung is ranked.
    search: Option<Search>,
}

impl Halving {
    /// A search over `count` candidates whose first rung runs `replications` replications.
    pub fn new(
        count: usize,
        maximise: bool,
        constraints: &[Constraint],
        replications: u64,
    ) -> Result<Self, ExploreError> {
        if count == 0 || replications == 0 {
            return Err(ExploreError::new(
                "settings",
                "a search needs at least one candidate and one replication",
            ));
        }
        Ok(Halving {
            maximise,
            constraints: constraints.to_vec(),
            scores: vec![None; count],
            alive: (0..count).collect(),
            rungs: Vec::new(),
            done: 0,
            target: replications,
            search: None,
        })
    }

    /// The next rung's candidates and the replications `[start, end)` they must be measured
    /// on; `None` once the search has its winner.
    pub fn next(&self) -> Option<(&[usize], (u64, u64))> {
        self.search
            .is_none()
            .then_some((&self.alive[..], (self.done, self.target)))
    }

    /// The rungs still to run from here, as (candidates, replications `[start, end)`).
    pub fn remaining(&self) -> Vec<(usize, (u64, u64))> {
        let mut left = Vec::new();
        if self.search.is_some() {
            return left;
        }
        let (mut alive, mut done, mut target) = (self.alive.len(), self.done, self.target);
        loop {
            left.push((alive, (done, target)));
            if alive.div_ceil(3) == 1 {
                return left;
            }
            alive = alive.div_ceil(3);
            done = target;
            target = target.saturating_mul(2);
        }
    }

    /// Ranks the rung [`next`](Self::next) asked for, given one [`Score`] per candidate in
    /// the order asked; keeps the best third for the next rung, or names the winner.
    pub fn feed(&mut self, fresh: Vec<Score>) -> Result<(), ExploreError> {
        if self.search.is_some() || fresh.len() != self.alive.len() {
            return Err(ExploreError::new(
                "search",
                format!(
                    "a rung of {} candidates was given {} scores",
                    self.alive.len(),
                    fresh.len()
                ),
            ));
        }
        for (&i, score) in self.alive.iter().zip(fresh) {
            match &mut self.scores[i] {
                Some(s) => s.merge(&score),
                slot @ None => *slot = Some(score),
            }
        }
        let ranked = self.rank();
        self.rungs.push(Rung {
            replications: (0, self.target),
            ranked: ranked.iter().map(|x| x.0).collect(),
            objective: ranked.iter().map(|x| x.1).collect(),
            feasible: ranked.iter().map(|x| x.2).collect(),
        });
        let keep = ranked.len().div_ceil(3);
        if keep == 1 {
            // The best of the last rung wins; evaluating it alone would rank nothing.
            self.search = Some(Search {
                winner: ranked[0].0,
                feasible: ranked[0].2,
                rungs: self.rungs.clone(),
                met_by: self.met_by(),
            });
            return Ok(());
        }
        self.alive = ranked[..keep].iter().map(|x| x.0).collect();
        self.done = self.target;
        self.target = self
            .target
            .checked_mul(2)
            .filter(|&t| t < CONFIRM_START)
            .ok_or_else(|| {
                ExploreError::new(
                    "--replications",
                    "the search would reach the confirmation's replications; use fewer",
                )
            })?;
        Ok(())
    }

    /// How many candidates the search started with.
    pub fn candidates(&self) -> usize {
        self.scores.len()
    }

    /// How many rungs are ranked.
    pub fn rungs_done(&self) -> usize {
        self.rungs.len()
    }

    /// What the search found, once the last rung is ranked.
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }

    /// The live candidates as (index, objective mean, feasible, violation), best first.
    fn rank(&self) -> Vec<(usize, f64, bool, f64)> {
        let mut ranked: Vec<(usize, f64, bool, f64)> = self
            .alive
            .iter()
            .map(|&i| {
                let s = self.scores[i]
                    .as_ref()
                    .expect("every live candidate was scored");
                let objective = s.objective.mean().unwrap_or(f64::NAN);
                let violation = violation(&self.constraints, &s.constraints);
                (i, objective, violation == 0.0, violation)
            })
            .collect();
        let maximise = self.maximise;
        ranked.sort_by(|a, b| {
            let key = |x: &(usize, f64, bool, f64)| {
                let signed = if maximise { x.1 } else { -x.1 };
                (!x.2, if x.2 { -signed } else { x.3 })
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(a.0.cmp(&b.0))
        });
        ranked
    }

    /// Per constraint, how many first-rung candidates met it (on every replication they saw).
    fn met_by(&self) -> Vec<usize> {
        (0..self.constraints.len())
            .map(|c| {
                self.rungs[0]
                    .ranked
                    .iter()
                    .filter(|&&i| {
                        let s = self.scores[i].as_ref().expect("scored");
                        s.constraints[c]
                            .mean()
                            .is_some_and(|m| self.constraints[c].margin(m) >= 0.0)
                    })
                    .count()
            })
            .collect()
    }
}

/// Sum over constraints of how far the mean is outside the bound, relative to the bound's
/// size (so a count and an amount of money weigh alike); 0 when every bound is met.
fn violation(constraints: &[Constraint], values: &[Moments]) -> f64 {
    constraints
        .iter()
        .zip(values)
        .map(|(c, m)| {
            let mean = m.mean().unwrap_or(f64::NAN);
            let margin = c.margin(mean);
            if margin >= 0.0 {
                0.0
            } else if margin.is_nan() {
                f64::INFINITY
            } else {
                -margin / c.limit.abs().max(1e-9)
            }
        })
        .sum()
}

/// `count` points in the box of `vary`, a Latin hypercube: each field's range cut in `count`
/// equal slices and each slice used once, the slices paired at random. Seeded, so the same
/// seed gives the same candidates. Fields in `integer` are rounded.
pub fn latin_hypercube(vary: &[Vary], integer: &[bool], count: usize, seed: u64) -> Vec<Vec<f64>> {
    // A replication index no run uses, so this stream is not any replication's.
    let mut rng = crate::seed::replication_rng(seed, u64::MAX);
    let mut points = vec![Vec::with_capacity(vary.len()); count];
    for (d, v) in vary.iter().enumerate() {
        let mut slices: Vec<usize> = (0..count).collect();
        for i in (1..count).rev() {
            let j = ((rng.random::<f64>() * (i + 1) as f64) as usize).min(i);
            slices.swap(i, j);
        }
        for (point, slice) in points.iter_mut().zip(slices) {
            let u = (slice as f64 + rng.random::<f64>()) / count as f64;
            let x = v.low + u * (v.high - v.low);
            point.push(if integer[d] {
                x.round().clamp(v.low.ceil(), v.high.floor())
            } else {
                x
            });
        }
    }
    points
}

/// Whether the field at `path` of `rules` takes only whole numbers: setting it to a
/// fractional value is refused for that reason.
pub(crate) fn is_integer_field(rules: &ProcessRules, path: &str) -> Result<bool, String> {
    let current = spec_value(rules, path)?;
    Ok(with_spec_value(rules, path, current + 0.5).is_err_and(|e| e.contains("whole number")))
}

#[cfg(test)]
mod tests;
