//! Period-end timing (sim/MODEL.md §3.7): in a goal period's last month, pull deals due in
//! the coming months in (at a discount) to cross a threshold or to earn an accelerated rate,
//! or push this month's out when they would earn nothing now.

use super::rep::Situation;
use crate::params::Behaviour;

/// A rep pulls in enough to clear a threshold by this factor, not to land on it (§3.7).
pub(crate) const THRESHOLD_MARGIN: f64 = 1.01;
/// Share of the month's revenue that an accelerator's higher rate applies to when crossed by
/// a pull-in: the month's revenue above the start, on average half (§3.7).
pub(crate) const ACCELERATOR_GAIN_SHARE: f64 = 0.5;

/// The rep's period-end deal timing (§3.7).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Timing {
    /// Goal-metric revenue pulled in from next month (≥ 0).
    pub(crate) pull_in: f64,
    /// Goal-metric revenue pushed out to next month (≥ 0).
    pub(crate) push_out: f64,
    /// Discount on the pulled-in revenue, as a share of it.
    pub(crate) pull_discount: f64,
}

/// The closable pipeline (§3.7): of the deals due `s` months ahead, the share
/// `1 − s/reach` is far enough along to close now. Closing every closable deal due within
/// `depth` months pulls this much revenue, in months of revenue (at most `reach / 2`).
pub(crate) fn closable(depth: f64, reach: f64) -> f64 {
    if reach <= 0.0 {
        return 0.0;
    }
    let s = depth.clamp(0.0, reach);
    s - s * s / (2.0 * reach)
}

/// How far ahead a rep must reach to pull `volume` months of revenue, nearest deals first;
/// `None` when the closable pipeline holds less than that.
pub(crate) fn depth_for(volume: f64, reach: f64) -> Option<f64> {
    if volume <= 0.0 {
        return Some(0.0);
    }
    let filled = 2.0 * volume / reach;
    (reach > 0.0 && filled <= 1.0).then(|| reach * (1.0 - (1.0 - filled).sqrt()))
}

/// Discount a customer needs to sign now a deal due `depth` months ahead.
fn discount_at(depth: f64, b: &Behaviour) -> f64 {
    (b.pull_in_discount * depth).min(1.0)
}

/// A threshold a pull-in can cross: the revenue it needs and what crossing it pays.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Threshold {
    need: f64,
    gain: f64,
}

/// Last month of a period, at expected revenue `r` this month and operative goal level
/// `operative`: the pull-in, push-out and the offer's discount.
// MODEL.md §3.7
pub(crate) fn timing(s: &Situation<'_>, r: f64, operative: f64) -> Timing {
    let plan = s.plan;
    let b = s.behaviour;
    if s.goal <= 0.0 || plan.goal_weights.revenue <= 0.0 || r <= 0.0 {
        return Timing::default();
    }
    let w_rev = plan.goal_weights.revenue;
    let total = s.achieved + r;
    let to_revenue = |level: f64| (level - s.other_attainment) / w_rev * s.goal;
    let attainment = |revenue: f64| w_rev * revenue / s.goal + s.other_attainment;
    let att = attainment(total);
    // Past the cap, revenue now earns nothing: push it into the next period.
    if let Some(cap) = plan.cap
        && att >= cap
    {
        let excess = total - to_revenue(cap);
        return Timing {
            push_out: excess.clamp(0.0, b.max_push_out * r),
            ..Timing::default()
        };
    }
    let reach = b.max_pull_in;
    // Pull in enough for every threshold whose gain beats the commission the rep loses on
    // the discount the pull-in takes (the vendor bears the discount itself).
    let mut pull = thresholds(s, r, operative)
        .iter()
        .filter(|t| {
            let depth = depth_for(t.need / r, reach).unwrap_or(reach);
            let rate = plan.commission_rate * plan.multiplier(attainment(total + t.need));
            t.gain > rate * discount_at(depth, b) * t.need
        })
        .map(|t| t.need)
        .fold(0.0, f64::max);
    if s.more_periods {
        let room = plan
            .cap
            .map_or(f64::INFINITY, |cap| to_revenue(cap) - total)
            .max(0.0);
        pull = pull.max(band_pull(s, r, att, room));
    }
    if pull <= 0.0 {
        return Timing::default();
    }
    // One period-end offer: every customer pulled in gets the discount the furthest deal
    // needed, more than the nearer ones would have (Larkin: larger than needed to win them).
    let depth = depth_for(pull / r, reach).unwrap_or(reach);
    Timing {
        pull_in: pull,
        push_out: 0.0,
        pull_discount: discount_at(depth, b),
    }
}

