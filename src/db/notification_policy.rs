//! Notification policies (Mastodon 4.3): per account, what happens to a
//! notification from someone it does not follow, who does not follow it,
//! a new account, or a private mention from a stranger — accept it,
//! filter it (stored with `filtered`, shown only as a notification
//! request) or drop it (not stored). [`decide`] is the one place that
//! rule lives; `Notification::notify_about` calls it for every
//! notification. Senders whose request the account accepted
//! (`notification_permissions`) are always accepted.

use super::{
    schema::{follows, local_users, notification_permissions, notification_policies, posts},
    DbConn,
};
use diesel::prelude::*;

/// What a policy condition does to a notification. Ordered: the strictest
/// matching condition wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Accept,
    Filter,
    Drop,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Filter => "filter",
            Decision::Drop => "drop",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "accept" => Some(Decision::Accept),
            "filter" => Some(Decision::Filter),
            "drop" => Some(Decision::Drop),
            _ => None,
        }
    }
}

/// One row of `notification_policies`; the values are [`Decision`]s as
/// text.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notification_policies)]
pub struct NotificationPolicy {
    pub account_id: String,
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
    pub updated_at: chrono::NaiveDateTime,
}

/// Accounts younger than this count as new (`for_new_accounts`), as in
/// Mastodon.
pub const NEW_ACCOUNT_DAYS: i64 = 30;

/// The kinds a policy applies to; the others (edits of posts one reacted
/// to, reports for moderators, join requests) are always accepted, as
/// Mastodon never filters its moderation and `update` notifications.
const FILTERABLE: &[&str] = &["mention", "reblog", "favourite", "follow", "follow_request"];

impl NotificationPolicy {
    /// The policy of `account`: every condition `accept` when it never set
    /// one.
    pub fn of(conn: &mut DbConn, account: &str) -> QueryResult<NotificationPolicy> {
        let row = notification_policies::table
            .find(account)
            .select(NotificationPolicy::as_select())
            .first(conn)
            .optional()?;
        Ok(row.unwrap_or_else(|| NotificationPolicy {
            account_id: account.to_string(),
            for_not_following: "accept".into(),
            for_not_followers: "accept".into(),
            for_new_accounts: "accept".into(),
            for_private_mentions: "accept".into(),
            for_limited_accounts: "accept".into(),
            updated_at: super::now(),
        }))
    }

    /// Replaces the account's policy.
    pub fn save(conn: &mut DbConn, policy: &NotificationPolicy) -> QueryResult<()> {
        conn.transaction(|conn| {
            diesel::delete(notification_policies::table.find(&policy.account_id)).execute(conn)?;
            diesel::insert_into(notification_policies::table)
                .values(policy)
                .execute(conn)
                .map(|_| ())
        })
    }

    fn decision(value: &str) -> Decision {
        Decision::parse(value).unwrap_or(Decision::Accept)
    }
}

