//! `/api/v1/accounts/…` and the account lists of the signed-in user
//! (follow requests, blocks, mutes, favourites, bookmarks).

use super::{
    auth::{Auth, MaybeAuth},
    convert, entities, paged,
    params::{flexible_bool, one_or_many, Form, Query},
    PageParams,
};
use crate::{
    apub::Data,
    context::Context,
    db::{marks::MarkKind, timeline::AccountFilter},
    error::Error,
    service::{
        self,
        relations::{self, ProfileEdit, Relationship},
        timelines::{self, AccountStatuses},
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn relationship_entity(r: Relationship) -> entities::Relationship {
    entities::Relationship {
        id: r.id,
        following: r.following,
        showing_reblogs: r.following || r.requested,
        notifying: false,
        languages: None,
        followed_by: r.followed_by,
        blocking: r.blocking,
        blocked_by: r.blocked_by,
        muting: r.muting,
        muting_notifications: r.muting_notifications,
        requested: r.requested,
        requested_by: r.requested_by,
        domain_blocking: r.domain_blocking,
        endorsed: false,
        note: String::new(),
    }
}

/// `GET /api/v1/accounts/verify_credentials`
async fn verify_credentials(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    // The `profile` scope (Mastodon 4.3) grants this endpoint alone.
    let scope = if auth.scopes().allows("profile") && !auth.scopes().allows("read:accounts") {
        "profile"
    } else {
        "read:accounts"
    };
    let me = auth.user(scope)?;
    Ok(HttpResponse::Ok().json(convert::credential_account(&data, me).await?))
}

#[derive(Deserialize, Default)]
struct FieldParam {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct CredentialsUpdate {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    discoverable: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    hide_collections: Option<bool>,
    /// `fields_attributes[0][name]=…` (an indexed map) or a JSON array.
    fields_attributes: Option<FieldsParam>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FieldsParam {
    List(Vec<FieldParam>),
    Indexed(BTreeMap<String, FieldParam>),
}

/// `PATCH /api/v1/accounts/update_credentials`: JSON, form, or multipart
/// with `avatar` and `header` image files (Mastodon.py and Tusky send
/// multipart when a file is present) besides the text fields.
async fn update_credentials(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    use actix_web::FromRequest;
    let me = auth.user("write:accounts")?;
    let (p, avatar, header) = if super::media::is_multipart(&req) {
        let max = service::media::limits(&data).image_size;
        let mut body =
            super::media::read_multipart(&req, payload, &["avatar", "header"], max).await?;
        let p: CredentialsUpdate = body.parse()?;
        let avatar = body.take_file("avatar").map(|f| f.bytes);
        let header = body.take_file("header").map(|f| f.bytes);
        (p, avatar, header)
    } else {
        let Form(p) =
            Form::<CredentialsUpdate>::from_request(&req, &mut payload.into_inner()).await?;
        (p, None, None)
    };
    // Files first: a refused image changes nothing.
    let me = &service::media::with_profile_images(&data, me, avatar, header).await?;
    let fields = p.fields_attributes.map(|f| {
        let list: Vec<FieldParam> = match f {
            FieldsParam::List(l) => l,
            FieldsParam::Indexed(m) => {
                let mut entries: Vec<(String, FieldParam)> = m.into_iter().collect();
                entries.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
                entries.into_iter().map(|(_, v)| v).collect()
            }
        };
        list.into_iter().map(|f| (f.name, f.value)).collect()
    });
    let updated = relations::update_profile(
        &data,
        me,
        ProfileEdit {
            display_name: p.display_name,
            note: p.note,
            locked: p.locked,
            discoverable: p.discoverable,
            hide_collections: p.hide_collections,
            fields,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(convert::credential_account(&data, &updated).await?))
}

#[derive(Deserialize)]
struct IdsQuery {
    #[serde(default, deserialize_with = "one_or_many")]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/relationships?id[]=…`
async fn relationships(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<IdsQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:follows")?;
    let list = relations::relationships(&data, me, q.id).await?;
    Ok(HttpResponse::Ok().json(
        list.into_iter()
            .map(relationship_entity)
            .collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize)]
struct LookupQuery {
    #[serde(default)]
    acct: String,
}

/// `GET /api/v1/accounts/lookup?acct=…` (accounts known here only).
async fn lookup(data: Data<Context>, Query(q): Query<LookupQuery>) -> Result<HttpResponse, Error> {
    let found = service::search::search(
        &data,
        None,
        service::search::SearchQuery {
            q: if q.acct.contains('@') {
                q.acct.clone()
            } else {
                format!("{}@{}", q.acct, data.urls.domain())
            },
            kind: Some(service::search::Kind::Accounts),
            resolve: false,
            limit: 1,
            offset: 0,
        },
    )
    .await?;
    let actor = found
        .accounts
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("Record not found"))?;
    Ok(HttpResponse::Ok().json(convert::account(&data, &actor).await?))
}

/// `GET /api/v1/accounts/search`
async fn search(
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<super::search::SearchParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:accounts")?;
    let query = q.query(Some(service::search::Kind::Accounts), 40, 80);
    let found = service::search::search(&data, Some(me), query).await?;
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &found.accounts).await?))
}

/// `GET /api/v1/accounts/:id`
async fn show(data: Data<Context>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let actor = relations::actor_by_id(&data, &id).await?;
    Ok(HttpResponse::Ok().json(convert::account(&data, &actor).await?))
}

#[derive(Deserialize)]
struct StatusesQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "flexible_bool")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    pinned: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    only_media: Option<bool>,
    tagged: Option<String>,
}

/// `GET /api/v1/accounts/:id/statuses`
async fn statuses(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
    Query(q): Query<StatusesQuery>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    let account = relations::actor_by_id(&data, &id).await?;
    let items = timelines::account(
        &data,
        viewer,
        &account,
        AccountStatuses {
            filter: AccountFilter {
                exclude_replies: q.exclude_replies.unwrap_or(false),
                pinned: q.pinned.unwrap_or(false),
                tagged: q.tagged.filter(|t| !t.is_empty()),
            },
            exclude_reblogs: q.exclude_reblogs.unwrap_or(false),
            only_media: q.only_media.unwrap_or(false),
        },
        q.page.timeline_page(20, 40)?,
    )
    .await?;
    super::timelines::respond(&req, &data, viewer, items).await
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: PageParams,
}

/// Followers or following, paged by the follow edge's id.
async fn network(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    id: String,
    q: ListQuery,
    followers: bool,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:accounts").cloned();
    let account = relations::actor_by_id(&data, &id).await?;
    if account.hide_network && viewer.as_ref().is_none_or(|v| v.id != account.id) {
        return Ok(HttpResponse::Ok().json(Vec::<entities::Account>::new()));
    }
    let page = q.page.page(40, 80);
    let account_id = account.id.clone();
    let rows = data
        .db
        .run(move |conn| {
            Ok(crate::db::follow::Follow::page_of_network(
                conn,
                &account_id,
                followers,
                &page,
            )?)
        })
        .await?;
    let bounds = super::bounds_of(&rows, |r| &r.0);
    let actors: Vec<_> = rows.into_iter().map(|(_, a)| a).collect();
    let accounts = convert::accounts(&data, &actors).await?;
    Ok(paged(&req, &data, &accounts, bounds))
}

async fn followers(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    network(req, data, auth, id.into_inner(), q, true).await
}

async fn following(
    req: HttpRequest,
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    network(req, data, auth, id.into_inner(), q, false).await
}

#[derive(Deserialize, Default)]
struct MuteParams {
    #[serde(default, deserialize_with = "flexible_bool")]
    notifications: Option<bool>,
}

/// `POST /api/v1/accounts/:id/{action}`
async fn act(
    data: Data<Context>,
    auth: Auth,
    path: web::Path<(String, String)>,
    Form(p): Form<MuteParams>,
) -> Result<HttpResponse, Error> {
    let (id, action) = path.into_inner();
    let scope = match action.as_str() {
        "follow" | "unfollow" => "write:follows",
        "block" | "unblock" => "write:blocks",
        "mute" | "unmute" => "write:mutes",
        _ => return Err(Error::not_found("no such action")),
    };
    let me = auth.user(scope)?.clone();
    let target = relations::actor_by_id(&data, &id).await?;
    let relationship = match action.as_str() {
        "follow" => relations::follow(&data, &me, &target).await?,
        "unfollow" => relations::unfollow(&data, &me, &target).await?,
        "block" => relations::block(&data, &me, &target).await?,
        "unblock" => relations::unblock(&data, &me, &target).await?,
        "mute" => relations::mute(&data, &me, &target, p.notifications.unwrap_or(true)).await?,
        _ => relations::unmute(&data, &me, &target).await?,
    };
    Ok(HttpResponse::Ok().json(relationship_entity(relationship)))
}

/// `GET /api/v1/follow_requests`
async fn follow_requests(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:follows")?;
    let pending = service::follows::pending_requests(&data, me).await?;
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &pending).await?))
}

