//! `/admin/partners`: the partner organisations whose public narrations
//! the Partners timeline shows, as `outloud admin partners`
//! (`service::partners`).

use super::{admin, fixable, notice, when, NoticeQuery, Outcome};
use crate::web::{
    layout::{render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{apub::Data, context::Context, service};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub struct PartnerRow {
    pub host: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin_partners.html", config = "src/web/askama.toml")]
struct PartnersPage {
    layout: Layout,
    tab: &'static str,
    outcome: Outcome,
    partners: Vec<PartnerRow>,
}

async fn partners_tab(
    data: &Data<Context>,
    viewer: &Viewer,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, WebError> {
    let partners = service::partners::list(&data.db)
        .await?
        .into_iter()
        .map(|p| PartnerRow {
            host: p.host,
            since: when(p.created_at),
        })
        .collect();
    let layout = Layout::new(data, viewer, "Administration: partners")
        .await?
        .nav("admin");
    let page = PartnersPage {
        layout,
        tab: "partners",
        outcome,
        partners,
    };
    Ok(viewer.finish(render(status, &page)?))
}

/// `GET /admin/partners`
pub async fn partners_page(
    data: Data<Context>,
    viewer: Viewer,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_none() {
        return sign_in_first("/admin/partners");
    }
    admin(&data, &viewer).await?;
    partners_tab(&data, &viewer, StatusCode::OK, notice(&query)).await
}

#[derive(Deserialize)]
pub struct HostForm {
    #[serde(default)]
    host: String,
}

/// `POST /admin/partners`: names a partner (the form comes back with the
/// reason for a bad host).
pub async fn add_partner(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<HostForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    match service::partners::add(&data.db, &form.host, Some(&me.actor)).await {
        Ok(_) => see_other("/admin/partners?done=partner"),
        Err(e) if fixable(&e) => {
            let outcome = Outcome::error(&e, &form.host);
            partners_tab(&data, &viewer, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/partners/remove`
pub async fn remove_partner(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<HostForm>,
) -> Result<HttpResponse, WebError> {
    admin(&data, &viewer).await?;
    service::partners::remove(&data.db, &form.host).await?;
    see_other("/admin/partners?done=unpartnered")
}
