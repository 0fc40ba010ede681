//! `/partners`: channel partners and their lifecycle. A partner is never deleted; it moves
//! to `churned` (or `lost`) through `POST /partners/{id}/transitions` ([`transitions`],
//! which also has the stage history import).

pub mod transitions;

use actix_web::web;
use chanlab_shared::{
    LifecycleStage, Name, Partner, PartnerId, PartnerKind, RegionId, RepId, Tier,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{Row, enum_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Resource, Verb};
use super::{page_type, query_enum, query_value, resource};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::{Kind, Store, index_key};

use Access::{No, Own, Yes};

/// Registers the partner routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Partner>(cfg);
    cfg.service(
        resource("/partners/transitions/import")
            .route(web::post().to(transitions::import_partner_transitions)),
    );
    layer::configure::<Partner>(cfg);
    cfg.service(
        resource("/partners/{id}/transitions")
            .route(web::get().to(transitions::list_partner_transitions))
            .route(web::post().to(transitions::transition_partner)),
    )
    .service(
        resource("/partners/{id}/scorecard")
            .route(web::get().to(super::scorecards::partner_scorecard)),
    );
}

/// The request field of a missing reference in a partner.
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

page_type!(PartnerPage, Partner, "A page of partners.");

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

layer::paged!(PartnerQuery);

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
