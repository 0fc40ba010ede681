//! Reading an experiment's measures from one replication's outcomes.

use super::{Measure, SeatGroup, SeatValue};
use crate::model::Outcome;

/// First and last fiscal month (1-based) of the mid-year reference in [`Measure::FiscalMonth`].
pub(super) const MID_YEAR: (usize, usize) = (4, 9);

/// The value of `measure` in `outcome`.
pub(super) fn value(measure: &Measure, outcome: &Outcome) -> f64 {
    match measure {
        Measure::Kpi { kpi } => outcome.get(*kpi),
        Measure::Share { of, per } => ratio(outcome.get(*of), outcome.get(*per)),
        Measure::FiscalMonth { month } => fiscal_month(&outcome.monthly_sell_through, *month),
        Measure::QuarterMonth { month, quarter } => {
            quarter_month(&outcome.monthly_sell_through, *month, *quarter)
        }
        Measure::Seats { group, value } => {
            let seats = &outcome.detail.seats;
            let mut order: Vec<usize> = (0..seats.len()).collect();
            // Highest capacity first; ties broken by seat order so the ranking is total.
            order.sort_by(|&a, &b| {
                seats[b]
                    .capacity
                    .total_cmp(&seats[a].capacity)
                    .then(a.cmp(&b))
            });
            let chosen: &[usize] = match group {
                SeatGroup::All => &order,
                SeatGroup::TopQuintile => &order[..seats.len().div_ceil(5)],
                SeatGroup::BottomHalf => &order[seats.len() - seats.len() / 2..],
            };
            chosen
                .iter()
                .map(|&i| match value {
                    SeatValue::Revenue => seats[i].revenue,
                    SeatValue::PostGoalRevenue => seats[i].post_goal_revenue,
                })
                .sum()
        }
        Measure::TimingVolume => outcome.detail.timing_volume,
        Measure::GoalLevel => outcome.detail.goal_total,
        Measure::Compliance {
            backing_from,
            backing_to,
        } => {
            let (mut required, mut done) = (0.0, 0.0);
            for r in &outcome.detail.regions {
                if (*backing_from..=*backing_to).contains(&r.backing) {
                    required += r.mandated_required;
                    done += r.mandated_done;
                }
            }
            // No region in the band in this replication: nothing to say, and NaN keeps it
            // out of the mean (counted as non-finite) rather than pretending full compliance.
            if required > 0.0 {
                done / required
            } else {
                f64::NAN
            }
        }
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b != 0.0 { a / b } else { f64::NAN }
}

/// Revenue of fiscal month `month` relative to the mean month of months 4–9, over the
/// horizon's whole years (a partial last year is left out).
pub(super) fn fiscal_month(monthly: &[f64], month: u32) -> f64 {
    let years = monthly.len() / 12;
    let (mut at, mut mid) = (0.0, 0.0);
    for y in 0..years {
        let year = &monthly[12 * y..12 * y + 12];
        at += year[month as usize - 1];
        mid += year[MID_YEAR.0 - 1..MID_YEAR.1].iter().sum::<f64>();
    }
    let mid_months = (MID_YEAR.1 - MID_YEAR.0 + 1) as f64;
    ratio(at, mid / mid_months)
}

/// Revenue of month `month` (1–3) of the quarter relative to the quarter's mean month,
/// summed over the horizon's whole quarters (a partial last quarter is left out), or in
/// quarter `only` (1-based) alone; NaN when that quarter is not in the horizon.
pub(super) fn quarter_month(monthly: &[f64], month: u32, only: Option<u32>) -> f64 {
    let quarters = monthly.len() / 3;
    let (mut at, mut all) = (0.0, 0.0);
    for q in 0..quarters {
        if only.is_some_and(|k| k as usize != q + 1) {
            continue;
        }
        let quarter = &monthly[3 * q..3 * q + 3];
        at += quarter[month as usize - 1];
        all += quarter.iter().sum::<f64>();
    }
    ratio(at, all / 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fiscal_month_is_relative_to_the_middle_of_the_year() {
        let mut monthly = vec![100.0; 24];
        monthly[11] = 150.0;
        monthly[23] = 130.0;
        monthly[0] = 80.0;
        monthly[12] = 60.0;
        assert!((fiscal_month(&monthly, 12) - 1.4).abs() < 1e-12);
        assert!((fiscal_month(&monthly, 1) - 0.7).abs() < 1e-12);
        assert!((fiscal_month(&monthly, 6) - 1.0).abs() < 1e-12);
        // A partial year is ignored.
        monthly.push(1_000.0);
        assert!((fiscal_month(&monthly, 1) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn a_quarter_month_is_relative_to_the_quarter_mean() {
        let mut monthly = vec![80.0, 100.0, 120.0, 70.0, 100.0, 130.0];
        assert!((quarter_month(&monthly, 3, None) - 1.25).abs() < 1e-12);
        assert!((quarter_month(&monthly, 1, None) - 0.75).abs() < 1e-12);
        assert!((quarter_month(&monthly, 2, None) - 1.0).abs() < 1e-12);
        // One quarter alone.
        assert!((quarter_month(&monthly, 1, Some(2)) - 0.7).abs() < 1e-12);
        assert!(quarter_month(&monthly, 1, Some(3)).is_nan());
        // A partial quarter is ignored.
        monthly.push(1_000.0);
        assert!((quarter_month(&monthly, 1, None) - 0.75).abs() < 1e-12);
    }
}
