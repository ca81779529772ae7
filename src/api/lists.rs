//! Lists: `/api/v1/lists…` (CRUD and members), `GET
//! /api/v1/accounts/:id/lists` and `GET /api/v1/timelines/list/:id`. The
//! rules are in `service::lists`; the timeline's in `db::timeline`.

use super::{
    auth::Auth,
    convert, paged,
    params::{flexible_bool, one_or_many, Form, Query},
    timelines::respond,
    PageParams,
};
use crate::{
    apub::Data,
    context::Context,
    db::list::List,
    error::Error,
    service::{
        lists::{self, ListEdit},
        timelines,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// Mastodon's List.
#[derive(Debug, Clone, Serialize)]
pub struct ListEntity {
    pub id: String,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
}

pub fn list_entity(list: &List) -> ListEntity {
    ListEntity {
        id: list.id.clone(),
        title: list.title.clone(),
        replies_policy: list.replies_policy.clone(),
        exclusive: list.exclusive,
    }
}

#[derive(Deserialize)]
struct ListParams {
    title: Option<String>,
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    exclusive: Option<bool>,
}

impl ListParams {
    fn edit(self) -> ListEdit {
        ListEdit {
            title: self.title,
            replies_policy: self.replies_policy.filter(|p| !p.is_empty()),
            exclusive: self.exclusive,
        }
    }
}

#[derive(Deserialize)]
struct AccountIds {
    #[serde(default, deserialize_with = "one_or_many")]
    account_ids: Vec<String>,
}

type Id = web::Path<String>;

/// `GET /api/v1/lists`
async fn index(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:lists")?;
    let all = lists::all(&data, me).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(list_entity).collect::<Vec<_>>()))
}

/// `GET /api/v1/lists/:id`
async fn show(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:lists")?;
    Ok(HttpResponse::Ok().json(list_entity(&lists::get(&data, me, &id).await?)))
}

/// `POST /api/v1/lists`
async fn create(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<ListParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:lists")?;
    let list = lists::create(&data, me, p.edit()).await?;
    Ok(HttpResponse::Ok().json(list_entity(&list)))
}

/// `PUT /api/v1/lists/:id`
async fn update(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<ListParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:lists")?;
    let list = lists::update(&data, me, &id, p.edit()).await?;
    Ok(HttpResponse::Ok().json(list_entity(&list)))
}

/// `DELETE /api/v1/lists/:id`
async fn destroy(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("write:lists")?;
    lists::delete(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/lists/:id/accounts`: 40 a page (at most 80; `limit=0`
/// is all), paged by the memberships' ids.
async fn accounts(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Query(q): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:lists")?;
    let mut page = q.page(40, 80);
    if q.limit == Some(0) {
        page.limit = i64::MAX;
    }
    let rows = lists::members(&data, me, &id, page).await?;
    let bounds = super::bounds_of(&rows, |(id, _)| id);
    let actors: Vec<_> = rows.into_iter().map(|(_, a)| a).collect();
    let entities = convert::accounts(&data, &actors).await?;
    Ok(paged(&req, &data, &entities, bounds))
}

/// `POST /api/v1/lists/:id/accounts`
async fn add_accounts(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<AccountIds>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:lists")?;
    lists::add_members(&data, me, &id, p.account_ids).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `DELETE /api/v1/lists/:id/accounts`
async fn remove_accounts(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<AccountIds>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:lists")?;
    lists::remove_members(&data, me, &id, p.account_ids).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/accounts/:id/lists`: the viewer's lists with that account.
async fn account_lists(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:lists")?;
    let all = lists::lists_with(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(list_entity).collect::<Vec<_>>()))
}

/// `GET /api/v1/timelines/list/:id`: paged like home.
async fn timeline(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Query(q): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:lists")?;
    let items = timelines::list(&data, me, &id, q.timeline_page(20, timelines::MAX_LIMIT)?).await?;
    respond(&req, &data, Some(me), items).await
}

/// Registered before `api::accounts`, whose `/api/v1/accounts/{id}/{action}`
/// would otherwise take `…/lists`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/lists", web::get().to(index))
        .route("/api/v1/lists", web::post().to(create))
        .route("/api/v1/lists/{id}/accounts", web::get().to(accounts))
        .route("/api/v1/lists/{id}/accounts", web::post().to(add_accounts))
        .route(
            "/api/v1/lists/{id}/accounts",
            web::delete().to(remove_accounts),
        )
        .route("/api/v1/lists/{id}", web::get().to(show))
        .route("/api/v1/lists/{id}", web::put().to(update))
        .route("/api/v1/lists/{id}", web::delete().to(destroy))
        .route("/api/v1/accounts/{id}/lists", web::get().to(account_lists))
        .route("/api/v1/timelines/list/{id}", web::get().to(timeline));
}
