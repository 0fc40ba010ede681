//! `/exercises` and `/training/sessions`: the training sandbox over HTTP.
//!
//! Exercises are the bundled ones (`chanlab train list`). A session belongs to the token
//! that created it: only that token plays its rounds; trainers (channel managers), admins
//! and viewers read every session, a trainee or regional manager only its own. Playing a
//! round simulates (about 0.1 to 2 s), so it runs with the commit on the blocking pool, and
//! one round of a session is played at a time (409 for a second one meanwhile).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_sim::training::{Exercise, Session};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::scenarios::{OptionalBody, uuid_path};
use super::{
    Cursor, Outcome, default_field, json_with_etag, next_link, page_type, resource, write,
};
use crate::auth::{Access, Caller, TokenRecord};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey};
use crate::state::AppState;
use crate::storage::{Expect, store_put};
use crate::training::{
    self, ExerciseDetail, ExerciseSummary, Leaderboard, RoundResult, TrainingSessionRecord,
    TrainingSessionView,
};

/// Registers the training routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/exercises").route(web::get().to(list_exercises)))
        .service(resource("/exercises/{id}").route(web::get().to(get_exercise)))
        .service(resource("/exercises/{id}/leaderboard").route(web::get().to(exercise_leaderboard)))
        .service(
            resource("/training/sessions")
                .route(web::get().to(list_training_sessions))
                .route(web::post().to(create_training_session)),
        )
        .service(resource("/training/sessions/{id}").route(web::get().to(get_training_session)))
        .service(
            resource("/training/sessions/{id}/rounds").route(web::post().to(play_training_round)),
        );
}

page_type!(ExercisePage, ExerciseSummary, "The bundled exercises.");

/// A training session in a list: who plays which exercise, how far, and the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrainingSessionSummary {
    /// The session's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The exercise's id.
    pub exercise: String,
    /// Who plays: the label of the token that created it.
    pub player: String,
    /// The id of that token.
    #[schema(value_type = String, format = Uuid)]
    pub token_id: Uuid,
    /// The seed.
    pub seed: u64,
    /// Replications per simulation.
    pub replications: u32,
    /// Rounds played so far.
    pub rounds_played: u32,
    /// Whether every round has been played.
    pub finished: bool,
    /// Once finished: the mean score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
}

page_type!(
    TrainingSessionPage,
    TrainingSessionSummary,
    "A page of training sessions."
);

/// `POST /training/sessions`: the exercise to play, and optionally the seed and
/// replications.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"exercise": "stretch-goal-trap", "seed": 7, "replications": 60}))]
pub struct SessionRequest {
    /// The exercise's id (`GET /exercises`).
    pub exercise: String,
    /// Seed; the exercise's when left out. The same seed and decisions replay the same
    /// session.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Replications per simulation, 2 to 500; the exercise's when left out. Fewer are
    /// quicker and show luck less precisely.
    #[serde(default)]
    pub replications: Option<u32>,
}

/// `POST /training/sessions/{id}/rounds`: this round's decisions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decisions": {"assessment": "yes", "pay": "fifth"}}))]
pub struct RoundRequest {
    /// Decision id → choice id. A decision left out takes its default; an empty body
    /// takes every default.
    #[serde(default)]
    pub decisions: BTreeMap<String, String>,
}

/// Filters of `GET /training/sessions`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return sessions after this id: the `next` link of the previous page carries it.
    pub after: Option<String>,
    /// Only sessions of this exercise.
    pub exercise: Option<String>,
}

/// Size of `GET /exercises/{id}/leaderboard`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// Entries to return, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// The bundled exercises, loaded on the blocking pool the first time.
async fn catalogue(state: &AppState) -> Result<&'static [Exercise], ApiError> {
    if let Some(all) = training::loaded() {
        return Ok(all);
    }
    Ok(state.store.run(|_| training::exercises()).await?)
}

/// The exercise `id` named in a path, or 404.
async fn exercise_at(state: &AppState, id: &str) -> Result<&'static Exercise, ApiError> {
    catalogue(state)
        .await?
        .iter()
        .find(|e| e.file.id == id)
        .ok_or_else(|| ApiError::NotFound {
            kind: "exercise",
            id: id.to_owned(),
        })
}

