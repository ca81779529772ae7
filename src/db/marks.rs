//! What a local account keeps for itself: bookmarks, profile pins, blocks
//! and mutes (one table, `account_marks`), reading positions (`markers`),
//! the `Idempotency-Key`s of its posts, and earlier versions of edited
//! posts (`post_edits`).

use super::schema::{account_marks, idempotency_keys, markers, post_edits};
use super::DbConn;
use diesel::prelude::*;

/// Kinds of `account_marks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// A post the account saved.
    Bookmark,
    /// A post shown at the top of the account's profile.
    Pin,
    /// An account whose posts and notifications are hidden, and who may not
    /// follow.
    Block,
    /// An account whose posts are hidden from timelines.
    Mute,
    /// Set with `Mute` when the mute also hides notifications.
    MuteNotifications,
    /// A whole domain (the target is the host name) whose accounts' posts
    /// and notifications are hidden, and who may not follow.
    DomainBlock,
}

impl MarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Bookmark => "bookmark",
            MarkKind::Pin => "pin",
            MarkKind::Block => "block",
            MarkKind::Mute => "mute",
            MarkKind::MuteNotifications => "mute_notifications",
            MarkKind::DomainBlock => "domain_block",
        }
    }
}

/// One row of `account_marks`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_marks)]
pub struct AccountMark {
    pub id: String,
    pub actor_id: String,
    pub kind: String,
    pub target_id: String,
    pub created_at: chrono::NaiveDateTime,
}

impl AccountMark {
    /// Sets a mark; `false` when it was already set.
    pub fn set(
        conn: &mut DbConn,
        actor_id: &str,
        kind: MarkKind,
        target: &str,
    ) -> QueryResult<bool> {
        let mark = AccountMark {
            id: super::new_id(),
            actor_id: actor_id.to_string(),
            kind: kind.as_str().to_string(),
            target_id: target.to_string(),
            created_at: super::now(),
        };
        // One statement: concurrent requests set one mark, none fails.
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(account_marks::table)
            .values(&mark)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }

    pub fn unset(
        conn: &mut DbConn,
        actor_id: &str,
        kind: MarkKind,
        target: &str,
    ) -> QueryResult<usize> {
        diesel::delete(
            account_marks::table
                .filter(account_marks::actor_id.eq(actor_id))
                .filter(account_marks::kind.eq(kind.as_str()))
                .filter(account_marks::target_id.eq(target)),
        )
        .execute(conn)
    }

    pub fn has(
        conn: &mut DbConn,
        actor_id: &str,
        kind: MarkKind,
        target: &str,
    ) -> QueryResult<bool> {
        let n: i64 = account_marks::table
            .filter(account_marks::actor_id.eq(actor_id))
            .filter(account_marks::kind.eq(kind.as_str()))
            .filter(account_marks::target_id.eq(target))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    /// An account's marks of one kind, newest first, paginated by the
    /// mark's own id (as Mastodon paginates bookmarks and blocks).
    pub fn list(
        conn: &mut DbConn,
        actor_id: &str,
        kind: MarkKind,
        page: &super::Page,
    ) -> QueryResult<Vec<AccountMark>> {
        let mut q = account_marks::table
            .filter(account_marks::actor_id.eq(actor_id))
            .filter(account_marks::kind.eq(kind.as_str()))
            .into_boxed();
        if let Some(max) = &page.max_id {
            q = q.filter(account_marks::id.lt(max.clone()));
        }
        if let Some(since) = page.since_id.as_ref().or(page.min_id.as_ref()) {
            q = q.filter(account_marks::id.gt(since.clone()));
        }
        q.order(account_marks::id.desc())
            .limit(page.limit)
            .load(conn)
    }
}

/// One row of `markers`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = markers)]
pub struct Marker {
    pub actor_id: String,
    pub timeline: String,
    pub last_read_id: String,
    pub version: i64,
    pub updated_at: chrono::NaiveDateTime,
}

impl Marker {
    pub fn get(
        conn: &mut DbConn,
        actor_id: &str,
        timelines: &[String],
    ) -> QueryResult<Vec<Marker>> {
        markers::table
            .filter(markers::actor_id.eq(actor_id))
            .filter(markers::timeline.eq_any(timelines))
            .load(conn)
    }

