//! What every page shares: the [`Layout`] data the base template reads
//! (instance name, the signed-in person, their CSRF token, the side
//! column), the security headers every HTML answer carries, and the error
//! page ([`WebError`]).
//!
//! A handler builds its page struct with a `layout` field, then returns
//! [`render`]`(status, &page)`; errors bubble up as `WebError` and become
//! the error page with the error's status (404, 410, 403, 422…), never a
//! JSON body and never a 500 for bad input.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, local_user::Role},
    error::{Error, ErrorKind},
    service,
};
use actix_web::{
    http::{header, StatusCode},
    HttpResponse, HttpResponseBuilder, ResponseError,
};
use askama::Template;

/// The signed-in person as the header shows them.
#[derive(Debug, Clone)]
pub struct Me {
    pub name: String,
    pub display_name: String,
    pub is_admin: bool,
    /// An admin or a moderator: the people page of the administration
    /// (suspensions) is theirs too.
    pub is_staff: bool,
}

/// A joined community in the side column.
#[derive(Debug, Clone)]
pub struct SideCommunity {
    pub name: String,
    /// `/c/name` or `/c/name@host`.
    pub path: String,
}

/// The shared part of every page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub instance_name: String,
    /// The page's `<title>` before " · instance".
    pub title: String,
    pub me: Option<Me>,
    /// The session's CSRF token (or the anonymous one), put in every form.
    pub csrf: String,
    pub unread_notifications: i64,
    pub communities: Vec<SideCommunity>,
    /// `<link rel="alternate" type="application/atom+xml">` of the page.
    pub feed: Option<String>,
    /// Which header link is the current page (`home`, `communities`,
    /// `search`, `notifications`, `settings`, `admin`).
    pub nav: &'static str,
    /// The page's own path and query: where the card's forms come back to
    /// (their `return_to` field). Empty: they go to the narration's page.
    pub here: String,
}

impl Layout {
    /// The layout for a page titled `title`, for whoever is looking.
    pub async fn new(
        data: &Data<Context>,
        viewer: &super::session::Viewer,
        title: impl Into<String>,
    ) -> Result<Layout, WebError> {
        let mut layout = Layout {
            instance_name: service::instance::identity(&data.db, &data.config.instance)
                .await?
                .name,
            title: title.into(),
            csrf: viewer.csrf().to_string(),
            ..Layout::default()
        };
        if let Some(me) = viewer.signed_in() {
            let role = me.user.role();
            layout.me = Some(Me {
                name: me.actor.username.clone(),
                display_name: display_name(&me.actor).to_string(),
                is_admin: role == Role::Admin,
                is_staff: role.is_staff(),
            });
            layout.unread_notifications =
                service::notifications::unread_count(data, &me.actor).await?;
            layout.communities = service::communities::subscriptions(&data.db, &me.actor)
                .await?
                .iter()
                .map(|c| SideCommunity {
                    name: display_name(c).to_string(),
                    path: community_path(c),
                })
                .collect();
        }
        Ok(layout)
    }

    /// Marks which header link is current.
    pub fn nav(mut self, nav: &'static str) -> Layout {
        self.nav = nav;
        self
    }

    /// Sets where the page's card actions come back to (a local path).
    pub fn here(mut self, path: impl Into<String>) -> Layout {
        self.here = path.into();
        self
    }

    /// Adds the page's Atom feed.
    pub fn feed(mut self, href: impl Into<String>) -> Layout {
        self.feed = Some(href.into());
        self
    }

    /// Adds the page's Atom feed when it has one.
    pub fn feed_if(mut self, href: Option<impl Into<String>>) -> Layout {
        self.feed = href.map(Into::into);
        self
    }
}

/// An actor's display name, or its username when it has none.
pub fn display_name(actor: &Actor) -> &str {
    actor
        .display_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&actor.username)
}

/// The web page of a person: `/@name` here, `/@name@host` for others.
pub fn profile_path(actor: &Actor) -> String {
    if actor.local {
        format!("/@{}", actor.username)
    } else {
        format!("/@{}@{}", actor.username, actor.domain)
    }
}

/// The web page of a community: `/c/name` here, `/c/name@host` for others.
pub fn community_path(actor: &Actor) -> String {
    if actor.local {
        format!("/c/{}", actor.username)
    } else {
        format!("/c/{}@{}", actor.username, actor.domain)
    }
}

