//! Followed hashtags (`followed_tags`): a local account's home timeline
//! also shows public posts carrying one of them (`timeline::home_rule`,
//! `audience::Audience::on_home`). Names are stored as `post_tags` stores
//! hashtags: lowercase, without `#`.

use super::{schema::followed_tags, DbConn, Page};
use diesel::prelude::*;

/// One row of `followed_tags`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = followed_tags)]
pub struct FollowedTag {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: chrono::NaiveDateTime,
}

impl FollowedTag {
    /// Follows `name` unless the account already does (following twice is
    /// no error, as in Mastodon); the stored row either way.
    pub fn follow(conn: &mut DbConn, account_id: &str, name: &str) -> QueryResult<FollowedTag> {
        if let Some(existing) = FollowedTag::get(conn, account_id, name)? {
            return Ok(existing);
        }
        let row = FollowedTag {
            id: super::new_id(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            created_at: super::now(),
        };
        diesel::insert_into(followed_tags::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    }

    /// Stops following `name`; unfollowing a tag not followed is no error.
    pub fn unfollow(conn: &mut DbConn, account_id: &str, name: &str) -> QueryResult<usize> {
        diesel::delete(
            followed_tags::table
                .filter(followed_tags::account_id.eq(account_id))
                .filter(followed_tags::name.eq(name)),
        )
        .execute(conn)
    }

    pub fn get(
        conn: &mut DbConn,
        account_id: &str,
        name: &str,
    ) -> QueryResult<Option<FollowedTag>> {
        followed_tags::table
            .filter(followed_tags::account_id.eq(account_id))
            .filter(followed_tags::name.eq(name))
            .first(conn)
            .optional()
    }

    /// One page of the account's followed tags, newest follow first.
    pub fn page(conn: &mut DbConn, account_id: &str, page: &Page) -> QueryResult<Vec<FollowedTag>> {
        let q = followed_tags::table
            .filter(followed_tags::account_id.eq(account_id.to_string()))
            .into_boxed();
        crate::load_page!(conn, q, followed_tags::id, page)
    }

    /// Which of `readers` follow one of `names` (one query per call; the
    /// streaming dispatcher's batch of readers).
    pub fn followers_of_any(
        conn: &mut DbConn,
        readers: &[String],
        names: &[String],
    ) -> QueryResult<Vec<String>> {
        if readers.is_empty() || names.is_empty() {
            return Ok(Vec::new());
        }
        followed_tags::table
            .filter(followed_tags::account_id.eq_any(readers))
            .filter(followed_tags::name.eq_any(names))
            .select(followed_tags::account_id)
            .distinct()
            .load(conn)
    }
}
