//! Outloud's extension for questions with accepted answers (issue 13 §2,
//! docs/api.md "Accepted answers"): accepting a reply as an ask's answer,
//! re-opening the ask, and the Questions view of a community or hashtag.

use super::{
    auth::{Auth, MaybeAuth},
    convert,
    params::{Form, Query},
};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::{
        answers::{self, Scope},
        relations,
        timelines::Item,
    },
};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct AcceptParams {
    answer_id: Option<String>,
}

/// `POST /api/v1/outloud/statuses/:id/accept` with `answer_id`: the ask's
/// status, now with `outloud.accepted_answer_id`.
async fn accept(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    Form(p): Form<AcceptParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?;
    let answer_id = p
        .answer_id
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| Error::unprocessable("Validation failed: answer_id is missing"))?;
    let ask = answers::accept(&data, me, &id, answer_id.trim()).await?;
    Ok(HttpResponse::Ok().json(convert::status(&data, Some(me), Item::Post(ask)).await?))
}

/// `POST /api/v1/outloud/statuses/:id/reopen`: the ask's status, open.
async fn reopen(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?;
    let ask = answers::reopen(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(convert::status(&data, Some(me), Item::Post(ask)).await?))
}

#[derive(Deserialize)]
struct QuestionsQuery {
    community: Option<String>,
    tag: Option<String>,
}

#[derive(Serialize)]
struct AnsweredEntry {
    question: crate::api::entities::Status,
    answer: Option<crate::api::entities::Status>,
}

#[derive(Serialize)]
struct QuestionsView {
    open: Vec<crate::api::entities::Status>,
    answered: Vec<AnsweredEntry>,
    stuck: Vec<crate::api::entities::Status>,
}

/// `GET /api/v1/outloud/questions?community=ID` or `?tag=NAME`.
async fn questions(
    data: Data<Context>,
    auth: MaybeAuth,
    Query(q): Query<QuestionsQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    let scope = match (q.community.filter(|c| !c.is_empty()), q.tag) {
        (Some(id), None) => Scope::Community(Box::new(relations::actor_by_id(&data, &id).await?)),
        (None, Some(tag)) if !tag.trim().is_empty() => {
            Scope::Tag(tag.trim().trim_start_matches('#').to_lowercase())
        }
        _ => {
            return Err(Error::unprocessable(
                "Validation failed: give either community (an account id) or tag",
            ))
        }
    };
    let view = answers::questions(&data, viewer, &scope).await?;
    let open = convert::posts(&data, viewer, view.open).await?;
    let stuck = convert::posts(&data, viewer, view.stuck).await?;
    let mut answered = Vec::new();
    for (question, answer) in view.answered {
        let question = convert::status(&data, viewer, Item::Post(question)).await?;
        let answer = match answer {
            Some(a) => Some(convert::status(&data, viewer, Item::Post(a)).await?),
            None => None,
        };
        answered.push(AnsweredEntry { question, answer });
    }
    Ok(HttpResponse::Ok().json(QuestionsView {
        open,
        answered,
        stuck,
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/outloud/statuses/{id}/accept",
        web::post().to(accept),
    )
    .route(
        "/api/v1/outloud/statuses/{id}/reopen",
        web::post().to(reopen),
    )
    .route("/api/v1/outloud/questions", web::get().to(questions));
}
