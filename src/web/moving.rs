//! The settings' "Moving" page (account migration, as Mastodon offers it):
//! the aliases of this account (other accounts that may move here), and
//! moving this account to another one.
//!
//! - `GET /settings/moving`: the page;
//! - `POST /settings/moving/aliases`: add an alias (a handle or URL,
//!   resolved) with `service::moves::add_alias`;
//! - `POST /settings/moving/aliases/remove`: `service::moves::remove_alias`;
//! - `POST /settings/moving`: move, with the password, through
//!   `service::moves::move_with_password`, which refuses a target that
//!   does not list this account.

use super::{
    cards::ActorCard,
    layout::{render, see_other, sign_in_first, Layout, WebError},
    register::sentence,
    session::{Form, SignedIn, Viewer},
};
use crate::{apub::Data, context::Context, error::ErrorKind, service};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/moving", web::get().to(moving_page))
        .route("/settings/moving", web::post().to(move_account))
        .route("/settings/moving/aliases", web::post().to(add_alias))
        .route(
            "/settings/moving/aliases/remove",
            web::post().to(remove_alias),
        );
}

#[derive(Template)]
#[template(path = "settings_moving.html", config = "src/web/askama.toml")]
struct MovingPage {
    layout: Layout,
    tab: &'static str,
    aliases: Vec<String>,
    moved_to: Option<ActorCard>,
    /// What was just done, for the notice.
    done: Option<&'static str>,
    /// Why the last form was refused, for the alert (and which form).
    error: Option<String>,
    /// The target typed in the move form, kept after a refusal.
    target: String,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The page, with an optional refusal (then 422) or notice.
async fn page(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    done: Option<&'static str>,
    error: Option<(StatusCode, String)>,
    target: String,
) -> Result<HttpResponse, WebError> {
    let layout = Layout::new(data, viewer, "Moving").await?.nav("settings");
    let aliases = service::moves::aliases(data, &me.actor).await?;
    let moved_to = service::moves::moved_to(data, &me.actor)
        .await?
        .map(|a| ActorCard::of(&a));
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = MovingPage {
        layout,
        tab: "moving",
        aliases,
        moved_to,
        done,
        error: error.map(|(_, e)| e),
        target,
    };
    render(status, &page)
}

/// `GET /settings/moving`
pub async fn moving_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/settings/moving");
    };
    let done = match query.done.as_deref() {
        Some("alias") => Some("The alias is added: that account can now move here."),
        Some("removed") => Some("The alias is removed."),
        Some("moved") => Some("Your account has moved. Your followers here and on other servers are being moved to the new account."),
        _ => None,
    };
    let response = page(&data, &viewer, me, done, None, String::new()).await?;
    Ok(viewer.finish(response))
}

/// A refusal the person can act on becomes the page again with a
/// sentence (422, or 401 for a wrong password); others stay errors.
async fn refused(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    e: crate::error::Error,
    target: String,
) -> Result<HttpResponse, WebError> {
    let status = match e.kind {
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        // Not listed, nobody answering, a host the policy refuses, a
        // server failing: all said on the page.
        ErrorKind::Unprocessable
        | ErrorKind::BadRequest
        | ErrorKind::NotFound
        | ErrorKind::Forbidden
        | ErrorKind::Federation => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return Err(e.into()),
    };
    page(
        data,
        viewer,
        me,
        None,
        Some((status, sentence(e.safe_message()))),
        target,
    )
    .await
}

#[derive(Deserialize)]
pub struct AliasForm {
    #[serde(default)]
    alias: String,
}

/// `POST /settings/moving/aliases`
pub async fn add_alias(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<AliasForm>,
) -> Result<HttpResponse, WebError> {
    let me: &SignedIn = viewer.require()?;
    match service::moves::add_alias(&data, &me.actor, form.alias.trim()).await {
        Ok(_) => see_other("/settings/moving?done=alias"),
        Err(e) => refused(&data, &viewer, me, e, String::new()).await,
    }
}

/// `POST /settings/moving/aliases/remove`
pub async fn remove_alias(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<AliasForm>,
) -> Result<HttpResponse, WebError> {
    let me: &SignedIn = viewer.require()?;
    match service::moves::remove_alias(&data, &me.actor, form.alias.trim()).await {
        Ok(()) => see_other("/settings/moving?done=removed"),
        Err(e) => refused(&data, &viewer, me, e, String::new()).await,
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    password: String,
}

/// `POST /settings/moving`
pub async fn move_account(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<MoveForm>,
) -> Result<HttpResponse, WebError> {
    let me: &SignedIn = viewer.require()?;
    let target = form.target.trim().to_string();
    match service::moves::move_with_password(&data, &me.actor, &form.password, &target).await {
        Ok(_) => see_other("/settings/moving?done=moved"),
        Err(e) => refused(&data, &viewer, me, e, target).await,
    }
}
