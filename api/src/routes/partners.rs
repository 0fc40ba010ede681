//! `/partners`: channel partners and their lifecycle. A partner is never deleted; it moves
//! to `churned` (or `lost`) through `POST /partners/{id}/transitions`.
//!
//! Every move is kept as a dated [`StageChange`], so a partner's history reads in order:
//! a move is dated on or before today (UTC), and not before the partner's latest recorded
//! move. `POST /partners/transitions/import` loads a history from CSV under the same rules.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{
    LifecycleStage, Name, Partner, PartnerId, PartnerKind, RegionId, RepId, StageChange, Tier,
};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::csv_io::{self, CsvBody, ImportReport, Row, date_cell, enum_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Resource, Verb};
use super::{
    Cursor, Outcome, check_if_match, invalid, next_link, page_type, query_enum, query_value,
    resource, write,
};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::problem::FieldError;
use crate::records::TransitionRecord;
use crate::state::AppState;
use crate::storage::{Expect, Kind, Store, index_key, store_put};

use Access::{No, Own, Yes};

/// Registers the partner routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Partner>(cfg);
    cfg.service(
        resource("/partners/transitions/import").route(web::post().to(import_partner_transitions)),
    );
    layer::configure::<Partner>(cfg);
    cfg.service(
        resource("/partners/{id}/transitions")
            .route(web::get().to(list_partner_transitions))
            .route(web::post().to(transition_partner)),
    )
    .service(
        resource("/partners/{id}/scorecard")
            .route(web::get().to(super::scorecards::partner_scorecard)),
    );
}

fn field_of(kind: Kind) -> String {
    match kind {
        Kind::Rep => "owner_rep_id".to_owned(),
        other => super::default_field(other),
    }
}

/// A partner as written by a client. `stage` may be given on create (default `prospect`);
/// on update it must be the current stage: stages change only through transitions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Nordic Distribution AB", "kind": "distributor", "tier": "A", "region_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01", "owner_rep_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}))]
pub struct PartnerInput {
    /// Trading name.
    pub name: Name,
    /// What sort of business it is.
    pub kind: PartnerKind,
    /// Its tier.
    pub tier: Tier,
    /// Its region.
    pub region_id: RegionId,
    /// The rep who owns the relationship.
    #[serde(default)]
    pub owner_rep_id: Option<RepId>,
    /// Lifecycle stage: on create, where the partner starts (default `prospect`).
    #[serde(default)]
    pub stage: Option<LifecycleStage>,
}

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

page_type!(PartnerPage, Partner, "A page of partners.");
page_type!(
    StageChangePage,
    StageChange,
    "A page of a partner's stage changes, oldest first (by `on`, then id)."
);

/// Filters of `GET /partners`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return partners after this id (from the `next` link).
    pub after: Option<String>,
    /// Only partners of this region.
    pub region_id: Option<String>,
    /// Only partners of this tier (`A`, `B`, `C`).
    pub tier: Option<String>,
    /// Only partners in this stage (e.g. `at_risk`).
    pub stage: Option<String>,
    /// Only partners owned by this rep.
    pub owner_rep_id: Option<String>,
}

pub(crate) fn in_scope(caller: &Caller, access: Access, partner: &Partner) -> bool {
    match (access, caller.principal) {
        (Access::Yes, _) => true,
        (Access::Own, Principal::RegionalManager(r)) => partner.region_id == r,
        (Access::Own, Principal::Rep(rep)) => partner.owner_rep_id == Some(rep),
        _ => false,
    }
}

fn build(id: PartnerId, input: PartnerInput, stage: LifecycleStage) -> Partner {
    Partner::new(
        id,
        input.name,
        input.kind,
        input.tier,
        input.region_id,
        input.owner_rep_id,
        stage,
    )
}

