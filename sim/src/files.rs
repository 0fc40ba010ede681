//! Reading chanlab's text files (process specs now, scenarios and exercises later) into
//! validated domain values.
//!
//! Files are TOML (for people) or JSON (for programs). Both go through serde and the domain
//! types' own checks, so a file is accepted exactly when the API would accept the same
//! value. A rejection is a [`FileError`] that says *where* (the field path such as
//! `incentive.cap`, and the line and column when the format knows them) and *what* (the
//! domain type's message, which says what was expected and what was found). Unknown keys are
//! errors: a misspelt key silently falling back to a default is how a what-if goes wrong.
//!
//! This module never touches the file system; callers pass the text.

use std::fmt;
use std::path::Path;

use chanlab_shared::ProcessRules;
use serde::de::DeserializeOwned;

/// The text formats chanlab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML, for files people write.
    Toml,
    /// JSON, for files programs write.
    Json,
}

impl Format {
    /// The format implied by a file name's extension: `.json` is JSON, anything else TOML.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// Why a file was rejected: where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    /// Field path, e.g. `incentive.accelerators[1]`; empty when the error is about the
    /// document as a whole (a syntax error).
    pub field: String,
    /// 1-based line of the offending text, when known.
    pub line: Option<usize>,
    /// 1-based column of the offending text, when known.
    pub column: Option<usize>,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for FileError {
    /// `line 12, column 7: incentive.cap: expected ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "line {line}, column {column}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Parses `text` in `format` into any domain value.
pub fn parse<T: DeserializeOwned>(text: &str, format: Format) -> Result<T, FileError> {
    match format {
        Format::Toml => parse_toml(text),
        Format::Json => parse_json(text),
    }
}

/// Parses a process spec file: a [`ProcessRules`] in TOML or JSON.
pub fn parse_rules(text: &str, format: Format) -> Result<ProcessRules, FileError> {
    parse(text, format)
}

fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, FileError> {
    let position = |err: &toml::de::Error| match err.span() {
        Some(span) => {
            let (line, column) = line_and_column(text, span.start);
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    let deserializer = toml::Deserializer::parse(text).map_err(|err| {
        let (line, column) = position(&err);
        FileError {
            field: String::new(),
            line,
            column,
            message: err.message().to_owned(),
        }
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let (line, column) = position(err.inner());
        file_error(
            display_path(err.path()),
            line,
            column,
            err.inner().message(),
        )
    })
}

fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, FileError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let inner = err.inner();
        let full = inner.to_string();
        // serde_json appends " at line L column C"; we report the position separately.
        let message = match full.rfind(" at line ") {
            Some(cut) => full[..cut].to_owned(),
            None => full,
        };
        let known = inner.line() > 0;
        file_error(
            display_path(err.path()),
            known.then_some(inner.line()),
            known.then_some(inner.column()),
            &message,
        )
    })?;
    deserializer.end().map_err(|err| FileError {
        field: String::new(),
        line: Some(err.line()),
        column: Some(err.column()),
        message: "unexpected text after the JSON document".to_owned(),
    })?;
    Ok(value)
}

/// Builds the error, moving a field path that a domain type's [`ValidationError`] put at the
/// start of its message (`cap: must be ...`, from a check across several fields) onto the
/// path, so the user reads `incentive.cap` rather than `incentive: cap: ...`.
///
/// [`ValidationError`]: chanlab_shared::ValidationError
fn file_error(
    mut field: String,
    line: Option<usize>,
    column: Option<usize>,
    message: &str,
) -> FileError {
    let mut message = plain_words(message);
    if let Some((head, rest)) = message.split_once(": ") {
        let is_path = !head.is_empty()
            && head.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '[' | ']')
            });
        if is_path {
            field = match (field.is_empty(), head.starts_with('[')) {
                (true, _) => head.to_owned(),
                (false, true) => format!("{field}{head}"),
                (false, false) => format!("{field}.{head}"),
            };
            message = rest.to_owned();
        }
    }
    FileError {
        field,
        line,
        column,
        message,
    }
}

/// serde's words for a value of the wrong kind (`invalid type: string "twelve", expected
/// u32`, with Rust's type names) in the user's: `expected a whole number (0 or more), found
/// the text "twelve"`. Other messages are kept.
fn plain_words(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            return format!(
                "expected {}, found {}",
                expected_words(expected),
                found_words(found)
            );
        }
    }
    message.to_owned()
}

