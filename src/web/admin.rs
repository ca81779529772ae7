//! Administration pages (admins only; anyone else gets 403, and every
//! action checks again through `service::accounts::require_admin`, the
//! rule the CLI's callers and the API share):
//!
//! - `/admin`: people (create, approve registrations, suspend, reinstate);
//! - `/admin/invites`: invite links with expiry and uses (create, revoke);
//! - `/admin/communities`: this instance's communities (create);
//! - `/admin/federation`: the federation policy (allow, block, remove
//!   hosts), as `outloud admin federation`;
//! - `/admin/deliveries`: the delivery queue per host (revive), as
//!   `outloud admin deliveries`;
//! - `/admin/instance`: the instance's name and description, over the
//!   configuration file's.

use super::{
    layout::{community_path, display_name, handle, profile_path, render, see_other},
    layout::{sign_in_first, Layout, WebError},
    register::sentence,
    session::{CsrfOnly, Form, SignedIn, Viewer},
};
use crate::{
    apub::Data,
    config::FederationPolicy,
    context::Context,
    db::{community::Posting, domain_policy::PolicyAction, local_user::Role},
    error::{Error, ErrorKind},
    service::{self, accounts::Standing},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(users_page))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/{id}/{action}", web::post().to(user_action))
        .route("/admin/invites", web::get().to(invites_page))
        .route("/admin/invites", web::post().to(create_invite))
        .route("/admin/invites/{id}/revoke", web::post().to(revoke_invite))
        .route("/admin/communities", web::get().to(communities_page))
        .route("/admin/communities", web::post().to(create_community))
        .route("/admin/federation", web::get().to(federation_page))
        .route("/admin/federation", web::post().to(set_policy))
        .route("/admin/federation/remove", web::post().to(remove_policy))
        .route("/admin/federation/mode", web::post().to(set_mode))
        .route("/admin/deliveries", web::get().to(deliveries_page))
        .route("/admin/deliveries/revive", web::post().to(revive_host))
        .route("/admin/instance", web::get().to(instance_page))
        .route("/admin/instance", web::post().to(save_instance));
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
        Some("suspend") => "The account is suspended: its sessions and app tokens have ended.",
        Some("unsuspend") => "The account is reinstated.",
        Some("invite") => "The invite is created: copy its link below.",
        Some("revoked") => "The invite is revoked.",
        Some("community") => "The community is created.",
        Some("policy") => "The federation policy is saved.",
        Some("mode") => "The federation mode is saved.",
        Some("removed") => "The entry is removed.",
        Some("revived") => "The host is revived: its queued deliveries are due now.",
        Some("healthy") => "That host was not failing: nothing to revive.",
        Some("instance") => "The instance's name and description are saved.",
        _ => return Outcome::default(),
    };
    Outcome {
        notice: Some(text.into()),
        ..Outcome::default()
    }
}

// ---- people --------------------------------------------------------------

pub struct UserRow {
    pub id: String,
    pub handle: String,
    pub name: String,
    pub path: String,
    pub admin: bool,
    /// `active`, `pending` or `suspended`.
    pub standing: &'static str,
    pub joined: String,
    pub joined_day: String,
    pub me: bool,
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
}

