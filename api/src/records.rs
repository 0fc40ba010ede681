//! Records the API keeps besides the domain's own: a partner's lifecycle moves, each
//! version of a process spec, and the simulation side's scenarios, runs, backtests and
//! results.

use chanlab_shared::{Currency, Month, ProcessSpec, ProcessSpecId};
use chanlab_sim::backtest::Backtest;
use chanlab_sim::calibrate::FitReport;
use chanlab_sim::from_records::CalibrationReport;
use chanlab_sim::scenario::ScenarioFile;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One lifecycle move of a partner, kept so that key links such as `partners_signed` can be
/// counted per period and churn and signing rates read from the history: the domain's
/// [`chanlab_shared::StageChange`].
pub type TransitionRecord = chanlab_shared::StageChange;

/// One stored version of a process spec. Published versions are never rewritten except to
/// be retired when a later version is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpecVersion(pub ProcessSpec);

impl SpecVersion {
    /// The storage key of version `version` of spec `id`: zero-padded so versions sort.
    pub fn key_of(id: ProcessSpecId, version: u32) -> String {
        format!("{id}.{version:010}")
    }
}

/// Where a stored scenario came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioSource {
    /// Sent to `POST /scenarios`.
    Posted,
    /// Built by `POST /scenarios/from-records`.
    FromRecords,
}

/// A stored scenario: the validated, self-contained scenario file (every spec inline, every
/// behaviour parameter in force) and, when it was built from the records, how each
/// parameter was estimated. Scenarios are never edited; post a new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRecord {
    /// The scenario's id (a UUIDv7).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// When it was stored.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Posted, or built from the records.
    pub source: ScenarioSource,
    /// Partner slots (partners and prospects) per replication.
    pub partner_slots: u64,
    /// The scenario, in the scenario file's schema (`chanlab scenario init`), as JSON.
    pub scenario: ScenarioFile,
    /// For a scenario built from the records: the method and history behind each estimate
    /// (sim/MODEL.md §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
    /// For a scenario built with `calibrate`: how each behaviour parameter was fitted, its
    /// estimate, 90% interval and whether the records identify it, and each moment recorded
    /// against simulated (sim/MODEL.md §12.2–12.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitReport>,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Accepted, not started yet.
    Queued,
    /// Replications are being simulated.
    Running,
    /// Finished; the result is available.
    Done,
    /// Stopped by an error; `error` says which.
    Failed,
    /// Stopped by `DELETE /runs/{id}`.
    Cancelled,
    /// The server stopped while the run was queued or running; start it again.
    Interrupted,
}

impl RunStatus {
    /// The name used in JSON and in the status index.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Whether the run may still change (queued or running).
    pub const fn is_active(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// Replications done out of the run's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// Replications finished.
    pub done: u64,
    /// Replications in the run.
    pub total: u64,
}

/// A simulation run of a stored scenario.
///
/// Not `deny_unknown_fields`: the server alone writes it, and `RunView` flattens it beside
/// `result`, so a closed schema (`additionalProperties: false`) here would make every
/// finished run invalid against its own document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RunRecord {
    /// The run's id (a UUIDv7).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The scenario run.
    #[schema(value_type = String, format = Uuid)]
    pub scenario_id: Uuid,
    /// What the run computes (a run stored before kinds existed is a comparison).
    #[serde(default)]
    pub kind: crate::experiments::RunKind,
    /// Where the run is.
    pub status: RunStatus,
    /// Replications done out of the total (counted at every point of a sweep or a
    /// sensitivity study, and over every rung of a search).
    pub progress: Progress,
    /// The seed used.
    pub seed: u64,
    /// The run's size: replications × partner slots × months × specs, summed over every
    /// point it simulates.
    pub partner_months: u64,
    /// When it was accepted.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it stopped (done, failed, cancelled or interrupted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a run failed or was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a run waiting in a shared store's queue computes: the scenario as it was planned
/// (overrides applied, self-contained) and the kind's options, so that whichever instance
/// claims the run plans it again exactly as the one that accepted it did. Stored only where
/// several instances share the store, in the run's first commit; never sent to a client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// The run it belongs to.
    pub run_id: Uuid,
    /// The scenario run, as planned.
    pub scenario: chanlab_sim::scenario::ScenarioFile,
    /// A sensitivity study's options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<crate::experiments::SensitivityRequest>,
    /// A policy search's options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimise: Option<crate::experiments::OptimiseRequest>,
}

/// The mergeable result of a finished run, stored apart from the run record so that status
/// reads stay small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOutput {
    /// The run it belongs to.
    pub run_id: Uuid,
    /// The result, exactly as the engine (or the experiment) returned it.
    pub result: crate::experiments::Finished,
}

/// A backtest of the records (sim/MODEL.md §12.5): calibrate on the records up to
/// `holdout_months` before their last month, forecast the months held out, and set the
/// forecast beside what was recorded. It runs in the background like a run, under the same
/// limits, and shares a run's statuses.
///
/// Open like [`RunRecord`], for the same reason: `BacktestView` flattens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BacktestRecord {
    /// The backtest's id (a UUIDv7).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// Where the backtest is: queued, running, done (the result is available), failed or
    /// interrupted.
    pub status: RunStatus,
    /// Months held out at the end of the records.
    pub holdout_months: u32,
    /// Replications of the forecast.
    pub replications: u32,
    /// Seed of the forecast.
    pub seed: u64,
    /// The last month calibrated on.
    pub cut: Month,
    /// The last month of the records' sales.
    pub last: Month,
    /// The currency of the sales scored (the one most sales records are kept in).
    pub currency: Currency,
    /// The baseline: the published spec in force at the end of `cut`.
    #[schema(value_type = String, format = Uuid)]
    pub process_spec_id: ProcessSpecId,
    /// When it was accepted.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it stopped (done, failed or interrupted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a backtest failed or was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of a finished backtest, stored apart from its record so that status reads
/// stay small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestOutput {
    /// The backtest it belongs to.
    pub backtest_id: Uuid,
    /// The result, exactly as the simulator returned it.
    pub result: Backtest,
}
