//! `/goals`: targets for a rep, partner or region over a period, on a metric.

use actix_web::web;
use chanlab_shared::{
    Currency, ExternalId, Goal, GoalId, GoalStrategyKind, Metric, Money, PartnerId, Period,
    ProcessSpecId, Quantity, RegionId, RepId, Scope, Unit, ValidationError,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{self, Row, enum_cell, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{default_field, invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::Kind;

use Access::{No, Yes};

/// Registers the goal routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Goal>(cfg);
    layer::configure::<Goal>(cfg);
}

/// A goal as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scope": {"kind": "rep", "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}, "period": "2026-Q4", "metric": "visits", "target": {"count": 24}, "strategy": "activity_based"}))]
pub struct GoalInput {
    /// Who the goal is for.
    pub scope: Scope,
    /// The period it covers.
    pub period: Period,
    /// What it measures.
    pub metric: Metric,
    /// The target, in the metric's unit.
    pub target: Quantity,
    /// The strategy that set it (`manual` when set by hand).
    pub strategy: GoalStrategyKind,
    /// The process spec it was set under.
    #[serde(default)]
    pub process_spec_id: Option<ProcessSpecId>,
    /// The goal's code in another system (a CRM's), unique among goals.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(GoalPage, Goal, "A page of goals.");

/// Filters of `GET /goals`, all of which must hold: scope filters, a period, an external id.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return goals after this id (from the `next` link).
    pub after: Option<String>,
    /// Only goals of this rep.
    #[param(value_type = Option<chanlab_shared::RepId>)]
    pub rep_id: Option<String>,
    /// Only goals of this partner.
    #[param(value_type = Option<chanlab_shared::PartnerId>)]
    pub partner_id: Option<String>,
    /// Only goals of this region.
    #[param(value_type = Option<chanlab_shared::RegionId>)]
    pub region_id: Option<String>,
    /// Only goals for this period, e.g. `2026-Q4`.
    #[param(value_type = Option<chanlab_shared::Period>)]
    pub period: Option<String>,
    /// Only the goal with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(GoalQuery);

/// The scope filters of a goals or assessments query, as index values. Filters combine as
/// on every list (all must hold), so naming two scopes matches nothing: a goal has one.
pub(crate) fn scope_filter(
    rep: &Option<String>,
    partner: &Option<String>,
    region: &Option<String>,
) -> Result<Vec<String>, ApiError> {
    let rep: Option<RepId> = query_value("rep_id", rep)?;
    let partner: Option<PartnerId> = query_value("partner_id", partner)?;
    let region: Option<RegionId> = query_value("region_id", region)?;
    Ok([
        rep.map(Scope::Rep),
        partner.map(Scope::Partner),
        region.map(Scope::Region),
    ]
    .into_iter()
    .flatten()
    .map(crate::storage::scope_key)
    .collect())
}

/// The request field of a missing reference in a goal or assessment.
pub(crate) fn scoped_field(kind: Kind) -> String {
    match kind {
        Kind::Rep | Kind::Partner | Kind::Region => "scope.id".to_owned(),
        other => default_field(other),
    }
}

/// What a goal or assessment is read by in a list: its scope, period and external id.
pub(crate) struct Scoped<R> {
    /// The record's scope.
    pub scope: fn(&R) -> Scope,
    /// The record's period.
    pub period: fn(&R) -> Period,
    /// The record's external id.
    pub external: fn(&R) -> Option<&ExternalId>,
}

/// The index and filters of a goals or assessments query: the external id's index when
/// one is given, else the scope index when a scope is given, else the period index; every
/// filter is checked on every record.
pub(crate) fn scoped_plan<R: 'static>(
    scopes: Vec<String>,
    period: Option<Period>,
    external: Option<ExternalId>,
    of: Scoped<R>,
) -> ListPlan<R> {
    let index = layer::external_index(&external)
        .or(scopes.first().cloned().map(|v| ("scope", v)))
        .or(period.map(|p| ("period", p.to_string())));
    ListPlan {
        index,
        keep: Box::new(move |r| {
            period.is_none_or(|p| (of.period)(r) == p)
                && scopes
                    .iter()
                    .all(|s| crate::storage::scope_key((of.scope)(r)) == *s)
                && external
                    .as_ref()
                    .is_none_or(|e| (of.external)(r) == Some(e))
        }),
    }
}

impl Resource for Goal {
    const NAME: &'static str = "goal";
    const NOUN: &'static str = "goal";
    const PLURAL: &'static str = "goals";
    const PATH: &'static str = "/goals";
    const TAG: &'static str = "goals";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_goal",
            [Yes, Yes, No, No, No, No],
            "Creates a goal.",
        ),
        Op::new(
            Verb::List,
            "list_goals",
            [Yes, Yes, No, No, Yes, No],
            "Lists goals, optionally of one partner.",
        ),
        Op::new(
            Verb::Get,
            "get_goal",
            [Yes, Yes, No, No, Yes, No],
            "Reads a goal.",
        ),
        Op::new(
            Verb::Update,
            "update_goal",
            [Yes, Yes, No, No, No, No],
            "Replaces a goal.",
        ),
        Op::new(
            Verb::Delete,
            "delete_goal",
            [Yes, Yes, No, No, No, No],
            "Deletes a goal.",
        ),
    ];

    type Id = GoalId;
    type Input = GoalInput;
    type Query = GoalQuery;
    type Page = GoalPage;
    type Draft = Goal;
    type Context = ();

    fn new_id() -> GoalId {
        GoalId::new()
    }

    fn draft(id: GoalId, i: GoalInput) -> Result<Goal, ApiError> {
        Goal::new(
            id,
            i.scope,
            i.period,
            i.metric,
            i.target,
            i.strategy,
            i.process_spec_id,
        )
        .map(|mut g| {
            g.external_id = i.external_id;
            g
        })
        .map_err(invalid)
    }

    fn finish(draft: Goal, _current: Option<&Goal>) -> Result<Goal, ApiError> {
        Ok(draft)
    }

    fn list_plan(q: GoalQuery, _: &Caller, _: Access) -> Result<ListPlan<Goal>, ApiError> {
        let scope = scope_filter(&q.rep_id, &q.partner_id, &q.region_id)?;
        let period: Option<Period> = query_value("period", &q.period)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        Ok(scoped_plan(
            scope,
            period,
            external,
            Scoped {
                scope: Goal::scope,
                period: Goal::period,
                external: |g: &Goal| g.external_id.as_ref(),
            },
        ))
    }

    fn field_of(kind: Kind) -> String {
        scoped_field(kind)
    }
}

