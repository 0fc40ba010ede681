//! Scenarios calibrated from a channel's records: the real regions, reps and partners, with
//! each partner's potential and engagement estimated from its sales history and the
//! activity log, and the published process spec as the baseline.
//!
//! [`build`] is a pure function of the records (no I/O, no clock): the API's
//! `POST /scenarios/from-records` and `chanlab scenario from-records` both call it on the
//! records they loaded. The method is in sim/MODEL.md §12; every estimate is reported with
//! the method used and the history behind it ([`CalibrationReport`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chanlab_shared::{
    Activity, ActivityOutcome, Assessment, Currency, Goal, LifecycleStage, Month, Name, Notes,
    Partner, PartnerId, Probability, ProcessSpec, ProcessSpecId, Region, RegionId, Rep, RepId,
    RepStatus, SalesRecord, StageChange, Tier,
};
use serde::{Deserialize, Serialize};

use crate::bundled;
use crate::files::{self, Format};
use crate::params::Behaviour;
use crate::scenario::{
    self, Channel, ExplicitPartner, RegionPlan, Scenario, ScenarioFile, SpecEntry, TierCounts,
    TierPlans,
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

/// How a scenario was estimated from the records (sim/MODEL.md §12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// The last month of history used; `None` when there was no sales record.
    pub as_of: Option<Month>,
    /// Months of sales history looked at, ending at `as_of`.
    pub sales_window_months: u32,
    /// Months of the activity log looked at, ending at `as_of`.
    pub touch_window_months: u32,
    /// The credibility constant `k` used for shrinkage, in months.
    pub credibility_months: f64,
    /// The currency of the sales records used (and of the scenario).
    pub currency: Currency,
    /// The baseline: the published process spec.
    pub baseline: BaselineReport,
    /// Per region: its reps, in the order the scenario numbers them (owner index).
    pub regions: Vec<RegionReport>,
    /// Per tier: its mean potential and how it was found.
    pub tiers: Vec<TierReport>,
    /// Per partner: the estimates and how they were made.
    pub partners: Vec<PartnerReport>,
    /// Everything else worth knowing: defaults used, records left out.
    pub notes: Vec<String>,
}

/// The spec used as the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineReport {
    /// Its id.
    pub process_spec_id: ProcessSpecId,
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
}

/// One region of the built scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionReport {
    /// The region's id.
    pub region_id: RegionId,
    /// Its name in the scenario (made unique if two regions share one).
    pub name: String,
    /// Its reps who have not left, by seat index (an explicit partner's `owner`).
    pub reps: Vec<RepId>,
    /// Seats in the scenario (one more than `reps` when a region has partners but no rep).
    pub seats: u32,
    /// How the regional manager's backing was set: `default` (1.0; the records alone do not
    /// say) or `calibrated` (from compliance with the spec's cadences, `chanlab calibrate`).
    pub backing_method: String,
}

/// One tier's mean potential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierReport {
    /// The tier.
    pub tier: Tier,
    /// Partners of the tier.
    pub partners: u32,
    /// Of which with at least one month of sales history.
    pub with_history: u32,
    /// Mean monthly potential, major currency units.
    pub mean_potential: f64,
    /// `records` (mean of the tier's own estimates), `scaled_default` (no history in this
    /// tier: the default tier potential scaled like the tiers with history) or `default`
    /// (no history at all).
    pub method: TierMethod,
}

/// How a tier's mean potential was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMethod {
    /// The mean of the tier's partners' own estimates.
    Records,
    /// The default tier potential, scaled by how the tiers with history compare with theirs.
    ScaledDefault,
    /// The default tier potential (no partner has any history).
    Default,
}

/// How a partner's potential was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PotentialMethod {
    /// Six months of history or more: level with trend, shrunk towards the tier mean.
    History,
    /// One to five months: mean level without trend, shrunk towards the tier mean.
    ShortHistory,
    /// No sales in the window: the tier mean.
    TierMean,
}

