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
    "admin.report",
];

/// Whether the client API shows notifications of this kind (Mastodon's
/// kinds only: Outloud's own `join_request` would be misread by apps).
pub fn for_clients(kind: &str) -> bool {
    TYPES.contains(&kind)
}

/// The `within` of a [`NotificationQuery`] for the client API.
pub fn client_kinds() -> Vec<String> {
    TYPES.iter().map(|t| t.to_string()).collect()
}

/// A notification with who caused it and the post it is about (if any,
/// and if the recipient may still see it).
#[derive(Debug, Clone)]
pub struct Entry {
    pub notification: Notification,
    pub from: Actor,
    pub post: Option<Post>,
    /// The community a `join_request` is about.
    pub group: Option<Actor>,
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
        let group = match notification.group_id.clone() {
            Some(id) => {
                let group = data
                    .db
                    .run(move |conn| Ok(Actor::by_id(conn, &id)?))
                    .await?;
                match group {
                    Some(g) => Some(g),
                    // The community is gone: so is the request.
                    None => continue,
                }
            }
            None => None,
        };
        entries.push(Entry {
            notification,
            from,
            post,
            group,
        });
    }
    without_filtered(data, viewer, entries).await
}

/// The entries without those whose post a `hide` filter of the
/// notifications context matches (`warn` ones stay: their status carries
/// `filtered`). One query for a viewer without filters.
async fn without_filtered(
    data: &Data<Context>,
    viewer: &Actor,
    entries: Vec<Entry>,
) -> Result<Vec<Entry>> {
    use crate::service::filters::{descriptions_of, Active, FilterContext};
    if entries.iter().all(|e| e.post.is_none()) {
        return Ok(entries);
    }
    let viewer = viewer.clone();
    data.db
        .run(move |conn| {
            let active = Active::of_viewer(conn, Some(&viewer))?;
            if !active.hides_in(FilterContext::Notifications) {
                return Ok(entries);
            }
            let posts: Vec<&Post> = entries.iter().filter_map(|e| e.post.as_ref()).collect();
            let descriptions = descriptions_of(conn, &posts)?;
            Ok(entries
                .into_iter()
                .filter(|e| {
                    e.post.as_ref().is_none_or(|p| {
                        let d: Vec<&str> = descriptions
                            .get(&p.id)
                            .map(|v| v.iter().map(String::as_str).collect())
                            .unwrap_or_default();
                        !active.hides(FilterContext::Notifications, p, &d)
                    })
                })
                .collect())
        })
        .await
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

/// One notification as the client API sees it (of a Mastodon kind).
///
/// Errors: `NotFound`.
pub async fn get(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<Entry> {
    let (viewer_id, id) = (viewer.id.clone(), id.to_string());
    let row = data
        .db
        .run(move |conn| Ok(Notification::by_id(conn, &viewer_id, &id)?))
        .await?
        .filter(|(n, _)| for_clients(&n.kind))
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

/// Notifications the viewer has not read: those newer than their
/// `notifications` marker (Mastodon's reading position, which apps and
/// the web app's notifications page move), all of them without one.
/// Every kind counts (the web app's header shows join requests too).
pub async fn unread_count(data: &Data<Context>, viewer: &Actor) -> Result<i64> {
    count_unread(data, viewer, &[]).await
}

/// [`unread_count`] as the client API counts: Mastodon's kinds only.
pub async fn client_unread_count(data: &Data<Context>, viewer: &Actor) -> Result<i64> {
    count_unread(data, viewer, TYPES).await
}

async fn count_unread(
    data: &Data<Context>,
    viewer: &Actor,
    within: &'static [&str],
) -> Result<i64> {
    let viewer_id = viewer.id.clone();
    data.db
        .run(move |conn| {
            let marker =
                crate::db::marks::Marker::get(conn, &viewer_id, &["notifications".into()])?;
            let after = marker.first().map(|m| m.last_read_id.as_str());
            Ok(Notification::count_after(conn, &viewer_id, after, within)?)
        })
        .await
}

/// A page of notifications as a person reads it on the web.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Newest first.
    pub entries: Vec<Entry>,
    /// Who among the page's `follow_request`s still waits for an answer
    /// (actor ids).
    pub pending: std::collections::HashSet<String>,
    /// Which of the page's `join_request`s still wait for a moderator's
    /// answer, as (community id, applicant id); a request to a community
    /// the viewer no longer moderates is not theirs to answer.
    pub pending_joins: std::collections::HashSet<(String, String)>,
    /// The ids of the newest and the oldest notification of the page, for
    /// paging.
    pub bounds: Option<(String, String)>,
    /// How many notifications the page held before any was left out.
    pub listed: usize,
}

/// One page of the viewer's notifications, read: notifications about a
/// report the viewer may no longer see are left out (as the client API
/// leaves them out), pending follow requests are marked, and the
/// `notifications` marker moves forward to the newest one shown.
pub async fn read_page(
    data: &Data<Context>,
    viewer: &Actor,
    page: crate::db::Page,
) -> Result<Reading> {
    let query = NotificationQuery {
        page,
        ..NotificationQuery::default()
    };
    let listed = list(data, viewer, query).await?;
    let bounds = match (listed.first(), listed.last()) {
        (Some(a), Some(b)) => Some((a.notification.id.clone(), b.notification.id.clone())),
        _ => None,
    };
    let count = listed.len();
    let mut entries = Vec::with_capacity(count);
    for entry in listed {
        if let Some(report) = &entry.notification.report_id {
            if crate::service::reports::for_notification(data, viewer, report)
                .await?
                .is_none()
            {
                continue;
            }
        }
        entries.push(entry);
    }
    let pending = if entries
        .iter()
        .any(|e| e.notification.kind == "follow_request")
    {
        crate::service::follows::pending_requests(data, viewer)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect()
    } else {
        Default::default()
    };
    let mut pending_joins = std::collections::HashSet::new();
    let mut groups: Vec<&Actor> = Vec::new();
    for entry in &entries {
        if let Some(group) = &entry.group {
            if entry.notification.kind == crate::db::notification::JOIN_REQUEST
                && !groups.iter().any(|g| g.id == group.id)
            {
                groups.push(group);
            }
        }
    }
    for group in groups {
        if !crate::service::moderation::is_moderator(data, group, viewer).await? {
            continue;
        }
        for applicant in crate::service::moderation::pending_members(data, group).await? {
            pending_joins.insert((group.id.clone(), applicant.id));
        }
    }
    if let Some((newest, _)) = &bounds {
        mark_read(data, viewer, newest).await?;
    }
    Ok(Reading {
        entries,
        pending,
        pending_joins,
        bounds,
        listed: count,
    })
}

/// Moves the viewer's `notifications` marker forward to `newest_seen` (a
/// notification id), as a person reading their notifications page does;
/// never back, so reading an older page does not make newer ones unread
/// again. Ids are time-ordered, so "forward" is "greater".
pub async fn mark_read(data: &Data<Context>, viewer: &Actor, newest_seen: &str) -> Result<()> {
    let (viewer_id, seen) = (viewer.id.clone(), newest_seen.to_string());
    data.db
        .transaction(move |conn| {
            use crate::db::marks::Marker;
            let current = Marker::get(conn, &viewer_id, &["notifications".into()])?;
            if current.first().is_some_and(|m| m.last_read_id >= seen) {
                return Ok(());
            }
            Marker::save(conn, &viewer_id, "notifications", &seen)?;
            Ok(())
        })
        .await
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

/// What notifications of one group share: kind, post and 12-hour window.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupKey {
    kind: String,
    post_id: Option<String>,
    window: i64,
}

impl GroupKey {
    fn of(n: &Notification) -> GroupKey {
        GroupKey {
            kind: n.kind.clone(),
            post_id: n.post_id.clone(),
            window: n.created_at.and_utc().timestamp() / GROUP_SPAN_SECONDS,
        }
    }

    /// Reads `{kind}-{post}-{window}` or `{kind}-{window}` back (post ids
    /// hold dashes; kinds and windows do not).
    fn parse(key: &str) -> Option<GroupKey> {
        let (kind, rest) = key.split_once('-')?;
        let (post, window) = match rest.rsplit_once('-') {
            Some((post, window)) => (Some(post.to_string()), window),
            None => (None, rest),
        };
        Some(GroupKey {
            kind: kind.to_string(),
            post_id: post,
            window: window.parse().ok()?,
        })
    }
}

impl std::fmt::Display for GroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.post_id {
            Some(post) => write!(f, "{}-{post}-{}", self.kind, self.window),
            None => write!(f, "{}-{}", self.kind, self.window),
        }
    }
}

