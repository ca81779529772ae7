//! Embedding narrations on other sites: which narration a URL names, and
//! whether it may be embedded (oEmbed, `/api/oembed`, and the embed page
//! `/@name/{id}/embed`). Only local public and unlisted narrations are:
//! an embed is shown to anyone, anywhere, so nothing narrower than what
//! the narration's own public page shows.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        post::{Post, Visibility},
    },
    error::{Error, ErrorKind, Result},
};

/// Default width of the iframe, as Mastodon's.
pub const DEFAULT_WIDTH: i64 = 400;

/// How long consumers may cache an oEmbed answer, in seconds.
pub const CACHE_AGE: i64 = 86_400;

/// The local public or unlisted narration `id` by local `name`.
///
/// Errors: `NotFound` for anything else (unknown, another author, remote,
/// deleted, or of narrower visibility), so nothing about private
/// narrations shows.
pub async fn embeddable(data: &Data<Context>, name: &str, id: &str) -> Result<(Post, Actor)> {
    let author = crate::service::accounts::local_actor(&data.db, name)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::NotFound => Error::not_found("Record not found"),
            _ => e,
        })?;
    let id = id.to_string();
    let post = data
        .db
        .run(move |conn| Ok(Post::by_id(conn, &id)?))
        .await?
        .ok_or_else(|| Error::not_found("Record not found"))?;
    let open = matches!(post.visibility(), Visibility::Public | Visibility::Unlisted);
    if post.author_id != author.id || !post.local || post.is_deleted() || !open {
        return Err(Error::not_found("Record not found"));
    }
    Ok((post, author))
}

/// The narration an oEmbed `url` names: its page (`/@name/{id}`) or its
/// object id (`/objects/{id}`) here.
///
/// Errors: `BadRequest` when `url` is missing or not a URL; `NotFound`
/// when it names no embeddable narration of this instance.
pub async fn by_url(data: &Data<Context>, url: Option<&str>) -> Result<(Post, Actor)> {
    let raw = url.map(str::trim).filter(|u| !u.is_empty());
    let raw = raw.ok_or_else(|| Error::bad_request("Missing parameter: url"))?;
    let url = url::Url::parse(raw).map_err(|_| Error::bad_request("url is not a URL"))?;
    if let Some((name, id)) = data.urls.parse_post_page(&url) {
        return embeddable(data, &name, &id).await;
    }
    if let Some(id) = data.urls.parse_object(&url) {
        let lookup = id.clone();
        let post = data
            .db
            .run(move |conn| Ok(Post::by_id(conn, &lookup)?))
            .await?
            .ok_or_else(|| Error::not_found("Record not found"))?;
        let author = crate::service::relations::actor_by_id(data, &post.author_id).await?;
        return embeddable(data, &author.username, &id).await;
    }
    Err(Error::not_found("Record not found"))
}
