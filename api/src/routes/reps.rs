//! `/reps`: sales reps. Only an admin or the regional manager of the rep's region creates,
//! edits or moves a rep: a rep has one direct supervisor, and it is not the channel manager.
//! Reps are not deleted; a rep who leaves gets status `departed`, and `left_on` when the day
//! is known.

use actix_web::web;
use chanlab_shared::{ExternalId, Name, Partner, RegionId, Rep, RepId, RepStatus};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{Row, date_cell, enum_cell, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{Serial, invalid, page_type, query_enum, query_value, resource};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::{Kind, Store};

use Access::{No, Own, Yes};

/// Registers the rep routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Rep>(cfg);
    layer::configure::<Rep>(cfg);
    cfg.service(
        resource("/reps/{id}/scorecard").route(web::get().to(super::scorecards::rep_scorecard)),
    );
}

/// A rep as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Lars Holm", "region_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01", "hired_on": "2025-03-01", "status": "active"}))]
pub struct RepInput {
    /// Full name.
    pub name: Name,
    /// The rep's region.
    pub region_id: RegionId,
    /// Hiring date.
    #[schema(value_type = String, format = Date)]
    pub hired_on: NaiveDate,
    /// Employment status.
    pub status: RepStatus,
    /// The day a departed rep left: only with status `departed`, not before `hired_on`.
    /// Leave it out when the day is not known.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<NaiveDate>,
    /// The rep's code in another system (a CRM's), unique among reps.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(RepPage, Rep, "A page of reps.");

/// Filters of `GET /reps`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RepQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return reps after this id (from the `next` link).
    pub after: Option<String>,
    /// Only reps of this region.
    #[param(value_type = Option<chanlab_shared::RegionId>)]
    pub region_id: Option<String>,
    /// Only reps with this status (`active`, `on_leave`, `departed`).
    #[param(value_type = Option<chanlab_shared::RepStatus>)]
    pub status: Option<String>,
    /// Only the rep with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(RepQuery);

/// The region a regional manager's request is limited to: `Ok(None)` for full access.
fn scoped_region(caller: &Caller, access: Access) -> Option<RegionId> {
    match (access, caller.principal) {
        (Access::Own, Principal::RegionalManager(r)) => Some(r),
        _ => None,
    }
}

/// A regional manager's reps are those of its region; a rep's, itself.
pub(crate) fn in_scope(caller: &Caller, access: Access, rep: &Rep) -> bool {
    match (access, caller.principal) {
        (Access::Yes, _) => true,
        (Access::Own, Principal::RegionalManager(r)) => rep.region_id == r,
        (Access::Own, Principal::Rep(id)) => rep.id == id,
        _ => false,
    }
}

impl Resource for Rep {
    const NAME: &'static str = "rep";
    const NOUN: &'static str = "rep";
    const PLURAL: &'static str = "reps";
    const PATH: &'static str = "/reps";
    const TAG: &'static str = "reps";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_rep",
            [Yes, No, Own, No, No, No],
            "Creates a rep (a regional manager, only in its own region).",
        ),
        Op::new(
            Verb::List,
            "list_reps",
            [Yes, Yes, Own, Own, Yes, No],
            "Lists reps, filtered by region and status.",
        ),
        Op::new(
            Verb::Get,
            "get_rep",
            [Yes, Yes, Own, Own, Yes, No],
            "Reads a rep.",
        ),
        Op::new(
            Verb::Update,
            "update_rep",
            [Yes, No, Own, No, No, No],
            "Replaces a rep. A regional manager may edit only reps of its region and not move them out.",
        )
        .described("A rep who owns partners stays in their region: moving it is a 409 naming `region_id`\nuntil they are reassigned.")
        .conflicts(),
    ];

    type Id = RepId;
    type Input = RepInput;
    type Query = RepQuery;
    type Page = RepPage;
    type Draft = Rep;
    type Context = ();

    fn new_id() -> RepId {
        RepId::new()
    }

    /// The rep, or a 422 naming `left_on` when the dates disagree with the status.
    fn draft(id: RepId, input: RepInput) -> Result<Rep, ApiError> {
        let rep = Rep {
            created_by: None,
            updated_by: None,
            id,
            name: input.name,
            region_id: input.region_id,
            hired_on: input.hired_on,
            status: input.status,
            left_on: input.left_on,
            external_id: input.external_id,
        };
        rep.check_dates().map_err(invalid)?;
        Ok(rep)
    }

    fn finish(draft: Rep, _current: Option<&Rep>) -> Result<Rep, ApiError> {
        Ok(draft)
    }

    /// A regional manager creates reps only in its region and does not move them out.
    fn check_draft(caller: &Caller, access: Access, rep: &Rep) -> Result<(), ApiError> {
        if in_scope(caller, access, rep) {
            Ok(())
        } else {
            Err(caller
                .principal
                .out_of_scope(&format!("region {}", rep.region_id)))
        }
    }

    fn in_scope(caller: &Caller, access: Access, rep: &Rep, _: &()) -> bool {
        in_scope(caller, access, rep)
    }

    /// Moving a rep moves none of its partners: while it owns partners in its region, a
    /// move elsewhere is a 409 naming `region_id` (reassign them first). Under the lock
    /// partner writes hold, so a partner cannot gain this owner meanwhile.
    fn write_lock() -> Option<&'static Serial> {
        Some(&super::partners::OWNER_REGION)
    }

    /// A new rep owns no partners; only an edit can move one away from them.
    fn locks(_: &Rep, creating: bool) -> bool {
        !creating
    }

    fn check_write(
        store: &Store,
        _: &Caller,
        _: Access,
        next: &Rep,
        replacing: Option<RepId>,
    ) -> Result<(), ApiError> {
        if replacing.is_none() {
            // A new rep owns no partners.
            return Ok(());
        }
        let owned = store.all::<Partner>(Some(("owner_rep", &next.id.to_string())))?;
        let elsewhere: Vec<String> = owned
            .iter()
            .filter(|p| p.region_id != next.region_id)
            .map(|p| p.id.to_string())
            .collect();
        if elsewhere.is_empty() {
            return Ok(());
        }
        // A few ids are enough to start with; `GET /partners?owner_rep_id=` lists them all.
        let shown = elsewhere.len().min(5);
        let more = if elsewhere.len() > shown { ", ..." } else { "" };
        Err(ApiError::ConflictingFields(vec![FieldError {
            field: "region_id".to_owned(),
            message: format!(
                "rep {} owns {} partner(s) outside region {} ({}{more}), and a partner's owner rep works in the partner's region: reassign them first",
                next.id,
                elsewhere.len(),
                next.region_id,
                elsewhere[..shown].join(", ")
            ),
        }]))
    }

    fn list_plan(q: RepQuery, caller: &Caller, access: Access) -> Result<ListPlan<Rep>, ApiError> {
        let mut region: Option<RegionId> = query_value("region_id", &q.region_id)?;
        let status: Option<RepStatus> = query_enum("status", &q.status)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        if let Some(own) = scoped_region(caller, access) {
            if region.is_some_and(|r| r != own) {
                return Err(caller.principal.out_of_scope("another region"));
            }
            region = Some(own);
        }
        Ok(ListPlan {
            index: layer::external_index(&external).or(region.map(|r| ("region", r.to_string()))),
            keep: Box::new(move |rep: &Rep| {
                status.is_none_or(|st| rep.status == st)
                    && region.is_none_or(|r| rep.region_id == r)
                    && external
                        .as_ref()
                        .is_none_or(|e| rep.external_id.as_ref() == Some(e))
            }),
        })
    }
}

