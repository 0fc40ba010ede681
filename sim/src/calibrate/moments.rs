//! Named moments of a channel's records (sim/MODEL.md §12.2).
//!
//! [`Moments::of`] reads the same figures from any records, the user's or records the
//! calibration synthesized at trial parameters, which is what makes the fit a method of
//! simulated moments: a parameter is moved until the records the model writes show what
//! the user's records show.

use std::collections::BTreeMap;

use chanlab_shared::{
    ActivityOutcome, Currency, LifecycleStage, Metric, Month, PartnerId, Period, PeriodLength,
    Quantity, RegionId, RepId, Scope, Tier,
};

use crate::from_records::Records;
use crate::model::SpecDemands;
use crate::params::Behaviour;

/// The months the moments are read over, the currency and the spec's demands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) first: Month,
    pub(crate) last: Month,
    pub(crate) currency: Currency,
}

impl Window {
    pub(crate) fn months(&self) -> usize {
        (self.first.months_until(self.last) + 1).max(0) as usize
    }
    fn index(&self, m: Month) -> Option<usize> {
        let i = self.first.months_until(m);
        (0..self.months() as i32).contains(&i).then_some(i as usize)
    }
}

/// The within-period profile of a channel's sell-through: month k of a calendar goal
/// period over the period's monthly mean, averaged over complete periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// One factor per month of the period, first to last.
    pub factors: Vec<f64>,
    /// Complete periods behind them.
    pub periods: u32,
}

impl Profile {
    /// The profile of monthly channel totals `channel` starting at `first`, for goal periods
    /// of `period_months`; `None` for monthly periods or without a complete period.
    pub fn of_channel(channel: &[f64], first: Month, period_months: u32) -> Option<Profile> {
        let period = period_length(period_months);
        let p = period.months() as usize;
        if p <= 1 {
            return None;
        }
        let mut sums = vec![0.0; p];
        let mut periods = 0u32;
        let mut i = 0usize;
        while i < channel.len() {
            let month = first.plus(i as i32)?;
            let pos = Period::containing(month, period)
                .first()
                .months_until(month) as usize;
            if pos == 0 && i + p <= channel.len() {
                let months = &channel[i..i + p];
                let mean = months.iter().sum::<f64>() / p as f64;
                if mean > 0.0 {
                    for (k, v) in months.iter().enumerate() {
                        sums[k] += v / mean;
                    }
                    periods += 1;
                }
                i += p;
            } else {
                i += 1;
            }
        }
        (periods > 0).then(|| Profile {
            factors: sums.iter().map(|s| s / f64::from(periods)).collect(),
            periods,
        })
    }

    /// The factor of `month`'s position in its period.
    pub fn factor(&self, month: Month) -> f64 {
        let period = period_length(self.factors.len() as u32);
        let pos = Period::containing(month, period)
            .first()
            .months_until(month) as usize;
        self.factors.get(pos).copied().unwrap_or(1.0).max(0.05)
    }

    /// The last month's factor.
    pub fn last(&self) -> f64 {
        self.factors.last().copied().unwrap_or(1.0)
    }

    /// The first month's factor.
    pub fn first(&self) -> f64 {
        self.factors.first().copied().unwrap_or(1.0)
    }
}

/// Counts behind a rate: events over exposure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Rate {
    pub(crate) events: f64,
    pub(crate) exposure: f64,
}

/// One partner's recent level, deseasonalised by the within-period profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PartnerLevel {
    pub(crate) level: f64,
    /// Standard error of the level, same units.
    pub(crate) se: f64,
    pub(crate) months: u32,
}

/// Everything read off one set of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Moments {
    /// The within-period profile of channel sell-through.
    pub(crate) profile: Option<Profile>,
    /// Sell-in / sell-through in the last month of partner target periods, minus the same
    /// ratio in the other months.
    pub(crate) loading: Option<f64>,
    /// Pooled sd of partners' log change from one block of goal periods to the next, net
    /// of the channel's change.
    pub(crate) dispersion_partner: Option<f64>,
    /// Sd of the log change of channel sell-through from one block to the next.
    pub(crate) dispersion_market: Option<f64>,
    /// Recorded revenue attainment: mean, sd, share at or above 1, periods.
    pub(crate) attainment: Option<(f64, f64, f64, u32)>,
    /// Per region: (weighted touches, own touches expected, full-compliance touches) over
    /// its selling partner-months.
    pub(crate) touches: BTreeMap<RegionId, (f64, f64, f64)>,
    /// Rep departures by consecutive misses before the month (0, 1, 2, 3+).
    pub(crate) departures: [Rate; 4],
    /// At-risk partners churning, per at-risk month.
    pub(crate) churn: Rate,
    /// Negotiations signed among those resolved (events = signed, exposure = resolved).
    pub(crate) signing: Rate,
    /// Negotiations resolved per negotiating month.
    pub(crate) resolution: Rate,
    /// Negotiations opened per seat-month with prospects.
    pub(crate) opened: Rate,
    /// Per partner, its level.
    pub(crate) levels: BTreeMap<PartnerId, PartnerLevel>,
    /// Channel sell-through per month of the window.
    pub(crate) channel: Vec<f64>,
}

