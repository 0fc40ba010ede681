//! The ledger of one spec's run: the one place every KPI and detail output is accumulated
//! (sim/MODEL.md §6), so a mechanism says what happened and never which counter it feeds.
//!
//! Every sum is added in the order the month loop visits partners and seats, so a run's
//! numbers do not depend on how the mechanisms are arranged around the ledger.

use chanlab_shared::LifecycleStage;

use super::outcome::{
    ATTAINMENT_BINS, Detail, Kpi, MonthDetail, Outcome, RegionOutcome, SeatOutcome, attainment_bin,
};
use super::partner::{Order, Service, Timed};
use super::plan::Plan;
use super::state::{Partner, Rep};
use super::world::World;
use crate::params::Behaviour;

/// Partner margin the behaviour defaults are calibrated at; a richer margin raises partners'
/// baseline engagement (sim/MODEL.md §5.4), and margin above it is the vendor's cost (§5.5).
pub(super) const REFERENCE_PARTNER_MARGIN: f64 = 0.06;

/// One seat's partners' month: summed partner by partner, then added to the ledger and the
/// seat once (sim/MODEL.md §6), so the partner loop touches no other seat's or region's sums.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SeatBooks {
    /// Mandated touches required of, and done by, the seat.
    pub(super) mandated: f64,
    pub(super) done: f64,
    /// Weighted touches given, onboarding included.
    pub(super) touches: f64,
    /// Prospects brought into negotiation.
    pub(super) recruiting_actions: f64,
    /// Partners signed, and churned.
    pub(super) signed: f64,
    pub(super) churned: f64,
    /// Goal-metric revenue moved across a period end.
    pub(super) timing_volume: f64,
    /// Pull-in discounts granted.
    pub(super) discount: f64,
    /// Stock loaded beyond replenishment (for rebates or by the rep).
    pub(super) loaded: f64,
    /// Sell-in and sell-through (the goal and commission revenue are one or the other:
    /// [`SeatBooks::goal_revenue`], [`SeatBooks::commission_revenue`]).
    pub(super) sell_in: f64,
    pub(super) sell_through: f64,
}

impl SeatBooks {
    /// A partner was served.
    pub(super) fn served(&mut self, s: &Service) {
        self.mandated += s.mandated;
        self.done += s.done;
        self.touches += s.touches;
    }

    /// A partner's deal timing, then its order, priced at `discount` (the seat's pull-in
    /// offer).
    pub(super) fn ordered(&mut self, timed: &Timed, order: &Order, discount: f64, plan: &Plan) {
        self.timing_volume += timed.moved;
        if plan.goal_on_sell_in {
            self.timing_volume += order.rep_loading;
        } else {
            self.discount += discount * timed.pulled;
        }
        self.loaded += order.rebate_loading + order.rep_loading;
        self.discount += discount * order.rep_loading;
    }

    /// A selling partner's sell-in and sell-through.
    pub(super) fn booked(&mut self, sell_in: f64, sell_through: f64) {
        self.sell_in += sell_in;
        self.sell_through += sell_through;
    }

    /// Goal-metric revenue booked: sell-in or sell-through as the plan measures goals.
    pub(super) fn goal_revenue(&self, plan: &Plan) -> f64 {
        if plan.goal_on_sell_in {
            self.sell_in
        } else {
            self.sell_through
        }
    }

    /// Revenue commission is paid on: sell-in or sell-through as the plan pays it.
    pub(super) fn commission_revenue(&self, plan: &Plan) -> f64 {
        if plan.commission_on_sell_in {
            self.sell_in
        } else {
            self.sell_through
        }
    }
}

/// Every running total of one run.
pub(super) struct Ledger {
    kpi: [f64; Kpi::COUNT],
    attainment: [u32; ATTAINMENT_BINS],
    rep_periods: f64,
    rep_periods_at_goal: f64,
    mandated_required: f64,
    mandated_done: f64,
    spike_sum: f64,
    spike_periods: f64,
    /// Goal-metric revenue of the current goal period, for its period-end spike.
    period_revenue: f64,
    monthly_sell_through: Vec<f64>,
    monthly_sell_in: Vec<f64>,
    margin_given: f64,
    detail: Detail,
    /// The month being simulated.
    month: MonthDetail,
    month_sell_in: f64,
    month_sell_through: f64,
    opening_inventory: f64,
    opening_churned: usize,
}

