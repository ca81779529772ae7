//! Notifications of local accounts, written where the event is stored
//! (a follow, a reaction, a post that mentions someone, an edit) so that
//! local actions and inbound activities notify alike.

use super::{
    actor::Actor,
    schema::{account_marks, actors, notifications, post_tags, reactions},
    DbConn,
};
use diesel::prelude::*;

/// One row of `notifications`. `kind` is Mastodon's notification type:
/// `follow`, `follow_request`, `mention`, `reblog`, `favourite`, `update`.
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
}

/// Which notifications to list.
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub from_account: Option<String>,
    pub page: super::Page,
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
            .filter(account_marks::kind.eq_any(["block", "mute_notifications"]))
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
        diesel::insert_into(notifications::table)
            .values(&Notification {
                id: super::new_id(),
                recipient_id: recipient_id.to_string(),
                kind: kind.to_string(),
                actor_id: actor_id.to_string(),
                post_id: post_id.map(String::from),
                created_at: super::now(),
                report_id: None,
            })
            .execute(conn)
            .map(|_| ())
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
        if !query.types.is_empty() {
            q = q.filter(notifications::kind.eq_any(query.types.clone()));
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

    pub fn count(conn: &mut DbConn, recipient_id: &str) -> QueryResult<i64> {
        notifications::table
            .filter(notifications::recipient_id.eq(recipient_id))
            .count()
            .get_result(conn)
    }

    /// Notifications newer than `after` (ids sort by time), all of them
    /// when `after` is `None`.
    pub fn count_after(
        conn: &mut DbConn,
        recipient_id: &str,
        after: Option<&str>,
    ) -> QueryResult<i64> {
        let mine = notifications::table.filter(notifications::recipient_id.eq(recipient_id));
        match after {
            Some(after) => mine
                .filter(notifications::id.gt(after))
                .count()
                .get_result(conn),
            None => mine.count().get_result(conn),
        }
    }
}
