//! Where a month falls in its goal period, bonus windows and partner target period
//! (sim/MODEL.md §1, §3.1).
//!
//! Periods of P months start where (t + anchor) mod P = 0, counted from the scenario's period
//! anchor, so a channel that starts mid-quarter starts with what is left of the quarter,
//! prorated like a period the horizon cuts short.

/// The horizon and the anchor periods are counted from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Calendar {
    /// Months from the period anchor to the first simulated month.
    pub(super) anchor: i64,
    /// Months simulated.
    pub(super) horizon: usize,
}

/// Month `t` in a goal period of `period` months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct GoalMonth {
    /// Months of the period before this one (0 in its first month).
    pub(super) month_in_period: usize,
    /// The period's first simulated month (a period cut by the start begins at 0).
    pub(super) first_month: usize,
    /// Months left in the period, this one included, within the horizon.
    pub(super) months_left: u32,
    /// The period's length within the horizon, months.
    pub(super) len: f64,
    /// Whether another period starts within the horizon after this one.
    pub(super) more_periods: bool,
    /// Goals are set this month.
    pub(super) starts: bool,
    /// The period is settled at the end of this month.
    pub(super) ends: bool,
}

/// Month `t` in a partner target period (sim/MODEL.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TargetMonth {
    /// Months left in the target period, this one included (not cut by the horizon: a target
    /// is set for the whole period).
    pub(super) months_left: f64,
    /// Targets are set this month.
    pub(super) starts: bool,
    /// Rebates are settled (and stock loaded for them) at the end of this month.
    pub(super) ends: bool,
}

impl Calendar {
    /// Months since the start of the current `period`-month period.
    pub(super) fn phase(&self, t: usize, period: usize) -> usize {
        (t as i64 + self.anchor).rem_euclid(period as i64) as usize
    }

    /// Month `t` of a goal period of `period` months (≥ 1).
    pub(super) fn goal_month(&self, t: usize, period: usize) -> GoalMonth {
        let month_in_period = self.phase(t, period);
        let period_start = t as i64 - month_in_period as i64;
        let first_month = period_start.max(0) as usize;
        let end = (period_start + period as i64).min(self.horizon as i64);
        GoalMonth {
            month_in_period,
            first_month,
            months_left: (period - month_in_period).min(self.horizon - t) as u32,
            len: (end - first_month as i64) as f64,
            more_periods: period_start + (period as i64) < self.horizon as i64,
            starts: month_in_period == 0 || t == 0,
            ends: month_in_period + 1 == period || self.is_last(t),
        }
    }

    /// Month `t` of a partner target period of `period` months (≥ 1).
    pub(super) fn target_month(&self, t: usize, period: usize) -> TargetMonth {
        let phase = self.phase(t, period);
        TargetMonth {
            months_left: (period - phase) as f64,
            starts: phase == 0 || t == 0,
            ends: phase + 1 == period || self.is_last(t),
        }
    }

    /// Months left in a bonus window of `window` months, this one included, within the
    /// horizon.
    pub(super) fn window_months_left(&self, t: usize, window: u32) -> u32 {
        let window = window as usize;
        (window - self.phase(t, window)).min(self.horizon - t) as u32
    }

    /// Whether a bonus window of `window` months is settled at the end of month `t`.
    pub(super) fn window_ends(&self, t: usize, window: u32) -> bool {
        let window = window as usize;
        self.phase(t, window) + 1 == window || self.is_last(t)
    }

    /// Whether `t` is the last simulated month: nothing to borrow from or push into after it.
    pub(super) fn is_last(&self, t: usize) -> bool {
        t + 1 == self.horizon
    }

    /// Months simulated after month `t`.
    pub(super) fn months_after(&self, t: usize) -> f64 {
        (self.horizon - t - 1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_that_starts_mid_quarter_starts_with_the_rest_of_the_quarter() {
        // Anchor one month before the start: month 0 is the quarter's second month.
        let c = Calendar {
            anchor: 1,
            horizon: 12,
        };
        let m = c.goal_month(0, 3);
        assert_eq!(m.month_in_period, 1);
        assert_eq!(m.months_left, 2);
        assert_eq!(m.len, 2.0);
        assert!(m.starts, "goals are set in the first simulated month");
        assert!(!m.ends);
        assert!(c.goal_month(1, 3).ends);
        assert!(c.goal_month(2, 3).starts);
    }

    #[test]
    fn the_horizon_cuts_the_last_period_short_and_settles_it() {
        let c = Calendar {
            anchor: 0,
            horizon: 10,
        };
        let m = c.goal_month(9, 3);
        assert_eq!((m.first_month, m.months_left, m.len), (9, 1, 1.0));
        assert!(m.ends && !m.more_periods);
        assert!(c.goal_month(3, 3).more_periods);
        assert_eq!(c.window_months_left(8, 12), 2);
        assert!(c.window_ends(9, 12));
        assert!(!c.window_ends(8, 12));
        assert_eq!(c.months_after(9), 0.0);
    }

    #[test]
    fn a_target_is_set_for_its_whole_period_even_when_the_horizon_ends_first() {
        let c = Calendar {
            anchor: 0,
            horizon: 4,
        };
        let m = c.target_month(3, 6);
        assert_eq!(m.months_left, 3.0);
        assert!(m.ends, "the horizon's last month settles the rebates");
        assert!(c.target_month(0, 6).starts);
        assert!(!c.target_month(1, 6).starts);
    }
}
