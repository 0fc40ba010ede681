//! A partner slot's month (sim/MODEL.md §3.8–§3.13), one function per mechanism: the
//! pipeline before service, service touches, demand and deal timing, orders and inventory,
//! engagement, stage and churn. Each reads the partner, the month's terms and what its seat
//! chose, and returns what happened; the month loop books it in the ledger.

use chanlab_shared::{LifecycleStage, Tier};

use super::plan::{ByTier, Plan};
use super::rep::Choice;
use super::state::Partner;
use crate::params::Behaviour;

/// Engagement a newly activated partner starts with above the floor, before onboarding
/// trainings (sim/MODEL.md §3.8).
pub(super) const ACTIVATION_ENGAGEMENT: f64 = 0.2;
/// Weights of last month's forecast and of this month's natural demand in the next forecast
/// (sim/MODEL.md §3.11: partners forecast by exponential smoothing). Two constants rather
/// than `1 − w`, which is not 0.3 in floating point.
pub(super) const FORECAST_WEIGHT_OLD: f64 = 0.7;
pub(super) const FORECAST_WEIGHT_NEW: f64 = 0.3;
/// A partner loading for a rebate step buys this much more than the step exactly, so that
/// rounding cannot leave it just below (sim/MODEL.md §3.11).
pub(super) const REBATE_STEP_MARGIN: f64 = 1.001;
/// Half a month: stock loaded for a rebate is held, on average, half a month longer than the
/// months its forecast takes to sell it (sim/MODEL.md §3.11).
pub(super) const UNWIND_EXTRA_MONTHS: f64 = 0.5;

/// What a seat's choice means for each of its partners this month.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeatMonth {
    /// The rep's choice (a vacant seat's is attention only).
    pub(super) choice: Choice,
    /// Whether the seat is filled this month.
    pub(super) filled: bool,
    /// Pull-in as a share of the month's expected revenue.
    pub(super) pull: f64,
    /// Push-out as a share of the month's expected revenue.
    pub(super) push: f64,
    /// Chance a prospect of the seat enters negotiation this month.
    pub(super) conversion: f64,
    /// attention^β: the demand response every partner of the seat gets.
    pub(super) response: f64,
}

/// The terms of month `t` every partner shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct MonthTerms {
    /// The market multiplier.
    pub(super) market: f64,
    /// Engagement a partner keeps with no attention, at this plan's partner margin.
    pub(super) floor: f64,
    /// Months left in the partner target period, this one included.
    pub(super) target_months_left: f64,
    /// The target period ends this month: rebates settle, partners may load for them.
    pub(super) last_target_month: bool,
    /// Months simulated after this one (what a pull-in can borrow from).
    pub(super) months_after: f64,
}

/// Moves a slot that is not selling along its pipeline (sim/MODEL.md §3.8): a prospect may
/// enter negotiation, a negotiation resolves as signed or lost, a contracted partner
/// activates. Returns whether the partner is selling and so served this month.
// MODEL.md §3.8
pub(super) fn pipeline(
    p: &mut Partner,
    conversion: f64,
    u: f64,
    plan: &Plan,
    b: &Behaviour,
    m: &MonthTerms,
) -> bool {
    match p.stage {
        LifecycleStage::Active | LifecycleStage::AtRisk => return true,
        LifecycleStage::Prospect => {
            if u < conversion {
                p.stage = LifecycleStage::Negotiating;
            }
        }
        LifecycleStage::Negotiating => {
            let resolve = 1.0 / b.negotiation_months;
            if u < resolve * b.signing_probability {
                p.stage = LifecycleStage::Contracted;
            } else if u < resolve {
                p.stage = LifecycleStage::Lost;
            }
        }
        LifecycleStage::Contracted => {
            p.stage = LifecycleStage::Active;
            p.set_months_selling(0.0, b);
            p.onboarding_left = plan.onboarding_months;
            p.engagement = (m.floor
                + ACTIVATION_ENGAGEMENT
                + plan.onboarding_trainings * b.engagement_per_training)
                .min(1.0);
            p.forecast = p.potential * p.engagement * p.ramp;
            // A target for what is left of the current target period.
            p.target = (1.0 + b.partner_target_growth) * p.forecast * m.target_months_left;
        }
        LifecycleStage::Churned | LifecycleStage::Lost => {}
    }
    false
}

