//! The mutable state of one spec's simulation: reps and partners as the month loop sees them.

use chanlab_shared::LifecycleStage;

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
    pub(super) tier: usize,
    pub(super) stage: LifecycleStage,
    pub(super) potential: f64,
    pub(super) engagement: f64,
    pub(super) responsiveness: f64,
    pub(super) inventory: f64,
    pub(super) forecast: f64,
    pub(super) months_selling: f64,
    pub(super) onboarding_left: u32,
    pub(super) carry: f64,
    pub(super) target: f64,
    pub(super) period_sell_in: f64,
}
