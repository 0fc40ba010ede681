//! Running a sensitivity study: choose the parameters, draw the design, simulate every
//! point of every trajectory on the same replications, fold into exact state.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::design::{Trajectory, VariedParameter, trajectory_rng};
use super::{
    Kind, MAX_SAMPLES, ParameterChoice, SensitivityOptions, SensitivityResult, SkippedParameter,
    TrajectoryState,
};
use crate::engine::RunOptions;
use crate::explore::{ExploreError, Factor, at_point};
use crate::model::{CompiledSpecs, Kpi, simulate_replication};
use crate::params::{self, ParameterInfo};
use crate::scenario::Scenario;

/// Trajectories drawn for one slot before giving up: a redraw happens only when a point
/// breaks a cross-field rule, which for the bundled ranges is a minority of trajectories.
const MAX_DRAWS: u32 = 1000;

/// Runs a sensitivity study of `scenario` (or one shard of its replications, which are the
/// scenario's `replications` at every point), calling `progress` once per replication per
/// point. When `progress` returns [`ControlFlow::Break`] no further trajectory-replication
/// starts and the study answers an error whose `field` is `"cancelled"`.
pub fn run_sensitivity(
    scenario: &Scenario,
    options: &SensitivityOptions,
    run: &RunOptions,
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<SensitivityResult, ExploreError> {
    check_options(options)?;
    let (chosen, skipped) = choose(scenario, &options.parameters)?;
    let total = u64::from(scenario.file().replications);
    let (start, end) = run.shard.map_or((0, total), |s| s.range(total));
    if let Some(shard) = run.shard
        && start == end
    {
        return Err(ExploreError::new(
            "--shard",
            format!("shard {shard} of {total} replications per point is empty"),
        )
        .with_fix(format!(
            "use at most {total} shards, or more --replications"
        )));
    }
    let varied: Vec<VariedParameter> = chosen
        .iter()
        .map(|p| VariedParameter::of(p, p.value(scenario.behaviour())))
        .collect();
    let (trajectories, points) = draw_design(scenario, &chosen, &varied, options)?;
    let compiled: Vec<Vec<CompiledSpecs>> = points
        .iter()
        .map(|t| t.iter().map(CompiledSpecs::new).collect())
        .collect();
    let baseline = scenario.baseline();
    let respond = |t: usize, j: usize, replication: u64| -> Vec<f64> {
        let outcomes = simulate_replication(&points[t][j], &compiled[t][j], replication);
        let base = &outcomes[baseline];
        outcomes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != baseline)
            .flat_map(|(_, o)| Kpi::ALL.map(|k| o.get(k) - base.get(k)))
            .collect()
    };
    let width = (scenario.specs().len() - 1) * Kpi::COUNT;
    let shape = Shape {
        trajectories: trajectories.len(),
        k: varied.len(),
        width,
    };
    let state = accumulate(shape, (start, end), run.threads, &respond, progress)?;
    Ok(SensitivityResult {
        kind: Kind::Sensitivity,
        chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: scenario.file().clone(),
        parameters: varied,
        skipped,
        levels: options.levels,
        trajectories,
        replications: vec![(start, end)],
        baseline,
        specs: scenario
            .specs()
            .iter()
            .map(|s| s.name.as_str().to_owned())
            .collect(),
        state,
    })
}

fn check_options(options: &SensitivityOptions) -> Result<(), ExploreError> {
    if !(2..=MAX_SAMPLES).contains(&options.samples) {
        return Err(ExploreError::new(
            "--samples",
            format!(
                "expected between 2 and {MAX_SAMPLES} trajectories, found {}; fix: give \
                 --samples 10 (the default) or more — σ needs at least two",
                options.samples
            ),
        ));
    }
    if !(2..=20).contains(&options.levels) || !options.levels.is_multiple_of(2) {
        return Err(ExploreError::new(
            "levels",
            format!(
                "expected an even number of grid levels from 2 to 20, found {}; fix: use 4",
                options.levels
            ),
        ));
    }
    Ok(())
}

