//! The kinds of run `POST /scenarios/{id}/runs` starts (sim/MODEL.md §13): a comparison,
//! a sweep of the scenario's `[[sweep]]` axes, a sensitivity study of the decision, or a
//! policy search. Each is planned when it is requested (so a bad option is a 422 naming the
//! field and nothing is stored) and sized for the server's cap, then computed on a job's
//! thread by the same library function the CLI calls.

use chanlab_sim::chart;
use chanlab_sim::engine::{self, EngineError, ResultDocument, RunOptions, RunResult};
use chanlab_sim::explore::ExploreError;
use chanlab_sim::explore::optimise::{
    self, Constraint, OptimiseReport, Prepared, Problem, Settings, Vary,
};
use chanlab_sim::explore::sensitivity::{
    self, ParameterChoice, SensitivityDocument, SensitivityOptions, SensitivityResult,
};
use chanlab_sim::explore::sweep::{Sweep, SweepDocument, SweepResult};
use chanlab_sim::explore::{sensitivity_chart, sweep_chart};
use chanlab_sim::model::Kpi;
use chanlab_sim::scenario::Scenario;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{OneOfBuilder, Ref, Schema};

use crate::error::ApiError;
use crate::jobs::{Live, Stopped};

/// What a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Every spec against the baseline on common random numbers (`chanlab compare`).
    #[default]
    Compare,
    /// The scenario's `[[sweep]]` axes, every point on the same replications (`chanlab
    /// compare` of a scenario with a sweep).
    Sweep,
    /// Which behaviour parameters move each spec's difference from the baseline, and in
    /// what share of plausible worlds each spec stays best (`chanlab sensitivity`).
    Sensitivity,
    /// The best values of spec fields for an objective under constraints, confirmed on
    /// fresh replications (`chanlab optimise`).
    Optimise,
}

impl RunKind {
    /// The kind's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Compare => "compare",
            RunKind::Sweep => "sweep",
            RunKind::Sensitivity => "sensitivity",
            RunKind::Optimise => "optimise",
        }
    }
}

/// Options of a sensitivity study (`chanlab sensitivity`'s flags).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityRequest {
    /// Behaviour parameters to vary, by name; every uncalibrated one when omitted.
    #[serde(default)]
    pub parameters: Option<Vec<String>>,
    /// Trajectories of the Morris design.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub samples: Option<u32>,
    /// Grid levels per parameter (even).
    #[serde(default)]
    #[schema(minimum = 2, maximum = 20)]
    pub levels: Option<u32>,
}

/// Options of a policy search (`chanlab optimise`'s flags).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"objective": "margin_after_incentives", "vary": ["goal_setting.strategy.uplift=0.05..0.5"], "constraints": ["rep_attrition <= 20"]}))]
pub struct OptimiseRequest {
    /// The KPI to make best.
    pub objective: String,
    /// Spec fields and their ranges, `FIELD=LOW..HIGH`.
    pub vary: Vec<String>,
    /// Bounds the winner must meet, `KPI <= NUMBER` or `KPI >= NUMBER`.
    #[serde(default)]
    pub constraints: Vec<String>,
    /// The spec to vary, by name; the first that is not the baseline when omitted.
    #[serde(default)]
    pub spec: Option<String>,
    /// Candidates in the first rung.
    #[serde(default)]
    #[schema(minimum = 2, maximum = 200)]
    pub candidates: Option<usize>,
}

/// A run planned and checked, ready to compute.
#[derive(Debug, Clone)]
pub enum Planned {
    /// A comparison of the scenario.
    Compare(Scenario),
    /// A sweep.
    Sweep(Box<Sweep>),
    /// A sensitivity study.
    Sensitivity(Scenario, SensitivityOptions),
    /// A policy search.
    Optimise(Box<Prepared>),
}

/// What a planned run costs: progress ticks and partner-months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// How many times the job ticks (replications, counted per point).
    pub ticks: u64,
    /// Partner slots × months × specs × replications, over every point.
    pub partner_months: u64,
}

