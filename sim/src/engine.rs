//! The Monte Carlo engine: replications in parallel, folded into mergeable summaries.
//!
//! Each replication is simulated for every spec (common random numbers, see [`crate::model`])
//! and its outcomes are added to per-spec, per-KPI [`Summary`]s and, for every spec but the
//! baseline, to summaries of the paired difference from the baseline. The summaries are
//! exact and order-independent (integer counts and exact sums), so the result is
//! bit-identical for any number of threads, and shards of a run merge into exactly the full
//! run. Memory does not grow with the number of replications.

use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::model::{
    ATTAINMENT_BINS, CompiledSpecs, Kpi, Outcome, simulate_replication,
    simulate_replication_at_estimates,
};
use crate::scenario::{Scenario, ScenarioFile};
use crate::stats::{Moments, Summary, SummaryReport};

/// How to run a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Run only this shard of the replications.
    pub shard: Option<Shard>,
}

/// Part `index` (1-based) of `count` equal, contiguous slices of the replications. Built
/// only through [`Shard::new`] or parsing `K/N`, so `1 ≤ index ≤ count` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Part `index` of `count`; `1 ≤ index ≤ count`.
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 || index == 0 || index > count {
            Err(format!(
                "the part must be between 1 and the number of parts, found {index}/{count}"
            ))
        } else {
            Ok(Shard { index, count })
        }
    }

    /// Which part, from 1.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many parts.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The replication indices `[start, end)` this shard runs out of `total`.
    pub fn range(&self, total: u64) -> (u64, u64) {
        let count = u64::from(self.count);
        let k = u64::from(self.index - 1);
        (total * k / count, total * (k + 1) / count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected a shard such as 2/8 (part 2 of 8), found {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a run or a merge could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// What the system said.
        reason: String,
    },
    /// The shard has no replications (more shards than replications).
    #[error(
        "shard {shard} of {replications} replications is empty; use at most {replications} shards"
    )]
    EmptyShard {
        /// The shard.
        shard: Shard,
        /// Replications in the run.
        replications: u64,
    },
    /// Parts to merge do not belong to one run or overlap.
    #[error("{0}")]
    Merge(String),
    /// The progress callback asked the run to stop ([`run_cancellable`]).
    #[error("the run was cancelled after {done} replications")]
    Cancelled {
        /// Replications that had finished when the run stopped.
        done: u64,
    },
}

/// Mergeable state of one spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecState {
    /// Spec name.
    pub name: String,
    /// Per KPI, in [`Kpi::ALL`] order.
    pub kpis: Vec<Summary>,
    /// Rep goal periods by attainment bin (0.1 wide, last bin 2.0 and above).
    pub attainment: Vec<u64>,
    /// Sell-through per month.
    pub monthly_sell_through: Vec<Summary>,
    /// Sell-in per month (moments only; the chart and report use sell-through quantiles).
    pub monthly_sell_in: Vec<Moments>,
    /// Paired difference from the baseline per KPI (empty for the baseline). Moments only:
    /// differences straddle zero, where a log-bucketed sketch would need ever more buckets,
    /// and the comparison needs the mean and its interval, not quantiles.
    pub difference: Vec<Moments>,
    /// Replications in which this spec did better than the baseline, per KPI (ties count half).
    pub wins: Vec<f64>,
    /// Per KPI, the same replications with every parameter at its estimate: kept only for a
    /// calibrated scenario (one with an `uncertainty` table), so reports can say how much
    /// of each interval is parameter uncertainty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_estimates: Vec<Summary>,
}

impl SpecState {
    fn new(name: &str, months: usize, compared: bool, uncertain: bool) -> Self {
        Self {
            name: name.to_owned(),
            kpis: vec![Summary::new(); Kpi::COUNT],
            attainment: vec![0; ATTAINMENT_BINS],
            monthly_sell_through: vec![Summary::new(); months],
            monthly_sell_in: vec![Moments::new(); months],
            difference: if compared {
                vec![Moments::new(); Kpi::COUNT]
            } else {
                Vec::new()
            },
            wins: if compared {
                vec![0.0; Kpi::COUNT]
            } else {
                Vec::new()
            },
            at_estimates: if uncertain {
                vec![Summary::new(); Kpi::COUNT]
            } else {
                Vec::new()
            },
        }
    }

