//! Goal periods: setting each rep's goal when a period starts, projecting attainment during
//! it, and settling commission, bonuses and misses when it ends.

use super::outcome::Kpi;
use super::plan::{GoalRule, Plan};
use super::state::ramp;
use super::state::{Partner, Rep};
use crate::params::Behaviour;

/// Most an activity or recruiting component counts toward attainment, as a multiple of its
/// target, so over-delivering activities cannot stand in for a missed revenue goal (§4.9).
pub(crate) const ACTIVITY_ATTAINMENT_CAP: f64 = 2.0;
/// Pace assumed for an activity component in a period's first month, when there is none yet:
/// on track (§4.9).
pub(crate) const FIRST_MONTH_PACE: f64 = 1.0;
/// A scorecard's touch target per partner is at least this multiple of the rep's own touches,
/// so that the activity goal asks for more than the rep does unprompted (§4.8).
pub(crate) const SCORECARD_TOUCH_MARGIN: f64 = 1.1;
/// Least scorecard recruiting target per period, in recruiting actions, so that a seat with
/// little recruiting time still has a target to measure against (§4.8).
pub(crate) const SCORECARD_MIN_RECRUITING: f64 = 0.5;

/// Σ over the seat's selling partners of potential·engagement·ramp: its current run rate
/// (B of §3.2, before the rep's or manager's knowledge).
fn run_rate(partners: &[Partner], b: &Behaviour) -> f64 {
    partners
        .iter()
        .filter(|p| p.stage.is_selling())
        .map(|p| p.potential * p.engagement * ramp(p.months_selling, b.partner_ramp_months))
        .sum()
}

/// Σ over the seat's selling partners of potential·ramp: potential at full engagement.
fn raw_potential(partners: &[Partner], b: &Behaviour) -> f64 {
    partners
        .iter()
        .filter(|p| p.stage.is_selling())
        .map(|p| p.potential * ramp(p.months_selling, b.partner_ramp_months))
        .sum()
}

/// Sets the rep's goal for the period starting in month `t` (sim/MODEL.md §4), `len` months
/// long (truncated at the horizon) in a plan of `period`-month periods.
// MODEL.md §4
pub(super) fn set_goal(
    rep: &mut Rep,
    plan: &Plan,
    b: &Behaviour,
    partners: &[Partner],
    t: usize,
    period: usize,
    len: f64,
) {
    let seat = &partners[rep.first..rep.end];
    if rep.baseline_monthly <= 0.0 {
        // A seat that had nothing selling when the plan started (all prospects, or more
        // seats than partners) gets its baseline from its current run rate once it has one,
        // as a manager would base a goal on the first actuals.
        rep.baseline_monthly = run_rate(seat, b);
    }
    let baseline = rep.baseline_monthly * len;
    let years = (t / 12) as i32 + 1;
    // The manager's estimate of potential (§4.3), with the seat's persistent error.
    let potential = || raw_potential(seat, b) * rep.estimate * len;
    rep.touch_target = 0.0;
    rep.recruit_target = 0.0;
    rep.goal = match plan.goal {
        // §4.1, §4.6
        GoalRule::FlatGrowth { growth } | GoalRule::Tiered { growth } => {
            baseline * (1.0 + growth).powi(years)
        }
        GoalRule::Ratchet { growth, up, down } => {
            ratchet_goal(rep, (growth, up, down), t, period, len, baseline)
        }
        // §4.3
        GoalRule::PotentialBased { share } => share * potential(),
        GoalRule::Stretch { uplift } => stretch_goal(rep, b, seat, len, uplift),
        GoalRule::Participative {
            weight_on_proposal,
            share,
        } => {
            // §4.5: the rep's proposal knows engagement (with a small error) and is
            // sandbagged.
            let proposal = (1.0 - b.sandbagging) * (run_rate(seat, b) * rep.knowledge * len);
            weight_on_proposal * proposal + (1.0 - weight_on_proposal) * share * potential()
        }
        GoalRule::ActivityBased {
            touches_per_period,
            recruiting_per_period,
        } => {
            // §4.7: targets prorated to the period's length, no revenue goal.
            rep.touch_target = touches_per_period * len / period as f64;
            rep.recruit_target = recruiting_per_period * len / period as f64;
            0.0
        }
        GoalRule::Scorecard { growth } => {
            scorecard_targets(rep, plan, b, seat, len);
            baseline * (1.0 + growth).powi(years)
        }
    };
    // How much harder than the rule this channel's managers set goals (1 by default); a
    // ratchet carries it on through its last goal, so only its first goal is scaled.
    if !(matches!(plan.goal, GoalRule::Ratchet { .. }) && t > 0) {
        rep.goal *= b.goal_level_factor;
    }
    rep.achieved = 0.0;
    rep.commission_revenue = 0.0;
    rep.touches_done = 0.0;
    rep.recruiting_actions = 0.0;
}

