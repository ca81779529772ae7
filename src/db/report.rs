//! Reports (`reports`, with the reported posts in `report_posts`): filed
//! by local accounts or received as `Flag` from other servers.

use super::{
    notification::Notification,
    schema::{community_moderators, local_users, notifications, report_posts, reports},
    DbConn, Page,
};
use diesel::prelude::*;

/// Mastodon's report categories.
pub const CATEGORIES: &[&str] = &["spam", "legal", "violation", "other"];

/// One row of `reports`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
pub struct Report {
    pub id: String,
    /// The received Flag's id; `None` for reports filed here.
    pub ap_id: Option<String>,
    pub reporter_id: String,
    pub target_id: String,
    pub community_id: Option<String>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub resolved_at: Option<chrono::NaiveDateTime>,
    pub resolved_by: Option<String>,
}

/// Which reports a moderator may see: all (an admin), or those of the
/// communities they moderate.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Communities(String),
}

impl Report {
    /// Stores a report with its posts. For a received Flag, a repeat of
    /// the same id stores nothing and returns `None`.
    pub fn insert(
        conn: &mut DbConn,
        report: &Report,
        post_ids: &[String],
    ) -> QueryResult<Option<Report>> {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(reports::table)
            .values(report)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(None);
        }
        for post_id in post_ids {
            crate::per_backend!(conn, |c| diesel::insert_into(report_posts::table)
                .values((
                    report_posts::report_id.eq(&report.id),
                    report_posts::post_id.eq(post_id),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        Ok(Some(report.clone()))
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Report>> {
        reports::table.find(id).first(conn).optional()
    }

    /// Ids of the reported posts, oldest first.
    pub fn post_ids(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
        report_posts::table
            .filter(report_posts::report_id.eq(id))
            .select(report_posts::post_id)
            .order(report_posts::post_id.asc())
            .load(conn)
    }

    /// Reports a moderator may see, newest first; `resolved` filters on
    /// state when given.
    pub fn list(
        conn: &mut DbConn,
        scope: &Scope,
        resolved: Option<bool>,
        page: &Page,
    ) -> QueryResult<Vec<Report>> {
        let mut q = reports::table.into_boxed();
        if let Scope::Communities(moderator) = scope {
            let moderated = community_moderators::table
                .filter(community_moderators::actor_id.eq(moderator.clone()))
                .select(community_moderators::community_id);
            q = q.filter(reports::community_id.assume_not_null().eq_any(moderated));
        }
        match resolved {
            Some(true) => q = q.filter(reports::resolved_at.is_not_null()),
            Some(false) => q = q.filter(reports::resolved_at.is_null()),
            None => {}
        }
        if let Some(max) = &page.max_id {
            q = q.filter(reports::id.lt(max.clone()));
        }
        if let Some(since) = page.since_id.as_ref().or(page.min_id.as_ref()) {
            q = q.filter(reports::id.gt(since.clone()));
        }
        q.order(reports::id.desc()).limit(page.limit).load(conn)
    }

    /// Marks a report resolved by `moderator`, or open again (`None`).
    pub fn set_resolved(conn: &mut DbConn, id: &str, moderator: Option<&str>) -> QueryResult<()> {
        let now = super::now();
        diesel::update(reports::table.find(id))
            .set((
                reports::resolved_at.eq(moderator.map(|_| now)),
                reports::resolved_by.eq(moderator),
                reports::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Who hears of a new report: every local admin and instance moderator, the moderators of
    /// the community concerned (local accounts only), each once.
    pub fn recipients(conn: &mut DbConn, report: &Report) -> QueryResult<Vec<String>> {
        let mut out: Vec<String> = local_users::table
            .filter(local_users::role.eq_any([
                super::local_user::Role::Admin.as_str(),
                super::local_user::Role::Moderator.as_str(),
            ]))
            .select(local_users::actor_id)
            .load(conn)?;
        if let Some(community) = &report.community_id {
            let moderators: Vec<String> = community_moderators::table
                .inner_join(
                    local_users::table.on(local_users::actor_id.eq(community_moderators::actor_id)),
                )
                .filter(community_moderators::community_id.eq(community))
                .select(community_moderators::actor_id)
                .load(conn)?;
            for m in moderators {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// An `admin.report` notification for `recipient`, from the reporter.
    pub fn notify(conn: &mut DbConn, report: &Report, recipient: &str) -> QueryResult<()> {
        let id = super::new_id();
        diesel::insert_into(notifications::table)
            .values(&Notification {
                id: id.clone(),
                recipient_id: recipient.to_string(),
                kind: "admin.report".into(),
                actor_id: report.reporter_id.clone(),
                post_id: None,
                created_at: super::now(),
                report_id: Some(report.id.clone()),
                group_id: None,
                filtered: false,
            })
            .execute(conn)?;
        super::push::enqueue(conn, &id, recipient, "admin.report", &report.reporter_id)?;
        super::events::emit(
            conn,
            super::events::StreamEvent::Notified {
                id,
                recipient: recipient.to_string(),
            },
        )
    }

    /// Whether `actor` moderates the community a report concerns.
    pub fn moderated_by(conn: &mut DbConn, report: &Report, actor: &str) -> QueryResult<bool> {
        let Some(community) = &report.community_id else {
            return Ok(false);
        };
        super::community::Community::is_moderator(conn, community, actor)
    }
}