    /// Moves a reading position, bumping its version.
    pub fn save(
        conn: &mut DbConn,
        actor_id: &str,
        timeline: &str,
        last_read_id: &str,
    ) -> QueryResult<Marker> {
        use diesel::upsert::excluded;
        let first = Marker {
            actor_id: actor_id.to_string(),
            timeline: timeline.to_string(),
            last_read_id: last_read_id.to_string(),
            version: 0,
            updated_at: super::now(),
        };
        // One statement, so two clients saving at once both succeed and
        // the version counts both.
        crate::per_backend!(conn, |c| diesel::insert_into(markers::table)
            .values(&first)
            .on_conflict((markers::actor_id, markers::timeline))
            .do_update()
            .set((
                markers::last_read_id.eq(excluded(markers::last_read_id)),
                markers::version.eq(markers::version + 1),
                markers::updated_at.eq(excluded(markers::updated_at)),
            ))
            .execute(c))?;
        markers::table.find((actor_id, timeline)).first(conn)
    }
}

/// The post an `Idempotency-Key` produced, if any.
pub fn idempotent_post(
    conn: &mut DbConn,
    actor_id: &str,
    key: &str,
) -> QueryResult<Option<String>> {
    idempotency_keys::table
        .find((actor_id, key))
        .select(idempotency_keys::post_id)
        .first(conn)
        .optional()
}

pub fn remember_idempotency_key(
    conn: &mut DbConn,
    actor_id: &str,
    key: &str,
    post_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor_id.eq(actor_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::post_id.eq(post_id),
            idempotency_keys::created_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One row of `post_edits`: a post as it was before an edit.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_edits)]
pub struct PostEdit {
    pub id: String,
    pub post_id: String,
    pub title: Option<String>,
    pub content: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    /// When this version was written (the post's `published` or its
    /// previous `updated`).
    pub created_at: chrono::NaiveDateTime,
}

impl PostEdit {
    pub fn insert(conn: &mut DbConn, edit: &PostEdit) -> QueryResult<()> {
        diesel::insert_into(post_edits::table)
            .values(edit)
            .execute(conn)
            .map(|_| ())
    }

    /// Earlier versions of a post, oldest first.
    pub fn of_post(conn: &mut DbConn, post_id: &str) -> QueryResult<Vec<PostEdit>> {
        post_edits::table
            .filter(post_edits::post_id.eq(post_id))
            .order(post_edits::id.asc())
            .load(conn)
    }
}

/// Of `author_ids`, those whose posts `viewer_id` does not want to see:
/// accounts it blocked or muted, and accounts of domains it blocked. For
/// the views that filter after loading (search, a thread's context); the
/// timelines filter in SQL (`db::timeline`).
pub fn hidden_authors(
    conn: &mut DbConn,
    viewer_id: &str,
    author_ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    use super::schema::actors;
    let mut hidden: std::collections::HashSet<String> = account_marks::table
        .filter(account_marks::actor_id.eq(viewer_id))
        .filter(account_marks::kind.eq_any([MarkKind::Block.as_str(), MarkKind::Mute.as_str()]))
        .filter(account_marks::target_id.eq_any(author_ids))
        .select(account_marks::target_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let blocked_domains = account_marks::table
        .filter(account_marks::actor_id.eq(viewer_id))
        .filter(account_marks::kind.eq(MarkKind::DomainBlock.as_str()))
        .select(account_marks::target_id);
    hidden.extend(
        actors::table
            .filter(actors::id.eq_any(author_ids))
            .filter(actors::domain.eq_any(blocked_domains))
            .select(actors::id)
            .load::<String>(conn)?,
    );
    Ok(hidden)
}