/// A served partner's touches this month (sim/MODEL.md §3.9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Service {
    /// Weighted touches received, onboarding visits included.
    pub(super) touches: f64,
    /// Mandated touches for its tier.
    pub(super) mandated: f64,
    /// Of those, carried out.
    pub(super) done: f64,
}

/// The compliant share of a rep's partners of `tier` get the mandated cadence (or more, if
/// the rep would do more anyway); the rest get what the rep does unprompted, `own_touches`
/// at normal effort (sim/MODEL.md §3.9). A vacant seat's partners get no touches. The same
/// for every partner of the tier but for onboarding visits ([`TierService::to`]), so the
/// month loop works it out once per seat and tier ([`SeatService`]), not per partner-month.
// MODEL.md §3.9
pub(super) fn service(seat: &SeatMonth, plan: &Plan, tier: Tier, own_touches: f64) -> TierService {
    let mandated = plan.mandated_touches[tier];
    let unprompted = own_touches * seat.choice.effort;
    let (touches, done, onboarding) = if seat.filled {
        let c = seat.choice.compliance;
        (
            c * mandated.max(unprompted) + (1.0 - c) * unprompted,
            c * mandated + (1.0 - c) * unprompted.min(mandated),
            plan.onboarding_visits,
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    TierService {
        base: Service {
            touches,
            mandated,
            done,
        },
        onboarding,
        target: f64::NAN,
    }
}

/// A seat's service to one tier's partners this month (§3.9) and the engagement it earns a
/// partner not onboarding (§3.12).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TierService {
    /// The service without onboarding visits.
    base: Service,
    /// Onboarding visits an onboarding partner gets on top (none from a vacant seat).
    onboarding: f64,
    /// [`engagement_target`] of a partner not onboarding; set by [`SeatService::of`].
    target: f64,
}

impl TierService {
    /// The service partner `p` of this tier gets: onboarding visits added while it is
    /// onboarding (and +0, which changes no touch count, while not).
    #[inline]
    pub(super) fn to(&self, p: &Partner) -> Service {
        let onboarding = if p.onboarding_left > 0 {
            self.onboarding
        } else {
            0.0
        };
        Service {
            touches: self.base.touches + onboarding,
            ..self.base
        }
    }

    /// The engagement partner `p` of this tier moves toward (§3.12), `service` being what
    /// [`TierService::to`] gave it.
    #[inline]
    pub(super) fn target(&self, p: &Partner, service: &Service, half: f64, floor: f64) -> f64 {
        if p.onboarding_left > 0 {
            engagement_target(service.touches, half, floor)
        } else {
            self.target
        }
    }
}

/// A seat's [`TierService`] for each tier this month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SeatService(pub(super) ByTier<TierService>);

impl SeatService {
    /// Seat `seat`'s service under `plan`, with `own` the rep's unprompted touches and
    /// `half` the touches for half the engagement above `floor`, per tier.
    pub(super) fn of(
        seat: &SeatMonth,
        plan: &Plan,
        own: &ByTier<f64>,
        half: &ByTier<f64>,
        floor: f64,
    ) -> Self {
        SeatService(ByTier(Tier::ALL.map(|tier| {
            let mut s = service(seat, plan, tier, own[tier]);
            // A partner not onboarding gets base touches + 0: the target it would compute.
            s.target = engagement_target(s.base.touches + 0.0, half[tier], floor);
            s
        })))
    }
}

/// A partner's natural demand this month: potential × engagement × ramp × market × noise ×
/// attention^β (sim/MODEL.md §3.10).
// MODEL.md §3.10
pub(super) fn natural_demand(p: &Partner, market: f64, noise: f64, response: f64) -> f64 {
    p.potential * p.engagement * p.ramp * market * noise * response
}

/// What deal timing made of a month's demand (sim/MODEL.md §3.10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Timed {
    /// What the partner sells on.
    pub(super) sell_through: f64,
    /// Sell-through pulled forward (goals on sell-through).
    pub(super) pulled: f64,
    /// Stock the rep asks the partner to load (goals on sell-in), before its storage limit.
    pub(super) loading: f64,
    /// Share of the order the rep holds back to the next period (goals on sell-in).
    pub(super) held_back: f64,
    /// Goal-metric revenue moved across the period end (the detail's timing volume).
    pub(super) moved: f64,
}

