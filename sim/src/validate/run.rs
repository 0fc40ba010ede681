//! Running an experiment: every arm on the same replications, each check's statistic
//! accumulated exactly, and the verdict.

use rayon::prelude::*;
use serde::Serialize;

use super::measure::{self, value};
use super::{Display, Expect, Experiment, Measure, Statistic, ValidateError};
use crate::model::{Outcome, simulate_replication};
use crate::scenario::Scenario;
use crate::stats::Moments;

/// How to run the experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunOptions {
    /// Replications for every experiment; each file's own count when `None`.
    pub replications: Option<u32>,
    /// Seed for every experiment; each scenario's own seed when `None`.
    pub seed: Option<u64>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

/// The outcome of one experiment: its checks and the data for its chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// The experiment's id.
    pub id: String,
    /// One line.
    pub title: String,
    /// The published finding.
    pub finding: String,
    /// The source.
    pub source: String,
    /// The published effect.
    pub published: String,
    /// How the experiment is set up.
    pub setup: String,
    /// Replications run (per arm).
    pub replications: u32,
    /// Seed used.
    pub seed: u64,
    /// Whether every check passed.
    pub passed: bool,
    /// One per check, in file order.
    pub checks: Vec<CheckReport>,
    /// What the chart shows.
    pub panels: Vec<Panel>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// What is checked.
    pub label: String,
    /// How values are shown.
    pub unit: Display,
    /// Mean of the statistic over replications (for a peak: the swept value at the peak).
    pub mean: Option<f64>,
    /// Lower end of its 95% interval (for a peak: of the rise from the first value).
    pub ci95_low: Option<f64>,
    /// Upper end of its 95% interval.
    pub ci95_high: Option<f64>,
    /// The condition for PASS.
    pub expect: Expect,
    /// The published figure, when the experiment gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<super::Published>,
    /// Whether it held.
    pub passed: bool,
    /// A sentence with the figures behind the verdict.
    pub detail: String,
    /// Replications whose statistic was not a finite number (left out of the mean).
    pub non_finite: u64,
}

/// A curve panel of an experiment's chart (the sweep, the fiscal-month profile); the checks
/// themselves are drawn from [`CheckReport`]s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// What the horizontal axis shows.
    pub x_label: String,
    /// How values are shown.
    pub unit: Display,
    /// The lines or points.
    pub series: Vec<Series>,
    /// A horizontal reference line (the check's threshold, or 1 for ratios).
    pub reference: Option<f64>,
}

/// A named set of points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The points, left to right.
    pub points: Vec<Point>,
}

/// A mean with its 95% interval at one horizontal position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Label of the position.
    pub x: String,
    /// Mean.
    pub mean: f64,
    /// 95% interval.
    pub low: f64,
    /// 95% interval.
    pub high: f64,
}

/// Exact running sums for one experiment.
#[derive(Clone)]
struct Acc {
    /// Per check: the statistic (peak checks: unused).
    checks: Vec<Moments>,
    /// Per check: per term (contrasts only).
    terms: Vec<Vec<Moments>>,
    /// Per check: per sweep arm, the measure, and its difference from the first and the
    /// last sweep arm (peak checks only).
    sweep: Vec<[Vec<Moments>; 3]>,
    /// Per profiled arm: fiscal months 1–12 relative to mid-year, or quarter months 1–3
    /// relative to the quarter's mean.
    profiles: Vec<Vec<Moments>>,
}

/// Which month-by-month profile of an arm is charted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Months 1–12 of the fiscal year over months 4–9.
    Fiscal,
    /// Months 1–3 of the quarter over the quarter's mean month.
    Quarter,
}

impl Profile {
    fn months(self) -> u32 {
        match self {
            Profile::Fiscal => 12,
            Profile::Quarter => 3,
        }
    }

    fn value(self, monthly: &[f64], month: u32) -> f64 {
        match self {
            Profile::Fiscal => measure::fiscal_month(monthly, month),
            Profile::Quarter => measure::quarter_month(monthly, month, None),
        }
    }
}

