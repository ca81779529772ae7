//! The hashtag page `/tags/{tag}`: narrations with the tag, as the client
//! API's tag timeline shows them to the same viewer (public ones, and this
//! organisation's to its people), paged « Newer / Older ».

use super::{
    cards::{cards, Card},
    layout::{render, Layout, WebError},
    session::Viewer,
};
use crate::{apub::Data, context::Context, db::timeline::Origin, db::Page, service};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// How many entries a page of a list shows.
pub const PER_PAGE: i64 = 20;

/// `?max_id=` (older than) or `?min_id=` (newer than), as in the API.
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub max_id: Option<String>,
    pub min_id: Option<String>,
    /// `?kind=`: narrations of one kind only (see `web::kinds`).
    pub kind: Option<String>,
}

impl PageQuery {
    /// The page to ask a `service::` list for.
    pub fn page(&self) -> Page {
        let id = |v: &Option<String>| v.clone().filter(|v| !v.is_empty() && v.len() <= 64);
        Page {
            max_id: id(&self.max_id),
            since_id: None,
            min_id: id(&self.min_id),
            limit: PER_PAGE,
            narration_kind: super::kinds::asked(self.kind.as_deref()),
        }
    }
}

/// The « Newer / Older » links of a page whose entries run from `first`
/// (newest) to `last` (oldest) and that held `count` entries; `base` is the
/// page's path with its query so far (ending in `?` or `&`).
pub fn pager(
    base: &str,
    asked: &Page,
    bounds: Option<(&str, &str)>,
    count: usize,
) -> (Option<String>, Option<String>) {
    let Some((first, last)) = bounds else {
        // An empty page past either end: offer the way back.
        return match (&asked.max_id, &asked.min_id) {
            (Some(max), None) => (Some(format!("{base}min_id={}", enc(max))), None),
            (None, Some(min)) => (None, Some(format!("{base}max_id={}", enc(min)))),
            _ => (None, None),
        };
    };
    let full = count as i64 >= asked.limit;
    let newer = (asked.max_id.is_some() || (asked.min_id.is_some() && full))
        .then(|| format!("{base}min_id={}", enc(first)));
    let older = (full || asked.min_id.is_some()).then(|| format!("{base}max_id={}", enc(last)));
    (newer, older)
}

/// The request's query string as `T`; one that does not fit is the 400
/// page (not actix's plain-text answer).
pub fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> Result<T, WebError> {
    serde_urlencoded::from_str(req.query_string()).map_err(|_| {
        WebError(crate::error::Error::bad_request(
            "The address has parameters this page does not understand. Check the link and try again.",
        ))
    })
}

/// The request's path and query: where the cards' actions come back to.
pub fn here(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.path().to_string())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "tag.html", config = "src/web/askama.toml")]
struct TagPage {
    layout: Layout,
    tag: String,
    cards: Vec<Card>,
    newer: Option<String>,
    older: Option<String>,
    kinds: super::kinds::KindNav,
}

/// `GET /tags/{tag}`
pub async fn show(
    req: HttpRequest,
    tag: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let tag = service::feeds::hashtag(&tag)?;
    let page = query::<PageQuery>(&req)?.page();
    let items =
        service::timelines::tag(&data, viewer.actor(), &tag, Origin::All, page.clone()).await?;
    let bounds = match (items.first(), items.last()) {
        (Some(a), Some(b)) => Some((a.key().to_string(), b.key().to_string())),
        _ => None,
    };
    let base = format!("/tags/{tag}?");
    let (newer, older) = pager(
        &base,
        &page,
        bounds.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        items.len(),
    );
    let (newer, older) = (
        super::kinds::keep_kind(newer, page.narration_kind),
        super::kinds::keep_kind(older, page.narration_kind),
    );
    let kinds = super::kinds::KindNav::new(&format!("/tags/{tag}"), page.narration_kind);
    let cards = cards(&data, viewer.actor(), items).await?;
    let layout = Layout::new(&data, &viewer, format!("#{tag}"))
        .await?
        .feed(format!("/tags/{tag}.atom"))
        .here(here(&req));
    let page = TagPage {
        layout,
        tag,
        cards,
        newer,
        older,
        kinds,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// Mounts the tag page (its feed is in `feeds`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tags/{tag}", web::get().to(show));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(max: Option<&str>, min: Option<&str>) -> Page {
        Page {
            max_id: max.map(String::from),
            min_id: min.map(String::from),
            ..PageQuery::default().page()
        }
    }

    #[test]
    fn the_first_full_page_links_only_older() {
        let (newer, older) = pager("/t?", &asked(None, None), Some(("9", "1")), 20);
        assert_eq!(newer, None);
        assert_eq!(older.as_deref(), Some("/t?max_id=1"));
    }

    #[test]
    fn a_short_first_page_links_nowhere() {
        assert_eq!(
            pager("/t?", &asked(None, None), Some(("9", "1")), 3),
            (None, None)
        );
    }

    #[test]
    fn an_older_page_links_back_and_on() {
        let (newer, older) = pager("/t?", &asked(Some("10"), None), Some(("9", "1")), 20);
        assert_eq!(newer.as_deref(), Some("/t?min_id=9"));
        assert_eq!(older.as_deref(), Some("/t?max_id=1"));
        let (newer, older) = pager("/t?", &asked(Some("10"), None), Some(("9", "1")), 2);
        assert_eq!(newer.as_deref(), Some("/t?min_id=9"));
        assert_eq!(older, None);
    }

    #[test]
    fn empty_pages_lead_back() {
        assert_eq!(
            pager("/t?", &asked(Some("5"), None), None, 0).0.as_deref(),
            Some("/t?min_id=5")
        );
        assert_eq!(
            pager("/t?", &asked(None, Some("5")), None, 0).1.as_deref(),
            Some("/t?max_id=5")
        );
    }
}
