//! The OpenAPI description of the API, generated from the code by utoipa.
//!
//! `openapi/openapi.json` in the repository is this document, pretty-printed; a test in
//! `tests/` fails when the two differ, and `chanlab openapi > openapi/openapi.json`
//! regenerates the file.

use chanlab_shared as domain;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::{CreatedToken, RoleName, TokenRequest};
use crate::problem::{FieldError, Problem};
use crate::routes::{self, responses};

/// The API's OpenAPI 3.1 document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "chanlab",
        description = "Channel records (regions, reps, partners, contracts, activities, sales, goals, process specs, assessments) and simulation of process specs on a copy of the channel.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    servers((url = "/", description = "The server that serves this document (`chanlab serve`); a client sets its own base URL.")),
    modifiers(
        &BearerAuth,
        &RecordResources,
        &PublicRoutes,
        &BinaryAlternatives,
        &QueryProblems,
        &Constraints
    ),
    tags(
        (name = "health", description = "Liveness and readiness; no token needed."),
        (name = "tokens", description = "Bearer tokens: an admin makes them; every caller lists, rotates and revokes its own (an admin: any)."),
        (name = "audit", description = "The audit trail: who changed which record when, each field before and after (admins)."),
        (name = "webhooks", description = "Subscriptions that push events to other systems, signed, retried for 24 h, with a delivery log (admins)."),
        (name = "regions", description = "Regional units and their managers."),
        (name = "reps", description = "Sales reps, managed by their regional manager."),
        (name = "partners", description = "Channel partners and their lifecycle."),
        (name = "contracts", description = "Contracts signed with partners."),
        (name = "activities", description = "Key-link events logged by reps."),
        (name = "sales", description = "Monthly sell-in and sell-through per partner."),
        (name = "goals", description = "Targets per rep, partner or region and period."),
        (name = "process specs", description = "Published rules, versioned; compliance."),
        (name = "assessments", description = "Scorecards against a spec version."),
        (name = "simulation", description = "Scenarios (posted, or calibrated from the records), background runs with their results and charts, and backtests of the records."),
        (name = "training", description = "The training sandbox: exercises, sessions played round by round with a score and debrief, leaderboards."),
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::tokens::create_token,
        routes::tokens::list_tokens,
        routes::audit::list_audit,
        routes::webhooks::create_webhook,
        routes::webhooks::list_webhooks,
        routes::webhooks::get_webhook,
        routes::webhooks::update_webhook,
        routes::webhooks::delete_webhook,
        routes::webhooks::list_webhook_deliveries,
        routes::webhooks::redeliver_webhook_delivery,
        routes::webhooks::rotate_webhook_secret,
        routes::tokens::revoke_token,
        routes::tokens::rotate_token,
        routes::tokens::get_backup,
        routes::scorecards::rep_scorecard,
        routes::partners::transitions::transition_partner,
        routes::partners::transitions::list_partner_transitions,
        routes::partners::transitions::import_partner_transitions,
        routes::partners::transitions::export_partner_transitions,
        routes::scorecards::partner_scorecard,
        routes::specs::create_process_spec,
        routes::specs::list_process_specs,
        routes::specs::get_process_spec,
        routes::specs::update_process_spec,
        routes::specs::publish_process_spec,
        routes::specs::list_process_spec_versions,
        routes::specs::get_process_spec_version,
        routes::specs::process_spec_compliance,
        routes::scenarios::create_scenario,
        routes::scenarios::scenario_from_records,
        routes::scenarios::list_scenarios,
        routes::scenarios::get_scenario,
        routes::scenarios::delete_scenario,
        routes::scenarios::create_run,
        routes::runs::get_run,
        routes::runs::get_run_chart,
        routes::runs::delete_run,
        routes::backtests::create_backtest,
        routes::backtests::get_backtest,
        routes::backtests::get_backtest_chart,
        routes::training::list_exercises,
        routes::training::get_exercise,
        routes::training::exercise_leaderboard,
        routes::training::create_training_session,
        routes::training::list_training_sessions,
        routes::training::get_training_session,
        routes::training::play_training_round,
    ),
    components(responses(
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
    ),
    schemas(
        TokenRequest,
        CreatedToken,
        crate::auth::TokenView,
        routes::tokens::TokenPage,
        routes::audit::AuditPage,
        crate::audit::AuditEntry,
        crate::audit::AuditActor,
        crate::audit::AuditAction,
        crate::audit::FieldChange,
        crate::audit::AuditBatch,
        routes::webhooks::WebhookPage,
        routes::webhooks::DeliveryPage,
        crate::webhooks::WebhookView,
        crate::webhooks::CreatedWebhook,
        crate::webhooks::WebhookRequest,
        crate::webhooks::RotateSecretRequest,
        crate::webhooks::Delivery,
        crate::webhooks::DeliveryStatus,
        crate::events::EventType,
        RoleName,
        routes::health::Health,
        routes::partners::transitions::TransitionInput,
        routes::partners::transitions::StageChangePage,
        routes::specs::ProcessSpecPage,
        routes::ImportReport,
        routes::Matched,
        routes::MatchedBy,
        routes::scenarios::ScenarioPage,
        routes::scenarios::FromRecordsRequest,
        routes::scenarios::RunRequest,
        crate::experiments::RunKind,
        crate::experiments::SensitivityRequest,
        crate::experiments::OptimiseRequest,
        routes::runs::RunView,
        routes::backtests::BacktestRequest,
        routes::backtests::BacktestView,
        crate::records::BacktestRecord,
        crate::records::ScenarioRecord,
        crate::records::ScenarioSource,
        crate::records::RunRecord,
        crate::records::RunStatus,
        crate::records::Progress,
        routes::training::ExercisePage,
        routes::training::TrainingSessionPage,
        routes::training::TrainingSessionSummary,
        routes::training::SessionRequest,
        routes::training::RoundRequest,
        crate::training::ExerciseSummary,
        crate::training::ExerciseDetail,
        crate::training::DecisionView,
        crate::training::ChoiceView,
        crate::training::TrainingSessionView,
        crate::training::RoundResult,
        crate::training::RoundView,
        crate::training::TakenDecision,
        crate::training::MetricView,
        crate::training::Unit,
        crate::training::BandView,
        crate::training::DebriefView,
        crate::training::PolicyScoreView,
        crate::training::Difference,
        crate::training::Leaderboard,
        crate::training::LeaderboardEntry,
        domain::scorecard::RepScorecard,
        domain::scorecard::PartnerScorecard,
        domain::scorecard::CadenceResult,
        domain::scorecard::GoalResult,
        domain::scorecard::SalesSummary,
        domain::scorecard::ComplianceReport,
        domain::scorecard::ComplianceRow,
        Problem,
        FieldError,
        domain::Region,
        domain::Rep,
        domain::RepStatus,
        domain::Partner,
        domain::PartnerKind,
        domain::Tier,
        domain::LifecycleStage,
        domain::StageChange,
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

/// Adds the operations of the record resources, which `routes::layer` declares: they are
/// served by generic handlers, which `paths(...)` cannot name (utoipa issue #637). Their
/// input and page schemas come with them.
struct RecordResources;

impl Modify for RecordResources {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for resource in routes::layer::RESOURCES {
            (resource.document)(&mut openapi.paths);
            (resource.schemas)(openapi);
        }
    }
}

/// Writes `security: []` on the operations declared public (`security(())` on the path,
/// which utoipa writes as `[{}]`, "a token is optional"): no token is needed at all, and
/// generators and linters read `[]` so.
struct PublicRoutes;

impl Modify for PublicRoutes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let anonymous = vec![utoipa::openapi::security::SecurityRequirement::default()];
        for operation in operations_mut(openapi) {
            if operation.security.as_ref() == Some(&anonymous) {
                operation.security = Some(Vec::new());
            }
        }
    }
}

