//! Partner organisations in the client API (issue 13 §5, Outloud
//! extensions, docs/api.md): `GET /api/v1/outloud/partners` (the hosts)
//! and `GET /api/v1/outloud/timelines/partners` (the timeline). Mastodon
//! apps read the same timeline as the reserved list `partners`
//! (`api::lists`, `service::partners::LIST_ID`).

use super::{auth::Auth, params::Query, timelines::respond, PageParams};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::{partners, timelines},
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

/// One partner instance.
#[derive(Debug, Serialize)]
struct PartnerEntity {
    host: String,
    created_at: String,
}

/// `GET /api/v1/outloud/partners`: the partner hosts, alphabetically.
async fn index(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("read:statuses")?;
    let all = partners::list(&data.db).await?;
    let entities: Vec<_> = all
        .into_iter()
        .map(|p| PartnerEntity {
            host: p.host,
            created_at: p.created_at.and_utc().to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(entities))
}

/// `GET /api/v1/outloud/timelines/partners`: paged like home, `kind=`
/// as every timeline.
async fn timeline(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:statuses")?;
    let page = q.timeline_page(20, timelines::MAX_LIMIT)?;
    let items = partners::timeline(&data, me, page).await?;
    respond(&req, &data, Some(me), items).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/outloud/partners", web::get().to(index))
        .route(
            "/api/v1/outloud/timelines/partners",
            web::get().to(timeline),
        );
}
