//! OpenID Connect sign-in rows: the sign-ins under way (`oidc_logins`)
//! and the link of a provider account to a local one (`oidc_identities`).

use super::schema::{oidc_identities, oidc_logins};
use super::DbConn;
use diesel::prelude::*;

/// One row of `oidc_logins`: what the callback needs to finish a sign-in
/// started by this browser.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_logins)]
pub struct OidcLogin {
    /// SHA-256 of the `state` sent to the provider.
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: chrono::NaiveDateTime,
}

impl OidcLogin {
    pub fn insert(conn: &mut DbConn, login: &OidcLogin) -> QueryResult<()> {
        diesel::insert_into(oidc_logins::table)
            .values(login)
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes and returns the sign-in of `state_hash`: a `state` is good
    /// for one callback, whichever process gets it (the delete decides).
    pub fn take(conn: &mut DbConn, state_hash: &str) -> QueryResult<Option<OidcLogin>> {
        let found: Option<OidcLogin> =
            oidc_logins::table.find(state_hash).first(conn).optional()?;
        let deleted = diesel::delete(oidc_logins::table.find(state_hash)).execute(conn)?;
        Ok(found.filter(|_| deleted == 1))
    }

    /// Deletes up to `limit` sign-ins started before `before` (housekeeping).
    pub fn prune(
        conn: &mut DbConn,
        before: chrono::NaiveDateTime,
        limit: i64,
    ) -> QueryResult<usize> {
        let old: Vec<String> = oidc_logins::table
            .filter(oidc_logins::created_at.lt(before))
            .select(oidc_logins::state_hash)
            .limit(limit)
            .load(conn)?;
        diesel::delete(oidc_logins::table.filter(oidc_logins::state_hash.eq_any(old))).execute(conn)
    }
}

/// One row of `oidc_identities`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_identities)]
pub struct OidcIdentity {
    pub issuer: String,
    pub subject: String,
    pub actor_id: String,
    pub refresh_token: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub last_sign_in_at: chrono::NaiveDateTime,
}

impl OidcIdentity {
    pub fn insert(conn: &mut DbConn, identity: &OidcIdentity) -> QueryResult<()> {
        diesel::insert_into(oidc_identities::table)
            .values(identity)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(
        conn: &mut DbConn,
        issuer: &str,
        subject: &str,
    ) -> QueryResult<Option<OidcIdentity>> {
        oidc_identities::table
            .find((issuer, subject))
            .first(conn)
            .optional()
    }

    /// The provider account linked to a local account, if any.
    pub fn of_actor(conn: &mut DbConn, actor_id: &str) -> QueryResult<Option<OidcIdentity>> {
        oidc_identities::table
            .filter(oidc_identities::actor_id.eq(actor_id))
            .order(oidc_identities::last_sign_in_at.desc())
            .first(conn)
            .optional()
    }

    /// Records a sign-in; a new refresh token replaces the old one.
    pub fn signed_in(
        conn: &mut DbConn,
        issuer: &str,
        subject: &str,
        refresh_token: Option<&str>,
        at: chrono::NaiveDateTime,
    ) -> QueryResult<usize> {
        let row = oidc_identities::table.find((issuer, subject));
        match refresh_token {
            Some(token) => diesel::update(row)
                .set((
                    oidc_identities::last_sign_in_at.eq(at),
                    oidc_identities::refresh_token.eq(token),
                ))
                .execute(conn),
            None => diesel::update(row)
                .set(oidc_identities::last_sign_in_at.eq(at))
                .execute(conn),
        }
    }
}

/// The local person whose digest e-mail is `email` (as given, or
/// lower-cased), when exactly one is: an e-mail two accounts share links
/// neither.
pub fn person_with_email(
    conn: &mut DbConn,
    email: &str,
) -> QueryResult<Option<super::actor::Actor>> {
    use super::schema::{actors, digest_settings};
    let found: Vec<super::actor::Actor> = actors::table
        .inner_join(digest_settings::table.on(digest_settings::actor_id.eq(actors::id)))
        .filter(actors::local.eq(true))
        .filter(digest_settings::email.eq_any([email.to_string(), email.to_lowercase()]))
        .select(super::actor::Actor::as_select())
        .limit(2)
        .load(conn)?;
    Ok(match <[_; 1]>::try_from(found) {
        Ok([one]) => Some(one),
        Err(_) => None,
    })
}
