//! A partner's lifecycle moves: `GET`/`POST /partners/{id}/transitions` and the stage
//! history import `POST /partners/transitions/import`.
//!
//! Every move is kept as a dated [`StageChange`], so a partner's history reads in order:
//! a move is dated on or before today (UTC), and not before the partner's latest recorded
//! move; the import applies the same rules to every row.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{LifecycleStage, Partner, PartnerId, StageChange};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{field_of, in_scope};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::problem::FieldError;
use crate::records::TransitionRecord;
use crate::routes::csv_io::{self, CsvBody, ImportReport, Matched, Row, date_cell, enum_cell};
use crate::routes::layer::Refs;
use crate::routes::{Cursor, Outcome, check_if_match, invalid, next_link, page_type, write};
use crate::state::AppState;
use crate::storage::{Expect, Kind, Store, store_put};

/// A lifecycle move.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "negotiating"}))]
pub struct TransitionInput {
    /// The stage to move to.
    pub to: LifecycleStage,
    /// The day the move took effect (default today, UTC): not after today, and not before
    /// the partner's latest recorded move.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<NaiveDate>,
}

page_type!(
    StageChangePage,
    StageChange,
    "A page of a partner's stage changes, oldest first (by `on`, then id)."
);

/// The day of `partner`'s latest recorded move, if it has any. Blocking.
fn latest_move(s: &Store, partner: PartnerId) -> Result<Option<NaiveDate>, ApiError> {
    Ok(
        s.all::<TransitionRecord>(Some(("partner", &partner.to_string())))?
            .iter()
            .map(|t| t.on)
            .max(),
    )
}

/// The message for a move dated before the partner's latest recorded one.
fn dated_before(partner: PartnerId, latest: NaiveDate, on: NaiveDate) -> String {
    format!(
        "partner {partner}'s latest recorded move is on {latest}, and a history is recorded in order: expected {latest} or later, found {on}"
    )
}

/// Lists a partner's stage changes, oldest first (by `on`, then id).
///
/// Paged like the other lists: `after` is the position of the last move of the previous page
/// (`{on}_{id}`, from its `next` link), and any text is a position. A move is never dated before the partner's latest, so new moves join the
/// end and pages already read stay as they were. A caller who may not read the partner gets
/// what `GET /partners/{id}` answers.
#[utoipa::path(get, path = "/partners/{id}/transitions", tag = "partners", operation_id = "list_partner_transitions",
    params(("id" = String, Path, description = "The partner's id."), Cursor),
    responses(
        (status = 200, description = "A page of the partner's stage changes, oldest first.", body = StageChangePage),
        (status = 400, response = crate::routes::responses::BadRequest),
        (status = 401, response = crate::routes::responses::Unauthorized),
        (status = 403, response = crate::routes::responses::Forbidden),
        (status = 404, response = crate::routes::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn list_partner_transitions(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_partner_transitions")?;
    let id: PartnerId = path_id("partner", &id)?;
    let limit = query.limit()?;
    let (partner, _) = state
        .store
        .get::<Partner>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "partner",
            id: id.to_string(),
        })?;
    if !in_scope(&caller, access, &partner) {
        return Err(crate::auth::hidden("partner", id));
    }
    let mut moves = state
        .store
        .run(move |s| s.all::<TransitionRecord>(Some(("partner", &id.to_string()))))
        .await??;
    // The cursor is a position in the history's order, not a lookup: moves sort by
    // `{on}_{id}` (ISO dates and UUIDs sort as text in time order), and a page starts after
    // the cursor wherever it falls, as every other list's `after` does.
    let position = |m: &TransitionRecord| format!("{}_{}", m.on, m.id);
    moves.sort_by_cached_key(position);
    let start = match &query.after {
        None => 0,
        Some(after) => moves.partition_point(|m| position(m) <= *after),
    };
    let rest = &moves[start..];
    let items: Vec<StageChange> = rest.iter().take(limit).cloned().collect();
    let next = if rest.len() > limit {
        rest.get(limit - 1).map(position)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(StageChangePage {
        next: next_link(&req, next),
        items,
    }))
}