/// Deals pulled in earlier are missing now; what this month cannot absorb stays missing next
/// month (a pull-in can reach further than one month ahead). Goals on sell-in time orders
/// (loading, holding back); goals on sell-through time the deals themselves, and what is still
/// owed (−carry) never exceeds `max_pull_in` months of demand nor what the months left in the
/// horizon can repay, so timing only moves revenue (sim/MODEL.md §3.10).
// MODEL.md §3.10
pub(super) fn deal_timing(
    p: &mut Partner,
    seat: &SeatMonth,
    natural: f64,
    plan: &Plan,
    b: &Behaviour,
    months_after: f64,
) -> Timed {
    let mut demand = natural + p.carry;
    p.carry = demand.min(0.0);
    demand = demand.max(0.0);
    if plan.goal_on_sell_in {
        return Timed {
            sell_through: demand,
            pulled: 0.0,
            loading: seat.pull * p.forecast,
            held_back: seat.push,
            moved: seat.push * sell_in_before_timing(p, b, natural),
        };
    }
    let room = (b.max_pull_in * natural).min(months_after * natural) + p.carry;
    let pulled = (seat.pull * natural).min(room.max(0.0));
    // Push out a share of what would sell now, so sell-through stays ≥ 0.
    let pushed = seat.push * demand;
    demand += pulled - pushed;
    p.carry += pushed - pulled;
    Timed {
        sell_through: demand,
        pulled,
        loading: 0.0,
        held_back: 0.0,
        moved: pulled + pushed,
    }
}

/// What a partner would order this month before any deal timing: its sell-through plus the
/// replenishment toward normal cover (the base a rep's push-out holds back a share of).
fn sell_in_before_timing(p: &Partner, b: &Behaviour, natural: f64) -> f64 {
    let forecast = smoothed_forecast(p.forecast, natural);
    (natural + b.replenish_speed * (b.cover_months * forecast - p.inventory)).max(0.0)
}

fn smoothed_forecast(forecast: f64, natural: f64) -> f64 {
    FORECAST_WEIGHT_OLD * forecast + FORECAST_WEIGHT_NEW * natural
}

/// A partner's order this month (sim/MODEL.md §3.11).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Order {
    /// What the partner bought: its sell-in.
    pub(super) sell_in: f64,
    /// Of it, stock bought to reach a rebate step.
    pub(super) rebate_loading: f64,
    /// Of it, stock the rep pushed on the partner (after its storage limit).
    pub(super) rep_loading: f64,
}

