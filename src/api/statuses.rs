//! `/api/v1/statuses/…`: posting, reading, editing and deleting
//! narrations, and reacting to them.

use super::{
    auth::{Auth, MaybeAuth},
    convert, entities,
    params::{flexible_bool, one_or_many, Form},
};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        marks::{AccountMark, MarkKind, PostEdit},
        post::{Post, PostKind, Visibility},
        reaction::{Reaction, ReactionKind},
    },
    error::{Error, ErrorKind},
    service::{
        self,
        posts::{NewPost, PostEdit as Edit},
        timelines::{self, Item},
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
struct NewStatus {
    status: Option<String>,
    in_reply_to_id: Option<String>,
    visibility: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    local_only: Option<bool>,
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    media_ids: Vec<String>,
    poll: Option<serde_json::Value>,
    scheduled_at: Option<String>,
    /// Outloud: a title makes the narration an Article.
    title: Option<String>,
}

/// Outloud's visibility for Mastodon's `visibility` and `local_only`.
fn visibility_of(visibility: Option<&str>, local_only: bool) -> Result<Visibility, Error> {
    let v = match visibility.filter(|v| !v.is_empty()).unwrap_or("public") {
        "public" => Visibility::Public,
        "unlisted" => Visibility::Unlisted,
        "private" => Visibility::Followers,
        "direct" => Visibility::Direct,
        "local" => Visibility::Local,
        other => {
            return Err(Error::unprocessable(format!(
                "Validation failed: visibility `{other}` is not one of public, unlisted, private, direct"
            )))
        }
    };
    match (v, local_only) {
        (Visibility::Public | Visibility::Local, true) => Ok(Visibility::Local),
        (Visibility::Unlisted, true) => Ok(Visibility::LocalUnlisted),
        (_, true) => Err(Error::unprocessable(
            "Validation failed: local_only applies to public and unlisted statuses",
        )),
        (v, false) => Ok(v),
    }
}

fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().chars().take(200).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// `POST /api/v1/statuses`
async fn create(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<NewStatus>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?.clone();
    let key = idempotency_key(&req);
    if let Some(key) = &key {
        if let Some(post) = service::posts::post_for_idempotency_key(&data, &me, key).await? {
            return Ok(
                HttpResponse::Ok().json(convert::status(&data, Some(&me), Item::Post(post)).await?)
            );
        }
    }
    if p.poll.is_some() {
        return Err(Error::unprocessable(
            "Validation failed: polls are not supported",
        ));
    }
    if p.scheduled_at.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(Error::unprocessable(
            "Validation failed: scheduled statuses are not supported",
        ));
    }
    let text = p.status.unwrap_or_default();
    // With media, no text is needed (Mastodon).
    if text.trim().is_empty() && p.media_ids.iter().all(|id| id.trim().is_empty()) {
        return Err(Error::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    let in_reply_to = match p.in_reply_to_id.filter(|id| !id.is_empty()) {
        Some(id) => {
            let parent = timelines::item_by_id(&data, Some(&me), &id)
                .await?
                .into_post();
            Some(parent.ap_id.0.clone())
        }
        None => None,
    };
    let title = p.title.filter(|t| !t.trim().is_empty());
    let new = NewPost {
        kind: if title.is_some() {
            PostKind::Article
        } else {
            PostKind::Note
        },
        title,
        source: text,
        visibility: match (
            p.visibility.as_deref().filter(|v| !v.is_empty()),
            p.local_only,
        ) {
            // Nothing asked: the person's default (Mastodon's
            // `source.privacy`, set in the web app's settings).
            (None, None) => service::accounts::default_visibility(&data.db, &me).await?,
            (visibility, local_only) => visibility_of(visibility, local_only.unwrap_or(false))?,
        },
        in_reply_to,
        summary: p.spoiler_text.filter(|s| !s.trim().is_empty()),
        sensitive: p.sensitive.unwrap_or(false),
        language: p.language.filter(|l| !l.is_empty()),
        community: None,
        // From a Mastodon app the kind hashtag in the text sets it.
        narration: None,
    };
    let published =
        service::posts::publish_with_media(&data, &me, new, key.clone(), p.media_ids).await;
    let post = match (published, &key) {
        // The same key in a concurrent request, which stored its post
        // first: this one stored nothing and answers with that post.
        (Err(e), Some(key)) if e.is_unique_violation() => {
            service::posts::post_for_idempotency_key(&data, &me, key)
                .await?
                .ok_or(e)?
        }
        (other, _) => other?,
    };
    Ok(HttpResponse::Ok().json(convert::status(&data, Some(&me), Item::Post(post)).await?))
}

/// `GET /api/v1/statuses/:id`
async fn show(
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    let item = timelines::item_by_id(&data, viewer, &id).await?;
    Ok(HttpResponse::Ok().json(convert::status(&data, viewer, item).await?))
}

/// The post behind a status id (a boost's id names the boosted post).
async fn target(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<Post, Error> {
    Ok(timelines::item_by_id(data, Some(viewer), id)
        .await?
        .into_post())
}

/// `DELETE /api/v1/statuses/:id`: answers the deleted status with its
/// source `text`, for "delete and redraft".
async fn delete(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?.clone();
    let item = timelines::item_by_id(&data, Some(&me), &id).await?;
    let post = match &item {
        Item::Boost { .. } | Item::Share { .. } => {
            return Err(Error::not_found("Record not found"))
        }
        Item::Post(p) => p.clone(),
    };
    if post.author_id != me.id {
        return Err(Error::forbidden("This action is not allowed"));
    }
    let mut status = convert::status(&data, Some(&me), item).await?;
    status.text = Some(
        post.source
            .clone()
            .unwrap_or_else(|| crate::text::strip_html(&post.content)),
    );
    service::posts::delete(&data, &me, &post.id).await?;
    Ok(HttpResponse::Ok().json(status))
}

#[derive(Deserialize)]
struct StatusEdit {
    status: Option<String>,
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    media_ids: Vec<String>,
    /// New alt text and focal points of the attachments, by id.
    media_attributes: Option<MediaAttributes>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct MediaAttribute {
    id: String,
    description: Option<String>,
    focus: Option<String>,
}

/// `media_attributes[]` as a JSON array or as indexed form fields.
#[derive(Deserialize)]
#[serde(untagged)]
enum MediaAttributes {
    List(Vec<MediaAttribute>),
    Indexed(std::collections::BTreeMap<String, MediaAttribute>),
}

impl MediaAttributes {
    fn into_list(self) -> Result<Vec<service::media::AttachedMeta>, Error> {
        let list = match self {
            MediaAttributes::List(l) => l,
            MediaAttributes::Indexed(m) => m.into_values().collect(),
        };
        list.into_iter()
            .map(|a| {
                Ok(service::media::AttachedMeta {
                    focus: match a.focus.as_deref() {
                        Some(raw) => service::media::parse_focus(raw)?,
                        None => None,
                    },
                    id: a.id,
                    description: a.description,
                })
            })
            .collect()
    }
}

/// `PUT /api/v1/statuses/:id`
async fn edit(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    Form(p): Form<StatusEdit>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:statuses")?.clone();
    let post = target(&data, &me, &id).await?;
    if post.author_id != me.id {
        return Err(Error::forbidden("This action is not allowed"));
    }
    let source = p.status.unwrap_or_default();
    if source.trim().is_empty() && p.media_ids.iter().all(|id| id.trim().is_empty()) {
        return Err(Error::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    if let Some(attributes) = p.media_attributes {
        let attributes = attributes.into_list()?;
        service::media::describe(&data, &me, &post.id, &p.media_ids, attributes).await?;
    }
    // As in Mastodon, the edit's `media_ids` are the status's attachments
    // afterwards: leaving them out removes them.
    let updated = service::posts::edit_with_media(
        &data,
        &me,
        &post.id,
        Edit {
            title: p.title.or(post.title.clone()),
            source,
            summary: p.spoiler_text,
            sensitive: p.sensitive.unwrap_or(post.sensitive),
            language: p.language.filter(|l| !l.is_empty()),
            // From a Mastodon app the text's kind hashtag decides.
            narration: None,
        },
        Some(p.media_ids),
    )
    .await?;
    Ok(HttpResponse::Ok().json(convert::status(&data, Some(&me), Item::Post(updated)).await?))
}

/// `GET /api/v1/statuses/:id/history`: every version, oldest first.
async fn history(
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    let post = timelines::item_by_id(&data, viewer, &id).await?.into_post();
    let author = service::relations::actor_by_id(&data, &post.author_id).await?;
    let account = convert::account(&data, &author).await?;
    let media = convert::post_media(&data, &post.id).await?;
    let post_id = post.id.clone();
    let earlier = data
        .db
        .run(move |conn| Ok(PostEdit::of_post(conn, &post_id)?))
        .await?;
    // Outloud keeps no attachment list per version: the current one shows
    // with the current version only.
    let version = |title: &Option<String>,
                   content: &str,
                   summary: &Option<String>,
                   sensitive: bool,
                   at,
                   media_attachments: Vec<_>| {
        let html = match title {
            Some(t) => format!(
                "<p><strong>{}</strong></p>{content}",
                crate::text::html_escape(t)
            ),
            None => content.to_string(),
        };
        entities::StatusEdit {
            content: html,
            spoiler_text: summary.clone().unwrap_or_default(),
            sensitive: sensitive || summary.is_some(),
            created_at: convert::timestamp(at),
            account: account.clone(),
            media_attachments,
            emojis: Vec::new(),
        }
    };
    let mut versions: Vec<entities::StatusEdit> = earlier
        .iter()
        .map(|e| {
            version(
                &e.title,
                &e.content,
                &e.summary,
                e.sensitive,
                e.created_at,
                Vec::new(),
            )
        })
        .collect();
    versions.push(version(
        &post.title,
        &post.content,
        &post.summary,
        post.sensitive,
        post.updated.unwrap_or(post.published),
        media,
    ));
    Ok(HttpResponse::Ok().json(versions))
}

/// `GET /api/v1/statuses/:id/source`
async fn source(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("read:statuses")?.clone();
    let post = target(&data, &me, &id).await?;
    Ok(HttpResponse::Ok().json(entities::StatusSource {
        id: post.id.clone(),
        text: post
            .source
            .clone()
            .unwrap_or_else(|| crate::text::strip_html(&post.content)),
        spoiler_text: post.summary.clone().unwrap_or_default(),
    }))
}

/// `GET /api/v1/statuses/:id/context`
async fn context(
    data: Data<Context>,
    auth: MaybeAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let viewer = auth.viewer("read:statuses");
    let post = timelines::item_by_id(&data, viewer, &id).await?.into_post();
    let (ancestors, descendants) = service::posts::context(&data, viewer, &post).await?;
    Ok(HttpResponse::Ok().json(entities::Context {
        ancestors: convert::posts(&data, viewer, ancestors).await?,
        descendants: convert::posts(&data, viewer, descendants).await?,
    }))
}

/// `POST /api/v1/statuses/:id/{action}`
async fn act(
    data: Data<Context>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, action) = path.into_inner();
    let scope = match action.as_str() {
        "favourite" | "unfavourite" => "write:favourites",
        "reblog" | "unreblog" => "write:statuses",
        "bookmark" | "unbookmark" => "write:bookmarks",
        "pin" | "unpin" => "write:accounts",
        _ => return Err(Error::not_found("no such action")),
    };
    let me = auth.user(scope)?.clone();
    let post = target(&data, &me, &id).await?;
    let undo_missing_ok = |r: Result<(), Error>| match r {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    };
    match action.as_str() {
        "favourite" => service::posts::react(&data, &me, &post, ReactionKind::Like).await?,
        "unfavourite" => {
            undo_missing_ok(service::posts::unreact(&data, &me, &post, ReactionKind::Like).await)?
        }
        "reblog" => {
            service::posts::react(&data, &me, &post, ReactionKind::Announce).await?;
            let (me_id, post_id) = (me.id.clone(), post.id.clone());
            let reaction = data
                .db
                .run(move |conn| {
                    Ok(Reaction::find(
                        conn,
                        ReactionKind::Announce,
                        &me_id,
                        &post_id,
                    )?)
                })
                .await?
                .ok_or_else(|| Error::not_found("Record not found"))?;
            let status = convert::status(&data, Some(&me), Item::Boost { reaction, post }).await?;
            return Ok(HttpResponse::Ok().json(status));
        }
        "unreblog" => undo_missing_ok(
            service::posts::unreact(&data, &me, &post, ReactionKind::Announce).await,
        )?,
        // bookmark, unbookmark, pin, unpin
        _ => {
            let kind = if action.ends_with("bookmark") {
                MarkKind::Bookmark
            } else {
                MarkKind::Pin
            };
            if action == "pin"
                && (post.author_id != me.id || post.visibility() == Visibility::Direct)
            {
                return Err(Error::unprocessable(
                    "Validation failed: you can only pin your own public or followers-only statuses",
                ));
            }
            let (me_id, post_id, set) = (me.id.clone(), post.id.clone(), !action.starts_with("un"));
            data.db
                .run(move |conn| {
                    if set {
                        AccountMark::set(conn, &me_id, kind, &post_id)?;
                    } else {
                        AccountMark::unset(conn, &me_id, kind, &post_id)?;
                    }
                    Ok(())
                })
                .await?;
        }
    }
    let fresh = service::posts::get(&data, Some(&me), &post.id).await?;
    Ok(HttpResponse::Ok().json(convert::status(&data, Some(&me), Item::Post(fresh)).await?))
}

/// `GET /api/v1/statuses/:id/{favourited_by,reblogged_by}`
async fn reacted_by(
    data: Data<Context>,
    auth: MaybeAuth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, which) = path.into_inner();
    let kind = match which.as_str() {
        "favourited_by" => ReactionKind::Like,
        "reblogged_by" => ReactionKind::Announce,
        _ => return Err(Error::not_found("Record not found")),
    };
    let viewer = auth.viewer("read:accounts");
    let post = timelines::item_by_id(&data, viewer, &id).await?.into_post();
    let post_id = post.id.clone();
    let actors = data
        .db
        .run(move |conn| Ok(Reaction::actors(conn, kind, &post_id)?))
        .await?;
    Ok(HttpResponse::Ok().json(convert::accounts(&data, &actors).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/statuses", web::post().to(create))
        .route("/api/v1/statuses/{id}", web::get().to(show))
        .route("/api/v1/statuses/{id}", web::delete().to(delete))
        .route("/api/v1/statuses/{id}", web::put().to(edit))
        .route("/api/v1/statuses/{id}/history", web::get().to(history))
        .route("/api/v1/statuses/{id}/source", web::get().to(source))
        .route("/api/v1/statuses/{id}/context", web::get().to(context))
        .route("/api/v1/statuses/{id}/{which}", web::get().to(reacted_by))
        .route("/api/v1/statuses/{id}/{action}", web::post().to(act));
}
