//! Synthetic records with a known truth: a simulated channel's history written as the
//! records a CRM would hold.
//!
//! [`synthesize`] runs one replication of a scenario's baseline spec with an observer and
//! turns what happened into regions, reps (with hires and departures), partners with dated
//! stage changes, monthly sales, the activity log, goals, assessments and the published
//! spec, and keeps the parameters that produced them beside the records ([`Truth`]). It is
//! the ground truth of the calibration and backtest tests, the demo data set of the
//! README's tour, and the simulator inside the calibration (sim/MODEL.md §12): the
//! calibration computes the same moments on records synthesized at trial parameters as on
//! the user's records.
//!
//! Everything is a pure function of the scenario and the seed: ids are UUIDv7 values made
//! from a seeded generator, activity counts are drawn from a stream of their own, and
//! dates come from the scenario's calendar, never the clock.

use chanlab_shared::{
    Activity, ActivityId, ActivityKind, ActivityOutcome, Assessment, AssessmentId, Fraction, Goal,
    GoalId, KeyLinkResult, LifecycleStage, Money, Month, Name, Notes, Partner, PartnerId,
    PartnerKind, Period, PositiveCount, ProcessSpec, ProcessSpecId, Quantity, Region, RegionId,
    Rep, RepId, RepStatus, SalesRecord, SalesRecordId, Scope, SpecStatus, StageChange, Tier,
};
use chrono::NaiveDate;
use rand::Rng;
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};

use crate::model::{
    CompiledSpecs, Observer, PartnerMonth, PeriodSettled, SeatEvent, SeatStart, SlotStart,
    simulate_observed,
};
use crate::params::Behaviour;
use crate::scenario::Scenario;
use crate::seed::{ReplicationRng, replication_rng};

/// Months simulated before the records start: a channel has been running a while before
/// its records are exported, and a run started cold (every rep at the start of a goal
/// period with nothing booked, every partner at its opening stock) is not what a CRM shows.
pub const BURN_IN_MONTHS: u32 = 12;

/// Months simulated after the records end and left out of them: the model takes no timing
/// decision in its last month (nothing comes after it to borrow from), which a CRM's last
/// month does not show either.
pub const RUN_OUT_MONTHS: u32 = 12;

/// Mixed into the seed for the stream that makes ids and activity counts.
const RECORDS_STREAM: u64 = 0x5EC0_4D5A_11CE_0001;

/// A synthesized channel history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRecords {
    /// Regions, one per scenario region.
    pub regions: Vec<Region>,
    /// Every rep who sat in a seat, departed ones with `left_on`.
    pub reps: Vec<Rep>,
    /// Every partner slot, in its stage at the end.
    pub partners: Vec<Partner>,
    /// Each partner's dated stage changes, in the order they happened.
    pub stage_changes: Vec<StageChange>,
    /// One sales record per selling partner and month.
    pub sales: Vec<SalesRecord>,
    /// The activity log: visits and negotiation meetings.
    pub activities: Vec<Activity>,
    /// Each filled seat's revenue goal per goal period.
    pub goals: Vec<Goal>,
    /// Each filled seat's scorecard per goal period: revenue against the goal.
    pub assessments: Vec<Assessment>,
    /// The published spec the channel ran under.
    pub spec: ProcessSpec,
    /// What produced the records.
    pub truth: Truth,
}

impl SyntheticRecords {
    /// The records as the calibration and `from_records::build` read them, the published
    /// spec as the baseline.
    pub fn records(&self) -> crate::from_records::Records<'_> {
        crate::from_records::Records {
            regions: &self.regions,
            reps: &self.reps,
            partners: &self.partners,
            sales: &self.sales,
            activities: &self.activities,
            baseline: &self.spec,
            stage_changes: &self.stage_changes,
            goals: &self.goals,
            assessments: &self.assessments,
        }
    }
}

