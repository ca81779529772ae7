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
    service::filters::{drop_hidden, FilterContext},
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
    /// A community's share of a post (recorded as the post's
    /// `community_id`), shown as the community's reblog, as Mastodon shows
    /// Lemmy and Friendica group shares. `id` is [`share_id`] of the post:
    /// a share has no row of its own (a local community's has no Announce
    /// at all), and the id must still be stable and sort where the post
    /// does, so clients can page by it.
    Share {
        id: String,
        group_id: String,
        post: Post,
    },
}

impl Item {
    /// The id of the entry (and its status id in the client API).
    pub fn id(&self) -> &str {
        match self {
            Item::Post(p) => &p.id,
            Item::Boost { reaction, .. } => &reaction.id,
            Item::Share { id, .. } => id,
        }
    }

    /// The id the entry is ordered and paged by: a share's is its post's,
    /// as the queries page posts by their id.
    pub fn key(&self) -> &str {
        match self {
            Item::Share { post, .. } => &post.id,
            _ => self.id(),
        }
    }

    /// The post shown: a boost's or share's names the boosted post.
    pub fn post(&self) -> &Post {
        match self {
            Item::Post(p) | Item::Boost { post: p, .. } | Item::Share { post: p, .. } => p,
        }
    }

    /// Like [`Item::post`], by value.
    pub fn into_post(self) -> Post {
        match self {
            Item::Post(p) | Item::Boost { post: p, .. } | Item::Share { post: p, .. } => p,
        }
    }

    /// The post as its community's share, or as itself when it was shared
    /// in none (or its id is not one a share id can be made of).
    pub fn shared(post: Post) -> Item {
        match (post.community_id.clone(), share_id(&post.id)) {
            (Some(group_id), Some(id)) => Item::Share { id, group_id, post },
            _ => Item::Post(post),
        }
    }
}

/// The status id of a community's share of a post: the post's id (a
/// UUIDv7) as a UUIDv8 with the same bits. It sorts next to the post's id,
/// never equals an id of a row (those are all UUIDv7), and maps back with
/// [`shared_post_id`].
pub fn share_id(post_id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(post_id).ok()?;
    (id.get_version_num() == 7).then(|| {
        uuid::Builder::from_custom_bytes(*id.as_bytes())
            .into_uuid()
            .to_string()
    })
}

/// The post a share id (see [`share_id`]) stands for.
pub fn shared_post_id(id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(id).ok()?;
    (id.get_version_num() == 8).then(|| {
        uuid::Builder::from_bytes(*id.as_bytes())
            .with_version(uuid::Version::SortRand)
            .into_uuid()
            .to_string()
    })
}

/// The page with share ids in its bounds replaced by their posts' ids,
/// which is what the queries compare with (see [`Item::key`]).
fn in_post_ids(page: Page) -> Page {
    let map = |id: Option<String>| id.map(|id| shared_post_id(&id).unwrap_or(id));
    Page {
        max_id: map(page.max_id),
        since_id: map(page.since_id),
        min_id: map(page.min_id),
        limit: page.limit,
        narration_kind: page.narration_kind,
    }
}

/// The largest page any list returns, as in Mastodon.
pub const MAX_LIMIT: i64 = 40;

