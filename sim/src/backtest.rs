//! Backtest: calibrate on the records up to K months before the last one, forecast the K
//! held-out months under the spec then in force, and set the forecast beside what was
//! recorded (sim/MODEL.md §12.5). This is what a manager looks at before trusting a what-if.
//!
//! The forecast runs the calibrated scenario with its parameter uncertainty (each
//! replication draws its parameters, §12.4), and again at the point estimates on the same
//! replications, so the report can say how much of each band is what the records leave
//! uncertain rather than luck. Everything is a pure function of the records and the seed.

use std::collections::HashMap;

use chanlab_shared::{
    Currency, LifecycleStage, Month, Partner, PartnerId, RegionId, Rep, RepStatus, SalesRecord,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calibrate::{self, CalibrateError, FitReport, MIN_MONTHS};
use crate::from_records::Records;
use crate::model::{
    CompiledSpecs, Observer, PartnerMonth, SeatStart, SlotStart, simulate_observed,
};

/// How to backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Months held out at the end of the records.
    pub holdout_months: u32,
    /// The calibration (its `scenario.replications` and `scenario.seed` drive the forecast;
    /// `as_of` and `horizon_months` are set by the backtest).
    pub calibration: calibrate::Options,
}

/// A backtest's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    /// The last month calibrated on.
    pub cut: Month,
    /// The last month of the records.
    pub last: Month,
    /// Replications of the forecast.
    pub replications: u32,
    /// Per held-out month, the channel and then each region.
    pub rows: Vec<ForecastRow>,
    /// Over all rows of the channel and over all rows of the regions.
    pub summary: Vec<Summary>,
    /// Recorded channel sell-through in the 12 months up to the cut (for the chart).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::MonthSellThrough>))]
    pub history: Vec<(Month, f64)>,
    /// The within-period profile: recorded (over the calibration window) and simulated (the
    /// forecast's mean channel months over its own period means, where the holdout covers
    /// whole periods).
    pub profile: ProfileCheck,
    /// The calibration behind the forecast.
    pub fit: FitReport,
}

/// One held-out month of the channel or of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastRow {
    /// The month.
    pub month: Month,
    /// The region, or `None` for the whole channel.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub region: Option<String>,
    /// What the records show.
    pub actual: f64,
    /// Mean forecast.
    pub mean: f64,
    /// Percentiles of the forecast: 5th, 25th, 50th, 75th, 95th.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// (mean − actual) / actual.
    pub bias: f64,
    /// |mean − actual| / actual.
    pub ape: f64,
    /// Whether the actual lies in P5–P95.
    pub in_p5_p95: bool,
    /// Whether the actual lies in P25–P75.
    pub in_p25_p75: bool,
    /// Width of P5–P95 at the point estimates over the width with parameter uncertainty:
    /// 1 minus this is the share of the band that parameter uncertainty adds.
    pub width_at_estimates: f64,
}

/// Scores over a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = BacktestSummary))]
pub struct Summary {
    /// `channel` or `regions`.
    pub scope: String,
    /// Rows scored.
    pub rows: u32,
    /// Mean bias.
    pub mean_bias: f64,
    /// Mean absolute percentage error.
    pub mape: f64,
    /// Share of actuals in P5–P95.
    pub coverage_p5_p95: f64,
    /// Share of actuals in P25–P75.
    pub coverage_p25_p75: f64,
    /// Mean share of the P5–P95 width that parameter uncertainty adds.
    pub parameter_share_of_band: f64,
}

/// The within-period profile, recorded against simulated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileCheck {
    /// Recorded over the calibration window.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub recorded: Option<Vec<f64>>,
    /// Simulated over the held-out months, when they hold a whole goal period.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub simulated: Option<Vec<f64>>,
}

/// Why a backtest could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    /// `holdout_months` leaves too little history, or is 0.
    #[error("holdout_months: {0}")]
    Holdout(String),
    /// The calibration failed.
    #[error(transparent)]
    Calibrate(#[from] CalibrateError),
}

