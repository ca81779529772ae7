//! Signing in: the login limits every password check goes through (the
//! OAuth authorization page, the password grant and the web app's sign-in
//! form), and the web app's browser sessions.
//!
//! A session is a row (`db::web_session`), so every server process over one
//! database knows it; the browser holds a random token whose hash is the
//! row's key. Sessions end when their person signs out, revokes them in
//! settings, changes the password (all others), or leaves them unused for
//! [`IDLE_DAYS`].

use crate::{
    crypto,
    db::{actor::Actor, local_user::LocalUser, now, web_session::WebSession, Db},
    error::{ErrorKind, Result},
    ratelimit::{Limits, Verdict},
    service::{accounts, oauth::hash_secret},
};

/// A session unused for this long is over.
pub const IDLE_DAYS: i64 = 30;

/// How often `last_seen_at` is written: not on every page view.
const TOUCH_EVERY_MINUTES: i64 = 10;

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SignInRefused {
    /// Over the per-address or per-(address, account) limit; that limit's
    /// verdict, for `X-RateLimit-*` headers.
    TooMany(Verdict),
    /// Unknown name or wrong password: one answer for both, so names cannot
    /// be probed.
    WrongPassword,
    /// The right password, but the registration waits for an admin.
    AwaitingApproval,
    /// The right password, but an admin suspended the account.
    Suspended,
}

impl SignInRefused {
    /// What the person is told, for the refusals about the account.
    pub fn message(self) -> &'static str {
        match self {
            SignInRefused::TooMany(_) => {
                "Too many sign-in attempts: wait a few minutes and try again."
            }
            SignInRefused::WrongPassword => {
                "That username and password do not match. Check both and try again."
            }
            SignInRefused::AwaitingApproval => accounts::AWAITING_APPROVAL,
            SignInRefused::Suspended => accounts::SUSPENDED,
        }
    }
}

/// Checks a name and password under the login limits: attempts per
/// address, failures per (address, account), and a slow-down (never a
/// lock-out) for an account guessed at from everywhere.
pub async fn sign_in(
    db: &Db,
    limits: &Limits,
    ip: &str,
    username: &str,
    password: &str,
) -> Result<std::result::Result<(Actor, LocalUser), SignInRefused>> {
    let username = username.trim().to_lowercase();
    let account_key = format!("account:{username}");
    let pair_key = format!("ip:{ip} account:{username}");
    let by_ip = limits.login_ip.hit(&format!("ip:{ip}"));
    if !by_ip.allowed {
        return Ok(Err(SignInRefused::TooMany(by_ip)));
    }
    let pair = limits.login_pair.peek(&pair_key);
    if !pair.allowed {
        return Ok(Err(SignInRefused::TooMany(pair)));
    }
    let delay = Limits::login_delay(limits.login_account.count(&account_key));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match accounts::check_credentials(db, &username, password).await {
        Ok(found) => {
            limits.login_pair.reset(&pair_key);
            Ok(match accounts::standing(&found.1) {
                accounts::Standing::Active => Ok(found),
                accounts::Standing::AwaitingApproval => Err(SignInRefused::AwaitingApproval),
                accounts::Standing::Suspended => Err(SignInRefused::Suspended),
            })
        }
        Err(e) if e.kind == ErrorKind::Unauthorized => {
            limits.login_pair.hit(&pair_key);
            limits.login_account.hit(&account_key);
            Ok(Err(SignInRefused::WrongPassword))
        }
        Err(e) => Err(e),
    }
}

/// A new session: the row, and the token for the cookie (shown once).
pub async fn open(
    db: &Db,
    actor: &Actor,
    user_agent: &str,
    ip: &str,
) -> Result<(WebSession, String)> {
    let token = crypto::random_token(32)?;
    let at = now();
    let session = WebSession {
        id: crate::db::new_id(),
        token_hash: hash_secret(&token),
        actor_id: actor.id.clone(),
        csrf_token: crypto::random_token(24)?,
        user_agent: user_agent.chars().take(300).collect(),
        ip: ip.to_string(),
        created_at: at,
        last_seen_at: at,
    };
    let row = session.clone();
    db.run(move |conn| Ok(WebSession::insert(conn, &row)?))
        .await?;
    Ok((session, token))
}