impl Resource for Partner {
    const NAME: &'static str = "partner";
    const NOUN: &'static str = "partner";
    const PLURAL: &'static str = "partners";
    const PATH: &'static str = "/partners";
    const TAG: &'static str = "partners";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_partner",
            [Yes, Yes, No, No, No, No],
            "Creates a partner.",
        ),
        Op::new(
            Verb::List,
            "list_partners",
            [Yes, Yes, Own, Own, Yes, No],
            "Lists partners, filtered by region, tier, stage and owner rep.",
        ),
        Op::new(
            Verb::Get,
            "get_partner",
            [Yes, Yes, Own, Own, Yes, No],
            "Reads a partner.",
        ),
        Op::new(
            Verb::Update,
            "update_partner",
            [Yes, Yes, No, No, No, No],
            "Replaces a partner's details (not its stage: see the transitions endpoint).",
        )
        .conflicts(),
    ];

    type Id = PartnerId;
    type Input = PartnerInput;
    type Query = PartnerQuery;
    type Page = PartnerPage;
    /// The stage is checked against the stored partner's, so the input waits for it.
    type Draft = (PartnerId, PartnerInput);
    type Context = ();

    fn new_id() -> PartnerId {
        PartnerId::new()
    }

    fn draft(id: PartnerId, input: PartnerInput) -> Result<Self::Draft, ApiError> {
        Ok((id, input))
    }

    /// On create the partner starts where the input says (default `prospect`); on update
    /// it keeps its stage, and an input naming another is a 409 pointing at transitions.
    fn finish((id, input): Self::Draft, current: Option<&Partner>) -> Result<Partner, ApiError> {
        let Some(current) = current else {
            let stage = input.stage.unwrap_or(LifecycleStage::Prospect);
            return Ok(build(id, input, stage));
        };
        let stage = current.stage();
        if input.stage.is_some_and(|st| st != stage) {
            return Err(ApiError::Conflict {
                detail: format!(
                    "the partner is {stage}; change its stage with POST /partners/{id}/transitions"
                ),
                allowed: stage.allowed_next().iter().map(|s| s.to_string()).collect(),
            });
        }
        Ok(build(id, input, stage))
    }

    fn in_scope(caller: &Caller, access: Access, partner: &Partner, _: &()) -> bool {
        in_scope(caller, access, partner)
    }

    fn cursor(q: &PartnerQuery) -> Cursor {
        Cursor {
            limit: q.limit,
            after: q.after.clone(),
        }
    }

    fn list_plan(
        q: PartnerQuery,
        caller: &Caller,
        access: Access,
    ) -> Result<ListPlan<Partner>, ApiError> {
        let region: Option<RegionId> = query_value("region_id", &q.region_id)?;
        let owner: Option<RepId> = query_value("owner_rep_id", &q.owner_rep_id)?;
        let tier: Option<Tier> = query_enum("tier", &q.tier)?;
        let stage: Option<LifecycleStage> = query_enum("stage", &q.stage)?;
        match (access, caller.principal) {
            (Access::Own, Principal::RegionalManager(r)) if region.is_some_and(|x| x != r) => {
                return Err(caller.principal.out_of_scope("another region"));
            }
            (Access::Own, Principal::Rep(p)) if owner.is_some_and(|x| x != p) => {
                return Err(caller.principal.out_of_scope("another rep's partners"));
            }
            _ => {}
        }
        // The most selective index first; the other filters are checked on each record.
        let index = match (access, caller.principal) {
            (Access::Own, Principal::Rep(p)) => Some(("owner_rep", p.to_string())),
            _ => owner
                .map(|o| ("owner_rep", o.to_string()))
                .or(region.map(|r| ("region", r.to_string())))
                .or(stage.map(|s| ("stage", index_key::stage(s).to_owned())))
                .or(tier.map(|t| ("tier", index_key::tier(t).to_owned()))),
        };
        Ok(ListPlan {
            index,
            keep: Box::new(move |p: &Partner| {
                region.is_none_or(|r| p.region_id == r)
                    && owner.is_none_or(|o| p.owner_rep_id == Some(o))
                    && tier.is_none_or(|t| p.tier == t)
                    && stage.is_none_or(|st| p.stage() == st)
            }),
        })
    }

    fn field_of(kind: Kind) -> String {
        field_of(kind)
    }
}

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
/// Paged like the other lists: `after` is the id of the last move of the previous page (its
/// `next` link). A move is never dated before the partner's latest, so new moves join the
/// end and pages already read stay as they were. A caller who may not read the partner gets
/// what `GET /partners/{id}` answers.
#[utoipa::path(get, path = "/partners/{id}/transitions", tag = "partners", operation_id = "list_partner_transitions",
    params(("id" = String, Path, description = "The partner's id."), Cursor),
    responses(
        (status = 200, description = "A page of the partner's stage changes, oldest first.", body = StageChangePage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
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
        return Err(caller.principal.out_of_scope(&format!("partner {id}")));
    }
    let mut moves = state
        .store
        .run(move |s| s.all::<TransitionRecord>(Some(("partner", &id.to_string()))))
        .await??;
    moves.sort_by_key(|m| (m.on, m.id));
    let start = match &query.after {
        None => 0,
        Some(after) => {
            moves
                .iter()
                .position(|m| m.id.to_string() == *after)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "query parameter after: partner {id} has no move {after:?}; pass the id of the last move of the previous page (its `next` link)"
                    ))
                })?
                + 1
        }
    };
    let rest = &moves[start..];
    let items: Vec<StageChange> = rest.iter().take(limit).cloned().collect();
    let next = if rest.len() > limit {
        items.last().map(|m| m.id.to_string())
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
        ("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and moves nothing.")),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "Moved; the partner as it is now.", body = Partner, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
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
        check_if_match(if_match.0, version, "partner", &id.to_string())?;
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
const TRANSITION_OPTIONAL_COLUMNS: [&str; 1] = ["from"];

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
/// Columns: `partner_id`, `to`, `on` and optionally `from`. Rows are applied in file order
/// after a stable sort by partner and `on`, each from the stage its partner is in at that
/// point (starting from its current stage). A date after today (UTC) or an unknown partner
/// is a 422; a move the lifecycle graph refuses, a `from` that is not the partner's stage at
/// that point, or a date before the partner's latest recorded move is a 409 naming
/// `rows[<line>].to`, `.from` or `.on`.
#[utoipa::path(post, path = "/partners/transitions/import", tag = "partners", operation_id = "import_partner_transitions",
    request_body(content = String, content_type = "text/csv", description = "Columns: partner_id,to,on and optionally from."),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and moves nothing.")),
    responses(
        (status = 201, description = "Every move was applied; `ids` are the stage changes, in file order.", body = ImportReport),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
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
    let rows =
        csv_io::read_with_optional(&body.0, &TRANSITION_COLUMNS, &TRANSITION_OPTIONAL_COLUMNS)?;
    let today = Utc::now().date_naive();
    let mut errors = Vec::new();
    let mut moves = Vec::new();
    for row in &rows {
        let partner = row.required("partner_id", &mut errors, |t| t.parse::<PartnerId>());
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
    // Stable: moves of one partner on one day keep their file order.
    moves.sort_by_key(|m| (m.partner, m.on));
    write(&state, &caller, idem, &req, &body.0, field_of, move |s| {
        apply_moves(s, &moves)
    })
    .await
}

/// Checks `moves` (sorted by partner and day) against each partner's stored stage and
/// history and returns the writes: every stage change, and each partner at its last stage
/// at the version read (a partner moved meanwhile makes the commit a 412). Blocking.
fn apply_moves(
    s: &Store,
    moves: &[Move],
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
    };
    let outcome = Outcome {
        status: 201,
        version: None,
        body: Some(serde_json::to_value(report).expect("reports serialise")),
        location: None,
    };
    Ok((writes, outcome))
}

