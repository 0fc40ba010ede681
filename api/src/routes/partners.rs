//! `/partners`: channel partners and their lifecycle. A partner is never deleted; it moves
//! to `churned` (or `lost`) through `POST /partners/{id}/transitions` ([`transitions`],
//! which also has the stage history import).

pub mod transitions;

use std::collections::HashMap;

use actix_web::web;
use chanlab_shared::{
    ExternalId, LifecycleStage, Name, Partner, PartnerId, PartnerKind, RegionId, Rep, RepId, Tier,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{Row, enum_cell, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{Serial, page_type, query_enum, query_value, resource};
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
    )
    .service(
        resource("/partners/transitions/export.csv")
            .route(web::get().to(transitions::export_partner_transitions)),
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
    /// The partner's code in another system (a CRM's), unique among partners.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(PartnerPage, Partner, "A page of partners.");

/// Filters of `GET /partners`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return partners after this id (from the `next` link).
    pub after: Option<String>,
    /// Only partners of this region.
    #[param(value_type = Option<chanlab_shared::RegionId>)]
    pub region_id: Option<String>,
    /// Only partners of this tier (`A`, `B`, `C`).
    #[param(value_type = Option<chanlab_shared::Tier>)]
    pub tier: Option<String>,
    /// Only partners in this stage (e.g. `at_risk`).
    #[param(value_type = Option<chanlab_shared::LifecycleStage>)]
    pub stage: Option<String>,
    /// Only partners owned by this rep.
    #[param(value_type = Option<chanlab_shared::RepId>)]
    pub owner_rep_id: Option<String>,
    /// Only the partner with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(PartnerQuery);

/// A partner's owner rep works in the partner's region (a region's manager sees the
/// partner, its owner and the owner's scorecard together). No version or reference in a
/// commit covers a rule across a partner and a rep, so the writes that could break it
/// (creating, editing and importing partners that name an owner rep; editing, and so
/// moving, reps) check and commit one at a time, across instances too. A partner without an
/// owner and a new rep cannot break it and take no lock ([`Resource::locks`]).
pub(crate) static OWNER_REGION: Serial = Serial::new("partners.owner_region");

/// The 409 for a partner of `region` owned by `owner`, a rep of `owner_region`, named on
/// `field` (the field that changed).
fn owner_elsewhere(
    field: String,
    owner: RepId,
    owner_region: RegionId,
    region: RegionId,
) -> FieldError {
    FieldError {
        field,
        message: format!(
            "rep {owner} works in region {owner_region}, and a partner's owner rep works in the partner's region: expected a rep of region {region}, or the partner in region {owner_region}"
        ),
    }
}

/// Checks the owner-region rule for `next`, which replaces `current` (`None` on create):
/// a 409 naming `region_id` when only the region moved, else `owner_rep_id`. A missing
/// owner is left to the commit's reference check (a 422 on `owner_rep_id`). Blocking.
fn check_owner_region(
    store: &Store,
    next: &Partner,
    current: Option<&Partner>,
) -> Result<(), ApiError> {
    let Some(owner) = next.owner_rep_id else {
        return Ok(());
    };
    let Some((rep, _)) = store.get::<Rep>(&owner.to_string())? else {
        return Ok(());
    };
    if rep.region_id == next.region_id {
        return Ok(());
    }
    let moved = current.is_some_and(|c| c.owner_rep_id == next.owner_rep_id);
    let field = if moved { "region_id" } else { "owner_rep_id" };
    Err(ApiError::ConflictingFields(vec![owner_elsewhere(
        field.to_owned(),
        owner,
        rep.region_id,
        next.region_id,
    )]))
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
    let external_id = input.external_id;
    let mut partner = Partner::new(
        id,
        input.name,
        input.kind,
        input.tier,
        input.region_id,
        input.owner_rep_id,
        stage,
    );
    partner.external_id = external_id;
    partner
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
        )
        .described("Its owner rep must work in its region: 409 naming `owner_rep_id` otherwise.")
        .conflicts(),
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
        .described("Its owner rep must work in its region: 409 naming `owner_rep_id`, or `region_id`\nwhen only the region moved.")
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
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
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
            _ if external.is_some() => layer::external_index(&external),
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
                    && external
                        .as_ref()
                        .is_none_or(|e| p.external_id.as_ref() == Some(e))
            }),
        })
    }

    fn field_of(kind: Kind) -> String {
        field_of(kind)
    }

    fn write_lock() -> Option<&'static Serial> {
        Some(&OWNER_REGION)
    }

    /// A partner without an owner rep cannot break the owner-region rule.
    fn locks((_, input): &Self::Draft, _creating: bool) -> bool {
        input.owner_rep_id.is_some()
    }

    fn check_write(
        store: &Store,
        _: &Caller,
        _: Access,
        next: &Partner,
        replacing: Option<PartnerId>,
    ) -> Result<(), ApiError> {
        let current = match replacing {
            Some(id) => store.get::<Partner>(&id.to_string())?.map(|(p, _)| p),
            None => None,
        };
        check_owner_region(store, next, current.as_ref())
    }
}