/// The months a backtest holding out `holdout_months` reads, from the sales alone: what a
/// caller checks before doing any work (the API refuses a bad request before accepting it,
/// and picks the spec in force at the cut as the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holdout {
    /// The currency scored: the one most sales records are kept in.
    pub currency: Currency,
    /// The first month of sales in that currency.
    pub first: Month,
    /// The last month of sales in that currency.
    pub last: Month,
    /// The last month calibrated on: `holdout_months` before `last`.
    pub cut: Month,
}

/// Checks `holdout_months` against the months `sales` span (calibration needs
/// [`MIN_MONTHS`] before the cut) and gives the months a backtest reads.
pub fn holdout(sales: &[SalesRecord], holdout_months: u32) -> Result<Holdout, BacktestError> {
    let k = holdout_months;
    let (_, currency) = crate::from_records::currencies(sales.iter());
    let months: Vec<Month> = sales
        .iter()
        .filter(|s| Some(s.sell_through().currency()) == currency)
        .map(|s| s.month())
        .collect();
    let (Some(currency), Some(&first), Some(&last)) =
        (currency, months.iter().min(), months.iter().max())
    else {
        return Err(BacktestError::Holdout(
            "the records hold no sales to hold out".to_owned(),
        ));
    };
    let span = (first.months_until(last) + 1) as u32;
    let most = span.saturating_sub(MIN_MONTHS);
    if k == 0 || k > most {
        return Err(BacktestError::Holdout(format!(
            "expected 1 to {most} months: the records hold {span} months of sales ({first} to {last}) and calibration needs {MIN_MONTHS} before the cut"
        )));
    }
    let cut = last.plus(-(k as i32)).expect("inside the records");
    Ok(Holdout {
        currency,
        first,
        last,
        cut,
    })
}

/// Backtests `records` (sim/MODEL.md §12.5).
pub fn backtest(records: Records<'_>, options: &Options) -> Result<Backtest, BacktestError> {
    backtest_with_progress(records, options, &|| {})
}