/// Orders replenish toward normal cover, load for a rebate step, take what the rep pushes up
/// to the partner's storage, and never leave stock negative (sim/MODEL.md §3.11). Updates the
/// partner's forecast, inventory and period sell-in.
// MODEL.md §3.11
pub(super) fn order(
    p: &mut Partner,
    timed: &Timed,
    natural: f64,
    plan: &Plan,
    b: &Behaviour,
    last_target_month: bool,
) -> Order {
    let sell_through = timed.sell_through;
    p.forecast = smoothed_forecast(p.forecast, natural);
    let normal_stock = b.cover_months * p.forecast;
    let mut order = (sell_through + b.replenish_speed * (normal_stock - p.inventory)).max(0.0);
    order *= 1.0 - timed.held_back;
    let mut rebate_loading = 0.0;
    if last_target_month && p.target > 0.0 {
        rebate_loading = rebate_loading_for(p, plan, b, order, sell_through);
        order += rebate_loading;
    }
    // Stock a rep pushes on a partner stops where the partner's storage does.
    let room = (b.max_cover_months * p.forecast - (p.inventory + order - sell_through)).max(0.0);
    let rep_loading = timed.loading.min(room);
    order += rep_loading;
    order = order.max(sell_through - p.inventory);
    p.inventory += order - sell_through;
    debug_assert!(p.inventory >= -1e-6, "negative inventory {}", p.inventory);
    p.period_sell_in += order;
    Order {
        sell_in: order,
        rebate_loading,
        rep_loading,
    }
}

/// Extra stock a partner orders in the last month of its target period to reach the next
/// rebate step, when the rebate gained is worth more than holding the stock.
fn rebate_loading_for(
    p: &Partner,
    plan: &Plan,
    b: &Behaviour,
    order: f64,
    sell_through: f64,
) -> f64 {
    let sell_in = p.period_sell_in + order;
    let attainment = sell_in / p.target;
    let current = plan.rebate_rate(attainment);
    let Some(next) = plan.rebates.iter().find(|r| r.at_attainment > attainment) else {
        return 0.0;
    };
    let (step, rate) = (next.at_attainment, next.rate);
    let extra = step * p.target * REBATE_STEP_MARGIN - sell_in;
    let room = b.max_cover_months * p.forecast - (p.inventory + order - sell_through);
    if extra <= 0.0 || extra > room || p.forecast <= 0.0 {
        return 0.0;
    }
    let gain = rate * (sell_in + extra) - current * sell_in;
    let months_to_unwind = extra / p.forecast + UNWIND_EXTRA_MONTHS;
    let cost = b.holding_cost * extra * months_to_unwind;
    if gain * p.responsiveness > cost {
        extra
    } else {
        0.0
    }
}

/// The engagement `touches` earn: `floor` with none, halfway from there to 1 at `half`
/// touches (sim/MODEL.md §3.12).
// MODEL.md §3.12
#[inline]
pub(super) fn engagement_target(touches: f64, half: f64, floor: f64) -> f64 {
    floor + (1.0 - floor) * touches / (touches + half)
}

/// Engagement moves toward `target`, what the attention earns ([`engagement_target`]), less
/// the pressure of stock a rep pushed on the partner (sim/MODEL.md §3.12).
// MODEL.md §3.12
#[inline]
pub(super) fn engagement(p: &mut Partner, target: f64, rep_loading: f64, b: &Behaviour) {
    p.engagement += b.engagement_speed * (target - p.engagement);
    if rep_loading > 0.0 && p.forecast > 0.0 {
        p.engagement -= b.pressure_penalty * rep_loading / p.forecast;
    }
    p.engagement = p.engagement.clamp(0.0, 1.0);
}

/// An active partner whose engagement fell below the threshold is at risk; an at-risk one
/// recovers above the higher threshold or may churn (sim/MODEL.md §3.13). Returns whether it
/// churned. The partner ages by a month.
// MODEL.md §3.13
pub(super) fn stage_and_churn(p: &mut Partner, u: f64, b: &Behaviour) -> bool {
    let mut churned = false;
    match p.stage {
        LifecycleStage::Active if p.engagement < b.at_risk_below => {
            p.stage = LifecycleStage::AtRisk
        }
        LifecycleStage::AtRisk if p.engagement > b.recovered_above => {
            p.stage = LifecycleStage::Active
        }
        LifecycleStage::AtRisk if u < b.churn_hazard_at_risk => {
            p.stage = LifecycleStage::Churned;
            churned = true;
        }
        _ => {}
    }
    p.age_a_month(b);
    p.onboarding_left = p.onboarding_left.saturating_sub(1);
    churned
}

#[cfg(test)]
#[path = "partner_tests.rs"]
mod tests;