/// The ratchet (`growth`, `up` and `down` weights): the first goal is the grown baseline,
/// later ones last goal moved toward last actual, then grown for a period.
// MODEL.md §4.2
fn ratchet_goal(
    rep: &Rep,
    (growth, up, down): (f64, f64, f64),
    t: usize,
    period: usize,
    len: f64,
    baseline: f64,
) -> f64 {
    let per_period = (1.0 + growth).powf(period as f64 / 12.0);
    if t == 0 {
        baseline * (1.0 + growth)
    } else {
        let gap = rep.last_actual - rep.last_goal;
        let w = if gap > 0.0 { up } else { down };
        ((rep.last_goal + w * gap) * per_period * len / period as f64).max(0.0)
    }
}

/// "Above what the territory is expected to deliver" means the expected level now, as the
/// manager estimates it (the portfolio's current run rate at this rep's skill and ramp), so
/// the uplift keeps its meaning as the channel moves.
// MODEL.md §4.4
fn stretch_goal(rep: &Rep, b: &Behaviour, seat: &[Partner], len: f64, uplift: f64) -> f64 {
    let attention = (rep.skill * ramp(rep.tenure, b.rep_ramp_months)).powf(b.selling_elasticity);
    run_rate(seat, b) * attention * len * (1.0 + uplift)
}

/// A balanced scorecard's activity and recruiting targets for a `len`-month period.
// MODEL.md §4.8
fn scorecard_targets(rep: &mut Rep, plan: &Plan, b: &Behaviour, seat: &[Partner], len: f64) {
    let mandated: f64 = seat
        .iter()
        .filter(|p| p.stage.is_selling())
        .map(|p| {
            let tier = p.tier;
            plan.mandated_touches[tier].max(b.own_touches.get(tier) * SCORECARD_TOUCH_MARGIN)
        })
        .sum();
    rep.touch_target = mandated * len;
    // Recruiting actions (calls plus negotiations opened) a rep makes when recruiting is
    // fully measured.
    rep.recruit_target =
        (b.calls_per_month * b.recruiting_share_if_measured * len).max(SCORECARD_MIN_RECRUITING);
}

/// Attainment from activities and recruiting, projecting the current pace to period end.
// MODEL.md §4.9
pub(super) fn projected_other_attainment(
    rep: &Rep,
    plan: &Plan,
    month_in_period: usize,
    months_left: u32,
) -> f64 {
    let elapsed = month_in_period as f64;
    let total = elapsed + f64::from(months_left);
    let pace = |done: f64| {
        if elapsed > 0.0 {
            done / elapsed * total
        } else {
            done
        }
    };
    let mut att = 0.0;
    let w = plan.goal_weights;
    if w.activities > 0.0 && rep.touch_target > 0.0 {
        // The first month has no pace yet: assume the rep is on track.
        let projected = if elapsed > 0.0 {
            pace(rep.touches_done) / rep.touch_target
        } else {
            FIRST_MONTH_PACE
        };
        att += w.activities * projected.min(ACTIVITY_ATTAINMENT_CAP);
    }
    if w.recruiting > 0.0 && rep.recruit_target > 0.0 {
        let projected = if elapsed > 0.0 {
            pace(rep.recruiting_actions) / rep.recruit_target
        } else {
            FIRST_MONTH_PACE
        };
        att += w.recruiting * projected.min(ACTIVITY_ATTAINMENT_CAP);
    }
    att
}

/// Attainment from activities and recruiting so far (targets are already prorated to the
/// period's length by [`set_goal`]).
fn other_attainment(rep: &Rep, plan: &Plan) -> f64 {
    let mut other = 0.0;
    let w = plan.goal_weights;
    if w.activities > 0.0 && rep.touch_target > 0.0 {
        other += w.activities * (rep.touches_done / rep.touch_target).min(ACTIVITY_ATTAINMENT_CAP);
    }
    if w.recruiting > 0.0 && rep.recruit_target > 0.0 {
        other += w.recruiting
            * (rep.recruiting_actions / rep.recruit_target).min(ACTIVITY_ATTAINMENT_CAP);
    }
    other
}

/// Pays commission for the period, records the miss or the hit; returns attainment, or
/// `None` when the seat had no goal it could be measured against (a revenue goal of zero:
/// nothing was selling when the goal was set), which then counts neither as a hit nor a miss.
// MODEL.md §3.15
pub(super) fn settle_period(
    rep: &mut Rep,
    plan: &Plan,
    kpi: &mut [f64; Kpi::COUNT],
) -> Option<f64> {
    let other = other_attainment(rep, plan);
    let revenue_att = if rep.goal > 0.0 {
        rep.achieved / rep.goal
    } else {
        0.0
    };
    let att = plan.goal_weights.revenue * revenue_att + other;
    // Commission is owed on revenue booked while the seat was filled (see run.rs).
    kpi[Kpi::IncentiveCost.index()] += plan.commission(rep.commission_revenue, other, att);
    let measurable = plan.goal_weights.revenue <= 0.0 || rep.goal > 0.0;
    if rep.filled && measurable {
        rep.misses = if att < 1.0 { rep.misses + 1 } else { 0 };
    }
    rep.last_goal = rep.goal;
    rep.last_actual = rep.achieved;
    measurable.then_some(att)
}

