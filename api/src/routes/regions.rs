//! `/regions`: the regional units and their managers.

use actix_web::web;
use chanlab_shared::{Name, Region, RegionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::layer::{self, ListPlan, Op, Resource, Verb};
use super::{Cursor, page_type};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;

use Access::{No, Own, Yes};

/// Registers the region routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
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
}

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
    type Query = Cursor;
    type Page = RegionPage;
    type Draft = Region;
    type Context = ();

    fn new_id() -> RegionId {
        RegionId::new()
    }

    fn draft(id: RegionId, input: RegionInput) -> Result<Region, ApiError> {
        Ok(Region {
            id,
            name: input.name,
            regional_manager: input.regional_manager,
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

    fn list_plan(_: Cursor, _: &Caller, _: Access) -> Result<ListPlan<Region>, ApiError> {
        Ok(ListPlan::all())
    }
}
