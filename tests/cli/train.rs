use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{chanlab, repo_root};

/// Runs `chanlab train play` with `input` piped to stdin.
fn play(exercise: &str, extra: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(["train", "play", exercise])
        .args(extra)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chanlab runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_exercises_are_listed_as_text_and_json() {
    let run = chanlab(&["train", "list"]);
    assert!(run.status.success());
    for id in [
        "stretch-goal-trap",
        "ratchet-sandbagging",
        "quarter-end-games",
        "recruit-or-farm",
        "unmeasured-process",
    ] {
        assert!(run.stdout.contains(id), "{id}: {}", run.stdout);
    }
    let json = chanlab(&["train", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 5);
    for e in list {
        assert!(!e["decisions"].as_array().unwrap().is_empty());
        // The lesson is for the debrief, not the listing.
        assert!(e.get("lesson").is_none());
    }
}

#[test]
fn every_exercise_is_playable_to_the_end_through_stdin() {
    for e in [
        "stretch-goal-trap",
        "ratchet-sandbagging",
        "quarter-end-games",
        "recruit-or-farm",
        "unmeasured-process",
    ] {
        // Enter for every default, whatever the number of decisions.
        let (ok, out, err) = play(
            e,
            &["--replications", "4", "--seed", "3"],
            "\n\n\n\n\n\n\n\n",
        );
        assert!(ok, "{e}: {err}");
        assert!(out.contains("-- Round 4 of 4"), "{e}: {out}");
        assert!(out.contains("== Debrief =="), "{e}: {out}");
        assert!(
            out.contains("Your score:") && out.contains("The lesson:"),
            "{e}"
        );
    }
}

#[test]
fn answers_by_number_or_id_are_taken_and_bad_ones_asked_again() {
    let args = ["--replications", "4", "--seed", "11"];
    let (ok, out, _) = play("stretch-goal-trap", &args, "2\nplus-10\nfifty\n9\n2\n2\n");
    assert!(ok);
    assert_eq!(out.matches("answer 1–5 or a choice id").count(), 2, "{out}");
    assert_eq!(
        out.matches("A little above (+10%)").count(),
        4 + 1 + 1,
        "{out}"
    );
    // Ending the input early takes the defaults, and the same answers and seed replay the
    // same session.
    let (ok, first, _) = play("stretch-goal-trap", &args, "5\n");
    assert!(ok);
    assert!(first.contains("(end of input: the default)"));
    let (_, second, _) = play("stretch-goal-trap", &args, "5\n");
    assert_eq!(first, second);
}

#[test]
fn an_unknown_exercise_is_named_with_the_known_ones() {
    let run = chanlab(&["train", "play", "nope"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("stretch-goal-trap"), "{}", run.stderr);
    let show = chanlab(&["train", "show", "unmeasured-process"]);
    assert!(show.status.success());
    assert!(
        show.stdout
            .contains("Do mandated visits count in the quarterly assessment?")
    );
}
