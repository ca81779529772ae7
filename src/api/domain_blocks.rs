//! `/api/v1/domain_blocks`: domains a person hides (`service::blocks`).

use super::{
    auth::Auth,
    paged,
    params::{Form, Query},
    PageParams,
};
use crate::{apub::Data, context::Context, error::Error, service::blocks};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// `GET /api/v1/domain_blocks`: a page of domains (strings), newest first.
async fn list(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:blocks")?;
    let (domains, bounds) = blocks::blocked_domains(&data, me, q.page(100, 200)).await?;
    Ok(paged(&req, &data, &domains, bounds))
}

#[derive(Deserialize)]
struct DomainParams {
    #[serde(default)]
    domain: String,
}

/// `POST /api/v1/domain_blocks`
async fn create(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<DomainParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:blocks")?;
    blocks::block_domain(&data, me, &p.domain).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `DELETE /api/v1/domain_blocks`
async fn delete(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<DomainParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:blocks")?;
    blocks::unblock_domain(&data, me, &p.domain).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/domain_blocks", web::get().to(list))
        .route("/api/v1/domain_blocks", web::post().to(create))
        .route("/api/v1/domain_blocks", web::delete().to(delete));
}
