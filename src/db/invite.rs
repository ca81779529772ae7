//! Invite links: a code an admin hands out, good for a number of sign-ups
//! until it expires or is revoked (`service::invites`).

use super::{schema::invites, DbConn};
use diesel::prelude::*;

/// One row of `invites`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = invites)]
pub struct Invite {
    pub id: String,
    pub code: String,
    pub created_by: String,
    /// `None`: any number of uses.
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: Option<chrono::NaiveDateTime>,
    pub revoked_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    /// A local community (its actor id) that people signing up with the
    /// invite join.
    pub community_id: Option<String>,
}

impl Invite {
    /// Whether the invite still lets someone register at `at`.
    pub fn usable(&self, at: chrono::NaiveDateTime) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|e| e > at)
            && self.max_uses.is_none_or(|m| self.uses < m)
    }

    pub fn insert(conn: &mut DbConn, invite: &Invite) -> QueryResult<()> {
        diesel::insert_into(invites::table)
            .values(invite)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Invite>> {
        invites::table
            .filter(invites::code.eq(code))
            .first(conn)
            .optional()
    }

    /// Every invite, newest first.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Invite>> {
        invites::table.order(invites::created_at.desc()).load(conn)
    }

    /// Counts one use, if the invite has uses left; whether it did. One
    /// conditional UPDATE, so two sign-ups cannot both take the last use.
    pub fn take_use(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::revoked_at.is_null())
                .filter(invites::expires_at.is_null().or(invites::expires_at.gt(at)))
                .filter(
                    invites::max_uses
                        .is_null()
                        .or(invites::max_uses.gt(invites::uses.nullable())),
                ),
        )
        .set(invites::uses.eq(invites::uses + 1))
        .execute(conn)
        .map(|n| n > 0)
    }

    /// Revokes an invite; whether it existed and was live.
    pub fn revoke(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::revoked_at.is_null()),
        )
        .set(invites::revoked_at.eq(Some(at)))
        .execute(conn)
        .map(|n| n > 0)
    }
}
