//! RFC 9457 problem details: the one error body every endpoint answers with.

use chanlab_shared::ValidationError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An RFC 9457 `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "https://chanlab.dev/problems/validation",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "1 field was rejected; nothing was written.",
    "errors": [{"field": "incentive.cap", "message": "a cap below 1.0 (100% of goal) stops pay before the goal is reached, found 0.5"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem; stable, so clients can branch on it.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The offending fields, for validation problems and for fields that conflict with the
    /// stored records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a refused lifecycle move: the stages the partner may move to instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// The request's id, as in its `X-Request-Id` answer header and the server's log line:
    /// quote it when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One rejected field: its path in the request body and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `incentive.accelerators[1].multiplier`.
    pub field: String,
    /// What was expected and what was found.
    pub message: String,
}

impl Problem {
    /// The `type` URI of validation problems.
    pub const VALIDATION: &'static str = "https://chanlab.dev/problems/validation";

    /// A 422 problem listing the rejected fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        Self {
            problem_type: Self::VALIDATION.to_owned(),
            title: "The request has invalid fields".to_owned(),
            status: 422,
            detail: Some(format!(
                "{n} field{} rejected; nothing was written.",
                if n == 1 { " was" } else { "s were" }
            )),
            errors,
            allowed: Vec::new(),
            request_id: None,
        }
    }

    /// A 409 problem listing fields that are valid on their own but conflict with the
    /// stored records (or with other rows of the same file).
    pub fn conflicting_fields(errors: Vec<FieldError>) -> Self {
        let n = errors.len();
        Self {
            errors,
            ..Self::new(
                409,
                "conflict",
                "The request conflicts with the stored records",
                format!(
                    "{n} field{} the stored records; nothing was written.",
                    if n == 1 {
                        " conflicts with"
                    } else {
                        "s conflict with"
                    }
                ),
            )
        }
    }

    /// A problem of `status` with a `type` URI ending in `slug`, a title and a detail.
    pub fn new(status: u16, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("https://chanlab.dev/problems/{slug}"),
            title: title.to_owned(),
            status,
            detail: Some(detail.into()),
            errors: Vec::new(),
            allowed: Vec::new(),
            request_id: None,
        }
    }
}

impl From<ValidationError> for FieldError {
    fn from(err: ValidationError) -> Self {
        Self {
            field: err.field().to_owned(),
            message: err.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_fields_and_says_nothing_was_written() {
        let err = ValidationError::new("cap", "too low").within("incentive");
        let problem = Problem::validation(vec![err.into()]);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], Problem::VALIDATION);
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][0]["field"], "incentive.cap");
        assert_eq!(json["detail"], "1 field was rejected; nothing was written.");
    }
}