fn stored_exercise(
    all: &'static [Exercise],
    record: &TrainingSessionRecord,
) -> Result<&'static Exercise, ApiError> {
    all.iter()
        .find(|e| e.file.id == record.exercise)
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "training session {} refers to exercise {}, which is not bundled",
                record.id, record.exercise
            ))
        })
}

/// Refuses a caller limited to its own sessions (`access`) a session another token
/// created: a 403 when the caller may read every session (a trainer reads but plays only
/// its own), else the 404 of an unknown session, which tells it nothing of others' sessions.
fn check_owner(
    caller: &Caller,
    access: Access,
    owner_hash: &str,
    id: Uuid,
) -> Result<(), ApiError> {
    if access == Access::Yes || caller.token_hash == owner_hash {
        return Ok(());
    }
    if crate::auth::access("get_training_session", caller.principal.role()) == Some(Access::Yes) {
        return Err(ApiError::Forbidden(format!(
            "training session {id} belongs to another token; a {} token plays only the sessions it created",
            caller.principal.role().as_str()
        )));
    }
    Err(crate::auth::hidden("training_session", id))
}

/// Sessions with a round being played, in this process: a second request for the same
/// session waits for nothing and is answered 409.
static PLAYING: Mutex<BTreeSet<Uuid>> = Mutex::new(BTreeSet::new());

struct Playing(Uuid);

impl Playing {
    /// Claims session `id` for one round, if fewer than `most` rounds are being played in
    /// this process: a round simulates on the blocking pool for up to a few seconds, and
    /// unbounded, 400 of them at once took both cores for 36 s (admission control, as
    /// for runs: 429 with `Retry-After`).
    fn claim(id: Uuid, most: usize) -> Result<Playing, ApiError> {
        let mut playing = PLAYING.lock().expect("playing lock");
        if playing.contains(&id) {
            return Err(round_in_play(id));
        }
        if playing.len() >= most {
            return Err(ApiError::TooManyRequests {
                title: "Too many training rounds at once",
                detail: format!(
                    "{} training rounds are being played, as many as this server plays at once (`chanlab serve --max-training-rounds`); retry after the Retry-After seconds",
                    playing.len()
                ),
                retry_after: 1,
            });
        }
        playing.insert(id);
        Ok(Playing(id))
    }
}

/// 409: another request is playing a round of session `id`. In this process [`PLAYING`]
/// says so before anything is simulated; between instances sharing a store the session's
/// version does, at the commit (the round played there was stored first).
fn round_in_play(id: Uuid) -> ApiError {
    ApiError::Conflict {
        detail: format!(
            "a round of training session {id} is being played; GET the session once that request is answered"
        ),
        allowed: Vec::new(),
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        PLAYING.lock().expect("playing lock").remove(&self.0);
    }
}

