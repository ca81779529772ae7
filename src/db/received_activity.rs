//! Ids of activities already processed, for idempotent inboxes.

use super::{schema::received_activities, DbConn};
use diesel::prelude::*;

/// Whether an activity id was processed before.
pub fn seen(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<bool> {
    let found: i64 = received_activities::table
        .filter(received_activities::ap_id.eq(ap_id.as_str()))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Records an activity id; `false` when it was already there (a concurrent
/// duplicate), which callers treat as "already processed".
pub fn record(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<bool> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(received_activities::table)
        .values((
            received_activities::ap_id.eq(ap_id.as_str()),
            received_activities::received_at.eq(super::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Forgets up to `batch` ids received before `before`; returns how many.
/// A replay of something that old fails the inbox's 12-hour `Date` check
/// anyway; a sender re-signing it later gets it processed again, which
/// every handler tolerates.
pub fn prune(conn: &mut DbConn, before: chrono::NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ids: Vec<String> = received_activities::table
        .filter(received_activities::received_at.lt(before))
        .select(received_activities::ap_id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(received_activities::table.filter(received_activities::ap_id.eq_any(&ids)))
        .execute(conn)
}
