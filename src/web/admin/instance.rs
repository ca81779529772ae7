//! `/admin/instance`: the instance's name and description, over the
//! configuration file's.

use super::{admin, fixable, notice, NoticeQuery, Outcome};
use crate::web::{
    layout::{render, see_other},
    layout::{sign_in_first, Layout, WebError},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    service::{self},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

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

pub(super) fn instance_tab(
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
