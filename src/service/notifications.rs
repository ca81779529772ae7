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

/// Notification types that group by default (Mastodon's).
pub const GROUPED_TYPES: &[&str] = &["favourite", "reblog", "follow"];

/// How long a group of likes, boosts or follows may span: notifications of
/// one kind (about one post) within the same 12-hour window share a group.
const GROUP_SPAN_SECONDS: i64 = 12 * 3600;

/// A notification's group key, as Mastodon forms it: `ungrouped-{id}` for
/// kinds that do not group, else type, post and time window.
pub fn group_key(n: &Notification, grouped_types: &[String]) -> String {
    if !grouped_types.iter().any(|t| t == &n.kind) {
        return format!("ungrouped-{}", n.id);
    }
    let bucket = n.created_at.and_utc().timestamp() / GROUP_SPAN_SECONDS;
    match &n.post_id {
        Some(post) => format!("{}-{post}-{bucket}", n.kind),
        None => format!("{}-{bucket}", n.kind),
    }
}

/// A group of notifications on one page.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: String,
    pub kind: String,
    /// Newest first; the first is the most recent.
    pub entries: Vec<Entry>,
    /// How many notifications the whole group holds, beyond this page too.
    pub total: i64,
}

/// One page of notifications, grouped: the page is taken over single
/// notifications (so paging ids stay notification ids), then notifications
/// of a group on the page are folded into it.
pub async fn grouped(
    data: &Data<Context>,
    viewer: &Actor,
    query: NotificationQuery,
    grouped_types: Vec<String>,
) -> Result<(Vec<Group>, Option<(String, String)>)> {
    let entries = list(data, viewer, query).await?;
    let bounds = match (entries.first(), entries.last()) {
        (Some(a), Some(b)) => Some((a.notification.id.clone(), b.notification.id.clone())),
        _ => None,
    };
    let mut groups: Vec<Group> = Vec::new();
    for entry in entries {
        let key = group_key(&entry.notification, &grouped_types);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(group) => group.entries.push(entry),
            None => groups.push(Group {
                key,
                kind: entry.notification.kind.clone(),
                entries: vec![entry],
                total: 0,
            }),
        }
    }
    let viewer_id = viewer.id.clone();
    let keys: Vec<(String, Notification)> = groups
        .iter()
        .map(|g| (g.key.clone(), g.entries[0].notification.clone()))
        .collect();
    let totals = data
        .db
        .run(move |conn| {
            let mut totals = Vec::new();
            for (key, sample) in &keys {
                totals.push(if key.starts_with("ungrouped-") {
                    1
                } else {
                    group_members(conn, &viewer_id, sample)?.len() as i64
                });
            }
            Ok(totals)
        })
        .await?;
    for (group, total) in groups.iter_mut().zip(totals) {
        group.total = total.max(group.entries.len() as i64);
    }
    Ok((groups, bounds))
}

/// Ids of the notifications in `sample`'s group.
fn group_members(
    conn: &mut crate::db::DbConn,
    recipient: &str,
    sample: &Notification,
) -> diesel::QueryResult<Vec<String>> {
    use crate::db::schema::notifications;
    use diesel::prelude::*;
    let bucket = sample.created_at.and_utc().timestamp() / GROUP_SPAN_SECONDS;
    let start = chrono::DateTime::from_timestamp(bucket * GROUP_SPAN_SECONDS, 0)
        .map(|t| t.naive_utc())
        .unwrap_or(sample.created_at);
    let end = start + chrono::TimeDelta::seconds(GROUP_SPAN_SECONDS);
    let mut q = notifications::table
        .filter(notifications::recipient_id.eq(recipient.to_string()))
        .filter(notifications::kind.eq(sample.kind.clone()))
        .filter(notifications::created_at.ge(start))
        .filter(notifications::created_at.lt(end))
        .select(notifications::id)
        .into_boxed();
    q = match &sample.post_id {
        Some(post) => q.filter(notifications::post_id.eq(post.clone())),
        None => q.filter(notifications::post_id.is_null()),
    };
    q.load(conn)
}

/// The notifications of one group (newest first).
///
/// Errors: `NotFound` when the key names no notification of the viewer.
pub async fn group(data: &Data<Context>, viewer: &Actor, key: &str) -> Result<Group> {
    let viewer_id = viewer.id.clone();
    let sample_id = key.strip_prefix("ungrouped-").map(|id| id.to_string());
    let key_owned = key.to_string();
    let ids = data
        .db
        .run(move |conn| {
            use crate::db::schema::notifications;
            use diesel::prelude::*;
            if let Some(id) = sample_id {
                return Ok(vec![id]);
            }
            // Find a notification whose key matches, among the group's
            // candidates (same kind prefix).
            let kind = key_owned.split('-').next().unwrap_or("").to_string();
            let candidates: Vec<Notification> = notifications::table
                .filter(notifications::recipient_id.eq(viewer_id.clone()))
                .filter(notifications::kind.eq(kind))
                .order(notifications::id.desc())
                .limit(1000)
                .load(conn)?;
            let grouped: Vec<String> = GROUPED_TYPES.iter().map(|t| t.to_string()).collect();
            match candidates
                .iter()
                .find(|n| group_key(n, &grouped) == key_owned)
            {
                Some(sample) => {
                    let mut ids = group_members(conn, &viewer_id, sample)?;
                    ids.sort_by(|a, b| b.cmp(a));
                    Ok(ids)
                }
                None => Ok(Vec::new()),
            }
        })
        .await?;
    let mut entries = Vec::new();
    for id in ids {
        if let Ok(entry) = get(data, viewer, &id).await {
            entries.push(entry);
        }
    }
    let first = entries
        .first()
        .ok_or_else(|| Error::not_found("Record not found"))?;
    Ok(Group {
        key: key.to_string(),
        kind: first.notification.kind.clone(),
        total: entries.len() as i64,
        entries,
    })
}

/// Dismisses every notification of a group.
pub async fn dismiss_group(data: &Data<Context>, viewer: &Actor, key: &str) -> Result<()> {
    let group = group(data, viewer, key).await?;
    for entry in group.entries {
        dismiss(data, viewer, &entry.notification.id).await?;
    }
    Ok(())
}
