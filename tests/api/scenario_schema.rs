//! The OpenAPI document's scenario schemas tell the truth: real scenarios (bundled, a sweep,
//! posted, built and calibrated from the records) validate against them, every behaviour
//! parameter's range in the schema is the one the parser enforces, and documents the server
//! refuses field by field (an unknown key, a value out of its range) fail them too.

use chanlab_sim::bundled;
use chanlab_sim::files::Format;
use chanlab_sim::params::{self, Behaviour};
use chanlab_sim::scenario;
use jsonschema::Validator;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with_records, synthetic};
use crate::scenarios::{seed, small_scenario};

/// A validator of one component of the generated document. The component is the root and
/// its `$ref`s resolve against the whole document's components, as a client's would.
pub(crate) fn validator(component: &str) -> Validator {
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let schema = json!({
        "$ref": format!("#/components/schemas/{component}"),
        "components": doc["components"],
    });
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("the {component} schema does not compile: {e}"))
}

/// Every way `instance` breaks the schema, with where, to read in a failed assertion.
fn violations(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let found = violations(validator, instance);
    assert!(found.is_empty(), "{what} breaks its schema: {found:#?}");
}

/// The bundled scenarios and the bundled sweep, as their TOML text.
fn bundled_scenarios() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = bundled::scenarios()
        .iter()
        .map(|s| (s.name, s.text))
        .collect();
    all.push((
        "stretch-sweep",
        include_str!("../../sim/scenarios/sweeps/stretch-sweep.toml"),
    ));
    all
}

fn no_files(path: &str) -> Result<String, String> {
    Err(format!("no spec files here ({path})"))
}

#[test]
fn bundled_scenarios_validate_against_the_openapi_schema_as_written_and_as_stored() {
    let schema = validator("ScenarioFile");
    for (name, text) in bundled_scenarios() {
        // As a person writes it: bundled spec references, most fields left to defaults.
        let written: toml::Value = toml::from_str(text).unwrap();
        let written = serde_json::to_value(written).unwrap();
        assert_valid(&schema, &written, &format!("{name} as written"));
        // As the server stores it: every spec inline, every behaviour parameter present.
        let parsed = scenario::parse(text, Format::Toml, &no_files).unwrap();
        let stored = serde_json::to_value(parsed.file()).unwrap();
        assert!(stored["specs"][0]["inline"].is_object(), "{name}");
        assert_valid(&schema, &stored, &format!("{name} as stored"));
    }
}

#[test]
fn every_behaviour_parameter_has_the_parsers_range_and_default_in_the_openapi_schema() {
    let schema = validator("Behaviour");
    let defaults = serde_json::to_value(Behaviour::default()).unwrap();
    assert_valid(&schema, &defaults, "the default behaviour");
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let properties = &doc["components"]["schemas"]["Behaviour"]["properties"];
    for field in params::FIELD_NAMES {
        assert_eq!(
            properties[field]["default"], defaults[field],
            "{field}'s default"
        );
    }
    // These four are tied to another parameter's value (`CROSS_FIELD_RULES`), which the
    // schema cannot say: at the edge of its own range such a value can still be refused.
    let tied = [
        "at_risk_below",
        "recovered_above",
        "cover_months",
        "max_cover_months",
    ];
    for p in params::parameters() {
        let valid = p.valid();
        let step = (valid.max - valid.min) * 1e-3;
        let with = |v: f64| {
            let mut b = Behaviour::default();
            *p.value_mut(&mut b) = v;
            serde_json::to_value(b).unwrap()
        };
        for edge in [valid.min, valid.max] {
            let json = with(edge);
            assert_valid(&schema, &json, &format!("{} = {edge}", p.name()));
            if !tied.contains(&p.field()) {
                serde_json::from_value::<Behaviour>(json)
                    .unwrap_or_else(|e| panic!("{} = {edge}: {e}", p.name()));
            }
        }
        for outside in [valid.min - step, valid.max + step] {
            let json = with(outside);
            assert!(
                !schema.is_valid(&json),
                "the schema takes {} = {outside}, outside {}..{}",
                p.name(),
                valid.min,
                valid.max
            );
            assert!(
                serde_json::from_value::<Behaviour>(json).is_err(),
                "the parser takes {} = {outside}",
                p.name()
            );
        }
    }
}

/// Scenarios the server refuses for a reason the schema states, each with its mutation.
fn refused_scenarios() -> Vec<(&'static str, Value)> {
    let mut cases = Vec::new();
    let mut push = |what: &'static str, change: &dyn Fn(&mut Value)| {
        let mut body = small_scenario(5);
        change(&mut body);
        cases.push((what, body));
    };
    push("an unknown top-level key", &|b| b["horizon"] = json!(12));
    push("an unknown region key", &|b| {
        b["channel"]["regions"][0]["repz"] = json!(2)
    });
    push("an unknown behaviour parameter", &|b| {
        b["behaviour"] = json!({"demand_nois": 0.2})
    });
    push("a behaviour value above its range", &|b| {
        b["behaviour"] = json!({"demand_noise": 2.5})
    });
    push(
        "a tier's behaviour value below its range",
        &|b| {
            b["behaviour"] = json!({"touches_for_half_engagement": {"A": 0.0, "B": 0.3, "C": 0.1}})
        },
    );
    push("a per-tier parameter missing a tier", &|b| {
        b["behaviour"] = json!({"own_touches": {"A": 0.4, "B": 0.15}})
    });
    push("an effort range of three", &|b| {
        b["behaviour"] = json!({"effort_range": [0.5, 1.5, 2.0]})
    });
    push("no months", &|b| b["horizon_months"] = json!(0));
    push("no specs", &|b| b["specs"] = json!([]));
    push("an unknown spec entry key", &|b| {
        b["specs"][0] = json!({"builtin": "stretch"})
    });
    cases
}

#[actix_web::test]
async fn scenarios_the_openapi_schema_refuses_the_server_refuses_and_the_rest_it_stores() {
    let app = spawn_app().await;
    let file = validator("ScenarioFile");
    let record = validator("ScenarioRecord");

    let good = small_scenario(5);
    assert_valid(&file, &good, "the small scenario");
    let res = app.post("/scenarios", &good).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_valid(&record, &res.json(), "a posted scenario's record");

    for (what, body) in refused_scenarios() {
        assert!(!file.is_valid(&body), "the schema takes {what}: {body}");
        app.post("/scenarios", &body).await.problem(422);
    }
}

#[actix_web::test]
async fn scenarios_from_the_records_validate_against_the_openapi_schema() {
    let record = validator("ScenarioRecord");

    let app = spawn_app().await;
    seed(&app).await;
    let plain = app
        .post(
            "/scenarios/from-records",
            &json!({"horizon_months": 6, "replications": 20, "compare": ["stretch"]}),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.text());
    let plain = plain.json();
    assert!(plain["calibration"]["partners"].is_array(), "{plain}");
    assert_valid(&record, &plain, "a scenario from the records");

    let app = spawn_app_with_records(
        &synthetic(16, 4),
        chanlab_api::simulation::RunLimits::default(),
    )
    .await;
    let calibrated = app
        .post(
            "/scenarios/from-records",
            &json!({"calibrate": true, "horizon_months": 6, "replications": 20, "seed": 3}),
        )
        .await;
    assert_eq!(calibrated.status, 201, "{}", calibrated.text());
    let calibrated = calibrated.json();
    assert!(calibrated["fit"]["parameters"].is_array(), "{calibrated}");
    assert!(calibrated["scenario"]["uncertainty"].is_object());
    assert_valid(&record, &calibrated, "a calibrated scenario");
}