/// [`backtest`], calling `progress` once per forecast replication finished: the forecast
/// runs its replications twice (with parameter draws and at the estimates), so there are
/// 2 × replications calls after the calibration.
pub fn backtest_with_progress(
    records: Records<'_>,
    options: &Options,
    progress: &(dyn Fn() + Sync),
) -> Result<Backtest, BacktestError> {
    let k = options.holdout_months;
    let Holdout {
        currency,
        first,
        last,
        cut,
    } = holdout(records.sales, k)?;
    let currency = Some(currency);
    let owned = Cut::of(&records, cut);
    let view = owned.view(&records);
    let mut calibration = options.calibration.clone();
    calibration.scenario.as_of = Some(cut);
    calibration.scenario.start = None;
    // Run a year past the holdout: the model takes no timing decision in its last month
    // (there is no later month to borrow from), which must not show in the months scored.
    calibration.scenario.horizon_months = k + 12;
    calibration.scenario.compare = Vec::new();
    let c = calibrate::calibrate(view, &calibration)?;
    let scenario = &c.calibrated.scenario;
    let region_names: Vec<String> = c
        .calibrated
        .report
        .regions
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let region_ids: Vec<RegionId> = c
        .calibrated
        .report
        .regions
        .iter()
        .map(|r| r.region_id)
        .collect();
    let regions = region_names.len();
    let specs = CompiledSpecs::new(scenario);
    let n = scenario.file().replications;
    let forecast = |draw: bool| -> Vec<Vec<f64>> {
        (0..u64::from(n))
            .into_par_iter()
            .map(|i| {
                let mut o = Collect::new(k as usize, regions);
                simulate_observed(scenario, &specs, 0, i, draw, &mut o);
                progress();
                o.values
            })
            .collect()
    };
    let full = forecast(true);
    let fixed = forecast(false);

    // What the records show in the held-out months.
    let region_of: HashMap<PartnerId, usize> = records
        .partners
        .iter()
        .filter_map(|p| {
            region_ids
                .iter()
                .position(|r| *r == p.region_id)
                .map(|i| (p.id, i))
        })
        .collect();
    let mut actual = vec![vec![0.0; regions + 1]; k as usize];
    let mut history = [0.0; 12];
    for s in records
        .sales
        .iter()
        .filter(|s| Some(s.sell_through().currency()) == currency)
    {
        let st = s.sell_through().to_major_f64();
        let t = cut.months_until(s.month());
        if (1..=k as i32).contains(&t) {
            let row = &mut actual[(t - 1) as usize];
            row[0] += st;
            if let Some(&r) = region_of.get(&s.partner_id()) {
                row[r + 1] += st;
            }
        } else if (-11..=0).contains(&t) {
            history[(t + 11) as usize] += st;
        }
    }
    let mut rows = Vec::new();
    for t in 0..k as usize {
        let month = cut.plus(t as i32 + 1).expect("inside the records");
        for col in 0..=regions {
            let a = actual[t][col];
            let mut v: Vec<f64> = full.iter().map(|r| r[t * (regions + 1) + col]).collect();
            let mut w: Vec<f64> = fixed.iter().map(|r| r[t * (regions + 1) + col]).collect();
            v.sort_by(f64::total_cmp);
            w.sort_by(f64::total_cmp);
            let q = |x: &[f64], p: f64| x[((p * (x.len() - 1) as f64).floor()) as usize];
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let (p5, p95) = (q(&v, 0.05), q(&v, 0.95));
            let (p25, p75) = (q(&v, 0.25), q(&v, 0.75));
            let width = p95 - p5;
            rows.push(ForecastRow {
                month,
                region: (col > 0).then(|| region_names[col - 1].clone()),
                actual: a,
                mean,
                p5,
                p25,
                p50: q(&v, 0.5),
                p75,
                p95,
                bias: if a > 0.0 { (mean - a) / a } else { 0.0 },
                ape: if a > 0.0 { ((mean - a) / a).abs() } else { 0.0 },
                in_p5_p95: p5 <= a && a <= p95,
                in_p25_p75: p25 <= a && a <= p75,
                width_at_estimates: if width > 0.0 {
                    ((q(&w, 0.95) - q(&w, 0.05)) / width).min(1.0)
                } else {
                    1.0
                },
            });
        }
    }
    let summary = ["channel", "regions"]
        .into_iter()
        .map(|scope| {
            let set: Vec<&ForecastRow> = rows
                .iter()
                .filter(|r| r.region.is_none() == (scope == "channel") && r.actual > 0.0)
                .collect();
            let m = set.len().max(1) as f64;
            Summary {
                scope: scope.to_owned(),
                rows: set.len() as u32,
                mean_bias: set.iter().map(|r| r.bias).sum::<f64>() / m,
                mape: set.iter().map(|r| r.ape).sum::<f64>() / m,
                coverage_p5_p95: set.iter().filter(|r| r.in_p5_p95).count() as f64 / m,
                coverage_p25_p75: set.iter().filter(|r| r.in_p25_p75).count() as f64 / m,
                parameter_share_of_band: set
                    .iter()
                    .map(|r| 1.0 - r.width_at_estimates)
                    .sum::<f64>()
                    / m,
            }
        })
        .collect();
    let means: Vec<f64> = (0..k as usize)
        .map(|t| full.iter().map(|r| r[t * (regions + 1)]).sum::<f64>() / f64::from(n))
        .collect();
    let period =
        crate::model::SpecDemands::of(&scenario.specs()[0], scenario.behaviour()).period_months;
    let simulated = crate::calibrate::Profile::of_channel(
        &means,
        cut.plus(1).expect("inside the records"),
        period,
    )
    .map(|p| p.factors);
    Ok(Backtest {
        cut,
        last,
        replications: n,
        rows,
        summary,
        history: (0..12)
            .filter_map(|i| cut.plus(i - 11).map(|m| (m, history[i as usize])))
            .filter(|(m, _)| *m >= first)
            .collect(),
        profile: ProfileCheck {
            recorded: c.fit.profile.clone(),
            simulated,
        },
        fit: c.fit,
    })
}