/// The columns of the goals CSV: `scope` is `rep`, `partner` or `region` and `scope_id` names
/// that record (by id, external id or name); `target` is a count, or a decimal in
/// `currency` for the money metrics (`currency` empty for counts).
pub const GOAL_COLUMNS: [&str; 11] = [
    "id",
    "external_id",
    "scope",
    "scope_id",
    "scope_name",
    "period",
    "metric",
    "target",
    "currency",
    "strategy",
    "process_spec_id",
];

/// A unit enum's snake_case name, as its JSON and the import's cells write it.
fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The collection a scope of kind `kind` (`rep`, `partner`, `region`) names.
pub(crate) fn scope_kind(text: &str) -> Result<Kind, ValidationError> {
    match text {
        "rep" => Ok(Kind::Rep),
        "partner" => Ok(Kind::Partner),
        "region" => Ok(Kind::Region),
        other => Err(ValidationError::new(
            "",
            format!("expected rep, partner or region, found {other:?}"),
        )),
    }
}

/// A scope's kind and id, as the CSV writes them.
pub(crate) fn scope_cells(scope: Scope) -> (&'static str, Kind, String) {
    match scope {
        Scope::Rep(id) => ("rep", Kind::Rep, id.to_string()),
        Scope::Partner(id) => ("partner", Kind::Partner, id.to_string()),
        Scope::Region(id) => ("region", Kind::Region, id.to_string()),
    }
}

