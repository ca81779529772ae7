//! Signing in through an OpenID Connect provider (issue 15 §1): the
//! authorization code flow with PKCE, `state` and `nonce`, through the
//! `openidconnect` crate, which verifies the ID token's signature (against
//! the provider's published keys), issuer, audience, expiry and nonce.
//!
//! Several stateless processes share one database, so a sign-in under way
//! is a row (`db::oidc::OidcLogin`, keyed by the hash of `state`, used
//! once, good for [`LOGIN_MINUTES`]), and the browser that started it also
//! holds its `state` in a cookie, which the callback must match: a
//! callback URL pushed into someone else's browser signs nobody in (login
//! CSRF). What happens to the account at each sign-in — who it is, whether
//! the provider's groups still allow it, its role and communities — is
//! [`provision`].

mod http;
pub mod provision;

use crate::{
    apub::Data,
    config::OidcConfig,
    context::Context,
    db::{actor::Actor, now, oauth::OauthToken, oidc::OidcIdentity, oidc::OidcLogin},
    error::{Error, ErrorKind, Result},
    service::oauth::{hash_secret, OauthError},
};
use http::ProviderClient;
use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata},
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope,
};
pub use provision::Claims;

/// How long a sign-in may take at the provider.
pub const LOGIN_MINUTES: i64 = 10;

/// The client after discovery: authorization endpoint set, token and
/// userinfo endpoints as the provider published them.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Where the browser goes to sign in, and the `state` the web layer keeps
/// in a cookie for the callback to compare.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: url::Url,
    pub state: String,
}

/// A finished sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    /// The local path to go to.
    pub return_to: String,
    /// Something to tell the person before going on (the name they got
    /// differs from the provider's).
    pub notice: Option<String>,
}

/// What the provider's callback carried.
#[derive(Debug, Clone, Default)]
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The `state` in the browser's cookie.
    pub browser_state: Option<&'a str>,
    /// The provider's `error` and `error_description`.
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
}

fn config(data: &Data<Context>) -> Result<&OidcConfig> {
    let config = &data.config.oidc;
    if config.enabled() {
        Ok(config)
    } else {
        Err(Error::not_found(
            "This instance has no OpenID Connect sign-in.",
        ))
    }
}

fn provider_error(what: &str, e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "OpenID provider: {what}");
    Error::new(
        ErrorKind::Federation,
        format!("The sign-in provider could not be used ({what}). Try again later, or tell an admin of this instance."),
    )
}

/// Reads the provider's discovery document and keys (every time: no
/// process-local cache for processes to disagree about), and makes the
/// client whose redirect URI is our callback.
async fn client(data: &Data<Context>) -> Result<(Client, ProviderClient)> {
    let config = config(data)?;
    let http = ProviderClient::new(data.http.clone(), data.config.dev_mode());
    let issuer = IssuerUrl::new(config.issuer.clone())
        .map_err(|e| provider_error("its issuer URL does not parse", e))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| provider_error("its discovery document could not be read", error_chain(&e)))?;
    let redirect = RedirectUrl::new(data.urls.oidc_callback().to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("callback URL: {e}")))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    Ok((client, http))
}

/// An error and its causes on one line, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// Starts a sign-in that comes back to `return_to` (a local path; the
/// caller has checked it).
///
/// Errors: `NotFound` without `[oidc]`; `Federation` when the provider's
/// discovery fails.
pub async fn start(data: &Data<Context>, return_to: &str) -> Result<Started> {
    let (client, _) = client(data).await?;
    let config = config(data)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in config.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (authorize_url, state, nonce) = request.url();
    let login = OidcLogin {
        state_hash: hash_secret(state.secret()),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to: return_to.to_string(),
        created_at: now(),
    };
    data.db
        .run(move |conn| Ok(OidcLogin::insert(conn, &login)?))
        .await?;
    Ok(Started {
        authorize_url,
        state: state.secret().clone(),
    })
}

/// A refusal of the callback that names what was wrong.
fn bad_callback(message: &str) -> Error {
    Error::bad_request(message.to_string())
}

/// Finishes a sign-in: checks `state` (known, unused, not expired, this
/// browser's), exchanges the code with the PKCE verifier, verifies the ID
/// token, then finds, links or creates the account and applies the
/// provider's groups to it ([`provision::apply`]).
///
/// Errors: `BadRequest` for a wrong, used or expired `state` or a missing
/// code, and for an error the provider sent back; `Unauthorized` for an ID
/// token that does not verify; `Forbidden` for a person the provider's
/// groups do not allow, or a suspended account; `Federation` when the
/// provider cannot be reached.
pub async fn finish(data: &Data<Context>, callback: Callback<'_>) -> Result<SignedIn> {
    config(data)?;
    if let Some(error) = callback.error {
        let said = callback.error_description.unwrap_or(error);
        // The provider's words, but never as markup (pages escape them).
        let said: String = said.chars().take(300).collect();
        return Err(bad_callback(&format!(
            "The sign-in provider did not sign you in: {said}"
        )));
    }
    let Some(state) = callback.state.filter(|s| !s.is_empty()) else {
        return Err(bad_callback(
            "This sign-in link has no `state`: start again from the sign-in page.",
        ));
    };
    let state_hash = hash_secret(state);
    let login = data
        .db
        .run(move |conn| Ok(OidcLogin::take(conn, &state_hash)?))
        .await?
        .ok_or_else(|| {
            bad_callback(
                "This sign-in is unknown or was already used: start again from the sign-in page.",
            )
        })?;
    if login.created_at < now() - chrono::Duration::minutes(LOGIN_MINUTES) {
        return Err(bad_callback(
            "This sign-in took too long and has expired: start again from the sign-in page.",
        ));
    }
    if callback.browser_state != Some(state) {
        return Err(bad_callback(
            "This sign-in was started in another browser: start again from the sign-in page here.",
        ));
    }
    let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
        return Err(bad_callback(
            "The sign-in provider sent no authorization code: start again from the sign-in page.",
        ));
    };
    let (client, http) = client(data).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| provider_error("it publishes no token endpoint", e))?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => {
                tracing::info!(error = %r, "the provider refused the authorization code");
                bad_callback(
                    "The sign-in provider refused this sign-in: start again from the sign-in page.",
                )
            }
            other => provider_error("its token endpoint failed", error_chain(&other)),
        })?;
    let id_token = token
        .extra_fields()
        .id_token()
        .ok_or_else(|| provider_error("it sent no ID token", "no id_token"))?;
    let nonce = Nonce::new(login.nonce.clone());
    let claims = verified_claims(&client, id_token, Some(&nonce))?;
    let refresh = token.refresh_token().map(|r| r.secret().clone());
    let outcome = provision::apply(data, &claims, refresh.as_deref(), true).await?;
    Ok(SignedIn {
        actor: outcome.actor,
        return_to: login.return_to,
        notice: outcome.notice,
    })
}

