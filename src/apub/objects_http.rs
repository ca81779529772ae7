//! `GET /objects/{id}`, `GET /activities/{id}` and `GET /users/{name}/outbox`:
//! our posts and activities as other servers fetch them.
//!
//! Public and unlisted posts are served to anyone (to signed requests only
//! when `federation.signed_fetch` is on); followers-only and direct posts
//! only to a signed request from an actor who may see them; local-only
//! posts never. Everything refused is a 404, so that the existence of a
//! non-public post does not leak.

use crate::{
    apub::{
        http::{negotiate, see_html, Wants},
        objects::post::visible_to,
        protocol::{
            activity::{Create, Like},
            context::context,
        },
        signatures, Data, FEDERATION_CONTENT_TYPE,
    },
    context::Context,
    db::{
        actor::Actor,
        follow::Follow,
        post::{Post, Visibility},
        reaction::{Reaction, ReactionKind},
    },
    error::{Error, Result},
    service,
};
use activitypub_federation::{
    kinds::activity::{CreateType, LikeType},
    protocol::context::WithContext,
    traits::Object,
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/objects/{id}", web::get().to(get_object))
        .route("/activities/{id}", web::get().to(get_activity))
        .route("/users/{name}/outbox", web::get().to(get_outbox));
}

/// The actor that signed a GET, if it carries a valid signature.
async fn signer(req: &HttpRequest, data: &Data<Context>) -> Option<Actor> {
    req.headers().get("signature")?;
    match signatures::verify_request(req, data).await {
        Ok(actor) => Some(actor),
        Err(e) => {
            tracing::debug!(error = %e, "GET signature not accepted");
            None
        }
    }
}

/// In `federation.signed_fetch` mode, every GET of an object or
/// collection must be signed (Mastodon's secure mode); 401 otherwise.
pub async fn require_signature_if_configured(
    req: &HttpRequest,
    data: &Data<Context>,
) -> Result<Option<Actor>> {
    if !data.config.federation.signed_fetch {
        return Ok(None);
    }
    signatures::verify_request(req, data).await.map(Some)
}

/// Whether the request may see `post`: the rules of the module doc.
async fn may_fetch(req: &HttpRequest, data: &Data<Context>, post: &Post) -> Result<bool> {
    if !post.local || post.visibility().is_local_only() {
        return Ok(false);
    }
    let required = require_signature_if_configured(req, data).await?;
    if post.visibility().is_public() {
        return Ok(true);
    }
    let viewer = match required {
        Some(actor) => actor,
        None => match signer(req, data).await {
            Some(actor) => actor,
            None => return Ok(false),
        },
    };
    let (author_id, viewer_id) = (post.author_id.clone(), viewer.id.clone());
    let (author, follows) = data
        .db
        .run(move |conn| {
            let author =
                Actor::by_id(conn, &author_id)?.ok_or_else(|| Error::not_found("no such post"))?;
            Ok((author, Follow::is_following(conn, &viewer_id, &author_id)?))
        })
        .await?;
    if visible_to(post, &author, Some(&viewer), follows) {
        return Ok(true);
    }
    service::communities::grants_access(data, post, &viewer).await
}

/// The actor that signed the request, for collections of members-only
/// communities.
pub async fn signer_of(req: &HttpRequest, data: &Data<Context>) -> Option<Actor> {
    signer(req, data).await
}

async fn post_by_id(data: &Data<Context>, id: &str) -> Result<Post> {
    let id = id.to_string();
    data.db
        .run(move |conn| Post::by_id(conn, &id)?.ok_or_else(|| Error::not_found("no such object")))
        .await
}

/// `GET /objects/{id}`: a Note or Article (410 Tombstone once deleted), or a
/// redirect to its page for browsers.
async fn get_object(
    req: HttpRequest,
    id: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let post = post_by_id(&data, &id).await?;
    if !may_fetch(&req, &data, &post).await? {
        return Err(Error::not_found("no such object"));
    }
    if negotiate(&req) == Wants::Html && !post.is_deleted() {
        if let Some(page) = &post.url {
            return Ok(see_html(page));
        }
    }
    post.http_response(&context(), &data).await
}

