//! What one replication of one spec produced: the KPIs and the monthly revenue path.

use serde::{Deserialize, Serialize};

/// The key performance indicators every run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Kpi {
    /// Sell-through revenue over the horizon.
    SellThrough,
    /// Sell-in revenue over the horizon.
    SellIn,
    /// Vendor margin on sell-in after incentives, rebates and discounts.
    MarginAfterIncentives,
    /// Commission and bonuses paid to reps.
    IncentiveCost,
    /// Discounts granted to pull deals into a period.
    DiscountCost,
    /// Rebates paid to partners.
    RebateCost,
    /// Share of rep goal periods that ended at or above goal.
    RepsAtGoal,
    /// Partners active or at risk at the end.
    PartnersActiveAtEnd,
    /// Partners signed during the horizon.
    PartnersSigned,
    /// Partners that churned during the horizon.
    PartnersChurned,
    /// Reps who left during the horizon.
    RepAttrition,
    /// Stock held by partners at the end.
    ChannelInventoryAtEnd,
    /// Share of mandated partner touches carried out.
    ProcessCompliance,
    /// Last month of each goal period relative to the period's monthly mean (1 = no spike).
    PeriodEndSpike,
}

impl Kpi {
    /// Every KPI, in report order.
    pub const ALL: [Kpi; 14] = [
        Kpi::SellThrough,
        Kpi::SellIn,
        Kpi::MarginAfterIncentives,
        Kpi::IncentiveCost,
        Kpi::DiscountCost,
        Kpi::RebateCost,
        Kpi::RepsAtGoal,
        Kpi::PartnersActiveAtEnd,
        Kpi::PartnersSigned,
        Kpi::PartnersChurned,
        Kpi::RepAttrition,
        Kpi::ChannelInventoryAtEnd,
        Kpi::ProcessCompliance,
        Kpi::PeriodEndSpike,
    ];

    /// Number of KPIs.
    pub const COUNT: usize = Kpi::ALL.len();

    /// Position in [`Kpi::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name used in JSON and CSV.
    pub const fn name(self) -> &'static str {
        match self {
            Kpi::SellThrough => "sell_through",
            Kpi::SellIn => "sell_in",
            Kpi::MarginAfterIncentives => "margin_after_incentives",
            Kpi::IncentiveCost => "incentive_cost",
            Kpi::DiscountCost => "discount_cost",
            Kpi::RebateCost => "rebate_cost",
            Kpi::RepsAtGoal => "reps_at_goal",
            Kpi::PartnersActiveAtEnd => "partners_active_at_end",
            Kpi::PartnersSigned => "partners_signed",
            Kpi::PartnersChurned => "partners_churned",
            Kpi::RepAttrition => "rep_attrition",
            Kpi::ChannelInventoryAtEnd => "channel_inventory_at_end",
            Kpi::ProcessCompliance => "process_compliance",
            Kpi::PeriodEndSpike => "period_end_spike",
        }
    }

    /// A label for tables and charts.
    pub const fn label(self) -> &'static str {
        match self {
            Kpi::SellThrough => "Sell-through revenue",
            Kpi::SellIn => "Sell-in revenue",
            Kpi::MarginAfterIncentives => "Margin after incentives",
            Kpi::IncentiveCost => "Incentive cost",
            Kpi::DiscountCost => "Pull-in discounts",
            Kpi::RebateCost => "Partner rebates",
            Kpi::RepsAtGoal => "Rep periods at goal",
            Kpi::PartnersActiveAtEnd => "Partners active at end",
            Kpi::PartnersSigned => "Partners signed",
            Kpi::PartnersChurned => "Partners churned",
            Kpi::RepAttrition => "Reps who left",
            Kpi::ChannelInventoryAtEnd => "Channel inventory at end",
            Kpi::ProcessCompliance => "Process compliance",
            Kpi::PeriodEndSpike => "Period-end spike",
        }
    }

    /// How values are shown.
    pub const fn unit(self) -> Unit {
        match self {
            Kpi::SellThrough
            | Kpi::SellIn
            | Kpi::MarginAfterIncentives
            | Kpi::IncentiveCost
            | Kpi::DiscountCost
            | Kpi::RebateCost
            | Kpi::ChannelInventoryAtEnd => Unit::Money,
            Kpi::RepsAtGoal | Kpi::ProcessCompliance => Unit::Share,
            Kpi::PartnersActiveAtEnd
            | Kpi::PartnersSigned
            | Kpi::PartnersChurned
            | Kpi::RepAttrition => Unit::Count,
            Kpi::PeriodEndSpike => Unit::Ratio,
        }
    }

    /// Whether more is better for the company (`None` when it depends).
    pub const fn better(self) -> Option<bool> {
        match self {
            Kpi::SellThrough
            | Kpi::SellIn
            | Kpi::MarginAfterIncentives
            | Kpi::RepsAtGoal
            | Kpi::PartnersActiveAtEnd
            | Kpi::PartnersSigned
            | Kpi::ProcessCompliance => Some(true),
            Kpi::IncentiveCost
            | Kpi::DiscountCost
            | Kpi::RebateCost
            | Kpi::PartnersChurned
            | Kpi::RepAttrition
            | Kpi::PeriodEndSpike => Some(false),
            Kpi::ChannelInventoryAtEnd => None,
        }
    }
}

