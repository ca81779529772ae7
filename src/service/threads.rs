//! Threads: the replies to a narration and the whole conversation around
//! it, as a viewer may see them (the client API's `context`, the web
//! permalink).

use super::posts::can_see;
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, post::Post},
    error::Result,
};
use url::Url;

/// Replies to a post that `viewer` may see, oldest first.
pub async fn replies(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    post: &Post,
) -> Result<Vec<Post>> {
    let ap_id = post.ap_id.to_string();
    let all = data
        .db
        .run(move |conn| Ok(Post::replies(conn, &ap_id)?))
        .await?;
    let mut visible = Vec::new();
    for reply in all.into_iter().filter(|p| !p.is_deleted()) {
        if can_see(data, viewer, &reply).await? {
            visible.push(reply);
        }
    }
    Ok(visible)
}

/// Most posts a thread lists on each side of the post.
pub const MAX_CONTEXT: usize = 400;

/// The thread around `post` as `viewer` may see it: its ancestors, oldest
/// first, and its replies at any depth (stored ones, remote replies
/// included), in time order; deleted posts and those of people the viewer
/// blocked or muted are left out.
pub async fn context(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    post: &Post,
) -> Result<(Vec<Post>, Vec<Post>)> {
    let mut ancestors = Vec::new();
    let mut cursor = post.in_reply_to.clone();
    while let Some(parent) = cursor.take().and_then(|u| Url::parse(&u).ok()) {
        if ancestors.len() >= MAX_CONTEXT {
            break;
        }
        let found = data
            .db
            .run(move |conn| Ok(Post::by_ap_id(conn, &parent)?))
            .await?;
        let Some(parent) = found else { break };
        cursor = parent.in_reply_to.clone();
        if !parent.is_deleted() && can_see(data, viewer, &parent).await? {
            ancestors.push(parent);
        }
    }
    ancestors.reverse();
    let mut descendants = Vec::new();
    let mut frontier = vec![post.clone()];
    while let Some(next) = frontier.pop() {
        if descendants.len() >= MAX_CONTEXT {
            break;
        }
        let mut replies = replies(data, viewer, &next).await?;
        replies.reverse();
        for reply in replies {
            descendants.push(reply.clone());
            frontier.push(reply);
        }
    }
    // Depth-first walk, then by time within the thread, as Mastodon lists them.
    descendants.sort_by(|a, b| a.id.cmp(&b.id));
    let ancestors = crate::service::blocks::without_hidden(data, viewer, ancestors).await?;
    let descendants = crate::service::blocks::without_hidden(data, viewer, descendants).await?;
    // The viewer's `hide` filters of the thread context (not the post
    // asked for itself).
    let viewer = viewer.cloned();
    data.db
        .run(move |conn| {
            use crate::service::filters::{drop_hidden_posts, FilterContext::Thread};
            Ok((
                drop_hidden_posts(conn, viewer.as_ref(), Thread, ancestors)?,
                drop_hidden_posts(conn, viewer.as_ref(), Thread, descendants)?,
            ))
        })
        .await
}