    fn add(&mut self, outcome: &Outcome, baseline: Option<&Outcome>) {
        for kpi in Kpi::ALL {
            self.kpis[kpi.index()].add(outcome.get(kpi));
        }
        for (slot, n) in self.attainment.iter_mut().zip(outcome.attainment) {
            *slot += u64::from(n);
        }
        for (s, v) in self
            .monthly_sell_through
            .iter_mut()
            .zip(&outcome.monthly_sell_through)
        {
            s.add(*v);
        }
        for (s, v) in self
            .monthly_sell_in
            .iter_mut()
            .zip(&outcome.monthly_sell_in)
        {
            s.add(*v);
        }
        if let Some(base) = baseline {
            for kpi in Kpi::ALL {
                let d = outcome.get(kpi) - base.get(kpi);
                self.difference[kpi.index()].add(d);
                let better = match kpi.better() {
                    Some(false) => d < 0.0,
                    _ => d > 0.0,
                };
                self.wins[kpi.index()] += if d == 0.0 {
                    0.5
                } else if better {
                    1.0
                } else {
                    0.0
                };
            }
        }
    }

    fn merge(&mut self, other: &SpecState) {
        let pairs = |a: &mut Vec<Summary>, b: &Vec<Summary>| {
            a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y))
        };
        pairs(&mut self.kpis, &other.kpis);
        pairs(&mut self.at_estimates, &other.at_estimates);
        pairs(&mut self.monthly_sell_through, &other.monthly_sell_through);
        self.monthly_sell_in
            .iter_mut()
            .zip(&other.monthly_sell_in)
            .for_each(|(x, y)| x.merge(y));
        self.difference
            .iter_mut()
            .zip(&other.difference)
            .for_each(|(x, y)| x.merge(y));
        self.attainment
            .iter_mut()
            .zip(&other.attainment)
            .for_each(|(a, b)| *a += b);
        self.wins
            .iter_mut()
            .zip(&other.wins)
            .for_each(|(a, b)| *a += b);
    }
}

/// The result of a run (or of a shard of one): what was run and the mergeable state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunResult {
    /// The chanlab version that produced it.
    pub chanlab_version: String,
    /// The scenario, self-contained: every spec inline and every parameter in force.
    pub scenario: ScenarioFile,
    /// Replication indices covered, `[start, end)` pairs in order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::ReplicationRange>))]
    pub replications: Vec<(u64, u64)>,
    /// Index of the baseline spec.
    pub baseline: usize,
    /// Per spec, in scenario order: the mergeable state for `chanlab merge` (exact sums and
    /// sketches). Its layout is internal; read the figures in `report`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub specs: Vec<SpecState>,
}

impl RunResult {
    /// Number of replications covered.
    pub fn replications_done(&self) -> u64 {
        self.replications.iter().map(|(a, b)| b - a).sum()
    }

    /// True when every replication of the scenario is covered.
    pub fn is_complete(&self) -> bool {
        self.replications == [(0, u64::from(self.scenario.replications))]
    }

    /// Merges shards of one run. The parts must have the same scenario and cover disjoint
    /// replications; the result equals running those replications in one go, exactly.
    pub fn merge(parts: Vec<RunResult>) -> Result<RunResult, EngineError> {
        Self::merge_in(parts, None)
    }

    /// [`RunResult::merge`] of parts whose replications lie in `span` rather than in
    /// `[0, replications)`: a policy search's confirmation runs far above the scenario's.
    pub fn merge_in(
        mut parts: Vec<RunResult>,
        span: Option<(u64, u64)>,
    ) -> Result<RunResult, EngineError> {
        if parts.is_empty() {
            return Err(EngineError::Merge("nothing to merge".to_owned()));
        }
        for part in &parts {
            part.check_in(span)?;
        }
        parts.sort_by_key(|p| p.replications.first().copied());
        let mut merged = parts.remove(0);
        for part in parts {
            if part.scenario != merged.scenario {
                return Err(EngineError::Merge(
                    "the parts come from different scenarios (or seeds); merge only shards of one run".to_owned(),
                ));
            }
            for range in &part.replications {
                if merged
                    .replications
                    .iter()
                    .any(|r| range.0 < r.1 && r.0 < range.1)
                {
                    return Err(EngineError::Merge(format!(
                        "replications {}..{} appear in two parts; each shard may be merged once",
                        range.0, range.1
                    )));
                }
            }
            for (a, b) in merged.specs.iter_mut().zip(&part.specs) {
                a.merge(b);
            }
            merged.replications.extend(part.replications);
        }
        merged.replications.sort_unstable();
        merged.replications = coalesce(&merged.replications);
        Ok(merged)
    }

    /// Checks that a result read from a file has the shape this version writes, so a merge
    /// never truncates or mixes states: same version, one state per spec with every KPI and
    /// month, a baseline that exists, replication ranges inside the run.
    pub fn check(&self) -> Result<(), EngineError> {
        self.check_in(None)
    }

