//! OAuth 2 endpoints: app registration, the authorization page, tokens,
//! revocation and server metadata (RFC 8414).

use super::{
    auth::Auth,
    entities,
    params::{Form, Query},
};
use crate::web::Viewer;
use crate::{
    apub::Data,
    context::Context,
    db::oauth::OauthApp,
    error::{Error, ErrorKind},
    service::{
        self,
        oauth::{self, AuthorizationRequest, OauthError, Scopes},
        sessions::SignInRefused,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

fn application(app: &OauthApp) -> entities::Application {
    let uris = app.redirect_uris();
    entities::Application {
        id: app.id.clone(),
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.split(' ').map(String::from).collect(),
        redirect_uri: uris.join("\n"),
        redirect_uris: uris,
        vapid_key: String::new(),
    }
}

#[derive(Deserialize)]
pub struct NewApp {
    client_name: Option<String>,
    #[serde(default, deserialize_with = "super::params::one_or_many")]
    redirect_uris: Vec<String>,
    scopes: Option<String>,
    website: Option<String>,
}

/// `POST /api/v1/apps`
pub async fn create_app(
    data: Data<Context>,
    Form(new): Form<NewApp>,
) -> Result<HttpResponse, Error> {
    let registered = oauth::register_app(
        &data.db,
        new.client_name.as_deref().unwrap_or(""),
        &new.redirect_uris,
        new.scopes.as_deref().unwrap_or("read"),
        new.website,
    )
    .await?;
    Ok(HttpResponse::Ok().json(entities::CredentialApplication {
        application: application(&registered.app),
        client_id: registered.app.client_id.clone(),
        client_secret: registered.client_secret,
        client_secret_expires_at: 0,
    }))
}

/// `GET /api/v1/apps/verify_credentials`
pub async fn verify_app(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let app_id = auth
        .token
        .app_id
        .clone()
        .ok_or_else(|| Error::new(ErrorKind::Unauthorized, super::auth::INVALID_TOKEN))?;
    let app = data
        .db
        .run(move |conn| Ok(OauthApp::by_id(conn, &app_id)?))
        .await?
        .ok_or_else(|| Error::new(ErrorKind::Unauthorized, super::auth::INVALID_TOKEN))?;
    Ok(HttpResponse::Ok().json(application(&app)))
}

#[derive(Deserialize, Default)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    // The form's own fields.
    username: Option<String>,
    password: Option<String>,
    decision: Option<String>,
    /// Sent by the page a signed-in browser sees instead of a password.
    csrf: Option<String>,
}

#[derive(Template)]
#[template(path = "authorize.html", config = "src/web/askama.toml")]
struct AuthorizePage<'a> {
    layout: crate::web::Layout,
    app_name: &'a str,
    website: Option<&'a str>,
    scopes: Vec<&'a str>,
    scope: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: &'a str,
    code_challenge: &'a str,
    code_challenge_method: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    /// `@name@host` of the signed-in browser's person: the page then asks
    /// only to approve or deny (with the session's CSRF token).
    signed_in_as: Option<String>,
    /// The provider button (`[oidc]`) for a browser not signed in: it
    /// comes back to this very page, signed in.
    oidc: Option<(String, &'a str)>,
    /// `oidc.only`: no name and password fields.
    password_refused: bool,
}

/// This authorization request as a local path (`/oauth/authorize?…`),
/// where the provider button comes back to.
fn authorize_path(p: &AuthorizeParams) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", &p.response_type);
    query.append_pair("client_id", &p.client_id);
    query.append_pair("redirect_uri", &p.redirect_uri);
    for (key, value) in [
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            query.append_pair(key, value);
        }
    }
    format!("/oauth/authorize?{}", query.finish())
}

#[derive(Template)]
#[template(path = "authorized.html", config = "src/web/askama.toml")]
struct AuthorizedPage<'a> {
    layout: crate::web::Layout,
    app_name: &'a str,
    code: &'a str,
}

/// The web app's layout for the OAuth pages, which nobody is signed in to.
async fn page_layout(data: &Data<Context>, title: &str) -> Result<crate::web::Layout, Error> {
    let identity = service::instance::identity(&data.db, &data.config.instance).await?;
    Ok(crate::web::Layout {
        instance_name: identity.name,
        title: title.to_string(),
        ..Default::default()
    })
}