impl Acc {
    fn new(e: &Experiment, profiled: &[(usize, Profile)]) -> Self {
        let checks = &e.file.checks;
        let n = e.sweep.len();
        Acc {
            checks: vec![Moments::new(); checks.len()],
            terms: checks
                .iter()
                .map(|c| match &c.statistic {
                    Statistic::Contrast { terms } => vec![Moments::new(); terms.len()],
                    _ => Vec::new(),
                })
                .collect(),
            sweep: checks
                .iter()
                .map(|c| match c.statistic {
                    Statistic::Peak { .. } => std::array::from_fn(|_| vec![Moments::new(); n]),
                    _ => Default::default(),
                })
                .collect(),
            profiles: profiled
                .iter()
                .map(|(_, p)| vec![Moments::new(); p.months() as usize])
                .collect(),
        }
    }

    fn merge(mut self, other: &Acc) -> Acc {
        let pairs = |a: &mut Vec<Moments>, b: &Vec<Moments>| {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        };
        pairs(&mut self.checks, &other.checks);
        for (a, b) in self.terms.iter_mut().zip(&other.terms) {
            pairs(a, b);
        }
        for (a, b) in self.sweep.iter_mut().zip(&other.sweep) {
            for (x, y) in a.iter_mut().zip(b) {
                pairs(x, y);
            }
        }
        for (a, b) in self.profiles.iter_mut().zip(&other.profiles) {
            pairs(a, b);
        }
        self
    }

    fn add(&mut self, e: &Experiment, profiled: &[(usize, Profile)], outcomes: &[Outcome]) {
        let arm = |name: &str| &outcomes[e.arm(name).expect("arms checked at load")];
        for (k, check) in e.file.checks.iter().enumerate() {
            match &check.statistic {
                Statistic::Value { arm: a, measure } => {
                    self.checks[k].add(value(measure, arm(a)));
                }
                Statistic::Difference {
                    arm: a,
                    versus,
                    measure,
                    relative,
                } => {
                    let (x, y) = (value(measure, arm(a)), value(measure, arm(versus)));
                    let d = if *relative {
                        if y != 0.0 { x / y - 1.0 } else { f64::NAN }
                    } else {
                        x - y
                    };
                    self.checks[k].add(d);
                }
                Statistic::Contrast { terms } => {
                    let mut total = 0.0;
                    for (t, term) in terms.iter().enumerate() {
                        let v = term.weight * value(&term.measure, arm(&term.arm));
                        self.terms[k][t].add(v);
                        total += v;
                    }
                    self.checks[k].add(total);
                }
                Statistic::Peak { measure } => {
                    let values: Vec<f64> = e
                        .sweep
                        .iter()
                        .map(|&i| value(measure, &outcomes[i]))
                        .collect();
                    let (first, last) = (values[0], values[values.len() - 1]);
                    for (j, &v) in values.iter().enumerate() {
                        self.sweep[k][0][j].add(v);
                        self.sweep[k][1][j].add(v - first);
                        self.sweep[k][2][j].add(v - last);
                    }
                }
            }
        }
        for (p, &(i, profile)) in profiled.iter().enumerate() {
            for month in 1..=profile.months() {
                let r = profile.value(&outcomes[i].monthly_sell_through, month);
                self.profiles[p][month as usize - 1].add(r);
            }
        }
    }
}

