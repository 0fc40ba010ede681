//! `chanlab optimise`: the search, its errors, and the search split into sharded stages.

use crate::helpers::{Scratch, chanlab};
use crate::sweep::scenario;

fn optimise<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "optimise",
        file,
        "--quiet",
        "--candidates",
        "4",
        "--replications",
        "4",
        "--confirm",
        "6",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn optimise_writes_a_best_spec_that_spec_check_accepts() {
    let dir = Scratch::new("optimise-ok");
    let file = scenario(&dir, "");
    let best = dir.write("best.toml", "");
    let run = chanlab(&optimise(
        &file,
        &[
            "--vary",
            "goal_setting.strategy.uplift=0.0..0.6",
            "--constraint",
            "rep_attrition <= 100",
            "--out",
            &best,
        ],
    ));
    assert!(run.status.success(), "{}", run.stderr);
    for text in [
        "Stretch goals",
        "goal_setting.strategy.uplift = ",
        "fresh replications",
        "rep_attrition <= 100",
        "met",
    ] {
        assert!(run.stdout.contains(text), "{text} missing:\n{}", run.stdout);
    }
    let check = chanlab(&["spec", "check", &best]);
    assert!(check.status.success(), "{}{}", check.stdout, check.stderr);
}

#[test]
fn optimise_names_the_constraint_nobody_can_meet() {
    let dir = Scratch::new("optimise-infeasible");
    let file = scenario(&dir, "");
    let run = chanlab(&optimise(
        &file,
        &[
            "--vary",
            "goal_setting.strategy.uplift=0.0..0.6",
            "--constraint",
            "sell_through >= 1e15",
        ],
    ));
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sell_through >= 1000000000000000: no candidate met it"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_optimise_flags_name_the_flag_the_bad_part_and_the_fix() {
    let dir = Scratch::new("optimise-bad");
    let file = scenario(&dir, "");
    for (flag, value, part) in [
        ("--vary", "goal_setting.strategy.uplift", "FIELD=LOW..HIGH"),
        (
            "--vary",
            "goal_setting.strategy.uplift=0.5..0.1",
            "reversed",
        ),
        ("--constraint", "rep_attrition < 20", "KPI <= NUMBER"),
        ("--constraint", "rep_atrition <= 20", "rep_attrition"),
        ("--objective", "margin", "margin_after_incentives"),
    ] {
        let mut args = optimise(&file, &[flag, value]);
        if flag != "--vary" {
            args.extend(["--vary", "goal_setting.strategy.uplift=0..0.5"]);
        }
        let run = chanlab(&args);
        assert_eq!(run.status.code(), Some(2), "{flag} {value}: {}", run.stderr);
        assert!(
            run.stderr.contains(flag) && run.stderr.contains(part),
            "{flag} {value}: {}",
            run.stderr
        );
    }
    let run = chanlab(&optimise(
        &file,
        &["--vary", "goal_setting.strategy.uplfit=0..0.5"],
    ));
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("--vary") && run.stderr.contains("uplift"),
        "{}",
        run.stderr
    );
}

const VARY: [&str; 4] = [
    "--vary",
    "goal_setting.strategy.uplift=0.0..0.6",
    "--constraint",
    "rep_attrition <= 100",
];

