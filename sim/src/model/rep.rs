//! A rep's monthly choices: effort, compliance with mandated activities, time on
//! recruiting, and period-end deal timing.
//!
//! Compliance and recruiting follow simple rules driven by what is measured and whether the
//! regional manager backs the process. Effort is chosen by comparing, over a grid, expected
//! pay plus the value of a committed goal against the cost of effort and (under a ratchet)
//! the next goal's rise. See sim/MODEL.md for the equations and their sources.

use super::plan::Plan;
use crate::params::Behaviour;

/// Effort levels tried on the coarse grid, from the lowest to the highest in
/// `Behaviour::effort_range` (§3.6): fine enough that the refinement around the best point
/// lands within a fortieth of the range.
pub(crate) const GRID: usize = 11;
/// The refinements tried around the coarse grid's best point, in grid steps, in order (§3.6).
pub(crate) const REFINEMENTS: [f64; 4] = [-0.5, 0.5, -0.25, 0.25];
/// A candidate effort replaces the best so far only if its utility is higher by more than
/// this, so ties (and rounding noise) go to the lower effort (§3.6).
pub(crate) const STRICT_IMPROVEMENT: f64 = 1e-9;
/// Least share of the month left to selling, however much recruiting and mandated touches
/// ask for: a rep always sells some (§3.4).
pub(crate) const SELLING_TIME_FLOOR: f64 = 0.2;
/// Share of recruiting time kept in a period's last month when recruiting is unmeasured and
/// the rep is short of a revenue goal: recruiting waits (§3.4).
pub(crate) const RECRUITING_WHEN_SHORT: f64 = 0.5;
/// Least perceived standard deviation of revenue, so that a reach probability at zero
/// expected revenue is a step, not 0/0 (§3.5, §3.6).
pub(crate) const MIN_PERCEIVED_SD: f64 = 1e-9;
/// Least revenue weight divided by when converting a goal level to revenue, so that a goal
/// without a revenue part does not divide by zero (§3.5).
pub(crate) const MIN_REVENUE_WEIGHT: f64 = 1e-9;
/// Likelihood at full effort from which a goal level becomes the operative goal (§3.5).
pub(crate) const OPERATIVE_LIKELIHOOD: f64 = 0.5;
/// A rep pulls in enough to clear a threshold by this factor, not to land on it (§3.7).
pub(crate) const THRESHOLD_MARGIN: f64 = 1.01;
/// Share of the month's revenue that an accelerator's higher rate applies to when crossed by
/// a pull-in: the month's revenue above the start, on average half (§3.7).
pub(crate) const ACCELERATOR_GAIN_SHARE: f64 = 0.5;

/// What the rep sees of one bonus window (§3.6, §5.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WindowView {
    /// Goal-metric revenue so far in the window.
    pub(crate) done: f64,
    /// Months left in the window, this one included.
    pub(crate) months_left: u32,
    /// The window's goal: the goal accrued so far plus goal/L per month left.
    pub(crate) goal: f64,
}

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

/// What a rep knows when choosing this month.
pub(crate) struct Situation<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) behaviour: &'a Behaviour,
    /// Expected monthly goal-metric revenue at normal attention (the rep's own estimate).
    pub(crate) revenue_at_normal: f64,
    pub(crate) skill: f64,
    pub(crate) ramp: f64,
    pub(crate) backing: f64,
    /// Mandated touches per month at full compliance, and the rep's own at normal effort.
    pub(crate) mandated_touches: f64,
    pub(crate) own_touches: f64,
    pub(crate) has_prospects: bool,
    /// The period's 100% revenue goal (0 when goals are not on revenue).
    pub(crate) goal: f64,
    /// Goal-metric revenue so far this period.
    pub(crate) achieved: f64,
    /// Months left in the period, this one included.
    pub(crate) months_left: u32,
    /// Attainment from activities and recruiting (already weighted), projected to period end.
    pub(crate) other_attainment: f64,
    /// Consecutive missed periods.
    pub(crate) misses: u32,
    /// Whether another goal period follows this one within the horizon.
    pub(crate) more_periods: bool,
    /// What the rep sees of each bonus's window, in the plan's bonus order.
    pub(crate) windows: &'a [WindowView],
}