/// The parameters behind synthesized records, for checking what a calibration recovers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// The scenario's name.
    pub scenario: String,
    /// Seed and replication simulated.
    pub seed: u64,
    /// First month of the records.
    pub first_month: Month,
    /// Months of records.
    pub months: u32,
    /// The behaviour parameters in force.
    pub behaviour: Behaviour,
    /// Per region: its name and the backing the scenario states.
    pub backing: Vec<(String, f64)>,
    /// Per partner: potential and engagement at the end of the records.
    pub partners: Vec<TruePartner>,
    /// The channel's expected monthly sell-through over the records' last six months,
    /// before market shocks, noise and deal timing (sim/MODEL.md §3.10): the level a
    /// calibration should recover.
    pub level: f64,
}

/// One partner's true state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruePartner {
    /// The partner.
    pub partner_id: PartnerId,
    /// Monthly potential.
    pub potential: f64,
    /// Engagement after the last month (its opening engagement if it never sold).
    pub engagement: f64,
}

/// Why no records could be synthesized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthesizeError {
    /// `months` is outside 1–240 or the scenario's calendar runs out.
    #[error("months: {0}")]
    Months(String),
}

/// Records of `months` months of `scenario`'s baseline spec, replication 0 at `seed`,
/// starting at the scenario's `start`. Goal periods follow the calendar (quarters start in
/// January, April, July and October), as records' periods do.
pub fn synthesize(
    scenario: &Scenario,
    months: u32,
    seed: u64,
) -> Result<SyntheticRecords, SynthesizeError> {
    if !(1..=crate::scenario::MAX_HORIZON_MONTHS).contains(&months) {
        return Err(SynthesizeError::Months(format!(
            "expected 1 to {} months, found {months}",
            crate::scenario::MAX_HORIZON_MONTHS
        )));
    }
    let mut file = scenario.file().clone();
    let records_start = file.start;
    file.start = records_start
        .plus(-(BURN_IN_MONTHS as i32))
        .ok_or_else(|| {
            SynthesizeError::Months("the burn-in would start before year 1".to_owned())
        })?;
    file.horizon_months = months + BURN_IN_MONTHS + RUN_OUT_MONTHS;
    file.seed = seed;
    file.period_anchor = Month::new(records_start.year(), 1).ok();
    let baseline = scenario.baseline();
    file.specs = vec![file.specs[baseline].clone()];
    file.baseline = None;
    let run = crate::scenario::resolve(file, &|p| Err(format!("no file {p}")))
        .map_err(|e| SynthesizeError::Months(e.to_string()))?;
    records_start
        .plus(months as i32 - 1)
        .ok_or_else(|| SynthesizeError::Months("the records would end after 9999".to_owned()))?;
    let specs = CompiledSpecs::new(&run);
    let mut recorder = Recorder::default();
    simulate_observed(&run, &specs, 0, 0, false, &mut recorder);
    Ok(Writer::new(&run, seed).write(recorder))
}

/// Collects a run's events.
#[derive(Debug, Default)]
struct Recorder {
    seats: Vec<SeatStart>,
    slots: Vec<SlotStart>,
    months: Vec<(usize, usize, PartnerMonth)>,
    stages: Vec<(usize, usize, LifecycleStage, LifecycleStage)>,
    seat_events: Vec<(usize, usize, SeatEvent)>,
    periods: Vec<(usize, PeriodSettled)>,
}

impl Observer for Recorder {
    const WANTS_OPENING: bool = true;
    fn opening(&mut self, seats: &[SeatStart], slots: &[SlotStart]) {
        self.seats = seats.to_vec();
        self.slots = slots.to_vec();
    }
    fn partner_month(&mut self, month: usize, slot: usize, event: &PartnerMonth) {
        self.months.push((month, slot, *event));
    }
    fn stage_change(
        &mut self,
        month: usize,
        slot: usize,
        from: LifecycleStage,
        to: LifecycleStage,
    ) {
        self.stages.push((month, slot, from, to));
    }
    fn seat_event(&mut self, month: usize, seat: usize, event: SeatEvent) {
        self.seat_events.push((month, seat, event));
    }
    fn period_settled(&mut self, month: usize, event: &PeriodSettled) {
        self.periods.push((month, *event));
    }
}

