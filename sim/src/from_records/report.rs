//! What [`build`](super::build) reports beside the scenario: how each number was estimated
//! from the records (sim/MODEL.md §12), per region, tier and partner.

use chanlab_shared::{
    Currency, LifecycleStage, Month, PartnerId, ProcessSpecId, RegionId, RepId, Tier,
};
use serde::{Deserialize, Serialize};

/// How a scenario was estimated from the records (sim/MODEL.md §12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalibrationReport {
    /// The last month of history used; none (null in JSON) when there was no sales record.
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The owner's seat index in the region; none (null in JSON) when dealt round-robin (no
    /// owner, or an owner who left or is in another region).
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
