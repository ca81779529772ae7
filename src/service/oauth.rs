//! OAuth 2 as Mastodon apps use it: registered applications, the
//! authorization-code flow (with PKCE), password, client-credentials and
//! refresh grants, and scopes.
//!
//! Codes, tokens and client secrets are random 32-byte values handed out
//! once and stored only as SHA-256 hashes.

use crate::{
    crypto,
    db::{
        actor::Actor,
        new_id, now,
        oauth::{OauthApp, OauthCode, OauthToken, TakenCode},
        Db,
    },
    error::{Error, ErrorKind, Result},
};
use base64::Engine;
use openssl::sha::sha256;

/// How long an authorization code may wait to be exchanged.
pub const CODE_LIFETIME_MINUTES: i64 = 10;

/// The out-of-band redirect: the code is shown to the user instead.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Top-level scopes and the granular ones Mastodon defines under them.
const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// Every scope a client may ask for.
pub fn known_scopes() -> &'static [&'static str] {
    KNOWN_SCOPES
}

/// The granular scopes the legacy `follow` scope stands for.
const FOLLOW_SCOPES: &[&str] = &[
    "read:blocks",
    "write:blocks",
    "read:follows",
    "write:follows",
    "read:mutes",
    "write:mutes",
];

/// A set of granted scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space- (or `+`-) separated list; empty means `read`, as in
    /// Mastodon.
    ///
    /// Errors: `BadRequest` naming an unknown scope.
    pub fn parse(input: &str) -> Result<Scopes> {
        let mut scopes: Vec<String> = Vec::new();
        for scope in input.split([' ', '+', ',']).filter(|s| !s.is_empty()) {
            if !KNOWN_SCOPES.contains(&scope) {
                return Err(Error::new(
                    ErrorKind::BadRequest,
                    format!("unknown scope `{scope}`"),
                ));
            }
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        if scopes.is_empty() {
            scopes.push("read".into());
        }
        Ok(Scopes(scopes))
    }

    pub fn as_string(&self) -> String {
        self.0.join(" ")
    }

    /// Whether these scopes grant `required` (e.g. `read:statuses` is
    /// granted by `read` and by `read:statuses`; `admin:read:accounts` by
    /// `admin:read`).
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|granted| {
            granted == required
                || required
                    .strip_prefix(granted.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
                || (granted == "follow" && FOLLOW_SCOPES.contains(&required))
                || (granted == "profile" && required == "read:accounts:self")
        })
    }

    /// Whether every scope in `requested` is also in `self` (a token may
    /// ask for no more than its application registered).
    pub fn covers(&self, requested: &Scopes) -> bool {
        requested.0.iter().all(|s| self.allows(s))
    }
}

/// The hash under which a secret is stored.
pub fn hash_secret(secret: &str) -> String {
    sha256(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_secret() -> Result<String> {
    crypto::random_token(32)
}

/// A registered application and, once only, its secret.
pub struct RegisteredApp {
    pub app: OauthApp,
    pub client_secret: String,
}

/// Registers a client application.
///
/// Errors: `Unprocessable` for a missing name, a bad redirect URI or an
/// unknown scope.
pub async fn register_app(
    db: &Db,
    name: &str,
    redirect_uris: &[String],
    scopes: &str,
    website: Option<String>,
) -> Result<RegisteredApp> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::unprocessable(
            "client_name must be 1 to 200 characters",
        ));
    }
    let uris: Vec<String> = redirect_uris
        .iter()
        .flat_map(|u| u.split_whitespace())
        .map(String::from)
        .collect();
    if uris.is_empty() {
        return Err(Error::unprocessable("redirect_uris must not be empty"));
    }
    for uri in &uris {
        if uri != OOB && url::Url::parse(uri).is_err() {
            return Err(Error::unprocessable(format!(
                "redirect_uris: `{uri}` is not an absolute URI"
            )));
        }
    }
    let scopes = Scopes::parse(scopes).map_err(|e| e.with_kind(ErrorKind::Unprocessable))?;
    let client_secret = new_secret()?;
    let app = OauthApp {
        id: new_id(),
        client_id: new_secret()?,
        client_secret_hash: hash_secret(&client_secret),
        name: name.to_string(),
        website: website.filter(|w| !w.trim().is_empty()),
        redirect_uris: uris.join("\n"),
        scopes: scopes.as_string(),
        created_at: now(),
    };
    let stored = app.clone();
    db.run(move |conn| Ok(OauthApp::insert(conn, &stored)?))
        .await?;
    Ok(RegisteredApp { app, client_secret })
}

/// The OAuth error responses of RFC 6749 §5.2, which token endpoints
/// answer with `{"error": code, "error_description": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OauthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidScope,
}