impl Moments {
    /// Reads the moments of `records` over `window`.
    pub(crate) fn of(records: &Records<'_>, window: Window, b: &Behaviour) -> Moments {
        let rules = &records.baseline.rules;
        let demands = SpecDemands::of(rules, b);
        let period = period_length(demands.period_months);
        let target = period_length(demands.target_period_months);
        let w = window.months();
        let mut m = Moments {
            channel: vec![0.0; w],
            ..Moments::default()
        };
        let mut sell_in = vec![0.0; w];
        let mut series: BTreeMap<PartnerId, Vec<Option<f64>>> = BTreeMap::new();
        for s in records
            .sales
            .iter()
            .filter(|s| s.sell_through().currency() == window.currency)
        {
            if let Some(i) = window.index(s.month()) {
                let st = s.sell_through().to_major_f64();
                m.channel[i] += st;
                sell_in[i] += s.sell_in().to_major_f64();
                series
                    .entry(s.partner_id())
                    .or_insert_with(|| vec![None; w])[i] = Some(st);
            }
        }
        m.profile = Profile::of_channel(&m.channel, window.first, demands.period_months);
        m.loading = loading(window, target, &m.channel, &sell_in, demands.has_rebates);
        m.read_dispersion(window, period, &series);
        m.read_levels(window, period, &series);
        m.attainment = attainment(records, window);
        m.read_touches(records, window, &demands, b, &series);
        m.read_departures(records, window);
        m.read_stages(records, window);
        m
    }

    /// The profile factor of month `month` (1 without a profile).
    pub(crate) fn factor(&self, month: Month) -> f64 {
        self.profile.as_ref().map_or(1.0, |p| p.factor(month))
    }

    /// Dispersion over blocks of whole goal periods (quarters for monthly or yearly goals),
    /// so deals moved inside a period by timing games do not count as noise.
    fn read_dispersion(
        &mut self,
        window: Window,
        period: PeriodLength,
        series: &BTreeMap<PartnerId, Vec<Option<f64>>>,
    ) {
        let block = match period {
            PeriodLength::Quarter | PeriodLength::HalfYear => period,
            _ => PeriodLength::Quarter,
        };
        let len = block.months() as usize;
        // Complete blocks inside the window: their first index.
        let mut starts = Vec::new();
        let mut t = 0usize;
        while t < window.months() {
            let month = window.first.plus(t as i32).expect("inside the window");
            if Period::containing(month, block).first() == month && t + len <= window.months() {
                starts.push(t);
                t += len;
            } else {
                t += 1;
            }
        }
        let total = |s: &[Option<f64>], start: usize| -> Option<f64> {
            let mut sum = 0.0;
            for v in &s[start..start + len] {
                sum += (*v)?;
            }
            (sum > 0.0).then_some(sum)
        };
        let mut by_block: Vec<Vec<f64>> = vec![Vec::new(); starts.len()];
        for s in series.values() {
            for k in 1..starts.len() {
                if let (Some(a), Some(b)) = (total(s, starts[k - 1]), total(s, starts[k])) {
                    by_block[k].push(b.ln() - a.ln());
                }
            }
        }
        let (mut sum, mut n, mut groups) = (0.0, 0usize, 0usize);
        for d in by_block.iter().filter(|d| d.len() >= 2) {
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            sum += d.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
            n += d.len();
            groups += 1;
        }
        if n > groups + 1 {
            self.dispersion_partner = Some((sum / (n - groups) as f64).sqrt());
        }
        let channel: Vec<f64> = starts
            .iter()
            .map(|&s| self.channel[s..s + len].iter().sum::<f64>())
            .filter(|v| *v > 0.0)
            .map(f64::ln)
            .collect();
        if channel.len() >= 4 {
            let d: Vec<f64> = channel.windows(2).map(|x| x[1] - x[0]).collect();
            self.dispersion_market = Some(sd(&d));
        }
    }

