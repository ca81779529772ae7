//! Timelines: what a viewer reads, as a page of [`Item`]s (posts and
//! boosts), newest first. Ids of posts and of boosts are both time-ordered
//! (UUIDv7), so one timeline can interleave them and page by id.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        marks::{AccountMark, MarkKind},
        post::Post,
        reaction::Reaction,
        timeline::{self, AccountFilter, Origin},
        Page,
    },
    error::{Error, Result},
};

/// One entry of a timeline.
#[derive(Debug, Clone)]
pub enum Item {
    Post(Post),
    /// `reaction` is the boost (an Announce); its id is the entry's id.
    Boost {
        reaction: Reaction,
        post: Post,
    },
}

impl Item {
    /// The id the entry is paged by (and its status id in the client API).
    pub fn id(&self) -> &str {
        match self {
            Item::Post(p) => &p.id,
            Item::Boost { reaction, .. } => &reaction.id,
        }
    }

    /// The post shown: a boost's names the boosted post.
    pub fn post(&self) -> &Post {
        match self {
            Item::Post(p) | Item::Boost { post: p, .. } => p,
        }
    }

    /// Like [`Item::post`], by value.
    pub fn into_post(self) -> Post {
        match self {
            Item::Post(p) | Item::Boost { post: p, .. } => p,
        }
    }
}

/// The largest page any list returns, as in Mastodon.
pub const MAX_LIMIT: i64 = 40;

/// Merges two newest-first lists into one page of `page.limit` entries.
fn merge(posts: Vec<Post>, boosts: Vec<(Reaction, Post)>, page: &Page) -> Vec<Item> {
    let mut items: Vec<Item> = posts.into_iter().map(Item::Post).collect();
    items.extend(
        boosts
            .into_iter()
            .map(|(reaction, post)| Item::Boost { reaction, post }),
    );
    items.sort_by(|a, b| b.id().cmp(a.id()));
    let limit = page.limit.max(0) as usize;
    if page.min_id.is_some() && page.max_id.is_none() && page.since_id.is_none() {
        // The oldest `limit` entries above `min_id`, still newest first.
        let skip = items.len().saturating_sub(limit);
        items.into_iter().skip(skip).collect()
    } else {
        items.truncate(limit);
        items
    }
}

/// The home timeline of a local account.
pub async fn home(data: &Data<Context>, viewer: &Actor, page: Page) -> Result<Vec<Item>> {
    let viewer = viewer.clone();
    data.db
        .run(move |conn| {
            let posts = timeline::home_posts(conn, &viewer, &page)?;
            let boosts = timeline::home_boosts(conn, &viewer, &page)?;
            Ok(merge(posts, boosts, &page))
        })
        .await
}

/// The public timeline.
pub async fn public(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    origin: Origin,
    page: Page,
) -> Result<Vec<Item>> {
    let viewer = viewer.cloned();
    data.db
        .run(move |conn| {
            let posts = timeline::public_posts(conn, viewer.as_ref(), origin, &page)?;
            Ok(posts.into_iter().map(Item::Post).collect())
        })
        .await
}

/// Public posts with a hashtag.
pub async fn tag(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    tag: &str,
    origin: Origin,
    page: Page,
) -> Result<Vec<Item>> {
    let (viewer, tag) = (viewer.cloned(), tag.trim_start_matches('#').to_string());
    data.db
        .run(move |conn| {
            let posts = timeline::tag_posts(conn, viewer.as_ref(), &tag, origin, &page)?;
            Ok(posts.into_iter().map(Item::Post).collect())
        })
        .await
}

/// Filters of an account's statuses.
#[derive(Debug, Clone, Default)]
pub struct AccountStatuses {
    pub filter: AccountFilter,
    pub exclude_reblogs: bool,
    /// Outloud has no media attachments, so "only media" is always empty.
    pub only_media: bool,
}

/// An account's posts and boosts that `viewer` may see.
pub async fn account(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    account: &Actor,
    options: AccountStatuses,
    page: Page,
) -> Result<Vec<Item>> {
    if options.only_media {
        return Ok(Vec::new());
    }
    if account.kind() == crate::db::actor::ActorKind::Group {
        return community(data, viewer, account, page).await;
    }
    let is_self = viewer.is_some_and(|v| v.id == account.id);
    let follows = match viewer {
        Some(v) if !is_self => {
            let (v, a) = (v.id.clone(), account.id.clone());
            data.db
                .run(move |conn| Ok(crate::db::follow::Follow::is_following(conn, &v, &a)?))
                .await?
        }
        _ => false,
    };
    let mut visible = vec!["public", "unlisted"];
    if is_self || follows {
        visible.push("followers");
    }
    if is_self {
        visible.push("direct");
    }
    if viewer.is_some_and(|v| v.local) && account.local {
        visible.push("local");
    }
    let account_id = account.id.clone();
    let with_boosts =
        !options.exclude_reblogs && !options.filter.pinned && options.filter.tagged.is_none();
    data.db
        .run(move |conn| {
            let posts =
                timeline::account_posts(conn, &account_id, &visible, &options.filter, &page)?;
            let boosts = if with_boosts {
                timeline::account_boosts(conn, &account_id, &page)?
            } else {
                Vec::new()
            };
            Ok(merge(posts, boosts, &page))
        })
        .await
}

