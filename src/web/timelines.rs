//! Timelines: `GET /home`, the narrations of the people a person follows
//! and of the communities they joined, newest first, 20 a page, with the
//! composer on top (`service::timelines::home`, as the client API's home).

use super::{
    cards::{cards, Card},
    compose::ComposeBox,
    kinds::{keep_kind, KindNav},
    layout::{render, sign_in_first, Layout, WebError},
    session::Viewer,
};
use crate::{apub::Data, context::Context, db::Page, service};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// Narrations on a page.
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
    pub fn page(&self) -> Page {
        let keep = |id: &Option<String>| id.clone().filter(|id| !id.is_empty());
        Page {
            max_id: keep(&self.max_id),
            min_id: keep(&self.min_id),
            since_id: None,
            limit: PER_PAGE,
            narration_kind: super::kinds::asked(self.kind.as_deref()),
        }
    }
}

/// The « Newer / Older » links of a page of entries whose first and last
/// keys are `bounds`, at `base` (a path).
pub fn pager(
    base: &str,
    page: &Page,
    bounds: Option<(&str, &str)>,
    count: usize,
) -> (Option<String>, Option<String>) {
    let full = count as i64 >= page.limit;
    match bounds {
        Some((first, last)) => {
            let newer = (page.max_id.is_some() || (page.min_id.is_some() && full))
                .then(|| format!("{base}?min_id={first}"));
            let older = (full || page.min_id.is_some()).then(|| format!("{base}?max_id={last}"));
            (newer, older)
        }
        // Past either end: back to the newest.
        None if page.max_id.is_some() || page.min_id.is_some() => (Some(base.to_string()), None),
        None => (None, None),
    }
}

#[derive(Template)]
#[template(path = "home.html", config = "src/web/askama.toml")]
struct HomePage {
    layout: Layout,
    compose: ComposeBox,
    cards: Vec<Card>,
    newer: Option<String>,
    older: Option<String>,
    /// Showing the newest page (the empty state teaches only there).
    first_page: bool,
    kinds: KindNav,
}

/// `GET /home`
pub async fn home(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/home");
    };
    let page = query.page();
    let items = service::timelines::home(&data, &me.actor, page.clone()).await?;
    let bounds = match (items.first(), items.last()) {
        (Some(first), Some(last)) => Some((first.key().to_string(), last.key().to_string())),
        _ => None,
    };
    let count = items.len();
    let cards = cards(&data, Some(&me.actor), items).await?;
    let (newer, older) = pager(
        "/home",
        &page,
        bounds.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        count,
    );
    let (newer, older) = (
        keep_kind(newer, page.narration_kind),
        keep_kind(older, page.narration_kind),
    );
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/home".into());
    let layout = Layout::new(&data, &viewer, "Home")
        .await?
        .nav("home")
        .here(here);
    let page = HomePage {
        layout,
        compose: ComposeBox::new(&data, &me.actor).await?,
        cards,
        newer,
        older,
        first_page: page.max_id.is_none() && page.min_id.is_none() && page.narration_kind.is_none(),
        kinds: KindNav::new("/home", page.narration_kind),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/home", web::get().to(home));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(max: Option<&str>, min: Option<&str>) -> Page {
        Page {
            max_id: max.map(String::from),
            min_id: min.map(String::from),
            since_id: None,
            limit: 2,
            narration_kind: None,
        }
    }

    #[test]
    fn pager_links_follow_the_api_parameters() {
        // The newest page, full: only older.
        assert_eq!(
            pager("/home", &page(None, None), Some(("b", "a")), 2),
            (None, Some("/home?max_id=a".into()))
        );
        // The newest page, not full: nothing else.
        assert_eq!(
            pager("/home", &page(None, None), Some(("b", "b")), 1),
            (None, None)
        );
        // An older page: newer always, older when full.
        assert_eq!(
            pager("/home", &page(Some("c"), None), Some(("b", "a")), 2),
            (Some("/home?min_id=b".into()), Some("/home?max_id=a".into()))
        );
        // A newer page that is not full reached the top.
        assert_eq!(
            pager("/home", &page(None, Some("a")), Some(("c", "b")), 1),
            (None, Some("/home?max_id=b".into()))
        );
        // Past the end.
        assert_eq!(
            pager("/home", &page(Some("a"), None), None, 0),
            (Some("/home".into()), None)
        );
    }
}