/// Lists the bundled exercises: what each is about, its rounds and decisions, and how it
/// is scored. The lesson is told by the debrief, at the end of a session.
#[utoipa::path(get, path = "/exercises", tag = "training", operation_id = "list_exercises",
    responses(
        (status = 200, description = "Every exercise; `next` is always null.", body = ExercisePage),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_exercises(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_exercises")?;
    let items = catalogue(&state)
        .await?
        .iter()
        .map(training::summary_of)
        .collect();
    Ok(HttpResponse::Ok().json(ExercisePage { items, next: None }))
}

/// Reads an exercise: its briefing, decisions and scoring.
#[utoipa::path(get, path = "/exercises/{id}", tag = "training", operation_id = "get_exercise",
    params(("id" = String, Path, description = "The exercise's id, e.g. `stretch-goal-trap`.")),
    responses(
        (status = 200, description = "The exercise.", body = ExerciseDetail),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_exercise(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_exercise")?;
    let e = exercise_at(&state, &id).await?;
    Ok(HttpResponse::Ok().json(training::detail_of(e)))
}

/// The exercise's finished sessions, best score first, with each score's percentile among
/// the fixed policies, who played (the label of the session's token) and when.
#[utoipa::path(get, path = "/exercises/{id}/leaderboard", tag = "training", operation_id = "exercise_leaderboard",
    params(("id" = String, Path, description = "The exercise's id."), LeaderboardQuery),
    responses(
        (status = 200, description = "The leaderboard.", body = Leaderboard),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn exercise_leaderboard(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: web::Query<LeaderboardQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("exercise_leaderboard")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let e = exercise_at(&state, &id).await?;
    let exercise = e.file.id.clone();
    let finished = state
        .store
        .run(move |s| s.all::<TrainingSessionRecord>(Some(("finished", &exercise))))
        .await??;
    Ok(HttpResponse::Ok().json(training::leaderboard(e, finished, limit)))
}

/// Starts a training session on an exercise.
///
/// The session belongs to the calling token: only it plays the rounds. The answer has the
/// briefing and the decisions to take; `POST /training/sessions/{id}/rounds` plays each
/// round. An unknown exercise is a 422 on `exercise`.
#[utoipa::path(post, path = "/training/sessions", tag = "training", operation_id = "create_training_session",
    request_body = SessionRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first session and creates nothing new.")),
    responses(
        (status = 201, description = "Started: no round played yet.", body = TrainingSessionView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_training_session(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<SessionRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_training_session")?;
    let all = catalogue(&state).await?;
    let request = &body.value;
    let e = all
        .iter()
        .find(|e| e.file.id == request.exercise)
        .ok_or_else(|| {
            ApiError::field(
                "exercise",
                format!(
                    "no exercise {:?}; exercises: {}",
                    request.exercise,
                    all.iter()
                        .map(|e| e.file.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    training::check_replications(request.replications)?;
    let session =
        Session::new(e, request.seed, request.replications).map_err(training::api_error)?;
    let (seed, replications) = (session.seed(), session.replications());
    let hash = caller.token_hash.clone();
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |s| {
            let token = s
                .list::<TokenRecord>(Some(("hash", &hash)), None, 1, &|_| true)?
                .items
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Internal("the caller's token is not stored".into()))?;
            let record = TrainingSessionRecord {
                id: Uuid::now_v7(),
                exercise: e.file.id.clone(),
                seed,
                replications,
                token_id: token.id,
                player: token.label.as_str().to_owned(),
                owner_hash: hash,
                created_at: Utc::now(),
                finished_at: None,
                rounds: Vec::new(),
                debrief: None,
            };
            let view = training::view_of(&record, e);
            Ok((
                vec![store_put(&record, Expect::Absent)],
                Outcome {
                    status: 201,
                    version: Some(1),
                    body: Some(serde_json::to_value(&view).expect("sessions serialise")),
                    location: Some(format!("/training/sessions/{}", record.id)),
                },
            ))
        },
    )
    .await
}

/// Lists training sessions, oldest first: every session for a trainer (channel manager),
/// an admin or a viewer, the caller's own for a trainee or regional manager.
#[utoipa::path(get, path = "/training/sessions", tag = "training", operation_id = "list_training_sessions",
    params(SessionFilter),
    responses(
        (status = 200, description = "A page of sessions.", body = TrainingSessionPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_training_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<SessionFilter>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_training_sessions")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let after = query.after.clone();
    let exercise = query.exercise.clone();
    let owner = (access != Access::Yes).then(|| caller.token_hash.clone());
    let page = state
        .store
        .run(move |s| {
            let filter = match (&owner, &exercise) {
                (Some(h), _) => Some(("owner", h.as_str())),
                (None, Some(x)) => Some(("exercise", x.as_str())),
                (None, None) => None,
            };
            let keep =
                |r: &TrainingSessionRecord| exercise.as_ref().is_none_or(|x| &r.exercise == x);
            s.list::<TrainingSessionRecord>(filter, after.as_deref(), limit, &keep)
        })
        .await??;
    let items = page
        .items
        .into_iter()
        .map(|r| TrainingSessionSummary {
            id: r.id,
            rounds_played: u32::try_from(r.rounds.len()).unwrap_or(u32::MAX),
            finished: r.debrief.is_some(),
            score: r.debrief.as_ref().and_then(|d| d.score.mean),
            exercise: r.exercise,
            player: r.player,
            token_id: r.token_id,
            seed: r.seed,
            replications: r.replications,
            created_at: r.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(TrainingSessionPage {
        items,
        next: next_link(&req, page.next_after),
    }))
}

/// Reads a training session: the briefing and decisions, every round played (its decisions
/// and what happened) and, once finished, the score and debrief.
#[utoipa::path(get, path = "/training/sessions/{id}", tag = "training", operation_id = "get_training_session",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The session.", body = TrainingSessionView, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_training_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_training_session")?;
    let id = uuid_path("training_session", &id)?;
    // A point read, on the worker like every other one.
    let (record, version) = state
        .store
        .get::<TrainingSessionRecord>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "training_session",
            id: id.to_string(),
        })?;
    check_owner(&caller, access, &record.owner_hash, id)?;
    let e = stored_exercise(catalogue(&state).await?, &record)?;
    Ok(json_with_etag(&training::view_of(&record, e), version))
}

/// Plays the next round of a session with this round's decisions, and reports it.
///
/// Each decision left out takes its default. The simulator plays the round forward on the
/// session's channel (the rounds before stay as they were) over the session's replications;
/// the report gives each figure's mean and the band luck put around it. After the last
/// round the answer also carries the score and the debrief. A choice the decision does not
/// offer is a 422 naming `decisions.<decision id>`; a finished session is a 409; only the
/// token that created the session plays it.
#[utoipa::path(post, path = "/training/sessions/{id}/rounds", tag = "training", operation_id = "play_training_round",
    params(("id" = String, Path, description = "The session's id."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first answer and plays no further round.")),
    request_body(content = RoundRequest, description = "Optional: an empty body takes every default."),
    responses(
        (status = 200, description = "The round played.", body = RoundResult, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 422, response = super::responses::Unprocessable),
        (status = 429, response = super::responses::TooManyRequests),
    ),
    security(("bearer" = [])))]
pub async fn play_training_round(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    id: web::Path<String>,
    body: OptionalBody<RoundRequest>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("play_training_round")?;
    let id = uuid_path("training_session", &id)?;
    let all = catalogue(&state).await?;
    let _playing = Playing::claim(id, state.max_training_rounds).inspect_err(|e| {
        if matches!(e, ApiError::TooManyRequests { .. }) {
            state.store.metrics().training_round(false);
        }
    })?;
    let choices = body.value.decisions;
    let who = caller.clone();
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |s| {
            let (record, version) = s
                .get::<TrainingSessionRecord>(&id.to_string())?
                .ok_or_else(|| ApiError::NotFound {
                    kind: "training_session",
                    id: id.to_string(),
                })?;
            check_owner(&who, access, &record.owner_hash, id)?;
            let e = stored_exercise(all, &record)?;
            let next = training::play(&record, e, &choices)?;
            let report =
                next.rounds.last().cloned().ok_or_else(|| {
                    ApiError::Internal("a played round left no report".to_owned())
                })?;
            let result = RoundResult {
                session_id: id,
                report,
                rounds_played: u32::try_from(next.rounds.len()).unwrap_or(u32::MAX),
                rounds_total: e.file.rounds,
                finished: next.debrief.is_some(),
                score: next.debrief.as_ref().and_then(|d| d.score.mean),
                debrief: next.debrief.clone(),
            };
            Ok((
                vec![store_put(&next, Expect::Version(version))],
                Outcome {
                    status: 200,
                    version: Some(version + 1),
                    body: Some(serde_json::to_value(&result).expect("rounds serialise")),
                    location: None,
                },
            ))
        },
    )
    .await
    .map_err(|e| match e {
        // No If-Match here: a changed version is another instance's round, stored first.
        ApiError::PreconditionFailed(_) => round_in_play(id),
        e => e,
    })
    .inspect(|answer| {
        // A replayed answer played nothing.
        if !answer.headers().contains_key("idempotent-replayed") {
            state.store.metrics().training_round(true);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The only test in this process that claims sessions, so `PLAYING` holds only its own.
    #[test]
    fn rounds_beyond_the_limit_are_429_and_a_session_in_play_409() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let first = Playing::claim(a, 1).expect("a first round is admitted");
        match Playing::claim(b, 1) {
            Err(ApiError::TooManyRequests { retry_after, .. }) => assert!(retry_after >= 1),
            other => panic!("a second round beyond the limit: {:?}", other.map(|_| ())),
        }
        assert!(matches!(
            Playing::claim(a, 2),
            Err(ApiError::Conflict { .. })
        ));
        drop(first);
        let second = Playing::claim(b, 1).expect("room again once the first is done");
        drop(second);
        assert!(PLAYING.lock().unwrap().is_empty(), "every claim is let go");
    }
}
