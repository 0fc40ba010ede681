//! chanlab's domain model, shared by the simulator, the API and the CLI.
//!
//! Everything here is a value: ids, money, months and the channel records (regions, reps,
//! partners, contracts, activities, sales records, goals, process specs, assessments). Values
//! are validated when they are built, by constructors or by serde going through the same
//! checks, so code that receives a [`Probability`] or a [`Partner`] never re-checks it. A
//! rejection is a [`ValidationError`] that names the field.
//!
//! This crate does no I/O and knows nothing of HTTP, storage or the command line.

mod activity;
mod assessment;
mod calendar;
mod contract;
mod error;
mod goal;
mod id;
mod money;
mod org;
mod partner;
mod sales;
pub mod scorecard;
mod spec;
mod stamp;
mod strategy;
mod value;

pub use activity::{Activity, ActivityKind, ActivityOutcome};
pub use assessment::{Assessment, KeyLinkResult};
pub use calendar::{Month, Period, PeriodLength};
pub use contract::{Contract, ContractTerms, RebateTier};
pub use error::{Validated, ValidationError};
pub use goal::{Goal, Metric, Quantity, Scope, Unit};
pub use id::{
    ActivityId, AssessmentId, ContractId, GoalId, PartnerId, ProcessSpecId, RegionId, RepId,
    SalesRecordId,
};
pub use money::{Currency, MAX_SAFE_MINOR, Money, MoneyError};
pub use org::{Region, Rep, RepStatus};
pub use partner::{IllegalTransition, LifecycleStage, Partner, PartnerKind, StageChange, Tier};
pub use sales::SalesRecord;
pub use spec::{
    Accelerator, ActivityCadence, AssessmentPlan, Cadences, GoalSetting, IncentivePlan,
    OnboardingProgram, PartnerProgram, ProcessRules, ProcessSpec, ProgramRebateTier, RevenueBasis,
    SpecStatus, ThresholdBonus,
};
pub use stamp::Stamp;
pub use strategy::{
    ActivityTarget, ActivityTargets, GoalStrategy, GoalStrategyKind, MetricWeight, MetricWeights,
    ThresholdLevels,
};
pub use value::{
    Attainment, ExternalId, Fraction, GrowthRate, Multiplier, Name, Notes, PositiveCount,
    Probability, TEXT_PATTERN, Uplift,
};
