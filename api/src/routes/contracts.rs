//! `/contracts`: contracts signed with partners.

use actix_web::web;
use chanlab_shared::{
    Contract, ContractId, ContractTerms, Fraction, Money, PartnerId, PeriodLength, PositiveCount,
    RebateTier,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::layer::{self, ListPlan, Op, Resource, Verb};
use super::{invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;

use Access::{No, Yes};

/// Registers the contract routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
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
}

page_type!(ContractPage, Contract, "A page of contracts.");

/// Filters of `GET /contracts`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return contracts after this id (from the `next` link).
    pub after: Option<String>,
    /// Only contracts of this partner.
    pub partner_id: Option<String>,
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
        .map_err(invalid)
    }

    fn finish(draft: Contract, _current: Option<&Contract>) -> Result<Contract, ApiError> {
        Ok(draft)
    }

    fn list_plan(q: ContractQuery, _: &Caller, _: Access) -> Result<ListPlan<Contract>, ApiError> {
        let partner: Option<PartnerId> = query_value("partner_id", &q.partner_id)?;
        Ok(ListPlan {
            index: partner.map(|p| ("partner", p.to_string())),
            keep: Box::new(|_| true),
        })
    }
}
