//! `/sales-records`: what each partner bought from us (sell-in) and sold on (sell-through)
//! per month; one record per partner and month, and one currency per partner: a record in
//! another currency than the partner's other records is a 409 naming `sell_in`, because
//! amounts in two currencies cannot be summed into the partner's history.

use std::collections::HashMap;

use actix_web::web;
use chanlab_shared::{Currency, ExternalId, Money, Month, PartnerId, SalesRecord, SalesRecordId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{self, Row, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{Serial, invalid, page_type, query_value};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::{Kind, Store};

use Access::{No, Yes};

/// Writes that add or change sales records check the partner's currency against its other
/// records, which no version or unique value in the commit covers, so they check and commit
/// one at a time, across instances too (deletes cannot break the rule and do not take it).
static SALES_WRITES: Serial = Serial::new("sales_records.currency");

/// The currency of `partner`'s stored sales records (other than `except`), when one of them
/// is in another currency than `currency`. Blocking.
fn other_currency(
    s: &Store,
    partner: PartnerId,
    currency: Currency,
    except: Option<SalesRecordId>,
) -> Result<Option<Currency>, ApiError> {
    Ok(
        s.all::<SalesRecord>(Some(("partner", &partner.to_string())))?
            .iter()
            .filter(|r| Some(r.id()) != except)
            .map(|r| r.sell_in().currency())
            .find(|c| *c != currency),
    )
}

/// The conflict of a record in `found` for a partner whose records are in `theirs`.
fn currency_conflict(
    field: String,
    partner: PartnerId,
    theirs: Currency,
    whose: &str,
    found: Currency,
) -> FieldError {
    FieldError {
        field,
        message: format!(
            "partner {partner}'s {whose} in {theirs}, and a partner's sales are recorded in one currency: expected {theirs}, found {found}"
        ),
    }
}

/// A 409 naming `sell_in` when `record` is in another currency than its partner's other
/// stored records. Blocking.
fn check_currency(
    s: &Store,
    record: &SalesRecord,
    except: Option<SalesRecordId>,
) -> Result<(), ApiError> {
    let found = record.sell_in().currency();
    match other_currency(s, record.partner_id(), found, except)? {
        Some(theirs) => Err(ApiError::ConflictingFields(vec![currency_conflict(
            "sell_in".to_owned(),
            record.partner_id(),
            theirs,
            "sales records are",
            found,
        )])),
        None => Ok(()),
    }
}

/// Registers the sales record routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<SalesRecord>(cfg);
    layer::configure::<SalesRecord>(cfg);
}

/// A sales record as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "month": "2026-11", "sell_in": {"amount_minor": 4200000, "currency": "EUR"}, "sell_through": {"amount_minor": 3900000, "currency": "EUR"}}))]
pub struct SalesRecordInput {
    /// The partner.
    pub partner_id: PartnerId,
    /// The month.
    pub month: Month,
    /// What the partner bought from us.
    pub sell_in: Money,
    /// What the partner sold on.
    pub sell_through: Money,
    /// The record's code in another system (a CRM's), unique among sales records.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(SalesRecordPage, SalesRecord, "A page of sales records.");

/// Filters of `GET /sales-records`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesRecordQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return records after this id (from the `next` link).
    pub after: Option<String>,
    /// Only records of this partner.
    #[param(value_type = Option<chanlab_shared::PartnerId>)]
    pub partner_id: Option<String>,
    /// Only months from this one on (`2026-01`).
    #[param(value_type = Option<chanlab_shared::Month>)]
    pub from: Option<String>,
    /// Only months up to and including this one (`2026-12`).
    #[param(value_type = Option<chanlab_shared::Month>)]
    pub to: Option<String>,
    /// Only the record with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(SalesRecordQuery);

/// The columns of the sales CSV; amounts are decimals in `currency`.
pub const SALES_COLUMNS: [&str; 8] = [
    "id",
    "external_id",
    "partner_id",
    "partner_name",
    "month",
    "currency",
    "sell_in",
    "sell_through",
];

impl Resource for SalesRecord {
    const NAME: &'static str = "sales_record";
    const NOUN: &'static str = "sales record";
    const PLURAL: &'static str = "sales records";
    const PATH: &'static str = "/sales-records";
    const TAG: &'static str = "sales";
    const OPS: &'static [Op] = &[
        Op::new(Verb::Create, "create_sales_record", [Yes, No, No, No, No, No], "Creates a sales record; one per partner and month (409 for a second), in the currency of\nthe partner's other records (409 naming `sell_in` otherwise).").conflicts(),
        Op::new(Verb::List, "list_sales_records", [Yes, Yes, No, No, Yes, No], "Lists sales records, optionally of one partner."),
        Op::new(Verb::Get, "get_sales_record", [Yes, Yes, No, No, Yes, No], "Reads a sales record."),
        Op::new(Verb::Update, "update_sales_record", [Yes, No, No, No, No, No], "Replaces a sales record; it must stay in the currency of the partner's other records\n(409 naming `sell_in` otherwise).").conflicts(),
        Op::new(Verb::Delete, "delete_sales_record", [Yes, No, No, No, No, No], "Deletes a sales record."),

    ];

    type Id = SalesRecordId;
    type Input = SalesRecordInput;
    type Query = SalesRecordQuery;
    type Page = SalesRecordPage;
    type Draft = SalesRecord;
    type Context = ();

    fn new_id() -> SalesRecordId {
        SalesRecordId::new()
    }

    fn draft(id: SalesRecordId, i: SalesRecordInput) -> Result<SalesRecord, ApiError> {
        let mut record = SalesRecord::new(id, i.partner_id, i.month, i.sell_in, i.sell_through)
            .map_err(invalid)?;
        record.external_id = i.external_id;
        Ok(record)
    }

    fn finish(draft: SalesRecord, _current: Option<&SalesRecord>) -> Result<SalesRecord, ApiError> {
        Ok(draft)
    }

    fn list_plan(
        q: SalesRecordQuery,
        _: &Caller,
        _: Access,
    ) -> Result<ListPlan<SalesRecord>, ApiError> {
        let partner: Option<PartnerId> = query_value("partner_id", &q.partner_id)?;
        let from: Option<Month> = query_value("from", &q.from)?;
        let to: Option<Month> = query_value("to", &q.to)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        Ok(ListPlan {
            index: layer::external_index(&external).or(partner.map(|p| ("partner", p.to_string()))),
            keep: Box::new(move |r: &SalesRecord| {
                from.is_none_or(|m| r.month() >= m)
                    && to.is_none_or(|m| r.month() <= m)
                    && partner.is_none_or(|p| r.partner_id() == p)
                    && external
                        .as_ref()
                        .is_none_or(|e| r.external_id.as_ref() == Some(e))
            }),
        })
    }

    /// Creates and updates check the partner's currency, which no commit guard covers.
    fn write_lock() -> Option<&'static Serial> {
        Some(&SALES_WRITES)
    }

    fn check_write(
        s: &Store,
        _: &Caller,
        _: Access,
        next: &SalesRecord,
        replacing: Option<SalesRecordId>,
    ) -> Result<(), ApiError> {
        check_currency(s, next, replacing)
    }
}