/// The field a bad option of `kind` is reported on.
fn on(kind: &str, e: ExploreError) -> ApiError {
    let field = e.field.trim_start_matches("--").replace('-', "_");
    let message = match e.fix {
        Some(fix) => format!("{}; {fix}", e.message),
        None => e.message,
    };
    ApiError::field(format!("{kind}.{field}"), message)
}

/// Plans a run of `kind` on `scenario` (with its overrides applied), refusing what cannot
/// run with a 422 naming the field.
pub fn plan(
    kind: RunKind,
    scenario: Scenario,
    sensitivity: Option<&SensitivityRequest>,
    optimise: Option<&OptimiseRequest>,
    threads: usize,
) -> Result<Planned, ApiError> {
    let has_sweep = !scenario.file().sweep.is_empty();
    for (given, wanted, field) in [
        (sensitivity.is_some(), RunKind::Sensitivity, "sensitivity"),
        (optimise.is_some(), RunKind::Optimise, "optimise"),
    ] {
        if given && kind != wanted {
            return Err(ApiError::field(
                field,
                format!(
                    "`{field}` options go with \"kind\": \"{field}\"; this run is a {}",
                    kind.as_str()
                ),
            ));
        }
    }
    match kind {
        RunKind::Compare if has_sweep => Err(ApiError::field(
            "kind",
            "the scenario has a [[sweep]]: start it as \"kind\": \"sweep\" (or store the scenario without its sweep to compare its specs alone)",
        )),
        RunKind::Compare => Ok(Planned::Compare(scenario)),
        RunKind::Sweep if !has_sweep => Err(ApiError::field(
            "kind",
            "the scenario has no [[sweep]] to run; add `sweep` axes to the scenario, or start a \"compare\"",
        )),
        RunKind::Sweep => Sweep::new(&scenario)
            .map(|s| Planned::Sweep(Box::new(s)))
            .map_err(|e| ApiError::field(format!("scenario.{}", e.field), e.message)),
        RunKind::Sensitivity => {
            let request = sensitivity.cloned().unwrap_or_default();
            let mut options = SensitivityOptions::default();
            if let Some(list) = request.parameters {
                options.parameters = ParameterChoice::List(list);
            }
            if let Some(samples) = request.samples {
                options.samples = samples;
            }
            if let Some(levels) = request.levels {
                options.levels = levels;
            }
            sensitivity::simulations(&scenario, &options, &whole())
                .map_err(|e| on("sensitivity", e))?;
            Ok(Planned::Sensitivity(scenario, options))
        }
        RunKind::Optimise => {
            let request = optimise.ok_or_else(|| {
                ApiError::field(
                    "optimise",
                    "a policy search needs its `optimise` options: at least `objective` and one `vary`",
                )
            })?;
            let mut problem = problem(&scenario, request)?;
            problem.settings.threads = threads;
            optimise::prepare(&scenario, &problem)
                .map(|p| Planned::Optimise(Box::new(p)))
                .map_err(|e| on("optimise", e))
        }
    }
}

