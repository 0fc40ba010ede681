//! `/assessments`: scorecards of a rep, partner or region for a period against one version
//! of a process spec.

use actix_web::web;
use chanlab_shared::{
    Assessment, AssessmentId, Currency, ExternalId, Fraction, KeyLinkResult, Metric, Period,
    PositiveCount, ProcessSpecId, Quantity, Scope, ValidationError,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{self, Row, enum_cell, external_cell};
use super::goals::{
    Scoped, scope_cells, scope_filter, scope_kind, scope_of, scoped_field, scoped_plan, target_cell,
};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::Kind;

use Access::{No, Yes};

/// Registers the assessment routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Assessment>(cfg);
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

/// Filters of `GET /assessments`, all of which must hold: scope filters, a period, an external id.
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
    #[param(value_type = Option<chanlab_shared::RepId>)]
    pub rep_id: Option<String>,
    /// Only assessments of this partner.
    #[param(value_type = Option<chanlab_shared::PartnerId>)]
    pub partner_id: Option<String>,
    /// Only assessments of this region.
    #[param(value_type = Option<chanlab_shared::RegionId>)]
    pub region_id: Option<String>,
    /// Only assessments for this period, e.g. `2026-Q4`.
    #[param(value_type = Option<chanlab_shared::Period>)]
    pub period: Option<String>,
    /// Only the assessment with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
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

/// The columns of the assessments CSV: one row per assessment. `scope` and `scope_id` as in
/// the goals CSV; `results` lists the key links as `metric:weight:target:actual` separated
/// by spaces (like a contract's `rebate_tiers`), money amounts as decimals in `currency`,
/// e.g. `sell_through:0.6:100000.00:92500.00 visits:0.4:24:20`.
pub const ASSESSMENT_COLUMNS: [&str; 10] = [
    "id",
    "external_id",
    "scope",
    "scope_id",
    "scope_name",
    "period",
    "process_spec_id",
    "spec_version",
    "currency",
    "results",
];

/// A quantity as a `results` cell writes it: a count, or a decimal amount.
fn quantity_text(q: Quantity) -> String {
    match q {
        Quantity::Count(n) => n.to_string(),
        Quantity::Amount(m) => csv_io::decimal(m),
    }
}

/// A `results` cell: `metric:weight:target:actual` entries separated by spaces, amounts in
/// `currency`.
fn results_cell(
    text: &str,
    currency: Option<Currency>,
) -> Result<Vec<KeyLinkResult>, ValidationError> {
    text.split_whitespace()
        .map(|entry| {
            let parts: Vec<&str> = entry.split(':').collect();
            let [metric, weight, target, actual] = parts[..] else {
                return Err(ValidationError::new(
                    "",
                    format!(
                        "expected metric:weight:target:actual entries such as visits:0.4:24:20, found {entry:?}"
                    ),
                ));
            };
            let metric: Metric = enum_cell(metric)?;
            let weight = weight.parse::<f64>().map_err(|_| {
                ValidationError::new("", format!("expected a weight such as 0.4, found {weight:?}"))
            })?;
            Ok(KeyLinkResult {
                metric,
                weight: Fraction::new(weight)?,
                target: target_cell(target, metric, currency)?,
                actual: target_cell(actual, metric, currency)?,
            })
        })
        .collect()
}

impl CsvResource for Assessment {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_assessments", [Yes, Yes, No, No, No, No], "Imports assessments from CSV (`id` may be empty for a new id; `scope_id` holds the id,\nexternal id or name of the `scope`'s record; `results` lists `metric:weight:target:actual`\nentries). Every row is checked first; all are imported or none.").conflicts(),
        Op::new(Verb::Export, "export_assessments", [Yes, Yes, No, No, Yes, No], "Exports assessments as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &ASSESSMENT_COLUMNS;
    const OPTIONAL_COLUMNS: &'static [&'static str] =
        &["id", "external_id", "scope_name", "currency"];
    const FILE_NAME: &'static str = "assessments.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Region, Kind::Rep, Kind::Partner];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        let (scope, kind, id) = scope_cells(self.scope());
        let currency = self
            .results()
            .iter()
            .find_map(|r| match r.target {
                Quantity::Amount(m) => Some(m.currency().to_string()),
                Quantity::Count(_) => None,
            })
            .unwrap_or_default();
        let results: Vec<String> = self
            .results()
            .iter()
            .map(|r| {
                format!(
                    "{}:{}:{}:{}",
                    r.metric,
                    r.weight.get(),
                    quantity_text(r.target),
                    quantity_text(r.actual)
                )
            })
            .collect();
        vec![
            self.id().to_string(),
            external_cell(&self.external_id),
            scope.to_owned(),
            id.clone(),
            refs.name(kind, id),
            self.period().to_string(),
            self.process_spec_id().to_string(),
            self.spec_version().get().to_string(),
            currency,
            results.join(" "),
        ]
    }

    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        refs: &mut Refs,
    ) -> Option<Assessment> {
        let id = row.optional("id", errors, |t| t.parse::<AssessmentId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let kind = row.required("scope", errors, scope_kind);
        let scope = kind.and_then(|k| scope_of(row, k, refs, errors));
        let period = row.required("period", errors, |t| t.parse::<Period>());
        let spec = row.required("process_spec_id", errors, |t| t.parse::<ProcessSpecId>());
        let version = row.required("spec_version", errors, |t| {
            t.parse::<u32>()
                .map_err(|_| {
                    ValidationError::new("", format!("expected a version such as 1, found {t:?}"))
                })
                .and_then(PositiveCount::new)
        });
        let currency = row.optional("currency", errors, Currency::parse);
        let results = match &currency {
            Ok(c) => row.required("results", errors, |t| results_cell(t, *c)),
            Err(()) => None,
        };
        let (
            Ok(id),
            Ok(external_id),
            Some(scope),
            Some(period),
            Some(spec),
            Some(version),
            Some(results),
        ) = (id, external_id, scope, period, spec, version, results)
        else {
            return None;
        };
        let id = id.unwrap_or_else(AssessmentId::new);
        match Assessment::new(id, scope, period, spec, version, results) {
            Ok(mut a) => {
                a.external_id = external_id;
                Some(a)
            }
            Err(e) => {
                // The record's own checks name `results[i].…`: in a file, that is the cell.
                row.error(errors, "results", format!("{}: {}", e.field(), e.message()));
                None
            }
        }
    }
}