impl CsvResource for SalesRecord {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_sales_records", [Yes, No, No, No, No, No], "Imports sales records from CSV (`id` may be empty for a new id); amounts are decimals in\nthe row's currency, e.g. `1250.50`. Every row is checked first (including one record per\npartner and month, in the file and against the store); all are imported or none.").described("A row in another currency than its partner's stored records, or than the partner's first\nrow in the file when it has none, is a 409 naming `rows[<line>].sell_in` (once every row\npasses the 422 checks).").conflicts(),
        Op::new(Verb::Export, "export_sales_records", [Yes, Yes, No, No, Yes, No], "Exports sales records as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &SALES_COLUMNS;
    /// The name column is for reading: the import resolves `partner_id`.
    const OPTIONAL_COLUMNS: &'static [&'static str] = &["id", "external_id", "partner_name"];
    const FILE_NAME: &'static str = "sales-records.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Partner];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        vec![
            self.id().to_string(),
            external_cell(&self.external_id),
            self.partner_id().to_string(),
            refs.name(Kind::Partner, self.partner_id()),
            self.month().to_string(),
            self.sell_in().currency().to_string(),
            csv_io::decimal(self.sell_in()),
            csv_io::decimal(self.sell_through()),
        ]
    }

    /// A record per row, its amounts decimals in the row's currency; `partner_id` names
    /// the partner by id, external id or name. One row per partner and month in a file
    /// (the `partner_month` unique value, reported on `month`).
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        _caller: &Caller,
        _access: Access,
        refs: &mut Refs,
    ) -> Option<SalesRecord> {
        let id = row.optional("id", errors, |t| t.parse::<SalesRecordId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let partner = refs.required::<PartnerId>(row, "partner_id", Kind::Partner, None, errors);
        let month = row.required("month", errors, |t| t.parse::<Month>());
        // The amounts cannot be read without their currency.
        let currency = row.required("currency", errors, Currency::parse)?;
        let sell_in = row.required("sell_in", errors, |t| Money::parse_decimal(t, currency));
        let sell_through = row.required("sell_through", errors, |t| {
            Money::parse_decimal(t, currency)
        });
        let (
            Ok(id),
            Ok(external_id),
            Some(partner),
            Some(month),
            Some(sell_in),
            Some(sell_through),
        ) = (id, external_id, partner, month, sell_in, sell_through)
        else {
            return None;
        };
        let id = id.unwrap_or_else(SalesRecordId::new);
        match SalesRecord::new(id, partner, month, sell_in, sell_through) {
            Ok(mut record) => {
                record.external_id = external_id;
                Some(record)
            }
            Err(e) => {
                row.error(errors, e.field(), e.message());
                None
            }
        }
    }

    fn unique_column(name: &str) -> &str {
        match name {
            "partner_month" => "month",
            other => other,
        }
    }

    /// Every record's partner exists and has no record for its month; each partner's rows
    /// are in its stored records' currency, or in its first row's when it has none (409).
    fn check_import(s: &Store, records: &[(usize, SalesRecord)]) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let mut conflicts = Vec::new();
        // Each partner's currency: its stored records', or its first row's in the file.
        let mut currency: HashMap<PartnerId, (Currency, Option<usize>)> = HashMap::new();
        // Each partner's stored records, read once however many rows it has.
        let mut stored: HashMap<PartnerId, Vec<SalesRecord>> = HashMap::new();
        for (line, r) in records {
            let existing = match stored.entry(r.partner_id()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let partner = r.partner_id().to_string();
                    e.insert(s.all::<SalesRecord>(Some(("partner", &partner)))?)
                }
            };
            let found = r.sell_in().currency();
            let (theirs, first_line) =
                *currency
                    .entry(r.partner_id())
                    .or_insert_with(|| match existing.first() {
                        Some(e) => (e.sell_in().currency(), None),
                        None => (found, Some(*line)),
                    });
            let stored_other = existing
                .iter()
                .map(|e| e.sell_in().currency())
                .find(|c| *c != found);
            match (stored_other, first_line) {
                (Some(stored), _) => conflicts.push(currency_conflict(
                    format!("rows[{line}].sell_in"),
                    r.partner_id(),
                    stored,
                    "sales records are",
                    found,
                )),
                (None, Some(first)) if theirs != found => conflicts.push(currency_conflict(
                    format!("rows[{line}].sell_in"),
                    r.partner_id(),
                    theirs,
                    &format!("first row in this file (line {first}) is"),
                    found,
                )),
                _ => {}
            }
            if existing
                .iter()
                .any(|e| e.month() == r.month() || e.id() == r.id())
            {
                errors.push(FieldError {
                    field: format!("rows[{line}].month"),
                    message: format!(
                        "partner {} already has a sales record for {}",
                        r.partner_id(),
                        r.month()
                    ),
                });
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        if !conflicts.is_empty() {
            return Err(ApiError::ConflictingFields(conflicts));
        }
        Ok(())
    }
}
