//! The mutable state of one spec's simulation: reps and partners as the month loop sees them
//! (sim/MODEL.md §2.2, §2.3), and how a run opens them from the replication's world.

use chanlab_shared::{LifecycleStage, Tier};

use super::world::World;
use crate::params::Behaviour;

/// Months a partner selling before the start counts as having sold: long past any ramp-up.
pub(super) const LONG_SELLING: f64 = 1e6;

/// A rep's seat: who sits in it and how their current goal period is going.
pub(super) struct Rep {
    pub(super) region: usize,
    pub(super) first: usize,
    pub(super) end: usize,
    pub(super) filled: bool,
    pub(super) vacancy_left: u32,
    pub(super) skill: f64,
    pub(super) tenure: f64,
    pub(super) knowledge: f64,
    pub(super) estimate: f64,
    pub(super) baseline_monthly: f64,
    pub(super) misses: u32,
    pub(super) goal: f64,
    pub(super) last_goal: f64,
    pub(super) last_actual: f64,
    pub(super) touch_target: f64,
    pub(super) recruit_target: f64,
    pub(super) achieved: f64,
    pub(super) commission_revenue: f64,
    pub(super) touches_done: f64,
    /// Recruiting calls made plus negotiations opened this period.
    pub(super) recruiting_actions: f64,
    /// Per bonus: (goal-metric revenue in window, goal accumulated over the window).
    pub(super) windows: Vec<(f64, f64)>,
}

/// A partner slot: its stage, engagement, stock and sell-in target.
pub(super) struct Partner {
    pub(super) rep: usize,
    pub(super) tier: Tier,
    pub(super) stage: LifecycleStage,
    pub(super) potential: f64,
    pub(super) engagement: f64,
    pub(super) responsiveness: f64,
    pub(super) inventory: f64,
    pub(super) forecast: f64,
    pub(super) months_selling: f64,
    /// `ramp(months_selling, partner_ramp_months)`, kept with `months_selling` so the month
    /// loop divides once per partner-month.
    pub(super) ramp: f64,
    pub(super) onboarding_left: u32,
    pub(super) carry: f64,
    pub(super) target: f64,
    pub(super) period_sell_in: f64,
}

impl Partner {
    /// Expected sell-through at normal attention before the market and noise: potential ×
    /// engagement × ramp-up (sim/MODEL.md §3.10).
    pub(super) fn run_rate(&self, b: &Behaviour) -> f64 {
        debug_assert_eq!(self.ramp, ramp(self.months_selling, b.partner_ramp_months));
        self.potential * self.engagement * self.ramp
    }

    /// Ages the partner by a month selling. Ramp-up only rises with months selling and stops
    /// at 1, so a partner already ramped up keeps 1 without the division.
    pub(super) fn age_a_month(&mut self, b: &Behaviour) {
        self.months_selling += 1.0;
        if self.ramp < 1.0 {
            self.ramp = ramp(self.months_selling, b.partner_ramp_months);
        }
        debug_assert_eq!(self.ramp, ramp(self.months_selling, b.partner_ramp_months));
    }

    /// Sets the months selling, and the ramp-up with it.
    pub(super) fn set_months_selling(&mut self, months: f64, b: &Behaviour) {
        self.months_selling = months;
        self.ramp = ramp(months, b.partner_ramp_months);
    }
}

/// Ramp-up from 1/ramp_months in the first month to 1 after `ramp_months` (sim/MODEL.md §7.3).
pub(super) fn ramp(months: f64, ramp_months: f64) -> f64 {
    if ramp_months <= 1.0 {
        1.0
    } else {
        ((months + 1.0) / ramp_months).min(1.0)
    }
}

/// The seats and partner slots as a run opens on `world` (sim/MODEL.md §2): partners selling
/// at the start hold normal cover and forecast their run rate; each seat's baseline is its
/// territory's run rate at its rep's attention, with the world's noise in last year's actual.
pub(super) fn open(world: &World, b: &Behaviour, bonuses: usize) -> (Vec<Rep>, Vec<Partner>) {
    let mut partners: Vec<Partner> = Vec::with_capacity(world.partners.len());
    let mut reps: Vec<Rep> = Vec::with_capacity(world.reps.len());
    for (j, r) in world.reps.iter().enumerate() {
        let attention = (r.skill * ramp(r.tenure, b.rep_ramp_months)).powf(b.selling_elasticity);
        let mut base = 0.0;
        for p in &world.partners[r.first..r.end] {
            let selling = p.stage.is_selling();
            let run_rate = p.potential * p.engagement;
            partners.push(Partner {
                rep: j,
                tier: p.tier,
                stage: p.stage,
                potential: p.potential,
                engagement: p.engagement,
                responsiveness: p.responsiveness,
                inventory: if selling {
                    b.cover_months * p.potential * p.engagement
                } else {
                    0.0
                },
                forecast: if selling { run_rate } else { 0.0 },
                months_selling: if selling { LONG_SELLING } else { 0.0 },
                ramp: ramp(
                    if selling { LONG_SELLING } else { 0.0 },
                    b.partner_ramp_months,
                ),
                onboarding_left: 0,
                carry: -p.owed,
                target: 0.0,
                period_sell_in: 0.0,
            });
            if selling {
                base += run_rate;
            }
        }
        reps.push(Rep {
            region: r.region as usize,
            first: r.first,
            end: r.end,
            filled: true,
            vacancy_left: 0,
            skill: r.skill,
            tenure: r.tenure,
            knowledge: r.knowledge,
            estimate: r.estimate,
            baseline_monthly: base * attention * r.baseline_noise,
            misses: 0,
            goal: 0.0,
            last_goal: 0.0,
            last_actual: 0.0,
            touch_target: 0.0,
            recruit_target: 0.0,
            achieved: 0.0,
            commission_revenue: 0.0,
            touches_done: 0.0,
            recruiting_actions: 0.0,
            windows: vec![(0.0, 0.0); bonuses],
        });
    }
    (reps, partners)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_rises_linearly_to_one() {
        assert_eq!(ramp(0.0, 4.0), 0.25);
        assert_eq!(ramp(2.0, 4.0), 0.75);
        assert_eq!(ramp(10.0, 4.0), 1.0);
        assert_eq!(ramp(0.0, 1.0), 1.0, "no ramp-up at one month or less");
    }
}
