//! `/admin/deliveries`: the delivery queue per host (revive), as
//! `outloud admin deliveries`.

use super::{admin, notice, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    error::Error,
    service::{self},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

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
