//! Instance information and the small endpoints every app calls at start
//! (emojis, announcements, preferences, markers, trends):
//! those Outloud has no data for answer empty lists, never 404.

use super::{
    auth::{Auth, MaybeAuth},
    convert,
    params::{Form, Query},
};
use crate::{
    apub::Data,
    config::Registrations,
    context::Context,
    db::{actor::Actor, marks::Marker, schema::actors},
    error::Error,
    service,
};
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What apps read as the server version. Clients (Mastodon.py among them)
/// gate features on a Mastodon version number, so Outloud states the
/// Mastodon API level it implements first, as Pleroma and Akkoma do.
pub fn version() -> String {
    format!("4.3.0 (compatible; Outloud {})", env!("CARGO_PKG_VERSION"))
}

/// What `configuration.media_attachments` states for video: Mastodon's
/// numbers. Outloud does not transcode or inspect video, so only the size
/// limit is enforced; clients use these to decide whether to shrink first.
const VIDEO_FRAME_RATE_LIMIT: u32 = 120;
const VIDEO_MATRIX_LIMIT: u64 = 8_294_400;

/// Longest status text, as `configuration.statuses.max_characters`.
const MAX_CHARACTERS: usize = service::posts::MAX_NOTE_CHARS;

/// `configuration` of both instance endpoints; the media limits are the
/// configured ones (`[media]`). Video is stored as uploaded, never
/// transcoded, so no frame rate or matrix limit applies beyond the size.
fn configuration(v2: bool, streaming: &str, media: &crate::config::MediaConfig) -> Value {
    let mut config = json!({
        "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 5 },
        "statuses": {
            "max_characters": MAX_CHARACTERS,
            "max_media_attachments": service::media::MAX_ATTACHMENTS,
            "characters_reserved_per_url": 23
        },
        "media_attachments": {
            "supported_mime_types": crate::media::process::SUPPORTED_MIME_TYPES,
            "image_size_limit": media.image_size_limit,
            "image_matrix_limit": media.image_matrix_limit,
            "video_size_limit": media.video_size_limit,
            "video_frame_rate_limit": VIDEO_FRAME_RATE_LIMIT,
            "video_matrix_limit": VIDEO_MATRIX_LIMIT,
            "description_limit": media.description_limit
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 300,
            "max_expiration": 2629746
        }
    });
    if v2 {
        config["urls"] = json!({ "streaming": streaming, "status": null });
        config["vapid"] = json!({ "public_key": "" });
        config["translation"] = json!({ "enabled": false });
    }
    config
}

/// `configuration.vapid.public_key`: the key apps give push services
/// (Web Push, `api::push`).
fn with_vapid(mut config: Value, public_key: String) -> Value {
    config["vapid"] = json!({ "public_key": public_key });
    config
}

async fn counts(data: &Data<Context>) -> Result<(service::instance::Usage, i64), Error> {
    let usage = service::instance::usage(&data.db).await?;
    let domains = data
        .db
        .run(|conn| Ok(Actor::known_domains(conn)?))
        .await?
        .len() as i64;
    Ok((usage, domains))
}

/// `GET /api/v2/instance`
pub async fn instance_v2(data: Data<Context>) -> Result<HttpResponse, Error> {
    let (usage, _) = counts(&data).await?;
    let config = &data.config.instance;
    let identity = crate::service::instance::identity(&data.db, config).await?;
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    Ok(HttpResponse::Ok().json(json!({
        "domain": data.urls.domain(),
        "title": identity.name,
        "version": version(),
        "source_url": "https://github.com/outloud/outloud",
        "description": identity.description,
        "usage": { "users": { "active_month": usage.users } },
        "thumbnail": { "url": format!("{base}/static/header.svg") },
        "icon": [],
        "languages": ["en"],
        "configuration": with_vapid(
            configuration(true, &streaming_url(&data), &data.config.media),
            data.push.vapid.public_key()
        ),
        "registrations": {
            "enabled": config.registrations == Registrations::Open,
            "approval_required": config.approve_registrations,
            "message": null,
            "url": null
        },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": config.contact_email, "account": null },
        "rules": []
    })))
}