/// `POST /api/v1/follow_requests/:id/{authorize,reject}`
async fn decide_request(
    data: Data<Context>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "authorize" => true,
        "reject" => false,
        _ => return Err(Error::not_found("no such action")),
    };
    let me = auth.user("write:follows")?.clone();
    let requester = relations::actor_by_id(&data, &id).await?;
    service::follows::decide(&data, &me, &requester, approve).await?;
    let relationship = relations::relationship(&data, &me, &requester).await?;
    Ok(HttpResponse::Ok().json(relationship_entity(relationship)))
}

async fn marked_accounts(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    q: ListQuery,
    kind: MarkKind,
    scope: &str,
) -> Result<HttpResponse, Error> {
    let me = auth.user(scope)?;
    let (actors, bounds) = relations::marked(&data, me, kind, q.page.page(40, 80)).await?;
    let accounts = convert::accounts(&data, &actors).await?;
    Ok(paged(&req, &data, &accounts, bounds))
}

async fn blocks(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    marked_accounts(req, data, auth, q, MarkKind::Block, "read:blocks").await
}

async fn mutes(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    marked_accounts(req, data, auth, q, MarkKind::Mute, "read:mutes").await
}

/// Which saved posts to list.
#[derive(Clone, Copy)]
enum Saved {
    Favourites,
    Bookmarks,
}

