//! `/admin/instance`: the instance's name and description, over the
//! configuration file's, and the extended description (`/admin/instance/about`).

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
    /// The extended description's Markdown.
    about: String,
    max_about: usize,
}

pub(super) fn instance_tab(
    layout: Layout,
    status: StatusCode,
    outcome: Outcome,
    name: String,
    description: String,
    about: String,
) -> Result<HttpResponse, WebError> {
    let page = InstancePage {
        layout,
        tab: "instance",
        outcome,
        name,
        description,
        max_name: service::instance::MAX_NAME,
        max_description: service::instance::MAX_DESCRIPTION,
        about,
        max_about: service::instance::MAX_EXTENDED_DESCRIPTION,
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
    let about = service::instance::extended_description(&data.db, &data.urls).await?;
    let layout = Layout::new(&data, &viewer, "Administration: instance")
        .await?
        .nav("admin");
    let page = instance_tab(
        layout,
        StatusCode::OK,
        notice(&query),
        identity.name,
        identity.description,
        about.source,
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
            let about = service::instance::extended_description(&data.db, &data.urls).await?;
            instance_tab(
                layout,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
                form.name,
                form.description,
                about.source,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AboutForm {
    #[serde(default)]
    about: String,
}

/// `POST /admin/instance/about`: the extended description.
pub async fn save_about(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<AboutForm>,
) -> Result<HttpResponse, WebError> {
    let me = admin(&data, &viewer).await?;
    match service::instance::set_extended_description(&data.db, &me.actor, &form.about).await {
        Ok(()) => see_other("/admin/instance?done=about"),
        Err(e) if fixable(&e) => {
            let layout = Layout::new(&data, &viewer, "Administration: instance")
                .await?
                .nav("admin");
            let identity = service::instance::identity(&data.db, &data.config.instance).await?;
            instance_tab(
                layout,
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome::error(&e, ""),
                identity.name,
                identity.description,
                form.about,
            )
        }
        Err(e) => Err(e.into()),
    }
}
