//! The records' evidence over time (sim/MODEL.md §12, "Windows", "Level" and "Owed
//! deals"): each partner's sales history and recent level, the activity log's weighted
//! touches, the channel's within-period profile and what its last period end left owed.

use std::collections::{BTreeSet, HashMap};

use chanlab_shared::{Activity, ActivityOutcome, Month, PartnerId, RepId, SalesRecord};

use super::{Options, SALES_WINDOW_MONTHS, TOUCH_WINDOW_MONTHS, TREND_MIN_MONTHS};

/// The months the records are read over, ending at the as-of month.
pub(super) struct Windows {
    /// The last month of history used; `None` when there is no sales record.
    pub(super) as_of: Option<Month>,
    /// First month of the sales window.
    pub(super) sales_first: Option<Month>,
    /// First month of the activity window.
    pub(super) touch_first: Option<Month>,
}

impl Windows {
    /// sim/MODEL.md §12 "Windows": the as-of month M is the chosen one or the latest month
    /// with a sales record; sales history is the [`SALES_WINDOW_MONTHS`] ending at M, the
    /// activity log the [`TOUCH_WINDOW_MONTHS`] ending at M.
    pub(super) fn of(options: &Options, sales: &[&SalesRecord], notes: &mut Vec<String>) -> Self {
        let as_of = options
            .as_of
            .or_else(|| sales.iter().map(|s| s.month()).max());
        let sales_first = as_of.and_then(|m| m.plus(-(SALES_WINDOW_MONTHS as i32 - 1)));
        let touch_first = as_of.and_then(|m| m.plus(-(TOUCH_WINDOW_MONTHS as i32 - 1)));
        if as_of.is_none() {
            notes.push(
                "no sales records: every potential is its tier's default and every engagement the model's default".to_owned(),
            );
        }
        Self {
            as_of,
            sales_first,
            touch_first,
        }
    }
}

/// Which reps keep the activity log, and each partner's weighted touches in the window.
pub(super) struct ActivityLog {
    /// Reps with at least one completed activity in the window.
    pub(super) logging_reps: BTreeSet<RepId>,
    /// Weighted touches per partner over the whole window.
    touches: HashMap<PartnerId, f64>,
}

impl ActivityLog {
    /// sim/MODEL.md §12 "Windows" and "Engagement": the completed activities of the
    /// activity window, each weighted as the model weighs a touch (§5.6).
    pub(super) fn read(activities: &[Activity], windows: &Windows) -> Self {
        let in_touch_window = |a: &Activity| match (windows.touch_first, windows.as_of) {
            (Some(first), Some(last)) => {
                Month::of_date(a.date).is_ok_and(|m| first <= m && m <= last)
            }
            _ => false,
        };
        let mut logging_reps: BTreeSet<RepId> = BTreeSet::new();
        let mut touches: HashMap<PartnerId, f64> = HashMap::new();
        for a in activities.iter().filter(|a| in_touch_window(a)) {
            if a.outcome != ActivityOutcome::Completed {
                continue;
            }
            logging_reps.insert(a.rep_id);
            *touches.entry(a.partner_id).or_default() += crate::model::touch_weight(a.kind);
        }
        Self {
            logging_reps,
            touches,
        }
    }

    /// A partner's weighted touches a month over the window (none logged: 0).
    pub(super) fn touches_per_month(&self, partner: PartnerId) -> f64 {
        self.touches.get(&partner).copied().unwrap_or(0.0) / f64::from(TOUCH_WINDOW_MONTHS)
    }
}

/// Sales history of one partner in the window: `(offset from the window's first month,
/// sell-through)`.
pub(super) struct History {
    points: Vec<(f64, f64)>,
}

/// A partner's history summed up.
pub(super) struct Level {
    /// Mean monthly sell-through over the months with a record.
    pub(super) mean: f64,
    /// Least-squares trend as a share of the mean per month, from
    /// [`TREND_MIN_MONTHS`] months of history.
    pub(super) trend: Option<f64>,
    /// The recent level the potential is estimated from.
    pub(super) level: f64,
}

impl History {
    /// Months with a sales record in the window.
    pub(super) fn months(&self) -> u32 {
        self.points.len() as u32
    }

