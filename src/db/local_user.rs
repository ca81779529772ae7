//! Credentials and role of local accounts (1:1 with a local Person actor).

use super::{schema::local_users, DbConn};
use diesel::prelude::*;

/// What a local account may do beyond its own content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    /// Handles reports and suspends or reinstates accounts; instance
    /// settings stay with admins (issue 15 §1: set from provider groups).
    Moderator,
    Admin,
}

impl Role {
    /// Whether the role may handle reports and suspensions (admins and
    /// moderators).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Role {
        match s {
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
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
    /// False while a registration waits for an admin's approval.
    pub approved: bool,
    /// Set while an admin has suspended the account.
    pub suspended_at: Option<chrono::NaiveDateTime>,
    /// The visibility new narrations start with (`db::post::Visibility`).
    pub default_visibility: String,
    /// Why they want to join, as they said when signing up (shown to the
    /// admins approving registrations).
    pub registration_reason: Option<String>,
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

    /// Every local account with its actor, newest first (the admin page).
    pub fn all_with_actors(
        conn: &mut DbConn,
    ) -> QueryResult<Vec<(LocalUser, super::actor::Actor)>> {
        use super::schema::actors;
        local_users::table
            .inner_join(actors::table)
            .order(local_users::created_at.desc())
            .select((LocalUser::as_select(), super::actor::Actor::as_select()))
            .load(conn)
    }

    pub fn set_approved(conn: &mut DbConn, actor_id: &str, approved: bool) -> QueryResult<usize> {
        // The reason to join was for this decision only.
        diesel::update(local_users::table.find(actor_id))
            .set((
                local_users::approved.eq(approved),
                local_users::registration_reason.eq(None::<String>),
            ))
            .execute(conn)
    }

    /// Deletes an account still waiting for approval, actor and all (the
    /// rows cascade); whether there was one. An approved account is left
    /// alone: it may have written, followed and federated.
    pub fn delete_waiting(conn: &mut DbConn, actor_id: &str) -> QueryResult<bool> {
        use super::schema::actors;
        let waiting = local_users::table
            .filter(local_users::actor_id.eq(actor_id))
            .filter(local_users::approved.eq(false))
            .select(local_users::actor_id);
        diesel::delete(actors::table.filter(actors::id.eq_any(waiting)))
            .execute(conn)
            .map(|n| n > 0)
    }

    pub fn set_suspended(
        conn: &mut DbConn,
        actor_id: &str,
        at: Option<chrono::NaiveDateTime>,
    ) -> QueryResult<usize> {
        diesel::update(local_users::table.find(actor_id))
            .set(local_users::suspended_at.eq(at))
            .execute(conn)
    }

    /// Whether an admin suspended the account of `actor_id` (`false` when
    /// it has no login: remote actors, communities).
    pub fn is_suspended(conn: &mut DbConn, actor_id: &str) -> QueryResult<bool> {
        Ok(local_users::table
            .find(actor_id)
            .select(local_users::suspended_at)
            .first::<Option<chrono::NaiveDateTime>>(conn)
            .optional()?
            .flatten()
            .is_some())
    }

    /// Which of `actor_ids` are suspended local accounts (the API's
    /// `suspended` on accounts, for a whole page in one query).
    pub fn suspended_among(
        conn: &mut DbConn,
        actor_ids: &[String],
    ) -> QueryResult<std::collections::HashSet<String>> {
        Ok(local_users::table
            .filter(local_users::actor_id.eq_any(actor_ids))
            .filter(local_users::suspended_at.is_not_null())
            .select(local_users::actor_id)
            .load::<String>(conn)?
            .into_iter()
            .collect())
    }

    pub fn set_role(conn: &mut DbConn, actor_id: &str, role: Role) -> QueryResult<usize> {
        diesel::update(local_users::table.find(actor_id))
            .set(local_users::role.eq(role.as_str()))
            .execute(conn)
    }

    pub fn set_password_hash(conn: &mut DbConn, actor_id: &str, hash: &str) -> QueryResult<usize> {
        diesel::update(local_users::table.find(actor_id))
            .set(local_users::password_hash.eq(hash))
            .execute(conn)
    }

    pub fn set_default_visibility(
        conn: &mut DbConn,
        actor_id: &str,
        visibility: &str,
    ) -> QueryResult<usize> {
        diesel::update(local_users::table.find(actor_id))
            .set(local_users::default_visibility.eq(visibility))
            .execute(conn)
    }

    /// Number of local accounts (NodeInfo `usage.users.total`).
    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        local_users::table.count().get_result(conn)
    }
}
