//! What a run can tell an observer as it goes: each partner's month, every lifecycle move,
//! reps leaving and being hired, and each goal period settled.
//!
//! The ordinary engine observes nothing (`()`, which the compiler removes entirely); the
//! records synthesiser (`crate::synthesize`) writes a channel's history from these events,
//! and the backtest collects monthly sell-through by region from them. An observer cannot
//! change the run: it sees values, never the state.

use chanlab_shared::{LifecycleStage, Tier};

/// One selling partner's month, after its orders and books.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartnerMonth {
    /// The partner's seat (index over all regions' seats, in scenario order).
    pub seat: usize,
    /// What the partner bought (its order), major currency units.
    pub sell_in: f64,
    /// What it sold on.
    pub sell_through: f64,
    /// Weighted touches it received (sim/MODEL.md §3.9), onboarding visits included.
    pub touches: f64,
    /// Mandated weighted touches for its tier under the plan in force.
    pub mandated: f64,
    /// Its engagement after the month's update.
    pub engagement: f64,
    /// Its expected sell-through before the market shock, its own noise and deal timing:
    /// potential × engagement × ramp × attention^β (sim/MODEL.md §3.10).
    pub expected: f64,
}

/// A rep seat's change of occupant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatEvent {
    /// The rep in the seat left at the end of the month.
    Left,
    /// A new rep took the vacant seat at the end of the month.
    Hired,
}

/// A goal period settled for one seat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodSettled {
    /// The seat.
    pub seat: usize,
    /// First simulated month of the period (a period cut by the start begins at 0).
    pub first_month: usize,
    /// The revenue goal (0 when goals are not on revenue).
    pub goal: f64,
    /// Goal-metric revenue booked in the period.
    pub achieved: f64,
    /// Attainment as settled, when the seat was filled at the end.
    pub attainment: Option<f64>,
}

/// A seat as the run starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeatStart {
    /// Its region (index in the scenario).
    pub region: usize,
    /// Months its occupant has been in the job.
    pub tenure_months: f64,
}

/// A partner slot as the run starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotStart {
    /// Its seat.
    pub seat: usize,
    /// Its tier.
    pub tier: Tier,
    /// Its stage.
    pub stage: LifecycleStage,
    /// Its potential (this replication's draw).
    pub potential: f64,
    /// Its engagement.
    pub engagement: f64,
}

/// Receives a run's events in the order they happen. Every method does nothing by default.
pub trait Observer {
    /// Whether [`Observer::opening`] is wanted (building its lists costs the engine time).
    const WANTS_OPENING: bool = false;
    /// The seats and partner slots as the run starts.
    fn opening(&mut self, _seats: &[SeatStart], _slots: &[SlotStart]) {}
    /// A selling partner's month (slot index over the replication's partner slots).
    fn partner_month(&mut self, _month: usize, _slot: usize, _event: &PartnerMonth) {}
    /// A partner slot moved from one lifecycle stage to another this month.
    fn stage_change(
        &mut self,
        _month: usize,
        _slot: usize,
        _from: LifecycleStage,
        _to: LifecycleStage,
    ) {
    }
    /// A seat's occupant left or was replaced this month.
    fn seat_event(&mut self, _month: usize, _seat: usize, _event: SeatEvent) {}
    /// A goal period ended this month.
    fn period_settled(&mut self, _month: usize, _event: &PeriodSettled) {}
}

/// Observes nothing: the engine's runs.
impl Observer for () {}