/// Pays bonus `k` if its window's attainment reached its level, and opens a new window. The
/// non-revenue part is the current goal period's (an approximation when a bonus window is
/// longer than the goal period).
// MODEL.md §5.2
pub(super) fn settle_bonus(rep: &mut Rep, plan: &Plan, k: usize, kpi: &mut [f64; Kpi::COUNT]) {
    let bonus = plan.bonuses[k];
    let (done, goal) = rep.windows[k];
    let revenue = if plan.goal_weights.revenue > 0.0 && goal > 0.0 {
        plan.goal_weights.revenue * done / goal
    } else {
        0.0
    };
    if rep.filled && revenue + other_attainment(rep, plan) >= bonus.at_attainment {
        kpi[Kpi::IncentiveCost.index()] += bonus.amount;
    }
    rep.windows[k] = (0.0, 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documented::assert_documented;

    /// A filled seat with no partners, a 30,000 goal and `achieved` of it.
    fn seat(achieved: f64) -> Rep {
        Rep {
            achieved,
            commission_revenue: achieved,
            windows: vec![(achieved, 30_000.0)],
            ..crate::model::fixtures::rep()
        }
    }

    fn flat_growth() -> Plan {
        crate::model::fixtures::plan("flat-growth")
    }

    #[test]
    fn the_ratchet_moves_the_next_goal_more_after_a_beat_than_after_a_miss() {
        let mut rep = seat(0.0);
        rep.last_goal = 30_000.0;
        let weights = (0.0, 0.8, 0.3);
        rep.last_actual = 40_000.0;
        let after_beat = ratchet_goal(&rep, weights, 3, 3, 3.0, 0.0);
        assert!((after_beat - 38_000.0).abs() < 1e-9, "{after_beat}");
        rep.last_actual = 20_000.0;
        let after_miss = ratchet_goal(&rep, weights, 3, 3, 3.0, 0.0);
        assert!((after_miss - 27_000.0).abs() < 1e-9, "{after_miss}");
        // The first period grows the baseline instead.
        assert_eq!(
            ratchet_goal(&rep, (0.1, 0.8, 0.3), 0, 3, 3.0, 30_000.0),
            33_000.0
        );
    }

    #[test]
    fn settling_a_period_pays_commission_and_counts_a_miss() {
        let plan = flat_growth(); // 3%, ×1.5 from 100%
        let mut kpi = [0.0; Kpi::COUNT];
        let mut short = seat(15_000.0);
        assert_eq!(settle_period(&mut short, &plan, &mut kpi), Some(0.5));
        assert_eq!(short.misses, 1);
        assert!((kpi[Kpi::IncentiveCost.index()] - 450.0).abs() < 1e-9);
        let mut made = seat(45_000.0);
        made.misses = 2;
        let mut kpi = [0.0; Kpi::COUNT];
        assert_eq!(settle_period(&mut made, &plan, &mut kpi), Some(1.5));
        assert_eq!(made.misses, 0, "a hit resets the misses");
        // 30,000 at 3% and 15,000 at 4.5%.
        assert!((kpi[Kpi::IncentiveCost.index()] - 1_575.0).abs() < 1e-9);
    }

    #[test]
    fn a_bonus_is_paid_only_when_its_window_reaches_its_level() {
        let mut plan = flat_growth();
        plan.bonuses = vec![crate::model::plan::Bonus {
            at_attainment: 1.0,
            amount: 2_000.0,
            window_months: 3,
        }];
        let mut kpi = [0.0; Kpi::COUNT];
        let mut short = seat(29_000.0);
        settle_bonus(&mut short, &plan, 0, &mut kpi);
        assert_eq!(kpi[Kpi::IncentiveCost.index()], 0.0);
        assert_eq!(short.windows[0], (0.0, 0.0), "a new window opens");
        let mut made = seat(30_000.0);
        settle_bonus(&mut made, &plan, 0, &mut kpi);
        assert_eq!(kpi[Kpi::IncentiveCost.index()], 2_000.0);
    }

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        assert_documented(
            "periods.rs::ACTIVITY_ATTAINMENT_CAP",
            &[ACTIVITY_ATTAINMENT_CAP],
        );
        assert_documented("periods.rs::FIRST_MONTH_PACE", &[FIRST_MONTH_PACE]);
        assert_documented(
            "periods.rs::SCORECARD_TOUCH_MARGIN",
            &[SCORECARD_TOUCH_MARGIN],
        );
        assert_documented(
            "periods.rs::SCORECARD_MIN_RECRUITING",
            &[SCORECARD_MIN_RECRUITING],
        );
    }
}