/// The search problem a request describes; every bad part a 422 on its field and index.
fn problem(scenario: &Scenario, request: &OptimiseRequest) -> Result<Problem, ApiError> {
    let objective = optimise::parse_kpi(&request.objective)
        .map_err(|m| ApiError::field("optimise.objective", m))?;
    let vary = request
        .vary
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.parse::<Vary>()
                .map_err(|m| ApiError::field(format!("optimise.vary[{i}]"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let constraints = request
        .constraints
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.parse::<Constraint>()
                .map_err(|m| ApiError::field(format!("optimise.constraints[{i}]"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut settings = Settings::new(u64::from(scenario.file().replications));
    if let Some(c) = request.candidates {
        settings.candidates = c;
    }
    Ok(Problem {
        spec: request.spec.clone(),
        vary,
        objective,
        constraints,
        settings,
    })
}

/// Every replication, on the engine's own threads: how a server runs an experiment.
fn whole() -> RunOptions {
    RunOptions {
        threads: 0,
        shard: None,
    }
}

/// Partner-months of one replication of `scenario` (every spec counted).
fn per_replication(scenario: &Scenario) -> u64 {
    scenario
        .partner_slots()
        .saturating_mul(u64::from(scenario.file().horizon_months))
        .saturating_mul(scenario.specs().len() as u64)
}

impl Planned {
    /// What the run costs.
    pub fn size(&self) -> Size {
        match self {
            Planned::Compare(s) => {
                let reps = u64::from(s.file().replications);
                Size {
                    ticks: reps,
                    partner_months: per_replication(s).saturating_mul(reps),
                }
            }
            Planned::Sweep(sweep) => Size {
                ticks: sweep.ticks(&whole()),
                partner_months: sweep
                    .runs()
                    .iter()
                    .map(|s| per_replication(s).saturating_mul(u64::from(s.file().replications)))
                    .sum(),
            },
            Planned::Sensitivity(s, options) => {
                // Planning checked the options, so this cannot fail here.
                let ticks = sensitivity::simulations(s, options, &whole()).unwrap_or(0);
                Size {
                    ticks,
                    partner_months: per_replication(s).saturating_mul(ticks),
                }
            }
            Planned::Optimise(p) => Size {
                ticks: p.ticks(),
                partner_months: p.partner_months(),
            },
        }
    }

    /// Computes the run on `threads`, ticking `live` and stopping when it is cancelled.
    pub(crate) fn compute(&self, live: &Live, threads: usize) -> Result<Finished, Stopped> {
        let options = RunOptions {
            threads,
            shard: None,
        };
        let tick = || live.tick();
        let stopped = |message: String| {
            if live.cancelled() {
                Stopped::Cancelled { done: live.done() }
            } else {
                Stopped::Failed(message)
            }
        };
        match self {
            Planned::Compare(s) => engine::run_cancellable(s, &options, &tick)
                .map(|r| Finished::Compare(Box::new(r)))
                .map_err(|e| match e {
                    EngineError::Cancelled { done } => Stopped::Cancelled { done },
                    e => stopped(e.to_string()),
                }),
            Planned::Sweep(sweep) => sweep
                .run(&options, &tick)
                .map(|r| Finished::Sweep(Box::new(r)))
                .map_err(|e| stopped(e.to_string())),
            Planned::Sensitivity(s, o) => sensitivity::run_sensitivity(s, o, &options, &tick)
                .map(|r| Finished::Sensitivity(Box::new(r)))
                .map_err(|e| stopped(e.to_string())),
            Planned::Optimise(p) => {
                p.run(&tick)
                    .map_err(|e| stopped(e.to_string()))
                    .and_then(|report| {
                        let document = OptimiseDocument {
                            kind: OptimiseKind::Optimise,
                            report,
                        };
                        serde_json::to_value(&document)
                            .map(Finished::Optimise)
                            .map_err(|e| {
                                Stopped::Failed(format!("the result does not serialise: {e}"))
                            })
                    })
            }
        }
    }
}

/// A finished run's result, as stored: a comparison as it always was, the other kinds with
/// their own `"kind"`, which decides how a stored result is read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Finished {
    /// A sweep's mergeable result.
    Sweep(Box<SweepResult>),
    /// A sensitivity study's mergeable result.
    Sensitivity(Box<SensitivityResult>),
    /// A comparison's mergeable result.
    Compare(Box<RunResult>),
    /// A policy search's [`OptimiseDocument`] (not mergeable: the search is sequential),
    /// kept as JSON: nothing reads its report back, and a candidate's NaN objective is
    /// stored as `null`, which an `f64` would not read.
    Optimise(serde_json::Value),
}

/// The `kind` tag of a policy search's document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptimiseKind {
    /// A policy search.
    Optimise,
}

/// A policy search's result as `GET /runs/{id}` shows it: the search's report (what
/// `chanlab optimise --format json` writes), tagged `"kind": "optimise"` like the other
/// experiments' results, so a stored result reads back as one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptimiseDocument {
    /// Always `"optimise"`.
    pub kind: OptimiseKind,
    /// The search, its winner and the winner's confirmation.
    #[serde(flatten)]
    pub report: OptimiseReport,
}

/// A finished run's document, one per kind of run: what `GET /runs/{id}` answers as
/// `result`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RunDocument<'a> {
    /// A comparison: the run's mergeable result beside its `report`.
    Compare(ResultDocument<'a>),
    /// A sweep: its runs beside the surface in `report`.
    Sweep(SweepDocument<'a>),
    /// A sensitivity study: its design and state beside the effects in `report`.
    Sensitivity(SensitivityDocument<'a>),
    /// A policy search's [`OptimiseDocument`], as stored.
    Optimise(&'a serde_json::Value),
}

// By hand, not derived: the policy search's variant holds its stored JSON, which utoipa
// cannot be told is an `OptimiseDocument` on an enum variant.
impl utoipa::PartialSchema for RunDocument<'_> {
    fn schema() -> RefOr<Schema> {
        let refer = |name: std::borrow::Cow<'static, str>| Ref::from_schema_name(name);
        OneOfBuilder::new()
            .description(Some(
                "The document of a finished run, by the run's `kind`: `CompareDocument` (which \
                 carries no `kind` of its own: it predates the other kinds), `SweepDocument`, \
                 `SensitivityDocument` or `OptimiseDocument` (each with its `kind`). Each is \
                 the JSON the CLI writes for that kind of run.",
            ))
            .item(refer(ResultDocument::name()))
            .item(refer(SweepDocument::name()))
            .item(refer(SensitivityDocument::name()))
            .item(refer(OptimiseDocument::name()))
            .into()
    }
}

impl ToSchema for RunDocument<'_> {
    fn name() -> std::borrow::Cow<'static, str> {
        "RunDocument".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        add::<ResultDocument<'_>>(schemas);
        add::<SweepDocument<'_>>(schemas);
        add::<SensitivityDocument<'_>>(schemas);
        add::<OptimiseDocument>(schemas);
    }
}

impl<'de> Deserialize<'de> for Finished {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Read by its `kind`, not by trying each shape in turn, so that a result that does
        // not parse says why instead of landing in the first shape that takes anything.
        let value = serde_json::Value::deserialize(d)?;
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_owned);
        match kind.as_deref() {
            Some("sweep") => serde_json::from_value(value).map(|r| Finished::Sweep(Box::new(r))),
            Some("sensitivity") => {
                serde_json::from_value(value).map(|r| Finished::Sensitivity(Box::new(r)))
            }
            Some("optimise") => Ok(Finished::Optimise(value)),
            _ => serde_json::from_value(value).map(|r| Finished::Compare(Box::new(r))),
        }
        .map_err(D::Error::custom)
    }
}

impl Finished {
    /// The document `GET /runs/{id}` shows: the same JSON the CLI writes.
    pub fn document(&self) -> RunDocument<'_> {
        match self {
            Finished::Compare(r) => RunDocument::Compare(r.document()),
            Finished::Sweep(r) => RunDocument::Sweep(r.document()),
            Finished::Sensitivity(r) => RunDocument::Sensitivity(r.document()),
            Finished::Optimise(v) => RunDocument::Optimise(v),
        }
    }

    /// The run's chart, as the CLI's `--chart` draws it; `None` for a kind without one.
    pub fn chart(&self) -> Option<String> {
        match self {
            Finished::Compare(r) => Some(chart::comparison_svg(
                &r.report(),
                &chart::ChartContext::of(&r.scenario),
            )),
            Finished::Sweep(r) => {
                let report = r.report();
                Some(sweep_chart::sweep_svg(
                    &report,
                    Kpi::MarginAfterIncentives,
                    r.charted_spec(&report),
                    r.scenario.name.as_str(),
                    r.scenario.currency.code(),
                ))
            }
            Finished::Sensitivity(r) => Some(sensitivity_chart::tornado_svg(
                &r.report(),
                Kpi::MarginAfterIncentives,
                r.scenario.name.as_str(),
                r.scenario.currency.code(),
            )),
            Finished::Optimise(_) => None,
        }
    }

    /// The kind of run it is the result of.
    pub fn kind(&self) -> RunKind {
        match self {
            Finished::Compare(_) => RunKind::Compare,
            Finished::Sweep(_) => RunKind::Sweep,
            Finished::Sensitivity(_) => RunKind::Sensitivity,
            Finished::Optimise(_) => RunKind::Optimise,
        }
    }
}