    /// The level: the mean of the last `months` months with a record (at least
    /// [`LEVEL_MONTHS`](super::LEVEL_MONTHS)), each divided by its month's within-period
    /// profile factor (so a history that ends on a quarter-end spike is not read as
    /// growth), and the least-squares trend for the report.
    pub(super) fn level(&self, factor: &dyn Fn(f64) -> f64, months: usize) -> Option<Level> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let mean = self.points.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let mut recent: Vec<(f64, f64)> = self.points.clone();
        recent.sort_by(|a, b| a.0.total_cmp(&b.0));
        let recent = &recent[recent.len().saturating_sub(months)..];
        // A ratio of sums, not a mean of ratios: over whole periods the factors sum to the
        // months, so the level is the plain mean, whatever each partner's own timing.
        let level = recent.iter().map(|p| p.1).sum::<f64>()
            / recent.iter().map(|p| factor(p.0)).sum::<f64>().max(1e-9);
        if n < TREND_MIN_MONTHS as usize {
            return Some(Level {
                mean,
                trend: None,
                level,
            });
        }
        let t_mean = self.points.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let sxx: f64 = self.points.iter().map(|p| (p.0 - t_mean).powi(2)).sum();
        let sxy: f64 = self
            .points
            .iter()
            .map(|p| (p.0 - t_mean) * (p.1 - mean))
            .sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        Some(Level {
            mean,
            trend: (mean > 0.0).then(|| slope / mean),
            level,
        })
    }
}

/// sim/MODEL.md §12 "Windows": each partner's sales in the [`SALES_WINDOW_MONTHS`] ending
/// at the as-of month.
pub(super) fn histories(
    sales: &[&SalesRecord],
    window_first: Option<Month>,
) -> HashMap<PartnerId, History> {
    let mut histories: HashMap<PartnerId, History> = HashMap::new();
    if let Some(first) = window_first {
        for s in sales {
            let offset = first.months_until(s.month());
            if (0..SALES_WINDOW_MONTHS as i32).contains(&offset) {
                histories
                    .entry(s.partner_id())
                    .or_insert(History { points: Vec::new() })
                    .points
                    .push((f64::from(offset), s.sell_through().to_major_f64()));
            }
        }
    }
    histories
}

/// sim/MODEL.md §12 "Level": the channel's within-period profile over the sales window,
/// when it holds a complete goal period.
pub(super) fn channel_profile(
    sales: &[&SalesRecord],
    window_first: Option<Month>,
    period_months: u32,
) -> (Vec<f64>, Option<crate::calibrate::Profile>) {
    let Some(first) = window_first else {
        return (Vec::new(), None);
    };
    let mut channel = vec![0.0; SALES_WINDOW_MONTHS as usize];
    for s in sales {
        let i = first.months_until(s.month());
        if (0..SALES_WINDOW_MONTHS as i32).contains(&i) {
            channel[i as usize] += s.sell_through().to_major_f64();
        }
    }
    let profile = crate::calibrate::Profile::of_channel(&channel, first, period_months);
    (channel, profile)
}

/// sim/MODEL.md §12 "Owed deals": what the channel still owes from deals pulled into its
/// last period end, as a share of its monthly level: the excess of channel sell-through
/// over the level from the last period end to the as-of month, at most `max_pull_in`.
pub(crate) fn owed_share(
    channel: &[f64],
    window_first: Option<Month>,
    as_of: Option<Month>,
    period_months: u32,
    level: f64,
    max_pull_in: f64,
) -> f64 {
    let (Some(first), Some(as_of)) = (window_first, as_of) else {
        return 0.0;
    };
    if period_months <= 1 || level <= 0.0 {
        return 0.0;
    }
    let length = crate::calibrate::period_length(period_months);
    let period = chanlab_shared::Period::containing(as_of, length);
    let last_end = if period.last() == as_of {
        as_of
    } else {
        match period.first().plus(-1) {
            Some(m) => m,
            None => return 0.0,
        }
    };
    let mut excess = 0.0;
    let mut m = last_end;
    while m <= as_of {
        let i = first.months_until(m);
        let Some(&c) = usize::try_from(i).ok().and_then(|i| channel.get(i)) else {
            return 0.0;
        };
        excess += c / level - 1.0;
        match m.plus(1) {
            Some(next) => m = next,
            None => break,
        }
    }
    excess.clamp(0.0, max_pull_in)
}
