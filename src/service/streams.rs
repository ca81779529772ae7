//! Which timeline an event belongs on, for one reader: the streaming API's
//! questions, answered by the timelines' own queries (`db::timeline`'s
//! `*_contains`, the rules `home_posts`, `public_posts`, `tag_posts` and
//! `direct_posts` page with), so a stream never shows what the same
//! reader's REST timeline would not. There is no visibility rule here.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        audience::Audience,
        list::List,
        post::Post,
        timeline::{self, Origin},
    },
    error::{Error, ErrorKind, Result},
    service::timelines::{home_entry, Item},
};

/// A timeline a stream follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeline<'a> {
    /// `GET /api/v1/timelines/home`
    Home,
    /// `GET /api/v1/timelines/public`
    Public(Origin),
    /// `GET /api/v1/timelines/tag/:tag`
    Tag(&'a str, Origin),
    /// `GET /api/v1/conversations`
    Direct,
}

/// The post as `timeline` shows it to `viewer`, or `None` when it is not
/// on it. With `deleted_too`, whether it was (for a post deleted since:
/// a `delete` event goes where the post was shown).
pub async fn post_on(
    data: &Data<Context>,
    viewer: &Actor,
    timeline: Timeline<'_>,
    post_id: &str,
    deleted_too: bool,
) -> Result<Option<Item>> {
    let viewer = viewer.clone();
    let post_id = post_id.to_string();
    let tag = match timeline {
        Timeline::Tag(tag, _) => tag.trim_start_matches('#').to_string(),
        _ => String::new(),
    };
    let timeline = match timeline {
        Timeline::Home => Owned::Home,
        Timeline::Public(origin) => Owned::Public(origin),
        Timeline::Tag(_, origin) => Owned::Tag(origin),
        Timeline::Direct => Owned::Direct,
    };
    data.db
        .run(move |conn| {
            let on = match timeline {
                Owned::Home => timeline::home_contains(conn, &viewer, &post_id, deleted_too)?,
                Owned::Public(origin) => {
                    timeline::public_contains(conn, Some(&viewer), origin, &post_id, deleted_too)?
                }
                Owned::Tag(origin) => timeline::tag_contains(
                    conn,
                    Some(&viewer),
                    &tag,
                    origin,
                    &post_id,
                    deleted_too,
                )?,
                Owned::Direct => timeline::direct_contains(conn, &viewer, &post_id, deleted_too)?,
            };
            if !on {
                return Ok(None);
            }
            let Some(post) = Post::by_id(conn, &post_id)? else {
                return Ok(None);
            };
            Ok(Some(match timeline {
                Owned::Home => {
                    let communities: Vec<String> = post.community_id.iter().cloned().collect();
                    let joined = timeline::followed_among(conn, &viewer.id, &communities)?;
                    home_entry(post, &joined, &viewer)
                }
                _ => Item::Post(post),
            }))
        })
        .await
}

/// [`Timeline`] without the borrowed tag, to move into a blocking task.
#[derive(Clone, Copy)]
enum Owned {
    Home,
    Public(Origin),
    Tag(Origin),
    Direct,
}

/// A boost as the viewer's home timeline shows it, or `None` when it is
/// not on it.
pub async fn boost_on_home(
    data: &Data<Context>,
    viewer: &Actor,
    reaction_id: &str,
) -> Result<Option<Item>> {
    let (viewer, id) = (viewer.clone(), reaction_id.to_string());
    data.db
        .run(move |conn| {
            Ok(timeline::home_boost(conn, &viewer, &id)?
                .map(|(reaction, post)| Item::Boost { reaction, post }))
        })
        .await
}

/// Whether `viewer` may follow the list `list_id`: only their own.
///
/// Errors: `NotFound` for an unknown list or another person's, as
/// Mastodon answers both.
pub async fn list_readable(data: &Data<Context>, viewer: &Actor, list_id: &str) -> Result<()> {
    match crate::service::lists::get(data, viewer, list_id).await {
        Ok(_) => Ok(()),
        // The streaming server's own wording, as before lists existed.
        Err(e) if e.kind == ErrorKind::NotFound => Err(Error::not_found("List not found")),
        Err(e) => Err(e),
    }
}

/// Whether the post is on the list's timeline (for the `list` stream),
/// by the timeline's own rule; `false` for a list that is gone or not the
/// viewer's. A deleted post counts when it was on it (its `delete`).
pub async fn list_contains(
    data: &Data<Context>,
    viewer: &Actor,
    list_id: &str,
    post_id: &str,
) -> Result<bool> {
    let (viewer, list_id, post_id) = (viewer.clone(), list_id.to_string(), post_id.to_string());
    data.db
        .run(move |conn| {
            // The Partners alias (`service::partners`) is the partners
            // timeline under a list's name: its rule, not a membership.
            if list_id == crate::service::partners::LIST_ID {
                return Ok(timeline::partners_contains(conn, &viewer, &post_id, true)?);
            }
            let Some(list) = List::owned(conn, &viewer.id, &list_id)? else {
                return Ok(false);
            };
            let policy = crate::service::lists::policy_of(&list);
            Ok(timeline::list_contains(
                conn, &viewer, &list.id, policy, &post_id, true,
            )?)
        })
        .await
}

/// One post's audience among `reader_ids` (see [`Audience`]): what the
/// dispatcher needs to send a post's event to every connected reader with
/// a few queries instead of one per reader (their accounts it has).
/// `None` when the post does not exist (or was deleted, unless
/// `deleted_too`).
pub async fn audience(
    data: &Data<Context>,
    post_id: &str,
    reader_ids: Vec<String>,
    deleted_too: bool,
) -> Result<Option<Audience>> {
    let post_id = post_id.to_string();
    data.db
        .run(move |conn| Ok(Audience::load(conn, &post_id, &reader_ids, deleted_too)?))
        .await
}
