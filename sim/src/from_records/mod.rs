//! Scenarios calibrated from a channel's records: the real regions, reps and partners, with
//! each partner's potential and engagement estimated from its sales history and the
//! activity log, and the published process spec as the baseline.
//!
//! [`build`] is a pure function of the records (no I/O, no clock): the API's
//! `POST /scenarios/from-records` and `chanlab scenario from-records` both call it on the
//! records they loaded. The method is in sim/MODEL.md §12; every estimate is reported with
//! the method used and the history behind it ([`CalibrationReport`]).
//!
//! [`build`] goes through the steps of §12, one function each: the currency and the
//! regions (`channel`), the windows, the activity log, the sales histories and the
//! channel's profile (`history`), each partner's engagement and own potential, the tier
//! means, the owed deals and the shrunk potentials (`estimate`), then the specs and the
//! scenario file (`assemble`).

mod assemble;
mod channel;
mod estimate;
mod history;
mod report;

use std::collections::BTreeMap;

use chanlab_shared::{
    Activity, Assessment, Goal, Month, Name, Partner, ProcessSpec, Region, RegionId, Rep,
    SalesRecord, StageChange,
};

use crate::params::Behaviour;
use crate::scenario::{Channel, Scenario, ScenarioFile};

pub use channel::currencies;
pub(crate) use history::owed_share;
pub use report::{
    BaselineReport, CalibrationReport, EngagementMethod, PartnerReport, PotentialMethod,
    RegionReport, TierMethod, TierReport,
};

/// Months of sales history a potential is estimated from (ending at the as-of month).
pub const SALES_WINDOW_MONTHS: u32 = 12;
/// Months of the activity log an engagement is estimated from.
pub const TOUCH_WINDOW_MONTHS: u32 = 6;
/// Months of history from which a partner's level includes its trend.
pub const TREND_MIN_MONTHS: u32 = 6;
/// Default credibility constant `k`: a partner with `n` months of history gets weight
/// `n / (n + k)` on its own estimate, the rest on its tier's mean.
pub const DEFAULT_CREDIBILITY_MONTHS: f64 = 3.0;

/// The records a scenario is built from. Partners, sales and activities may come in any
/// order; records that name something missing (a sale of an unknown partner) are ignored.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// Every region.
    pub regions: &'a [Region],
    /// Every rep.
    pub reps: &'a [Rep],
    /// Every partner, in every lifecycle stage.
    pub partners: &'a [Partner],
    /// Monthly sales records.
    pub sales: &'a [SalesRecord],
    /// The activity log.
    pub activities: &'a [Activity],
    /// The process spec in force: the baseline.
    pub baseline: &'a ProcessSpec,
    /// Partners' dated stage changes (churn, signing and recovery rates).
    pub stage_changes: &'a [StageChange],
    /// Goals (the periods reps were measured over).
    pub goals: &'a [Goal],
    /// Assessments (recorded goal attainment).
    pub assessments: &'a [Assessment],
}

/// Choices the records do not make.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The scenario's name; `From records as of <month>` when `None`.
    pub name: Option<Name>,
    /// The last month of history to use; the latest month with a sales record when `None`.
    pub as_of: Option<Month>,
    /// First simulated month; the month after `as_of` when `None`.
    pub start: Option<Month>,
    /// Months to simulate.
    pub horizon_months: u32,
    /// Monte Carlo replications.
    pub replications: u32,
    /// Seed.
    pub seed: u64,
    /// Bundled specs to compare with the baseline, by name (`chanlab spec list`).
    pub compare: Vec<String>,
    /// The credibility constant `k`, in months (see [`DEFAULT_CREDIBILITY_MONTHS`]).
    pub credibility_months: f64,
    /// Behaviour parameters of the scenario (the defaults of sim/MODEL.md §7.1 unless a
    /// calibration fitted some).
    pub behaviour: Behaviour,
    /// Regional managers' backing by region, where a calibration estimated it (1.0 for the
    /// others: the records alone do not say).
    pub backing: BTreeMap<RegionId, f64>,
    /// Multiplier on the estimated potentials of a region's partners: 1, unless a
    /// calibration found that the scenario, run from the as-of state, sells a different
    /// level there than the records show (sim/MODEL.md §12.3: the records' attention, with
    /// their vacant seats and ramping hires, is not the model's).
    pub potential_scale: BTreeMap<RegionId, f64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            name: None,
            as_of: None,
            start: None,
            horizon_months: 12,
            replications: 1000,
            seed: 0,
            compare: Vec::new(),
            credibility_months: DEFAULT_CREDIBILITY_MONTHS,
            behaviour: Behaviour::default(),
            backing: BTreeMap::new(),
            potential_scale: BTreeMap::new(),
        }
    }
}

/// Why no scenario could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromRecordsError {
    /// An option was refused; `field` names it (`compare[1]`, `horizon_months`).
    #[error("{field}: {message}")]
    Option {
        /// The option.
        field: String,
        /// What was expected and what was found.
        message: String,
    },
    /// The records do not make a channel the simulator can run (no reps, no partners, a
    /// spec whose bonuses are in another currency than the sales).
    #[error("{0}")]
    Records(String),
}

