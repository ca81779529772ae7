//! `GET /api/oembed`: Mastodon's oEmbed answer for a local public or
//! unlisted narration (`service::embeds`), whose `html` frames its embed
//! page. Public: no token needed.

use super::params::Query;
use crate::{apub::Data, context::Context, error::Error, service::embeds};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct OEmbedQuery {
    url: Option<String>,
    #[serde(default, deserialize_with = "super::params::flexible_i64")]
    maxwidth: Option<i64>,
    #[serde(default, deserialize_with = "super::params::flexible_i64")]
    maxheight: Option<i64>,
}

/// `GET /api/oembed?url=…&maxwidth=…&maxheight=…`
async fn oembed(data: Data<Context>, Query(q): Query<OEmbedQuery>) -> Result<HttpResponse, Error> {
    let (post, author) = embeds::by_url(&data, q.url.as_deref()).await?;
    let width = q
        .maxwidth
        .filter(|w| *w > 0)
        .unwrap_or(embeds::DEFAULT_WIDTH);
    let height = q.maxheight.filter(|h| *h > 0);
    let src = data.urls.post_embed(&author.username, &post.id);
    let attr = crate::text::html_escape;
    let html = format!(
        "<iframe src=\"{}\" class=\"mastodon-embed\" style=\"max-width: 100%; border: 0\" width=\"{width}\"{} allowfullscreen=\"allowfullscreen\"></iframe>",
        attr(src.as_str()),
        height.map(|h| format!(" height=\"{h}\"")).unwrap_or_default()
    );
    let author_name = author
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| author.username.clone());
    let title = post
        .title
        .clone()
        .unwrap_or_else(|| format!("New status by {}", author.username));
    Ok(HttpResponse::Ok().json(json!({
        "type": "rich",
        "version": "1.0",
        "title": title,
        "author_name": author_name,
        "author_url": data.urls.profile_page(&author.username).as_str(),
        "provider_name": data.urls.domain(),
        "provider_url": data.urls.base().as_str(),
        "cache_age": embeds::CACHE_AGE,
        "html": html,
        "width": width,
        "height": height
    })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/oembed", web::get().to(oembed));
}
