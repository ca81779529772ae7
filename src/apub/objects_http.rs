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
            activity::{Announce, Create, Like, ObjectRef},
            context::context,
            note::PUBLIC,
        },
        Data, FEDERATION_CONTENT_TYPE,
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
    fetch::object_id::ObjectId,
    kinds::activity::{AnnounceType, CreateType, LikeType},
    protocol::context::WithContext,
    traits::Object,
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/objects/{id}", web::get().to(get_object))
        .route("/activities/{id}", web::get().to(get_activity))
        .route("/users/{name}/outbox", web::get().to(get_outbox));
}

/// The actor that signed a GET, if it carries a valid signature.
async fn signer(req: &HttpRequest, data: &Data<Context>) -> Option<Actor> {
    req.headers().get("signature")?;
    match signing_actor(req, data).await {
        Ok(actor) => Some(actor),
        Err(e) => {
            tracing::debug!(error = %e, "GET signature not accepted");
            None
        }
    }
}

/// How long after its `Date` a signed GET is accepted (as the federation
/// crate allows for POSTs).
const GET_SIGNATURE_VALIDITY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Verifies the draft-cavage signature of a GET and returns its signer.
///
/// Not the federation crate's `signing_actor`: that one requires a `Digest`
/// header, and `digest` among the signed headers, which only the crate's own
/// signer puts on a GET. Mastodon and Fedify sign GETs with
/// `(request-target) host date` (plus `accept`, `user-agent`…) and no
/// Digest, so their signed fetches were refused (found by the Fedify peer,
/// tests/integration/foreign_peer.rs). Here `(request-target)`, `host` and
/// `date` must be signed; the key is the one of the actor named by the
/// `keyId` without its fragment, fetched (and origin-checked) as usual.
async fn signing_actor(req: &HttpRequest, data: &Data<Context>) -> Result<Actor> {
    use http_signature_normalization::Config;
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Verifier};

    let headers: std::collections::BTreeMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.into())))
        .collect();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path(), |p| p.as_str());
    let unverified = Config::new()
        .mastodon_compat()
        .require_header("(request-target)")
        .set_expiration(GET_SIGNATURE_VALIDITY)
        .begin_verify(req.method().as_str(), path_and_query, headers)
        .map_err(|e| Error::unauthorized(format!("unusable signature: {e}")))?;
    let mut actor_id =
        Url::parse(unverified.key_id()).map_err(|_| Error::unauthorized("keyId is not a URL"))?;
    actor_id.set_fragment(None);
    let actor = ObjectId::<Actor>::from(actor_id).dereference(data).await?;
    let key = PKey::public_key_from_pem(actor.public_key_pem.as_bytes())
        .map_err(|e| Error::unauthorized(format!("unusable public key: {e}")))?;
    let valid = unverified.verify(|signature, signing_string| {
        let signature = openssl::base64::decode_block(signature).ok()?;
        let mut verifier = Verifier::new(MessageDigest::sha256(), &key).ok()?;
        verifier.update(signing_string.as_bytes()).ok()?;
        verifier.verify(&signature).ok()
    });
    if valid == Some(true) {
        Ok(actor)
    } else {
        Err(Error::unauthorized("signature does not verify"))
    }
}

/// Whether the request may see `post`: the rules of the module doc.
async fn may_fetch(req: &HttpRequest, data: &Data<Context>, post: &Post) -> Result<bool> {
    if !post.local || post.visibility() == Visibility::Local {
        return Ok(false);
    }
    let signed_only = data.config.federation.signed_fetch;
    if post.visibility().is_public() && !signed_only {
        return Ok(true);
    }
    let Some(viewer) = signer(req, data).await else {
        return Ok(false);
    };
    if post.visibility().is_public() {
        return Ok(true);
    }
    let (author_id, viewer_id) = (post.author_id.clone(), viewer.id.clone());
    let (author, follows) = data
        .db
        .run(move |conn| {
            let author =
                Actor::by_id(conn, &author_id)?.ok_or_else(|| Error::not_found("no such post"))?;
            Ok((author, Follow::is_following(conn, &viewer_id, &author_id)?))
        })
        .await?;
    Ok(visible_to(post, &author, Some(&viewer), follows))
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
        activity_response(&Announce {
            id: reaction.ap_id.0.clone(),
            kind: AnnounceType::Announce,
            actor: actor.ap_id.0.clone().into(),
            object: ObjectRef::Id(post.ap_id.0.clone()),
            to: Url::parse(PUBLIC).into_iter().collect(),
            cc: actor
                .followers_url
                .as_deref()
                .and_then(|f| Url::parse(f).ok())
                .into_iter()
                .collect(),
            published: Some(reaction.created_at.and_utc()),
        })
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
