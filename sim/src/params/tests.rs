use super::*;
use crate::files::{self, Format};

#[test]
fn the_defaults_are_valid() {
    assert_eq!(Behaviour::default().validate(), Ok(()));
}

#[test]
fn an_out_of_range_parameter_is_named() {
    let b = Behaviour {
        selling_elasticity: 1.5,
        ..Behaviour::default()
    };
    assert_eq!(b.validate().unwrap_err().field(), "selling_elasticity");
    let b = Behaviour {
        own_touches: PerTier {
            a: 1.0,
            b: -1.0,
            c: 0.0,
        },
        ..Behaviour::default()
    };
    assert_eq!(b.validate().unwrap_err().field(), "own_touches.B");
    let b = Behaviour {
        effort_range: [0.5, 0.9],
        ..Behaviour::default()
    };
    assert_eq!(b.validate().unwrap_err().field(), "effort_range[1]");
}

#[test]
fn recovery_cannot_be_below_the_risk_threshold() {
    let b = Behaviour {
        at_risk_below: 0.5,
        recovered_above: 0.4,
        ..Behaviour::default()
    };
    assert_eq!(b.validate().unwrap_err().field(), "recovered_above");
    let parsed = toml::from_str::<Behaviour>("at_risk_below = 0.5\nrecovered_above = 0.4");
    assert!(parsed.unwrap_err().to_string().contains("recovered_above"));
}

#[test]
fn the_most_stock_cannot_be_below_the_normal_cover() {
    let b = Behaviour {
        cover_months: 4.0,
        ..Behaviour::default()
    };
    let e = b.validate().unwrap_err();
    assert_eq!(e.field(), "max_cover_months");
    assert_eq!(e.message(), "expected a number between 4 and 24, found 3");
}

#[test]
fn a_partial_behaviour_table_keeps_the_other_defaults() {
    let b: Behaviour = toml::from_str("selling_elasticity = 0.2\ncalls_per_month = 25").unwrap();
    assert_eq!(b.selling_elasticity, 0.2);
    assert_eq!(b.calls_per_month, 25.0);
    assert_eq!(b.demand_noise, Behaviour::default().demand_noise);
    assert!(toml::from_str::<Behaviour>("sellng_elasticity = 0.2").is_err());
    let json: Behaviour = serde_json::from_str(r#"{"own_touches": {"A": 1, "B": 0.5, "C": 0}}"#)
        .expect("JSON parses");
    assert_eq!(json.own_touches.a, 1.0);
    assert_eq!(json.demand_noise, Behaviour::default().demand_noise);
}

/// The error `files::parse` gives for a scenario-like document with this `[behaviour]`.
fn behaviour_error(text: &str, format: Format) -> files::FileError {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        behaviour: Behaviour,
    }
    files::parse::<Doc>(text, format).expect_err("rejected")
}

