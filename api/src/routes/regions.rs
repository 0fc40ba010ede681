//! `/regions`: the regional units and their managers.

use actix_web::web;
use chanlab_shared::{ExternalId, Name, Region, RegionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{Row, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{page_type, query_value};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::problem::FieldError;

use Access::{No, Own, Yes};

/// Registers the region routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Region>(cfg);
    layer::configure::<Region>(cfg);
}

/// A region as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Nordics", "regional_manager": "Astrid Berg"}))]
pub struct RegionInput {
    /// The region's name.
    pub name: Name,
    /// The regional manager, the reps' direct supervisor.
    pub regional_manager: Name,
    /// The region's code in another system (a CRM's), unique among regions.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

/// Filters of `GET /regions`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return regions after this id (from the `next` link).
    pub after: Option<String>,
    /// Only the region with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(RegionQuery);

page_type!(RegionPage, Region, "A page of regions.");

impl Resource for Region {
    const NAME: &'static str = "region";
    const NOUN: &'static str = "region";
    const PLURAL: &'static str = "regions";
    const PATH: &'static str = "/regions";
    const TAG: &'static str = "regions";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_region",
            [Yes, No, No, No, No, No],
            "Creates a region.",
        ),
        Op::new(
            Verb::List,
            "list_regions",
            [Yes, Yes, Own, No, Yes, No],
            "Lists regions (a regional manager sees only its own).",
        ),
        Op::new(
            Verb::Get,
            "get_region",
            [Yes, Yes, Own, No, Yes, No],
            "Reads a region.",
        ),
        Op::new(
            Verb::Update,
            "update_region",
            [Yes, No, No, No, No, No],
            "Replaces a region's name and manager. Send `If-Match` with the ETag you read.",
        ),
        Op::new(
            Verb::Delete,
            "delete_region",
            [Yes, No, No, No, No, No],
            "Deletes a region that no rep, partner, goal or token refers to (409 otherwise).",
        )
        .conflicts(),
    ];

    type Id = RegionId;
    type Input = RegionInput;
    type Query = RegionQuery;
    type Page = RegionPage;
    type Draft = Region;
    type Context = ();

    fn new_id() -> RegionId {
        RegionId::new()
    }

    fn draft(id: RegionId, input: RegionInput) -> Result<Region, ApiError> {
        Ok(Region {
            created_by: None,
            updated_by: None,
            id,
            name: input.name,
            regional_manager: input.regional_manager,
            external_id: input.external_id,
        })
    }

    fn finish(draft: Region, _current: Option<&Region>) -> Result<Region, ApiError> {
        Ok(draft)
    }

    /// A regional manager's own region is the one its token names.
    fn in_scope(caller: &Caller, access: Access, region: &Region, _: &()) -> bool {
        match (access, caller.principal) {
            (Access::Yes, _) => true,
            (Access::Own, Principal::RegionalManager(r)) => r == region.id,
            _ => false,
        }
    }

    fn list_plan(q: RegionQuery, _: &Caller, _: Access) -> Result<ListPlan<Region>, ApiError> {
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        Ok(ListPlan {
            index: layer::external_index(&external),
            keep: Box::new(move |r: &Region| {
                external
                    .as_ref()
                    .is_none_or(|e| r.external_id.as_ref() == Some(e))
            }),
        })
    }
}

/// The columns of the regions CSV.
pub const REGION_COLUMNS: [&str; 4] = ["id", "external_id", "name", "regional_manager"];

impl CsvResource for Region {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_regions", [Yes, No, No, No, No, No], "Imports regions from CSV (`id` may be empty for a new id, `external_id` empty for\nnone). Every row is checked first; all are imported or none.").conflicts(),
        Op::new(Verb::Export, "export_regions", [Yes, Yes, Own, No, Yes, No], "Exports regions as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &REGION_COLUMNS;
    const OPTIONAL_COLUMNS: &'static [&'static str] = &["id", "external_id"];
    const FILE_NAME: &'static str = "regions.csv";

    fn to_row(&self, _: &Refs) -> Vec<String> {
        vec![
            self.id.to_string(),
            external_cell(&self.external_id),
            self.name.to_string(),
            self.regional_manager.to_string(),
        ]
    }

    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        _refs: &mut Refs,
    ) -> Option<Region> {
        let id = row.optional("id", errors, |t| t.parse::<RegionId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let name = row.required("name", errors, Name::parse);
        let manager = row.required("regional_manager", errors, Name::parse);
        let (Ok(id), Ok(external_id), Some(name), Some(regional_manager)) =
            (id, external_id, name, manager)
        else {
            return None;
        };
        Some(Region {
            created_by: None,
            updated_by: None,
            id: id.unwrap_or_else(RegionId::new),
            name,
            regional_manager,
            external_id,
        })
    }
}
