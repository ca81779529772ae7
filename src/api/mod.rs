//! The Mastodon client REST API and OAuth 2 (DESIGN §5; `docs/api.md`
//! lists every endpoint with its scope). Handlers are thin: parse
//! parameters, check the token's scope, call `service`, convert with
//! `convert`.

pub mod accounts;
pub mod admin;
pub mod answers;
pub mod auth;
pub mod community_stats;
pub mod convert;
pub mod digests;
pub mod domain_blocks;
pub mod entities;
pub mod experts;
pub mod filters;
pub mod instance;
pub mod lists;
pub mod media;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod oembed;
pub mod params;
pub mod partners;
pub mod portability;
pub mod push;
pub mod reports;
pub mod search;
pub mod statuses;
pub mod streaming;
pub mod suggestions;
pub mod tags;
pub mod timelines;

use crate::{apub::Data, context::Context, db::Page, ratelimit::Verdict};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderMap, HeaderName, HeaderValue},
    middleware::{from_fn, Next},
    web, HttpRequest, HttpResponse,
};
use serde::Deserialize;

/// All client-API and OAuth routes, with CORS (browser clients such as
/// Elk and Phanpy call from other origins) and the per-token rate limit.
///
/// The scope has an empty prefix, so it matches every path: it must be
/// registered after every other service, or it would answer 404 for them.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(from_fn(rate_limit))
            // Some clients (Mastodon.py among them) add a trailing slash to
            // paths such as `/api/v1/instance/`; Mastodon accepts both.
            .wrap(actix_web::middleware::NormalizePath::trim())
            .wrap(
                actix_cors::Cors::default()
                    .allow_any_origin()
                    .allow_any_method()
                    .allow_any_header()
                    .expose_headers([
                        "Link",
                        "X-RateLimit-Limit",
                        "X-RateLimit-Remaining",
                        "X-RateLimit-Reset",
                    ])
                    .max_age(86_400),
            )
            .configure(oauth::configure)
            .configure(instance::configure)
            .configure(lists::configure)
            .configure(tags::configure)
            .configure(accounts::configure)
            .configure(statuses::configure)
            .configure(media::configure)
            .configure(timelines::configure)
            // Before `notifications`: its `{id}` routes would take
            // `policy` and `requests`.
            .configure(notification_requests::configure)
            .configure(notifications::configure)
            .configure(search::configure)
            .configure(reports::configure)
            .configure(admin::configure)
            .configure(domain_blocks::configure)
            .configure(streaming::configure)
            .configure(filters::configure)
            .configure(push::configure)
            .configure(suggestions::configure)
            .configure(oembed::configure)
            .configure(experts::configure)
            .configure(answers::configure)
            .configure(partners::configure)
            .configure(community_stats::configure)
            .configure(digests::configure)
            .configure(portability::configure)
            .default_service(web::to(not_found)),
    );
}

/// Unknown paths: a JSON error under `/api/` and `/oauth/`, as Mastodon
/// answers; an empty 404 elsewhere, as before this scope existed.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if path.starts_with("/api/") || path.starts_with("/oauth/") {
        HttpResponse::NotFound().json(serde_json::json!({ "error": "Record not found" }))
    } else {
        // Everything else is the web app's: a person's browser gets the
        // error page.
        actix_web::ResponseError::error_response(&crate::web::WebError::not_found())
    }
}

pub fn rate_limit_headers(headers: &mut HeaderMap, verdict: Verdict) {
    let pairs = [
        ("x-ratelimit-limit", verdict.limit.to_string()),
        ("x-ratelimit-remaining", verdict.remaining.to_string()),
        ("x-ratelimit-reset", verdict.reset_iso()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Counts API requests per token (or per IP without one) and answers 429
/// over `api.rate_limit`, with Mastodon's `X-RateLimit-*` headers.
async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let data = Data::<Context>::extract(req.request()).await.ok();
    let verdict = match data.filter(|d| d.limits.api.limit > 0) {
        Some(data) if req.path().starts_with("/api/") => {
            let key = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| format!("token:{}", crate::service::oauth::hash_secret(v)))
                .unwrap_or_else(|| {
                    format!(
                        "ip:{}",
                        crate::client_ip::of(req.request(), &data.config.http)
                    )
                });
            Some(data.limits.api.hit(&key))
        }
        _ => None,
    };
    if let Some(v) = verdict.filter(|v| !v.allowed) {
        let mut response = HttpResponse::TooManyRequests()
            .json(serde_json::json!({ "error": "Too many requests" }));
        rate_limit_headers(response.headers_mut(), v);
        return Ok(req.into_response(response));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(v) = verdict {
        rate_limit_headers(res.headers_mut(), v);
    }
    Ok(res)
}

use actix_web::FromRequest;

/// Mastodon's paging parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    #[serde(default, deserialize_with = "params::flexible_i64")]
    pub limit: Option<i64>,
    /// Outloud: `?kind=doing|learned|stuck|ask` on the timelines (read by
    /// [`PageParams::timeline_page`] only; other lists ignore it).
    pub kind: Option<String>,
}

impl PageParams {
    /// [`PageParams::page`] of a timeline: with the narration kind asked
    /// for, if any.
    ///
    /// Errors: `Unprocessable` for an unknown kind.
    pub fn timeline_page(&self, default: i64, max: i64) -> Result<Page, crate::error::Error> {
        let kind = crate::service::narrations::parse_filter(self.kind.as_deref())
            .map_err(crate::error::Error::unprocessable)?;
        Ok(Page {
            narration_kind: kind,
            ..self.page(default, max)
        })
    }

    /// The page asked for: `limit` defaults to `default` and is capped at
    /// `max`, as Mastodon does.
    pub fn page(&self, default: i64, max: i64) -> Page {
        let clean = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Page {
            max_id: clean(&self.max_id),
            since_id: clean(&self.since_id),
            min_id: clean(&self.min_id),
            limit: self.limit.unwrap_or(default).clamp(1, max),
            narration_kind: None,
        }
    }
}

/// The `Link` header of a page whose entries run from `newest` to
/// `oldest` id: `next` pages back in time, `prev` forward.
pub fn link_header(
    req: &HttpRequest,
    data: &Data<Context>,
    bounds: Option<(&str, &str)>,
) -> Option<String> {
    let (newest, oldest) = bounds?;
    let base = data.urls.base().join(req.path()).ok()?;
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| !matches!(k.as_ref(), "max_id" | "min_id" | "since_id"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let with = |key: &str, value: &str| {
        let mut url = base.clone();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &kept {
                q.append_pair(k, v);
            }
            q.append_pair(key, value);
        }
        url.to_string()
    };
    Some(format!(
        "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
        with("max_id", oldest),
        with("min_id", newest)
    ))
}

/// A JSON list with its `Link` header.
/// The ids of the first and last of a page's rows, for [`paged`]'s `Link`
/// header; `None` for an empty page.
pub fn bounds_of<R>(rows: &[R], id: impl Fn(&R) -> &str) -> Option<(String, String)> {
    Some((id(rows.first()?).to_string(), id(rows.last()?).to_string()))
}

pub fn paged<T: serde::Serialize>(
    req: &HttpRequest,
    data: &Data<Context>,
    items: &[T],
    bounds: Option<(String, String)>,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = link_header(
        req,
        data,
        bounds.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    ) {
        response.insert_header(("Link", link));
    }
    response.json(items)
}