#[test]
fn an_out_of_range_value_in_a_toml_table_names_its_path_and_range() {
    let e = behaviour_error("[behaviour]\ndemand_noise = 7\n", Format::Toml);
    assert_eq!(e.field, "behaviour.demand_noise");
    assert_eq!(e.message, "expected a number between 0 and 2, found 7");
    assert_eq!(e.line, Some(2));

    let tiered = "[behaviour]\ntouches_for_half_engagement = { A = 0.6, B = 0, C = 0.1 }\n";
    let e = behaviour_error(tiered, Format::Toml);
    assert_eq!(e.field, "behaviour.touches_for_half_engagement.B");
    assert_eq!(
        e.message,
        "expected a number between 0.001 and 100, found 0"
    );

    let e = behaviour_error("[behaviour]\neffort_range = [0.5, 6]\n", Format::Toml);
    assert_eq!(e.field, "behaviour.effort_range[1]");
    assert_eq!(e.message, "expected a number between 1 and 5, found 6");

    let e = behaviour_error(r#"{"behaviour": {"holding_cost": -0.1}}"#, Format::Json);
    assert_eq!(e.field, "behaviour.holding_cost");
    assert!(e.message.contains("between 0 and 1"), "{}", e.message);
}

#[test]
fn malformed_behaviour_tables_are_rejected_as_before() {
    let missing = behaviour_error("[behaviour]\nown_touches = { A = 0.4 }\n", Format::Toml);
    assert!(missing.message.contains("missing field `B`"), "{missing:?}");
    let unknown = behaviour_error("[behaviour]\ndemand_nosie = 0.2\n", Format::Toml);
    assert!(
        unknown.message.contains("unknown field `demand_nosie`"),
        "{unknown:?}"
    );
    let long = behaviour_error("[behaviour]\neffort_range = [0.5, 1.5, 2]\n", Format::Toml);
    assert!(long.message.contains("invalid length"), "{long:?}");
    let dup = behaviour_error(
        r#"{"behaviour": {"demand_noise": 0.2, "demand_noise": 0.3}}"#,
        Format::Json,
    );
    assert!(dup.message.contains("duplicate field"), "{dup:?}");
}

/// `Behaviour::default()` as JSON before the table existed (field order, names and values):
/// stored and exported scenarios depend on all three.
const DEFAULTS_BEFORE_THE_TABLE: &str = r#"{"selling_elasticity":0.34,"market_volatility":0.04,"demand_noise":0.25,"vacant_attention":0.3,"initial_engagement":0.65,"engagement_floor":0.25,"touches_for_half_engagement":{"A":0.6,"B":0.3,"C":0.1},"engagement_speed":0.15,"pressure_penalty":0.08,"at_risk_below":0.35,"recovered_above":0.45,"churn_hazard_at_risk":0.06,"cover_months":1.0,"replenish_speed":0.5,"max_cover_months":3.0,"holding_cost":0.02,"partner_target_growth":0.05,"vendor_gross_margin":0.4,"reference_pay_rate":0.03,"skill_spread":0.25,"rep_ramp_months":9.2,"vacancy_months":3.7,"annual_attrition":0.139,"attrition_per_miss":0.25,"effort_range":[0.5,1.5],"effort_cost":1.0,"goal_value":1.0,"commitment_midpoint":0.3,"commitment_spread":0.08,"commitment_loss_per_miss":0.15,"sales_uncertainty":0.15,"estimate_error":0.25,"rep_knowledge_error":0.05,"ratchet_foresight":0.5,"sandbagging":0.15,"pull_in_discount":0.5,"max_pull_in":2.0,"max_push_out":0.5,"own_touches":{"A":0.4,"B":0.15,"C":0.05},"touch_time":0.02,"compliance_unmeasured":0.35,"compliance_if_assessed":0.45,"compliance_if_in_goals":0.35,"compliance_if_paid":0.2,"backing_spread":0.1,"recruiting_share":0.06,"recruiting_share_if_measured":0.25,"calls_per_month":20.0,"call_conversion":0.03,"negotiation_months":3.0,"signing_probability":0.5,"partner_ramp_months":9.0,"engagement_per_training":0.05,"goal_level_factor":1.0}"#;

#[test]
fn serialisation_keeps_the_field_names_order_and_defaults() {
    let json = serde_json::to_string(&Behaviour::default()).unwrap();
    assert_eq!(json, DEFAULTS_BEFORE_THE_TABLE);
    // FIELD_NAMES (the order `commented_defaults` and `parameters` follow) is the same order.
    let at: Vec<usize> = FIELD_NAMES
        .iter()
        .map(|f| json.find(&format!("\"{f}\":")).expect(f))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    assert_eq!(FIELD_NAMES.len(), 54);
    let back: Behaviour = serde_json::from_str(DEFAULTS_BEFORE_THE_TABLE).unwrap();
    assert_eq!(back, Behaviour::default());
    let toml_back: Behaviour = toml::from_str(&toml::to_string(&back).unwrap()).unwrap();
    assert_eq!(toml_back, Behaviour::default());
}

#[test]
fn plausible_ranges_lie_within_valid_ranges_and_contain_the_defaults() {
    let b = Behaviour::default();
    for p in parameters() {
        let (valid, plausible) = (p.valid(), p.plausible());
        assert!(
            plausible.min < plausible.max,
            "{}: empty plausible range",
            p.name()
        );
        assert!(
            valid.contains(plausible.min) && valid.contains(plausible.max),
            "{}: plausible {plausible:?} outside valid {valid:?}",
            p.name()
        );
        assert!(
            plausible.contains(p.default()),
            "{}: default outside",
            p.name()
        );
        assert_eq!(p.value(&b), p.default(), "{}", p.name());
        assert!(!p.unit().is_empty() && !p.doc().is_empty() && !p.source().is_empty());
    }
}

#[test]
fn every_end_of_every_plausible_range_is_a_valid_behaviour_on_its_own() {
    for p in parameters() {
        for v in [p.plausible().min, p.plausible().max] {
            let mut b = Behaviour::default();
            *p.value_mut(&mut b) = v;
            assert_eq!(b.validate(), Ok(()), "{} = {v}", p.name());
        }
    }
}

#[test]
fn get_and_set_by_name_round_trip_for_every_parameter() {
    for (i, p) in parameters().iter().enumerate() {
        let mut b = Behaviour::default();
        let v = p.plausible().min + (i as f64 + 1.0) * 1e-6;
        *parameter(p.name())
            .expect("found by name")
            .value_mut(&mut b) = v;
        assert_eq!(p.value(&b), v, "{}", p.name());
        // Only this entry moved: every other keeps its default.
        for q in parameters().iter().filter(|q| q.name() != p.name()) {
            assert_eq!(
                q.value(&b),
                q.default(),
                "setting {} moved {}",
                p.name(),
                q.name()
            );
        }
        // And the value is where the serialised table puts it.
        let table = toml::Value::try_from(&b).unwrap();
        let at = &table[p.field()];
        let stored = match p.name()[p.field().len()..].trim_start_matches('.') {
            "" => at.as_float(),
            "[0]" => at[0].as_float(),
            "[1]" => at[1].as_float(),
            tier => at[tier].as_float(),
        };
        assert_eq!(stored, Some(v), "{}", p.name());
    }
    assert!(parameter("own_touches").is_none());
    assert!(parameter("no_such_parameter").is_none());
    assert_eq!(parameters().len(), 59);
}

#[test]
fn validation_rejects_each_entry_just_outside_its_valid_range() {
    for p in parameters() {
        for v in [p.valid().min - 1e-9, p.valid().max + 1e-9, f64::NAN] {
            let mut b = Behaviour::default();
            *p.value_mut(&mut b) = v;
            let e = b.validate().expect_err(p.name());
            assert_eq!(e.field(), p.name());
        }
    }
}

#[test]
fn every_field_has_table_entries_in_field_order() {
    let fields: Vec<&str> = parameters().iter().map(|p| p.field()).collect();
    let mut distinct = fields.clone();
    distinct.dedup();
    assert_eq!(distinct, FIELD_NAMES);
}

#[test]
fn model_md_documents_every_parameter_with_its_default_and_plausible_range() {
    let model = include_str!("../../MODEL.md");
    // Only §7.1: other tables (§12.3's fitted parameters) name parameters too.
    let start = model.find("### 7.1 ").expect("§7.1");
    let model = &model[start..start + model[start..].find("### 7.2 ").expect("§7.2")];
    let mut wrong = Vec::new();
    for field in FIELD_NAMES {
        let rows: Vec<&str> = model
            .lines()
            .filter(|l| l.starts_with(&format!("| `{field}` |")))
            .collect();
        let [row] = rows.as_slice() else {
            wrong.push(format!("{field}: {} rows in §7.1", rows.len()));
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let entries = parameters().iter().filter(|p| p.field() == *field);
        for p in entries {
            if !cells[1].contains(&format!("{}", p.default())) {
                wrong.push(format!("{}: default {}", p.name(), p.default()));
            }
            if cells[3] != p.unit() {
                wrong.push(format!("{field}: unit should be `{}`", p.unit()));
            }
            if !row.contains(&format!(" {} |", p.source())) {
                wrong.push(format!("{field}: source should be `{}`", p.source()));
            }
        }
        if cells[2] != plausible_text(field) {
            wrong.push(format!(
                "{field}: plausible should be `{}`",
                plausible_text(field)
            ));
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "sim/MODEL.md §7.1 disagrees: {wrong:#?}");
}

#[test]
fn the_commented_defaults_parse_back_to_the_defaults_when_uncommented() {
    let text = commented_defaults();
    let uncommented: String = text
        .lines()
        .filter(|l| l.starts_with("# ") && !l.starts_with("#  ") && l.contains(" = "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    assert_eq!(uncommented.lines().count(), FIELD_NAMES.len());
    let parsed: Behaviour = toml::from_str(&uncommented).unwrap();
    assert_eq!(parsed, Behaviour::default());
}

#[test]
fn the_commented_defaults_show_each_parameter_with_unit_and_plausible_range() {
    let text = commented_defaults();
    for field in FIELD_NAMES {
        let at = text.find(&format!("# {field} = ")).expect(field);
        let block: Vec<&str> = text[at..].lines().take(3).collect();
        let p = parameters().iter().find(|p| p.field() == *field).unwrap();
        assert_eq!(block[1], format!("#   {}", p.doc()));
        assert_eq!(
            block[2],
            format!(
                "#   unit: {}; plausible: {}",
                p.unit(),
                plausible_text(field)
            )
        );
    }
    assert!(text.contains(
        "#   unit: weighted touches/month; plausible: A 0.3–1.2, B 0.15–0.6, C 0.05–0.2"
    ));
}
