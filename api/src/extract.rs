//! Request extractors that answer problem+json when they refuse: JSON bodies read with the
//! path of the offending field, `If-Match`, `Idempotency-Key`, and ids in paths.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chanlab_shared::ValidationError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest JSON body accepted, in bytes.
pub const JSON_LIMIT: usize = 256 * 1024;
/// Largest CSV import accepted, in bytes.
pub const CSV_LIMIT: usize = 8 * 1024 * 1024;
/// Longest a request body may take to arrive, from the end of its head: a client that
/// trickles its body (slowloris) is answered 408 and cut off instead of holding a
/// connection open for ever. 8 MiB in this time is about 280 KB/s.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A JSON request body parsed into `T`, with the raw bytes kept for idempotency checks.
///
/// Malformed JSON is a 400; a value of the wrong type, an unknown enum value, a missing or
/// unknown field, or a value the domain rejects is a 422 naming the field's path.
#[derive(Debug)]
pub struct Body<T> {
    /// The parsed value.
    pub value: T,
    /// The bytes as received.
    pub raw: web::Bytes,
}

/// Reads the payload up to `limit` bytes, answering 413 above it and 408 when it takes
/// longer than [`BODY_TIMEOUT`].
pub fn read_limited(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Pin<Box<dyn Future<Output = Result<web::Bytes, ApiError>>>> {
    let too_big = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit);
    let body = web::Payload::from_request(req, payload);
    Box::pin(async move {
        if too_big {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let payload = body
            .await
            .map_err(|_| ApiError::BadRequest("the request body could not be read".to_owned()))?;
        actix_web::rt::time::timeout(BODY_TIMEOUT, payload.to_bytes_limited(limit))
            .await
            .map_err(|_| ApiError::RequestTimeout(BODY_TIMEOUT.as_secs()))?
            .map_err(|_| ApiError::PayloadTooLarge(limit))?
            .map_err(|e: actix_web::Error| {
                ApiError::BadRequest(format!("the request body could not be read: {e}"))
            })
    })
}

fn is_json(req: &HttpRequest) -> bool {
    match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let read = read_limited(req, payload, JSON_LIMIT);
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".to_owned(),
                ));
            }
            let raw = read.await?;
            let value = parse_json(&raw)?;
            Ok(Body { value, raw })
        })
    }
}

/// Parses JSON into `T`, mapping errors as [`Body`] describes.
///
/// JSON Schema calls `126.0` an integer (2020-12 §6.1.1: any number with a zero fractional
/// part), and the document's integer fields are JSON Schema integers, so a body refused only
/// because serde reads such a number as a float is read again with those numbers as
/// integers. When that read fails too its error is the one answered: it names what is
/// wrong once the integers are read as the document means them.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = parse_json_strict(bytes);
    if first.is_ok() {
        return first;
    }
    let Ok(mut value @ serde_json::Value::Object(_)) =
        serde_json::from_slice::<serde_json::Value>(bytes)
    else {
        return first;
    };
    if !integral_floats_to_integers(&mut value) {
        return first;
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(json_error)
}

/// A deserialisation error as the answer: a 422 naming the field for a value of the wrong
/// shape, a 400 for text that is not JSON.
fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = match err.path().to_string() {
        p if p == "." => String::new(),
        p => p,
    };
    let inner = err.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let (field, message) = field_and_message(&path, &inner.to_string());
            ApiError::field(field, message)
        }
        _ => ApiError::BadRequest(format!("the body is not valid JSON: {inner}")),
    }
}

/// Rewrites every float with a zero fractional part that fits an `i64` or `u64` as an
/// integer; true when any was rewritten.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^63 and 2^64 are exact in f64, so the casts below neither wrap nor round.
            let integer = if f.fract() != 0.0 {
                None
            } else if (-(2f64.powi(63))..2f64.powi(63)).contains(&f) {
                Some(serde_json::Number::from(f as i64))
            } else if (0.0..2f64.powi(64)).contains(&f) {
                Some(serde_json::Number::from(f as u64))
            } else {
                None
            };
            integer.map(|i| *n = i).is_some()
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| integral_floats_to_integers(v) | any),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |any, v| integral_floats_to_integers(v) | any),
        _ => false,
    }
}

fn parse_json_strict<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body the API reads is an object, but serde reads a struct from an array too
    // (`[null, null]` as a request of two fields left out): refuse one at the top.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::field(
            "",
            "expected a JSON object of named fields, found an array",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

fn join(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (_, true) => parent.to_owned(),
        _ if child.starts_with('[') => format!("{parent}{child}"),
        _ => format!("{parent}.{child}"),
    }
}

/// Splits a serde message into the full field path and a message for a person: drops
/// serde_json's "at line 1 column 9", moves a missing field's name into the path, and joins
/// the relative path a domain [`ValidationError`] puts in front of its message.
fn field_and_message(path: &str, raw: &str) -> (String, String) {
    let message = match raw.rfind(" at line ") {
        Some(i) => &raw[..i],
        None => raw,
    };
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.strip_suffix('`')
    {
        return (join(path, name), "this field is required".to_owned());
    }
    if let Some((inner, msg)) = message.split_once(": ")
        && !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    {
        return (join(path, inner), msg.to_owned());
    }
    (path.to_owned(), message.to_owned())
}

/// What an `If-Match` header may be (RFC 9110 §13.1.1): `*` or a list of entity tags. The
/// OpenAPI document declares every `If-Match` with this pattern (`api/src/openapi.rs`).
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)$"#;

/// A well-formed `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// The versions the list's strong tags name. A weak tag never matches (If-Match compares
    /// strongly) and a tag this server never issues (not a version number) matches nothing,
    /// so either leaves the list shorter, possibly empty: a 412.
    Versions(Vec<u64>),
}

