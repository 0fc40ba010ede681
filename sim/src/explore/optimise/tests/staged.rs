//! A search run in stages and shards, through JSON files as `chanlab merge` passes them,
//! equals the search run at once.

use std::ops::ControlFlow;

use super::{problem, small};
use crate::engine::Shard;
use crate::explore::optimise::{OptimisePart, OptimiseState, Stage, prepare};

fn go() -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Through text, as files carry it.
fn by_file<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[test]
fn a_search_in_sharded_stages_equals_the_search_at_once() {
    let mut p = problem(
        "goal_setting.strategy.uplift=0.0..0.6",
        &["rep_attrition <= 100"],
    );
    p.settings.candidates = 8;
    let prepared = prepare(&small(), &p).unwrap();
    let whole = prepared.run(&go).unwrap();

    let mut state = prepared.start();
    let mut stages = Vec::new();
    loop {
        let stage = state.stage();
        if stage == Stage::Complete {
            break;
        }
        stages.push(stage);
        // Three shards, run out of order, each read back from its file.
        let n = 3;
        let mut parts: Vec<OptimisePart> = [3, 1, 2]
            .into_iter()
            .map(|k| {
                let shard = Shard::new(k, n).unwrap();
                let ticks = std::sync::atomic::AtomicU64::new(0);
                let part = prepared
                    .run_shard(&state, shard, &|| {
                        ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        go()
                    })
                    .unwrap();
                assert_eq!(ticks.into_inner(), prepared.shard_ticks(&state, shard));
                by_file(&part)
            })
            .collect();
        parts.rotate_left(1);
        state = by_file(&OptimiseState::merge(parts).unwrap());
        prepared.check(&state).unwrap();
    }
    // 9 candidates (the spec as written and 8 drawn): rungs of 9, 3 and 1, then confirm.
    assert_eq!(stages.len(), whole.search.rungs.len() + 1, "{stages:?}");
    assert!(matches!(stages.last(), Some(Stage::Confirm(_))));
    assert_eq!(prepared.ticks_from(&state), 0, "nothing is left to run");
    let staged = prepared
        .finish(state, &|| panic!("nothing is simulated"))
        .unwrap();
    assert_eq!(staged, whole);
}

#[test]
fn a_state_is_finished_where_it_stopped() {
    let p = problem("goal_setting.strategy.uplift=0.0..0.6", &[]);
    let prepared = prepare(&small(), &p).unwrap();
    let whole = prepared.run(&go).unwrap();
    let first = prepared.start();
    let part = prepared
        .run_shard(&first, Shard::new(1, 1).unwrap(), &go)
        .unwrap();
    let after = OptimiseState::merge(vec![part]).unwrap();
    assert!(prepared.ticks_from(&after) < prepared.ticks());
    assert_eq!(prepared.finish(after, &go).unwrap(), whole);
}

#[test]
fn parts_of_other_stages_or_studies_or_missing_shards_are_refused() {
    let p = problem("goal_setting.strategy.uplift=0.0..0.6", &[]);
    let prepared = prepare(&small(), &p).unwrap();
    let state = prepared.start();
    let part = |k, n, s: &OptimiseState| {
        prepared
            .run_shard(s, Shard::new(k, n).unwrap(), &go)
            .unwrap()
    };
    let err = OptimiseState::merge(vec![part(1, 2, &state)]).unwrap_err();
    assert!(err.message.contains("shards 2/2 are missing"), "{err}");
    let err = OptimiseState::merge(vec![part(1, 2, &state), part(1, 2, &state)]).unwrap_err();
    assert!(err.message.contains("appears twice"), "{err}");

    let later = OptimiseState::merge(vec![part(1, 1, &state)]).unwrap();
    let err = OptimiseState::merge(vec![part(1, 2, &state), part(2, 2, &later)]).unwrap_err();
    assert!(err.message.contains("different stages"), "{err}");

    let mut other = p.clone();
    other.vary = vec!["goal_setting.strategy.uplift=0.0..0.5".parse().unwrap()];
    let elsewhere = prepare(&small(), &other).unwrap();
    let err = elsewhere.check(&state).unwrap_err();
    assert_eq!(err.field, "--state");
    assert!(err.message.contains("--vary"), "{err}");
    let foreign = elsewhere
        .run_shard(&elsewhere.start(), Shard::new(2, 2).unwrap(), &go)
        .unwrap();
    let err = OptimiseState::merge(vec![part(1, 2, &state), foreign]).unwrap_err();
    assert!(err.message.contains("different studies"), "{err}");

    // More shards than the stage has replications (4 in the first rung).
    let err = prepared
        .run_shard(&state, Shard::new(1, 5).unwrap(), &go)
        .unwrap_err();
    assert_eq!(err.field, "--shard");
    assert_eq!(
        err.fix.as_deref(),
        Some("use at most 4 shards (or raise --replications)"),
        "{err}"
    );
}
