//! `/api/v1/timelines/…` and direct conversations.

use super::{
    auth::{Auth, MaybeAuth},
    convert, entities, paged,
    params::{flexible_bool, flexible_i64, Query},
    PageParams,
};
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, timeline::Origin},
    error::Error,
    service::timelines::{self, Item},
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// A page of timeline items as statuses, with its `Link` header.
pub async fn respond(
    req: &HttpRequest,
    data: &Data<Context>,
    viewer: Option<&Actor>,
    items: Vec<Item>,
) -> Result<HttpResponse, Error> {
    let bounds = super::bounds_of(&items, |i| i.id());
    let statuses = convert::statuses(data, viewer, items).await?;
    Ok(paged(req, data, &statuses, bounds))
}

#[derive(Deserialize)]
struct TimelineQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flexible_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    only_media: Option<bool>,
}

impl TimelineQuery {
    fn origin(&self) -> Origin {
        match (self.local.unwrap_or(false), self.remote.unwrap_or(false)) {
            (true, false) => Origin::Local,
            (false, true) => Origin::Remote,
            _ => Origin::All,
        }
    }
}

/// `GET /api/v1/timelines/home`
async fn home(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<TimelineQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:statuses")?;
    let items = timelines::home(&data, me, q.page.timeline_page(20, timelines::MAX_LIMIT)?).await?;
    respond(&req, &data, Some(me), items).await
}

/// `GET /api/v1/timelines/public`
async fn public(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    Query(q): Query<TimelineQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    if q.only_media.unwrap_or(false) {
        return Ok(HttpResponse::Ok().json(Vec::<entities::Status>::new()));
    }
    let items = timelines::public(
        &data,
        viewer,
        q.origin(),
        q.page.timeline_page(20, timelines::MAX_LIMIT)?,
    )
    .await?;
    respond(&req, &data, viewer, items).await
}

/// `GET /api/v1/timelines/tag/:hashtag`
async fn tag(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    hashtag: web::Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    if q.only_media.unwrap_or(false) {
        return Ok(HttpResponse::Ok().json(Vec::<entities::Status>::new()));
    }
    let items = timelines::tag(
        &data,
        viewer,
        &hashtag,
        q.origin(),
        q.page.timeline_page(20, timelines::MAX_LIMIT)?,
    )
    .await?;
    respond(&req, &data, viewer, items).await
}

#[derive(Deserialize)]
struct ConversationQuery {
    #[serde(default, deserialize_with = "flexible_i64")]
    limit: Option<i64>,
}

/// `GET /api/v1/conversations`: direct threads, most recent first.
async fn conversations(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ConversationQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:statuses")?;
    let list = timelines::conversations(&data, me, q.limit.unwrap_or(20).clamp(1, 40)).await?;
    let mut out = Vec::new();
    for conversation in list {
        out.push(conversation_entity(&data, me, conversation).await?);
    }
    Ok(HttpResponse::Ok().json(out))
}

/// A direct conversation as the entity: its last post and everyone in it
/// but `me` (the streaming API's `conversation` event renders with it too).
pub(crate) async fn conversation_entity(
    data: &Data<Context>,
    me: &Actor,
    conversation: timelines::Conversation,
) -> Result<entities::Conversation, Error> {
    {
        let last = conversation.last;
        let mut participants: Vec<Actor> = Vec::new();
        let addressees = last.addressees();
        let author_id = last.author_id.clone();
        let me_id = me.id.clone();
        let others = data
            .db
            .run(move |conn| {
                let mut found = Vec::new();
                if author_id != me_id {
                    found.extend(Actor::by_id(conn, &author_id)?);
                }
                for a in addressees.iter().filter_map(|a| url::Url::parse(a).ok()) {
                    if let Some(actor) = Actor::by_ap_id(conn, &a)? {
                        if actor.id != me_id && !found.iter().any(|f: &Actor| f.id == actor.id) {
                            found.push(actor);
                        }
                    }
                }
                Ok(found)
            })
            .await?;
        participants.extend(others);
        Ok(entities::Conversation {
            id: conversation.id,
            unread: false,
            accounts: convert::accounts(data, &participants).await?,
            last_status: Some(convert::status(data, Some(me), Item::Post(last)).await?),
        })
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/timelines/home", web::get().to(home))
        .route("/api/v1/timelines/public", web::get().to(public))
        .route("/api/v1/timelines/tag/{hashtag}", web::get().to(tag))
        .route("/api/v1/conversations", web::get().to(conversations));
}