/// `GET /api/v1/instance`
pub async fn instance_v1(data: Data<Context>) -> Result<HttpResponse, Error> {
    let (usage, domains) = counts(&data).await?;
    let config = &data.config.instance;
    let identity = crate::service::instance::identity(&data.db, config).await?;
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    Ok(HttpResponse::Ok().json(json!({
        "uri": data.urls.domain(),
        "title": identity.name,
        "short_description": identity.description,
        "description": identity.description,
        "email": config.contact_email,
        "version": version(),
        "urls": { "streaming_api": streaming_url(&data) },
        "stats": {
            "user_count": usage.users,
            "status_count": usage.local_posts,
            "domain_count": domains
        },
        "thumbnail": format!("{base}/static/header.svg"),
        "languages": ["en"],
        "registrations": config.registrations == Registrations::Open,
        "approval_required": config.approve_registrations,
        "invites_enabled": config.registrations == Registrations::Invite,
        "configuration": configuration(false, &streaming_url(&data), &data.config.media),
        "contact_account": null,
        "rules": []
    })))
}

/// `GET /api/v1/instance/peers`: the hosts this instance knows actors of.
pub async fn peers(data: Data<Context>) -> Result<HttpResponse, Error> {
    let domains = data.db.run(|conn| Ok(Actor::known_domains(conn)?)).await?;
    Ok(HttpResponse::Ok().json(domains))
}

/// `GET /api/v1/instance/extended_description`: the admin's "about"
/// text as sanitized HTML.
pub async fn extended_description(data: Data<Context>) -> Result<HttpResponse, Error> {
    let about = service::instance::extended_description(&data.db, &data.urls).await?;
    Ok(HttpResponse::Ok().json(json!({
        "updated_at": convert::timestamp(about.updated_at),
        "content": about.html
    })))
}