/// How a partner's starting engagement was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementMethod {
    /// From its logged touches (its owner rep keeps the activity log).
    ActivityLog,
    /// The model's default starting engagement: no owner rep, or the owner logged nothing
    /// in the window, so the log says nothing about this partner.
    Default,
    /// Not selling (prospect, negotiating, contracted, churned, lost): none set.
    NotSelling,
}

/// One partner's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerReport {
    /// The partner's id.
    pub partner_id: PartnerId,
    /// Its name.
    pub name: String,
    /// Its region's name in the scenario.
    pub region: String,
    /// Its tier.
    pub tier: Tier,
    /// Its lifecycle stage.
    pub stage: LifecycleStage,
    /// Its owner rep.
    pub owner_rep_id: Option<RepId>,
    /// The owner's seat index in the region; `None` when dealt round-robin (no owner, or an
    /// owner who left or is in another region).
    pub owner: Option<u32>,
    /// Months with a sales record in the window.
    pub months_of_history: u32,
    /// Mean monthly sell-through over those months.
    pub mean_sell_through: Option<f64>,
    /// Least-squares trend, as a share of the mean per month (six months or more).
    pub trend_per_month: Option<f64>,
    /// Recent level: the mean of the last six months with a record, each divided by its
    /// month's within-period profile factor (sim/MODEL.md §12).
    pub level: Option<f64>,
    /// Weighted touches a month in the activity window (visit 1, training 1.5, business
    /// review 1.2), when the log is used.
    pub touches_per_month: Option<f64>,
    /// Starting engagement.
    pub engagement: Option<f64>,
    /// How it was estimated.
    pub engagement_method: EngagementMethod,
    /// Whether it was moved into its stage's band (active ≥ at_risk_below, at risk ≤
    /// recovered_above).
    pub engagement_clamped: bool,
    /// The partner's own estimate, level / engagement.
    pub own_potential: Option<f64>,
    /// Weight on the own estimate, n / (n + k).
    pub credibility: Option<f64>,
    /// The potential used, major currency units a month.
    pub potential: f64,
    /// How it was estimated.
    pub potential_method: PotentialMethod,
}

/// Sales records per currency code, and the most common currency (a tie goes to the code
/// first in alphabetical order): the currency a channel's records are read in, by the
/// scenario built from them and by the backtest that scores it.
pub fn currencies<'s>(
    sales: impl Iterator<Item = &'s SalesRecord>,
) -> (BTreeMap<&'static str, (u64, Currency)>, Option<Currency>) {
    let mut by_currency: BTreeMap<&'static str, (u64, Currency)> = BTreeMap::new();
    for s in sales {
        let c = s.sell_through().currency();
        by_currency.entry(c.code()).or_insert((0, c)).0 += 1;
    }
    let main = by_currency
        .values()
        .max_by_key(|(n, c)| (*n, std::cmp::Reverse(c.code())))
        .map(|(_, c)| *c);
    (by_currency, main)
}

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Sales history of one partner in the window: `(offset from the window's first month,
/// sell-through)`.
struct History {
    points: Vec<(f64, f64)>,
}

/// Months of the most recent history the level is the mean of.
pub const LEVEL_MONTHS: u32 = 6;

struct Level {
    mean: f64,
    trend: Option<f64>,
    level: f64,
}

impl History {
    /// The level: the mean of the last [`LEVEL_MONTHS`] months with a record, each divided
    /// by its month's within-period profile factor (so a history that ends on a
    /// quarter-end spike is not read as growth), and the least-squares trend for the report.
    fn level(&self, factor: &dyn Fn(f64) -> f64, months: usize) -> Option<Level> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let mean = self.points.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let mut recent: Vec<(f64, f64)> = self.points.clone();
        recent.sort_by(|a, b| a.0.total_cmp(&b.0));
        let recent = &recent[recent.len().saturating_sub(months)..];
        // A ratio of sums, not a mean of ratios: over whole periods the factors sum to the
        // months, so the level is the plain mean, whatever each partner's own timing.
        let level = recent.iter().map(|p| p.1).sum::<f64>()
            / recent.iter().map(|p| factor(p.0)).sum::<f64>().max(1e-9);
        if n < TREND_MIN_MONTHS as usize {
            return Some(Level {
                mean,
                trend: None,
                level,
            });
        }
        let t_mean = self.points.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let sxx: f64 = self.points.iter().map(|p| (p.0 - t_mean).powi(2)).sum();
        let sxy: f64 = self
            .points
            .iter()
            .map(|p| (p.0 - t_mean) * (p.1 - mean))
            .sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        Some(Level {
            mean,
            trend: (mean > 0.0).then(|| slope / mean),
            level,
        })
    }
}

