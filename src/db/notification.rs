//! Notifications of local accounts, written where the event is stored
//! (a follow, a reaction, a post that mentions someone, an edit) so that
//! local actions and inbound activities notify alike.

use super::{
    actor::Actor,
    schema::{
        account_marks, actors, communities, community_moderators, notifications, post_tags,
        reactions,
    },
    DbConn,
};
use diesel::prelude::*;

/// One row of `notifications`. `kind` is Mastodon's notification type:
/// `follow`, `follow_request`, `mention`, `reblog`, `favourite`, `update`,
/// `admin.report`; or Outloud's own `join_request` (someone asks to join a
/// community the recipient moderates), which the client API leaves out.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: String,
    pub recipient_id: String,
    pub kind: String,
    pub actor_id: String,
    pub post_id: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    /// The report an `admin.report` notification is about.
    pub report_id: Option<String>,
    /// The community a `join_request` is about.
    pub group_id: Option<String>,
    /// Filtered by the recipient's notification policy: listed only as a
    /// notification request until accepted.
    pub filtered: bool,
}

/// The kind of the notification a community's local moderators get when
/// someone asks to join it.
pub const JOIN_REQUEST: &str = "join_request";

/// Which notifications to list.
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub from_account: Option<String>,
    /// When not empty, no kind outside it is ever listed (the client API
    /// lists Mastodon's kinds only), whatever `types` asks.
    pub within: Vec<String>,
    pub page: super::Page,
    /// List the notifications the recipient's policy filtered too.
    pub include_filtered: bool,
}

impl Notification {
    /// Notifies `recipient` if it is a local account, not the actor itself,
    /// and has not blocked or muted the actor.
    pub fn notify(
        conn: &mut DbConn,
        recipient_id: &str,
        kind: &str,
        actor_id: &str,
        post_id: Option<&str>,
    ) -> QueryResult<()> {
        Notification::notify_about(conn, recipient_id, kind, actor_id, post_id, None)
    }

    /// [`Notification::notify`], about a community too (`group_id`).
    pub fn notify_about(
        conn: &mut DbConn,
        recipient_id: &str,
        kind: &str,
        actor_id: &str,
        post_id: Option<&str>,
        group_id: Option<&str>,
    ) -> QueryResult<()> {
        if recipient_id == actor_id {
            return Ok(());
        }
        let local: Option<bool> = actors::table
            .find(recipient_id)
            .select(actors::local)
            .first(conn)
            .optional()?;
        if local != Some(true) {
            return Ok(());
        }
        let silenced: i64 = account_marks::table
            .filter(account_marks::actor_id.eq(recipient_id))
            .filter(account_marks::target_id.eq(actor_id))
            // Two `eq`s, not `eq_any`: diesel caches no statement with an
            // IN list, and this one runs for every notification.
            .filter(
                account_marks::kind
                    .eq("block")
                    .or(account_marks::kind.eq("mute_notifications")),
            )
            .count()
            .get_result(conn)?;
        if silenced > 0 {
            return Ok(());
        }
        // Nor from accounts of a domain the recipient blocked.
        let domain: Option<String> = actors::table
            .find(actor_id)
            .select(actors::domain)
            .first(conn)
            .optional()?;
        if let Some(domain) = domain {
            if super::marks::AccountMark::has(
                conn,
                recipient_id,
                super::marks::MarkKind::DomainBlock,
                &domain,
            )? {
                return Ok(());
            }
        }
        // The recipient's notification policy (accept, filter or drop).
        let decision =
            super::notification_policy::decide(conn, recipient_id, kind, actor_id, post_id)?;
        if decision == super::notification_policy::Decision::Drop {
            return Ok(());
        }
        let filtered = decision == super::notification_policy::Decision::Filter;
        let id = super::new_id();
        diesel::insert_into(notifications::table)
            .values(&Notification {
                id: id.clone(),
                recipient_id: recipient_id.to_string(),
                kind: kind.to_string(),
                actor_id: actor_id.to_string(),
                post_id: post_id.map(String::from),
                created_at: super::now(),
                report_id: None,
                group_id: group_id.map(String::from),
                filtered,
            })
            .execute(conn)?;
        // A filtered notification waits in its request, unannounced.
        if filtered {
            return Ok(());
        }
        // In this transaction: the push is as durable as the notification.
        super::push::enqueue(conn, &id, recipient_id, kind, actor_id)?;
        super::events::emit(
            conn,
            super::events::StreamEvent::Notified {
                id,
                recipient: recipient_id.to_string(),
            },
        )
    }

    /// `join_request` notifications for every local moderator of the local
    /// community `group_id`, from the applicant; nothing when `group_id` is
    /// not a local community. Each moderator's blocks and mutes apply as
    /// for any notification.
    pub fn notify_moderators_of_join(
        conn: &mut DbConn,
        group_id: &str,
        applicant_id: &str,
    ) -> QueryResult<()> {
        let moderators: Vec<String> = community_moderators::table
            .inner_join(actors::table.on(actors::id.eq(community_moderators::actor_id)))
            .inner_join(
                communities::table.on(communities::actor_id.eq(community_moderators::community_id)),
            )
            .filter(community_moderators::community_id.eq(group_id))
            .filter(actors::local.eq(true))
            .select(actors::id)
            .load(conn)?;
        for moderator in moderators {
            Notification::notify_about(
                conn,
                &moderator,
                JOIN_REQUEST,
                applicant_id,
                None,
                Some(group_id),
            )?;
        }
        Ok(())
    }

