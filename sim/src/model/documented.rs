//! The check that sim/MODEL.md §7.3, the table of constants hard-coded in the model, names
//! each constant with the value the code has (test builds only).

/// The model's documentation, for the tests that check its table of constants (§7.3).
const MODEL_MD: &str = include_str!("../../MODEL.md");

/// Asserts that sim/MODEL.md §7.3 documents `name` with `values` (see [`documented`]).
pub(crate) fn assert_documented(name: &str, values: &[f64]) {
    if let Err(problem) = documented(name, values) {
        panic!("{problem}");
    }
}

/// Whether sim/MODEL.md §7.3 has a row whose "where" column names `name` (as
/// `file.rs::CONST`) and whose value column states every one of `values` (signs aside: the
/// table writes a minus as text), so the table and the code cannot drift apart.
pub(crate) fn documented(name: &str, values: &[f64]) -> Result<(), String> {
    let section = MODEL_MD
        .split("### 7.3 ")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("MODEL.md has §7.3");
    let row = section
        .lines()
        .filter(|line| line.starts_with('|'))
        .find(|line| {
            line.rsplit('|')
                .nth(1)
                .is_some_and(|place| place.split(',').any(|p| p.trim() == name))
        })
        .ok_or_else(|| format!("MODEL.md §7.3 names no {name}"))?;
    let places: Vec<&str> = row
        .rsplit('|')
        .nth(1)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .collect();
    let value_column = row.split('|').nth(2).unwrap_or_default();
    // A row that names several constants gives their values in the same order, one part
    // each between `;`: the constant's own part is where its value must be.
    let parts: Vec<&str> = value_column.split(';').collect();
    let own = match places.iter().position(|p| *p == name) {
        Some(k) if places.len() > 1 && parts.len() == places.len() => parts[k],
        _ => value_column,
    };
    let numbers: Vec<f64> = own
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
        .filter_map(|token| token.trim_matches(|c| c == '-' || c == '.').parse().ok())
        .collect();
    match values.iter().find(|v| !numbers.contains(&v.abs())) {
        Some(value) => Err(format!(
            "MODEL.md §7.3 gives {name} as {own:?}, the code as {value}"
        )),
        None => Ok(()),
    }
}