/// `GET /api/v1/instance/activity`: the last twelve weeks, newest first,
/// with every number a string, as Mastodon answers.
pub async fn activity(data: Data<Context>) -> Result<HttpResponse, Error> {
    let weeks = service::instance::weekly_activity(&data.db).await?;
    let out: Vec<Value> = weeks
        .iter()
        .map(|w| {
            json!({
                "week": w.week_start.and_utc().timestamp().to_string(),
                "statuses": w.statuses.to_string(),
                "logins": w.logins.to_string(),
                "registrations": w.registrations.to_string()
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn empty_list() -> HttpResponse {
    HttpResponse::Ok().json(Vec::<Value>::new())
}

/// Endpoints behind a token that return empty lists.
async fn empty_list_for_user(auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("read")?;
    Ok(HttpResponse::Ok().json(Vec::<Value>::new()))
}

/// `GET /api/v1/preferences`
pub async fn preferences(auth: Auth) -> Result<HttpResponse, Error> {
    auth.user("read:accounts")?;
    Ok(HttpResponse::Ok().json(json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": null,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false
    })))
}

#[derive(Deserialize)]
pub struct MarkerQuery {
    #[serde(default, deserialize_with = "super::params::one_or_many")]
    timeline: Vec<String>,
}

fn markers_json(markers: Vec<Marker>) -> Value {
    let map: BTreeMap<String, super::entities::Marker> = markers
        .into_iter()
        .map(|m| {
            (
                m.timeline.clone(),
                super::entities::Marker {
                    last_read_id: m.last_read_id,
                    version: m.version,
                    updated_at: convert::timestamp(m.updated_at),
                },
            )
        })
        .collect();
    json!(map)
}

const MARKER_TIMELINES: [&str; 2] = ["home", "notifications"];

/// `GET /api/v1/markers`
pub async fn get_markers(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<MarkerQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:statuses")?.id.clone();
    let timelines: Vec<String> = q
        .timeline
        .into_iter()
        .filter(|t| MARKER_TIMELINES.contains(&t.as_str()))
        .collect();
    let markers = data
        .db
        .run(move |conn| Ok(Marker::get(conn, &me, &timelines)?))
        .await?;
    Ok(HttpResponse::Ok().json(markers_json(markers)))
}

#[derive(Deserialize)]
pub struct MarkerUpdate {
    last_read_id: Option<String>,
}

/// `POST /api/v1/markers`: `home[last_read_id]=…` and/or
/// `notifications[last_read_id]=…`.
pub async fn save_markers(
    data: Data<Context>,
    auth: Auth,
    Form(body): Form<BTreeMap<String, MarkerUpdate>>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?.id.clone();
    let updates: Vec<(String, String)> = body
        .into_iter()
        .filter(|(t, _)| MARKER_TIMELINES.contains(&t.as_str()))
        .filter_map(|(t, u)| u.last_read_id.filter(|id| !id.is_empty()).map(|id| (t, id)))
        .collect();
    if updates.is_empty() {
        return Err(Error::unprocessable(
            "give home[last_read_id] or notifications[last_read_id]",
        ));
    }
    let markers = data
        .db
        .transaction(move |conn| {
            let mut saved = Vec::new();
            for (timeline, id) in &updates {
                saved.push(Marker::save(conn, &me, timeline, id)?);
            }
            Ok(saved)
        })
        .await?;
    Ok(HttpResponse::Ok().json(markers_json(markers)))
}

/// A neutral avatar for accounts without one.
async fn avatar() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#8a94a6"/><circle cx="32" cy="25" r="12" fill="#e8ebf0"/><path d="M12 58c2-12 11-18 20-18s18 6 20 18z" fill="#e8ebf0"/></svg>"##)
}

/// A plain header image for accounts and the instance.
async fn header() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1500 500"><rect width="1500" height="500" fill="#d9dee7"/></svg>"##)
}

/// `GET /api/v1/directory`: discoverable people and communities, newest
/// first (`local` for this instance's only).
pub async fn directory(
    data: Data<Context>,
    // Public; a token, if one is sent, must still be valid.
    _auth: MaybeAuth,
    Query(q): Query<DirectoryQuery>,
) -> Result<HttpResponse, Error> {
    let local = q.local.unwrap_or(false);
    let limit = q.limit.unwrap_or(40).clamp(1, 80);
    let offset = q.offset.unwrap_or(0).max(0);
    let actors: Vec<Actor> = data
        .db
        .run(move |conn| {
            let mut query = actors::table
                .filter(actors::discoverable.eq(true))
                .filter(actors::kind.eq_any(["Person", "Group"]))
                .into_boxed();
            if local {
                query = query.filter(actors::local.eq(true));
            }
            Ok(query
                .order(actors::id.desc())
                .limit(limit)
                .offset(offset)
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &actors).await?))
}

#[derive(Deserialize)]
pub struct DirectoryQuery {
    #[serde(default, deserialize_with = "super::params::flexible_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "super::params::flexible_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "super::params::flexible_i64")]
    offset: Option<i64>,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/instance", web::get().to(instance_v1))
        .route("/api/v2/instance", web::get().to(instance_v2))
        .route("/api/v1/instance/peers", web::get().to(peers))
        .route("/api/v1/instance/rules", web::get().to(empty_list))
        .route("/api/v1/instance/domain_blocks", web::get().to(empty_list))
        .route(
            "/api/v1/instance/extended_description",
            web::get().to(extended_description),
        )
        .route("/api/v1/instance/activity", web::get().to(activity))
        .route("/api/v1/directory", web::get().to(directory))
        .route("/api/v1/custom_emojis", web::get().to(empty_list))
        .route("/api/v1/announcements", web::get().to(empty_list_for_user))
        .route("/api/v1/preferences", web::get().to(preferences))
        .route("/api/v1/markers", web::get().to(get_markers))
        .route("/api/v1/markers", web::post().to(save_markers))
        // Featured tags are not kept yet: apps read an empty list
        // (docs/api.md). Filters are in `api::filters`, lists in
        // `api::lists`, followed tags in `api::tags`.
        .route("/api/v1/featured_tags", web::get().to(empty_list_for_user))
        .route(
            "/api/v1/scheduled_statuses",
            web::get().to(empty_list_for_user),
        )
        .route("/api/v1/trends", web::get().to(empty_list))
        .route("/api/v1/trends/tags", web::get().to(empty_list))
        .route("/api/v1/trends/statuses", web::get().to(empty_list))
        .route("/api/v1/trends/links", web::get().to(empty_list))
        .route("/static/avatar.svg", web::get().to(avatar))
        .route("/static/header.svg", web::get().to(header));
}

/// `urls.streaming`: `[streaming] url` when set (an `http(s)` one told as
/// `ws(s)`, as clients expect), else the instance's own origin.
fn streaming_url(data: &Context) -> String {
    let configured = data.config.streaming.url.trim_end_matches('/');
    if configured.is_empty() {
        return data.urls.streaming();
    }
    match configured.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some(("http", rest)) => format!("ws://{rest}"),
        _ => configured.to_string(),
    }
}
