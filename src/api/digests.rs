//! Weekly digests in the client API (an Outloud extension, docs/api.md
//! "Digests"): the same digests the web page, the Atom feeds and the
//! e-mail show (`service::digests`), as JSON an app can render.
//!
//! - `GET /api/v1/outloud/digest[?week=YYYY-Www]`: the signed-in person's;
//! - `GET /api/v1/outloud/communities/:id/digest[?week=…]`: a local
//!   community's, public like its web page.

use super::{
    auth::{Auth, MaybeAuth},
    convert, entities,
    params::Query,
};
use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::Error,
    service::digests::{self, Digest},
};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct WeekQuery {
    week: Option<String>,
}

/// Someone who joined a community that week.
#[derive(Serialize)]
struct NewMember {
    account: entities::Account,
    community: entities::Account,
}

/// A digest: its week (`2026-W48`, `[start, end)` in UTC) and its parts,
/// each newest first, as statuses the reader may see.
#[derive(Serialize)]
struct DigestEntity {
    week: String,
    start: String,
    end: String,
    learned: Vec<entities::Status>,
    /// Asks whose answer was accepted that week (each Status carries
    /// `outloud.accepted_answer_id`).
    answered: Vec<entities::Status>,
    open: Vec<entities::Status>,
    stuck: Vec<entities::Status>,
    new_members: Vec<NewMember>,
}

async fn entity(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    digest: Digest,
) -> Result<DigestEntity, Error> {
    let posts = |part: Vec<(crate::db::post::Post, Actor)>| -> Vec<crate::db::post::Post> {
        part.into_iter().map(|(post, _)| post).collect()
    };
    let members: Vec<Actor> = digest
        .new_members
        .iter()
        .flat_map(|(member, community)| [member.clone(), community.clone()])
        .collect();
    let mut accounts = convert::accounts(data, &members).await?.into_iter();
    let mut new_members = Vec::new();
    while let (Some(account), Some(community)) = (accounts.next(), accounts.next()) {
        new_members.push(NewMember { account, community });
    }
    Ok(DigestEntity {
        week: digest.week.to_string(),
        start: convert::timestamp(digest.start),
        end: convert::timestamp(digest.end),
        learned: convert::posts(data, viewer, posts(digest.learned)).await?,
        answered: convert::posts(data, viewer, posts(digest.answered)).await?,
        open: convert::posts(data, viewer, posts(digest.open)).await?,
        stuck: convert::posts(data, viewer, posts(digest.stuck)).await?,
        new_members,
    })
}

/// `GET /api/v1/outloud/digest`: 401 signed out, 400 for a bad `week`.
async fn mine(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<WeekQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read")?;
    let week = digests::asked_week(&data, q.week.as_deref())?;
    let digest = digests::for_person(&data, me, week).await?;
    Ok(HttpResponse::Ok().json(entity(&data, Some(me), digest).await?))
}

/// `GET /api/v1/outloud/communities/:id/digest`: 404 for an unknown
/// community, 422 for another server's.
async fn community(
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read");
    let week = digests::asked_week(&data, q.week.as_deref())?;
    let (_, digest) = digests::for_community_id(&data, &id, week).await?;
    Ok(HttpResponse::Ok().json(entity(&data, viewer, digest).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/outloud/digest", web::get().to(mine))
        .route(
            "/api/v1/outloud/communities/{id}/digest",
            web::get().to(community),
        );
}
