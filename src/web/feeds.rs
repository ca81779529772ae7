//! Atom 1.0 feeds (RFC 4287) of a local person (`/@{name}.atom`), a local
//! community (`/c/{name}.atom`) and a hashtag (`/tags/{tag}.atom`): the
//! newest public narrations, as `service::feeds` picks them. Rendered with
//! the askama template `feed.xml`, whose values are escaped for XML.
//!
//! These routes are mounted before the profile and community pages:
//! `/@{name}` alone would match `/@alice.atom` too.

use super::{
    cards::post_path,
    layout::{display_name, handle, WebError},
};
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, post::Post},
    error::Error,
    service::{self, feeds::Entries},
};
use actix_web::{http::header, web, HttpResponse};
use askama::Template;

/// A person named in a feed or an entry.
pub(super) struct Person {
    pub(super) name: String,
    pub(super) uri: Option<String>,
}

pub(super) struct Entry {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) published: String,
    pub(super) updated: String,
    pub(super) author: Person,
    pub(super) link: String,
    /// The content warning, if any.
    pub(super) summary: Option<String>,
    pub(super) content_html: String,
}

pub(super) struct Feed {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) subtitle: Option<String>,
    pub(super) updated: String,
    pub(super) author: Person,
    pub(super) self_href: String,
    pub(super) alternate_href: String,
    /// The instance's icon.
    pub(super) icon: String,
    pub(super) entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "feed.xml", config = "src/web/askama.toml")]
struct FeedDocument {
    feed: Feed,
}

/// Drops the characters XML 1.0 does not allow (most control characters
/// and the non-characters U+FFFE, U+FFFF); escaping is the template's.
pub(super) fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

pub(super) fn timestamp(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An entry's title: the Article's, else the start of the text.
fn entry_title(post: &Post, author: &Actor) -> String {
    if let Some(title) = post.title.as_deref().filter(|t| !t.trim().is_empty()) {
        return title.to_string();
    }
    let text = crate::text::strip_html(&post.content);
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.is_empty() {
        return format!("Narration by {}", display_name(author));
    }
    const MAX: usize = 80;
    if line.chars().count() <= MAX {
        line
    } else {
        let cut: String = line.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

fn person_of(actor: &Actor) -> Person {
    Person {
        name: xml_text(&format!("{} ({})", display_name(actor), handle(actor))),
        uri: Some(actor.url.clone().unwrap_or_else(|| actor.ap_id.to_string())),
    }
}

fn entries(data: &Data<Context>, found: Entries) -> Vec<Entry> {
    let base = data.urls.base();
    found
        .posts
        .into_iter()
        .map(|(post, author)| {
            let link = if post.local {
                base.join(&post_path(&post, &author))
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| post.ap_id.to_string())
            } else {
                post.url.clone().unwrap_or_else(|| post.ap_id.to_string())
            };
            Entry {
                id: post.ap_id.to_string(),
                title: xml_text(&entry_title(&post, &author)),
                published: timestamp(post.published),
                updated: timestamp(post.updated.unwrap_or(post.published)),
                author: person_of(&author),
                link,
                summary: post
                    .summary
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(xml_text),
                content_html: xml_text(&post.content),
            }
        })
        .collect()
}

/// The newest entry's time, or `fallback` for an empty feed.
fn updated(entries: &[Entry], fallback: chrono::NaiveDateTime) -> String {
    entries
        .iter()
        .map(|e| e.updated.clone())
        .max()
        .unwrap_or_else(|| timestamp(fallback))
}

pub(super) fn icon(data: &Data<Context>) -> String {
    data.urls
        .base()
        .join("/static/icon.svg")
        .map(|u| u.to_string())
        .unwrap_or_default()
}

pub(super) fn respond(feed: Feed) -> Result<HttpResponse, WebError> {
    let body = FeedDocument { feed }
        .render()
        .map_err(|e| WebError(Error::internal(anyhow::anyhow!("feed template: {e}"))))?;
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body))
}

/// The feed of an actor (a person or a community).
fn actor_feed(
    data: &Data<Context>,
    actor: &Actor,
    found: Entries,
    self_href: String,
    alternate_href: String,
) -> Result<HttpResponse, WebError> {
    let entries = entries(data, found);
    respond(Feed {
        id: actor.ap_id.to_string(),
        title: xml_text(&format!("{} ({})", display_name(actor), handle(actor))),
        subtitle: actor
            .summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(xml_text),
        updated: updated(&entries, actor.updated.unwrap_or(actor.published)),
        author: person_of(actor),
        self_href,
        alternate_href,
        icon: icon(data),
        entries,
    })
}

/// `GET /@{name}.atom`
pub async fn person(
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse, WebError> {
    let (person, found) = service::feeds::person(&data, &name).await?;
    let (self_href, page) = (
        data.urls.person_feed(&person.username).to_string(),
        data.urls.profile_page(&person.username).to_string(),
    );
    actor_feed(&data, &person, found, self_href, page)
}

/// `GET /c/{name}.atom`
pub async fn community(
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse, WebError> {
    let (group, found) = service::feeds::community(&data, &name).await?;
    let (self_href, page) = (
        data.urls.community_feed(&group.username).to_string(),
        data.urls.community_page(&group.username).to_string(),
    );
    actor_feed(&data, &group, found, self_href, page)
}

/// `GET /tags/{tag}.atom`
pub async fn tag(tag: web::Path<String>, data: Data<Context>) -> Result<HttpResponse, WebError> {
    let (tag, found) = service::feeds::tag(&data, &tag).await?;
    let entries = entries(&data, found);
    let instance = if data.config.instance.name.is_empty() {
        data.urls.domain().to_string()
    } else {
        data.config.instance.name.clone()
    };
    let page = data.urls.tag(&tag).to_string();
    respond(Feed {
        id: page.clone(),
        title: xml_text(&format!("#{tag} on {instance}")),
        subtitle: None,
        updated: updated(&entries, crate::db::now()),
        author: Person {
            name: xml_text(&instance),
            uri: Some(data.urls.base().to_string()),
        },
        self_href: data.urls.tag_feed(&tag).to_string(),
        alternate_href: page,
        icon: icon(&data),
        entries,
    })
}

/// Mounts the feeds; call before the routes of `/@{name}` and `/c/{name}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/@{name:[^/@]+}.atom", web::get().to(person))
        .route("/c/{name:[^/@]+}.atom", web::get().to(community))
        .route("/tags/{tag:[^/]+}.atom", web::get().to(tag));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_forbids() {
        assert_eq!(xml_text("a\u{0}b\u{1b}c\td\ne\u{FFFF}"), "abc\td\ne");
        assert_eq!(xml_text("<b>ä</b>"), "<b>ä</b>");
    }
}
