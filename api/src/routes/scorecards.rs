//! `GET /reps/{id}/scorecard` and `GET /partners/{id}/scorecard`: key-link results for a
//! period, computed from the records against the process spec in force.

use actix_web::{HttpResponse, web};
use chanlab_shared::{
    Activity, Goal, Partner, PartnerId, Period, ProcessSpec, ProcessSpecId, Rep, RepId,
    SalesRecord, Scope, SpecStatus,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::query_value;
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::extract::path_id;
use crate::records::{SpecVersion, TransitionRecord};
use crate::state::AppState;
use crate::storage::{Store, scope_key};
use chanlab_shared::scorecard::{self, Evidence, PartnerScorecard, RepScorecard};

/// Parameters of a scorecard.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// The period: `2026-11`, `2026-Q4`, `2026-H2` or `2026`.
    #[param(value_type = chanlab_shared::Period)]
    pub period: String,
    /// The process spec whose cadences apply (default: the most recently published one).
    #[param(value_type = Option<chanlab_shared::ProcessSpecId>)]
    pub process_spec_id: Option<String>,
}

/// The spec version in force: the current published version of `requested`, or of the
/// most recently published spec. Blocking.
pub(crate) fn spec_in_force(
    store: &Store,
    requested: Option<ProcessSpecId>,
) -> Result<Option<ProcessSpec>, ApiError> {
    let published = match requested {
        Some(id) => {
            let id = id.to_string();
            store.all::<SpecVersion>(Some(("spec", &id)))?
        }
        None => store.all::<SpecVersion>(Some(("status", "Published")))?,
    };
    let chosen = published
        .into_iter()
        .map(|v| v.0)
        .filter(|s| s.status == SpecStatus::Published)
        .max_by_key(|s| (s.published_on, s.id, s.version.get()));
    if chosen.is_none()
        && let Some(id) = requested
    {
        return Err(ApiError::field(
            "process_spec_id",
            format!("process spec {id} has no published version"),
        ));
    }
    Ok(chosen)
}

fn period_of(query: &ScorecardQuery) -> Result<Period, ApiError> {
    query
        .period
        .parse()
        .map_err(|e: chanlab_shared::ValidationError| {
            ApiError::BadRequest(format!("query parameter period: {}", e.message()))
        })
}

fn goals_of(store: &Store, scope: Scope, period: Period) -> Result<Vec<Goal>, ApiError> {
    let key = scope_key(scope);
    Ok(store
        .all::<Goal>(Some(("scope", &key)))?
        .into_iter()
        .filter(|g| g.period() == period)
        .collect())
}

