//! Who is looking: the session cookie, the [`Viewer`] extractor, the CSRF
//! check built into [`Form`], and the sign-in and sign-out pages.
//!
//! The session cookie (`outloud_session`) is `HttpOnly`, `SameSite=Lax`
//! and, outside dev mode, `Secure`; it holds a random token whose hash
//! names a `web_sessions` row (`service::sessions`). Every state-changing
//! form carries a CSRF token: the session's own, or for people not signed
//! in (the sign-in and registration forms) a random one kept in a second
//! cookie (`outloud_csrf`, double submit). [`Form`] refuses a form whose
//! token is missing or stale with 403 before the handler runs, so no
//! handler can forget the check.

use super::layout::{local_path, render, see_other, Layout, WebError};
use crate::{
    apub::Data,
    context::Context,
    crypto,
    db::{actor::Actor, local_user::LocalUser, web_session::WebSession},
    error::Error,
    service::{self, sessions::SignInRefused},
};
use actix_web::{
    cookie::{Cookie, SameSite},
    dev::Payload,
    http::StatusCode,
    web::{self, Bytes},
    FromRequest, HttpMessage, HttpRequest, HttpResponse,
};
use askama::Template;
use serde::{de::DeserializeOwned, Deserialize};
use std::{future::Future, pin::Pin, rc::Rc};

pub const SESSION_COOKIE: &str = "outloud_session";
pub const CSRF_COOKIE: &str = "outloud_csrf";

/// A signed-in person and their session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: WebSession,
    pub actor: Actor,
    pub user: LocalUser,
}

/// Whoever sent the request: a signed-in person or a visitor. A visitor
/// gets an anonymous CSRF token, set as a cookie by [`render_for`].
#[derive(Debug, Clone)]
pub struct Viewer {
    signed_in: Option<Rc<SignedIn>>,
    /// The anonymous token: from the request's cookie, or new.
    anonymous_csrf: String,
    /// Whether `anonymous_csrf` is new and must be set as a cookie.
    new_csrf: bool,
    secure: bool,
}

impl Viewer {
    pub fn signed_in(&self) -> Option<&SignedIn> {
        self.signed_in.as_deref()
    }

    /// The signed-in person's actor, if any: what `service::` calls take as
    /// the viewer.
    pub fn actor(&self) -> Option<&Actor> {
        self.signed_in().map(|s| &s.actor)
    }

    /// The signed-in person, or a 401 page that links to sign-in.
    pub fn require(&self) -> Result<&SignedIn, WebError> {
        self.signed_in()
            .ok_or_else(|| WebError(Error::unauthorized("Sign in to do that.")))
    }

    /// The token forms must carry.
    pub fn csrf(&self) -> &str {
        match self.signed_in() {
            Some(s) => &s.session.csrf_token,
            None => &self.anonymous_csrf,
        }
    }

    /// Whether `sent` is this viewer's CSRF token (for handlers that cannot
    /// use [`Form`], such as the OAuth page, whose form also serves people
    /// who are not signed in).
    pub fn csrf_matches(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|sent| same_token(sent, self.csrf()))
            && (self.signed_in().is_some() || !self.new_csrf)
    }

    /// Sets the anonymous CSRF cookie on a response when it is new.
    pub fn finish(&self, mut response: HttpResponse) -> HttpResponse {
        if self.signed_in.is_none() && self.new_csrf {
            let cookie = cookie(CSRF_COOKIE, self.anonymous_csrf.clone(), self.secure);
            if let Err(e) = response.add_cookie(&cookie) {
                tracing::warn!(error = %e, "could not set the CSRF cookie");
            }
        }
        response
    }
}

pub(super) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

/// Looks the viewer up once per request (kept in the request's
/// extensions, so `Viewer` and `Form` share one database read).
pub(super) async fn viewer_of(req: &HttpRequest) -> Result<Viewer, WebError> {
    if let Some(viewer) = req.extensions().get::<Viewer>() {
        return Ok(viewer.clone());
    }
    let data = Data::<Context>::extract(req).await.map_err(|_| {
        WebError(Error::internal(anyhow::anyhow!(
            "no federation data on request"
        )))
    })?;
    let secure = !data.config.dev_mode();
    let signed_in = match req.cookie(SESSION_COOKIE) {
        Some(c) if !c.value().is_empty() => service::sessions::find(&data.db, c.value())
            .await?
            .map(|(session, actor, user)| {
                Rc::new(SignedIn {
                    session,
                    actor,
                    user,
                })
            }),
        _ => None,
    };
    let (anonymous_csrf, new_csrf) = match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() >= 32 => (c.value().to_string(), false),
        _ => (crypto::random_token(24)?, true),
    };
    let viewer = Viewer {
        signed_in,
        anonymous_csrf,
        new_csrf,
        secure,
    };
    req.extensions_mut().insert(viewer.clone());
    Ok(viewer)
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { viewer_of(&req).await })
    }
}

/// A form body (`application/x-www-form-urlencoded`) whose `csrf` field
/// matched the viewer's token. A missing or stale token is 403; a body that
/// does not fit `T` is 400 with what was wrong.
#[derive(Debug)]
pub struct Form<T>(pub T);

