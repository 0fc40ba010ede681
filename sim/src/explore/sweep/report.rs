//! The surface of a sweep: per point, per spec, per KPI the mean and, against the baseline
//! at the same point, the paired difference with its 95% interval.

use serde::Serialize;

use super::SweepResult;
use crate::model::Kpi;

/// The figures of a [`SweepResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepReport {
    /// Replications summarised at every point.
    pub replications: u64,
    /// The axes' labels (the spec field's path, or the parameter's name), in order; the
    /// swept spec is the one whose values change between points.
    pub axes: Vec<String>,
    /// The axes' values, in order.
    pub values: Vec<Vec<f64>>,
    /// Name of the baseline spec.
    pub baseline: String,
    /// Per point, the last axis running fastest.
    pub points: Vec<PointReport>,
}

/// One point of the surface.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointReport {
    /// The axes' values at this point.
    pub at: Vec<f64>,
    /// Per spec of the scenario, in scenario order (the swept spec at the point's values).
    pub specs: Vec<PointSpec>,
}

/// One spec at one point.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointSpec {
    /// The spec's name in the scenario.
    pub name: String,
    /// Whether it is the baseline.
    pub baseline: bool,
    /// Per KPI, in [`Kpi::ALL`] order.
    pub kpis: Vec<PointKpi>,
}

/// One KPI of one spec at one point.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointKpi {
    /// The KPI.
    pub kpi: Kpi,
    /// Mean over replications.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub mean: Option<f64>,
    /// 95% interval of the mean, low end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ci95_low: Option<f64>,
    /// 95% interval of the mean, high end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ci95_high: Option<f64>,
    /// Mean paired difference from the baseline at this point (`None` for the baseline).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub difference: Option<f64>,
    /// 95% interval of the paired difference, low end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub difference_low: Option<f64>,
    /// 95% interval of the paired difference, high end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub difference_high: Option<f64>,
    /// Share of replications in which the spec did better than the baseline.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub probability_better: Option<f64>,
}

impl SweepResult {
    /// The spec a sweep's chart draws by default: the swept spec, else the first compared
    /// with the baseline (the CLI's `--chart` and the API's `chart.svg` alike).
    pub fn charted_spec(&self, report: &SweepReport) -> usize {
        let specs = report.points.first().map_or(&[][..], |p| &p.specs[..]);
        let swept = self.scenario.sweep.iter().find_map(|a| a.spec.as_deref());
        swept
            .and_then(|name| specs.iter().position(|s| s.name == name))
            .or_else(|| specs.iter().position(|s| !s.baseline))
            .unwrap_or(0)
    }

    /// The surface people read: per point, every spec's KPI means and paired differences.
    pub fn report(&self) -> SweepReport {
        let reports: Vec<_> = self.runs.iter().map(|r| r.report()).collect();
        let names: Vec<String> = self
            .scenario
            .specs
            .iter()
            .map(|s| {
                s.inline
                    .as_ref()
                    .map_or_else(String::new, |r| r.name.as_str().to_owned())
            })
            .collect();
        let baseline = self.runs.first().map_or(0, |r| r.baseline);
        let points = self
            .points
            .iter()
            .zip(&self.cells)
            .map(|(at, cells)| PointReport {
                at: at.clone(),
                specs: cells
                    .iter()
                    .enumerate()
                    .map(|(j, cell)| {
                        let spec = &reports[cell.run].specs[cell.spec];
                        PointSpec {
                            name: names.get(j).cloned().unwrap_or_default(),
                            baseline: j == baseline,
                            kpis: Kpi::ALL
                                .iter()
                                .map(|&kpi| {
                                    let s = &spec.kpis[kpi.index()].summary;
                                    let d = spec.vs_baseline.get(kpi.index());
                                    PointKpi {
                                        kpi,
                                        mean: s.mean,
                                        ci95_low: s.ci95_low,
                                        ci95_high: s.ci95_high,
                                        difference: d.and_then(|d| d.difference.mean),
                                        difference_low: d.and_then(|d| d.difference.ci95_low),
                                        difference_high: d.and_then(|d| d.difference.ci95_high),
                                        probability_better: d.map(|d| d.probability_better),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let sweep = &self.scenario.sweep;
        SweepReport {
            replications: self.replications_done(),
            axes: sweep.iter().map(axis_label).collect(),
            values: sweep
                .iter()
                .map(|a| a.grid.map_or_else(|| a.values.clone(), |g| g.values()))
                .collect(),
            baseline: names.get(baseline).cloned().unwrap_or_default(),
            points,
        }
    }
}

fn axis_label(axis: &super::SweepAxis) -> String {
    axis.path
        .clone()
        .or_else(|| axis.parameter.clone())
        .unwrap_or_default()
}