impl OauthError {
    pub fn code(self) -> &'static str {
        match self {
            OauthError::InvalidRequest => "invalid_request",
            OauthError::InvalidClient => "invalid_client",
            OauthError::InvalidGrant => "invalid_grant",
            OauthError::UnsupportedGrantType => "unsupported_grant_type",
            OauthError::InvalidScope => "invalid_scope",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            OauthError::InvalidRequest => "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
            OauthError::InvalidClient => "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
            OauthError::InvalidGrant => "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
            OauthError::UnsupportedGrantType => "The authorization grant type is not supported by the authorization server.",
            OauthError::InvalidScope => "The requested scope is invalid, unknown, or malformed.",
        }
    }
}

/// The app with this client id, if its secret matches (when given).
pub async fn client(
    db: &Db,
    client_id: &str,
    client_secret: Option<&str>,
) -> std::result::Result<OauthApp, OauthError> {
    let id = client_id.to_string();
    let app = db
        .run(move |conn| Ok(OauthApp::by_client_id(conn, &id)?))
        .await
        .ok()
        .flatten()
        .ok_or(OauthError::InvalidClient)?;
    match client_secret {
        Some(secret) if hash_secret(secret) != app.client_secret_hash => {
            Err(OauthError::InvalidClient)
        }
        _ => Ok(app),
    }
}

/// What the authorization page asks for, checked against the app.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub app: OauthApp,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub code_challenge: Option<String>,
}

/// Checks an authorization request before anything is shown.
///
/// Errors: `BadRequest` for an unknown client, a redirect URI the app did
/// not register, a scope beyond the app's, or an unsupported PKCE method.
pub async fn check_authorization(
    db: &Db,
    client_id: &str,
    redirect_uri: &str,
    scope: Option<&str>,
    code_challenge: Option<&str>,
    code_challenge_method: Option<&str>,
) -> Result<AuthorizationRequest> {
    let app = client(db, client_id, None)
        .await
        .map_err(|_| Error::bad_request("unknown client_id"))?;
    if !app.redirect_uris().iter().any(|u| u == redirect_uri) {
        return Err(Error::bad_request(
            "redirect_uri is not one the application registered",
        ));
    }
    let app_scopes = Scopes::parse(&app.scopes)?;
    let scopes = Scopes::parse(scope.unwrap_or(&app.scopes))?;
    if !app_scopes.covers(&scopes) {
        return Err(Error::bad_request(
            "scope exceeds what the application registered",
        ));
    }
    let code_challenge = code_challenge.filter(|c| !c.is_empty());
    if code_challenge.is_some() && code_challenge_method.unwrap_or("plain") != "S256" {
        return Err(Error::bad_request("code_challenge_method must be S256"));
    }
    Ok(AuthorizationRequest {
        app,
        redirect_uri: redirect_uri.to_string(),
        scopes,
        code_challenge: code_challenge.map(String::from),
    })
}

/// Issues an authorization code for `actor` (who has logged in and
/// approved the request).
pub async fn issue_code(db: &Db, request: &AuthorizationRequest, actor: &Actor) -> Result<String> {
    let code = new_secret()?;
    let row = OauthCode {
        code_hash: hash_secret(&code),
        app_id: request.app.id.clone(),
        actor_id: actor.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.as_string(),
        code_challenge: request.code_challenge.clone(),
        expires_at: now() + chrono::TimeDelta::minutes(CODE_LIFETIME_MINUTES),
        used_at: None,
    };
    db.run(move |conn| Ok(OauthCode::insert(conn, &row)?))
        .await?;
    Ok(code)
}

/// A token as handed to a client, once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Scopes,
    pub created_at: chrono::NaiveDateTime,
}

/// Creates an access token (with a refresh token for user tokens).
pub async fn issue_token(
    db: &Db,
    app_id: Option<&str>,
    actor_id: Option<&str>,
    scopes: &Scopes,
) -> Result<IssuedToken> {
    issue(db, app_id, actor_id, scopes, None).await
}

/// [`issue_token`], remembering the authorization code it came from.
async fn issue(
    db: &Db,
    app_id: Option<&str>,
    actor_id: Option<&str>,
    scopes: &Scopes,
    code_hash: Option<String>,
) -> Result<IssuedToken> {
    let access_token = new_secret()?;
    let refresh_token = match actor_id {
        Some(_) => Some(new_secret()?),
        None => None,
    };
    let row = OauthToken {
        id: new_id(),
        token_hash: hash_secret(&access_token),
        refresh_hash: refresh_token.as_deref().map(hash_secret),
        app_id: app_id.map(String::from),
        actor_id: actor_id.map(String::from),
        scopes: scopes.as_string(),
        created_at: now(),
        revoked_at: None,
        code_hash,
    };
    let created_at = row.created_at;
    db.run(move |conn| Ok(OauthToken::insert(conn, &row)?))
        .await?;
    Ok(IssuedToken {
        access_token,
        refresh_token,
        scopes: scopes.clone(),
        created_at,
    })
}