/// What a serde visitor expects, without Rust's type names.
fn expected_words(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a string" | "a borrowed string" | "a char" | "a character" => "text in quotes".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "a table".to_owned(),
        "option" => "a value".to_owned(),
        other if other.starts_with("struct ") || other.starts_with("enum ") => "a table".to_owned(),
        other => other.to_owned(),
    }
}

/// What serde found (its `Unexpected`), in words: `string "x"` is the text "x".
fn found_words(found: &str) -> String {
    let quoted = |rest: &str| rest.trim_matches('`').to_owned();
    if let Some(rest) = found.strip_prefix("string ") {
        format!("the text {rest}")
    } else if let Some(rest) = found.strip_prefix("integer ") {
        format!("the number {}", quoted(rest))
    } else if let Some(rest) = found.strip_prefix("floating point ") {
        format!("the number {}", quoted(rest))
    } else if let Some(rest) = found.strip_prefix("boolean ") {
        quoted(rest)
    } else {
        match found {
            "sequence" => "a list".to_owned(),
            "map" => "a table".to_owned(),
            "unit value" | "unit" => "nothing".to_owned(),
            other => other.to_owned(),
        }
    }
}

/// `incentive.accelerators[1]` rather than serde_path_to_error's `incentive.accelerators[1]`
/// with a leading `.` for the root; an empty path for the document itself.
fn display_path(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled;

    fn potential_based() -> &'static str {
        bundled::find_spec("potential-based").expect("bundled").text
    }

    #[test]
    fn a_bundled_spec_parses_from_toml() {
        let rules = parse_rules(potential_based(), Format::Toml).unwrap();
        assert_eq!(rules.name.as_str(), "Potential-based goals");
    }

    #[test]
    fn the_same_spec_parses_from_json() {
        let rules = parse_rules(potential_based(), Format::Toml).unwrap();
        let json = serde_json::to_string_pretty(&rules).unwrap();
        assert_eq!(parse_rules(&json, Format::Json).unwrap(), rules);
    }

    #[test]
    fn an_out_of_range_value_names_its_field_and_line() {
        let text = potential_based().replace("commission_rate = 0.03", "commission_rate = 1.5");
        let err = parse_rules(&text, Format::Toml).unwrap_err();
        assert_eq!(err.field, "incentive.commission_rate");
        assert!(err.message.contains("between 0 and 1, found 1.5"), "{err}");
        let line = err.line.expect("TOML errors carry a line");
        assert!(
            text.lines()
                .nth(line - 1)
                .unwrap()
                .contains("commission_rate"),
            "{err}"
        );
    }

    #[test]
    fn a_check_across_fields_reports_the_inner_field_on_the_path() {
        let text = potential_based().replace("cap = 2.0", "cap = 0.5");
        let err = parse_rules(&text, Format::Toml).unwrap_err();
        assert_eq!(err.field, "incentive.cap");
        assert!(err.message.starts_with("a cap below 1.0"), "{err}");
    }

    #[test]
    fn a_misspelt_key_is_an_error_not_a_default() {
        let text = potential_based().replace("base_margin", "base_margn");
        let err = parse_rules(&text, Format::Toml).unwrap_err();
        assert_eq!(err.field, "partner_program.base_margn");
        assert!(err.message.contains("unknown field `base_margn`"), "{err}");
    }

    #[test]
    fn an_unknown_strategy_lists_the_known_ones() {
        let text =
            potential_based().replace("kind = \"potential_based\"", "kind = \"gut_feeling\"");
        let err = parse_rules(&text, Format::Toml).unwrap_err();
        assert!(err.field.starts_with("goal_setting.strategy"), "{err}");
        assert!(err.message.contains("flat_growth"), "{err}");
    }

    #[test]
    fn json_errors_carry_the_path_and_position_without_repeating_it() {
        let err = parse_rules(r#"{"name": ""}"#, Format::Json).unwrap_err();
        assert_eq!(err.field, "name");
        assert_eq!(err.line, Some(1));
        assert!(!err.message.contains("at line"), "{err}");
        let trailing = parse::<chanlab_shared::Month>("\"2026-11\" x", Format::Json).unwrap_err();
        assert!(
            trailing.message.contains("after the JSON document"),
            "{trailing}"
        );
    }

    #[test]
    fn a_syntax_error_has_a_position_but_no_field() {
        let err = parse_rules("name = \n", Format::Toml).unwrap_err();
        assert_eq!(err.field, "");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(Format::from_path(Path::new("a/spec.JSON")), Format::Json);
        assert_eq!(Format::from_path(Path::new("spec.toml")), Format::Toml);
        assert_eq!(Format::from_path(Path::new("spec")), Format::Toml);
    }
}