/// Builds a scenario from `records` (sim/MODEL.md §12).
pub fn build(records: Records<'_>, options: &Options) -> Result<Calibrated, FromRecordsError> {
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
    let mut notes = Vec::new();
    let partner_ids: BTreeSet<PartnerId> = records.partners.iter().map(|p| p.id).collect();

    // Currency: the most common among the sales of known partners.
    let (by_currency, main) = currencies(
        records
            .sales
            .iter()
            .filter(|s| partner_ids.contains(&s.partner_id())),
    );
    let currency = main.unwrap_or(Currency::EUR);
    if by_currency.len() > 1 {
        let others: u64 = by_currency
            .values()
            .filter(|(_, c)| *c != currency)
            .map(|(n, _)| n)
            .sum();
        notes.push(format!(
            "sales are recorded in {} currencies; the {others} records not in {} were left out",
            by_currency.len(),
            currency.code()
        ));
    }
    let sales: Vec<&SalesRecord> = records
        .sales
        .iter()
        .filter(|s| {
            partner_ids.contains(&s.partner_id()) && s.sell_through().currency() == currency
        })
        .collect();

    let as_of = options
        .as_of
        .or_else(|| sales.iter().map(|s| s.month()).max());
    let window_first = as_of.and_then(|m| m.plus(-(SALES_WINDOW_MONTHS as i32 - 1)));
    let touch_first = as_of.and_then(|m| m.plus(-(TOUCH_WINDOW_MONTHS as i32 - 1)));
    if as_of.is_none() {
        notes.push(
            "no sales records: every potential is its tier's default and every engagement the model's default".to_owned(),
        );
    }

    // Regions with unique names, and their reps (those who have not left) by seat.
    let mut region_names: BTreeSet<String> = BTreeSet::new();
    let mut regions: Vec<(RegionReport, bool)> = Vec::new();
    let mut region_index: HashMap<RegionId, usize> = HashMap::new();
    for region in records.regions {
        let mut name = region.name.as_str().to_owned();
        let mut k = 2;
        while region_names.contains(&name) {
            name = format!("{} ({k})", region.name.as_str());
            k += 1;
        }
        region_names.insert(name.clone());
        let reps: Vec<RepId> = records
            .reps
            .iter()
            .filter(|r| r.region_id == region.id && r.status != RepStatus::Departed)
            .map(|r| r.id)
            .collect();
        region_index.insert(region.id, regions.len());
        regions.push((
            RegionReport {
                region_id: region.id,
                name,
                seats: reps.len() as u32,
                reps,
                backing_method: if options.backing.contains_key(&region.id) {
                    "calibrated".to_owned()
                } else {
                    "default".to_owned()
                },
            },
            false,
        ));
    }
    let on_leave = records
        .reps
        .iter()
        .filter(|r| r.status == RepStatus::OnLeave)
        .count();
    if on_leave > 0 {
        notes.push(format!(
            "{on_leave} rep(s) on leave are counted as filled seats"
        ));
    }

    // Which reps keep the activity log, and each partner's weighted touches in the window.
    let in_touch_window = |a: &Activity| match (touch_first, as_of) {
        (Some(first), Some(last)) => Month::of_date(a.date).is_ok_and(|m| first <= m && m <= last),
        _ => false,
    };
    let mut logging_reps: BTreeSet<RepId> = BTreeSet::new();
    let mut touches: HashMap<PartnerId, f64> = HashMap::new();
    for a in records.activities.iter().filter(|a| in_touch_window(a)) {
        if a.outcome != ActivityOutcome::Completed {
            continue;
        }
        logging_reps.insert(a.rep_id);
        *touches.entry(a.partner_id).or_default() += crate::model::touch_weight(a.kind);
    }

    let mut histories: HashMap<PartnerId, History> = HashMap::new();
    if let Some(first) = window_first {
        for s in &sales {
            let offset = first.months_until(s.month());
            if (0..SALES_WINDOW_MONTHS as i32).contains(&offset) {
                histories
                    .entry(s.partner_id())
                    .or_insert(History { points: Vec::new() })
                    .points
                    .push((f64::from(offset), s.sell_through().to_major_f64()));
            }
        }
    }

    // The within-period profile of the channel's sell-through (sim/MODEL.md §12.2), read
    // over the sales window's complete goal periods.
    let period_months =
        crate::model::SpecDemands::of(&records.baseline.rules, &behaviour).period_months;
    let (channel, profile) = channel_profile(&sales, window_first, period_months);
    // Whole goal periods' worth of months, and at least six.
    let level_months = (period_months as usize).max(LEVEL_MONTHS as usize);
    let factor = |offset: f64| -> f64 {
        match (window_first, &profile) {
            (Some(first), Some(p)) => first.plus(offset as i32).map_or(1.0, |m| p.factor(m)),
            _ => 1.0,
        }
    };
    let base_margin = records.baseline.rules.partner_program.base_margin().get();
    let floor = (behaviour.engagement_floor * (base_margin / 0.06).powf(0.3)).min(0.9);

    // First pass: each partner's own estimates.
    struct Draft<'p> {
        partner: &'p Partner,
        region: usize,
        owner: Option<u32>,
        level: Option<Level>,
        n: u32,
        touches: Option<f64>,
        engagement: Option<f64>,
        engagement_method: EngagementMethod,
        clamped: bool,
        own: Option<f64>,
    }
    let mut drafts = Vec::with_capacity(records.partners.len());
    let mut unowned = 0usize;
    for p in records.partners {
        let Some(&region) = region_index.get(&p.region_id) else {
            notes.push(format!(
                "partner {} names region {} which is not in the records; left out",
                p.id, p.region_id
            ));
            continue;
        };
        let owner = p.owner_rep_id.and_then(|rep| {
            regions[region]
                .0
                .reps
                .iter()
                .position(|r| *r == rep)
                .map(|i| i as u32)
        });
        if owner.is_none() {
            unowned += 1;
        }
        regions[region].1 = true;
        let history = histories.get(&p.id);
        let n = history.map_or(0, |h| h.points.len() as u32);
        let level = history.and_then(|h| h.level(&factor, level_months));
        let selling = matches!(p.stage(), LifecycleStage::Active | LifecycleStage::AtRisk);
        let logs = p.owner_rep_id.is_some_and(|r| logging_reps.contains(&r));
        let (touches_pm, raw, method) = if !selling {
            (None, None, EngagementMethod::NotSelling)
        } else if logs {
            let t = touches.get(&p.id).copied().unwrap_or(0.0) / f64::from(TOUCH_WINDOW_MONTHS);
            let half = behaviour.touches_for_half_engagement.get(p.tier);
            (
                Some(round_to(t, 3)),
                Some(floor + (1.0 - floor) * t / (t + half)),
                EngagementMethod::ActivityLog,
            )
        } else {
            (
                None,
                Some(behaviour.initial_engagement),
                EngagementMethod::Default,
            )
        };
        let (engagement, clamped) = match raw {
            None => (None, false),
            Some(e) => {
                let bounded = match p.stage() {
                    LifecycleStage::AtRisk => e.min(behaviour.recovered_above),
                    _ => e.max(behaviour.at_risk_below),
                };
                (Some(round_to(bounded, 3)), bounded != e)
            }
        };
        let divisor = engagement.unwrap_or(behaviour.initial_engagement).max(0.05);
        let own = level.as_ref().map(|l| l.level / divisor);
        drafts.push(Draft {
            partner: p,
            region,
            owner,
            level,
            n,
            touches: touches_pm,
            engagement,
            engagement_method: method,
            clamped,
            own,
        });
    }
    if unowned > 0 {
        notes.push(format!(
            "{unowned} partner(s) have no owner rep, or one who left or works in another region: dealt round-robin to the region's seats"
        ));
    }

    // Tier means.
    let defaults = TierPlans::default();
    let mut tier_sum: BTreeMap<Tier, (f64, u32, u32)> = BTreeMap::new();
    let mut scale = (0.0, 0u32);
    for d in &drafts {
        let entry = tier_sum.entry(d.partner.tier).or_default();
        entry.2 += 1;
        if let Some(own) = d.own {
            entry.0 += own;
            entry.1 += 1;
            scale.0 += own / defaults.get(d.partner.tier).potential;
            scale.1 += 1;
        }
    }
    let scale_factor = (scale.1 > 0).then(|| scale.0 / f64::from(scale.1));
    let mut tiers = Vec::new();
    let mut tier_mean: BTreeMap<Tier, f64> = BTreeMap::new();
    for tier in Tier::ALL {
        let (sum, with_history, partners) = tier_sum.get(&tier).copied().unwrap_or_default();
        let default = defaults.get(tier).potential;
        let (mean, method) = if with_history > 0 {
            (sum / f64::from(with_history), TierMethod::Records)
        } else if let Some(f) = scale_factor {
            (default * f, TierMethod::ScaledDefault)
        } else {
            (default, TierMethod::Default)
        };
        let mean = round_to(mean.max(0.01), 2);
        tier_mean.insert(tier, mean);
        tiers.push(TierReport {
            tier,
            partners,
            with_history,
            mean_potential: mean,
            method,
        });
    }

    // Deals the channel pulled into its last period end are still owed by the next months.
    let channel_level: f64 = drafts
        .iter()
        .filter(|d| d.partner.stage().is_selling())
        .filter_map(|d| d.level.as_ref().map(|l| l.level))
        .sum();
    let owed = owed_share(
        &channel,
        window_first,
        as_of,
        period_months,
        channel_level,
        behaviour.max_pull_in,
    );
    if owed > 0.0 {
        notes.push(format!(
            "sell-through above the level since the last period end ({:.0}% of a month) is taken as deals pulled forward, owed back by the first simulated months",
            owed * 100.0
        ));
    }

    // Second pass: shrink towards the tier mean.
    let k = options.credibility_months;
    let mut explicit = Vec::with_capacity(drafts.len());
    let mut partners = Vec::with_capacity(drafts.len());
    for d in drafts {
        let m = tier_mean[&d.partner.tier];
        let (potential, credibility, method) = match d.own {
            Some(own) => {
                let n = f64::from(d.n);
                let w = if n + k > 0.0 { n / (n + k) } else { 1.0 };
                let method = if d.n >= TREND_MIN_MONTHS {
                    PotentialMethod::History
                } else {
                    PotentialMethod::ShortHistory
                };
                (w * own + (1.0 - w) * m, Some(round_to(w, 3)), method)
            }
            None => (m, None, PotentialMethod::TierMean),
        };
        let scale = options
            .potential_scale
            .get(&d.partner.region_id)
            .copied()
            .unwrap_or(1.0);
        let potential = round_to((potential * scale).clamp(0.0, 1e12), 2);
        let region_name = regions[d.region].0.name.clone();
        explicit.push(ExplicitPartner {
            region: region_name.clone(),
            tier: d.partner.tier,
            potential,
            engagement: d.engagement.and_then(|e| Probability::new(e).ok()),
            stage: d.partner.stage(),
            owner: d.owner,
            owed: match (&d.level, d.partner.stage().is_selling()) {
                (Some(l), true) => round_to(owed * l.level, 2),
                _ => 0.0,
            },
        });
        partners.push(PartnerReport {
            partner_id: d.partner.id,
            name: d.partner.name.as_str().to_owned(),
            region: region_name,
            tier: d.partner.tier,
            stage: d.partner.stage(),
            owner_rep_id: d.partner.owner_rep_id,
            owner: d.owner,
            months_of_history: d.n,
            mean_sell_through: d.level.as_ref().map(|l| round_to(l.mean, 2)),
            trend_per_month: d
                .level
                .as_ref()
                .and_then(|l| l.trend.map(|t| round_to(t, 4))),
            level: d.level.as_ref().map(|l| round_to(l.level, 2)),
            touches_per_month: d.touches,
            engagement: d.engagement,
            engagement_method: d.engagement_method,
            engagement_clamped: d.clamped,
            own_potential: d.own.map(|o| round_to(o, 2)),
            credibility,
            potential,
            potential_method: method,
        });
    }

    // A region with partners but no rep gets one seat, so its partners are served.
    for (region, has_partners) in &mut regions {
        if *has_partners && region.seats == 0 {
            region.seats = 1;
            notes.push(format!(
                "region {:?} has partners but no rep: one seat added",
                region.name
            ));
        }
    }

    let mut specs = vec![SpecEntry {
        bundled: None,
        file: None,
        inline: Some(records.baseline.rules.clone()),
    }];
    for (i, name) in options.compare.iter().enumerate() {
        let field = format!("compare[{i}]");
        let Some(found) = bundled::find_spec(name) else {
            let known: Vec<&str> = bundled::specs().iter().map(|s| s.name).collect();
            return Err(FromRecordsError::Option {
                field,
                message: format!(
                    "no bundled spec is called {name:?}; known: {}",
                    known.join(", ")
                ),
            });
        };
        let rules =
            files::parse_rules(found.text, Format::Toml).map_err(|e| FromRecordsError::Option {
                field: field.clone(),
                message: e.to_string(),
            })?;
        // In the channel's currency, sized to its territories (bundled::restate).
        let seats: u32 = regions.iter().map(|r| r.0.seats).sum();
        let per_seat = explicit.iter().map(|p| p.potential).sum::<f64>() / f64::from(seats.max(1));
        let rules = bundled::restate(&rules, currency, per_seat).map_err(|message| {
            FromRecordsError::Option {
                field: field.clone(),
                message,
            }
        })?;
        if rules.name == records.baseline.rules.name {
            return Err(FromRecordsError::Option {
                field,
                message: format!(
                    "the published spec is already called {:?}; it is the baseline",
                    rules.name.as_str()
                ),
            });
        }
        specs.push(SpecEntry {
            bundled: None,
            file: None,
            inline: Some(rules),
        });
    }

    let name = match &options.name {
        Some(n) => n.clone(),
        None => Name::parse(&match as_of {
            Some(m) => format!("From records as of {m}"),
            None => "From records".to_owned(),
        })
        .map_err(|e| FromRecordsError::Records(e.message().to_owned()))?,
    };
    let selling = partners
        .iter()
        .filter(|p| matches!(p.stage, LifecycleStage::Active | LifecycleStage::AtRisk))
        .count();
    let description = Notes::parse(&format!(
        "Built from the records: {} partners ({selling} selling), {} seats in {} regions; potentials and engagement estimated from sales {} and the activity log (sim/MODEL.md §12). Baseline: the published spec {:?} v{}.",
        partners.len(),
        regions.iter().map(|r| r.0.seats).sum::<u32>(),
        regions.len(),
        match (window_first, as_of) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "(none recorded)".to_owned(),
        },
        records.baseline.rules.name.as_str(),
        records.baseline.version.get(),
    ))
    .unwrap_or_default();
    let start = options
        .start
        .or_else(|| as_of.and_then(|m| m.plus(1)))
        .unwrap_or_else(|| Month::new(2027, 1).expect("a valid month"));
    let mut tier_plans = defaults;
    tier_plans.a.potential = tier_mean[&Tier::A];
    tier_plans.b.potential = tier_mean[&Tier::B];
    tier_plans.c.potential = tier_mean[&Tier::C];

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
            regions: regions
                .iter()
                .map(|(r, _)| -> Result<RegionPlan, FromRecordsError> {
                    Ok(RegionPlan {
                        name: Name::parse(&r.name)
                            .map_err(|e| FromRecordsError::Records(e.message().to_owned()))?,
                        reps: r.seats,
                        backing: Probability::new(
                            options
                                .backing
                                .get(&r.region_id)
                                .copied()
                                .unwrap_or(1.0)
                                .clamp(0.0, 1.0),
                        )
                        .expect("clamped to 0..1"),
                        partners: TierCounts::default(),
                        prospects: 0,
                    })
                })
                .collect::<Result<_, _>>()?,
            tiers: tier_plans,
            partners: explicit,
        },
        behaviour,
        specs,
        // Records' goal periods follow the calendar (quarters start in January, April,
        // July and October): so do the scenario's.
        period_anchor: Month::new(start.year(), 1).ok(),
        uncertainty: None,
    };
    let scenario = scenario::resolve(file, &|p| {
        Err(format!("a scenario from records cannot refer to {p}"))
    })
    .map_err(|e| match e.field.as_str() {
        "horizon_months" | "replications" => FromRecordsError::Option {
            field: e.field.clone(),
            message: e.message.clone(),
        },
        _ => FromRecordsError::Records(format!(
            "the records do not make a channel the simulator can run: {e}"
        )),
    })?;
    Ok(Calibrated {
        scenario,
        report: CalibrationReport {
            as_of,
            sales_window_months: SALES_WINDOW_MONTHS,
            touch_window_months: TOUCH_WINDOW_MONTHS,
            credibility_months: k,
            currency,
            baseline: BaselineReport {
                process_spec_id: records.baseline.id,
                version: records.baseline.version.get(),
                name: records.baseline.rules.name.as_str().to_owned(),
            },
            regions: regions.into_iter().map(|(r, _)| r).collect(),
            tiers,
            partners,
            notes,
        },
    })
}