/// The OAuth pages, with the web app's security headers; their form may
/// redirect to the app (`render_authorize`).
fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, Error> {
    Ok(crate::web::layout::render_authorize(status, page))
}

async fn check(data: &Data<Context>, p: &AuthorizeParams) -> Result<AuthorizationRequest, Error> {
    if p.response_type != "code" {
        return Err(Error::bad_request("response_type must be `code`"));
    }
    oauth::check_authorization(
        &data.db,
        &p.client_id,
        &p.redirect_uri,
        p.scope.as_deref().filter(|s| !s.is_empty()),
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref().filter(|s| !s.is_empty()),
    )
    .await
}

async fn page(
    data: &Data<Context>,
    viewer: &Viewer,
    request: &AuthorizationRequest,
    p: &AuthorizeParams,
    status: StatusCode,
    error: Option<&str>,
) -> Result<HttpResponse, Error> {
    let scope = request.scopes.as_string();
    let title = format!("Authorize {}", request.app.name);
    let layout = match viewer.signed_in() {
        Some(_) => crate::web::Layout::new(data, viewer, title)
            .await
            .map_err(|e| e.0)?,
        None => page_layout(data, &title).await?,
    };
    html(
        status,
        &AuthorizePage {
            signed_in_as: viewer.actor().map(crate::web::layout::handle),
            layout,
            app_name: &request.app.name,
            website: request.app.website.as_deref(),
            scopes: scope.split(' ').collect(),
            scope: &scope,
            client_id: &p.client_id,
            redirect_uri: &p.redirect_uri,
            state: p.state.as_deref().unwrap_or(""),
            code_challenge: p.code_challenge.as_deref().unwrap_or(""),
            code_challenge_method: p.code_challenge_method.as_deref().unwrap_or(""),
            username: p.username.as_deref().unwrap_or(""),
            error,
            oidc: data.config.oidc.enabled().then(|| {
                (
                    crate::web::oidc::start_href(&authorize_path(p)),
                    data.config.oidc.display_name.as_str(),
                )
            }),
            password_refused: data.config.oidc.password_refused(),
        },
    )
}