/// The rep's choices for the month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Choice {
    pub(crate) effort: f64,
    pub(crate) compliance: f64,
    pub(crate) recruiting: f64,
    /// Share of the month given to selling, relative to normal.
    pub(crate) attention: f64,
    /// Goal-metric revenue pulled in from next month (≥ 0).
    pub(crate) pull_in: f64,
    /// Goal-metric revenue pushed out to next month (≥ 0).
    pub(crate) push_out: f64,
    /// Price discount granted on the pulled-in revenue, as a share of it: deals due further
    /// ahead need more (§3.7).
    pub(crate) pull_discount: f64,
    /// Expected goal-metric revenue this month at the chosen effort, before timing.
    pub(crate) expected_revenue: f64,
    /// Commitment to the operative goal, 0..1 (below ½: the rep judges it out of reach).
    pub(crate) commitment: f64,
}

/// The rep's choices for the month (sim/MODEL.md §3.3–3.7).
pub(crate) fn choose(s: &Situation<'_>) -> Choice {
    let b = s.behaviour;
    let plan = s.plan;
    let compliance = compliance(plan, b, s.backing);
    let measured_recruiting = (plan.goal_weights.recruiting + plan.assessed_recruiting).min(1.0);
    let mut recruiting = if s.has_prospects {
        b.recruiting_share
            + (b.recruiting_share_if_measured - b.recruiting_share) * measured_recruiting
    } else {
        0.0
    };
    if s.months_left == 1 && measured_recruiting == 0.0 && s.goal > 0.0 && s.achieved < s.goal {
        // Short of a revenue goal at period end, recruiting waits.
        recruiting *= RECRUITING_WHEN_SHORT;
    }
    let extra_touches = (compliance * s.mandated_touches - s.own_touches).max(0.0);
    let selling_share = (1.0 - recruiting - b.touch_time * extra_touches).max(SELLING_TIME_FLOOR);
    let normal_share = 1.0 - b.recruiting_share;
    let attention_per_effort = s.skill * s.ramp * selling_share / normal_share;

    let beta = b.selling_elasticity;
    let months_left = f64::from(s.months_left);
    let [lo, hi] = b.effort_range;
    let revenue = |x: f64| s.revenue_at_normal * (x * attention_per_effort).powf(beta);
    let w_rev = plan.goal_weights.revenue;
    let attainment = |total: f64| {
        if s.goal > 0.0 {
            w_rev * total / s.goal + s.other_attainment
        } else {
            s.other_attainment
        }
    };
    let sd_of =
        |r: f64, months: f64| (b.sales_uncertainty * r * months.sqrt()).max(MIN_PERCEIVED_SD);
    let reach = |total: f64, r: f64, months: f64, target: f64| {
        normal_cdf((total - target) / sd_of(r, months))
    };

    // The goal the rep works toward: the highest level still likely at full effort.
    let r_max = revenue(hi);
    let total_max = s.achieved + months_left * r_max;
    let level_target =
        |level: f64| (level - s.other_attainment) / w_rev.max(MIN_REVENUE_WEIGHT) * s.goal;
    let mut operative = plan.goal_levels[0];
    let mut p_operative = 0.0;
    for &level in &plan.goal_levels {
        let p = if s.goal > 0.0 && w_rev > 0.0 {
            reach(total_max, r_max, months_left, level_target(level))
        } else if s.other_attainment >= level {
            1.0
        } else {
            0.0
        };
        if level == plan.goal_levels[0] || p >= OPERATIVE_LIKELIHOOD {
            operative = level;
            p_operative = p;
        }
    }
    let commitment = (1.0 - b.commitment_loss_per_miss).powi(s.misses as i32)
        / (1.0 + (-(p_operative - b.commitment_midpoint) / b.commitment_spread).exp());

    let reference_pay = b.reference_pay_rate * s.revenue_at_normal;
    let period_value = reference_pay * f64::from(plan.period_months);
    let cost_scale = b.effort_cost * b.reference_pay_rate * beta * s.revenue_at_normal;
    let ratchet = if s.more_periods {
        plan.ratchets()
    } else {
        None
    };
    let att_now = attainment(s.achieved);

    let utility = |x: f64| -> f64 {
        let r = revenue(x);
        let total = s.achieved + months_left * r;
        let att = attainment(total);
        let mut pay = plan.commission(months_left * r, att_now, att);
        for (bonus, w) in plan.bonuses.iter().zip(s.windows) {
            let p = if w.goal > 0.0 && w_rev > 0.0 {
                let window_total = w.done + f64::from(w.months_left) * r;
                let target = (bonus.at_attainment - s.other_attainment) / w_rev * w.goal;
                reach(window_total, r, f64::from(w.months_left.max(1)), target)
            } else if s.other_attainment >= bonus.at_attainment {
                1.0
            } else {
                0.0
            };
            pay += bonus.amount * p;
        }
        let goal_term = b.goal_value * period_value * commitment * (att / operative).min(1.0);
        let cost = months_left * cost_scale * x * x / 2.0;
        let ratchet_term = match ratchet {
            Some((up, down)) if s.goal > 0.0 => {
                let gap = total - s.goal;
                let weight = if gap > 0.0 { up } else { down };
                b.ratchet_foresight * b.reference_pay_rate * (1.0 + b.goal_value) * weight * gap
            }
            _ => 0.0,
        };
        pay + goal_term - cost - ratchet_term
    };
    // A coarse grid, then a finer look around the best point.
    let step = (hi - lo) / (GRID - 1) as f64;
    let mut best = (f64::NEG_INFINITY, 1.0);
    let candidates = (0..GRID).map(|k| lo + step * k as f64);
    for x in candidates {
        let u = utility(x);
        if u > best.0 + STRICT_IMPROVEMENT {
            best = (u, x);
        }
    }
    let centre = best.1;
    for x in REFINEMENTS.map(|k| centre + k * step) {
        if (lo..=hi).contains(&x) {
            let u = utility(x);
            if u > best.0 + STRICT_IMPROVEMENT {
                best = (u, x);
            }
        }
    }
    let effort = best.1;
    let expected_revenue = revenue(effort);
    let Timing {
        pull_in,
        push_out,
        pull_discount,
    } = if s.months_left == 1 {
        timing(s, expected_revenue, operative)
    } else {
        Timing::default()
    };
    Choice {
        effort,
        compliance,
        recruiting,
        attention: effort * attention_per_effort,
        pull_in,
        push_out,
        pull_discount,
        expected_revenue,
        commitment,
    }
}

