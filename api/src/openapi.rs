//! The OpenAPI description of the API, generated from the code by utoipa.
//!
//! `openapi/openapi.json` in the repository is this document, pretty-printed; a test in
//! `tests/` fails when the two differ, and `chanlab openapi > openapi/openapi.json`
//! regenerates the file.

use chanlab_shared as domain;
use utoipa::OpenApi;

use crate::problem::{FieldError, Problem};

/// The API's OpenAPI 3.1 document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "chanlab",
        description = "Channel records (regions, reps, partners, contracts, activities, sales, goals, process specs, assessments) and simulation of process specs on a copy of the channel.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    components(schemas(
        Problem,
        FieldError,
        domain::Region,
        domain::Rep,
        domain::RepStatus,
        domain::Partner,
        domain::PartnerKind,
        domain::Tier,
        domain::LifecycleStage,
        domain::Contract,
        domain::RebateTier,
        domain::Activity,
        domain::ActivityKind,
        domain::ActivityOutcome,
        domain::SalesRecord,
        domain::Goal,
        domain::Metric,
        domain::Quantity,
        domain::Scope,
        domain::GoalStrategy,
        domain::GoalStrategyKind,
        domain::ProcessSpec,
        domain::ProcessRules,
        domain::SpecStatus,
        domain::GoalSetting,
        domain::ActivityCadence,
        domain::OnboardingProgram,
        domain::AssessmentPlan,
        domain::IncentivePlan,
        domain::Accelerator,
        domain::ThresholdBonus,
        domain::RevenueBasis,
        domain::PartnerProgram,
        domain::ProgramRebateTier,
        domain::Assessment,
        domain::KeyLinkResult,
        domain::Money,
        domain::Currency,
        domain::Month,
        domain::Period,
        domain::PeriodLength,
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document as pretty-printed JSON with a trailing newline, exactly as committed
/// in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document is plain data and always serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_describes_every_record() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for record in [
            "Region",
            "Rep",
            "Partner",
            "Contract",
            "Activity",
            "SalesRecord",
            "Goal",
            "ProcessSpec",
            "Assessment",
            "Problem",
        ] {
            assert!(
                schemas.contains_key(record),
                "{record} missing from the spec"
            );
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let text = openapi_json();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut missing = Vec::new();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            if !schemas.contains_key(name) {
                missing.push(name.to_owned());
            }
        }
        assert!(missing.is_empty(), "dangling $refs: {missing:?}");
    }
}
