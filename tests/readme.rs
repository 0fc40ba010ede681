//! The README's examples, run: every ```` ```console ```` block in README.md is a list of
//! `$ chanlab ...` commands with what they print, and this test runs each command with the
//! built binary and compares its output (stdout and stderr together) and exit status. A
//! change that alters what the tour shows fails here until the README says so too.
//!
//! Only what genuinely varies between runs or machines is masked in the README, with
//! trycmd's wildcards: `[..]` for part of a line, `...` on a line of its own for lines left
//! out. Simulation outputs are reproducible for a seed, so they are shown exactly.
//!
//! To re-bless the README after an intended change of output:
//!
//! ```text
//! TRYCMD=overwrite cargo test --test readme
//! ```
//!
//! then read the diff: the wildcards are kept where trycmd can, and every changed figure
//! needs its prose checked by hand.
//!
//! The commands run in a fresh temporary directory, so the files the tour writes (charts,
//! data directories, results) go there; the only files put there beforehand are those the
//! tour tells the reader to make with a shell redirect, which trycmd cannot run, and the one
//! scenario of the source checkout the sweep example reads (see [`prepare`]). Blocks marked `sh` in the README are not run.

use std::fs;
use std::path::Path;

/// Writes the files the README makes with shell redirects (`>`), exactly as those commands
/// would, into `dir`.
fn prepare(dir: &Path, root: &Path) {
    let spec = fs::read_to_string(root.join("sim/specs/potential-based.toml")).unwrap();
    // `chanlab spec show potential-based > my-spec.toml`.
    fs::write(dir.join("my-spec.toml"), &spec).unwrap();
    // The same file after the mistaken edit the README's error example shows.
    let edited = spec.replacen("commission_rate = 0.03", "commission_rate = 3", 1);
    assert_ne!(
        edited, spec,
        "the edit the README describes no longer applies"
    );
    fs::write(dir.join("edited-spec.toml"), edited).unwrap();
    // The sweep example reads a scenario of the source checkout, at the same path.
    let sweeps = dir.join("sim/scenarios/sweeps");
    fs::create_dir_all(&sweeps).unwrap();
    fs::copy(
        root.join("sim/scenarios/sweeps/stretch-sweep.toml"),
        sweeps.join("stretch-sweep.toml"),
    )
    .unwrap();
}

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    // Arrange: a scratch directory as the working directory of every command.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), root);
    std::env::set_current_dir(dir.path()).unwrap();

    // Act and assert: trycmd runs the README's console blocks in order and compares.
    trycmd::TestCases::new()
        .register_bin("chanlab", Path::new(env!("CARGO_BIN_EXE_chanlab")))
        // The same output wherever the test runs: no colour, no terminal width, every
        // thread count giving the same numbers anyway.
        .env("NO_COLOR", "1")
        .env("CHANLAB_THREADS", "2")
        .case(root.join("README.md"));
}
