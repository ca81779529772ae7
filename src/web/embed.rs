//! `GET /@{name}/{id}/embed`: a local public or unlisted narration as a
//! bare card for other sites' iframes (the `html` of `/api/oembed`). No
//! session, no forms, no script; links open in a new tab. Anything else
//! is 404 (`service::embeds`).

use super::{
    cards::{cards, Card},
    layout::{display_name, render_embeddable, WebError},
};
use crate::{apub::Data, context::Context, service, service::timelines::Item};
use actix_web::{web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "embed.html", config = "src/web/askama.toml")]
struct EmbedPage {
    card: Card,
    /// Absolute links: the page is shown inside other sites.
    page_url: String,
    author_url: String,
    author_name: String,
    instance: String,
}

/// `GET /@{name}/{id}/embed`
pub async fn embed(
    path: web::Path<(String, String)>,
    data: Data<Context>,
) -> Result<HttpResponse, WebError> {
    let (name, id) = path.into_inner();
    let (post, author) = service::embeds::embeddable(&data, &name, &id).await?;
    let page_url = data.urls.post_page(&author.username, &post.id).to_string();
    let author_url = data.urls.profile_page(&author.username).to_string();
    // Cards as an anonymous visitor sees them: nothing of the viewer's.
    let card = cards(&data, None, vec![Item::Post(post)])
        .await?
        .pop()
        .ok_or_else(WebError::not_found)?;
    let page = EmbedPage {
        card,
        page_url,
        author_url,
        author_name: display_name(&author).to_string(),
        instance: data.urls.domain().to_string(),
    };
    Ok(render_embeddable(&page))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/@{name}/{id}/embed", web::get().to(embed));
}
