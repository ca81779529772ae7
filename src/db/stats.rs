//! Per-actor counts (`actor_stats`): statuses, followers, following and
//! the time of the last post. They are adjusted here, by the functions that
//! store posts and follows, so that showing an account counts nothing: a
//! page of 40 statuses by 40 authors would otherwise count every post of
//! each of them.

use super::{schema::actor_stats, DbConn};
use diesel::{
    prelude::*,
    sql_types::{Nullable, Timestamp},
    upsert::excluded,
};

/// Changes to one actor's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    pub statuses: i64,
    pub followers: i64,
    pub following: i64,
    /// A post published at this time: `last_status_at` moves forward to it.
    pub posted_at: Option<chrono::NaiveDateTime>,
}

/// One row of `actor_stats`.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable)]
#[diesel(table_name = actor_stats)]
pub struct ActorStats {
    pub actor_id: String,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub last_status_at: Option<chrono::NaiveDateTime>,
}

/// Applies `delta` to an actor's counts (creating its row if needed).
pub fn adjust(conn: &mut DbConn, actor_id: &str, delta: Delta) -> QueryResult<()> {
    if delta == Delta::default() {
        return Ok(());
    }
    let row = (
        actor_stats::actor_id.eq(actor_id),
        actor_stats::statuses_count.eq(delta.statuses),
        actor_stats::followers_count.eq(delta.followers),
        actor_stats::following_count.eq(delta.following),
        actor_stats::last_status_at.eq(delta.posted_at),
    );
    // The later of the two times; written as CASE because SQLite's max()
    // and PostgreSQL's GREATEST() differ.
    let later = diesel::dsl::sql::<Nullable<Timestamp>>(
        "CASE WHEN excluded.last_status_at IS NOT NULL AND (actor_stats.last_status_at IS NULL \
         OR excluded.last_status_at > actor_stats.last_status_at) \
         THEN excluded.last_status_at ELSE actor_stats.last_status_at END",
    );
    crate::per_backend!(conn, |c| diesel::insert_into(actor_stats::table)
        .values(row)
        .on_conflict(actor_stats::actor_id)
        .do_update()
        .set((
            actor_stats::statuses_count
                .eq(actor_stats::statuses_count + excluded(actor_stats::statuses_count)),
            actor_stats::followers_count
                .eq(actor_stats::followers_count + excluded(actor_stats::followers_count)),
            actor_stats::following_count
                .eq(actor_stats::following_count + excluded(actor_stats::following_count)),
            actor_stats::last_status_at.eq(later),
        ))
        .execute(c))?;
    Ok(())
}

/// The counts of each of `actor_ids` that has any, by actor id. Negative
/// counts, which only a lost update could leave, read as zero.
pub fn of(
    conn: &mut DbConn,
    actor_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, ActorStats>> {
    Ok(actor_stats::table
        .filter(actor_stats::actor_id.eq_any(actor_ids))
        .load::<ActorStats>(conn)?
        .into_iter()
        .map(|row| {
            let row = ActorStats {
                statuses_count: row.statuses_count.max(0),
                followers_count: row.followers_count.max(0),
                following_count: row.following_count.max(0),
                ..row
            };
            (row.actor_id.clone(), row)
        })
        .collect())
}
