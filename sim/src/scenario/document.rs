//! The scenario document: the types a scenario file (TOML or JSON) is read into and
//! written from, with the defaults of the fields a file may leave out. The rules that tie
//! fields together are checked by [`super::resolve`], not here.

use chanlab_shared::{
    Currency, LifecycleStage, Month, Name, Notes, Probability, ProcessRules, Tier,
};
use serde::{Deserialize, Serialize};

use crate::params::Behaviour;

/// A scenario as written in a file (TOML or JSON). Once read and checked (`scenario::parse`),
/// every spec entry is inline, as in every stored scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A short name.
    pub name: Name,
    /// What the scenario is about.
    #[serde(default)]
    pub description: Notes,
    /// First simulated month.
    #[serde(default = "default_start")]
    #[cfg_attr(feature = "openapi", schema(default = default_start))]
    pub start: Month,
    /// Months to simulate.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 240))]
    pub horizon_months: u32,
    /// Monte Carlo replications.
    #[serde(default = "default_replications")]
    #[cfg_attr(feature = "openapi", schema(default = default_replications, minimum = 1, maximum = 1000000))]
    pub replications: u32,
    /// Seed of the run; the same seed gives the same numbers.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = 0))]
    pub seed: u64,
    /// Currency of revenue and pay.
    #[serde(default = "default_currency")]
    #[cfg_attr(feature = "openapi", schema(default = default_currency))]
    pub currency: Currency,
    /// Name of the spec the others are compared with (one of `specs`' names); the first
    /// spec when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The simulated channel.
    pub channel: Channel,
    /// Behaviour parameters; omitted ones take their defaults from sim/MODEL.md.
    #[serde(default)]
    pub behaviour: Behaviour,
    /// The process specs to compare, 1 to 12, each with a name of its own.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 12))]
    pub specs: Vec<SpecEntry>,
    /// The month goal periods, partner target periods and bonus windows are counted from:
    /// a period of P months starts at `period_anchor` + k·P. When omitted, at `start`. A
    /// scenario built from records anchors them on the calendar its records were kept in, so
    /// a channel that starts mid-quarter starts with the rest of the quarter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_anchor: Option<Month>,
    /// What the records leave uncertain (a calibrated scenario): drawn per replication
    /// (sim/MODEL.md §12). When omitted, the parameters are taken as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<crate::uncertainty::Uncertainty>,
    /// One or two axes to sweep (`[[sweep]]`, sim/MODEL.md §13.2): `chanlab compare` runs
    /// the scenario at every point of their grid on the same replications. Empty for a
    /// plain scenario, and then not written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 2))]
    pub sweep: Vec<crate::explore::sweep::SweepAxis>,
}

impl ScenarioFile {
    /// The scenario as a TOML file, which [`parse`](super::parse) reads back to the same value.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }
}

/// The channel's structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The regions, each with its regional manager, reps and partners; at least one, with
    /// distinct names and at least one rep over all. At most 200,000 partners and prospects
    /// in all, counted and explicit.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub regions: Vec<RegionPlan>,
    /// Potential by partner tier.
    #[serde(default)]
    pub tiers: TierPlans,
    /// Partners listed one by one, in addition to the regions' counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<ExplicitPartner>,
}

/// One region of the simulated channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegionPlan {
    /// The region's name.
    pub name: Name,
    /// Reps in the region; at least one when the region has partners or prospects.
    #[cfg_attr(feature = "openapi", schema(maximum = 10000))]
    pub reps: u32,
    /// How strongly the regional manager backs the channel manager's process (0..1).
    #[serde(default = "full_backing")]
    #[cfg_attr(feature = "openapi", schema(default = 1.0))]
    pub backing: Probability,
    /// Active partners by tier at the start.
    #[serde(default)]
    pub partners: TierCounts,
    /// Prospects the region's reps can recruit.
    #[serde(default)]
    pub prospects: u32,
}

/// A count per partner tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierCounts {
    /// Tier A.
    #[serde(rename = "A", default)]
    pub a: u32,
    /// Tier B.
    #[serde(rename = "B", default)]
    pub b: u32,
    /// Tier C.
    #[serde(rename = "C", default)]
    pub c: u32,
}

