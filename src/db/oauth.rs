//! OAuth 2 applications, authorization codes and access tokens. Secrets,
//! codes and tokens are stored as SHA-256 hashes: whoever reads the
//! database cannot use them.

use super::schema::{oauth_apps, oauth_codes, oauth_tokens};
use super::DbConn;
use diesel::prelude::*;

/// One row of `oauth_apps`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_apps)]
pub struct OauthApp {
    pub id: String,
    pub client_id: String,
    pub client_secret_hash: String,
    pub name: String,
    pub website: Option<String>,
    /// One URI per line.
    pub redirect_uris: String,
    /// Space-separated.
    pub scopes: String,
    pub created_at: chrono::NaiveDateTime,
}

impl OauthApp {
    pub fn redirect_uris(&self) -> Vec<String> {
        self.redirect_uris
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    pub fn insert(conn: &mut DbConn, app: &OauthApp) -> QueryResult<()> {
        diesel::insert_into(oauth_apps::table)
            .values(app)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<OauthApp>> {
        oauth_apps::table.find(id).first(conn).optional()
    }

    pub fn by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<OauthApp>> {
        oauth_apps::table
            .filter(oauth_apps::client_id.eq(client_id))
            .first(conn)
            .optional()
    }
}

/// One row of `oauth_codes`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_codes)]
pub struct OauthCode {
    pub code_hash: String,
    pub app_id: String,
    pub actor_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub expires_at: chrono::NaiveDateTime,
    /// When the code was exchanged; a used code is kept to recognise reuse.
    pub used_at: Option<chrono::NaiveDateTime>,
}

/// What [`OauthCode::take`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum TakenCode {
    /// Unknown code.
    Unknown,
    /// Not used before: now it is.
    Fresh(OauthCode),
    /// Exchanged before: someone replays it.
    Reused(OauthCode),
}

impl OauthCode {
    pub fn insert(conn: &mut DbConn, code: &OauthCode) -> QueryResult<()> {
        diesel::insert_into(oauth_codes::table)
            .values(code)
            .execute(conn)
            .map(|_| ())
    }

    /// Marks a code used and returns it: a code is good for one exchange
    /// only, even when that exchange fails. One conditional `UPDATE`, so of
    /// two concurrent exchanges exactly one finds it fresh.
    pub fn take(conn: &mut DbConn, code_hash: &str) -> QueryResult<TakenCode> {
        let marked = diesel::update(
            oauth_codes::table
                .find(code_hash)
                .filter(oauth_codes::used_at.is_null()),
        )
        .set(oauth_codes::used_at.eq(Some(super::now())))
        .execute(conn)?;
        let code = oauth_codes::table
            .find(code_hash)
            .first::<OauthCode>(conn)
            .optional()?;
        Ok(match code {
            None => TakenCode::Unknown,
            Some(code) if marked == 1 => TakenCode::Fresh(code),
            Some(code) => TakenCode::Reused(code),
        })
    }

    /// Deletes an actor's codes not yet exchanged (when the account is
    /// suspended); how many.
    pub fn delete_unused_of_actor(conn: &mut DbConn, actor_id: &str) -> QueryResult<usize> {
        diesel::delete(
            oauth_codes::table
                .filter(oauth_codes::actor_id.eq(actor_id))
                .filter(oauth_codes::used_at.is_null()),
        )
        .execute(conn)
    }

    /// Deletes codes that expired before `before`, at most `limit`.
    pub fn prune_expired(
        conn: &mut DbConn,
        before: chrono::NaiveDateTime,
        limit: i64,
    ) -> QueryResult<usize> {
        let old: Vec<String> = oauth_codes::table
            .filter(oauth_codes::expires_at.lt(before))
            .select(oauth_codes::code_hash)
            .limit(limit)
            .load(conn)?;
        diesel::delete(oauth_codes::table.filter(oauth_codes::code_hash.eq_any(old))).execute(conn)
    }
}

/// One row of `oauth_tokens`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_tokens)]
pub struct OauthToken {
    pub id: String,
    pub token_hash: String,
    pub refresh_hash: Option<String>,
    pub app_id: Option<String>,
    /// `None` for an app-only (client_credentials) token.
    pub actor_id: Option<String>,
    /// Space-separated.
    pub scopes: String,
    pub created_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
    /// The authorization code the token (or the token it was refreshed
    /// from) was issued for.
    pub code_hash: Option<String>,
}

impl OauthToken {
    pub fn insert(conn: &mut DbConn, token: &OauthToken) -> QueryResult<()> {
        diesel::insert_into(oauth_tokens::table)
            .values(token)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<OauthToken>> {
        oauth_tokens::table
            .filter(oauth_tokens::token_hash.eq(token_hash))
            .first(conn)
            .optional()
    }

    /// Whether the token `id` exists and is not revoked (open streams ask
    /// at each heartbeat).
    pub fn is_live(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        Ok(oauth_tokens::table
            .find(id)
            .select(oauth_tokens::revoked_at)
            .first::<Option<chrono::NaiveDateTime>>(conn)
            .optional()?
            .is_some_and(|revoked| revoked.is_none()))
    }

    pub fn by_refresh_hash(
        conn: &mut DbConn,
        refresh_hash: &str,
    ) -> QueryResult<Option<OauthToken>> {
        oauth_tokens::table
            .filter(oauth_tokens::refresh_hash.eq(refresh_hash))
            .first(conn)
            .optional()
    }

    /// Revokes every token issued for an authorization code.
    pub fn revoke_for_code(conn: &mut DbConn, code_hash: &str) -> QueryResult<usize> {
        let n = diesel::update(
            oauth_tokens::table
                .filter(oauth_tokens::code_hash.eq(code_hash))
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(Some(super::now())))
        .execute(conn)?;
        super::push::PushSubscription::delete_of_revoked_tokens(conn)?;
        Ok(n)
    }

    pub fn revoke(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        let n = diesel::update(oauth_tokens::table.find(id))
            .set(oauth_tokens::revoked_at.eq(Some(super::now())))
            .execute(conn)?;
        super::push::PushSubscription::delete_of_token(conn, id)?;
        Ok(n)
    }

    /// A person's live tokens, newest first (settings: authorised apps).
    pub fn live_of_actor(conn: &mut DbConn, actor_id: &str) -> QueryResult<Vec<OauthToken>> {
        oauth_tokens::table
            .filter(oauth_tokens::actor_id.eq(actor_id))
            .filter(oauth_tokens::revoked_at.is_null())
            .order(oauth_tokens::created_at.desc())
            .load(conn)
    }

    /// Revokes a person's live tokens, of one app or (`app_id = None`) all
    /// of them; how many.
    pub fn revoke_of_actor(
        conn: &mut DbConn,
        actor_id: &str,
        app_id: Option<&str>,
    ) -> QueryResult<usize> {
        let live = oauth_tokens::table
            .filter(oauth_tokens::actor_id.eq(actor_id))
            .filter(oauth_tokens::revoked_at.is_null());
        let now = Some(super::now());
        let n = match app_id {
            Some(app) => diesel::update(live.filter(oauth_tokens::app_id.eq(app)))
                .set(oauth_tokens::revoked_at.eq(now))
                .execute(conn)?,
            None => diesel::update(live)
                .set(oauth_tokens::revoked_at.eq(now))
                .execute(conn)?,
        };
        super::push::PushSubscription::delete_of_revoked_tokens(conn)?;
        Ok(n)
    }
}
