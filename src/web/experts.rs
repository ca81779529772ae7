//! "People who know" (`/experts?tag=NAME` or `?community=ID`, issue 13
//! §3): the people whose public `learned` narrations and accepted answers
//! are about a hashtag or a community, with links to that evidence. The
//! tag page and the community page link here; the rules are in
//! `service::experts`, shared with `GET /api/v1/outloud/experts`.

use super::{
    cards::ActorCard,
    layout::{community_path, display_name, render, Layout, WebError},
    session::Viewer,
    tags::query,
};
use crate::{apub::Data, context::Context, db::experts::Topic, service::experts};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
struct ExpertsQuery {
    tag: Option<String>,
    community: Option<String>,
}

/// One link to a post that shows the person knows.
struct EvidenceLink {
    url: String,
    /// "Accepted answer" or "Learned".
    label: &'static str,
}

/// One person on the page.
struct Row {
    actor: ActorCard,
    accepted_answers: i64,
    learned: i64,
    evidence: Vec<EvidenceLink>,
}

#[derive(Template)]
#[template(path = "experts.html", config = "src/web/askama.toml")]
struct ExpertsPage {
    layout: Layout,
    /// "#rust" or the community's name, for the heading.
    about: String,
    /// Where the topic itself is: the tag page or the community page.
    back: String,
    rows: Vec<Row>,
    window_days: i64,
}

/// `GET /experts?tag=NAME` or `/experts?community=ID`
pub async fn show(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let q = query::<ExpertsQuery>(&req)?;
    let asked = experts::asked(q.tag.as_deref(), q.community.as_deref())?;
    let (topic, group) = experts::topic(&data.db, asked).await?;
    let (about, back) = match (&topic, &group) {
        (Topic::Tag(name), _) => (format!("#{name}"), format!("/tags/{name}")),
        (Topic::Community(_), Some(group)) => {
            (display_name(group).to_string(), community_path(group))
        }
        // `experts::topic` always returns a community's group; stay safe.
        (Topic::Community(id), None) => (id.clone(), "/communities".to_string()),
    };
    let found =
        experts::who_knows(&data.db, &topic, viewer.actor(), experts::DEFAULT_LIMIT).await?;
    let rows = found
        .iter()
        .map(|e| Row {
            actor: ActorCard::of(&e.actor),
            accepted_answers: e.accepted_answers,
            learned: e.learned,
            evidence: e
                .evidence
                .iter()
                .map(|ev| EvidenceLink {
                    url: ev.url.clone(),
                    label: match ev.kind {
                        crate::db::experts::EvidenceKind::AcceptedAnswer => "Accepted answer",
                        crate::db::experts::EvidenceKind::Learned => "Learned",
                    },
                })
                .collect(),
        })
        .collect();
    let page = ExpertsPage {
        layout: Layout::new(&data, &viewer, "People who know").await?,
        about,
        back,
        rows,
        window_days: experts::WINDOW_DAYS,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/experts", web::get().to(show));
}