/// The columns of the partners CSV.
pub const PARTNER_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "kind",
    "tier",
    "region_id",
    "owner_rep_id",
    "stage",
];

/// A unit enum's snake_case name, as its JSON and the import's cells write it.
fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl CsvResource for Partner {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_partners", [Yes, Yes, No, No, No, No], "Imports partners from CSV (`id` may be empty for a new id, `stage` empty for\n`prospect`). Every row is checked first; all are imported or none.").conflicts(),
        Op::new(Verb::Export, "export_partners", [Yes, Yes, Own, Own, Yes, No], "Exports partners as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &PARTNER_COLUMNS;
    const FILE_NAME: &'static str = "partners.csv";

    fn to_row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.to_string(),
            wire_name(self.kind),
            wire_name(self.tier),
            self.region_id.to_string(),
            self.owner_rep_id.map(|r| r.to_string()).unwrap_or_default(),
            self.stage().to_string(),
        ]
    }

    /// A partner per row (`id` empty for a new id, `stage` empty for `prospect`); an id may
    /// appear once in a file.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        earlier: &[(usize, Partner)],
    ) -> Option<Partner> {
        let id = row.optional("id", errors, |t| t.parse::<PartnerId>());
        let name = row.required("name", errors, Name::parse);
        let kind = row.required("kind", errors, enum_cell::<PartnerKind>);
        let tier = row.required("tier", errors, enum_cell::<Tier>);
        let region = row.required("region_id", errors, |t| t.parse::<RegionId>());
        let owner = row.optional("owner_rep_id", errors, |t| t.parse::<RepId>());
        let stage = row.optional("stage", errors, enum_cell::<LifecycleStage>);
        let (
            Ok(id),
            Some(name),
            Some(kind),
            Some(tier),
            Some(region_id),
            Ok(owner_rep_id),
            Ok(stage),
        ) = (id, name, kind, tier, region, owner, stage)
        else {
            return None;
        };
        let input = PartnerInput {
            name,
            kind,
            tier,
            region_id,
            owner_rep_id,
            stage: None,
        };
        let partner = build(
            id.unwrap_or_else(PartnerId::new),
            input,
            stage.unwrap_or(LifecycleStage::Prospect),
        );
        if earlier.iter().any(|(_, p)| p.id == partner.id) {
            row.error(errors, "id", "this id appears twice in the file");
        }
        Some(partner)
    }

    /// Every partner's region and owner rep exist and its id is new.
    fn check_import(s: &Store, partners: &[(usize, Partner)]) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        for (line, p) in partners {
            if s.get::<chanlab_shared::Region>(&p.region_id.to_string())?
                .is_none()
            {
                errors.push(FieldError {
                    field: format!("rows[{line}].region_id"),
                    message: format!("no region with id {}", p.region_id),
                });
            }
            if let Some(rep) = p.owner_rep_id
                && s.get::<chanlab_shared::Rep>(&rep.to_string())?.is_none()
            {
                errors.push(FieldError {
                    field: format!("rows[{line}].owner_rep_id"),
                    message: format!("no rep with id {rep}"),
                });
            }
            if s.get::<Partner>(&p.id.to_string())?.is_some() {
                errors.push(FieldError {
                    field: format!("rows[{line}].id"),
                    message: format!("a partner with id {} already exists", p.id),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}
