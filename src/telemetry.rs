//! Logging: a `tracing` subscriber for the process, and one span per HTTP
//! request with its method, path, status and latency.

use crate::config::LogFormat;
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber (the binary calls this once; tests
/// may, with `TEST_LOG=1`). The level comes from `RUST_LOG`, `info` if unset.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Middleware: runs the request inside a `request` span and logs one line
/// when it completes.
pub async fn trace_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    tracing::info!(parent: &span, status, latency_ms, "request completed");
    result
}