/// Turns recorded events into records.
struct Writer<'s> {
    scenario: &'s Scenario,
    rng: ReplicationRng,
    seed: u64,
}

/// Who sat in a seat, and when.
struct Occupant {
    rep: RepId,
    /// First month in the seat (negative: before the records start).
    from: i64,
    /// Month at whose end they left.
    left: Option<usize>,
}

impl<'s> Writer<'s> {
    fn new(scenario: &'s Scenario, seed: u64) -> Self {
        Self {
            scenario,
            rng: replication_rng(seed ^ RECORDS_STREAM, 0),
            seed,
        }
    }

    /// A UUIDv7 from the seeded stream, stamped with `day` so ids sort by date.
    fn uuid(&mut self, day: NaiveDate) -> uuid::Uuid {
        let ms = day
            .and_hms_opt(12, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis().max(0) as u64);
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
    }

    fn month(&self, t: usize) -> Month {
        self.scenario
            .file()
            .start
            .plus(t as i32)
            .expect("synthesize checked the calendar")
    }

    fn write(mut self, rec: Recorder) -> SyntheticRecords {
        let file = self.scenario.file();
        let currency = file.currency;
        let burn_in = BURN_IN_MONTHS as usize;
        let end = file.horizon_months.saturating_sub(RUN_OUT_MONTHS) as usize;
        let recorded = |t: usize| (burn_in..end).contains(&t);
        let start_day = self.month(burn_in).first_day();
        let money = |x: f64| -> Money {
            let scale = 10f64.powi(currency.minor_digits() as i32);
            Money::from_minor((x.max(0.0) * scale).round() as i64, currency)
        };

        let regions: Vec<Region> = file
            .channel
            .regions
            .iter()
            .map(|r| Region {
                created_by: None,
                updated_by: None,
                id: RegionId::from_uuid(self.uuid(start_day)).expect("v7"),
                name: r.name.clone(),
                regional_manager: Name::parse(&format!("Manager {}", r.name.as_str()))
                    .unwrap_or_else(|_| r.name.clone()),
                external_id: None,
            })
            .collect();

        // Seats and their occupants.
        let mut occupants: Vec<Vec<Occupant>> = Vec::with_capacity(rec.seats.len());
        for seat in &rec.seats {
            let from = -(seat.tenure_months.round() as i64);
            let day = self.month_day(from);
            occupants.push(vec![Occupant {
                rep: RepId::from_uuid(self.uuid(day)).expect("v7"),
                from,
                left: None,
            }]);
        }
        for &(t, seat, event) in rec.seat_events.iter().filter(|e| e.0 < end) {
            match event {
                SeatEvent::Left => {
                    if let Some(o) = occupants[seat].last_mut() {
                        o.left = Some(t);
                    }
                }
                SeatEvent::Hired => {
                    let day = self.month_day(t as i64 + 1);
                    let rep = RepId::from_uuid(self.uuid(day)).expect("v7");
                    occupants[seat].push(Occupant {
                        rep,
                        from: t as i64 + 1,
                        left: None,
                    });
                }
            }
        }
        let occupant_at = |seat: usize, t: usize| -> Option<RepId> {
            occupants[seat]
                .iter()
                .find(|o| o.from <= t as i64 && o.left.is_none_or(|l| t <= l))
                .map(|o| o.rep)
        };
        let mut reps = Vec::new();
        for (s, seat) in rec.seats.iter().enumerate() {
            for (k, o) in occupants[s].iter().enumerate() {
                let left_on = o.left.map(|t| {
                    self.month(t)
                        .plus(1)
                        .map_or(start_day, |m| m.first_day().pred_opt().unwrap_or(start_day))
                });
                reps.push(Rep {
                    created_by: None,
                    updated_by: None,
                    id: o.rep,
                    name: Name::parse(&format!("Rep {}-{}", s + 1, k + 1)).expect("a name"),
                    region_id: regions[seat.region].id,
                    hired_on: self.month_day(o.from),
                    status: if left_on.is_some() {
                        RepStatus::Departed
                    } else {
                        RepStatus::Active
                    },
                    left_on,
                    external_id: None,
                });
            }
        }

        // Partners, in their stage at the end, owned by their seat's latest occupant.
        let mut stage: Vec<LifecycleStage> = rec.slots.iter().map(|s| s.stage).collect();
        let mut engagement: Vec<f64> = rec.slots.iter().map(|s| s.engagement).collect();
        for &(_, slot, _, to) in rec.stages.iter().filter(|e| e.0 < end) {
            stage[slot] = to;
        }
        for (_, slot, m) in rec.months.iter().filter(|e| e.0 < end) {
            engagement[*slot] = m.engagement;
        }
        let partner_ids: Vec<PartnerId> = rec
            .slots
            .iter()
            .map(|_| PartnerId::from_uuid(self.uuid(start_day)).expect("v7"))
            .collect();
        let horizon = end;
        let partners: Vec<Partner> = rec
            .slots
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let owner = occupants[s.seat].last().map(|o| o.rep);
                Partner::new(
                    partner_ids[j],
                    Name::parse(&format!("Partner {:04}", j + 1)).expect("a name"),
                    match s.tier {
                        Tier::A => PartnerKind::Distributor,
                        _ => PartnerKind::Reseller,
                    },
                    s.tier,
                    regions[rec.seats[s.seat].region].id,
                    owner,
                    stage[j],
                )
            })
            .collect();
        let mut stage_changes = Vec::with_capacity(rec.stages.len());
        for &(t, slot, from, to) in rec.stages.iter().filter(|e| recorded(e.0)) {
            let day = self.day_in(t, 14);
            stage_changes.push(StageChange {
                id: self.uuid(day),
                partner_id: partner_ids[slot],
                from,
                to,
                on: day,
                owner_rep_id: occupant_at(rec.slots[slot].seat, t),
            });
        }

        // Sales and the activity log.
        let mut sales = Vec::with_capacity(rec.months.len());
        let mut activities = Vec::new();
        for &(t, slot, m) in rec.months.iter().filter(|e| recorded(e.0)) {
            let month = self.month(t);
            let id = SalesRecordId::from_uuid(self.uuid(month.first_day())).expect("v7");
            if let Ok(r) = SalesRecord::new(
                id,
                partner_ids[slot],
                month,
                money(m.sell_in),
                money(m.sell_through),
            ) {
                sales.push(r);
            }
            // Weighted touches are logged as visits (weight 1): a Poisson count with the
            // touches as its mean, so the log's mean rate is the model's.
            let visits = if m.touches > 0.0 {
                Poisson::new(m.touches).map_or(0.0, |d| d.sample(&mut self.rng))
            } else {
                0.0
            } as u32;
            if let Some(rep) = occupant_at(m.seat, t) {
                for k in 0..visits {
                    let day = self.day_in(t, 2 + (k * 7) % 26);
                    activities.push(Activity {
                        created_by: None,
                        updated_by: None,
                        id: ActivityId::from_uuid(self.uuid(day)).expect("v7"),
                        rep_id: rep,
                        partner_id: partner_ids[slot],
                        date: day,
                        kind: ActivityKind::Visit,
                        outcome: ActivityOutcome::Completed,
                        notes: Notes::default(),
                        external_id: None,
                    });
                }
            }
        }
        for c in &stage_changes {
            if c.to == LifecycleStage::Negotiating
                && let Some(rep) = c.owner_rep_id
            {
                activities.push(Activity {
                    created_by: None,
                    updated_by: None,
                    id: ActivityId::from_uuid(self.uuid(c.on)).expect("v7"),
                    rep_id: rep,
                    partner_id: c.partner_id,
                    date: c.on,
                    kind: ActivityKind::Negotiation,
                    outcome: ActivityOutcome::Completed,
                    notes: Notes::default(),
                    external_id: None,
                });
            }
        }
        activities.sort_by_key(|a| (a.date, a.id));

        // The spec, goals and assessments.
        let rules = self.scenario.specs()[0].clone();
        let spec_id = ProcessSpecId::from_uuid(self.uuid(start_day)).expect("v7");
        let metric = rules.goal_setting.metric;
        let length = rules.goal_setting.period;
        let strategy = rules.goal_setting.strategy.kind();
        let spec = ProcessSpec {
            created_by: None,
            updated_by: None,
            id: spec_id,
            version: PositiveCount::new(1).expect("1 > 0"),
            status: SpecStatus::Published,
            published_on: Some(start_day),
            rules,
        };
        let mut goals = Vec::new();
        let mut assessments = Vec::new();
        for &(t, p) in rec.periods.iter().filter(|e| recorded(e.0)) {
            // Only a filled seat with a revenue goal has a goal and a scorecard on record.
            let Some(rep) = occupant_at(p.seat, t).filter(|_| p.attainment.is_some()) else {
                continue;
            };
            if p.goal <= 0.0 {
                continue;
            }
            let period = Period::containing(self.month(p.first_month), length);
            let day = period.first().first_day();
            let target = Quantity::Amount(money(p.goal));
            if let Ok(g) = Goal::new(
                GoalId::from_uuid(self.uuid(day)).expect("v7"),
                Scope::Rep(rep),
                period,
                metric,
                target,
                strategy,
                Some(spec_id),
            ) {
                goals.push(g);
            }
            let result = KeyLinkResult {
                metric,
                weight: Fraction::new(1.0).expect("1 is a fraction"),
                target,
                actual: Quantity::Amount(money(p.achieved)),
            };
            if let Ok(a) = Assessment::new(
                AssessmentId::from_uuid(self.uuid(self.month(t).first_day())).expect("v7"),
                Scope::Rep(rep),
                period,
                spec_id,
                PositiveCount::new(1).expect("1 > 0"),
                vec![result],
            ) {
                assessments.push(a);
            }
        }

        let last_six = horizon.saturating_sub(6).max(burn_in);
        let level = rec
            .months
            .iter()
            .filter(|e| (last_six..horizon).contains(&e.0))
            .map(|e| e.2.expected)
            .sum::<f64>()
            / (horizon - last_six).max(1) as f64;
        let truth = Truth {
            level,
            scenario: file.name.as_str().to_owned(),
            seed: self.seed,
            first_month: self.month(burn_in),
            months: (horizon - burn_in) as u32,
            behaviour: self.scenario.behaviour().clone(),
            backing: file
                .channel
                .regions
                .iter()
                .map(|r| (r.name.as_str().to_owned(), r.backing.get()))
                .collect(),
            partners: rec
                .slots
                .iter()
                .enumerate()
                .map(|(j, s)| TruePartner {
                    partner_id: partner_ids[j],
                    potential: s.potential,
                    engagement: engagement[j],
                })
                .collect(),
        };
        SyntheticRecords {
            regions,
            reps,
            partners,
            stage_changes,
            sales,
            activities,
            goals,
            assessments,
            spec,
            truth,
        }
    }

    /// The first day of month `t` of the records (negative: before they start).
    fn month_day(&self, t: i64) -> NaiveDate {
        let start = self.scenario.file().start;
        start
            .plus(t.clamp(-12 * 60, 12 * 60) as i32)
            .unwrap_or(start)
            .first_day()
    }

    /// Day `day` (1–28) of month `t`.
    fn day_in(&self, t: usize, day: u32) -> NaiveDate {
        let first = self.month(t).first_day();
        first
            .checked_add_days(chrono::Days::new(u64::from(day.clamp(1, 28) - 1)))
            .unwrap_or(first)
    }
}
