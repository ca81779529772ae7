//! `/api/v2/notifications/policy` (and v1's boolean form) and
//! `/api/v1/notifications/requests` (`service::notification_policy`).
//! Registered before `api::notifications`, whose `{id}` routes would
//! otherwise take `requests` and `policy` for ids.

use super::{
    auth::Auth,
    convert, entities, paged,
    params::{one_or_many, Form, Query},
    PageParams,
};
use crate::{
    apub::Data,
    context::Context,
    db::notification_policy::Decision,
    error::Error,
    service::{
        notification_policy::{self as policy, PolicyChanges, PolicyView, Request},
        timelines::Item,
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

fn summary(view: &PolicyView) -> Value {
    json!({
        "pending_requests_count": view.pending_requests,
        "pending_notifications_count": view.pending_notifications
    })
}

/// The NotificationPolicy entity (v2).
fn v2_entity(view: &PolicyView) -> Value {
    json!({
        "for_not_following": view.for_not_following.as_str(),
        "for_not_followers": view.for_not_followers.as_str(),
        "for_new_accounts": view.for_new_accounts.as_str(),
        "for_private_mentions": view.for_private_mentions.as_str(),
        "for_limited_accounts": view.for_limited_accounts.as_str(),
        "summary": summary(view)
    })
}

/// The v1 entity: `filter_*` is true unless the condition accepts.
fn v1_entity(view: &PolicyView) -> Value {
    let filters = |d: Decision| d != Decision::Accept;
    json!({
        "filter_not_following": filters(view.for_not_following),
        "filter_not_followers": filters(view.for_not_followers),
        "filter_new_accounts": filters(view.for_new_accounts),
        "filter_private_mentions": filters(view.for_private_mentions),
        "summary": summary(view)
    })
}

/// `GET /api/v2/notifications/policy`
async fn get_v2(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    Ok(HttpResponse::Ok().json(v2_entity(&policy::get(&data, me).await?)))
}

/// `GET /api/v1/notifications/policy`
async fn get_v1(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    Ok(HttpResponse::Ok().json(v1_entity(&policy::get(&data, me).await?)))
}

#[derive(Deserialize)]
struct V2Changes {
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
}

/// `PATCH /api/v2/notifications/policy`
async fn patch_v2(
    data: Data<Context>,
    auth: Auth,
    Form(body): Form<V2Changes>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    let changes = PolicyChanges {
        for_not_following: body.for_not_following,
        for_not_followers: body.for_not_followers,
        for_new_accounts: body.for_new_accounts,
        for_private_mentions: body.for_private_mentions,
        for_limited_accounts: body.for_limited_accounts,
    };
    Ok(HttpResponse::Ok().json(v2_entity(&policy::update(&data, me, changes).await?)))
}

#[derive(Deserialize)]
struct V1Changes {
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    filter_not_following: Option<bool>,
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    filter_not_followers: Option<bool>,
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    filter_new_accounts: Option<bool>,
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    filter_private_mentions: Option<bool>,
}

/// `PATCH /api/v1/notifications/policy`: true filters, false accepts.
async fn patch_v1(
    data: Data<Context>,
    auth: Auth,
    Form(body): Form<V1Changes>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    let value = |b: Option<bool>| {
        b.map(|b| {
            if b {
                Decision::Filter
            } else {
                Decision::Accept
            }
            .as_str()
            .to_string()
        })
    };
    let changes = PolicyChanges {
        for_not_following: value(body.filter_not_following),
        for_not_followers: value(body.filter_not_followers),
        for_new_accounts: value(body.filter_new_accounts),
        for_private_mentions: value(body.filter_private_mentions),
        for_limited_accounts: None,
    };
    Ok(HttpResponse::Ok().json(v1_entity(&policy::update(&data, me, changes).await?)))
}

/// The NotificationRequest entity.
#[derive(Serialize)]
struct RequestEntity {
    id: String,
    created_at: String,
    updated_at: String,
    /// A string, as Mastodon sends it.
    notifications_count: String,
    account: entities::Account,
    last_status: Option<entities::Status>,
}

async fn request_entity(
    data: &Data<Context>,
    viewer: &crate::db::actor::Actor,
    request: Request,
) -> Result<RequestEntity, Error> {
    let last_status = match request.last_post {
        Some(post) => Some(convert::status(data, Some(viewer), Item::Post(post)).await?),
        None => None,
    };
    Ok(RequestEntity {
        id: request.row.id,
        created_at: convert::timestamp(request.row.created_at),
        updated_at: convert::timestamp(request.row.updated_at),
        notifications_count: request.row.count.to_string(),
        account: convert::account(data, &request.from).await?,
        last_status,
    })
}

/// `GET /api/v1/notifications/requests`
async fn list(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let requests = policy::list(&data, me, page.page(40, 80)).await?;
    let bounds = super::bounds_of(&requests, |r| &r.row.id);
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        out.push(request_entity(&data, me, request).await?);
    }
    Ok(paged(&req, &data, &out, bounds))
}

/// `GET /api/v1/notifications/requests/:id`
async fn show(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let request = policy::get_request(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(request_entity(&data, me, request).await?))
}

/// `POST /api/v1/notifications/requests/:id/accept`
async fn accept(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    policy::accept(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /api/v1/notifications/requests/:id/dismiss`
async fn dismiss(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    policy::dismiss(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// The `id[]` of the bulk forms (JSON, form or query string; Mastodon.py's
/// `id[][]` is read by `params` as `id[]`).
#[derive(Deserialize)]
struct Ids {
    #[serde(default, deserialize_with = "one_or_many")]
    id: Vec<String>,
}

/// `POST /api/v1/notifications/requests/accept` with `id[]`
async fn accept_all(
    data: Data<Context>,
    auth: Auth,
    Form(ids): Form<Ids>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    policy::act_on_all(&data, me, ids.id, true).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /api/v1/notifications/requests/dismiss` with `id[]`
async fn dismiss_all(
    data: Data<Context>,
    auth: Auth,
    Form(ids): Form<Ids>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    policy::act_on_all(&data, me, ids.id, false).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /api/v1/notifications/requests/merged`: accepting merges at once,
/// in the same transaction, so it is always done.
async fn merged(auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("read:notifications")?;
    Ok(HttpResponse::Ok().json(json!({ "merged": true })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v2/notifications/policy", web::get().to(get_v2))
        .route("/api/v2/notifications/policy", web::patch().to(patch_v2))
        .route("/api/v1/notifications/policy", web::get().to(get_v1))
        .route("/api/v1/notifications/policy", web::patch().to(patch_v1))
        .route("/api/v1/notifications/requests", web::get().to(list))
        .route(
            "/api/v1/notifications/requests/merged",
            web::get().to(merged),
        )
        .route(
            "/api/v1/notifications/requests/accept",
            web::post().to(accept_all),
        )
        .route(
            "/api/v1/notifications/requests/dismiss",
            web::post().to(dismiss_all),
        )
        .route("/api/v1/notifications/requests/{id}", web::get().to(show))
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            web::post().to(accept),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            web::post().to(dismiss),
        );
}