/// How a KPI's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Money in the scenario's currency (major units).
    Money,
    /// A share, 0..1, shown as a percentage.
    Share,
    /// A count.
    Count,
    /// A ratio, 1 meaning "equal".
    Ratio,
}

/// Bins of the attainment histogram: 0 to 2 in steps of 0.1, then one bin for 2 and above.
pub const ATTAINMENT_BINS: usize = 21;

/// The result of simulating one spec in one replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// KPI values, indexed by [`Kpi::index`].
    pub kpis: [f64; Kpi::COUNT],
    /// Rep goal periods by attainment bin.
    pub attainment: [u32; ATTAINMENT_BINS],
    /// Sell-through per month.
    pub monthly_sell_through: Vec<f64>,
    /// Sell-in per month.
    pub monthly_sell_in: Vec<f64>,
    /// What the validation experiments look at beyond the KPIs.
    pub detail: Detail,
}

/// Per-seat, per-region and deal-timing figures of one replication of one spec, used by the
/// validation experiments (`chanlab validate`) and not by run reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    /// Goal-metric revenue moved across a period end by deal timing: pulled in plus pushed out.
    pub timing_volume: f64,
    /// Revenue goals set, summed over seats and periods.
    pub goal_total: f64,
    /// Rep seats in scenario order.
    pub seats: Vec<SeatOutcome>,
    /// Regions in scenario order.
    pub regions: Vec<RegionOutcome>,
    /// Month by month, for reports per round of a training session.
    pub months: Vec<MonthDetail>,
}

/// One month of one replication: flows in the month and the KPI sums so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MonthDetail {
    /// Filled rep seats this month.
    pub filled_reps: f64,
    /// Filled seats with a revenue goal whose rep judged it out of reach (commitment < ½).
    pub gave_up: f64,
    /// Mandated partner touches required this month.
    pub mandated_required: f64,
    /// Mandated partner touches done this month.
    pub mandated_done: f64,
    /// Goal periods settled this month for filled seats.
    pub periods_settled: f64,
    /// Of those, at or above goal.
    pub periods_at_goal: f64,
    /// Stock ordered beyond replenishment this month: rebate loading and rep loading.
    pub loaded: f64,
    /// Stock held by partners at the end of the month.
    pub inventory: f64,
    /// Every KPI's running total at the end of the month. KPIs computed only at the end of
    /// the horizon (margin after incentives, partners active and inventory at the end, and
    /// the ratios) are 0 here; [`MonthDetail::inventory`] has the month's stock.
    pub kpis: [f64; Kpi::COUNT],
}

/// One rep seat over the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeatOutcome {
    /// Expected monthly revenue of the seat's territory and first occupant at the start: drawn
    /// with the world, so identical for every spec of a replication (it ranks seats).
    pub capacity: f64,
    /// Goal-metric revenue booked by the seat's partners.
    pub revenue: f64,
    /// Goal-metric revenue booked beyond 100% of the revenue goal, summed over periods.
    pub post_goal_revenue: f64,
}

/// One region over the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RegionOutcome {
    /// How strongly the regional manager backs the process (0..1), as the scenario states
    /// it (the simulation uses a draw around it).
    pub backing: f64,
    /// Mandated partner touches required.
    pub mandated_required: f64,
    /// Mandated partner touches done.
    pub mandated_done: f64,
}

impl RegionOutcome {
    /// Share of mandated touches done (1 when nothing was mandated).
    pub fn compliance(&self) -> f64 {
        if self.mandated_required > 0.0 {
            self.mandated_done / self.mandated_required
        } else {
            1.0
        }
    }
}

impl Outcome {
    /// The value of `kpi`.
    pub fn get(&self, kpi: Kpi) -> f64 {
        self.kpis[kpi.index()]
    }
}

/// The attainment bin of `attainment`.
pub(crate) fn attainment_bin(attainment: f64) -> usize {
    if attainment.is_nan() || attainment <= 0.0 {
        return 0;
    }
    ((attainment * 10.0) as usize).min(ATTAINMENT_BINS - 1)
}
