//! JSON round trips of every public record.

use chanlab_shared::{
    Activity, ActivityId, ActivityKind, ActivityOutcome, Goal, GoalId, GoalSetting,
    GoalStrategyKind, Metric, Notes, PartnerId, PartnerKind, PeriodLength, ProcessSpec, Quantity,
    Region, RegionId, Rep, RepId, RepStatus, Scope, SpecStatus,
};
use serde_json::json;

use crate::helpers::{
    accelerator, all_strategies, date, eur, goal, month, name, period, plan, round_trip, sales,
    sample_assessment, sample_contract, sample_partner, sample_program, sample_rules, sample_spec,
    to_json,
};

#[test]
fn money_round_trips_as_minor_units_and_a_currency_code() {
    let json = round_trip(&eur(-125_050));

    assert_eq!(json, json!({"amount_minor": -125_050, "currency": "EUR"}));
}

#[test]
fn months_and_periods_round_trip_as_strings() {
    assert_eq!(round_trip(&month("2026-01")), json!("2026-01"));
    for text in ["2026-11", "2026-Q4", "2026-H1", "2026"] {
        assert_eq!(round_trip(&period(text)), json!(text));
    }
}

#[test]
fn scopes_round_trip_tagged_by_kind_with_a_string_id() {
    let rep = RepId::new();
    let partner = PartnerId::new();
    let region = RegionId::new();

    let rep_json = round_trip(&Scope::Rep(rep));
    let partner_json = round_trip(&Scope::Partner(partner));
    let region_json = round_trip(&Scope::Region(region));

    assert_eq!(rep_json, json!({"kind": "rep", "id": rep.to_string()}));
    assert_eq!(
        partner_json,
        json!({"kind": "partner", "id": partner.to_string()})
    );
    assert_eq!(
        region_json,
        json!({"kind": "region", "id": region.to_string()})
    );
}

#[test]
fn quantities_round_trip_as_snake_case_variants() {
    let amount = round_trip(&Quantity::Amount(eur(5_000_000)));
    let counted = round_trip(&Quantity::Count(12));

    assert_eq!(
        amount,
        json!({"amount": {"amount_minor": 5_000_000, "currency": "EUR"}})
    );
    assert_eq!(counted, json!({"count": 12}));
}

#[test]
fn a_region_round_trips() {
    let region = Region {
        created_by: None,
        updated_by: None,
        id: RegionId::new(),
        name: name("Nordics"),
        regional_manager: name("Ingrid Berg"),
        external_id: None,
    };

    let json = round_trip(&region);

    assert_eq!(json["id"], json!(region.id.to_string()));
    assert_eq!(json["regional_manager"], "Ingrid Berg");
}

#[test]
fn a_rep_round_trips_with_snake_case_status_and_iso_date() {
    let rep = Rep {
        created_by: None,
        updated_by: None,
        id: RepId::new(),
        name: name("Jonas Lind"),
        region_id: RegionId::new(),
        hired_on: date(2025, 3, 1),
        status: RepStatus::OnLeave,
        left_on: None,
        external_id: None,
    };

    let json = round_trip(&rep);

    assert!(json["region_id"].is_string(), "{json}");
    assert_eq!(json["hired_on"], "2025-03-01");
    assert_eq!(json["status"], "on_leave");
}

#[test]
fn a_partner_round_trips_with_its_stage() {
    let partner = sample_partner();

    let json = round_trip(&partner);

    assert!(json["id"].is_string(), "{json}");
    assert!(json["region_id"].is_string(), "{json}");
    assert!(json["owner_rep_id"].is_string(), "{json}");
    assert_eq!(json["kind"], "distributor");
    assert_eq!(json["tier"], "A");
    assert_eq!(json["stage"], "active");
}

#[test]
fn a_partner_without_an_owner_round_trips_without_the_field() {
    let mut partner = sample_partner();
    partner.owner_rep_id = None;
    partner.kind = PartnerKind::SystemIntegrator;

    let json = round_trip(&partner);

    assert!(json.get("owner_rep_id").is_none(), "{json}");
    assert_eq!(json["kind"], "system_integrator");
}