/// The parameters to vary and those left out with the reason.
pub(crate) fn choose(
    scenario: &Scenario,
    choice: &ParameterChoice,
) -> Result<(Vec<&'static ParameterInfo>, Vec<SkippedParameter>), ExploreError> {
    let drawn: Vec<&str> = scenario
        .file()
        .uncertainty
        .iter()
        .flat_map(|u| &u.parameters)
        .map(|d| d.parameter.as_str())
        .collect();
    let mut chosen: Vec<&'static ParameterInfo> = Vec::new();
    let mut skipped = Vec::new();
    let candidates: Vec<&'static ParameterInfo> = match choice {
        ParameterChoice::All => params::parameters()
            .iter()
            .filter(|p| {
                let calibrated = drawn.contains(&p.name());
                if calibrated {
                    skipped.push(SkippedParameter {
                        name: p.name().to_owned(),
                        reason: "calibrated: drawn per replication from the records' \
                                 uncertainty (sim/MODEL.md §12.4); name it in --parameters \
                                 to vary it over its plausible range instead"
                            .to_owned(),
                    });
                }
                !calibrated
            })
            .collect(),
        ParameterChoice::List(names) => listed(names)?,
    };
    for p in candidates {
        if p.plausible().min >= p.plausible().max {
            skipped.push(SkippedParameter {
                name: p.name().to_owned(),
                reason: format!(
                    "its plausible range is the single value {}",
                    p.plausible().min
                ),
            });
        } else {
            chosen.push(p);
        }
    }
    if chosen.is_empty() {
        return Err(ExploreError::new(
            "--parameters",
            "no parameter is left to vary; fix: name at least one behaviour parameter with a \
             plausible range (`chanlab scenario init` lists them)",
        ));
    }
    Ok((chosen, skipped))
}

/// The table entries a comma list names; a field name with several entries stands for all.
fn listed(names: &[String]) -> Result<Vec<&'static ParameterInfo>, ExploreError> {
    let mut out: Vec<&'static ParameterInfo> = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            return Err(ExploreError::new(
                "--parameters",
                "an empty name in the list; fix: separate names by single commas, as in \
                 --parameters commitment_midpoint,own_touches.B (or give `all`)",
            ));
        }
        let entries: Vec<&'static ParameterInfo> = match params::parameter(name) {
            Some(p) => vec![p],
            None => params::parameters()
                .iter()
                .filter(|p| p.field() == name)
                .collect(),
        };
        if entries.is_empty() {
            let message = match Factor::behaviour(name) {
                Err(m) => m,
                Ok(_) => unreachable!("params::parameter found no entry"),
            };
            return Err(ExploreError::new(
                "--parameters",
                format!("{message}; fix: correct the name, or give `all`"),
            ));
        }
        for p in entries {
            if out.iter().any(|q| q.name() == p.name()) {
                return Err(ExploreError::new(
                    "--parameters",
                    format!("{} is named twice; fix: name each parameter once", p.name()),
                ));
            }
            out.push(p);
        }
    }
    Ok(out)
}