/// Remembers that `account` accepts notifications from `from` whatever
/// its policy (an accepted notification request).
pub fn permit(conn: &mut DbConn, account: &str, from: &str) -> QueryResult<()> {
    diesel::delete(
        notification_permissions::table
            .filter(notification_permissions::account_id.eq(account))
            .filter(notification_permissions::from_account_id.eq(from)),
    )
    .execute(conn)?;
    diesel::insert_into(notification_permissions::table)
        .values((
            notification_permissions::account_id.eq(account),
            notification_permissions::from_account_id.eq(from),
            notification_permissions::created_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

fn follows(conn: &mut DbConn, follower: &str, followee: &str) -> QueryResult<bool> {
    let n: i64 = follows::table
        .filter(follows::follower_id.eq(follower))
        .filter(follows::followee_id.eq(followee))
        .filter(follows::state.eq("accepted"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// What `recipient`'s policy does with a notification of `kind` from
/// `actor` (about `post_id`). Staff of this instance and accepted senders
/// are always accepted. The conditions, as Mastodon's:
///
/// - `for_not_following`: the recipient does not follow the sender;
/// - `for_not_followers`: the sender does not follow the recipient;
/// - `for_new_accounts`: the sender's account is under 30 days old and
///   the recipient does not follow it;
/// - `for_private_mentions`: a mention in a direct post from someone the
///   recipient does not follow, unless it replies to the recipient's own
///   post;
/// - `for_limited_accounts`: never matches (Outloud has no limited
///   accounts).
pub fn decide(
    conn: &mut DbConn,
    recipient: &str,
    kind: &str,
    actor: &str,
    post_id: Option<&str>,
) -> QueryResult<Decision> {
    if !FILTERABLE.contains(&kind) {
        return Ok(Decision::Accept);
    }
    let Some(policy) = notification_policies::table
        .find(recipient)
        .select(NotificationPolicy::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Decision::Accept);
    };
    let values = [
        &policy.for_not_following,
        &policy.for_not_followers,
        &policy.for_new_accounts,
        &policy.for_private_mentions,
    ];
    if values
        .iter()
        .all(|v| NotificationPolicy::decision(v) == Decision::Accept)
    {
        return Ok(Decision::Accept);
    }
    let staff: i64 = local_users::table
        .filter(local_users::actor_id.eq(actor))
        .filter(local_users::role.eq_any(["admin", "moderator"]))
        .count()
        .get_result(conn)?;
    let permitted: i64 = notification_permissions::table
        .filter(notification_permissions::account_id.eq(recipient))
        .filter(notification_permissions::from_account_id.eq(actor))
        .count()
        .get_result(conn)?;
    if staff > 0 || permitted > 0 {
        return Ok(Decision::Accept);
    }
    let following = follows(conn, recipient, actor)?;
    let follower = follows(conn, actor, recipient)?;
    let mut decision = Decision::Accept;
    if !following {
        decision = decision.max(NotificationPolicy::decision(&policy.for_not_following));
    }
    if !follower {
        decision = decision.max(NotificationPolicy::decision(&policy.for_not_followers));
    }
    if !following {
        let published: Option<chrono::NaiveDateTime> = super::schema::actors::table
            .find(actor)
            .select(super::schema::actors::published)
            .first(conn)
            .optional()?;
        let young =
            published.is_some_and(|p| p > super::now() - chrono::TimeDelta::days(NEW_ACCOUNT_DAYS));
        if young {
            decision = decision.max(NotificationPolicy::decision(&policy.for_new_accounts));
        }
    }
    if kind == "mention" && !following {
        if let Some(post_id) = post_id {
            let post: Option<(String, Option<String>)> = posts::table
                .find(post_id)
                .select((posts::visibility, posts::in_reply_to))
                .first(conn)
                .optional()?;
            if let Some((visibility, in_reply_to)) = post {
                let reply_to_own = match in_reply_to {
                    Some(parent) => {
                        let n: i64 = posts::table
                            .filter(posts::ap_id.eq(parent))
                            .filter(posts::author_id.eq(recipient))
                            .count()
                            .get_result(conn)?;
                        n > 0
                    }
                    None => false,
                };
                if visibility == "direct" && !reply_to_own {
                    decision =
                        decision.max(NotificationPolicy::decision(&policy.for_private_mentions));
                }
            }
        }
    }
    Ok(decision)
}

/// The filtered notifications of one sender, as a notification request.
/// Its id is the id of the sender's oldest filtered notification: stable
/// while the request waits, gone once it is accepted or dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: String,
    pub from_id: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub count: i64,
    /// The post of the sender's newest filtered notification about one.
    pub last_post_id: Option<String>,
}

/// One sender's filtered notifications: sender, oldest id, oldest and
/// newest time, how many.
type SenderGroup = (
    String,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    i64,
);

/// Every notification request of `recipient`, newest id first.
pub fn requests(conn: &mut DbConn, recipient: &str) -> QueryResult<Vec<RequestRow>> {
    use super::schema::notifications;
    use diesel::dsl::{count_star, max, min};
    let groups: Vec<SenderGroup> = notifications::table
        .filter(notifications::recipient_id.eq(recipient))
        .filter(notifications::filtered.eq(true))
        .group_by(notifications::actor_id)
        .select((
            notifications::actor_id,
            min(notifications::id),
            min(notifications::created_at),
            max(notifications::created_at),
            count_star(),
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(groups.len());
    for (from_id, first, created, updated, count) in groups {
        let (Some(id), Some(created_at), Some(updated_at)) = (first, created, updated) else {
            continue;
        };
        let last_post_id: Option<Option<String>> = notifications::table
            .filter(notifications::recipient_id.eq(recipient))
            .filter(notifications::filtered.eq(true))
            .filter(notifications::actor_id.eq(&from_id))
            .filter(notifications::post_id.is_not_null())
            .order(notifications::id.desc())
            .select(notifications::post_id)
            .first(conn)
            .optional()?;
        out.push(RequestRow {
            id,
            from_id,
            created_at,
            updated_at,
            count,
            last_post_id: last_post_id.flatten(),
        });
    }
    out.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(out)
}

/// How many notifications `recipient`'s policy filtered, and from how
/// many senders.
pub fn pending(conn: &mut DbConn, recipient: &str) -> QueryResult<(i64, i64)> {
    use super::schema::notifications;
    let notifications: i64 = notifications::table
        .filter(notifications::recipient_id.eq(recipient))
        .filter(notifications::filtered.eq(true))
        .count()
        .get_result(conn)?;
    let senders: Vec<String> = notifications::table
        .filter(notifications::recipient_id.eq(recipient))
        .filter(notifications::filtered.eq(true))
        .select(notifications::actor_id)
        .distinct()
        .load(conn)?;
    Ok((notifications, senders.len() as i64))
}

/// Accepts the request of sender `from`: its filtered notifications join
/// the others, and it is never filtered again. The number unfiltered.
pub fn accept(conn: &mut DbConn, recipient: &str, from: &str) -> QueryResult<usize> {
    use super::schema::notifications;
    let n = diesel::update(
        notifications::table
            .filter(notifications::recipient_id.eq(recipient))
            .filter(notifications::actor_id.eq(from))
            .filter(notifications::filtered.eq(true)),
    )
    .set(notifications::filtered.eq(false))
    .execute(conn)?;
    permit(conn, recipient, from)?;
    Ok(n)
}

/// Dismisses the request of sender `from`: its filtered notifications are
/// deleted (later ones are filtered again, into a new request).
pub fn dismiss(conn: &mut DbConn, recipient: &str, from: &str) -> QueryResult<usize> {
    use super::schema::notifications;
    diesel::delete(
        notifications::table
            .filter(notifications::recipient_id.eq(recipient))
            .filter(notifications::actor_id.eq(from))
            .filter(notifications::filtered.eq(true)),
    )
    .execute(conn)
}
