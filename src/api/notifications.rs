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
    db::{actor::Actor, notification::NotificationQuery, post::Post},
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
    /// Mastodon 4.3: list what the notification policy filtered too.
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    include_filtered: Option<bool>,
}

/// The Report of an `admin.report` notification (`Some(None)` for other
/// kinds); `None` when it names a report the viewer may no longer see,
/// and the notification is left out.
async fn report_of(
    data: &Data<Context>,
    viewer: &Actor,
    notification: &crate::db::notification::Notification,
) -> Result<Option<Option<entities::Report>>, Error> {
    let Some(id) = &notification.report_id else {
        return Ok(Some(None));
    };
    match crate::service::reports::for_notification(data, viewer, id).await? {
        Some(view) => Ok(Some(Some(
            super::reports::report_entity(data, &view).await?,
        ))),
        None => Ok(None),
    }
}

/// A notification as the entity; `None` when its report is gone. The
/// streaming API renders with it too.
pub(crate) async fn entity(
    data: &Data<Context>,
    viewer: &Actor,
    entry: notifications::Entry,
) -> Result<Option<entities::Notification>, Error> {
    let Some(report) = report_of(data, viewer, &entry.notification).await? else {
        return Ok(None);
    };
    let status = match entry.post {
        Some(post) => Some(convert::status(data, Some(viewer), Item::Post(post)).await?),
        None => None,
    };
    Ok(Some(entities::Notification {
        group_key: notifications::group_key(&entry.notification, &default_grouped_types()),
        id: entry.notification.id,
        kind: entry.notification.kind,
        created_at: convert::timestamp(entry.notification.created_at),
        account: convert::account(data, &entry.from).await?,
        status,
        report,
    }))
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
        within: notifications::client_kinds(),
        page: q.page.page(40, 80),
        include_filtered: q.include_filtered.unwrap_or(false),
    };
    let entries = notifications::list(&data, me, query).await?;
    let bounds = super::bounds_of(&entries, |e| &e.notification.id);
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        out.extend(entity(&data, me, entry).await?);
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
    let entity = entity(&data, me, entry)
        .await?
        .ok_or_else(|| Error::not_found("Record not found"))?;
    Ok(HttpResponse::Ok().json(entity))
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
    let me = auth.user("read:notifications")?;
    let count = notifications::client_unread_count(&data, me).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "count": count })))
}

fn default_grouped_types() -> Vec<String> {
    notifications::GROUPED_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect()
}

#[derive(Deserialize)]
struct GroupedQuery {
    #[serde(flatten)]
    list: ListQuery,
    #[serde(default, deserialize_with = "one_or_many")]
    grouped_types: Vec<String>,
}

/// The grouped form of a page: groups, and the accounts and statuses
/// they refer to, each once.
async fn grouped_results(
    data: &Data<Context>,
    me: &Actor,
    groups: Vec<notifications::Group>,
) -> Result<entities::GroupedNotificationsResults, Error> {
    let mut actors: Vec<Actor> = Vec::new();
    let mut posts: Vec<Post> = Vec::new();
    let mut out = Vec::new();
    for group in groups {
        let (Some(newest), Some(oldest)) = (group.entries.first(), group.entries.last()) else {
            continue;
        };
        let mut sample = Vec::new();
        for entry in &group.entries {
            if !sample.contains(&entry.from.id) && sample.len() < 8 {
                sample.push(entry.from.id.clone());
            }
            if !actors.iter().any(|a| a.id == entry.from.id) {
                actors.push(entry.from.clone());
            }
        }
        let Some(report) = report_of(data, me, &newest.notification).await? else {
            continue;
        };
        if let Some(post) = &newest.post {
            if !posts.iter().any(|p| p.id == post.id) {
                posts.push(post.clone());
            }
        }
        out.push(entities::NotificationGroup {
            group_key: group.key.clone(),
            notifications_count: group.total,
            kind: group.kind.clone(),
            most_recent_notification_id: newest.notification.id.clone(),
            page_min_id: oldest.notification.id.clone(),
            page_max_id: newest.notification.id.clone(),
            latest_page_notification_at: convert::timestamp(newest.notification.created_at),
            sample_account_ids: sample,
            status_id: newest.post.as_ref().map(|p| p.id.clone()),
            report,
        });
    }
    Ok(entities::GroupedNotificationsResults {
        accounts: convert::accounts(data, &actors).await?,
        statuses: convert::posts(data, Some(me), posts).await?,
        notification_groups: out,
    })
}

/// `GET /api/v2/notifications`: grouped notifications (Mastodon 4.3).
async fn list_grouped(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<GroupedQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let grouped_types = if q.grouped_types.is_empty() {
        default_grouped_types()
    } else {
        q.grouped_types
    };
    let query = NotificationQuery {
        types: q.list.types,
        exclude_types: q.list.exclude_types,
        from_account: q.list.account_id.filter(|a| !a.is_empty()),
        within: notifications::client_kinds(),
        page: q.list.page.page(40, 80),
        include_filtered: q.list.include_filtered.unwrap_or(false),
    };
    let (groups, bounds) = notifications::grouped(&data, me, query, grouped_types).await?;
    let results = grouped_results(&data, me, groups).await?;
    let mut response = HttpResponse::Ok();
    if let Some(link) = super::link_header(
        &req,
        &data,
        bounds.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    ) {
        response.insert_header(("Link", link));
    }
    Ok(response.json(results))
}

/// `GET /api/v2/notifications/:group_key`
async fn show_group(
    data: Data<Context>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let group = notifications::group(&data, me, &key).await?;
    Ok(HttpResponse::Ok().json(grouped_results(&data, me, vec![group]).await?))
}

/// `GET /api/v2/notifications/:group_key/accounts`
async fn group_accounts(
    data: Data<Context>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:notifications")?;
    let group = notifications::group(&data, me, &key).await?;
    let mut actors: Vec<Actor> = Vec::new();
    for entry in group.entries {
        if !actors.iter().any(|a| a.id == entry.from.id) {
            actors.push(entry.from);
        }
    }
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &actors).await?))
}

/// `POST /api/v2/notifications/:group_key/dismiss`
async fn dismiss_group(
    data: Data<Context>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:notifications")?;
    notifications::dismiss_group(&data, me, &key).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
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
        )
        .route("/api/v2/notifications", web::get().to(list_grouped))
        .route(
            "/api/v2/notifications/unread_count",
            web::get().to(unread_count),
        )
        .route("/api/v2/notifications/{key}", web::get().to(show_group))
        .route(
            "/api/v2/notifications/{key}/accounts",
            web::get().to(group_accounts),
        )
        .route(
            "/api/v2/notifications/{key}/dismiss",
            web::post().to(dismiss_group),
        );
}