impl TierCounts {
    /// The count for `tier`.
    pub fn get(&self, tier: Tier) -> u32 {
        match tier {
            Tier::A => self.a,
            Tier::B => self.b,
            Tier::C => self.c,
        }
    }

    /// The total over tiers.
    pub fn total(&self) -> u64 {
        u64::from(self.a) + u64::from(self.b) + u64::from(self.c)
    }
}

/// Potential of partners of each tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierPlans {
    /// Tier A.
    #[serde(rename = "A", default = "tier_a")]
    pub a: TierPlan,
    /// Tier B.
    #[serde(rename = "B", default = "tier_b")]
    pub b: TierPlan,
    /// Tier C.
    #[serde(rename = "C", default = "tier_c")]
    pub c: TierPlan,
}

impl Default for TierPlans {
    fn default() -> Self {
        Self {
            a: tier_a(),
            b: tier_b(),
            c: tier_c(),
        }
    }
}

impl TierPlans {
    /// The plan for `tier`.
    pub fn get(&self, tier: Tier) -> &TierPlan {
        match tier {
            Tier::A => &self.a,
            Tier::B => &self.b,
            Tier::C => &self.c,
        }
    }
}

/// How partners of one tier are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierPlan {
    /// Mean monthly sell-through a partner would reach fully engaged and served, in major
    /// currency units.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.01, maximum = 1e12))]
    pub potential: f64,
    /// Standard deviation of log potential across partners of the tier.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 3.0))]
    pub potential_spread: f64,
    /// Share of newly recruited partners that fall in this tier; the three tiers' shares
    /// sum to 1 (within 0.001).
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub share_of_recruits: f64,
}

/// One partner given explicitly, e.g. from the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExplicitPartner {
    /// Name of the partner's region (one of `channel.regions`).
    pub region: String,
    /// Tier.
    pub tier: Tier,
    /// Monthly sell-through potential, major currency units.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1e12))]
    pub potential: f64,
    /// Engagement at the start; the behaviour default when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<Probability>,
    /// Lifecycle stage at the start.
    #[serde(default = "active")]
    #[cfg_attr(feature = "openapi", schema(default = active))]
    pub stage: LifecycleStage,
    /// Index (from 0) of the owning rep within the region, below the region's `reps`; spread
    /// evenly when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u32>,
    /// Sell-through already pulled into the months before the start that the months after
    /// it still owe (money; sim/MODEL.md §3.10). A scenario from records sets it from the
    /// channel's last period end; 0 when omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[cfg_attr(
        feature = "openapi",
        schema(default = 0.0, minimum = 0.0, maximum = 1e12)
    )]
    pub owed: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// A process spec to compare: exactly one of `bundled`, `file` or `inline`, and no two specs
/// of a scenario with the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpecEntry {
    /// Name of a bundled spec (`chanlab spec list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundled: Option<String>,
    /// Path of a spec file, relative to the scenario file. For files read by the command
    /// line only: a scenario sent to the API cannot refer to a file (`POST /scenarios`
    /// answers 422); inline the spec or name a bundled one. A stored scenario never has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The spec itself. A threshold bonus's amount is in the scenario's `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<ProcessRules>,
}

fn default_start() -> Month {
    Month::new(2027, 1).expect("a valid month")
}
fn default_replications() -> u32 {
    1000
}
fn default_currency() -> Currency {
    Currency::EUR
}
fn full_backing() -> Probability {
    Probability::new(1.0).expect("1 is a probability")
}
fn active() -> LifecycleStage {
    LifecycleStage::Active
}
fn tier_a() -> TierPlan {
    TierPlan {
        potential: 40_000.0,
        potential_spread: 0.6,
        share_of_recruits: 0.05,
    }
}
fn tier_b() -> TierPlan {
    TierPlan {
        potential: 12_000.0,
        potential_spread: 0.6,
        share_of_recruits: 0.35,
    }
}
fn tier_c() -> TierPlan {
    TierPlan {
        potential: 3_000.0,
        potential_spread: 0.8,
        share_of_recruits: 0.60,
    }
}