/// The scope of a row: its kind's record named by `scope_id`.
pub(crate) fn scope_of(
    row: &Row,
    kind: Kind,
    refs: &mut Refs,
    errors: &mut Vec<FieldError>,
) -> Option<Scope> {
    match kind {
        Kind::Rep => refs
            .required(row, "scope_id", kind, None, errors)
            .map(Scope::Rep),
        Kind::Partner => refs
            .required(row, "scope_id", kind, None, errors)
            .map(Scope::Partner),
        _ => refs
            .required(row, "scope_id", kind, None, errors)
            .map(Scope::Region),
    }
}

/// A target cell in `metric`'s unit: a count, or a decimal in `currency`.
pub(crate) fn target_cell(
    text: &str,
    metric: Metric,
    currency: Option<Currency>,
) -> Result<Quantity, ValidationError> {
    match (metric.unit(), currency) {
        (Unit::Count, _) => text.parse::<u64>().map(Quantity::Count).map_err(|_| {
            ValidationError::new("", format!("expected a whole count, found {text:?}"))
        }),
        (Unit::Money, Some(c)) => Money::parse_decimal(text, c).map(Quantity::Amount),
        (Unit::Money, None) => Err(ValidationError::new(
            "",
            "a money target needs its currency in the currency column",
        )),
    }
}

impl CsvResource for Goal {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_goals", [Yes, Yes, No, No, No, No], "Imports goals from CSV (`id` may be empty for a new id; `scope_id` holds the id, external\nid or name of the `scope`'s record). Every row is checked first; all are imported or none.").conflicts(),
        Op::new(Verb::Export, "export_goals", [Yes, Yes, No, No, Yes, No], "Exports goals as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &GOAL_COLUMNS;
    const OPTIONAL_COLUMNS: &'static [&'static str] = &[
        "id",
        "external_id",
        "scope_name",
        "currency",
        "process_spec_id",
    ];
    const FILE_NAME: &'static str = "goals.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Region, Kind::Rep, Kind::Partner];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        let (scope, kind, id) = scope_cells(self.scope());
        let (target, currency) = match self.target() {
            Quantity::Count(n) => (n.to_string(), String::new()),
            Quantity::Amount(m) => (csv_io::decimal(m), m.currency().to_string()),
        };
        vec![
            self.id().to_string(),
            external_cell(&self.external_id),
            scope.to_owned(),
            id.clone(),
            refs.name(kind, id),
            self.period().to_string(),
            wire_name(self.metric()),
            target,
            currency,
            wire_name(self.strategy()),
            self.process_spec_id()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ]
    }

    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        refs: &mut Refs,
    ) -> Option<Goal> {
        let id = row.optional("id", errors, |t| t.parse::<GoalId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let kind = row.required("scope", errors, scope_kind);
        let scope = kind.and_then(|k| scope_of(row, k, refs, errors));
        let period = row.required("period", errors, |t| t.parse::<Period>());
        let metric = row.required("metric", errors, enum_cell::<Metric>);
        let currency = row.optional("currency", errors, Currency::parse);
        let target = match (metric, &currency) {
            (Some(m), Ok(c)) => row.required("target", errors, |t| target_cell(t, m, *c)),
            _ => None,
        };
        let strategy = row.required("strategy", errors, enum_cell::<GoalStrategyKind>);
        let spec = row.optional("process_spec_id", errors, |t| t.parse::<ProcessSpecId>());
        let (
            Ok(id),
            Ok(external_id),
            Some(scope),
            Some(period),
            Some(metric),
            Some(target),
            Some(strategy),
            Ok(spec),
        ) = (
            id,
            external_id,
            scope,
            period,
            metric,
            target,
            strategy,
            spec,
        )
        else {
            return None;
        };
        let id = id.unwrap_or_else(GoalId::new);
        match Goal::new(id, scope, period, metric, target, strategy, spec) {
            Ok(mut goal) => {
                goal.external_id = external_id;
                Some(goal)
            }
            Err(e) => {
                row.error(errors, e.field(), e.message());
                None
            }
        }
    }
}