/// `GET /oauth/authorize`: the login and consent page. A person's
/// browser shows it, so refusals are HTML pages too. A browser signed in
/// to the web app is only asked to approve or deny.
pub async fn authorize_page(
    data: Data<Context>,
    viewer: Viewer,
    Query(p): Query<AuthorizeParams>,
) -> HttpResponse {
    let shown = match check(&data, &p).await {
        Ok(request) => page(&data, &viewer, &request, &p, StatusCode::OK, None).await,
        Err(e) => Err(e),
    };
    shown.unwrap_or_else(|e| actix_web::ResponseError::error_response(&crate::web::WebError(e)))
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Result<HttpResponse, Error> {
    let mut url =
        url::Url::parse(redirect_uri).map_err(|_| Error::bad_request("bad redirect_uri"))?;
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    Ok(HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// Checks a name and password under the login limits
/// (`service::sessions::sign_in`).
async fn login(
    req: &HttpRequest,
    data: &Data<Context>,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<Result<crate::db::actor::Actor, SignInRefused>, Error> {
    let found = service::sessions::sign_in(
        &data.db,
        &data.limits,
        &crate::client_ip::of(req, &data.config.http),
        username.unwrap_or_default(),
        password.unwrap_or_default(),
    )
    .await?;
    Ok(found.map(|(actor, _)| actor))
}

/// `POST /oauth/authorize`: approve (or deny), with the browser's
/// session (and its CSRF token) or a name and password; refusals are
/// HTML pages, as for the page itself.
pub async fn authorize_submit(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    form: Result<Form<AuthorizeParams>, Error>,
) -> HttpResponse {
    let answer = match form {
        Ok(Form(p)) => decide(&req, &data, &viewer, p).await,
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(|e| actix_web::ResponseError::error_response(&crate::web::WebError(e)))
}

async fn decide(
    req: &HttpRequest,
    data: &Data<Context>,
    viewer: &Viewer,
    p: AuthorizeParams,
) -> Result<HttpResponse, Error> {
    let request = check(data, &p).await?;
    let state = p.state.clone().unwrap_or_default();
    if p.decision.as_deref() == Some("deny") {
        if request.redirect_uri == oauth::OOB {
            return Err(Error::forbidden("access denied"));
        }
        let mut pairs = vec![("error", "access_denied")];
        if !state.is_empty() {
            pairs.push(("state", &state));
        }
        return redirect_with(&request.redirect_uri, &pairs);
    }
    let with_password = p.password.as_deref().is_some_and(|pw| !pw.is_empty());
    let actor = match viewer.actor() {
        // The session approves, once its CSRF token proves the page was ours.
        Some(me) if !with_password => {
            if !viewer.csrf_matches(p.csrf.as_deref()) {
                return Err(Error::forbidden(
                    "This form has expired or did not come from this site. Go back, reload the page and try again.",
                ));
            }
            me.clone()
        }
        _ if data.config.oidc.password_refused() => {
            return page(
                data,
                viewer,
                &request,
                &p,
                StatusCode::FORBIDDEN,
                Some(crate::web::session::PASSWORD_REFUSED),
            )
            .await;
        }
        _ => match login(req, data, p.username.as_deref(), p.password.as_deref()).await? {
            Ok(actor) => actor,
            Err(SignInRefused::TooMany(verdict)) => {
                let mut response = page(
                    data,
                    viewer,
                    &request,
                    &p,
                    StatusCode::TOO_MANY_REQUESTS,
                    Some("Too many login attempts: wait a few minutes and try again."),
                )
                .await?;
                super::rate_limit_headers(response.headers_mut(), verdict);
                return Ok(response);
            }
            Err(SignInRefused::WrongPassword) => {
                return page(
                    data,
                    viewer,
                    &request,
                    &p,
                    StatusCode::UNAUTHORIZED,
                    Some("Wrong username or password."),
                )
                .await;
            }
            Err(why @ (SignInRefused::AwaitingApproval | SignInRefused::Suspended)) => {
                return page(
                    data,
                    viewer,
                    &request,
                    &p,
                    StatusCode::FORBIDDEN,
                    Some(why.message()),
                )
                .await;
            }
        },
    };
    let code = oauth::issue_code(&data.db, &request, &actor).await?;
    if request.redirect_uri == oauth::OOB {
        return html(
            StatusCode::OK,
            &AuthorizedPage {
                layout: page_layout(data, "Authorized").await?,
                app_name: &request.app.name,
                code: &code,
            },
        );
    }
    let mut pairs = vec![("code", code.as_str())];
    if !state.is_empty() {
        pairs.push(("state", &state));
    }
    redirect_with(&request.redirect_uri, &pairs)
}

#[derive(Deserialize, Default)]
pub struct TokenParams {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
}

fn oauth_error(status: StatusCode, e: OauthError) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "error": e.code(), "error_description": e.description() }))
}

pub(super) fn token_response(t: &oauth::IssuedToken) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(entities::Token {
            access_token: t.access_token.clone(),
            token_type: "Bearer".into(),
            scope: t.scopes.as_string(),
            created_at: t.created_at.and_utc().timestamp(),
            refresh_token: t.refresh_token.clone(),
        })
}

/// Client credentials from the body or HTTP Basic authentication.
fn client_credentials(req: &HttpRequest, p: &TokenParams) -> (Option<String>, Option<String>) {
    use base64::Engine;
    let basic = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (p.client_id.clone(), p.client_secret.clone()),
    }
}