impl Ledger {
    /// An empty ledger for a run of `horizon` months opening on these seats and partners.
    pub(super) fn open(world: &World, reps: &[Rep], partners: &[Partner], horizon: usize) -> Self {
        Ledger {
            kpi: [0.0; Kpi::COUNT],
            attainment: [0; ATTAINMENT_BINS],
            rep_periods: 0.0,
            rep_periods_at_goal: 0.0,
            mandated_required: 0.0,
            mandated_done: 0.0,
            spike_sum: 0.0,
            spike_periods: 0.0,
            period_revenue: 0.0,
            monthly_sell_through: vec![0.0; horizon],
            monthly_sell_in: vec![0.0; horizon],
            margin_given: 0.0,
            detail: Detail {
                timing_volume: 0.0,
                goal_total: 0.0,
                months: Vec::with_capacity(horizon),
                seats: reps
                    .iter()
                    .map(|r| SeatOutcome {
                        capacity: r.baseline_monthly,
                        ..SeatOutcome::default()
                    })
                    .collect(),
                regions: world
                    .regions
                    .iter()
                    .map(|r| RegionOutcome {
                        backing: r.stated_backing,
                        ..RegionOutcome::default()
                    })
                    .collect(),
            },
            month: MonthDetail::default(),
            month_sell_in: 0.0,
            month_sell_through: 0.0,
            opening_inventory: partners.iter().map(|p| p.inventory).sum(),
            opening_churned: partners
                .iter()
                .filter(|p| p.stage == LifecycleStage::Churned)
                .count(),
        }
    }

    /// A revenue goal was set for a seat.
    pub(super) fn goal_set(&mut self, goal: f64) {
        self.detail.goal_total += goal;
    }

    /// A filled seat's month; `gave_up` when its rep judged a revenue goal out of reach.
    pub(super) fn filled_seat(&mut self, gave_up: bool) {
        self.month.filled_reps += 1.0;
        if gave_up {
            self.month.gave_up += 1.0;
        }
    }

    /// A rep left their seat.
    pub(super) fn rep_left(&mut self) {
        self.kpi[Kpi::RepAttrition.index()] += 1.0;
    }

    /// Seat `seat` of `region` has had its partners' month.
    pub(super) fn seat_done(&mut self, seat: usize, region: usize, books: &SeatBooks, plan: &Plan) {
        self.kpi[Kpi::PartnersSigned.index()] += books.signed;
        self.kpi[Kpi::PartnersChurned.index()] += books.churned;
        self.mandated_required += books.mandated;
        self.mandated_done += books.done;
        self.month.mandated_required += books.mandated;
        self.month.mandated_done += books.done;
        let region = &mut self.detail.regions[region];
        region.mandated_required += books.mandated;
        region.mandated_done += books.done;
        self.detail.timing_volume += books.timing_volume;
        self.kpi[Kpi::DiscountCost.index()] += books.discount;
        self.month.loaded += books.loaded;
        self.detail.seats[seat].revenue += books.goal_revenue(plan);
        self.month_sell_in += books.sell_in;
        self.month_sell_through += books.sell_through;
    }

    /// Every partner has had its month `t`.
    pub(super) fn partners_done(&mut self, t: usize, plan: &Plan) {
        self.monthly_sell_in[t] = self.month_sell_in;
        self.monthly_sell_through[t] = self.month_sell_through;
        self.kpi[Kpi::SellIn.index()] += self.month_sell_in;
        self.kpi[Kpi::SellThrough.index()] += self.month_sell_through;
        self.period_revenue += self.goal_metric(plan);
    }

    /// The month's goal-metric revenue.
    fn goal_metric(&self, plan: &Plan) -> f64 {
        if plan.goal_on_sell_in {
            self.month_sell_in
        } else {
            self.month_sell_through
        }
    }

    /// The KPI totals, for the settlement functions that add to them.
    pub(super) fn kpis_mut(&mut self) -> &mut [f64; Kpi::COUNT] {
        &mut self.kpi
    }

    /// Seat `seat`'s revenue past its goal in the period being settled.
    pub(super) fn post_goal(&mut self, seat: usize, revenue: f64) {
        self.detail.seats[seat].post_goal_revenue += revenue;
    }

    /// A filled seat's settled attainment.
    pub(super) fn attained(&mut self, attainment: f64) {
        self.attainment[attainment_bin(attainment)] += 1;
        self.rep_periods += 1.0;
        self.month.periods_settled += 1.0;
        if attainment >= 1.0 {
            self.rep_periods_at_goal += 1.0;
            self.month.periods_at_goal += 1.0;
        }
    }