/// `GET /activities/{id}`: the Create of a post, or a Like or Announce.
async fn get_activity(
    req: HttpRequest,
    id: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let ap_id = data.urls.activity(&id);
    let (post_id, lookup) = (id.to_string(), ap_id.clone());
    let (post, reaction) = data
        .db
        .run(move |conn| {
            Ok((
                Post::by_id(conn, &post_id)?,
                Reaction::by_ap_id(conn, &lookup)?,
            ))
        })
        .await?;
    if let Some(post) = post.filter(|p| !p.is_deleted()) {
        if !may_fetch(&req, &data, &post).await? {
            return Err(Error::not_found("no such activity"));
        }
        let note = post.clone().into_json(&data).await?;
        let create = Create {
            id: ap_id,
            kind: CreateType::Create,
            actor: note.attributed_to.clone(),
            to: note.to.clone(),
            cc: note.cc.clone(),
            object: note,
            raw: None,
        };
        return activity_response(&create);
    }
    let Some(reaction) = reaction else {
        return Err(Error::not_found("no such activity"));
    };
    let (actor_id, post_id) = (reaction.actor_id.clone(), reaction.post_id.clone());
    let (actor, post) = data
        .db
        .run(move |conn| Ok((Actor::by_id(conn, &actor_id)?, Post::by_id(conn, &post_id)?)))
        .await?;
    let (Some(actor), Some(post)) = (actor, post) else {
        return Err(Error::not_found("no such activity"));
    };
    if !actor.local || !post.visibility().is_public() {
        return Err(Error::not_found("no such activity"));
    }
    if reaction.kind == ReactionKind::Like.as_str() {
        activity_response(&Like {
            id: reaction.ap_id.0.clone(),
            kind: LikeType::Like,
            actor: actor.ap_id.0.clone().into(),
            object: post.ap_id.0.clone(),
        })
    } else {
        activity_response(&super::objects::post::announce_of(&actor, &post, &reaction))
    }
}

fn activity_response<T: serde::Serialize>(activity: &T) -> Result<HttpResponse> {
    let body = serde_json::to_string(&WithContext::new(activity, context()))?;
    Ok(HttpResponse::Ok()
        .content_type(FEDERATION_CONTENT_TYPE)
        .insert_header((header::VARY, "Accept"))
        .body(body))
}

/// Posts per outbox page.
pub const OUTBOX_PAGE_SIZE: i64 = 20;

#[derive(Deserialize)]
pub struct OutboxQuery {
    page: Option<String>,
    max_id: Option<String>,
}

/// `GET /users/{name}/outbox`: the Create activities of a person's public
/// and unlisted posts, newest first, in pages (`?page=true`, then
/// `?max_id=…`).
async fn get_outbox(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<OutboxQuery>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let person = service::accounts::local_person(&data.db, &name).await?;
    if data.config.federation.signed_fetch && signer(&req, &data).await.is_none() {
        return Err(Error::unauthorized(
            "this instance requires signed requests",
        ));
    }
    let id = data.urls.person_outbox(&person.username);
    let public = [Visibility::Public, Visibility::Unlisted];
    let author_id = person.id.clone();
    if query.page.is_none() && query.max_id.is_none() {
        let total = data
            .db
            .run(move |conn| Ok(Post::count_by_author(conn, &author_id, &public)?))
            .await?;
        return Ok(HttpResponse::Ok()
            .content_type(FEDERATION_CONTENT_TYPE)
            .json(json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": id.as_str(),
                "type": "OrderedCollection",
                "totalItems": total,
                "first": format!("{id}?page=true"),
            })));
    }
    let before = query.max_id.clone();
    let posts = data
        .db
        .run(move |conn| {
            Ok(Post::list_by_author(
                conn,
                &author_id,
                &public,
                before.as_deref(),
                OUTBOX_PAGE_SIZE,
            )?)
        })
        .await?;
    let mut items = Vec::new();
    for post in &posts {
        let note = post.clone().into_json(&data).await?;
        items.push(serde_json::to_value(Create {
            id: data.urls.activity(&post.id),
            kind: CreateType::Create,
            actor: note.attributed_to.clone(),
            to: note.to.clone(),
            cc: note.cc.clone(),
            object: note,
            raw: None,
        })?);
    }
    let page_id = match &query.max_id {
        Some(max) => format!("{id}?max_id={max}"),
        None => format!("{id}?page=true"),
    };
    let mut page = json!({
        "@context": context(),
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": id.as_str(),
        "orderedItems": items,
    });
    if posts.len() as i64 == OUTBOX_PAGE_SIZE {
        if let Some(last) = posts.last() {
            page["next"] = json!(format!("{id}?max_id={}", last.id));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type(FEDERATION_CONTENT_TYPE)
        .json(page))
}
