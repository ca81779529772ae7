//! Browser sessions of the web app. The cookie holds a random token; the
//! row holds its SHA-256 (`token_hash`), so reading the database does not
//! let anyone sign in.

use super::schema::web_sessions;
use super::DbConn;
use diesel::prelude::*;

/// One row of `web_sessions`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct WebSession {
    pub id: String,
    pub token_hash: String,
    pub actor_id: String,
    /// The CSRF token every state-changing form of this session carries.
    pub csrf_token: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: chrono::NaiveDateTime,
    pub last_seen_at: chrono::NaiveDateTime,
}

impl WebSession {
    pub fn insert(conn: &mut DbConn, session: &WebSession) -> QueryResult<()> {
        diesel::insert_into(web_sessions::table)
            .values(session)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<WebSession>> {
        web_sessions::table
            .filter(web_sessions::token_hash.eq(hash))
            .first(conn)
            .optional()
    }

    /// An actor's sessions, most recently used first.
    pub fn of_actor(conn: &mut DbConn, actor_id: &str) -> QueryResult<Vec<WebSession>> {
        web_sessions::table
            .filter(web_sessions::actor_id.eq(actor_id))
            .order(web_sessions::last_seen_at.desc())
            .load(conn)
    }

    /// Whether the session `id` still exists (an open live stream asks at
    /// each heartbeat).
    pub fn exists(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(web_sessions::table.find(id))).get_result(conn)
    }

    pub fn touch(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> QueryResult<()> {
        diesel::update(web_sessions::table.find(id))
            .set(web_sessions::last_seen_at.eq(at))
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes one of an actor's sessions; whether it existed.
    pub fn delete(conn: &mut DbConn, actor_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            web_sessions::table
                .filter(web_sessions::id.eq(id))
                .filter(web_sessions::actor_id.eq(actor_id)),
        )
        .execute(conn)
        .map(|n| n > 0)
    }

    /// Deletes every session of an actor but `keep` (after a password
    /// change, or a suspension with `keep = None`).
    pub fn delete_others(
        conn: &mut DbConn,
        actor_id: &str,
        keep: Option<&str>,
    ) -> QueryResult<usize> {
        let mine = web_sessions::table.filter(web_sessions::actor_id.eq(actor_id));
        match keep {
            Some(keep) => diesel::delete(mine.filter(web_sessions::id.ne(keep))).execute(conn),
            None => diesel::delete(mine).execute(conn),
        }
    }

    /// Deletes sessions unused since `before`.
    pub fn delete_idle(conn: &mut DbConn, before: chrono::NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(web_sessions::table.filter(web_sessions::last_seen_at.lt(before)))
            .execute(conn)
    }
}