/// A notification's group key, as Mastodon forms it: `ungrouped-{id}` for
/// kinds that do not group, else type, post and time window.
pub fn group_key(n: &Notification, grouped_types: &[String]) -> String {
    if !grouped_types.iter().any(|t| t == &n.kind) {
        return format!("ungrouped-{}", n.id);
    }
    GroupKey::of(n).to_string()
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
                    group_members(conn, &viewer_id, &GroupKey::of(sample))?.len() as i64
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

/// Ids of the notifications of a group, newest first.
fn group_members(
    conn: &mut crate::db::DbConn,
    recipient: &str,
    key: &GroupKey,
) -> diesel::QueryResult<Vec<String>> {
    use crate::db::schema::notifications;
    use diesel::prelude::*;
    let Some(start) =
        chrono::DateTime::from_timestamp(key.window * GROUP_SPAN_SECONDS, 0).map(|t| t.naive_utc())
    else {
        return Ok(Vec::new());
    };
    let end = start + chrono::TimeDelta::seconds(GROUP_SPAN_SECONDS);
    let mut q = notifications::table
        .filter(notifications::recipient_id.eq(recipient.to_string()))
        .filter(notifications::filtered.eq(false))
        .filter(notifications::kind.eq(key.kind.clone()))
        .filter(notifications::created_at.ge(start))
        .filter(notifications::created_at.lt(end))
        .select(notifications::id)
        .order(notifications::id.desc())
        .into_boxed();
    q = match &key.post_id {
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
    let ids = match key.strip_prefix("ungrouped-") {
        Some(id) => vec![id.to_string()],
        None => match GroupKey::parse(key) {
            Some(group) => {
                data.db
                    .run(move |conn| Ok(group_members(conn, &viewer_id, &group)?))
                    .await?
            }
            None => Vec::new(),
        },
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keys_read_back() {
        let n = Notification {
            id: "n1".into(),
            recipient_id: "r".into(),
            kind: "favourite".into(),
            actor_id: "a".into(),
            post_id: Some("01a2-3b4c-5d6e".into()),
            created_at: chrono::DateTime::from_timestamp(1_764_600_000, 0)
                .unwrap()
                .naive_utc(),
            report_id: None,
            group_id: None,
            filtered: false,
        };
        let grouped: Vec<String> = GROUPED_TYPES.iter().map(|t| t.to_string()).collect();
        let key = group_key(&n, &grouped);
        assert_eq!(key, "favourite-01a2-3b4c-5d6e-40847");
        assert_eq!(GroupKey::parse(&key), Some(GroupKey::of(&n)));
        let follow = Notification {
            kind: "follow".into(),
            post_id: None,
            ..n.clone()
        };
        let key = group_key(&follow, &grouped);
        assert_eq!(GroupKey::parse(&key), Some(GroupKey::of(&follow)));
        let mention = Notification {
            kind: "mention".into(),
            ..n
        };
        assert_eq!(group_key(&mention, &grouped), "ungrouped-n1");
        assert_eq!(GroupKey::parse("nonsense"), None);
    }
}
