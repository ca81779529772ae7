//! `/admin`: people (create, approve or reject registrations, suspend,
//! reinstate).

use super::{admin, fixable, notice, staff, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{display_name, handle, profile_path, render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{CsrfOnly, Form, SignedIn, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::local_user::Role,
    service::{self, accounts::Standing},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub struct UserRow {
    pub id: String,
    pub handle: String,
    pub name: String,
    pub path: String,
    pub admin: bool,
    pub moderator: bool,
    /// `active`, `pending` or `suspended`.
    pub standing: &'static str,
    pub joined: String,
    pub joined_day: String,
    pub me: bool,
    /// Why they want to join, for a registration waiting for approval.
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "admin.html", config = "src/web/askama.toml")]
struct UsersPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    pending: Vec<UserRow>,
    users: Vec<UserRow>,
    min_password: usize,
    /// An admin (not a moderator) is looking: approvals and new accounts.
    admin: bool,
}

pub(super) async fn users_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let rows: Vec<UserRow> = service::accounts::list_users(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.actor.id.clone(),
            handle: handle(&u.actor),
            name: display_name(&u.actor).to_string(),
            path: profile_path(&u.actor),
            admin: u.user.role() == Role::Admin,
            moderator: u.user.role() == Role::Moderator,
            standing: match u.standing {
                Standing::Active => "active",
                Standing::AwaitingApproval => "pending",
                Standing::Suspended => "suspended",
            },
            joined: when(u.user.created_at),
            joined_day: u.user.created_at.format("%Y-%m-%d").to_string(),
            me: u.actor.id == me.actor.id,
            reason: u.user.registration_reason.clone(),
        })
        .collect();
    let (pending, users) = rows.into_iter().partition(|u| u.standing == "pending");
    let layout = Layout::new(data, viewer, "Administration: people")
        .await?
        .nav("admin");
    let page = UsersPage {
        layout,
        tab: "users",
        outcome,
        pending,
        users,
        min_password: service::accounts::MIN_PASSWORD_LEN,
        admin: me.user.role() == Role::Admin,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin`
pub async fn users_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin");
    }
    let me = staff(&data, &viewer).await?;
    users_tab(&data, &viewer, me, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    role: Option<String>,
}

/// `POST /admin/users`: an admin makes an account (as `outloud admin
/// create-user`).
pub async fn create_user(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let role = match form.role.as_deref() {
        Some("admin") => Role::Admin,
        _ => Role::User,
    };
    let created = service::accounts::create_user(
        &data.db,
        &data.urls,
        service::accounts::NewUser {
            name: form.username.trim(),
            password: &form.password,
            role,
        },
    )
    .await;
    match created {
        Ok(_) => see_other("/admin?done=created"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::refused(&e, &form.username);
            users_tab(
                &data,
                &viewer,
                me,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users/{id}/{approve|reject|suspend|unsuspend}`
pub async fn user_action(
    data: Data<Context>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    // Moderators suspend and reinstate; approving and rejecting check for
    // an admin in the service.
    let me = staff(&data, &viewer).await?;
    let (id, action) = path.into_inner();
    let db = &data.db;
    match action.as_str() {
        "approve" => service::accounts::approve(db, &me.actor, &id).await?,
        "reject" => service::accounts::reject(db, &me.actor, &id).await?,
        "suspend" | "unsuspend" => {
            let by = service::suspension::Suspender::Admin(&me.actor);
            service::suspension::set_suspended(&data, by, &id, action == "suspend").await?;
        }
        _ => return Err(WebError::not_found()),
    }
    see_other(&format!("/admin?done={action}"))
}
