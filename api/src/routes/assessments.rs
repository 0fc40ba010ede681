//! `/assessments`: scorecards of a rep, partner or region for a period against one version
//! of a process spec.

use actix_web::web;
use chanlab_shared::{
    Assessment, AssessmentId, ExternalId, KeyLinkResult, Period, PositiveCount, ProcessSpecId,
    Scope,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::goals::{Scoped, scope_filter, scoped_field, scoped_plan};
use super::layer::{self, ListPlan, Op, Resource, Verb};
use super::{invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::storage::Kind;

use Access::{No, Yes};

/// Registers the assessment routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure::<Assessment>(cfg);
}

/// An assessment as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scope": {"kind": "rep", "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}, "period": "2026-Q4", "process_spec_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a08", "spec_version": 1, "results": [{"metric": "visits", "weight": 1.0, "target": {"count": 24}, "actual": {"count": 20}}]}))]
pub struct AssessmentInput {
    /// Who was assessed.
    pub scope: Scope,
    /// The period assessed.
    pub period: Period,
    /// The spec assessed against.
    pub process_spec_id: ProcessSpecId,
    /// The version of that spec.
    pub spec_version: PositiveCount,
    /// The key-link results; weights sum to 1.
    pub results: Vec<KeyLinkResult>,
    /// The assessment's code in another system (a CRM's), unique among assessments.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(AssessmentPage, Assessment, "A page of assessments.");

/// Filters of `GET /assessments`: at most one scope filter, and a period.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return assessments after this id (from the `next` link).
    pub after: Option<String>,
    /// Only assessments of this rep.
    pub rep_id: Option<String>,
    /// Only assessments of this partner.
    pub partner_id: Option<String>,
    /// Only assessments of this region.
    pub region_id: Option<String>,
    /// Only assessments for this period, e.g. `2026-Q4`.
    #[param(value_type = Option<chanlab_shared::Period>)]
    pub period: Option<String>,
    /// Only the assessment with this external id.
    pub external_id: Option<String>,
}

layer::paged!(AssessmentQuery);

impl Resource for Assessment {
    const NAME: &'static str = "assessment";
    const NOUN: &'static str = "assessment";
    const PLURAL: &'static str = "assessments";
    const PATH: &'static str = "/assessments";
    const TAG: &'static str = "assessments";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_assessment",
            [Yes, Yes, No, No, No, No],
            "Creates an assessment.",
        ),
        Op::new(
            Verb::List,
            "list_assessments",
            [Yes, Yes, No, No, Yes, No],
            "Lists assessments, optionally of one partner.",
        ),
        Op::new(
            Verb::Get,
            "get_assessment",
            [Yes, Yes, No, No, Yes, No],
            "Reads an assessment.",
        ),
        Op::new(
            Verb::Update,
            "update_assessment",
            [Yes, Yes, No, No, No, No],
            "Replaces an assessment.",
        ),
        Op::new(
            Verb::Delete,
            "delete_assessment",
            [Yes, Yes, No, No, No, No],
            "Deletes an assessment.",
        ),
    ];

    type Id = AssessmentId;
    type Input = AssessmentInput;
    type Query = AssessmentQuery;
    type Page = AssessmentPage;
    type Draft = Assessment;
    type Context = ();

    fn new_id() -> AssessmentId {
        AssessmentId::new()
    }

    fn draft(id: AssessmentId, i: AssessmentInput) -> Result<Assessment, ApiError> {
        Assessment::new(
            id,
            i.scope,
            i.period,
            i.process_spec_id,
            i.spec_version,
            i.results,
        )
        .map(|mut a| {
            a.external_id = i.external_id;
            a
        })
        .map_err(invalid)
    }

    fn finish(draft: Assessment, _current: Option<&Assessment>) -> Result<Assessment, ApiError> {
        Ok(draft)
    }

    fn list_plan(
        q: AssessmentQuery,
        _: &Caller,
        _: Access,
    ) -> Result<ListPlan<Assessment>, ApiError> {
        let scope = scope_filter(&q.rep_id, &q.partner_id, &q.region_id)?;
        let period: Option<Period> = query_value("period", &q.period)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        Ok(scoped_plan(
            scope,
            period,
            external,
            Scoped {
                scope: Assessment::scope,
                period: Assessment::period,
                external: |a: &Assessment| a.external_id.as_ref(),
            },
        ))
    }

    fn field_of(kind: Kind) -> String {
        scoped_field(kind)
    }
}
