//! Narrations imported from an archive (`imported_posts`): which original
//! narration became which post of the importing person, so that importing
//! the same archive again creates nothing twice and replies find their
//! imported parents.

use super::schema::imported_posts;
use super::DbConn;
use diesel::prelude::*;

/// The local post `original_id` (the narration's id in the archive) became
/// for `actor_id`, if it was imported before.
pub fn imported_as(
    conn: &mut DbConn,
    actor_id: &str,
    original_id: &str,
) -> QueryResult<Option<String>> {
    imported_posts::table
        .find((actor_id, original_id))
        .select(imported_posts::post_id)
        .first(conn)
        .optional()
}

/// Records that `original_id` was imported as `post_id`. Runs in the new
/// post's transaction: a concurrent import of the same narration fails on
/// the primary key and stores nothing.
pub fn remember(
    conn: &mut DbConn,
    actor_id: &str,
    original_id: &str,
    post_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(imported_posts::table)
        .values((
            imported_posts::actor_id.eq(actor_id),
            imported_posts::original_id.eq(original_id),
            imported_posts::post_id.eq(post_id),
            imported_posts::created_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How many narrations `actor_id` imported.
pub fn count(conn: &mut DbConn, actor_id: &str) -> QueryResult<i64> {
    imported_posts::table
        .filter(imported_posts::actor_id.eq(actor_id))
        .count()
        .get_result(conn)
}
