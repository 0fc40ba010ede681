//! The simulated-moments block (sim/MODEL.md §12.3): its targets, and the damped chord fit
//! with the sandwich variance and the identification checks.

use super::*;

/// How a moment of the simulated-moments block is read.
#[derive(Clone, Copy)]
pub(super) enum Read {
    /// A figure of the whole channel.
    Channel(fn(&Moments) -> Option<f64>),
    /// Weighted touches per touch the spec would have at full compliance, in a region.
    Compliance(RegionId),
}

impl Read {
    pub(super) fn of(&self, m: &Moments) -> Option<f64> {
        match self {
            Read::Channel(f) => f(m),
            Read::Compliance(region) => m
                .touches
                .get(region)
                .and_then(|(t, _, full)| (*full > 0.0).then(|| t / full)),
        }
    }
}

/// A parameter of the simulated-moments block: its plausible range (it is fitted on the
/// log scale), the moment that identifies it and how to read that moment.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) parameter: String,
    /// The region, for a backing.
    pub(super) region: Option<RegionId>,
    pub(super) moment: String,
    pub(super) description: String,
    pub(super) range: (f64, f64),
    pub(super) read: Read,
}

/// The channel-wide part of the simulated-moments block (sim/MODEL.md §12.3).
pub(super) fn channel_targets() -> Vec<Target> {
    let t = |parameter: &str, moment: &str, description: &str, range, read| Target {
        parameter: parameter.to_owned(),
        region: None,
        moment: moment.to_owned(),
        description: description.to_owned(),
        range,
        read: Read::Channel(read),
    };
    vec![
        t(
            "demand_noise",
            "dispersion.partner",
            "sd of partners' log change of sell-through from one goal period to the next, net of the channel's",
            (0.05, 1.0),
            |m| m.dispersion_partner,
        ),
        t(
            "market_volatility",
            "dispersion.market",
            "sd of the log change of channel sell-through from one goal period to the next",
            (0.005, 0.3),
            |m| m.dispersion_market,
        ),
        t(
            "max_pull_in",
            "profile.last",
            "last month of a goal period over the period's monthly mean (channel sell-through)",
            (0.05, 4.0),
            |m| m.profile.as_ref().map(Profile::last),
        ),
        t(
            "holding_cost",
            "loading",
            "sell-in / sell-through in the last month of partner target periods, minus in other months",
            (0.002, 0.2),
            |m| m.loading,
        ),
        t(
            "goal_level_factor",
            "attainment.mean",
            "mean recorded revenue attainment of rep goal periods",
            (0.3, 3.0),
            |m| m.attainment.map(|a| a.0),
        ),
    ]
}

/// Parameters a trial sets: behaviour and regional backing.
#[derive(Debug, Clone)]
pub(super) struct Trial {
    pub(super) behaviour: Behaviour,
    pub(super) backing: BTreeMap<RegionId, f64>,
}

impl Trial {
    pub(super) fn get(&self, t: &Target) -> f64 {
        match t.region {
            Some(r) => self.backing.get(&r).copied().unwrap_or(1.0),
            None => *scalar(&mut self.behaviour.clone(), &t.parameter).expect("a parameter"),
        }
    }

    pub(super) fn set(&mut self, t: &Target, v: f64) {
        match t.region {
            Some(r) => {
                self.backing.insert(r, v);
            }
            None => *scalar(&mut self.behaviour, &t.parameter).expect("a parameter") = v,
        }
    }
}

/// The outcome of the simulated-moments fit, per parameter of the block.
pub(super) struct SimulatedFit {
    pub(super) results: Vec<Option<Estimate>>,
    pub(super) why: Vec<String>,
    pub(super) at_default: Vec<f64>,
    pub(super) at_estimate: Vec<f64>,
    pub(super) sd: Vec<f64>,
}