/// The page of an actor of either kind.
pub fn actor_path(actor: &Actor) -> String {
    if actor.kind() == crate::db::actor::ActorKind::Group {
        community_path(actor)
    } else {
        profile_path(actor)
    }
}

/// `@name@host`.
pub fn handle(actor: &Actor) -> String {
    format!("@{}@{}", actor.username, actor.domain)
}

/// The Content-Security-Policy of every page: nothing but this instance,
/// no inline script or style, no framing. `form-action` is left to the
/// OAuth page, whose form redirects to the app ([`render_authorize`]).
const CSP_BASE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the headers every HTML answer carries.
pub fn secure(builder: &mut HttpResponseBuilder, form_action_self: bool) {
    let csp = if form_action_self {
        format!("{CSP_BASE}; form-action 'self'")
    } else {
        CSP_BASE.to_string()
    };
    builder
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

fn html_response(status: StatusCode, page: &impl Template, form_action_self: bool) -> HttpResponse {
    match page.render() {
        Ok(body) => {
            let mut builder = HttpResponse::build(status);
            secure(&mut builder, form_action_self);
            builder.content_type("text/html; charset=utf-8").body(body)
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal server error")
        }
    }
}

/// A page with the security headers.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(html_response(status, page, true))
}

/// The embed page of a narration (`/@name/{id}/embed`): like [`render`],
/// but any site may frame it (`frame-ancestors *`, no `X-Frame-Options`),
/// since that is its point; and it may be cached for a while. It has no
/// forms and no session, so framing it cannot be used for clickjacking.
pub fn render_embeddable(page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                CSP_BASE.replace(
                    "frame-ancestors 'none'",
                    "frame-ancestors *; form-action 'none'",
                ),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal server error")
        }
    }
}

/// The OAuth authorization page: like [`render`], but its form may
/// redirect to the app's `redirect_uri`, which `form-action 'self'` would
/// block in browsers that check redirects.
pub fn render_authorize(status: StatusCode, page: &impl Template) -> HttpResponse {
    html_response(status, page, false)
}

/// `303 See Other` to `to`: where a form goes after it did its work.
pub fn see_other(to: &str) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// For a page that needs a signed-in person: `303` to the sign-in page,
/// which comes back to `path` afterwards.
pub fn sign_in_first(path: &str) -> Result<HttpResponse, WebError> {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    see_other(&format!("/login?next={next}"))
}

/// Whether `next` is a path on this site (`/…`, not `//host`), so a
/// `?next=` parameter cannot send anyone elsewhere.
pub fn local_path(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
}

#[derive(Template)]
#[template(path = "error.html", config = "src/web/askama.toml")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// An error on a web page: rendered as the error page with its status.
#[derive(Debug)]
pub struct WebError(pub Error);

impl From<Error> for WebError {
    fn from(e: Error) -> WebError {
        WebError(e)
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> WebError {
        WebError(Error::from(e))
    }
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl WebError {
    pub fn not_found() -> WebError {
        WebError(Error::not_found(
            "That page does not exist, or you may not see it.",
        ))
    }
}

/// What the error page says above the message.
fn heading(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "Not found",
        ErrorKind::Gone => "Deleted",
        ErrorKind::Forbidden => "Not allowed",
        ErrorKind::Unauthorized => "Sign in needed",
        ErrorKind::BadRequest | ErrorKind::Unprocessable => "That did not work",
        ErrorKind::Conflict => "Already there",
        ErrorKind::TooManyRequests => "Slow down",
        _ => "Something went wrong",
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.0.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let kind = self.0.kind;
        if kind == ErrorKind::Internal {
            tracing::error!(error = ?self.0, "page failed");
        }
        let status = self.status_code();
        let message = match kind {
            ErrorKind::NotFound => "That page does not exist, or you may not see it.",
            ErrorKind::Gone => "This was deleted.",
            _ => self.0.safe_message(),
        };
        html_response(
            status,
            &ErrorPage {
                layout: Layout {
                    title: heading(kind).into(),
                    ..Layout::default()
                },
                status: status.as_u16(),
                heading: heading(kind),
                message,
            },
            true,
        )
    }
}