/// Every operation of the document, to change in place.
fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Adds the bearer token security scheme every protected operation refers to.
struct BearerAuth;

/// Documents the 422 every operation with query parameters answers for an unknown one
/// (`startup::query_error`), where its path did not already. Listed after
/// [`RecordResources`], whose list operations take queries too.
struct QueryProblems;

impl Modify for QueryProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{Ref, RefOr};
        for operation in operations_mut(openapi) {
            let takes_query =
                operation.parameters.iter().flatten().any(
                    |p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)),
                );
            if takes_query {
                operation
                    .responses
                    .responses
                    .entry("422".to_owned())
                    .or_insert_with(|| Ref::from_response_name("Unprocessable").into());
            }
        }
    }
}

/// Every non-JSON body also as `application/octet-stream` ([`crate::media`]). Listed after
/// [`RecordResources`], whose CSV operations it covers too.
struct BinaryAlternatives;

impl Modify for BinaryAlternatives {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        crate::media::document(openapi);
    }
}

/// Constraints the server enforces on every operation alike, written into the document in
/// one place rather than on each declaration: the `If-Match` grammar (and the 400 that
/// answers a header outside it), and the range each
/// integer format holds (a `uint32` is 0 to 4,294,967,295: a generator reading only
/// `format` would otherwise draw values the field cannot take, or miss the ones it can).
/// Runs last, on the JSON form of each path and component: a walk over utoipa's typed
/// schema tree would need a case for each of its variants.
struct Constraints;

