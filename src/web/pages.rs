//! The start page.

use super::{
    layout::{render, see_other, Layout, WebError},
    session::Viewer,
};
use crate::{apub::Data, context::Context, service};
use actix_web::{http::StatusCode, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "start.html", config = "src/web/askama.toml")]
struct StartPage<'a> {
    layout: Layout,
    description: &'a str,
    domain: &'a str,
}

/// `GET /`: what this instance is; people signed in go to their home.
pub async fn start(data: Data<Context>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_some() {
        return see_other("/home");
    }
    let layout = Layout::new(&data, &viewer, "").await?;
    let identity = service::instance::identity(&data.db, &data.config.instance).await?;
    let page = StartPage {
        layout,
        description: &identity.description,
        domain: data.urls.domain(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}
