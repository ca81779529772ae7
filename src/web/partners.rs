//! `GET /partners`: the Partners timeline (issue 13 §5), public narrations
//! of people and communities on the instance's partner organisations,
//! newest first, with kind filter links (`service::partners::timeline`, as
//! the client API's `/api/v1/outloud/timelines/partners`).

use super::{
    cards::{cards, Card},
    kinds::{keep_kind, KindNav},
    layout::{render, sign_in_first, Layout, WebError},
    session::Viewer,
    timelines::{pager, PageQuery},
};
use crate::{apub::Data, context::Context, service};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "partners.html", config = "src/web/askama.toml")]
struct PartnersPage {
    layout: Layout,
    hosts: Vec<String>,
    cards: Vec<Card>,
    newer: Option<String>,
    older: Option<String>,
    kinds: KindNav,
}

/// `GET /partners` (signed in).
async fn partners(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/partners");
    };
    let page = query.page();
    let hosts = service::partners::list(&data.db)
        .await?
        .into_iter()
        .map(|p| p.host)
        .collect();
    let items = service::partners::timeline(&data, &me.actor, page.clone()).await?;
    let bounds = match (items.first(), items.last()) {
        (Some(first), Some(last)) => Some((first.key().to_string(), last.key().to_string())),
        _ => None,
    };
    let count = items.len();
    let cards = cards(&data, Some(&me.actor), items).await?;
    let (newer, older) = pager(
        "/partners",
        &page,
        bounds.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        count,
    );
    let layout = Layout::new(&data, &viewer, "Partners")
        .await?
        .nav("partners");
    let page = PartnersPage {
        layout,
        hosts,
        cards,
        newer: keep_kind(newer, page.narration_kind),
        older: keep_kind(older, page.narration_kind),
        kinds: KindNav::new("/partners", page.narration_kind),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/partners", web::get().to(partners));
}