/// Share of mandated activities a rep carries out ("what gets measured gets done", scaled
/// by the regional manager's backing).
pub(crate) fn compliance(plan: &Plan, b: &Behaviour, backing: f64) -> f64 {
    (backing * plan.compliance_drive(b)).clamp(0.0, 1.0)
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

/// Last month of a period: pull deals due in the coming months in (at a discount) to cross a
/// threshold or to earn an accelerated rate, or push this month's out when they would earn
/// nothing now.
fn timing(s: &Situation<'_>, r: f64, operative: f64) -> Timing {
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
    // Thresholds the closable pipeline can reach that pay something when crossed.
    let reach = b.max_pull_in;
    let pipeline = closable(reach, reach) * r;
    let mut thresholds: Vec<(f64, f64)> = Vec::new(); // (revenue needed, gain)
    for &level in &plan.goal_levels {
        let need = to_revenue(level) * THRESHOLD_MARGIN - total;
        if need > 0.0 && need <= pipeline {
            let goal_gain = if level == operative {
                b.goal_value * b.reference_pay_rate * s.revenue_at_normal
            } else {
                0.0
            };
            thresholds.push((need, goal_gain));
        }
    }
    for (bonus, w) in plan.bonuses.iter().zip(s.windows) {
        if w.months_left == 1 && w.goal > 0.0 {
            let target = (bonus.at_attainment - s.other_attainment) / w_rev * w.goal;
            let need = target * THRESHOLD_MARGIN - (w.done + r);
            if need > 0.0 && need <= pipeline {
                thresholds.push((need, bonus.amount));
            }
        }
    }
    for a in &plan.accelerators {
        let need = to_revenue(a.from_attainment) * THRESHOLD_MARGIN - total;
        if need > 0.0 && need <= pipeline && a.multiplier > 1.0 {
            // The accelerated rate applies to the month's revenue above the start.
            let gain = plan.commission_rate * (a.multiplier - 1.0) * r * ACCELERATOR_GAIN_SHARE;
            thresholds.push((need, gain));
        }
    }
    // Pull in enough for every threshold whose gain beats the commission the rep loses on
    // the discount the pull-in takes (the vendor bears the discount itself).
    let mut pull = thresholds
        .iter()
        .filter(|&&(need, gain)| {
            let depth = depth_for(need / r, reach).unwrap_or(reach);
            let rate = plan.commission_rate * plan.multiplier(attainment(total + need));
            gain > rate * discount_at(depth, b) * need
        })
        .map(|&(need, _)| need)
        .fold(0.0, f64::max);
    // Already in an accelerated band with another period to come: a deal closed now earns
    // the accelerated rate on its discounted price, the same deal closed next period starts
    // at the base rate. Deals due further ahead need bigger discounts, so the rep reaches as
    // far as m_now·(1 − discount) > m_0: the stronger the accelerator, the deeper the pull
    // (Larkin's concentration of deals into favourable periods).
    let m_now = plan.multiplier(att);
    let m_next = plan.multiplier(0.0);
    if s.more_periods && m_now > m_next {
        let gain = 1.0 - m_next / m_now;
        let depth = if b.pull_in_discount > 0.0 {
            gain / b.pull_in_discount
        } else {
            reach
        };
        let room = plan
            .cap
            .map_or(f64::INFINITY, |cap| to_revenue(cap) - total)
            .max(0.0);
        pull = pull.max((closable(depth, reach) * r).min(room));
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

/// Standard normal CDF (Abramowitz & Stegun 7.1.26 for erfc; |error| < 1.5e-7).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        use super::super::plan::assert_documented;
        assert_documented("rep.rs::GRID", &[GRID as f64]);
        assert_documented("rep.rs::REFINEMENTS", &REFINEMENTS);
        assert_documented("rep.rs::STRICT_IMPROVEMENT", &[STRICT_IMPROVEMENT]);
        assert_documented("rep.rs::SELLING_TIME_FLOOR", &[SELLING_TIME_FLOOR]);
        assert_documented("rep.rs::RECRUITING_WHEN_SHORT", &[RECRUITING_WHEN_SHORT]);
        assert_documented("rep.rs::MIN_PERCEIVED_SD", &[MIN_PERCEIVED_SD]);
        assert_documented("rep.rs::MIN_REVENUE_WEIGHT", &[MIN_REVENUE_WEIGHT]);
        assert_documented("rep.rs::OPERATIVE_LIKELIHOOD", &[OPERATIVE_LIKELIHOOD]);
        assert_documented("rep.rs::THRESHOLD_MARGIN", &[THRESHOLD_MARGIN]);
        assert_documented("rep.rs::ACCELERATOR_GAIN_SHARE", &[ACCELERATOR_GAIN_SHARE]);
    }

    #[test]
    fn the_normal_cdf_matches_reference_values() {
        for (z, expected) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.96, 0.024_997_895),
            (3.0, 0.998_650_102),
        ] {
            assert!(
                (normal_cdf(z) - expected).abs() < 2e-7,
                "Φ({z}) = {}",
                normal_cdf(z)
            );
        }
    }
}
