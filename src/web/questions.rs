//! The Questions pages (issue 13 §2): a community's (`/c/{name}/questions`)
//! and a hashtag's across every community known here
//! (`/tags/{tag}/questions`). Open asks, the longest waiting first;
//! answered ones with their answers; `stuck` narrations needing help. The
//! view itself is `service::answers::questions`, which the client API
//! shares.

use super::{
    cards::{cards, Card},
    layout::{community_path, display_name, render, Layout, WebError},
    session::Viewer,
};
use crate::{
    apub::Data,
    context::Context,
    service::{
        self,
        answers::{Questions, Scope},
        timelines::Item,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// An answered ask and its answer, as cards (lists of at most one, so the
/// card partial can be included for each).
struct AnsweredCards {
    question: Vec<Card>,
    answer: Vec<Card>,
}

#[derive(Template)]
#[template(path = "questions.html", config = "src/web/askama.toml")]
struct QuestionsPage {
    layout: Layout,
    /// "in Rust practitioners", "tagged #async".
    scope: String,
    /// Where the scope's own page is.
    back: String,
    open: Vec<Card>,
    answered: Vec<AnsweredCards>,
    stuck: Vec<Card>,
}

async fn page(
    req: &HttpRequest,
    data: &Data<Context>,
    viewer: &Viewer,
    scope: Scope,
    label: String,
    back: String,
) -> Result<HttpResponse, WebError> {
    let me = viewer.actor();
    let Questions {
        open,
        answered,
        stuck,
    } = service::answers::questions(data, me, &scope).await?;
    let as_items = |posts: Vec<crate::db::post::Post>| -> Vec<Item> {
        posts.into_iter().map(Item::Post).collect()
    };
    let open = cards(data, me, as_items(open)).await?;
    let stuck = cards(data, me, as_items(stuck)).await?;
    let mut answered_cards = Vec::new();
    for (question, answer) in answered {
        answered_cards.push(AnsweredCards {
            question: cards(data, me, vec![Item::Post(question)]).await?,
            answer: cards(data, me, answer.into_iter().map(Item::Post).collect()).await?,
        });
    }
    let layout = Layout::new(data, viewer, format!("Questions {label}"))
        .await?
        .here(req.uri().path().to_string());
    let page = QuestionsPage {
        layout,
        scope: label,
        back,
        open,
        answered: answered_cards,
        stuck,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// `GET /c/{name}/questions`
async fn community(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let group = super::communities::group_of(&data, &name).await?;
    let label = format!("in {}", display_name(&group));
    let back = community_path(&group);
    page(
        &req,
        &data,
        &viewer,
        Scope::Community(Box::new(group)),
        label,
        back,
    )
    .await
}

/// `GET /tags/{tag}/questions`
async fn tag(
    req: HttpRequest,
    tag: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let tag = service::feeds::hashtag(&tag)?;
    let (label, back) = (format!("tagged #{tag}"), format!("/tags/{tag}"));
    page(&req, &data, &viewer, Scope::Tag(tag), label, back).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{name}/questions", web::get().to(community))
        .route("/tags/{tag}/questions", web::get().to(tag));
}