/// The columns of the reps CSV, as exported.
pub const REP_COLUMNS: [&str; 8] = [
    "id",
    "external_id",
    "name",
    "region_id",
    "region_name",
    "hired_on",
    "status",
    "left_on",
];

impl CsvResource for Rep {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_reps", [Yes, No, Own, No, No, No], "Imports reps from CSV (`id` may be empty for a new id, `left_on` empty or absent when\nunknown). All rows or none.").conflicts(),
        Op::new(Verb::Export, "export_reps", [Yes, Yes, Own, No, Yes, No], "Exports reps as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &REP_COLUMNS;
    /// Files written before `left_on` and `external_id` existed still import; the name
    /// column is for reading (the import resolves `region_id`).
    const OPTIONAL_COLUMNS: &'static [&'static str] =
        &["id", "external_id", "region_name", "left_on"];
    const FILE_NAME: &'static str = "reps.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Region];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        vec![
            self.id.to_string(),
            external_cell(&self.external_id),
            self.name.to_string(),
            self.region_id.to_string(),
            refs.name(Kind::Region, self.region_id),
            self.hired_on.to_string(),
            serde_json::to_value(self.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            self.left_on.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }

    /// A rep per row (`id` empty for a new id, `left_on` empty or absent when unknown),
    /// in the caller's region; `region_id` holds the region's id, external id or name.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        caller: &Caller,
        access: Access,
        refs: &mut Refs,
    ) -> Option<Rep> {
        let id = row.optional("id", errors, |t| t.parse::<RepId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let name = row.required("name", errors, Name::parse);
        let region = refs.required::<RegionId>(row, "region_id", Kind::Region, None, errors);
        let hired = row.required("hired_on", errors, date_cell);
        let status = row.required("status", errors, enum_cell::<RepStatus>);
        let left = row.optional("left_on", errors, date_cell);
        let (
            Ok(id),
            Ok(external_id),
            Some(name),
            Some(region_id),
            Some(hired_on),
            Some(status),
            Ok(left_on),
        ) = (id, external_id, name, region, hired, status, left)
        else {
            return None;
        };
        let rep = Rep {
            created_by: None,
            updated_by: None,
            id: id.unwrap_or_else(RepId::new),
            name,
            region_id,
            hired_on,
            status,
            left_on,
            external_id,
        };
        if let Err(e) = rep.check_dates() {
            row.error(errors, e.field(), e.message());
        }
        if !in_scope(caller, access, &rep) {
            row.error(errors, "region_id", "outside the region this token manages");
        }
        Some(rep)
    }

    /// An import creates reps, which own no partners.
    fn import_locks(_: &[Row]) -> bool {
        false
    }

    /// A regional manager's export reads its region's index.
    fn export_index(caller: &Caller, access: Access) -> Option<(&'static str, String)> {
        scoped_region(caller, access).map(|r| ("region", r.to_string()))
    }
}
