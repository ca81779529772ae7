//! The ActivityPub endpoints other servers call: actor documents (with
//! content negotiation), and later collections, objects and inboxes.

use crate::{
    apub::{inbox, protocol::context::context, Data, FEDERATION_CONTENT_TYPE},
    context::Context,
    db::{
        actor::Actor,
        follow::{Follow, FollowState},
    },
    error::{Error, Result},
    service,
};
use activitypub_federation::traits::Object;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/{name}", web::get().to(get_person))
        .route(
            "/users/{name}/inbox",
            web::post().to(inbox::post_person_inbox),
        )
        .route("/users/{name}/followers", web::get().to(get_followers))
        .route("/users/{name}/following", web::get().to(get_following))
        .route("/communities/{name}", web::get().to(get_community))
        .route(
            "/communities/{name}/inbox",
            web::post().to(inbox::post_person_inbox),
        )
        .route("/communities/{name}/followers", web::get().to(get_members))
        .route(
            "/communities/{name}/moderators",
            web::get().to(get_moderators),
        )
        .route("/communities/{name}/featured", web::get().to(get_featured))
        .route(
            "/communities/{name}/outbox",
            web::get().to(get_community_outbox),
        )
        .route("/actor", web::get().to(get_instance_actor))
        .route("/actor/inbox", web::post().to(inbox::post_shared_inbox))
        .route("/inbox", web::post().to(inbox::post_shared_inbox));
}

/// What representation a GET asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    ActivityJson,
    Html,
}

/// ActivityStreams when the Accept header names `application/activity+json`
/// or `application/ld+json`; HTML when it names `text/html` (browsers); and
/// ActivityStreams when it names neither, so `curl URL` shows the document.
pub fn negotiate(req: &HttpRequest) -> Wants {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("application/activity+json") || accept.contains("application/ld+json") {
        Wants::ActivityJson
    } else if accept.contains("text/html") {
        Wants::Html
    } else {
        Wants::ActivityJson
    }
}

/// A 303 to the HTML page of a resource, varying on Accept so caches keep the
/// two representations apart.
pub fn see_html(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::VARY, "Accept"))
        .finish()
}

/// `GET /users/{name}`: the Person document, or a redirect to `/@name`.
async fn get_person(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let person = service::accounts::local_person(&data.db, &name).await?;
    if negotiate(&req) == Wants::Html {
        return Ok(see_html(data.urls.profile_page(&person.username).as_str()));
    }
    person.http_response(&context(), &data).await
}

/// `GET /actor`: the instance actor (FEP-2677).
async fn get_instance_actor(req: HttpRequest, data: Data<Context>) -> Result<HttpResponse> {
    if negotiate(&req) == Wants::Html {
        return Ok(see_html("/"));
    }
    (*data.instance_actor)
        .clone()
        .http_response(&context(), &data)
        .await
}

/// Items per page of a collection.
pub const COLLECTION_PAGE_SIZE: i64 = 40;

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

/// Which of an actor's two lists.
#[derive(Clone, Copy)]
enum Network {
    Followers,
    Following,
}

/// `GET /users/{name}/followers`
async fn get_followers(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<PageQuery>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    crate::apub::objects_http::require_signature_if_configured(&req, &data).await?;
    let person = service::accounts::local_person(&data.db, &name).await?;
    network_collection(&person, query.page, Network::Followers, &data).await
}

/// `GET /users/{name}/following`
async fn get_following(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<PageQuery>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    crate::apub::objects_http::require_signature_if_configured(&req, &data).await?;
    let person = service::accounts::local_person(&data.db, &name).await?;
    network_collection(&person, query.page, Network::Following, &data).await
}

/// An `OrderedCollection` whose size is always public and whose pages
/// (`?page=1`, …) list actor ids unless the owner hides their network.
async fn network_collection(
    person: &Actor,
    page: Option<i64>,
    which: Network,
    data: &Data<Context>,
) -> Result<HttpResponse> {
    let url_of = |u: &Option<String>| u.as_deref().and_then(|u| url::Url::parse(u).ok());
    let id = match which {
        Network::Followers => url_of(&person.followers_url),
        Network::Following => url_of(&person.following_url),
    }
    .ok_or_else(|| Error::not_found("no such collection"))?;
    let owner = person.id.clone();
    let total = data
        .db
        .run(move |conn| {
            Ok(match which {
                Network::Followers => Follow::count_followers(conn, &owner)?,
                Network::Following => Follow::count_following(conn, &owner)?,
            })
        })
        .await?;
    let body = match page {
        None => {
            let mut collection = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": id.as_str(),
                "type": "OrderedCollection",
                "totalItems": total,
            });
            if !person.hide_network {
                collection["first"] = json!(format!("{id}?page=1"));
            }
            collection
        }
        Some(page) => {
            if page < 1 {
                return Err(Error::bad_request("page numbers start at 1"));
            }
            if person.hide_network {
                return Err(Error::forbidden("this account hides its network"));
            }
            let owner = person.id.clone();
            let offset = (page - 1).saturating_mul(COLLECTION_PAGE_SIZE);
            let actors: Vec<Actor> = data
                .db
                .run(move |conn| {
                    Ok(match which {
                        Network::Followers => Follow::list_followers(
                            conn,
                            &owner,
                            FollowState::Accepted,
                            offset,
                            COLLECTION_PAGE_SIZE,
                        )?,
                        Network::Following => {
                            Follow::list_following(conn, &owner, offset, COLLECTION_PAGE_SIZE)?
                        }
                    })
                })
                .await?;
            let items: Vec<&str> = actors.iter().map(|a| a.ap_id.as_str()).collect();
            let mut page_json = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{id}?page={page}"),
                "type": "OrderedCollectionPage",
                "partOf": id.as_str(),
                "totalItems": total,
                "orderedItems": items,
            });
            if offset + COLLECTION_PAGE_SIZE < total {
                page_json["next"] = json!(format!("{id}?page={}", page + 1));
            }
            if page > 1 {
                page_json["prev"] = json!(format!("{id}?page={}", page - 1));
            }
            page_json
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(FEDERATION_CONTENT_TYPE)
        .json(body))
}

