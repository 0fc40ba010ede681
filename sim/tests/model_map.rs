//! The mechanism map in sim/MODEL.md §3 names, for each section, the functions that
//! implement it; each must exist in `sim/src/model/` and carry its `// MODEL.md §n` line, so
//! the document and the code cannot drift apart silently.

use std::path::Path;

/// (section, file, function) for every function the map names.
fn map() -> Vec<(String, String, String)> {
    let model = include_str!("../MODEL.md");
    let start = model
        .find("| § | mechanism | function |")
        .expect("MODEL.md §3 has the mechanism map");
    let mut rows = Vec::new();
    for line in model[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let section = cells[1].to_owned();
        for f in cells[3].split(',') {
            let f = f.trim().trim_matches('`');
            let (file, function) = f.split_once("::").expect("file.rs::function");
            rows.push((section.clone(), file.to_owned(), function.to_owned()));
        }
    }
    rows
}

#[test]
fn every_mechanism_in_the_map_is_a_function_marked_with_its_section() {
    let rows = map();
    assert!(rows.len() >= 20, "the map lists {} functions", rows.len());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut problems = Vec::new();
    for (section, file, function) in &rows {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            problems.push(format!("§{section}: no file {file}"));
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let Some(at) = lines.iter().position(|l| {
            let l = l.trim_start();
            ["fn ", "pub(super) fn ", "pub(crate) fn "].iter().any(|p| {
                l.starts_with(&format!("{p}{function}("))
                    || l.starts_with(&format!("{p}{function}<"))
            })
        }) else {
            problems.push(format!("§{section}: no fn {function} in {file}"));
            continue;
        };
        let mark = format!("// MODEL.md §{section}");
        let marked = lines[at.saturating_sub(4)..at]
            .iter()
            .any(|l| l.trim() == mark);
        if !marked {
            problems.push(format!(
                "§{section}: {file}::{function} lacks `{mark}` above it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_marked_function_is_in_the_map() {
    let rows = map();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("sim/src/model") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .expect("name")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(section) = line.trim().strip_prefix("// MODEL.md §") else {
                continue;
            };
            // The marked fn is the next line that declares one.
            let Some(function) = lines[i + 1..].iter().find_map(|l| {
                let rest = l.trim_start().split("fn ").nth(1)?;
                Some(rest.split(['(', '<']).next()?.to_owned())
            }) else {
                continue;
            };
            if !rows
                .iter()
                .any(|(s, f, n)| s == section && *f == file && *n == function)
            {
                missing.push(format!("{file}::{function} (§{section})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "marked but not in MODEL.md §3's map: {}",
        missing.join(", ")
    );
}