    /// The goal period that began in `first_month` ends with month `t`: its last month
    /// against its monthly mean is one period-end spike (sim/MODEL.md §3.15).
    // MODEL.md §3.15
    pub(super) fn period_ended(&mut self, t: usize, first_month: usize, plan: &Plan) {
        let months = (t + 1 - first_month) as f64;
        let last = self.goal_metric(plan);
        if months > 1.0 && self.period_revenue > 0.0 {
            self.spike_sum += last / (self.period_revenue / months);
            self.spike_periods += 1.0;
        }
        self.period_revenue = 0.0;
    }

    /// Rebates owed on partner target periods that end this month (sim/MODEL.md §5.3).
    // MODEL.md §5.3
    pub(super) fn rebates(&mut self, partners: &[Partner], plan: &Plan) {
        for p in partners {
            if p.target > 0.0 && p.period_sell_in > 0.0 {
                let rate = plan.rebate_rate(p.period_sell_in / p.target);
                self.kpi[Kpi::RebateCost.index()] += rate * p.period_sell_in;
            }
        }
    }

    /// Month `t` is over: the partner margin above the reference is the vendor's cost
    /// (§5.5, month by month since a training round may change it), and the month's detail.
    /// `inventory` is the channel's stock at the month's end.
    pub(super) fn month_done(&mut self, inventory: f64, plan: &Plan, b: &Behaviour) {
        self.margin_given += (plan.partner_margin - REFERENCE_PARTNER_MARGIN)
            .max(-b.vendor_gross_margin)
            * self.month_sell_in;
        let mut month = std::mem::take(&mut self.month);
        month.inventory = inventory;
        month.kpis = self.kpi;
        self.detail.months.push(month);
        self.month_sell_in = 0.0;
        self.month_sell_through = 0.0;
    }

    /// The run's outcome: end-of-horizon KPIs and the ratios (sim/MODEL.md §6).
    // MODEL.md §6
    pub(super) fn finish(mut self, partners: &[Partner], b: &Behaviour) -> Outcome {
        let mut active = 0.0;
        let mut inventory = 0.0;
        for p in partners {
            if p.stage.is_selling() {
                active += 1.0;
            }
            inventory += p.inventory;
        }
        let kpi = &mut self.kpi;
        // Stock-flow identity: what partners bought minus what they sold is what they hold.
        let flow = kpi[Kpi::SellIn.index()] - kpi[Kpi::SellThrough.index()];
        debug_assert!(
            (flow - (inventory - self.opening_inventory)).abs()
                <= 1e-6 * (1.0 + kpi[Kpi::SellIn.index()]),
            "sell-in − sell-through {flow} ≠ Δinventory {}",
            inventory - self.opening_inventory
        );
        debug_assert_eq!(
            (partners
                .iter()
                .filter(|p| p.stage == LifecycleStage::Churned)
                .count()
                - self.opening_churned) as f64,
            kpi[Kpi::PartnersChurned.index()],
            "churn count disagrees with the stages"
        );
        kpi[Kpi::PartnersActiveAtEnd.index()] = active;
        kpi[Kpi::ChannelInventoryAtEnd.index()] = inventory;
        kpi[Kpi::RepsAtGoal.index()] = ratio_or(self.rep_periods_at_goal, self.rep_periods, 0.0);
        kpi[Kpi::ProcessCompliance.index()] =
            ratio_or(self.mandated_done, self.mandated_required, 1.0);
        kpi[Kpi::PeriodEndSpike.index()] = ratio_or(self.spike_sum, self.spike_periods, 1.0);
        kpi[Kpi::MarginAfterIncentives.index()] = b.vendor_gross_margin * kpi[Kpi::SellIn.index()]
            - self.margin_given
            - kpi[Kpi::IncentiveCost.index()]
            - kpi[Kpi::RebateCost.index()]
            - kpi[Kpi::DiscountCost.index()];
        Outcome {
            kpis: self.kpi,
            attainment: self.attainment,
            monthly_sell_through: self.monthly_sell_through,
            monthly_sell_in: self.monthly_sell_in,
            detail: self.detail,
        }
    }
}

/// `num / den`, or `empty` when nothing was counted.
fn ratio_or(num: f64, den: f64, empty: f64) -> f64 {
    if den > 0.0 { num / den } else { empty }
}
