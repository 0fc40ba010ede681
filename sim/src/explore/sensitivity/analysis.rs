//! The figures of a sensitivity study, computed from its merged state: elementary effects
//! (μ*, μ, σ) with their Monte Carlo noise floor, the share of plausible parameter sets in
//! which each spec beats the baseline or is best, and a one-split rule for where it loses.

use serde::Serialize;

use super::SensitivityResult;
use super::design::delta;
use crate::model::Kpi;

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;
/// A split rule is stated only when it catches at least this share of the outcome it
/// explains and at least this share of the sets it picks have that outcome.
pub const RULE_QUALITY: f64 = 0.8;

/// The derived figures of a [`SensitivityResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityReport {
    /// Points of the design: trajectories × (parameters + 1).
    pub points: usize,
    /// Replications summarised at every point.
    pub replications_per_point: u64,
    /// Trajectories drawn and thrown away because a point broke a cross-field rule.
    pub trajectories_redrawn: u32,
    /// Per compared spec and KPI: which parameters move its difference from the baseline.
    pub comparisons: Vec<ComparisonSensitivity>,
    /// Per KPI with a direction: the share of points at which each spec is best.
    pub best: Vec<BestShare>,
}

/// One compared spec's difference from the baseline on one KPI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonSensitivity {
    /// The compared spec.
    pub spec: String,
    /// The baseline spec.
    pub baseline: String,
    /// The KPI.
    pub kpi: Kpi,
    /// Mean over the design's points of the mean difference (spec − baseline).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub mean_difference: Option<f64>,
    /// Per varied parameter, largest μ* first.
    pub effects: Vec<ParameterEffect>,
    /// Share of points at which the spec beats the baseline, and where it does not (KPIs
    /// whose better direction depends have none).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub robustness: Option<Robustness>,
}

/// The elementary effects of one parameter on one difference, in the KPI's unit per whole
/// plausible range of the parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParameterEffect {
    /// The parameter.
    pub parameter: String,
    /// μ*: mean absolute elementary effect, the importance measure.
    pub mu_star: f64,
    /// μ: mean signed elementary effect; |μ| well below μ* means the sign changes.
    pub mu: f64,
    /// σ: standard deviation of the elementary effects over trajectories (interactions and
    /// non-linearity); `None` with fewer than two trajectories.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub sigma: Option<f64>,
    /// Mean over trajectories of the 95 % half-width of the elementary effect's Monte
    /// Carlo error: a μ* below it cannot be told from zero. `None` below two replications.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub noise_floor: Option<f64>,
    /// Whether μ* exceeds the noise floor.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub above_noise: Option<bool>,
}

/// Where a spec beats the baseline over the design's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Robustness {
    /// Share of points at which the spec's mean is better than the baseline's (ties half).
    pub share_better: f64,
    /// The best single-parameter threshold separating the minority outcome (losses when
    /// the spec mostly wins, wins when it mostly loses), if there is one.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub rule: Option<SplitRule>,
    /// The finding in one sentence.
    pub sentence: String,
}

/// "The spec loses when `parameter` > `threshold`": a decision stump over one parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SplitRule {
    /// The parameter split on.
    pub parameter: String,
    /// True: the outcome happens above the threshold; false: at or below it.
    pub above: bool,
    /// The threshold, midway between two grid levels.
    pub threshold: f64,
    /// The outcome explained: `"loses"` or `"wins"`.
    pub outcome: String,
    /// Share of the points the rule picks that have the outcome.
    pub precision: f64,
    /// Share of the points with the outcome that the rule picks.
    pub recall: f64,
    /// Whether both reach [`RULE_QUALITY`], so the sentence states the rule.
    pub stated: bool,
}

/// Per KPI, the share of the design's points at which each spec has the best mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BestShare {
    /// The KPI.
    pub kpi: Kpi,
    /// Per spec in scenario order: (name, share of points at which it is best).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::SpecShare>))]
    pub shares: Vec<(String, f64)>,
}

/// One point of the design: its grid levels and its mean differences (state order).
struct Located {
    levels: Vec<u32>,
    means: Vec<Option<f64>>,
}