#[test]
fn a_contract_round_trips() {
    let contract = sample_contract();

    let json = round_trip(&contract);

    assert!(json["partner_id"].is_string(), "{json}");
    assert_eq!(json["start"], "2026-01-01");
    assert_eq!(json["term_months"], 12);
    assert_eq!(json["target_period"], "quarter");
    assert_eq!(json["sell_in_target"]["currency"], "EUR");
    assert_eq!(
        json["rebate_tiers"][1]["threshold"]["amount_minor"],
        1_000_000
    );
    assert_eq!(json["rebate_tiers"][1]["rate"], 0.02);
}

#[test]
fn an_activity_round_trips() {
    let activity = Activity {
        created_by: None,
        updated_by: None,
        id: ActivityId::new(),
        rep_id: RepId::new(),
        partner_id: PartnerId::new(),
        date: date(2026, 11, 12),
        kind: ActivityKind::BusinessReview,
        outcome: ActivityOutcome::NoShow,
        notes: Notes::parse("Rescheduled to next week.").unwrap(),
        external_id: None,
    };

    let json = round_trip(&activity);

    assert!(json["rep_id"].is_string(), "{json}");
    assert_eq!(json["kind"], "business_review");
    assert_eq!(json["outcome"], "no_show");
    assert_eq!(json["date"], "2026-11-12");
}

#[test]
fn an_activity_without_notes_deserialises_with_empty_notes() {
    let activity = Activity {
        created_by: None,
        updated_by: None,
        id: ActivityId::new(),
        rep_id: RepId::new(),
        partner_id: PartnerId::new(),
        date: date(2026, 11, 12),
        kind: ActivityKind::Visit,
        outcome: ActivityOutcome::Completed,
        notes: Notes::default(),
        external_id: None,
    };
    let mut json = to_json(&activity);
    json.as_object_mut().unwrap().remove("notes");

    let back: Activity = serde_json::from_value(json).unwrap();

    assert_eq!(back, activity);
}

#[test]
fn a_sales_record_round_trips() {
    let record = sales(eur(500_000), eur(420_000)).unwrap();

    let json = round_trip(&record);

    assert!(json["id"].is_string(), "{json}");
    assert!(json["partner_id"].is_string(), "{json}");
    assert_eq!(json["month"], "2026-11");
    assert_eq!(json["sell_in"]["amount_minor"], 500_000);
    assert_eq!(json["sell_through"]["amount_minor"], 420_000);
}

#[test]
fn a_goal_round_trips() {
    let goal = goal(Metric::SellThrough, Quantity::Amount(eur(5_000_000))).unwrap();

    let json = round_trip(&goal);

    assert_eq!(json["scope"]["kind"], "rep");
    assert!(json["scope"]["id"].is_string(), "{json}");
    assert!(json["process_spec_id"].is_string(), "{json}");
    assert_eq!(json["period"], "2026-Q4");
    assert_eq!(json["metric"], "sell_through");
    assert_eq!(json["strategy"], "flat_growth");
    assert_eq!(json["target"]["amount"]["amount_minor"], 5_000_000);
}

#[test]
fn a_manual_goal_without_a_spec_round_trips_without_the_spec_field() {
    let goal = Goal::new(
        GoalId::new(),
        Scope::Region(RegionId::new()),
        period("2026"),
        Metric::PartnersSigned,
        Quantity::Count(4),
        GoalStrategyKind::Manual,
        None,
    )
    .unwrap();

    let json = round_trip(&goal);

    assert!(json.get("process_spec_id").is_none(), "{json}");
    assert_eq!(json["strategy"], "manual");
    assert_eq!(json["metric"], "partners_signed");
}

#[test]
fn every_goal_strategy_round_trips_tagged_by_its_snake_case_kind() {
    let expected_kinds = [
        "flat_growth",
        "ratchet",
        "potential_based",
        "stretch",
        "participative",
        "tiered_thresholds",
        "activity_based",
        "balanced_scorecard",
    ];
    let strategies = all_strategies();
    assert_eq!(strategies.len(), expected_kinds.len());

    for (strategy, expected) in strategies.iter().zip(expected_kinds) {
        let json = round_trip(strategy);

        assert_eq!(json["kind"], expected, "{json}");
        assert_eq!(
            json["kind"],
            to_json(&strategy.kind()),
            "GoalStrategy and GoalStrategyKind name {expected} alike"
        );
    }
}