/// Moves a partner through its lifecycle; an illegal move is a 409 listing the legal ones.
///
/// The move is kept in the partner's history, dated `on` (default today, UTC): a date after
/// today is a 422 naming `on`, one before the partner's latest recorded move a 409 naming
/// `on`.
#[utoipa::path(post, path = "/partners/{id}/transitions", tag = "partners", operation_id = "transition_partner",
    params(("id" = String, Path, description = "The partner's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the partner changed since."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and moves nothing.")),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "Moved; the partner as it is now.", body = Partner, headers(("ETag" = String))),
        (status = 400, response = crate::routes::responses::BadRequest),
        (status = 401, response = crate::routes::responses::Unauthorized),
        (status = 403, response = crate::routes::responses::Forbidden),
        (status = 404, response = crate::routes::responses::NotFound),
        (status = 409, response = crate::routes::responses::Conflict),
        (status = 412, response = crate::routes::responses::PreconditionFailed),
        (status = 413, response = crate::routes::responses::PayloadTooLarge),
        (status = 415, response = crate::routes::responses::UnsupportedMediaType),
        (status = 422, response = crate::routes::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn transition_partner(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    idem: IdempotencyKey,
    body: Body<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("transition_partner")?;
    let id: PartnerId = path_id("partner", &id)?;
    let input = body.value;
    let today = Utc::now().date_naive();
    let on = input.on.unwrap_or(today);
    StageChange::check_on(on, today).map_err(invalid)?;
    write(&state, &caller, idem, &req, &body.raw, field_of, move |s| {
        let (mut partner, version) =
            s.get::<Partner>(&id.to_string())?
                .ok_or_else(|| ApiError::NotFound {
                    kind: "partner",
                    id: id.to_string(),
                })?;
        check_if_match(&if_match, version, "partner", &id.to_string())?;
        let from = partner.stage();
        partner
            .transition(input.to)
            .map_err(|e| ApiError::Conflict {
                detail: e.to_string(),
                allowed: e.allowed.iter().map(|s| s.to_string()).collect(),
            })?;
        if let Some(latest) = latest_move(s, id)?
            && on < latest
        {
            return Err(ApiError::ConflictingFields(vec![FieldError {
                field: "on".to_owned(),
                message: dated_before(id, latest, on),
            }]));
        }
        let record = TransitionRecord {
            id: Uuid::now_v7(),
            partner_id: id,
            from,
            to: input.to,
            on,
            owner_rep_id: partner.owner_rep_id,
        };
        let outcome = Outcome {
            status: 200,
            version: Some(version + 1),
            body: Some(serde_json::to_value(&partner).expect("partners serialise")),
            location: None,
        };
        Ok((
            vec![
                store_put(&partner, Expect::Version(version)),
                store_put(&record, Expect::Absent),
            ],
            outcome,
        ))
    })
    .await
}

/// The columns of a stage history CSV; an import may also carry `from`.
pub const TRANSITION_COLUMNS: [&str; 3] = ["partner_id", "to", "on"];

/// The column a stage history import may leave out: the stage the partner must be in
/// before the row's move.
const TRANSITION_OPTIONAL_COLUMNS: [&str; 2] = ["from", "partner_name"];

/// One row of a stage history import, parsed.
#[derive(Debug)]
struct Move {
    line: usize,
    partner: PartnerId,
    from: Option<LifecycleStage>,
    to: LifecycleStage,
    on: NaiveDate,
}

/// Imports partners' stage histories from CSV, one move per row. Every row is checked
/// first; all are applied or none.
///
/// Columns: `partner_id` (the partner's id, external id or name), `to`, `on` and optionally
/// `from` (and `partner_name`, which an export writes and an import ignores). Rows are
/// applied in file order after a stable sort by partner and `on`, each from the stage its
/// partner is in at that
/// point (starting from its current stage). A date after today (UTC) or an unknown partner
/// is a 422; a move the lifecycle graph refuses, a `from` that is not the partner's stage at
/// that point, or a date before the partner's latest recorded move is a 409 naming
/// `rows[<line>].to`, `.from` or `.on`.
#[utoipa::path(post, path = "/partners/transitions/import", tag = "partners", operation_id = "import_partner_transitions",
    request_body(content = String, content_type = "text/csv", description = "Columns: partner_id,to,on and optionally from."),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and moves nothing.")),
    responses(
        (status = 201, description = "Every move was applied; `ids` are the stage changes, in file order.", body = ImportReport),
        (status = 400, response = crate::routes::responses::BadRequest),
        (status = 401, response = crate::routes::responses::Unauthorized),
        (status = 403, response = crate::routes::responses::Forbidden),
        (status = 409, response = crate::routes::responses::Conflict),
        (status = 412, response = crate::routes::responses::PreconditionFailed),
        (status = 413, response = crate::routes::responses::PayloadTooLarge),
        (status = 415, response = crate::routes::responses::UnsupportedMediaType),
        (status = 422, response = crate::routes::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn import_partner_transitions(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    caller.allow("import_partner_transitions")?;
    // Held until the import's blocking work is done, as for every other import.
    let permit = Arc::new(state.imports.enter()?);
    let (bytes, held) = (body.0.clone(), permit.clone());
    let rows = state
        .store
        .run(move |_| {
            let _held = held;
            csv_io::read_with_optional(&bytes, &TRANSITION_COLUMNS, &TRANSITION_OPTIONAL_COLUMNS)
        })
        .await??;
    let today = Utc::now().date_naive();
    write(&state, &caller, idem, &req, &body.0, field_of, move |s| {
        let _held = permit;
        let mut refs = Refs::load(s, &[Kind::Partner])?;
        let moves = read_moves(&rows, today, &mut refs)?;
        apply_moves(s, &moves, refs.matched)
    })
    .await
}

/// The moves of a stage history file, sorted by partner and day (stable: moves of one
/// partner on one day keep their file order); `partner_id` names a partner by id,
/// external id or name. A 422 naming every bad cell otherwise.
fn read_moves(rows: &[Row], today: NaiveDate, refs: &mut Refs) -> Result<Vec<Move>, ApiError> {
    let mut errors = Vec::new();
    let mut moves = Vec::new();
    for row in rows {
        let partner =
            refs.required::<PartnerId>(row, "partner_id", Kind::Partner, None, &mut errors);
        let to = row.required("to", &mut errors, enum_cell::<LifecycleStage>);
        let on = row.required("on", &mut errors, |t| {
            let on = date_cell(t)?;
            StageChange::check_on(on, today).map(|()| on)
        });
        let from = row.optional("from", &mut errors, enum_cell::<LifecycleStage>);
        if let (Some(partner), Some(to), Some(on), Ok(from)) = (partner, to, on, from) {
            moves.push(Move {
                line: row.line,
                partner,
                from,
                to,
                on,
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    moves.sort_by_key(|m| (m.partner, m.on));
    Ok(moves)
}

/// The columns of a stage history export: the import's, with the partner's name beside
/// its id (an import ignores it) and `from` filled in.
pub const TRANSITION_EXPORT_COLUMNS: [&str; 5] = ["partner_id", "partner_name", "from", "to", "on"];

/// Exports the stage histories of the partners in the caller's scope as CSV, oldest move
/// first per partner, in the import's columns.
///
/// Stage history is written by transitions: each row is a move through the lifecycle
/// graph, and importing the file applies each row as that move (never setting a stage the
/// graph does not reach). The export therefore reimports, into partners at the stages
/// their histories start from, as the same history.
#[utoipa::path(get, path = "/partners/transitions/export.csv", tag = "partners", operation_id = "export_partner_transitions",
    responses(
        (status = 200, description = "The moves, one per row.", content_type = "text/csv", body = String),
        (status = 401, response = crate::routes::responses::Unauthorized),
        (status = 403, response = crate::routes::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn export_partner_transitions(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("export_partner_transitions")?;
    let c = caller.clone();
    let bytes = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            let names: HashMap<PartnerId, String> = s
                .all::<Partner>(None)?
                .into_iter()
                .filter(|p| in_scope(&c, access, p))
                .map(|p| (p.id, p.name.to_string()))
                .collect();
            let mut moves: Vec<TransitionRecord> = s
                .all::<TransitionRecord>(None)?
                .into_iter()
                .filter(|m| names.contains_key(&m.partner_id))
                .collect();
            moves.sort_by_key(|m| (m.partner_id, m.on, m.id));
            let rows = moves
                .iter()
                .map(|m| {
                    vec![
                        m.partner_id.to_string(),
                        names[&m.partner_id].clone(),
                        m.from.to_string(),
                        m.to.to_string(),
                        m.on.to_string(),
                    ]
                })
                .collect();
            Ok(csv_io::encode(&TRANSITION_EXPORT_COLUMNS, rows))
        })
        .await??;
    Ok(csv_io::download(&req, "stage-history.csv", bytes))
}

/// Checks `moves` (sorted by partner and day) against each partner's stored stage and
/// history and returns the writes: every stage change, and each partner at its last stage
/// at the version read (a partner moved meanwhile makes the commit a 412). Blocking.
fn apply_moves(
    s: &Store,
    moves: &[Move],
    matched: Vec<Matched>,
) -> Result<(Vec<crate::storage::Write>, Outcome), ApiError> {
    let mut missing = Vec::new();
    let mut conflicts = Vec::new();
    let mut writes = Vec::new();
    let mut ids = Vec::new();
    let error = |line: usize, column: &str, message: String| {
        (
            line,
            FieldError {
                field: format!("rows[{line}].{column}"),
                message,
            },
        )
    };
    for group in moves.chunk_by(|a, b| a.partner == b.partner) {
        let partner_id = group[0].partner;
        let Some((mut partner, version)) = s.get::<Partner>(&partner_id.to_string())? else {
            for m in group {
                missing.push(error(
                    m.line,
                    "partner_id",
                    format!("no partner with id {partner_id}"),
                ));
            }
            continue;
        };
        let mut latest = latest_move(s, partner_id)?;
        for m in group {
            if let Some(l) = latest
                && m.on < l
            {
                conflicts.push(error(m.line, "on", dated_before(partner_id, l, m.on)));
            }
            let stage = partner.stage();
            if let Some(from) = m.from
                && from != stage
            {
                conflicts.push(error(
                    m.line,
                    "from",
                    format!(
                        "partner {partner_id} is {stage} before this move (its stored stage, moved on by this file's earlier rows for it), not {from}"
                    ),
                ));
            }
            if let Err(e) = partner.transition(m.to) {
                conflicts.push(error(m.line, "to", e.to_string()));
                // Go on from the stage the file says, so that one bad row is reported once,
                // not again on every later row of the partner.
                partner = Partner::new(
                    partner.id,
                    partner.name.clone(),
                    partner.kind,
                    partner.tier,
                    partner.region_id,
                    partner.owner_rep_id,
                    m.to,
                );
            }
            let change = StageChange {
                id: Uuid::now_v7(),
                partner_id,
                from: stage,
                to: m.to,
                on: m.on,
                owner_rep_id: partner.owner_rep_id,
            };
            latest = Some(latest.map_or(m.on, |l| l.max(m.on)));
            ids.push((m.line, change.id));
            writes.push(store_put(&change, Expect::Absent));
        }
        writes.push(store_put(&partner, Expect::Version(version)));
    }
    let in_file_order = |mut errors: Vec<(usize, FieldError)>| {
        errors.sort_by_key(|(line, _)| *line);
        errors.into_iter().map(|(_, e)| e).collect()
    };
    if !missing.is_empty() {
        return Err(ApiError::Validation(in_file_order(missing)));
    }
    if !conflicts.is_empty() {
        return Err(ApiError::ConflictingFields(in_file_order(conflicts)));
    }
    ids.sort_by_key(|(line, _)| *line);
    let report = ImportReport {
        imported: ids.len(),
        ids: ids.into_iter().map(|(_, id)| id.to_string()).collect(),
        matched,
    };
    let outcome = Outcome {
        status: 201,
        version: None,
        body: Some(serde_json::to_value(report).expect("reports serialise")),
        location: None,
    };
    Ok((writes, outcome))
}