    /// `mention` notifications for the local actors a new post mentions.
    pub fn notify_mentioned(conn: &mut DbConn, post_id: &str, author_id: &str) -> QueryResult<()> {
        let mentioned: Vec<String> = post_tags::table
            .inner_join(actors::table.on(actors::ap_id.eq(post_tags::href)))
            .filter(post_tags::post_id.eq(post_id))
            .filter(post_tags::kind.eq("mention"))
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq("Person"))
            .select(actors::id)
            .load(conn)?;
        for recipient in mentioned {
            Notification::notify(conn, &recipient, "mention", author_id, Some(post_id))?;
        }
        Ok(())
    }

    /// `update` notifications for local accounts that liked or boosted an
    /// edited post.
    pub fn notify_edited(conn: &mut DbConn, post_id: &str, author_id: &str) -> QueryResult<()> {
        let reactors: Vec<String> = reactions::table
            .filter(reactions::post_id.eq(post_id))
            .select(reactions::actor_id)
            .distinct()
            .load(conn)?;
        for recipient in reactors {
            Notification::notify(conn, &recipient, "update", author_id, Some(post_id))?;
        }
        Ok(())
    }

    pub fn list(
        conn: &mut DbConn,
        recipient_id: &str,
        query: &NotificationQuery,
    ) -> QueryResult<Vec<(Notification, Actor)>> {
        let mut q = notifications::table
            .inner_join(actors::table.on(actors::id.eq(notifications::actor_id)))
            .filter(notifications::recipient_id.eq(recipient_id))
            .select((Notification::as_select(), Actor::as_select()))
            .into_boxed();
        if !query.include_filtered {
            q = q.filter(notifications::filtered.eq(false));
        }
        if !query.types.is_empty() {
            q = q.filter(notifications::kind.eq_any(query.types.clone()));
        }
        if !query.within.is_empty() {
            q = q.filter(notifications::kind.eq_any(query.within.clone()));
        }
        if !query.exclude_types.is_empty() {
            q = q.filter(notifications::kind.ne_all(query.exclude_types.clone()));
        }
        if let Some(account) = &query.from_account {
            q = q.filter(notifications::actor_id.eq(account.clone()));
        }
        let page = &query.page;
        if let Some(max) = &page.max_id {
            q = q.filter(notifications::id.lt(max.clone()));
        }
        if let Some(since) = &page.since_id {
            q = q.filter(notifications::id.gt(since.clone()));
        }
        if let Some(min) = &page.min_id {
            // Oldest first just above `min_id`, flipped back by the caller.
            q = q.filter(notifications::id.gt(min.clone()));
            let mut rows: Vec<(Notification, Actor)> = q
                .order(notifications::id.asc())
                .limit(page.limit)
                .load(conn)?;
            rows.reverse();
            return Ok(rows);
        }
        q.order(notifications::id.desc())
            .limit(page.limit)
            .load(conn)
    }

    pub fn by_id(
        conn: &mut DbConn,
        recipient_id: &str,
        id: &str,
    ) -> QueryResult<Option<(Notification, Actor)>> {
        notifications::table
            .inner_join(actors::table.on(actors::id.eq(notifications::actor_id)))
            .filter(notifications::recipient_id.eq(recipient_id))
            .filter(notifications::id.eq(id))
            .select((Notification::as_select(), Actor::as_select()))
            .first(conn)
            .optional()
    }

    pub fn dismiss(conn: &mut DbConn, recipient_id: &str, id: &str) -> QueryResult<usize> {
        diesel::delete(
            notifications::table
                .filter(notifications::recipient_id.eq(recipient_id))
                .filter(notifications::id.eq(id)),
        )
        .execute(conn)
    }

    pub fn clear(conn: &mut DbConn, recipient_id: &str) -> QueryResult<usize> {
        diesel::delete(notifications::table.filter(notifications::recipient_id.eq(recipient_id)))
            .execute(conn)
    }

    /// Notifications newer than `after` (ids sort by time), all of them
    /// when `after` is `None`; only those of the kinds `within` unless it
    /// is empty.
    pub fn count_after(
        conn: &mut DbConn,
        recipient_id: &str,
        after: Option<&str>,
        within: &[&str],
    ) -> QueryResult<i64> {
        let mut mine = notifications::table
            .filter(notifications::recipient_id.eq(recipient_id))
            .filter(notifications::filtered.eq(false))
            .into_boxed();
        if let Some(after) = after {
            mine = mine.filter(notifications::id.gt(after.to_string()));
        }
        if !within.is_empty() {
            let kinds: Vec<String> = within.iter().map(|k| k.to_string()).collect();
            mine = mine.filter(notifications::kind.eq_any(kinds));
        }
        mine.count().get_result(conn)
    }
}
