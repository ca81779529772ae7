//! Administration pages (admins only; anyone else gets 403, and every
//! action checks again through `service::accounts::require_admin`, the
//! rule the CLI's callers and the API share):
//!
//! - `/admin`: people (create, approve or reject registrations, suspend,
//!   reinstate);
//! - `/admin/invites`: invite links with expiry and uses (create, revoke);
//! - `/admin/communities`: this instance's communities (create);
//! - `/admin/federation`: the federation mode and the hosts allowed or
//!   blocked, as `outloud admin federation`;
//! - `/admin/partners`: partner organisations (issue 13 §5), as `outloud
//!   admin partners`;
//! - `/admin/deliveries`: the delivery queue per host (revive), as
//!   `outloud admin deliveries`;
//! - `/admin/instance`: the instance's name and description, over the
//!   configuration file's, and its extended description (Markdown).
//!
//! One file per tab; this one holds what the tabs share.

mod communities;
mod deliveries;
mod federation;
mod instance;
mod invites;
mod partners;
mod people;

use super::{
    layout::WebError,
    register::sentence,
    session::{SignedIn, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service,
};
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(people::users_page))
        .route("/admin/users", web::post().to(people::create_user))
        .route(
            "/admin/users/{id}/{action}",
            web::post().to(people::user_action),
        )
        .route("/admin/invites", web::get().to(invites::invites_page))
        .route("/admin/invites", web::post().to(invites::create_invite))
        .route(
            "/admin/invites/{id}/revoke",
            web::post().to(invites::revoke_invite),
        )
        .route(
            "/admin/communities",
            web::get().to(communities::communities_page),
        )
        .route(
            "/admin/communities",
            web::post().to(communities::create_community),
        )
        .route(
            "/admin/federation",
            web::get().to(federation::federation_page),
        )
        .route("/admin/federation", web::post().to(federation::set_policy))
        .route(
            "/admin/federation/remove",
            web::post().to(federation::remove_policy),
        )
        .route(
            "/admin/federation/mode",
            web::post().to(federation::set_mode),
        )
        .route(
            "/admin/deliveries",
            web::get().to(deliveries::deliveries_page),
        )
        .route(
            "/admin/deliveries/revive",
            web::post().to(deliveries::revive_host),
        )
        .route("/admin/partners", web::get().to(partners::partners_page))
        .route("/admin/partners", web::post().to(partners::add_partner))
        .route(
            "/admin/partners/remove",
            web::post().to(partners::remove_partner),
        )
        .route("/admin/instance", web::get().to(instance::instance_page))
        .route("/admin/instance", web::post().to(instance::save_instance))
        .route(
            "/admin/instance/about",
            web::post().to(instance::save_about),
        );
}

/// The signed-in admin or moderator (the people page), or 401 / 403.
async fn staff<'v>(data: &Data<Context>, viewer: &'v Viewer) -> Result<&'v SignedIn, WebError> {
    let me = viewer.require()?;
    service::accounts::require_staff(&data.db, &me.actor).await?;
    Ok(me)
}

/// The signed-in admin, or 401 / 403.
async fn admin<'v>(data: &Data<Context>, viewer: &'v Viewer) -> Result<&'v SignedIn, WebError> {
    let me = viewer.require()?;
    service::accounts::require_admin(&data.db, &me.actor).await?;
    Ok(me)
}

fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Whether an error is the person's to fix (the form comes back with it).
fn fixable(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Unprocessable | ErrorKind::Conflict | ErrorKind::BadRequest
    )
}

/// What a tab shows besides its data: a notice after an action, or an
/// error with what was typed.
#[derive(Default)]
pub struct Outcome {
    pub notice: Option<String>,
    pub error: Option<String>,
    /// The main text field as typed (name, domain…).
    pub kept: String,
}

impl Outcome {
    fn error(e: &Error, kept: &str) -> Outcome {
        Outcome {
            notice: None,
            error: Some(sentence(e.safe_message())),
            kept: kept.to_string(),
        }
    }

    /// A refused creation: a taken name says so in plain words.
    fn refused(e: &Error, kept: &str) -> Outcome {
        if e.kind == ErrorKind::Conflict {
            Outcome {
                error: Some("That name is taken — try another.".into()),
                kept: kept.to_string(),
                notice: None,
            }
        } else {
            Outcome::error(e, kept)
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    done: Option<String>,
}

/// The notice a tab shows after an action redirected to it (`?done=`).
fn notice(query: &NoticeQuery) -> Outcome {
    let text = match query.done.as_deref() {
        Some("created") => "The account is created.",
        Some("approve") => "The account is approved: its person can sign in now.",
        Some("reject") => {
            "The registration is rejected: the account is deleted and its name is free."
        }
        Some("suspend") => "The account is suspended: its sessions and app tokens have ended.",
        Some("unsuspend") => "The account is reinstated.",
        Some("invite") => "The invite is created: copy its link below.",
        Some("revoked") => "The invite is revoked.",
        Some("community") => "The community is created.",
        Some("policy") => "The federation policy is saved.",
        Some("mode") => "The federation mode is saved.",
        Some("removed") => "The entry is removed.",
        Some("partner") => "The partner is saved.",
        Some("unpartnered") => "The partner is removed.",
        Some("revived") => "The host is revived: its queued deliveries are due now.",
        Some("healthy") => "That host was not failing: nothing to revive.",
        Some("instance") => "The instance's name and description are saved.",
        Some("about") => "The extended description is saved.",
        _ => return Outcome::default(),
    };
    Outcome {
        notice: Some(text.into()),
        ..Outcome::default()
    }
}