/// The columns of the partners CSV.
pub const PARTNER_COLUMNS: [&str; 10] = [
    "id",
    "external_id",
    "name",
    "kind",
    "tier",
    "region_id",
    "region_name",
    "owner_rep_id",
    "owner_rep_name",
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
        Op::new(Verb::Import, "import_partners", [Yes, Yes, No, No, No, No], "Imports partners from CSV (`id` may be empty for a new id, `stage` empty for\n`prospect`). Every row is checked first; all are imported or none.").described("A row whose owner rep works in another region than the row's is a 409 naming\n`rows[<line>].owner_rep_id` (once every row passes the 422 checks).").conflicts(),
        Op::new(Verb::Export, "export_partners", [Yes, Yes, Own, Own, Yes, No], "Exports partners as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &PARTNER_COLUMNS;
    /// The name columns are for reading: the import resolves `region_id` and
    /// `owner_rep_id`.
    const OPTIONAL_COLUMNS: &'static [&'static str] = &[
        "id",
        "external_id",
        "region_name",
        "owner_rep_id",
        "owner_rep_name",
        "stage",
    ];
    const FILE_NAME: &'static str = "partners.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Region, Kind::Rep];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        let owner = self.owner_rep_id;
        vec![
            self.id.to_string(),
            external_cell(&self.external_id),
            self.name.to_string(),
            wire_name(self.kind),
            wire_name(self.tier),
            self.region_id.to_string(),
            refs.name(Kind::Region, self.region_id),
            owner.map(|r| r.to_string()).unwrap_or_default(),
            owner.map(|r| refs.name(Kind::Rep, r)).unwrap_or_default(),
            self.stage().to_string(),
        ]
    }

    /// A partner per row (`id` empty for a new id, `stage` empty for `prospect`);
    /// `region_id` names a region by id, external id or name, `owner_rep_id` a rep by id,
    /// external id or name within the row's region.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        refs: &mut Refs,
    ) -> Option<Partner> {
        let id = row.optional("id", errors, |t| t.parse::<PartnerId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let name = row.required("name", errors, Name::parse);
        let kind = row.required("kind", errors, enum_cell::<PartnerKind>);
        let tier = row.required("tier", errors, enum_cell::<Tier>);
        let region = refs.required::<RegionId>(row, "region_id", Kind::Region, None, errors);
        let scope = region.map(|r| r.to_string());
        let owner =
            refs.optional::<RepId>(row, "owner_rep_id", Kind::Rep, scope.as_deref(), errors);
        let stage = row.optional("stage", errors, enum_cell::<LifecycleStage>);
        let (
            Ok(id),
            Ok(external_id),
            Some(name),
            Some(kind),
            Some(tier),
            Some(region_id),
            Ok(owner_rep_id),
            Ok(stage),
        ) = (id, external_id, name, kind, tier, region, owner, stage)
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
            external_id,
        };
        Some(build(
            id.unwrap_or_else(PartnerId::new),
            input,
            stage.unwrap_or(LifecycleStage::Prospect),
        ))
    }

    /// A file naming no owner rep cannot break the owner-region rule.
    fn import_locks(rows: &[Row]) -> bool {
        rows.iter().any(|row| !row.cell("owner_rep_id").is_empty())
    }

    /// Each row's owner rep works in the row's region: a 409 naming
    /// `rows[<line>].owner_rep_id` otherwise (once every row passes the 422 checks). Each
    /// owner is read once however many rows name it.
    fn check_import(store: &Store, records: &[(usize, Partner)]) -> Result<(), ApiError> {
        let mut regions: HashMap<RepId, Option<RegionId>> = HashMap::new();
        let mut conflicts = Vec::new();
        for (line, partner) in records {
            let Some(owner) = partner.owner_rep_id else {
                continue;
            };
            let region = match regions.get(&owner) {
                Some(region) => *region,
                None => {
                    let region = store
                        .get::<Rep>(&owner.to_string())?
                        .map(|(rep, _)| rep.region_id);
                    regions.insert(owner, region);
                    region
                }
            };
            if let Some(region) = region
                && region != partner.region_id
            {
                conflicts.push(owner_elsewhere(
                    format!("rows[{line}].owner_rep_id"),
                    owner,
                    region,
                    partner.region_id,
                ));
            }
        }
        if conflicts.is_empty() {
            Ok(())
        } else {
            Err(ApiError::ConflictingFields(conflicts))
        }
    }
}