/// Merges two newest-first lists into one page of `page.limit` entries.
fn merge(mut items: Vec<Item>, boosts: Vec<(Reaction, Post)>, page: &Page) -> Vec<Item> {
    items.extend(
        boosts
            .into_iter()
            .map(|(reaction, post)| Item::Boost { reaction, post }),
    );
    items.sort_by(|a, b| b.key().cmp(a.key()));
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

/// The home timeline of a local account. A post shared in a community
/// the viewer joined is shown once, as the community's share, even when
/// the viewer also follows its author (Mastodon shows a reblog once
/// likewise); the viewer's own posts stay their own.
pub async fn home(data: &Data<Context>, viewer: &Actor, page: Page) -> Result<Vec<Item>> {
    let viewer = viewer.clone();
    let page = in_post_ids(page);
    data.db
        .run(move |conn| {
            let posts = timeline::home_posts(conn, &viewer, &page)?;
            let communities: Vec<String> = posts
                .iter()
                .filter_map(|p| p.community_id.clone())
                .collect();
            let joined = timeline::followed_among(conn, &viewer.id, &communities)?;
            let items = posts
                .into_iter()
                .map(|post| home_entry(post, &joined, &viewer))
                .collect();
            let boosts = timeline::home_boosts(conn, &viewer, &page)?;
            let items = merge(items, boosts, &page);
            Ok(drop_hidden(
                conn,
                Some(&viewer),
                FilterContext::Home,
                items,
            )?)
        })
        .await
}

/// How home shows a post: as its community's share when the viewer joined
/// that community (and did not write it), else as itself. `joined` are
/// the communities joined among those the posts were shared in.
pub(crate) fn home_entry(post: Post, joined: &[String], viewer: &Actor) -> Item {
    if comes_as_share(&post, joined, viewer) {
        Item::shared(post)
    } else {
        Item::Post(post)
    }
}

/// Whether [`home_entry`] shows `post` as its community's share.
pub(crate) fn comes_as_share(post: &Post, joined: &[String], viewer: &Actor) -> bool {
    let joined_share = post
        .community_id
        .as_ref()
        .is_some_and(|c| joined.contains(c));
    joined_share && post.author_id != viewer.id
}

/// A list's timeline (see `db::timeline::list_rule`): its members' posts
/// and boosts, with home's filters (Mastodon's `home` filter context
/// covers lists).
///
/// Errors: `NotFound` for an unknown list or another person's.
pub async fn list(
    data: &Data<Context>,
    viewer: &Actor,
    list_id: &str,
    page: Page,
) -> Result<Vec<Item>> {
    let list = crate::service::lists::get(data, viewer, list_id).await?;
    if list.id == crate::service::partners::LIST_ID {
        return crate::service::partners::timeline(data, viewer, page).await;
    }
    let policy = crate::service::lists::policy_of(&list);
    let viewer = viewer.clone();
    data.db
        .run(move |conn| {
            let posts = timeline::list_posts(conn, &viewer, &list.id, policy, &page)?;
            let boosts = timeline::list_boosts(conn, &viewer, &list.id, &page)?;
            let items = merge(posts.into_iter().map(Item::Post).collect(), boosts, &page);
            Ok(drop_hidden(
                conn,
                Some(&viewer),
                FilterContext::Home,
                items,
            )?)
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
            let items = posts.into_iter().map(Item::Post).collect();
            Ok(drop_hidden(
                conn,
                viewer.as_ref(),
                FilterContext::Public,
                items,
            )?)
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
            let items = posts.into_iter().map(Item::Post).collect();
            Ok(drop_hidden(
                conn,
                viewer.as_ref(),
                FilterContext::Public,
                items,
            )?)
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
        return community(data, viewer, account, options.filter.exclude_replies, page).await;
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
        visible.extend(["local", "local_unlisted"]);
    }
    let account_id = account.id.clone();
    let viewer = viewer.cloned();
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
            let items = merge(posts.into_iter().map(Item::Post).collect(), boosts, &page);
            // A reader's own posts are never hidden from their profile.
            if is_self {
                return Ok(items);
            }
            Ok(drop_hidden(
                conn,
                viewer.as_ref(),
                FilterContext::Account,
                items,
            )?)
        })
        .await
}

/// What a community shared: its posts the viewer may see, as its shares
/// (the community's reblogs). Members see what is addressed to members
/// only too. `exclude_replies` keeps the threads' first posts only.
async fn community(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    group: &Actor,
    exclude_replies: bool,
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
        visible.extend(["local", "local_unlisted"]);
    }
    let group_id = group.id.clone();
    let page = in_post_ids(page);
    let viewer = viewer.cloned();
    data.db
        .run(move |conn| {
            let posts =
                timeline::community_posts(conn, &group_id, &visible, exclude_replies, &page)?;
            let items = posts.into_iter().map(Item::shared).collect();
            Ok(drop_hidden(
                conn,
                viewer.as_ref(),
                FilterContext::Account,
                items,
            )?)
        })
        .await
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

/// A status id of the client API: a post's, a boost's or a community's
/// share's.
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
    if let Some(post_id) = shared_post_id(id) {
        let post = crate::service::posts::get(data, viewer, &post_id)
            .await
            .map_err(|e| e.with_kind(crate::error::ErrorKind::NotFound))?;
        return match Item::shared(post) {
            share @ Item::Share { .. } => Ok(share),
            _ => Err(Error::not_found("Record not found")),
        };
    }
    crate::service::posts::get(data, viewer, id)
        .await
        .map(Item::Post)
        .map_err(|e| e.with_kind(crate::error::ErrorKind::NotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_ids_map_back_and_sort_next_to_their_posts() {
        let (older, post, newer) = (
            crate::db::new_id(),
            crate::db::new_id(),
            crate::db::new_id(),
        );
        let share = share_id(&post).unwrap();
        assert_ne!(share, post);
        assert_eq!(shared_post_id(&share).as_deref(), Some(post.as_str()));
        // A row's id (UUIDv7) is never taken for a share's.
        assert_eq!(shared_post_id(&post), None);
        assert_eq!(share_id(&share), None);
        assert_eq!(share_id("not-a-uuid"), None);
        // Same timestamp bits: it sorts where its post does (ids made in
        // another millisecond are on the same side of both).
        assert_eq!(share[..13], post[..13]);
        if older[..13] < post[..13] {
            assert!(older < share);
        }
        if newer[..13] > post[..13] {
            assert!(newer > share);
        }
    }

    #[test]
    fn pages_bounded_by_share_ids_compare_post_ids() {
        let post = crate::db::new_id();
        let share = share_id(&post).unwrap();
        let page = in_post_ids(Page {
            max_id: Some(share.clone()),
            since_id: Some(share),
            min_id: Some("other".into()),
            limit: 5,
            narration_kind: None,
        });
        assert_eq!(page.max_id.as_deref(), Some(post.as_str()));
        assert_eq!(page.since_id.as_deref(), Some(post.as_str()));
        assert_eq!(page.min_id.as_deref(), Some("other"));
    }
}
