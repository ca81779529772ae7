//! Credentials and role of local accounts (1:1 with a local Person actor).

use super::{schema::local_users, DbConn};
use diesel::prelude::*;

/// What a local account may do beyond its own content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Role {
        match s {
            "admin" => Role::Admin,
            _ => Role::User,
        }
    }
}

/// One row of `local_users`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = local_users)]
pub struct LocalUser {
    pub actor_id: String,
    /// An argon2 PHC string.
    pub password_hash: String,
    pub role: String,
    pub created_at: chrono::NaiveDateTime,
}

impl LocalUser {
    pub fn role(&self) -> Role {
        Role::parse(&self.role)
    }

    pub fn insert(conn: &mut DbConn, user: &LocalUser) -> QueryResult<()> {
        diesel::insert_into(local_users::table)
            .values(user)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_actor_id(conn: &mut DbConn, actor_id: &str) -> QueryResult<Option<LocalUser>> {
        local_users::table.find(actor_id).first(conn).optional()
    }

    /// Number of local accounts (NodeInfo `usage.users.total`).
    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        local_users::table.count().get_result(conn)
    }
}
