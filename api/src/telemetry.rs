//! Logging: a `tracing` subscriber for the binary, and the middleware that writes one line
//! per request (method, path, status, latency) and turns any error response that is not
//! already problem+json into one.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

use crate::error::{PROBLEM_JSON, problem_for_status, problem_response};

/// Installs a subscriber writing to stderr, filtered by `RUST_LOG` (default `info`).
/// Calling it twice is harmless: the second call keeps the first subscriber.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Logs the request and makes sure an error answer is problem+json.
pub async fn log_and_problem(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    let res = if status.as_u16() >= 400 && !is_problem {
        let mut replacement = problem_response(&problem_for_status(status));
        if let Some(v) = res.headers().get(header::WWW_AUTHENTICATE) {
            replacement
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, v.clone());
        }
        res.into_response(replacement)
    } else {
        res
    };
    let micros = start.elapsed().as_micros() as u64;
    tracing::info!(
        method = %method,
        path = %path,
        status = status.as_u16(),
        latency_us = micros,
        "request"
    );
    Ok(res)
}
