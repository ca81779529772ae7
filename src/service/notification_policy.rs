//! Notification policies and requests (Mastodon 4.3): reading and
//! changing an account's policy, and the requests its filtered
//! notifications make (one per sender): list, accept, dismiss. The
//! decision itself is made where notifications are written
//! (`db::notification_policy::decide`).

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        notification_policy::{self as policy, Decision, NotificationPolicy, RequestRow},
        post::Post,
        Page,
    },
    error::{Error, Result},
};

/// An account's policy with its summary.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub for_not_following: Decision,
    pub for_not_followers: Decision,
    pub for_new_accounts: Decision,
    pub for_private_mentions: Decision,
    pub for_limited_accounts: Decision,
    /// Senders with filtered notifications, at most [`MAX_PENDING_REQUESTS`].
    pub pending_requests: i64,
    pub pending_notifications: i64,
}

/// Mastodon caps `pending_requests_count` at 100.
pub const MAX_PENDING_REQUESTS: i64 = 100;

/// Changes to a policy; `None` leaves a condition as it is. Values are
/// `accept`, `filter` or `drop`.
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    pub for_not_following: Option<String>,
    pub for_not_followers: Option<String>,
    pub for_new_accounts: Option<String>,
    pub for_private_mentions: Option<String>,
    pub for_limited_accounts: Option<String>,
}

fn decision(value: &str) -> Decision {
    Decision::parse(value).unwrap_or(Decision::Accept)
}

/// The policy of `viewer`.
pub async fn get(data: &Data<Context>, viewer: &Actor) -> Result<PolicyView> {
    let id = viewer.id.clone();
    data.db
        .run(move |conn| {
            let row = NotificationPolicy::of(conn, &id)?;
            let (notifications, senders) = policy::pending(conn, &id)?;
            Ok(PolicyView {
                for_not_following: decision(&row.for_not_following),
                for_not_followers: decision(&row.for_not_followers),
                for_new_accounts: decision(&row.for_new_accounts),
                for_private_mentions: decision(&row.for_private_mentions),
                for_limited_accounts: decision(&row.for_limited_accounts),
                pending_requests: senders.min(MAX_PENDING_REQUESTS),
                pending_notifications: notifications,
            })
        })
        .await
}

/// Changes `viewer`'s policy; applies to notifications from now on.
///
/// Errors: `Unprocessable` naming the first value that is not `accept`,
/// `filter` or `drop` (nothing saved).
pub async fn update(
    data: &Data<Context>,
    viewer: &Actor,
    changes: PolicyChanges,
) -> Result<PolicyView> {
    let check = |name: &str, value: &Option<String>| -> Result<Option<Decision>> {
        match value {
            None => Ok(None),
            Some(v) => Decision::parse(v.trim()).map(Some).ok_or_else(|| {
                Error::unprocessable(format!("{name} must be accept, filter or drop, not {v:?}"))
            }),
        }
    };
    let fields = [
        check("for_not_following", &changes.for_not_following)?,
        check("for_not_followers", &changes.for_not_followers)?,
        check("for_new_accounts", &changes.for_new_accounts)?,
        check("for_private_mentions", &changes.for_private_mentions)?,
        check("for_limited_accounts", &changes.for_limited_accounts)?,
    ];
    let id = viewer.id.clone();
    data.db
        .transaction(move |conn| {
            let mut row = NotificationPolicy::of(conn, &id)?;
            let slots = [
                &mut row.for_not_following,
                &mut row.for_not_followers,
                &mut row.for_new_accounts,
                &mut row.for_private_mentions,
                &mut row.for_limited_accounts,
            ];
            for (slot, value) in slots.into_iter().zip(fields) {
                if let Some(value) = value {
                    *slot = value.as_str().to_string();
                }
            }
            row.updated_at = crate::db::now();
            NotificationPolicy::save(conn, &row)?;
            Ok(())
        })
        .await?;
    get(data, viewer).await
}

/// A notification request: who, how many, and the newest post among them
/// that the viewer may still see.
#[derive(Debug, Clone)]
pub struct Request {
    pub row: RequestRow,
    pub from: Actor,
    pub last_post: Option<Post>,
}