impl SensitivityResult {
    /// The figures people read, from the state alone (so a merged result reports exactly
    /// what the whole run would).
    pub fn report(&self) -> SensitivityReport {
        let points = self.located();
        let moves = self.moves();
        let mut comparisons = Vec::new();
        for (c, name) in self.compared() {
            for kpi in Kpi::ALL {
                let w = c * Kpi::COUNT + kpi.index();
                let means: Vec<f64> = points.iter().filter_map(|p| p.means[w]).collect();
                let mean_difference =
                    (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64);
                comparisons.push(ComparisonSensitivity {
                    spec: name.to_owned(),
                    baseline: self.specs[self.baseline].clone(),
                    kpi,
                    mean_difference,
                    effects: self.effects(&moves, w),
                    robustness: kpi
                        .better()
                        .map(|higher| self.robustness(&points, w, higher, name, kpi)),
                });
            }
        }
        let best = Kpi::ALL
            .iter()
            .filter_map(|&kpi| kpi.better().map(|h| self.best_share(&points, kpi, h)))
            .collect();
        SensitivityReport {
            points: points.len(),
            replications_per_point: self.replications_done(),
            trajectories_redrawn: self.trajectories.iter().map(|t| t.redrawn).sum(),
            comparisons,
            best,
        }
    }