/// What a community shared: its posts the viewer may see. Members see
/// what is addressed to members only too.
async fn community(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    group: &Actor,
    page: Page,
) -> Result<Vec<Item>> {
    let member = match viewer {
        Some(v) => crate::service::communities::is_member(data, group, v).await?,
        None => false,
    };
    let mut visible = vec!["public", "unlisted"];
    if member {
        visible.extend(["followers", "direct"]);
    }
    if viewer.is_some_and(|v| v.local) && group.local {
        visible.push("local");
    }
    let group_id = group.id.clone();
    let posts = data
        .db
        .run(move |conn| Ok(timeline::community_posts(conn, &group_id, &visible, &page)?))
        .await?;
    Ok(posts.into_iter().map(Item::Post).collect())
}

/// Posts the viewer liked; the page's ids are those of the likes.
pub async fn favourites(
    data: &Data<Context>,
    viewer: &Actor,
    page: Page,
) -> Result<(Vec<Post>, Option<(String, String)>)> {
    let viewer_id = viewer.id.clone();
    let rows = data
        .db
        .run(move |conn| Ok(timeline::liked_by(conn, &viewer_id, &page)?))
        .await?;
    let bounds = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => Some((first.0.id.clone(), last.0.id.clone())),
        _ => None,
    };
    Ok((rows.into_iter().map(|(_, p)| p).collect(), bounds))
}

/// Posts the viewer bookmarked; the page's ids are those of the bookmarks.
pub async fn bookmarks(
    data: &Data<Context>,
    viewer: &Actor,
    page: Page,
) -> Result<(Vec<Post>, Option<(String, String)>)> {
    let viewer_id = viewer.id.clone();
    let (marks, posts) = data
        .db
        .run(move |conn| {
            let marks = AccountMark::list(conn, &viewer_id, MarkKind::Bookmark, &page)?;
            let mut posts = Vec::new();
            for mark in &marks {
                if let Some(post) = Post::by_id(conn, &mark.target_id)? {
                    if !post.is_deleted() {
                        posts.push(post);
                    }
                }
            }
            Ok((marks, posts))
        })
        .await?;
    let bounds = match (marks.first(), marks.last()) {
        (Some(first), Some(last)) => Some((first.id.clone(), last.id.clone())),
        _ => None,
    };
    Ok((posts, bounds))
}

/// A conversation: the direct posts of one thread.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// The thread's id (its first post's ActivityPub id), as a stable key.
    pub id: String,
    pub last: Post,
}

/// Direct conversations of the viewer, most recent first.
pub async fn conversations(
    data: &Data<Context>,
    viewer: &Actor,
    limit: i64,
) -> Result<Vec<Conversation>> {
    let viewer = viewer.clone();
    let posts = data
        .db
        .run(move |conn| Ok(timeline::direct_posts(conn, &viewer, 400)?))
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for post in posts {
        let key = post
            .thread
            .clone()
            .unwrap_or_else(|| post.ap_id.to_string());
        if seen.insert(key.clone()) {
            out.push(Conversation {
                id: key,
                last: post,
            });
            if out.len() as i64 >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// A status id of the client API: a post's or a boost's.
pub async fn item_by_id(data: &Data<Context>, viewer: Option<&Actor>, id: &str) -> Result<Item> {
    let id_owned = id.to_string();
    let boost = data
        .db
        .run(move |conn| {
            let Some(reaction) = Reaction::by_id(conn, &id_owned)? else {
                return Ok(None);
            };
            if reaction.kind != "announce" {
                return Ok(None);
            }
            Ok(Post::by_id(conn, &reaction.post_id)?.map(|post| (reaction, post)))
        })
        .await?;
    if let Some((reaction, post)) = boost {
        if post.is_deleted() || !crate::service::posts::can_see(data, viewer, &post).await? {
            return Err(Error::not_found("Record not found"));
        }
        return Ok(Item::Boost { reaction, post });
    }
    crate::service::posts::get(data, viewer, id)
        .await
        .map(Item::Post)
        .map_err(|e| e.with_kind(crate::error::ErrorKind::NotFound))
}