async fn with_details(
    data: &Data<Context>,
    viewer: &Actor,
    rows: Vec<RequestRow>,
) -> Result<Vec<Request>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (from_id, post_id) = (row.from_id.clone(), row.last_post_id.clone());
        let (from, post) = data
            .db
            .run(move |conn| {
                let from = Actor::by_id(conn, &from_id)?;
                let post = match post_id {
                    Some(id) => Post::by_id(conn, &id)?,
                    None => None,
                };
                Ok((from, post))
            })
            .await?;
        let Some(from) = from else { continue };
        let last_post = match post {
            Some(p)
                if !p.is_deleted()
                    && crate::service::posts::can_see(data, Some(viewer), &p).await? =>
            {
                Some(p)
            }
            _ => None,
        };
        out.push(Request {
            row,
            from,
            last_post,
        });
    }
    Ok(out)
}

/// One page of `viewer`'s notification requests, newest first.
pub async fn list(data: &Data<Context>, viewer: &Actor, page: Page) -> Result<Vec<Request>> {
    let id = viewer.id.clone();
    let rows = data
        .db
        .run(move |conn| Ok(policy::requests(conn, &id)?))
        .await?;
    let mut rows: Vec<RequestRow> = rows
        .into_iter()
        .filter(|r| page.max_id.as_ref().is_none_or(|m| r.id < *m))
        .filter(|r| page.since_id.as_ref().is_none_or(|s| r.id > *s))
        .filter(|r| page.min_id.as_ref().is_none_or(|s| r.id > *s))
        .collect();
    if page.min_id.is_some() {
        // The oldest just above `min_id`, newest first.
        let skip = rows.len().saturating_sub(page.limit as usize);
        rows.drain(..skip);
    } else {
        rows.truncate(page.limit as usize);
    }
    with_details(data, viewer, rows).await
}

/// The request `id` of `viewer`.
///
/// Errors: `NotFound` when it names none (or one already accepted or
/// dismissed).
pub async fn get_request(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<Request> {
    let (me, wanted) = (viewer.id.clone(), id.to_string());
    let row = data
        .db
        .run(move |conn| {
            Ok(policy::requests(conn, &me)?
                .into_iter()
                .find(|r| r.id == wanted))
        })
        .await?
        .ok_or_else(|| Error::not_found("Record not found"))?;
    with_details(data, viewer, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("Record not found"))
}

/// Accepts or dismisses the requests among `ids`; unknown ids are
/// skipped, as Mastodon's bulk forms do. How many were found.
async fn act(
    data: &Data<Context>,
    viewer: &Actor,
    ids: Vec<String>,
    accept: bool,
) -> Result<usize> {
    let me = viewer.id.clone();
    data.db
        .transaction(move |conn| {
            let requests = policy::requests(conn, &me)?;
            let mut found = 0;
            for request in requests.iter().filter(|r| ids.contains(&r.id)) {
                found += 1;
                if accept {
                    policy::accept(conn, &me, &request.from_id)?;
                } else {
                    policy::dismiss(conn, &me, &request.from_id)?;
                }
            }
            Ok(found)
        })
        .await
}

/// Accepts request `id`: its notifications become ordinary ones and the
/// sender is accepted from now on.
///
/// Errors: `NotFound` for an unknown request.
pub async fn accept(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<()> {
    match act(data, viewer, vec![id.to_string()], true).await? {
        0 => Err(Error::not_found("Record not found")),
        _ => Ok(()),
    }
}

/// Dismisses request `id`: its notifications are deleted.
///
/// Errors: `NotFound` for an unknown request.
pub async fn dismiss(data: &Data<Context>, viewer: &Actor, id: &str) -> Result<()> {
    match act(data, viewer, vec![id.to_string()], false).await? {
        0 => Err(Error::not_found("Record not found")),
        _ => Ok(()),
    }
}

/// The bulk forms: accepts (or dismisses) every request among `ids`.
pub async fn act_on_all(
    data: &Data<Context>,
    viewer: &Actor,
    ids: Vec<String>,
    accept: bool,
) -> Result<()> {
    act(data, viewer, ids, accept).await.map(|_| ())
}