/// Thresholds the closable pipeline can reach that pay something when crossed: goal levels
/// (the operative one pays the goal's value), bonuses whose window ends now, and
/// accelerators.
fn thresholds(s: &Situation<'_>, r: f64, operative: f64) -> Vec<Threshold> {
    let plan = s.plan;
    let b = s.behaviour;
    let w_rev = plan.goal_weights.revenue;
    let total = s.achieved + r;
    let to_revenue = |level: f64| (level - s.other_attainment) / w_rev * s.goal;
    let pipeline = closable(b.max_pull_in, b.max_pull_in) * r;
    let mut found = Vec::new();
    let mut consider = |need: f64, gain: f64| {
        if need > 0.0 && need <= pipeline {
            found.push(Threshold { need, gain });
        }
    };
    for &level in &plan.goal_levels {
        let goal_gain = if level == operative {
            b.goal_value * b.reference_pay_rate * s.revenue_at_normal
        } else {
            0.0
        };
        consider(to_revenue(level) * THRESHOLD_MARGIN - total, goal_gain);
    }
    for (bonus, w) in plan.bonuses.iter().zip(s.windows) {
        if w.months_left == 1 && w.goal > 0.0 {
            let target = (bonus.at_attainment - s.other_attainment) / w_rev * w.goal;
            consider(target * THRESHOLD_MARGIN - (w.done + r), bonus.amount);
        }
    }
    for a in &plan.accelerators {
        if a.multiplier > 1.0 {
            // The accelerated rate applies to the month's revenue above the start.
            let gain = plan.commission_rate * (a.multiplier - 1.0) * r * ACCELERATOR_GAIN_SHARE;
            consider(
                to_revenue(a.from_attainment) * THRESHOLD_MARGIN - total,
                gain,
            );
        }
    }
    found
}

/// Already in an accelerated band at attainment `att` with another period to come: a deal
/// closed now earns the accelerated rate on its discounted price, the same deal closed next
/// period starts at the base rate. Deals due further ahead need bigger discounts, so the rep
/// reaches as far as m_now·(1 − discount) > m_0: the stronger the accelerator, the deeper
/// the pull (Larkin's concentration of deals into favourable periods). The pull stays within
/// `room`, the revenue left below the cap.
fn band_pull(s: &Situation<'_>, r: f64, att: f64, room: f64) -> f64 {
    let plan = s.plan;
    let b = s.behaviour;
    let reach = b.max_pull_in;
    let m_now = plan.multiplier(att);
    let m_next = plan.multiplier(0.0);
    if m_now <= m_next {
        return 0.0;
    }
    let gain = 1.0 - m_next / m_now;
    let depth = if b.pull_in_discount > 0.0 {
        gain / b.pull_in_discount
    } else {
        reach
    };
    (closable(depth, reach) * r).min(room)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documented::assert_documented;
    use crate::model::plan::Plan;

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        assert_documented("timing.rs::THRESHOLD_MARGIN", &[THRESHOLD_MARGIN]);
        assert_documented(
            "timing.rs::ACCELERATOR_GAIN_SHARE",
            &[ACCELERATOR_GAIN_SHARE],
        );
    }

    fn flat_growth() -> Plan {
        // 3% commission, ×1.5 from 100% of goal, cap at 200%.
        crate::model::fixtures::plan("flat-growth")
    }

    /// A rep in a quarter's last month with 10,000 a month expected, `achieved` so far
    /// against a 30,000 goal.
    fn last_month<'a>(plan: &'a Plan, b: &'a Behaviour, achieved: f64) -> Situation<'a> {
        Situation {
            achieved,
            months_left: 1,
            ..crate::model::fixtures::situation(plan, b)
        }
    }

    #[test]
    fn a_rep_just_short_of_the_goal_pulls_in_enough_to_clear_it() {
        let plan = flat_growth();
        let b = Behaviour::default();
        // 18,000 + 10,000 this month: 2,000 short of 30,000.
        let t = timing(&last_month(&plan, &b, 18_000.0), 10_000.0, 1.0);
        let need = 30_000.0 * THRESHOLD_MARGIN - 28_000.0;
        assert!((t.pull_in - need).abs() < 1e-9, "pull-in {}", t.pull_in);
        assert_eq!(t.push_out, 0.0);
        let depth = depth_for(need / 10_000.0, b.max_pull_in).unwrap();
        assert!((t.pull_discount - b.pull_in_discount * depth).abs() < 1e-12);
    }

    #[test]
    fn past_the_cap_revenue_is_pushed_out_not_pulled_in() {
        let plan = flat_growth();
        let b = Behaviour::default();
        // 55,000 + 10,000 = 65,000, past the 200% cap of 60,000.
        let t = timing(&last_month(&plan, &b, 55_000.0), 10_000.0, 1.0);
        assert_eq!(t.pull_in, 0.0);
        assert!((t.push_out - (5_000.0f64).min(b.max_push_out * 10_000.0)).abs() < 1e-9);
    }

    #[test]
    fn inside_an_accelerated_band_the_rep_pulls_as_deep_as_the_gain_pays() {
        let plan = flat_growth();
        let b = Behaviour::default();
        // 30,000 + 10,000: at 133%, in the ×1.5 band, far below the cap.
        let t = timing(&last_month(&plan, &b, 30_000.0), 10_000.0, 1.0);
        let depth = (1.0 - 1.0 / 1.5) / b.pull_in_discount;
        assert!((t.pull_in - closable(depth, b.max_pull_in) * 10_000.0).abs() < 1e-9);
        // With no period to come the band pays nothing extra for pulling.
        let mut last = last_month(&plan, &b, 30_000.0);
        last.more_periods = false;
        assert_eq!(timing(&last, 10_000.0, 1.0), Timing::default());
    }
}
