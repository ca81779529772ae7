//! The instance's weekly activity (`GET /api/v1/instance/activity`):
//! counts over a time range of local posts, registrations and logins.

use super::{
    schema::{local_users, oauth_tokens, posts, web_sessions},
    DbConn,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Local posts published in `[from, to)`, deleted ones too (they were
/// written that week).
pub fn statuses(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    posts::table
        .filter(posts::local.eq(true))
        .filter(posts::published.ge(from))
        .filter(posts::published.lt(to))
        .count()
        .get_result(conn)
}

/// Local accounts created in `[from, to)`.
pub fn registrations(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    local_users::table
        .filter(local_users::created_at.ge(from))
        .filter(local_users::created_at.lt(to))
        .count()
        .get_result(conn)
}

/// Distinct local accounts that signed in during `[from, to)`: an OAuth
/// token issued to them, or a web session opened or last seen then.
/// Tokens keep no time of last use, so an app that stays signed in with
/// an old token counts in the week its token was issued only.
pub fn logins(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<i64> {
    let mut ids: Vec<String> = oauth_tokens::table
        .filter(oauth_tokens::created_at.ge(from))
        .filter(oauth_tokens::created_at.lt(to))
        .filter(oauth_tokens::actor_id.is_not_null())
        .select(oauth_tokens::actor_id.assume_not_null())
        .distinct()
        .load(conn)?;
    ids.extend(
        web_sessions::table
            .filter(
                web_sessions::created_at
                    .ge(from)
                    .and(web_sessions::created_at.lt(to))
                    .or(web_sessions::last_seen_at
                        .ge(from)
                        .and(web_sessions::last_seen_at.lt(to))),
            )
            .select(web_sessions::actor_id)
            .distinct()
            .load::<String>(conn)?,
    );
    ids.sort();
    ids.dedup();
    Ok(ids.len() as i64)
}
