//! Logging: a `tracing` subscriber for the binary, and the middleware that gives every
//! request an id, writes one line per request (request id, token id, method, path, status,
//! latency), counts it in the server's [`Metrics`](crate::metrics::Metrics) and turns any
//! error response that is not already problem+json into one.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

use crate::error::{PROBLEM_JSON, problem_for_status, problem_response};

/// The header that carries a request's id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The token a request was authenticated with, left in the request's extensions by the
/// `Caller` extractor for the log line.
#[derive(Debug, Clone, Copy)]
pub struct TokenId(pub uuid::Uuid);

/// The request's id (`X-Request-Id`), left in the request's extensions for the audit trail.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The client's `X-Request-Id` when it is a plausible id (1–128 of `A–Z a–z 0–9 - _ . :`),
/// so a caller can follow its own id through the log; otherwise a fresh UUID.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    let given = req.headers().get(&REQUEST_ID).filter(|v| {
        let b = v.as_bytes();
        (1..=128).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    });
    match given {
        Some(v) => v.clone(),
        None => HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .expect("a UUID is a header value"),
    }
}

/// `res` with `"request_id"` added to its problem+json body. A body that is not a JSON
/// object is left as it was; one that cannot be read at all (a problem body is always in
/// memory, so never) is answered empty.
async fn with_request_id(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => return ServiceResponse::new(req, head.set_body(BoxBody::new(()))),
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".to_owned(), id.into());
            serde_json::to_vec(&problem).map_or(bytes, Into::into)
        }
        _ => bytes,
    };
    ServiceResponse::new(req, head.set_body(BoxBody::new(body)))
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `key=value` lines for people (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log shippers (`fields.request_id`, `fields.token`, ...).
    Json,
}

/// Installs a subscriber writing to stderr in `format`, filtered by `RUST_LOG` (default
/// `info`). Calling it twice is harmless: the second call keeps the first subscriber.
pub fn init(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// Logs the request and makes sure an error answer is problem+json.
pub async fn log_and_problem(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let id = request_id(&req);
    let id_text = id.to_str().unwrap_or_default().to_owned();
    req.extensions_mut().insert(RequestId(id_text.clone()));
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let mut res = if status.as_u16() >= 400 && !is_problem {
        let mut problem = problem_for_status(status);
        problem.request_id = Some(id_text.clone());
        let mut replacement = problem_response(&problem);
        if let Some(v) = res.headers().get(header::WWW_AUTHENTICATE) {
            replacement
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, v.clone());
        }
        res.into_response(replacement)
    } else if is_problem {
        with_request_id(res, &id_text).await
    } else {
        res
    };
    res.headers_mut().insert(REQUEST_ID, id);
    let token = res.request().extensions().get::<TokenId>().map(|t| t.0);
    let elapsed = start.elapsed();
    let micros = elapsed.as_micros() as u64;
    if let Some(state) = res
        .request()
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
    {
        // By the matched route's template, never the raw path: one series per route.
        state.store.metrics().request(
            &method,
            res.request().match_pattern(),
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    tracing::info!(
        request_id = %id_text,
        token = %token.map_or_else(|| "-".to_owned(), |t| t.to_string()),
        method = %method,
        path = %path,
        status = status.as_u16(),
        latency_us = micros,
        "request"
    );
    Ok(res)
}
