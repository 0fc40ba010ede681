//! `/contracts`: contracts signed with partners.

use actix_web::web;
use chanlab_shared::{
    Contract, ContractId, ContractTerms, Currency, ExternalId, Fraction, Money, PartnerId,
    PeriodLength, PositiveCount, RebateTier, ValidationError,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{self, Row, date_cell, enum_cell, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::Kind;

use Access::{No, Yes};

/// Registers the contract routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Contract>(cfg);
    layer::configure::<Contract>(cfg);
}

/// A contract as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "start": "2026-01-01", "term_months": 24, "margin": 0.06, "rebate_tiers": [{"threshold": {"amount_minor": 10000000, "currency": "EUR"}, "rate": 0.01}], "sell_in_target": {"amount_minor": 12000000, "currency": "EUR"}, "target_period": "quarter"}))]
pub struct ContractInput {
    /// The partner who signed it.
    pub partner_id: PartnerId,
    /// First day in force.
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    /// Length in months.
    pub term_months: PositiveCount,
    /// Partner's margin, e.g. 0.06 for 6%.
    pub margin: Fraction,
    /// Rebate schedule, lowest threshold first.
    #[serde(default)]
    pub rebate_tiers: Vec<RebateTier>,
    /// Sell-in target per target period.
    pub sell_in_target: Money,
    /// The period the target refers to.
    pub target_period: PeriodLength,
    /// The contract's code in another system (a CRM's), unique among contracts.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(ContractPage, Contract, "A page of contracts.");

/// Filters of `GET /contracts`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return contracts after this id (from the `next` link).
    pub after: Option<String>,
    /// Only contracts of this partner.
    #[param(value_type = Option<chanlab_shared::PartnerId>)]
    pub partner_id: Option<String>,
    /// Only the contract with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(ContractQuery);

impl Resource for Contract {
    const NAME: &'static str = "contract";
    const NOUN: &'static str = "contract";
    const PLURAL: &'static str = "contracts";
    const PATH: &'static str = "/contracts";
    const TAG: &'static str = "contracts";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_contract",
            [Yes, Yes, No, No, No, No],
            "Creates a contract.",
        ),
        Op::new(
            Verb::List,
            "list_contracts",
            [Yes, Yes, No, No, Yes, No],
            "Lists contracts, optionally of one partner.",
        ),
        Op::new(
            Verb::Get,
            "get_contract",
            [Yes, Yes, No, No, Yes, No],
            "Reads a contract.",
        ),
        Op::new(
            Verb::Update,
            "update_contract",
            [Yes, Yes, No, No, No, No],
            "Replaces a contract.",
        ),
        Op::new(
            Verb::Delete,
            "delete_contract",
            [Yes, Yes, No, No, No, No],
            "Deletes a contract.",
        ),
    ];

    type Id = ContractId;
    type Input = ContractInput;
    type Query = ContractQuery;
    type Page = ContractPage;
    type Draft = Contract;
    type Context = ();

    fn new_id() -> ContractId {
        ContractId::new()
    }

    fn draft(id: ContractId, i: ContractInput) -> Result<Contract, ApiError> {
        Contract::new(ContractTerms {
            id,
            partner_id: i.partner_id,
            start: i.start,
            term_months: i.term_months,
            margin: i.margin,
            rebate_tiers: i.rebate_tiers,
            sell_in_target: i.sell_in_target,
            target_period: i.target_period,
        })
        .map(|mut c| {
            c.external_id = i.external_id;
            c
        })
        .map_err(invalid)
    }

    fn finish(draft: Contract, _current: Option<&Contract>) -> Result<Contract, ApiError> {
        Ok(draft)
    }

    fn list_plan(q: ContractQuery, _: &Caller, _: Access) -> Result<ListPlan<Contract>, ApiError> {
        let partner: Option<PartnerId> = query_value("partner_id", &q.partner_id)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        Ok(ListPlan {
            index: layer::external_index(&external).or(partner.map(|p| ("partner", p.to_string()))),
            keep: Box::new(move |c: &Contract| {
                partner.is_none_or(|p| c.partner_id() == p)
                    && external
                        .as_ref()
                        .is_none_or(|e| c.external_id.as_ref() == Some(e))
            }),
        })
    }
}