#[test]
fn every_goal_strategy_round_trips_inside_a_goal_setting() {
    for strategy in all_strategies() {
        let setting = GoalSetting {
            strategy,
            period: PeriodLength::HalfYear,
            metric: Metric::SellIn,
        };

        let json = round_trip(&setting);

        assert_eq!(json["period"], "half_year");
        assert_eq!(json["metric"], "sell_in");
        assert!(json["strategy"]["kind"].is_string(), "{json}");
    }
}

#[test]
fn strategy_parameters_are_plain_json_values() {
    let strategies = all_strategies();

    let flat = to_json(&strategies[0]);
    let tiered = to_json(&strategies[5]);
    let activity = to_json(&strategies[6]);
    let scorecard = to_json(&strategies[7]);

    assert_eq!(flat, json!({"kind": "flat_growth", "growth": 0.08}));
    assert_eq!(tiered["levels"], json!([0.9, 1.0, 1.2]));
    assert_eq!(
        activity["targets"][0],
        json!({"activity": "visit", "per_period": 6})
    );
    assert_eq!(
        scorecard["weights"][0],
        json!({"metric": "sell_through", "weight": 0.5})
    );
}

#[test]
fn a_process_spec_round_trips() {
    let spec = sample_spec();

    let json = round_trip(&spec);

    assert!(json["id"].is_string(), "{json}");
    assert_eq!(json["version"], 2);
    assert_eq!(json["status"], "published");
    assert_eq!(json["published_on"], "2026-01-15");
    let rules = &json["rules"];
    assert_eq!(rules["goal_setting"]["strategy"]["kind"], "potential_based");
    assert_eq!(rules["cadences"][0]["tier"], "A");
    assert_eq!(rules["cadences"][0]["activity"], "visit");
    assert_eq!(rules["assessment"]["every"], "quarter");
    assert_eq!(rules["incentive"]["basis"], "sell_through");
    assert_eq!(rules["incentive"]["cap"], 2.0);
    assert_eq!(rules["partner_program"]["target_period"], "quarter");
}

#[test]
fn a_process_spec_round_trips_with_every_goal_strategy() {
    for strategy in all_strategies() {
        let mut spec = sample_spec();
        spec.rules = sample_rules(strategy);
        spec.status = SpecStatus::Draft;
        spec.published_on = None;

        let json = round_trip(&spec);

        assert!(json.get("published_on").is_none(), "{json}");
        assert_eq!(json["status"], "draft");
    }
}

#[test]
fn a_process_spec_may_leave_out_cadences_description_and_pay_weight() {
    let mut json = to_json(&sample_spec());
    let rules = json["rules"].as_object_mut().unwrap();
    rules.remove("cadences");
    rules.remove("description");
    rules["assessment"]
        .as_object_mut()
        .unwrap()
        .remove("pay_weight");

    let spec: ProcessSpec = serde_json::from_value(json).unwrap();

    assert!(spec.rules.cadences.cadences().is_empty());
    assert_eq!(spec.rules.description, Notes::default());
    assert_eq!(spec.rules.assessment.pay_weight.get(), 0.0);
}

#[test]
fn an_incentive_plan_without_a_cap_round_trips_without_the_field() {
    let plan = plan(vec![accelerator(1.0, 1.5)], None, vec![]).unwrap();

    let json = round_trip(&plan);

    assert!(json.get("cap").is_none(), "{json}");
}

#[test]
fn a_partner_program_round_trips() {
    let json = round_trip(&sample_program());

    assert_eq!(json["base_margin"], 0.2);
    assert_eq!(
        json["rebate_tiers"][1],
        json!({"at_attainment": 1.1, "rate": 0.03})
    );
}

#[test]
fn an_assessment_round_trips() {
    let assessment = sample_assessment();

    let json = round_trip(&assessment);

    assert!(json["process_spec_id"].is_string(), "{json}");
    assert_eq!(json["scope"]["kind"], "rep");
    assert_eq!(json["spec_version"], 1);
    assert_eq!(json["results"][0]["metric"], "sell_through");
    assert_eq!(json["results"][1]["target"], json!({"count": 12}));
}