    fn read_levels(
        &mut self,
        window: Window,
        period: PeriodLength,
        series: &BTreeMap<PartnerId, Vec<Option<f64>>>,
    ) {
        // The recent level: the last whole goal periods' worth of months (at least six),
        // each divided by its month's profile factor, so where the history ends inside a
        // period does not move it.
        let recent = (period.months() as usize).max(6);
        for (id, s) in series {
            let points: Vec<(f64, f64)> = s
                .iter()
                .enumerate()
                .rev()
                .filter_map(|(t, v)| v.map(|v| (t, v)))
                .take(recent)
                .map(|(t, v)| {
                    let month = window.first.plus(t as i32).expect("inside the window");
                    (v, self.factor(month))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let n = points.len() as f64;
            // A ratio of sums (see from_records): the plain mean over whole periods.
            let level = points.iter().map(|p| p.0).sum::<f64>()
                / points.iter().map(|p| p.1).sum::<f64>().max(1e-9);
            let values: Vec<f64> = points.iter().map(|p| p.0 / p.1).collect();
            let se = if values.len() >= 2 {
                sd(&values) / n.sqrt()
            } else {
                level * 0.3
            };
            self.levels.insert(
                *id,
                PartnerLevel {
                    level,
                    se,
                    months: values.len() as u32,
                },
            );
        }
    }

    fn read_touches(
        &mut self,
        records: &Records<'_>,
        window: Window,
        demands: &SpecDemands,
        b: &Behaviour,
        series: &BTreeMap<PartnerId, Vec<Option<f64>>>,
    ) {
        let mut touches: BTreeMap<PartnerId, f64> = BTreeMap::new();
        for a in records.activities {
            if a.outcome == ActivityOutcome::Completed
                && Month::of_date(a.date).is_ok_and(|m| window.index(m).is_some())
            {
                *touches.entry(a.partner_id).or_default() += crate::model::touch_weight(a.kind);
            }
        }
        for p in records.partners {
            let Some(s) = series.get(&p.id) else { continue };
            let months = s.iter().filter(|v| v.is_some()).count() as f64;
            let tier = match p.tier {
                Tier::A => 0,
                Tier::B => 1,
                Tier::C => 2,
            };
            let own = b.own_touches.get(p.tier) * months;
            let full = demands.mandated_touches[tier].max(b.own_touches.get(p.tier)) * months;
            let e = self.touches.entry(p.region_id).or_default();
            e.0 += touches.get(&p.id).copied().unwrap_or(0.0);
            e.1 += own;
            e.2 += full;
        }
    }

    fn read_departures(&mut self, records: &Records<'_>, window: Window) {
        // Each rep's settled periods in order: attainment < 1 is a miss.
        let mut periods: BTreeMap<RepId, Vec<(Month, bool)>> = BTreeMap::new();
        for a in records.assessments {
            if let (Scope::Rep(rep), Some(att)) = (a.scope(), revenue_attainment(a)) {
                periods
                    .entry(rep)
                    .or_default()
                    .push((a.period().last(), att < 1.0));
            }
        }
        for p in periods.values_mut() {
            p.sort_by_key(|x| x.0);
        }
        for rep in records.reps {
            let Some(history) = periods.get(&rep.id) else {
                continue;
            };
            let hired = Month::of_date(rep.hired_on).unwrap_or(window.first);
            let left = rep.left_on.and_then(|d| Month::of_date(d).ok());
            let first = hired.max(window.first);
            let last = left.unwrap_or(window.last).min(window.last);
            let mut month = first;
            while month <= last {
                // Consecutive misses among periods that ended before this month.
                let mut misses = 0usize;
                for (_, missed) in history.iter().filter(|x| x.0 < month) {
                    misses = if *missed { misses + 1 } else { 0 };
                }
                let k = misses.min(3);
                self.departures[k].exposure += 1.0;
                if left == Some(month) {
                    self.departures[k].events += 1.0;
                }
                let Some(next) = month.plus(1) else { break };
                month = next;
            }
        }
    }

    fn read_stages(&mut self, records: &Records<'_>, window: Window) {
        let mut changes: BTreeMap<PartnerId, Vec<(Month, LifecycleStage, LifecycleStage)>> =
            BTreeMap::new();
        for c in records.stage_changes {
            if let Ok(m) = Month::of_date(c.on) {
                changes
                    .entry(c.partner_id)
                    .or_default()
                    .push((m, c.from, c.to));
            }
        }
        for list in changes.values_mut() {
            list.sort_by_key(|x| x.0);
        }
        let mut opened_by_region: BTreeMap<RegionId, f64> = BTreeMap::new();
        for p in records.partners {
            let list = changes.get(&p.id).map(Vec::as_slice).unwrap_or(&[]);
            // The stage at the window's start: the first move on or after it starts from
            // there; without one, the stage after the last earlier move (or now).
            let mut stage = list
                .iter()
                .find(|x| x.0 >= window.first)
                .map(|x| x.1)
                .or_else(|| list.iter().rev().find(|x| x.0 < window.first).map(|x| x.2))
                .unwrap_or(p.stage());
            for t in 0..window.months() {
                let month = window.first.plus(t as i32).expect("inside the window");
                let moves: Vec<_> = list.iter().filter(|x| x.0 == month).collect();
                match stage {
                    LifecycleStage::AtRisk => {
                        let recovered = moves.iter().any(|x| x.2 == LifecycleStage::Active);
                        if !recovered {
                            self.churn.exposure += 1.0;
                        }
                    }
                    LifecycleStage::Negotiating => self.resolution.exposure += 1.0,
                    _ => {}
                }
                for &&(_, from, to) in &moves {
                    match (from, to) {
                        (LifecycleStage::AtRisk, LifecycleStage::Churned) => {
                            self.churn.events += 1.0
                        }
                        (LifecycleStage::Negotiating, LifecycleStage::Contracted) => {
                            self.signing.events += 1.0;
                            self.signing.exposure += 1.0;
                            self.resolution.events += 1.0;
                        }
                        (LifecycleStage::Negotiating, LifecycleStage::Lost) => {
                            self.signing.exposure += 1.0;
                            self.resolution.events += 1.0;
                        }
                        (LifecycleStage::Prospect, LifecycleStage::Negotiating) => {
                            *opened_by_region.entry(p.region_id).or_default() += 1.0;
                        }
                        _ => {}
                    }
                    stage = to;
                }
            }
        }
        // Seat-months of reps in regions with prospects to recruit.
        let with_prospects: Vec<RegionId> = records
            .partners
            .iter()
            .filter(|p| {
                p.stage() == LifecycleStage::Prospect
                    || changes
                        .get(&p.id)
                        .is_some_and(|l| l.iter().any(|x| x.1 == LifecycleStage::Prospect))
            })
            .map(|p| p.region_id)
            .collect();
        for rep in records.reps {
            if !with_prospects.contains(&rep.region_id) {
                continue;
            }
            let hired = Month::of_date(rep.hired_on).unwrap_or(window.first);
            let left = rep.left_on.and_then(|d| Month::of_date(d).ok());
            let first = hired.max(window.first);
            let last = left.unwrap_or(window.last).min(window.last);
            self.opened.exposure += f64::from((first.months_until(last) + 1).max(0));
        }
        self.opened.events = opened_by_region.values().sum();
    }
}

fn loading(
    window: Window,
    target: PeriodLength,
    sell_through: &[f64],
    sell_in: &[f64],
    has_rebates: bool,
) -> Option<f64> {
    if !has_rebates || target.months() <= 1 {
        return None;
    }
    let (mut end, mut other) = (Vec::new(), Vec::new());
    for t in 0..sell_through.len() {
        if sell_through[t] <= 0.0 {
            continue;
        }
        let month = window.first.plus(t as i32).expect("inside the window");
        let ratio = sell_in[t] / sell_through[t];
        if Period::containing(month, target).last() == month {
            end.push(ratio);
        } else {
            other.push(ratio);
        }
    }
    (!end.is_empty() && !other.is_empty()).then(|| mean(&end) - mean(&other))
}

fn attainment(records: &Records<'_>, window: Window) -> Option<(f64, f64, f64, u32)> {
    let values: Vec<f64> = records
        .assessments
        .iter()
        .filter(|a| window.index(a.period().last()).is_some())
        .filter_map(revenue_attainment)
        .collect();
    if values.len() < 4 {
        return None;
    }
    let at_goal = values.iter().filter(|v| **v >= 1.0).count() as f64 / values.len() as f64;
    Some((mean(&values), sd(&values), at_goal, values.len() as u32))
}

/// A scorecard's revenue attainment (its sell-through or sell-in key link).
fn revenue_attainment(a: &chanlab_shared::Assessment) -> Option<f64> {
    a.results()
        .iter()
        .find(|r| matches!(r.metric, Metric::SellThrough | Metric::SellIn))
        .and_then(|r| match (r.target, r.actual) {
            (Quantity::Amount(t), Quantity::Amount(a)) if t.to_major_f64() > 0.0 => {
                Some(a.to_major_f64() / t.to_major_f64())
            }
            _ => None,
        })
}

pub(crate) fn period_length(months: u32) -> PeriodLength {
    match months {
        0 | 1 => PeriodLength::Month,
        2 | 3 => PeriodLength::Quarter,
        4..=6 => PeriodLength::HalfYear,
        _ => PeriodLength::Year,
    }
}

pub(crate) fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

pub(crate) fn sd(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}