/// The longest form body accepted (compose allows long Articles).
pub(super) const MAX_FORM_BYTES: usize = 256 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes: Bytes = body
                .await
                .map_err(|_| WebError(Error::bad_request("The form could not be read.")))?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(WebError(Error::new(
                    crate::error::ErrorKind::PayloadTooLarge,
                    "The form is too large.",
                )));
            }
            let viewer = viewer_of(&req).await?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| WebError(Error::bad_request("The form could not be read.")))?;
            let sent = pairs
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str());
            if !viewer.csrf_matches(sent) {
                return Err(WebError(Error::forbidden(
                    "This form has expired or did not come from this site. Go back, reload the page and try again.",
                )));
            }
            serde_urlencoded::from_bytes(&bytes).map(Form).map_err(|e| {
                WebError(Error::bad_request(format!(
                    "The form could not be read: {e}."
                )))
            })
        })
    }
}

/// Compares two tokens in constant time; tokens of unequal length are
/// unequal (a token's length is no secret).
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

#[derive(Template)]
#[template(path = "login.html", config = "src/web/askama.toml")]
struct LoginPage<'a> {
    layout: Layout,
    username: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    /// Whether to offer "Create an account" (registrations not closed).
    can_register: bool,
    /// The provider button (`[oidc]`): its href and its words.
    oidc: Option<(String, &'a str)>,
    /// `oidc.only`: no password form.
    password_refused: bool,
}

/// The provider button of a sign-in page that goes on to `next`.
fn oidc_button<'a>(data: &'a Data<Context>, next: &str) -> Option<(String, &'a str)> {
    let config = &data.config.oidc;
    config
        .enabled()
        .then(|| (super::oidc::start_href(next), config.display_name.as_str()))
}

/// What a password sign-in is told under `oidc.only`.
pub const PASSWORD_REFUSED: &str =
    "Password sign-in is off on this instance: use the sign-in provider's button instead.";

fn can_register(data: &Data<Context>) -> bool {
    data.config.instance.registrations != crate::config::Registrations::Closed
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`
pub async fn login_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let next = local_path(query.next.as_deref()).unwrap_or("/home");
    if viewer.signed_in().is_some() {
        return see_other(next);
    }
    let layout = Layout::new(&data, &viewer, "Sign in").await?;
    let page = LoginPage {
        layout,
        username: "",
        next,
        error: None,
        can_register: can_register(&data),
        oidc: oidc_button(&data, next),
        password_refused: data.config.oidc.password_refused(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /login`: checks the password under the login limits, opens a
/// session and goes to `next` (a local path) or home.
pub async fn login(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let next = local_path(form.next.as_deref())
        .unwrap_or("/home")
        .to_string();
    let refused = |status: StatusCode, message: &'static str| {
        login_refused(&data, &viewer, &form.username, &next, status, message)
    };
    if data.config.oidc.password_refused() {
        return refused(StatusCode::FORBIDDEN, PASSWORD_REFUSED).await;
    }
    if form.username.trim().is_empty() || form.password.is_empty() {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your username and your password.",
        )
        .await;
    }
    let ip = crate::client_ip::of(&req, &data.config.http);
    match service::sessions::sign_in(&data.db, &data.limits, &ip, &form.username, &form.password)
        .await?
    {
        Ok((actor, _)) => with_new_session(&req, &data, &actor, see_other(&next)?).await,
        Err(SignInRefused::TooMany(_)) => {
            refused(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in attempts: wait a few minutes and try again.",
            )
            .await
        }
        Err(SignInRefused::WrongPassword) => {
            refused(
                StatusCode::UNAUTHORIZED,
                "That username and password do not match. Check both and try again.",
            )
            .await
        }
        Err(why @ (SignInRefused::AwaitingApproval | SignInRefused::Suspended)) => {
            refused(StatusCode::FORBIDDEN, why.message()).await
        }
    }
}

/// Opens a web session for `actor` (signed in by password or by the
/// OpenID provider) and sets its cookie on `response`.
pub(super) async fn with_new_session(
    req: &HttpRequest,
    data: &Data<Context>,
    actor: &Actor,
    mut response: HttpResponse,
) -> Result<HttpResponse, WebError> {
    let ip = crate::client_ip::of(req, &data.config.http);
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (_, token) = service::sessions::open(&data.db, actor, agent, &ip).await?;
    let secure = !data.config.dev_mode();
    response
        .add_cookie(&cookie(SESSION_COOKIE, token, secure))
        .map_err(|e| WebError(Error::internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(response)
}

/// The sign-in page again, with the name kept and what went wrong.
async fn login_refused(
    data: &Data<Context>,
    viewer: &Viewer,
    username: &str,
    next: &str,
    status: StatusCode,
    message: &str,
) -> Result<HttpResponse, WebError> {
    let layout = Layout::new(data, viewer, "Sign in").await?;
    let page = LoginPage {
        layout,
        username,
        next,
        error: Some(message),
        can_register: can_register(data),
        oidc: oidc_button(data, next),
        password_refused: data.config.oidc.password_refused(),
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct CsrfOnly {}

/// `POST /logout`: ends this session.
pub async fn logout(
    data: Data<Context>,
    viewer: Viewer,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    if let Some(me) = viewer.signed_in() {
        // Already gone (revoked elsewhere) is fine: the person is out.
        let _ = service::sessions::close(&data.db, &me.actor, &me.session.id).await;
    }
    let mut response = see_other("/")?;
    let mut gone = cookie(SESSION_COOKIE, String::new(), !data.config.dev_mode());
    gone.make_removal();
    response
        .add_cookie(&gone)
        .map_err(|e| WebError(Error::internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(response)
}