/// The scorecard of a rep: its partners' cadences against its activities, its goals, its
/// partners' sales (its partners in its region only).
#[utoipa::path(get, path = "/reps/{id}/scorecard", tag = "reps", operation_id = "rep_scorecard",
    params(("id" = String, Path, description = "The rep's id."), ScorecardQuery),
    responses(
        (status = 200, description = "The rep's key-link results for the period.", body = RepScorecard),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn rep_scorecard(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: web::Query<ScorecardQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("rep_scorecard")?;
    let id: RepId = path_id("rep", &id)?;
    let period = period_of(&query)?;
    let spec_id: Option<ProcessSpecId> = query_value("process_spec_id", &query.process_spec_id)?;
    let c = caller.clone();
    let card = state
        .store
        .run(move |s| -> Result<RepScorecard, ApiError> {
            let (rep, _) = s
                .get::<Rep>(&id.to_string())?
                .ok_or_else(|| ApiError::NotFound {
                    kind: "rep",
                    id: id.to_string(),
                })?;
            let allowed = match (access, c.principal) {
                (Access::Yes, _) => true,
                (Access::Own, Principal::RegionalManager(r)) => rep.region_id == r,
                (Access::Own, Principal::Rep(me)) => rep.id == me,
                _ => false,
            };
            if !allowed {
                return Err(crate::auth::hidden("rep", id));
            }
            let spec = spec_in_force(s, spec_id)?;
            let rep_key = id.to_string();
            // Its partners in its region: a partner's owner rep works in the partner's
            // region, and records stored before that rule was kept may name an owner of
            // another region; counting those would show the rep's regional manager sales
            // it may not read.
            let partners: Vec<Partner> = s
                .all::<Partner>(Some(("owner_rep", &rep_key)))?
                .into_iter()
                .filter(|p| p.region_id == rep.region_id)
                .collect();
            let activities = s.all::<Activity>(Some(("rep", &rep_key)))?;
            let mut sales = Vec::new();
            let mut transitions = Vec::new();
            for p in &partners {
                let pk = p.id.to_string();
                sales.extend(s.all::<SalesRecord>(Some(("partner", &pk)))?);
                transitions.extend(
                    s.all::<TransitionRecord>(Some(("partner", &pk)))?
                        .into_iter()
                        .filter(|t| t.owner_rep_id == Some(id)),
                );
            }
            let goals = goals_of(s, Scope::Rep(id), period)?;
            let cadences = scorecard::cadences(spec.as_ref(), &partners, &activities, period);
            let evidence = Evidence {
                activities: &activities,
                sales: &sales,
                transitions: &transitions,
            };
            let signed = transitions
                .iter()
                .filter(|t| {
                    t.to == chanlab_shared::LifecycleStage::Contracted
                        && chanlab_shared::Month::of_date(t.on).is_ok_and(|m| period.contains(m))
                })
                .count() as u64;
            Ok(RepScorecard {
                rep_id: id,
                period,
                process_spec_id: spec.as_ref().map(|sp| sp.id),
                spec_version: spec.as_ref().map(|sp| sp.version.get()),
                partners: partners.len() as u64,
                compliance: scorecard::compliance(&cadences),
                cadences,
                goals: scorecard::goal_results(&goals, evidence).map_err(too_large)?,
                sales: scorecard::sales_summary(&sales, period).map_err(too_large)?,
                partners_signed: signed,
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(card))
}

/// The scorecard of a partner: its tier's cadences against the activities with it, its
/// goals, its sell-in against sell-through.
#[utoipa::path(get, path = "/partners/{id}/scorecard", tag = "partners", operation_id = "partner_scorecard",
    params(("id" = String, Path, description = "The partner's id."), ScorecardQuery),
    responses(
        (status = 200, description = "The partner's key-link results for the period.", body = PartnerScorecard),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn partner_scorecard(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: web::Query<ScorecardQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("partner_scorecard")?;
    let id: PartnerId = path_id("partner", &id)?;
    let period = period_of(&query)?;
    let spec_id: Option<ProcessSpecId> = query_value("process_spec_id", &query.process_spec_id)?;
    let c = caller.clone();
    let card = state
        .store
        .run(move |s| -> Result<PartnerScorecard, ApiError> {
            let (partner, _) =
                s.get::<Partner>(&id.to_string())?
                    .ok_or_else(|| ApiError::NotFound {
                        kind: "partner",
                        id: id.to_string(),
                    })?;
            if !super::partners::in_scope(&c, access, &partner) {
                return Err(crate::auth::hidden("partner", id));
            }
            let spec = spec_in_force(s, spec_id)?;
            let key = id.to_string();
            let activities = s.all::<Activity>(Some(("partner", &key)))?;
            let sales = s.all::<SalesRecord>(Some(("partner", &key)))?;
            let transitions = s.all::<TransitionRecord>(Some(("partner", &key)))?;
            let goals = goals_of(s, Scope::Partner(id), period)?;
            let cadences = scorecard::cadences(
                spec.as_ref(),
                std::slice::from_ref(&partner),
                &activities,
                period,
            );
            let evidence = Evidence {
                activities: &activities,
                sales: &sales,
                transitions: &transitions,
            };
            Ok(PartnerScorecard {
                partner_id: id,
                period,
                stage: partner.stage(),
                process_spec_id: spec.as_ref().map(|sp| sp.id),
                spec_version: spec.as_ref().map(|sp| sp.version.get()),
                compliance: scorecard::compliance(&cadences),
                cadences,
                goals: scorecard::goal_results(&goals, evidence).map_err(too_large)?,
                sales: scorecard::sales_summary(&sales, period).map_err(too_large)?,
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(card))
}

/// A 422 naming the scorecard figure that money cannot hold (beyond 2^53 - 1 minor units).
fn too_large(e: chanlab_shared::ValidationError) -> ApiError {
    ApiError::Validation(vec![e.into()])
}