/// The `If-Match` header: `Ok(None)` when absent, `Err(detail)` when it is not the header's
/// grammar ([`IF_MATCH_PATTERN`]).
///
/// A malformed header is kept rather than refused here: RFC 9110 §13.2.1 evaluates
/// preconditions after authorisation and after the target is found, so the handler answers
/// 403 or 404 first and `routes::check_if_match` answers the 400 or 412.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Result<Option<Precondition>, String>);

impl IfMatch {
    /// No `If-Match` header (an unconditional write).
    pub const NONE: IfMatch = IfMatch(Ok(None));

    /// Reads a header value.
    pub fn parse(text: &str) -> Result<Precondition, String> {
        let malformed = || {
            format!(
                "If-Match {text:?} is not `*` or a list of ETags such as \"3\"; send the ETag a GET answered"
            )
        };
        // HTTP strips a field value's own leading and trailing white space (RFC 9110 §5.5),
        // so any left is not the grammar; white space around commas is.
        if text.starts_with([' ', '\t']) || text.ends_with([' ', '\t']) {
            return Err(malformed());
        }
        if text == "*" {
            return Ok(Precondition::Any);
        }
        // A tag's opaque part may hold commas, so the list is read tag by tag, not split.
        let blank = [' ', '\t'];
        let mut versions = Vec::new();
        let mut rest = text;
        loop {
            let (weak, tag) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let tag = tag.strip_prefix('"').ok_or_else(malformed)?;
            let end = tag.find('"').ok_or_else(malformed)?;
            let opaque = &tag[..end];
            if !opaque
                .bytes()
                .all(|b| b == b'!' || (b'#'..=b'~').contains(&b))
            {
                return Err(malformed());
            }
            if let (false, Ok(version)) = (weak, opaque.parse::<u64>()) {
                versions.push(version);
            }
            rest = tag[end + 1..].trim_start_matches(blank);
            if rest.is_empty() {
                break;
            }
            rest = rest
                .strip_prefix(',')
                .ok_or_else(malformed)?
                .trim_start_matches(blank);
        }
        Ok(Precondition::Versions(versions))
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return std::future::ready(Ok(IfMatch::NONE));
        };
        let parsed = match value.to_str() {
            Ok(text) => IfMatch::parse(text).map(Some),
            Err(_) => Err(
                "If-Match holds bytes outside visible ASCII; send the ETag a GET answered"
                    .to_owned(),
            ),
        };
        std::future::ready(Ok(IfMatch(parsed)))
    }
}

/// The longest `Idempotency-Key` accepted.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;
/// What an `Idempotency-Key` may be: printable ASCII, spaces only inside. The OpenAPI
/// document's parameters carry the same pattern and length (a test compares them).
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[!-~]([ -~]*[!-~])?$";

/// The `Idempotency-Key` header of a POST, if sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get("idempotency-key") else {
            return std::future::ready(Ok(IdempotencyKey(None)));
        };
        let key = value.to_str().unwrap_or("").trim();
        let printable = key.bytes().all(|b| (b' '..=b'~').contains(&b));
        std::future::ready(
            if key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX || !printable {
                Err(ApiError::BadRequest(
                    "Idempotency-Key must be 1 to 255 visible ASCII characters".to_owned(),
                ))
            } else {
                Ok(IdempotencyKey(Some(key.to_owned())))
            },
        )
    }
}

/// Parses an id from a path segment: a malformed id is a 404 for that path (no record can
/// have it), with the reason in the detail.
pub fn path_id<T: FromStr<Err = ValidationError>>(
    kind: &'static str,
    text: &str,
) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound {
        kind,
        id: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_domain_error_reads_as_one_path() {
        let (field, message) = field_and_message(
            "rules.incentive",
            "cap: a cap below 1.0 stops pay at line 1 column 80",
        );
        assert_eq!(field, "rules.incentive.cap");
        assert_eq!(message, "a cap below 1.0 stops pay");
    }

    #[test]
    fn a_missing_field_is_named_in_the_path() {
        let (field, message) = field_and_message("", "missing field `name` at line 1 column 2");
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("name", "this field is required")
        );
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Hours {
        keep: u16,
        rate: f64,
        seeds: Vec<u64>,
    }

    #[test]
    fn an_integer_written_with_a_zero_fraction_is_an_integer() {
        let read: Hours =
            parse_json(br#"{"keep": 126.0, "rate": 2.0, "seeds": [18446744073709549568.0, 3]}"#)
                .unwrap();
        assert_eq!(
            read,
            Hours {
                keep: 126,
                rate: 2.0,
                seeds: vec![18446744073709549568, 3]
            }
        );
    }

    #[test]
    fn a_body_is_an_object_not_an_array_of_its_fields() {
        for body in [r#"[126, 1, []]"#, r#" [126.0, 1.0, [1.0]]"#] {
            let Err(ApiError::Validation(errors)) = parse_json::<Hours>(body.as_bytes()) else {
                panic!("{body} was read");
            };
            assert!(errors[0].message.contains("object"), "{body}: {errors:?}");
        }
    }

    #[test]
    fn a_fraction_or_an_out_of_range_integer_is_still_refused_naming_it() {
        for (body, field) in [
            (r#"{"keep": 126.5, "rate": 1, "seeds": []}"#, "keep"),
            (r#"{"keep": 70000.0, "rate": 1, "seeds": []}"#, "keep"),
            (r#"{"keep": 1.0, "rate": 1, "seeds": [-1.0]}"#, "seeds[0]"),
        ] {
            let Err(ApiError::Validation(errors)) = parse_json::<Hours>(body.as_bytes()) else {
                panic!("{body} was read");
            };
            assert_eq!(errors[0].field, field, "{body}");
        }
    }
}