/// Sell-through per month of the forecast, channel then regions, flattened.
struct Collect {
    regions: usize,
    seat_region: Vec<usize>,
    values: Vec<f64>,
}

impl Collect {
    fn new(months: usize, regions: usize) -> Self {
        Self {
            regions,
            seat_region: Vec::new(),
            values: vec![0.0; months * (regions + 1)],
        }
    }
}

impl Observer for Collect {
    const WANTS_OPENING: bool = true;
    fn opening(&mut self, seats: &[SeatStart], _slots: &[SlotStart]) {
        self.seat_region = seats.iter().map(|s| s.region).collect();
    }
    fn partner_month(&mut self, month: usize, _slot: usize, e: &PartnerMonth) {
        let row = month * (self.regions + 1);
        if row + self.regions < self.values.len() {
            self.values[row] += e.sell_through;
            if let Some(&r) = self.seat_region.get(e.seat) {
                self.values[row + 1 + r] += e.sell_through;
            }
        }
    }
}

/// The records as they stood at the end of month `cut`: what a calibration then could see.
struct Cut {
    reps: Vec<Rep>,
    partners: Vec<Partner>,
    sales: Vec<chanlab_shared::SalesRecord>,
    activities: Vec<chanlab_shared::Activity>,
    stage_changes: Vec<chanlab_shared::StageChange>,
    goals: Vec<chanlab_shared::Goal>,
    assessments: Vec<chanlab_shared::Assessment>,
}

impl Cut {
    fn of(r: &Records<'_>, cut: Month) -> Self {
        let end = cut.plus(1).expect("a month after the cut").first_day();
        let known = |d: chrono::NaiveDate| d < end;
        let reps = r
            .reps
            .iter()
            .filter(|x| known(x.hired_on))
            .map(|x| {
                let mut x = x.clone();
                if x.left_on.is_some_and(|d| !known(d)) {
                    x.left_on = None;
                    x.status = RepStatus::Active;
                }
                x
            })
            .collect();
        let stage_changes: Vec<_> = r
            .stage_changes
            .iter()
            .filter(|c| known(c.on))
            .cloned()
            .collect();
        let partners = r
            .partners
            .iter()
            .map(|p| {
                let at_cut = stage_at(p, r.stage_changes, end);
                Partner::new(
                    p.id,
                    p.name.clone(),
                    p.kind,
                    p.tier,
                    p.region_id,
                    p.owner_rep_id,
                    at_cut,
                )
            })
            .collect();
        Self {
            reps,
            partners,
            sales: r
                .sales
                .iter()
                .filter(|s| s.month() <= cut)
                .cloned()
                .collect(),
            activities: r
                .activities
                .iter()
                .filter(|a| known(a.date))
                .cloned()
                .collect(),
            stage_changes,
            goals: r
                .goals
                .iter()
                .filter(|g| g.period().last() <= cut)
                .cloned()
                .collect(),
            assessments: r
                .assessments
                .iter()
                .filter(|a| a.period().last() <= cut)
                .cloned()
                .collect(),
        }
    }

    fn view<'a>(&'a self, r: &Records<'a>) -> Records<'a> {
        Records {
            regions: r.regions,
            reps: &self.reps,
            partners: &self.partners,
            sales: &self.sales,
            activities: &self.activities,
            baseline: r.baseline,
            stage_changes: &self.stage_changes,
            goals: &self.goals,
            assessments: &self.assessments,
        }
    }
}

/// A partner's stage on the day before `end`, from its dated stage changes.
fn stage_at(
    p: &Partner,
    changes: &[chanlab_shared::StageChange],
    end: chrono::NaiveDate,
) -> LifecycleStage {
    let mut mine: Vec<&chanlab_shared::StageChange> =
        changes.iter().filter(|c| c.partner_id == p.id).collect();
    mine.sort_by_key(|c| (c.on, c.id));
    match (
        mine.iter().rev().find(|c| c.on < end),
        mine.iter().find(|c| c.on >= end),
    ) {
        (Some(before), _) => before.to,
        (None, Some(after)) => after.from,
        (None, None) => p.stage(),
    }
}
