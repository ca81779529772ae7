//! The raw rows behind a community's figures (issue 13 §5,
//! `service::community_stats`): hosts of members, kinds and times of
//! posts, asks and their replies. Nothing here names a person to the
//! caller's caller: the service turns these rows into counts and drops
//! them.

use super::{
    schema::{accepted_answers, actors, follows, posts},
    DbConn,
};
use diesel::prelude::*;

/// The host of every accepted member of `group_id` (one entry a member).
pub fn member_hosts(conn: &mut DbConn, group_id: &str) -> QueryResult<Vec<String>> {
    actors::table
        .filter(
            actors::id.eq_any(
                follows::table
                    .filter(follows::followee_id.eq(group_id.to_string()))
                    .filter(follows::state.eq("accepted"))
                    .select(follows::follower_id),
            ),
        )
        .select(actors::domain)
        .load(conn)
}

/// When each post shared in the community since `since` was published,
/// with its narration kind (none for a plain post).
pub fn kinds_since(
    conn: &mut DbConn,
    group_id: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<Vec<(chrono::NaiveDateTime, Option<String>)>> {
    posts::table
        .filter(posts::community_id.eq(group_id.to_string()))
        .filter(posts::deleted_at.is_null())
        .filter(posts::published.ge(since))
        .select((posts::published, posts::narration_kind))
        .load(conn)
}

/// One ask of the community.
#[derive(Debug, Clone, Queryable)]
pub struct AskRow {
    pub id: String,
    pub ap_id: String,
    pub author_id: String,
    pub published: chrono::NaiveDateTime,
}

/// Every ask shared in the community, not deleted.
pub fn asks(conn: &mut DbConn, group_id: &str) -> QueryResult<Vec<AskRow>> {
    posts::table
        .filter(posts::community_id.eq(group_id.to_string()))
        .filter(posts::narration_kind.eq("ask"))
        .filter(posts::deleted_at.is_null())
        .select((posts::id, posts::ap_id, posts::author_id, posts::published))
        .load(conn)
}

/// Which of `ask_ids` have an accepted answer (`accepted_answers`, kept by
/// `service::answers`; only read here).
pub fn answered_among(conn: &mut DbConn, ask_ids: &[String]) -> QueryResult<Vec<String>> {
    if ask_ids.is_empty() {
        return Ok(Vec::new());
    }
    accepted_answers::table
        .filter(accepted_answers::question_id.eq_any(ask_ids))
        .select(accepted_answers::question_id)
        .load(conn)
}

/// Replies (not deleted) to the posts with these ActivityPub ids: what
/// they answer, who wrote them, when.
pub fn replies_to(
    conn: &mut DbConn,
    ap_ids: &[String],
) -> QueryResult<Vec<(String, String, chrono::NaiveDateTime)>> {
    if ap_ids.is_empty() {
        return Ok(Vec::new());
    }
    posts::table
        .filter(posts::in_reply_to.assume_not_null().eq_any(ap_ids))
        .filter(posts::deleted_at.is_null())
        .select((
            posts::in_reply_to.assume_not_null(),
            posts::author_id,
            posts::published,
        ))
        .load(conn)
}