/// The columns of the contracts CSV. Amounts are decimals in `currency`; `rebate_tiers`
/// lists `threshold:rate` pairs separated by spaces, lowest threshold first, e.g.
/// `100000.00:0.01 250000.00:0.02`.
pub const CONTRACT_COLUMNS: [&str; 11] = [
    "id",
    "external_id",
    "partner_id",
    "partner_name",
    "start",
    "term_months",
    "margin",
    "currency",
    "sell_in_target",
    "target_period",
    "rebate_tiers",
];

/// A unit enum's snake_case name, as its JSON and the import's cells write it.
fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A rebate schedule cell: `threshold:rate` pairs separated by spaces.
fn rebate_cell(text: &str, currency: Currency) -> Result<Vec<RebateTier>, ValidationError> {
    text.split_whitespace()
        .map(|pair| {
            let (threshold, rate) = pair.split_once(':').ok_or_else(|| {
                ValidationError::new(
                    "",
                    format!("expected threshold:rate pairs such as 100000.00:0.01, found {pair:?}"),
                )
            })?;
            let rate: f64 = rate.parse().map_err(|_| {
                ValidationError::new("", format!("expected a rate such as 0.01, found {rate:?}"))
            })?;
            Ok(RebateTier {
                threshold: Money::parse_decimal(threshold, currency)?,
                rate: Fraction::new(rate)?,
            })
        })
        .collect()
}

impl CsvResource for Contract {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_contracts", [Yes, Yes, No, No, No, No], "Imports contracts from CSV (`id` may be empty for a new id; `partner_id` holds the\npartner's id, external id or name). Every row is checked first; all are imported or none.").conflicts(),
        Op::new(Verb::Export, "export_contracts", [Yes, Yes, No, No, Yes, No], "Exports contracts as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &CONTRACT_COLUMNS;
    const OPTIONAL_COLUMNS: &'static [&'static str] =
        &["id", "external_id", "partner_name", "rebate_tiers"];
    const FILE_NAME: &'static str = "contracts.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Partner];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        let tiers: Vec<String> = self
            .rebate_tiers()
            .iter()
            .map(|t| format!("{}:{}", csv_io::decimal(t.threshold), t.rate.get()))
            .collect();
        vec![
            self.id().to_string(),
            external_cell(&self.external_id),
            self.partner_id().to_string(),
            refs.name(Kind::Partner, self.partner_id()),
            self.start().to_string(),
            self.term_months().get().to_string(),
            self.margin().get().to_string(),
            self.sell_in_target().currency().to_string(),
            csv_io::decimal(self.sell_in_target()),
            wire_name(self.target_period()),
            tiers.join(" "),
        ]
    }

    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        refs: &mut Refs,
    ) -> Option<Contract> {
        let id = row.optional("id", errors, |t| t.parse::<ContractId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let partner = refs.required::<PartnerId>(row, "partner_id", Kind::Partner, None, errors);
        let start = row.required("start", errors, date_cell);
        let term = row.required("term_months", errors, |t| {
            let n: u32 = t.parse().map_err(|_| {
                ValidationError::new(
                    "",
                    format!("expected a whole number of months, found {t:?}"),
                )
            })?;
            PositiveCount::new(n)
        });
        let margin = row.required("margin", errors, |t| {
            let v: f64 = t.parse().map_err(|_| {
                ValidationError::new("", format!("expected a fraction such as 0.06, found {t:?}"))
            })?;
            Fraction::new(v)
        });
        // The amounts cannot be read without their currency.
        let currency = row.required("currency", errors, Currency::parse)?;
        let target = row.required("sell_in_target", errors, |t| {
            Money::parse_decimal(t, currency)
        });
        let period = row.required("target_period", errors, enum_cell::<PeriodLength>);
        let tiers = row.optional("rebate_tiers", errors, |t| rebate_cell(t, currency));
        let (
            Ok(id),
            Ok(external_id),
            Some(partner_id),
            Some(start),
            Some(term_months),
            Some(margin),
            Some(sell_in_target),
            Some(target_period),
            Ok(tiers),
        ) = (
            id,
            external_id,
            partner,
            start,
            term,
            margin,
            target,
            period,
            tiers,
        )
        else {
            return None;
        };
        let terms = ContractTerms {
            id: id.unwrap_or_else(ContractId::new),
            partner_id,
            start,
            term_months,
            margin,
            rebate_tiers: tiers.unwrap_or_default(),
            sell_in_target,
            target_period,
        };
        match Contract::new(terms) {
            Ok(mut contract) => {
                contract.external_id = external_id;
                Some(contract)
            }
            Err(e) => {
                row.error(errors, e.field(), e.message());
                None
            }
        }
    }
}