/// Runs `experiment`, calling `progress` once per replication (all arms of it).
pub fn run(
    experiment: &Experiment,
    options: &RunOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<ExperimentReport, ValidateError> {
    let replications = options.replications.unwrap_or(experiment.file.replications);
    let invalid = |field: &str, message: String| ValidateError::Invalid {
        experiment: experiment.file.id.clone(),
        field: field.into(),
        message,
    };
    if replications < 2 {
        return Err(invalid(
            "replications",
            "run at least 2 replications so an interval exists".into(),
        ));
    }
    let scenarios: Vec<Scenario> = experiment
        .arms
        .iter()
        .map(|a| {
            a.scenario
                .clone()
                .with_overrides(Some(replications), options.seed)
        })
        .collect::<Result<_, _>>()
        .map_err(|e| invalid("replications", e.to_string()))?;
    let seed = scenarios[0].file().seed;
    let profiled = profiled_arms(experiment);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| ValidateError::Threads {
            threads: options.threads,
            reason: e.to_string(),
        })?;
    let empty = || Acc::new(experiment, &profiled);
    let acc = pool.install(|| {
        (0..u64::from(replications))
            .into_par_iter()
            .fold(empty, |mut acc, i| {
                let outcomes: Vec<Outcome> = experiment
                    .arms
                    .iter()
                    .zip(&scenarios)
                    .map(|(arm, scenario)| {
                        simulate_replication(scenario, &arm.compiled, i)
                            .pop()
                            .expect("an arm has one spec")
                    })
                    .collect();
                acc.add(experiment, &profiled, &outcomes);
                progress();
                acc
            })
            .reduce(empty, |a, b| a.merge(&b))
    });
    Ok(report(experiment, &acc, &profiled, replications, seed))
}

/// Arms whose month-by-month profile is charted: those a check reads a fiscal month or a
/// quarter month from.
fn profiled_arms(e: &Experiment) -> Vec<(usize, Profile)> {
    let mut arms = Vec::new();
    for check in &e.file.checks {
        let Statistic::Value { arm, measure } = &check.statistic else {
            continue;
        };
        let profile = match measure {
            Measure::FiscalMonth { .. } => Profile::Fiscal,
            Measure::QuarterMonth { .. } => Profile::Quarter,
            _ => continue,
        };
        let i = e.arm(arm).expect("arms checked at load");
        if !arms.contains(&(i, profile)) {
            arms.push((i, profile));
        }
    }
    arms
}

fn point(x: String, m: &Moments) -> Option<Point> {
    let mean = m.mean()?;
    let (low, high) = m.interval95()?;
    Some(Point { x, mean, low, high })
}