/// `GET /communities/{name}`: the Group document, or its page for browsers.
async fn get_community(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let (group, _) = service::communities::local(&data.db, &name).await?;
    if negotiate(&req) == Wants::Html {
        return Ok(see_html(data.urls.community_page(&group.username).as_str()));
    }
    group.http_response(&context(), &data).await
}

/// `GET /communities/{name}/followers`: the members (their number is
/// public; the list is hidden for members-only communities).
async fn get_members(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<PageQuery>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    crate::apub::objects_http::require_signature_if_configured(&req, &data).await?;
    let (group, _) = service::communities::local(&data.db, &name).await?;
    network_collection(&group, query.page, Network::Followers, &data).await
}

fn collection(id: &url::Url, items: Vec<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(FEDERATION_CONTENT_TYPE)
        .json(json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id.as_str(),
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "orderedItems": items,
        }))
}

/// `GET /communities/{name}/moderators`: who moderates, local or remote.
async fn get_moderators(name: web::Path<String>, data: Data<Context>) -> Result<HttpResponse> {
    let (group, _) = service::communities::local(&data.db, &name).await?;
    let id = group.id.clone();
    let moderators = data
        .db
        .run(move |conn| Ok(crate::db::community::Community::moderators(conn, &id)?))
        .await?;
    let items = moderators.iter().map(|m| json!(m.ap_id.as_str())).collect();
    Ok(collection(
        &data.urls.community_moderators(&group.username),
        items,
    ))
}

/// `GET /communities/{name}/featured`: pinned posts, newest pin first.
async fn get_featured(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let (group, community) = service::communities::local(&data.db, &name).await?;
    if community.members_only && !signed_by_member(&req, &data, &group).await? {
        return Err(Error::not_found("no such collection"));
    }
    let id = group.id.clone();
    let pinned = data
        .db
        .run(move |conn| Ok(crate::db::community::Community::pinned(conn, &id)?))
        .await?;
    let mut items = Vec::new();
    for post in pinned {
        items.push(serde_json::to_value(post.into_json(&data).await?)?);
    }
    Ok(collection(
        &data.urls.community_featured(&group.username),
        items,
    ))
}

/// `GET /communities/{name}/outbox`: the latest posts the community shared,
/// as Announces (members-only communities show them to nobody here).
async fn get_community_outbox(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    crate::apub::objects_http::require_signature_if_configured(&req, &data).await?;
    let (group, community) = service::communities::local(&data.db, &name).await?;
    let id = data.urls.community_outbox(&group.username);
    if community.members_only && !signed_by_member(&req, &data, &group).await? {
        return Err(Error::not_found("no such collection"));
    }
    let group_id = group.id.clone();
    let posts = data
        .db
        .run(move |conn| {
            Ok(crate::db::post::Post::list_in_community(
                conn, &group_id, None, 20,
            )?)
        })
        .await?;
    let items = posts
        .iter()
        .filter(|p| community.members_only || p.visibility().is_public())
        .map(|p| {
            json!({
                "id": data.urls.activity(&format!("{}-{}", group.id, p.id)).as_str(),
                "type": "Announce",
                "actor": group.ap_id.as_str(),
                "object": p.ap_id.as_str(),
                "to": [crate::apub::protocol::note::PUBLIC],
                "cc": [group.followers_url.clone()],
            })
        })
        .collect();
    Ok(collection(&id, items))
}

/// Whether a request is signed by a member of `group` (or by the instance
/// actor of a server where one lives).
async fn signed_by_member(req: &HttpRequest, data: &Data<Context>, group: &Actor) -> Result<bool> {
    match crate::apub::objects_http::signer_of(req, data).await {
        Some(viewer) => service::communities::is_member(data, group, &viewer).await,
        None => Ok(false),
    }
}
