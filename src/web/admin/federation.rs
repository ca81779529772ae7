//! `/admin/federation`: the federation mode and the hosts allowed or
//! blocked, as `outloud admin federation`.

use super::{admin, fixable, notice, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    config::FederationPolicy,
    context::Context,
    db::domain_policy::PolicyAction,
    error::Error,
    service::{self},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

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

pub(super) async fn federation_tab(
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
