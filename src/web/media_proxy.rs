//! `GET /media/proxy/{id}`, `/media/proxy/avatar/{actor_id}` and
//! `/media/proxy/header/{actor_id}`: remote files served from here
//! (`service::media_proxy` fetches, checks and caches them). Errors are
//! Mastodon's JSON (`{"error": …}`): these URLs are loaded by `<img>`
//! tags and apps, never navigated to.

use crate::{
    apub::Data,
    context::Context,
    error::Result,
    service::media_proxy::{self, ActorImage, Proxied},
};
use actix_web::{http::header, web, HttpResponse};

/// The body with headers that keep it a plain media file: the detected
/// type and `nosniff` (no browser reads it as HTML), a CSP that sandboxes
/// it should it be opened as a page, and a long public cache (the file
/// behind a URL never changes: a new avatar gets a new `v`).
fn serve(file: Proxied) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
        ))
        .insert_header((header::CACHE_CONTROL, "public, max-age=604800, immutable"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(file.bytes)
}

async fn attachment(id: web::Path<String>, data: Data<Context>) -> Result<HttpResponse> {
    Ok(serve(media_proxy::attachment(&data, &id).await?))
}

async fn avatar(id: web::Path<String>, data: Data<Context>) -> Result<HttpResponse> {
    Ok(serve(
        media_proxy::actor_image(&data, &id, ActorImage::Avatar).await?,
    ))
}

async fn header_image(id: web::Path<String>, data: Data<Context>) -> Result<HttpResponse> {
    Ok(serve(
        media_proxy::actor_image(&data, &id, ActorImage::Header).await?,
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/proxy/avatar/{id}", web::get().to(avatar))
        .route("/media/proxy/header/{id}", web::get().to(header_image))
        .route("/media/proxy/{id}", web::get().to(attachment));
}
