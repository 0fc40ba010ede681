//! The OpenAPI schema of `Behaviour` (`openapi` feature), built from the parameter table by
//! `behaviour_parameters!`: each property's bounds, default and description come from the
//! same row as the checking `Deserialize`, so the schema cannot drift from what is read.
//!
//! The derive cannot do this: the struct is generated, its `Deserialize` is hand-written, and
//! a per-tier parameter's bounds belong to the parameter, not to `PerTier`.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Ref, Schema,
    SchemaFormat, Type,
};
use utoipa::{PartialSchema, ToSchema};

use super::{Bounds, PerTier};

/// The text of one property: the row's doc and unit.
fn description(doc: &str, unit: &str) -> String {
    let doc = doc.trim_start();
    // `–` marks a dimensionless parameter; "Unit: –." would say nothing.
    if unit == "–" {
        doc.to_owned()
    } else {
        format!("{doc} Unit: {unit}.")
    }
}

/// A number within `valid`, as `f64` is written in the rest of the document.
fn bounded(valid: Bounds) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .minimum(Some(valid.min))
        .maximum(Some(valid.max))
}

/// A scalar parameter (`f64` row).
pub(super) fn number(doc: &str, unit: &str, default: f64, valid: Bounds) -> RefOr<Schema> {
    bounded(valid)
        .description(Some(description(doc, unit)))
        .default(Some(json!(default)))
        .into()
}

/// A per-tier parameter (`PerTier` row): a `PerTier`, and each tier within the row's bounds.
/// The bounds ride in a second `allOf` member because `PerTier` itself is shared by every
/// tiered parameter and each has its own range.
pub(super) fn per_tier(doc: &str, unit: &str, default: PerTier, valid: Bounds) -> RefOr<Schema> {
    let tiers = ["A", "B", "C"]
        .into_iter()
        .fold(ObjectBuilder::new(), |object, tier| {
            object.property(tier, bounded(valid))
        });
    AllOfBuilder::new()
        .item(Ref::from_schema_name(PerTier::name()))
        .item(tiers)
        .description(Some(description(doc, unit)))
        .default(Some(json!(default)))
        .into()
}

/// A two-element parameter (`[f64; 2]` row): exactly two numbers, each within its bounds.
pub(super) fn pair(doc: &str, unit: &str, default: [f64; 2], valid: [Bounds; 2]) -> RefOr<Schema> {
    ArrayBuilder::new()
        .prefix_items(valid.map(|bounds| Schema::from(bounded(bounds))))
        .min_items(Some(2))
        .max_items(Some(2))
        .description(Some(description(doc, unit)))
        .default(Some(json!(default)))
        .into()
}

/// The `Behaviour` object: every property optional (each has a default) and no other key.
pub(super) fn behaviour(properties: Vec<(&'static str, RefOr<Schema>)>) -> RefOr<Schema> {
    properties
        .into_iter()
        .fold(ObjectBuilder::new(), |object, (name, schema)| {
            object.property(name, schema)
        })
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .description(Some(format!(
            "How the people in the channel behave (sim/MODEL.md §7). Every parameter is \
             optional and takes its default when omitted; a value outside its range is \
             rejected, as is an unknown key. {}",
            super::CROSS_FIELD_RULES
        )))
        .into()
}

/// The schemas `Behaviour`'s refer to, for `ToSchema::schemas`.
pub(super) fn referenced(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((PerTier::name().into_owned(), PerTier::schema()));
}