/// A scenario built from records, and how each of its parameters was estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// The validated scenario (baseline first, then the compared specs).
    pub scenario: Scenario,
    /// How it was estimated.
    pub report: CalibrationReport,
}

/// Months of the most recent history the level is the mean of.
pub const LEVEL_MONTHS: u32 = 6;

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Builds a scenario from `records` (sim/MODEL.md §12).
pub fn build(records: Records<'_>, options: &Options) -> Result<Calibrated, FromRecordsError> {
    let behaviour = checked_behaviour(options)?;
    let mut notes = Vec::new();
    let (currency, sales) = channel::sales_in_main_currency(records, &mut notes);
    let windows = history::Windows::of(options, &sales, &mut notes);
    let (mut regions, region_index) = channel::regions(records, options, &mut notes);
    let log = history::ActivityLog::read(records.activities, &windows);
    let histories = history::histories(&sales, windows.sales_first);

    // The within-period profile of the channel's sell-through (sim/MODEL.md §12.2), read
    // over the sales window's complete goal periods.
    let period_months =
        crate::model::SpecDemands::of(&records.baseline.rules, &behaviour).period_months;
    let (channel, profile) = history::channel_profile(&sales, windows.sales_first, period_months);
    let factor = |offset: f64| -> f64 {
        match (windows.sales_first, &profile) {
            (Some(first), Some(p)) => first.plus(offset as i32).map_or(1.0, |m| p.factor(m)),
            _ => 1.0,
        }
    };
    let base_margin = records.baseline.rules.partner_program.base_margin().get();
    let evidence = estimate::Evidence {
        histories: &histories,
        log: &log,
        factor: &factor,
        // Whole goal periods' worth of months, and at least six.
        level_months: (period_months as usize).max(LEVEL_MONTHS as usize),
        floor: crate::model::floor_at_margin(base_margin, &behaviour),
        behaviour: &behaviour,
    };

    let drafts = estimate::drafts(
        records.partners,
        &mut regions,
        &region_index,
        &evidence,
        &mut notes,
    );
    let (tiers, tier_mean) = estimate::tier_means(&drafts);
    // Deals the channel pulled into its last period end are still owed by the next months.
    let owed = estimate::owed(
        &drafts,
        &channel,
        &windows,
        period_months,
        behaviour.max_pull_in,
        &mut notes,
    );
    let (explicit, partners) = estimate::potentials(drafts, &tier_mean, owed, options, &regions);
    channel::seat_every_region(&mut regions, &mut notes);

    let specs = assemble::specs(records, options, &regions, &explicit, currency)?;
    let name = assemble::name(options, windows.as_of)?;
    let description = assemble::description(records, &partners, &regions, &windows);
    let start = options
        .start
        .or_else(|| windows.as_of.and_then(|m| m.plus(1)))
        .unwrap_or_else(|| Month::new(2027, 1).expect("a valid month"));
    let file = ScenarioFile {
        name,
        description,
        start,
        horizon_months: options.horizon_months,
        replications: options.replications,
        seed: options.seed,
        currency,
        baseline: None,
        channel: Channel {
            regions: assemble::region_plans(&regions, options)?,
            tiers: assemble::tier_plans(&tier_mean),
            partners: explicit,
        },
        behaviour,
        specs,
        // Records' goal periods follow the calendar (quarters start in January, April,
        // July and October): so do the scenario's.
        period_anchor: Month::new(start.year(), 1).ok(),
        uncertainty: None,
        sweep: Vec::new(),
    };
    Ok(Calibrated {
        scenario: assemble::resolve(file)?,
        report: CalibrationReport {
            as_of: windows.as_of,
            sales_window_months: SALES_WINDOW_MONTHS,
            touch_window_months: TOUCH_WINDOW_MONTHS,
            credibility_months: options.credibility_months,
            currency,
            baseline: BaselineReport {
                process_spec_id: records.baseline.id,
                version: records.baseline.version.get(),
                name: records.baseline.rules.name.as_str().to_owned(),
            },
            regions: regions.into_iter().map(|r| r.report).collect(),
            tiers,
            partners,
            notes,
        },
    })
}

/// The options' own checks, before any record is read: the behaviour parameters valid
/// (sim/MODEL.md §7.1) and the credibility constant `k` of §12 "Potential" in 0 to 120
/// months. Returns the behaviour the scenario will carry.
fn checked_behaviour(options: &Options) -> Result<Behaviour, FromRecordsError> {
    let behaviour = options.behaviour.clone();
    behaviour.validate().map_err(|e| FromRecordsError::Option {
        field: format!("behaviour.{}", e.field()),
        message: e.message().to_owned(),
    })?;
    if !(options.credibility_months.is_finite()
        && (0.0..=120.0).contains(&options.credibility_months))
    {
        return Err(FromRecordsError::Option {
            field: "credibility_months".to_owned(),
            message: format!(
                "expected 0 to 120 months, found {}",
                options.credibility_months
            ),
        });
    }
    Ok(behaviour)
}
