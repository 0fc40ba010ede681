//! OpenAPI schemas of the published documents' pairs (`openapi` feature).
//!
//! serde writes a Rust tuple as a JSON array; utoipa would inline such a pair anonymously
//! and without its length. These name each pair and say what its two items are, so a
//! generated client reads `[start, end)` as a range rather than a list of integers. They
//! only describe: fields keep their tuple types and point here with `value_type`.

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

/// An array of exactly the two `items`, described as `description`.
fn pair(description: &str, items: [Schema; 2]) -> RefOr<Schema> {
    ArrayBuilder::new()
        .description(Some(description))
        .prefix_items(items)
        // `minItems` = `maxItems` = 2 bounds the array; no `items: false`, which
        // openapi-python-client cannot read (a boolean schema).
        .min_items(Some(2))
        .max_items(Some(2))
        .into()
}

fn integer(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(0))
        .description(Some(description))
        .into()
}

fn number(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Double,
        )))
        .description(Some(description))
        .into()
}

/// `[start, end)`: replication indices `start` to `end − 1` (a Rust `(u64, u64)`).
pub struct ReplicationRange;

impl PartialSchema for ReplicationRange {
    fn schema() -> RefOr<Schema> {
        pair(
            "Replication indices `[start, end)`: `start` to `end − 1`.",
            [
                integer("`start`, the first index covered."),
                integer("`end`, one past the last index covered."),
            ],
        )
    }
}

impl ToSchema for ReplicationRange {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ReplicationRange")
    }
}

/// `[spec, share]`: a spec's name and a share in [0, 1] (a Rust `(String, f64)`).
pub struct SpecShare;

impl PartialSchema for SpecShare {
    fn schema() -> RefOr<Schema> {
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The spec's name in the scenario."))
            .into();
        pair(
            "A spec's name and the share of the design's points at which it has the best mean.",
            [name, number("The share, from 0 to 1.")],
        )
    }
}

impl ToSchema for SpecShare {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SpecShare")
    }
}

/// `[month, sell_through]`: a recorded month's channel sell-through (a Rust `(Month, f64)`).
pub struct MonthSellThrough;

impl PartialSchema for MonthSellThrough {
    fn schema() -> RefOr<Schema> {
        // The month inline rather than as a `$ref`: a prefix item stands for its position,
        // and the pattern is `Month`'s own.
        let month = match chanlab_shared::Month::schema() {
            RefOr::T(schema) => schema,
            RefOr::Ref(_) => ObjectBuilder::new().schema_type(Type::String).into(),
        };
        pair(
            "A recorded month (`2026-11`) and the channel's sell-through that month, in the backtest's currency.",
            [month, number("Sell-through revenue.")],
        )
    }
}

impl ToSchema for MonthSellThrough {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("MonthSellThrough")
    }
}

/// `[estimate, standard_error]`: the channel's calibrated sell-through level (a Rust
/// `(f64, f64)`).
pub struct LevelEstimate;

impl PartialSchema for LevelEstimate {
    fn schema() -> RefOr<Schema> {
        pair(
            "The channel's sell-through level a month and its standard error.",
            [
                number("The level: sell-through revenue a month."),
                number("Its standard error."),
            ],
        )
    }
}

impl ToSchema for LevelEstimate {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LevelEstimate")
    }
}

/// `[region, multiplier]`: a region's potential scale (a Rust `(String, f64)`).
pub struct RegionScale;

impl PartialSchema for RegionScale {
    fn schema() -> RefOr<Schema> {
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The region's name."))
            .into();
        pair(
            "A region and the multiplier on its partners' potentials.",
            [name, number("The multiplier.")],
        )
    }
}

impl ToSchema for RegionScale {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RegionScale")
    }
}
