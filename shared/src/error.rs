//! The one error type that crosses the `shared` boundary.
//!
//! Every validating constructor in this crate answers [`ValidationError`]: which field was
//! wrong (as a path such as `incentive.cap` or `rebate_tiers[1].threshold`) and what was
//! expected. The API turns it into a problem+json `{field, message}` entry and the CLI into
//! "file: field: message", so the message is written for the person who typed the value.

use std::fmt;

/// A value was rejected: `field` names where (a dotted path), `message` says what was expected.
///
/// Nested constructors build the path from the inside out with [`ValidationError::within`], so
/// a bad cap inside a spec's incentive plan reads `incentive.cap`, not just `cap`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    field: String,
    message: String,
}

impl ValidationError {
    /// A rejection of `field` with a message saying what was expected and what was found.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The path of the rejected field, e.g. `incentive.accelerators[0].multiplier`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong, in words for the person who entered the value.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the field path with the name of the enclosing field.
    ///
    /// `ValidationError::new("cap", ..).within("incentive")` names `incentive.cap`; an index
    /// segment such as `specs[2]` joins without a dot when the inner path starts with `[`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }

    /// Prefixes the field path with a list index: `cap` inside item 2 becomes `[2].cap`.
    #[must_use]
    pub fn at_index(self, index: usize) -> Self {
        self.within(&format!("[{index}]"))
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Shorthand for results of validating constructors.
pub type Validated<T> = Result<T, ValidationError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_read_outside_in() {
        let err = ValidationError::new("multiplier", "must be positive")
            .at_index(0)
            .within("accelerators")
            .within("incentive");
        assert_eq!(err.field(), "incentive.accelerators[0].multiplier");
        assert_eq!(
            err.to_string(),
            "incentive.accelerators[0].multiplier: must be positive"
        );
    }

    #[test]
    fn an_empty_path_takes_the_parent_name() {
        let err = ValidationError::new("", "must not be empty").within("name");
        assert_eq!(err.field(), "name");
    }
}
