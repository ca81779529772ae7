//! The search page `/search?q=…`: people, communities, narrations and
//! hashtags, found by `service::search::search` exactly as
//! `/api/v2/search` finds them. A handle (`name@host`) or a URL is looked
//! up on its server when the viewer is signed in (the API's `resolve`).

use super::{
    cards::{actor_cards, cards, ActorCard, Card},
    layout::{render, Layout, WebError},
    session::Viewer,
};
use crate::{
    apub::Data,
    context::Context,
    service::{
        self,
        search::{Results, SearchQuery},
        timelines::Item,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// The longest query accepted.
const MAX_QUERY_CHARS: usize = 200;

/// Results per kind.
const PER_KIND: i64 = 20;

#[derive(Debug, Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html", config = "src/web/askama.toml")]
struct SearchPage {
    layout: Layout,
    q: String,
    /// Whether a search ran (the query was not empty).
    searched: bool,
    error: Option<&'static str>,
    people: Vec<ActorCard>,
    communities: Vec<ActorCard>,
    cards: Vec<Card>,
    hashtags: Vec<String>,
    /// The viewer may look handles up on other servers.
    resolves: bool,
}

impl SearchPage {
    fn nothing_found(&self) -> bool {
        self.searched
            && self.people.is_empty()
            && self.communities.is_empty()
            && self.cards.is_empty()
            && self.hashtags.is_empty()
    }
}

/// `GET /search`
pub async fn search(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let q = super::tags::query::<SearchParams>(&req)?
        .q
        .trim()
        .to_string();
    let title = if q.is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {}", q.chars().take(60).collect::<String>())
    };
    let layout = Layout::new(&data, &viewer, title)
        .await?
        .nav("search")
        .here(super::tags::here(&req));
    let mut page = SearchPage {
        layout,
        searched: false,
        error: None,
        people: Vec::new(),
        communities: Vec::new(),
        cards: Vec::new(),
        hashtags: Vec::new(),
        resolves: viewer.actor().is_some(),
        q,
    };
    if page.q.chars().count() > MAX_QUERY_CHARS {
        page.error = Some("That search is too long: use a few words, a #tag or a handle such as name@example.org.");
        return Ok(viewer.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
    }
    if !page.q.is_empty() {
        let results: Results = service::search::search(
            &data,
            viewer.actor(),
            SearchQuery {
                q: page.q.clone(),
                kind: None,
                resolve: viewer.actor().is_some(),
                limit: PER_KIND,
                offset: 0,
            },
        )
        .await?;
        let (groups, people): (Vec<_>, Vec<_>) = results
            .accounts
            .into_iter()
            .partition(|a| a.kind() == crate::db::actor::ActorKind::Group);
        page.searched = true;
        page.people = actor_cards(&people);
        page.communities = actor_cards(&groups);
        page.hashtags = results.hashtags;
        let items = results.statuses.into_iter().map(Item::Post).collect();
        page.cards = cards(&data, viewer.actor(), items).await?;
    }
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search));
}
