//! `/goals`: targets for a rep, partner or region over a period, on a metric.

use actix_web::web;
use chanlab_shared::{
    Goal, GoalId, GoalStrategyKind, Metric, PartnerId, Period, ProcessSpecId, Quantity, RegionId,
    RepId, Scope,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::layer::{self, ListPlan, Op, Resource, Verb};
use super::{default_field, invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::storage::Kind;

use Access::{No, Yes};

/// Registers the goal routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
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
}

page_type!(GoalPage, Goal, "A page of goals.");

/// Filters of `GET /goals`: at most one scope filter, and a period.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return goals after this id (from the `next` link).
    pub after: Option<String>,
    /// Only goals of this rep.
    pub rep_id: Option<String>,
    /// Only goals of this partner.
    pub partner_id: Option<String>,
    /// Only goals of this region.
    pub region_id: Option<String>,
    /// Only goals for this period, e.g. `2026-Q4`.
    pub period: Option<String>,
}

layer::paged!(GoalQuery);

/// The scope filter of a goals or assessments query, as its index value.
pub(crate) fn scope_filter(
    rep: &Option<String>,
    partner: &Option<String>,
    region: &Option<String>,
) -> Result<Option<String>, ApiError> {
    let rep: Option<RepId> = query_value("rep_id", rep)?;
    let partner: Option<PartnerId> = query_value("partner_id", partner)?;
    let region: Option<RegionId> = query_value("region_id", region)?;
    let scopes: Vec<Scope> = [
        rep.map(Scope::Rep),
        partner.map(Scope::Partner),
        region.map(Scope::Region),
    ]
    .into_iter()
    .flatten()
    .collect();
    match scopes.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(crate::storage::scope_key(*one))),
        _ => Err(ApiError::BadRequest(
            "give at most one of rep_id, partner_id and region_id".to_owned(),
        )),
    }
}

/// The request field of a missing reference in a goal or assessment.
pub(crate) fn scoped_field(kind: Kind) -> String {
    match kind {
        Kind::Rep | Kind::Partner | Kind::Region => "scope.id".to_owned(),
        other => default_field(other),
    }
}

/// The index and filters of a goals or assessments query: the scope index when a scope is
/// given, else the period index; the period is checked on every record.
pub(crate) fn scoped_plan<R: 'static>(
    scope: Option<String>,
    period: Option<Period>,
    period_of: fn(&R) -> Period,
) -> ListPlan<R> {
    let index = scope
        .map(|v| ("scope", v))
        .or(period.map(|p| ("period", p.to_string())));
    ListPlan {
        index,
        keep: Box::new(move |r| period.is_none_or(|p| period_of(r) == p)),
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
        .map_err(invalid)
    }

    fn finish(draft: Goal, _current: Option<&Goal>) -> Result<Goal, ApiError> {
        Ok(draft)
    }

    fn list_plan(q: GoalQuery, _: &Caller, _: Access) -> Result<ListPlan<Goal>, ApiError> {
        let scope = scope_filter(&q.rep_id, &q.partner_id, &q.region_id)?;
        let period: Option<Period> = query_value("period", &q.period)?;
        Ok(scoped_plan(scope, period, Goal::period))
    }

    fn field_of(kind: Kind) -> String {
        scoped_field(kind)
    }
}
