//! Notifications of local accounts. They are written by the storage layer
//! where the event is stored (`db::notification`); this lists and clears
//! them.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        notification::{Notification, NotificationQuery},
        post::Post,
    },
    error::{Error, Result},
};

/// Mastodon's notification types that Outloud produces.
pub const TYPES: &[&str] = &[
    "mention",
    "reblog",
    "favourite",
    "follow",
    "follow_request",
    "update",
];

/// A notification with who caused it and the post it is about (if any,
/// and if the recipient may still see it).
#[derive(Debug, Clone)]
pub struct Entry {
    pub notification: Notification,
    pub from: Actor,
    pub post: Option<Post>,
}

async fn with_posts(
    data: &Data<Context>,
    viewer: &Actor,
    rows: Vec<(Notification, Actor)>,
) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (notification, from) in rows {
        let post = match notification.post_id.clone() {
            Some(id) => {
                let post = data.db.run(move |conn| Ok(Post::by_id(conn, &id)?)).await?;
                match post {
                    Some(p)
                        if !p.is_deleted()
                            && crate::service::posts::can_see(data, Some(viewer), &p).await? =>
                    {
                        Some(p)
                    }
                    // The post is gone: so is the notification's point.
                    _ => continue,
                }
            }
            None => None,
        };
        entries.push(Entry {
            notification,
            from,
            post,
        });
    }
    Ok(entries)
}

pub async fn list(
    data: &Data<Context>,
    viewer: &Actor,
    query: NotificationQuery,
) -> Result<Vec<Entry>> {
    let id = viewer.id.clone();
    let rows = data
        .db
        .run(move |conn| Ok(Notification::list(conn, &id, &query)?))
        .await?;
    with_posts(data, viewer, rows).await
}

/// Errors: `NotFound`.
pub async fn get(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<Entry> {
    let (viewer_id, id) = (viewer.id.clone(), id.to_string());
    let row = data
        .db
        .run(move |conn| Ok(Notification::by_id(conn, &viewer_id, &id)?))
        .await?
        .ok_or_else(|| Error::not_found("Record not found"))?;
    with_posts(data, viewer, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("Record not found"))
}

pub async fn dismiss(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<()> {
    let (viewer_id, id) = (viewer.id.clone(), id.to_string());
    let n = data
        .db
        .run(move |conn| Ok(Notification::dismiss(conn, &viewer_id, &id)?))
        .await?;
    if n == 0 {
        return Err(Error::not_found("Record not found"));
    }
    Ok(())
}

pub async fn clear(data: &Data<Context>, viewer: &Actor) -> Result<()> {
    let viewer_id = viewer.id.clone();
    data.db
        .run(move |conn| Ok(Notification::clear(conn, &viewer_id)?))
        .await?;
    Ok(())
}
