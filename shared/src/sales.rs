//! Monthly sales records: what a partner bought from us and what it sold on.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::Month;
use crate::error::ValidationError;
use crate::id::{PartnerId, SalesRecordId};
use crate::money::{Money, MoneyError};
use crate::value::ExternalId;

/// One partner's sales in one month. `sell_in − sell_through` is the change in the partner's
/// inventory of our products, which is how channel stuffing shows up in the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "SalesRecordFields")]
pub struct SalesRecord {
    id: SalesRecordId,
    partner_id: PartnerId,
    month: Month,
    sell_in: Money,
    sell_through: Money,
    /// The record's code in another system (a CRM's), unique among records of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// Who made the record and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<crate::Stamp>,
    /// Who changed it last and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<crate::Stamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SalesRecordFields {
    id: SalesRecordId,
    partner_id: PartnerId,
    month: Month,
    sell_in: Money,
    sell_through: Money,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    created_by: Option<crate::Stamp>,
    #[serde(default)]
    updated_by: Option<crate::Stamp>,
}

impl TryFrom<SalesRecordFields> for SalesRecord {
    type Error = ValidationError;
    fn try_from(f: SalesRecordFields) -> Result<Self, Self::Error> {
        SalesRecord::new(f.id, f.partner_id, f.month, f.sell_in, f.sell_through).map(|r| {
            SalesRecord {
                external_id: f.external_id,
                created_by: f.created_by,
                updated_by: f.updated_by,
                ..r
            }
        })
    }
}

impl SalesRecord {
    /// A record whose amounts are non-negative and in one currency.
    pub fn new(
        id: SalesRecordId,
        partner_id: PartnerId,
        month: Month,
        sell_in: Money,
        sell_through: Money,
    ) -> Result<Self, ValidationError> {
        let sell_in = sell_in.require_non_negative("sell_in")?;
        let sell_through = sell_through.require_non_negative("sell_through")?;
        if sell_in.currency() != sell_through.currency() {
            return Err(ValidationError::new(
                "sell_through",
                format!(
                    "must be in the same currency as sell_in ({}), found {}",
                    sell_in.currency(),
                    sell_through.currency()
                ),
            ));
        }
        Ok(Self {
            id,
            partner_id,
            month,
            sell_in,
            sell_through,
            external_id: None,
            created_by: None,
            updated_by: None,
        })
    }

    /// The record's id.
    pub fn id(&self) -> SalesRecordId {
        self.id
    }

    /// The partner.
    pub fn partner_id(&self) -> PartnerId {
        self.partner_id
    }

    /// The month.
    pub fn month(&self) -> Month {
        self.month
    }

    /// What the partner bought from us.
    pub fn sell_in(&self) -> Money {
        self.sell_in
    }

    /// What the partner sold on to its customers.
    pub fn sell_through(&self) -> Money {
        self.sell_through
    }

    /// The change in the partner's inventory: `sell_in − sell_through`.
    pub fn inventory_change(&self) -> Result<Money, MoneyError> {
        self.sell_in.checked_sub(self.sell_through)
    }
}
