use super::*;
use crate::engine::{self, RunOptions};
use crate::files::Format;
use crate::model::Kpi;

const SMALL: &str = r#"
name = "Small"
horizon_months = 6
replications = 6
seed = 9
baseline = "Flat growth"

[[channel.regions]]
name = "Only"
reps = 3
backing = 0.8
partners = { A = 2, B = 5, C = 8 }
prospects = 4

[[specs]]
bundled = "flat-growth"

[[specs]]
bundled = "stretch"
"#;

fn small() -> Scenario {
    scenario::parse(SMALL, Format::Toml, &|_| Err("no files".into())).expect("valid")
}

#[test]
fn a_spec_field_is_read_and_set_by_its_dotted_path() {
    let s = small();
    let stretch = &s.specs()[1];
    assert_eq!(spec_value(stretch, "goal_setting.strategy.uplift"), Ok(0.3));
    let changed = with_spec_value(stretch, "goal_setting.strategy.uplift", 0.45).unwrap();
    assert_eq!(
        spec_value(&changed, "goal_setting.strategy.uplift"),
        Ok(0.45)
    );
    // Everything else is as it was.
    let back = with_spec_value(&changed, "goal_setting.strategy.uplift", 0.3).unwrap();
    assert_eq!(&back, stretch);
}

#[test]
fn a_list_entry_is_reached_by_index_and_an_integer_field_takes_whole_numbers() {
    let s = small();
    let spec = &s.specs()[1];
    let count = spec_value(spec, "cadences[0].count").unwrap();
    let more = with_spec_value(spec, "cadences[0].count", count + 1.0).unwrap();
    assert_eq!(spec_value(&more, "cadences[0].count"), Ok(count + 1.0));
    let err = with_spec_value(spec, "cadences[0].count", 1.5).unwrap_err();
    assert!(err.contains("whole number"), "{err}");
    let err = spec_value(spec, "cadences[99].count").unwrap_err();
    assert!(err.contains("counted from 0"), "{err}");
}

#[test]
fn a_bad_path_or_value_names_the_path_and_what_is_there() {
    let s = small();
    let spec = &s.specs()[1];
    let err = spec_value(spec, "goal_setting.strategy.uplfit").unwrap_err();
    assert!(err.starts_with("goal_setting.strategy.uplfit:"), "{err}");
    assert!(
        err.contains("uplift"),
        "the keys that exist are listed: {err}"
    );
    let err = spec_value(spec, "goal_setting.period").unwrap_err();
    assert!(err.contains("not a number"), "{err}");
    let err = with_spec_value(spec, "goal_setting.strategy.uplift", -5.0).unwrap_err();
    assert!(
        err.starts_with("goal_setting.strategy.uplift = -5:"),
        "{err}"
    );
    let err = Factor::spec_field(&s, "Nope", "goal_setting.strategy.uplift").unwrap_err();
    assert!(err.contains("Flat growth"), "the specs are listed: {err}");
}

#[test]
fn a_point_sets_spec_fields_and_behaviour_and_keeps_seed_and_replications() {
    let s = small();
    let uplift = Factor::spec_field(&s, "Stretch goals", "goal_setting.strategy.uplift").unwrap();
    let midpoint = Factor::behaviour("commitment_midpoint").unwrap();
    let p = at_point(&s, &[(uplift.clone(), 0.5), (midpoint.clone(), 0.4)]).unwrap();
    assert_eq!(uplift.value(&p), Ok(0.5));
    assert_eq!(midpoint.value(&p), Ok(0.4));
    assert_eq!(uplift.value(&s), Ok(0.3), "the original is untouched");
    assert_eq!(p.file().seed, s.file().seed);
    assert_eq!(p.file().replications, s.file().replications);
    assert_eq!(p.baseline(), s.baseline());

    let err = at_point(&s, &[(midpoint, 7.0)]).unwrap_err();
    assert!(err.starts_with("behaviour.commitment_midpoint:"), "{err}");
    assert!(Factor::behaviour("commitmnet_midpoint").is_err());
}

#[test]
fn a_spec_run_beside_extra_variants_gives_the_numbers_it_gives_alone() {
    // What makes a sweep's point equal the plain comparison of that spec.
    let s = small();
    let variant = with_spec_value(&s.specs()[1], "goal_setting.strategy.uplift", 0.5).unwrap();
    let mut renamed = variant.clone();
    renamed.name = chanlab_shared::Name::try_from("Stretch 0.5".to_owned()).unwrap();
    let together = with_extra_specs(&s, vec![renamed]).unwrap();
    let alone = at_point(
        &s,
        &[(
            Factor::Spec {
                spec: 1,
                path: "goal_setting.strategy.uplift".into(),
            },
            0.5,
        )],
    )
    .unwrap();
    let options = RunOptions {
        threads: 1,
        shard: None,
    };
    let together = engine::run(&together, &options, &|| {}).unwrap();
    let alone = engine::run(&alone, &options, &|| {}).unwrap();
    assert_eq!(together.specs.len(), 3);
    for kpi in Kpi::ALL {
        let i = kpi.index();
        assert_eq!(together.specs[2].kpis[i], alone.specs[1].kpis[i], "{kpi:?}");
        assert_eq!(
            together.specs[2].difference[i], alone.specs[1].difference[i],
            "{kpi:?}"
        );
    }
}
