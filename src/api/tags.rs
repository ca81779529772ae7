//! Hashtags and following them: `GET /api/v1/tags/:name`,
//! `POST /api/v1/tags/:name/follow` and `…/unfollow`,
//! `GET /api/v1/followed_tags`. The rules are in `service::tags`.

use super::{
    auth::{Auth, MaybeAuth},
    convert, entities, paged,
    params::Query,
    PageParams,
};
use crate::{apub::Data, context::Context, error::Error, service::tags};
use actix_web::{web, HttpRequest, HttpResponse};

/// The Tag entity of `name` with `following` (Mastodon has no usage
/// history here: `history` is empty).
fn tag_entity(data: &Data<Context>, name: &str, following: Option<bool>) -> entities::Tag {
    entities::Tag {
        following,
        ..convert::tag(&data.urls, name)
    }
}

/// `GET /api/v1/tags/:name`: any valid name answers (unknown ones too, as
/// Mastodon); `following` only with a user's token.
async fn show(
    data: Data<Context>,
    auth: MaybeAuth,
    name: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read");
    let (name, following) = tags::show(&data, viewer, &name).await?;
    Ok(HttpResponse::Ok().json(tag_entity(&data, &name, following)))
}

/// `POST /api/v1/tags/:name/follow`
async fn follow(
    data: Data<Context>,
    auth: Auth,
    name: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:follows")?;
    let name = tags::follow(&data, me, &name).await?;
    Ok(HttpResponse::Ok().json(tag_entity(&data, &name, Some(true))))
}

/// `POST /api/v1/tags/:name/unfollow`
async fn unfollow(
    data: Data<Context>,
    auth: Auth,
    name: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:follows")?;
    let name = tags::unfollow(&data, me, &name).await?;
    Ok(HttpResponse::Ok().json(tag_entity(&data, &name, Some(false))))
}

/// `GET /api/v1/followed_tags`: newest follow first, 100 a page (at most
/// 200), paged by the follows' ids through the `Link` header.
async fn followed(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:follows")?;
    let rows = tags::followed(&data, me, q.page(100, 200)).await?;
    let bounds = super::bounds_of(&rows, |r| &r.id);
    let list: Vec<entities::Tag> = rows
        .iter()
        .map(|r| tag_entity(&data, &r.name, Some(true)))
        .collect();
    Ok(paged(&req, &data, &list, bounds))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/followed_tags", web::get().to(followed))
        .route("/api/v1/tags/{name}/follow", web::post().to(follow))
        .route("/api/v1/tags/{name}/unfollow", web::post().to(unfollow))
        .route("/api/v1/tags/{name}", web::get().to(show));
}