async fn saved_posts(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    q: ListQuery,
    which: Saved,
) -> Result<HttpResponse, Error> {
    let page = q.page.page(20, 40);
    let (posts, bounds) = match which {
        Saved::Favourites => {
            let me = auth.user("read:favourites")?;
            timelines::favourites(&data, me, page).await?
        }
        Saved::Bookmarks => {
            let me = auth.user("read:bookmarks")?;
            timelines::bookmarks(&data, me, page).await?
        }
    };
    let statuses = convert::posts(&data, auth.actor.as_ref(), posts).await?;
    Ok(paged(&req, &data, &statuses, bounds))
}

/// `GET /api/v1/favourites`
async fn favourites(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    saved_posts(req, data, auth, q, Saved::Favourites).await
}

/// `GET /api/v1/bookmarks`
async fn bookmarks(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    saved_posts(req, data, auth, q, Saved::Bookmarks).await
}

#[derive(Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "flexible_bool")]
    agreement: Option<bool>,
    /// Outloud's own: the code of an invite link.
    invite_code: Option<String>,
    /// Why they want to join, for the admin approving the account.
    reason: Option<String>,
}

/// `POST /api/v1/accounts`: an app signs a person up (with an app token),
/// under the rules of the web's `/register`
/// (`service::registrations::register`); the answer is a token for the new
/// account. Outloud keeps no e-mail addresses, so `email` is ignored. An
/// account that waits for an admin's approval is created, but gets 403
/// with that message instead of a token.
async fn create(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Form(new): Form<NewAccount>,
) -> Result<HttpResponse, Error> {
    auth.app("write:accounts")?;
    let app_id = auth
        .token
        .app_id
        .clone()
        .ok_or_else(|| Error::forbidden("an app token is needed"))?;
    if new.agreement != Some(true) {
        return Err(Error::unprocessable(
            "Validation failed: Agreement must be accepted",
        ));
    }
    let sign_up = service::registrations::SignUp {
        name: new.username.trim(),
        password: &new.password,
        invite: new.invite_code.as_deref(),
        ip: &crate::client_ip::of(&req, &data.config.http),
        reason: new.reason.as_deref(),
    };
    let registered = service::registrations::register(&data, sign_up)
        .await
        .map_err(|e| match e.kind {
            crate::error::ErrorKind::Conflict => {
                Error::unprocessable("Validation failed: Username has already been taken")
            }
            _ => e,
        })?;
    if !registered.approved {
        return Err(Error::forbidden(service::accounts::AWAITING_APPROVAL));
    }
    let scopes = service::oauth::Scopes::parse(&auth.token.scopes)?;
    let token =
        service::oauth::issue_token(&data.db, Some(&app_id), Some(&registered.actor.id), &scopes)
            .await?;
    Ok(super::oauth::token_response(&token))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/accounts", web::post().to(create))
        .route(
            "/api/v1/accounts/verify_credentials",
            web::get().to(verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            web::patch().to(update_credentials),
        )
        .route(
            "/api/v1/accounts/relationships",
            web::get().to(relationships),
        )
        .route("/api/v1/accounts/lookup", web::get().to(lookup))
        .route("/api/v1/accounts/search", web::get().to(search))
        .route("/api/v1/accounts/{id}", web::get().to(show))
        .route("/api/v1/accounts/{id}/statuses", web::get().to(statuses))
        .route("/api/v1/accounts/{id}/followers", web::get().to(followers))
        .route("/api/v1/accounts/{id}/following", web::get().to(following))
        .route("/api/v1/accounts/{id}/{action}", web::post().to(act))
        .route("/api/v1/follow_requests", web::get().to(follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/{decision}",
            web::post().to(decide_request),
        )
        .route("/api/v1/blocks", web::get().to(blocks))
        .route("/api/v1/mutes", web::get().to(mutes))
        .route("/api/v1/favourites", web::get().to(favourites))
        .route("/api/v1/bookmarks", web::get().to(bookmarks));
}