/// The PKCE S256 transform of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

/// Exchanges an authorization code.
pub async fn exchange_code(
    db: &Db,
    app: &OauthApp,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> std::result::Result<IssuedToken, OauthError> {
    let hash = hash_secret(code);
    let taken = {
        let hash = hash.clone();
        db.run(move |conn| Ok(OauthCode::take(conn, &hash)?))
            .await
            .map_err(|_| OauthError::InvalidGrant)?
    };
    let row = match taken {
        TakenCode::Fresh(row) => row,
        TakenCode::Unknown => return Err(OauthError::InvalidGrant),
        // RFC 6749 §4.1.2: a code used twice may have been stolen, so the
        // tokens issued for it are revoked too.
        TakenCode::Reused(row) => {
            let revoked = db
                .run(move |conn| Ok(OauthToken::revoke_for_code(conn, &hash)?))
                .await
                .map_err(|_| OauthError::InvalidRequest)?;
            tracing::warn!(app = %row.app_id, revoked, "authorization code reused; its tokens are revoked");
            return Err(OauthError::InvalidGrant);
        }
    };
    if row.app_id != app.id || row.expires_at < now() {
        return Err(OauthError::InvalidGrant);
    }
    if redirect_uri.is_some_and(|r| r != row.redirect_uri) {
        return Err(OauthError::InvalidGrant);
    }
    if let Some(challenge) = &row.code_challenge {
        match code_verifier {
            Some(v) if &pkce_challenge(v) == challenge => {}
            _ => return Err(OauthError::InvalidGrant),
        }
    }
    let scopes = Scopes::parse(&row.scopes).map_err(|_| OauthError::InvalidScope)?;
    issue(
        db,
        Some(&app.id),
        Some(&row.actor_id),
        &scopes,
        Some(row.code_hash),
    )
    .await
    .map_err(|_| OauthError::InvalidRequest)
}

/// Exchanges a refresh token: the old pair is revoked, a new one issued.
pub async fn refresh(
    db: &Db,
    app: &OauthApp,
    refresh_token: &str,
) -> std::result::Result<IssuedToken, OauthError> {
    let hash = hash_secret(refresh_token);
    let old = db
        .run(move |conn| Ok(OauthToken::by_refresh_hash(conn, &hash)?))
        .await
        .map_err(|_| OauthError::InvalidGrant)?
        .filter(|t| t.revoked_at.is_none() && t.app_id.as_deref() == Some(app.id.as_str()))
        .ok_or(OauthError::InvalidGrant)?;
    let scopes = Scopes::parse(&old.scopes).map_err(|_| OauthError::InvalidScope)?;
    let id = old.id.clone();
    db.run(move |conn| Ok(OauthToken::revoke(conn, &id)?))
        .await
        .map_err(|_| OauthError::InvalidRequest)?;
    issue(
        db,
        Some(&app.id),
        old.actor_id.as_deref(),
        &scopes,
        old.code_hash,
    )
    .await
    .map_err(|_| OauthError::InvalidRequest)
}

/// Revokes a token of `app` (RFC 7009: unknown tokens are not an error).
pub async fn revoke(db: &Db, app: &OauthApp, token: &str) -> Result<()> {
    let (hash, app_id) = (hash_secret(token), app.id.clone());
    db.run(move |conn| {
        let found = match OauthToken::by_hash(conn, &hash)? {
            Some(t) => Some(t),
            None => OauthToken::by_refresh_hash(conn, &hash)?,
        };
        if let Some(t) = found.filter(|t| t.app_id.as_deref() == Some(app_id.as_str())) {
            OauthToken::revoke(conn, &t.id)?;
        }
        Ok(())
    })
    .await
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Revoked,
}

/// The token behind a bearer value, and its user (if it has one).
pub async fn authenticate(
    db: &Db,
    bearer: &str,
) -> Result<std::result::Result<(OauthToken, Option<Actor>), TokenProblem>> {
    let hash = hash_secret(bearer);
    db.run(move |conn| {
        let Some(token) = OauthToken::by_hash(conn, &hash)? else {
            return Ok(Err(TokenProblem::Unknown));
        };
        if token.revoked_at.is_some() {
            return Ok(Err(TokenProblem::Revoked));
        }
        let actor = match &token.actor_id {
            Some(id) => match Actor::by_id(conn, id)? {
                Some(a) => Some(a),
                None => return Ok(Err(TokenProblem::Unknown)),
            },
            None => None,
        };
        Ok(Ok((token, actor)))
    })
    .await
}

/// Whether the token `token_id` still works: an open stream checks at
/// each heartbeat, so a token revoked by another process (`outloud admin
/// suspend`, a sign-out elsewhere) ends the streams it opened.
pub async fn token_is_live(db: &Db, token_id: &str) -> Result<bool> {
    let id = token_id.to_string();
    db.run(move |conn| Ok(OauthToken::is_live(conn, &id)?))
        .await
}

/// The id of the built-in application that `outloud admin create-token`
/// issues its tokens under. Mastodon clients take every token to have an
/// application (`GET /api/v1/apps/verify_credentials`), so none is left
/// without one. The row is made by the migration
/// `2026-12-02-000030_builtin_admin_app`, which also gave it the tokens made
/// before it existed: one place, at migration time, so no request ever
/// races to create it. It has no redirect URI and no secret that could
/// match, so no OAuth flow can use it.
pub const ADMIN_APP_ID: &str = "00000000-0000-7000-8000-000000000000";

/// A token for a local account, for scripts (`outloud admin
/// create-token`), under the built-in application [`ADMIN_APP_ID`].
///
/// Errors: `Forbidden` for a suspended account, which may hold no token.
pub async fn token_for_user(db: &Db, actor: &Actor, scopes: &str) -> Result<IssuedToken> {
    let scopes = Scopes::parse(scopes)?;
    let id = actor.id.clone();
    if db
        .run(move |conn| Ok(crate::db::local_user::LocalUser::is_suspended(conn, &id)?))
        .await?
    {
        return Err(Error::forbidden(format!(
            "`{}` is suspended; unsuspend it first",
            actor.username
        )));
    }
    issue_token(db, Some(ADMIN_APP_ID), Some(&actor.id), &scopes).await
}

/// An app a person let use their account, as the settings page lists it.
#[derive(Debug, Clone)]
pub struct AuthorisedApp {
    /// `None` for tokens without an app (none are made today).
    pub app_id: Option<String>,
    pub name: String,
    pub website: Option<String>,
    /// The scopes of all its live tokens together.
    pub scopes: Vec<String>,
    /// When its first live token was issued.
    pub since: chrono::NaiveDateTime,
    pub tokens: usize,
}

/// The apps holding live tokens of a person, most recent first.
pub async fn authorised_apps(db: &Db, actor: &Actor) -> Result<Vec<AuthorisedApp>> {
    let id = actor.id.clone();
    db.run(move |conn| {
        let tokens = OauthToken::live_of_actor(conn, &id)?;
        let mut apps: Vec<AuthorisedApp> = Vec::new();
        for token in tokens {
            let scopes = token.scopes.split(' ').map(String::from);
            if let Some(app) = apps.iter_mut().find(|a| a.app_id == token.app_id) {
                app.tokens += 1;
                app.since = app.since.min(token.created_at);
                for scope in scopes {
                    if !app.scopes.contains(&scope) {
                        app.scopes.push(scope);
                    }
                }
                continue;
            }
            let found = match &token.app_id {
                Some(app_id) => OauthApp::by_id(conn, app_id)?,
                None => None,
            };
            apps.push(AuthorisedApp {
                app_id: token.app_id.clone(),
                name: found
                    .as_ref()
                    .map_or_else(|| "Unnamed app".to_string(), |a| a.name.clone()),
                website: found.and_then(|a| a.website),
                scopes: scopes.collect(),
                since: token.created_at,
                tokens: 1,
            });
        }
        Ok(apps)
    })
    .await
}

/// Revokes every live token a person gave an app.
///
/// Errors: `NotFound` when the app holds none.
pub async fn revoke_app(db: &Db, actor: &Actor, app_id: &str) -> Result<usize> {
    let (id, app_id) = (actor.id.clone(), app_id.to_string());
    let revoked = db
        .run(move |conn| Ok(OauthToken::revoke_of_actor(conn, &id, Some(&app_id))?))
        .await?;
    if revoked == 0 {
        return Err(Error::not_found("That app has no access to your account."));
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_cover_their_children() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:statuses"));
        assert!(s.allows("read"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write"));
        assert!(!s.allows("write:favourites"));
        assert!(s.allows("write:follows"));
        assert!(s.allows("read:blocks"));
        assert!(!s.allows("admin:read"));
        // A prefix that is not a parent scope grants nothing.
        let s = Scopes::parse("read").unwrap();
        assert!(!s.allows("readx"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:accounts"));
        assert!(!admin.allows("admin:write:accounts"));
    }

    #[test]
    fn unknown_and_empty_scopes() {
        assert!(Scopes::parse("read bogus").is_err());
        assert_eq!(Scopes::parse("").unwrap().as_string(), "read");
        assert_eq!(
            Scopes::parse("read+write").unwrap().as_string(),
            "read write"
        );
        let app = Scopes::parse("read write").unwrap();
        assert!(app.covers(&Scopes::parse("read:statuses write").unwrap()));
        assert!(!app.covers(&Scopes::parse("follow").unwrap()));
    }

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