/// Verifies an ID token (signature, issuer, audience, expiry, and the
/// nonce when one was sent) and reads its claims, custom ones included.
fn verified_claims(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: Option<&Nonce>,
) -> Result<Claims> {
    let verifier = client.id_token_verifier();
    let refused = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "an ID token was refused");
        Error::unauthorized(
            "The sign-in provider's ID token could not be verified (forged, expired or not for this instance): start again from the sign-in page.",
        )
    };
    let standard = match nonce {
        Some(nonce) => id_token.claims(&verifier, nonce),
        // Refreshed ID tokens carry no nonce (OpenID Connect Core §12.2).
        None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(|e| refused(&e))?;
    // The signature covers exactly this payload: its other claims (the
    // configured username and groups claims) are read from it.
    let compact = id_token.to_string();
    let payload = compact
        .split('.')
        .nth(1)
        .ok_or_else(|| refused(&"not a compact JWS"))?;
    use base64::Engine;
    let raw: serde_json::Map<String, serde_json::Value> =
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| refused(&"payload is not JSON"))?;
    Ok(Claims {
        issuer: standard.issuer().to_string(),
        subject: standard.subject().to_string(),
        email: standard.email().map(|e| e.to_string()),
        email_verified: standard.email_verified() == Some(true),
        raw,
    })
}

/// At an OAuth `refresh_token` grant: a token of an account linked to the
/// provider is refreshed only while the provider still allows the person.
/// With the provider's refresh token (kept from the last sign-in) this asks
/// the provider; a refusal, or an ID token whose groups no longer allow
/// the person, revokes their sessions and tokens (deprovisioning) and
/// refuses the grant. Accounts not linked, or linked without a provider
/// refresh token, are refreshed as before.
pub async fn recheck_refresh(
    data: &Data<Context>,
    refresh_token: &str,
) -> std::result::Result<(), OauthError> {
    if !data.config.oidc.enabled() {
        return Ok(());
    }
    let hash = hash_secret(refresh_token);
    let identity = data
        .db
        .run(move |conn| {
            let Some(actor_id) = OauthToken::by_refresh_hash(conn, &hash)?.and_then(|t| t.actor_id)
            else {
                return Ok(None);
            };
            Ok(OidcIdentity::of_actor(conn, &actor_id)?)
        })
        .await
        .map_err(|_| OauthError::InvalidRequest)?;
    let Some(identity) = identity else {
        return Ok(());
    };
    let Some(provider_refresh) = identity.refresh_token.clone() else {
        return Ok(());
    };
    let (client, http) = client(data).await.map_err(|_| OauthError::InvalidGrant)?;
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(provider_refresh))
        .map_err(|_| OauthError::InvalidGrant)?
        .request_async(&http)
        .await;
    let token = match refreshed {
        Ok(token) => token,
        Err(RequestTokenError::ServerResponse(r)) => {
            tracing::info!(error = %r, actor = %identity.actor_id,
                "the provider refused to refresh: access revoked");
            let _ = provision::revoke_access(data, &identity.actor_id).await;
            return Err(OauthError::InvalidGrant);
        }
        // The provider is down: no new token now, but nothing revoked.
        Err(e) => {
            tracing::warn!(error = %error_chain(&e), "the provider could not be asked to refresh");
            return Err(OauthError::InvalidGrant);
        }
    };
    let new_refresh = token.refresh_token().map(|r| r.secret().clone());
    let claims = match token.extra_fields().id_token() {
        Some(id_token) => match verified_claims(&client, id_token, None) {
            Ok(claims) if claims.subject == identity.subject => Some(claims),
            _ => return Err(OauthError::InvalidGrant),
        },
        None => None,
    };
    match claims {
        Some(claims) => provision::apply(data, &claims, new_refresh.as_deref(), false)
            .await
            .map(|_| ())
            .map_err(|_| OauthError::InvalidGrant),
        None => {
            let (issuer, subject) = (identity.issuer, identity.subject);
            data.db
                .run(move |conn| {
                    Ok(OidcIdentity::signed_in(
                        conn,
                        &issuer,
                        &subject,
                        new_refresh.as_deref(),
                        now(),
                    )?)
                })
                .await
                .map(|_| ())
                .map_err(|_| OauthError::InvalidRequest)
        }
    }
}