    /// [`RunResult::check`] with the replications allowed in `span` (by default
    /// `[0, replications)`).
    fn check_in(&self, span: Option<(u64, u64)>) -> Result<(), EngineError> {
        let bad = |what: String| Err(EngineError::Merge(what));
        if self.chanlab_version != env!("CARGO_PKG_VERSION") {
            return bad(format!(
                "the part was written by chanlab {}, this is {}; merge parts with the version that wrote them",
                self.chanlab_version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        if let Err(e) = crate::scenario::resolve(self.scenario.clone(), &|p| {
            Err(format!("a result's scenario cannot refer to {p}"))
        }) {
            return bad(format!("the part's scenario is invalid: {e}"));
        }
        let months = self.scenario.horizon_months as usize;
        let (first, total) = span.unwrap_or((0, u64::from(self.scenario.replications)));
        if self.specs.len() != self.scenario.specs.len() || self.baseline >= self.specs.len() {
            return bad("the part's specs do not match its scenario".to_owned());
        }
        for (i, s) in self.specs.iter().enumerate() {
            let compared = if i == self.baseline { 0 } else { Kpi::COUNT };
            let ok = s.kpis.len() == Kpi::COUNT
                && s.attainment.len() == ATTAINMENT_BINS
                && s.monthly_sell_through.len() == months
                && s.monthly_sell_in.len() == months
                && s.difference.len() == compared
                && s.wins.len() == compared;
            if !ok {
                return bad(format!(
                    "the state of spec {:?} is damaged or incomplete",
                    s.name
                ));
            }
        }
        if self.replications.is_empty()
            || self
                .replications
                .iter()
                .any(|&(a, b)| a < first || a >= b || b > total)
        {
            return bad("the part's replication ranges are outside its run".to_owned());
        }
        Ok(())
    }

    /// The figures people read: per spec and KPI, and per comparison with the baseline.
    pub fn report(&self) -> RunReport {
        let months = self.scenario.horizon_months as usize;
        let specs = self
            .specs
            .iter()
            .enumerate()
            .map(|(i, s)| SpecReport {
                name: s.name.clone(),
                baseline: i == self.baseline,
                kpis: Kpi::ALL
                    .iter()
                    .map(|k| {
                        let summary = s.kpis[k.index()].report();
                        let parameter_share = s.at_estimates.get(k.index()).and_then(|fixed| {
                            let fixed = fixed.report();
                            let width = summary.p95? - summary.p5?;
                            let at = fixed.p95? - fixed.p5?;
                            (width > 0.0).then(|| (1.0 - at / width).clamp(0.0, 1.0))
                        });
                        KpiReport {
                            kpi: *k,
                            summary,
                            parameter_share,
                        }
                    })
                    .collect(),
                attainment_histogram: s.attainment.clone(),
                monthly_sell_through: (0..months)
                    .map(|m| s.monthly_sell_through[m].report())
                    .collect(),
                vs_baseline: if s.difference.is_empty() {
                    Vec::new()
                } else {
                    Kpi::ALL
                        .iter()
                        .map(|k| {
                            let d = &s.difference[k.index()];
                            let n = d.count().max(1) as f64;
                            ComparisonReport {
                                kpi: *k,
                                difference: d.report(),
                                probability_better: s.wins[k.index()] / n,
                            }
                        })
                        .collect()
                },
            })
            .collect();
        RunReport {
            replications: self.replications_done(),
            specs,
        }
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

/// The derived figures of a [`RunResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReport {
    /// Replications summarised.
    pub replications: u64,
    /// Per spec.
    pub specs: Vec<SpecReport>,
}

/// One spec's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecReport {
    /// Spec name.
    pub name: String,
    /// Whether this is the baseline.
    pub baseline: bool,
    /// Per KPI.
    pub kpis: Vec<KpiReport>,
    /// Rep goal periods by attainment bin (0.1 wide from 0; last bin 2.0 and above).
    pub attainment_histogram: Vec<u64>,
    /// Sell-through per month.
    pub monthly_sell_through: Vec<SummaryReport>,
    /// Paired comparison with the baseline (empty for the baseline itself).
    pub vs_baseline: Vec<ComparisonReport>,
}

/// One KPI's figures for one spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiReport {
    /// The KPI.
    pub kpi: Kpi,
    /// Its distribution over replications.
    pub summary: SummaryReport,
    /// For a calibrated scenario: the share of the P5–P95 width that parameter uncertainty
    /// adds (1 − the width with every parameter at its estimate / the width with draws).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_share: Option<f64>,
}

/// A spec against the baseline on one KPI, over paired replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonReport {
    /// The KPI.
    pub kpi: Kpi,
    /// Mean of (spec − baseline) over replications and its 95% interval (quantiles are not
    /// kept for differences and are `None`).
    pub difference: SummaryReport,
    /// Share of replications in which the spec did better than the baseline (ties count half).
    pub probability_better: f64,
}

/// The JSON document a finished run is published as: the mergeable [`RunResult`] with the
/// figures people read beside it. `chanlab run --format json` writes it and the API's
/// `GET /runs/{id}` answers it, so the two are the same document.
#[derive(Debug, Clone, Serialize)]
// Named for what it is among the kinds of run (the others are `SweepDocument`, ...).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CompareDocument))]
pub struct ResultDocument<'a> {
    /// What was run and the mergeable state.
    #[serde(flatten)]
    pub result: &'a RunResult,
    /// The derived figures ([`RunResult::report`]).
    pub report: RunReport,
}

