//! The API's bodies that are not JSON (CSV files, SVG charts, JSON-lines backups) and the
//! `application/octet-stream` alternative each of them is also offered as.
//!
//! Why an alternative: client generators read only JSON, forms and octet streams (with
//! `openapi-python-client`, an import whose only body is `text/csv` is not generated at all,
//! and an `image/svg+xml` answer is dropped from the client), so a spec that names only the
//! true media type leaves those operations out of every generated client. Each non-JSON
//! body is therefore declared twice — its true type first, then octet-stream, the same
//! bytes — and the server keeps its side: an upload is read under either type, and a
//! download is labelled octet-stream when the request's `Accept` prefers that to the true
//! type (no `Accept`, or `*/*`, gets the true type).
//!
//! This list is the one declaration: `document` adds the alternative to every body of
//! the OpenAPI document with one of these types, and [`is_upload`] and [`answer_type`] are
//! what the handlers call.

use actix_web::HttpRequest;
use actix_web::http::header::{self, Header};
use utoipa::openapi::RefOr;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

/// The alternative media type.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The non-JSON media types the API reads or writes, each also offered as [`OCTET_STREAM`].
pub const WITH_ALTERNATIVE: &[&str] = &["text/csv", "image/svg+xml", "application/x-ndjson"];

/// The media type of a request's `Content-Type` (parameters such as `charset` dropped),
/// lower-cased; `None` when there is none.
fn content_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

/// Whether a request carries an upload of `media` (one of [`WITH_ALTERNATIVE`]): its
/// `Content-Type` is `media` or [`OCTET_STREAM`].
pub fn is_upload(req: &HttpRequest, media: &str) -> bool {
    debug_assert!(
        WITH_ALTERNATIVE.contains(&media),
        "{media} has no alternative"
    );
    content_type(req).is_some_and(|ct| ct == media || ct == OCTET_STREAM)
}

/// The `Content-Type` to answer a download of `media` with: [`OCTET_STREAM`] when the
/// request's `Accept` ranks it above `media` (and above any wildcard that covers `media`),
/// else `media`. An unreadable `Accept` gets `media`: the body is the same either way.
pub fn answer_type(req: &HttpRequest, media: &'static str) -> &'static str {
    let Ok(accept) = header::Accept::parse(req) else {
        return media;
    };
    for mime in accept.ranked() {
        let essence = mime.essence_str();
        if essence == OCTET_STREAM {
            return OCTET_STREAM;
        }
        let (kind, _) = media.split_once('/').unwrap_or((media, ""));
        if essence == media || essence == "*/*" || essence == format!("{kind}/*") {
            return media;
        }
    }
    media
}

/// Adds the [`OCTET_STREAM`] alternative beside every request and response body of the
/// document whose media type is one of [`WITH_ALTERNATIVE`].
pub(crate) fn document(openapi: &mut utoipa::openapi::OpenApi) {
    let binary = || {
        ContentBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .description(Some("The same bytes as the body's other media type.")),
            ))
            .build()
            .into()
    };
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            if let Some(RefOr::T(body)) = operation.request_body.as_mut()
                && has_alternative(body.content.keys())
            {
                body.content.insert(OCTET_STREAM.to_owned(), binary());
            }
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response
                    && has_alternative(response.content.keys())
                {
                    response.content.insert(OCTET_STREAM.to_owned(), binary());
                }
            }
        }
    }
}

/// Whether a body with these media types gets the alternative.
fn has_alternative<'a>(mut media: impl Iterator<Item = &'a String>) -> bool {
    media.any(|m| WITH_ALTERNATIVE.contains(&m.as_str()))
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn an_upload_is_read_under_its_type_or_octet_stream_only() {
        let with = |ct: &str| {
            TestRequest::default()
                .insert_header((header::CONTENT_TYPE, ct))
                .to_http_request()
        };
        assert!(is_upload(&with("text/csv; charset=utf-8"), "text/csv"));
        assert!(is_upload(&with("Application/Octet-Stream"), "text/csv"));
        assert!(!is_upload(&with("application/json"), "text/csv"));
        assert!(!is_upload(
            &TestRequest::default().to_http_request(),
            "text/csv"
        ));
    }

    #[test]
    fn a_download_is_octet_stream_only_when_accept_prefers_it() {
        let accepting = |a: &str| {
            TestRequest::default()
                .insert_header((header::ACCEPT, a))
                .to_http_request()
        };
        let svg = "image/svg+xml";
        assert_eq!(
            answer_type(&TestRequest::default().to_http_request(), svg),
            svg
        );
        assert_eq!(answer_type(&accepting("*/*"), svg), svg);
        assert_eq!(
            answer_type(&accepting("application/octet-stream"), svg),
            OCTET_STREAM
        );
        assert_eq!(
            answer_type(&accepting("image/*, application/octet-stream;q=0.5"), svg),
            svg
        );
        assert_eq!(
            answer_type(&accepting("application/octet-stream, */*;q=0.1"), svg),
            OCTET_STREAM
        );
        assert_eq!(answer_type(&accepting("text/html"), svg), svg);
    }
}