/// Damped chord iteration on the log scale: θ ← θ − G⁻¹(m(θ) − m_rec), G estimated by
/// central differences on common random numbers at the start; then G again at the
/// estimate and Ω over fresh histories for the sandwich variance.
pub(super) fn fit_simulated(
    block: &[Target],
    recorded: &Moments,
    start: &Trial,
    history: &(dyn Fn(&Trial, std::ops::Range<u64>) -> Vec<Moments> + Sync),
    seeds: std::ops::Range<u64>,
) -> SimulatedFit {
    let k = block.len();
    let target: Vec<f64> = block
        .iter()
        .map(|s| s.read.of(recorded).unwrap_or(0.0))
        .collect();
    let s = (seeds.end - seeds.start) as f64;
    let read = |ms: &[Moments]| -> Vec<Vec<f64>> {
        ms.iter()
            .map(|m| {
                block
                    .iter()
                    .map(|b| b.read.of(m).unwrap_or(f64::NAN))
                    .collect()
            })
            .collect()
    };
    let mean_of = |rows: &[Vec<f64>]| -> Vec<f64> {
        (0..k)
            .map(|j| {
                let v: Vec<f64> = rows
                    .iter()
                    .map(|r| r[j])
                    .filter(|x| x.is_finite())
                    .collect();
                moments::mean(&v)
            })
            .collect()
    };
    let set = |y: &[f64]| -> Trial {
        let mut out = start.clone();
        for (j, t) in block.iter().enumerate() {
            out.set(t, y[j].exp().clamp(t.range.0, t.range.1));
        }
        out
    };
    let mut y: Vec<f64> = block
        .iter()
        .map(|t| start.get(t).clamp(t.range.0, t.range.1).ln())
        .collect();
    let eval = |y: &[f64], seeds: std::ops::Range<u64>| -> Vec<Vec<f64>> {
        read(&history(&set(y), seeds))
    };
    let at_start = eval(&y, seeds.clone());
    let at_default = mean_of(&at_start);
    let sd0: Vec<f64> = (0..k)
        .map(|j| {
            let v: Vec<f64> = at_start
                .iter()
                .map(|r| r[j])
                .filter(|x| x.is_finite())
                .collect();
            moments::sd(&v)
        })
        .collect();
    let jacobian = |y: &[f64]| -> Vec<Vec<f64>> {
        let h = 0.2;
        let mut g = vec![vec![0.0; k]; k];
        for j in 0..k {
            let (mut up, mut down) = (y.to_vec(), y.to_vec());
            up[j] += h;
            down[j] -= h;
            let mu = mean_of(&eval(&up, seeds.clone()));
            let md = mean_of(&eval(&down, seeds.clone()));
            for i in 0..k {
                g[i][j] = (mu[i] - md[i]) / (2.0 * h);
            }
        }
        g
    };
    let mut why = vec![String::new(); k];
    let mut active: Vec<bool> = vec![true; k];
    let g0 = jacobian(&y);
    for (j, sim) in block.iter().enumerate() {
        // Across the plausible range, the moment must move by more than twice what one
        // record set of this size strays by chance.
        let span = (sim.range.1 / sim.range.0).ln();
        let signal = g0[j][j].abs() * span;
        // NaN (a moment the simulations never showed) counts as not identified.
        if signal.is_nan() || signal <= 2.0 * sd0[j] || g0[j][j] == 0.0 {
            active[j] = false;
            why[j] = format!(
                "not identified: across its plausible range {}–{} the simulated {} moves by {:.4}, against {:.4} of chance variation in records this size",
                sim.range.0, sim.range.1, sim.moment, signal, sd0[j]
            );
        }
    }
    let idx: Vec<usize> = (0..k).filter(|&j| active[j]).collect();
    let sub = |g: &[Vec<f64>]| -> Vec<Vec<f64>> {
        idx.iter()
            .map(|&i| idx.iter().map(|&j| g[i][j]).collect())
            .collect()
    };
    let mut current = at_default.clone();
    for _ in 0..6 {
        if idx.is_empty() {
            break;
        }
        let r: Vec<f64> = idx.iter().map(|&i| current[i] - target[i]).collect();
        let Some(step) = fit::solve(sub(&g0), r) else {
            break;
        };
        for (n, &j) in idx.iter().enumerate() {
            let sim = &block[j];
            // Damped: at most a factor e per step, and inside the plausible range.
            y[j] = (y[j] - step[n].clamp(-1.0, 1.0)).clamp(sim.range.0.ln(), sim.range.1.ln());
        }
        current = mean_of(&eval(&y, seeds.clone()));
    }
    // The sandwich at the estimate: G again, Ω over histories the fit did not use.
    let g1 = jacobian(&y);
    let fresh = seeds.end + 1000..seeds.end + 1000 + 24;
    let rows = eval(&y, fresh);
    let rows: Vec<Vec<f64>> = rows
        .into_iter()
        .filter(|r| r.iter().all(|x| x.is_finite()))
        .collect();
    let omega = fit::covariance(&rows);
    let sd_at: Vec<f64> = (0..k)
        .map(|j| omega.get(j).map_or(0.0, |r| r[j].max(0.0).sqrt()))
        .collect();
    let mut results = vec![None; k];
    if !idx.is_empty()
        && let Some(ginv) = fit::inverse(&sub(&g1))
    {
        let om = sub(&omega);
        let n = idx.len();
        for (a, &j) in idx.iter().enumerate() {
            let mut var = 0.0;
            for p in 0..n {
                for q in 0..n {
                    var += ginv[a][p] * om[p][q] * ginv[a][q];
                }
            }
            let sd = ((1.0 + 1.0 / s) * var).max(0.0).sqrt();
            let sim = &block[j];
            let span = (sim.range.1 / sim.range.0).ln();
            let miss = (current[j] - target[j]).abs();
            if 2.0 * fit::Z90 * sd > 0.75 * span {
                why[j] = format!(
                    "not identified: its 90% interval would span most of its plausible range {}–{}",
                    sim.range.0, sim.range.1
                );
            } else if miss > 3.0 * sd_at[j].max(1e-9) {
                why[j] = format!(
                    "not identified: no value in its plausible range gives the recorded {} ({:.4}; the model reaches {:.4})",
                    sim.moment, target[j], current[j]
                );
            } else {
                results[j] = Some(Estimate {
                    value: y[j].exp(),
                    sd,
                    scale: Scale::Log,
                });
            }
        }
    } else {
        for &j in &idx {
            why[j] =
                "not identified: the moments do not separate the block's parameters".to_owned();
        }
    }
    SimulatedFit {
        results,
        why,
        at_default,
        at_estimate: current,
        sd: sd_at,
    }
}
