//! The level (sim/MODEL.md §12.3): the recorded level corrected for deals moved across the
//! window's ends, and each region's opening level matched by simulation.

use super::*;

/// The channel's recent level, the sum of the partners' levels, corrected for deals moved
/// across the ends of the months it is read over: what the last period end pulled in from
/// after the window is taken out, what the period end before the window pulled out of its
/// first month is put back (sim/MODEL.md §12.3).
pub(super) fn timing_corrected_level(
    m: &Moments,
    window: Window,
    records: &Records<'_>,
    b: &Behaviour,
) -> f64 {
    let level: f64 = m.levels.values().map(|l| l.level).sum();
    let period = SpecDemands::of(&records.baseline.rules, b).period_months;
    if level <= 0.0 || period <= 1 {
        return level;
    }
    let recent = (period as usize).max(from_records::LEVEL_MONTHS as usize);
    let months = m.channel.len();
    let end = from_records::owed_share(
        &m.channel,
        Some(window.first),
        Some(window.last),
        period,
        level,
        b.max_pull_in.max(4.0),
    );
    let before = months.checked_sub(recent + 1).map_or(0.0, |i| {
        let month = window.first.plus(i as i32).expect("inside the window");
        let is_end = chanlab_shared::Period::containing(month, moments::period_length(period))
            .last()
            == month;
        if is_end {
            (m.channel[i] / level - 1.0).max(0.0)
        } else {
            0.0
        }
    });
    level * (1.0 + (before - end) / recent as f64)
}

/// Months over which the scenario's opening level is compared with the records'.
pub(super) const LEVEL_CHECK_MONTHS: u32 = 6;

/// Per region, the potential scale at which the scenario, run from the as-of state at the
/// estimates, sells the region's recorded recent level on average over its first
/// [`LEVEL_CHECK_MONTHS`] months (two fixed-point steps on common random numbers). The
/// partners' potentials were read as level / engagement, which leaves out the attention
/// they got in the records (vacant seats, new hires ramping, effort, backing); the model's
/// own attention at the start differs, and a forecast that starts off the recorded level is
/// biased from its first month. `level` is the channel's timing-corrected level; each
/// region's is its share of the partners' levels.
pub(super) fn match_level(
    records: Records<'_>,
    options: &from_records::Options,
    recorded: &Moments,
    level: f64,
    seed: u64,
) -> Result<BTreeMap<RegionId, f64>, CalibrateError> {
    let raw: f64 = recorded.levels.values().map(|l| l.level).sum();
    let mut target: Vec<f64> = vec![0.0; records.regions.len()];
    for p in records.partners {
        if let (Some(l), Some(r)) = (
            recorded.levels.get(&p.id),
            records.regions.iter().position(|r| r.id == p.region_id),
        ) && p.stage().is_selling()
        {
            target[r] += l.level;
        }
    }
    if raw <= 0.0 {
        return Ok(BTreeMap::new());
    }
    for t in target.iter_mut() {
        *t *= level / raw;
    }
    let mut o = options.clone();
    o.horizon_months = LEVEL_CHECK_MONTHS + 12;
    o.replications = 32;
    o.seed = seed;
    o.compare = Vec::new();
    let mut scale: BTreeMap<RegionId, f64> = records.regions.iter().map(|r| (r.id, 1.0)).collect();
    for _ in 0..2 {
        o.potential_scale = scale.clone();
        let built = from_records::build(records, &o)?;
        let scenario = &built.scenario;
        let specs = crate::model::CompiledSpecs::new(scenario);
        let regions = records.regions.len();
        let per_replication: Vec<Vec<f64>> = (0..u64::from(o.replications))
            .into_par_iter()
            .map(|i| {
                let mut by_region = RegionTotals {
                    months: LEVEL_CHECK_MONTHS as usize,
                    seat_region: Vec::new(),
                    totals: vec![0.0; regions],
                };
                crate::model::simulate_observed(scenario, &specs, 0, i, false, &mut by_region);
                by_region.totals
            })
            .collect();
        for (r, region) in records.regions.iter().enumerate() {
            let simulated = per_replication.iter().map(|v| v[r]).sum::<f64>()
                / (per_replication.len() as f64 * f64::from(LEVEL_CHECK_MONTHS));
            if simulated > 0.0 && target[r] > 0.0 {
                let s = scale.entry(region.id).or_insert(1.0);
                *s = (*s * target[r] / simulated).clamp(0.2, 5.0);
            }
        }
    }
    Ok(scale)
}

/// Sell-through per scenario region over the first months of a run.
pub(super) struct RegionTotals {
    pub(super) months: usize,
    pub(super) seat_region: Vec<usize>,
    pub(super) totals: Vec<f64>,
}

impl crate::model::Observer for RegionTotals {
    const WANTS_OPENING: bool = true;
    fn opening(&mut self, seats: &[crate::model::SeatStart], _: &[crate::model::SlotStart]) {
        self.seat_region = seats.iter().map(|s| s.region).collect();
    }
    fn partner_month(&mut self, month: usize, _: usize, e: &crate::model::PartnerMonth) {
        if month < self.months
            && let Some(t) = self
                .seat_region
                .get(e.seat)
                .and_then(|&r| self.totals.get_mut(r))
        {
            *t += e.sell_through;
        }
    }
}