impl Modify for Constraints {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Only what changed is read back: utoipa cannot read every schema it writes (an
        // any-value schema such as `FieldChange.before` has no `type` to tell it apart).
        let paths = &mut openapi.paths.paths;
        for item in paths.values_mut() {
            constrain_typed(item);
        }
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                constrain_typed(schema);
            }
            for response in components.responses.values_mut() {
                constrain_typed(response);
            }
        }
    }
}

fn constrain_typed<T: serde::Serialize + serde::de::DeserializeOwned>(part: &mut T) {
    let before = serde_json::to_value(&*part).expect("the document serialises");
    let mut after = before.clone();
    constrain(&mut after);
    if after != before {
        *part = serde_json::from_value(after).expect("a constrained part reads back");
    }
}

/// The range of each integer format the document uses beyond OpenAPI's own `int32`/`int64`.
const INTEGER_RANGES: [(&str, i128, i128); 6] = [
    ("int8", i8::MIN as i128, i8::MAX as i128),
    ("int16", i16::MIN as i128, i16::MAX as i128),
    ("uint8", 0, u8::MAX as i128),
    ("uint16", 0, u16::MAX as i128),
    ("uint32", 0, u32::MAX as i128),
    ("uint64", 0, u64::MAX as i128),
];

fn constrain(value: &mut serde_json::Value) {
    use serde_json::{Value, json};
    match value {
        Value::Object(fields) => {
            if fields.get("in") == Some(&json!("header"))
                && fields.get("name") == Some(&json!("If-Match"))
            {
                fields.insert(
                    "schema".into(),
                    json!({
                        "type": "string",
                        "pattern": crate::extract::IF_MATCH_PATTERN,
                        "examples": ["\"1\""],
                    }),
                );
            }
            // An operation taking If-Match answers 400 to a header outside its grammar.
            let conditional = fields
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            if conditional && let Some(Value::Object(responses)) = fields.get_mut("responses") {
                responses
                    .entry("400")
                    .or_insert_with(|| json!({"$ref": "#/components/responses/BadRequest"}));
            }
            // utoipa 6 writes `KnownFormat::UInt32` as `u-int32` (its kebab-case rename); the
            // OpenAPI format registry's name is `uint32`.
            if let Some(Value::String(format)) = fields.get_mut("format")
                && let Some(registered) = format.strip_prefix("u-int")
            {
                *format = format!("uint{registered}");
            }
            let format = fields.get("format").and_then(Value::as_str);
            if let Some(&(_, low, high)) = INTEGER_RANGES.iter().find(|r| Some(r.0) == format) {
                let bound = |fields: &serde_json::Map<String, Value>, key: &str| {
                    fields.get(key).and_then(Value::as_f64)
                };
                if bound(fields, "minimum").is_none_or(|m| m < low as f64) {
                    fields.insert("minimum".into(), number(low));
                }
                if bound(fields, "maximum").is_none_or(|m| m > high as f64) {
                    fields.insert("maximum".into(), number(high));
                }
            }
            fields.values_mut().for_each(constrain);
        }
        Value::Array(items) => items.iter_mut().for_each(constrain),
        _ => {}
    }
}

fn number(n: i128) -> serde_json::Value {
    match (i64::try_from(n), u64::try_from(n)) {
        (Ok(i), _) => i.into(),
        (_, Ok(u)) => u.into(),
        _ => unreachable!("every integer format fits an i64 or a u64"),
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `chanlab token create` or `POST /tokens`, sent as `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every operation of the API as `(method, path, operation id)`, in document order: the
/// rows of the README's role table and of the access test.
pub fn operations() -> Vec<(String, String, String)> {
    let doc = ApiDoc::openapi();
    let value = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    let mut out = Vec::new();
    if let Some(paths) = value["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(id) = item[method]["operationId"].as_str() {
                    out.push((method.to_uppercase(), path.clone(), id.to_owned()));
                }
            }
        }
    }
    out
}

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
    fn only_the_health_and_metrics_routes_are_public_and_they_say_so() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let mut public = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let security = &op["security"];
                assert!(security.is_array(), "{method} {path} declares no security");
                if security.as_array().unwrap().is_empty() {
                    public.push(path.as_str());
                } else {
                    assert_eq!(
                        security,
                        &serde_json::json!([{"bearer": []}]),
                        "{method} {path}"
                    );
                }
            }
        }
        // `/metrics` answers only on a server started with `--metrics`, which is the
        // operator's switch (routes::health::metrics).
        assert_eq!(public, ["/healthz", "/metrics", "/readyz"]);
        assert_eq!(doc["servers"][0]["url"], "/");
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