/// `POST /oauth/token`
pub async fn token(
    req: HttpRequest,
    data: Data<Context>,
    Form(p): Form<TokenParams>,
) -> Result<HttpResponse, Error> {
    let (client_id, client_secret) = client_credentials(&req, &p);
    let Some(client_id) = client_id else {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            OauthError::InvalidClient,
        ));
    };
    let grant = p.grant_type.clone().unwrap_or_default();
    // Public clients using PKCE may omit the secret for the code grant.
    let secret_optional = grant == "authorization_code" && p.code_verifier.is_some();
    if client_secret.is_none() && !secret_optional {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            OauthError::InvalidClient,
        ));
    }
    let app = match oauth::client(&data.db, &client_id, client_secret.as_deref()).await {
        Ok(app) => app,
        Err(e) => return Ok(oauth_error(StatusCode::UNAUTHORIZED, e)),
    };
    let result = match grant.as_str() {
        "authorization_code" => {
            let Some(code) = p.code.as_deref() else {
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    OauthError::InvalidRequest,
                ));
            };
            oauth::exchange_code(
                &data.db,
                &app,
                code,
                p.redirect_uri.as_deref(),
                p.code_verifier.as_deref(),
            )
            .await
        }
        "refresh_token" => {
            let Some(refresh) = p.refresh_token.as_deref() else {
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    OauthError::InvalidRequest,
                ));
            };
            // An account the provider signs in keeps access only while
            // the provider still allows it.
            match service::oidc::recheck_refresh(&data, refresh).await {
                Ok(()) => oauth::refresh(&data.db, &app, refresh).await,
                Err(e) => Err(e),
            }
        }
        "client_credentials" | "password" => {
            let app_scopes = Scopes::parse(&app.scopes)?;
            let scopes = match Scopes::parse(p.scope.as_deref().unwrap_or(&app.scopes)) {
                Ok(s) if app_scopes.covers(&s) => s,
                _ => {
                    return Ok(oauth_error(
                        StatusCode::BAD_REQUEST,
                        OauthError::InvalidScope,
                    ))
                }
            };
            if grant == "client_credentials" {
                let t = oauth::issue_token(&data.db, Some(&app.id), None, &scopes).await?;
                return Ok(token_response(&t));
            }
            if data.config.oidc.password_refused() {
                return Ok(HttpResponse::Forbidden()
                    .insert_header(("Cache-Control", "no-store"))
                    .json(json!({
                        "error": "access_denied",
                        "error_description": "Password sign-in is off on this instance: sign in through the authorization page (/oauth/authorize) and the sign-in provider.",
                    })));
            }
            match login(&req, &data, p.username.as_deref(), p.password.as_deref()).await? {
                Ok(actor) => {
                    let t = oauth::issue_token(&data.db, Some(&app.id), Some(&actor.id), &scopes)
                        .await?;
                    return Ok(token_response(&t));
                }
                Err(SignInRefused::TooMany(verdict)) => {
                    let mut response = HttpResponse::TooManyRequests()
                        .json(json!({ "error": "Too many login attempts" }));
                    super::rate_limit_headers(response.headers_mut(), verdict);
                    return Ok(response);
                }
                Err(
                    SignInRefused::WrongPassword
                    | SignInRefused::AwaitingApproval
                    | SignInRefused::Suspended,
                ) => Err(OauthError::InvalidGrant),
            }
        }
        _ => Err(OauthError::UnsupportedGrantType),
    };
    Ok(match result {
        Ok(t) => token_response(&t),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, e),
    })
}

/// `POST /oauth/revoke`
pub async fn revoke(
    req: HttpRequest,
    data: Data<Context>,
    Form(p): Form<TokenParams>,
) -> Result<HttpResponse, Error> {
    let (client_id, client_secret) = client_credentials(&req, &p);
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            OauthError::InvalidClient,
        ));
    };
    let app = match oauth::client(&data.db, &client_id, Some(&client_secret)).await {
        Ok(app) => app,
        Err(e) => return Ok(oauth_error(StatusCode::FORBIDDEN, e)),
    };
    let Some(token) = p.token.as_deref() else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            OauthError::InvalidRequest,
        ));
    };
    oauth::revoke(&data.db, &app, token).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), which
/// Mastodon 4.3+ clients read to find the endpoints and scopes.
pub async fn metadata(data: Data<Context>) -> HttpResponse {
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    HttpResponse::Ok().json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": oauth::known_scopes(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/apps", web::post().to(create_app))
        .route("/api/v1/apps/verify_credentials", web::get().to(verify_app))
        .route("/oauth/authorize", web::get().to(authorize_page))
        .route("/oauth/authorize", web::post().to(authorize_submit))
        .route("/oauth/token", web::post().to(token))
        .route("/oauth/revoke", web::post().to(revoke))
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(metadata),
        );
}