/// The trajectories and the validated scenario at each of their points. A trajectory with
/// a point the model rejects (a cross-field rule) is redrawn from the same stream, and the
/// redraws are counted in the result: such a set of parameters is not a plausible world.
fn draw_design(
    scenario: &Scenario,
    chosen: &[&'static ParameterInfo],
    varied: &[VariedParameter],
    options: &SensitivityOptions,
) -> Result<(Vec<Trajectory>, Vec<Vec<Scenario>>), ExploreError> {
    let levels = options.levels;
    let mut trajectories = Vec::new();
    let mut all_points = Vec::new();
    for t in 0..options.samples {
        let mut rng = trajectory_rng(scenario.file().seed, u64::from(t));
        let mut last_error = String::new();
        let mut found = None;
        for draw in 0..MAX_DRAWS {
            let mut trajectory = Trajectory::draw(&mut rng, chosen.len(), levels);
            trajectory.redrawn = draw;
            let points: Result<Vec<Scenario>, String> = trajectory
                .points(levels)
                .iter()
                .map(|at| {
                    let point: Vec<(Factor, f64)> = chosen
                        .iter()
                        .zip(varied)
                        .zip(at)
                        .map(|((p, v), &l)| (Factor::Behaviour(p), v.value(l, levels)))
                        .collect();
                    at_point(scenario, &point)
                })
                .collect();
            match points {
                Ok(points) => {
                    found = Some((trajectory, points));
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let Some((trajectory, points)) = found else {
            return Err(ExploreError::new(
                "--parameters",
                format!(
                    "each of {MAX_DRAWS} trajectories drawn had a point the model rejects \
                     ({last_error}); fix: leave out one of the parameters that rule ties, or \
                     change the scenario's value it is checked against"
                ),
            ));
        };
        trajectories.push(trajectory);
        all_points.push(points);
    }
    Ok((trajectories, all_points))
}

/// The size of a study's state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Trajectories r.
    pub(crate) trajectories: usize,
    /// Varied parameters k.
    pub(crate) k: usize,
    /// Values per point: compared specs × KPIs.
    pub(crate) width: usize,
}

/// Folds `respond(trajectory, point, replication)` (the paired differences at a point, in
/// state order) over every trajectory and replication in `range`, in parallel. The unit of
/// work is one replication of one trajectory, its points in order, so each step's change
/// is taken within one replication: the elementary effect's noise is measured on the
/// common random numbers. Separate from the simulator so tests can give it a known
/// response.
pub(crate) fn accumulate(
    shape: Shape,
    range: (u64, u64),
    threads: usize,
    respond: &(dyn Fn(usize, usize, u64) -> Vec<f64> + Sync),
    progress: &(dyn Fn() -> ControlFlow<()> + Sync),
) -> Result<Vec<TrajectoryState>, ExploreError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| {
            ExploreError::new(
                "--threads",
                format!("cannot start {threads} worker threads: {e}"),
            )
        })?;
    let (start, end) = range;
    let per = end - start;
    let units = shape.trajectories as u64 * per;
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    // As in the engine: one accumulator per worker pulling the next unit from a counter;
    // the state is exact sums, so which worker did what does not change a bit.
    let parts: Vec<Vec<Option<TrajectoryState>>> = pool.broadcast(|_| {
        let mut acc: Vec<Option<TrajectoryState>> = vec![None; shape.trajectories];
        'units: loop {
            let unit = next.fetch_add(1, Ordering::Relaxed);
            if unit >= units || stop.load(Ordering::Relaxed) {
                break acc;
            }
            let t = (unit / per) as usize;
            let replication = start + unit % per;
            let state = acc[t].get_or_insert_with(|| TrajectoryState::new(shape.k, shape.width));
            let mut previous: Vec<f64> = Vec::new();
            for j in 0..=shape.k {
                let d = respond(t, j, replication);
                for (m, x) in state.points[j].iter_mut().zip(&d) {
                    m.add(*x);
                }
                if j > 0 {
                    for ((m, x), p) in state.steps[j - 1].iter_mut().zip(&d).zip(&previous) {
                        m.add(x - p);
                    }
                }
                previous = d;
                done.fetch_add(1, Ordering::Relaxed);
                if progress().is_break() {
                    stop.store(true, Ordering::Relaxed);
                    break 'units acc;
                }
            }
        }
    });
    if stop.into_inner() {
        return Err(ExploreError::new(
            "cancelled",
            format!(
                "the sensitivity study was cancelled after {} of {} simulated points",
                done.into_inner(),
                units * (shape.k as u64 + 1)
            ),
        ));
    }
    let mut state = vec![TrajectoryState::new(shape.k, shape.width); shape.trajectories];
    for part in &parts {
        for (s, p) in state.iter_mut().zip(part) {
            if let Some(p) = p {
                s.merge(p);
            }
        }
    }
    Ok(state)
}

/// How many times [`run_sensitivity`] will call `progress` for these inputs (replications
/// of the shard × points of the design), for a progress bar; the same errors as the run.
pub fn simulations(
    scenario: &Scenario,
    options: &SensitivityOptions,
    run: &RunOptions,
) -> Result<u64, ExploreError> {
    check_options(options)?;
    let (chosen, _) = choose(scenario, &options.parameters)?;
    let total = u64::from(scenario.file().replications);
    let (start, end) = run.shard.map_or((0, total), |s| s.range(total));
    Ok(u64::from(options.samples) * (chosen.len() as u64 + 1) * (end - start))
}
