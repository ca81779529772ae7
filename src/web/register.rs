//! Signing up: `GET/POST /register`, following `instance.registrations`
//! (`service::registrations::register` holds every rule: closed, invite
//! codes and their uses, admin approval). `?invite=CODE` fills the code in.

use super::{
    layout::{render, see_other, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    config::Registrations,
    context::Context,
    error::ErrorKind,
    service::{
        self,
        registrations::{SignUp, CLOSED},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::get().to(register_page))
        .route("/register", web::post().to(register));
}

/// What the page shows after a sign-up.
pub enum Done {
    /// The account may sign in.
    Ready(String),
    /// The account waits for an admin.
    Waiting(String),
}

#[derive(Template)]
#[template(path = "register.html", config = "src/web/askama.toml")]
struct RegisterPage<'a> {
    layout: Layout,
    /// `closed`, `invite` or `open`.
    mode: &'static str,
    approval: bool,
    domain: &'a str,
    username: &'a str,
    invite: &'a str,
    /// Why they want to join, as typed (kept when the form comes back).
    reason: &'a str,
    max_reason: usize,
    error: Option<String>,
    done: Option<Done>,
    max_name: usize,
    min_password: usize,
}

fn mode(data: &Context) -> &'static str {
    match data.config.instance.registrations {
        Registrations::Closed => "closed",
        Registrations::Invite => "invite",
        Registrations::Open => "open",
    }
}

#[derive(Deserialize, Default)]
pub struct InviteQuery {
    invite: Option<String>,
}

/// What the form held, to show it again.
#[derive(Clone, Copy, Default)]
struct Filled<'a> {
    username: &'a str,
    invite: &'a str,
    reason: &'a str,
}

async fn page<'a>(
    data: &'a Data<Context>,
    viewer: &Viewer,
    filled: Filled<'a>,
    error: Option<String>,
    done: Option<Done>,
) -> Result<RegisterPage<'a>, WebError> {
    let Filled {
        username,
        invite,
        reason,
    } = filled;
    Ok(RegisterPage {
        layout: Layout::new(data, viewer, "Create an account").await?,
        mode: mode(data),
        approval: data.config.instance.approve_registrations,
        domain: data.urls.domain(),
        username,
        invite,
        reason,
        max_reason: service::registrations::MAX_REASON_CHARS,
        error,
        done,
        max_name: service::accounts::MAX_NAME_LEN,
        min_password: service::accounts::MIN_PASSWORD_LEN,
    })
}

/// `GET /register`
pub async fn register_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<InviteQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_some() {
        return see_other("/home");
    }
    let invite = query.invite.as_deref().unwrap_or("");
    let filled = Filled {
        invite,
        ..Filled::default()
    };
    let page = page(&data, &viewer, filled, None, None).await?;
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    invite: Option<String>,
    /// Why they want to join (asked when an admin approves accounts).
    reason: Option<String>,
}

/// `POST /register`: creates the account, then says whether it can sign
/// in now or waits for an admin.
pub async fn register(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<RegisterForm>,
) -> Result<HttpResponse, WebError> {
    let ip = crate::client_ip::of(&req, &data.config.http);
    let invite = form.invite.as_deref().unwrap_or("");
    let again = |status: StatusCode, message: String| {
        let (data, viewer) = (&data, &viewer);
        let filled = Filled {
            username: form.username.as_str(),
            invite,
            reason: form.reason.as_deref().unwrap_or(""),
        };
        async move {
            let page = page(data, viewer, filled, Some(message), None).await?;
            render(status, &page)
        }
    };
    if data.config.instance.registrations == Registrations::Closed {
        return again(StatusCode::FORBIDDEN, CLOSED.to_string()).await;
    }
    if form.username.trim().is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a username.".into(),
        )
        .await;
    }
    if form.password != form.confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ: type the same one twice.".into(),
        )
        .await;
    }
    let sign_up = SignUp {
        name: form.username.trim(),
        password: &form.password,
        invite: Some(invite),
        ip: &ip,
        reason: form.reason.as_deref(),
    };
    match service::registrations::register(&data, sign_up).await {
        Ok(registered) => {
            let handle = super::layout::handle(&registered.actor);
            let done = if registered.approved {
                Done::Ready(handle)
            } else {
                Done::Waiting(handle)
            };
            let page = page(&data, &viewer, Filled::default(), None, Some(done)).await?;
            Ok(viewer.finish(render(StatusCode::OK, &page)?))
        }
        Err(e) => {
            let (status, message) = match e.kind {
                ErrorKind::Conflict => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "That name is taken — try another.".to_string(),
                ),
                ErrorKind::Unprocessable => {
                    (StatusCode::UNPROCESSABLE_ENTITY, sentence(e.safe_message()))
                }
                ErrorKind::Forbidden => (StatusCode::FORBIDDEN, e.safe_message().to_string()),
                ErrorKind::TooManyRequests => {
                    (StatusCode::TOO_MANY_REQUESTS, e.safe_message().to_string())
                }
                _ => return Err(e.into()),
            };
            again(status, message).await
        }
    }
}

/// A service message as a sentence on a page: capitalised, with a full
/// stop (service messages are written for every surface).
pub(super) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