/// The channel's within-period profile over the sales window, when it holds a complete
/// goal period.
fn channel_profile(
    sales: &[&SalesRecord],
    window_first: Option<Month>,
    period_months: u32,
) -> (Vec<f64>, Option<crate::calibrate::Profile>) {
    let Some(first) = window_first else {
        return (Vec::new(), None);
    };
    let mut channel = vec![0.0; SALES_WINDOW_MONTHS as usize];
    for s in sales {
        let i = first.months_until(s.month());
        if (0..SALES_WINDOW_MONTHS as i32).contains(&i) {
            channel[i as usize] += s.sell_through().to_major_f64();
        }
    }
    let profile = crate::calibrate::Profile::of_channel(&channel, first, period_months);
    (channel, profile)
}

/// What the channel still owes from deals pulled into its last period end, as a share of
/// its monthly level: the excess of channel sell-through over the level from the last
/// period end to the as-of month (sim/MODEL.md §12), at most `max_pull_in`.
pub(crate) fn owed_share(
    channel: &[f64],
    window_first: Option<Month>,
    as_of: Option<Month>,
    period_months: u32,
    level: f64,
    max_pull_in: f64,
) -> f64 {
    let (Some(first), Some(as_of)) = (window_first, as_of) else {
        return 0.0;
    };
    if period_months <= 1 || level <= 0.0 {
        return 0.0;
    }
    let length = crate::calibrate::period_length(period_months);
    let period = chanlab_shared::Period::containing(as_of, length);
    let last_end = if period.last() == as_of {
        as_of
    } else {
        match period.first().plus(-1) {
            Some(m) => m,
            None => return 0.0,
        }
    };
    let mut excess = 0.0;
    let mut m = last_end;
    while m <= as_of {
        let i = first.months_until(m);
        let Some(&c) = usize::try_from(i).ok().and_then(|i| channel.get(i)) else {
            return 0.0;
        };
        excess += c / level - 1.0;
        match m.plus(1) {
            Some(next) => m = next,
            None => break,
        }
    }
    excess.clamp(0.0, max_pull_in)
}
