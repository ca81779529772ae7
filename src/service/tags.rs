//! Followed hashtags (`/api/v1/tags/:name`, `…/follow`, `…/unfollow`,
//! `/api/v1/followed_tags`). Following a tag brings its public posts into
//! the follower's home timeline, local ones and those received from other
//! servers alike (`db::timeline::home_rule`): for people who learn by
//! topic across organisations, the main way in.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, followed_tag::FollowedTag, Page},
    error::{Error, ErrorKind, Result},
    service::feeds,
};

/// The name `raw` stands for (lowercase, without `#`), for following:
/// Mastodon answers an invalid name there with 422 (and with 404 when
/// showing it, which [`feeds::hashtag`] gives).
///
/// Errors: `Unprocessable`.
fn followable(raw: &str) -> Result<String> {
    feeds::hashtag(raw).map_err(|_| Error::unprocessable("Validation failed: Name is invalid"))
}

/// A hashtag and whether `viewer` follows it (`None` without a viewer).
///
/// Errors: `NotFound` for a name no post could carry.
pub async fn show(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    raw: &str,
) -> Result<(String, Option<bool>)> {
    let name = feeds::hashtag(raw).map_err(|e| e.with_kind(ErrorKind::NotFound))?;
    let Some(viewer) = viewer else {
        return Ok((name, None));
    };
    let (id, n) = (viewer.id.clone(), name.clone());
    let following = data
        .db
        .run(move |conn| Ok(FollowedTag::get(conn, &id, &n)?.is_some()))
        .await?;
    Ok((name, Some(following)))
}

/// Follows a hashtag (again is no error); its normalized name.
///
/// Errors: `Unprocessable` for an invalid name.
pub async fn follow(data: &Data<Context>, viewer: &Actor, raw: &str) -> Result<String> {
    let name = followable(raw)?;
    let (id, n) = (viewer.id.clone(), name.clone());
    data.db
        .run(move |conn| Ok(FollowedTag::follow(conn, &id, &n)?))
        .await?;
    Ok(name)
}

/// Stops following a hashtag (one not followed is no error).
///
/// Errors: `Unprocessable` for an invalid name.
pub async fn unfollow(data: &Data<Context>, viewer: &Actor, raw: &str) -> Result<String> {
    let name = followable(raw)?;
    let (id, n) = (viewer.id.clone(), name.clone());
    data.db
        .run(move |conn| Ok(FollowedTag::unfollow(conn, &id, &n)?))
        .await?;
    Ok(name)
}

/// One page of the hashtags `viewer` follows, newest follow first (the
/// rows' ids page it).
pub async fn followed(
    data: &Data<Context>,
    viewer: &Actor,
    page: Page,
) -> Result<Vec<FollowedTag>> {
    let id = viewer.id.clone();
    data.db
        .run(move |conn| Ok(FollowedTag::page(conn, &id, &page)?))
        .await
}