    fn located(&self) -> Vec<Located> {
        self.trajectories
            .iter()
            .zip(&self.state)
            .flat_map(|(t, s)| {
                t.points(self.levels)
                    .into_iter()
                    .zip(&s.points)
                    .map(|(levels, m)| Located {
                        levels,
                        means: m.iter().map(|x| x.mean()).collect(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Per trajectory, per parameter: the step that moves it and the sign of the move.
    fn moves(&self) -> Vec<Vec<(usize, f64)>> {
        self.trajectories
            .iter()
            .map(|t| {
                let directions = t.directions(self.levels);
                let mut out = vec![(0, 1.0); t.order.len()];
                for (step, &i) in t.order.iter().enumerate() {
                    out[i] = (step, directions[step]);
                }
                out
            })
            .collect()
    }

    /// μ*, μ, σ and the noise floor of every parameter on state column `w`, sorted.
    fn effects(&self, moves: &[Vec<(usize, f64)>], w: usize) -> Vec<ParameterEffect> {
        let d = delta(self.levels);
        let r = self.trajectories.len() as f64;
        let mut out: Vec<ParameterEffect> = (0..self.parameters.len())
            .map(|i| {
                let mut ee = Vec::new();
                let mut half_widths = Some(0.0);
                for (moved, s) in moves.iter().zip(&self.state) {
                    let (step, dir) = moved[i];
                    let m = &s.steps[step][w];
                    ee.push(m.mean().unwrap_or(0.0) / (dir * d));
                    half_widths = half_widths
                        .zip(m.std_error())
                        .map(|(h, se)| h + Z95 * se / d);
                }
                let mu = ee.iter().sum::<f64>() / r;
                let mu_star = ee.iter().map(|e| e.abs()).sum::<f64>() / r;
                let sigma = (ee.len() > 1)
                    .then(|| (ee.iter().map(|e| (e - mu).powi(2)).sum::<f64>() / (r - 1.0)).sqrt());
                let noise_floor = half_widths.map(|h| h / r);
                ParameterEffect {
                    parameter: self.parameters[i].name.clone(),
                    mu_star,
                    mu,
                    sigma,
                    noise_floor,
                    above_noise: noise_floor.map(|f| mu_star > f),
                }
            })
            .collect();
        // Stable: equal μ* (an inert parameter's exact zeros) keep the design order.
        out.sort_by(|a, b| b.mu_star.total_cmp(&a.mu_star));
        out
    }

    fn robustness(
        &self,
        points: &[Located],
        w: usize,
        higher: bool,
        spec: &str,
        kpi: Kpi,
    ) -> Robustness {
        // +1 win, −1 loss, 0 tie (or no data), per point.
        let outcome: Vec<i8> = points
            .iter()
            .map(|p| match p.means[w] {
                Some(x) if x != 0.0 && (x > 0.0) == higher => 1,
                Some(x) if x != 0.0 => -1,
                _ => 0,
            })
            .collect();
        let n = outcome.len().max(1) as f64;
        let wins = outcome.iter().filter(|&&o| o == 1).count() as f64;
        let ties = outcome.iter().filter(|&&o| o == 0).count() as f64;
        let share_better = (wins + 0.5 * ties) / n;
        let minority: i8 = if share_better >= 0.5 { -1 } else { 1 };
        let marked: Vec<bool> = outcome.iter().map(|&o| o == minority).collect();
        let rule = self.split(points, &marked, minority);
        let sentence = self.sentence(spec, kpi, share_better, points.len(), &marked, &rule);
        Robustness {
            share_better,
            rule,
            sentence,
        }
    }

    /// The decision stump over one parameter with the best F1 for `marked`.
    fn split(&self, points: &[Located], marked: &[bool], minority: i8) -> Option<SplitRule> {
        let total: usize = marked.iter().filter(|&&m| m).count();
        if total == 0 {
            return None;
        }
        let mut best: Option<(f64, SplitRule)> = None;
        for (i, p) in self.parameters.iter().enumerate() {
            for l in 0..self.levels - 1 {
                for above in [true, false] {
                    let picked = |x: &Located| (x.levels[i] > l) == above;
                    let chosen = points.iter().filter(|x| picked(x)).count();
                    let hits = points
                        .iter()
                        .zip(marked)
                        .filter(|(x, m)| **m && picked(x))
                        .count();
                    if chosen == 0 {
                        continue;
                    }
                    let f1 = 2.0 * hits as f64 / (chosen + total) as f64;
                    if best.as_ref().is_some_and(|(b, _)| *b >= f1) {
                        continue;
                    }
                    let precision = hits as f64 / chosen as f64;
                    let recall = hits as f64 / total as f64;
                    let x = (f64::from(l) + 0.5) / f64::from(self.levels - 1);
                    best = Some((
                        f1,
                        SplitRule {
                            parameter: p.name.clone(),
                            above,
                            threshold: p.min + x * (p.max - p.min),
                            outcome: if minority < 0 { "loses" } else { "wins" }.to_owned(),
                            precision,
                            recall,
                            stated: precision >= RULE_QUALITY && recall >= RULE_QUALITY,
                        },
                    ));
                }
            }
        }
        best.map(|(_, r)| r)
    }

    fn sentence(
        &self,
        spec: &str,
        kpi: Kpi,
        share: f64,
        n: usize,
        marked: &[bool],
        rule: &Option<SplitRule>,
    ) -> String {
        let base = &self.specs[self.baseline];
        let what = lower_first(kpi.label());
        let head = if share >= 0.5 {
            format!(
                "{spec} beats {base} on {what} in {} of {n} plausible parameter sets",
                percent(share)
            )
        } else {
            format!(
                "{spec} loses to {base} on {what} in {} of {n} plausible parameter sets",
                percent(1.0 - share)
            )
        };
        if !marked.iter().any(|&m| m) {
            return format!("{head}.");
        }
        let Some(r) = rule else {
            return format!("{head}.");
        };
        let side = if r.above { ">" } else { "≤" };
        let clause = format!("{} {side} {}", r.parameter, significant(r.threshold));
        let cases = if r.outcome == "loses" {
            "losses"
        } else {
            "wins"
        };
        if r.stated {
            format!(
                "{head}; it {} when {clause} (the rule catches {} of its {cases}, and {} of \
                 the sets it picks are {cases}).",
                r.outcome,
                percent(r.recall),
                percent(r.precision)
            )
        } else {
            format!(
                "{head}; no single-parameter threshold explains where it {} (the best, \
                 {clause}, catches {} of its {cases} at {} precision).",
                r.outcome,
                percent(r.recall),
                percent(r.precision)
            )
        }
    }

    fn best_share(&self, points: &[Located], kpi: Kpi, higher: bool) -> BestShare {
        let mut counts = vec![0usize; self.specs.len()];
        for p in points {
            // The baseline's difference from itself is 0; a compared spec's is its mean.
            let mut best = (self.baseline, 0.0);
            for (c, _) in self.compared() {
                let spec = if c < self.baseline { c } else { c + 1 };
                if let Some(x) = p.means[c * Kpi::COUNT + kpi.index()] {
                    let value = if higher { x } else { -x };
                    if value > best.1 || (value == best.1 && spec < best.0) {
                        best = (spec, value);
                    }
                }
            }
            counts[best.0] += 1;
        }
        let n = points.len().max(1) as f64;
        BestShare {
            kpi,
            shares: self
                .specs
                .iter()
                .zip(counts)
                .map(|(s, k)| (s.clone(), k as f64 / n))
                .collect(),
        }
    }
}

fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A share as a whole percentage, except that shares near 0 or 1 are not rounded to them.
pub(crate) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (p > 99.0 && p < 100.0) || (p > 0.0 && p < 1.0) {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// Three significant digits, without trailing zeros.
pub(crate) fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