/// The signed-in person behind a cookie token, if the session is live.
pub async fn find(db: &Db, token: &str) -> Result<Option<(WebSession, Actor, LocalUser)>> {
    let hash = hash_secret(token);
    db.run(move |conn| {
        let Some(session) = WebSession::by_token_hash(conn, &hash)? else {
            return Ok(None);
        };
        let at = now();
        if session.last_seen_at < at - chrono::Duration::days(IDLE_DAYS) {
            WebSession::delete(conn, &session.actor_id, &session.id)?;
            return Ok(None);
        }
        let (Some(actor), Some(user)) = (
            Actor::by_id(conn, &session.actor_id)?,
            LocalUser::by_actor_id(conn, &session.actor_id)?,
        ) else {
            return Ok(None);
        };
        // A suspended (or not yet approved) person has no live session.
        if accounts::standing(&user) != accounts::Standing::Active {
            return Ok(None);
        }
        if session.last_seen_at < at - chrono::Duration::minutes(TOUCH_EVERY_MINUTES) {
            WebSession::touch(conn, &session.id, at)?;
        }
        Ok(Some((session, actor, user)))
    })
    .await
}

/// Whether the session `id` is still open: the web app's live stream
/// checks at each heartbeat, so a suspension or a sign-out elsewhere ends
/// it.
pub async fn is_open(db: &Db, id: &str) -> Result<bool> {
    let id = id.to_string();
    db.run(move |conn| Ok(WebSession::exists(conn, &id)?)).await
}

/// A person's sessions, most recently used first.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<WebSession>> {
    let id = actor.id.clone();
    db.run(move |conn| Ok(WebSession::of_actor(conn, &id)?))
        .await
}

/// Ends one of a person's sessions (signing out, or revoking it in
/// settings).
///
/// Errors: `NotFound` when the person has no such session.
pub async fn close(db: &Db, actor: &Actor, session_id: &str) -> Result<()> {
    let (actor_id, id) = (actor.id.clone(), session_id.to_string());
    let found = db
        .run(move |conn| Ok(WebSession::delete(conn, &actor_id, &id)?))
        .await?;
    if found {
        Ok(())
    } else {
        Err(crate::error::Error::not_found("no such session"))
    }
}

/// Ends every session of a person but `keep`.
pub async fn close_others(db: &Db, actor: &Actor, keep: Option<&str>) -> Result<usize> {
    let (actor_id, keep) = (actor.id.clone(), keep.map(String::from));
    db.run(move |conn| Ok(WebSession::delete_others(conn, &actor_id, keep.as_deref())?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{db::local_user::Role, testing::TestDatabase, urls::Urls};

    async fn sessions_round_trip(db: TestDatabase) {
        let db_handle = db.connect();
        crate::db::migrations::run_pending(&mut db_handle.get().unwrap()).unwrap();
        let urls = Urls::new("http", "example.localhost").unwrap();
        let actor = accounts::create_user(
            &db_handle,
            &urls,
            accounts::NewUser {
                name: "alice",
                password: "correct horse battery",
                role: Role::User,
            },
        )
        .await
        .unwrap();
        let (one, token) = open(&db_handle, &actor, "test agent", "127.0.0.1")
            .await
            .unwrap();
        let (two, _) = open(&db_handle, &actor, "other", "127.0.0.2")
            .await
            .unwrap();
        let (found, who, _) = find(&db_handle, &token).await.unwrap().unwrap();
        assert_eq!(
            (found.id.as_str(), who.id.as_str()),
            (one.id.as_str(), actor.id.as_str())
        );
        assert!(find(&db_handle, "not a token").await.unwrap().is_none());
        // The stored row never holds the token itself.
        assert_ne!(found.token_hash, token);
        assert_eq!(list(&db_handle, &actor).await.unwrap().len(), 2);
        assert_eq!(
            close_others(&db_handle, &actor, Some(&one.id))
                .await
                .unwrap(),
            1
        );
        assert!(close(&db_handle, &actor, &two.id).await.is_err());
        close(&db_handle, &actor, &one.id).await.unwrap();
        assert!(find(&db_handle, &token).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn sessions_open_find_and_close() {
        sessions_round_trip(TestDatabase::sqlite()).await;
        if let Some(pg) = TestDatabase::postgres("sessions_open_find_and_close") {
            sessions_round_trip(pg).await;
        }
    }
}