fn report(
    e: &Experiment,
    acc: &Acc,
    profiled: &[(usize, Profile)],
    replications: u32,
    seed: u64,
) -> ExperimentReport {
    let mut checks = Vec::new();
    let mut panels = Vec::new();
    for (k, check) in e.file.checks.iter().enumerate() {
        let unit = check.unit;
        let report = if let Statistic::Peak { .. } = check.statistic {
            let [values, vs_first, vs_last] = &acc.sweep[k];
            let best = (0..values.len())
                .max_by(|&a, &b| {
                    let m = |i: usize| values[i].mean().unwrap_or(f64::NEG_INFINITY);
                    m(a).total_cmp(&m(b))
                })
                .unwrap_or(0);
            let peak_value = e.arms[e.sweep[best]].sweep_value;
            let rise = vs_first[best].interval95();
            let fall = vs_last[best].interval95();
            let interior = best > 0 && best + 1 < values.len();
            let passed = interior
                && values.iter().all(|v| v.non_finite() == 0)
                && rise.is_some_and(|(lo, _)| lo > 0.0)
                && fall.is_some_and(|(lo, _)| lo > 0.0);
            let first = values[0].mean().unwrap_or(f64::NAN);
            let rel = |m: &Moments| m.mean().map_or(f64::NAN, |d| d / first);
            let detail = format!(
                "peak at {} = {}: {:+.1}% over the first value, {:+.1}% over the last",
                e.file.sweep.as_ref().map_or("", |s| s.path.as_str()),
                peak_value.map_or("?".into(), |v| format!("{v}")),
                rel(&vs_first[best]) * 100.0,
                rel(&vs_last[best]) * 100.0,
            );
            panels.push(Panel {
                title: check.label.clone(),
                x_label: e
                    .file
                    .sweep
                    .as_ref()
                    .map_or(String::new(), super::Sweep::axis_label),
                unit: check.unit,
                series: vec![Series {
                    name: e
                        .file
                        .sweep
                        .as_ref()
                        .map_or(String::new(), |s| s.arm.clone()),
                    points: e
                        .sweep
                        .iter()
                        .zip(values)
                        .filter_map(|(&i, m)| {
                            let x = e.arms[i]
                                .sweep_value
                                .map_or(String::new(), |v| v.to_string());
                            point(x, m)
                        })
                        .collect(),
                }],
                reference: None,
            });
            CheckReport {
                label: check.label.clone(),
                unit: Display::Ratio,
                mean: peak_value,
                ci95_low: rise.map(|r| r.0),
                ci95_high: rise.map(|r| r.1),
                expect: check.expect.clone(),
                published: check.published,
                passed,
                detail,
                non_finite: values.iter().map(Moments::non_finite).sum(),
            }
        } else {
            let m = &acc.checks[k];
            let interval = m.interval95();
            let mean = m.mean();
            // A replication whose statistic is not a number (an empty backing band, a
            // relative difference over zero) makes the check inconclusive, not a pass on
            // the replications that remain.
            let passed = m.non_finite() == 0
                && match (&check.expect, mean, interval) {
                    (Expect::Above(x), _, Some((lo, _))) => lo > *x,
                    (Expect::Below(x), _, Some((_, hi))) => hi < *x,
                    (Expect::Between([a, b]), Some(mean), _) => (*a..=*b).contains(&mean),
                    _ => false,
                };
            let detail = match &check.statistic {
                Statistic::Contrast { terms } => terms
                    .iter()
                    .zip(&acc.terms[k])
                    .map(|(t, m)| {
                        // The terms are accumulated weighted; show the measure itself.
                        let v = m.mean().map(|v| v / t.weight);
                        format!(
                            "{:+} × {} {} = {}",
                            t.weight,
                            t.arm,
                            measure_name(&t.measure),
                            v.map_or("n/a".into(), |v| unit.format(v))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => String::new(),
            };
            CheckReport {
                label: check.label.clone(),
                unit,
                mean,
                ci95_low: interval.map(|i| i.0),
                ci95_high: interval.map(|i| i.1),
                expect: check.expect.clone(),
                published: check.published,
                passed,
                detail,
                non_finite: m.non_finite(),
            }
        };
        checks.push(report);
    }
    let mut profile_panels = Vec::new();
    for (kind, title, x_label) in [
        (
            Profile::Fiscal,
            "Sell-through by month of the fiscal year, relative to months 4–9",
            "fiscal month",
        ),
        (
            Profile::Quarter,
            "Sell-through by month of the quarter, relative to the quarter's mean month",
            "month of the quarter",
        ),
    ] {
        let series: Vec<Series> = profiled
            .iter()
            .zip(&acc.profiles)
            .filter(|((_, p), _)| *p == kind)
            .map(|(&(i, _), months)| Series {
                name: e.arms[i].name.clone(),
                points: months
                    .iter()
                    .enumerate()
                    .filter_map(|(m, mo)| point((m + 1).to_string(), mo))
                    .collect(),
            })
            .collect();
        if !series.is_empty() {
            profile_panels.push(Panel {
                title: title.into(),
                x_label: x_label.into(),
                unit: Display::Ratio,
                series,
                reference: Some(1.0),
            });
        }
    }
    panels.splice(0..0, profile_panels);
    ExperimentReport {
        id: e.file.id.clone(),
        title: e.file.title.clone(),
        finding: e.file.finding.clone(),
        source: e.file.source.clone(),
        published: e.file.published.clone(),
        setup: e.file.setup.clone(),
        replications,
        seed,
        passed: checks.iter().all(|c| c.passed),
        checks,
        panels,
    }
}

fn measure_name(m: &Measure) -> String {
    match m {
        Measure::Kpi { kpi } => kpi.name().to_owned(),
        Measure::Share { of, per } => format!("{} / {}", of.name(), per.name()),
        Measure::FiscalMonth { month } => format!("fiscal month {month}"),
        Measure::QuarterMonth { month, quarter } => match quarter {
            Some(q) => format!("month {month} of quarter {q}"),
            None => format!("quarter month {month}"),
        },
        Measure::Seats { group, value } => format!("{group:?} {value:?}").to_lowercase(),
        Measure::TimingVolume => "timing volume".into(),
        Measure::GoalLevel => "goal level".into(),
        Measure::Compliance {
            backing_from,
            backing_to,
        } => format!("compliance (backing {backing_from}–{backing_to})"),
    }
}
