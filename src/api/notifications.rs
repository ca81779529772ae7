//! `/api/v1/notifications`.

use super::{
    auth::Auth,
    convert, entities, paged,
    params::{one_or_many, Query},
    PageParams,
};
use crate::{
    apub::Data,
    context::Context,
    db::notification::NotificationQuery,
    error::Error,
    service::{notifications, timelines::Item},
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "one_or_many")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    exclude_types: Vec<String>,
    account_id: Option<String>,
}

async fn entity(
    data: &Data<Context>,
    viewer: &crate::db::actor::Actor,
    entry: notifications::Entry,
) -> Result<entities::Notification, Error> {
    let status = match entry.post {
        Some(post) => Some(convert::status(data, Some(viewer), Item::Post(post)).await?),
        None => None,
    };
    Ok(entities::Notification {
        group_key: format!("ungrouped-{}", entry.notification.id),
        id: entry.notification.id,
        kind: entry.notification.kind,
        created_at: convert::timestamp(entry.notification.created_at),
        account: convert::account(data, &entry.from).await?,
        status,
    })
}

/// `GET /api/v1/notifications`
async fn list(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let query = NotificationQuery {
        types: q.types,
        exclude_types: q.exclude_types,
        from_account: q.account_id.filter(|a| !a.is_empty()),
        page: q.page.page(40, 80),
    };
    let entries = notifications::list(&data, me, query).await?;
    let bounds = match (entries.first(), entries.last()) {
        (Some(a), Some(b)) => Some((a.notification.id.clone(), b.notification.id.clone())),
        _ => None,
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        out.push(entity(&data, me, entry).await?);
    }
    Ok(paged(&req, &data, &out, bounds))
}

/// `GET /api/v1/notifications/:id`
async fn show(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let entry = notifications::get(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(entity(&data, me, entry).await?))
}

/// `POST /api/v1/notifications/:id/dismiss`
async fn dismiss(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    notifications::dismiss(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `POST /api/v1/notifications/clear`
async fn clear(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    notifications::clear(&data, me).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/notifications/unread_count` (Mastodon 4.3)
async fn unread_count(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?.id.clone();
    let count = data
        .db
        .run(move |conn| Ok(crate::db::notification::Notification::count(conn, &me)?))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "count": count })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/notifications", web::get().to(list))
        .route("/api/v1/notifications/clear", web::post().to(clear))
        .route(
            "/api/v1/notifications/unread_count",
            web::get().to(unread_count),
        )
        .route("/api/v1/notifications/{id}", web::get().to(show))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            web::post().to(dismiss),
        );
}
