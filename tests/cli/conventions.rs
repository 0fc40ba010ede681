//! The conventions every command shares with cargo and ripgrep: a quiet exit on a closed
//! pipe, documented exit codes, completions and a man page, `--version`, `--format json`,
//! `--width` and colour.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use crate::helpers::{Scratch, chanlab, repo_root};

/// Spawns `chanlab args` with its stdout a pipe that the test closes after reading `keep`
/// lines (0: at once), and returns the exit status and everything on stderr.
fn with_stdout_closed_early(args: &[&str], keep: usize) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the chanlab binary runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reader = BufReader::new(stdout);
    for _ in 0..keep {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a line");
    }
    drop(reader);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("stderr is UTF-8");
    (child.wait().expect("chanlab exits"), stderr)
}

#[test]
fn a_closed_pipe_ends_every_kind_of_output_quietly_with_status_0() {
    // JSON through serde (the case that used to say "Broken pipe"), plain writes, a document
    // larger than a pipe's buffer (so the write surely meets the closed pipe), and a table.
    for (args, keep) in [
        (&["train", "list", "--format", "json"][..], 0),
        (&["train", "list", "--format", "json"][..], 1),
        (&["spec", "list", "--format", "json"][..], 0),
        (&["openapi"][..], 1),
        (&["scenario", "show", "mid-size", "--format", "json"][..], 0),
        (&["man"][..], 0),
    ] {
        let (status, stderr) = with_stdout_closed_early(args, keep);
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2_invalid_input_1_and_failed_checks_3() {
    // Usage errors: clap's value parsers, for every value-range error alike.
    for args in [
        &["run", "mid-size", "--replications", "0"][..],
        &["compare", "mid-size", "--shard", "4/3"],
        &["run", "mid-size", "--threads", "5000"],
        &["sensitivity", "mid-size", "--replications", "0"],
        &["scenario", "show"],
        &["spec", "list", "--format", "yaml"],
        &["train", "play", "stretch-goal-trap", "--replications", "1"],
        &["validate", "--replications", "1"],
        &["no-such-command"],
        &["run", "mid-size", "--width", "5"],
    ] {
        let run = chanlab(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
    }
    // Invalid input: a name or file the command could not use.
    for args in [
        &["run", "no-such-scenario"][..],
        &["spec", "show", "no-such-spec"],
        &["scenario", "show", "no-such-scenario", "--format", "json"],
        &["train", "show", "no-such-exercise"],
        &["validate", "--only", "no-such-finding"],
        &["spec", "check", "no/such/file.toml"],
    ] {
        let run = chanlab(args);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    // The exit codes are documented in the top command's help.
    let help = chanlab(&["--help"]);
    assert!(help.status.success());
    for line in [
        "0  success",
        "1  invalid input",
        "2  usage error",
        "3  a check",
    ] {
        assert!(help.stdout.contains(line), "{line}: {}", help.stdout);
    }
}

#[test]
fn completions_are_generated_for_each_shell_from_the_command_definitions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = chanlab(&["completions", shell]);
        assert!(run.status.success(), "{shell}: {}", run.stderr);
        for word in ["chanlab", "compare", "validate", "completions", "--format"] {
            assert!(run.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let run = chanlab(&["completions", "tcsh"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
}

#[test]
fn the_man_page_renders_with_every_subcommand() {
    let run = chanlab(&["man"]);
    assert!(run.status.success(), "{}", run.stderr);
    assert!(run.stdout.contains(".TH chanlab 1"), "{}", run.stdout);
    for name in ["compare", "validate", "completions", "train", "Exit status"] {
        assert!(run.stdout.contains(name), "the man page lacks {name}");
    }
    // Rendered by groff as `man` would (groff-base, installed by .ci/run).
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff runs (Debian package groff-base)");
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(run.stdout.as_bytes())
        .expect("page written to groff");
    let rendered = groff.wait_with_output().expect("groff ends");
    assert!(rendered.status.success());
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(text.contains("SUBCOMMANDS"), "{text}");
    assert!(text.contains("chanlab-compare"), "{text}");
    let warnings = String::from_utf8_lossy(&rendered.stderr);
    assert_eq!(warnings, "", "groff warned");
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let run = chanlab(&["--version"]);
    assert!(run.status.success());
    // chanlab 0.1.0 (abcdef123456 2026-12-06), or (unknown ...) outside a git checkout.
    let line = run.stdout.trim();
    let inner = line
        .strip_prefix(&format!("chanlab {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected version line {line:?}"));
    let (commit, date) = inner.split_once(' ').expect("commit and date");
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    let parts: Vec<&str> = date.split('-').collect();
    assert_eq!(parts.len(), 3, "{date}");
    assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{date}");
}

#[test]
fn every_command_that_prints_data_prints_json() {
    let scratch = Scratch::new("conventions-json");
    let spec = scratch.write(
        "spec.toml",
        chanlab(&["spec", "show", "potential-based"])
            .stdout
            .as_str(),
    );
    for args in [
        &["spec", "list", "--format", "json"][..],
        &["spec", "show", "potential-based", "--format", "json"],
        &["spec", "check", &spec, "--format", "json"],
        &["scenario", "list", "--format", "json"],
        &["scenario", "show", "mid-size", "--format", "json"],
        &["train", "list", "--format", "json"],
        &["train", "show", "stretch-goal-trap", "--format", "json"],
        &["validate", "--list", "--format", "json"],
        &[
            "train",
            "play",
            "stretch-goal-trap",
            "--replications",
            "2",
            "--format",
            "json",
        ],
        &[
            "run",
            "mid-size",
            "--replications",
            "4",
            "--quiet",
            "--format",
            "json",
        ],
    ] {
        let run = chanlab(args);
        assert!(run.status.success(), "{args:?}: {}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", run.stdout));
        assert!(doc.is_object() || doc.is_array(), "{args:?}");
    }
    // The played session says what was chosen each round and ends with the debrief.
    let run = chanlab(&[
        "train",
        "play",
        "stretch-goal-trap",
        "--replications",
        "2",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(doc["rounds"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(doc["debrief"]["score"].is_object(), "{doc}");
    assert!(run.stderr.contains("choice ["), "questions on stderr");
}

#[test]
fn a_narrow_width_keeps_every_line_of_a_table_within_it() {
    for args in [
        &["compare", "mid-size", "--replications", "8", "--quiet"][..],
        &["run", "mid-size", "--replications", "8", "--quiet"],
    ] {
        let wide = chanlab(args);
        assert!(wide.status.success(), "{}", wide.stderr);
        // In a pipe there is no limit unless asked: the compare table is wider than 60.
        let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if args[0] == "compare" {
            assert!(widest(&wide.stdout) > 100, "{}", wide.stdout);
        }
        let narrow = chanlab(&[args, &["--width", "60"]].concat());
        assert!(narrow.status.success(), "{}", narrow.stderr);
        assert!(widest(&narrow.stdout) <= 60, "{}", narrow.stdout);
        // Nothing is lost: every KPI and spec still appears.
        for word in [
            "Sell-through revenue",
            "Process compliance",
            "Stretch goals",
        ] {
            assert!(narrow.stdout.contains(word), "{word}: {}", narrow.stdout);
        }
    }
}

#[test]
fn colour_is_off_in_a_pipe_and_under_no_color_and_on_when_forced() {
    let args = ["compare", "mid-size", "--replications", "8", "--quiet"];
    let has_escape = |text: &str| text.contains('\u{1b}');
    let piped = chanlab(&args);
    assert!(piped.status.success(), "{}", piped.stderr);
    assert!(piped.stdout.contains('★'), "a winner is marked");
    assert!(!has_escape(&piped.stdout), "{}", piped.stdout);
    let forced = chanlab(&[&args[..], &["--color", "always"]].concat());
    assert!(has_escape(&forced.stdout), "{}", forced.stdout);
    let never = chanlab(&[&args[..], &["--color", "never"]].concat());
    assert!(!has_escape(&never.stdout));
    // NO_COLOR, and CLICOLOR_FORCE which would otherwise colour even a pipe.
    let output = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(text.contains('★') && !has_escape(&text), "{text}");
    // A file never gets colour, even when forced.
    let scratch = Scratch::new("conventions-colour");
    let path = scratch.write("table.txt", "");
    let to_file = chanlab(&[&args[..], &["--color", "always", "--out", &path]].concat());
    assert!(to_file.status.success(), "{}", to_file.stderr);
    let written = std::fs::read_to_string(&path).expect("written");
    assert!(written.contains('★') && !has_escape(&written), "{written}");
}

#[test]
fn pass_and_fail_are_coloured_when_forced() {
    let run = chanlab(&[
        "validate",
        "--only",
        "goal-difficulty",
        "--replications",
        "4",
        "--quiet",
        "--color",
        "always",
    ]);
    assert!(run.stdout.contains("\u{1b}["), "{}", run.stdout);
    let plain = chanlab(&[
        "validate",
        "--only",
        "goal-difficulty",
        "--replications",
        "4",
        "--quiet",
    ]);
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    assert!(
        plain.stdout.contains("PASS") || plain.stdout.contains("FAIL"),
        "{}",
        plain.stdout
    );
}

#[test]
fn a_value_of_the_wrong_kind_names_the_file_the_field_and_the_fix_in_plain_words() {
    let scratch = Scratch::new("conventions-wording");
    let text = chanlab(&["scenario", "show", "mid-size"]).stdout;
    let line = text
        .lines()
        .find(|l| l.starts_with("replications"))
        .expect("the bundled scenario sets replications")
        .to_owned();
    let path = scratch.write(
        "twelve.toml",
        &text.replacen(&line, "replications = \"twelve\"", 1),
    );
    let run = chanlab(&["run", &path, "--quiet"]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains(&path), "{}", run.stderr);
    assert!(run.stderr.contains("replications"), "{}", run.stderr);
    assert!(
        run.stderr.contains("expected a whole number"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fix:"), "{}", run.stderr);
    for rust in ["u32", "invalid type", "{", "Os ", "panicked"] {
        assert!(!run.stderr.contains(rust), "{rust}: {}", run.stderr);
    }
    // The same in a JSON scenario, and in a spec file.
    let json = scratch.write("twelve.json", r#"{"horizon_months": "twelve"}"#);
    let run = chanlab(&["run", &json, "--quiet"]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("horizon_months"), "{}", run.stderr);
    assert!(!run.stderr.contains("u32"), "{}", run.stderr);
    let spec = chanlab(&["spec", "show", "potential-based"]).stdout;
    let spec = scratch.write("spec.toml", &spec.replacen("name = ", "name = 12 #", 1));
    let run = chanlab(&["spec", "check", &spec]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("name: expected text in quotes, found the number 12"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_data_directory_in_use_is_named_with_what_to_do() {
    let dir = std::env::temp_dir().join(format!("chanlab-cli-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Another process holding the store: this test, through sled itself.
    let held = sled::open(&dir).expect("sled opens");
    let dir_arg = dir.to_str().expect("UTF-8 path");
    for args in [
        &["token", "list", "--data-dir", dir_arg][..],
        &["verify", "--data-dir", dir_arg],
    ] {
        let run = chanlab(args);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(dir_arg), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("another chanlab process")
                || run.stderr.contains("another process"),
            "{args:?}: {}",
            run.stderr
        );
        for rust in ["Os {", "WouldBlock", "code: 11", "IO error"] {
            assert!(!run.stderr.contains(rust), "{args:?}: {}", run.stderr);
        }
    }
    drop(held);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_prints_json_and_exits_3_on_a_problem() {
    let dir = std::env::temp_dir().join(format!("chanlab-cli-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().expect("UTF-8 path");
    let made = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "3",
        "--data-dir",
        dir_arg,
    ]);
    assert!(made.status.success(), "{}", made.stderr);
    let sound = chanlab(&["verify", "--data-dir", dir_arg, "--format", "json"]);
    assert_eq!(sound.status.code(), Some(0), "{}", sound.stderr);
    let doc: serde_json::Value = serde_json::from_str(&sound.stdout).expect("JSON");
    assert_eq!(doc["problems"], serde_json::json!([]), "{doc}");
    // Damage the store behind chanlab's back: remove one record, leaving its index entries.
    {
        let db = sled::open(&dir).expect("sled opens");
        let tree = db.open_tree("records").expect("records tree");
        let (key, _) = tree
            .scan_prefix(b"r\0")
            .next()
            .expect("a record")
            .expect("readable");
        tree.remove(key).expect("removed");
        db.flush().expect("flushed");
    }
    let damaged = chanlab(&["verify", "--data-dir", dir_arg]);
    assert_eq!(
        damaged.status.code(),
        Some(3),
        "{}{}",
        damaged.stdout,
        damaged.stderr
    );
    assert!(damaged.stdout.contains("problem: "), "{}", damaged.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
