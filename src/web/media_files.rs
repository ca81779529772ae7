//! `GET /media/{key}`: the files of uploads, avatars and headers, when
//! `[media] public_url` does not send clients elsewhere. Keys are random
//! and never reused, so answers may be cached for a year; every answer is
//! marked so that a browser never runs or sniffs what someone uploaded.
//! (The media proxy's `/media/proxy/…` routes live elsewhere; a key is a
//! single path segment.)

use crate::{apub::Data, context::Context, service};
use actix_web::{http::header, web, HttpResponse};

/// A file is never run as a page: no scripts, no plugins, no same-origin
/// access, even if opened directly.
const CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";

/// Keys are immutable: a changed file gets a new key.
const CACHE: &str = "public, max-age=31536000, immutable";

/// `GET` and `HEAD /media/{key}` (actix leaves the body out for `HEAD`).
/// Unknown and malformed keys are 404 with Mastodon's JSON error.
async fn file(data: Data<Context>, key: web::Path<String>) -> HttpResponse {
    let found = service::media::file(&data, &key).await;
    let mut response = match &found {
        Ok(_) => HttpResponse::Ok(),
        Err(e) => HttpResponse::build(actix_web::ResponseError::status_code(e)),
    };
    response
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header(("Cross-Origin-Resource-Policy", "cross-origin"));
    match found {
        Ok((bytes, content_type)) => response
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((header::CACHE_CONTROL, CACHE))
            .body(bytes),
        Err(e) => {
            tracing::debug!(key = %key, error = ?e, "media file not served");
            response.json(serde_json::json!({ "error": e.safe_message() }))
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/{key}", web::get().to(file))
        .route("/media/{key}", web::head().to(file));
}