async fn users_tab(
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
            standing: match u.standing {
                Standing::Active => "active",
                Standing::AwaitingApproval => "pending",
                Standing::Suspended => "suspended",
            },
            joined: when(u.user.created_at),
            joined_day: u.user.created_at.format("%Y-%m-%d").to_string(),
            me: u.actor.id == me.actor.id,
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
    let me = admin(&data, &viewer).await?;
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

/// `POST /admin/users/{id}/{approve|suspend|unsuspend}`
pub async fn user_action(
    data: Data<Context>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let (id, action) = path.into_inner();
    let db = &data.db;
    match action.as_str() {
        "approve" => service::accounts::approve(db, &me.actor, &id).await?,
        "suspend" => service::accounts::set_suspended(db, &me.actor, &id, true).await?,
        "unsuspend" => service::accounts::set_suspended(db, &me.actor, &id, false).await?,
        _ => return Err(WebError::not_found()),
    }
    see_other(&format!("/admin?done={action}"))
}

// ---- invites -------------------------------------------------------------

pub struct InviteRow {
    pub id: String,
    pub link: String,
    pub uses: String,
    pub expires: String,
    /// `live`, `expired`, `used up` or `revoked`.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "admin_invites.html", config = "src/web/askama.toml")]
struct InvitesPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    registrations: &'static str,
    invites: Vec<InviteRow>,
}

async fn invites_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let at = crate::db::now();
    let base = data.urls.base().as_str().trim_end_matches('/').to_string();
    let invites = service::invites::list(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|i| InviteRow {
            link: format!("{base}/register?invite={}", i.code),
            uses: match i.max_uses {
                Some(max) => format!("{} of {max} used, {} left", i.uses, (max - i.uses).max(0)),
                None => format!("{} used, no limit", i.uses),
            },
            expires: i.expires_at.map_or_else(|| "never".into(), when),
            state: if i.revoked_at.is_some() {
                "revoked"
            } else if i.expires_at.is_some_and(|e| e <= at) {
                "expired"
            } else if i.max_uses.is_some_and(|m| i.uses >= m) {
                "used up"
            } else {
                "live"
            },
            id: i.id,
        })
        .collect();
    let registrations = match data.config.instance.registrations {
        crate::config::Registrations::Closed => "closed",
        crate::config::Registrations::Invite => "invite",
        crate::config::Registrations::Open => "open",
    };
    let layout = Layout::new(data, viewer, "Administration: invites")
        .await?
        .nav("admin");
    let page = InvitesPage {
        layout,
        tab: "invites",
        outcome,
        registrations,
        invites,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/invites`
pub async fn invites_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/invites");
    }
    let me = admin(&data, &viewer).await?;
    invites_tab(&data, &viewer, me, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    max_uses: String,
    #[serde(default)]
    days: String,
}

/// An optional whole number from a form field (empty: none).
fn optional_number(field: &str, label: &str) -> Result<Option<i64>, Error> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    field
        .parse()
        .map(Some)
        .map_err(|_| Error::unprocessable(format!("{label} must be a whole number, or empty.")))
}

/// `POST /admin/invites`
pub async fn create_invite(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<InviteForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let created = match (
        optional_number(&form.max_uses, "Uses"),
        optional_number(&form.days, "Days"),
    ) {
        (Ok(uses), Ok(days)) => service::invites::create(&data.db, &me.actor, uses, days).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match created {
        Ok(_) => see_other("/admin/invites?done=invite"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::error(&e, "");
            invites_tab(
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

/// `POST /admin/invites/{id}/revoke`
pub async fn revoke_invite(
    data: Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    service::invites::revoke(&data.db, &me.actor, &id).await?;
    see_other("/admin/invites?done=revoked")
}

// ---- communities -----------------------------------------------------------

pub struct CommunityRow {
    pub name: String,
    pub handle: String,
    pub path: String,
    pub members: i64,
    pub last_post: String,
}

#[derive(Template)]
#[template(path = "admin_communities.html", config = "src/web/askama.toml")]
struct CommunitiesPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    communities: Vec<CommunityRow>,
    max_name: usize,
}

async fn communities_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    me: &SignedIn,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let communities = service::communities::local_communities(&data.db, &me.actor)
        .await?
        .into_iter()
        .map(|c| CommunityRow {
            name: display_name(&c.actor).to_string(),
            handle: handle(&c.actor),
            path: community_path(&c.actor),
            members: c.members,
            last_post: c.last_post.map_or_else(|| "no posts yet".into(), when),
        })
        .collect();
    let layout = Layout::new(data, viewer, "Administration: communities")
        .await?
        .nav("admin");
    let page = CommunitiesPage {
        layout,
        tab: "communities",
        outcome,
        communities,
        max_name: service::accounts::MAX_NAME_LEN,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/communities`
pub async fn communities_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/communities");
    }
    let me = admin(&data, &viewer).await?;
    communities_tab(&data, &viewer, me, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct CommunityForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    approval: Option<String>,
    members_only: Option<String>,
}

/// `POST /admin/communities`: a community owned (and first moderated) by
/// the admin, as `outloud admin create-community`.
pub async fn create_community(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<CommunityForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    let created = service::communities::create(
        &data.db,
        &data.urls,
        service::communities::NewCommunity {
            name: form.name.trim(),
            owner: &me.actor,
            display_name: Some(form.display_name.trim().to_string()).filter(|n| !n.is_empty()),
            summary: Some(form.summary.trim().to_string()).filter(|s| !s.is_empty()),
            approval: form.approval.is_some() || form.members_only.is_some(),
            members_only: form.members_only.is_some(),
            posting: Posting::Members,
            icon: None,
        },
    )
    .await;
    match created {
        Ok(_) => see_other("/admin/communities?done=community"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::refused(&e, &form.name);
            communities_tab(
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

// ---- federation ------------------------------------------------------------

pub struct PolicyRow {
    pub domain: String,
    pub action: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin_federation.html", config = "src/web/askama.toml")]
struct FederationPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    allowlist: bool,
    entries: Vec<PolicyRow>,
}

async fn federation_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let entries = service::policy::list(&data.db)
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            domain: p.domain,
            action: p.action,
            since: when(p.created_at),
        })
        .collect();
    let layout = Layout::new(data, viewer, "Administration: federation")
        .await?
        .nav("admin");
    let page = FederationPage {
        layout,
        tab: "federation",
        outcome,
        allowlist: service::policy::mode(&data.db, data.config.federation.policy).await?
            == FederationPolicy::Allowlist,
        entries,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/federation`
pub async fn federation_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/federation");
    }
    admin(&data, &viewer).await?;
    federation_tab(&data, &viewer, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    action: String,
}

/// `POST /admin/federation`: allow or block a host.
pub async fn set_policy(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<PolicyForm>,
) -> Result<HttpResponse, WebError> {
    admin(&data, &viewer).await?;
    let set = match PolicyAction::parse(&form.action) {
        Some(action) => service::policy::set(&data.db, &form.domain, action).await,
        None => Err(Error::unprocessable(
            "Choose to allow or to block the host.",
        )),
    };
    match set {
        Ok(_) => see_other("/admin/federation?done=policy"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::error(&e, &form.domain);
            federation_tab(&data, &viewer, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ModeForm {
    #[serde(default)]
    mode: String,
}

/// `POST /admin/federation/mode`: open, or allowlist only.
pub async fn set_mode(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<ModeForm>,
) -> Result<HttpResponse, WebError> {
    admin(&data, &viewer).await?;
    let mode = match form.mode.as_str() {
        "open" => FederationPolicy::Open,
        "allowlist" => FederationPolicy::Allowlist,
        _ => {
            let outcome = Outcome::error(&Error::unprocessable("Choose open or allowlist."), "");
            return federation_tab(&data, &viewer, StatusCode::UNPROCESSABLE_ENTITY, outcome).await;
        }
    };
    service::policy::set_mode(&data.db, mode).await?;
    see_other("/admin/federation?done=mode")
}

/// `POST /admin/federation/remove`: forgets a host's entry.
pub async fn remove_policy(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<PolicyForm>,
) -> Result<HttpResponse, WebError> {
    admin(&data, &viewer).await?;
    service::policy::remove(&data.db, &form.domain).await?;
    see_other("/admin/federation?done=removed")
}

// ---- deliveries ------------------------------------------------------------

pub struct HostRow {
    pub host: String,
    pub queued: i64,
    pub delivered: i64,
    pub failed: i64,
    /// `healthy`, `failing` or `unreachable`.
    pub health: &'static str,
    pub since: String,
}

pub struct FailureRow {
    pub at: String,
    pub inbox: String,
    pub attempts: i64,
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin_deliveries.html", config = "src/web/askama.toml")]
struct DeliveriesPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    hosts: Vec<HostRow>,
    failures: Vec<FailureRow>,
}

/// `GET /admin/deliveries`
pub async fn deliveries_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/deliveries");
    }
    admin(&data, &viewer).await?;
    let overview = service::deliveries::overview(&data.db, None).await?;
    let hosts = overview
        .hosts
        .into_iter()
        .map(|h| {
            let (health, since) = match (h.unreachable_since, h.failing_since) {
                (Some(t), _) => ("unreachable", when(t)),
                (None, Some(t)) => ("failing", when(t)),
                _ => ("healthy", String::new()),
            };
            HostRow {
                host: h.host,
                queued: h.queued,
                delivered: h.delivered,
                failed: h.failed,
                health,
                since,
            }
        })
        .collect();
    let failures = overview
        .recent_failures
        .into_iter()
        .map(|d| FailureRow {
            at: when(d.updated_at),
            inbox: d.inbox_url,
            attempts: d.attempts,
            error: d.last_error.unwrap_or_default(),
        })
        .collect();
    let layout = Layout::new(&data, &viewer, "Administration: deliveries")
        .await?
        .nav("admin");
    let page = DeliveriesPage {
        layout,
        tab: "deliveries",
        outcome: notice(&query),
        hosts,
        failures,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Deserialize)]
pub struct HostForm {
    #[serde(default)]
    host: String,
}

/// `POST /admin/deliveries/revive`: a parked or failing host gets its
/// queued deliveries now.
pub async fn revive_host(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<HostForm>,
) -> Result<HttpResponse, WebError> {
    admin(&data, &viewer).await?;
    let host = form.host.trim();
    if host.is_empty() || host.len() > 260 {
        return Err(Error::unprocessable("Name the host to revive.").into());
    }
    let revived = service::deliveries::revive_host(&data.db, host.to_string()).await?;
    see_other(if revived {
        "/admin/deliveries?done=revived"
    } else {
        "/admin/deliveries?done=healthy"
    })
}

// ---- instance --------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_instance.html", config = "src/web/askama.toml")]
struct InstancePage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    name: String,
    description: String,
    max_name: usize,
    max_description: usize,
}

fn instance_tab(
    layout: Layout,
    status: StatusCode,
    outcome: Outcome,
    name: String,
    description: String,
) -> Result<HttpResponse, WebError> {
    let page = InstancePage {
        layout,
        tab: "instance",
        outcome,
        name,
        description,
        max_name: service::instance::MAX_NAME,
        max_description: service::instance::MAX_DESCRIPTION,
    };
    render(status, &page)
}

/// `GET /admin/instance`
pub async fn instance_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/instance");
    }
    admin(&data, &viewer).await?;
    let identity = service::instance::identity(&data.db, &data.config.instance).await?;
    let layout = Layout::new(&data, &viewer, "Administration: instance")
        .await?
        .nav("admin");
    let page = instance_tab(
        layout,
        StatusCode::OK,
        notice(&query),
        identity.name,
        identity.description,
    )?;
    Ok(viewer.finish(page))
}

#[derive(Deserialize)]
pub struct InstanceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /admin/instance`
pub async fn save_instance(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<InstanceForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    match service::instance::set_identity(&data.db, &me.actor, &form.name, &form.description).await
    {
        Ok(()) => see_other("/admin/instance?done=instance"),
        Err(e) if fixable(&e) => {
            let layout = Layout::new(&data, &viewer, "Administration: instance")
                .await?
                .nav("admin");
            let outcome = Outcome::error(&e, "");
            instance_tab(
                layout,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
                form.name,
                form.description,
            )
        }
        Err(e) => Err(e.into()),
    }
}