/// Runs every stage of the search in `n` shards, merging each stage's parts into the next
/// state, and returns the last state's path.
fn staged(dir: &Scratch, file: &str, n: u32) -> String {
    let mut state: Option<String> = None;
    for stage in 0.. {
        assert!(stage < 10, "a search of 5 candidates has 3 stages");
        let mut parts = Vec::new();
        for k in 1..=n {
            let part = dir.write(&format!("stage{stage}-part{k}.json"), "");
            let shard = format!("{k}/{n}");
            let mut args = optimise(file, &VARY);
            args.extend(["--shard", &shard, "--out", &part]);
            if let Some(s) = &state {
                args.extend(["--state", s]);
            }
            let run = chanlab(&args);
            assert!(
                run.status.success(),
                "stage {stage} shard {shard}: {}",
                run.stderr
            );
            parts.push(part);
        }
        let next = dir.write(&format!("state{stage}.json"), "");
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        args.extend(["--out", &next]);
        let run = chanlab(&args);
        assert!(
            run.status.success(),
            "merge of stage {stage}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("note: "), "{}", run.stderr);
        state = Some(next);
        if run.stderr.contains("the search is complete") {
            return state.unwrap();
        }
        let next_step = if run.stderr.contains("confirmation") {
            "--shard K/N"
        } else {
            "is next"
        };
        assert!(run.stderr.contains(next_step), "{}", run.stderr);
    }
    unreachable!()
}

#[test]
fn a_search_in_sharded_stages_reports_and_writes_what_the_search_at_once_does() {
    let dir = Scratch::new("optimise-shards");
    let file = scenario(&dir, "");
    let (best, best_staged) = (dir.write("best.toml", ""), dir.write("best2.toml", ""));
    let mut args = optimise(&file, &VARY);
    args.extend(["--format", "json", "--out", &best]);
    let whole = chanlab(&args);
    assert!(whole.status.success(), "{}", whole.stderr);

    let state = staged(&dir, &file, 2);
    let mut args = optimise(&file, &VARY);
    args.extend(["--format", "json", "--out", &best_staged, "--state", &state]);
    let finished = chanlab(&args);
    assert!(finished.status.success(), "{}", finished.stderr);
    assert_eq!(
        finished.stdout, whole.stdout,
        "the same report, byte for byte"
    );
    assert_eq!(
        std::fs::read_to_string(&best_staged).unwrap(),
        std::fs::read_to_string(&best).unwrap()
    );
    // A complete state cannot be sharded further.
    let mut args = optimise(&file, &VARY);
    args.extend(["--state", &state, "--shard", "1/2"]);
    let run = chanlab(&args);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("the search is complete"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_state_from_another_search_or_a_bad_part_is_refused_with_the_fix() {
    let dir = Scratch::new("optimise-shards-bad");
    let file = scenario(&dir, "");
    let part = dir.write("part.json", "");
    let mut args = optimise(&file, &VARY);
    args.extend(["--shard", "1/2", "--out", &part]);
    assert!(chanlab(&args).status.success());
    let state = dir.write("state.json", "");

    // One shard of two cannot rank a rung.
    let run = chanlab(&["merge", &part, "--out", &state]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("shards 2/2 are missing"),
        "{}",
        run.stderr
    );

    // A part is not a state; a state of other flags is refused naming them.
    let mut args = optimise(&file, &VARY);
    args.extend(["--state", &part]);
    let run = chanlab(&args);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("--state") && run.stderr.contains("not a chanlab search state"),
        "{}",
        run.stderr
    );
    let run = chanlab(
        &optimise(&file, &VARY[..2])
            .into_iter()
            .chain(["--shard", "2/2", "--out", &state])
            .collect::<Vec<_>>(),
    );
    assert!(run.status.success(), "{}", run.stderr);
    let run = chanlab(&["merge", &part, &state, "--out", &dir.write("x.json", "")]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("different studies"), "{}", run.stderr);

    // A text part is refused before any work; so is a merge asked for a table.
    let mut args = optimise(&file, &VARY);
    args.extend(["--shard", "1/2", "--format", "text"]);
    let run = chanlab(&args);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("--format json"), "{}", run.stderr);
    let run = chanlab(&["merge", &part, "--format", "text"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("state (JSON)"), "{}", run.stderr);
    // More shards than the rung has replications (4).
    let mut args = optimise(&file, &VARY);
    args.extend(["--shard", "1/5"]);
    let run = chanlab(&args);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("--shard") && run.stderr.contains("at most 4 shards"),
        "{}",
        run.stderr
    );
}

#[test]
fn merge_refuses_parts_of_two_kinds_naming_both_files() {
    let dir = Scratch::new("merge-kinds");
    let file = scenario(&dir, "");
    let (search, run_part) = (dir.write("search.json", ""), dir.write("run.json", ""));
    let mut args = optimise(&file, &VARY);
    args.extend(["--shard", "1/2", "--out", &search]);
    assert!(chanlab(&args).status.success());
    let run = chanlab(&[
        "run", &file, "--quiet", "--shard", "1/2", "--format", "json", "--out", &run_part,
    ]);
    assert!(run.status.success(), "{}", run.stderr);
    let run = chanlab(&["merge", &search, &run_part]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("run.json is part of a run")
            && run.stderr.contains("search.json of a policy search"),
        "{}",
        run.stderr
    );
}