impl RunResult {
    /// The result with its report, as published ([`ResultDocument`]).
    pub fn document(&self) -> ResultDocument<'_> {
        ResultDocument {
            result: self,
            report: self.report(),
        }
    }
}

/// Runs `scenario` (or one shard of it), calling `progress` once per finished replication.
pub fn run(
    scenario: &Scenario,
    options: &RunOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<RunResult, EngineError> {
    run_cancellable(scenario, options, &|| {
        progress();
        ControlFlow::Continue(())
    })
}

/// [`run`], stoppable: `progress` is called once per finished replication, and when it
/// returns [`ControlFlow::Break`] no further replication starts (those running finish) and
/// the run answers [`EngineError::Cancelled`].
pub fn run_cancellable(
    scenario: &Scenario,
    options: &RunOptions,
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<RunResult, EngineError> {
    let total = u64::from(scenario.file().replications);
    let (start, end) = options.shard.map_or((0, total), |s| s.range(total));
    if let Some(shard) = options.shard
        && start == end
    {
        return Err(EngineError::EmptyShard {
            shard,
            replications: total,
        });
    }
    run_replications(scenario, options.threads, (start, end), progress)
}

/// [`run_cancellable`] over the replication indices `[start, end)`, which may lie beyond the
/// scenario's `replications`: policy search (sim/MODEL.md §13.4) confirms its winner on
/// replications far from those it searched on. The result records the range it covers; one
/// outside `0..replications` is not a shard of the scenario and does not [`RunResult::merge`]
/// with its shards.
pub fn run_range(
    scenario: &Scenario,
    threads: usize,
    (start, end): (u64, u64),
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<RunResult, EngineError> {
    if start >= end {
        return Err(EngineError::Merge(format!(
            "the replication range {start}..{end} is empty"
        )));
    }
    run_replications(scenario, threads, (start, end), progress)
}

fn run_replications(
    scenario: &Scenario,
    threads: usize,
    (start, end): (u64, u64),
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<RunResult, EngineError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EngineError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    let compiled = CompiledSpecs::new(scenario);
    let months = scenario.file().horizon_months as usize;
    let baseline = scenario.baseline();
    let uncertain = scenario.file().uncertainty.is_some();
    let empty = || -> Vec<SpecState> {
        scenario
            .specs()
            .iter()
            .enumerate()
            .map(|(i, s)| SpecState::new(s.name.as_str(), months, i != baseline, uncertain))
            .collect()
    };
    // One accumulator per worker, each pulling the next replication index from a shared
    // counter: memory stays at one set of summaries per thread however many replications
    // run, and because every summary merges exactly, the order of work does not matter.
    let next = AtomicU64::new(start);
    let stop = AtomicBool::new(false);
    let finished = AtomicU64::new(0);
    let parts: Vec<Vec<SpecState>> = pool.broadcast(|_| {
        let mut acc = empty();
        loop {
            if stop.load(Ordering::Relaxed) {
                break acc;
            }
            let replication = next.fetch_add(1, Ordering::Relaxed);
            if replication >= end {
                break acc;
            }
            let outcomes = simulate_replication(scenario, &compiled, replication);
            for (i, outcome) in outcomes.iter().enumerate() {
                let base = (i != baseline).then(|| &outcomes[baseline]);
                acc[i].add(outcome, base);
            }
            if uncertain {
                // The same worlds and shocks with every parameter at its estimate.
                for (i, outcome) in
                    simulate_replication_at_estimates(scenario, &compiled, replication)
                        .iter()
                        .enumerate()
                {
                    for kpi in Kpi::ALL {
                        acc[i].at_estimates[kpi.index()].add(outcome.get(kpi));
                    }
                }
            }
            finished.fetch_add(1, Ordering::Relaxed);
            if progress().is_break() {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    if stop.into_inner() {
        return Err(EngineError::Cancelled {
            done: finished.into_inner(),
        });
    }
    let mut specs = empty();
    for part in &parts {
        for (x, y) in specs.iter_mut().zip(part) {
            x.merge(y);
        }
    }
    Ok(RunResult {
        chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: scenario.file().clone(),
        replications: vec![(start, end)],
        baseline,
        specs,
    })
}
