//! The subset of Mastodon's admin API that handles reports:
//! `/api/v1/admin/reports`. Admins see every report; moderators of a
//! community see the reports concerning it; anyone else gets 403.

use super::{auth::Auth, convert, entities, paged, params::Query, PageParams};
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, local_user::LocalUser},
    error::Error,
    service::{
        accounts::Standing,
        reports::{self, ReportView},
    },
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// An account as `Admin::Account`. Outloud keeps no e-mail addresses:
/// `email` is the account's handle without the port, so it has the shape
/// clients expect.
async fn admin_account(
    data: &Data<Context>,
    actor: &Actor,
) -> Result<entities::AdminAccount, Error> {
    let id = actor.id.clone();
    let user = data
        .db
        .run(move |conn| Ok(LocalUser::by_actor_id(conn, &id)?))
        .await?;
    let standing = user.as_ref().map(crate::service::accounts::standing);
    let role = user.map(|u| u.role);
    let host = actor.domain.split(':').next().unwrap_or_default();
    Ok(entities::AdminAccount {
        id: actor.id.clone(),
        username: actor.username.clone(),
        domain: (!actor.local).then(|| actor.domain.clone()),
        created_at: convert::timestamp(actor.published),
        email: format!("{}@{host}", email_local_part(&actor.username)),
        ip: None,
        ips: Vec::new(),
        locale: String::new(),
        invite_request: None,
        role: convert::role_entity(role.as_deref().unwrap_or("user")),
        confirmed: true,
        approved: standing != Some(Standing::AwaitingApproval),
        disabled: false,
        sensitized: false,
        silenced: false,
        suspended: standing == Some(Standing::Suspended),
        account: convert::account(data, actor).await?,
    })
}

/// A user name as the local part of an e-mail address (an instance
/// actor's name is its domain, with a port in development).
fn email_local_part(username: &str) -> String {
    username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn admin_report(
    data: &Data<Context>,
    viewer: &Actor,
    view: ReportView,
) -> Result<entities::AdminReport, Error> {
    let r = &view.report;
    let resolver = match &view.resolver {
        Some(a) => Some(admin_account(data, a).await?),
        None => None,
    };
    Ok(entities::AdminReport {
        id: r.id.clone(),
        action_taken: r.resolved_at.is_some(),
        action_taken_at: r.resolved_at.map(convert::timestamp),
        category: r.category.clone(),
        comment: r.comment.clone(),
        forwarded: r.forwarded,
        created_at: convert::timestamp(r.created_at),
        updated_at: convert::timestamp(r.updated_at),
        account: admin_account(data, &view.reporter).await?,
        target_account: admin_account(data, &view.target).await?,
        assigned_account: None,
        action_taken_by_account: resolver,
        statuses: convert::posts(data, Some(viewer), view.posts.clone()).await?,
        rules: Vec::new(),
    })
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    page: PageParams,
    resolved: Option<String>,
}

/// `GET /api/v1/admin/reports`: open reports unless `resolved=true`.
async fn list(
    req: HttpRequest,
    data: Data<Context>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("admin:read:reports")?;
    let resolved = matches!(q.resolved.as_deref(), Some("true" | "1"));
    let views = reports::list(&data, me, Some(resolved), q.page.page(100, 200)).await?;
    let bounds = super::bounds_of(&views, |v| &v.report.id);
    let mut out = Vec::with_capacity(views.len());
    for view in views {
        out.push(admin_report(&data, me, view).await?);
    }
    Ok(paged(&req, &data, &out, bounds))
}

/// `GET /api/v1/admin/reports/:id`
async fn show(
    data: Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("admin:read:reports")?;
    let view = reports::get(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(admin_report(&data, me, view).await?))
}

/// `POST /api/v1/admin/reports/:id/{resolve,reopen}`
async fn act(
    data: Data<Context>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    let (id, action) = path.into_inner();
    let resolved = match action.as_str() {
        "resolve" => true,
        "reopen" => false,
        _ => return Err(Error::not_found("no such action")),
    };
    let me = auth.user("admin:write:reports")?;
    let view = reports::set_resolved(&data, me, &id, resolved).await?;
    Ok(HttpResponse::Ok().json(admin_report(&data, me, view).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/reports", web::get().to(list))
        .route("/api/v1/admin/reports/{id}", web::get().to(show))
        .route("/api/v1/admin/reports/{id}/{action}", web::post().to(act));
}
